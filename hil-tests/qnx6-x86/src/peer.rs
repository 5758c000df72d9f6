//! The sending side of a scenario: a forked "holder" process that owns a descriptor and, on command over
//! a pipe, issues tickets for it through the crate's public API, moves its offset, closes it or opens
//! another file. Commands are fixed 12-byte records; replies a 12-byte header and up to 512 bytes.
//!
//! A holder exits when told to or when its command pipe reaches end of file (the scenario process died:
//! nothing lingers after a killed scenario).

use core::ffi::CStr;

use qnx_fdpass::{Access, BorrowedFd, DupBatch, DupTicket, OpenfdTicket, Recipient, StatusFlags};

use crate::{c, proc};

/// Issue a dup ticket: `a` the recipient pid (0 = any), `b` the descriptor (-1 = the held one).
pub const DUP: u32 = 1;
/// Issue an openfd ticket for the held descriptor: `a` the recipient, `b` the access (1 r, 2 w, 3 rw)
/// ORed with status flags (`O_*` bits, `OpenfdTicket::with_flags`).
pub const OPENFD: u32 = 2;
/// `lseek(held, a, SEEK_SET)`.
pub const SEEK: u32 = 3;
/// The held descriptor's offset.
pub const OFFSET: u32 = 4;
/// `close(b)` (-1 = the held one).
pub const CLOSE: u32 = 5;
/// Open path `a` of the holder's list with flags `b`; it becomes the held descriptor.
pub const OPEN: u32 = 6;
/// A batch of `a` good and `b` stale dup tickets for fresh `dup()`s of the held descriptor.
pub const BATCH: u32 = 7;
/// `setuid(a)`.
pub const SETUID: u32 = 8;
/// Exit 0.
pub const QUIT: u32 = 9;

/// The data of a reply (ticket bytes).
#[derive(Clone, Copy)]
pub struct Bytes {
    pub buf: [u8; 512],
    pub len: usize,
}

impl Bytes {
    pub const fn new() -> Self {
        Self {
            buf: [0; 512],
            len: 0,
        }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A reply: 0 or an errno, a value, data.
pub struct Reply {
    pub status: i32,
    pub value: i32,
    pub data: Bytes,
}

/// The scenario's end of a holder.
pub struct Peer {
    pid: i32,
    to: i32,
    from: i32,
    done: bool,
    /// The descriptor number the holder opened first (or the errno of that open, negated).
    pub fd: i32,
}

/// Forks a holder: `open` runs in the holder and gives the descriptor it holds; `paths` are what
/// [`OPEN`] may open.
pub fn holder(
    open: impl FnOnce() -> Result<i32, i32>,
    paths: &'static [&'static CStr],
) -> Result<Peer, i32> {
    let cmd = proc::pipe()?;
    let rep = proc::pipe()?;
    let pid = proc::spawn(|| {
        proc::close(cmd.w);
        proc::close(rep.r);
        serve(cmd.r, rep.w, open, paths)
    });
    proc::close(cmd.r);
    proc::close(rep.w);
    let pid = match pid {
        Ok(p) => p,
        Err(e) => {
            proc::close(cmd.w);
            proc::close(rep.r);
            return Err(e);
        }
    };
    let mut p = Peer {
        pid,
        to: cmd.w,
        from: rep.r,
        done: false,
        fd: -1,
    };
    let hello = p.read_reply().ok_or(c::EIO_LOCAL)?;
    if hello.status != 0 {
        return Err(hello.status);
    }
    p.fd = hello.value;
    Ok(p)
}

impl Peer {
    /// Sends a command and waits for its reply (`None`: the holder is gone).
    pub fn call(&mut self, op: u32, a: i32, b: i32) -> Option<Reply> {
        let mut req = [0u8; 12];
        req[..4].copy_from_slice(&op.to_ne_bytes());
        req[4..8].copy_from_slice(&a.to_ne_bytes());
        req[8..].copy_from_slice(&b.to_ne_bytes());
        if !proc::write_all(self.to, &req) {
            return None;
        }
        self.read_reply()
    }

    fn read_reply(&mut self) -> Option<Reply> {
        let mut h = [0u8; 12];
        if !proc::read_exact(self.from, &mut h) {
            return None;
        }
        let word = |i: usize| i32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let mut data = Bytes::new();
        data.len = (word(8) as usize).min(512);
        if !proc::read_exact(self.from, &mut data.buf[..data.len]) {
            return None;
        }
        Some(Reply {
            status: word(0),
            value: word(4),
            data,
        })
    }

    /// A ticket (or batch) the holder issued, or the errno it got.
    pub fn ticket(&mut self, op: u32, a: i32, b: i32) -> Result<Bytes, i32> {
        match self.call(op, a, b) {
            Some(r) if r.status == 0 => Ok(r.data),
            Some(r) => Err(r.status),
            None => Err(c::EIO_LOCAL),
        }
    }

    /// A command whose reply is a value, or the errno.
    pub fn value(&mut self, op: u32, a: i32, b: i32) -> Result<i32, i32> {
        match self.call(op, a, b) {
            Some(r) if r.status == 0 => Ok(r.value),
            Some(r) => Err(r.status),
            None => Err(c::EIO_LOCAL),
        }
    }

    /// The holder's pid.
    pub const fn pid(&self) -> i32 {
        self.pid
    }

    /// Tells the holder to exit and reaps it; its exit code (or `None` if it had to be killed).
    pub fn quit(&mut self) -> Option<i32> {
        let _ = self.call(QUIT, 0, 0);
        self.done = true;
        proc::close(self.to);
        proc::close(self.from);
        match proc::wait_for(self.pid, 5_000) {
            Some(proc::Exit::Code(c)) => Some(c),
            _ => None,
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if !self.done {
            proc::close(self.to);
            proc::close(self.from);
            proc::kill_reap(self.pid);
        }
    }
}

fn reply(w: i32, status: i32, value: i32, data: &[u8]) {
    let mut h = [0u8; 12];
    h[..4].copy_from_slice(&status.to_ne_bytes());
    h[4..8].copy_from_slice(&value.to_ne_bytes());
    h[8..].copy_from_slice(&(data.len() as u32).to_ne_bytes());
    proc::write_all(w, &h);
    proc::write_all(w, data);
}

fn recipient(pid: i32) -> Recipient {
    if pid > 0 {
        Recipient::Pid(pid)
    } else {
        Recipient::Any
    }
}

/// The holder's loop.
fn serve(
    r: i32,
    w: i32,
    open: impl FnOnce() -> Result<i32, i32>,
    paths: &'static [&'static CStr],
) -> i32 {
    let mut held = match open() {
        Ok(fd) => fd,
        Err(e) => {
            reply(w, e, 0, &[]);
            return 1;
        }
    };
    reply(w, 0, held, &[]);
    let mut req = [0u8; 12];
    while proc::read_exact(r, &mut req) {
        let op = u32::from_ne_bytes([req[0], req[1], req[2], req[3]]);
        let a = i32::from_ne_bytes([req[4], req[5], req[6], req[7]]);
        let b = i32::from_ne_bytes([req[8], req[9], req[10], req[11]]);
        let fd = if b < 0 { held } else { b };
        match op {
            DUP => {
                // SAFETY: the holder keeps `fd` open while it answers (a closed one gives EBADF).
                let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
                match DupTicket::new(bfd, recipient(a)) {
                    Ok(t) => reply(w, 0, 0, t.as_bytes()),
                    Err(e) => reply(w, e.raw(), 0, &[]),
                }
            }
            OPENFD => {
                let access = match b & 3 {
                    1 => Access::Read,
                    2 => Access::Write,
                    _ => Access::ReadWrite,
                };
                let flags = StatusFlags::from_bits((b & !3) as u32).unwrap_or_default();
                // SAFETY: as for DUP.
                let bfd = unsafe { BorrowedFd::borrow_raw(held) };
                match OpenfdTicket::with_flags(bfd, access, flags, recipient(a)) {
                    Ok(t) => reply(w, 0, 0, t.as_bytes()),
                    Err(e) => reply(w, e.raw(), 0, &[]),
                }
            }
            SEEK | OFFSET => {
                let (to, how) = if op == SEEK {
                    (a, c::SEEK_SET)
                } else {
                    (0, c::SEEK_CUR)
                };
                // SAFETY: integers only.
                let off = unsafe { c::lseek(held, to, how) };
                if off < 0 {
                    reply(w, c::errno(), 0, &[]);
                } else {
                    reply(w, 0, off, &[]);
                }
            }
            CLOSE => {
                // SAFETY: closes a descriptor this holder owns.
                let rc = unsafe { c::close(fd) };
                reply(w, if rc == 0 { 0 } else { c::errno() }, 0, &[]);
            }
            OPEN => match paths.get(a as usize) {
                Some(p) => {
                    // SAFETY: NUL-terminated path; the mode argument is read only with O_CREAT.
                    let nfd = unsafe { c::open(p.as_ptr(), b, 0o644) };
                    if nfd < 0 {
                        reply(w, c::errno(), 0, &[]);
                    } else {
                        held = nfd;
                        reply(w, 0, nfd, &[]);
                    }
                }
                None => reply(w, c::EIO_LOCAL, 0, &[]),
            },
            BATCH => match batch(held, a, b) {
                Ok(bytes) => reply(w, 0, 0, bytes.as_slice()),
                Err(e) => reply(w, e, 0, &[]),
            },
            SETUID => {
                // SAFETY: integer only.
                let rc = unsafe { c::setuid(a as u32) };
                reply(w, if rc == 0 { 0 } else { c::errno() }, 0, &[]);
            }
            QUIT => {
                reply(w, 0, 0, &[]);
                return 0;
            }
            _ => reply(w, c::EIO_LOCAL, 0, &[]),
        }
    }
    0
}

/// `good` tickets for fresh dups of `fd` kept open, then `stale` for dups closed right after issue.
fn batch(fd: i32, good: i32, stale: i32) -> Result<Bytes, i32> {
    let mut batch = DupBatch::<8>::new();
    for i in 0..good + stale {
        // SAFETY: integer only; the new descriptor is owned here.
        let d = unsafe { c::dup(fd) };
        if d < 0 {
            return Err(c::errno());
        }
        // SAFETY: `d` is open until closed below (or until the holder exits).
        let t = DupTicket::new(unsafe { BorrowedFd::borrow_raw(d) }, Recipient::Any)
            .map_err(|e| e.raw())?;
        batch.push(t).map_err(|_| c::EIO_LOCAL)?;
        if i >= good {
            proc::close(d);
        }
    }
    let mut out = Bytes::new();
    let b = batch.as_bytes();
    out.len = b.len().min(512);
    out.buf[..out.len].copy_from_slice(&b[..out.len]);
    Ok(out)
}
