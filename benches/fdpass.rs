//! Cross-process descriptor-pass benchmark: this crate against `SCM_RIGHTS`, against the same
//! pass written by hand with `rustix`, and against the floors (the transport alone, a bare
//! `pidfd_getfd` + `close`).
//!
//! The benchmark process is the receiver; it re-executes itself as the sender (`FDPASS_BENCH_ROLE=sender`),
//! handing it the transports by inheritance. Both stay up for the whole run. Every round runs every
//! variant once, in the same order, so the ratios are taken round by round between runs seconds apart.
//!
//! Variants (ns per pass, one pass = one descriptor, or one packet of 8 in the `x8` rows):
//!
//! - `a`: this crate, as a program passing many descriptors uses it: a ticket per pass from an `Issuer`
//!   made once (`Issuer::dup`), the bytes over the transport, `Receiver::redeem` (or
//!   `redeem_batch::<8>`), drop (close) on the receiver;
//! - `a-new`: the same with `DupTicket::new` per pass (one `getpid` per ticket on the host);
//! - `a1`: the same, but the sender sends tickets built once (as `c` does): the receiving side alone;
//! - `a0`: the same as `a` with the stateless `receive_fd` (a pidfd opened per pass), for reference;
//! - `b`: `SCM_RIGHTS` over the Unix socketpair, `recvmsg` with `MSG_CMSG_CLOEXEC`, close;
//! - `c`: the same ticket bytes over the same transport, `pidfd_getfd` on a pidfd kept for the peer, close;
//! - `floor`: the ticket bytes over the transport, no descriptor work;
//! - `getfd`: `pidfd_getfd` + `close` in a loop, no transport.
//!
//! Modes: `stream` (the sender sends back to back) and `ping` (the receiver acknowledges each pass with
//! one byte and the sender waits for it). Transports: `sock` (a `SOCK_STREAM` Unix socketpair) and `pipe`
//! (a pipe each way).
//!
//! Environment: `FDPASS_BENCH_QUICK=1` (a few passes, for CI), `FDPASS_BENCH_PASSES`,
//! `FDPASS_BENCH_ROUNDS`, `FDPASS_BENCH_ONLY=<substring of a variant name>` (for `strace`/`perf`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, Command};
use std::time::Instant;

use qnx_fdpass::wire::{IoDup, TicketBuf};
use qnx_fdpass::{DupBatch, DupTicket, Issuer, Receiver, Recipient};
use rustix::io::{FdFlags, IoSliceMut};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags};

const TICKET: usize = core::mem::size_of::<IoDup>();
const BATCH: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    A,
    ANew,
    A0,
    A1,
    B,
    C,
    Floor,
    GetFd,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    Sock,
    Pipe,
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Stream,
    Ping,
}

#[derive(Clone, Copy, Debug)]
struct Variant {
    kind: Kind,
    transport: Transport,
    mode: Mode,
    batch: usize,
}

impl Variant {
    fn name(&self) -> String {
        let k = match self.kind {
            Kind::A => "a",
            Kind::ANew => "a-new",
            Kind::A0 => "a0",
            Kind::A1 => "a1",
            Kind::B => "b",
            Kind::C => "c",
            Kind::Floor => "floor",
            Kind::GetFd => "getfd",
        };
        let t = match self.transport {
            Transport::Sock => "sock",
            Transport::Pipe => "pipe",
            Transport::None => "none",
        };
        let m = match self.mode {
            Mode::Stream => "stream",
            Mode::Ping => "ping",
        };
        let b = if self.batch == 1 { "" } else { " x8" };
        format!("{k} {m} {t}{b}")
    }

    fn encode(&self, n: u32) -> [u8; 8] {
        let mut c = [0u8; 8];
        c[0] = self.kind as u8;
        c[1] = self.transport as u8;
        c[2] = self.mode as u8;
        c[3] = self.batch as u8;
        c[4..].copy_from_slice(&n.to_ne_bytes());
        c
    }

    fn decode(c: [u8; 8]) -> (Self, u32) {
        let kind = [
            Kind::A,
            Kind::ANew,
            Kind::A0,
            Kind::A1,
            Kind::B,
            Kind::C,
            Kind::Floor,
            Kind::GetFd,
        ][usize::from(c[0])];
        let transport = [Transport::Sock, Transport::Pipe, Transport::None][usize::from(c[1])];
        let mode = [Mode::Stream, Mode::Ping][usize::from(c[2])];
        let v = Self {
            kind,
            transport,
            mode,
            batch: usize::from(c[3]),
        };
        (v, u32::from_ne_bytes(c[4..].try_into().unwrap()))
    }
}

fn variants() -> Vec<Variant> {
    use Kind::*;
    use Mode::*;
    use Transport::*;
    let v = |kind, mode, transport, batch| Variant {
        kind,
        transport,
        mode,
        batch,
    };
    let mut out = Vec::new();
    for mode in [Stream, Ping] {
        for kind in [A, ANew, A1, B, C, Floor] {
            out.push(v(kind, mode, Sock, 1));
        }
        for kind in [A, ANew, A1, C, Floor] {
            out.push(v(kind, mode, Pipe, 1));
        }
    }
    out.push(v(A0, Stream, Sock, 1));
    out.push(v(GetFd, Stream, None, 1));
    for mode in [Stream, Ping] {
        for kind in [A, ANew, A1, B, C] {
            out.push(v(kind, mode, Sock, BATCH));
        }
        for kind in [A, ANew, A1, C] {
            out.push(v(kind, mode, Pipe, BATCH));
        }
    }
    out.push(v(GetFd, Stream, None, BATCH));
    out
}

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("write: {e}"),
        }
    }
}

fn read_exact(fd: BorrowedFd<'_>, mut buf: &mut [u8]) {
    while !buf.is_empty() {
        match rustix::io::read(fd, &mut *buf) {
            Ok(0) => panic!("read: end of file"),
            Ok(n) => buf = &mut buf[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    if std::env::var("FDPASS_BENCH_ROLE").as_deref() == Ok("sender") {
        sender();
    } else {
        receiver();
    }
}

// ---- sender -----------------------------------------------------------------------------------------

fn inherited(var: &str) -> OwnedFd {
    let raw: RawFd = std::env::var(var).unwrap().parse().unwrap();
    // SAFETY: the receiver created this descriptor, cleared close-on-exec on it and passes its number in
    // `var`; this process owns its copy and nothing else here refers to it.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

fn sender() {
    let ctl = inherited("FDPASS_BENCH_CTL");
    let sock = inherited("FDPASS_BENCH_SOCK");
    let pipe_w = inherited("FDPASS_BENCH_PIPE");
    let back_r = inherited("FDPASS_BENCH_BACK");

    // The descriptors passed: a shared-memory object and seven duplicates of it.
    let mem = rustix::fs::memfd_create("fdpass-bench", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::fs::ftruncate(&mem, 4096).unwrap();
    let mut fds = vec![mem];
    while fds.len() < BATCH {
        fds.push(rustix::io::fcntl_dupfd_cloexec(&fds[0], 0).unwrap());
    }
    // `a` issues its tickets through one `Issuer`, made once, as a program sending many would.
    let qsender = Issuer::new().unwrap();
    let qfds: Vec<qnx_fdpass::BorrowedFd<'_>> = fds
        .iter()
        // SAFETY: `fds` outlives `qfds` and keeps every descriptor open.
        .map(|f| unsafe { qnx_fdpass::BorrowedFd::borrow_raw(f.as_raw_fd()) })
        .collect();

    // The hand-written variants send these bytes: the crate's tickets, built once.
    let mut prebuilt = DupBatch::<BATCH>::new();
    for q in &qfds {
        prebuilt
            .push(DupTicket::new(*q, Recipient::Any).unwrap())
            .unwrap();
    }
    let prebuilt = prebuilt.as_bytes().to_vec();
    write_all(ctl.as_fd(), &prebuilt);

    loop {
        let mut cmd = [0u8; 8];
        match rustix::io::read(&ctl, &mut cmd) {
            Ok(0) => return,
            Ok(8) => {}
            Ok(n) => read_exact(ctl.as_fd(), &mut cmd[n..]),
            Err(e) => panic!("control: {e}"),
        }
        let (v, n) = Variant::decode(cmd);
        write_all(ctl.as_fd(), b"r");
        read_exact(ctl.as_fd(), &mut [0u8]);
        let (out, ack) = match v.transport {
            Transport::Pipe => (pipe_w.as_fd(), back_r.as_fd()),
            _ => (sock.as_fd(), sock.as_fd()),
        };
        let borrowed: Vec<BorrowedFd<'_>> = fds.iter().take(v.batch).map(|f| f.as_fd()).collect();
        let mut cmsg_space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
        for _ in 0..n {
            match v.kind {
                Kind::A | Kind::A0 => {
                    if v.batch == 1 {
                        let t = qsender.dup(qfds[0], Recipient::Any).unwrap();
                        write_all(out, t.as_bytes());
                    } else {
                        let mut b = DupBatch::<BATCH>::new();
                        for q in &qfds {
                            b.push(qsender.dup(*q, Recipient::Any).unwrap()).unwrap();
                        }
                        write_all(out, b.as_bytes());
                    }
                }
                Kind::ANew => {
                    if v.batch == 1 {
                        let t = DupTicket::new(qfds[0], Recipient::Any).unwrap();
                        write_all(out, t.as_bytes());
                    } else {
                        let mut b = DupBatch::<BATCH>::new();
                        for q in &qfds {
                            b.push(DupTicket::new(*q, Recipient::Any).unwrap()).unwrap();
                        }
                        write_all(out, b.as_bytes());
                    }
                }
                Kind::B => {
                    let mut control = SendAncillaryBuffer::new(&mut cmsg_space);
                    assert!(control.push(SendAncillaryMessage::ScmRights(&borrowed)));
                    let sent = rustix::net::sendmsg(
                        out,
                        &[IoSlice::new(b"x")],
                        &mut control,
                        SendFlags::empty(),
                    )
                    .unwrap();
                    assert_eq!(sent, 1);
                }
                Kind::A1 | Kind::C | Kind::Floor => {
                    write_all(out, &prebuilt[..TICKET * v.batch]);
                }
                Kind::GetFd => break,
            }
            if v.mode == Mode::Ping {
                read_exact(ack, &mut [0u8]);
            }
        }
    }
}

// ---- receiver ---------------------------------------------------------------------------------------

struct Peer {
    child: Child,
    pid: Pid,
    ctl: OwnedFd,
    sock: OwnedFd,
    pipe_r: OwnedFd,
    back_w: OwnedFd,
    tickets: Vec<u8>,
}

fn no_cloexec(fd: &OwnedFd) -> String {
    rustix::io::fcntl_setfd(fd, FdFlags::empty()).unwrap();
    fd.as_raw_fd().to_string()
}

fn spawn_sender() -> Peer {
    let cloexec = SocketFlags::CLOEXEC;
    let (ctl, ctl_c) =
        rustix::net::socketpair(AddressFamily::UNIX, SocketType::STREAM, cloexec, None).unwrap();
    let (sock, sock_c) =
        rustix::net::socketpair(AddressFamily::UNIX, SocketType::STREAM, cloexec, None).unwrap();
    let (pipe_r, pipe_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let (back_r, back_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .env("FDPASS_BENCH_ROLE", "sender")
        .env("FDPASS_BENCH_CTL", no_cloexec(&ctl_c))
        .env("FDPASS_BENCH_SOCK", no_cloexec(&sock_c))
        .env("FDPASS_BENCH_PIPE", no_cloexec(&pipe_w))
        .env("FDPASS_BENCH_BACK", no_cloexec(&back_r))
        .spawn()
        .unwrap();
    drop((ctl_c, sock_c, pipe_w, back_r));
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    let mut tickets = vec![0u8; TICKET * BATCH];
    read_exact(ctl.as_fd(), &mut tickets);
    Peer {
        child,
        pid,
        ctl,
        sock,
        pipe_r,
        back_w,
        tickets,
    }
}

/// The sender's descriptor number in a ticket, read by hand (what variant `c` needs from the bytes).
fn coid_of(ticket: &[u8]) -> RawFd {
    let at = core::mem::offset_of!(IoDup, info)
        + core::mem::offset_of!(qnx_fdpass::wire::MsgInfoHdr, coid);
    RawFd::from_ne_bytes(ticket[at..at + 4].try_into().unwrap())
}

struct State {
    receiver: Receiver,
    pidfd: OwnedFd,
    coids: Vec<RawFd>,
}

/// Runs `n` passes of `v`; returns the elapsed nanoseconds.
fn run(peer: &Peer, st: &mut State, v: Variant, n: u32) -> u128 {
    if v.kind == Kind::GetFd {
        let t0 = Instant::now();
        for _ in 0..n {
            for &coid in &st.coids[..v.batch] {
                let fd = rustix::process::pidfd_getfd(&st.pidfd, coid, PidfdGetfdFlags::empty())
                    .unwrap();
                drop(fd);
            }
        }
        return t0.elapsed().as_nanos();
    }
    write_all(peer.ctl.as_fd(), &v.encode(n));
    read_exact(peer.ctl.as_fd(), &mut [0u8]);
    let (inp, ack) = match v.transport {
        Transport::Pipe => (peer.pipe_r.as_fd(), peer.back_w.as_fd()),
        _ => (peer.sock.as_fd(), peer.sock.as_fd()),
    };
    let len = TICKET * v.batch;
    let mut buf = TicketBuf::<{ TICKET * BATCH }>::new();
    let mut cmsg_space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
    let mut got: Vec<OwnedFd> = Vec::with_capacity(BATCH);
    let t0 = Instant::now();
    write_all(peer.ctl.as_fd(), b"g");
    for _ in 0..n {
        match v.kind {
            Kind::A | Kind::ANew | Kind::A1 => {
                read_exact(inp, &mut buf.bytes[..len]);
                if v.batch == 1 {
                    drop(st.receiver.redeem(buf.filled(len)).unwrap());
                } else {
                    drop(st.receiver.redeem_batch::<BATCH>(buf.filled(len)).unwrap());
                }
            }
            Kind::A0 => {
                read_exact(inp, &mut buf.bytes[..len]);
                drop(qnx_fdpass::receive_fd(buf.filled(len)).unwrap());
            }
            Kind::B => {
                let mut control = RecvAncillaryBuffer::new(&mut cmsg_space);
                let mut byte = [0u8];
                let r = rustix::net::recvmsg(
                    inp,
                    &mut [IoSliceMut::new(&mut byte)],
                    &mut control,
                    RecvFlags::CMSG_CLOEXEC,
                )
                .unwrap();
                assert_eq!(r.bytes, 1);
                let mut count = 0;
                for msg in control.drain() {
                    if let RecvAncillaryMessage::ScmRights(fds) = msg {
                        for fd in fds {
                            count += 1;
                            drop(fd);
                        }
                    }
                }
                assert_eq!(count, v.batch);
            }
            Kind::C => {
                read_exact(inp, &mut buf.bytes[..len]);
                for t in buf.bytes[..len].chunks_exact(TICKET) {
                    let fd = rustix::process::pidfd_getfd(
                        &st.pidfd,
                        coid_of(t),
                        PidfdGetfdFlags::empty(),
                    )
                    .unwrap();
                    got.push(fd);
                }
                got.clear();
            }
            Kind::Floor => read_exact(inp, &mut buf.bytes[..len]),
            Kind::GetFd => unreachable!(),
        }
        if v.mode == Mode::Ping {
            write_all(ack, b"k");
        }
    }
    t0.elapsed().as_nanos()
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(xs: &[f64]) -> Stats {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let median = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    Stats {
        median,
        min: s[0],
        max: s[s.len() - 1],
    }
}

fn receiver() {
    let quick = std::env::var("FDPASS_BENCH_QUICK").is_ok_and(|v| v != "0");
    let passes = env_usize("FDPASS_BENCH_PASSES").unwrap_or(if quick { 200 } else { 10_000 });
    let rounds = env_usize("FDPASS_BENCH_ROUNDS").unwrap_or(if quick { 3 } else { 9 });
    let only = std::env::var("FDPASS_BENCH_ONLY").ok();

    let mut peer = spawn_sender();
    let pidfd = rustix::process::pidfd_open(peer.pid, PidfdFlags::empty()).unwrap();
    let coids = peer.tickets.chunks_exact(TICKET).map(coid_of).collect();
    let mut st = State {
        receiver: Receiver::new(),
        pidfd,
        coids,
    };
    let all: Vec<Variant> = variants()
        .into_iter()
        .filter(|v| only.as_deref().map_or(true, |o| v.name().contains(o)))
        .collect();

    println!(
        "fdpass: sender pid {}, {} rounds, {} passes per round ({} packets of {} for x8), ticket {} bytes",
        peer.pid.as_raw_nonzero(),
        rounds,
        passes,
        passes / 4,
        BATCH,
        TICKET
    );
    // Warm-up: one short run of every variant (the receiver opens its pidfd for the sender here).
    for v in &all {
        run(&peer, &mut st, *v, 50);
    }
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    for _ in 0..rounds {
        for (i, v) in all.iter().enumerate() {
            let n = if v.batch == 1 { passes } else { passes / 4 }.max(1) as u32;
            let t = run(&peer, &mut st, *v, n);
            ns[i].push(t as f64 / f64::from(n));
        }
    }

    println!();
    println!("| variant | median ns/pass | min | max |");
    println!("|---|---:|---:|---:|");
    for (v, xs) in all.iter().zip(&ns) {
        let s = stats(xs);
        println!(
            "| {} | {:.0} | {:.0} | {:.0} |",
            v.name(),
            s.median,
            s.min,
            s.max
        );
    }

    let find = |kind, mode, transport, batch| {
        all.iter().position(|v| {
            v.kind == kind && v.mode == mode && v.transport == transport && v.batch == batch
        })
    };
    println!();
    println!("| ratio (median of per-round ratios) | median | min | max |");
    println!("|---|---:|---:|---:|");
    for batch in [1, BATCH] {
        for mode in [Mode::Stream, Mode::Ping] {
            for transport in [Transport::Sock, Transport::Pipe] {
                for kind in [Kind::A, Kind::ANew, Kind::A1] {
                    let a = find(kind, mode, transport, batch);
                    let others = [
                        find(Kind::B, mode, Transport::Sock, batch),
                        find(Kind::C, mode, transport, batch),
                    ];
                    for other in others {
                        let (Some(a), Some(o)) = (a, other) else {
                            continue;
                        };
                        let r: Vec<f64> = ns[a].iter().zip(&ns[o]).map(|(x, y)| x / y).collect();
                        let s = stats(&r);
                        let label = format!("{} / {}", all[a].name(), all[o].name());
                        println!(
                            "| {label} | {:.2} | {:.2} | {:.2} |",
                            s.median, s.min, s.max
                        );
                    }
                }
            }
        }
    }

    drop(peer.ctl);
    peer.child.wait().unwrap();
}
