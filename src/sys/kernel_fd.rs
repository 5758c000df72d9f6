//! [`KernelFd`]: a descriptor a kernel call has just returned, owned from that moment on and closed
//! through the kernel it came from; and the crate-private, safe wrappers through which the layers above
//! make the kernel calls that take a descriptor number (the traits' `unsafe fn`s).
//!
//! rustix turns a system call's result into an owned descriptor at the boundary, so that nothing above
//! holds a bare integer; this is the same for a kernel the logic is generic over. The crate's public
//! [`OwnedFd`] closes through the default kernel, which is wrong for a test double or a fault injector,
//! so below the API a descriptor is a `KernelFd` until it is handed out: every failing path cleans up by
//! dropping it, and the drop closes the way the kernel closes ([`close_retrying`]: on Neutrino libc's
//! `_IO_CLOSE` sequence, never detached after `EINTR`, retried a bounded number of times).
//!
//! Only the functions below make one, each from the call that returned the descriptor. The wrappers
//! that pass a descriptor number to a kernel take either a `KernelFd` (owned) or the number of a
//! descriptor the public API borrowed for the call (`impl AsFd` in every entry point); they are private
//! to the crate, which is what keeps them sound.

use core::fmt;

use crate::errno::Errno;
use crate::fd::{FromRawFd, OwnedFd, RawFd};
#[cfg(host_linux)]
use crate::sys::LinuxKernel;
use crate::sys::{close_retrying, Kernel, NeutrinoKernel};
#[cfg(host_linux)]
use crate::wire::Access;
use crate::wire::{MsgInfo64, MsgInfoHdr};

/// A descriptor returned by a call of `k`, owned; dropping it closes it through `k`.
#[must_use = "dropping a KernelFd closes the descriptor"]
pub(crate) struct KernelFd<'k, K: Kernel + ?Sized> {
    fd: RawFd,
    k: &'k K,
}

impl<'k, K: Kernel + ?Sized> KernelFd<'k, K> {
    /// Wraps what a descriptor-returning call of `k` answered (the traits' contract: a new descriptor
    /// of this process that the caller owns).
    fn from_call(k: &'k K, r: Result<RawFd, Errno>) -> Result<Self, Errno> {
        r.map(|fd| Self { fd, k })
    }

    /// The descriptor number, for a call that only uses it; `self` keeps it.
    #[cfg(any(test, host_linux))]
    pub(crate) const fn as_raw(&self) -> RawFd {
        self.fd
    }

    /// Gives up ownership, the number left open (the unit tests read what a redeem returned).
    #[cfg(test)]
    pub(crate) fn into_raw(self) -> RawFd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }

    /// The descriptor as the public [`OwnedFd`], which closes through the default kernel: what a
    /// redeem hands out.
    pub(crate) fn into_owned(self) -> OwnedFd {
        let fd = self.fd;
        core::mem::forget(self);
        // SAFETY: `fd` was returned by a descriptor-returning call of an `unsafe` kernel trait (its
        // contract: a new descriptor of this process that the caller owns) and this guard, its only
        // owner, was forgotten without closing it, so the `OwnedFd` is its only owner.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }
}

impl<K: Kernel + ?Sized> Drop for KernelFd<'_, K> {
    fn drop(&mut self) {
        // A failing path's cleanup: the close's own answer is not the caller's error.
        // SAFETY: this guard owns `fd` (from a descriptor-returning call) and is going away.
        let _ = unsafe { close_retrying(self.k, self.fd) };
    }
}

impl<K: Kernel + ?Sized> fmt::Debug for KernelFd<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelFd").field("fd", &self.fd).finish()
    }
}

/// What a descriptor-returning call answers once its descriptor is owned.
pub(crate) type Owned<'k, K> = Result<KernelFd<'k, K>, Errno>;

/// [`NeutrinoKernel::connect_attach`] to the channel `to` names (its node, pid and chid; index 0, so
/// the lowest free connection id), the new connection owned.
pub(crate) fn connect_attach<K: NeutrinoKernel + ?Sized>(
    k: &K,
    to: MsgInfoHdr,
    flags: i32,
) -> Owned<'_, K> {
    let (nd, pid, chid) = (to.nd, to.pid, to.chid);
    KernelFd::from_call(k, k.connect_attach(nd, pid, chid, 0, flags))
}

/// [`NeutrinoKernel::dupfd`], the new descriptor owned.
pub(crate) fn dupfd<K: NeutrinoKernel + ?Sized>(k: &K, handle: u64, flags: i32) -> Owned<'_, K> {
    KernelFd::from_call(k, k.dupfd(handle, flags))
}

impl<K: NeutrinoKernel + ?Sized> KernelFd<'_, K> {
    /// Drops the connection the way libc drops one whose `_IO_DUP` / `_IO_OPENFD` send failed
    /// (`qnx-abi.md` §9.6: `fcntl(F_DUPFD)` and `openfd()` call only `ConnectDetach`): one
    /// [`NeutrinoKernel::connect_detach`], no `_IO_CLOSE` to the server. The server refused the message
    /// or never answered it, so it holds no binding a close could release; an `_IO_CLOSE` to a hostile
    /// server could instead be answered with `EINTR` forever and keep the connection attached. Its answer
    /// is ignored: `ConnectDetach` fails only for a connection id that does not exist.
    pub(crate) fn detach(self) {
        let (k, fd) = (self.k, self.fd);
        core::mem::forget(self);
        // SAFETY: this guard owned `fd` (a connection `k` returned) until it was forgotten just above
        // (so its drop does not close it too); no one else holds it and it is not used after this call.
        let _ = unsafe { k.connect_detach(fd) };
    }

    /// Sends `bytes` on this connection, with no reply expected: `MsgSend` (a cancellation point) or
    /// `MsgSendnc`.
    pub(crate) fn send(&self, bytes: &[u8], cancel_point: bool) -> Result<isize, Errno> {
        if cancel_point {
            // SAFETY: this guard owns the connection for the whole call.
            unsafe { self.k.msg_send(self.fd, bytes, &mut []) }
        } else {
            // SAFETY: as above.
            unsafe { self.k.msg_sendnc(self.fd, bytes, &mut []) }
        }
    }
}

/// [`NeutrinoKernel::connect_server_info`] for our connection `fd` (pid 0).
///
/// Crate-private: `fd` is a descriptor the public API borrowed (`impl AsFd`) for the call, or a number
/// that names none (the kernel answers `EBADF`).
pub(crate) fn server_info<K: NeutrinoKernel + ?Sized>(
    k: &K,
    fd: RawFd,
) -> Result<MsgInfo64, Errno> {
    // SAFETY: `fd` is borrowed for this call by the API entry point it came through (see above).
    unsafe { k.connect_server_info(0, fd) }
}

/// [`NeutrinoKernel::dupfd_register_with`] for our connection `fd`, borrowed as for [`server_info`].
pub(crate) fn dupfd_register_with<K: NeutrinoKernel + ?Sized>(
    k: &K,
    dstpid: i32,
    fd: RawFd,
    flags: u32,
    server: &MsgInfo64,
) -> Result<u64, Errno> {
    // SAFETY: `fd` is borrowed for this call by the API entry point it came through.
    unsafe { k.dupfd_register_with(dstpid, fd, flags, server) }
}

/// [`LinuxKernel::pidfd_open`], the pidfd owned.
#[cfg(host_linux)]
pub(crate) fn pidfd_open<K: LinuxKernel + ?Sized>(k: &K, pid: i32) -> Owned<'_, K> {
    KernelFd::from_call(k, k.pidfd_open(pid))
}

/// [`LinuxKernel::pidfd_getfd`] through an owned or kept pidfd, the duplicate owned.
#[cfg(host_linux)]
pub(crate) fn pidfd_getfd<'k, K: LinuxKernel + ?Sized>(
    k: &'k K,
    pidfd: &impl Pidfd,
    fd: RawFd,
) -> Owned<'k, K> {
    // SAFETY: `pidfd` is owned by a `KernelFd` or a `Kept`, borrowed here for the call.
    KernelFd::from_call(k, unsafe { k.pidfd_getfd(pidfd.raw(), fd) })
}

/// [`LinuxKernel::access_mode`] of our descriptor `fd`: one the public API borrowed for the call, or
/// one a [`KernelFd`] owns (crate-private, as [`server_info`]).
#[cfg(host_linux)]
pub(crate) fn access_mode<K: LinuxKernel + ?Sized>(k: &K, fd: RawFd) -> Result<Access, Errno> {
    // SAFETY: `fd` is borrowed for this call (see above).
    unsafe { k.access_mode(fd) }
}

/// [`LinuxKernel::reopen`], the new open owned.
#[cfg(host_linux)]
pub(crate) fn reopen<'k, K: LinuxKernel + ?Sized>(
    k: &'k K,
    fd: &KernelFd<'k, K>,
    access: Access,
) -> Owned<'k, K> {
    // SAFETY: `fd` owns the descriptor, borrowed here for the call.
    KernelFd::from_call(k, unsafe { k.reopen(fd.as_raw(), access) })
}

/// A descriptor a [`KernelFd`] gave up to be kept beside its kernel (the host's peer table keeps its
/// pidfds so): owned by whoever holds it, and closed only by [`Kept::close`] through that kernel. Not
/// `Clone`, and it has no `Drop`: a `Kept` that is dropped leaks its descriptor, never closes another.
#[cfg(host_linux)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Kept(RawFd);

#[cfg(host_linux)]
impl<K: Kernel + ?Sized> KernelFd<'_, K> {
    /// Gives up the guard: the descriptor is kept, to be closed later through the same kernel.
    pub(crate) fn keep(self) -> Kept {
        let fd = self.fd;
        core::mem::forget(self);
        Kept(fd)
    }
}

#[cfg(host_linux)]
impl Kept {
    /// Closes the descriptor through `k`, the kernel that returned it.
    pub(crate) fn close<K: Kernel + ?Sized>(self, k: &K) -> Result<(), Errno> {
        // SAFETY: `self` owns the descriptor (from a `KernelFd`) and is consumed.
        unsafe { close_retrying(k, self.0) }
    }
}

/// An owned pidfd: a [`KernelFd`] or a [`Kept`].
#[cfg(host_linux)]
pub(crate) trait Pidfd {
    /// The number, borrowed for one call.
    fn raw(&self) -> RawFd;
}

#[cfg(host_linux)]
impl<K: Kernel + ?Sized> Pidfd for KernelFd<'_, K> {
    fn raw(&self) -> RawFd {
        self.fd
    }
}

#[cfg(host_linux)]
impl Pidfd for Kept {
    fn raw(&self) -> RawFd {
        self.0
    }
}

#[cfg(all(test, host_linux))]
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
