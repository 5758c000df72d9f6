//! Processes and pipes: forked children with deadlines, and the byte pipes scenarios talk over.

use crate::c;

/// A process's exit as `waitpid` reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit(status)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    fn from_status(st: i32) -> Self {
        // Neutrino's <sys/wait.h>: exited when the low byte is 0, the code in the next byte.
        if st & 0xff == 0 {
            Exit::Code((st >> 8) & 0xff)
        } else {
            Exit::Signal(st & 0x7f)
        }
    }
}

/// Forks; the child runs `f`, then `_exit`s with what it returned. Returns the child's pid.
pub fn spawn(f: impl FnOnce() -> i32) -> Result<i32, i32> {
    // SAFETY: fork has no preconditions; this process has one thread.
    let pid = unsafe { c::fork() };
    if pid < 0 {
        return Err(c::errno());
    }
    if pid == 0 {
        // Nothing to reset: the crate reads the pid from the TLS block on every issue.
        let code = f();
        // SAFETY: ends the child without running the parent's atexit handlers twice.
        unsafe { c::_exit(code) }
    }
    Ok(pid)
}

/// Waits for `pid` at most `ms` milliseconds; after that kills it and reaps it (`None`).
pub fn wait_for(pid: i32, ms: u32) -> Option<Exit> {
    let mut waited = 0;
    loop {
        let mut st = 0;
        // SAFETY: `st` is a live int the call writes.
        let r = unsafe { c::waitpid(pid, &mut st, c::WNOHANG) };
        if r == pid {
            return Some(Exit::from_status(st));
        }
        if r < 0 {
            return Some(Exit::Code(255));
        }
        if waited >= ms {
            kill_reap(pid);
            return None;
        }
        sleep_ms(20);
        waited += 20;
    }
}

/// Kills `pid` and reaps it.
pub fn kill_reap(pid: i32) {
    let mut st = 0;
    // SAFETY: integers and a live int; a pid that is gone already gives an error, ignored.
    unsafe {
        c::kill(pid, c::SIGKILL);
        c::waitpid(pid, &mut st, 0);
    }
}

/// Sleeps about `ms` milliseconds.
pub fn sleep_ms(ms: u32) {
    // SAFETY: no memory is involved.
    unsafe { c::usleep(ms * 1000) };
}

/// Both ends of a pipe.
pub struct Pipe {
    pub r: i32,
    pub w: i32,
}

/// A new pipe (from the `pipe` server).
pub fn pipe() -> Result<Pipe, i32> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` holds the two ints the call writes.
    if unsafe { c::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(c::errno());
    }
    Ok(Pipe {
        r: fds[0],
        w: fds[1],
    })
}

/// Closes a descriptor this program owns, ignoring the outcome.
pub fn close(fd: i32) {
    // SAFETY: closes a descriptor number; a wrong one gives EBADF, ignored.
    unsafe { c::close(fd) };
}

/// Writes all of `b`; false if the pipe broke.
pub fn write_all(fd: i32, b: &[u8]) -> bool {
    let mut off = 0;
    while off < b.len() {
        // SAFETY: the slice is valid for the length passed.
        let n = unsafe { c::write(fd, b[off..].as_ptr().cast(), b.len() - off) };
        if n <= 0 {
            return false;
        }
        off += n as usize;
    }
    true
}

/// Reads exactly `b.len()` bytes; false on end of file or error.
pub fn read_exact(fd: i32, b: &mut [u8]) -> bool {
    let mut off = 0;
    while off < b.len() {
        // SAFETY: the slice is valid for the length passed.
        let n = unsafe { c::read(fd, b[off..].as_mut_ptr().cast(), b.len() - off) };
        if n <= 0 {
            return false;
        }
        off += n as usize;
    }
    true
}

/// Reads a whole small file into `buf`; returns the bytes read.
pub fn read_file<'a>(path: &core::ffi::CStr, buf: &'a mut [u8]) -> Result<&'a [u8], i32> {
    // SAFETY: `path` is NUL-terminated.
    let fd = unsafe { c::open(path.as_ptr(), c::O_RDONLY) };
    if fd < 0 {
        return Err(c::errno());
    }
    let mut len = 0;
    while len < buf.len() {
        // SAFETY: the rest of `buf` is valid for writing.
        let n = unsafe { c::read(fd, buf[len..].as_mut_ptr().cast(), buf.len() - len) };
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    close(fd);
    Ok(&buf[..len])
}
