//! The logic between the public API and the kernel calls: issuing and redeeming tickets.
//!
//! Each backend module exposes the same items (the API names only these):
//!
//! - `Peers<P>`, the per-receiver state, and `Identity`, who a ticket names as its sender;
//! - `issue_dup(k, fd, to)`, `issue_openfd(k, fd, access, to)`: build a ticket;
//! - `redeem_dup(k, peers, msg)`, `redeem_openfd(k, peers, msg)`: turn a checked ticket into a
//!   [`KernelFd`] (owned, closed through `k` when dropped), so everything opened on the way is closed
//!   by dropping it when they fail.
//!
//! Both are generic over the one kernel-call trait, [`Kernel`](crate::sys::Kernel), so tests put a
//! double or a fault injector underneath.
//!
//! [`nto`] is pure and compiled on every target so the host can test the Neutrino sequence; `host` is the
//! Linux backend.

use heapless::Vec;

#[cfg(doc)]
use crate::sys::KernelFd;
use crate::ticket::{split_batch, Message};
use crate::{BatchError, Errno, Error};

#[cfg_attr(not(any(target_os = "nto", target_os = "qnx")), allow(dead_code))]
pub mod nto;

#[cfg(target_os = "linux")]
pub mod host;

#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub(crate) use nto as active;

#[cfg(target_os = "linux")]
pub(crate) use host as active;

/// Hands a ticket's bytes to `sink` and, when the sink reports they did not leave, withdraws the ticket
/// (`send_fd`): a ticket nobody received must not stay registered (QNX 8.0) until the sender closes the
/// descriptor. The withdrawal's own error is not the caller's: the sink's answer is returned as is.
pub(crate) fn send<M: Message, R: crate::Delivery>(
    msg: &M,
    sink: impl FnOnce(&[u8]) -> R,
    withdraw: impl FnOnce(&M) -> Result<(), Errno>,
) -> R {
    let sent = sink(msg.as_bytes());
    if !sent.delivered() {
        let _ = withdraw(msg);
    }
    sent
}

/// Withdraws every ticket of `msgs`, also after one fails; returns the first failure.
pub(crate) fn withdraw_all<M>(
    msgs: &[M],
    mut withdraw: impl FnMut(&M) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let mut first = Ok(());
    for m in msgs {
        let r = withdraw(m);
        if first.is_ok() {
            first = r;
        }
    }
    first
}

/// Redeems a batch packet all-or-nothing: every ticket is checked before the first is redeemed; if the
/// k-th redeem fails, the k descriptors already obtained (owning guards, `T`) are dropped, newest first,
/// which closes them, and the error names k.
///
/// Each ticket is parsed once ([`split_batch`] hands over checked copies), and the loop does per ticket
/// only what a hand-written one does: redeem, keep the descriptor.
pub(crate) fn redeem_batch<M: Message, T, const N: usize>(
    bytes: &[u8],
    mut redeem: impl FnMut(&M) -> Result<T, Errno>,
) -> Result<Vec<T, N>, BatchError> {
    let mut msgs: Vec<M, N> = Vec::new();
    split_batch(bytes, &mut msgs).map_err(|(index, e)| BatchError {
        index,
        error: Error::Decode(e),
    })?;
    let mut out: Vec<T, N> = Vec::new();
    for (index, msg) in msgs.iter().enumerate() {
        let error = match redeem(msg) {
            Ok(fd) => match out.push(fd) {
                Ok(()) => continue,
                // Unreachable (at most N tickets); the descriptor that did not fit is closed as it drops.
                Err(_) => Error::Os(Errno::MFILE),
            },
            Err(e) => Error::Os(e),
        };
        // Newest first: each descriptor is closed as its guard drops.
        while out.pop().is_some() {}
        return Err(BatchError { index, error });
    }
    Ok(out)
}
