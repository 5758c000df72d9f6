//! Neutrino kernel-call trap stubs for x86_64 (QNX 7.0, 7.1, 8.0).
//!
//! # ABI
//!
//! | item | x86_64 Neutrino | source (`qnx-abi.md`) | status |
//! |---|---|---|---|
//! | trap | `syscall` (0f 05) | §4.2: the QNX signal trampoline ends `mov $0x1b, %rax; syscall` (LUW `Gos-qnx.c`) | CONFIRMED |
//! | call-number register | `eax`/`rax`, loaded with `mov $nr, %eax` (zero-extends into `rax`) | §4.2 (LUW) | CONFIRMED |
//! | argument registers 1-3, 5, 6 | `rdi`, `rsi`, `rdx`, `r8`, `r9` (System V order) | §4.2 | **ABI-UNVERIFIED**: only the trap and `rax` are seen in a disassembly; the order is inferred from the C prototypes and the System V ABI |
//! | argument register 4 | `r10`, copied from the C argument in `rcx` (`syscall` overwrites `rcx` with the return address) | §4.2 (STX64: "the amd64 syscall messes a couple of registers, which both the trampoline function and the kernel take into account") | **ABI-UNVERIFIED** (INFERRED, open question 1). The stub leaves `rcx` holding the argument as well until the trap |
//! | result | `rax` | §4.1 (6.x x86: `eax`) | **ABI-UNVERIFIED** by analogy with 32-bit x86 |
//! | error signal | the kernel resumes 1 byte after the `syscall`, skipping a 1-byte `ret`, with the positive errno in `rax` | §4.1 (6.x x86 `KERERR_SKIPAHEAD` = 1), §4.2 "UNKNOWN" | **ABI-UNVERIFIED** (open question 1). The stub tolerates any resume offset from 1 to 4 bytes, see below; offset 0 would return the errno as a success value, which `self_test` detects |
//! | plain-buffer lengths of `MsgSend[nc]` | negated (negative part count = one buffer of that many bytes) | §4.3 (6.x `mkkercalls` table and kernel; 64-bit negation CONFIRMED on aarch64) | CONFIRMED for the kernel's meaning; the x86_64 registers they travel in (`rdx`, `r8`) are ABI-UNVERIFIED as above |
//! | registers the kernel preserves | not documented; `syscall` itself destroys `rcx` and `r11` | §4.2 | **ABI-UNVERIFIED**; each stub is an ordinary out-of-line C function, so `rax`, `rcx`, `rdx`, `rsi`, `rdi`, `r8`..`r11`, `xmm0`..`xmm15` and the flags are clobbered in the caller's eyes, as for libc's own stubs |
//!
//! # Shape
//!
//! Each call is one out-of-line leaf function in the shape open question 1 recommends:
//!
//! ```text
//! [neg %rdx; neg %r8]          MsgSend / MsgSendnc only: plain buffers, not iov arrays
//! mov  %rcx, %r10              4th argument where the kernel is assumed to read it
//! mov  $nr, %eax
//! syscall
//! ret                          offset +0 (1 byte): success, rax is the result
//! nop; nop; nop                offsets +1..+3: a resume anywhere here slides into the error path
//! neg  %rax                    offset +4: error, rax = errno on entry
//! ret                          ... and the caller gets -errno
//! ```
//!
//! A stub never touches the stack or memory, so it is sound to call with any argument values; what the
//! *kernel* does with pointer arguments is the caller's contract (see `raw.rs`). Each stub sits in its own
//! section, so the linker drops the ones a program does not use. `.ci/stubcheck.py` disassembles the built
//! library and checks every stub instruction by instruction, including the resume offsets.

use crate::sys::nto::nr;

/// Emits one trap stub per `name(args) = number` entry, plus its Rust declaration.
///
/// `pre` holds instructions placed before the call-number load (the length negation of `MsgSend[nc]`).
/// The declaration names only the arguments the kernel call takes, so callers do not spend instructions
/// zeroing registers the kernel never reads (the stub is the same whatever they hold, as libc's are).
macro_rules! stubs {
    ($( $(#[$attr:meta])* fn $name:ident($($arg:ident),*) = $nr:path $(, pre = $pre:literal)?; )*) => {
        $(
            $(#[$attr])*
            core::arch::global_asm!(
                concat!(".pushsection .text.", stringify!($name), ",\"ax\",@progbits"),
                concat!(".globl ", stringify!($name)),
                concat!(".hidden ", stringify!($name)),
                concat!(".type ", stringify!($name), ",@function"),
                ".p2align 4",
                concat!(stringify!($name), ":"),
                $($pre,)?
                "mov %rcx, %r10",
                "mov ${nr}, %eax",
                "syscall",
                "ret",
                "nop",
                "nop",
                "nop",
                "neg %rax",
                "ret",
                concat!(".size ", stringify!($name), ", . - ", stringify!($name)),
                ".popsection",
                nr = const $nr,
                options(att_syntax),
            );
        )*

        extern "C" {
            $(
                $(#[$attr])*
                #[doc = concat!("Trap stub for kernel call `", stringify!($nr), "`: the result, or `-errno`.")]
                ///
                /// # Safety
                ///
                /// The arguments must satisfy the kernel call's contract (pointers valid for what the
                /// kernel reads or writes through them); the argument registers past the declared ones may
                /// hold anything.
                pub(in crate::sys::nto) fn $name($($arg: usize),*) -> isize;
            )*
        }
    };
}

stubs! {
    fn __qnx_fdpass_ker_msg_send(coid, smsg, sbytes, rmsg, rbytes) = nr::MSG_SENDV, pre = "neg %rdx\nneg %r8";
    fn __qnx_fdpass_ker_msg_sendnc(coid, smsg, sbytes, rmsg, rbytes) = nr::MSG_SENDVNC, pre = "neg %rdx\nneg %r8";
    fn __qnx_fdpass_ker_channel_create(flags) = nr::CHANNEL_CREATE;
    fn __qnx_fdpass_ker_channel_destroy(chid) = nr::CHANNEL_DESTROY;
    fn __qnx_fdpass_ker_connect_attach(nd, pid, chid, index, flags) = nr::CONNECT_ATTACH;
    fn __qnx_fdpass_ker_connect_detach(coid) = nr::CONNECT_DETACH;
    fn __qnx_fdpass_ker_connect_server_info(pid, coid, info) = nr::CONNECT_SERVER_INFO;
    fn __qnx_fdpass_ker_connect_flags(pid, coid, mask, bits) = nr::CONNECT_FLAGS;
    #[cfg(any(target_env = "nto80", target_os = "qnx"))]
    fn __qnx_fdpass_ker_connect_dupfd(op, dstpid, handle, srvpid, info) = nr::CONNECT_DUPFD;
}
