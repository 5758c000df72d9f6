//! Process entry without the QNX C runtime objects: what 6.x `crt1.o` does on x86, written anew.
//!
//! The dynamic linker enters `_start` with the initial stack holding `argc`, `argv[]`, NULL, `envp[]`,
//! NULL, `auxv[]`, and `edx` holding a function it wants run at exit. `_start` hands the stack pointer
//! and `edx` to [`entry`], which lays the stack out into C's arguments, lets the C library initialise
//! itself (`_init_libc`: TLS, errno, stdio, atexit with the linker's function), runs [`crate::main`] and
//! leaves through `exit()`.

use core::ffi::{c_char, c_int};

use crate::c;

core::arch::global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    // The stack pointer as the kernel and linker left it, and the exit function in edx.
    "mov %esp, %eax",
    // 16-byte alignment at the call, as the i686 Rust ABI assumes: two 4-byte arguments + 8 bytes pad.
    "and $-16, %esp",
    "sub $8, %esp",
    "push %edx",
    "push %eax",
    "call {entry}",
    "ud2",
    ".size _start, . - _start",
    entry = sym entry,
    options(att_syntax),
);

/// Lays the initial stack out into `argc`/`argv`/`envp`/`auxv`, initialises the C library, runs the
/// program.
///
/// # Safety
///
/// Only `_start` calls it, with `sp` the process's initial stack pointer and `exit_func` the value the
/// dynamic linker left in `edx`.
unsafe extern "C" fn entry(sp: *const usize, exit_func: usize) -> ! {
    // SAFETY: the initial stack starts with argc, then argc argv pointers and a NULL.
    let argc = unsafe { *sp };
    // SAFETY: argv starts right after argc.
    let argv = unsafe { sp.add(1) } as *const *const c_char;
    // SAFETY: envp starts after the argc pointers and their NULL terminator.
    let envp = unsafe { argv.add(argc + 1) };
    let mut p = envp;
    // SAFETY: envp is NULL-terminated; auxv follows the NULL.
    unsafe {
        while !(*p).is_null() {
            p = p.add(1);
        }
    }
    // SAFETY: one past the NULL ending envp is the auxiliary vector.
    let auxv = unsafe { p.add(1) } as *const usize;
    // SAFETY: the arguments are the process's own, laid out as the C runtime would pass them.
    unsafe { c::_init_libc(argc as c_int, argv, envp, auxv, exit_func) };
    let status = crate::main();
    // SAFETY: exit runs the atexit handlers (the linker's included) and never returns.
    unsafe { c::exit(status) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::out::log(format_args!("payload panicked: {}", info.message()));
    // SAFETY: _exit only ends this process (a forked scenario child: the parent reports it).
    unsafe { c::_exit(101) }
}
