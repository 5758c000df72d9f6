//! The QNX Neutrino backend: kernel calls by raw trap, or through the QNX C library.
//!
//! Two implementations of [`Kernel`](crate::sys::Kernel) live here:
//!
//! - `Raw` traps into the kernel directly through the out-of-line stubs in `arch/` (one file per
//!   architecture, the only files with `asm!`), shaped instruction for instruction like the C library's own
//!   `_r` stubs, and reads the pid from the thread's TLS block as the C library's `getpid()` does. It
//!   needs no C library and no `errno`, so the crate can live in processes where every instruction is
//!   accounted for.
//! - `Libc` (cargo feature `libc-calls`) calls the QNX C library's entry points (`ConnectAttach`,
//!   `MsgSendnc`, `dupfd_register`, ...). It is the reference the raw path is compared against on a real
//!   image, and the fallback if a raw-ABI assumption turns out wrong.
//!
//! `DefaultKernel` is the one the rest of the crate uses. **The switch is the `libc-calls` feature**: off
//! (the default) selects `Raw`, on selects `Libc`. Both are zero-sized.
//!
//! Which parts of the raw ABI are CONFIRMED (from QNX's own libc, disassembled), which are INFERRED the
//! same for versions whose binaries are unseen (7.1, 8.0; 7.0 on 32-bit x86), and which are unknown is
//! tabled at the top of each arch file; `self_test` is the run-time probe for them.
//!
//! QNX version differences handled here: `ConnectDupFd` (kernel call 44, `dupfd_register`) exists only on
//! 8.0 (cfg `qnx_v8`, set by the build script for `target_env = "nto80"` and `target_os = "qnx"`); on
//! 7.x [`Kernel::dupfd_register`](crate::sys::Kernel::dupfd_register) fails with `ENOSYS`. On 8.0 `Libc`
//! registers and redeems through the documented `dupfd_register()`/`dupfd()`; `Raw` registers with the
//! raw call only when the `raw-dupfd` feature opts in (its argument directions are not public,
//! `docs/qnx-abi.md` §9.4), and answers `ENOSYS` otherwise.
//!
//! 32-bit x86 (`i686-pc-nto-qnx700`: QNX 7.0, whose binaries also run on 6.x kernels) differs in two
//! places. Kernel-call arguments travel on the stack (`arch/x86.rs`). And `ConnectServerInfo` fills the
//! 32-bit process's `_server_info`, the 48-byte `_msg_info32` (6.x `_msg_info`), not the 64-byte
//! `_msg_info64` of a 64-bit process: both backends pass a zeroed [`MsgInfo32`](crate::wire::MsgInfo32)
//! there and widen the answer (`MsgInfo32::widen`), so the rest of the crate sees one type.
//! Neither 6.x nor 7.0 has `dupfd`; 6.x has no abilities either (no `procmgr_ability()`): a 6.x server
//! accepts a dup from the same process, from root or a process with the owner's effective uid, or with a
//! `MsgKeyData` key.
//!
//! # Safety
//!
//! The `unsafe` blocks here call the trap stubs or C functions with arguments that satisfy the kernel
//! call's contract: integers are always acceptable (the kernel validates them), and every pointer comes
//! from a live Rust reference or slice of the size the call reads or writes. Each block says which.

#[cfg(all(
    any(target_os = "nto", target_os = "qnx"),
    not(any(target_arch = "aarch64", target_arch = "x86_64", target_arch = "x86"))
))]
compile_error!(
    "qnx-fdpass: the Neutrino kernel-call stubs exist for aarch64, x86_64 and 32-bit x86 only"
);

// The pure parts, compiled on every target so the host tests them (and runs them under Miri).
pub(crate) mod close;
#[cfg(test)]
pub(crate) mod double;
pub(crate) mod encode;
pub(crate) mod selftest;

// The kernel calls themselves, on Neutrino only.
#[cfg(any(target_os = "nto", target_os = "qnx"))]
#[cfg_attr(target_arch = "aarch64", path = "arch/aarch64.rs")]
#[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
#[cfg_attr(target_arch = "x86", path = "arch/x86.rs")]
mod arch;
#[cfg(all(any(target_os = "nto", target_os = "qnx"), feature = "libc-calls"))]
mod clib;
// Numbers only: compiled on every target, so the pure redeem sequence (pass/nto.rs) and the kernel
// double name the same timeout flags the Neutrino backends pass.
pub mod nr;
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub(crate) mod raw;

#[cfg(any(target_os = "nto", target_os = "qnx"))]
use crate::sys::Kernel;
#[cfg(all(any(target_os = "nto", target_os = "qnx"), target_pointer_width = "32"))]
use crate::wire::MsgInfo32;
#[cfg(any(target_os = "nto", target_os = "qnx"))]
use crate::wire::MsgInfo64;
#[cfg(any(target_os = "nto", target_os = "qnx"))]
use crate::Errno;

/// The `_server_info` the kernel writes for this process (§1.2): `_msg_info64` (64 bytes) in a 64-bit
/// process.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), target_pointer_width = "64"))]
type ServerInfo = MsgInfo64;
/// The `_server_info` the kernel writes for this process (§1.1, §1.2): `_msg_info32` (48 bytes, the 6.x
/// `_msg_info`) in a 32-bit process.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), target_pointer_width = "32"))]
type ServerInfo = MsgInfo32;

/// A [`ServerInfo`] as the [`MsgInfo64`] the [`Kernel`] trait returns: itself in a 64-bit process.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), target_pointer_width = "64"))]
const fn server_info64(info: ServerInfo) -> MsgInfo64 {
    info
}
/// A [`ServerInfo`] as the [`MsgInfo64`] the [`Kernel`] trait returns: widened field by field in a 32-bit
/// process.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), target_pointer_width = "32"))]
const fn server_info64(info: ServerInfo) -> MsgInfo64 {
    info.widen()
}

#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub use selftest::{SelfTestError, SelfTestReport};

/// Kernel calls by raw trap (`svc #0x51` on aarch64, `syscall` on x86_64, `int $0x28` on 32-bit x86),
/// without the C library.
///
/// See the arch files for the calling convention, and which parts of it are CONFIRMED or INFERRED.
#[cfg(any(target_os = "nto", target_os = "qnx"))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Raw;

/// Kernel calls through the QNX C library's entry points (`ConnectAttach`, `MsgSendnc`, ...), with
/// `errno` read through `__get_errno_ptr()`.
///
/// Only with the `libc-calls` feature; linking needs the QNX C library (`qcc`).
#[cfg(all(any(target_os = "nto", target_os = "qnx"), feature = "libc-calls"))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Libc;

/// The backend the crate uses: [`Raw`] by default, `Libc` with the `libc-calls` feature.
///
/// A type alias, like the host backend's: construct it with `DefaultKernel::default()`.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), not(feature = "libc-calls")))]
pub type DefaultKernel = Raw;
/// The backend the crate uses: `Raw` by default, [`Libc`] with the `libc-calls` feature.
///
/// A type alias, like the host backend's: construct it with `DefaultKernel::default()`.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), feature = "libc-calls"))]
pub type DefaultKernel = Libc;

/// What `close()` does for a descriptor, through [`DefaultKernel`], retried while interrupted
/// (`sys::close_retrying`, qnx-abi.md §9.5).
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub(crate) fn close(fd: i32) -> Result<(), Errno> {
    crate::sys::close_retrying(&DefaultKernel::default(), fd)
}

#[cfg(all(any(target_os = "nto", target_os = "qnx"), feature = "libc-calls"))]
pub(crate) use clib::getpid;
/// The calling process's pid, the way [`DefaultKernel`] reads it: from the thread's TLS block (raw), or
/// the C library's `getpid()`, which reads the same. Neither can fail.
#[cfg(all(any(target_os = "nto", target_os = "qnx"), not(feature = "libc-calls")))]
pub(crate) use raw::getpid;

/// Checks, on a running Neutrino system, that kernel calls through [`DefaultKernel`] come back the way
/// this crate assumes.
///
/// This is the run-time half of the ABI verification (the build-time half is the machine-code check in
/// CI, which compares every stub with the C library's). It probes what the arch files mark INFERRED for
/// the version it runs on:
///
/// 1. `ConnectDetach(-1)` must fail with `EINVAL`, so the error path of the trap stub is taken and the
///    errno arrives intact (a wrong resume offset after the trap would report success or garbage);
/// 2. `ConnectAttach(0, SYSMGR_PID, SYSMGR_CHID, _NTO_SIDE_CHANNEL, 0)` must return a side-channel coid,
///    `ConnectServerInfo` on it must name pid 1 and chid 1 (so the arguments arrive in order and the
///    `_server_info` is written where expected), and `ConnectDetach` must release it;
/// 3. `getpid` (the TLS block) must return a plausible pid (above 1);
/// 4. the kernel must name the same process: `ChannelCreate(_NTO_CHF_PRIVATE)`, `ConnectAttach` with pid
///    0 (ourselves) and `ConnectServerInfo` on that connection, then both released.
///
/// Test programs run it once with each backend ([`self_test_with`]) and compare the reports.
///
/// # Errors
///
/// The first check that failed, saying what was seen.
///
/// # Examples
///
/// ```no_run
/// let report = qnx_fdpass::sys::nto::self_test().expect("raw kernel-call ABI");
/// assert_eq!(report.detach_errno, qnx_fdpass::Errno::INVAL);
/// ```
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub fn self_test() -> Result<SelfTestReport, SelfTestError> {
    self_test_with(&DefaultKernel::default())
}

/// [`self_test`] against a chosen kernel, e.g. [`Raw`] and `Libc` in turn. Step 4's private channel is
/// created and destroyed through [`DefaultKernel`]; every other call goes through `kernel`.
///
/// # Errors
///
/// The first check that failed, saying what was seen.
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub fn self_test_with<K: Kernel + ?Sized>(kernel: &K) -> Result<SelfTestReport, SelfTestError> {
    selftest::self_test_with(kernel, &DefaultKernel::default())
}
