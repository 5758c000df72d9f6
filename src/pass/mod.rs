//! The logic between the public API and the kernel calls: issuing and redeeming tickets.
//!
//! Each backend module exposes the same items (the API names only these):
//!
//! - `Os`: the kernel-call trait the logic is generic over (so tests can put a double or a fault
//!   injector underneath), and `Peers<P>`, the per-receiver state;
//! - `issue_dup(k, fd, to)`, `issue_openfd(k, fd, access, to)`: build a ticket;
//! - `redeem_dup(k, peers, msg)`, `redeem_openfd(k, peers, msg)`: turn a checked ticket into a raw
//!   descriptor, closing everything opened on the way when they fail.
//!
//! [`nto`] is pure and compiled on every target so the host can test the Neutrino sequence; `host` is the
//! Linux backend.

use heapless::Vec;

use crate::ticket::{parse_as, split_batch, Message};
use crate::{BatchError, Errno, Error, RawFd};

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
/// k-th redeem fails, the k descriptors already obtained are closed with `close` and the error names k.
pub(crate) fn redeem_batch<M: Message, const N: usize>(
    bytes: &[u8],
    mut redeem: impl FnMut(&M) -> Result<RawFd, Errno>,
    mut close: impl FnMut(RawFd),
) -> Result<Vec<RawFd, N>, BatchError> {
    let count = split_batch::<M>(bytes, N).map_err(|(index, e)| BatchError {
        index,
        error: Error::Decode(e),
    })?;
    let mut out: Vec<RawFd, N> = Vec::new();
    for (index, chunk) in bytes.chunks_exact(M::SIZE).take(count).enumerate() {
        let step = parse_as::<M>(chunk)
            .map_err(Error::Decode)
            .and_then(|msg| redeem(&msg).map_err(Error::Os));
        let fail = match step {
            Ok(fd) => match out.push(fd) {
                Ok(()) => None,
                // Unreachable (count <= N), but a full vector must not leak the descriptor.
                Err(fd) => {
                    close(fd);
                    Some(Error::Os(Errno::MFILE))
                }
            },
            Err(e) => Some(e),
        };
        if let Some(error) = fail {
            for fd in out.iter().rev() {
                close(*fd);
            }
            return Err(BatchError { index, error });
        }
    }
    Ok(out)
}
