//! Scenarios on what a redeemed descriptor shares with the sender's: a dup's open file and offset, an
//! openfd's file but not its offset or wider access, a batch's descriptors all or none.

use crate::fixture::{me, os_err, raw, refused, std_fd, ticket, Scratch, CONTENTS};
use crate::util::{fd_count, offset, read_n, unhex, Ctx as _};
use crate::{ensure, Check, Ctx, Outcome};
use qnx_fdpass::{receive_fd, BatchError, Errno, Receiver};
use std::os::fd::AsRawFd;

/// A dup ticket redeemed here shares the sender's open file: a read here moves the sender's offset and a
/// seek there moves ours.
pub fn dup_shares_offset(ctx: &Ctx) -> Check {
    let s = Scratch::new("dup", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    peer.expect("seek 3", "ok")?;
    let t = ticket(&mut peer, "dup", &me())?;
    {
        let mut fd = std_fd(receive_fd(&t).ctx("receive_fd(dup ticket)")?);
        if ctx.broken {
            // "Redeeming returns the wrong descriptor": the same file, opened anew.
            fd = std::fs::File::open(&s.path).ctx("reopen")?.into();
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
    s.finish(peer, ctx)
}

/// An openfd ticket opens the file anew (offset 0, the sender's unmoved) and cannot widen access.
pub fn openfd_own_offset(ctx: &Ctx) -> Check {
    let s = Scratch::new("openfd", CONTENTS)?;
    let mut peer = s.holder("ro")?;
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
        refused(
            receive_fd(&t),
            &[Errno::ACCES],
            &format!("{kind} on a read-only open"),
        )?;
    }
    s.finish(peer, ctx)
}

/// A batch redeems every ticket or none: one stale ticket at the end releases the ones before it.
pub fn batch_all_or_nothing(ctx: &Ctx) -> Check {
    let s = Scratch::new("batch", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    let good = unhex(&peer.expect(&format!("batch 3 0 {}", me()), "ticket")?)?;
    let bad = unhex(&peer.expect(&format!("batch 3 1 {}", me()), "ticket")?)?;
    let mut r = Receiver::new();
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
        Err(BatchError {
            index: 3, error, ..
        }) if os_err(&error) == Some(Errno::BADF) => {}
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
    s.finish(peer, ctx)
}
