//! The payload's own kernel-call pieces over the crate's test seam (feature `kernel-seams`):
//!
//! - [`Counting`] wraps a Neutrino kernel ([`NeutrinoKernel`]) and counts each call, to report how many
//!   kernel calls an issue and a redeem make;
//! - [`server_info_from`], an unchecked `ConnectServerInfo` probe.
//!
//! The C-library kernel both binaries compare raw traps with is the crate's own
//! `qnx_fdpass::sys::nto::Libc` (compiled with `kernel-seams` on Neutrino).

use core::cell::Cell;
use core::ffi::c_int;

use qnx_fdpass::fd::RawFd;
use qnx_fdpass::sys::{Kernel, NeutrinoKernel};
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
    Timeout,
}

/// Names, in [`Call`] order.
pub const CALL_NAMES: [&str; 10] = [
    "ConnectAttach",
    "ConnectDetach",
    "ConnectServerInfo",
    "ConnectFlags",
    "MsgSendnc",
    "MsgSend",
    "close",
    "getpid",
    "dupfd",
    "TimerTimeout",
];

/// Counts the calls made through it.
pub struct Counting<K> {
    pub inner: K,
    counts: Cell<[u32; 10]>,
}

impl<K> Counting<K> {
    pub const fn new(inner: K) -> Self {
        Self {
            inner,
            counts: Cell::new([0; 10]),
        }
    }
    fn hit(&self, c: Call) {
        let mut n = self.counts.get();
        n[c as usize] += 1;
        self.counts.set(n);
    }
    /// The counts so far, in [`Call`] order.
    pub fn counts(&self) -> [u32; 10] {
        self.counts.get()
    }
    /// Zeroes the counts.
    pub fn reset(&self) {
        self.counts.set([0; 10]);
    }
}

// SAFETY: every call is the wrapped kernel's, with the caller's arguments and promises, and returns its
// answer unchanged.
unsafe impl<K: Kernel> Kernel for Counting<K> {
    unsafe fn close(&self, coid: RawFd) -> Result<(), Errno> {
        self.hit(Call::Close);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.close(coid) }
    }
    fn close_attempts(&self) -> usize {
        self.inner.close_attempts()
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.hit(Call::Getpid);
        self.inner.getpid()
    }
}

// SAFETY: as above.
unsafe impl<K: NeutrinoKernel> NeutrinoKernel for Counting<K> {
    fn connect_attach(&self, nd: u32, pid: i32, chid: i32, i: u32, f: i32) -> Result<i32, Errno> {
        self.hit(Call::Attach);
        self.inner.connect_attach(nd, pid, chid, i, f)
    }
    unsafe fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        self.hit(Call::Detach);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.connect_detach(coid) }
    }
    unsafe fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        self.hit(Call::ServerInfo);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.connect_server_info(pid, coid) }
    }
    unsafe fn connect_flags(&self, pid: i32, coid: i32, m: u32, b: u32) -> Result<u32, Errno> {
        self.hit(Call::Flags);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.connect_flags(pid, coid, m, b) }
    }
    unsafe fn msg_sendnc(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        self.hit(Call::SendNc);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.msg_sendnc(coid, s, r) }
    }
    unsafe fn msg_send(&self, coid: i32, s: &[u8], r: &mut [u8]) -> Result<isize, Errno> {
        self.hit(Call::Send);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.msg_send(coid, s, r) }
    }
    unsafe fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        self.hit(Call::Dupfd);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.dupfd_register(dstpid, fd, flags) }
    }
    unsafe fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno> {
        self.hit(Call::Dupfd);
        // SAFETY: the caller's promise, passed on.
        unsafe { self.inner.dupfd_register_with(dstpid, fd, flags, server) }
    }
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        self.hit(Call::Dupfd);
        self.inner.dupfd_unregister(handle)
    }
    fn has_dupfd(&self) -> bool {
        self.inner.has_dupfd()
    }
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        self.hit(Call::Dupfd);
        self.inner.dupfd(handle, flags)
    }
    fn dupfd_getinfo(&self, handle: u64) -> Result<qnx_fdpass::sys::DupfdRecord, Errno> {
        self.hit(Call::Dupfd);
        self.inner.dupfd_getinfo(handle)
    }
    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
        self.hit(Call::Timeout);
        self.inner.timer_timeout(clock, flags, nanos)
    }
}

mod ffi {
    use super::{c_int, MsgInfo32};
    extern "C" {
        pub fn ConnectServerInfo(pid: c_int, coid: c_int, info: *mut MsgInfo32) -> c_int;
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
