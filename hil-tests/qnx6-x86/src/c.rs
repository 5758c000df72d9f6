//! The few C functions of the guest's `libc.so.3` (QNX Neutrino 6.4, x86) the payload calls, declared
//! by hand: there is no `libc` crate support for this target. Each name was checked against the guest
//! library's export list (`libc.so.3.symbols`); types follow the 6.4 headers for 32-bit x86 (`int`,
//! `long`, pointers and `off_t` are 32 bits; `pid_t`, `uid_t` 32 bits).

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};

/// `O_RDONLY`.
pub const O_RDONLY: c_int = 0;
/// `O_WRONLY`.
pub const O_WRONLY: c_int = 1;
/// `O_RDWR`.
pub const O_RDWR: c_int = 2;
/// `O_CREAT` (0o400 on Neutrino).
pub const O_CREAT: c_int = 0o400;
/// `O_TRUNC` (0o1000 on Neutrino).
pub const O_TRUNC: c_int = 0o1000;
/// `F_GETFD`.
pub const F_GETFD: c_int = 1;
/// `SEEK_SET`.
pub const SEEK_SET: c_int = 0;
/// `SEEK_CUR`.
pub const SEEK_CUR: c_int = 1;
/// `WNOHANG` (0x40 on Neutrino, not 1 as on Linux).
pub const WNOHANG: c_int = 0x40;
/// `F_GETFL`.
pub const F_GETFL: c_int = 3;
/// `F_SETFL`.
pub const F_SETFL: c_int = 4;
/// `O_NONBLOCK` (0o200 on Neutrino).
pub const O_NONBLOCK: c_int = 0o200;
/// `EIO`: the errno this program reports for its own plumbing failures (a holder that vanished).
pub const EIO_LOCAL: i32 = 5;
/// `SIGKILL`.
pub const SIGKILL: c_int = 9;

/// `EPERM`.
pub const EPERM: i32 = 1;
/// `EINTR`.
pub const EINTR: i32 = 4;
/// `ENOSYS` (89 on Neutrino).
pub const ENOSYS: i32 = 89;
/// `ETIMEDOUT` (260 on Neutrino).
pub const ETIMEDOUT: i32 = 260;
/// `_NTO_CHF_UNBLOCK`: the kernel tells the server, by a pulse, that a REPLY-blocked client wants out
/// (a signal or a timeout) instead of releasing the client itself.
pub const NTO_CHF_UNBLOCK: u32 = 0x0002;
/// `_PULSE_CODE_UNBLOCK`: the code of that pulse.
pub const PULSE_CODE_UNBLOCK: i8 = -32;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: c_int = 2;

/// `struct utsname`: five fields of `_SYSNAME_SIZE` (257) bytes.
#[repr(C)]
pub struct Utsname {
    pub sysname: [u8; 257],
    pub nodename: [u8; 257],
    pub release: [u8; 257],
    pub version: [u8; 257],
    pub machine: [u8; 257],
}

/// `struct mq_attr`: six `long`s.
#[repr(C)]
#[derive(Default)]
pub struct MqAttr {
    pub mq_maxmsg: c_long,
    pub mq_msgsize: c_long,
    pub mq_flags: c_long,
    pub mq_curmsgs: c_long,
    pub mq_sendwait: c_long,
    pub mq_recvwait: c_long,
}

extern "C" {
    pub fn _init_libc(
        argc: c_int,
        argv: *const *const c_char,
        envp: *const *const c_char,
        auxv: *const usize,
        exit_func: usize,
    );
    pub fn exit(status: c_int) -> !;
    pub fn _exit(status: c_int) -> !;
    pub fn open(path: *const c_char, oflag: c_int, ...) -> c_int;
    pub fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize;
    pub fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    pub fn lseek(fd: c_int, off: c_long, whence: c_int) -> c_long;
    pub fn close(fd: c_int) -> c_int;
    pub fn unlink(path: *const c_char) -> c_int;
    pub fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    pub fn pipe(fds: *mut c_int) -> c_int;
    pub fn fork() -> c_int;
    pub fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    pub fn kill(pid: c_int, sig: c_int) -> c_int;
    pub fn getpid() -> c_int;
    pub fn dup(fd: c_int) -> c_int;
    pub fn setuid(uid: c_uint) -> c_int;
    pub fn usleep(usec: c_uint) -> c_int;
    pub fn uname(name: *mut Utsname) -> c_int;
    pub fn mq_open(name: *const c_char, oflag: c_int, ...) -> c_int;
    pub fn mq_send(q: c_int, msg: *const c_char, len: usize, prio: c_uint) -> c_int;
    pub fn mq_receive(q: c_int, msg: *mut c_char, len: usize, prio: *mut c_uint) -> isize;
    pub fn mq_close(q: c_int) -> c_int;
    pub fn mq_unlink(name: *const c_char) -> c_int;
    pub fn __get_errno_ptr() -> *mut c_int;
    pub fn ChannelCreate(flags: u32) -> c_int;
    pub fn MsgReceive(chid: c_int, msg: *mut c_void, bytes: usize, info: *mut c_void) -> c_int;
    pub fn MsgReply(rcvid: c_int, status: c_long, msg: *const c_void, bytes: usize) -> c_int;
    pub fn MsgError(rcvid: c_int, error: c_int) -> c_int;
    pub fn ClockTime(id: c_int, new: *const u64, old: *mut u64) -> c_int;
}

/// `CLOCK_MONOTONIC` now, in milliseconds (0 if the call failed).
pub fn now_ms() -> u64 {
    let mut ns = 0u64;
    // SAFETY: `ns` is a live u64 the call writes; no new time is set.
    let r = unsafe { ClockTime(CLOCK_MONOTONIC, core::ptr::null(), &mut ns) };
    if r == -1 {
        0
    } else {
        ns / 1_000_000
    }
}

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    // SAFETY: `__get_errno_ptr` has no preconditions and returns this thread's errno slot (libc was
    // initialised by `_init_libc` in `_start`).
    let p = unsafe { __get_errno_ptr() };
    if p.is_null() {
        return 0;
    }
    // SAFETY: a non-null errno slot is a live, aligned int owned by this thread.
    unsafe { p.read() }
}
