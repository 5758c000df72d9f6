//! Kernel calls: the only layer with `asm!`, raw FFI and `unsafe`.
//!
//! # The contract
//!
//! Every backend module exposes the same items, mio style, so the layers above never name a platform:
//!
//! - `DefaultKernel`: a zero-sized type implementing the backend's kernel-call trait, used by the
//!   public API;
//! - `close(fd)`: what `close()` does, used by the core-only [`OwnedFd`](crate::fd::OwnedFd)'s `Drop`
//!   and by [`qnx_fdpass::close`](crate::close): on Neutrino libc's sequence retried while interrupted,
//!   on Linux one `close(2)` (never retried: Linux releases the descriptor even when it reports `EINTR`);
//! - `getpid()`: the calling process's pid; cannot fail (on Neutrino a TLS read, on Linux a system
//!   call that always succeeds), so there is no sentinel value and no `Result`.
//!
//! Each backend has its own kernel-call trait, mio style:
//! [`NeutrinoKernel`](crate::sys::NeutrinoKernel) (`ConnectAttach`, `MsgSendnc`, `dupfd_register`,
//! ...) and [`LinuxKernel`](crate::sys::LinuxKernel) (`pidfd_open`, `pidfd_getfd`, ...), both extending
//! [`Kernel`](crate::sys::Kernel) (`close`, `getpid`). None has provided methods: an implementation, a test double
//! included, that lacks a call does not compile. Both traits are declared on every target: the logic
//! written on top of them (ticket issue and redeem, batches, cleanup order) is pure and is unit-tested on
//! the host against a double, the Neutrino logic included. What a call returns as a new descriptor is
//! owned at once by a `KernelFd` (`kernel_fd.rs`), which closes it through the same kernel when dropped.
//!
//! # Soundness
//!
//! The traits are `unsafe` to implement: each descriptor number a method returns is a new descriptor of
//! this process that the caller now owns and that nothing else closes, and the crate turns it into an
//! [`OwnedFd`](crate::fd::OwnedFd). A safe implementation could otherwise return `1` and have a redeem
//! hand out standard output as an `OwnedFd`. The methods that close or use a descriptor number of this
//! process (`close`, `ConnectDetach`, `MsgSend`, `pidfd_getfd`, ...) are `unsafe fn`s: the caller promises
//! that it owns (or borrows, for the call) the descriptor. The layers above call them only through the
//! crate-private wrappers in `kernel_fd.rs`, which take a descriptor the API borrowed or a `KernelFd`.
//!
//! The traits are public only with the `kernel-seams` feature, which stays a Cargo feature: soundness
//! comes from `unsafe`, not from hiding (any crate in a dependency graph can switch a feature on for all
//! the others, so hiding alone would not make the seams sound), and a `--cfg` would need `RUSTFLAGS` in
//! every build of this repository (tests, the Neutrino 6.4 payload, fuzzing, benches) and lose the self
//! dev-dependency that enables the feature for the crate's own tests. The feature is **not covered by
//! semver**.
//!
//! # Selection
//!
//! The build script names the target's platform once, as a cfg, and this module picks the backend by it:
//!
//! | cfg (build.rs) | backend |
//! |---|---|
//! | `neutrino` (QNX 7.x, 8.0; 6.x runs the 7.0 x86 build) | `nto`: raw kernel calls, or the QNX C library with the `libc-calls` feature |
//! | `host_linux` | `host`: `pidfd_open` + `pidfd_getfd` through `rustix` |
//!
//! Any other target builds the wire layer and the pure logic only.
//!
//! # Safety
//!
//! Each `unsafe` block in this module tree carries a `// SAFETY:` comment naming what makes it sound.

use crate::errno::Errno;
use crate::fd::RawFd;
use crate::wire::{Access, MsgInfo64, MsgInfoHdr};

/// `DUPFD_NO_DISCARD`, the one `dupfd_register()` flag: when the process already has the maximum number
/// of unredeemed registrations (200), fail with `EAGAIN` instead of silently replacing the oldest.
/// CONFIRMED: value 0x1 in the SDP 8.0 `<sys/dupfd.h>`; the limit, the replacement and the `EAGAIN` in the
/// 8.0 `dupfd_register()` documentation (qnx-abi.md §9.4).
pub const DUPFD_NO_DISCARD: u32 = 0x1;

/// What the kernel records for a registered QNX 8.0 `dupfd` handle ([`NeutrinoKernel::dupfd_getinfo`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DupfdRecord {
    /// `*peerpidp`: the other party of the registration. INFERRED to be the registering process (the
    /// sender) when the receiver asks; the documentation page was not available here.
    pub peer: i64,
    /// `*srvpidp`: the pid of the server whose connection was registered.
    pub server: i32,
    /// `*infop`: the registered connection's header (which form is UNKNOWN; not compared).
    pub info: MsgInfoHdr,
}

/// The core-only descriptor types (`crate::fd` re-exports std's instead with the `std` feature).
#[cfg(not(feature = "std"))]
pub(crate) mod fd;
// The Neutrino backend's pure parts are compiled on every target and tested on the host; its kernel
// calls (`nto::Raw`, `nto::Libc`) exist on Neutrino only.
#[cfg_attr(not(neutrino), allow(dead_code))]
pub mod nto;

#[cfg(host_linux)]
pub mod host;

// The one backend choice.
#[cfg(host_linux)]
pub(crate) use host::{close, getpid, DefaultKernel};
#[cfg(neutrino)]
pub(crate) use nto::{close, getpid, DefaultKernel};
/// The kernel-call trait of the target's backend, which the public API is generic over.
#[cfg(host_linux)]
pub(crate) use LinuxKernel as PlatformKernel;
/// The kernel-call trait of the target's backend, which the public API is generic over.
#[cfg(neutrino)]
pub(crate) use NeutrinoKernel as PlatformKernel;

#[cfg(any(test, feature = "kernel-seams"))]
mod fail_at;
#[cfg(any(test, feature = "kernel-seams"))]
pub use fail_at::FailAt;
mod kernel_fd;
#[cfg(any(test, doc))]
pub(crate) use kernel_fd::KernelFd;
#[cfg(host_linux)]
pub(crate) use kernel_fd::{access_mode, pidfd_getfd, pidfd_open, reopen, Kept};
pub(crate) use kernel_fd::{connect_attach, dupfd, dupfd_register_with, server_info, Owned};

/// What every backend answers: closing a descriptor and the calling process's pid. The backends' own
/// traits, [`NeutrinoKernel`] and [`LinuxKernel`], extend it.
///
/// # Safety
///
/// An implementation must close in [`close`](Kernel::close) only the descriptor it is given, and its
/// backend trait's methods that return a descriptor number must return a new descriptor of this
/// process that the caller then owns and that nothing else closes (the crate wraps it in an owning
/// `OwnedFd`).
pub unsafe trait Kernel {
    /// What `close()` does, once, returning its answer. On Neutrino libc's sequence for a connection
    /// (qnx-abi.md §9.5): `_IO_CLOSE` to the server with `MsgSend`, then `ConnectDetach` **only if that
    /// send was not interrupted**; after `EINTR` the descriptor is still open (and still bound in the
    /// server), so the caller may call `close` again. On Linux one `close(2)`, which releases the
    /// descriptor even when it reports `EINTR`.
    ///
    /// # Safety
    ///
    /// `fd` is a descriptor the caller owns and does not use again once it is closed (after `EINTR` on
    /// Neutrino it is still open and still the caller's), or a number that names no descriptor.
    unsafe fn close(&self, fd: RawFd) -> Result<(), Errno>;

    /// How many times the crate calls [`close`](Kernel::close) while it answers `EINTR`
    /// (`close_retrying`): `nto::close::CLOSE_ATTEMPTS` on Neutrino, where an interrupted close leaves
    /// the descriptor open; 1 on Linux, where a second close could close a descriptor another thread
    /// has just been given.
    fn close_attempts(&self) -> usize;

    /// The calling process's pid.
    fn getpid(&self) -> Result<i32, Errno>;
}

/// The Neutrino kernel calls under the ticket logic (`pass/nto.rs`): implemented by `nto::Raw` (traps,
/// no C library) and `nto::Libc` (the QNX C library's entry points) on Neutrino, by the unit tests'
/// recording double on every target, and by [`FailAt`] over any of them.
///
/// Every method maps to one C entry point named in its doc alias and returns the kernel's errno on
/// failure. A backend without a call (QNX 7.x has no `dupfd`) answers `ENOSYS` itself.
///
/// # Safety
///
/// As [`Kernel`]: [`connect_attach`](NeutrinoKernel::connect_attach) and
/// [`dupfd`](NeutrinoKernel::dupfd) return a new connection of this process that the caller owns, and
/// nothing else closes it.
pub unsafe trait NeutrinoKernel: Kernel {
    /// `ConnectAttach(nd, pid, chid, index, flags)`: a new connection to a channel; returns its coid.
    #[doc(alias = "ConnectAttach")]
    fn connect_attach(
        &self,
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    ) -> Result<i32, Errno>;

    /// `ConnectDetach(coid)`: drops a connection without telling the server.
    ///
    /// # Safety
    ///
    /// `coid` is a connection the caller owns and does not use again, or a number that names none.
    #[doc(alias = "ConnectDetach")]
    unsafe fn connect_detach(&self, coid: i32) -> Result<(), Errno>;

    /// `ConnectServerInfo(pid, coid, &info)` into a zeroed 64-byte [`MsgInfo64`]. Fails with `EBADF` when
    /// `coid` does not exist (the kernel answers with the next higher coid; this wrapper checks).
    ///
    /// # Safety
    ///
    /// With `pid` 0 (this process), `coid` is a connection the caller owns or borrows for the call, or
    /// a number that names none.
    #[doc(alias = "ConnectServerInfo")]
    unsafe fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno>;

    /// `ConnectFlags(pid, coid, mask, bits)`: changes connection flags; returns the previous flags.
    ///
    /// # Safety
    ///
    /// With `pid` 0 (this process), `coid` is a connection the caller owns, or a number that names none.
    #[doc(alias = "ConnectFlags")]
    unsafe fn connect_flags(&self, pid: i32, coid: i32, mask: u32, bits: u32)
        -> Result<u32, Errno>;

    /// `MsgSendnc(coid, smsg, rmsg)`: sends without being a cancellation point; returns the reply status.
    ///
    /// # Safety
    ///
    /// `coid` is a connection the caller owns or borrows for the call, or a number that names none.
    #[doc(alias = "MsgSendnc")]
    unsafe fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno>;

    /// `MsgSend(coid, smsg, rmsg)`: the same, as a cancellation point.
    ///
    /// # Safety
    ///
    /// As [`msg_sendnc`](NeutrinoKernel::msg_sendnc).
    #[doc(alias = "MsgSend")]
    unsafe fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno>;

    /// `TimerTimeout(clock, flags, NULL, &nanos, NULL)`: arms a relative timeout of `nanos` on `clock`
    /// for the calling thread's next kernel call that blocks in one of the states `flags` names
    /// (`_NTO_TIMEOUT_*`); with no event the kernel unblocks the call with `ETIMEDOUT`. Returns the
    /// previous timeout flags. A bounded redeem arms `_NTO_TIMEOUT_SEND | _NTO_TIMEOUT_REPLY` right before
    /// its `_IO_DUP` / `_IO_OPENFD` send, with no call in between (qnx-abi.md §9.6).
    #[doc(alias = "TimerTimeout")]
    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno>;

    /// QNX 8.0 `dupfd_register(dstpid, fd, flags, &handle)`: a single-use handle that lets process
    /// `dstpid` duplicate `fd`. Fails with `ENOSYS` on QNX 7.x, where no such call exists.
    ///
    /// `flags` is 0 or [`DUPFD_NO_DISCARD`]. Ticket issue always passes [`DUPFD_NO_DISCARD`]: without it,
    /// once a process has 200 unredeemed registrations the kernel silently replaces the oldest, and that
    /// ticket's receiver fails much later with an error that names nothing (qnx-abi.md §9.4).
    ///
    /// # Safety
    ///
    /// `fd` is a descriptor the caller owns or borrows for the call, or a number that names none.
    #[doc(alias = "ConnectDupFd")]
    unsafe fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno>;

    /// [`NeutrinoKernel::dupfd_register`] for a caller that already holds `fd`'s
    /// [`connect_server_info`](NeutrinoKernel::connect_server_info) answer, `server` (ticket issue
    /// does), so an implementation that needs it does not ask the kernel a second time. `server` must be
    /// that answer for this `fd`: the raw backend registers the connection it names, and refuses with
    /// `EINVAL` one whose `coid` is not `fd`; the C library's ignores it.
    ///
    /// # Safety
    ///
    /// As [`dupfd_register`](NeutrinoKernel::dupfd_register).
    unsafe fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno>;

    /// QNX 8.0 `dupfd_unregister(handle)`: withdraws a handle [`NeutrinoKernel::dupfd_register`]
    /// returned and nobody redeemed, so the registration stops counting against the process's 200 and
    /// the ticket can no longer be redeemed. `ENOENT` for a handle that is not (or no longer) registered;
    /// `ENOSYS` on QNX 7.x (no handles).
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno>;

    /// `true` when this implementation redeems QNX 8.0 dup tickets with the documented
    /// [`NeutrinoKernel::dupfd`] instead of a hand-built `_IO_DUP` (the QNX C library on 8.0).
    fn has_dupfd(&self) -> bool;

    /// QNX 8.0 `dupfd(handle, flags)`: the receiver's documented half of `dupfd_register`: a new
    /// descriptor for the one registered under `handle` for this process; `flags` are `ConnectAttach`
    /// flags. Errors: `ENOENT`/`EBADF` (handle invalid, the descriptor was closed), `EMFILE`, `ENOSYS`
    /// (the server does not support dup; QNX 7.x) (qnx-abi.md §9.4).
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno>;

    /// QNX 8.0 `dupfd_getinfo(handle, &peer, &srvpid, &info)`: the kernel's own record of a registered
    /// handle, which a redeem compares with what the ticket claims. Through the C library
    /// this is documented API; raw, it is `ConnectDupFd(_NTO_DUPFD_LOOKUP, ...)` and, like the raw
    /// registration, only with the `raw-dupfd` feature (ABI-UNVERIFIED, open question 6). `ENOSYS` on
    /// QNX 7.x and raw without `raw-dupfd`.
    fn dupfd_getinfo(&self, handle: u64) -> Result<DupfdRecord, Errno>;
}

/// The Linux host's system calls under the ticket logic (`pass/host.rs`): implemented by `host::Linux`
/// (through `rustix`), by the tests' doubles and by [`FailAt`] over any of them. Every method returns
/// the errno in QNX numbering on failure.
///
/// # Safety
///
/// As [`Kernel`]: [`pidfd_open`](LinuxKernel::pidfd_open), [`pidfd_getfd`](LinuxKernel::pidfd_getfd)
/// and [`reopen`](LinuxKernel::reopen) return a new descriptor of this process that the caller owns,
/// and nothing else closes it.
pub unsafe trait LinuxKernel: Kernel {
    /// `pidfd_open(pid, 0)`: a descriptor that pins process `pid`.
    fn pidfd_open(&self, pid: i32) -> Result<RawFd, Errno>;

    /// `pidfd_getfd(pidfd, fd, 0)`: a duplicate of descriptor `fd` of that process, close-on-exec.
    ///
    /// # Safety
    ///
    /// `pidfd` is a descriptor the caller owns or borrows for the call (`fd` is the other process's
    /// number, not one of ours).
    unsafe fn pidfd_getfd(&self, pidfd: RawFd, fd: RawFd) -> Result<RawFd, Errno>;

    /// The access mode of one of our descriptors (`fcntl(F_GETFL)`).
    ///
    /// # Safety
    ///
    /// `fd` is a descriptor the caller owns or borrows for the call.
    unsafe fn access_mode(&self, fd: RawFd) -> Result<Access, Errno>;

    /// A new open of the file behind our descriptor `fd` (`/proc/self/fd/<fd>`), close-on-exec.
    ///
    /// # Safety
    ///
    /// `fd` is a descriptor the caller owns or borrows for the call.
    unsafe fn reopen(&self, fd: RawFd, access: Access) -> Result<RawFd, Errno>;

    /// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, clock ticks since boot).
    fn start_time(&self, pid: i32) -> Result<u64, Errno>;
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
///
/// # Safety
///
/// As [`Kernel::close`]: `fd` is a descriptor the caller owns and does not use again.
pub(crate) unsafe fn close_retrying<K: Kernel + ?Sized>(k: &K, fd: RawFd) -> Result<(), Errno> {
    // SAFETY: the caller owns `fd`; after `EINTR` it is still open and still the caller's (Neutrino), or
    // the kernel allows one attempt only (Linux: `close_attempts` is 1).
    let mut result = unsafe { k.close(fd) };
    let mut attempts = 1;
    while result == Err(Errno::INTR) && attempts < k.close_attempts() {
        // SAFETY: as above.
        result = unsafe { k.close(fd) };
        attempts += 1;
    }
    result
}
