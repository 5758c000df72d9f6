//! Soak scenarios: many passes through one receiver, and many threads redeeming at once, with the
//! descriptor table (and where there is one, the resident set) flat across them.

use crate::fixture::{me, raw, ticket, Scratch, CONTENTS};
use crate::peer::Peer;
use crate::util::{fd_count, fd_table, file_id, offset, unhex_into, vm_rss_kib, Ctx as _};
use crate::{ensure, Check, Ctx, Outcome};
use qnx_fdpass::fd::IntoRawFd as _;
use qnx_fdpass::{receive_fd, Receiver};
use std::os::fd::AsRawFd;

/// `n` passes of one ticket through a caching Receiver, and n/10 through stateless receive_fd: the
/// descriptor count ends where it started.
fn soak(ctx: &Ctx, n: usize) -> Check {
    let s = Scratch::new("soak", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    peer.expect("seek 7", "ok")?;
    let t = ticket(&mut peer, "dup", &me())?;
    {
        let mut r = Receiver::new();
        for i in 0..n {
            let fd = r
                .redeem(&t)
                .map_err(|e| Outcome::Fail(format!("pass {i}: {e:?}")))?;
            if i % 1000 == 0 {
                let o = offset(raw(&fd))?;
                ensure!(o == 7, "pass {i}: offset {o}, want 7");
            }
            if ctx.broken && i == n / 2 {
                let _ = fd.into_raw_fd(); // a deliberate leak of one descriptor
            }
        }
        for i in 0..n / 10 {
            drop(receive_fd(&t).map_err(|e| Outcome::Fail(format!("receive_fd pass {i}: {e:?}")))?);
        }
    }
    peer.finish()?;
    let (before, after) = (s.before, fd_count());
    ensure!(
        after == before,
        "after {n} + {} passes: descriptor count {before} -> {after}",
        n / 10
    );
    Ok(())
}

/// [`soak`] with 10 000 passes.
pub fn soak_10000(ctx: &Ctx) -> Check {
    soak(ctx, 10_000)
}

/// Tickets redeemed per thread by [`soak_threads`], after the warm-up.
const SOAK_PER_THREAD: usize = 10_000;
/// Receiving threads in [`soak_threads`], one sender file each.
const SOAK_THREADS: usize = 4;
/// Warm-up passes per thread before the first measurement (threads, receivers' caches and the
/// allocator reach their steady state).
const SOAK_WARMUP_PER_THREAD: usize = 100;
/// Resident-set growth tolerated between the measurements, as in tests/soak.rs (allocator noise).
const SOAK_RSS_TOLERANCE_KIB: u64 = 256;

/// What a `soak_threads` worker is handed.
enum Job {
    /// A ticket's bytes, received in place.
    Ticket(qnx_fdpass::wire::TicketBuf, usize),
    /// Answer once every job before this one is done (a barrier for the measurements).
    Sync(std::sync::mpsc::Sender<()>),
}

/// Soak and concurrency, the guest-sized version of tests/soak.rs: a sender process issues
/// fresh dup tickets for [`SOAK_THREADS`] files round robin; this process hands ticket `i` to thread
/// `i % SOAK_THREADS`, which redeems it through its own `Receiver` and checks that the descriptor is
/// its file (same device and inode by `fstat`, same contents by `pread`). After a warm-up the descriptor
/// table and `VmRSS` are taken, [`SOAK_THREADS`] x [`SOAK_PER_THREAD`] passes run, and both are taken
/// again: the table must be identical and the resident set within [`SOAK_RSS_TOLERANCE_KIB`].
pub fn soak_threads(ctx: &Ctx) -> Check {
    use std::sync::mpsc;
    use std::time::Instant;

    let files = (0..SOAK_THREADS)
        .map(|t| Scratch::new(&format!("soakt{t}"), format!("soak file {t}\n").as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut want = Vec::new();
    for (t, f) in files.iter().enumerate() {
        want.push((file_id(f.file.as_raw_fd())?, format!("soak file {t}\n")));
    }
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let me = me();
    let mut args = vec![me.as_str()];
    args.extend(&paths);
    let mut peer = Peer::spawn("soak-sender", &args)?;
    peer.expect("hello", "ready")?;

    let mut txs = Vec::new();
    let mut workers = Vec::new();
    for (t, (id, contents)) in want.into_iter().enumerate() {
        let (tx, rx) = mpsc::sync_channel::<Job>(256);
        txs.push(tx);
        // Broken on purpose: thread 0 keeps one descriptor of the measured run open.
        let leak_at =
            (ctx.broken && t == 0).then_some(SOAK_WARMUP_PER_THREAD + SOAK_PER_THREAD / 2);
        let worker = std::thread::Builder::new()
            .name(format!("soak-{t}"))
            .spawn(move || soak_worker(t, &rx, id, &contents, leak_at))
            .ctx("spawn a soak thread")?;
        workers.push(worker);
    }

    // Feeds tickets `first..first + n` to the threads, then waits until every thread has done them.
    // On failure the threads are told to stop (their channels close) and the first thread error wins.
    let mut line = String::new();
    let mut pump = |first: usize, n: usize| -> Result<(), Outcome> {
        let cmd = format!("tickets {first} {n}");
        peer.send(&cmd)?;
        for i in first..first + n {
            peer.read_line(&mut line, &cmd)?;
            let Some(hex) = line.strip_prefix("ticket ") else {
                return Err(Outcome::Fail(format!(
                    "ticket {i}: sender answered {line:?}"
                )));
            };
            let mut buf = qnx_fdpass::wire::TicketBuf::new();
            let len = unhex_into(hex, &mut buf.bytes)?;
            if txs[i % SOAK_THREADS].send(Job::Ticket(buf, len)).is_err() {
                return Err(Outcome::Fail(format!(
                    "ticket {i}: thread {} stopped",
                    i % SOAK_THREADS
                )));
            }
        }
        let (done_tx, done_rx) = mpsc::channel();
        for (t, tx) in txs.iter().enumerate() {
            if tx.send(Job::Sync(done_tx.clone())).is_err() {
                return Err(Outcome::Fail(format!("thread {t} stopped")));
            }
        }
        drop(done_tx);
        for _ in 0..SOAK_THREADS {
            done_rx
                .recv()
                .map_err(|_| Outcome::Fail("a thread stopped before the barrier".into()))?;
        }
        Ok(())
    };

    let warmup = SOAK_THREADS * SOAK_WARMUP_PER_THREAD;
    let passes = SOAK_THREADS * SOAK_PER_THREAD;
    let measured = (|| {
        pump(0, warmup)?;
        let fds_before = fd_table();
        let rss_before = vm_rss_kib();
        let t0 = Instant::now();
        pump(warmup, passes)?;
        let secs = t0.elapsed().as_secs_f64();
        let fds_after = fd_table();
        let rss_after = vm_rss_kib();
        Ok((fds_before, rss_before, secs, fds_after, rss_after))
    })();
    drop(txs);
    let mut thread_errors = Vec::new();
    let mut redeemed = 0;
    for (t, w) in workers.into_iter().enumerate() {
        match w.join() {
            Ok(Ok(n)) => redeemed += n,
            Ok(Err(e)) => thread_errors.push(e),
            Err(_) => thread_errors.push(format!("thread {t} panicked")),
        }
    }
    ensure!(thread_errors.is_empty(), "{}", thread_errors.join("; "));
    let (fds_before, rss_before, secs, fds_after, rss_after) = measured?;
    let sender = peer.pid();
    peer.finish()?;

    let kib = |r: Option<u64>| r.map_or("n/a".to_string(), |k| format!("{k} KiB"));
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "soak_threads: {passes} passes (+{warmup} warm-up) from sender pid {sender} by {SOAK_THREADS} \
         threads on {cpus} CPU(s) in {secs:.2} s ({:.0}/s); fds {} -> {}; VmRSS {} -> {} \
         (tolerance {SOAK_RSS_TOLERANCE_KIB} KiB)",
        passes as f64 / secs,
        fds_before.len(),
        fds_after.len(),
        kib(rss_before),
        kib(rss_after),
    );
    ensure!(
        redeemed == warmup + passes,
        "the threads redeemed {redeemed} tickets, {} were sent",
        warmup + passes
    );
    if fds_after != fds_before {
        let gone: Vec<_> = fds_before
            .iter()
            .filter(|e| !fds_after.contains(e))
            .collect();
        let new: Vec<_> = fds_after
            .iter()
            .filter(|e| !fds_before.contains(e))
            .collect();
        return Err(Outcome::Fail(format!(
            "descriptor table changed over {passes} passes: {} -> {} open; closed {gone:?}, opened {new:?}",
            fds_before.len(),
            fds_after.len()
        )));
    }
    match (rss_before, rss_after) {
        (Some(b), Some(a)) => ensure!(
            a <= b + SOAK_RSS_TOLERANCE_KIB,
            "VmRSS grew by {} KiB over {passes} passes (tolerance {SOAK_RSS_TOLERANCE_KIB} KiB)",
            a - b
        ),
        // Neutrino has no /proc/self/status: the descriptor table is the whole check there.
        _ => {
            println!("soak_threads: no VmRSS here (no /proc/self/status): resident set not checked")
        }
    }
    drop(files);
    Ok(())
}

/// One `soak_threads` thread: redeems every ticket it is handed through its own `Receiver` and checks
/// the descriptor is file `t` (device and inode `id`, contents `contents`); answers barriers. Returns how
/// many it redeemed, or the first thing that was wrong. With `leak_at`, the descriptor of that pass is
/// left open on purpose (HIL_BREAK).
fn soak_worker(
    t: usize,
    rx: &std::sync::mpsc::Receiver<Job>,
    id: (u64, u64),
    contents: &str,
    leak_at: Option<usize>,
) -> Result<usize, String> {
    let mut r = Receiver::new();
    let mut buf = [0u8; 32];
    let mut redeemed = 0usize;
    for job in rx {
        let (ticket, len) = match job {
            Job::Ticket(ticket, len) => (ticket, len),
            Job::Sync(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let n = redeemed;
        let at = || format!("thread {t}, pass {n}");
        let fd = r
            .redeem(ticket.filled(len))
            .map_err(|e| format!("{}: redeem: {e:?}", at()))?;
        let got_id = file_id(raw(&fd)).map_err(|e| format!("{}: {e:?}", at()))?;
        if got_id != id {
            return Err(format!(
                "{}: descriptor is dev/ino {got_id:?}, its file is {id:?}",
                at()
            ));
        }
        // SAFETY: `buf` is valid for its length; pread leaves the shared file offset alone.
        let got = unsafe { libc::pread(raw(&fd), buf.as_mut_ptr().cast(), buf.len(), 0) };
        let got = usize::try_from(got)
            .map_err(|_| format!("{}: pread: {}", at(), std::io::Error::last_os_error()))?;
        if &buf[..got] != contents.as_bytes() {
            return Err(format!(
                "{}: read {:?}, its file holds {contents:?}",
                at(),
                String::from_utf8_lossy(&buf[..got])
            ));
        }
        if leak_at == Some(n) {
            let _ = fd.into_raw_fd(); // the deliberate leak
        }
        redeemed += 1;
    }
    Ok(redeemed)
}
