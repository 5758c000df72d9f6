//! A recording double of the Neutrino kernel for the unit tests: records every call, fails the one
//! named in `fail`, and answers `_IO_CLOSE` the way a server does.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use core::cell::RefCell;
use std::vec::Vec;

use zerocopy::IntoBytes;

use super::close::close_with;
use super::selftest::ChannelCalls;
use crate::sys::Kernel;
use crate::wire::{IoClose, MsgInfo64};
use crate::Errno;

/// One recorded kernel call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    ChannelCreate(u32),
    ChannelDestroy(i32),
    Attach { pid: i32, chid: i32, index: u32 },
    Detach(i32),
    ServerInfo(i32),
    SendncClose(i32),
    SendClose(i32),
    Getpid,
}

/// A kernel double: records calls, fails the one named in `fail`.
pub(crate) struct Double {
    pub(crate) log: RefCell<Vec<Call>>,
    pub(crate) fail: Option<(&'static str, Errno)>,
    pub(crate) server_pid: i32,
    /// The pid `ConnectServerInfo` names on a connection attached with pid 0 (to ourselves).
    pub(crate) own_pid: i32,
    /// The pid of the last `ConnectAttach`.
    pub(crate) attached_pid: core::cell::Cell<i32>,
    /// `MsgSend` answers `EINTR` this many more times.
    pub(crate) intr: core::cell::Cell<usize>,
}

impl Double {
    pub(crate) fn new(fail: Option<(&'static str, Errno)>) -> Self {
        Self {
            log: RefCell::new(Vec::new()),
            fail,
            server_pid: 77,
            own_pid: 4242,
            attached_pid: core::cell::Cell::new(-1),
            intr: core::cell::Cell::new(0),
        }
    }
    fn call(&self, name: &'static str, c: Call) -> Result<(), Errno> {
        self.log.borrow_mut().push(c);
        match self.fail {
            Some((n, e)) if n == name => Err(e),
            _ => Ok(()),
        }
    }
    pub(crate) fn log(&self) -> Vec<Call> {
        self.log.borrow().clone()
    }
}

pub(crate) const CHID: i32 = 3;
pub(crate) const SIDE: i32 = 0x4000_0002;

impl ChannelCalls for Double {
    fn channel_create(&self, flags: u32) -> Result<i32, Errno> {
        self.call("ChannelCreate", Call::ChannelCreate(flags))
            .map(|()| CHID)
    }
    fn channel_destroy(&self, chid: i32) -> Result<(), Errno> {
        self.call("ChannelDestroy", Call::ChannelDestroy(chid))
    }
}

impl Kernel for Double {
    fn connect_attach(
        &self,
        _nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        _flags: i32,
    ) -> Result<i32, Errno> {
        self.attached_pid.set(pid);
        self.call("ConnectAttach", Call::Attach { pid, chid, index })
            .map(|()| SIDE)
    }
    fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        if coid == -1 {
            self.log.borrow_mut().push(Call::Detach(coid));
            return match self.fail {
                Some(("ConnectDetach(-1)", e)) => Err(e),
                Some(("ConnectDetach(-1) ok", _)) => Ok(()),
                _ => Err(Errno::INVAL),
            };
        }
        self.call("ConnectDetach", Call::Detach(coid))
    }
    fn connect_server_info(&self, _pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        self.call("ConnectServerInfo", Call::ServerInfo(coid))?;
        let pid = if self.fail.map(|f| f.0) == Some("bad pid") {
            0
        } else if self.attached_pid.get() == 0 {
            self.own_pid
        } else {
            self.server_pid
        };
        Ok(MsgInfo64 {
            pid,
            chid: 1,
            coid,
            ..MsgInfo64::default()
        })
    }
    fn connect_flags(&self, _pid: i32, _coid: i32, _mask: u32, _bits: u32) -> Result<u32, Errno> {
        Ok(0)
    }
    fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        assert_eq!(smsg, IoClose::new().as_bytes());
        assert_eq!(smsg, &[0x16, 0x01, 4, 0]);
        assert!(rmsg.is_empty());
        self.call("MsgSendnc", Call::SendncClose(coid)).map(|()| 0)
    }
    fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        assert_eq!(smsg, IoClose::new().as_bytes());
        assert!(rmsg.is_empty());
        self.call("MsgSend", Call::SendClose(coid))?;
        if self.intr.get() > 0 {
            self.intr.set(self.intr.get() - 1);
            return Err(Errno::INTR);
        }
        Ok(0)
    }
    fn close(&self, coid: i32) -> Result<(), Errno> {
        close_with(self, coid)
    }
    fn close_attempts(&self) -> usize {
        crate::sys::nto::close::CLOSE_ATTEMPTS
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.call("getpid", Call::Getpid).map(|()| 4242)
    }
    fn dupfd_register(&self, _dstpid: i32, _fd: i32, _flags: u32) -> Result<u64, Errno> {
        Err(Errno::NOSYS)
    }
}
