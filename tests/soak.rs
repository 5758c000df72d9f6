//! Soak and concurrency: 100 000 passes from a real sender process to this process, redeemed by four
//! threads at once, each with its own `Receiver`. The descriptor table must be exactly the same and
//! the resident set (from /proc/self/statm) the same within a small tolerance, before and after.
//!
//! The sender is this test binary re-executed (`FDPASS_ROLE=soak-sender`): it opens four memfds and,
//! for every pass, issues a fresh dup ticket for one of them (round robin) and writes its bytes to its
//! stdout, after a `READY` line. This process reads the tickets and hands each to the thread that owns
//! that descriptor; the thread redeems it, checks that the descriptor is that sender's file, and drops it.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc;
use std::time::Instant;

mod common;

use common::open_fds;

use qnx_fdpass::{DupTicket, Receiver, Recipient};

const PASSES: usize = 100_000;
const WARMUP: usize = 2_000;
const THREADS: usize = 4;
/// Resident-set growth tolerated between the two measurements (allocator and page-cache noise).
const RSS_TOLERANCE: u64 = 512 * 1024;

/// The page size statm counts in, from the first `KernelPageSize` line of /proc/self/smaps.
fn page_size() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let kb: u64 = smaps
        .lines()
        .find_map(|l| l.strip_prefix("KernelPageSize:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Resident set size in bytes (second field of /proc/self/statm, in pages).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * page_size()
}

#[test]
#[ignore = "helper role: the sender process re-executed by soak_100k_passes_4_threads"]
fn sender_role() {
    common::assert_role("soak-sender");
    let passes: usize = std::env::var("FDPASS_PASSES").unwrap().parse().unwrap();
    let files: Vec<_> = (0..THREADS)
        .map(|i| {
            let f = rustix::fs::memfd_create("soak", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
            rustix::io::write(&f, format!("soak file {i}").as_bytes()).unwrap();
            f
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "READY").unwrap();
    for i in 0..passes {
        let fd = common::fd(&files[i % THREADS]);
        out.write_all(DupTicket::new(fd, Recipient::Any).unwrap().as_bytes())
            .unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let mut rest = Vec::new();
    std::io::stdin().read_to_end(&mut rest).unwrap();
    std::process::exit(0);
}

enum Job {
    Ticket(Vec<u8>),
    /// Report back (a barrier for the measurements).
    Sync(mpsc::Sender<()>),
}

#[test]
fn soak_100k_passes_4_threads() {
    let mut cmd = common::role_command("sender_role", "soak-sender");
    let mut child = common::spawn_piped(cmd.env("FDPASS_PASSES", (WARMUP + PASSES).to_string()));
    let mut stdout = BufReader::with_capacity(1 << 16, child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "sender died before READY"
        );
        if line.trim_end().ends_with("READY") {
            break;
        }
    }

    let mut txs = Vec::new();
    let mut workers = Vec::new();
    for t in 0..THREADS {
        let (tx, rx) = mpsc::sync_channel::<Job>(1024);
        txs.push(tx);
        workers.push(std::thread::spawn(move || {
            let mut r = Receiver::new();
            let want = format!("soak file {t}");
            let mut buf = [0u8; 32];
            let mut redeemed = 0usize;
            for job in rx {
                match job {
                    Job::Ticket(bytes) => {
                        let fd = common::std_fd(r.redeem(&bytes).unwrap());
                        let n = rustix::io::pread(&fd, &mut buf, 0).unwrap();
                        assert_eq!(&buf[..n], want.as_bytes(), "thread {t} got another file");
                        redeemed += 1;
                    }
                    Job::Sync(done) => done.send(()).unwrap(),
                }
            }
            redeemed
        }));
    }

    let size = core::mem::size_of::<qnx_fdpass::wire::IoDup>();
    let mut pump = |n: usize, first: usize| {
        for i in first..first + n {
            let mut b = vec![0u8; size];
            stdout.read_exact(&mut b).unwrap();
            txs[i % THREADS].send(Job::Ticket(b)).unwrap();
        }
        let (done_tx, done_rx) = mpsc::channel();
        for tx in &txs {
            tx.send(Job::Sync(done_tx.clone())).unwrap();
        }
        for _ in 0..THREADS {
            done_rx.recv().unwrap();
        }
    };

    // Warm-up: threads, their receivers' pidfd caches and the allocator reach their steady state.
    pump(WARMUP, 0);
    let fds_before = open_fds();
    let rss_before = rss();
    let t0 = Instant::now();
    pump(PASSES, WARMUP);
    let secs = t0.elapsed().as_secs_f64();
    let fds_after = open_fds();
    let rss_after = rss();

    drop(txs);
    let redeemed: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());

    println!(
        "soak: {PASSES} passes (+{WARMUP} warm-up) over {THREADS} threads in {secs:.2} s ({:.0}/s); \
         fds {} -> {}; RSS {} KiB -> {} KiB",
        PASSES as f64 / secs,
        fds_before.len(),
        fds_after.len(),
        rss_before / 1024,
        rss_after / 1024
    );
    assert_eq!(redeemed, WARMUP + PASSES);
    assert_eq!(fds_after, fds_before, "descriptor table changed");
    assert!(
        rss_after <= rss_before + RSS_TOLERANCE,
        "RSS grew by {} KiB",
        (rss_after - rss_before) / 1024
    );
}
