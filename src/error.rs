//! Errors: what was wrong with a packet ([`DecodeError`]), and what went wrong redeeming it ([`Error`]).

use core::fmt;

use crate::errno::Errno;

/// What was wrong with a received ticket. Every variant names the offending value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the message needs.
    TooShort {
        /// Bytes the message needs.
        need: usize,
        /// Bytes received.
        got: usize,
    },
    /// More bytes than the message (or the batch capacity) allows.
    TooLong {
        /// Largest accepted length.
        max: usize,
        /// Bytes received.
        got: usize,
    },
    /// The message type is not the one expected (`_IO_DUP` 0x115 or `_IO_OPENFD` 0x10D).
    WrongType(u16),
    /// `combine_len` is not the size of the message (a combined message, or a different QNX version).
    WrongCombineLen {
        /// The size of the message on this QNX version.
        expected: u16,
        /// The value received.
        got: u16,
    },
    /// A field that must be zero is not.
    ReservedNonZero {
        /// The C name of the field.
        field: &'static str,
    },
    /// The sender pid carried in `info.tid` is not a valid pid.
    BadSender(i32),
    /// The descriptor number (`info.coid`) is negative or a side channel.
    BadCoid(i32),
    /// `ioflag` of an `_IO_OPENFD` asks for no access, or carries bits other than read, write and the
    /// [`StatusFlags`](crate::StatusFlags).
    BadAccess(u32),
    /// `xtype` of an `_IO_OPENFD` is not `_IO_OPENFD_NONE`.
    BadXtype(u16),
    /// `info.nd` is not 0: the ticket names a server on another Qnet node, in the sender's node numbering,
    /// which means nothing to this receiver. Qnet is not supported.
    RemoteNode(u32),
    /// The server pid (`info.pid`) is 0 or negative. `ConnectAttach` takes pid 0 as the caller itself, so
    /// such a ticket would make the receiver attach to its own channel (Neutrino only).
    BadServerPid(i32),
    /// The server channel id (`info.chid`) is 0 or negative: no channel (Neutrino only).
    BadChid(i32),
    /// The server channel id (`info.chid`) carries `_NTO_GLOBAL_CHANNEL`, which the kernel resolves among
    /// the system's global channels whatever the pid (Neutrino only).
    GlobalChannel(i32),
    /// The server connection id (`info.scoid`) lacks the side-channel bit (`_NTO_SIDE_CHANNEL`). Every scoid
    /// `ConnectServerInfo` reports has it (qnx-abi.md §10); a negative one makes the server look the
    /// client up by pid and node instead of by connection, which no issued ticket asks for (Neutrino
    /// only).
    BadScoid(i32),
    /// The ticket names the receiving process itself as the server (`info.pid` is the receiver's own
    /// pid, Neutrino only). Redeeming it would send the `_IO_DUP` / `_IO_OPENFD` to one of the receiver's
    /// own channels, which blocks forever when the redeeming thread is that channel's only receiver.
    /// Refused unless the receiver opted in ([`Receiver::allow_own_server`](crate::Receiver::allow_own_server)).
    /// Nothing was attempted (only the receiver's own pid was read).
    OwnServer(i32),
    /// The 7.x `key` is not 0. The crate always issues 0; a key would make the server try `MsgKeyData`
    /// verification, a permission path no ticket of this crate uses (7.x layout only).
    NonZeroKey(u32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { need, got } => {
                write!(f, "ticket too short: need {need} bytes, got {got}")
            }
            Self::TooLong { max, got } => {
                write!(f, "ticket too long: at most {max} bytes, got {got}")
            }
            Self::WrongType(t) => write!(f, "wrong message type {t:#x}"),
            Self::WrongCombineLen { expected, got } => {
                write!(f, "wrong combine_len {got:#x}, expected {expected}")
            }
            Self::ReservedNonZero { field } => write!(f, "reserved field `{field}` is not zero"),
            Self::BadSender(pid) => write!(f, "bad sender pid {pid}"),
            Self::BadCoid(coid) => write!(f, "bad descriptor number {coid:#x}"),
            Self::BadAccess(ioflag) => write!(f, "bad requested access {ioflag:#x}"),
            Self::BadXtype(x) => write!(f, "unsupported openfd xtype {x}"),
            Self::RemoteNode(nd) => {
                write!(f, "server on remote node {nd:#x} (Qnet is not supported)")
            }
            Self::BadServerPid(pid) => write!(f, "bad server pid {pid}"),
            Self::BadChid(chid) => write!(f, "bad server channel id {chid}"),
            Self::GlobalChannel(chid) => write!(f, "global channel id {chid:#x} refused"),
            Self::BadScoid(scoid) => {
                write!(f, "server connection id {scoid:#x} is not a side channel")
            }
            Self::NonZeroKey(key) => write!(f, "key {key:#x} is not zero"),
            Self::OwnServer(pid) => write!(
                f,
                "server pid {pid} is this process: refused unless the receiver allows its own server"
            ),
        }
    }
}

impl core::error::Error for DecodeError {}

#[cfg(feature = "defmt")]
impl defmt::Format for DecodeError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            Self::TooShort { need, got } => {
                defmt::write!(f, "TooShort(need {=usize}, got {=usize})", need, got)
            }
            Self::TooLong { max, got } => {
                defmt::write!(f, "TooLong(max {=usize}, got {=usize})", max, got)
            }
            Self::WrongType(t) => defmt::write!(f, "WrongType({=u16:#x})", t),
            Self::WrongCombineLen { expected, got } => {
                defmt::write!(
                    f,
                    "WrongCombineLen(expected {=u16}, got {=u16})",
                    expected,
                    got
                )
            }
            Self::ReservedNonZero { field } => defmt::write!(f, "ReservedNonZero({=str})", field),
            Self::BadSender(p) => defmt::write!(f, "BadSender({=i32})", p),
            Self::BadCoid(c) => defmt::write!(f, "BadCoid({=i32})", c),
            Self::BadAccess(a) => defmt::write!(f, "BadAccess({=u32:#x})", a),
            Self::BadXtype(x) => defmt::write!(f, "BadXtype({=u16})", x),
            Self::RemoteNode(nd) => defmt::write!(f, "RemoteNode({=u32:#x})", nd),
            Self::BadServerPid(p) => defmt::write!(f, "BadServerPid({=i32})", p),
            Self::BadChid(c) => defmt::write!(f, "BadChid({=i32})", c),
            Self::GlobalChannel(c) => defmt::write!(f, "GlobalChannel({=i32:#x})", c),
            Self::BadScoid(c) => defmt::write!(f, "BadScoid({=i32:#x})", c),
            Self::NonZeroKey(k) => defmt::write!(f, "NonZeroKey({=u32:#x})", k),
            Self::OwnServer(p) => defmt::write!(f, "OwnServer({=i32})", p),
        }
    }
}

/// Why a ticket could not be issued or redeemed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a valid ticket; nothing was attempted.
    Decode(DecodeError),
    /// The kernel, the server or the host OS refused; everything opened on the way has been closed.
    Os(Errno),
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Self::Os(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => fmt::Display::fmt(e, f),
            Self::Os(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Os(e) => Some(e),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Decode(e) => defmt::write!(f, "Decode({})", e),
            Self::Os(e) => defmt::write!(f, "Os({})", e),
        }
    }
}

/// A malformed ticket as an `io::Error` of kind `InvalidData` carrying the [`DecodeError`] (there is no OS
/// error: nothing was attempted).
#[cfg(feature = "std")]
impl From<DecodeError> for std::io::Error {
    fn from(e: DecodeError) -> Self {
        Self::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// [`Error::Os`] becomes the OS error (as `From<Errno>`: `raw_os_error()` in the running system's
/// numbering), [`Error::Decode`] an `InvalidData` error carrying the [`DecodeError`]. So `?` works in a
/// function returning `io::Result`.
#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Os(e) => e.into(),
            Error::Decode(e) => e.into(),
        }
    }
}

/// A batch failed at the ticket with index `index` (0-based); every descriptor already obtained from the
/// batch has been closed.
///
/// `#[non_exhaustive]`: a later version may say more (read the fields, match with `..`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchError {
    /// Index of the ticket that failed.
    pub index: usize,
    /// What went wrong with it.
    pub error: Error,
}

impl BatchError {
    /// The error for ticket `index` of a batch failing with `error` (for test doubles and tools; the
    /// crate's redeem makes its own).
    #[must_use]
    pub const fn new(index: usize, error: Error) -> Self {
        Self { index, error }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ticket {} of the batch: {}", self.index, self.error)
    }
}

impl core::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// An `io::Error` of the kind the failing ticket's error has, carrying the whole [`BatchError`] (so the
/// message names the ticket; `raw_os_error()` is `None`, use `get_ref()` to reach the index and errno).
#[cfg(feature = "std")]
impl From<BatchError> for std::io::Error {
    fn from(e: BatchError) -> Self {
        let kind = std::io::Error::from(e.error).kind();
        Self::new(kind, e)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for BatchError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "ticket {=usize}: {}", self.index, self.error)
    }
}

/// Why [`send_fd`](crate::send_fd) did not hand a ticket over: the ticket could not be issued, or the
/// sink failed (and the ticket was withdrawn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<E> {
    /// The ticket could not be issued (as [`DupTicket::new`](crate::DupTicket::new)); the sink was not
    /// called.
    Issue(Errno),
    /// The sink's error; the ticket has been withdrawn.
    Sink(E),
}

impl<E: fmt::Display> fmt::Display for SendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Issue(e) => write!(f, "cannot issue the ticket: {e}"),
            Self::Sink(e) => write!(f, "cannot send the ticket: {e}"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for SendError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Issue(e) => Some(e),
            Self::Sink(e) => Some(e),
        }
    }
}

/// [`SendError::Issue`] as [`Errno`]'s conversion (the OS error in the running system's numbering), the
/// sink's error as its own conversion: so `send_fd(fd, to, |b| w.write_all(b))?` works in a function
/// returning `io::Result`.
#[cfg(feature = "std")]
impl<E: Into<std::io::Error>> From<SendError<E>> for std::io::Error {
    fn from(e: SendError<E>) -> Self {
        match e {
            SendError::Issue(e) => e.into(),
            SendError::Sink(e) => e.into(),
        }
    }
}

#[cfg(feature = "defmt")]
impl<E: defmt::Format> defmt::Format for SendError<E> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Issue(e) => defmt::write!(f, "Issue({})", e),
            Self::Sink(e) => defmt::write!(f, "Sink({})", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn send_error_says_which_step_failed_and_what_the_cause_says() {
        let issue: SendError<Errno> = SendError::Issue(Errno::PERM);
        let sink: SendError<Errno> = SendError::Sink(Errno::PIPE);
        assert_eq!(
            issue.to_string(),
            std::format!("cannot issue the ticket: {}", Errno::PERM)
        );
        assert_eq!(
            sink.to_string(),
            std::format!("cannot send the ticket: {}", Errno::PIPE)
        );
    }

    #[test]
    fn send_error_source_is_the_errno_or_the_sinks_error() {
        use core::error::Error;
        let issue: SendError<Errno> = SendError::Issue(Errno::PERM);
        let sink: SendError<Errno> = SendError::Sink(Errno::PIPE);
        let src =
            |e: &SendError<Errno>| e.source().and_then(|s| s.downcast_ref::<Errno>().copied());
        assert_eq!(src(&issue), Some(Errno::PERM));
        assert_eq!(src(&sink), Some(Errno::PIPE));
    }
}
