// A program without `unsafe` that tries to own standard output through the kernel seams: its kernel
// answers descriptor 1 to `pidfd_getfd`, and the redeem would wrap that in an `OwnedFd`.
#![forbid(unsafe_code)]

use qnx_fdpass::fd::RawFd;
use qnx_fdpass::seams::Receiver;
use qnx_fdpass::sys::{Kernel, LinuxKernel};
use qnx_fdpass::wire::{IoDup, Message, MsgInfoHdr};
use qnx_fdpass::zerocopy::IntoBytes;
use qnx_fdpass::{Access, Errno};

struct Forge;

impl Kernel for Forge {
    fn close(&self, _: RawFd) -> Result<(), Errno> {
        Ok(())
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        Ok(1)
    }
}

impl LinuxKernel for Forge {
    fn pidfd_open(&self, _: i32) -> Result<RawFd, Errno> {
        Ok(100)
    }
    fn pidfd_getfd(&self, _: RawFd, _: RawFd) -> Result<RawFd, Errno> {
        Ok(1)
    }
    fn access_mode(&self, _: RawFd) -> Result<Access, Errno> {
        Ok(Access::ReadWrite)
    }
    fn reopen(&self, _: RawFd, _: Access) -> Result<RawFd, Errno> {
        Ok(1)
    }
    fn start_time(&self, _: i32) -> Result<u64, Errno> {
        Ok(7)
    }
}

fn main() {
    let info = MsgInfoHdr {
        tid: 1,
        coid: 1,
        ..MsgInfoHdr::default()
    };
    let ticket = IoDup::with_info(info, 7);
    let stdout = Receiver::<0, _>::with_kernel(Forge).redeem(ticket.as_bytes());
    drop(stdout); // would close descriptor 1
}
