//! What the test files share: the crossing between std's descriptors and this crate's, this process's
//! descriptor table, ticket bytes on a helper's line protocol, and helper processes (the test binary
//! re-executed in a role). Each test file that says `mod common;` compiles its own copy.
//!
//! Between std's descriptors and this crate's, for tests that run with and without the `std` feature:
//! With `std` the crate's `OwnedFd`/`BorrowedFd` *are* std's, so these are the identity and a test could
//! pass `&file` straight to `send_fd` (tests/std_interop.rs does). Without it the crate is `no_std` and
//! has its own types, which std's `File` knows nothing about: a `no_std` program never holds a `File`,
//! but these tests do, so they cross over here, the one place with `unsafe` for it.

#![allow(dead_code, unsafe_code)]

use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::sys::{Kernel, LinuxKernel};
use qnx_fdpass::{Access, Errno};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::fd::AsFd;
#[cfg(not(feature = "std"))]
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

/// The descriptor of a std value as the crate's `BorrowedFd`, for as long as the value is borrowed.
#[cfg(feature = "std")]
pub fn fd<T: AsFd + ?Sized>(f: &T) -> qnx_fdpass::BorrowedFd<'_> {
    f.as_fd()
}

/// The descriptor of a std value as the crate's `BorrowedFd`, for as long as the value is borrowed.
#[cfg(not(feature = "std"))]
pub fn fd<T: AsFd + ?Sized>(f: &T) -> qnx_fdpass::BorrowedFd<'_> {
    // SAFETY: `f` is borrowed for the returned lifetime, and its descriptor stays open while it lives.
    unsafe { qnx_fdpass::BorrowedFd::borrow_raw(f.as_fd().as_raw_fd()) }
}

/// A descriptor the crate redeemed, as std's `OwnedFd`.
#[cfg(feature = "std")]
pub fn std_fd(fd: qnx_fdpass::OwnedFd) -> std::os::fd::OwnedFd {
    fd
}

/// A descriptor the crate redeemed, as std's `OwnedFd`.
#[cfg(not(feature = "std"))]
pub fn std_fd(fd: qnx_fdpass::OwnedFd) -> std::os::fd::OwnedFd {
    use qnx_fdpass::fd::IntoRawFd;
    // SAFETY: `into_raw_fd` gives up the crate's ownership of an open descriptor; std's takes it over.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw_fd()) }
}

/// A descriptor the crate redeemed, as a `File`.
pub fn file(fd: qnx_fdpass::OwnedFd) -> File {
    File::from(std_fd(fd))
}

// ---- descriptors of this process ----

/// A descriptor number as std's `BorrowedFd`, for one system call.
pub fn sys_fd(fd: i32) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: used for one system call on a descriptor that is open, or whose closing only makes that
    // call fail with EBADF.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// This process's open descriptors with what they refer to. The listing's own directory descriptor is
/// closed once the listing is done, so entries that no longer resolve are dropped.
pub fn open_fds() -> BTreeMap<i32, String> {
    let listed: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    listed
        .into_iter()
        .filter(|&fd| rustix::io::fcntl_getfd(sys_fd(fd)).is_ok())
        .filter_map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

/// What `open_fds` shows for a pidfd.
pub const PIDFD: &str = "anon_inode:[pidfd]";

/// Descriptor tables are per process: the tests of one file that compare them must not overlap. Each
/// test file is its own crate, so each has its own lock.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Up to 256 bytes of a redeemed descriptor's file from offset 0, leaving its offset alone.
pub fn pread_all(fd: &qnx_fdpass::OwnedFd) -> Vec<u8> {
    use qnx_fdpass::fd::AsRawFd;
    let mut buf = [0u8; 256];
    let n = rustix::io::pread(sys_fd(fd.as_raw_fd()), &mut buf, 0).unwrap();
    buf[..n].to_vec()
}

/// Device and inode of the file behind a descriptor: the file's identity, whatever path reached it.
pub fn file_id<T: AsFd + ?Sized>(f: &T) -> (u64, u64) {
    let st = rustix::fs::fstat(f).unwrap();
    // The field types differ between targets; both are identities on Linux.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    (st.st_dev as u64, st.st_ino as u64)
}

/// Device and inode of the file at `path`.
pub fn path_id(path: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.dev(), m.ino())
}

// ---- the host kernel, watched ----

/// The real host kernel (`Linux`), telling its function the name of every call before making it: to
/// count the calls, or to learn a path's calls in order.
pub struct Tap<F: Fn(&'static str)>(pub F);

// SAFETY: every call is `Linux`'s, with the caller's arguments and promises, and returns its answer.
unsafe impl<F: Fn(&'static str)> Kernel for Tap<F> {
    unsafe fn close(&self, fd: i32) -> Result<(), Errno> {
        (self.0)("close");
        // SAFETY: the caller's promise, passed on.
        unsafe { Linux.close(fd) }
    }
    fn close_attempts(&self) -> usize {
        Linux.close_attempts()
    }
    fn getpid(&self) -> Result<i32, Errno> {
        (self.0)("getpid");
        Linux.getpid()
    }
}

// SAFETY: as above.
unsafe impl<F: Fn(&'static str)> LinuxKernel for Tap<F> {
    fn pidfd_open(&self, pid: i32) -> Result<i32, Errno> {
        (self.0)("pidfd_open");
        Linux.pidfd_open(pid)
    }
    unsafe fn pidfd_getfd(&self, pidfd: i32, fd: i32) -> Result<i32, Errno> {
        (self.0)("pidfd_getfd");
        // SAFETY: the caller's promise, passed on.
        unsafe { Linux.pidfd_getfd(pidfd, fd) }
    }
    unsafe fn access_mode(&self, fd: i32) -> Result<Access, Errno> {
        (self.0)("access_mode");
        // SAFETY: the caller's promise, passed on.
        unsafe { Linux.access_mode(fd) }
    }
    unsafe fn reopen(&self, fd: i32, access: Access) -> Result<i32, Errno> {
        (self.0)("reopen");
        // SAFETY: the caller's promise, passed on.
        unsafe { Linux.reopen(fd, access) }
    }
    fn start_time(&self, pid: i32) -> Result<u64, Errno> {
        (self.0)("start_time");
        Linux.start_time(pid)
    }
}

// ---- tickets on a helper's line protocol ----

/// Hex encoding of ticket bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The inverse of [`hex`].
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Writes a named ticket as a helper announces it: `T <name> <hex>`.
pub fn write_ticket(out: &mut impl Write, name: &str, bytes: &[u8]) {
    writeln!(out, "T {name} {}", hex(bytes)).unwrap();
}

/// Reads a helper's `T <name> <hex>` lines up to its `ready` line.
pub fn read_tickets(from: &mut impl BufRead) -> BTreeMap<String, Vec<u8>> {
    let mut tickets = BTreeMap::new();
    loop {
        let mut line = String::new();
        assert!(
            from.read_line(&mut line).unwrap() > 0,
            "sender died before it was ready"
        );
        let line = line.trim();
        if line == "ready" {
            return tickets;
        }
        if let Some((name, h)) = line.strip_prefix("T ").and_then(|l| l.split_once(' ')) {
            tickets.insert(name.to_string(), unhex(h));
        }
    }
}

// ---- helper processes: this test binary re-executed in a role ----

/// The test-harness arguments that run only the test `role_test` of this binary (ignored or not), one
/// thread, its output not captured.
pub fn role_args(role_test: &str) -> [&str; 6] {
    [
        "--include-ignored",
        "--exact",
        role_test,
        "--nocapture",
        "--test-threads=1",
        "-q",
    ]
}

/// This test binary re-executed to run `role_test` with `FDPASS_ROLE=role`; the caller adds the rest of
/// its environment.
pub fn role_command(role_test: &str, role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(role_args(role_test)).env("FDPASS_ROLE", role);
    cmd
}

/// Starts `cmd` (see [`role_command`]) with its stdin and stdout piped to this process.
pub fn spawn_piped(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Asserts that this process was re-executed in `role`: a role test does nothing useful alone.
pub fn assert_role(role: &str) {
    assert_eq!(
        std::env::var("FDPASS_ROLE").as_deref(),
        Ok(role),
        "this helper role runs only re-executed by its test"
    );
}
