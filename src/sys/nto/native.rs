//! The Neutrino backends' types and entry points, compiled on Neutrino only: [`Raw`] (its calls in
//! `raw.rs` over the trap stubs in `arch/`) and [`Libc`] (the QNX C library, `clib.rs`), the
//! [`DefaultKernel`] the feature selects, `close`, `getpid` and the self-test entry points. Everything
//! the host can test lives in the parent module's pure files.

#[cfg(not(any(target_arch = "aarch64", target_arch = "x86_64", target_arch = "x86")))]
compile_error!(
    "qnx-fdpass: the Neutrino kernel-call stubs exist for aarch64, x86_64 and 32-bit x86 only"
);

#[cfg(feature = "libc-calls")]
use super::clib;
#[cfg(not(feature = "libc-calls"))]
use super::raw;
use super::selftest::{self, SelfTestError, SelfTestReport};
use crate::sys::NeutrinoKernel;
#[cfg(target_pointer_width = "32")]
use crate::wire::MsgInfo32;
use crate::wire::MsgInfo64;

/// The `_server_info` the kernel writes for this process (§1.2): `_msg_info64` (64 bytes) in a 64-bit
/// process.
#[cfg(target_pointer_width = "64")]
pub(super) type ServerInfo = MsgInfo64;
/// The `_server_info` the kernel writes for this process (§1.1, §1.2): `_msg_info32` (48 bytes, the 6.x
/// `_msg_info`) in a 32-bit process.
#[cfg(target_pointer_width = "32")]
pub(super) type ServerInfo = MsgInfo32;

/// A [`ServerInfo`] as the [`MsgInfo64`] the kernel trait returns: itself in a 64-bit process.
#[cfg(target_pointer_width = "64")]
pub(super) const fn server_info64(info: ServerInfo) -> MsgInfo64 {
    info
}
/// A [`ServerInfo`] as the [`MsgInfo64`] the kernel trait returns: widened field by field in a 32-bit
/// process.
#[cfg(target_pointer_width = "32")]
pub(super) const fn server_info64(info: ServerInfo) -> MsgInfo64 {
    info.widen()
}

/// Kernel calls by raw trap (`svc #0x51` on aarch64, `syscall` on x86_64, `int $0x28` on 32-bit x86),
/// without the C library.
///
/// See the arch files for the calling convention, and which parts of it are CONFIRMED or INFERRED.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Raw;

/// Kernel calls through the QNX C library's entry points (`ConnectAttach`, `MsgSendnc`, ...), with
/// `errno` read through `__get_errno_ptr()`.
///
/// With the `libc-calls` feature (or `kernel-seams`, for the raw-vs-C-library comparison); linking
/// needs the QNX C library (`qcc`).
#[cfg(any(feature = "libc-calls", feature = "kernel-seams"))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Libc;

/// The backend the crate uses: [`Raw`] by default, `Libc` with the `libc-calls` feature.
///
/// A type alias, like the host backend's: construct it with `DefaultKernel::default()`.
#[cfg(not(feature = "libc-calls"))]
pub type DefaultKernel = Raw;
/// The backend the crate uses: `Raw` by default, [`Libc`] with the `libc-calls` feature.
///
/// A type alias, like the host backend's: construct it with `DefaultKernel::default()`.
#[cfg(feature = "libc-calls")]
pub type DefaultKernel = Libc;

/// What `close()` does for a descriptor, through [`DefaultKernel`], retried while interrupted
/// (`sys::close_retrying`, qnx-abi.md §9.5).
///
/// Crate-private: `fd` is a descriptor the caller owns and gives up (`OwnedFd`'s drop,
/// `qnx_fdpass::close`, which consume it).
pub(crate) fn close(fd: i32) -> Result<(), crate::errno::Errno> {
    // SAFETY: the caller owns `fd` and gives it up (see above).
    unsafe { crate::sys::close_retrying(&DefaultKernel::default(), fd) }
}

#[cfg(feature = "libc-calls")]
pub(crate) use clib::getpid;
/// The calling process's pid, the way [`DefaultKernel`] reads it: from the thread's TLS block (raw), or
/// the C library's `getpid()`, which reads the same. Neither can fail.
#[cfg(not(feature = "libc-calls"))]
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
pub fn self_test() -> Result<SelfTestReport, SelfTestError> {
    self_test_with(&DefaultKernel::default())
}

/// [`self_test`] against a chosen kernel, e.g. [`Raw`] and `Libc` in turn. Step 4's private channel is
/// created and destroyed through [`DefaultKernel`]; every other call goes through `kernel`.
///
/// # Errors
///
/// The first check that failed, saying what was seen.
pub fn self_test_with<K: NeutrinoKernel + ?Sized>(
    kernel: &K,
) -> Result<SelfTestReport, SelfTestError> {
    selftest::self_test_with(kernel, &DefaultKernel::default())
}
