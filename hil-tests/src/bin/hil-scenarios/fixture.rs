//! What the scenarios share: the scratch file a sender holds, with this process's descriptor count taken
//! before the sender starts and checked at the end; tickets asked of a `holder` peer; the expected
//! refusal of a redeem; and HIL_BREAK for scenarios without a fault of their own.

use crate::peer::Peer;
use crate::util::{fd_count, scratch, unhex};
use crate::{ensure, Check, Ctx, Outcome};
use qnx_fdpass::fd::IntoRawFd as _;
use qnx_fdpass::{Errno, Error, OwnedFd};
use std::fs::File;
use std::os::fd::FromRawFd;

/// What the scratch files of most scenarios hold.
pub const CONTENTS: &[u8] = b"0123456789abcdefghij";

/// A scratch file for a scenario, and how many descriptors this process had open once it was made
/// (before any peer starts). Removed when dropped.
pub struct Scratch {
    /// Kept open for the whole scenario, as the count includes it.
    pub file: File,
    /// Where it is, for the peer to open.
    pub path: String,
    /// This process's descriptor count right after the file was made.
    pub before: usize,
}

impl Scratch {
    /// A scratch file named after `tag` holding `contents`; the descriptor count taken just after.
    pub fn new(tag: &str, contents: &[u8]) -> Result<Scratch, Outcome> {
        let (file, path) = scratch(tag, contents)?;
        let before = fd_count();
        Ok(Scratch { file, path, before })
    }

    /// A `holder` peer of this file, opened `ro` or `rw`.
    pub fn holder(&self, mode: &str) -> Result<Peer, Outcome> {
        Peer::spawn("holder", &[&self.path, mode])
    }

    /// Nothing leaked: this process has as many descriptors open as when the file was made.
    pub fn check_fds(&self) -> Check {
        let (before, after) = (self.before, fd_count());
        ensure!(
            after == before,
            "descriptor count {before} before, {after} after"
        );
        Ok(())
    }

    /// The usual end of a scenario: the peer exits 0, nothing leaked, and HIL_BREAK fails it.
    pub fn finish(self, peer: Peer, ctx: &Ctx) -> Check {
        peer.finish()?;
        self.check_fds()?;
        no_fault(ctx)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Asks a `holder` peer for a ticket of `kind` for recipient `to`.
pub fn ticket(peer: &mut Peer, kind: &str, to: &str) -> Result<Vec<u8>, Outcome> {
    let h = peer.expect(&format!("ticket {kind} {to}"), "ticket")?;
    unhex(&h)
}

/// This process's pid, as the peers' commands name a recipient.
pub fn me() -> String {
    std::process::id().to_string()
}

/// A descriptor the crate redeemed, as std's `OwnedFd`.
pub fn std_fd(fd: OwnedFd) -> std::os::fd::OwnedFd {
    // SAFETY: ownership moves from the crate's OwnedFd to std's.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw_fd()) }
}

/// The number of a descriptor the crate redeemed (its own `OwnedFd`: the payload builds without `std`).
pub fn raw(fd: &OwnedFd) -> i32 {
    qnx_fdpass::fd::AsRawFd::as_raw_fd(fd)
}

/// The system error inside a crate error, if it is one.
pub fn os_err(e: &Error) -> Option<Errno> {
    match e {
        Error::Os(n) => Some(*n),
        _ => None,
    }
}

/// A redeem that must be refused with one of `want`: anything else (another error, or a descriptor)
/// fails the scenario, saying `what` was tried.
pub fn refused<T: std::fmt::Debug>(res: Result<T, Error>, want: &[Errno], what: &str) -> Check {
    match res {
        Err(e) if os_err(&e).is_some_and(|n| want.contains(&n)) => Ok(()),
        other => Err(Outcome::Fail(format!(
            "{what}: {other:?}, want Os({})",
            want.iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join("|")
        ))),
    }
}

/// Scenarios without a deliberate fault of their own still honour HIL_BREAK: they fail, saying so.
pub fn no_fault(ctx: &Ctx) -> Check {
    if ctx.broken {
        return Err(Outcome::Fail(
            "HIL_BREAK: deliberate failure after all checks passed".into(),
        ));
    }
    Ok(())
}
