//! Kernel-call implementations of the crate's `Kernel` trait (its test seam, feature `kernel-seams`):
//!
//! - [`Counting`] wraps another and counts each call, to report how many kernel calls an issue and a
//!   redeem make;
//! - [`CLib`] routes every call through this guest's C library (`ConnectAttach`, `MsgSendnc`, ...), so
//!   *both* binaries can compare raw traps with the C library in one run (the crate's own `Libc` exists
//!   only in the `libc-calls` build).

use core::cell::Cell;
use core::ffi::{c_int, c_long, c_uint, c_void};

use qnx_fdpass::sys::Kernel;
use qnx_fdpass::wire::{MsgInfo32, MsgInfo64};
use qnx_fdpass::Errno;

use crate::c;

/// Which trait method, in [`Counting::counts`].
#[derive(Clone, Copy)]
#[repr(usize)]
pub enum Call {
    Attach,
    Detach,
    ServerInfo,
    Flags,
    SendNc,
    Send,
    Close,
    Getpid,
    Dupfd,
}

/// Names, in [`Call`] order.
pub const CALL_NAMES: [&str; 9] = [
    "ConnectAttach",
    "ConnectDetach",
    "ConnectServerInfo",
    "ConnectFlags",
    "MsgSendnc",
    "MsgSend",
    "close",
    "getpid",
    "dupfd",
];

/// Counts the calls made through it.
pub struct Counting<K> {
    pub inner: K,
    counts: Cell<[u32; 9]>,
}

impl<K> Counting<K> {
    pub const fn new(inner: K) -> Self {
        Self {
            inner,
            counts: Cell::new([0; 9]),
        }
    }
    fn hit(&self, c: Call) {
        let mut n = self.counts.get();
        n[c as usize] += 1;
        self.counts.set(n);
    }
    /// The counts so far, in [`Call`] order.
    pub fn counts(&self) -> [u32; 9] {
        self.counts.get()
    }
    /// Zeroes the counts.
    pub fn reset(&self) {
        self.counts.set([0; 9]);
    }
}

impl<K: Kernel> Kernel for Counting<K> {
    fn connect_attach(&self, nd: u32, pid: i32, chid: i32, i: u32, f: i32) -> Result<i32, Errno> {
        self.hit(Call::Attach);
        self.inner.connect_attach(nd, pid, chid, i, f)
    }
    fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        self.hit(Call::Detach);
        self.inner.connect_detach(coid)
    }
    fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        self.hit(Call::ServerInfo);
        self.inner.connect_server_info(pid, coid)
    }
    fn connect_flags(&self, pid: i32, coid: i32, m: u32, b: u32) -> Result<u32, Errno> {
        self.hit(Call::Flags);
        self.inner.connect_flags(pid, coid, m, b)
    }
    fn msg_sendnc(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        self.hit(Call::SendNc);
        self.inner.msg_sendnc(coid, s, r)
    }
    fn msg_send(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        self.hit(Call::Send);
        self.inner.msg_send(coid, s, r)
    }
    fn close(&self, coid: i32) -> Result<(), Errno> {
        self.hit(Call::Close);
        self.inner.close(coid)
    }
    fn close_attempts(&self) -> usize {
        self.inner.close_attempts()
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.hit(Call::Getpid);
        self.inner.getpid()
    }
    fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        self.hit(Call::Dupfd);
        self.inner.dupfd_register(dstpid, fd, flags)
    }
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        self.hit(Call::Dupfd);
        self.inner.dupfd_unregister(handle)
    }
}

mod ffi {
    use super::{c_int, c_long, c_uint, c_void, MsgInfo32};
    extern "C" {
        pub fn ConnectAttach(
            nd: u32,
            pid: c_int,
            chid: c_int,
            index: c_uint,
            flags: c_int,
        ) -> c_int;
        pub fn ConnectDetach(coid: c_int) -> c_int;
        pub fn ConnectServerInfo(pid: c_int, coid: c_int, info: *mut MsgInfo32) -> c_int;
        pub fn ConnectFlags(pid: c_int, coid: c_int, mask: c_uint, bits: c_uint) -> c_int;
        pub fn MsgSendnc(
            c: c_int,
            s: *const c_void,
            sn: usize,
            r: *mut c_void,
            rn: usize,
        ) -> c_long;
        pub fn MsgSend(c: c_int, s: *const c_void, sn: usize, r: *mut c_void, rn: usize) -> c_long;
    }
}

/// `ConnectServerInfo(0, coid)` through the C library, unchecked: the coid the kernel answered for
/// (the next existing one at or above `coid`) and its info, or the errno.
pub fn server_info_from(coid: i32) -> Result<(i32, MsgInfo32), i32> {
    let mut info = MsgInfo32::default();
    // SAFETY: `info` is a live, zeroed 48-byte `_msg_info` (a 32-bit process's `_server_info`).
    let r = unsafe { ffi::ConnectServerInfo(0, coid, &mut info) };
    if r < 0 {
        Err(c::errno())
    } else {
        Ok((r, info))
    }
}

fn int(r: c_int) -> Result<i32, Errno> {
    if r == -1 {
        Err(Errno::from_raw(c::errno()))
    } else {
        Ok(r)
    }
}

/// The kernel calls through the guest's C library.
#[derive(Clone, Copy, Default)]
pub struct CLib;

impl Kernel for CLib {
    fn connect_attach(&self, nd: u32, pid: i32, chid: i32, i: u32, f: i32) -> Result<i32, Errno> {
        // SAFETY: integers only.
        int(unsafe { ffi::ConnectAttach(nd, pid, chid, i, f) })
    }
    fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        // SAFETY: integer only.
        int(unsafe { ffi::ConnectDetach(coid) }).map(drop)
    }
    fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        let mut i = MsgInfo32::default();
        // SAFETY: `i` is a live, zeroed 48-byte `_msg_info`, what the kernel writes for a 32-bit process.
        let r = int(unsafe { ffi::ConnectServerInfo(pid, coid, &mut i) })?;
        if r != coid {
            return Err(Errno::BADF);
        }
        Ok(i.widen())
    }
    fn connect_flags(&self, pid: i32, coid: i32, m: u32, b: u32) -> Result<u32, Errno> {
        // SAFETY: integers only.
        int(unsafe { ffi::ConnectFlags(pid, coid, m, b) }).map(|v| v as u32)
    }
    fn msg_sendnc(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        // SAFETY: both buffers are live for their lengths during the call.
        let n = unsafe {
            ffi::MsgSendnc(
                coid,
                s.as_ptr().cast(),
                s.len(),
                r.as_mut_ptr().cast(),
                r.len(),
            )
        };
        int(n).map(|v| v as isize)
    }
    fn msg_send(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        // SAFETY: both buffers are live for their lengths during the call.
        let n = unsafe {
            ffi::MsgSend(
                coid,
                s.as_ptr().cast(),
                s.len(),
                r.as_mut_ptr().cast(),
                r.len(),
            )
        };
        int(n).map(|v| v as isize)
    }
    fn close(&self, coid: i32) -> Result<(), Errno> {
        // SAFETY: closes a descriptor the caller owns.
        int(unsafe { c::close(coid) }).map(drop)
    }
    fn close_attempts(&self) -> usize {
        // libc's close() leaves an interrupted descriptor open, as the crate's own backends assume.
        8
    }
    fn getpid(&self) -> Result<i32, Errno> {
        // SAFETY: no preconditions.
        Ok(unsafe { c::getpid() })
    }
    fn dupfd_register(&self, _dstpid: i32, _fd: i32, _flags: u32) -> Result<u64, Errno> {
        Err(Errno::NOSYS)
    }
}
