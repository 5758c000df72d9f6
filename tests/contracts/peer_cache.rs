//! The receiver's pidfd cache on the Linux host backend, seen through this process's descriptor table:
//! which processes the receiver holds a pidfd for (`/proc/self/fd` and the `Pid:` line of
//! `/proc/self/fdinfo`) after each redeem.
//!
//! - a sender's pidfd is opened on its first redeem and kept: later redeems reuse it;
//! - a dead sender's pidfd is closed when a redeem finds it dead, and only that one;
//! - a ticket naming a cached pid with another start time (the pid was reused, as far as the receiver
//!   can tell) drops that entry, and is refused;
//! - a full cache replaces its entries round robin, oldest slot first;
//! - `Receiver<0>` keeps nothing, and dropping a receiver closes everything it kept.
//!
//! The senders are `cat` processes whose standard input is a pipe; the tickets name their descriptor 0
//! (dup tickets are plain bytes: the receiver cannot tell who wrote them). Linux host backend only.

use std::process::{Child, Command, Stdio};

use qnx_fdpass::seams::Receiver as Seam;
use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{IoDup, MsgInfoHdr};
use qnx_fdpass::{Errno, Error, OwnedFd};

/// The receiver with a pidfd cache of `P` entries (the public `Receiver` has a fixed one).
type Receiver<const P: usize> = Seam<P, Linux>;

fn receiver<const P: usize>() -> Receiver<P> {
    Seam::with_kernel(Linux)
}
use zerocopy::IntoBytes;

/// The pids this process holds pidfds for, sorted (-1 for a pidfd whose process has been reaped).
fn pidfd_pids() -> Vec<i32> {
    let mut pids: Vec<i32> = crate::common::open_fds()
        .into_iter()
        .filter(|(_, target)| target == crate::common::PIDFD)
        .filter_map(|(fd, _)| {
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
            info.lines()
                .find_map(|l| l.strip_prefix("Pid:"))
                .map(|p| p.trim().parse().unwrap())
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// The start time of `pid` (field 22 of its stat line), read here without the crate.
fn start_time(pid: i32) -> u64 {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &line[line.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

/// A sender: a live process whose descriptor 0 is the read end of a pipe this test holds.
struct Peer {
    child: Child,
    pid: i32,
    start: u64,
}

impl Peer {
    fn spawn() -> Self {
        let child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        Peer {
            child,
            pid,
            start: start_time(pid),
        }
    }

    /// A dup ticket for its descriptor 0, naming it with start time `start`.
    fn ticket_with_start(&self, start: u64) -> Vec<u8> {
        let info = MsgInfoHdr {
            nd: 0,
            srcnd: 0,
            pid: 0,
            tid: self.pid,
            chid: 0,
            scoid: 0,
            coid: 0,
        };
        IoDup::with_info(info, start).as_bytes().to_vec()
    }

    fn ticket(&self) -> Vec<u8> {
        self.ticket_with_start(self.start)
    }

    /// Checks that `fd` is the read end of this peer's stdin pipe.
    fn assert_is_its_stdin(&self, fd: &OwnedFd) {
        let got = crate::common::sys_fd(qnx_fdpass::fd::AsRawFd::as_raw_fd(fd));
        let pipe = self.child.stdin.as_ref().unwrap();
        assert_eq!(
            crate::common::file_id(&got),
            crate::common::file_id(pipe),
            "the peer's pipe"
        );
    }

    /// Kills and reaps it: its pid is free.
    fn kill(mut self) -> i32 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.pid
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sorted(mut v: Vec<i32>) -> Vec<i32> {
    v.sort_unstable();
    v
}

/// Redeems `p`'s ticket with `r` and checks the descriptor.
fn redeem<const P: usize>(r: &mut Receiver<P>, p: &Peer) {
    let fd = r.redeem(&p.ticket()).unwrap();
    p.assert_is_its_stdin(&fd);
}

#[test]
fn pidfds_are_kept_per_sender_and_reused() {
    let _g = crate::common::serial();
    let base = pidfd_pids();
    let (a, b) = (Peer::spawn(), Peer::spawn());
    let mut r = receiver::<4>();
    redeem(&mut r, &a);
    assert_eq!(pidfd_pids(), sorted([&base[..], &[a.pid]].concat()));
    redeem(&mut r, &b);
    let both = sorted([&base[..], &[a.pid, b.pid]].concat());
    assert_eq!(pidfd_pids(), both);
    // Hits: the same pidfds, nothing opened or closed.
    for _ in 0..3 {
        redeem(&mut r, &a);
        redeem(&mut r, &b);
        assert_eq!(pidfd_pids(), both, "after a cached redeem");
    }
    drop(r);
    assert_eq!(
        pidfd_pids(),
        base,
        "dropping the receiver closes its pidfds"
    );

    // Without a cache, nothing is kept, not even for a moment after the redeem.
    let mut r0 = receiver::<0>();
    redeem(&mut r0, &a);
    redeem(&mut r0, &a);
    assert_eq!(pidfd_pids(), base, "Receiver<0> keeps no pidfd");
}

#[test]
fn a_dead_senders_pidfd_is_closed_and_only_that_one() {
    let _g = crate::common::serial();
    let base = pidfd_pids();
    let (a, b, c) = (Peer::spawn(), Peer::spawn(), Peer::spawn());
    let mut r = receiver::<4>();
    redeem(&mut r, &a);
    redeem(&mut r, &b);
    redeem(&mut r, &c);
    let t = b.ticket();
    let b_pid = b.kill();
    // The receiver still holds b's pidfd: its process is gone.
    assert_eq!(
        pidfd_pids(),
        sorted([&base[..], &[-1, a.pid, c.pid]].concat())
    );
    assert_eq!(r.redeem(&t).unwrap_err(), Error::Os(Errno::SRCH));
    assert_eq!(
        pidfd_pids(),
        sorted([&base[..], &[a.pid, c.pid]].concat()),
        "the dead sender's pidfd is closed, the others kept"
    );
    // Again: nothing cached for that pid now, and nothing to open.
    assert_eq!(r.redeem(&t).unwrap_err(), Error::Os(Errno::SRCH));
    assert!(!pidfd_pids().contains(&b_pid));
    // The others still redeem from their cached pidfds.
    redeem(&mut r, &a);
    redeem(&mut r, &c);
    assert_eq!(pidfd_pids(), sorted([&base[..], &[a.pid, c.pid]].concat()));
    drop(r);
    assert_eq!(pidfd_pids(), base);
}

#[test]
fn another_start_time_for_a_cached_pid_drops_its_entry() {
    let _g = crate::common::serial();
    let base = pidfd_pids();
    let (a, b) = (Peer::spawn(), Peer::spawn());
    let mut r = receiver::<4>();
    redeem(&mut r, &a);
    redeem(&mut r, &b);
    for start in [a.start + 1, a.start.wrapping_sub(1), 0, u64::MAX] {
        redeem(&mut r, &a);
        assert_eq!(pidfd_pids(), sorted([&base[..], &[a.pid, b.pid]].concat()));
        // As the receiver sees it, a's pid now names another process: a's entry goes.
        assert_eq!(
            r.redeem(&a.ticket_with_start(start)).unwrap_err(),
            Error::Os(Errno::SRCH),
            "start {start}"
        );
        assert_eq!(
            pidfd_pids(),
            sorted([&base[..], &[b.pid]].concat()),
            "start {start}: a's entry dropped, b's kept"
        );
    }
    drop(r);
    assert_eq!(pidfd_pids(), base);
}

#[test]
fn a_full_cache_replaces_its_entries_round_robin() {
    let _g = crate::common::serial();
    let base = pidfd_pids();
    let peers: Vec<Peer> = (0..6).map(|_| Peer::spawn()).collect();
    let pid = |i: usize| peers[i].pid;
    let held = |ids: &[usize]| {
        sorted([&base[..], &ids.iter().map(|&i| pid(i)).collect::<Vec<_>>()].concat())
    };
    let mut r = receiver::<2>();
    redeem(&mut r, &peers[0]);
    redeem(&mut r, &peers[1]);
    assert_eq!(pidfd_pids(), held(&[0, 1]));
    // Slot 0 (peer 0) goes first, then slot 1 (peer 1), then slot 0 again (peer 2), ...
    redeem(&mut r, &peers[2]);
    assert_eq!(pidfd_pids(), held(&[1, 2]), "peer 2 replaces peer 0");
    redeem(&mut r, &peers[3]);
    assert_eq!(pidfd_pids(), held(&[2, 3]), "peer 3 replaces peer 1");
    // A hit changes nothing and does not move the round robin.
    redeem(&mut r, &peers[2]);
    assert_eq!(pidfd_pids(), held(&[2, 3]));
    redeem(&mut r, &peers[4]);
    assert_eq!(pidfd_pids(), held(&[3, 4]), "peer 4 replaces peer 2");
    redeem(&mut r, &peers[5]);
    assert_eq!(pidfd_pids(), held(&[4, 5]), "peer 5 replaces peer 3");
    drop(r);
    assert_eq!(pidfd_pids(), base);

    // One slot: every new sender replaces the last.
    let mut r1 = receiver::<1>();
    for (i, p) in peers.iter().enumerate().take(3) {
        redeem(&mut r1, p);
        assert_eq!(pidfd_pids(), held(&[i]));
    }
    drop(r1);
    assert_eq!(pidfd_pids(), base);
}
