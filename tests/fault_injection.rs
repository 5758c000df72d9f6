//! Fault injection with the real kernel: a real sender process issues tickets; this process redeems them
//! through `FailAt<Linux>`, which fails the k-th fallible system call with `ENOMEM`, for every k along
//! the path. Each time the injected error must come back unchanged, and the descriptor table must be
//! what it was before (for a caching receiver: once it is dropped; while it lives it may hold pidfds).
//!
//! The sender is this test binary re-executed with `FDPASS_ROLE=fi-sender` running the ignored
//! `sender_role` test. Linux host backend only.

#![cfg(target_os = "linux")]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Child;
use std::sync::mpsc;

mod common;

use common::{open_fds, pread_all, sys_fd, PIDFD};

use qnx_fdpass::fd::AsRawFd;
use qnx_fdpass::seams::Receiver;
use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::sys::{FailAt, LinuxKernel};
use qnx_fdpass::{
    Access, BatchError, DupBatch, DupTicket, Errno, Error, OpenfdTicket, OwnedFd, Recipient,
};

// ---- the sender ----

const CONTENT: &[u8] = b"fault-injection sender's file\n";

/// The sender role: runs only when re-executed (it is ignored in a normal run).
#[test]
#[ignore = "helper role: the sender process re-executed by fault_injection_every_call"]
fn sender_role() {
    common::assert_role("fi-sender");
    let memfd = rustix::fs::memfd_create("fi-sender", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    rustix::io::write(&memfd, CONTENT).unwrap();
    let fd = common::fd(&memfd);
    let mut batch = DupBatch::<4>::new();
    for _ in 0..3 {
        batch
            .push(DupTicket::new(fd, Recipient::Any).unwrap())
            .unwrap();
    }
    let mut out = std::io::stdout().lock();
    let dup = DupTicket::new(fd, Recipient::Any).unwrap();
    common::write_ticket(&mut out, "dup", dup.as_bytes());
    let openfd = OpenfdTicket::new(fd, Access::Read, Recipient::Any).unwrap();
    common::write_ticket(&mut out, "openfd", openfd.as_bytes());
    common::write_ticket(&mut out, "batch", batch.as_bytes());
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    // Live until the receiver closes our stdin.
    for _ in std::io::stdin().lock().lines() {}
    drop(memfd);
    std::process::exit(0);
}

fn start_sender() -> (Child, BTreeMap<String, Vec<u8>>) {
    let mut child = common::spawn_piped(&mut common::role_command("sender_role", "fi-sender"));
    let tickets = common::read_tickets(&mut BufReader::new(child.stdout.take().unwrap()));
    (child, tickets)
}

// ---- a recorder, to learn each path and which ticket of a batch each call belongs to ----

/// The real kernel, telling its function each call's name.
type Recorder<'a> = common::Tap<&'a dyn Fn(&'static str)>;

/// The fallible calls a successful run of `op` makes, in order.
fn path_of<const P: usize>(
    op: &dyn Fn(&mut Receiver<P, Recorder<'_>>) -> bool,
) -> Vec<&'static str> {
    let log = RefCell::new(Vec::new());
    // The fallible calls only: `close` and `getpid` cannot fail.
    let note = |call| {
        if call != "close" && call != "getpid" {
            log.borrow_mut().push(call);
        }
    };
    let mut r = Receiver::<P, _>::with_kernel(common::Tap(&note as &dyn Fn(&'static str)));
    assert!(op(&mut r), "the unfailed path must succeed");
    drop(r);
    log.into_inner()
}

/// Which entry point redeems a single ticket.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// `Receiver::redeem`: dup and openfd.
    Redeem,
    /// `Receiver::redeem_dup`: dup only.
    RedeemDup,
}

fn redeem_via<const P: usize, K: LinuxKernel>(
    r: &mut Receiver<P, K>,
    via: Via,
    ticket: &[u8],
) -> Result<OwnedFd, Error> {
    match via {
        Via::Redeem => r.redeem(ticket),
        Via::RedeemDup => r.redeem_dup(ticket),
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
}

/// Redeems `ticket` (dup or openfd) through `via` with P = 0 and P = 4, failing each call along the
/// path in turn.
fn single(name: &str, via: Via, ticket: &[u8], tally: &mut Tally) {
    let path = path_of::<0>(&|r| {
        redeem_via(r, via, ticket)
            .map(|fd| pread_all(&fd) == CONTENT)
            .unwrap_or(false)
    });
    // The count FailAt itself reports for an unfailed run must agree with the recorder.
    let mut probe = Receiver::<0, _>::with_kernel(FailAt::new(Linux, 0, Errno::NOMEM));
    drop(redeem_via(&mut probe, via, ticket).unwrap());
    assert_eq!(
        probe.kernel().calls(),
        path.len(),
        "{name}: FailAt::calls vs recorded path"
    );
    println!(
        "{name}: {} fallible calls: {}",
        path.len(),
        path.join(" -> ")
    );
    assert!(
        path.len() >= 3,
        "{name}: path too short to be the real one: {path:?}"
    );

    for k in 1..=path.len() {
        // P = 0: nothing may outlive the call.
        let before = open_fds();
        let mut r = Receiver::<0, _>::with_kernel(FailAt::new(Linux, k, Errno::NOMEM));
        let res = redeem_via(&mut r, via, ticket).map(|fd| fd.as_raw_fd());
        assert_eq!(
            res,
            Err(Error::Os(Errno::NOMEM)),
            "{name}: P=0, k={k} ({})",
            path[k - 1]
        );
        assert_eq!(
            open_fds(),
            before,
            "{name}: P=0, k={k} ({}) leaked",
            path[k - 1]
        );
        drop(r);
        assert_eq!(open_fds(), before);

        // P = 4, cold cache: the same path; the receiver may keep a pidfd, released on drop.
        let mut r = Receiver::<4, _>::with_kernel(FailAt::new(Linux, k, Errno::NOMEM));
        let res = redeem_via(&mut r, via, ticket).map(|fd| fd.as_raw_fd());
        assert_eq!(
            res,
            Err(Error::Os(Errno::NOMEM)),
            "{name}: P=4, k={k} ({})",
            path[k - 1]
        );
        let during = open_fds();
        let extra: Vec<_> = during
            .iter()
            .filter(|(fd, _)| !before.contains_key(fd))
            .collect();
        assert!(
            extra.len() <= 1 && extra.iter().all(|(_, t)| t.as_str() == PIDFD),
            "{name}: P=4, k={k}: more than the cached pidfd is open: {extra:?}"
        );
        drop(r);
        assert_eq!(
            open_fds(),
            before,
            "{name}: P=4, k={k} ({}) leaked after drop",
            path[k - 1]
        );
        tally.cases += 2;
    }

    // P = 4, warm cache: the first redeem succeeds and caches the pidfd, the second fails at each of
    // its own calls.
    let warm = path_of::<4>(&|r| {
        let a = redeem_via(r, via, ticket)
            .map(|fd| pread_all(&fd) == CONTENT)
            .unwrap_or(false);
        let b = redeem_via(r, via, ticket)
            .map(|fd| pread_all(&fd) == CONTENT)
            .unwrap_or(false);
        a && b
    });
    let first = path.len();
    assert!(
        warm.len() > first && warm.len() < 2 * first,
        "{name}: cache not used: {warm:?}"
    );
    println!(
        "{name}: cached second redeem: {}",
        warm[first..].join(" -> ")
    );
    for k in first + 1..=warm.len() {
        let before = open_fds();
        let mut r = Receiver::<4, _>::with_kernel(FailAt::new(Linux, k, Errno::NOMEM));
        drop(redeem_via(&mut r, via, ticket).unwrap());
        let mid = open_fds();
        let res = redeem_via(&mut r, via, ticket).map(|fd| fd.as_raw_fd());
        assert_eq!(
            res,
            Err(Error::Os(Errno::NOMEM)),
            "{name}: warm P=4, k={k} ({})",
            warm[k - 1]
        );
        assert_eq!(
            open_fds(),
            mid,
            "{name}: warm P=4, k={k} ({}) leaked",
            warm[k - 1]
        );
        drop(r);
        assert_eq!(
            open_fds(),
            before,
            "{name}: warm P=4, k={k} leaked after drop"
        );
        tally.cases += 1;
    }
}

/// Redeems a batch of three, failing each call in turn: the error names the ticket whose call failed
/// and the descriptors of the earlier tickets are closed.
fn batch_case<const P: usize>(packet: &[u8], tally: &mut Tally) {
    let path = path_of::<P>(&|r| {
        r.redeem_batch::<4>(packet)
            .map(|v| v.len() == 3)
            .unwrap_or(false)
    });
    println!(
        "batch P={P}: {} fallible calls: {}",
        path.len(),
        path.join(" -> ")
    );
    for k in 1..=path.len() {
        // The ticket a call belongs to: the number of descriptors obtained before it.
        let index = path[..k - 1]
            .iter()
            .filter(|c| **c == "pidfd_getfd")
            .count();
        let before = open_fds();
        let mut r = Receiver::<P, _>::with_kernel(FailAt::new(Linux, k, Errno::NOMEM));
        let res = r.redeem_batch::<4>(packet).map(|v| v.len());
        assert_eq!(
            res,
            Err(BatchError::new(index, Error::Os(Errno::NOMEM))),
            "batch P={P}, k={k} ({})",
            path[k - 1]
        );
        if P == 0 {
            assert_eq!(
                open_fds(),
                before,
                "batch P={P}, k={k} ({}) leaked",
                path[k - 1]
            );
        }
        drop(r);
        assert_eq!(
            open_fds(),
            before,
            "batch P={P}, k={k} ({}) leaked after drop",
            path[k - 1]
        );
        tally.cases += 1;
    }
}

#[test]
fn fault_injection_every_call() {
    let _g = common::serial();
    let (mut child, tickets) = start_sender();
    let mut tally = Tally::default();
    let baseline = open_fds();
    single("dup", Via::Redeem, &tickets["dup"], &mut tally);
    single(
        "dup via redeem_dup",
        Via::RedeemDup,
        &tickets["dup"],
        &mut tally,
    );
    single("openfd", Via::Redeem, &tickets["openfd"], &mut tally);
    batch_case::<0>(&tickets["batch"], &mut tally);
    batch_case::<4>(&tickets["batch"], &mut tally);
    assert_eq!(open_fds(), baseline);
    println!(
        "fault injection: {} cases, every one returned the injected ENOMEM and leaked nothing",
        tally.cases
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

/// An openfd ticket for a FIFO that has no writer: re-opening it for reading must not wait for a
/// writer that may never come (it did, before the host backend opened with `O_NONBLOCK`). The watchdog
/// only exists so that a regression fails instead of hanging: when the redeem returns, it stops at once.
#[test]
fn openfd_of_a_fifo_without_writer_does_not_block() {
    let _g = common::serial();
    let path = std::env::temp_dir().join(format!("qnx-fdpass-fi-{}.fifo", std::process::id()));
    let _ = std::fs::remove_file(&path);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let reader = rustix::fs::open(
        &path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    let fd = common::fd(&reader);
    let ticket = OpenfdTicket::new(fd, Access::Read, Recipient::Any).unwrap();

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watch_path = path.clone();
    let watchdog = std::thread::spawn(move || {
        if done_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .is_ok()
        {
            return false;
        }
        // Still blocked: become the writer the open is waiting for, so the test can fail.
        let _w = std::fs::OpenOptions::new().write(true).open(&watch_path);
        true
    });
    let before = open_fds();
    let res = qnx_fdpass::receive_fd(ticket.as_bytes());
    let _ = done_tx.send(()); // the watchdog may have given up already
    let had_to_unblock = watchdog.join().unwrap();
    assert!(
        !had_to_unblock,
        "redeem blocked in open(2) until a writer appeared"
    );
    let got = res.expect("a FIFO without writer re-opens for reading");
    let flags = rustix::fs::fcntl_getfl(sys_fd(got.as_raw_fd())).unwrap();
    assert!(
        !flags.contains(rustix::fs::OFlags::NONBLOCK),
        "O_NONBLOCK left set: {flags:?}"
    );
    drop(got);
    assert_eq!(open_fds(), before);
    std::fs::remove_file(&path).unwrap();
}
