//! Fault injection over any [`Kernel`]: how the tests prove that every failing path closes what it
//! opened.

use core::cell::Cell;

use crate::fd::RawFd;
use crate::sys::Kernel;
use crate::wire::MsgInfo64;
use crate::{Access, Errno};

/// Fault injection: wraps a [`Kernel`] and fails its `k`-th fallible call (1-based) with `errno`.
///
/// `close`, `close_attempts`, `getpid` and `has_dupfd` are never failed: the first is the cleanup and
/// the others cannot fail in a way the caller could act on. [`FailAt::calls`] tells how many fallible
/// calls were made, so a test can walk k from 1 to the length of a path.
#[derive(Debug)]
pub struct FailAt<K> {
    inner: K,
    k: usize,
    errno: Errno,
    calls: Cell<usize>,
}

impl<K: Kernel> FailAt<K> {
    /// Fails the `k`-th fallible call with `errno` (`k = 0`: never).
    pub const fn new(inner: K, k: usize, errno: Errno) -> Self {
        Self {
            inner,
            k,
            errno,
            calls: Cell::new(0),
        }
    }

    /// How many fallible calls were made so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    fn gate(&self) -> Result<(), Errno> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if n == self.k {
            Err(self.errno)
        } else {
            Ok(())
        }
    }
}

impl<K: Kernel> Kernel for FailAt<K> {
    fn close(&self, fd: RawFd) -> Result<(), Errno> {
        self.inner.close(fd)
    }
    fn close_attempts(&self) -> usize {
        self.inner.close_attempts()
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.inner.getpid()
    }

    fn connect_attach(
        &self,
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    ) -> Result<i32, Errno> {
        self.gate()?;
        self.inner.connect_attach(nd, pid, chid, index, flags)
    }
    fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        self.gate()?;
        self.inner.connect_detach(coid)
    }
    fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        self.gate()?;
        self.inner.connect_server_info(pid, coid)
    }
    fn connect_flags(&self, pid: i32, coid: i32, mask: u32, bits: u32) -> Result<u32, Errno> {
        self.gate()?;
        self.inner.connect_flags(pid, coid, mask, bits)
    }
    fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        self.gate()?;
        self.inner.msg_sendnc(coid, smsg, rmsg)
    }
    fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        self.gate()?;
        self.inner.msg_send(coid, smsg, rmsg)
    }
    fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        self.gate()?;
        self.inner.dupfd_register(dstpid, fd, flags)
    }
    fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno> {
        self.gate()?;
        self.inner.dupfd_register_with(dstpid, fd, flags, server)
    }
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        self.gate()?;
        self.inner.dupfd_unregister(handle)
    }
    fn has_dupfd(&self) -> bool {
        self.inner.has_dupfd()
    }
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        self.gate()?;
        self.inner.dupfd(handle, flags)
    }

    fn pidfd_open(&self, pid: i32) -> Result<RawFd, Errno> {
        self.gate()?;
        self.inner.pidfd_open(pid)
    }
    fn pidfd_getfd(&self, pidfd: RawFd, fd: RawFd) -> Result<RawFd, Errno> {
        self.gate()?;
        self.inner.pidfd_getfd(pidfd, fd)
    }
    fn access_mode(&self, fd: RawFd) -> Result<Access, Errno> {
        self.gate()?;
        self.inner.access_mode(fd)
    }
    fn reopen(&self, fd: RawFd, access: Access) -> Result<RawFd, Errno> {
        self.gate()?;
        self.inner.reopen(fd, access)
    }
    fn start_time(&self, pid: i32) -> Result<u64, Errno> {
        self.gate()?;
        self.inner.start_time(pid)
    }
}
