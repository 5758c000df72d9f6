//! Small helpers the scenarios share: descriptor counting, offsets, checks.

use crate::Outcome;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};

/// Fails the scenario with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::Outcome::Fail(format!($($msg)+)));
        }
    };
}

/// Converts any displayable error into a failure with context.
pub trait Ctx<T> {
    /// `Err(e)` becomes `Outcome::Fail("<what>: <e>")`.
    fn ctx(self, what: &str) -> Result<T, Outcome>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, Outcome> {
        self.map_err(|e| Outcome::Fail(format!("{what}: {e}")))
    }
}

/// How many descriptors this process has open.
///
/// Linux: the entries of `/proc/self/fd`, less the one the directory listing itself holds open.
/// Elsewhere: descriptors 0..1024 that `fcntl(F_GETFD)` accepts.
pub fn fd_count() -> usize {
    #[cfg(target_os = "linux")]
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        return dir.count().saturating_sub(1);
    }
    // SAFETY: F_GETFD only queries the descriptor table.
    (0..1024)
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .count()
}

/// The current file offset of `fd`.
pub fn offset(fd: RawFd) -> Result<i64, Outcome> {
    // SAFETY: lseek with SEEK_CUR and 0 only reads the offset; a bad fd gives -1.
    let off = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    if off < 0 {
        return Err(Outcome::Fail(format!(
            "lseek({fd}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(off as i64)
}

/// Moves the file offset of `fd`.
pub fn seek(fd: RawFd, to: i64) -> Result<(), Outcome> {
    // SAFETY: lseek on a descriptor number; a bad fd gives -1.
    let off = unsafe { libc::lseek(fd, to as libc::off_t, libc::SEEK_SET) };
    if off < 0 {
        return Err(Outcome::Fail(format!(
            "lseek({fd}, {to}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Reads up to `n` bytes at the current offset.
pub fn read_n(fd: RawFd, n: usize) -> Result<Vec<u8>, Outcome> {
    let mut buf = vec![0u8; n];
    // SAFETY: the buffer is valid for n bytes.
    let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), n) };
    if got < 0 {
        return Err(Outcome::Fail(format!(
            "read({fd}): {}",
            std::io::Error::last_os_error()
        )));
    }
    buf.truncate(got as usize);
    Ok(buf)
}

/// A scratch file with known contents, under a directory that is writable in every guest.
pub fn scratch(tag: &str, contents: &[u8]) -> Result<(File, String), Outcome> {
    let dir = std::env::var("HIL_TMP").unwrap_or_else(|_| "/tmp".into());
    let path = format!("{dir}/hil-{tag}-{}", std::process::id());
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .ctx(&format!("create {path}"))?;
    f.write_all(contents).ctx("write scratch")?;
    seek(f.as_raw_fd(), 0)?;
    Ok((f, path))
}

/// Hex encoding for ticket bytes on a peer's line protocol.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inverse of [`hex`].
pub fn unhex(s: &str) -> Result<Vec<u8>, Outcome> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(Outcome::Fail(format!("odd hex length {}", s.len())));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| Outcome::Fail(format!("bad hex: {e}")))
        })
        .collect()
}

/// Opens (creating) a POSIX message queue for receiving tickets.
#[cfg(target_os = "linux")]
pub fn mq_open_rd(name: &str) -> Result<libc::mqd_t, Outcome> {
    let c = std::ffi::CString::new(name).ctx("queue name")?;
    // SAFETY: a zeroed mq_attr with the two fields set is a valid argument.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 256;
    // SAFETY: valid C string and attribute pointer; the result is checked.
    let q = unsafe {
        libc::mq_open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CREAT,
            0o600 as libc::c_uint,
            &attr,
        )
    };
    if q < 0 {
        return Err(Outcome::Fail(format!(
            "mq_open({name}): {} (is /dev/mqueue mounted?)",
            std::io::Error::last_os_error()
        )));
    }
    Ok(q)
}

/// Opens an existing POSIX message queue for sending.
#[cfg(target_os = "linux")]
pub fn mq_open_wr(name: &str) -> Result<libc::mqd_t, Outcome> {
    let c = std::ffi::CString::new(name).ctx("queue name")?;
    // SAFETY: valid C string; the result is checked.
    let q = unsafe { libc::mq_open(c.as_ptr(), libc::O_WRONLY) };
    if q < 0 {
        return Err(Outcome::Fail(format!(
            "mq_open({name}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(q)
}

/// Sends one message.
#[cfg(target_os = "linux")]
pub fn mq_send(q: libc::mqd_t, msg: &[u8]) -> Result<(), std::io::Error> {
    // SAFETY: the buffer is valid for msg.len() bytes.
    if unsafe { libc::mq_send(q, msg.as_ptr().cast(), msg.len(), 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Receives one message, waiting at most `secs` seconds.
#[cfg(target_os = "linux")]
pub fn mq_recv(q: libc::mqd_t, secs: i64) -> Result<Vec<u8>, Outcome> {
    let mut buf = vec![0u8; 256];
    // SAFETY: a zeroed timespec is valid; clock_gettime fills it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec += secs; // tv_sec is 64-bit on every target this builds for
    let mut prio = 0;
    // SAFETY: the buffer is valid for its length; the result is checked.
    let n = unsafe { libc::mq_timedreceive(q, buf.as_mut_ptr().cast(), buf.len(), &mut prio, &ts) };
    if n < 0 {
        return Err(Outcome::Fail(format!(
            "mq_timedreceive: {} (no sender within {secs} s?)",
            std::io::Error::last_os_error()
        )));
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Closes a queue descriptor.
#[cfg(target_os = "linux")]
pub fn mq_close(q: libc::mqd_t) {
    // SAFETY: closes a queue descriptor this process opened.
    unsafe { libc::mq_close(q) };
}

/// Closes and removes a queue.
#[cfg(target_os = "linux")]
pub fn mq_close_unlink(q: libc::mqd_t, name: &str) {
    mq_close(q);
    if let Ok(c) = std::ffi::CString::new(name) {
        // SAFETY: valid C string.
        unsafe { libc::mq_unlink(c.as_ptr()) };
    }
}
