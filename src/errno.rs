//! [`Errno`]: an error number in QNX numbering, on every backend.

use core::fmt;

/// An error number, always in QNX Neutrino numbering (`qnx-abi.md` §6), whatever the backend.
///
/// The Linux host backend translates Linux numbers with [`Errno::from_linux`], so code that matches on
/// `Errno::BADF` or `Errno::ACCES` behaves the same on a workstation and on a target.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[doc(alias = "errno")]
pub struct Errno(i32);

macro_rules! errnos {
    ($( $(#[$m:meta])* $name:ident = $val:expr, $cname:literal, $text:literal; )*) => {
        impl Errno {
            $( $(#[$m])* #[doc = concat!("`", $cname, "` (", stringify!($val), "): ", $text, ".")]
               pub const $name: Errno = Errno($val); )*

            /// The C name (`"EBADF"`), if this number is one this crate names.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 { $( $val => Some($cname), )* _ => None }
            }

            /// A short description, if this number is one this crate names.
            #[must_use]
            pub const fn description(self) -> Option<&'static str> {
                match self.0 { $( $val => Some($text), )* _ => None }
            }
        }
    };
}

// QNX numbering. 1..=34 are the System V values QNX shares with Linux (CONFIRMED for the ones the fact
// sheet lists, the rest from rust-lang/libc's `src/unix/nto/mod.rs`); the values above 34 are QNX's own.
errnos! {
    PERM = 1, "EPERM", "operation not permitted";
    NOENT = 2, "ENOENT", "no such file, directory or handle";
    SRCH = 3, "ESRCH", "no such process or channel";
    INTR = 4, "EINTR", "interrupted call";
    IO = 5, "EIO", "input/output error";
    NXIO = 6, "ENXIO", "no such device or address, or the process is dying";
    TOOBIG = 7, "E2BIG", "argument list too long";
    BADF = 9, "EBADF", "bad file descriptor";
    CHILD = 10, "ECHILD", "no child process";
    AGAIN = 11, "EAGAIN", "resource temporarily unavailable";
    NOMEM = 12, "ENOMEM", "not enough memory";
    ACCES = 13, "EACCES", "permission denied";
    FAULT = 14, "EFAULT", "bad address";
    BUSY = 16, "EBUSY", "resource busy";
    EXIST = 17, "EEXIST", "file exists";
    XDEV = 18, "EXDEV", "cross-device link";
    NODEV = 19, "ENODEV", "no such device";
    NOTDIR = 20, "ENOTDIR", "not a directory";
    ISDIR = 21, "EISDIR", "is a directory";
    INVAL = 22, "EINVAL", "invalid argument";
    NFILE = 23, "ENFILE", "too many open files in the system";
    MFILE = 24, "EMFILE", "too many open files in this process";
    NOTTY = 25, "ENOTTY", "inappropriate I/O control operation";
    NOSPC = 28, "ENOSPC", "no space left on device";
    SPIPE = 29, "ESPIPE", "illegal seek";
    ROFS = 30, "EROFS", "read-only file system";
    PIPE = 32, "EPIPE", "broken pipe";
    NOTSUP = 48, "ENOTSUP", "not supported";
    BADMSG = 77, "EBADMSG", "bad message";
    NAMETOOLONG = 78, "ENAMETOOLONG", "file name too long";
    OVERFLOW = 79, "EOVERFLOW", "value too large";
    NOSYS = 89, "ENOSYS", "function not implemented";
    OPNOTSUPP = 103, "EOPNOTSUPP", "operation not supported";
    MSGSIZE = 240, "EMSGSIZE", "message too long";
    NOTCONN = 257, "ENOTCONN", "not connected";
    TIMEDOUT = 260, "ETIMEDOUT", "timed out";
    NOREMOTE = 300, "ENOREMOTE", "must be done on the remote node";
    SRVRFAULT = 312, "ESRVRFAULT", "server fault";
    ENDIAN = 313, "EENDIAN", "endian mismatch";
}

impl Errno {
    /// Wraps a number in QNX numbering.
    #[must_use]
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The number in QNX numbering.
    #[must_use]
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// Translates a Linux error number into QNX numbering.
    ///
    /// 1..=34 are the same on both. Above that, the numbers the QNX table names are mapped; a Linux number
    /// with no QNX counterpart here becomes [`Errno::IO`] (the host backend only meets the mapped ones on
    /// the paths it takes).
    #[must_use]
    pub const fn from_linux(linux: i32) -> Self {
        Self(match linux {
            1..=34 => linux,
            36 => 78,   // ENAMETOOLONG
            38 => 89,   // ENOSYS
            74 => 77,   // EBADMSG
            75 => 79,   // EOVERFLOW
            90 => 240,  // EMSGSIZE
            95 => 48,   // EOPNOTSUPP == ENOTSUP on Linux
            107 => 257, // ENOTCONN
            110 => 260, // ETIMEDOUT
            _ => 5,     // EIO
        })
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(text)) => write!(f, "{text} ({name})"),
            _ => write!(f, "error {}", self.0),
        }
    }
}

impl core::error::Error for Errno {}

#[cfg(feature = "defmt")]
impl defmt::Format for Errno {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.name() {
            Some(name) => defmt::write!(f, "{=str}", name),
            None => defmt::write!(f, "errno {=i32}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qnx_numbers() {
        assert_eq!(Errno::BADF.raw(), 9);
        assert_eq!(Errno::NOSYS.raw(), 89);
        assert_eq!(Errno::NOTSUP.raw(), 48);
        assert_eq!(Errno::MSGSIZE.raw(), 240);
        assert_eq!(Errno::TIMEDOUT.raw(), 260);
    }

    #[test]
    fn linux_mapping() {
        assert_eq!(Errno::from_linux(9), Errno::BADF);
        assert_eq!(Errno::from_linux(3), Errno::SRCH);
        assert_eq!(Errno::from_linux(38), Errno::NOSYS);
        assert_eq!(Errno::from_linux(95), Errno::NOTSUP);
        assert_eq!(Errno::from_linux(110), Errno::TIMEDOUT);
        assert_eq!(Errno::from_linux(75), Errno::OVERFLOW);
        assert_eq!(Errno::from_linux(4000), Errno::IO);
        assert_eq!(Errno::from_linux(-1), Errno::IO);
    }

    #[test]
    fn display() {
        struct Buf([u8; 64], usize);
        impl fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.1 + s.len();
                self.0
                    .get_mut(self.1..end)
                    .ok_or(fmt::Error)?
                    .copy_from_slice(s.as_bytes());
                self.1 = end;
                Ok(())
            }
        }
        let mut b = Buf([0; 64], 0);
        fmt::write(&mut b, format_args!("{}", Errno::BADF)).unwrap();
        assert_eq!(&b.0[..b.1], b"bad file descriptor (EBADF)");
        let mut b = Buf([0; 64], 0);
        fmt::write(
            &mut b,
            format_args!("{} {:?}", Errno::from_raw(4242), Errno::ACCES),
        )
        .unwrap();
        assert_eq!(&b.0[..b.1], b"error 4242 Errno(EACCES)");
    }
}
