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

/// A failed system call as a scenario failure: `<what>: <the OS error><then>`. Call it right after the
/// call, before anything else can change `errno`.
pub fn os_fail(what: std::fmt::Arguments<'_>, then: &str) -> Outcome {
    Outcome::Fail(format!("{what}: {}{then}", std::io::Error::last_os_error()))
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

/// The open descriptors of this process, each with what it refers to, in ascending order.
///
/// Linux: the entries of `/proc/self/fd` that are still open once listed (the listing's own descriptor
/// is closed by then), each with its link target. Elsewhere: descriptors 0..1024 that `fcntl(F_GETFD)`
/// accepts, each with its device and inode from `fstat`. Equal tables mean nothing was opened or closed,
/// not merely that the count came out the same.
pub fn fd_table() -> Vec<(RawFd, String)> {
    // SAFETY: F_GETFD only queries the descriptor table.
    let open = |fd: RawFd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
    #[cfg(target_os = "linux")]
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        let mut fds: Vec<RawFd> = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        fds.sort_unstable();
        return fds
            .into_iter()
            .filter(|&fd| open(fd))
            .map(|fd| {
                let to = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_else(|e| format!("? {e}"));
                (fd, to)
            })
            .collect();
    }
    (0..1024)
        .filter(|&fd| open(fd))
        .map(|fd| {
            let what = match file_id(fd) {
                Ok((dev, ino)) => format!("dev {dev} ino {ino}"),
                Err(_) => "?".into(),
            };
            (fd, what)
        })
        .collect()
}

/// The device and inode number of the file behind `fd`.
pub fn file_id(fd: RawFd) -> Result<(u64, u64), Outcome> {
    // SAFETY: a zeroed `stat` is a valid buffer for fstat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is a live `stat`; a bad fd gives -1.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(os_fail(format_args!("fstat({fd})"), ""));
    }
    // The field types differ between targets (u32/u64, signed on some); both are identities here.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    Ok((st.st_dev as u64, st.st_ino as u64))
}

/// This process's resident set in KiB, from the `VmRSS:` line of `/proc/self/status`; `None` where there
/// is no such file (Neutrino).
pub fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// The current file offset of `fd`.
pub fn offset(fd: RawFd) -> Result<i64, Outcome> {
    // SAFETY: lseek with SEEK_CUR and 0 only reads the offset; a bad fd gives -1.
    let off = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    if off < 0 {
        return Err(os_fail(format_args!("lseek({fd})"), ""));
    }
    Ok(off as i64)
}

/// Moves the file offset of `fd`.
pub fn seek(fd: RawFd, to: i64) -> Result<(), Outcome> {
    // SAFETY: lseek on a descriptor number; a bad fd gives -1.
    let off = unsafe { libc::lseek(fd, to as libc::off_t, libc::SEEK_SET) };
    if off < 0 {
        return Err(os_fail(format_args!("lseek({fd}, {to})"), ""));
    }
    Ok(())
}

/// Reads up to `n` bytes at the current offset.
pub fn read_n(fd: RawFd, n: usize) -> Result<Vec<u8>, Outcome> {
    let mut buf = vec![0u8; n];
    // SAFETY: the buffer is valid for n bytes.
    let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), n) };
    if got < 0 {
        return Err(os_fail(format_args!("read({fd})"), ""));
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

/// Decodes [`hex`] into `out` without allocating; returns the number of bytes written.
pub fn unhex_into(s: &str, out: &mut [u8]) -> Result<usize, Outcome> {
    let s = s.trim().as_bytes();
    if !s.len().is_multiple_of(2) || s.len() / 2 > out.len() {
        return Err(Outcome::Fail(format!(
            "hex of {} digits does not fit {} bytes",
            s.len(),
            out.len()
        )));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(Outcome::Fail(format!("bad hex digit {:?}", c as char))),
    };
    for (o, pair) in out.iter_mut().zip(s.as_chunks::<2>().0) {
        *o = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Ok(s.len() / 2)
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
        return Err(os_fail(
            format_args!("mq_open({name})"),
            " (is /dev/mqueue mounted?)",
        ));
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
        return Err(os_fail(format_args!("mq_open({name})"), ""));
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
        return Err(os_fail(
            format_args!("mq_timedreceive"),
            &format!(" (no sender within {secs} s?)"),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests that open descriptors take this, so `fd_table` counts are not disturbed by each other.
    static FDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn unhex_into_roundtrips_and_refuses_bad_input() {
        let bytes: Vec<u8> = (0..=255).step_by(7).collect();
        let mut out = [0u8; 64];
        let n = unhex_into(&hex(&bytes), &mut out).unwrap();
        assert_eq!(&out[..n], &bytes[..]);
        assert_eq!(unhex_into("0A0b\n", &mut out).unwrap(), 2);
        assert_eq!(&out[..2], &[0x0a, 0x0b]);
        assert!(unhex_into("abc", &mut out).is_err(), "odd length");
        assert!(unhex_into("zz", &mut out).is_err(), "not hex");
        assert!(unhex_into(&"00".repeat(65), &mut out).is_err(), "too long");
    }

    #[test]
    fn fd_table_sees_one_more_file_and_then_not() {
        let _g = FDS.lock().unwrap_or_else(|e| e.into_inner());
        let before = fd_table();
        let f = File::open("/").unwrap();
        let during = fd_table();
        assert_eq!(during.len(), before.len() + 1);
        assert!(during.iter().any(|(fd, _)| *fd == f.as_raw_fd()));
        assert_eq!(file_id(f.as_raw_fd()).unwrap(), {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata("/").unwrap();
            (m.dev(), m.ino())
        });
        drop(f);
        assert_eq!(fd_table(), before);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn vm_rss_is_read_on_linux() {
        let _g = FDS.lock().unwrap_or_else(|e| e.into_inner());
        assert!(vm_rss_kib().is_some_and(|k| k > 0));
    }
}
