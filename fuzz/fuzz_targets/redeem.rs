//! The host redeem path with the real kernel. Inputs are either raw bytes (whatever passes the parser
//! is redeemed) or a structured description turned into tickets that point at this process's own pid
//! and descriptors, so that successes and every failure branch (dead or foreign pid, wrong start time,
//! closed descriptor, socket, `O_PATH`, wider access) are reached.
//!
//! After every redeem: the set of open descriptors (`/proc/self/fd`) is what it was before, plus the
//! returned descriptor (and, while a caching receiver lives, its pidfds); once the returned descriptor
//! and the receiver are dropped, exactly what it was before. A returned descriptor must be the file the
//! ticket named, with the access it asked for.
#![no_main]

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, OwnedFd as StdOwnedFd};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qnx_fdpass::Access;
use qnx_fdpass::wire::{IoDup, IoOpenfd};
// The crate's `OwnedFd` is its own (no_std) type here: its `as_raw_fd` is the crate's trait method.
use qnx_fdpass::fd::AsRawFd as _;
use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::{BorrowedFd, DupTicket, OpenfdTicket, OwnedFd, Recipient};

/// A receiver with a pidfd cache of `P` entries (the public `Receiver` has a fixed one).
struct Receiver<const P: usize>;

impl<const P: usize> Receiver<P> {
    fn new() -> qnx_fdpass::seams::Receiver<P, Linux> {
        qnx_fdpass::seams::Receiver::with_kernel(Linux)
    }
}
use rustix::fs::{Mode, OFlags};
use zerocopy::IntoBytes;

struct Env {
    pid: i32,
    start: u64,
    /// Descriptors of this process to redeem (none of them a FIFO whose writer could appear and go).
    fds: Vec<StdOwnedFd>,
    dup: IoDup,
    openfd: IoOpenfd,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut fds: Vec<StdOwnedFd> = Vec::new();
        let memfd = rustix::fs::memfd_create("fuzz", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        rustix::io::write(&memfd, b"qnx-fdpass fuzz").unwrap();
        fds.push(memfd);
        for mode in [OFlags::RDONLY, OFlags::WRONLY, OFlags::RDWR] {
            fds.push(rustix::fs::open("/dev/null", mode | OFlags::CLOEXEC, Mode::empty()).unwrap());
        }
        // Both ends of a pipe stay open here, so re-opening either end through /proc never blocks.
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        fds.push(r);
        fds.push(w);
        let (a, b) = rustix::net::socketpair(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        fds.push(a);
        fds.push(b);
        // A named FIFO without a writer: re-opening it for reading must not wait for one.
        let fifo =
            std::env::temp_dir().join(format!("qnx-fdpass-fuzz-{}.fifo", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        fds.push(
            rustix::fs::open(
                &fifo,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .unwrap(),
        );
        std::fs::remove_file(&fifo).unwrap();
        fds.push(rustix::fs::open("/", OFlags::PATH | OFlags::CLOEXEC, Mode::empty()).unwrap());
        fds.push(
            rustix::fs::open(
                "/",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .unwrap(),
        );
        let first = borrow(fds[0].as_raw_fd());
        let dup = *DupTicket::new(first, Recipient::Any).unwrap().message();
        let openfd = *OpenfdTicket::new(first, Access::Read, Recipient::Any)
            .unwrap()
            .message();
        Env {
            pid: dup.info.tid,
            start: dup.handle,
            fds,
            dup,
            openfd,
        }
    })
}

fn borrow(fd: i32) -> BorrowedFd<'static> {
    // SAFETY: only used for descriptors `env()` keeps open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// This process's open descriptors. The directory's own descriptor is gone once the listing is done, so
/// it is filtered out by checking each entry again afterwards.
fn open_fds() -> BTreeSet<i32> {
    let listed: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    listed
        .into_iter()
        .filter(|&fd| rustix::io::fcntl_getfd(sys_fd(fd)).is_ok())
        .collect()
}

fn sys_fd(fd: i32) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: the descriptor is open for the single call the borrow is passed to (a listed descriptor
    // that was closed since only makes that call fail with EBADF).
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

fn is_pidfd(fd: i32) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map(|p| p.to_string_lossy() == "anon_inode:[pidfd]")
        .unwrap_or(false)
}

/// A tiny reader over the fuzzer's bytes that yields zeros once they run out.
struct Input<'a>(&'a [u8]);
impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
}

/// What a structured ticket names, and whether a success is expected to be that very file.
struct Plan {
    target: Option<i32>,
}

fn fill(
    env: &Env,
    inp: &mut Input<'_>,
    info: &mut qnx_fdpass::wire::MsgInfoHdr,
    handle: &mut u64,
    openfd: bool,
) -> Plan {
    let sel = inp.u8();
    let mut target = None;
    info.coid = match sel % 4 {
        // One of ours.
        0 | 1 => {
            let fd = env.fds[usize::from(inp.u8()) % env.fds.len()].as_raw_fd();
            target = Some(fd);
            fd
        }
        // Surely closed.
        2 => 900 + i32::from(inp.u8() % 100),
        // Anything; for an openfd nothing that may be open (stdio may be a FIFO whose open would block).
        _ => {
            let v = inp.u32() as i32;
            if openfd && v >= 0 {
                1024 + v % 100_000
            } else {
                v
            }
        }
    };
    let who = inp.u8();
    info.tid = match who % 8 {
        0..=4 => env.pid,
        5 => env.pid.wrapping_add(i32::from(inp.u8() as i8)),
        6 => 1,
        _ => inp.u32() as i32,
    };
    let when = inp.u8();
    *handle = match when % 8 {
        0..=5 => env.start,
        6 => env
            .start
            .wrapping_add(u64::from(inp.u8()).wrapping_sub(128)),
        _ => inp.u64(),
    };
    if info.tid != env.pid || *handle != env.start {
        target = None;
    }
    Plan { target }
}

fn same_file(a: i32, b: i32) -> bool {
    let (sa, sb) = (
        rustix::fs::fstat(sys_fd(a)).unwrap(),
        rustix::fs::fstat(sys_fd(b)).unwrap(),
    );
    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
}

fn access_of(fd: i32) -> Access {
    let fl = rustix::fs::fcntl_getfl(sys_fd(fd)).unwrap() & OFlags::RWMODE;
    if fl == OFlags::WRONLY {
        Access::Write
    } else if fl == OFlags::RDWR {
        Access::ReadWrite
    } else {
        Access::Read
    }
}

/// Checks the descriptor table after one redeem while the receiver (with `cache` pidfd slots) lives.
fn check_after(before: &BTreeSet<i32>, got: &[i32], cache: usize) {
    let after = open_fds();
    for fd in got {
        assert!(!before.contains(fd), "returned fd {fd} was already open");
        assert!(after.contains(fd), "returned fd {fd} is not open");
    }
    assert!(
        before.is_subset(&after),
        "a descriptor was closed: {before:?} -> {after:?}"
    );
    let extra: Vec<i32> = after
        .difference(before)
        .filter(|fd| !got.contains(fd))
        .copied()
        .collect();
    assert!(extra.len() <= cache, "leaked {extra:?} (cache {cache})");
    for fd in &extra {
        assert!(is_pidfd(*fd), "leaked non-pidfd {fd}");
    }
}

fn run(data: &[u8]) {
    let env = env();
    let mut inp = Input(data);
    let mode = inp.u8();
    let before = open_fds();
    match mode % 4 {
        // Raw bytes: whatever passes the parser is redeemed.
        0 => {
            let mut r = Receiver::<0>::new();
            let res = r.redeem(inp.0);
            let got: Vec<i32> = res.iter().map(OwnedFd::as_raw_fd).collect();
            check_after(&before, &got, 0);
            drop(res);
            // The dup-only entry point on the same bytes: it accepts a subset of what `redeem` does
            // and leaks nothing either.
            let dup = r.redeem_dup(inp.0);
            if dup.is_ok() {
                assert!(
                    matches!(qnx_fdpass::parse(inp.0), Ok(qnx_fdpass::Ticket::Dup(_))),
                    "redeem_dup accepted what is not a dup ticket"
                );
            }
            let got: Vec<i32> = dup.iter().map(OwnedFd::as_raw_fd).collect();
            check_after(&before, &got, 0);
            drop(dup);
        }
        // One dup or openfd ticket, redeemed twice through one receiver (the second time from the cache).
        1 | 2 => {
            let caching = inp.u8() & 1 == 1;
            let openfd = mode % 4 == 2;
            let mut bytes = [0u8; 64];
            let (len, plan, want) = if openfd {
                let mut m = env.openfd;
                let plan = fill(env, &mut inp, &mut m.info, &mut m.handle, true);
                let a = inp.u8();
                m.ioflag = match a % 5 {
                    0 => 1,
                    1 => 2,
                    2 => 3,
                    _ => inp.u32(),
                };
                bytes[..m.as_bytes().len()].copy_from_slice(m.as_bytes());
                (m.as_bytes().len(), plan, Access::from_ioflag(m.ioflag).ok())
            } else {
                let mut m = env.dup;
                let plan = fill(env, &mut inp, &mut m.info, &mut m.handle, false);
                bytes[..m.as_bytes().len()].copy_from_slice(m.as_bytes());
                (m.as_bytes().len(), plan, None)
            };
            // Optionally corrupt one byte, so the parser's refusals are reached from valid tickets too.
            let c = inp.u8();
            if c & 0x80 != 0 {
                let i = usize::from(inp.u8()) % len;
                bytes[i] ^= inp.u8() | 1;
            }
            let ticket = &bytes[..len];
            // What the final bytes name (the corruption may have changed any field).
            let (plan, want) = match qnx_fdpass::parse(ticket) {
                Ok(t) => {
                    let info = t.info();
                    let handle = match &t {
                        qnx_fdpass::Ticket::Dup(m) => m.handle,
                        qnx_fdpass::Ticket::Openfd(m) => m.handle,
                    };
                    let ours = env.fds.iter().any(|f| f.as_raw_fd() == info.coid);
                    let target =
                        (info.tid == env.pid && handle == env.start && ours).then_some(info.coid);
                    let want = match &t {
                        qnx_fdpass::Ticket::Openfd(m) => Access::from_ioflag(m.ioflag).ok(),
                        qnx_fdpass::Ticket::Dup(_) => None,
                    };
                    (Plan { target }, want)
                }
                Err(_) => (plan, want),
            };
            let cache = if caching { 4 } else { 0 };
            let mut held = Vec::new();
            {
                let mut r0 = Receiver::<0>::new();
                let mut r4 = Receiver::<4>::new();
                for _ in 0..2 {
                    let res = if caching {
                        r4.redeem(ticket)
                    } else {
                        r0.redeem(ticket)
                    };
                    if let Ok(fd) = &res {
                        if let Some(t) = plan.target {
                            assert!(same_file(fd.as_raw_fd(), t), "redeemed the wrong file");
                            if let Some(w) = want {
                                assert_eq!(access_of(fd.as_raw_fd()), w);
                            }
                        }
                    }
                    let mut got: Vec<i32> = held.iter().map(OwnedFd::as_raw_fd).collect();
                    got.extend(res.iter().map(OwnedFd::as_raw_fd));
                    check_after(&before, &got, cache);
                    held.extend(res);
                }
            }
            drop(held);
        }
        // A batch of up to 4 dup tickets, all-or-nothing.
        _ => {
            let caching = inp.u8() & 1 == 1;
            let n = 1 + usize::from(inp.u8() % 4);
            let mut packet = Vec::new();
            for _ in 0..n {
                let mut m = env.dup;
                fill(env, &mut inp, &mut m.info, &mut m.handle, false);
                packet.extend_from_slice(m.as_bytes());
            }
            let cache = if caching { 4 } else { 0 };
            let got = if caching {
                let mut r = Receiver::<4>::new();
                let res = r.redeem_batch::<4>(&packet);
                let raw: Vec<i32> = res.iter().flatten().map(OwnedFd::as_raw_fd).collect();
                check_after(&before, &raw, cache);
                if let Ok(v) = &res {
                    assert_eq!(v.len(), n);
                }
                res
            } else {
                let mut r = Receiver::<0>::new();
                let res = r.redeem_batch::<4>(&packet);
                let raw: Vec<i32> = res.iter().flatten().map(OwnedFd::as_raw_fd).collect();
                check_after(&before, &raw, cache);
                res
            };
            drop(got);
        }
    }
    let end = open_fds();
    assert_eq!(before, end, "descriptor table changed across one input");
}

fuzz_target!(|data: &[u8]| run(data));
