//! Helpers the scenarios share: checks, errno names, descriptor counting, files.

use core::ffi::CStr;
use core::fmt;

use qnx_fdpass::{Errno, Error};

use crate::{c, kern, proc};

/// Appends to the answer text and fails the scenario unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($t:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            let _ = core::fmt::Write::write_fmt($t, format_args!($($fmt)+));
            return $crate::Verdict::Fail;
        }
    };
}

/// Appends to the answer text.
#[macro_export]
macro_rules! note {
    ($t:expr, $($fmt:tt)+) => {{
        let _ = core::fmt::Write::write_fmt($t, format_args!($($fmt)+));
    }};
}

/// An errno by its C name (`EBADF`), or its number.
pub struct En(pub i32);

impl fmt::Display for En {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Errno::from_raw(self.0).name() {
            Some(n) => f.write_str(n),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// A crate error as it should be compared: `Os(EBADF)`, or the decode error.
pub struct Er<'a>(pub &'a Error);

impl fmt::Display for Er<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Os(e) => write!(f, "Os({})", En(e.raw())),
            Error::Decode(d) => write!(f, "Decode({d:?})"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The errno of an `Os` error.
pub fn os(e: &Error) -> Option<i32> {
    match e {
        Error::Os(n) => Some(n.raw()),
        _ => None,
    }
}

/// What this process holds: descriptors (`fcntl(F_GETFD)` succeeds on 0..1024) and kernel connections
/// of any kind (walking `ConnectServerInfo`, which answers for the next existing coid, side channels
/// included).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Held {
    pub fds: u32,
    pub conns: u32,
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fds/{} connections", self.fds, self.conns)
    }
}

/// This process's [`Held`] counts now.
pub fn held() -> Held {
    let mut fds = 0;
    for fd in 0..1024 {
        // SAFETY: F_GETFD only queries the descriptor table.
        if unsafe { c::fcntl(fd, c::F_GETFD) } != -1 {
            fds += 1;
        }
    }
    let mut conns = 0;
    let mut next = 0;
    while conns < 100_000 {
        match kern::server_info_from(next) {
            Ok((coid, _)) => {
                conns += 1;
                next = coid + 1;
            }
            Err(_) => break,
        }
    }
    Held { fds, conns }
}

/// Creates (truncating) `path` with `contents`, mode 0644.
pub fn make_file(path: &CStr, contents: &[u8]) -> Result<(), i32> {
    // SAFETY: NUL-terminated path; the mode is read because of O_CREAT.
    let fd = unsafe { c::open(path.as_ptr(), c::O_RDWR | c::O_CREAT | c::O_TRUNC, 0o644) };
    if fd < 0 {
        return Err(c::errno());
    }
    let ok = proc::write_all(fd, contents);
    let e = c::errno();
    proc::close(fd);
    if ok {
        Ok(())
    } else {
        Err(e)
    }
}

/// Removes a file, ignoring the outcome.
pub fn remove(path: &CStr) {
    // SAFETY: NUL-terminated path.
    unsafe { c::unlink(path.as_ptr()) };
}

/// Opens `path` with `flags`.
pub fn open(path: &CStr, flags: i32) -> Result<i32, i32> {
    // SAFETY: NUL-terminated path; the mode is read only with O_CREAT.
    let fd = unsafe { c::open(path.as_ptr(), flags, 0o644) };
    if fd < 0 {
        Err(c::errno())
    } else {
        Ok(fd)
    }
}

/// The offset of `fd`, or the errno.
pub fn offset(fd: i32) -> Result<i32, i32> {
    // SAFETY: integers only.
    let o = unsafe { c::lseek(fd, 0, c::SEEK_CUR) };
    if o < 0 {
        Err(c::errno())
    } else {
        Ok(o)
    }
}

/// `lseek(fd, to, SEEK_SET)`.
pub fn seek(fd: i32, to: i32) -> Result<i32, i32> {
    // SAFETY: integers only.
    let o = unsafe { c::lseek(fd, to, c::SEEK_SET) };
    if o < 0 {
        Err(c::errno())
    } else {
        Ok(o)
    }
}

/// Reads up to `buf.len()` bytes at the current offset.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<&[u8], i32> {
    // SAFETY: `buf` is valid for its length.
    let n = unsafe { c::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(c::errno())
    } else {
        Ok(&buf[..n as usize])
    }
}

/// Bytes as text for an answer (lossy).
pub struct Show<'a>(pub &'a [u8]);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            let ch = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            fmt::Write::write_char(f, ch)?;
        }
        Ok(())
    }
}

/// Runs `f` in a forked child with a deadline; its `i32` answer, or `None` if it did not answer in time
/// (it is then killed) or died.
pub fn in_child(ms: u32, f: impl FnOnce() -> i32) -> Option<i32> {
    let p = proc::pipe().ok()?;
    let pid = proc::spawn(|| {
        proc::close(p.r);
        let v = f();
        proc::write_all(p.w, &v.to_ne_bytes());
        0
    });
    proc::close(p.w);
    let Ok(pid) = pid else {
        proc::close(p.r);
        return None;
    };
    let exit = proc::wait_for(pid, ms);
    // The child is reaped: whatever it wrote is in the pipe; do not wait for other writers.
    // SAFETY: integers only.
    unsafe { c::fcntl(p.r, c::F_SETFL, c::O_NONBLOCK) };
    let mut b = [0u8; 4];
    let got = proc::read_exact(p.r, &mut b);
    proc::close(p.r);
    match exit {
        Some(proc::Exit::Code(_)) if got => Some(i32::from_ne_bytes(b)),
        _ => None,
    }
}

/// This process's pid (from the C library).
pub fn my_pid() -> i32 {
    // SAFETY: no preconditions.
    unsafe { c::getpid() }
}
