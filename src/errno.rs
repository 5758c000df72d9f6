//! [`Errno`]: an error number in QNX numbering, on every backend.

use core::fmt;

/// An error number, always in QNX Neutrino numbering (`qnx-abi.md` §6), whatever the backend.
///
/// Why QNX numbering and not the running system's (rustix's way): the crate is written for Neutrino,
/// where the two are the same, and the Linux host backend exists so that the same program and tests
/// run on a workstation; a test or a program that matches `Errno::NOSYS` or `Errno::MSGSIZE` (whose
/// numbers differ between the systems) then behaves the same on both. Every way out of the crate that
/// a program or a C caller sees gives the **running system's** number: `std::io::Error` (with the `std`
/// feature, through [`Errno::to_native`]), `Display` (the C name, or the native number), and the C
/// interface's return values. Only `raw()` is QNX's.
///
/// # Examples
///
/// ```
/// use qnx_fdpass::{Errno, Error, Receiver};
/// # #[cfg(target_os = "linux")] {
/// // A ticket naming a sender pid that no process has (on the host: pidfd_open fails with ESRCH).
/// # use qnx_fdpass::wire::{IoDup, Message, MsgInfoHdr};
/// # let hdr = MsgInfoHdr { nd: 0, srcnd: 0, pid: 0, tid: i32::MAX, chid: 0, scoid: 0, coid: 3 };
/// # let ticket = IoDup::with_info(hdr, 0);
/// # let bytes = qnx_fdpass::zerocopy::IntoBytes::as_bytes(&ticket);
/// match Receiver::new().redeem(bytes) {
///     Err(Error::Os(Errno::SRCH)) => {}              // the sender is gone
///     Err(Error::Os(e)) => panic!("{e} ({:?}, native {:?})", e.name(), e.to_native()),
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
///
/// The Linux host backend translates Linux numbers with [`Errno::from_linux`], so code that matches on
/// `Errno::BADF` or `Errno::ACCES` behaves the same on a workstation and on a target. On the host,
/// `raw()` is therefore *not* the number the Linux C library would show: [`Errno::to_linux`] (or
/// [`Errno::to_native`], which is the identity on Neutrino) gives that one back, and the conversion into
/// `std::io::Error` (with the `std` feature) uses it, so `raw_os_error()` and `kind()` are right on each
/// system. A Linux errno QNX does not define keeps its Linux value (see [`Errno::from_linux`]).
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
    NOREMOTE = 300, "ENOREMOTE", "only possible on the local node";
    SRVRFAULT = 312, "ESRVRFAULT", "server fault";
    ENDIAN = 313, "EENDIAN", "endian mismatch";
}

impl Errno {
    /// Wraps a number in QNX numbering.
    #[must_use]
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The number in QNX numbering: the running system's on Neutrino; on the Linux host use
    /// [`Errno::to_native`] for the number `strerror` or `std::io::Error` expect.
    ///
    /// # Examples
    ///
    /// ```
    /// use qnx_fdpass::Errno;
    /// assert_eq!(Errno::NOSYS.raw(), 89); // QNX's ENOSYS
    /// if cfg!(target_os = "linux") {
    ///     assert_eq!(Errno::NOSYS.to_native(), Some(38)); // Linux's
    /// } else {
    ///     assert_eq!(Errno::NOSYS.to_native(), Some(89));
    /// }
    /// assert_eq!(Errno::NOSYS.to_string(), "function not implemented (ENOSYS)");
    /// ```
    #[must_use]
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// Translates a Linux error number into QNX numbering (what the host backend does with every error
    /// the Linux kernel returns).
    ///
    /// - 1..=34 are the same on both systems.
    /// - Every other Linux errno that QNX also defines maps to the QNX errno of the same name (Linux
    ///   `ENOSYS` 38 is [`Errno::NOSYS`] 89, Linux `EOPNOTSUPP`/`ENOTSUP` 95 is [`Errno::NOTSUP`] 48, ...).
    /// - A Linux errno QNX does not define (`EUCLEAN` 117, `ENOMEDIUM` 123, `EKEYEXPIRED` 127, `EHWPOISON`
    ///   133, ...) **keeps its Linux value**. Each of those numbers is unassigned in QNX numbering, so the
    ///   value stays unambiguous, and [`Errno::to_linux`] gives it back.
    /// - A number that is not a Linux errno at all (0, negative, 41, 58, above 133) becomes
    ///   [`Errno::IO`].
    ///
    /// So on the host `Errno::from_linux(e).to_linux() == Some(e)` for every Linux errno `e`.
    #[must_use]
    #[allow(clippy::indexing_slicing)] // the index is checked against the length first
    pub const fn from_linux(linux: i32) -> Self {
        if linux <= 0 || linux as usize >= LINUX_TO_QNX.len() {
            return Self::IO;
        }
        match LINUX_TO_QNX[linux as usize] {
            0 => Self::IO,
            qnx => Self(qnx as i32),
        }
    }

    /// This QNX-numbered error as a Linux errno: the inverse of [`Errno::from_linux`].
    ///
    /// `None` for the QNX errnos Linux has no counterpart for (`ENOREMOTE`, `ESRVRFAULT`, `EENDIAN`,
    /// `EFPOS`, ...) and for numbers neither system defines. QNX `EOPNOTSUPP` (103) and `ENOTSUP` (48)
    /// both give Linux 95, and QNX `EDEADLOCK` (56) and `EDEADLK` (45) both give Linux 35, as Linux has
    /// one number for each pair.
    #[must_use]
    #[allow(clippy::indexing_slicing)] // the index is below the length
    pub const fn to_linux(self) -> Option<i32> {
        match self.0 {
            103 => return Some(95), // EOPNOTSUPP
            56 => return Some(35),  // EDEADLOCK
            n if n <= 0 => return None,
            _ => {}
        }
        let mut linux = 1;
        while linux < LINUX_TO_QNX.len() {
            if LINUX_TO_QNX[linux] as i32 == self.0 {
                return Some(linux as i32);
            }
            linux += 1;
        }
        None
    }

    /// This error as the running system's errno: the number `std::io::Error::from_raw_os_error` and the
    /// C library's `strerror` expect. On Neutrino that is [`Errno::raw`]; on the Linux host backend
    /// [`Errno::to_linux`]. `None` when the host has no such errno (a QNX-only error, which only a test
    /// double can produce there).
    #[must_use]
    pub const fn to_native(self) -> Option<i32> {
        #[cfg(host_linux)]
        {
            self.to_linux()
        }
        #[cfg(not(host_linux))]
        {
            Some(self.0)
        }
    }
}

/// Linux errno (the index) to QNX errno; 0 where the index is not a Linux errno. Written from Linux's
/// `asm-generic/errno-base.h` and `asm-generic/errno.h` (x86_64 and aarch64 share them) and the QNX
/// table in rust-lang/libc `src/unix/nto/mod.rs` (`qnx-abi.md` §6), matching names.
const LINUX_TO_QNX: [u16; 134] = [
    0,   //   0 (not a Linux errno)
    1,   //   1 EPERM
    2,   //   2 ENOENT
    3,   //   3 ESRCH
    4,   //   4 EINTR
    5,   //   5 EIO
    6,   //   6 ENXIO
    7,   //   7 E2BIG
    8,   //   8 ENOEXEC
    9,   //   9 EBADF
    10,  //  10 ECHILD
    11,  //  11 EAGAIN
    12,  //  12 ENOMEM
    13,  //  13 EACCES
    14,  //  14 EFAULT
    15,  //  15 ENOTBLK
    16,  //  16 EBUSY
    17,  //  17 EEXIST
    18,  //  18 EXDEV
    19,  //  19 ENODEV
    20,  //  20 ENOTDIR
    21,  //  21 EISDIR
    22,  //  22 EINVAL
    23,  //  23 ENFILE
    24,  //  24 EMFILE
    25,  //  25 ENOTTY
    26,  //  26 ETXTBSY
    27,  //  27 EFBIG
    28,  //  28 ENOSPC
    29,  //  29 ESPIPE
    30,  //  30 EROFS
    31,  //  31 EMLINK
    32,  //  32 EPIPE
    33,  //  33 EDOM
    34,  //  34 ERANGE
    45,  //  35 EDEADLK
    78,  //  36 ENAMETOOLONG
    46,  //  37 ENOLCK
    89,  //  38 ENOSYS
    93,  //  39 ENOTEMPTY
    90,  //  40 ELOOP
    0,   //  41 (not a Linux errno)
    35,  //  42 ENOMSG
    36,  //  43 EIDRM
    37,  //  44 ECHRNG
    38,  //  45 EL2NSYNC
    39,  //  46 EL3HLT
    40,  //  47 EL3RST
    41,  //  48 ELNRNG
    42,  //  49 EUNATCH
    43,  //  50 ENOCSI
    44,  //  51 EL2HLT
    50,  //  52 EBADE
    51,  //  53 EBADR
    52,  //  54 EXFULL
    53,  //  55 ENOANO
    54,  //  56 EBADRQC
    55,  //  57 EBADSLT
    0,   //  58 (not a Linux errno)
    57,  //  59 EBFONT
    60,  //  60 ENOSTR
    61,  //  61 ENODATA
    62,  //  62 ETIME
    63,  //  63 ENOSR
    64,  //  64 ENONET
    65,  //  65 ENOPKG
    66,  //  66 EREMOTE
    67,  //  67 ENOLINK
    68,  //  68 EADV
    69,  //  69 ESRMNT
    70,  //  70 ECOMM
    71,  //  71 EPROTO
    74,  //  72 EMULTIHOP
    73,  //  73 EDOTDOT (Linux only: kept)
    77,  //  74 EBADMSG
    79,  //  75 EOVERFLOW
    80,  //  76 ENOTUNIQ
    81,  //  77 EBADFD
    82,  //  78 EREMCHG
    83,  //  79 ELIBACC
    84,  //  80 ELIBBAD
    85,  //  81 ELIBSCN
    86,  //  82 ELIBMAX
    87,  //  83 ELIBEXEC
    88,  //  84 EILSEQ
    91,  //  85 ERESTART
    92,  //  86 ESTRPIPE
    94,  //  87 EUSERS
    238, //  88 ENOTSOCK
    239, //  89 EDESTADDRREQ
    240, //  90 EMSGSIZE
    241, //  91 EPROTOTYPE
    242, //  92 ENOPROTOOPT
    243, //  93 EPROTONOSUPPORT
    244, //  94 ESOCKTNOSUPPORT
    48,  //  95 EOPNOTSUPP, ENOTSUP
    246, //  96 EPFNOSUPPORT
    247, //  97 EAFNOSUPPORT
    248, //  98 EADDRINUSE
    249, //  99 EADDRNOTAVAIL
    250, // 100 ENETDOWN
    251, // 101 ENETUNREACH
    252, // 102 ENETRESET
    253, // 103 ECONNABORTED
    254, // 104 ECONNRESET
    255, // 105 ENOBUFS
    256, // 106 EISCONN
    257, // 107 ENOTCONN
    258, // 108 ESHUTDOWN
    259, // 109 ETOOMANYREFS
    260, // 110 ETIMEDOUT
    261, // 111 ECONNREFUSED
    264, // 112 EHOSTDOWN
    265, // 113 EHOSTUNREACH
    237, // 114 EALREADY
    236, // 115 EINPROGRESS
    122, // 116 ESTALE
    117, // 117 EUCLEAN (Linux only: kept)
    118, // 118 ENOTNAM (Linux only: kept)
    119, // 119 ENAVAIL (Linux only: kept)
    120, // 120 EISNAM (Linux only: kept)
    121, // 121 EREMOTEIO (Linux only: kept)
    49,  // 122 EDQUOT
    123, // 123 ENOMEDIUM (Linux only: kept)
    124, // 124 EMEDIUMTYPE (Linux only: kept)
    47,  // 125 ECANCELED
    126, // 126 ENOKEY (Linux only: kept)
    127, // 127 EKEYEXPIRED (Linux only: kept)
    128, // 128 EKEYREVOKED (Linux only: kept)
    129, // 129 EKEYREJECTED (Linux only: kept)
    58,  // 130 EOWNERDEAD
    95,  // 131 ENOTRECOVERABLE
    132, // 132 ERFKILL (Linux only: kept)
    133, // 133 EHWPOISON (Linux only: kept)
];

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
        // A number the crate does not name is shown in the running system's numbering, as `strerror`
        // and `io::Error` would show it; a QNX-only one on the host (only a test double makes one) says so.
        match (self.name(), self.description(), self.to_native()) {
            (Some(name), Some(text), _) => write!(f, "{text} ({name})"),
            (_, _, Some(native)) => write!(f, "error {native}"),
            (_, _, None) => write!(f, "QNX error {}", self.0),
        }
    }
}

impl core::error::Error for Errno {}

/// The same error as the running system's `io::Error`: `raw_os_error()` is [`Errno::to_native`] (the
/// Linux number on the host, the QNX number on Neutrino), so `kind()` is what std reports for it there.
/// A QNX-only errno on the host (no Linux number) becomes an `io::Error` of kind `Other` carrying the
/// `Errno`.
#[cfg(feature = "std")]
impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        match e.to_native() {
            Some(n) => Self::from_raw_os_error(n),
            None => Self::other(e),
        }
    }
}

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
        assert_eq!(Errno::from_linux(41), Errno::IO);
        // Linux-only errnos keep their value instead of becoming EIO.
        assert_eq!(Errno::from_linux(117).raw(), 117); // EUCLEAN
        assert_eq!(Errno::from_linux(133).raw(), 133); // EHWPOISON
        assert_eq!(Errno::from_linux(116).raw(), 122); // ESTALE
        assert_eq!(Errno::from_linux(35).raw(), 45); // EDEADLK
    }

    #[test]
    fn linux_round_trip() {
        // Every Linux errno comes back from QNX numbering unchanged; the ones that are not errnos fold
        // into EIO.
        let mut seen = std::collections::BTreeSet::new();
        for linux in 1..134 {
            let e = Errno::from_linux(linux);
            if matches!(linux, 41 | 58) {
                assert_eq!(e, Errno::IO);
                continue;
            }
            assert_eq!(e.to_linux(), Some(linux), "{linux} -> {e:?}");
            assert!(seen.insert(e), "two Linux errnos map to {e:?}");
        }
        // Every named QNX errno that Linux also has goes there and back.
        for e in [
            Errno::BADF,
            Errno::NOSYS,
            Errno::MSGSIZE,
            Errno::TIMEDOUT,
            Errno::NOTCONN,
        ] {
            assert_eq!(Errno::from_linux(e.to_linux().unwrap()), e);
        }
        assert_eq!(Errno::OPNOTSUPP.to_linux(), Some(95));
        assert_eq!(Errno::NOTSUP.to_linux(), Some(95));
        assert_eq!(Errno::NOREMOTE.to_linux(), None);
        assert_eq!(Errno::SRVRFAULT.to_linux(), None);
        assert_eq!(Errno::from_raw(0).to_linux(), None);
    }

    /// Every conversion a program meets gives the running system's number: for every Linux errno `n`
    /// (as the host backend receives it), `io::Error`'s `raw_os_error()` is `n`, and `Display` names it
    /// by its C name, or by `n` where the crate has no name for it. The C interface's return values
    /// are `to_native()` too (capi's `every_errno_comes_back_native` test).
    #[test]
    #[cfg(host_linux)]
    fn every_conversion_gives_the_native_number() {
        extern crate std;
        use std::string::ToString;
        for n in (1..134).filter(|n| !matches!(n, 41 | 58)) {
            let e = Errno::from_linux(n);
            assert_eq!(e.to_native(), Some(n), "{e:?}");
            let text = e.to_string();
            match e.name() {
                Some(name) => assert!(text.ends_with(&std::format!("({name})")), "{text}"),
                None => assert_eq!(text, std::format!("error {n}")),
            }
        }
        // A QNX-only error (no Linux number) does not pass for a Linux one.
        assert_eq!(Errno::NOREMOTE.to_native(), None);
        assert_eq!(
            Errno::from_raw(300).to_string(),
            "only possible on the local node (ENOREMOTE)"
        );
        assert_eq!(Errno::from_raw(311).to_string(), "QNX error 311");
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
        // 4242 is no errno on either system.
        let unnamed: &[u8] = if cfg!(host_linux) {
            b"QNX error 4242 Errno(EACCES)"
        } else {
            b"error 4242 Errno(EACCES)"
        };
        assert_eq!(&b.0[..b.1], unnamed);
        // QNX's ENOREMOTE means the operation needs the local node (issue refuses a remote server with
        // it); the text must not say the opposite.
        assert_eq!(
            Errno::NOREMOTE.description(),
            Some("only possible on the local node")
        );
    }
}
