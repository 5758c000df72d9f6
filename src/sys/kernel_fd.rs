//! [`KernelFd`]: a descriptor a kernel call has just returned, owned from that moment on and closed
//! through the kernel it came from.
//!
//! rustix turns a system call's result into an owned descriptor at the boundary, so that nothing above
//! holds a bare integer; this is the same for a [`Kernel`] the logic is generic over. The crate's public
//! [`OwnedFd`] closes through the default kernel, which is wrong for a test double or a fault injector,
//! so below the API a descriptor is a `KernelFd` until it is handed out: every failing path cleans up by
//! dropping it, and the drop closes the way the kernel closes ([`close_retrying`]: on Neutrino libc's
//! `_IO_CLOSE` sequence, never detached after `EINTR`, retried a bounded number of times).
//!
//! Only the functions below make one, each from the call that returned the descriptor.

use core::fmt;

use crate::fd::{FromRawFd, OwnedFd, RawFd};
use crate::sys::{close_retrying, Kernel};
use crate::wire::MsgInfoHdr;
#[cfg(target_os = "linux")]
use crate::Access;
use crate::Errno;

/// A descriptor returned by a call of `k`, owned; dropping it closes it through `k`.
#[must_use = "dropping a KernelFd closes the descriptor"]
pub(crate) struct KernelFd<'k, K: Kernel + ?Sized> {
    fd: RawFd,
    k: &'k K,
}

impl<'k, K: Kernel + ?Sized> KernelFd<'k, K> {
    /// Wraps what a descriptor-returning call of `k` answered.
    fn from_call(k: &'k K, r: Result<RawFd, Errno>) -> Result<Self, Errno> {
        r.map(|fd| Self { fd, k })
    }

    /// The descriptor number, for a call that only uses it; `self` keeps it.
    pub(crate) const fn as_raw(&self) -> RawFd {
        self.fd
    }

    /// Gives up ownership: the caller now closes the descriptor through the same kernel (the host's
    /// peer cache, which keeps pidfds beside that kernel).
    pub(crate) fn into_raw(self) -> RawFd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }

    /// Drops the connection the way libc drops one whose `_IO_DUP` / `_IO_OPENFD` send failed
    /// (`qnx-abi.md` §9.6: `fcntl(F_DUPFD)` and `openfd()` call only `ConnectDetach`): one
    /// [`Kernel::connect_detach`], no `_IO_CLOSE` to the server. The server refused the message or never
    /// answered it, so it holds no binding a close could release; an `_IO_CLOSE` to a hostile server could
    /// instead be answered with `EINTR` forever and keep the connection attached. Its answer is ignored:
    /// `ConnectDetach` fails only for a connection id that does not exist.
    #[cfg_attr(not(any(test, target_os = "nto", target_os = "qnx")), allow(dead_code))]
    pub(crate) fn detach(self) {
        let k = self.k;
        let _ = k.connect_detach(self.into_raw());
    }

    /// The descriptor as the public [`OwnedFd`], which closes through the default kernel: what a
    /// redeem hands out.
    pub(crate) fn into_owned(self) -> OwnedFd {
        let fd = self.into_raw();
        // SAFETY: `fd` was returned by a descriptor-returning call of a `Kernel` (the trait's contract:
        // a new descriptor of this process that the caller owns) and `into_raw` gave up this guard's
        // ownership, so the `OwnedFd` is its only owner.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }
}

impl<K: Kernel + ?Sized> Drop for KernelFd<'_, K> {
    fn drop(&mut self) {
        // A failing path's cleanup: the close's own answer is not the caller's error.
        let _ = close_retrying(self.k, self.fd);
    }
}

impl<K: Kernel + ?Sized> fmt::Debug for KernelFd<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelFd").field("fd", &self.fd).finish()
    }
}

/// What a descriptor-returning call answers once its descriptor is owned.
pub(crate) type Owned<'k, K> = Result<KernelFd<'k, K>, Errno>;

/// [`Kernel::connect_attach`] to the channel `to` names (its node, pid and chid; index 0, so the
/// lowest free connection id), the new connection owned.
pub(crate) fn connect_attach<K: Kernel + ?Sized>(
    k: &K,
    to: MsgInfoHdr,
    flags: i32,
) -> Owned<'_, K> {
    let (nd, pid, chid) = (to.nd, to.pid, to.chid);
    KernelFd::from_call(k, k.connect_attach(nd, pid, chid, 0, flags))
}

/// [`Kernel::dupfd`], the new descriptor owned.
pub(crate) fn dupfd<K: Kernel + ?Sized>(k: &K, handle: u64, flags: i32) -> Owned<'_, K> {
    KernelFd::from_call(k, k.dupfd(handle, flags))
}

/// [`Kernel::pidfd_open`], the pidfd owned.
#[cfg(target_os = "linux")]
pub(crate) fn pidfd_open<K: Kernel + ?Sized>(k: &K, pid: i32) -> Owned<'_, K> {
    KernelFd::from_call(k, k.pidfd_open(pid))
}

/// [`Kernel::pidfd_getfd`], the duplicate owned.
#[cfg(target_os = "linux")]
pub(crate) fn pidfd_getfd<K: Kernel + ?Sized>(k: &K, pidfd: RawFd, fd: RawFd) -> Owned<'_, K> {
    KernelFd::from_call(k, k.pidfd_getfd(pidfd, fd))
}

/// [`Kernel::reopen`], the new open owned.
#[cfg(target_os = "linux")]
pub(crate) fn reopen<'k, K: Kernel + ?Sized>(
    k: &'k K,
    fd: &KernelFd<'k, K>,
    access: Access,
) -> Owned<'k, K> {
    KernelFd::from_call(k, k.reopen(fd.as_raw(), access))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::format;

    use super::*;
    use crate::sys::host::{getpid, Linux};

    /// Debug output names the descriptor, so a log of a failing path says which one it held.
    #[test]
    fn debug_names_the_descriptor() {
        let fd = pidfd_open(&Linux, getpid()).unwrap();
        let n = fd.as_raw();
        assert!(n >= 0);
        assert_eq!(format!("{fd:?}"), format!("KernelFd {{ fd: {n} }}"));
    }
}
