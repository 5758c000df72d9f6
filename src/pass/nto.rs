//! The Neutrino sequence, generic over the kernel calls ([`NeutrinoKernel`]) and the message layout
//! ([`Message`]), so that the host runs it against a test double for both QNX versions.
//!
//! Issue (sender), as the article does it but without its 64-bit overrun:
//! 1. refuse what libc's `fcntl(F_DUPFD)` refuses before asking the kernel (§2.7): a negative
//!    descriptor or a side channel, `EBADF`;
//! 2. `ConnectServerInfo(0, fd)` into a zeroed 64-byte `_msg_info64` (EBADF if `fd` is not a connection),
//!    and refuse a connection no receiver could redeem ([`refuse_unpassable`]);
//! 3. copy its 28-byte header into the message, the sender's pid into `info.tid`;
//! 4. QNX 8.0 only: `dupfd_register(recipient, fd, DUPFD_NO_DISCARD)`, the handle goes into the message.
//!
//! Redeem (receiver); on QNX 8.0 with `libc-calls`, a dup ticket is redeemed with libc's documented
//! `dupfd(handle, _NTO_COF_CLOEXEC)` instead (§9.4), otherwise:
//! 1. `ConnectAttach(nd, server pid, chid, 0, _NTO_COF_CLOEXEC)`: the lowest free descriptor, close-on-exec;
//! 2. rewrite `info.pid` to the sender's pid (the owner of the original connection, which is what the
//!    server looks up) and clear `info.tid`;
//! 3. `MsgSendnc` for `_IO_DUP` (as libc's `fcntl(F_DUPFD)`), `MsgSend` for `_IO_OPENFD` (as libc's
//!    `openfd()`); on failure drop the new connection as libc does there, with `ConnectDetach` only
//!    (§9.6), before returning the error.

use crate::errno::Errno;
use crate::fd::RawFd;
use crate::sys::nto::nr;
use crate::sys::{self, NeutrinoKernel, Owned, DUPFD_NO_DISCARD};
use crate::ticket::{check_server, Recipient};
use crate::timeout::Timeout;
use crate::wire::{
    Access, IoDup, IoOpenfd, Message, MsgInfo64, MsgInfoHdr, OpenfdAccess, IO_DUP, ND_LOCAL_NODE,
    NTO_COF_CLOEXEC, NTO_COF_DEAD, NTO_COF_PIPE, NTO_SIDE_CHANNEL,
};

/// Per-receiver state: none on Neutrino (the server does the work).
#[derive(Debug, Default)]
pub struct Peers<const P: usize>;

impl<const P: usize> Peers<P> {
    pub(crate) const fn new() -> Self {
        Self
    }
    pub(crate) fn clear<K: NeutrinoKernel>(&mut self, _k: &K) {}
}

/// Who a ticket names as its sender: a process, by pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub(crate) pid: i32,
}

/// This process's identity ([`Kernel::getpid`](crate::sys::Kernel::getpid)).
pub(crate) fn identity<K: NeutrinoKernel>(k: &K) -> Result<Identity, Errno> {
    k.getpid().map(|pid| Identity { pid })
}

/// The pid a redeem refuses as a ticket's server ([`check_own_server`](super::check_own_server)): this
/// process's, unless the receiver `allowed` its own server. [`Kernel::getpid`]: a read of the thread's
/// TLS block on Neutrino, no kernel call.
pub(crate) fn own_pid<K: NeutrinoKernel>(k: &K, allowed: bool) -> Result<Option<i32>, Errno> {
    if allowed {
        Ok(None)
    } else {
        k.getpid().map(Some)
    }
}

/// Builds a ticket of layout `M` for `fd`.
pub(crate) fn issue<M: Message, K: NeutrinoKernel>(
    k: &K,
    fd: RawFd,
    to: Recipient,
) -> Result<M, Errno> {
    issue_by(k, None, fd, to)
}

/// Builds a ticket of layout `M` for `fd` naming `id`, or (`None`) this process, asked after the
/// descriptor was checked.
pub(crate) fn issue_by<M: Message, K: NeutrinoKernel>(
    k: &K,
    id: Option<Identity>,
    fd: RawFd,
    to: Recipient,
) -> Result<M, Errno> {
    if fd < 0 || fd as u32 & NTO_SIDE_CHANNEL != 0 {
        return Err(Errno::BADF);
    }
    let server = sys::server_info(k, fd)?;
    refuse_unpassable::<M>(&server)?;
    let mut info = server.hdr();
    info.srcnd = 0;
    info.tid = match id {
        Some(id) => id.pid,
        None => k.getpid()?,
    };
    let proof = if M::HANDLE {
        match to {
            // DUPFD_NO_DISCARD: a full registration table fails this issue with EAGAIN instead of
            // silently invalidating the oldest outstanding ticket (§9.4).
            Recipient::Pid(pid) => sys::dupfd_register_with(k, pid, fd, DUPFD_NO_DISCARD, &server)?,
            Recipient::Any => return Err(Errno::INVAL),
        }
    } else {
        0
    };
    crate::fmt::debug!(
        "SFD: client pid: {=i32} server nd: {=u32:#x} pid {=i32:#x} chid {=i32:#x} scoid {=i32:#x} coid {=i32:#x}",
        info.tid, info.nd, info.pid, info.chid, info.scoid, info.coid
    );
    Ok(M::with_info(info, proof))
}

/// Withdraws a ticket that never reached its receiver: on QNX 8.0 unregisters its `dupfd` handle
/// (`dupfd_unregister`), so it stops counting against the sender's 200 registrations and cannot be
/// redeemed any more. A 7.x ticket registers nothing and cannot be withdrawn: `Ok(())`, nothing called.
pub(crate) fn withdraw<M: Message, K: NeutrinoKernel>(k: &K, msg: &M) -> Result<(), Errno> {
    if M::HANDLE {
        k.dupfd_unregister(msg.proof())
    } else {
        Ok(())
    }
}

/// Refuses, at issue, a connection whose ticket could only fail later, in the receiver:
///
/// - a server on another node (`nd` not 0): `ENOREMOTE`. The node number is the sender's (libc
///   translates it with `netmgr_remote_nd`, §2.7, §9.5) and Qnet is not supported;
/// - a connection `ConnectServerInfo` reports dead (`_NTO_COF_DEAD`, §2.4, §2.5): `ESRCH`, what the
///   receiver's `ConnectAttach` would answer;
/// - QNX 8.0 only (the 8.0 layout): an in-kernel pipe (`_NTO_COF_PIPE`, 0x400; on 6.x/7.x that bit is
///   `_NTO_COF_GLOBAL`): `ENOTSUP`. A pipe has no resource manager to answer `_IO_DUP`/`_IO_OPENFD`
///   (INFERRED; whether 8.0's `dupfd()` can duplicate one is UNKNOWN);
/// - a server the receiver's check refuses (pid or chid not positive, a global chid): `ENOTSUP`.
fn refuse_unpassable<M: Message>(server: &MsgInfo64) -> Result<(), Errno> {
    if server.nd != ND_LOCAL_NODE {
        return Err(Errno::NOREMOTE);
    }
    let flags = i32::from(server.flags);
    if flags & NTO_COF_DEAD != 0 {
        return Err(Errno::SRCH);
    }
    if M::HANDLE && flags & NTO_COF_PIPE != 0 {
        return Err(Errno::NOTSUP);
    }
    match check_server(&server.hdr()) {
        Ok(()) => Ok(()),
        Err(_) => Err(Errno::NOTSUP),
    }
}

/// [`redeem_within`] without a timeout.
#[cfg(test)]
pub(crate) fn redeem<'k, M: Message, K: NeutrinoKernel>(
    k: &'k K,
    msg: &M,
    cancel_point: bool,
) -> Owned<'k, K> {
    redeem_within(k, msg, cancel_point, None)
}

/// Redeems a checked message of layout `M`; `cancel_point` picks `MsgSend` over `MsgSendnc`; a
/// `timeout` bounds the send ([`attach_and_send`]).
pub(crate) fn redeem_within<'k, M: Message, K: NeutrinoKernel>(
    k: &'k K,
    msg: &M,
    cancel_point: bool,
    timeout: Option<Timeout>,
) -> Owned<'k, K> {
    let info = msg.info();
    if M::HANDLE && M::TYPE == IO_DUP && k.has_dupfd() && timeout.is_none() {
        // QNX 8.0 with the C library: its documented dupfd() (§9.4) instead of a hand-built _IO_DUP;
        // it attaches, sends and cleans up itself. The ticket's header was checked all the same.
        // With a timeout this path is not taken: dupfd() makes several kernel calls, and a
        // TimerTimeout armed before it would bound the first of them, not its send (INFERRED from 6.4
        // `ker_timer.c`: the timeout belongs to the thread's next kernel call); the hand-built
        // `_IO_DUP` below carries the same handle and is bounded.
        return sys::dupfd(k, msg.proof(), NTO_COF_CLOEXEC);
    }
    if M::HANDLE {
        check_handle_record(k, &info, msg.proof())?;
    }
    let owner = info.tid;
    crate::fmt::debug!(
        "RFD: other pid: {=i32} server nd: {=u32:#x} pid {=i32:#x} chid {=i32:#x} scoid {=i32:#x} coid {=i32:#x}",
        owner, info.nd, info.pid, info.chid, info.scoid, info.coid
    );
    let mut out = *msg;
    let mut hdr = info;
    hdr.pid = owner;
    hdr.tid = 0;
    out.set_info(hdr);
    attach_and_send(k, &info, out.as_bytes(), cancel_point, timeout)
}

/// QNX 8.0, where the redeem takes the server from the ticket (an `_IO_OPENFD` ticket; a dup ticket
/// on the raw route, or bounded by a timeout): compares the ticket with the kernel's own record of its
/// handle (`dupfd_getinfo`) and refuses with `EPERM`, before attaching, a ticket whose server
/// pid differs from the record's, or whose sender differs from the record's peer. The peer is INFERRED
/// to be the registering process; a record naming this receiver instead (the other reading of "peer")
/// is accepted, so the server check holds either way. A backend that cannot ask (`ENOSYS`: raw without
/// the `raw-dupfd` feature) skips the check; the server then still verifies the handle itself.
fn check_handle_record<K: NeutrinoKernel>(
    k: &K,
    info: &MsgInfoHdr,
    handle: u64,
) -> Result<(), Errno> {
    let rec = match k.dupfd_getinfo(handle) {
        Ok(rec) => rec,
        Err(Errno::NOSYS) => return Ok(()),
        Err(e) => return Err(e),
    };
    if rec.server != info.pid {
        return Err(Errno::PERM);
    }
    if rec.peer != i64::from(info.tid) && rec.peer != i64::from(k.getpid()?) {
        return Err(Errno::PERM);
    }
    Ok(())
}

/// The part of [`redeem`] that does not depend on the layout (one copy for dup and openfd): attach to
/// the server named in `server`, send it `bytes`; on failure the new connection is detached.
///
/// Detached as libc detaches it on this path (`fcntl(F_DUPFD)`, `openfd()`: `ConnectDetach` only,
/// CONFIRMED 6.4 and 7.0, §9.6), not closed with `_IO_CLOSE`: the ticket names the server, so it may be
/// hostile, and one that answers every `_IO_CLOSE` with `EINTR` would cost the receiver a round trip per
/// attempt and keep the connection attached (shown on the 6.4 guest before this change: 1 `_IO_DUP`, 9
/// `_IO_CLOSE`, a descriptor left behind). A standard resource manager keeps no binding after a failed
/// dup unless its own `io_dup` handler returned `_RESMGR_DEFAULT` (6.4 `_resmgr_dup_handler.c`); if an
/// interrupted send had been bound, a later bind of this number to that server fails with `EBUSY`, as it
/// does after libc's own failed dup.
///
/// With a `timeout`, `TimerTimeout(CLOCK_MONOTONIC, _NTO_TIMEOUT_SEND | _NTO_TIMEOUT_REPLY)` is armed
/// right before the send, with no call in between, so it bounds exactly that send: a server that never
/// receives (SEND-blocked) or never replies (REPLY-blocked) makes it fail with `ETIMEDOUT`, and the
/// connection is detached like any failed send. Not bounded: REPLY-blocked on a channel created with
/// `_NTO_CHF_UNBLOCK` (every resource manager's), where the kernel only sends the server an unblock
/// pulse and the receiver waits for the server's reply (CONFIRMED on the 6.4 guest,
/// `hostile_holds_unblock`).
fn attach_and_send<'k, K: NeutrinoKernel>(
    k: &'k K,
    server: &MsgInfoHdr,
    bytes: &[u8],
    cancel_point: bool,
    timeout: Option<Timeout>,
) -> Owned<'k, K> {
    let coid = sys::connect_attach(k, *server, NTO_COF_CLOEXEC)?;
    if let Some(t) = timeout {
        if let Err(e) = k.timer_timeout(
            nr::CLOCK_MONOTONIC,
            nr::NTO_TIMEOUT_SEND | nr::NTO_TIMEOUT_REPLY,
            t.as_nanos(),
        ) {
            coid.detach();
            return Err(e);
        }
    }
    match coid.send(bytes, cancel_point) {
        Ok(_) => Ok(coid),
        Err(e) => {
            coid.detach();
            Err(e)
        }
    }
}

pub(crate) fn issue_dup<K: NeutrinoKernel>(
    k: &K,
    fd: RawFd,
    to: Recipient,
) -> Result<IoDup, Errno> {
    issue::<IoDup, K>(k, fd, to)
}

/// [`issue_dup`] naming `id`, already looked up.
pub(crate) fn issue_dup_as<K: NeutrinoKernel>(
    k: &K,
    id: Identity,
    fd: RawFd,
    to: Recipient,
) -> Result<IoDup, Errno> {
    issue_by::<IoDup, K>(k, Some(id), fd, to)
}

pub(crate) fn issue_openfd<K: NeutrinoKernel>(
    k: &K,
    fd: RawFd,
    access: Access,
    to: Recipient,
) -> Result<IoOpenfd, Errno> {
    let mut msg = issue::<IoOpenfd, K>(k, fd, to)?;
    msg.set_access(access);
    Ok(msg)
}

/// [`issue_openfd`] naming `id`, already looked up.
pub(crate) fn issue_openfd_as<K: NeutrinoKernel>(
    k: &K,
    id: Identity,
    fd: RawFd,
    access: Access,
    to: Recipient,
) -> Result<IoOpenfd, Errno> {
    let mut msg = issue_by::<IoOpenfd, K>(k, Some(id), fd, to)?;
    msg.set_access(access);
    Ok(msg)
}

pub(crate) fn redeem_dup<'k, K: NeutrinoKernel, const P: usize>(
    k: &'k K,
    _peers: &mut Peers<P>,
    msg: &IoDup,
    timeout: Option<Timeout>,
) -> Owned<'k, K> {
    redeem_within(k, msg, false, timeout)
}

pub(crate) fn redeem_openfd<'k, K: NeutrinoKernel, const P: usize>(
    k: &'k K,
    _peers: &mut Peers<P>,
    msg: &IoOpenfd,
    timeout: Option<Timeout>,
) -> Owned<'k, K> {
    redeem_within(k, msg, true, timeout)
}

#[cfg(test)]
pub(crate) mod tests {
    //! The Neutrino sequence against the kernel double (`sys::nto::double`): the call sequence, the bytes
    //! sent, and that every connection attached on a failing path is closed; the k-th call fails on
    //! request.

    use zerocopy::IntoBytes;

    use super::*;

    /// [`redeem`], the descriptor left open (as a caller that keeps it would), by number.
    fn redeem_raw<M: Message, K: NeutrinoKernel>(
        k: &K,
        msg: &M,
        cancel_point: bool,
    ) -> Result<RawFd, Errno> {
        redeem(k, msg, cancel_point).map(sys::KernelFd::into_raw)
    }
    use crate::error::{BatchError, DecodeError, Error};
    use crate::pass;
    use crate::sys::nto::double::{Call, Double, SERVER};
    use crate::sys::DupfdRecord;
    use crate::sys::Kernel as _;
    use crate::wire::{v7, v8, MsgInfo64};

    #[test]
    fn issue_with_a_known_identity_skips_getpid() {
        // A `Sender`'s path: the pid it holds goes into `info.tid`; the calls are the same but getpid.
        let k = Double::default();
        let id = identity(&k).unwrap();
        assert_eq!(id.pid, 4321);
        k.calls.borrow_mut().clear();
        let m: v8::IoDup = issue_by(&k, Some(Identity { pid: 99 }), 3, Recipient::Pid(77)).unwrap();
        assert_eq!(m.info.tid, 99);
        assert_eq!(
            *k.calls.borrow(),
            [
                Call::ServerInfo { pid: 0, coid: 3 },
                Call::Register {
                    dstpid: 77,
                    fd: 3,
                    flags: DUPFD_NO_DISCARD
                }
            ]
        );
        let m: v7::IoDup = issue_by(&k, Some(Identity { pid: 99 }), 3, Recipient::Any).unwrap();
        assert_eq!(m.info.tid, 99);
        let m = issue_openfd_as(
            &k,
            Identity { pid: 99 },
            3,
            Access::Write,
            Recipient::Pid(5),
        )
        .unwrap();
        assert_eq!((m.info.tid, m.ioflag), (99, crate::wire::IO_FLAG_WR));
        let m = issue_dup_as(&k, Identity { pid: 99 }, 3, Recipient::Pid(5)).unwrap();
        assert_eq!(m.info.tid, 99);
        // Everything else is what `issue` builds.
        let k2 = Double::default();
        let plain: v8::IoDup = issue(&k2, 3, Recipient::Pid(77)).unwrap();
        let by: v8::IoDup =
            issue_by(&k2, Some(Identity { pid: 4321 }), 3, Recipient::Pid(77)).unwrap();
        assert_eq!(plain, by);
        // A bad descriptor is refused at the first call, as before.
        assert_eq!(
            issue_by::<v8::IoDup, _>(&k2, Some(id), 12, Recipient::Pid(77)),
            Err(Errno::BADF)
        );
    }

    /// Fault injection over the issue path with a known identity: each call fails in turn, the error
    /// comes back unchanged and nothing stays attached.
    #[test]
    fn fault_injection_issue_by() {
        fn each<M: Message>() {
            let probe = Double::default();
            let _: M = issue_by(&probe, Some(Identity { pid: 7 }), 3, Recipient::Pid(9)).unwrap();
            let n = probe.calls.borrow().len();
            assert_eq!(n, if M::HANDLE { 2 } else { 1 }, "{:?}", probe.calls);
            for k in 1..=n {
                let f = Double {
                    fail_at: Some((k, Errno::NOMEM)),
                    ..Double::default()
                };
                assert_eq!(
                    issue_by::<M, _>(&f, Some(Identity { pid: 7 }), 3, Recipient::Pid(9))
                        .map(|m| m.proof()),
                    Err(Errno::NOMEM),
                    "call {k}"
                );
                assert!(f.open.borrow().is_empty());
            }
        }
        each::<v7::IoDup>();
        each::<v7::IoOpenfd>();
        each::<v8::IoDup>();
        each::<v8::IoOpenfd>();
    }

    #[test]
    fn v8_issue_hands_its_server_info_to_the_registration() {
        // The server info issue already holds goes to `dupfd_register_with`: no second
        // `ConnectServerInfo` (the raw backend would otherwise make one).
        let k = Double::default();
        let _: v8::IoDup = issue(&k, 3, Recipient::Pid(77)).unwrap();
        assert_eq!(
            *k.calls.borrow(),
            [
                Call::ServerInfo { pid: 0, coid: 3 },
                Call::Getpid,
                Call::Register {
                    dstpid: 77,
                    fd: 3,
                    flags: DUPFD_NO_DISCARD
                }
            ]
        );
        assert_eq!(
            *k.register_info.borrow(),
            Some(MsgInfo64 { coid: 3, ..SERVER })
        );
    }

    #[test]
    fn v7_issue_keeps_the_article_convention() {
        let k = Double::default();
        let m: v7::IoDup = issue(&k, 3, Recipient::Any).unwrap();
        assert_eq!(m.type_, crate::wire::IO_DUP);
        assert_eq!(m.combine_len, 60);
        assert_eq!(
            (
                m.info.pid,
                m.info.chid,
                m.info.scoid,
                m.info.coid,
                m.info.tid
            ),
            (0x2001, 1, 0x4000_0007, 3, 4321)
        );
        assert_eq!(m.info.flags, 0, "only the 28-byte header is copied");
        assert_eq!(m.key, 0);
        assert_eq!(
            *k.calls.borrow(),
            [Call::ServerInfo { pid: 0, coid: 3 }, Call::Getpid]
        );
        assert_eq!(
            issue::<v7::IoDup, _>(&k, 12, Recipient::Any),
            Err(Errno::BADF)
        );
    }

    #[test]
    fn v8_issue_registers_a_handle_for_the_recipient() {
        let k = Double::default();
        let m: v8::IoDup = issue(&k, 3, Recipient::Pid(77)).unwrap();
        assert_eq!(m.handle, 0xABCD);
        assert_eq!(m.info.tid, 4321);
        assert_eq!(
            k.calls.borrow().last(),
            Some(&Call::Register {
                dstpid: 77,
                fd: 3,
                flags: DUPFD_NO_DISCARD
            })
        );
        assert_eq!(
            issue::<v8::IoDup, _>(&k, 3, Recipient::Any),
            Err(Errno::INVAL)
        );
    }

    #[test]
    fn v8_registration_never_discards_an_outstanding_ticket() {
        // Every registration asks for DUPFD_NO_DISCARD: with the table full (200 unredeemed handles)
        // the issue fails with EAGAIN, instead of the kernel silently voiding the oldest ticket.
        for m in [
            issue::<v8::IoDup, _>(&Double::default(), 3, Recipient::Pid(77)).map(|m| m.proof()),
            issue::<v8::IoOpenfd, _>(&Double::default(), 3, Recipient::Pid(77)).map(|m| m.proof()),
        ] {
            assert_eq!(m, Ok(0xABCD));
        }
        let k = Double::default();
        let _: v8::IoOpenfd = issue(&k, 3, Recipient::Pid(77)).unwrap();
        assert!(matches!(
            k.calls.borrow().last(),
            Some(Call::Register { flags, .. }) if *flags & DUPFD_NO_DISCARD != 0
        ));
        let full = Double {
            fail_at: Some((3, Errno::AGAIN)),
            ..Double::default()
        };
        assert_eq!(
            issue::<v8::IoDup, _>(&full, 3, Recipient::Pid(77)).map(|m| m.proof()),
            Err(Errno::AGAIN)
        );
    }

    #[test]
    fn withdraw_unregisters_an_8_0_handle_only() {
        let k = Double::default();
        let dup: v8::IoDup = issue(&k, 3, Recipient::Pid(77)).unwrap();
        let open: v8::IoOpenfd = issue(&k, 3, Recipient::Pid(77)).unwrap();
        k.calls.borrow_mut().clear();
        assert_eq!(withdraw(&k, &dup), Ok(()));
        assert_eq!(withdraw(&k, &open), Ok(()));
        assert_eq!(
            *k.calls.borrow(),
            [Call::Unregister(0xABCD), Call::Unregister(0xABCD)]
        );
        // 7.x registers nothing: nothing to withdraw, no call.
        let v7: v7::IoDup = issue(&k, 3, Recipient::Any).unwrap();
        k.calls.borrow_mut().clear();
        assert_eq!(withdraw(&k, &v7), Ok(()));
        assert!(k.calls.borrow().is_empty());
    }

    #[test]
    fn send_withdraws_what_the_sink_did_not_deliver() {
        let k = Double::default();
        let msg: v8::IoDup = issue(&k, 3, Recipient::Pid(77)).unwrap();
        let sent = |r: Result<(), Errno>| {
            k.calls.borrow_mut().clear();
            let out = pass::send(
                msg.as_bytes(),
                |b| {
                    assert_eq!(b.len(), 40);
                    r
                },
                || withdraw(&k, &msg),
            );
            (out, k.calls.borrow().clone())
        };
        // Delivered: the handle stays for the receiver.
        assert_eq!(sent(Ok(())), (Ok(()), std::vec![]));
        // Not delivered: withdrawn, and the sink's own answer comes back.
        assert_eq!(
            sent(Err(Errno::PIPE)),
            (Err(Errno::PIPE), std::vec![Call::Unregister(0xABCD)])
        );
        // A failing withdrawal does not hide the sink's answer.
        let f = Double {
            fail_at: Some((1, Errno::NOENT)),
            ..Double::default()
        };
        let out = pass::send(msg.as_bytes(), |_| Err("gone"), || withdraw(&f, &msg));
        assert_eq!(out, Err("gone"));
        assert_eq!(*f.calls.borrow(), [Call::Unregister(0xABCD)]);
    }

    #[test]
    fn withdrawing_a_batch_tries_every_ticket() {
        let k = Double::default();
        let msgs: std::vec::Vec<v8::IoDup> = (0..3)
            .map(|_| issue(&k, 3, Recipient::Pid(77)).unwrap())
            .collect();
        let f = Double {
            fail_at: Some((2, Errno::NOENT)),
            ..Double::default()
        };
        assert_eq!(
            pass::withdraw_all(&msgs, |m| withdraw(&f, m)),
            Err(Errno::NOENT)
        );
        assert_eq!(f.calls.borrow().len(), 3);
    }

    /// Issue refuses what libc refuses and what no receiver could redeem, and registers nothing then.
    fn unpassable<M: Message>() {
        let try_with = |server: MsgInfo64, fd: i32| {
            let k = Double {
                server,
                ..Double::default()
            };
            let r = issue::<M, _>(&k, fd, Recipient::Pid(9)).map(|m| m.proof());
            assert!(
                !k.calls
                    .borrow()
                    .iter()
                    .any(|c| matches!(c, Call::Register { .. })),
                "registered for a refused issue: {:?}",
                k.calls
            );
            let n = k.calls.borrow().len();
            (r, n)
        };
        // libc's F_DUPFD answers EBADF for a side channel or -1 without asking the kernel.
        assert_eq!(try_with(SERVER, 0x4000_0003), (Err(Errno::BADF), 0));
        assert_eq!(try_with(SERVER, -1), (Err(Errno::BADF), 0));
        // A server on another node: the node number would be the sender's.
        let remote = MsgInfo64 { nd: 5, ..SERVER };
        assert_eq!(try_with(remote, 3).0, Err(Errno::NOREMOTE));
        // A dead connection: the receiver's ConnectAttach would fail with ESRCH.
        let dead = MsgInfo64 {
            flags: (NTO_COF_DEAD | NTO_COF_CLOEXEC) as i16,
            ..SERVER
        };
        assert_eq!(try_with(dead, 3).0, Err(Errno::SRCH));
        // 0x400 is an in-kernel pipe on 8.0 (refused) but _NTO_COF_GLOBAL on 7.x.
        let bit = MsgInfo64 {
            flags: NTO_COF_PIPE as i16,
            ..SERVER
        };
        let expect = if M::HANDLE { Err(Errno::NOTSUP) } else { Ok(0) };
        assert_eq!(try_with(bit, 3).0, expect);
        // What the receiver's check would refuse.
        for server in [
            MsgInfo64 { pid: 0, ..SERVER },
            MsgInfo64 { chid: 0, ..SERVER },
            MsgInfo64 {
                chid: 0x4000_0002,
                ..SERVER
            },
        ] {
            assert_eq!(try_with(server, 3).0, Err(Errno::NOTSUP));
        }
    }

    #[test]
    fn issue_refuses_what_cannot_be_redeemed() {
        unpassable::<v7::IoDup>();
        unpassable::<v7::IoOpenfd>();
        unpassable::<v8::IoDup>();
        unpassable::<v8::IoOpenfd>();
    }

    #[test]
    fn libc_on_8_0_redeems_dup_tickets_with_dupfd() {
        let msg: v8::IoDup = issue(&Double::default(), 3, Recipient::Pid(9)).unwrap();
        let k = Double {
            libc_dupfd: true,
            ..Double::default()
        };
        let fd = redeem_raw(&k, &msg, false).unwrap();
        assert_eq!(
            *k.calls.borrow(),
            [Call::Dupfd {
                handle: 0xABCD,
                flags: NTO_COF_CLOEXEC
            }]
        );
        assert_eq!(*k.open.borrow(), [fd]);
        // Its failure is returned as is, and nothing is left open (libc cleans up after itself).
        let k = Double {
            libc_dupfd: true,
            fail_at: Some((1, Errno::NOENT)),
            ..Double::default()
        };
        assert_eq!(redeem_raw(&k, &msg, false), Err(Errno::NOENT));
        assert!(k.open.borrow().is_empty());
        // openfd tickets have no libc counterpart: still a hand-built _IO_OPENFD with the handle.
        let open: v8::IoOpenfd = issue(&Double::default(), 3, Recipient::Pid(9)).unwrap();
        let k = Double {
            libc_dupfd: true,
            ..Double::default()
        };
        redeem_raw(&k, &open, true).unwrap();
        assert!(matches!(
            k.calls.borrow()[..],
            [Call::Attach { .. }, Call::Send { .. }]
        ));
        // A 7.x ticket has no handle: the hand-built _IO_DUP.
        let v7: v7::IoDup = issue(&Double::default(), 3, Recipient::Any).unwrap();
        let k = Double {
            libc_dupfd: true,
            ..Double::default()
        };
        redeem_raw(&k, &v7, false).unwrap();
        assert!(matches!(
            k.calls.borrow()[..],
            [Call::Attach { .. }, Call::Send { .. }]
        ));
    }

    /// The raw 8.0 registration (`raw-dupfd`) hands `ConnectDupFd` the header the redeem later sends in
    /// the `_IO_DUP`, not the server-info form (`info.pid` = the server).
    #[test]
    fn raw_registration_header_is_the_redeemed_header() {
        let k = Double::default();
        let msg: v8::IoDup = issue(&k, 3, Recipient::Pid(9)).unwrap();
        let r = Double::default();
        redeem_raw(&r, &msg, false).unwrap();
        let Call::Send { bytes, .. } = &r.calls.borrow()[1] else {
            panic!("{:?}", r.calls)
        };
        let sent = <v8::IoDup as zerocopy::FromBytes>::read_from_bytes(bytes).unwrap();
        let server = k.register_info.borrow().unwrap();
        let registered = crate::sys::nto::encode::dupfd_register_header(&server, msg.info.tid);
        assert_eq!(registered, sent.info);
        assert_ne!(registered.pid, server.pid, "not the server-info form");
    }

    fn redeem_sequence<M: Message>() {
        let sender = Double::default();
        let msg: M = issue(&sender, 3, Recipient::Pid(9)).unwrap();
        let receiver = Double::default();
        let coid = redeem_raw(&receiver, &msg, false).unwrap();
        let calls = receiver.calls.borrow();
        assert_eq!(
            calls[0],
            Call::Attach {
                nd: 0,
                pid: 0x2001,
                chid: 1,
                index: 0,
                flags: NTO_COF_CLOEXEC
            }
        );
        let Call::Send {
            coid: c,
            bytes,
            nc: true,
        } = &calls[1]
        else {
            panic!("{calls:?}")
        };
        assert_eq!(*c, coid);
        let sent = M::read_from_bytes(bytes).unwrap();
        assert_eq!(sent.info().pid, 4321, "owner pid in info.pid");
        assert_eq!(sent.info().tid, 0);
        assert_eq!(sent.info().coid, 3);
        assert_eq!(sent.proof(), msg.proof());
        assert_eq!(calls.len(), 2);
        assert_eq!(*receiver.open.borrow(), [coid]);
    }

    #[test]
    fn redeem_sends_the_owner_pid_both_versions() {
        redeem_sequence::<v7::IoDup>();
        redeem_sequence::<v8::IoDup>();
        redeem_sequence::<v7::IoOpenfd>();
        redeem_sequence::<v8::IoOpenfd>();
    }

    /// A ticket naming the receiver's own pid as the server is refused before any kernel
    /// call (only `getpid`, a TLS read), single or in a batch; allowed on request, without asking the
    /// pid at all.
    #[test]
    fn a_ticket_naming_the_receiver_is_refused_unless_allowed() {
        let k = Double::default();
        let me = k.getpid().unwrap();
        let other: v7::IoDup = issue(&Double::default(), 3, Recipient::Any).unwrap();
        let mut mine = other;
        let mut i = mine.info();
        i.pid = me;
        mine.set_info(i);
        k.calls.borrow_mut().clear();

        let own = own_pid(&k, false).unwrap();
        assert_eq!(own, Some(me));
        assert_eq!(
            pass::check_own_server(own, &mine),
            Err(DecodeError::OwnServer(me))
        );
        assert_eq!(pass::check_own_server(own, &other), Ok(()));
        assert_eq!(*k.calls.borrow(), [Call::Getpid]);

        let allowing = Double::default();
        assert_eq!(own_pid(&allowing, true), Ok(None));
        assert!(allowing.calls.borrow().is_empty());
        assert_eq!(pass::check_own_server(None, &mine), Ok(()));

        // A batch whose second ticket names the receiver: refused whole, nothing redeemed.
        let mut batch = [0u8; 2 * core::mem::size_of::<v7::IoDup>()];
        batch[..60].copy_from_slice(other.as_bytes());
        batch[60..].copy_from_slice(mine.as_bytes());
        let mut redeemed = 0;
        let r = pass::redeem_batch_checked::<v7::IoDup, (), 2>(
            &batch,
            |m| pass::check_own_server(own, m),
            |_| {
                redeemed += 1;
                Ok(())
            },
        );
        assert_eq!(
            r.unwrap_err(),
            BatchError {
                index: 1,
                error: Error::Decode(DecodeError::OwnServer(me))
            }
        );
        assert_eq!(redeemed, 0);
    }

    /// A redeem bounded by a timeout arms `TimerTimeout(CLOCK_MONOTONIC, SEND | REPLY)` right
    /// before its send; a server that never answers makes it fail with ETIMEDOUT and the connection is
    /// detached. Without the timeout the same redeem blocks forever (the double panics to say so): the
    /// old behaviour.
    #[test]
    fn a_bounded_redeem_of_a_stuck_server_times_out_and_detaches() {
        let msg: v7::IoDup = issue(&Double::default(), 3, Recipient::Any).unwrap();
        let t = Timeout::from_millis(250);
        for cancel_point in [false, true] {
            let k = Double {
                stuck: true,
                ..Double::default()
            };
            assert_eq!(
                redeem_within(&k, &msg, cancel_point, Some(t)).map(sys::KernelFd::into_raw),
                Err(Errno::TIMEDOUT)
            );
            let calls = k.log();
            assert!(matches!(calls[0], Call::Attach { .. }), "{calls:?}");
            assert_eq!(
                calls[1],
                Call::Timeout {
                    clock: 2,
                    flags: 0x10 | 0x40,
                    nanos: 250_000_000
                }
            );
            assert!(matches!(&calls[2], Call::Send { nc, .. } if *nc != cancel_point));
            assert_eq!(calls[3..], [Call::Detach(101)]);
            assert!(k.open.borrow().is_empty());
        }
        // TimerTimeout itself failing: nothing sent, the connection detached, its error returned.
        let k = Double {
            fail_on: Some(("TimerTimeout", Errno::AGAIN)),
            ..Double::default()
        };
        assert_eq!(
            redeem_within(&k, &msg, false, Some(t)).map(sys::KernelFd::into_raw),
            Err(Errno::AGAIN)
        );
        assert!(matches!(k.log()[2..], [Call::Detach(101)]), "{:?}", k.log());
        // A server that answers: the timeout changes nothing else.
        let k = Double::default();
        let fd = redeem_within(&k, &msg, false, Some(t)).unwrap().into_raw();
        assert_eq!(*k.open.borrow(), [fd]);
        // Unbounded, the same stuck server blocks the receiver for good.
        let k = Double {
            stuck: true,
            ..Double::default()
        };
        let blocked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = redeem(&k, &msg, false);
        }));
        assert!(
            blocked.is_err(),
            "an unbounded send to a stuck server must block"
        );
        // QNX 8.0 with the C library: a bounded dup goes through the hand-built, bounded `_IO_DUP`
        // (with the ticket's handle), not through dupfd(), which the timeout cannot bound.
        let msg8: v8::IoDup = issue(&Double::default(), 3, Recipient::Pid(9)).unwrap();
        let k = Double {
            libc_dupfd: true,
            stuck: true,
            ..Double::default()
        };
        assert_eq!(
            redeem_within(&k, &msg8, false, Some(t)).map(sys::KernelFd::into_raw),
            Err(Errno::TIMEDOUT)
        );
        assert!(!k.log().iter().any(|c| matches!(c, Call::Dupfd { .. })));
    }

    /// QNX 8.0: where the redeem takes the server from the ticket, the kernel's record of the
    /// handle must agree: a forged server pid (or sender) is refused with EPERM before `ConnectAttach`.
    /// Before this check the receiver attached to whatever server the ticket named.
    #[test]
    fn an_8_0_ticket_must_match_its_handles_record() {
        let sender = Double::default();
        let msg: v8::IoOpenfd = issue(&sender, 3, Recipient::Pid(9)).unwrap();
        let genuine = DupfdRecord {
            peer: 4321,
            server: SERVER.pid,
            info: SERVER.hdr(),
        };
        let with = |rec: DupfdRecord| Double {
            record: Some(rec),
            ..Double::default()
        };
        // The record agrees: looked up, then attached and sent.
        let k = with(genuine);
        redeem(&k, &msg, true).unwrap().into_raw();
        let calls = k.log();
        assert_eq!(calls[0], Call::GetInfo(msg.handle));
        assert!(
            matches!(calls[1], Call::Attach { pid: 0x2001, .. }),
            "{calls:?}"
        );
        // A ticket naming another server than the handle's: refused, nothing attached.
        let mut forged = msg;
        let mut i = forged.info();
        i.pid = 0x3003;
        forged.set_info(i);
        let k = with(genuine);
        assert_eq!(
            redeem(&k, &forged, true).map(sys::KernelFd::into_raw),
            Err(Errno::PERM)
        );
        assert_eq!(k.log(), [Call::GetInfo(msg.handle)]);
        // A ticket naming another sender than the record's peer: refused too (after asking this
        // process's pid, the other reading of the peer).
        let k = with(DupfdRecord {
            peer: 77,
            ..genuine
        });
        assert_eq!(
            redeem(&k, &msg, true).map(sys::KernelFd::into_raw),
            Err(Errno::PERM)
        );
        assert_eq!(k.log(), [Call::GetInfo(msg.handle), Call::Getpid]);
        // A record whose peer is this receiver: accepted (the server still checked).
        let k = with(DupfdRecord {
            peer: 4321,
            ..genuine
        });
        assert!(redeem(&k, &msg, true).is_ok());
        // The lookup failing (an invalid handle): its error, nothing attached.
        let k = Double {
            record: Some(genuine),
            fail_on: Some(("dupfd_getinfo", Errno::NOENT)),
            ..Double::default()
        };
        assert_eq!(
            redeem(&k, &msg, true).map(sys::KernelFd::into_raw),
            Err(Errno::NOENT)
        );
        assert_eq!(k.log(), [Call::GetInfo(msg.handle)]);
        // A backend that cannot ask (raw without `raw-dupfd`): unchecked, as before.
        let k = Double::default();
        assert!(redeem(&k, &forged, true).is_ok());
        // The 8.0 C library's dupfd() route takes the server from the handle, not the ticket: no lookup.
        let dup: v8::IoDup = issue(&sender, 3, Recipient::Pid(9)).unwrap();
        let k = Double {
            libc_dupfd: true,
            record: Some(genuine),
            ..Double::default()
        };
        assert!(redeem(&k, &dup, false).is_ok());
        assert!(!k.log().iter().any(|c| matches!(c, Call::GetInfo(_))));
        // v7 tickets carry no handle: no lookup.
        let v7msg: v7::IoOpenfd = issue(&sender, 3, Recipient::Any).unwrap();
        let k = with(genuine);
        assert!(redeem(&k, &v7msg, true).is_ok());
        assert!(!k.log().iter().any(|c| matches!(c, Call::GetInfo(_))));
    }

    #[test]
    fn failing_send_only_detaches_the_connection() {
        // As libc's failed dup / openfd: one ConnectDetach, no `_IO_CLOSE`. The server of a
        // forged ticket may answer every `_IO_CLOSE` with EINTR: it must get none.
        let msg: v7::IoDup = issue(&Double::default(), 3, Recipient::Any).unwrap();
        for (nc, name) in [(true, "MsgSendnc"), (false, "MsgSend")] {
            let k = Double {
                fail_on: Some((name, Errno::PERM)),
                ..Double::default()
            };
            // Every `_IO_CLOSE` would be interrupted: the old cleanup sent 8 and left the connection.
            k.close_intr.set(1000);
            assert_eq!(redeem_raw(&k, &msg, !nc), Err(Errno::PERM));
            assert!(k.open.borrow().is_empty(), "leaked {:?}", k.open.borrow());
            let calls = k.calls.borrow();
            assert!(matches!(&calls[1], Call::Send { nc: n, .. } if *n == nc));
            assert_eq!(calls[2..], [Call::Detach(101)], "{name}");
        }
        // An interrupted send (a signal, a timeout): detached the same way.
        let k = Double {
            fail_at: Some((2, Errno::INTR)),
            ..Double::default()
        };
        assert_eq!(redeem_raw(&k, &msg, true), Err(Errno::INTR));
        assert!(k.open.borrow().is_empty(), "leaked {:?}", k.open.borrow());
        assert_eq!(k.calls.borrow()[2..], [Call::Detach(101)]);
    }

    #[test]
    fn batch_rollback_retries_an_interrupted_close() {
        let msg: IoDup = issue(&Double::default(), 3, Recipient::Pid(1)).unwrap();
        let mut batch = [0u8; 2 * core::mem::size_of::<IoDup>()];
        for c in batch.chunks_exact_mut(core::mem::size_of::<IoDup>()) {
            c.copy_from_slice(msg.as_bytes());
        }
        // Ticket 1's send (call 4) fails; closing ticket 0's descriptor is interrupted once.
        let f = Double {
            fail_at: Some((4, Errno::NOMEM)),
            ..Double::default()
        };
        let r = pass::redeem_batch::<IoDup, _, 2>(&batch, |m| {
            let r = redeem(&f, m, false);
            f.close_intr.set(1);
            r
        });
        assert_eq!(r.map(|v| v.len()).unwrap_err().index, 1);
        assert!(f.open.borrow().is_empty(), "leaked {:?}", f.open.borrow());
    }

    #[test]
    fn openfd_uses_msg_send_and_carries_access() {
        let k = Double::default();
        let msg = issue_openfd(&k, 3, Access::Write, Recipient::Pid(5)).unwrap();
        assert_eq!(msg.ioflag, crate::wire::IO_FLAG_WR);
        let r = Double::default();
        let _fd = redeem_openfd(&r, &mut Peers::<1>::new(), &msg, None).unwrap();
        assert!(matches!(&r.calls.borrow()[1], Call::Send { nc: false, .. }));
    }

    /// The dup entry points the API calls: the generic issue for the target's layout, and a redeem that
    /// sends with `MsgSendnc` (not a cancellation point) and hands back the attached connection.
    #[test]
    fn dup_uses_msg_sendnc_and_returns_the_connection() {
        let msg = issue_dup(&Double::default(), 3, Recipient::Pid(5)).unwrap();
        let same: IoDup = issue(&Double::default(), 3, Recipient::Pid(5)).unwrap();
        assert_eq!(msg.as_bytes(), same.as_bytes());
        assert_eq!(msg.info().coid, 3);
        let r = Double::default();
        let fd = redeem_dup(&r, &mut Peers::<1>::new(), &msg, None)
            .unwrap()
            .into_raw();
        assert_eq!(*r.open.borrow(), [fd]);
        assert!(matches!(&r.calls.borrow()[0], Call::Attach { .. }));
        assert!(matches!(&r.calls.borrow()[1], Call::Send { coid, nc: true, .. } if *coid == fd));
    }

    /// Fault injection: for every call k along redeem and batch redeem, failing it returns the injected
    /// errno and leaves no connection open.
    #[test]
    fn fault_injection_every_call() {
        let msg: IoDup = issue(&Double::default(), 3, Recipient::Pid(1)).unwrap();
        let mut batch = [0u8; 4 * core::mem::size_of::<IoDup>()];
        for c in batch.chunks_exact_mut(core::mem::size_of::<IoDup>()) {
            c.copy_from_slice(msg.as_bytes());
        }
        // Single redeem: 2 calls (attach, send).
        for k in 1..=2 {
            let f = Double {
                fail_at: Some((k, Errno::NOMEM)),
                ..Double::default()
            };
            assert_eq!(redeem_raw(&f, &msg, false), Err(Errno::NOMEM), "call {k}");
            assert!(
                f.open.borrow().is_empty(),
                "call {k} leaked {:?}",
                f.open.borrow()
            );
        }
        // Batch of 4: 8 calls; the batch fails at ticket (k-1)/2 and closes what it had.
        for k in 1..=8usize {
            let f = Double {
                fail_at: Some((k, Errno::NOMEM)),
                ..Double::default()
            };
            let r = pass::redeem_batch::<IoDup, _, 4>(&batch, |m| redeem(&f, m, false));
            assert_eq!(
                r.map(|v| v.len()),
                Err(BatchError {
                    index: (k - 1) / 2,
                    error: Error::Os(Errno::NOMEM)
                }),
                "call {k}"
            );
            assert!(
                f.open.borrow().is_empty(),
                "call {k} leaked {:?}",
                f.open.borrow()
            );
        }
        let f = Double::default();
        let ok = pass::redeem_batch::<IoDup, _, 4>(&batch, |m| redeem(&f, m, false)).unwrap();
        assert_eq!(ok.len(), 4);
        assert_eq!(f.open.borrow().len(), 4);
    }

    /// Fault injection over the four layouts and both send calls (`MsgSendnc` for dup, `MsgSend` for
    /// a cancellation point): every call of issue and of redeem fails in turn; the injected errno comes
    /// back unchanged and no connection stays attached. The path length is learned from an unfailed run.
    #[test]
    fn fault_injection_all_layouts() {
        fn each<M: Message>() {
            let probe = Double::default();
            let msg: M = issue(&probe, 3, Recipient::Pid(9)).unwrap();
            let issued = probe.calls.borrow().len();
            assert_eq!(issued, if M::HANDLE { 3 } else { 2 }, "{:?}", probe.calls);
            for k in 1..=issued {
                let f = Double {
                    fail_at: Some((k, Errno::NOMEM)),
                    ..Double::default()
                };
                assert_eq!(
                    issue::<M, _>(&f, 3, Recipient::Pid(9)).map(|m| m.proof()),
                    Err(Errno::NOMEM),
                    "issue, call {k}"
                );
                assert!(f.open.borrow().is_empty());
            }
            for cancel_point in [false, true] {
                let probe = Double::default();
                let coid = redeem_raw(&probe, &msg, cancel_point).unwrap();
                assert_eq!(*probe.open.borrow(), [coid]);
                let n = probe.calls.borrow().len();
                assert_eq!(n, 2, "attach + send: {:?}", probe.calls);
                for k in 1..=n {
                    let f = Double {
                        fail_at: Some((k, Errno::NOMEM)),
                        ..Double::default()
                    };
                    assert_eq!(
                        redeem_raw(&f, &msg, cancel_point),
                        Err(Errno::NOMEM),
                        "call {k}"
                    );
                    assert!(
                        f.open.borrow().is_empty(),
                        "call {k} leaked {:?}",
                        f.open.borrow()
                    );
                }
            }
        }
        each::<v7::IoDup>();
        each::<v7::IoOpenfd>();
        each::<v8::IoDup>();
        each::<v8::IoOpenfd>();
    }

    #[test]
    fn bad_batch_opens_nothing() {
        let msg: IoDup = issue(&Double::default(), 3, Recipient::Pid(1)).unwrap();
        let mut batch = [0u8; 2 * core::mem::size_of::<IoDup>()];
        batch[..msg.as_bytes().len()].copy_from_slice(msg.as_bytes());
        let f = Double::default();
        let r = pass::redeem_batch::<IoDup, _, 4>(&batch, |m| redeem(&f, m, false));
        assert_eq!(
            r.map(|v| v.len()),
            Err(BatchError {
                index: 1,
                error: Error::Decode(DecodeError::WrongType(0))
            })
        );
        assert!(f.calls.borrow().is_empty());
    }

    /// Descriptor 0 is a descriptor like any other; every negative number is refused before any kernel
    /// call, also those whose side-channel bit is clear (below -2^30, down to i32::MIN).
    #[test]
    fn issue_takes_descriptor_0_and_refuses_every_negative_number() {
        let m: v7::IoDup = issue(&Double::default(), 0, Recipient::Any).unwrap();
        assert_eq!(m.info().coid, 0);
        for fd in [-1, -2, -0x4000_0000, -0x4000_0001, i32::MIN] {
            let k = Double::default();
            assert_eq!(
                issue::<v7::IoDup, _>(&k, fd, Recipient::Any).map(|_| ()),
                Err(Errno::BADF),
                "{fd}"
            );
            assert!(k.calls.borrow().is_empty(), "{fd}: no kernel call");
        }
    }
}
