//! Neutrino kernel-call trap stubs for x86_64 (QNX 7.0, 7.1, 8.0), and the TLS read behind `getpid`.
//!
//! # ABI
//!
//! L70X is the disassembly of QNX SDP 7.0's own `libc.so.4` for x86_64 (`qnx-abi.md` §9.2). No 7.1 or 8.0
//! x86_64 binary has been seen: for those versions every row is INFERRED the same as 7.0 (the kernel-call
//! numbers are CONFIRMED identical in their headers, §3).
//!
//! | item | x86_64 Neutrino | source (`qnx-abi.md`) | status |
//! |---|---|---|---|
//! | trap | `syscall` (0f 05) | §9.2 (L70X: every `_r` stub), §4.2 (LUW signal trampoline) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | call-number register | `eax`, loaded with `mov $nr, %eax` (zero-extends into `rax`) | §9.2 (L70X) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | argument registers | `rdi`, `rsi`, `rdx`, **`r10`**, `r8`, `r9`: the 4th is copied from `rcx` (`syscall` overwrites `rcx` and `r11`), only by stubs of calls with 4 or more arguments | §9.2 (L70X: `ConnectAttach_r` and `MsgSendnc_r` start `mov %rcx, %r10`, 3-argument `ConnectServerInfo_r` does not) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | result | `rax` | §9.2 (L70X) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | error signal | the kernel resumes 1 byte after the `syscall`, skipping the 1-byte `ret`, with the positive errno in `rax` | §9.2 (L70X: `syscall; ret; neg %rax; ret`), §4.1 (6.x x86 `KERERR_SKIPAHEAD` = 1) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | plain-buffer lengths of `MsgSend[nc]` | negated (`neg %rdx; neg %r8`: negative part count = one buffer of that many bytes) | §9.2 (L70X `MsgSendnc_r`), §4.3 | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same |
//! | registers the kernel preserves | not documented; `syscall` itself destroys `rcx` and `r11` | §9.2 ("still not shown") | unknown; each stub is an ordinary out-of-line C function, so `rax`, `rcx`, `rdx`, `rsi`, `rdi`, `r8`..`r11`, `xmm0`..`xmm15` and the flags are clobbered in the caller's eyes, as for libc's own stubs |
//! | `getpid` | no kernel call: the thread's TLS block pointer is at `%fs:0x38`, the pid at offset 0x20 in it | §9.2 (L70X `getpid`: `mov %fs:0x38, %rax; mov 0x20(%rax), %eax`), §5 (7.1 and 8.0 `storage.h`: pid at 32) | CONFIRMED (7.0); 7.1, 8.0 INFERRED-same (their `storage.h` keeps the offset; the `%fs:0x38` slot is not seen) |
//!
//! # Shape
//!
//! Each call is one out-of-line leaf function, instruction for instruction libc's "NEGATIVE" `_r` stub
//! for the same call:
//!
//! ```text
//! [mov  %rcx, %r10]            calls with 4 or more arguments: the 4th where the kernel reads it
//! [neg  %rdx; neg %r8]         MsgSend / MsgSendnc only: plain buffers, not iov arrays
//! mov  $nr, %eax
//! syscall
//! ret                          success: rax is the result
//! neg  %rax                    error: the kernel resumed here with rax = errno
//! ret                          ... and the caller gets -errno
//! ```
//!
//! `ConnectDetach` and `ChannelDestroy` keep this shape although libc's `_r` variants of those two return
//! the positive errno (`ret; ret` on aarch64 and x86, §9.1, §9.3): with `neg`, a kernel that resumed at
//! the wrong offset would hand `self_test`'s `ConnectDetach(-1)` a positive value, which it reports,
//! and every stub's result is decoded the same way.
//!
//! A stub never touches the stack or memory, so it is sound to call with any argument values; what the
//! *kernel* does with pointer arguments is the caller's contract (see `raw.rs`). Each stub sits in its own
//! section, so the linker drops the ones a program does not use. `.ci/stubcheck.py` disassembles the built
//! library and compares every stub with libc's instruction sequence for the same call.

#[path = "stubs.rs"]
mod stubs;
pub(in crate::sys::nto) use stubs::stub_symbol;
use stubs::trap_stubs;

// The instructions of the shape above. `short`: no 4th argument, nothing to move. The Rust declarations
// (`raw.rs`) name only the arguments each call takes, so callers do not spend instructions zeroing
// registers the kernel never reads (the stub is the same whatever they hold, as libc's are).
// `stubs::trap_stubs!` writes the section, symbol and size around them for every call in its list.
trap_stubs! {
    align = 4,
    options(att_syntax),
    short = [],
    long = ["mov %rcx, %r10"],
    send = ["mov %rcx, %r10", "neg %rdx", "neg %r8"],
    trap = ["mov ${nr}, %eax", "syscall", "ret", "neg %rax", "ret"],
}

/// The calling thread's process id, read from its TLS block as libc's `getpid()` does: no kernel call.
///
/// The thread's `_thread_local_storage` holds the process id: the 6.x kernel writes it into the block of
/// every thread it starts (CONFIRMED in its source); that 7.x/8.0 do the same, and that a `fork()`ed
/// child's block holds the child's pid, is INFERRED from libc's `getpid()` reading nothing else. Who
/// loads the `%fs` base on x86_64 (the kernel or the process start-up code) is not seen; every Neutrino
/// program runs that start-up before `main`.
#[inline(always)]
pub(in crate::sys::nto) fn tls_pid() -> i32 {
    let tls: u64;
    // SAFETY: on Neutrino x86_64 `%fs:0x38` holds a pointer to the calling thread's TLS block, set up
    // before `main` and alive as long as the thread; the pid is the aligned `int` at offset 0x20 in it
    // (§9.2: libc's `getpid` is these two loads). Both loads read memory valid for the whole thread; no
    // register but the output is touched, and nothing is written.
    unsafe {
        core::arch::asm!(
            "mov %fs:0x38, {tls}",
            "movl 0x20({tls}), {tls:e}",
            tls = out(reg) tls,
            options(att_syntax, nostack, preserves_flags, readonly, pure),
        );
    }
    tls as u32 as i32
}
