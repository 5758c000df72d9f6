//! The Linux host backend's system calls, through `rustix` (no libc, no allocation).
//!
//! This gives the crate's API real meaning on a workstation: a ticket names the sender's pid and
//! descriptor number, and redeeming it is `pidfd_open` + `pidfd_getfd` (a duplicate sharing the open file
//! and its position, like `_IO_DUP`), or a re-open through `/proc/self/fd` (own position, like
//! `_IO_OPENFD`). Nothing here says anything about QNX behaviour.
//!
//! [`Linux`] implements the host backend's kernel-call trait, [`LinuxKernel`], with the real calls;
//! [`FailAt`](crate::sys::FailAt) wraps it to fail a chosen call.

use core::ffi::CStr;

use rustix::fd::{AsRawFd, BorrowedFd, IntoRawFd};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags};

use crate::errno::Errno;
use crate::fd::RawFd;
use crate::sys::{Kernel, LinuxKernel};
use crate::wire::Access;

mod stat;
pub use stat::starttime_from_stat;

/// The real system calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct Linux;

/// The backend the public API uses.
pub type DefaultKernel = Linux;

fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_linux(e.raw_os_error())
}

/// Writes `prefix`, the decimal `n`, `suffix` and a NUL into `buf`; returns the C string.
fn path_with_number<'b>(
    buf: &'b mut [u8; 48],
    prefix: &[u8],
    n: u32,
    suffix: &[u8],
) -> Result<&'b CStr, Errno> {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    let digits = digits.get(i..).ok_or(Errno::INVAL)?;
    let mut len = 0;
    for part in [prefix, digits, suffix, b"\0"] {
        let end = len + part.len();
        buf.get_mut(len..end)
            .ok_or(Errno::NAMETOOLONG)?
            .copy_from_slice(part);
        len = end;
    }
    CStr::from_bytes_with_nul(buf.get(..len).ok_or(Errno::INVAL)?).map_err(|_| Errno::INVAL)
}

// SAFETY: `close` closes the descriptor it is given, once; `pidfd_open`, `pidfd_getfd` and `reopen`
// return the new descriptor the kernel made, which nothing else knows of (`into_raw_fd` gives up
// rustix's owner without closing it).
unsafe impl Kernel for Linux {
    unsafe fn close(&self, fd: RawFd) -> Result<(), Errno> {
        close(fd)
    }

    fn close_attempts(&self) -> usize {
        // Never retried: Linux releases the descriptor even when close(2) reports EINTR.
        1
    }

    fn getpid(&self) -> Result<i32, Errno> {
        Ok(getpid())
    }
}

// SAFETY: as the `Kernel` impl above.
unsafe impl LinuxKernel for Linux {
    fn pidfd_open(&self, pid: i32) -> Result<RawFd, Errno> {
        let pid = Pid::from_raw(pid).ok_or(Errno::SRCH)?;
        rustix::process::pidfd_open(pid, PidfdFlags::empty())
            .map(IntoRawFd::into_raw_fd)
            .map_err(errno)
    }

    unsafe fn pidfd_getfd(&self, pidfd: RawFd, fd: RawFd) -> Result<RawFd, Errno> {
        // SAFETY: the caller owns or borrows `pidfd` for this call (this method's contract); the borrow
        // ends with the one system call.
        let pidfd = unsafe { BorrowedFd::borrow_raw(pidfd) };
        rustix::process::pidfd_getfd(pidfd, fd, PidfdGetfdFlags::empty())
            .map(IntoRawFd::into_raw_fd)
            .map_err(errno)
    }

    unsafe fn access_mode(&self, fd: RawFd) -> Result<Access, Errno> {
        // SAFETY: the caller owns or borrows `fd` for this call (this method's contract); the borrow
        // ends with the one `fcntl(F_GETFL)`.
        let flags =
            rustix::fs::fcntl_getfl(unsafe { BorrowedFd::borrow_raw(fd) }).map_err(errno)?;
        if flags.contains(OFlags::PATH) {
            return Err(Errno::ACCES);
        }
        Ok(match flags & OFlags::RWMODE {
            m if m == OFlags::WRONLY => Access::Write,
            m if m == OFlags::RDWR => Access::ReadWrite,
            _ => Access::Read,
        })
    }

    unsafe fn reopen(&self, fd: RawFd, access: Access) -> Result<RawFd, Errno> {
        let mut buf = [0u8; 48];
        let path = path_with_number(&mut buf, b"/proc/self/fd/", fd as u32, b"")?;
        let mode = match access {
            Access::Read => OFlags::RDONLY,
            Access::Write => OFlags::WRONLY,
            Access::ReadWrite => OFlags::RDWR,
        };
        // O_NONBLOCK: re-opening a FIFO that has no peer (or a device that waits, like a serial line
        // waiting for carrier) would block the receiver until a peer comes, possibly forever. With it the
        // open returns at once (ENXIO for a FIFO without reader opened for writing); the flag is then
        // cleared, so the new descriptor blocks like one from a plain open.
        let file = rustix::fs::open(
            path,
            mode | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .map_err(errno)?;
        // F_SETFL changes only O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME and O_ASYNC, none of which the
        // open above set except O_NONBLOCK. On failure `file` is closed on return.
        rustix::fs::fcntl_setfl(&file, OFlags::empty()).map_err(errno)?;
        Ok(file.into_raw_fd())
    }

    fn start_time(&self, pid: i32) -> Result<u64, Errno> {
        let mut pbuf = [0u8; 48];
        let path = path_with_number(&mut pbuf, b"/proc/", pid as u32, b"/stat")?;
        let file = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| {
                // No /proc/<pid>: the process is gone.
                if e == rustix::io::Errno::NOENT {
                    Errno::SRCH
                } else {
                    errno(e)
                }
            })?;
        let mut buf = [0u8; 512];
        let mut len = 0;
        while let Some(rest) = buf.get_mut(len..) {
            if rest.is_empty() {
                break;
            }
            let want = rest.len();
            match rustix::io::read(&file, rest) {
                Ok(0) => break,
                // procfs hands out the whole line in one read when the buffer holds it: a short read
                // is the end, and skipping the read that would return 0 saves a system call on every
                // new peer. (Were it ever not the end, field 22 would be missing or cut short, and the
                // start time would not match: `ESRCH`, never a wrong process.)
                Ok(n) if n < want => {
                    len += n;
                    break;
                }
                Ok(n) => len += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(errno(e)),
            }
        }
        drop(file);
        starttime_from_stat(buf.get(..len).unwrap_or(&[])).ok_or(Errno::SRCH)
    }
}

/// What `close()` does, for [`OwnedFd`](crate::fd::OwnedFd) and [`qnx_fdpass::close`](crate::close):
/// one `close(2)`, whose answer is returned. Never retried: Linux releases the descriptor even when it
/// reports `EINTR`, so a second call could close a descriptor another thread has just been given.
///
/// Crate-private: `fd` is a descriptor the caller owns and gives up (`OwnedFd`'s drop,
/// `qnx_fdpass::close`, a `KernelFd` dropped), or a negative number.
pub(crate) fn close(fd: RawFd) -> Result<(), Errno> {
    if fd < 0 {
        return Err(Errno::BADF);
    }
    // SAFETY: `fd` is a descriptor the caller owns and never uses again (OwnedFd::drop,
    // `qnx_fdpass::close`, which consume the `OwnedFd`, or a `KernelFd` dropped).
    unsafe { rustix::io::try_close(fd) }.map_err(errno)
}

/// The calling process's pid (cannot fail on Linux).
pub(crate) fn getpid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// A kernel that must not be reached, for the API's unit tests: every call panics.
#[cfg(test)]
pub(crate) struct Unreachable;

#[cfg(test)]
// SAFETY: every call panics; nothing is returned or closed.
unsafe impl Kernel for Unreachable {
    unsafe fn close(&self, _: RawFd) -> Result<(), Errno> {
        panic!("system call for a packet that does not parse")
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        panic!("system call for a packet that does not parse")
    }
}

#[cfg(test)]
// SAFETY: as above.
unsafe impl LinuxKernel for Unreachable {
    fn pidfd_open(&self, _: i32) -> Result<RawFd, Errno> {
        panic!("system call for a packet that does not parse")
    }
    unsafe fn pidfd_getfd(&self, _: RawFd, _: RawFd) -> Result<RawFd, Errno> {
        panic!("system call for a packet that does not parse")
    }
    unsafe fn access_mode(&self, _: RawFd) -> Result<Access, Errno> {
        panic!("system call for a packet that does not parse")
    }
    unsafe fn reopen(&self, _: RawFd, _: Access) -> Result<RawFd, Errno> {
        panic!("system call for a packet that does not parse")
    }
    fn start_time(&self, _: i32) -> Result<u64, Errno> {
        panic!("system call for a packet that does not parse")
    }
}

/// Keeps `_` imports honest on every Linux architecture.
const _: fn(&rustix::fd::OwnedFd) -> RawFd = AsRawFd::as_raw_fd;

#[cfg(test)]
mod tests {
    use super::*;

    fn borrow(fd: RawFd) -> BorrowedFd<'static> {
        // SAFETY: the tests pass only descriptors they hold open across the one call the borrow is
        // used for.
        unsafe { BorrowedFd::borrow_raw(fd) }
    }

    #[test]
    fn paths() {
        let mut b = [0u8; 48];
        assert_eq!(
            path_with_number(&mut b, b"/proc/", 12345, b"/stat")
                .unwrap()
                .to_bytes(),
            b"/proc/12345/stat"
        );
        assert_eq!(
            path_with_number(&mut b, b"/proc/self/fd/", 0, b"")
                .unwrap()
                .to_bytes(),
            b"/proc/self/fd/0"
        );
        assert_eq!(
            path_with_number(&mut b, b"/proc/", u32::MAX, b"/stat")
                .unwrap()
                .to_bytes(),
            b"/proc/4294967295/stat"
        );
    }

    #[test]
    fn close_reports_what_close_answered() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let (r, w) = (r.into_raw_fd(), w.into_raw_fd());
        assert_eq!(close(r), Ok(()));
        // The number is free now: closing it again is refused, and the refusal is reported.
        assert_eq!(close(r), Err(Errno::BADF));
        assert_eq!(close(-1), Err(Errno::BADF));
        assert_eq!(close(w), Ok(()));
    }

    /// Descriptor 0 is closed like any other (a daemon closes its standard input): only negative numbers
    /// are refused without asking the kernel. Standard input is set aside meanwhile and put back.
    #[test]
    fn close_takes_descriptor_0() {
        // Closing descriptor 0 frees the lowest number, which another test thread opening a descriptor
        // at that moment would be given (and `dup2` onto it then fails with EBUSY, or closes that
        // thread's descriptor): the check runs alone, in a child process of this test binary.
        const CHILD: &str = "QNX_FDPASS_CLOSE0_CHILD";
        const NAME: &str = "sys::host::tests::close_takes_descriptor_0";
        if std::env::var_os(CHILD).is_some() {
            close_descriptor_0_alone();
            std::println!("descriptor 0 closed and restored");
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("descriptor 0 closed and restored"),
            "the child check failed or did not run: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `close(0)` closes descriptor 0: only negative numbers are refused. Closes and restores standard
    /// input, so it must run in a process with no other thread.
    fn close_descriptor_0_alone() {
        let saved = rustix::io::dup(borrow(0)).unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        // SAFETY: descriptor 0 exists (it was just duplicated); `dup2` replaces it and the wrapper is
        // never dropped, so this test's close below is the only one.
        let mut zero = core::mem::ManuallyDrop::new(unsafe {
            <rustix::fd::OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(0)
        });
        rustix::io::dup2(&r, &mut zero).unwrap();
        assert_eq!(close(0), Ok(()));
        assert_eq!(
            rustix::io::fcntl_getfd(borrow(0)),
            Err(rustix::io::Errno::BADF),
            "descriptor 0 was closed"
        );
        // Standard input back on 0 (dup2 onto the free number).
        rustix::io::dup2(&saved, &mut zero).unwrap();
        assert!(rustix::io::fcntl_getfd(borrow(0)).is_ok());
        drop((r, w, saved));
    }

    #[test]
    fn own_start_time_is_stable() {
        let a = Linux.start_time(getpid()).unwrap();
        assert_eq!(Linux.start_time(getpid()), Ok(a));
        assert_eq!(Linux.start_time(0x3fff_fff0), Err(Errno::SRCH));
    }

    use std::string::String;

    /// A fresh regular file holding `content`, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(tag: &str, content: &[u8]) -> Self {
            let path = std::env::temp_dir().join(std::format!(
                "qnx-fdpass-sys-host-{}-{tag}",
                std::process::id()
            ));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }

        fn open(&self, flags: OFlags) -> rustix::fd::OwnedFd {
            rustix::fs::open(&self.0, flags | OFlags::CLOEXEC, Mode::empty()).unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn access_mode_is_the_open_mode() {
        let f = TempFile::new("mode", b"x");
        for (flags, want) in [
            (OFlags::RDONLY, Ok(Access::Read)),
            (OFlags::WRONLY, Ok(Access::Write)),
            (OFlags::RDWR, Ok(Access::ReadWrite)),
            (OFlags::WRONLY | OFlags::APPEND, Ok(Access::Write)),
            (OFlags::RDWR | OFlags::NONBLOCK, Ok(Access::ReadWrite)),
            // A path-only descriptor grants no access at all.
            (OFlags::PATH, Err(Errno::ACCES)),
        ] {
            let fd = f.open(flags);
            // SAFETY: `fd` is open for the call.
            let got = unsafe { Linux.access_mode(fd.as_raw_fd()) };
            assert_eq!(got, want, "{flags:?}");
        }
        let closed = f.open(OFlags::RDONLY).into_raw_fd();
        assert_eq!(close(closed), Ok(()));
        // SAFETY: `closed` names no descriptor now (this test holds no other); the kernel answers EBADF.
        assert_eq!(unsafe { Linux.access_mode(closed) }, Err(Errno::BADF));
    }

    /// The access mode and descriptor flags a re-open must have: exactly the access asked for,
    /// close-on-exec, blocking, and nothing else of the open flags that were used to make it.
    #[test]
    fn reopen_has_the_access_asked_and_is_close_on_exec() {
        let f = TempFile::new("reopen", b"content");
        let orig = f.open(OFlags::RDWR | OFlags::APPEND);
        for (access, mode) in [
            (Access::Read, OFlags::RDONLY),
            (Access::Write, OFlags::WRONLY),
            (Access::ReadWrite, OFlags::RDWR),
        ] {
            // SAFETY: `orig` is open for the call; the new descriptor is closed below.
            let fd = unsafe { Linux.reopen(orig.as_raw_fd(), access) }.unwrap();
            let fl = rustix::fs::fcntl_getfl(borrow(fd)).unwrap();
            assert_eq!(fl & OFlags::RWMODE, mode, "{access:?}: {fl:?}");
            // SAFETY: `fd` is open (closed below).
            assert_eq!(unsafe { Linux.access_mode(fd) }, Ok(access));
            assert!(
                !fl.intersects(OFlags::NONBLOCK | OFlags::APPEND | OFlags::PATH),
                "{access:?}: {fl:?}"
            );
            let fdfl = rustix::io::fcntl_getfd(borrow(fd)).unwrap();
            assert_eq!(fdfl, rustix::io::FdFlags::CLOEXEC, "{access:?}");
            // A new open file: its own offset, at 0.
            assert_eq!(
                rustix::fs::seek(borrow(fd), rustix::fs::SeekFrom::Current(0)),
                Ok(0)
            );
            let mut b = [0u8; 16];
            let read = rustix::io::read(borrow(fd), &mut b);
            if access == Access::Write {
                assert_eq!(read, Err(rustix::io::Errno::BADF));
            } else {
                assert_eq!(read.map(|n| &b[..n]), Ok(&b"content"[..]));
            }
            assert_eq!(close(fd), Ok(()));
        }
        // SAFETY: -1 names no descriptor.
        assert_eq!(unsafe { Linux.reopen(-1, Access::Read) }, Err(Errno::NOENT));
    }

    /// How many `read` calls this thread has made (`syscr` in `/proc/thread-self/io`), itself read with
    /// one `read` (which the next sample counts).
    fn reads_so_far() -> u64 {
        let f = rustix::fs::open(
            "/proc/thread-self/io",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let mut b = [0u8; 512];
        let n = rustix::io::read(&f, &mut b).unwrap();
        let text = core::str::from_utf8(&b[..n]).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("syscr:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// procfs hands out the whole stat line in one read: a start-time lookup (one per new peer) makes
    /// one `read`, not a second one that would only return 0.
    #[test]
    fn start_time_reads_the_stat_line_with_one_read() {
        let pid = getpid();
        let a = reads_so_far();
        let b = reads_so_far();
        let idle = b - a;
        for _ in 0..3 {
            let before = reads_so_far();
            Linux.start_time(pid).unwrap();
            let after = reads_so_far();
            assert_eq!(after - before, idle + 1, "reads for one start time");
        }
    }

    /// Renames this process (its main thread: what `/proc/self/stat` shows in parentheses); at most 15
    /// bytes are kept.
    fn set_own_name(name: &str) {
        std::fs::write("/proc/self/comm", name).unwrap();
    }

    fn own_name() -> String {
        let n = std::fs::read_to_string("/proc/self/comm").unwrap();
        String::from(n.trim_end_matches('\n'))
    }

    /// The real stat line of this process, its command name changed to ones with spaces, parentheses and
    /// digits (a program may name itself anything): the start time read is the same, and it is field 22
    /// as counted here independently, from the last `)`.
    #[test]
    fn start_time_is_read_past_any_command_name() {
        let pid = getpid();
        let before = Linux.start_time(pid).unwrap();
        let line = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after_name = &line[line.rfind(')').unwrap() + 1..];
        let field22: u64 = after_name
            .split_whitespace()
            .nth(19)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(before, field22);
        assert!(before > 0);
        let old = own_name();
        for name in [
            "a b",
            ") 1 2 3 4 5 (",
            "x) S 9 9 9 9 9",
            "((((",
            "))))",
            "0 0 0 0 0 0 0",
        ] {
            set_own_name(name);
            let got = Linux.start_time(pid);
            set_own_name(&old);
            assert_eq!(got, Ok(before), "named {name:?}");
        }
    }
}
