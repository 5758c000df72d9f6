//! Hostile servers: processes this payload starts itself, each owning a channel (created with or
//! without `_NTO_CHF_UNBLOCK`) and misbehaving in one way, and the scenarios that hand the receiver
//! tickets naming them (so that a hostile or stuck server can neither hang nor leak the receiver).
//!
//! A server writes one 4-byte record per message it receives to a log pipe (the message type, or
//! [`PULSE`] ORed with a pulse's code), so a scenario counts what it received: `_IO_DUP`s, `_IO_CLOSE`s,
//! unblock pulses. The receiver runs in a child of the scenario process ([`redeem_in_child`]) that
//! counts its own descriptors and connections before and after (a leak is in the receiver's process)
//! and times the redeem; when it has not answered by the deadline, the server is killed first (which
//! releases a receiver blocked on it) and the receiver's late answer is reported as such.

use core::ffi::c_void;
use core::fmt::Write as _;

use qnx_fdpass::fd::AsRawFd;
use qnx_fdpass::seams;
use qnx_fdpass::sys::nto::DefaultKernel;
use qnx_fdpass::wire::{IoDup, Message, MsgInfoHdr, IO_CLOSE, IO_DUP};
use qnx_fdpass::zerocopy::IntoBytes;
use qnx_fdpass::{receive_fd, DecodeError, Error, Receiver, Timeout};

use crate::kern::{self, Counting, CALL_NAMES};
use crate::out::Text;
use crate::util::{held, En, Held};
use crate::{c, ensure, note, proc, Verdict};

/// A log record's flag for a pulse (its code in the low byte).
const PULSE: u32 = 0x1_0000;

/// How a hostile server behaves once its channel exists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Never calls `MsgReceive`: a sender stays SEND-blocked.
    Silent,
    /// Receives and never replies to anything: a sender stays REPLY-blocked. Pulses are logged.
    Holds,
    /// Answers `_IO_DUP` with `EPERM`, every `_IO_CLOSE` with `EINTR`, anything else `ENOSYS`.
    Refuses,
    /// Answers `_IO_DUP` and `_IO_CLOSE` with success (status 0) although it owns nothing; anything
    /// else `ENOSYS`.
    Lies,
}

/// What a hostile server received.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Log {
    pub dups: u32,
    pub closes: u32,
    pub unblock_pulses: u32,
    pub other: u32,
}

impl core::fmt::Display for Log {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} _IO_DUP, {} _IO_CLOSE, {} unblock pulse(s), {} other",
            self.dups, self.closes, self.unblock_pulses, self.other
        )
    }
}

/// A running hostile server (killed and reaped on drop).
pub struct Server {
    pid: i32,
    chid: i32,
    log_r: i32,
    log: Log,
    dead: bool,
}

/// Starts a hostile server: a forked process that creates a channel with `flags` and behaves as
/// `mode` says.
pub fn start(mode: Mode, flags: u32) -> Result<Server, i32> {
    let setup = proc::pipe()?;
    let log = match proc::pipe() {
        Ok(p) => p,
        Err(e) => {
            proc::close(setup.r);
            proc::close(setup.w);
            return Err(e);
        }
    };
    let pid = proc::spawn(|| {
        proc::close(setup.r);
        proc::close(log.r);
        // SAFETY: integer only.
        let chid = unsafe { c::ChannelCreate(flags) };
        let word = if chid < 0 { -c::errno() } else { chid };
        proc::write_all(setup.w, &word.to_ne_bytes());
        proc::close(setup.w);
        if chid < 0 {
            return 1;
        }
        serve(mode, chid, log.w)
    });
    proc::close(setup.w);
    proc::close(log.w);
    let pid = match pid {
        Ok(p) => p,
        Err(e) => {
            proc::close(setup.r);
            proc::close(log.r);
            return Err(e);
        }
    };
    let mut s = Server {
        pid,
        chid: -1,
        log_r: log.r,
        log: Log::default(),
        dead: false,
    };
    let mut w = [0u8; 4];
    let told = proc::read_exact(setup.r, &mut w);
    proc::close(setup.r);
    if !told {
        return Err(c::EIO_LOCAL);
    }
    let chid = i32::from_ne_bytes(w);
    if chid < 0 {
        return Err(-chid);
    }
    s.chid = chid;
    // The log is read after the fact, never waited on.
    // SAFETY: integers only.
    unsafe { c::fcntl(s.log_r, c::F_SETFL, c::O_NONBLOCK) };
    Ok(s)
}

/// The server's loop.
fn serve(mode: Mode, chid: i32, log: i32) -> i32 {
    if mode == Mode::Silent {
        loop {
            proc::sleep_ms(60_000);
        }
    }
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: `buf` is valid for its length; no message info is asked for.
        let rcvid = unsafe {
            c::MsgReceive(
                chid,
                buf.as_mut_ptr().cast::<c_void>(),
                buf.len(),
                core::ptr::null_mut(),
            )
        };
        if rcvid == -1 {
            if c::errno() == c::EINTR {
                continue;
            }
            return 1;
        }
        if rcvid == 0 {
            // A pulse: `struct _pulse` has its code (int8) at offset 4.
            proc::write_all(log, &(PULSE | u32::from(buf[4])).to_ne_bytes());
            continue;
        }
        let ty = u16::from_ne_bytes([buf[0], buf[1]]);
        proc::write_all(log, &u32::from(ty).to_ne_bytes());
        // SAFETY (each call below): `rcvid` is the message just received; no buffer is passed.
        match mode {
            Mode::Silent | Mode::Holds => {}
            Mode::Refuses => {
                let e = match ty {
                    IO_DUP => c::EPERM,
                    IO_CLOSE => c::EINTR,
                    _ => c::ENOSYS,
                };
                // SAFETY: as above.
                unsafe { c::MsgError(rcvid, e) };
            }
            Mode::Lies => {
                if ty == IO_DUP || ty == IO_CLOSE {
                    // SAFETY: as above.
                    unsafe { c::MsgReply(rcvid, 0, core::ptr::null(), 0) };
                } else {
                    // SAFETY: as above.
                    unsafe { c::MsgError(rcvid, c::ENOSYS) };
                }
            }
        }
    }
}

impl Server {
    /// The server's pid.
    pub const fn pid(&self) -> i32 {
        self.pid
    }

    /// A dup ticket naming this server's channel, the server's pid as the sender (a hostile peer
    /// hands it over; the receiver cannot tell). Its `scoid` has the side-channel bit, as every issued
    /// ticket's.
    pub fn ticket(&self) -> [u8; 60] {
        let msg = IoDup::with_info(
            MsgInfoHdr {
                nd: 0,
                srcnd: 0,
                pid: self.pid,
                tid: self.pid,
                chid: self.chid,
                scoid: 0x4000_0001,
                coid: 3,
            },
            0,
        );
        let mut b = [0u8; 60];
        let bytes = msg.as_bytes();
        b[..bytes.len()].copy_from_slice(bytes);
        b
    }

    /// What the server has logged so far (records waiting in the pipe are added, never waited for).
    pub fn log(&mut self) -> Log {
        let mut rec = [0u8; 4];
        loop {
            // SAFETY: `rec` is valid for 4 bytes; the pipe is non-blocking.
            let n = unsafe { c::read(self.log_r, rec.as_mut_ptr().cast(), 4) };
            if n != 4 {
                break;
            }
            let r = u32::from_ne_bytes(rec);
            if r & PULSE != 0 {
                if (r & 0xff) as u8 as i8 == c::PULSE_CODE_UNBLOCK {
                    self.log.unblock_pulses += 1;
                } else {
                    self.log.other += 1;
                }
            } else if r as u16 == IO_DUP {
                self.log.dups += 1;
            } else if r as u16 == IO_CLOSE {
                self.log.closes += 1;
            } else {
                self.log.other += 1;
            }
        }
        self.log
    }

    /// Kills and reaps the server (a client blocked on it is released with an error).
    pub fn kill(&mut self) {
        if !self.dead {
            proc::kill_reap(self.pid);
            self.dead = true;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        proc::close(self.log_r);
    }
}

/// A redeem's answer, as a child hands it back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Answer {
    /// A descriptor: the server pid `ConnectServerInfo` names for it, the errno of a one-byte read
    /// through it (0: the read succeeded), whether closing it succeeded.
    Fd { server: i32, read_errno: i32 },
    /// `Error::Os`.
    Os(i32),
    /// `Error::Decode`, as [`decode_code`].
    Decode(i32),
}

impl core::fmt::Display for Answer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Answer::Fd { read_errno, .. } => {
                write!(f, "Ok(a descriptor; a read through it: ")?;
                if read_errno == 0 {
                    write!(f, "data)")
                } else {
                    write!(f, "{})", En(read_errno))
                }
            }
            Answer::Os(e) => write!(f, "Err(Os({}))", En(e)),
            Answer::Decode(d) => write!(f, "Err(Decode({}))", decode_name(d)),
        }
    }
}

/// What the receiver's child reported.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub answer: Answer,
    /// The child's descriptors and connections before the redeem and after it (the descriptor, if
    /// any, closed).
    pub before: Held,
    pub after: Held,
    /// How long the redeem took.
    pub ms: u32,
}

/// How a receiver in a child ended.
#[derive(Clone, Copy, Debug)]
pub enum Ran {
    /// It answered within the deadline.
    Answered(Report),
    /// No answer within the deadline; once the server was killed it answered this.
    ReleasedByKill(Report),
    /// No answer even after the server was killed (then killed too).
    NoAnswer,
}

/// A crate refusal as a number a child can hand back.
pub fn decode_code(d: &DecodeError) -> i32 {
    match d {
        DecodeError::BadServerPid(_) => 1,
        DecodeError::BadChid(_) => 2,
        DecodeError::RemoteNode(_) => 3,
        DecodeError::GlobalChannel(_) => 4,
        DecodeError::BadScoid(_) => 5,
        DecodeError::NonZeroKey(_) => 6,
        DecodeError::OwnServer(_) => 7,
        _ => 99,
    }
}

fn decode_name(code: i32) -> &'static str {
    match code {
        1 => "BadServerPid",
        2 => "BadChid",
        3 => "RemoteNode",
        4 => "GlobalChannel",
        5 => "BadScoid",
        6 => "NonZeroKey",
        7 => "OwnServer",
        98 => "a refusal after a kernel call",
        _ => "another DecodeError",
    }
}

/// Turns a redeem's result into an [`Answer`], closing a descriptor it got.
pub fn answer_of(r: Result<qnx_fdpass::OwnedFd, Error>) -> Answer {
    match r {
        Ok(fd) => {
            let server = kern::server_info_from(fd.as_raw_fd()).map_or(-1, |(coid, i)| {
                if coid == fd.as_raw_fd() {
                    i.pid
                } else {
                    -1
                }
            });
            let mut b = [0u8; 1];
            // SAFETY: `b` is valid for one byte.
            let n = unsafe { c::read(fd.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
            let read_errno = if n < 0 { c::errno() } else { 0 };
            drop(fd);
            Answer::Fd { server, read_errno }
        }
        Err(Error::Os(e)) => Answer::Os(e.raw()),
        Err(Error::Decode(d)) => Answer::Decode(decode_code(&d)),
        // `Error` is non-exhaustive: any other kind is "another" refusal here.
        Err(_) => Answer::Decode(99),
    }
}

fn encode(a: Answer) -> [i32; 3] {
    match a {
        Answer::Fd { server, read_errno } => [0, server, read_errno],
        Answer::Os(e) => [1, e, 0],
        Answer::Decode(d) => [2, d, 0],
    }
}

fn decode(w: [i32; 3]) -> Answer {
    match w[0] {
        0 => Answer::Fd {
            server: w[1],
            read_errno: w[2],
        },
        1 => Answer::Os(w[1]),
        _ => Answer::Decode(w[1]),
    }
}

/// Runs `redeem` in a forked receiver: its [`Held`] counts before and after, and the time it took.
/// After `deadline_ms` without an answer the server is killed and the receiver gets 5 s more.
pub fn redeem_in_child(
    server: &mut Server,
    deadline_ms: u32,
    redeem: impl FnOnce() -> Answer,
) -> Ran {
    let Ok(p) = proc::pipe() else {
        return Ran::NoAnswer;
    };
    let child = proc::spawn(|| {
        proc::close(p.r);
        let before = held();
        let t0 = c::now_ms();
        let a = redeem();
        let ms = c::now_ms().saturating_sub(t0) as i32;
        let after = held();
        let a = encode(a);
        let words = [
            a[0],
            a[1],
            a[2],
            before.fds as i32,
            before.conns as i32,
            after.fds as i32,
            after.conns as i32,
            ms,
        ];
        let mut b = [0u8; 32];
        for (i, w) in words.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        proc::write_all(p.w, &b);
        0
    });
    proc::close(p.w);
    let Ok(pid) = child else {
        proc::close(p.r);
        return Ran::NoAnswer;
    };
    let mut late = false;
    let exit = match wait_or_leave(pid, deadline_ms) {
        Some(e) => Some(e),
        None => {
            late = true;
            server.kill();
            proc::wait_for(pid, 5_000)
        }
    };
    // SAFETY: integers only.
    unsafe { c::fcntl(p.r, c::F_SETFL, c::O_NONBLOCK) };
    let mut b = [0u8; 32];
    let got = proc::read_exact(p.r, &mut b);
    proc::close(p.r);
    if !got || !matches!(exit, Some(proc::Exit::Code(0))) {
        return Ran::NoAnswer;
    }
    let w = |i: usize| i32::from_ne_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
    let report = Report {
        answer: decode([w(0), w(1), w(2)]),
        before: Held {
            fds: w(3) as u32,
            conns: w(4) as u32,
        },
        after: Held {
            fds: w(5) as u32,
            conns: w(6) as u32,
        },
        ms: w(7) as u32,
    };
    if late {
        Ran::ReleasedByKill(report)
    } else {
        Ran::Answered(report)
    }
}

/// Waits for `pid` at most `ms` milliseconds, leaving it running after that (`None`).
fn wait_or_leave(pid: i32, ms: u32) -> Option<proc::Exit> {
    let mut waited = 0;
    loop {
        let mut st = 0;
        // SAFETY: `st` is a live int the call writes.
        let r = unsafe { c::waitpid(pid, &mut st, c::WNOHANG) };
        if r == pid {
            return Some(if st & 0xff == 0 {
                proc::Exit::Code((st >> 8) & 0xff)
            } else {
                proc::Exit::Signal(st & 0x7f)
            });
        }
        if r < 0 || waited >= ms {
            return None;
        }
        proc::sleep_ms(10);
        waited += 10;
    }
}

/// Starts a server or fails the scenario.
macro_rules! server_or_fail {
    ($t:expr, $mode:expr, $flags:expr) => {
        match start($mode, $flags) {
            Ok(s) => s,
            Err(e) => {
                note!($t, "hostile server: {}", En(e));
                return Verdict::Fail;
            }
        }
    };
}

/// A receiver's counts must be flat across the redeem.
fn flat(t: &mut Text, r: &Report) -> bool {
    if r.before == r.after {
        true
    } else {
        note!(
            t,
            "; THE RECEIVER HELD {} BEFORE, {} AFTER",
            r.before,
            r.after
        );
        false
    }
}

/// A server that receives the `_IO_DUP` and never replies, on a channel created with
/// `_NTO_CHF_UNBLOCK` (as resource managers create theirs): even the bounded redeem stays REPLY-blocked
/// past its timeout. When the time is up the kernel only sends the server an unblock pulse; the
/// receiver waits for a reply until the server dies. Killing the server releases it with an error and
/// leaves nothing behind. What the timeout cannot bound, shown.
pub fn hostile_holds_unblock(t: &mut Text) -> Verdict {
    let mut s = server_or_fail!(t, Mode::Holds, c::NTO_CHF_UNBLOCK);
    let tk = s.ticket();
    let ran = redeem_in_child(&mut s, 3_000, || bounded(&tk));
    let log = s.log();
    let r = match ran {
        Ran::ReleasedByKill(r) => r,
        Ran::Answered(r) => {
            note!(
                t,
                "the bounded redeem answered {} within 3 s: expected it to stay REPLY-blocked",
                r.answer
            );
            return Verdict::Fail;
        }
        Ran::NoAnswer => {
            note!(t, "the redeem still blocked after the server was killed");
            return Verdict::Fail;
        }
    };
    note!(
        t,
        "redeem with a {TIMEOUT_MS} ms timeout: no answer within 3 s (REPLY-blocked); the server \
         received {log}; after the server was killed: {}",
        r.answer
    );
    ensure!(
        t,
        log == Log {
            dups: 1,
            unblock_pulses: 1,
            ..Log::default()
        },
        "; expected one _IO_DUP and one unblock pulse"
    );
    ensure!(t, matches!(r.answer, Answer::Os(_)), "; expected an error");
    if !flat(t, &r) {
        return Verdict::Fail;
    }
    note!(t, "; nothing leaked -- {} ms", r.ms);
    Verdict::Pass
}

/// A server that answers `_IO_DUP` with success although it owns nothing: the receiver gets a
/// descriptor bound to nothing but that server's word. Every use of it goes to the hostile server
/// (here a read gets its `ENOSYS`); closing it sends the server one `_IO_CLOSE` and leaves nothing.
/// Only a peer trusted to name honest servers can be allowed to hand over tickets.
pub fn hostile_lies(t: &mut Text) -> Verdict {
    let mut s = server_or_fail!(t, Mode::Lies, 0);
    let tk = s.ticket();
    let pid = s.pid();
    let ran = redeem_in_child(&mut s, 5_000, || answer_of(receive_fd(&tk)));
    let log = s.log();
    let Ran::Answered(r) = ran else {
        note!(t, "receive_fd did not answer within 5 s: {ran:?}");
        return Verdict::Fail;
    };
    note!(t, "receive_fd: {}; the server received {log}", r.answer);
    let Answer::Fd { server, read_errno } = r.answer else {
        note!(t, "; expected the lie to be believed (a descriptor)");
        return Verdict::Fail;
    };
    ensure!(
        t,
        server == pid,
        "; the descriptor is bound to server pid {server}, not the hostile server"
    );
    ensure!(
        t,
        read_errno == c::ENOSYS,
        "; expected the hostile server's ENOSYS"
    );
    ensure!(
        t,
        log == Log {
            dups: 1,
            closes: 1,
            unblock_pulses: 0,
            other: 1
        },
        "; expected 1 _IO_DUP, 1 _IO_CLOSE, 1 other (the read)"
    );
    if !flat(t, &r) {
        return Verdict::Fail;
    }
    note!(
        t,
        "; the descriptor is bound to the hostile server's channel; closed, nothing leaked -- {} ms",
        r.ms
    );
    Verdict::Pass
}

/// Forged tickets the crate refuses before any kernel call: a scoid without the side-channel bit and
/// a non-zero 7.x key. Counted through a wrapper around the build's backend, as `kernel_calls` does.
pub fn hostile_refusals(t: &mut Text) -> Verdict {
    let s = server_or_fail!(t, Mode::Lies, 0);
    let good = s.ticket();
    let scoid_at = core::mem::offset_of!(IoDup, info.scoid);
    let key_at = core::mem::offset_of!(IoDup, key);
    let put = |at: usize, v: u32| {
        let mut b = good;
        b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        b
    };
    let cases: [(&str, [u8; 60], DecodeError); 3] = [
        (
            "scoid without the side-channel bit",
            put(scoid_at, 1),
            DecodeError::BadScoid(1),
        ),
        (
            "negative scoid",
            put(scoid_at, 0xc000_0001),
            DecodeError::BadScoid(0xc000_0001_u32 as i32),
        ),
        (
            "key 0x1234",
            put(key_at, 0x1234),
            DecodeError::NonZeroKey(0x1234),
        ),
    ];
    let mut r = seams::Receiver::<0, _>::with_kernel(Counting::new(DefaultKernel::default()));
    let mut ok = true;
    for (what, bytes, want) in cases {
        r.kernel().reset();
        let got = r.redeem(&bytes).map(drop);
        let calls: u32 = r.kernel().counts().iter().sum();
        note!(t, "{what}: ");
        match got {
            Err(Error::Decode(d)) if d == want => note!(t, "{d:?}"),
            Err(e) => {
                note!(t, "WRONG ANSWER {e:?}");
                ok = false;
            }
            Ok(()) => {
                note!(t, "GRANTED");
                ok = false;
            }
        }
        if calls != 0 {
            let n = r.kernel().counts();
            note!(t, " AFTER {calls} KERNEL CALLS (");
            for (i, c) in n.iter().enumerate().filter(|(_, &c)| c > 0) {
                note!(t, "{} {c} ", CALL_NAMES[i]);
            }
            note!(t, ")");
            ok = false;
        } else {
            note!(t, ", 0 kernel calls");
        }
        note!(t, "; ");
    }
    drop(s);
    if !ok {
        return Verdict::Fail;
    }
    let _ = write!(t, "refused before any kernel call");
    Verdict::Pass
}

/// A server that answers `_IO_DUP` with `EPERM` and every `_IO_CLOSE` with `EINTR`: the redeem fails
/// promptly with `EPERM` after one `ConnectDetach`, as libc's failed dup: no `_IO_CLOSE` at all, and
/// nothing left attached.
pub fn hostile_refuses(t: &mut Text) -> Verdict {
    let mut s = server_or_fail!(t, Mode::Refuses, 0);
    let tk = s.ticket();
    let ran = redeem_in_child(&mut s, 5_000, || answer_of(receive_fd(&tk)));
    let log = s.log();
    let Ran::Answered(r) = ran else {
        note!(t, "receive_fd did not answer within 5 s: {ran:?}");
        return Verdict::Fail;
    };
    note!(t, "receive_fd: {}; the server received {log}", r.answer);
    let kept = !flat(t, &r);
    ensure!(
        t,
        r.answer == Answer::Os(c::EPERM),
        "; expected Err(Os(EPERM))"
    );
    ensure!(
        t,
        log == Log {
            dups: 1,
            ..Log::default()
        },
        "; expected one _IO_DUP and no _IO_CLOSE (libc only detaches after a failed dup)"
    );
    if kept {
        return Verdict::Fail;
    }
    ensure!(t, r.ms < 1_000, "; took {} ms", r.ms);
    note!(t, "; one ConnectDetach, nothing leaked -- {} ms", r.ms);
    Verdict::Pass
}

/// A ticket naming the receiver's own pid and a channel the receiver owns (and never receives on):
/// refused by default with `OwnServer`, before `ConnectAttach` (only `getpid`, a TLS read, is asked);
/// with `Receiver::allow_own_server` the redeem sends to that channel and, with no other thread
/// receiving there, never returns (killed at the deadline): what the opt-in is for and what it costs.
pub fn hostile_own_channel(t: &mut Text) -> Verdict {
    let ask = |allow: bool| {
        let Ok(mut me) = start(Mode::Silent, 0) else {
            return None;
        };
        // The receiver's child makes its own channel; the ticket names the child's pid and that chid.
        Some(redeem_in_child(&mut me, 3_000, move || {
            // SAFETY: integer only.
            let chid = unsafe { c::ChannelCreate(0) };
            // SAFETY: no preconditions.
            let pid = unsafe { c::getpid() };
            let msg = IoDup::with_info(
                MsgInfoHdr {
                    nd: 0,
                    srcnd: 0,
                    pid,
                    tid: pid,
                    chid,
                    scoid: 0x4000_0001,
                    coid: 3,
                },
                0,
            );
            let k = Counting::new(DefaultKernel::default());
            let mut r = seams::Receiver::<0, _>::with_kernel(k);
            if allow {
                r = r.allow_own_server();
            }
            let a = answer_of(r.redeem(msg.as_bytes()));
            let n = r.kernel().counts();
            // Only getpid (index 7) may have been asked before the refusal.
            match a {
                Answer::Decode(d) if n.iter().sum::<u32>() == n[7] => Answer::Decode(d),
                Answer::Decode(_) => Answer::Decode(98),
                other => other,
            }
        }))
    };
    let refused = ask(false);
    let allowed = ask(true);
    match refused {
        Some(Ran::Answered(r)) if r.answer == Answer::Decode(7) => {
            note!(t, "default: {}, no call but getpid", r.answer);
            if !flat(t, &r) {
                return Verdict::Fail;
            }
        }
        other => {
            note!(
                t,
                "default: expected Err(Decode(OwnServer)) before any call, got {other:?}"
            );
            return Verdict::Fail;
        }
    }
    match allowed {
        Some(Ran::ReleasedByKill(_) | Ran::NoAnswer) => note!(
            t,
            "; allow_own_server: no answer within 3 s (the receiver sent to its own channel), killed"
        ),
        other => {
            note!(t, "; allow_own_server: expected the receiver to block, got {other:?}");
            return Verdict::Fail;
        }
    }
    Verdict::Pass
}

/// The deadline the bounded redeems get, and the slack allowed on top (TCG timer ticks, a loaded host).
const TIMEOUT_MS: u32 = 500;
const SLACK_MS: u32 = 1_500;

/// The redeem the bounded rows use: a `Receiver` with a [`TIMEOUT_MS`] timeout.
fn bounded(tk: &[u8]) -> Answer {
    answer_of(
        Receiver::new()
            .with_timeout(Timeout::from_millis(TIMEOUT_MS as u64))
            .redeem(tk),
    )
}

/// The checks of a row whose redeem must end with `ETIMEDOUT` within the deadline plus the slack.
fn timed_out(t: &mut Text, ran: Ran, log: Log, want: Log) -> Verdict {
    let r = match ran {
        Ran::Answered(r) => r,
        Ran::ReleasedByKill(r) => {
            note!(
                t,
                "NO ANSWER within {} ms; the server received {log}; after the server was killed: {}",
                TIMEOUT_MS + SLACK_MS + 1_000,
                r.answer
            );
            let _ = flat(t, &r);
            return Verdict::Fail;
        }
        Ran::NoAnswer => {
            note!(
                t,
                "NO ANSWER, even after the server was killed; it received {log}"
            );
            return Verdict::Fail;
        }
    };
    note!(t, "redeem: {}; the server received {log}", r.answer);
    ensure!(
        t,
        r.answer == Answer::Os(c::ETIMEDOUT),
        "; expected Err(Os(ETIMEDOUT))"
    );
    ensure!(t, log == want, "; expected {want}");
    ensure!(
        t,
        r.ms <= TIMEOUT_MS + SLACK_MS,
        "; took {} ms, more than {TIMEOUT_MS} ms + {SLACK_MS} ms slack",
        r.ms
    );
    if !flat(t, &r) {
        return Verdict::Fail;
    }
    note!(
        t,
        "; within {TIMEOUT_MS} ms + {SLACK_MS} ms slack, nothing leaked -- {} ms",
        r.ms
    );
    Verdict::Pass
}

/// A server that never receives: the bounded redeem answers `ETIMEDOUT` (SEND-blocked, released by
/// the timeout), the new connection detached.
pub fn hostile_silent(t: &mut Text) -> Verdict {
    let mut s = server_or_fail!(t, Mode::Silent, 0);
    let tk = s.ticket();
    let ran = redeem_in_child(&mut s, TIMEOUT_MS + SLACK_MS + 1_000, || bounded(&tk));
    let log = s.log();
    timed_out(t, ran, log, Log::default())
}

/// A server that receives the `_IO_DUP` and never replies, on a channel without `_NTO_CHF_UNBLOCK`:
/// the bounded redeem answers `ETIMEDOUT` (REPLY-blocked, released by the timeout).
pub fn hostile_holds(t: &mut Text) -> Verdict {
    let mut s = server_or_fail!(t, Mode::Holds, 0);
    let tk = s.ticket();
    let ran = redeem_in_child(&mut s, TIMEOUT_MS + SLACK_MS + 1_000, || bounded(&tk));
    let log = s.log();
    timed_out(
        t,
        ran,
        log,
        Log {
            dups: 1,
            ..Log::default()
        },
    )
}
