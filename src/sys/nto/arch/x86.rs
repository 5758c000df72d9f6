//! Neutrino kernel-call trap stubs for 32-bit x86 (QNX 7.0 `i686-pc-nto-qnx700`; the same ABI as 6.x).
//!
//! # ABI
//!
//! Sources: L64 is the disassembly of QNX 6.4.0's own `libc.so.3` for x86 (`qnx-abi.md` §9.3), RUN64 a
//! Rust program for this target run on a Neutrino 6.4 kernel (§9.3), OQ the 6.x kernel and libc source
//! (§4.1, §4.2). No QNX 7.0 x86 binary has been seen: that 7.0 keeps the 6.x kernel-call ABI on x86 is
//! INFERRED (7.0 still ships this target, with the 6.x `io_dup_t`), so every row is CONFIRMED for 6.4 and
//! INFERRED-same for 7.0.
//!
//! | item | x86 Neutrino | source | status |
//! |---|---|---|---|
//! | trap | `int $0x28` (cd 28); libc also has a `sysenter` path, chosen at run time from a syspage CPU flag | L64 (`ConnectAttach_r`, `MsgSendnc_r`: both paths end `ret; neg %eax; ret`), OQ `lib/c/kercalls/x86/template` | CONFIRMED (6.4). The stubs use only `int $0x28`, which needs no syspage lookup and is complete on its own |
//! | call-number register | `eax`, loaded with `mov $nr, %eax` | L64 | CONFIRMED (6.4) |
//! | arguments | on the user stack, where the C call left them (cdecl); the kernel reads them above the return address | L64 (no argument is moved before the trap), OQ `ker/x86/kernel.S`, RUN64 | CONFIRMED (6.4) |
//! | result | `eax` | L64, OQ | CONFIRMED (6.4) |
//! | error signal | the kernel resumes 1 byte after the `int $0x28`, skipping the 1-byte `ret`, with the positive errno in `eax` | OQ (`KERERR_SKIPAHEAD` = 1 on x86), L64 (`int $0x28; ret; neg %eax; ret`) | CONFIRMED (6.4) |
//! | plain-buffer lengths of `MsgSend[nc]` | negated in place on the stack: 3rd and 5th arguments (`negl 0xc(%esp)`, `negl 0x14(%esp)`) | L64 (`MsgSendnc_r`, `MsgSend_r`), OQ `mkkercalls` (`NEGATIVE 3 5`) | CONFIRMED (6.4) |
//! | `getpid` | no kernel call: the TLS block pointer is at `%fs:0`, the pid at offset 0x14 in it | L64 (`getpid`: `mov %fs:0x0, %eax; mov 0x14(%eax), %eax`), OQ `sys/storage.h` (32-bit: pid at 20) and `ker/nano_thread.c` (the kernel writes the pid into every new thread's block) | CONFIRMED (6.4) |
//! | registers the kernel preserves | not documented | none | unknown; each stub is an ordinary out-of-line cdecl function, so `eax`, `ecx`, `edx`, the x87/SSE registers and the flags are clobbered in the caller's eyes, as for libc's own stubs |
//!
//! # Shape
//!
//! Each call is one out-of-line leaf function, libc's "NEGATIVE" `_r` stub without the `sysenter` branch:
//!
//! ```text
//! [negl 0xc(%esp); negl 0x14(%esp)]   MsgSend / MsgSendnc only: plain buffers, not iov arrays
//! mov  $nr, %eax
//! int  $0x28
//! ret                                 success: eax is the result
//! neg  %eax                           error: the kernel resumed here with eax = errno
//! ret                                 ... and the caller gets -errno
//! ```
//!
//! `ConnectDetach` and `ChannelDestroy` keep this shape although libc's `_r` variants of those two return
//! the positive errno (`int $0x28; ret; ret`): with `neg`, a kernel that resumed at the wrong offset would
//! hand `self_test`'s `ConnectDetach(-1)` a positive value, which it reports, and every stub's result is
//! decoded the same way.
//!
//! The `MsgSend[nc]` stubs write their own argument slots on the stack (cdecl gives the callee those
//! slots; libc's stubs do the same); no stub touches any other memory. What the *kernel* does with
//! pointer arguments is the caller's contract (see `raw.rs`). Each stub sits in its own section, so the
//! linker drops the ones a program does not use. `.ci/stubcheck.py` disassembles the built library and
//! compares every stub with libc's instruction sequence for the same call.

#[path = "stubs.rs"]
mod stubs;
pub(in crate::sys::nto) use stubs::stub_symbol;
use stubs::trap_stubs;

// The instructions of the shape above: only `MsgSend[nc]` has any before the call-number load. The Rust
// declarations (`raw.rs`) take each argument as a 32-bit stack slot (`usize` on this target), in C
// prototype order.
// `stubs::trap_stubs!` writes the section, symbol and size around them for every call in its list.
trap_stubs! {
    align = 4,
    options(att_syntax),
    short = [],
    long = [],
    send = ["negl 0xc(%esp)", "negl 0x14(%esp)"],
    trap = ["mov ${nr}, %eax", "int $0x28", "ret", "neg %eax", "ret"],
}

/// The calling thread's process id, read from its TLS block as libc's `getpid()` does: no kernel call.
///
/// The 6.x kernel writes the process id into the TLS block of every thread it starts (CONFIRMED in its
/// source); that a `fork()`ed child's block holds the child's pid is INFERRED from libc's `getpid()`
/// reading nothing else.
#[inline(always)]
pub(in crate::sys::nto) fn tls_pid() -> i32 {
    let pid: u32;
    // SAFETY: on Neutrino x86 `%fs:0` holds a pointer to the calling thread's TLS block, which the kernel
    // sets up before the thread runs and which lives as long as the thread; the pid is the aligned `int`
    // at offset 0x14 in it (§9.3: libc's `getpid` is these two loads). Both loads read memory valid for
    // the whole thread; no register but the output is touched, and nothing is written.
    unsafe {
        core::arch::asm!(
            "mov %fs:0, {p}",
            "mov 0x14({p}), {p}",
            p = out(reg) pid,
            options(att_syntax, nostack, preserves_flags, readonly, pure),
        );
    }
    pid as i32
}
