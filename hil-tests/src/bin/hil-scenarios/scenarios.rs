//! The scenarios themselves. Each returns `Ok(())` only when everything it checks held.
//!
//! The process running a scenario is the receiver; the sender is a peer process (this program re-run with
//! `--role`, see `peer.rs`) holding the descriptor and issuing tickets through the crate's public API.
//! Every scenario that redeems counts this process's descriptors before and after: nothing may leak.

use crate::peer::Peer;
use crate::util::{fd_count, hex, offset, read_n, scratch, unhex, Ctx as _};
use crate::{ensure, Check, Ctx, Outcome};
use qnx_fdpass::fd::IntoRawFd as _;
use qnx_fdpass::{
    receive_fd, Access, BatchError, BorrowedFd, DecodeError, DupBatch, DupTicket, Errno, Error,
    OpenfdTicket, OwnedFd, Receiver, Recipient,
};
use std::os::fd::{AsRawFd, FromRawFd};

const CONTENTS: &[u8] = b"0123456789abcdefghij";

/// Runs one scenario by name.
pub fn run(name: &str, ctx: &Ctx) -> Check {
    match name {
        "pidfd_getfd_fork" => pidfd_getfd_fork(ctx),
        "dup_shares_offset" => dup_shares_offset(ctx),
        "openfd_own_offset" => openfd_own_offset(ctx),
        "bad_packets" => bad_packets(ctx),
        "dead_sender" => dead_sender(ctx),
        "closed_fd" => closed_fd(ctx),
        "batch_all_or_nothing" => batch_all_or_nothing(ctx),
        "soak_10000" => soak(ctx, 10_000),
        "soak_threads" => soak_threads(ctx),
        "mqueue_demo" => mqueue_demo(ctx),
        "kernel_selftest" => kernel_selftest(ctx),
        _ => Err(Outcome::Fail(format!("no implementation for {name}"))),
    }
}

/// `any` or a pid, as the peers' commands spell a recipient.
pub fn recipient(to: &str) -> Result<Recipient, String> {
    match to {
        "any" => Ok(Recipient::Any),
        pid => pid
            .parse()
            .map(Recipient::Pid)
            .map_err(|_| format!("bad recipient {pid:?}")),
    }
}

/// What the `holder` peer answers to `ticket <dup|openfd-r|openfd-w|openfd-rw> <any|pid>`.
pub fn make_ticket(fd: i32, kind: &str, to: &str) -> String {
    let to = match recipient(to) {
        Ok(r) => r,
        Err(e) => return format!("err {e}"),
    };
    // SAFETY: the holder keeps `fd` open while it answers.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    let r = match kind {
        "dup" => DupTicket::new(b, to).map(|t| t.as_bytes().to_vec()),
        "openfd-r" => OpenfdTicket::new(b, Access::Read, to).map(|t| t.as_bytes().to_vec()),
        "openfd-w" => OpenfdTicket::new(b, Access::Write, to).map(|t| t.as_bytes().to_vec()),
        "openfd-rw" => OpenfdTicket::new(b, Access::ReadWrite, to).map(|t| t.as_bytes().to_vec()),
        _ => return format!("err unknown ticket kind {kind}"),
    };
    match r {
        Ok(bytes) => format!("ticket {}", hex(&bytes)),
        Err(e) => format!("err {e}"),
    }
}

/// What the `holder` peer answers to `batch <good> <stale> <any|pid>`: a batch of `good` tickets for
/// fresh `dup()`s of its descriptor, then `stale` tickets for dups closed right after the ticket was made.
pub fn make_batch(fd: i32, good: usize, stale: usize, to: &str) -> String {
    let to = match recipient(to) {
        Ok(r) => r,
        Err(e) => return format!("err {e}"),
    };
    let mut batch = DupBatch::<8>::new();
    for i in 0..good + stale {
        // SAFETY: dup of a descriptor the holder keeps open; the result is owned below.
        let d = unsafe { libc::dup(fd) };
        if d < 0 {
            return format!("err dup: {}", std::io::Error::last_os_error());
        }
        // SAFETY: `d` is a fresh descriptor nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(d) };
        // SAFETY: `owned` is open for the borrow.
        let t = match DupTicket::new(unsafe { BorrowedFd::borrow_raw(owned.as_raw_fd()) }, to) {
            Ok(t) => t,
            Err(e) => return format!("err {e}"),
        };
        if batch.push(t).is_err() {
            return "err batch full".into();
        }
        if i < good {
            // Kept open (leaked on purpose) until the holder exits: the tickets must stay redeemable.
            std::mem::forget(owned);
        }
    }
    format!("ticket {}", hex(batch.as_bytes()))
}

fn ticket(peer: &mut Peer, kind: &str, to: &str) -> Result<Vec<u8>, Outcome> {
    let h = peer.expect(&format!("ticket {kind} {to}"), "ticket")?;
    unhex(&h)
}

fn me() -> String {
    std::process::id().to_string()
}

fn std_fd(fd: OwnedFd) -> std::os::fd::OwnedFd {
    // SAFETY: ownership moves from the crate's OwnedFd to std's.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw_fd()) }
}

/// The number of a descriptor the crate redeemed (its own `OwnedFd`: the payload builds without `std`).
fn raw(fd: &OwnedFd) -> i32 {
    qnx_fdpass::fd::AsRawFd::as_raw_fd(fd)
}

fn os_err(e: &Error) -> Option<Errno> {
    match e {
        Error::Os(n) => Some(*n),
        Error::Decode(_) => None,
    }
}

/// Harness check, independent of the crate: the peer opens a file and moves its offset; this process
/// takes the peer's descriptor with `pidfd_open` + `pidfd_getfd` and must see and move the same offset.
#[cfg(target_os = "linux")]
fn pidfd_getfd_fork(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("pidfd", b"0123456789")?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    let hello = peer.expect("hello", "pid")?;
    let peer_fd: i32 = hello
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .parse()
        .ctx("peer fd")?;
    peer.expect("seek 2", "ok")?;
    {
        // SAFETY: plain syscalls; results are checked before use.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, peer.pid(), 0) } as i32;
        ensure!(
            pidfd >= 0,
            "pidfd_open: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: pidfd is a fresh descriptor owned from here on.
        let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: as above.
        let got =
            unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), peer_fd, 0) } as i32;
        ensure!(got >= 0, "pidfd_getfd: {}", std::io::Error::last_os_error());
        // SAFETY: a fresh descriptor owned from here on.
        let mut mine = unsafe { std::os::fd::OwnedFd::from_raw_fd(got) };
        if ctx.broken {
            // The wrong descriptor: the same file opened anew, with its own offset.
            mine = std::fs::File::open(&path).ctx("reopen")?.into();
        }
        let o = offset(mine.as_raw_fd())?;
        ensure!(
            o == 2,
            "offset seen through the taken descriptor is {o}, the peer set 2"
        );
        let bytes = read_n(mine.as_raw_fd(), 3)?;
        ensure!(
            bytes == b"234",
            "read {:?} at offset 2",
            String::from_utf8_lossy(&bytes)
        );
        let peer_off = peer.expect("offset", "offset")?;
        ensure!(
            peer_off == "5",
            "peer's offset is {peer_off} after this process read 3 bytes, want 5"
        );
    }
    let st = peer.quit()?;
    ensure!(st == 0, "peer exited with {st}");
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn pidfd_getfd_fork(_ctx: &Ctx) -> Check {
    Err(Outcome::Skip("pidfd_getfd is Linux only".into()))
}

/// A dup ticket redeemed here shares the sender's open file: a read here moves the sender's offset and a
/// seek there moves ours.
fn dup_shares_offset(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("dup", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    peer.expect("seek 3", "ok")?;
    let t = ticket(&mut peer, "dup", &me())?;
    {
        let mut fd = std_fd(receive_fd(&t).ctx("receive_fd(dup ticket)")?);
        if ctx.broken {
            // "Redeeming returns the wrong descriptor": the same file, opened anew.
            fd = std::fs::File::open(&path).ctx("reopen")?.into();
        }
        let o = offset(fd.as_raw_fd())?;
        ensure!(
            o == 3,
            "redeemed descriptor is at offset {o}; the sender had moved to 3"
        );
        let got = read_n(fd.as_raw_fd(), 2)?;
        ensure!(
            got == b"34",
            "read {:?} at offset 3",
            String::from_utf8_lossy(&got)
        );
        let theirs = peer.expect("offset", "offset")?;
        ensure!(
            theirs == "5",
            "receiver read 2 bytes: sender's offset is {theirs}, want 5 (receiver -> sender)"
        );
        peer.expect("seek 11", "ok")?;
        let o = offset(fd.as_raw_fd())?;
        ensure!(
            o == 11,
            "sender seeked to 11: receiver sees {o} (sender -> receiver)"
        );
    }
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// An openfd ticket opens the file anew (offset 0, the sender's unmoved) and cannot widen access.
fn openfd_own_offset(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("openfd", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "ro"])?;
    peer.expect("seek 4", "ok")?;
    {
        let t = ticket(&mut peer, "openfd-r", &me())?;
        let fd = std_fd(receive_fd(&t).ctx("receive_fd(openfd-r)")?);
        let o = offset(fd.as_raw_fd())?;
        ensure!(o == 0, "a new open starts at 0, got {o}");
        let got = read_n(fd.as_raw_fd(), 3)?;
        ensure!(got == b"012", "read {:?}", String::from_utf8_lossy(&got));
        let theirs = peer.expect("offset", "offset")?;
        ensure!(
            theirs == "4",
            "sender's offset moved to {theirs}: the open is not separate"
        );
    }
    for kind in ["openfd-rw", "openfd-w"] {
        let t = ticket(&mut peer, kind, &me())?;
        match receive_fd(&t) {
            Err(e) if os_err(&e) == Some(Errno::ACCES) => {}
            Err(e) => {
                return Err(Outcome::Fail(format!(
                    "{kind} on a read-only open: {e:?}, want Os(ACCES)"
                )))
            }
            Ok(fd) => {
                return Err(Outcome::Fail(format!(
                    "{kind} on a read-only open was granted ({fd:?})"
                )))
            }
        }
    }
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// Each kind of malformed ticket is refused with its own DecodeError, before any system call.
///
/// Fields are found with `offset_of!` on the crate's wire types, so the corruptions follow the layout of
/// the QNX version being built for (`wire::IoDup` is the 7.x or the 8.0 `io_dup_t`), and each is written
/// as a whole field in native byte order, as the tickets carry them.
fn bad_packets(ctx: &Ctx) -> Check {
    use qnx_fdpass::wire::{IoDup, IoOpenfd, IO_COMBINE_FLAG, IO_DUP, IO_OPENFD_ACCEPT};
    use std::mem::{offset_of, size_of};

    let (_f, path) = scratch("bad", CONTENTS)?;
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    // Named recipient: QNX 8.0 refuses to issue for `Recipient::Any`.
    let good = ticket(&mut peer, "dup", &me())?;
    let openfd = ticket(&mut peer, "openfd-r", &me())?;
    let before = fd_count();
    let size = size_of::<IoDup>();
    ensure!(
        good.len() == size,
        "dup ticket is {} bytes, IoDup is {size}",
        good.len()
    );
    ensure!(
        openfd.len() == size_of::<IoOpenfd>(),
        "openfd ticket is {} bytes, IoOpenfd is {}",
        openfd.len(),
        size_of::<IoOpenfd>()
    );
    // `base` with the field at `at` overwritten by `bytes` (a whole field, native byte order).
    let with = |base: &[u8], at: usize, bytes: &[u8]| {
        let mut b = base.to_vec();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    let combined = size as u16 | IO_COMBINE_FLAG;
    #[allow(unused_mut)] // the 7.x-only cases below push more
    let mut cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        (
            "truncated",
            good[..size - 1].to_vec(),
            DecodeError::TooShort {
                need: size,
                got: size - 1,
            },
        ),
        (
            "one byte too many",
            [good.clone(), vec![0]].concat(),
            DecodeError::TooLong {
                max: size,
                got: size + 1,
            },
        ),
        (
            "type _IO_DUP-1",
            with(&good, offset_of!(IoDup, type_), &(IO_DUP - 1).to_ne_bytes()),
            DecodeError::WrongType(IO_DUP - 1),
        ),
        (
            "combine_len with _IO_COMBINE_FLAG",
            with(
                &good,
                offset_of!(IoDup, combine_len),
                &combined.to_ne_bytes(),
            ),
            DecodeError::WrongCombineLen {
                expected: size as u16,
                got: combined,
            },
        ),
        (
            "info.srcnd",
            with(&good, offset_of!(IoDup, info.srcnd), &1u32.to_ne_bytes()),
            DecodeError::ReservedNonZero {
                field: "info.srcnd",
            },
        ),
        (
            "sender pid (info.tid) 0",
            with(&good, offset_of!(IoDup, info.tid), &0i32.to_ne_bytes()),
            DecodeError::BadSender(0),
        ),
        (
            "info.coid -5",
            with(&good, offset_of!(IoDup, info.coid), &(-5i32).to_ne_bytes()),
            DecodeError::BadCoid(-5),
        ),
        (
            "openfd ioflag 0 (no access)",
            with(&openfd, offset_of!(IoOpenfd, ioflag), &0u32.to_ne_bytes()),
            DecodeError::BadAccess(0),
        ),
        (
            "openfd xtype _IO_OPENFD_ACCEPT",
            with(
                &openfd,
                offset_of!(IoOpenfd, xtype),
                &IO_OPENFD_ACCEPT.to_ne_bytes(),
            ),
            DecodeError::BadXtype(IO_OPENFD_ACCEPT),
        ),
    ];
    // QNX 7.x tickets embed the 48-byte `_msg_info32` and a reserved word: those must be zero too.
    #[cfg(any(
        target_env = "nto70",
        target_env = "nto71",
        target_env = "nto71_iosock"
    ))]
    cases.extend([
        (
            "info.msglen",
            with(&good, offset_of!(IoDup, info.msglen), &1i32.to_ne_bytes()),
            DecodeError::ReservedNonZero {
                field: "info.msglen",
            },
        ),
        (
            "reserved",
            with(&good, offset_of!(IoDup, reserved), &1u32.to_ne_bytes()),
            DecodeError::ReservedNonZero { field: "reserved" },
        ),
        (
            "openfd reserved2",
            with(
                &openfd,
                offset_of!(IoOpenfd, reserved2),
                &1u32.to_ne_bytes(),
            ),
            DecodeError::ReservedNonZero { field: "reserved2" },
        ),
    ]);
    let mut wrong = Vec::new();
    for (what, bytes, want) in cases {
        match receive_fd(&bytes) {
            Err(Error::Decode(got)) if got == want => {}
            other => wrong.push(format!("{what}: {other:?}, want Decode({want:?})")),
        }
    }
    ensure!(wrong.is_empty(), "{}", wrong.join("; "));
    ensure!(receive_fd(&[]).is_err(), "an empty packet was accepted");
    // The good tickets the corruptions started from still redeem: each case broke one field only.
    drop(receive_fd(&good).ctx("the uncorrupted dup ticket")?);
    drop(receive_fd(&openfd).ctx("the uncorrupted openfd ticket")?);
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after the refusals"
    );
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// A ticket whose sender has exited fails with ESRCH and leaves nothing open.
fn dead_sender(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("dead", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    let t = ticket(&mut peer, "dup", &me())?;
    let mut cached = Receiver::<4>::new();
    drop(cached.redeem(&t).ctx("redeem while the sender lives")?);
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    // The sender is gone (reaped): a fresh receiver and one that cached the sender both fail.
    match receive_fd(&t) {
        Err(e) if os_err(&e) == Some(Errno::SRCH) => {}
        other => {
            return Err(Outcome::Fail(format!(
                "receive_fd after the sender exited: {other:?}, want Os(SRCH)"
            )))
        }
    }
    match cached.redeem(&t) {
        Err(e) if matches!(os_err(&e), Some(Errno::SRCH | Errno::BADF)) => {}
        other => {
            return Err(Outcome::Fail(format!(
                "cached receiver after exit: {other:?}, want Os(SRCH|BADF)"
            )))
        }
    }
    drop(cached);
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// A ticket for a descriptor the sender closed fails with EBADF and leaves nothing open.
fn closed_fd(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("closed", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    let t = ticket(&mut peer, "dup", &me())?;
    peer.expect("close", "ok")?;
    match receive_fd(&t) {
        Err(e) if os_err(&e) == Some(Errno::BADF) => {}
        other => {
            return Err(Outcome::Fail(format!(
                "receive_fd of a closed descriptor: {other:?}, want Os(BADF)"
            )))
        }
    }
    let mut r = Receiver::<4>::new();
    match r.redeem(&t) {
        Err(e) if os_err(&e) == Some(Errno::BADF) => {}
        other => {
            return Err(Outcome::Fail(format!(
                "Receiver::redeem of a closed descriptor: {other:?}"
            )))
        }
    }
    drop(r);
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// A batch redeems every ticket or none: one stale ticket at the end releases the ones before it.
fn batch_all_or_nothing(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("batch", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    let good = unhex(&peer.expect(&format!("batch 3 0 {}", me()), "ticket")?)?;
    let bad = unhex(&peer.expect(&format!("batch 3 1 {}", me()), "ticket")?)?;
    let mut r = Receiver::<4>::new();
    {
        let fds = r
            .redeem_batch::<4>(&good)
            .map_err(|e| Outcome::Fail(format!("good batch: {e:?}")))?;
        ensure!(
            fds.len() == 3,
            "good batch gave {} descriptors, want 3",
            fds.len()
        );
        peer.expect("seek 6", "ok")?;
        for fd in &fds {
            let o = offset(raw(fd))?;
            ensure!(
                o == 6,
                "a batch descriptor is at {o}, the sender's file is at 6"
            );
        }
    }
    let mid = fd_count();
    match r.redeem_batch::<4>(&bad) {
        Err(BatchError { index: 3, error }) if os_err(&error) == Some(Errno::BADF) => {}
        Err(e) => {
            return Err(Outcome::Fail(format!(
                "bad batch: {e:?}, want index 3, Os(BADF)"
            )))
        }
        Ok(fds) => {
            return Err(Outcome::Fail(format!(
                "bad batch redeemed {} descriptors",
                fds.len()
            )))
        }
    }
    let after_bad = fd_count();
    ensure!(
        after_bad == mid,
        "the failed batch left {} descriptors open",
        after_bad as i64 - mid as i64
    );
    match r.redeem_batch::<2>(&good) {
        Err(e) if e.index == 2 => {}
        other => {
            return Err(Outcome::Fail(format!(
                "3 tickets into capacity 2: {other:?}, want index 2"
            )))
        }
    }
    drop(r);
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

/// `n` passes of one ticket through a caching Receiver, and n/10 through stateless receive_fd: the
/// descriptor count ends where it started.
fn soak(ctx: &Ctx, n: usize) -> Check {
    let (_f, path) = scratch("soak", CONTENTS)?;
    let before = fd_count();
    let mut peer = Peer::spawn("holder", &[&path, "rw"])?;
    peer.expect("seek 7", "ok")?;
    let t = ticket(&mut peer, "dup", &me())?;
    let mut leaked = None;
    {
        let mut r = Receiver::<4>::new();
        for i in 0..n {
            let fd = r
                .redeem(&t)
                .map_err(|e| Outcome::Fail(format!("pass {i}: {e:?}")))?;
            if i % 1000 == 0 {
                let o = offset(raw(&fd))?;
                ensure!(o == 7, "pass {i}: offset {o}, want 7");
            }
            if ctx.broken && i == n / 2 {
                leaked = Some(fd.into_raw_fd()); // a deliberate leak of one descriptor
            }
        }
        for i in 0..n / 10 {
            drop(receive_fd(&t).map_err(|e| Outcome::Fail(format!("receive_fd pass {i}: {e:?}")))?);
        }
    }
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    let after = fd_count();
    ensure!(
        after == before,
        "after {n} + {} passes: descriptor count {before} -> {after}",
        n / 10
    );
    let _ = (std::fs::remove_file(&path), leaked);
    Ok(())
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
/// `i % SOAK_THREADS`, which redeems it through its own `Receiver<4>` and checks that the descriptor is
/// its file (same device and inode by `fstat`, same contents by `pread`). After a warm-up the descriptor
/// table and `VmRSS` are taken, [`SOAK_THREADS`] x [`SOAK_PER_THREAD`] passes run, and both are taken
/// again: the table must be identical and the resident set within [`SOAK_RSS_TOLERANCE_KIB`].
fn soak_threads(ctx: &Ctx) -> Check {
    use std::sync::mpsc;
    use std::time::Instant;

    let files = (0..SOAK_THREADS)
        .map(|t| scratch(&format!("soakt{t}"), format!("soak file {t}\n").as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut want = Vec::new();
    for (t, (f, _)) in files.iter().enumerate() {
        want.push((
            crate::util::file_id(f.as_raw_fd())?,
            format!("soak file {t}\n"),
        ));
    }
    let paths: Vec<&str> = files.iter().map(|(_, p)| p.as_str()).collect();
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
            let len = crate::util::unhex_into(hex, &mut buf.bytes)?;
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
        let fds_before = crate::util::fd_table();
        let rss_before = crate::util::vm_rss_kib();
        let t0 = Instant::now();
        pump(warmup, passes)?;
        let secs = t0.elapsed().as_secs_f64();
        let fds_after = crate::util::fd_table();
        let rss_after = crate::util::vm_rss_kib();
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
    ensure!(peer.quit()? == 0, "sender exited non-zero");

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
    for (_, p) in &files {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

/// One `soak_threads` thread: redeems every ticket it is handed through its own `Receiver<4>` and checks
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
    let mut r = Receiver::<4>::new();
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
        let got_id = crate::util::file_id(raw(&fd)).map_err(|e| format!("{}: {e:?}", at()))?;
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

/// The kernel-call self-test of the Neutrino backend (`qnx_fdpass::sys::nto::self_test`): the trap's
/// error path, `ConnectAttach` + `ConnectServerInfo` to the process manager, and `getpid`, through the
/// backend this build uses (raw traps, or the C library with `libc-calls`). Its pid is also compared
/// with the C library's `getpid()`. Elsewhere there is no Neutrino kernel to probe: skipped.
#[cfg(any(target_os = "nto", target_os = "qnx"))]
fn kernel_selftest(ctx: &Ctx) -> Check {
    let backend = if cfg!(feature = "libc-calls") {
        "libc-calls"
    } else {
        "raw"
    };
    // The reasons carry no backend name: the -libc row must give the raw row's answer word for word.
    let r = qnx_fdpass::sys::nto::self_test()
        .map_err(|e| Outcome::Fail(format!("self_test: {e} ({e:?})")))?;
    println!(
        "kernel_selftest ({backend}): ConnectDetach(-1) -> {:?}; sysmgr side channel coid {:#x} -> \
         pid {} chid {}; getpid {}",
        r.detach_errno, r.sysmgr_coid, r.sysmgr_pid, r.sysmgr_chid, r.pid
    );
    ensure!(
        r.detach_errno == Errno::INVAL,
        "ConnectDetach(-1) reported {:?}, want INVAL",
        r.detach_errno
    );
    ensure!(
        (r.sysmgr_pid, r.sysmgr_chid) == (1, 1),
        "ConnectServerInfo named pid {} chid {}, the process manager is pid 1 chid 1",
        r.sysmgr_pid,
        r.sysmgr_chid
    );
    let libc_pid = std::process::id() as i32;
    ensure!(
        r.pid == libc_pid,
        "the backend's getpid says {}, the C library's getpid() {libc_pid}",
        r.pid
    );
    no_fault(ctx)
}

#[cfg(not(any(target_os = "nto", target_os = "qnx")))]
fn kernel_selftest(_ctx: &Ctx) -> Check {
    let why = "Neutrino only: qnx_fdpass::sys::nto::self_test probes QNX kernel calls, and this \
               is not a Neutrino kernel";
    println!("kernel_selftest: skipped: {why}");
    Err(Outcome::Skip(why.into()))
}

/// The article's demo over a POSIX message queue: a sender process opens a file, reads its first line
/// and sends the re-positioned descriptor with `send_fd`; this process `receive_fd`s it from the queue
/// and reads the next line. The guest's init mounts /dev/mqueue.
#[cfg(target_os = "linux")]
fn mqueue_demo(ctx: &Ctx) -> Check {
    let (_f, path) = scratch("mq", b"alpha line\nbeta line\ngamma line\n")?;
    let queue = format!("/hil-fdpass-{}", std::process::id());
    let before = fd_count();
    let q = crate::util::mq_open_rd(&queue)?;
    let mut peer = Peer::spawn("mq-sender", &[&queue, &path])?;
    let first = peer.expect("send", "SFD:")?;
    println!("SFD: {first}");
    let bytes = crate::util::mq_recv(q, 10)?;
    let fd = std_fd(receive_fd(&bytes).ctx("RFD: receive_fd")?);
    let mut line = Vec::new();
    loop {
        let b = read_n(fd.as_raw_fd(), 1)?;
        if b.is_empty() || b[0] == b'\n' {
            break;
        }
        line.extend_from_slice(&b);
    }
    let line = String::from_utf8_lossy(&line).to_string();
    println!("RFD: other pid {}, next line [{line}]", peer.pid());
    ensure!(
        first.contains("[alpha line]"),
        "sender's first line: {first}"
    );
    ensure!(
        line == "beta line",
        "receiver's next line is {line:?}, want \"beta line\""
    );
    drop(fd);
    ensure!(peer.quit()? == 0, "sender exited non-zero");
    crate::util::mq_close_unlink(q, &queue);
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after"
    );
    let _ = std::fs::remove_file(&path);
    no_fault(ctx)
}

#[cfg(not(target_os = "linux"))]
fn mqueue_demo(_ctx: &Ctx) -> Check {
    Err(Outcome::Skip(
        "mqueue demo is wired for Linux's libc here; see hil-tests/README.md".into(),
    ))
}

/// Scenarios without a deliberate fault of their own still honour HIL_BREAK: they fail, saying so.
fn no_fault(ctx: &Ctx) -> Check {
    if ctx.broken {
        return Err(Outcome::Fail(
            "HIL_BREAK: deliberate failure after all checks passed".into(),
        ));
    }
    Ok(())
}
