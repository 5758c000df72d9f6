// A Neutrino kernel double that forgets `dupfd`: the trait has no provided methods, so this does not
// compile (no `ENOSYS` default that would only fail at run time).

use qnx_fdpass::fd::RawFd;
use qnx_fdpass::sys::{Kernel, NeutrinoKernel};
use qnx_fdpass::wire::MsgInfo64;
use qnx_fdpass::Errno;

struct Double;

// SAFETY: no call returns or closes a descriptor.
unsafe impl Kernel for Double {
    unsafe fn close(&self, _: RawFd) -> Result<(), Errno> {
        Err(Errno::BADF)
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        Ok(2)
    }
}

// SAFETY: as above.
unsafe impl NeutrinoKernel for Double {
    fn connect_attach(&self, _: u32, _: i32, _: i32, _: u32, _: i32) -> Result<i32, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn connect_detach(&self, _: i32) -> Result<(), Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn connect_server_info(&self, _: i32, _: i32) -> Result<MsgInfo64, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn connect_flags(&self, _: i32, _: i32, _: u32, _: u32) -> Result<u32, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn msg_sendnc(&self, _: i32, _: &[u8], _: &mut [u8]) -> Result<isize, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn msg_send(&self, _: i32, _: &[u8], _: &mut [u8]) -> Result<isize, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn dupfd_register(&self, _: i32, _: i32, _: u32) -> Result<u64, Errno> {
        Err(Errno::NOSYS)
    }
    unsafe fn dupfd_register_with(
        &self,
        _: i32,
        _: i32,
        _: u32,
        _: &MsgInfo64,
    ) -> Result<u64, Errno> {
        Err(Errno::NOSYS)
    }
    fn dupfd_unregister(&self, _: u64) -> Result<(), Errno> {
        Err(Errno::NOSYS)
    }
    fn has_dupfd(&self) -> bool {
        false
    }
    fn timer_timeout(&self, _: i32, _: u32, _: u64) -> Result<u32, Errno> {
        Err(Errno::NOSYS)
    }
    fn dupfd_getinfo(&self, _: u64) -> Result<qnx_fdpass::sys::DupfdRecord, Errno> {
        Err(Errno::NOSYS)
    }
}

fn main() {
    let _ = Double.getpid();
}
