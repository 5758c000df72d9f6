//! Kernel calls: the only layer with `asm!`, raw FFI and `unsafe`.
//!
//! # The contract
//!
//! Every backend module exposes the same items, mio style, so the layers above never name a platform:
//!
//! - `DefaultKernel`: a zero-sized type implementing [`Kernel`](crate::sys::Kernel), used by the public
//!   API;
//! - `close(fd)`: what `close()` does, used by the core-only [`OwnedFd`](crate::OwnedFd)'s `Drop` and by
//!   [`qnx_fdpass::close`](crate::close): on Neutrino libc's sequence retried while interrupted, on Linux
//!   one `close(2)` (never retried: Linux releases the descriptor even when it reports `EINTR`);
//! - `getpid()`: the calling process's pid; cannot fail (on Neutrino a TLS read, on Linux a system
//!   call that always succeeds), so there is no sentinel value and no `Result`.
//!
//! The kernel-call trait, [`Kernel`](crate::sys::Kernel), is declared once, here, for every backend
//! and every target: the logic written on top of it (ticket issue and redeem, batches, cleanup order)
//! is pure and is unit-tested on the host against a test double, the Neutrino logic included. Its real
//! Neutrino implementations, raw traps and the libc-routed twin, exist only on Neutrino. What a call
//! returns as a new descriptor is owned at once by a `KernelFd` (`kernel_fd.rs`), which closes it
//! through the same kernel when dropped.
//!
//! # Selection
//!
//! The target picks the backend, in this one place:
//!
//! | target | backend |
//! |---|---|
//! | `target_os = "nto"` (QNX 7.x, and 8.0 on older toolchains) or `target_os = "qnx"` (8.0 on newer ones) | `nto`: raw kernel calls, or the QNX C library with the `libc-calls` feature |
//! | `target_os = "linux"` | `host`: `pidfd_open` + `pidfd_getfd` through `rustix` |
//!
//! Any other target builds the wire layer and the pure logic only.
//!
//! # Safety
//!
//! Each `unsafe` block in this module tree carries a `// SAFETY:` comment naming what makes it sound.

use crate::fd::RawFd;
use crate::wire::MsgInfo64;
use crate::Access;
use crate::Errno;

/// `DUPFD_NO_DISCARD`, the one `dupfd_register()` flag: when the process already has the maximum number
/// of unredeemed registrations (200), fail with `EAGAIN` instead of silently replacing the oldest.
/// CONFIRMED: value 0x1 in the SDP 8.0 `<sys/dupfd.h>`; the limit, the replacement and the `EAGAIN` in the
/// 8.0 `dupfd_register()` documentation (qnx-abi.md §9.4).
pub const DUPFD_NO_DISCARD: u32 = 0x1;

/// The core-only descriptor types (`crate::fd` re-exports std's instead with the `std` feature).
#[cfg(not(feature = "std"))]
pub(crate) mod fd;
// Compiled on every target: its pure parts (argument encoding, the close and self-test sequences) are
// tested on the host; the kernel calls inside it exist on Neutrino only.
#[cfg_attr(not(any(target_os = "nto", target_os = "qnx")), allow(dead_code))]
pub mod nto;
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub(crate) use nto::{close, getpid, DefaultKernel};

#[cfg(target_os = "linux")]
pub mod host;
#[cfg(target_os = "linux")]
pub(crate) use host::{close, getpid, DefaultKernel};

#[cfg(any(test, feature = "kernel-seams"))]
mod fail_at;
#[cfg(any(test, feature = "kernel-seams"))]
pub use fail_at::FailAt;
mod kernel_fd;
#[cfg(any(test, doc))]
pub(crate) use kernel_fd::KernelFd;
pub(crate) use kernel_fd::{connect_attach, dupfd, Owned};
#[cfg(target_os = "linux")]
pub(crate) use kernel_fd::{pidfd_getfd, pidfd_open, reopen};

/// The kernel calls under the ticket logic: one trait for every backend, written once here, mio style.
///
/// Implemented by `nto::Raw` (traps, no C library) and `nto::Libc` (the QNX C library's entry points,
/// with the `libc-calls` feature) on Neutrino, and by `host::Linux` (through `rustix`) on the Linux
/// host; `DefaultKernel` is the one the target (and on Neutrino the feature) selects. [`FailAt`] wraps
/// any of them and fails a chosen call; the crate's own tests implement it with a recording double to
/// check the call sequence and cleanup order.
///
/// Every backend answers [`close`](Kernel::close), [`close_attempts`](Kernel::close_attempts) and
/// [`getpid`](Kernel::getpid). The other calls are one backend's: the Neutrino calls (`ConnectAttach`
/// ... `dupfd`) and the Linux host's (`pidfd_open` ... `start_time`); a backend without a call keeps its
/// default, which answers `ENOSYS`. Every method maps to one C entry point named in its doc alias and
/// returns the kernel's errno, in QNX numbering, on failure.
///
/// A descriptor a method returns (`connect_attach`, `dupfd`, `pidfd_open`, `pidfd_getfd`, `reopen`) is
/// a new descriptor of this process that the caller owns: the logic closes it through this same
/// implementation's [`close`](Kernel::close) when it drops it.
pub trait Kernel {
    // --- Every backend ---

    /// What `close()` does, once, returning its answer. On Neutrino libc's sequence for a connection
    /// (qnx-abi.md §9.5): `_IO_CLOSE` to the server with `MsgSend`, then `ConnectDetach` **only if that
    /// send was not interrupted**; after `EINTR` the descriptor is still open (and still bound in the
    /// server), so the caller may call `close` again. On Linux one `close(2)`, which releases the
    /// descriptor even when it reports `EINTR`.
    fn close(&self, fd: RawFd) -> Result<(), Errno>;

    /// How many times the crate calls [`close`](Kernel::close) while it answers `EINTR`
    /// (`close_retrying`): `nto::close::CLOSE_ATTEMPTS` on Neutrino, where an interrupted close leaves
    /// the descriptor open; 1 on Linux, where a second close could close a descriptor another thread
    /// has just been given.
    fn close_attempts(&self) -> usize;

    /// The calling process's pid.
    fn getpid(&self) -> Result<i32, Errno>;

    // --- Neutrino ---

    /// `ConnectAttach(nd, pid, chid, index, flags)`: a new connection to a channel; returns its coid.
    #[doc(alias = "ConnectAttach")]
    fn connect_attach(
        &self,
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    ) -> Result<i32, Errno> {
        let _ = (nd, pid, chid, index, flags);
        Err(Errno::NOSYS)
    }

    /// `ConnectDetach(coid)`: drops a connection without telling the server.
    #[doc(alias = "ConnectDetach")]
    fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        let _ = coid;
        Err(Errno::NOSYS)
    }

    /// `ConnectServerInfo(pid, coid, &info)` into a zeroed 64-byte [`MsgInfo64`]. Fails with `EBADF` when
    /// `coid` does not exist (the kernel answers with the next higher coid; this wrapper checks).
    #[doc(alias = "ConnectServerInfo")]
    fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        let _ = (pid, coid);
        Err(Errno::NOSYS)
    }

    /// `ConnectFlags(pid, coid, mask, bits)`: changes connection flags; returns the previous flags.
    #[doc(alias = "ConnectFlags")]
    fn connect_flags(&self, pid: i32, coid: i32, mask: u32, bits: u32) -> Result<u32, Errno> {
        let _ = (pid, coid, mask, bits);
        Err(Errno::NOSYS)
    }

    /// `MsgSendnc(coid, smsg, rmsg)`: sends without being a cancellation point; returns the reply status.
    #[doc(alias = "MsgSendnc")]
    fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        let _ = (coid, smsg, rmsg);
        Err(Errno::NOSYS)
    }

    /// `MsgSend(coid, smsg, rmsg)`: the same, as a cancellation point.
    #[doc(alias = "MsgSend")]
    fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        let _ = (coid, smsg, rmsg);
        Err(Errno::NOSYS)
    }

    /// `TimerTimeout(clock, flags, NULL, &nanos, NULL)`: arms a relative timeout of `nanos` on `clock`
    /// for the calling thread's next kernel call that blocks in one of the states `flags` names
    /// (`_NTO_TIMEOUT_*`); with no event the kernel unblocks the call with `ETIMEDOUT`. Returns the
    /// previous timeout flags. A bounded redeem arms `_NTO_TIMEOUT_SEND | _NTO_TIMEOUT_REPLY` right before
    /// its `_IO_DUP` / `_IO_OPENFD` send, with no call in between (qnx-abi.md §9.6).
    #[doc(alias = "TimerTimeout")]
    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
        let _ = (clock, flags, nanos);
        Err(Errno::NOSYS)
    }

    /// QNX 8.0 `dupfd_register(dstpid, fd, flags, &handle)`: a single-use handle that lets process
    /// `dstpid` duplicate `fd`. Fails with `ENOSYS` on QNX 7.x, where no such call exists.
    ///
    /// `flags` is 0 or [`DUPFD_NO_DISCARD`]. Ticket issue always passes [`DUPFD_NO_DISCARD`]: without it,
    /// once a process has 200 unredeemed registrations the kernel silently replaces the oldest, and that
    /// ticket's receiver fails much later with an error that names nothing (qnx-abi.md §9.4).
    #[doc(alias = "ConnectDupFd")]
    fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        let _ = (dstpid, fd, flags);
        Err(Errno::NOSYS)
    }

    /// [`Kernel::dupfd_register`] for a caller that already holds `fd`'s
    /// [`connect_server_info`](Kernel::connect_server_info) answer, `server` (ticket issue does), so an
    /// implementation that needs it does not ask the kernel a second time. `server` must be that
    /// answer for this `fd`: the raw backend registers the connection it names, and refuses with
    /// `EINVAL` one whose `coid` is not `fd`. The default ignores `server` and calls
    /// [`Kernel::dupfd_register`].
    fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno> {
        let _ = server;
        self.dupfd_register(dstpid, fd, flags)
    }

    /// QNX 8.0 `dupfd_unregister(handle)`: withdraws a handle [`Kernel::dupfd_register`] returned and
    /// nobody redeemed, so the registration stops counting against the process's 200 and the ticket can
    /// no longer be redeemed. `ENOENT` for a handle that is not (or no longer) registered.
    ///
    /// The default answers `ENOSYS` (QNX 7.x has no handles).
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        let _ = handle;
        Err(Errno::NOSYS)
    }

    /// `true` when this implementation redeems QNX 8.0 dup tickets with the documented
    /// [`Kernel::dupfd`] instead of a hand-built `_IO_DUP` (the QNX C library on 8.0). The default is
    /// `false`.
    fn has_dupfd(&self) -> bool {
        false
    }

    /// QNX 8.0 `dupfd(handle, flags)`: the receiver's documented half of `dupfd_register`: a new
    /// descriptor for the one registered under `handle` for this process; `flags` are `ConnectAttach`
    /// flags. Errors: `ENOENT`/`EBADF` (handle invalid, the descriptor was closed), `EMFILE`, `ENOSYS`
    /// (the server does not support dup) (qnx-abi.md §9.4). The default answers `ENOSYS`.
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        let _ = (handle, flags);
        Err(Errno::NOSYS)
    }

    // --- Linux host ---

    /// `pidfd_open(pid, 0)`: a descriptor that pins process `pid`.
    fn pidfd_open(&self, pid: i32) -> Result<RawFd, Errno> {
        let _ = pid;
        Err(Errno::NOSYS)
    }

    /// `pidfd_getfd(pidfd, fd, 0)`: a duplicate of descriptor `fd` of that process, close-on-exec.
    fn pidfd_getfd(&self, pidfd: RawFd, fd: RawFd) -> Result<RawFd, Errno> {
        let _ = (pidfd, fd);
        Err(Errno::NOSYS)
    }

    /// The access mode of one of our descriptors (`fcntl(F_GETFL)`).
    fn access_mode(&self, fd: RawFd) -> Result<Access, Errno> {
        let _ = fd;
        Err(Errno::NOSYS)
    }

    /// A new open of the file behind our descriptor `fd` (`/proc/self/fd/<fd>`), close-on-exec.
    fn reopen(&self, fd: RawFd, access: Access) -> Result<RawFd, Errno> {
        let _ = (fd, access);
        Err(Errno::NOSYS)
    }

    /// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, clock ticks since boot).
    fn start_time(&self, pid: i32) -> Result<u64, Errno> {
        let _ = pid;
        Err(Errno::NOSYS)
    }
}

/// [`Kernel::close`], repeated while it is interrupted, at most [`Kernel::close_attempts`] times: how
/// every descriptor the crate owns is closed (`OwnedFd`'s drop, `qnx_fdpass::close`, a
/// batch rolled back).
///
/// On Neutrino an interrupted `close()` leaves the descriptor open (libc does not detach after `EINTR`,
/// §9.5), so trying again is correct and cannot close a descriptor another thread has opened since.
///
/// # Errors
///
/// The last answer of `close`: `EINTR` after every attempt was interrupted, in which case on Neutrino
/// the descriptor stays open (leaked rather than detached behind the server's back).
pub(crate) fn close_retrying<K: Kernel + ?Sized>(k: &K, fd: RawFd) -> Result<(), Errno> {
    let mut result = k.close(fd);
    let mut attempts = 1;
    while result == Err(Errno::INTR) && attempts < k.close_attempts() {
        result = k.close(fd);
        attempts += 1;
    }
    result
}
