//! [`Libc`]: the same kernel calls through the QNX C library (feature `libc-calls`; also compiled with
//! `kernel-seams`, so a test program can compare it with [`Raw`](super::Raw) in one run).
//!
//! The C entry points are declared here with `cty` types from their SDP 7.1 / 8.0 prototypes (§4.3,
//! §2.4). They return `-1` and set `errno`, which is read through `__get_errno_ptr()` only after a failure.
//! On a Neutrino image this backend and [`Raw`](super::Raw) must give the same answers: that comparison is
//! how the raw ABI is verified.

use cty::{c_int, c_long, c_uint, c_void, size_t};

use super::{server_info64, Libc, ServerInfo};
use crate::errno::Errno;
use crate::sys::nto::encode::{self, libc_int, libc_long};
use crate::sys::nto::selftest::ChannelCalls;
use crate::sys::{DupfdRecord, Kernel, NeutrinoKernel};
use crate::wire::MsgInfo64;

mod ffi {
    use super::{c_int, c_long, c_uint, c_void, size_t, ServerInfo};

    extern "C" {
        pub(super) fn ConnectAttach(
            nd: u32,
            pid: c_int,
            chid: c_int,
            index: c_uint,
            flags: c_int,
        ) -> c_int;
        pub(super) fn ConnectDetach(coid: c_int) -> c_int;
        pub(super) fn ChannelCreate(flags: c_uint) -> c_int;
        pub(super) fn ChannelDestroy(chid: c_int) -> c_int;
        /// `info` is the `_server_info` of this process's width: `_msg_info64`, or `_msg_info32` in a
        /// 32-bit process (§1.2).
        pub(super) fn ConnectServerInfo(pid: c_int, coid: c_int, info: *mut ServerInfo) -> c_int;
        pub(super) fn ConnectFlags(pid: c_int, coid: c_int, mask: c_uint, bits: c_uint) -> c_int;
        pub(super) fn MsgSendnc(
            coid: c_int,
            smsg: *const c_void,
            sbytes: size_t,
            rmsg: *mut c_void,
            rbytes: size_t,
        ) -> c_long;
        pub(super) fn MsgSend(
            coid: c_int,
            smsg: *const c_void,
            sbytes: size_t,
            rmsg: *mut c_void,
            rbytes: size_t,
        ) -> c_long;
        /// `clockid_t` is an `int`; `notify` is a `const struct sigevent *`, passed null here.
        pub(super) fn TimerTimeout(
            id: c_int,
            flags: c_int,
            notify: *const c_void,
            ntime: *const u64,
            otime: *mut u64,
        ) -> c_int;
        pub(super) fn close(fd: c_int) -> c_int;
        pub(super) fn getpid() -> c_int;
        pub(super) fn __get_errno_ptr() -> *mut c_int;
        /// QNX 8.0 `<sys/dupfd.h>`. `pid64_t` is 64-bit; its signedness is not public (open question 8).
        #[cfg(qnx_v8)]
        pub(super) fn dupfd_register(
            dstpid: i64,
            fd: c_int,
            flags: c_uint,
            handlep: *mut u64,
        ) -> c_int;
        /// QNX 8.0 `<sys/dupfd.h>`.
        #[cfg(qnx_v8)]
        pub(super) fn dupfd_unregister(handle: u64) -> c_int;
        /// QNX 8.0 `<sys/dupfd.h>`.
        #[cfg(qnx_v8)]
        pub(super) fn dupfd(handle: u64, flags: c_int) -> c_int;
        /// QNX 8.0 `<sys/dupfd.h>`: `dupfd_getinfo(handle, pid64_t *, pid_t *, struct _msg_info_hdr *)`.
        #[cfg(qnx_v8)]
        pub(super) fn dupfd_getinfo(
            handle: u64,
            peerpidp: *mut i64,
            srvpidp: *mut c_int,
            infop: *mut crate::wire::MsgInfoHdr,
        ) -> c_int;
    }
}

/// The C library's `getpid()`.
pub(crate) fn getpid() -> i32 {
    // SAFETY: `getpid` has no preconditions and cannot fail.
    unsafe { ffi::getpid() }
}

/// The C library's `MsgSend` and `MsgSendnc`, which take the same arguments and answer alike.
type SendFn = unsafe extern "C" fn(c_int, *const c_void, size_t, *mut c_void, size_t) -> c_long;

/// Sends `smsg` and receives the reply into `rmsg` through `send`; returns the reply status.
///
/// # Safety
///
/// `send` must be the C library's `MsgSend` or `MsgSendnc`.
unsafe fn send_through(
    send: SendFn,
    coid: i32,
    smsg: &[u8],
    rmsg: &mut [u8],
) -> Result<isize, Errno> {
    // SAFETY: by the caller's promise `send` is `MsgSend` or `MsgSendnc`, which read at most
    // `smsg.len()` bytes of `smsg` and write at most `rmsg.len()` bytes into `rmsg`, both borrowed for
    // the whole call; any byte pattern is a valid `u8`.
    let r = unsafe {
        send(
            coid,
            smsg.as_ptr().cast(),
            smsg.len(),
            rmsg.as_mut_ptr().cast(),
            rmsg.len(),
        )
    };
    libc_long(r as isize, errno)
}

/// The calling thread's `errno`, or `EIO` if the C library gives no errno slot.
fn errno() -> i32 {
    // SAFETY: `__get_errno_ptr` has no preconditions; it returns the calling thread's errno slot.
    let p = unsafe { ffi::__get_errno_ptr() };
    if p.is_null() {
        return Errno::IO.raw();
    }
    // SAFETY: a non-null errno slot is a live, aligned `int` owned by this thread for its whole life.
    unsafe { p.read() }
}

impl ChannelCalls for Libc {
    fn channel_create(&self, flags: u32) -> Result<i32, Errno> {
        // SAFETY: integer only; the C library and kernel validate it.
        libc_int(unsafe { ffi::ChannelCreate(flags) }, errno)
    }

    fn channel_destroy(&self, chid: i32) -> Result<(), Errno> {
        // SAFETY: integer only; the C library and kernel validate it.
        libc_int(unsafe { ffi::ChannelDestroy(chid) }, errno).map(drop)
    }
}

// SAFETY: see the `NeutrinoKernel` impl below.
unsafe impl Kernel for Libc {
    /// libc's own `close()`, which sends `_IO_CLOSE` and detaches only if that was not interrupted
    /// (§9.5); `EINTR` leaves the descriptor open, and the crate's callers retry.
    unsafe fn close(&self, coid: i32) -> Result<(), Errno> {
        // SAFETY: integer only, and the caller owns `coid` (this method's contract); the C library
        // validates it.
        libc_int(unsafe { ffi::close(coid) }, errno).map(drop)
    }
    fn close_attempts(&self) -> usize {
        crate::sys::nto::close::CLOSE_ATTEMPTS
    }

    fn getpid(&self) -> Result<i32, Errno> {
        Ok(getpid())
    }
}

// SAFETY: the C library's `ConnectAttach` and `dupfd` return a new connection of this process that
// nothing else knows of; `close` is the C library's own, on the descriptor it is given.
unsafe impl NeutrinoKernel for Libc {
    fn connect_attach(
        &self,
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    ) -> Result<i32, Errno> {
        // SAFETY: integers only; the C library and kernel validate them.
        libc_int(
            unsafe { ffi::ConnectAttach(nd, pid, chid, index, flags) },
            errno,
        )
    }

    unsafe fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        // SAFETY: integer only; the C library and kernel validate it.
        libc_int(unsafe { ffi::ConnectDetach(coid) }, errno).map(drop)
    }

    unsafe fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        let mut info = ServerInfo::default();
        // SAFETY: `info` is a live, exclusively borrowed, zeroed `_server_info` of this process's width
        // (64-byte `_msg_info64`, or 48-byte `_msg_info32` on 32-bit x86, §1.2); the call writes only
        // inside it.
        let r = unsafe { ffi::ConnectServerInfo(pid, coid, &mut info) };
        encode::check_server_info(libc_int(r, errno)?, coid)?;
        Ok(server_info64(info))
    }

    unsafe fn connect_flags(
        &self,
        pid: i32,
        coid: i32,
        mask: u32,
        bits: u32,
    ) -> Result<u32, Errno> {
        // SAFETY: integers only; the C library and kernel validate them.
        libc_int(unsafe { ffi::ConnectFlags(pid, coid, mask, bits) }, errno).map(|v| v as u32)
    }

    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
        let ntime = nanos;
        // SAFETY: `ntime` is a live u64 the call only reads; `notify` and `otime` are null (no event,
        // no remaining time asked), which `TimerTimeout` accepts; the rest are integers.
        let r = unsafe {
            ffi::TimerTimeout(
                clock,
                flags as c_int,
                core::ptr::null(),
                &ntime,
                core::ptr::null_mut(),
            )
        };
        libc_int(r, errno).map(|v| v as u32)
    }

    unsafe fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        // SAFETY: `MsgSendnc` is one of the C library's two send functions.
        unsafe { send_through(ffi::MsgSendnc, coid, smsg, rmsg) }
    }

    unsafe fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        // SAFETY: `MsgSend` is one of the C library's two send functions.
        unsafe { send_through(ffi::MsgSend, coid, smsg, rmsg) }
    }

    unsafe fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        #[cfg(qnx_v8)]
        {
            let mut handle = 0u64;
            // SAFETY: `handle` is a live, exclusively borrowed `dupfd_handle_t` (u64) the call writes.
            let r = unsafe { ffi::dupfd_register(i64::from(dstpid), fd, flags, &mut handle) };
            libc_int(r, errno).map(|_| handle)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = (dstpid, fd, flags);
            Err(Errno::NOSYS)
        }
    }

    /// The C library's `dupfd_register()` finds the connection itself: `server` is not needed.
    unsafe fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno> {
        let _ = server;
        // SAFETY: the caller's promise for `fd`, passed on.
        unsafe { self.dupfd_register(dstpid, fd, flags) }
    }

    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        #[cfg(qnx_v8)]
        {
            // SAFETY: integer only; the C library and kernel validate the handle.
            libc_int(unsafe { ffi::dupfd_unregister(handle) }, errno).map(drop)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = handle;
            Err(Errno::NOSYS)
        }
    }

    /// On 8.0 dup tickets are redeemed with libc's documented `dupfd()`, which does the attach, the
    /// `_IO_DUP` and the cleanup itself.
    fn has_dupfd(&self) -> bool {
        cfg!(qnx_v8)
    }

    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        #[cfg(qnx_v8)]
        {
            // SAFETY: integers only; the C library and kernel validate them.
            libc_int(unsafe { ffi::dupfd(handle, flags) }, errno)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = (handle, flags);
            Err(Errno::NOSYS)
        }
    }

    fn dupfd_getinfo(&self, handle: u64) -> Result<DupfdRecord, Errno> {
        #[cfg(qnx_v8)]
        {
            let mut rec = DupfdRecord::default();
            // SAFETY: the three pointers name live, exclusively borrowed values of the prototype's types
            // (`pid64_t`, `pid_t`, the 28-byte `_msg_info_hdr`), which the call only writes, during it.
            let r = unsafe {
                ffi::dupfd_getinfo(handle, &mut rec.peer, &mut rec.server, &mut rec.info)
            };
            libc_int(r, errno).map(|_| rec)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = handle;
            Err(Errno::NOSYS)
        }
    }
}
