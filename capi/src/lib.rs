//! The C interface to `qnx-fdpass`: a static library (`libqnx_fdpass_capi.a`) and the header
//! `include/qnx_fdpass.h`, which cbindgen generates from this file.
//!
//! It keeps the article's shape: the sender turns a descriptor into a ticket, bytes written into a
//! buffer the caller provides (its length in and out); the receiver hands those bytes back and gets a
//! descriptor. Errors are the running system's errno values, returned (0 is success), so nothing here
//! reads or writes the thread's `errno` and the library needs no C library on the raw Neutrino path.
//!
//! # Linking, host and Neutrino
//!
//! On the Linux host the library links `std` (a hosted C program has the C library anyway), which gives
//! it std's panic handler. On Neutrino it is core-only, for firmware built without Rust's std, and brings
//! its own handler, which calls the C library's `abort()`. Neither is ever reached: nothing here panics,
//! and a panic in an `extern "C"` function aborts instead of unwinding into C.
//!
//! No function allocates. The `unsafe` here is the boundary: each function documents what the caller
//! must pass, and each block says why it holds.
#![no_std]

#[cfg(not(any(target_os = "nto", target_os = "qnx")))]
extern crate std;

use core::ffi::{c_int, c_void};

use qnx_fdpass::fd::IntoRawFd;
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{v7, v8, IoDup, IoOpenfd};
use qnx_fdpass::{
    Access, BorrowedFd, DupBatch, DupTicket, Errno, Error, OpenfdTicket, Receiver, Recipient,
    Timeout,
};

/// Bytes that hold any one ticket on every target: the largest, QNX 7's openfd ticket
/// (`QNX_FDPASS_OPENFD_LEN_V7`). Size a ticket buffer with it.
pub const QNX_FDPASS_TICKET_MAX: usize = 68;

/// Length of a dup ticket on QNX 8.0 and the Linux host (`qnx_fdpass_dup_ticket_size()` answers the
/// running target's).
pub const QNX_FDPASS_DUP_LEN_V8: usize = 40;
/// Length of an openfd ticket on QNX 8.0 and the Linux host.
pub const QNX_FDPASS_OPENFD_LEN_V8: usize = 48;
/// Length of a dup ticket on QNX 7.x (and 6.x).
pub const QNX_FDPASS_DUP_LEN_V7: usize = 60;
/// Length of an openfd ticket on QNX 7.x (and 6.x).
pub const QNX_FDPASS_OPENFD_LEN_V7: usize = 68;

/// How many of a ticket's first bytes `qnx_fdpass_ticket_len()` needs to tell its length.
pub const QNX_FDPASS_PEEK_LEN: usize = 2;

/// The most tickets one batch packet carries (`qnx_fdpass_send_fds()`, `qnx_fdpass_receive_fds()`).
pub const QNX_FDPASS_BATCH_MAX: usize = 16;

/// Bytes that hold any batch packet on every target.
pub const QNX_FDPASS_BATCH_PACKET_MAX: usize = QNX_FDPASS_BATCH_MAX * QNX_FDPASS_TICKET_MAX;

/// Recipient: any process may redeem the ticket (QNX 7.x and the Linux host; QNX 8.0 needs a pid).
pub const QNX_FDPASS_ANY: i32 = 0;

/// Access for `qnx_fdpass_send_openfd()`: read only.
pub const QNX_FDPASS_READ: c_int = 1;
/// Access for `qnx_fdpass_send_openfd()`: write only.
pub const QNX_FDPASS_WRITE: c_int = 2;
/// Access for `qnx_fdpass_send_openfd()`: read and write.
pub const QNX_FDPASS_READ_WRITE: c_int = 3;

// The C constants are literals (cbindgen writes one header for every target); here they are checked
// against the Rust library's own sizes.
const _: () = assert!(<IoDup as Message>::SIZE <= QNX_FDPASS_TICKET_MAX);
const _: () = assert!(<IoOpenfd as Message>::SIZE <= QNX_FDPASS_TICKET_MAX);
const _: () = assert!(qnx_fdpass::ticket::MAX_LEN <= QNX_FDPASS_TICKET_MAX);
const _: () = assert!(qnx_fdpass::ticket::PEEK_LEN == QNX_FDPASS_PEEK_LEN);
const _: () = assert!(<v8::IoDup as Message>::SIZE == QNX_FDPASS_DUP_LEN_V8);
const _: () = assert!(<v8::IoOpenfd as Message>::SIZE == QNX_FDPASS_OPENFD_LEN_V8);
const _: () = assert!(<v7::IoDup as Message>::SIZE == QNX_FDPASS_DUP_LEN_V7);
const _: () = assert!(<v7::IoOpenfd as Message>::SIZE == QNX_FDPASS_OPENFD_LEN_V7);
const _: () = assert!(QNX_FDPASS_TICKET_MAX == QNX_FDPASS_OPENFD_LEN_V7);

#[cfg(any(target_os = "nto", target_os = "qnx"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    extern "C" {
        fn abort() -> !;
    }
    // SAFETY: the C library's abort() takes no argument and never returns.
    unsafe { abort() }
}

/// An errno in the running system's numbering (`EIO` for a QNX-only errno on the host, which only a
/// test double produces).
fn native(e: Errno) -> c_int {
    e.to_native().unwrap_or(5)
}

/// A malformed ticket is `EINVAL`, as the article's `receive_fd` reported it.
fn error(e: Error) -> c_int {
    match e {
        Error::Os(e) => native(e),
        // A malformed ticket, and whatever a later version adds.
        _ => native(Errno::INVAL),
    }
}

fn recipient(pid: i32) -> Result<Recipient, c_int> {
    match pid {
        QNX_FDPASS_ANY => Ok(Recipient::Any),
        p if p > 0 => Ok(Recipient::Pid(p)),
        _ => Err(native(Errno::INVAL)),
    }
}

fn access(a: c_int) -> Result<Access, c_int> {
    match a {
        QNX_FDPASS_READ => Ok(Access::Read),
        QNX_FDPASS_WRITE => Ok(Access::Write),
        QNX_FDPASS_READ_WRITE => Ok(Access::ReadWrite),
        _ => Err(native(Errno::INVAL)),
    }
}

/// Borrows the caller's descriptor for one call.
fn borrow(fd: c_int) -> Result<BorrowedFd<'static>, c_int> {
    if fd < 0 {
        return Err(native(Errno::BADF));
    }
    // SAFETY: the caller passes a descriptor it keeps open for the call, which is as long as the borrow
    // is used (a closed one fails the issue or the redeem with EBADF; nothing is read through it here).
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Copies `bytes` into the caller's buffer `out` of `*len` bytes and sets `*len` to their length.
///
/// # Safety
///
/// `out` is valid for writes of `*len` bytes and `len` for a read and a write, or either is null.
unsafe fn write_out(bytes: &[u8], out: *mut c_void, len: *mut usize) -> c_int {
    if out.is_null() || len.is_null() {
        return native(Errno::INVAL);
    }
    // SAFETY: `len` is not null and valid for reads (the caller's obligation).
    let cap = unsafe { len.read() };
    if cap < bytes.len() {
        // SAFETY: as above, for writes.
        unsafe { len.write(bytes.len()) };
        return native(Errno::MSGSIZE);
    }
    // SAFETY: `out` holds `cap >= bytes.len()` writable bytes that cannot overlap `bytes` (ours).
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), out.cast::<u8>(), bytes.len()) };
    // SAFETY: as for the read.
    unsafe { len.write(bytes.len()) };
    0
}

/// Whether a buffer of `*len` bytes holds `need`; if not, sets `*len = need`.
///
/// # Safety
///
/// `len` is valid for a read and a write, or null.
unsafe fn fits(need: usize, len: *mut usize) -> Result<(), c_int> {
    if len.is_null() {
        return Err(native(Errno::INVAL));
    }
    // SAFETY: `len` is not null and valid for reads and writes (the caller's obligation).
    unsafe {
        if len.read() < need {
            len.write(need);
            return Err(native(Errno::MSGSIZE));
        }
    }
    Ok(())
}

/// Makes an `_IO_DUP` ticket for `fd`: whoever redeems it gets a descriptor sharing the open file, and
/// its offset, with `fd` (the article's `send_fd`, with the transport left to the caller).
///
/// `recipient` is the pid of the process that will redeem it, or `QNX_FDPASS_ANY` (not on QNX 8.0).
/// `*len` is the size of `ticket` on entry and the ticket's length on return.
///
/// Returns 0; `EMSGSIZE` if the buffer is too small (`*len` then says how big it must be, and no ticket
/// was made: `QNX_FDPASS_TICKET_MAX` is always enough); `EBADF` if `fd` is not open; `EINVAL` for a null
/// pointer or a negative recipient; on QNX 8.0 the errors of `dupfd_register`.
///
/// # Safety
///
/// `ticket` is valid for writes of `*len` bytes and `len` for a read and a write (null pointers are
/// refused with `EINVAL`). `fd` stays open until the ticket is redeemed.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_send_fd(
    fd: c_int,
    recipient: i32,
    ticket: *mut c_void,
    len: *mut usize,
) -> c_int {
    let made = (|| {
        let to = self::recipient(recipient)?;
        let fd = borrow(fd)?;
        // SAFETY: forwarded from our caller.
        unsafe { fits(<IoDup as Message>::SIZE, len)? };
        if ticket.is_null() {
            return Err(native(Errno::INVAL));
        }
        DupTicket::new(fd, to).map_err(native)
    })();
    match made {
        // SAFETY: forwarded from our caller; the buffer was checked to fit the ticket.
        Ok(t) => unsafe { write_out(t.as_bytes(), ticket, len) },
        Err(e) => e,
    }
}

/// Makes an `_IO_OPENFD` ticket for `fd`: whoever redeems it gets a new open of the same file, with its
/// own offset and `access` (`QNX_FDPASS_READ`, `QNX_FDPASS_WRITE` or `QNX_FDPASS_READ_WRITE`), which the
/// server refuses (`EACCES`, at redeem) if `fd` does not have it.
///
/// Returns as `qnx_fdpass_send_fd()`; `EINVAL` also for an unknown `access`.
///
/// # Safety
///
/// As `qnx_fdpass_send_fd()`.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_send_openfd(
    fd: c_int,
    access: c_int,
    recipient: i32,
    ticket: *mut c_void,
    len: *mut usize,
) -> c_int {
    let made = (|| {
        let to = self::recipient(recipient)?;
        let access = self::access(access)?;
        let fd = borrow(fd)?;
        // SAFETY: forwarded from our caller.
        unsafe { fits(<IoOpenfd as Message>::SIZE, len)? };
        if ticket.is_null() {
            return Err(native(Errno::INVAL));
        }
        OpenfdTicket::new(fd, access, to).map_err(native)
    })();
    match made {
        // SAFETY: forwarded from our caller; the buffer was checked to fit the ticket.
        Ok(t) => unsafe { write_out(t.as_bytes(), ticket, len) },
        Err(e) => e,
    }
}

/// Checks `len` bytes of `ticket` and redeems it: `*fd` is then a new descriptor of this process,
/// close-on-exec, which the caller closes (the article's `receive_fd`).
///
/// **Unbounded**: a ticket naming a server that never answers blocks the calling thread for good. For a
/// ticket from a peer not trusted to name honest servers, use `qnx_fdpass_receive_fd_timeout()`. A
/// ticket naming this process as the server is refused with `EINVAL` before anything is attempted.
///
/// Returns 0; `EINVAL` if the bytes are not exactly one valid ticket (or a pointer is null); otherwise
/// the errno of the call that failed: `EBADF` (the sender's descriptor is closed), `ESRCH` (the sender
/// is gone), `EACCES` (not allowed), `EMFILE`... On failure `*fd` is untouched and nothing stays open.
///
/// # Safety
///
/// `ticket` is valid for reads of `len` bytes, `fd` for a write.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_receive_fd(
    ticket: *const c_void,
    len: usize,
    fd: *mut c_int,
) -> c_int {
    // SAFETY: forwarded from our caller.
    unsafe { receive_one(ticket, len, fd, None) }
}

/// `qnx_fdpass_receive_fd()` with the redeem's send to the server the ticket names bounded by
/// `timeout_ns` nanoseconds: for a ticket from a peer that is not trusted to name honest servers.
///
/// What is bounded (Neutrino): a server that never receives the `_IO_DUP` / `_IO_OPENFD` message, or
/// receives it and never replies on a channel created without `_NTO_CHF_UNBLOCK`; the call then
/// returns `ETIMEDOUT`, with nothing left open. The bound is `timeout_ns` plus at most one clock tick
/// (the kernel rounds a relative time up by a tick). There is no "unbounded" value: that is
/// `qnx_fdpass_receive_fd()`. 0 is accepted (as the Rust `Timeout` accepts it) but is not a useful
/// bound: a kernel that takes a time already past as "never block" (6.4's `TimerTimeout` does) may then
/// fail a redeem an honest server would have answered (UNKNOWN: not tried on a guest); give the
/// longest wait the caller can afford.
///
/// **What is not bounded:** a server whose channel has `_NTO_CHF_UNBLOCK` (every resource manager's)
/// that has received the message and does not reply: the kernel only sends that server an unblock
/// pulse, and this call stays blocked until the server replies or dies. A ticket names its server, so
/// a hostile peer can pick one; accept tickets only from peers trusted to name honest servers, or
/// redeem on a thread that may block. docs/threat-model.md says what can and cannot be bounded, and
/// why.
///
/// A ticket naming this process as the server is refused with `EINVAL` before anything is attempted
/// (its send would go to one of this process's own channels). On the Linux host a redeem never
/// blocks: the bound is accepted and has nothing to bound.
///
/// Returns as `qnx_fdpass_receive_fd()`, and `ETIMEDOUT` when the bound ran out.
///
/// # Safety
///
/// As `qnx_fdpass_receive_fd()`.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_receive_fd_timeout(
    ticket: *const c_void,
    len: usize,
    timeout_ns: u64,
    fd: *mut c_int,
) -> c_int {
    // SAFETY: forwarded from our caller.
    unsafe { receive_one(ticket, len, fd, Some(Timeout::from_nanos(timeout_ns))) }
}

/// Redeems one ticket, bounded by `timeout` if given.
///
/// # Safety
///
/// `ticket` is valid for reads of `len` bytes and `fd` for a write, or either is null.
unsafe fn receive_one(
    ticket: *const c_void,
    len: usize,
    fd: *mut c_int,
    timeout: Option<Timeout>,
) -> c_int {
    if ticket.is_null() || fd.is_null() {
        return native(Errno::INVAL);
    }
    // SAFETY: `ticket` is valid for reads of `len` bytes (the caller's obligation), and not null.
    let bytes = unsafe { core::slice::from_raw_parts(ticket.cast::<u8>(), len) };
    let got = match timeout {
        None => qnx_fdpass::receive_fd(bytes),
        Some(t) => Receiver::new().with_timeout(t).redeem(bytes),
    };
    match got {
        Ok(owned) => {
            // SAFETY: `fd` is valid for a write and not null.
            unsafe { fd.write(owned.into_raw_fd()) };
            0
        }
        Err(e) => error(e),
    }
}

/// Makes one packet of `count` dup tickets, one per descriptor of `fds`, back to back, for
/// `qnx_fdpass_receive_fds()` to redeem all-or-nothing. `*len` is the size of `packet` on entry and the
/// packet's length on return (`QNX_FDPASS_BATCH_PACKET_MAX` is always enough).
///
/// Returns as `qnx_fdpass_send_fd()`; `EINVAL` also when `count` is 0 or above `QNX_FDPASS_BATCH_MAX`.
/// On failure no ticket is left issued (on QNX 8.0 the ones already registered are withdrawn).
///
/// # Safety
///
/// `fds` is valid for reads of `count` descriptors, each open until the packet is redeemed; `packet` and
/// `len` as in `qnx_fdpass_send_fd()`.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_send_fds(
    fds: *const c_int,
    count: usize,
    recipient: i32,
    packet: *mut c_void,
    len: *mut usize,
) -> c_int {
    if fds.is_null() || packet.is_null() || count == 0 || count > QNX_FDPASS_BATCH_MAX {
        return native(Errno::INVAL);
    }
    let to = match self::recipient(recipient) {
        Ok(to) => to,
        Err(e) => return e,
    };
    // SAFETY: forwarded from our caller.
    if let Err(e) = unsafe { fits(count * <IoDup as Message>::SIZE, len) } {
        return e;
    }
    // SAFETY: `fds` is valid for reads of `count` descriptors (the caller's obligation), not null.
    let fds = unsafe { core::slice::from_raw_parts(fds, count) };
    let mut batch = DupBatch::<QNX_FDPASS_BATCH_MAX>::new();
    for &fd in fds {
        let made = borrow(fd).and_then(|fd| DupTicket::new(fd, to).map_err(native));
        match made {
            Ok(t) => {
                // Cannot fail: count <= QNX_FDPASS_BATCH_MAX was checked.
                if let Err(t) = batch.push(t) {
                    let _ = t.withdraw();
                    let _ = batch.withdraw();
                    return native(Errno::INVAL);
                }
            }
            Err(e) => {
                let _ = batch.withdraw();
                return e;
            }
        }
    }
    // SAFETY: forwarded from our caller; the buffer was checked to fit the packet.
    unsafe { write_out(batch.as_bytes(), packet, len) }
}

/// Redeems a packet of `qnx_fdpass_send_fds()` all-or-nothing. `*count` is the capacity of `fds` on
/// entry and the number of descriptors written on return (each new, close-on-exec, the caller's).
///
/// **Unbounded**, as `qnx_fdpass_receive_fd()`: `qnx_fdpass_receive_fds_timeout()` bounds each ticket's
/// send.
///
/// Returns 0; `EMSGSIZE` if the packet holds more tickets than `*count` (`*count` then says how many;
/// nothing was redeemed); otherwise the error of the first ticket that failed, as
/// `qnx_fdpass_receive_fd()`, with its 0-based index in `*failed` (if `failed` is not null), `*count`
/// set to 0 and every descriptor already obtained from the packet closed.
///
/// # Safety
///
/// `packet` is valid for reads of `len` bytes, `fds` for writes of `*count` descriptors, `count` for a
/// read and a write, `failed` for a write or null.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_receive_fds(
    packet: *const c_void,
    len: usize,
    fds: *mut c_int,
    count: *mut usize,
    failed: *mut usize,
) -> c_int {
    // SAFETY: forwarded from our caller.
    unsafe { receive_batch(packet, len, fds, count, failed, None) }
}

/// `qnx_fdpass_receive_fds()` with each ticket's send bounded by `timeout_ns` nanoseconds, as
/// `qnx_fdpass_receive_fd_timeout()` bounds one (the bound is per ticket, so a packet of n tickets may
/// take up to n times it). What is bounded and what is not, and the refusal of a ticket naming this
/// process as the server (`EINVAL`): `qnx_fdpass_receive_fd_timeout()` and docs/threat-model.md.
///
/// Returns as `qnx_fdpass_receive_fds()`, and `ETIMEDOUT` (with the ticket's index in `*failed`) when
/// a bound ran out.
///
/// # Safety
///
/// As `qnx_fdpass_receive_fds()`.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_receive_fds_timeout(
    packet: *const c_void,
    len: usize,
    timeout_ns: u64,
    fds: *mut c_int,
    count: *mut usize,
    failed: *mut usize,
) -> c_int {
    let t = Some(Timeout::from_nanos(timeout_ns));
    // SAFETY: forwarded from our caller.
    unsafe { receive_batch(packet, len, fds, count, failed, t) }
}

/// Redeems a batch packet, each ticket bounded by `timeout` if given.
///
/// # Safety
///
/// As `qnx_fdpass_receive_fds()`, any pointer may be null.
unsafe fn receive_batch(
    packet: *const c_void,
    len: usize,
    fds: *mut c_int,
    count: *mut usize,
    failed: *mut usize,
    timeout: Option<Timeout>,
) -> c_int {
    if packet.is_null() || fds.is_null() {
        return native(Errno::INVAL);
    }
    // SAFETY: forwarded from our caller.
    if let Err(e) = unsafe { fits(len / <IoDup as Message>::SIZE, count) } {
        return e;
    }
    // SAFETY: `packet` is valid for reads of `len` bytes (the caller's obligation), not null.
    let bytes = unsafe { core::slice::from_raw_parts(packet.cast::<u8>(), len) };
    let mut receiver = Receiver::new();
    if let Some(t) = timeout {
        receiver = receiver.with_timeout(t);
    }
    match receiver.redeem_batch::<QNX_FDPASS_BATCH_MAX>(bytes) {
        Ok(got) => {
            let n = got.len();
            for (i, fd) in got.into_iter().enumerate() {
                // SAFETY: `fds` holds `*count >= n` writable descriptors (checked by `fits`).
                unsafe { fds.add(i).write(fd.into_raw_fd()) };
            }
            // SAFETY: `count` was checked not null by `fits`, valid for writes.
            unsafe { count.write(n) };
            0
        }
        Err(e) => {
            if !failed.is_null() {
                // SAFETY: `failed` is valid for a write (the caller's obligation), not null.
                unsafe { failed.write(e.index) };
            }
            // SAFETY: as above.
            unsafe { count.write(0) };
            error(e.error)
        }
    }
}

/// Withdraws a ticket (of `qnx_fdpass_send_fd()` or `qnx_fdpass_send_openfd()`) or a batch packet (of
/// `qnx_fdpass_send_fds()`) whose bytes never reached the receiver, e.g. because `mq_send` failed. On
/// QNX 8.0 a ticket holds a `dupfd` registration (at most 200 per process) until it is redeemed or
/// withdrawn; elsewhere nothing is registered and this only checks the bytes. Never withdraw a ticket
/// that may have been delivered: its redeem would fail.
///
/// Returns 0; `EINVAL` if the bytes are not a ticket or a packet (or the pointer is null); on QNX 8.0
/// the errors of `dupfd_unregister` (`ENOENT`: already redeemed, or the descriptor closed), for a packet
/// the first ticket's (every ticket is tried).
///
/// # Safety
///
/// `ticket` is valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_withdraw(ticket: *const c_void, len: usize) -> c_int {
    if ticket.is_null() {
        return native(Errno::INVAL);
    }
    // SAFETY: `ticket` is valid for reads of `len` bytes (the caller's obligation), not null.
    let bytes = unsafe { core::slice::from_raw_parts(ticket.cast::<u8>(), len) };
    match qnx_fdpass::withdraw(bytes) {
        Ok(()) => 0,
        Err(e) => error(e),
    }
}

/// The size of a dup ticket on this target (what `qnx_fdpass_send_fd()` writes): 40 bytes on QNX 8.0
/// and the Linux host, 60 on QNX 7.
#[no_mangle]
pub extern "C" fn qnx_fdpass_dup_ticket_size() -> usize {
    <IoDup as Message>::SIZE
}

/// The full length of the ticket whose first `n` bytes are at `first`, in `*len`: for a receiver reading
/// a byte stream (a pipe, a socket), which has no message boundaries. Needs `QNX_FDPASS_PEEK_LEN` bytes
/// (the message type); the whole ticket is checked when it is redeemed.
///
/// Returns 0; `EINVAL` for a null pointer, fewer than `QNX_FDPASS_PEEK_LEN` bytes, or a type that is
/// neither ticket kind (the stream is out of step).
///
/// # Safety
///
/// `first` must be valid for reads of `n` bytes, and `len` for a write.
#[no_mangle]
pub unsafe extern "C" fn qnx_fdpass_ticket_len(
    first: *const c_void,
    n: usize,
    len: *mut usize,
) -> c_int {
    if first.is_null() || len.is_null() {
        return native(Errno::INVAL);
    }
    // SAFETY: `first` is valid for reads of `n` bytes (the caller's obligation), and not null.
    let bytes = unsafe { core::slice::from_raw_parts(first.cast::<u8>(), n) };
    match qnx_fdpass::ticket::frame_len(bytes) {
        Ok(l) => {
            // SAFETY: `len` is valid for a write and not null.
            unsafe { len.write(l) };
            0
        }
        Err(_) => native(Errno::INVAL),
    }
}

/// This process's pid as tickets name it (on Neutrino read from the thread's TLS block, as the C
/// library's `getpid()`; it cannot fail).
#[no_mangle]
pub extern "C" fn qnx_fdpass_getpid() -> i32 {
    qnx_fdpass::getpid()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    //! The functions as C calls them, in one process (the C programs in `capi/c/` use two).

    use super::*;
    use std::fs::File;
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd};

    const EINVAL: c_int = 22;
    const EBADF: c_int = 9;
    const EMSGSIZE: c_int = 90; // Linux

    /// What a C caller gets back is the running system's errno for every error the library can meet
    /// (`Errno` holds QNX numbering inside the crate): each Linux errno, as the host backend receives
    /// it, comes back as itself, and a malformed ticket is the running system's `EINVAL`.
    #[test]
    #[cfg(target_os = "linux")]
    fn every_errno_comes_back_native() {
        for n in (1..134).filter(|n| !matches!(n, 41 | 58)) {
            assert_eq!(native(Errno::from_linux(n)), n);
            assert_eq!(error(Error::Os(Errno::from_linux(n))), n);
        }
        assert_eq!(
            error(Error::Decode(qnx_fdpass::DecodeError::WrongType(0))),
            EINVAL
        );
        // A QNX-only errno (only a test double makes one on the host) is EIO, never a wrong number.
        assert_eq!(native(Errno::NOREMOTE), 5);
    }

    #[test]
    fn a_tickets_length_from_its_first_bytes() {
        let f = File::open("Cargo.toml").unwrap();
        let (t, n) = send(f.as_raw_fd());
        let mut len = 0;
        let p = t.as_ptr().cast();
        // SAFETY: `t` holds `n` bytes; `len` is a local.
        unsafe {
            assert_eq!(qnx_fdpass_ticket_len(p, QNX_FDPASS_PEEK_LEN, &mut len), 0);
            assert_eq!(len, n);
            assert_eq!(len, qnx_fdpass_dup_ticket_size());
            assert_eq!(qnx_fdpass_ticket_len(p, 1, &mut len), EINVAL);
            assert_eq!(
                qnx_fdpass_ticket_len([0u8; 2].as_ptr().cast(), 2, &mut len),
                EINVAL
            );
            assert_eq!(
                qnx_fdpass_ticket_len(core::ptr::null(), 2, &mut len),
                EINVAL
            );
            assert_eq!(qnx_fdpass_ticket_len(p, n, core::ptr::null_mut()), EINVAL);
        }
        // SAFETY: as above.
        assert_eq!(unsafe { qnx_fdpass_withdraw(p, n) }, 0);
    }

    fn send(fd: c_int) -> ([u8; QNX_FDPASS_TICKET_MAX], usize) {
        let mut buf = [0u8; QNX_FDPASS_TICKET_MAX];
        let mut len = buf.len();
        // SAFETY: `buf` has `len` bytes; `fd` is open.
        let r =
            unsafe { qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, buf.as_mut_ptr().cast(), &mut len) };
        assert_eq!(r, 0);
        (buf, len)
    }

    fn receive(t: &[u8]) -> Result<File, c_int> {
        let mut fd = -1;
        // SAFETY: `t` is readable, `fd` writable.
        match unsafe { qnx_fdpass_receive_fd(t.as_ptr().cast(), t.len(), &mut fd) } {
            // SAFETY: a new descriptor, now owned by the File only.
            0 => Ok(unsafe { File::from_raw_fd(fd) }),
            e => Err(e),
        }
    }

    fn text(mut f: File) -> std::string::String {
        let mut s = std::string::String::new();
        f.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn dup_and_openfd_round_trip() {
        let f = File::open("Cargo.toml").unwrap();
        let (t, len) = send(f.as_raw_fd());
        assert_eq!(len, qnx_fdpass_dup_ticket_size());
        assert!(text(receive(&t[..len]).unwrap()).starts_with("[package]"));

        let mut buf = [0u8; QNX_FDPASS_TICKET_MAX];
        let mut len = buf.len();
        // SAFETY: as in `send`.
        let r = unsafe {
            qnx_fdpass_send_openfd(
                f.as_raw_fd(),
                QNX_FDPASS_READ,
                QNX_FDPASS_ANY,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        assert_eq!(r, 0);
        assert!(text(receive(&buf[..len]).unwrap()).starts_with("[package]"));
    }

    #[test]
    fn errors_are_native_errnos() {
        let f = File::open("Cargo.toml").unwrap();
        // Too small: EMSGSIZE, the size needed, nothing written.
        let mut small = [0u8; 8];
        let mut len = small.len();
        // SAFETY: `small` has `len` bytes.
        let r =
            unsafe { qnx_fdpass_send_fd(f.as_raw_fd(), 0, small.as_mut_ptr().cast(), &mut len) };
        assert_eq!(
            (r, len, small),
            (EMSGSIZE, qnx_fdpass_dup_ticket_size(), [0; 8])
        );
        // Null pointers, a negative recipient, a bad access, a negative descriptor.
        let mut buf = [0u8; QNX_FDPASS_TICKET_MAX];
        let mut len = buf.len();
        let p = buf.as_mut_ptr().cast();
        // SAFETY: every pointer is null or valid.
        unsafe {
            assert_eq!(
                qnx_fdpass_send_fd(0, 0, core::ptr::null_mut(), &mut len),
                EINVAL
            );
            assert_eq!(qnx_fdpass_send_fd(0, 0, p, core::ptr::null_mut()), EINVAL);
            assert_eq!(qnx_fdpass_send_fd(0, -1, p, &mut len), EINVAL);
            assert_eq!(qnx_fdpass_send_fd(-1, 0, p, &mut len), EBADF);
            assert_eq!(qnx_fdpass_send_openfd(0, 7, 0, p, &mut len), EINVAL);
            let mut fd = -1;
            assert_eq!(qnx_fdpass_receive_fd(core::ptr::null(), 0, &mut fd), EINVAL);
        }
        // Garbage is EINVAL, as the article's receive_fd said.
        assert_eq!(receive(&[1, 2, 3]).unwrap_err(), EINVAL);
        assert_eq!(receive(&[0; 40]).unwrap_err(), EINVAL);
        // SAFETY: the slices are readable, the null pointer is refused.
        unsafe {
            assert_eq!(qnx_fdpass_withdraw([1u8, 2, 3].as_ptr().cast(), 3), EINVAL);
            assert_eq!(qnx_fdpass_withdraw(core::ptr::null(), 0), EINVAL);
        }
        // A closed descriptor: EBADF at redeem (a high number, not reused by the tests meanwhile).
        let closed = dup_at_least(&f, 1200);
        let (t, len) = send(closed);
        // SAFETY: `closed` is ours and closed once.
        drop(unsafe { File::from_raw_fd(closed) });
        assert_eq!(receive(&t[..len]).unwrap_err(), EBADF);
    }

    /// The bounded twins redeem what the unbounded ones do, refuse what they refuse, and check their
    /// pointers the same way (on the host a redeem never blocks: the bound has nothing to cut short).
    #[test]
    fn bounded_receives_as_the_unbounded() {
        let f = File::open("Cargo.toml").unwrap();
        let (t, len) = send(f.as_raw_fd());
        let mut fd = -1;
        // SAFETY: `t` has `len` readable bytes; `fd` is writable; null pointers are refused.
        unsafe {
            assert_eq!(
                qnx_fdpass_receive_fd_timeout(t.as_ptr().cast(), len, 1_000_000_000, &mut fd),
                0
            );
            assert!(fd >= 0);
            assert!(text(File::from_raw_fd(fd)).starts_with("[package]"));
            let mut fd = -1;
            // 0 ns is accepted (on the host, where nothing blocks, it redeems as any bound).
            assert_eq!(
                qnx_fdpass_receive_fd_timeout(t.as_ptr().cast(), len, 0, &mut fd),
                0
            );
            drop(File::from_raw_fd(fd));
            let mut fd = -1;
            assert_eq!(
                qnx_fdpass_receive_fd_timeout(t.as_ptr().cast(), len - 1, 1000, &mut fd),
                EINVAL
            );
            assert_eq!(
                qnx_fdpass_receive_fd_timeout([1u8, 2, 3].as_ptr().cast(), 3, 1000, &mut fd),
                EINVAL
            );
            assert_eq!(fd, -1, "untouched on failure");
            assert_eq!(
                qnx_fdpass_receive_fd_timeout(core::ptr::null(), 0, 1000, &mut fd),
                EINVAL
            );
            assert_eq!(
                qnx_fdpass_receive_fd_timeout(t.as_ptr().cast(), len, 1000, core::ptr::null_mut()),
                EINVAL
            );
        }

        let fds = [f.as_raw_fd(); 2];
        let mut packet = [0u8; QNX_FDPASS_BATCH_PACKET_MAX];
        let mut plen = packet.len();
        let mut out = [-1; 2];
        let (mut n, mut failed) = (2usize, usize::MAX);
        // SAFETY: `fds` has 2 open descriptors, `packet` `plen` bytes, `out` room for `n`.
        unsafe {
            assert_eq!(
                qnx_fdpass_send_fds(fds.as_ptr(), 2, 0, packet.as_mut_ptr().cast(), &mut plen),
                0
            );
            let p = packet.as_ptr().cast();
            assert_eq!(
                qnx_fdpass_receive_fds_timeout(
                    p,
                    plen,
                    1_000_000_000,
                    out.as_mut_ptr(),
                    &mut n,
                    &mut failed
                ),
                0
            );
            assert_eq!(n, 2);
            for fd in out {
                drop(File::from_raw_fd(fd));
            }
            n = 1;
            assert_eq!(
                qnx_fdpass_receive_fds_timeout(
                    p,
                    plen,
                    1000,
                    out.as_mut_ptr(),
                    &mut n,
                    &mut failed
                ),
                EMSGSIZE
            );
            assert_eq!(n, 2);
            assert_eq!(
                qnx_fdpass_receive_fds_timeout(
                    p,
                    plen - 1,
                    1000,
                    out.as_mut_ptr(),
                    &mut n,
                    &mut failed
                ),
                EINVAL
            );
            assert_eq!((n, failed), (0, 1));
            assert_eq!(
                qnx_fdpass_receive_fds_timeout(
                    core::ptr::null(),
                    0,
                    1000,
                    out.as_mut_ptr(),
                    &mut n,
                    &mut failed
                ),
                EINVAL
            );
        }
    }

    /// `fcntl(fd, F_DUPFD_CLOEXEC, min)` through std: a duplicate numbered at least `min`.
    fn dup_at_least(f: &File, min: c_int) -> c_int {
        use std::os::fd::IntoRawFd;
        let mut held = std::vec::Vec::new();
        // Occupy numbers up to `min` with duplicates, then take the next one.
        loop {
            let d = f.try_clone().unwrap().into_raw_fd();
            if d >= min {
                for h in held {
                    // SAFETY: each is a duplicate only this loop owns.
                    drop(unsafe { File::from_raw_fd(h) });
                }
                return d;
            }
            held.push(d);
        }
    }

    #[test]
    fn batches_all_or_nothing() {
        let f = File::open("Cargo.toml").unwrap();
        let fds = [f.as_raw_fd(); 3];
        let mut packet = [0u8; QNX_FDPASS_BATCH_PACKET_MAX];
        let mut len = packet.len();
        // SAFETY: `fds` has 3 open descriptors; `packet` has `len` bytes.
        let r = unsafe {
            qnx_fdpass_send_fds(fds.as_ptr(), 3, 0, packet.as_mut_ptr().cast(), &mut len)
        };
        assert_eq!((r, len), (0, 3 * qnx_fdpass_dup_ticket_size()));
        // A packet, and a ticket in it, are recognised for withdrawal (on the host nothing is registered).
        // SAFETY: `packet` has `len` readable bytes.
        unsafe {
            assert_eq!(qnx_fdpass_withdraw(packet.as_ptr().cast(), len), 0);
            assert_eq!(qnx_fdpass_withdraw(packet.as_ptr().cast(), len / 3), 0);
            assert_eq!(qnx_fdpass_withdraw(packet.as_ptr().cast(), len - 1), EINVAL);
        }

        let mut out = [-1; 3];
        let (mut n, mut failed) = (2usize, usize::MAX);
        // SAFETY: `out` has room for `n` descriptors.
        let r = unsafe {
            qnx_fdpass_receive_fds(
                packet.as_ptr().cast(),
                len,
                out.as_mut_ptr(),
                &mut n,
                &mut failed,
            )
        };
        assert_eq!(
            (r, n, out),
            (EMSGSIZE, 3, [-1; 3]),
            "too small: nothing redeemed"
        );
        // SAFETY: as above, with room for 3.
        let r = unsafe {
            qnx_fdpass_receive_fds(
                packet.as_ptr().cast(),
                len,
                out.as_mut_ptr(),
                &mut n,
                &mut failed,
            )
        };
        assert_eq!((r, n), (0, 3));
        let want = f.metadata().unwrap();
        for fd in out {
            use std::os::unix::fs::MetadataExt;
            // SAFETY: each is a new descriptor, now owned by the File only.
            let m = unsafe { File::from_raw_fd(fd) }.metadata().unwrap();
            // (Dups share one offset, so reading each would see the rest of one read: compare files.)
            assert_eq!((m.dev(), m.ino()), (want.dev(), want.ino()));
        }
        // A cut packet fails at the ticket cut short, and leaves nothing open.
        let mut n = 3;
        // SAFETY: as above.
        let r = unsafe {
            qnx_fdpass_receive_fds(
                packet.as_ptr().cast(),
                len - 1,
                out.as_mut_ptr(),
                &mut n,
                &mut failed,
            )
        };
        assert_eq!((r, n), (EINVAL, 0));
        assert!(failed <= 2, "{failed}");
    }
}
