//! The one recording double of the Neutrino kernel for the unit tests (pass/nto.rs, close.rs,
//! selftest.rs, fail_at.rs): records every call with its arguments, tracks the connections it opened,
//! fails a call on request (the k-th, or every one of a name), and closes the way libc does
//! ([`close_with`]: `_IO_CLOSE`, then `ConnectDetach` unless interrupted).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use core::cell::{Cell, RefCell};
use std::vec::Vec;

use zerocopy::IntoBytes;

use super::close::{close_with, CLOSE_ATTEMPTS};
use super::nr::{NTO_TIMEOUT_REPLY, NTO_TIMEOUT_SEND};
use super::selftest::ChannelCalls;
use crate::errno::Errno;
use crate::fd::RawFd;
use crate::sys::{DupfdRecord, Kernel, NeutrinoKernel};
use crate::wire::{IoClose, MsgInfo64};

/// One recorded kernel call, with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    Attach {
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    },
    Detach(i32),
    ServerInfo {
        pid: i32,
        coid: i32,
    },
    Flags {
        pid: i32,
        coid: i32,
        mask: u32,
        bits: u32,
    },
    /// `MsgSendnc` (`nc`) or `MsgSend`, and the bytes sent.
    Send {
        coid: i32,
        bytes: Vec<u8>,
        nc: bool,
    },
    Getpid,
    Register {
        dstpid: i32,
        fd: i32,
        flags: u32,
    },
    Unregister(u64),
    Dupfd {
        handle: u64,
        flags: i32,
    },
    ChannelCreate(u32),
    ChannelDestroy(i32),
    /// `dupfd_getinfo(handle)`.
    GetInfo(u64),
    /// `TimerTimeout(clock, flags, NULL, &nanos, NULL)`.
    Timeout {
        clock: i32,
        flags: u32,
        nanos: u64,
    },
}

impl Call {
    /// The `_IO_CLOSE` that libc's `close()` sends to the server of `coid` (with `MsgSend`).
    pub(crate) fn io_close(coid: i32) -> Self {
        Self::Send {
            coid,
            bytes: IoClose::new().as_bytes().to_vec(),
            nc: false,
        }
    }

    /// The C name of the call, which [`Double::fail_on`] names.
    fn name(&self) -> &'static str {
        match self {
            Self::Attach { .. } => "ConnectAttach",
            Self::Detach(_) => "ConnectDetach",
            Self::ServerInfo { .. } => "ConnectServerInfo",
            Self::Flags { .. } => "ConnectFlags",
            Self::Send { nc: true, .. } => "MsgSendnc",
            Self::Send { nc: false, .. } => "MsgSend",
            Self::Getpid => "getpid",
            Self::Register { .. } => "dupfd_register",
            Self::Unregister(_) => "dupfd_unregister",
            Self::Dupfd { .. } => "dupfd",
            Self::ChannelCreate(_) => "ChannelCreate",
            Self::ChannelDestroy(_) => "ChannelDestroy",
            Self::Timeout { .. } => "TimerTimeout",
            Self::GetInfo(_) => "dupfd_getinfo",
        }
    }
}

/// Server info the double reports for a descriptor (with that descriptor as `coid`): descriptors below
/// 10, and the connections the double attached, exist; any other answers `EBADF`.
pub(crate) const SERVER: MsgInfo64 = MsgInfo64 {
    nd: 0,
    srcnd: 0,
    pid: 0x2001,
    tid: 0,
    chid: 1,
    scoid: 0x4000_0007,
    coid: 3,
    priority: 0,
    flags: 1,
    msglen: 0,
    srcmsglen: 0,
    dstmsglen: 0,
    type_id: 0,
    reserved: 0,
};

/// The handle `dupfd_register` answers.
pub(crate) const HANDLE: u64 = 0xABCD;
/// The chid `ChannelCreate` answers.
pub(crate) const CHID: i32 = 3;
/// A side-channel coid, for [`Double::coid`].
pub(crate) const SIDE: i32 = 0x4000_0002;

/// The kernel double. Build it with struct-update syntax over `Default`:
/// `Double { fail_at: Some((2, Errno::NOMEM)), ..Double::default() }`.
#[derive(Debug)]
pub(crate) struct Double {
    /// Every call, in order ([`Double::log`] copies it).
    pub(crate) calls: RefCell<Vec<Call>>,
    /// The connections attached (or `dupfd`'d) and not detached yet.
    pub(crate) open: RefCell<Vec<i32>>,
    /// Fail the call with this 1-based index (counting every recorded call).
    pub(crate) fail_at: Option<(usize, Errno)>,
    /// Fail every call with this C name (`"ConnectAttach"`, `"MsgSend"`, ...).
    pub(crate) fail_on: Option<(&'static str, Errno)>,
    /// The coid every new connection gets; `None`: 101, 102, ... in order.
    pub(crate) coid: Option<i32>,
    /// What `ConnectServerInfo` reports (but `coid`, which is the one asked about).
    pub(crate) server: MsgInfo64,
    /// What `getpid` answers (the TLS block's pid).
    pub(crate) pid: i32,
    /// The pid `ConnectServerInfo` names for a connection attached with pid 0 (to ourselves).
    pub(crate) kernel_pid: i32,
    /// What `ConnectDetach(-1)` answers: the kernel's `EINVAL`.
    pub(crate) detach_invalid: Result<(), Errno>,
    /// An `_IO_CLOSE` is answered with `EINTR` this many more times.
    pub(crate) close_intr: Cell<usize>,
    /// The reply status a send answers (its reply buffer is filled with [`Double::REPLY`]).
    pub(crate) status: isize,
    /// The server never receives or never replies: a send blocks until a timeout armed right before it
    /// (the previous call, bounding the SEND and REPLY states) fires with `ETIMEDOUT`; with none it would
    /// block forever, which the double reports by panicking.
    pub(crate) stuck: bool,
    /// What `dupfd_getinfo` answers: the kernel's record of a handle (`None`: `ENOSYS` without a call,
    /// a backend that cannot ask).
    pub(crate) record: Option<DupfdRecord>,
    /// The previous timeout flags `TimerTimeout` answers.
    pub(crate) timeout_prev: u32,
    /// The previous flags `ConnectFlags` answers.
    pub(crate) conn_flags: u32,
    /// Answer `has_dupfd` with `true`, as the C library on 8.0 does.
    pub(crate) libc_dupfd: bool,
    /// The server info `dupfd_register_with` was handed.
    pub(crate) register_info: RefCell<Option<MsgInfo64>>,
    // The double's own state (public for struct-update syntax only).
    /// How many connections were numbered (for the coids 101, 102, ...).
    pub(crate) numbered: Cell<i32>,
    /// The pid of the last `ConnectAttach`.
    pub(crate) attached_pid: Cell<i32>,
}

impl Default for Double {
    fn default() -> Self {
        Self {
            calls: RefCell::new(Vec::new()),
            open: RefCell::new(Vec::new()),
            fail_at: None,
            fail_on: None,
            coid: None,
            server: SERVER,
            pid: 4321,
            kernel_pid: 4321,
            detach_invalid: Err(Errno::INVAL),
            close_intr: Cell::new(0),
            status: 0,
            stuck: false,
            timeout_prev: 0,
            record: None,
            conn_flags: 0,
            libc_dupfd: false,
            register_info: RefCell::new(None),
            numbered: Cell::new(0),
            attached_pid: Cell::new(-1),
        }
    }
}

impl Double {
    /// The byte a send's reply buffer is filled with.
    pub(crate) const REPLY: u8 = 0xA5;

    /// A copy of the calls so far.
    pub(crate) fn log(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// Records `call`, then fails it if it is the `fail_at`-th or is named in `fail_on`.
    fn enter(&self, call: Call) -> Result<(), Errno> {
        let name = call.name();
        let mut calls = self.calls.borrow_mut();
        calls.push(call);
        match (self.fail_at, self.fail_on) {
            (Some((k, e)), _) if k == calls.len() => Err(e),
            (_, Some((n, e))) if n == name => Err(e),
            _ => Ok(()),
        }
    }

    /// A new open connection: [`Double::coid`], or the next of 101, 102, ...
    fn connect(&self) -> i32 {
        let coid = self.coid.unwrap_or_else(|| {
            self.numbered.set(self.numbered.get() + 1);
            100 + self.numbered.get()
        });
        self.open.borrow_mut().push(coid);
        coid
    }

    fn send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8], nc: bool) -> Result<isize, Errno> {
        self.enter(Call::Send {
            coid,
            bytes: smsg.to_vec(),
            nc,
        })?;
        // A stuck server never answers the dup or openfd (a close is answered: the double's own drop
        // path must not block).
        if self.stuck && smsg != IoClose::new().as_bytes() {
            let calls = self.calls.borrow();
            let both = NTO_TIMEOUT_SEND | NTO_TIMEOUT_REPLY;
            return match calls.len().checked_sub(2).map(|i| &calls[i]) {
                Some(Call::Timeout { flags, .. }) if flags & both == both => Err(Errno::TIMEDOUT),
                _ => panic!("a send to a stuck server without a timeout blocks forever: {calls:?}"),
            };
        }
        if smsg == IoClose::new().as_bytes() {
            assert!(rmsg.is_empty(), "_IO_CLOSE has no reply");
            if self.close_intr.get() > 0 {
                self.close_intr.set(self.close_intr.get() - 1);
                return Err(Errno::INTR);
            }
        }
        rmsg.fill(Self::REPLY);
        Ok(self.status)
    }
}

impl ChannelCalls for Double {
    fn channel_create(&self, flags: u32) -> Result<i32, Errno> {
        self.enter(Call::ChannelCreate(flags)).map(|()| CHID)
    }
    fn channel_destroy(&self, chid: i32) -> Result<(), Errno> {
        self.enter(Call::ChannelDestroy(chid))
    }
}

// SAFETY: the double's descriptors are numbers in its own table, never descriptors of the process: it
// makes no system call, so nothing it returns or closes is the process's.
unsafe impl Kernel for Double {
    unsafe fn close(&self, coid: RawFd) -> Result<(), Errno> {
        // SAFETY: the double reaches no OS (see above).
        unsafe { close_with(self, coid) }
    }
    fn close_attempts(&self) -> usize {
        CLOSE_ATTEMPTS
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.enter(Call::Getpid).map(|()| self.pid)
    }
}

// SAFETY: as the `Kernel` impl above.
unsafe impl NeutrinoKernel for Double {
    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
        self.enter(Call::Timeout {
            clock,
            flags,
            nanos,
        })
        .map(|()| self.timeout_prev)
    }

    fn dupfd_getinfo(&self, handle: u64) -> Result<DupfdRecord, Errno> {
        // Without a record the double is a backend that cannot ask (raw without `raw-dupfd`): `ENOSYS`
        // and no kernel call, so nothing is recorded.
        let record = self.record.ok_or(Errno::NOSYS)?;
        self.enter(Call::GetInfo(handle))?;
        Ok(record)
    }

    fn connect_attach(&self, nd: u32, pid: i32, chid: i32, i: u32, f: i32) -> Result<i32, Errno> {
        self.attached_pid.set(pid);
        let call = Call::Attach {
            nd,
            pid,
            chid,
            index: i,
            flags: f,
        };
        self.enter(call).map(|()| self.connect())
    }
    unsafe fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        // Detached even when the call then fails.
        self.open.borrow_mut().retain(|c| *c != coid);
        self.enter(Call::Detach(coid))?;
        if coid == -1 {
            return self.detach_invalid;
        }
        Ok(())
    }
    unsafe fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        self.enter(Call::ServerInfo { pid, coid })?;
        if coid >= 10 && !self.open.borrow().contains(&coid) {
            return Err(Errno::BADF);
        }
        let server_pid = if self.attached_pid.get() == 0 {
            self.kernel_pid
        } else {
            self.server.pid
        };
        Ok(MsgInfo64 {
            pid: server_pid,
            coid,
            ..self.server
        })
    }
    unsafe fn connect_flags(
        &self,
        pid: i32,
        coid: i32,
        mask: u32,
        bits: u32,
    ) -> Result<u32, Errno> {
        let call = Call::Flags {
            pid,
            coid,
            mask,
            bits,
        };
        self.enter(call).map(|()| self.conn_flags)
    }
    unsafe fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        self.send(coid, smsg, rmsg, true)
    }
    unsafe fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        self.send(coid, smsg, rmsg, false)
    }
    unsafe fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        self.enter(Call::Register { dstpid, fd, flags })
            .map(|()| HANDLE)
    }
    unsafe fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        info: &MsgInfo64,
    ) -> Result<u64, Errno> {
        *self.register_info.borrow_mut() = Some(*info);
        // SAFETY: the double reaches no OS.
        unsafe { self.dupfd_register(dstpid, fd, flags) }
    }
    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        self.enter(Call::Unregister(handle))
    }
    fn has_dupfd(&self) -> bool {
        self.libc_dupfd
    }
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        self.enter(Call::Dupfd { handle, flags })
            .map(|()| self.connect())
    }
}
