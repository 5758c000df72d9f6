//! The Linux host backend's logic: tickets name the sender's pid (`info.tid`), descriptor (`info.coid`)
//! and start time (`handle`); redeeming duplicates the descriptor out of the sender with `pidfd_getfd`.
//!
//! # Pid reuse
//!
//! The receiver opens a pidfd for the ticket's pid first and only then reads that pid's start time: if
//! it matches the ticket, the pidfd refers to the sender (a pidfd pins its process: if the pid had been
//! reused in between, the pidfd would refer to the earlier, dead process and `pidfd_getfd` would fail).
//! A ticket from an exited sender fails with `ESRCH`. The remaining window is a pid reused by a process
//! started within the same clock tick (10 ms at the usual `USER_HZ`) as the sender.
//!
//! # The peer table
//!
//! `pidfd_open` costs five to six times a `pidfd_getfd` + `close`, so a [`Peers`] table keeps one pidfd
//! per sender (fixed capacity `P`, round-robin eviction). An entry is keyed by pid *and* start time, and is
//! dropped when its process is found dead, so a reused pid never reaches a stale pidfd.

use heapless::Vec;

use crate::errno::Errno;
use crate::fd::RawFd;
use crate::sys::{self, Kept, LinuxKernel, Owned};
use crate::ticket::Recipient;
use crate::timeout::Timeout;
use crate::wire::{Access, IoDup, IoOpenfd, Message, MsgInfoHdr, OpenfdAccess};

use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// This process's start time, cached with the pid it was read for (so a forked child reads its own).
static SELF_PID: AtomicI32 = AtomicI32::new(0);
static SELF_START: AtomicU64 = AtomicU64::new(0);

/// Who a ticket names as its sender: a process, by pid and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub(crate) pid: i32,
    start: u64,
}

/// This process's identity: one `getpid`, and the start time read once per pid and cached (so a forked
/// child reads its own).
pub(crate) fn identity<K: LinuxKernel>(k: &K) -> Result<Identity, Errno> {
    let pid = k.getpid()?;
    if SELF_PID.load(Ordering::Acquire) == pid {
        let start = SELF_START.load(Ordering::Relaxed);
        return Ok(Identity { pid, start });
    }
    let start = k.start_time(pid)?;
    SELF_START.store(start, Ordering::Relaxed);
    SELF_PID.store(pid, Ordering::Release);
    Ok(Identity { pid, start })
}

#[derive(Debug)]
struct Peer {
    pid: i32,
    start: u64,
    pidfd: Kept,
}

/// One pidfd per sender process, at most `P` of them (`P = 0`: open and close a pidfd per redeem).
#[derive(Debug)]
pub struct Peers<const P: usize> {
    entries: Vec<Peer, P>,
    victim: usize,
}

impl<const P: usize> Peers<P> {
    pub(crate) const fn new() -> Self {
        Self {
            entries: Vec::new(),
            victim: 0,
        }
    }

    /// Closes every cached pidfd (the table keeps them beside the kernel that opened them, so it closes
    /// them through that kernel itself).
    pub(crate) fn clear<K: LinuxKernel>(&mut self, k: &K) {
        for p in core::mem::take(&mut self.entries) {
            let _ = p.pidfd.close(k);
        }
    }

    fn forget<K: LinuxKernel>(&mut self, k: &K, pid: i32) {
        if let Some(i) = self.entries.iter().position(|p| p.pid == pid) {
            let p = self.entries.swap_remove(i);
            let _ = p.pidfd.close(k);
        }
    }

    /// Descriptor `fd` of process `pid` started at `start`, duplicated into this process (close-on-exec)
    /// through a pidfd of that process: the one kept for it, or a new one, checked against `start` and
    /// then kept (replacing an entry, round robin, when the table is full).
    fn getfd<'k, K: LinuxKernel>(
        &mut self,
        k: &'k K,
        pid: i32,
        start: u64,
        fd: RawFd,
    ) -> Owned<'k, K> {
        if let Some(p) = self.entries.iter().find(|p| p.pid == pid) {
            if p.start == start {
                let r = sys::pidfd_getfd(k, &p.pidfd, fd);
                if matches!(r, Err(Errno::SRCH)) {
                    self.forget(k, pid);
                }
                return r;
            }
            // Same pid, another start time: that process is gone; so is its entry.
            self.forget(k, pid);
        }
        // Every early return below closes the new pidfd as it drops.
        let pidfd = sys::pidfd_open(k, pid)?;
        if k.start_time(pid)? != start {
            return Err(Errno::SRCH);
        }
        let r = sys::pidfd_getfd(k, &pidfd, fd);
        if P == 0 || matches!(r, Err(Errno::SRCH)) {
            return r;
        }
        // Kept: the table owns it from here on.
        let entry = Peer {
            pid,
            start,
            pidfd: pidfd.keep(),
        };
        if let Err(entry) = self.entries.push(entry) {
            // Full: replace the next victim, round robin.
            let i = self.victim % P;
            self.victim = self.victim.wrapping_add(1);
            if let Some(slot) = self.entries.get_mut(i) {
                let old = core::mem::replace(slot, entry);
                let _ = old.pidfd.close(k);
            } else {
                let _ = entry.pidfd.close(k);
            }
        }
        r
    }
}

/// The ticket header naming `id` and `fd`.
///
/// No system call checks that `fd` is open: the API takes it as a `BorrowedFd`, whose contract is that it
/// stays open, and a descriptor closed anyway fails the redeem with `EBADF` (tested). That keeps issuing a
/// dup ticket at one `getpid` (which a forked child needs, to name itself rather than its parent), and at
/// none through a `Sender`, which looked its identity up once.
fn host_info(id: Identity, fd: RawFd) -> Result<MsgInfoHdr, Errno> {
    if fd < 0 {
        return Err(Errno::BADF);
    }
    let info = MsgInfoHdr {
        nd: 0,
        srcnd: 0,
        pid: 0,
        tid: id.pid,
        chid: 0,
        scoid: 0,
        coid: fd,
    };
    crate::fmt::debug!(
        "SFD: client pid: {=i32} coid {=i32} start {=u64}",
        id.pid,
        fd,
        id.start
    );
    Ok(info)
}

pub(crate) fn issue_dup<K: LinuxKernel>(k: &K, fd: RawFd, to: Recipient) -> Result<IoDup, Errno> {
    issue_dup_as(k, identity(k)?, fd, to)
}

/// [`issue_dup`] naming `id`, already looked up: no system call.
pub(crate) fn issue_dup_as<K: LinuxKernel>(
    _k: &K,
    id: Identity,
    fd: RawFd,
    _to: Recipient,
) -> Result<IoDup, Errno> {
    Ok(IoDup::with_info(host_info(id, fd)?, id.start))
}

pub(crate) fn issue_openfd<K: LinuxKernel>(
    k: &K,
    fd: RawFd,
    access: Access,
    to: Recipient,
) -> Result<IoOpenfd, Errno> {
    issue_openfd_as(k, identity(k)?, fd, access, to)
}

/// [`issue_openfd`] naming `id`, already looked up.
pub(crate) fn issue_openfd_as<K: LinuxKernel>(
    k: &K,
    id: Identity,
    fd: RawFd,
    access: Access,
    _to: Recipient,
) -> Result<IoOpenfd, Errno> {
    let info = host_info(id, fd)?;
    // An openfd ticket is refused from a path-only descriptor here already (`EACCES`).
    sys::access_mode(k, fd)?;
    let mut msg = IoOpenfd::with_info(info, id.start);
    msg.set_access(access);
    Ok(msg)
}

/// Withdraws a ticket: nothing to do on the host, where issuing registers nothing (the ticket names the
/// sender's pid, start time and descriptor; only closing the descriptor makes it fail).
pub(crate) fn withdraw<M, K: LinuxKernel>(_k: &K, _msg: &M) -> Result<(), Errno> {
    Ok(())
}

/// Nothing to refuse on the host: its tickets name no server (the server fields are 0), and a ticket
/// naming the receiver's own pid as the sender is a plain `pidfd_getfd` of its own descriptor.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn own_pid<K: LinuxKernel>(_k: &K, _allowed: bool) -> Result<Option<i32>, Errno> {
    Ok(None)
}

/// The Linux host never blocks on a redeem (`pidfd_getfd` does not wait for the sender), so a
/// `timeout` has nothing to bound and is accepted and ignored.
pub(crate) fn redeem_dup<'k, K: LinuxKernel, const P: usize>(
    k: &'k K,
    peers: &mut Peers<P>,
    msg: &IoDup,
    _timeout: Option<Timeout>,
) -> Owned<'k, K> {
    let info = msg.info;
    crate::fmt::debug!("RFD: other pid: {=i32} coid {=i32}", info.tid, info.coid);
    peers.getfd(k, info.tid, msg.handle, info.coid)
}

pub(crate) fn redeem_openfd<'k, K: LinuxKernel, const P: usize>(
    k: &'k K,
    peers: &mut Peers<P>,
    msg: &IoOpenfd,
    _timeout: Option<Timeout>,
) -> Owned<'k, K> {
    let info = msg.info;
    let want = msg.access();
    crate::fmt::debug!(
        "RFD: other pid: {=i32} coid {=i32} (openfd)",
        info.tid,
        info.coid
    );
    // The duplicate is only the way to the file: closed as it drops, after the re-open or the refusal.
    let dup = peers.getfd(k, info.tid, msg.handle, info.coid)?;
    let have = sys::access_mode(k, dup.as_raw())?;
    let wider = match (want, have) {
        (_, Access::ReadWrite) => false,
        (w, h) => w != h,
    };
    if wider {
        return Err(Errno::ACCES);
    }
    sys::reopen(k, &dup, want)
}

#[cfg(test)]
mod tests {

    use super::*;

    const ID: Identity = Identity {
        pid: 4321,
        start: 0x1234_5678,
    };

    /// Descriptor 0 is a descriptor like any other; only negative numbers are refused, before any
    /// system call.
    #[test]
    fn host_info_takes_every_descriptor_number_but_negative_ones() {
        for fd in [0, 1, 2, 1000, i32::MAX] {
            let info = host_info(ID, fd).unwrap();
            assert_eq!((info.tid, info.coid), (4321, fd));
            assert_eq!(
                (info.nd, info.srcnd, info.pid, info.chid, info.scoid),
                (0, 0, 0, 0, 0)
            );
        }
        for fd in [-1, -2, i32::MIN] {
            assert_eq!(host_info(ID, fd), Err(Errno::BADF), "{fd}");
        }
    }
}
