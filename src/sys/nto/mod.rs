//! The QNX Neutrino backend: kernel calls by raw trap, or through the QNX C library.
//!
//! Two implementations of [`NeutrinoKernel`](crate::sys::NeutrinoKernel) live here, on Neutrino only
//! (the `native` module, the one place this backend is conditional):
//!
//! - `Raw` traps into the kernel directly through the out-of-line stubs in `arch/` (written once by
//!   the `trap_stubs!` macro in `arch/stubs.rs`, with one instruction template per architecture file; the
//!   only files with `asm!`), shaped instruction for instruction like the C library's own
//!   `_r` stubs, and reads the pid from the thread's TLS block as the C library's `getpid()` does. It
//!   needs no C library and no `errno`, so the crate can live in processes where every instruction is
//!   accounted for.
//! - `Libc` (cargo feature `libc-calls`, and with `kernel-seams` for the Neutrino 6.4 payload's
//!   raw-vs-C-library comparison) calls the QNX C library's entry points (`ConnectAttach`,
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
//! 8.0 (cfg `qnx_v8`, which the build script sets for the 8.0 targets); on
//! 7.x [`NeutrinoKernel::dupfd_register`](crate::sys::NeutrinoKernel::dupfd_register) fails with `ENOSYS`. On 8.0 `Libc`
//! registers and redeems through the documented `dupfd_register()`/`dupfd()`; `Raw` registers with the
//! raw call only when the `raw-dupfd` feature opts in (its argument directions are not public,
//! `docs/qnx-abi.md` §9.4), and answers `ENOSYS` otherwise.
//!
//! The rest of this module is pure and compiled on every target, so the host tests it (and runs it
//! under Miri): the argument encoding (`encode`), libc's close sequence (`close`), the self-test's
//! sequence (`selftest`) and the unit tests' recording double (`double`).
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

// The pure parts, compiled on every target so the host tests them (and runs them under Miri).
pub(crate) mod close;
#[cfg(test)]
pub(crate) mod double;
pub(crate) mod encode;
pub(crate) mod selftest;

#[cfg(neutrino)]
pub use selftest::{SelfTestError, SelfTestReport};

// The kernel calls themselves, on Neutrino only: the kernel-call numbers, the trap stubs and their
// typed wrappers (`raw`), the C library's entry points (`clib`: the `libc-calls` switch, and with the
// seams for the 6.4 payload's raw-vs-C-library comparison), and the backends' types (`native`).
#[cfg(neutrino)]
#[cfg_attr(target_arch = "aarch64", path = "arch/aarch64.rs")]
#[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
#[cfg_attr(target_arch = "x86", path = "arch/x86.rs")]
mod arch;
#[cfg(all(neutrino, any(feature = "libc-calls", feature = "kernel-seams")))]
mod clib;
#[cfg(neutrino)]
mod native;
// Numbers only: compiled on every target, so the pure redeem sequence (pass/nto.rs) and the kernel
// double name the same timeout flags the Neutrino backends pass.
pub mod nr;
#[cfg(neutrino)]
pub(crate) mod raw;

#[cfg(all(neutrino, any(feature = "libc-calls", feature = "kernel-seams")))]
pub use native::Libc;
#[cfg(neutrino)]
pub(crate) use native::{close, getpid};
#[cfg(neutrino)]
pub use native::{self_test, self_test_with, DefaultKernel, Raw};
#[cfg(neutrino)]
use native::{server_info64, ServerInfo};
