//! The logic between the public API and the kernel calls: issuing and redeeming tickets.
//!
//! Each backend module exposes the same items (the API names only these):
//!
//! - `Peers<P>`, the per-receiver state, and `Identity`, who a ticket names as its sender;
//! - `issue_dup(k, fd, to)`, `issue_openfd(k, fd, access, to)`: build a ticket;
//! - `redeem_dup(k, peers, msg)`, `redeem_openfd(k, peers, msg)`: turn a checked ticket into a
//!   [`KernelFd`] (owned, closed through `k` when dropped), so everything opened on the way is closed
//!   by dropping it when they fail;
//! - `own_pid(k, allowed)`: the pid [`check_own_server`] refuses as a ticket's server (`None` when
//!   the receiver allows its own server, and always on the host, whose tickets name no server).
//!
//! Each is generic over its backend's kernel-call trait ([`NeutrinoKernel`](crate::sys::NeutrinoKernel),
//! [`LinuxKernel`](crate::sys::LinuxKernel)), so tests put a double or a fault injector underneath.
//!
//! [`nto`] is pure and compiled on every target so the host can test the Neutrino sequence; `host` is the
//! Linux backend's. `active` is the one of the backend `sys` chose, by the same build-script cfg.

use heapless::Vec;

use crate::errno::Errno;
use crate::error::{BatchError, DecodeError, Error};
#[cfg(doc)]
use crate::sys::KernelFd;
use crate::ticket::{parse, parse_as, split_batch, Ticket};
use crate::wire::{IoDup, IoOpenfd, Message};

#[cfg_attr(not(neutrino), allow(dead_code))]
pub mod nto;

#[cfg(host_linux)]
pub mod host;

#[cfg(neutrino)]
pub(crate) use nto as active;

#[cfg(host_linux)]
pub(crate) use host as active;

/// Hands a ticket's (or a batch's) bytes to `sink` and, when the sink answers that they did not all go,
/// withdraws the ticket (`send_fd`, `DupTicket::send`): a ticket nobody received must not stay registered
/// (QNX 8.0) until the sender closes the descriptor. The withdrawal's own error is not the caller's: the
/// sink's answer is returned as is.
pub(crate) fn send<E>(
    bytes: &[u8],
    sink: impl FnOnce(&[u8]) -> Result<(), E>,
    withdraw: impl FnOnce() -> Result<(), Errno>,
) -> Result<(), E> {
    let sent = sink(bytes);
    if sent.is_err() {
        let _ = withdraw();
    }
    sent
}

/// Withdraws every ticket of `msgs`, also after one fails; returns the first failure.
pub(crate) fn withdraw_all<T>(
    msgs: impl IntoIterator<Item = T>,
    mut withdraw: impl FnMut(T) -> Result<(), Errno>,
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

/// Withdraws what `bytes` holds ([`crate::withdraw`]): one ticket of either kind, or a packet of dup
/// tickets, every one of which is checked before the first is withdrawn; then each is tried, also after
/// one fails, and the first failure is returned ([`withdraw_all`]).
///
/// # Errors
///
/// [`Error::Decode`] for bytes that are neither (nothing is withdrawn), else the first withdrawal's.
pub(crate) fn withdraw_bytes(
    bytes: &[u8],
    mut dup: impl FnMut(&IoDup) -> Result<(), Errno>,
    openfd: impl FnOnce(&IoOpenfd) -> Result<(), Errno>,
) -> Result<(), Error> {
    let one = match parse(bytes) {
        Ok(Ticket::Dup(m)) => return Ok(dup(&m)?),
        Ok(Ticket::Openfd(m)) => return Ok(openfd(&m)?),
        Err(e) => e,
    };
    if bytes.len() <= IoDup::SIZE || bytes.len() % IoDup::SIZE != 0 {
        return Err(one.into());
    }
    for chunk in bytes.chunks_exact(IoDup::SIZE) {
        parse_as::<IoDup>(chunk)?;
    }
    // A packet here has no bound, so the checked tickets are not kept: the second pass reads the
    // checked bytes again (and every one parses).
    let checked = bytes
        .chunks_exact(IoDup::SIZE)
        .filter_map(|chunk| parse_as::<IoDup>(chunk).ok());
    Ok(withdraw_all(checked, |m| dup(&m))?)
}

/// Refuses a ticket whose server is `own` (the receiver's pid from `own_pid`, `None`: nothing refused):
/// redeeming it would send to one of the receiver's own channels (the 6.4 guest showed the
/// receiver blocked for good when no other thread receives there).
///
/// # Errors
///
/// [`DecodeError::OwnServer`].
pub(crate) fn check_own_server<M: Message>(own: Option<i32>, msg: &M) -> Result<(), DecodeError> {
    match own {
        Some(pid) if msg.info().pid == pid => Err(DecodeError::OwnServer(pid)),
        _ => Ok(()),
    }
}

/// [`redeem_batch_checked`] without a check of its own.
#[cfg(test)]
pub(crate) fn redeem_batch<M: Message, T, const N: usize>(
    bytes: &[u8],
    redeem: impl FnMut(&M) -> Result<T, Errno>,
) -> Result<Vec<T, N>, BatchError> {
    redeem_batch_checked(bytes, |_| Ok(()), redeem)
}

/// Redeems a batch packet all-or-nothing: every ticket is checked before the first is redeemed; if the
/// k-th redeem fails, the k descriptors already obtained (owning guards, `T`) are dropped, newest first,
/// which closes them, and the error names k.
///
/// Each ticket is parsed once ([`split_batch`] hands over checked copies), and the loop does per ticket
/// only what a hand-written one does: redeem, keep the descriptor.
///
/// `check` is the receiver's own refusal ([`check_own_server`]), applied to every ticket with the
/// parser's checks, before the first redeem.
// Inlined into each `redeem_batch`: called out of line, its `Vec<T, N>` of guards came back through
// memory (a `memcpy` of the whole vector per packet; callgrind, `benches/ticket.rs` batch of 8: 1151 -> 1031
// instructions a packet with it inlined).
#[inline(always)]
pub(crate) fn redeem_batch_checked<M: Message, T, const N: usize>(
    bytes: &[u8],
    check: impl Fn(&M) -> Result<(), DecodeError>,
    mut redeem: impl FnMut(&M) -> Result<T, Errno>,
) -> Result<Vec<T, N>, BatchError> {
    let mut msgs: Vec<M, N> = Vec::new();
    split_batch(bytes, &mut msgs).map_err(|(index, e)| BatchError {
        index,
        error: Error::Decode(e),
    })?;
    for (index, msg) in msgs.iter().enumerate() {
        check(msg).map_err(|e| BatchError {
            index,
            error: Error::Decode(e),
        })?;
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use core::cell::RefCell;
    use std::string::String;
    use std::vec::Vec;

    use zerocopy::IntoBytes;

    use super::*;
    use crate::error::DecodeError;
    use crate::wire::test_support::hdr;
    use crate::wire::MsgInfoHdr;

    /// `send_fd`'s contract with its sink, which the host backend's no-op withdrawal cannot show: the ticket
    /// is withdrawn exactly when the sink answers `Err`, and the sink's answer is returned as it was,
    /// whatever the withdrawal answered.
    #[test]
    fn send_withdraws_exactly_what_was_not_delivered() {
        use core::cell::Cell;
        let msg = IoDup::with_info(hdr(), 7);
        for answer in [Ok(()), Err(Errno::PIPE)] {
            for withdrawal in [Ok(()), Err(Errno::NOENT)] {
                let withdrawn = Cell::new(0);
                let seen = Cell::new(0);
                let r = send(
                    msg.as_bytes(),
                    |b| {
                        assert_eq!(b, msg.as_bytes());
                        seen.set(seen.get() + 1);
                        answer
                    },
                    || {
                        withdrawn.set(withdrawn.get() + 1);
                        withdrawal
                    },
                );
                assert_eq!(r, answer);
                assert_eq!(seen.get(), 1);
                assert_eq!(withdrawn.get(), usize::from(answer.is_err()), "{answer:?}");
            }
        }
    }

    /// A batch's withdrawal tries every ticket, also after one fails, and reports the first failure.
    #[test]
    fn withdraw_all_tries_every_ticket_and_reports_the_first_failure() {
        let msgs = [1u8, 2, 3, 4];
        let error =
            |m: u8| [Errno::BADF, Errno::NOENT, Errno::INVAL, Errno::PERM][usize::from(m - 1)];
        for (fails, first) in [
            (&[][..], Ok(())),
            (&[3][..], Err(Errno::INVAL)),
            (&[2, 4][..], Err(Errno::NOENT)),
            (&[4][..], Err(Errno::PERM)),
            (&[1, 2, 3, 4][..], Err(Errno::BADF)),
        ] {
            let mut tried = std::vec::Vec::new();
            let r = withdraw_all(&msgs, |m| {
                tried.push(*m);
                if fails.contains(m) {
                    Err(error(*m))
                } else {
                    Ok(())
                }
            });
            assert_eq!(tried, msgs, "{fails:?}: every ticket tried, in order");
            assert_eq!(r, first, "{fails:?}");
        }
    }

    /// What `withdraw_bytes` withdrew, in order: `d<coid>` for a dup ticket, `o<coid>` for an openfd.
    fn withdrawn(bytes: &[u8], fail: Option<i32>) -> (Result<(), Error>, Vec<String>) {
        let log = RefCell::new(Vec::new());
        let answer = |coid: i32| {
            if Some(coid) == fail {
                Err(Errno::NOENT)
            } else {
                Ok(())
            }
        };
        let r = withdraw_bytes(
            bytes,
            |m| {
                log.borrow_mut().push(std::format!("d{}", m.info.coid));
                answer(m.info.coid)
            },
            |m| {
                log.borrow_mut().push(std::format!("o{}", m.info.coid));
                answer(m.info.coid)
            },
        );
        (r, log.into_inner())
    }

    /// One ticket of either kind is withdrawn as itself; a packet's tickets are all checked before the
    /// first is withdrawn, then all are tried and the first failure returned.
    #[test]
    fn withdraw_bytes_checks_the_whole_packet_first() {
        let dup = |coid| IoDup::with_info(MsgInfoHdr { coid, ..hdr() }, 7);
        let open = IoOpenfd::with_info(MsgInfoHdr { coid: 9, ..hdr() }, 7);
        assert_eq!(
            withdrawn(dup(4).as_bytes(), None),
            (Ok(()), std::vec!["d4".into()])
        );
        assert_eq!(
            withdrawn(open.as_bytes(), None),
            (Ok(()), std::vec!["o9".into()])
        );
        assert_eq!(
            withdrawn(open.as_bytes(), Some(9)),
            (Err(Error::Os(Errno::NOENT)), std::vec!["o9".into()])
        );
        let packet = [dup(1).as_bytes(), dup(2).as_bytes(), dup(3).as_bytes()].concat();
        let all: Vec<String> = ["d1", "d2", "d3"].map(String::from).to_vec();
        assert_eq!(withdrawn(&packet, None), (Ok(()), all.clone()));
        assert_eq!(
            withdrawn(&packet, Some(2)),
            (Err(Error::Os(Errno::NOENT)), all)
        );
        // A bad last ticket: nothing is withdrawn, not even the good ones before it.
        let mut bad = packet.clone();
        bad[2 * IoDup::SIZE] ^= 0xff;
        let (r, log) = withdrawn(&bad, None);
        assert!(
            matches!(r, Err(Error::Decode(DecodeError::WrongType(_)))),
            "{r:?}"
        );
        assert!(log.is_empty(), "{log:?}");
        // Neither one ticket nor whole tickets: what parse says, nothing withdrawn.
        for cut in [
            &packet[..IoDup::SIZE - 1],
            &packet[..IoDup::SIZE + 1],
            &[][..],
        ] {
            assert_eq!(
                withdrawn(cut, None),
                (Err(Error::Decode(parse(cut).unwrap_err())), Vec::new())
            );
        }
    }
}
