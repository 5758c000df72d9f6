//! The scenarios themselves. Each returns `Ok(())` only when everything it checks held.

use crate::peer::Peer;
use crate::util::{fd_count, offset, read_n, scratch, Ctx as _};
use crate::{ensure, Check, Ctx, Outcome};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Runs one scenario by name.
pub fn run(name: &str, ctx: &Ctx) -> Check {
    match name {
        "pidfd_getfd_fork" => pidfd_getfd_fork(ctx),
        "kernel_selftest" => Err(Outcome::Skip("Neutrino only".into())),
        _ => Err(Outcome::Skip(
            "waiting for the crate's public ticket API".into(),
        )),
    }
}

/// What the `holder` peer answers to `ticket <kind> <to>`.
pub fn make_ticket(_fd: i32, _kind: &str, _to: &str) -> String {
    "err no-api".into()
}

/// Harness check, independent of the crate: the peer opens a file and moves its offset; this process
/// takes the peer's descriptor with `pidfd_open` + `pidfd_getfd` and must see and move the same offset.
fn pidfd_getfd_fork(ctx: &Ctx) -> Check {
    #[cfg(not(target_os = "linux"))]
    {
        let _ = ctx;
        return Err(Outcome::Skip("pidfd_getfd is Linux only".into()));
    }
    #[cfg(target_os = "linux")]
    {
        let (_f, path) = scratch("pidfd", b"0123456789")?;
        let before = fd_count();
        let mut peer = Peer::spawn("holder", &[&path])?;
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
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            // SAFETY: as above.
            let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), peer_fd, 0) }
                as i32;
            ensure!(got >= 0, "pidfd_getfd: {}", std::io::Error::last_os_error());
            // SAFETY: a fresh descriptor owned from here on.
            let mut mine = unsafe { OwnedFd::from_raw_fd(got) };
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
}
