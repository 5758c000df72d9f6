//! Scenarios tied to one system's own interfaces: the harness check through Linux's pidfds, the article's
//! demo over a Linux POSIX message queue, and the Neutrino kernel-call self-test. Elsewhere each says
//! why it cannot run and is skipped.

use crate::{Check, Ctx, Outcome};

/// What the Linux-only scenarios use.
#[cfg(target_os = "linux")]
mod linux {
    pub use crate::fixture::{no_fault, std_fd, Scratch};
    pub use crate::peer::Peer;
    pub use crate::util::{offset, read_n, Ctx as _};
    pub use qnx_fdpass::receive_fd;
    pub use std::os::fd::{AsRawFd, FromRawFd};
}
#[cfg(target_os = "linux")]
use linux::*;

/// Harness check, independent of the crate: the peer opens a file and moves its offset; this process
/// takes the peer's descriptor with `pidfd_open` + `pidfd_getfd` and must see and move the same offset.
#[cfg(target_os = "linux")]
pub fn pidfd_getfd_fork(ctx: &Ctx) -> Check {
    let s = Scratch::new("pidfd", b"0123456789")?;
    let mut peer = s.holder("rw")?;
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
        crate::ensure!(
            pidfd >= 0,
            "pidfd_open: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: pidfd is a fresh descriptor owned from here on.
        let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: as above.
        let got =
            unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), peer_fd, 0) } as i32;
        crate::ensure!(got >= 0, "pidfd_getfd: {}", std::io::Error::last_os_error());
        // SAFETY: a fresh descriptor owned from here on.
        let mut mine = unsafe { std::os::fd::OwnedFd::from_raw_fd(got) };
        if ctx.broken {
            // The wrong descriptor: the same file opened anew, with its own offset.
            mine = std::fs::File::open(&s.path).ctx("reopen")?.into();
        }
        let o = offset(mine.as_raw_fd())?;
        crate::ensure!(
            o == 2,
            "offset seen through the taken descriptor is {o}, the peer set 2"
        );
        let bytes = read_n(mine.as_raw_fd(), 3)?;
        crate::ensure!(
            bytes == b"234",
            "read {:?} at offset 2",
            String::from_utf8_lossy(&bytes)
        );
        let peer_off = peer.expect("offset", "offset")?;
        crate::ensure!(
            peer_off == "5",
            "peer's offset is {peer_off} after this process read 3 bytes, want 5"
        );
    }
    peer.finish()?;
    s.check_fds()?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn pidfd_getfd_fork(_ctx: &Ctx) -> Check {
    Err(Outcome::Skip("pidfd_getfd is Linux only".into()))
}

/// The kernel-call self-test of the Neutrino backend (`qnx_fdpass::sys::nto::self_test`): the trap's
/// error path, `ConnectAttach` + `ConnectServerInfo` to the process manager, and `getpid`, through the
/// backend this build uses (raw traps, or the C library with `libc-calls`). Its pid is also compared
/// with the C library's `getpid()`. Elsewhere there is no Neutrino kernel to probe: skipped.
#[cfg(any(target_os = "nto", target_os = "qnx"))]
pub fn kernel_selftest(ctx: &Ctx) -> Check {
    use crate::fixture::no_fault;
    use qnx_fdpass::Errno;

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
    crate::ensure!(
        r.detach_errno == Errno::INVAL,
        "ConnectDetach(-1) reported {:?}, want INVAL",
        r.detach_errno
    );
    crate::ensure!(
        (r.sysmgr_pid, r.sysmgr_chid) == (1, 1),
        "ConnectServerInfo named pid {} chid {}, the process manager is pid 1 chid 1",
        r.sysmgr_pid,
        r.sysmgr_chid
    );
    let libc_pid = std::process::id() as i32;
    crate::ensure!(
        r.pid == libc_pid,
        "the backend's getpid says {}, the C library's getpid() {libc_pid}",
        r.pid
    );
    no_fault(ctx)
}

#[cfg(not(any(target_os = "nto", target_os = "qnx")))]
pub fn kernel_selftest(_ctx: &Ctx) -> Check {
    let why = "Neutrino only: qnx_fdpass::sys::nto::self_test probes QNX kernel calls, and this \
               is not a Neutrino kernel";
    println!("kernel_selftest: skipped: {why}");
    Err(Outcome::Skip(why.into()))
}

/// The article's demo over a POSIX message queue: a sender process opens a file, reads its first line
/// and sends the re-positioned descriptor with `send_fd`; this process `receive_fd`s it from the queue
/// and reads the next line. The guest's init mounts /dev/mqueue.
#[cfg(target_os = "linux")]
pub fn mqueue_demo(ctx: &Ctx) -> Check {
    let s = Scratch::new("mq", b"alpha line\nbeta line\ngamma line\n")?;
    let queue = format!("/hil-fdpass-{}", std::process::id());
    let q = crate::util::mq_open_rd(&queue)?;
    let mut peer = Peer::spawn("mq-sender", &[&queue, &s.path])?;
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
    crate::ensure!(
        first.contains("[alpha line]"),
        "sender's first line: {first}"
    );
    crate::ensure!(
        line == "beta line",
        "receiver's next line is {line:?}, want \"beta line\""
    );
    drop(fd);
    peer.finish()?;
    crate::util::mq_close_unlink(q, &queue);
    s.check_fds()?;
    no_fault(ctx)
}

#[cfg(not(target_os = "linux"))]
pub fn mqueue_demo(_ctx: &Ctx) -> Check {
    Err(Outcome::Skip(
        "mqueue demo is wired for Linux's libc here; see hil-tests/README.md".into(),
    ))
}
