//! Neutrino kernel-call trap stubs for aarch64 (QNX 7.0, 7.1, 8.0), and the TLS read behind `getpid`.
//!
//! # ABI
//!
//! L70A is the disassembly of QNX SDP 7.0's own `libc.so.4` for aarch64 (`qnx-abi.md` §9.1). Where a row
//! rests on it alone, 7.1 and 8.0 are INFERRED the same (no binary of theirs has been seen).
//!
//! | item | aarch64 Neutrino | source (`qnx-abi.md`) | status |
//! |---|---|---|---|
//! | trap | `svc #0x51` (0xd4000a21), the only `svc` in libc | §9.1 (L70A), §4.2 (libc `MsgSendsv_r` quoted by LUW, SDP 7.1 or 8.0; the 7.1 startup `KERCALL_SEQUENCE`, BSP71) | CONFIRMED |
//! | call-number register | `w8`, loaded with `mov w8, #nr` | §9.1 (L70A), §4.2 (LUW) | CONFIRMED |
//! | argument registers | `x0`..`x5`, in C prototype order, untouched by the stub | §9.1 (L70A: `MsgSendnc_r` negates `x2` and `x4`, its 3rd and 5th arguments), §4.2 (LUW) | CONFIRMED |
//! | result | `x0` | §9.1 (L70A), §4.2 | CONFIRMED |
//! | error signal | the kernel resumes 4 bytes after the `svc`, skipping the success `ret`, with the positive errno in `x0` | §9.1 (L70A: `ConnectAttach_r` is `svc #0x51; ret; neg x0, x0; ret`, `ConnectAttach` is `svc #0x51; ret; b __ker_err`), §4.1 (6.x ARM `KERERR_SKIPAHEAD` = 4) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | width of the result on error | errno written to all of `x0` or only `w0` | §9.1 (`__ker_err` stores `w0`) | libc reads only `w0`; `encode::int_result` reads the low 32 bits, correct either way |
//! | `getpid` | no kernel call: the thread's TLS block is at `TPIDRRO_EL0` (writable only by the kernel), the pid at offset 0x20 | §9.1 (L70A `getpid`: `mrs x0, TPIDRRO_EL0; ldr w0, [x0, #0x20]`), §5 (7.1 and 8.0 `storage.h`: pid at 32) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | plain-buffer lengths of `MsgSend[nc]` | negated (negative part count = one buffer of that many bytes) | §9.1 (L70A `MsgSendnc_r`: `neg x2, x2; neg x4, x4`), §4.3 (6.x `mkkercalls` table and kernel) | CONFIRMED |
//! | registers the kernel preserves | not documented | §4.2, §9.2 | unknown; each stub is an ordinary out-of-line C function, so every caller-saved register (`x0`..`x18`, `v0`..`v7`, `v16`..`v31`, flags) is clobbered in the caller's eyes, as for libc's own stubs |
//!
//! # Shape
//!
//! Each call is one out-of-line leaf function, instruction for instruction libc's "NEGATIVE" `_r` stub for
//! the same call (§9.1):
//!
//! ```text
//! [neg x2, x2; neg x4, x4]     MsgSend / MsgSendnc only: plain buffers, not iov arrays
//! mov  w8, #nr
//! svc  #0x51
//! ret                          success: x0 is the result
//! neg  x0, x0                  error: the kernel resumed here with x0 = errno
//! ret                          ... and the caller gets -errno
//! ```
//!
//! `ConnectDetach` and `ChannelDestroy` keep this shape although libc's `_r` variants of those two return
//! the positive errno (`svc #0x51; ret; ret`, §9.1): with `neg`, a kernel that resumed at the wrong offset
//! would hand `self_test`'s `ConnectDetach(-1)` a positive value, which it reports, and every stub's
//! result is decoded the same way.
//!
//! A stub never touches the stack or memory, so it is sound to call with any argument values; what the
//! *kernel* does with pointer arguments is the caller's contract (see `raw.rs`). Each stub sits in its own
//! section, so the linker drops the ones a program does not use. `.ci/stubcheck.py` disassembles the built
//! library and compares every stub with libc's instruction sequence for the same call.

#[path = "stubs.rs"]
mod stubs;
pub(in crate::sys::nto) use stubs::stub_symbol;
use stubs::trap_stubs;

// The instructions of the shape above: only `MsgSend[nc]` has any before the call-number load. The Rust
// declarations (`raw.rs`) name only the arguments each call takes, so callers do not spend instructions
// zeroing registers the kernel never reads (the stub is the same whatever they hold, as libc's are).
// `stubs::trap_stubs!` writes the section, symbol and size around them for every call in its list.
trap_stubs! {
    align = 2,
    options(),
    short = [],
    long = [],
    send = ["neg x2, x2", "neg x4, x4"],
    trap = ["mov w8, #{nr}", "svc #0x51", "ret", "neg x0, x0", "ret"],
}

/// The calling thread's process id, read from its TLS block as libc's `getpid()` does: no kernel call.
///
/// The thread's `_thread_local_storage` holds the process id: the 6.x kernel writes it into the block of
/// every thread it starts (CONFIRMED in its source); that 7.x/8.0 do the same, and that a `fork()`ed
/// child's block holds the child's pid, is INFERRED from libc's `getpid()` reading nothing else.
#[inline(always)]
pub(in crate::sys::nto) fn tls_pid() -> i32 {
    let pid: u64;
    // SAFETY: on Neutrino aarch64 `TPIDRRO_EL0`, which only the kernel can write, points to the calling
    // thread's TLS block, alive as long as the thread; the pid is the aligned `int` at offset 0x20 in it
    // (§9.1: libc's `getpid` is these two instructions). The load reads memory valid for the whole thread;
    // no register but the output is touched, and nothing is written.
    unsafe {
        core::arch::asm!(
            "mrs {p}, TPIDRRO_EL0",
            "ldr {p:w}, [{p}, #0x20]",
            p = out(reg) pid,
            options(nostack, preserves_flags, readonly, pure),
        );
    }
    pid as u32 as i32
}
