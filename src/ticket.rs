//! Tickets: the bytes of an `_IO_DUP` or `_IO_OPENFD` message, built by the sender and checked by the
//! receiver before anything is attempted.
//!
//! # The ticket convention
//!
//! A ticket is exactly one wire message of the QNX version being built for ([`crate::wire`]). Its
//! `info` header holds the server's `nd`, `pid`, `chid` and `scoid`, the sender's descriptor number in
//! `coid`, and, as in the article this crate started from, the sender's pid in `tid` (a field that means
//! nothing in a server info). A C peer using the article's code on QNX 7.x produces the same bytes.
//! On QNX 8.0 the `handle` field carries the `dupfd` handle registered for the receiving process; on QNX
//! 7.x the `key` is 0. On the Linux host backend the server fields are 0 and `handle` carries the sender's
//! start time, which guards the redeem against pid reuse.
//!
//! # What the receiver checks
//!
//! In this order, each failure its own [`DecodeError`]: the length is exactly the message size; the type
//! is `_IO_DUP` or `_IO_OPENFD`; `combine_len` is the message size (no combined messages); every reserved
//! field is zero (`info.flags`, which the kernel fills, is ignored); `info.nd` is 0 (the local node: a
//! node number is relative to the sender, and Qnet is not supported); the sender pid is positive; the
//! descriptor number is not negative and not a side channel; on Neutrino ([`Backend::Neutrino`]) the
//! server pid and chid are positive, the chid is not a global channel and the scoid carries the
//! side-channel bit; on the 7.x layout the `key` is 0; for `_IO_OPENFD`, the requested access is read,
//! write or both, and `xtype` is `_IO_OPENFD_NONE`.
//!
//! The server checks are what stands between a forged ticket and the kernel: `ConnectAttach` takes pid 0
//! as the **caller itself** (`qnx-abi.md` §2.5, §9.5), so a ticket naming server pid 0 would make the
//! receiver attach to and send to its own channel, and wait for itself forever if the receiving thread is
//! that channel's only receiver. Every scoid `ConnectServerInfo` reports carries `_NTO_SIDE_CHANNEL`
//! (CONFIRMED 6.4 `ker_connect.c`, qnx-abi.md §10); a scoid without it (a negative one makes the server
//! search its clients by pid and node instead, 6.4 `_resmgr_handle.c`) comes from no issue and is
//! refused. The crate issues every 7.x ticket with `key` 0; a non-zero key would make the server attempt
//! `MsgKeyData` verification, a path no ticket of this crate takes, so it is refused too. On the Linux host
//! backend the server fields carry nothing (they are issued as 0 and never read), so only `nd` is checked
//! there.

use core::ops::Deref;

use heapless::Vec;

use crate::error::DecodeError;
use crate::wire::Message;
use crate::wire::{
    self, MsgInfoHdr, IO_DUP, IO_OPENFD, ND_LOCAL_NODE, NTO_GLOBAL_CHANNEL, NTO_SIDE_CHANNEL,
};

/// The length in bytes of a dup ticket ([`DupTicket`](crate::DupTicket)) of the QNX version this build
/// is for: 40 on QNX 8.0 and on the Linux host, 60 on QNX 7.x (and 6.x).
pub const DUP_LEN: usize = <wire::IoDup as Message>::SIZE;

/// The length in bytes of an openfd ticket ([`OpenfdTicket`](crate::OpenfdTicket)) of the QNX version
/// this build is for: 48 on QNX 8.0 and on the Linux host, 68 on QNX 7.x (and 6.x).
pub const OPENFD_LEN: usize = <wire::IoOpenfd as Message>::SIZE;

/// The longest ticket this build issues or accepts: a buffer of this many bytes holds any one ticket
/// (the default size of [`TicketBuf`](crate::wire::TicketBuf)). A [`DupBatch`](crate::DupBatch) of `N`
/// tickets is `N * DUP_LEN` bytes.
pub const MAX_LEN: usize = if DUP_LEN > OPENFD_LEN {
    DUP_LEN
} else {
    OPENFD_LEN
};

/// How many of a ticket's first bytes [`frame_len`] needs: the message type.
pub const PEEK_LEN: usize = 2;

/// The full length of the ticket whose first bytes are `first` (at least [`PEEK_LEN`] of them; more are
/// ignored): for a receiver that reads a byte stream, which has no message boundaries. It reads the
/// message type only; the whole ticket is checked when it is parsed or redeemed.
///
/// # Errors
///
/// [`DecodeError::TooShort`] for fewer than [`PEEK_LEN`] bytes, [`DecodeError::WrongType`] for a type
/// that is neither ticket kind (the stream is out of step, or not carrying tickets).
///
/// # Examples
///
/// ```
/// use qnx_fdpass::ticket::{frame_len, DUP_LEN, OPENFD_LEN, PEEK_LEN};
/// use qnx_fdpass::DecodeError;
/// let dup_type = 0x115u16.to_ne_bytes(); // `_IO_DUP`, as a ticket starts
/// assert_eq!(frame_len(&dup_type), Ok(DUP_LEN));
/// assert_eq!(frame_len(&0x10Du16.to_ne_bytes()), Ok(OPENFD_LEN));
/// assert_eq!(frame_len(&dup_type[..1]), Err(DecodeError::TooShort { need: PEEK_LEN, got: 1 }));
/// assert_eq!(frame_len(&[0, 0]), Err(DecodeError::WrongType(0)));
/// ```
pub fn frame_len(first: &[u8]) -> Result<usize, DecodeError> {
    match peek_type(first) {
        Some(IO_DUP) => Ok(DUP_LEN),
        Some(IO_OPENFD) => Ok(OPENFD_LEN),
        Some(other) => Err(DecodeError::WrongType(other)),
        None => Err(DecodeError::TooShort {
            need: PEEK_LEN,
            got: first.len(),
        }),
    }
}

/// Who may redeem a ticket.
///
/// On QNX 8.0 the sender registers the descriptor for one receiving process (`dupfd_register`, with
/// `DUPFD_NO_DISCARD`), so the receiver's pid is needed there: [`Recipient::Any`] fails with `EINVAL`. A
/// ticket that never reaches that process should be withdrawn (`DupTicket::withdraw`). On QNX 7.x and on the host the
/// recipient is not recorded in the ticket (see the README's threat model for who can redeem).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Recipient {
    /// Whoever receives the bytes.
    Any,
    /// The process with this pid.
    Pid(i32),
}

/// A message parsed from received bytes: borrowed in place when the bytes were aligned for it (as in a
/// [`TicketBuf`](crate::wire::TicketBuf)), copied into an aligned value otherwise.
#[derive(Clone, Copy, Debug)]
pub enum Parsed<'a, M> {
    /// The bytes were aligned: the message is read in place.
    Borrowed(&'a M),
    /// The bytes were not aligned: the message was copied (a few dozen bytes).
    Copied(M),
}

impl<M> Deref for Parsed<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        match self {
            Parsed::Borrowed(m) => m,
            Parsed::Copied(m) => m,
        }
    }
}

impl<M> Parsed<'_, M> {
    /// `true` when the message is read in place, without a copy.
    #[must_use]
    pub const fn is_borrowed(&self) -> bool {
        matches!(self, Parsed::Borrowed(_))
    }
}

/// Parses and checks one message of type `M` from exactly `bytes`.
///
/// # Errors
///
/// The first problem found, in the order given in the [module docs](self).
pub fn parse_as<M: Message>(bytes: &[u8]) -> Result<Parsed<'_, M>, DecodeError> {
    let got = bytes.len();
    if got < M::SIZE {
        return Err(DecodeError::TooShort { need: M::SIZE, got });
    }
    if got > M::SIZE {
        return Err(DecodeError::TooLong { max: M::SIZE, got });
    }
    let msg = match M::ref_from_bytes(bytes) {
        Ok(m) => Parsed::Borrowed(m),
        // Only misalignment can fail here (the length was checked): copy into an aligned value.
        Err(_) => match M::read_from_bytes(bytes) {
            Ok(m) => Parsed::Copied(m),
            Err(_) => return Err(DecodeError::TooShort { need: M::SIZE, got }),
        },
    };
    check(&*msg)?;
    Ok(msg)
}

/// [`parse_as`] into an owned copy: the same checks in the same order, one code path whatever the
/// alignment of `bytes` (the redeem paths copy the message anyway, to rewrite its header).
#[inline(always)]
pub(crate) fn parse_copy<M: Message>(bytes: &[u8]) -> Result<M, DecodeError> {
    let got = bytes.len();
    if got < M::SIZE {
        return Err(DecodeError::TooShort { need: M::SIZE, got });
    }
    // `read_from_bytes` fails only on a length other than `M::SIZE`: here, a longer one.
    let msg = M::read_from_bytes(bytes).map_err(|_| DecodeError::TooLong { max: M::SIZE, got })?;
    check(&msg)?;
    Ok(msg)
}

/// Which backend's meaning a ticket's server fields (`info.pid`, `info.chid`, `info.scoid`) have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Backend {
    /// QNX Neutrino: they name the server channel the receiver attaches to, and are checked.
    Neutrino,
    /// The Linux host backend: unused (issued as 0, never read), so not checked.
    LinuxHost,
}

impl Backend {
    /// The backend of the target being built for: what [`check`], [`parse_as`] and [`parse`] apply.
    pub const TARGET: Self = if cfg!(host_linux) {
        Self::LinuxHost
    } else {
        Self::Neutrino
    };
}

/// Checks the fields of a message (everything but the length, which the type fixes) for the target's
/// backend ([`Backend::TARGET`]).
///
/// # Errors
///
/// The first problem found, in the order given in the [module docs](self).
pub fn check<M: Message>(msg: &M) -> Result<(), DecodeError> {
    check_for(msg, Backend::TARGET)
}

/// [`check`] with the server fields read as `backend` reads them: a tool on a workstation checks a QNX
/// ticket with [`Backend::Neutrino`].
///
/// # Errors
///
/// The first problem found, in the order given in the [module docs](self).
pub fn check_for<M: Message>(msg: &M, backend: Backend) -> Result<(), DecodeError> {
    if msg.type_() != M::TYPE {
        return Err(DecodeError::WrongType(msg.type_()));
    }
    if usize::from(msg.combine_len()) != M::SIZE {
        return Err(DecodeError::WrongCombineLen {
            expected: M::SIZE as u16,
            got: msg.combine_len(),
        });
    }
    if let Some(field) = msg.nonzero_reserved() {
        return Err(DecodeError::ReservedNonZero { field });
    }
    let info = msg.info();
    if info.nd != ND_LOCAL_NODE {
        return Err(DecodeError::RemoteNode(info.nd));
    }
    if info.tid <= 0 {
        return Err(DecodeError::BadSender(info.tid));
    }
    if info.coid < 0 || info.coid as u32 >= NTO_SIDE_CHANNEL {
        return Err(DecodeError::BadCoid(info.coid));
    }
    if backend == Backend::Neutrino {
        check_server(&info)?;
    }
    if !M::HANDLE && msg.proof() != 0 {
        // The 7.x `key` (32 bits: the proof never exceeds `u32` there).
        return Err(DecodeError::NonZeroKey(msg.proof() as u32));
    }
    msg.check_open()
}

/// The Neutrino server checks of [`check_for`]: a positive pid (0 would be the receiver itself), a
/// positive chid without the global-channel bit, and a scoid with the side-channel bit.
pub(crate) const fn check_server(info: &MsgInfoHdr) -> Result<(), DecodeError> {
    if info.pid <= 0 {
        return Err(DecodeError::BadServerPid(info.pid));
    }
    if info.chid <= 0 {
        return Err(DecodeError::BadChid(info.chid));
    }
    if info.chid as u32 & NTO_GLOBAL_CHANNEL != 0 {
        return Err(DecodeError::GlobalChannel(info.chid));
    }
    if info.scoid < 0 || info.scoid as u32 & NTO_SIDE_CHANNEL == 0 {
        return Err(DecodeError::BadScoid(info.scoid));
    }
    Ok(())
}

/// The message type in the first two bytes, if there are two.
pub(crate) fn peek_type(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [a, b, ..] => Some(u16::from_ne_bytes([*a, *b])),
        _ => None,
    }
}

/// A checked ticket of the target's QNX version, either kind.
#[derive(Clone, Copy, Debug)]
pub enum Ticket<'a> {
    /// An `_IO_DUP` ticket: the redeemed descriptor shares the sender's open file and position.
    Dup(Parsed<'a, wire::IoDup>),
    /// An `_IO_OPENFD` ticket: a new open of the same file, with its own position.
    Openfd(Parsed<'a, wire::IoOpenfd>),
}

impl Ticket<'_> {
    /// The `info` header: server `nd/pid/chid/scoid`, the sender's `coid`, the sender's pid in `tid`.
    #[must_use]
    pub fn info(&self) -> MsgInfoHdr {
        match self {
            Ticket::Dup(m) => m.info(),
            Ticket::Openfd(m) => m.info(),
        }
    }

    /// The sender's pid.
    #[must_use]
    pub fn sender_pid(&self) -> i32 {
        self.info().tid
    }
}

/// Parses and checks one ticket of the target's QNX version.
///
/// Zero-copy when `bytes` is aligned for the message (receive into a
/// [`TicketBuf`](crate::wire::TicketBuf) for that); correct either way.
///
/// # Errors
///
/// What was wrong with the bytes ([`DecodeError`]); nothing has been opened.
///
/// # Examples
///
/// ```
/// use qnx_fdpass::{parse, DecodeError};
/// assert_eq!(parse(&[0x15]).unwrap_err(), DecodeError::TooShort { need: 2, got: 1 });
/// assert_eq!(parse(&[0x34, 0x12, 0, 0]).unwrap_err(), DecodeError::WrongType(0x1234));
/// ```
pub fn parse(bytes: &[u8]) -> Result<Ticket<'_>, DecodeError> {
    match peek_type(bytes) {
        None => Err(DecodeError::TooShort {
            need: 2,
            got: bytes.len(),
        }),
        Some(IO_DUP) => parse_as::<wire::IoDup>(bytes).map(Ticket::Dup),
        Some(IO_OPENFD) => parse_as::<wire::IoOpenfd>(bytes).map(Ticket::Openfd),
        Some(other) => Err(DecodeError::WrongType(other)),
    }
}

/// Splits a batch packet, a run of tickets of one kind back to back, into checked copies of its
/// tickets in `msgs` (cleared first), at most `N` of them. Each ticket is parsed once, here: the redeem
/// works from the copies.
///
/// Every ticket is checked before the first is returned, so a batch with a bad ticket is refused whole
/// before anything is opened.
///
/// # Errors
///
/// `(index, error)` of the first bad ticket; index 0 for an empty or too short packet, `N` for more than
/// `N` tickets, the index of the cut ticket for a length that is no multiple of the ticket size.
#[inline]
pub(crate) fn split_batch<M: Message, const N: usize>(
    bytes: &[u8],
    msgs: &mut Vec<M, N>,
) -> Result<(), (usize, DecodeError)> {
    let got = bytes.len();
    if got < M::SIZE {
        return Err((0, DecodeError::TooShort { need: M::SIZE, got }));
    }
    let count = got / M::SIZE;
    if count > N {
        return Err((
            N,
            DecodeError::TooLong {
                max: N * M::SIZE,
                got,
            },
        ));
    }
    let rest = got % M::SIZE;
    if rest != 0 {
        return Err((
            count,
            DecodeError::TooShort {
                need: M::SIZE,
                got: rest,
            },
        ));
    }
    msgs.clear();
    for (i, chunk) in bytes.chunks_exact(M::SIZE).enumerate() {
        let msg = parse_copy::<M>(chunk).map_err(|e| (i, e))?;
        // Never full: `count <= N` was checked above.
        if msgs.push(msg).is_err() {
            return Err((
                i,
                DecodeError::TooLong {
                    max: N * M::SIZE,
                    got,
                },
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_support::hdr;
    use crate::wire::{v7, v8, Access, OpenfdAccess, StatusFlags, TicketBuf};
    use zerocopy::IntoBytes;

    fn roundtrip<M: Message + core::fmt::Debug + PartialEq>() {
        // A 7.x ticket's key is always 0 (a non-zero one is refused); an 8.0 handle is any value.
        let proof = if M::HANDLE { 0x55 } else { 0 };
        let msg = M::with_info(hdr(), proof);
        let mut buf = TicketBuf::<72>::new();
        buf.bytes[..M::SIZE].copy_from_slice(msg.as_bytes());
        let parsed = parse_as::<M>(buf.filled(M::SIZE)).unwrap();
        assert!(parsed.is_borrowed());
        assert_eq!(*parsed, msg);
        // Misaligned by one byte: still parses, by copy. The buffer is 8-aligned, so byte 1 is misaligned
        // for certain (a plain `[u8; N]` may sit anywhere, and under Miri it sometimes sits at an odd address).
        let mut raw = TicketBuf::<80>::new();
        raw.bytes[1..1 + M::SIZE].copy_from_slice(msg.as_bytes());
        let parsed = parse_as::<M>(&raw.bytes[1..1 + M::SIZE]).unwrap();
        assert!(!parsed.is_borrowed());
        assert_eq!(*parsed, msg);
        assert_eq!(parsed.proof(), proof);
    }

    #[test]
    fn roundtrip_all_layouts() {
        roundtrip::<v7::IoDup>();
        roundtrip::<v7::IoOpenfd>();
        roundtrip::<v8::IoDup>();
        roundtrip::<v8::IoOpenfd>();
    }

    fn errors_for<M: Message>() {
        let good = M::with_info(hdr(), 0);
        let b = good.as_bytes();
        assert_eq!(
            parse_as::<M>(&b[..M::SIZE - 1]).unwrap_err(),
            DecodeError::TooShort {
                need: M::SIZE,
                got: M::SIZE - 1
            }
        );
        let mut long = [0u8; 80];
        long[..M::SIZE].copy_from_slice(b);
        assert_eq!(
            parse_as::<M>(&long[..M::SIZE + 1]).unwrap_err(),
            DecodeError::TooLong {
                max: M::SIZE,
                got: M::SIZE + 1
            }
        );

        let mut m = good;
        let mut bytes = [0u8; 80];
        let with = |m: &M, bytes: &mut [u8; 80]| {
            bytes[..M::SIZE].copy_from_slice(m.as_bytes());
            parse_as::<M>(&bytes[..M::SIZE]).map(|_| ())
        };
        m.as_mut_bytes()[0] = 0x99;
        assert_eq!(
            with(&m, &mut bytes),
            Err(DecodeError::WrongType(u16::from_ne_bytes([
                0x99,
                (M::TYPE >> 8) as u8
            ])))
        );
        let mut m = good;
        m.as_mut_bytes()[3] = 0x80; // _IO_COMBINE_FLAG
        assert_eq!(
            with(&m, &mut bytes),
            Err(DecodeError::WrongCombineLen {
                expected: M::SIZE as u16,
                got: 0x8000 | M::SIZE as u16
            })
        );
        let mut m = good;
        let mut i = m.info();
        i.srcnd = 1;
        m.set_info(i);
        assert_eq!(
            with(&m, &mut bytes),
            Err(DecodeError::ReservedNonZero {
                field: "info.srcnd"
            })
        );
        let mut m = good;
        let mut i = m.info();
        i.tid = 0;
        m.set_info(i);
        assert_eq!(with(&m, &mut bytes), Err(DecodeError::BadSender(0)));
        let mut m = good;
        let mut i = m.info();
        i.coid = 0x4000_0001;
        m.set_info(i);
        assert_eq!(with(&m, &mut bytes), Err(DecodeError::BadCoid(0x4000_0001)));
        let mut i = m.info();
        i.coid = -1;
        m.set_info(i);
        assert_eq!(with(&m, &mut bytes), Err(DecodeError::BadCoid(-1)));
    }

    #[test]
    fn decode_errors_all_layouts() {
        errors_for::<v7::IoDup>();
        errors_for::<v7::IoOpenfd>();
        errors_for::<v8::IoDup>();
        errors_for::<v8::IoOpenfd>();
    }

    #[test]
    fn v7_reserved_fields() {
        let mut m = v7::IoDup::with_info(hdr(), 0);
        m.reserved = 1;
        assert_eq!(
            check(&m),
            Err(DecodeError::ReservedNonZero { field: "reserved" })
        );
        let mut m = v7::IoDup::with_info(hdr(), 0);
        m.info.type_id = 1;
        assert_eq!(
            check(&m),
            Err(DecodeError::ReservedNonZero {
                field: "info.type_id"
            })
        );
        let mut m = v7::IoDup::with_info(hdr(), 0);
        m.info.flags = 1; // the kernel's _NTO_COF_CLOEXEC, as the article's C sends it: accepted
        assert_eq!(check(&m), Ok(()));
        let mut m = v7::IoOpenfd::with_info(hdr(), 0);
        m.reserved2 = 2;
        assert_eq!(
            check(&m),
            Err(DecodeError::ReservedNonZero { field: "reserved2" })
        );
    }

    fn server_checks_for<M: Message>() {
        let with = |f: fn(&mut MsgInfoHdr), backend| {
            let mut m = M::with_info(hdr(), 0);
            let mut i = m.info();
            f(&mut i);
            m.set_info(i);
            check_for(&m, backend)
        };
        use Backend::{LinuxHost, Neutrino};
        // Server pid 0 is the receiver itself for ConnectAttach: refused before any kernel call.
        assert_eq!(
            with(|i| i.pid = 0, Neutrino),
            Err(DecodeError::BadServerPid(0))
        );
        assert_eq!(
            with(|i| i.pid = -3, Neutrino),
            Err(DecodeError::BadServerPid(-3))
        );
        assert_eq!(with(|i| i.chid = 0, Neutrino), Err(DecodeError::BadChid(0)));
        assert_eq!(
            with(|i| i.chid = -1, Neutrino),
            Err(DecodeError::BadChid(-1))
        );
        assert_eq!(
            with(|i| i.chid = 0x4000_0001, Neutrino),
            Err(DecodeError::GlobalChannel(0x4000_0001))
        );
        // A scoid without the side-channel bit, or a negative one (the server would search by pid and
        // node): no ConnectServerInfo answer looks like that.
        assert_eq!(
            with(|i| i.scoid = 2, Neutrino),
            Err(DecodeError::BadScoid(2))
        );
        assert_eq!(
            with(|i| i.scoid = -1, Neutrino),
            Err(DecodeError::BadScoid(-1))
        );
        assert_eq!(
            with(|i| i.scoid = i32::MIN | 0x4000_0002, Neutrino),
            Err(DecodeError::BadScoid(i32::MIN | 0x4000_0002))
        );
        assert_eq!(with(|i| i.scoid = 0x4000_0000, Neutrino), Ok(()));
        assert_eq!(with(|i| i.scoid = 0x7fff_ffff, Neutrino), Ok(()));
        // The host backend does not read the scoid.
        assert_eq!(with(|i| i.scoid = 2, LinuxHost), Ok(()));
        assert_eq!(with(|_| {}, Neutrino), Ok(()));
        // A node number is the sender's: refused on every backend.
        for b in [Neutrino, LinuxHost] {
            assert_eq!(with(|i| i.nd = 1, b), Err(DecodeError::RemoteNode(1)));
            assert_eq!(
                with(|i| i.nd = 0x8000_0000, b),
                Err(DecodeError::RemoteNode(0x8000_0000))
            );
        }
        // The host backend's tickets carry no server (all 0): accepted there.
        let host = |i: &mut MsgInfoHdr| {
            i.pid = 0;
            i.chid = 0;
            i.scoid = 0;
        };
        assert_eq!(with(host, LinuxHost), Ok(()));
        assert_eq!(with(host, Neutrino), Err(DecodeError::BadServerPid(0)));
    }

    #[test]
    fn server_fields_are_checked_on_neutrino() {
        server_checks_for::<v7::IoDup>();
        server_checks_for::<v7::IoOpenfd>();
        server_checks_for::<v8::IoDup>();
        server_checks_for::<v8::IoOpenfd>();
        assert_eq!(
            Backend::TARGET,
            if cfg!(host_linux) {
                Backend::LinuxHost
            } else {
                Backend::Neutrino
            }
        );
    }

    /// The crate issues every 7.x ticket with key 0; a non-zero key is refused on every backend, before
    /// any kernel call. The 8.0 handle is not a key: any value passes the check.
    #[test]
    fn v7_key_must_be_zero() {
        for backend in [Backend::Neutrino, Backend::LinuxHost] {
            let m = v7::IoDup::with_info(hdr(), 0xdead_beef);
            assert_eq!(
                check_for(&m, backend),
                Err(DecodeError::NonZeroKey(0xdead_beef))
            );
            let m = v7::IoOpenfd::with_info(hdr(), 1);
            assert_eq!(check_for(&m, backend), Err(DecodeError::NonZeroKey(1)));
            assert_eq!(check_for(&v7::IoDup::with_info(hdr(), 0), backend), Ok(()));
            let m = v8::IoDup::with_info(hdr(), 0xdead_beef_0000_0001);
            assert_eq!(check_for(&m, backend), Ok(()));
        }
    }

    /// `OpenfdTicket::with_flags`' ioflag is libc's `openfd()` encoding of `oflag = mode | flags`:
    /// `(oflag & ~(O_ACCMODE | O_CLOEXEC)) | ((oflag + 1) & O_ACCMODE)`, with the 7.0 values
    /// (O_ACCMODE 7, O_CLOEXEC 0o20000), for every access and every subset of the status flags.
    #[test]
    fn status_flags_follow_libcs_encoding() {
        const O_ACCMODE: u32 = 7;
        const O_CLOEXEC: u32 = 0o20_000;
        let flags = [
            StatusFlags::APPEND,
            StatusFlags::DSYNC,
            StatusFlags::SYNC,
            StatusFlags::RSYNC,
            StatusFlags::NONBLOCK,
            StatusFlags::LARGEFILE,
        ];
        for (access, mode) in [
            (Access::Read, 0),
            (Access::Write, 1),
            (Access::ReadWrite, 2),
        ] {
            for subset in 0..1u32 << flags.len() {
                let f = flags
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| subset & (1 << i) != 0)
                    .fold(StatusFlags::NONE, |a, (_, &b)| a | b);
                let oflag = mode | f.bits() | O_CLOEXEC;
                let libc = (oflag & !(O_ACCMODE | O_CLOEXEC)) | ((oflag + 1) & O_ACCMODE);
                let mut m = v7::IoOpenfd::with_info(hdr(), 0);
                m.set_access(access);
                m.set_status(f);
                assert_eq!(m.ioflag, libc, "{access:?} {f:?}");
                assert_eq!(check(&m), Ok(()));
                assert_eq!((m.access(), m.status()), (access, f));
            }
        }
        assert_eq!(StatusFlags::from_bits(0o400), None);
        assert_eq!(
            StatusFlags::from_bits(0o210),
            Some(StatusFlags::APPEND | StatusFlags::NONBLOCK)
        );
        assert!(StatusFlags::ALL.contains(StatusFlags::LARGEFILE));
    }

    #[test]
    fn openfd_fields() {
        let mut m = v8::IoOpenfd::with_info(hdr(), 0);
        m.ioflag = 0;
        assert_eq!(check(&m), Err(DecodeError::BadAccess(0)));
        m.ioflag = 4;
        assert_eq!(check(&m), Err(DecodeError::BadAccess(4)));
        // Status flags beside the access are libc's encoding: accepted; anything else, or
        // flags without an access, refused.
        m.ioflag = 1 | 0o10 | 0o200;
        assert_eq!(check(&m), Ok(()));
        assert_eq!(m.access(), Access::Read);
        assert_eq!(m.status(), StatusFlags::APPEND | StatusFlags::NONBLOCK);
        m.ioflag = 2 | 0o400; // O_CREAT
        assert_eq!(check(&m), Err(DecodeError::BadAccess(0o402)));
        m.ioflag = 0o1000 | 3; // O_TRUNC
        assert_eq!(check(&m), Err(DecodeError::BadAccess(0o1003)));
        m.ioflag = 0o10;
        assert_eq!(check(&m), Err(DecodeError::BadAccess(0o10)));
        m.ioflag = 3;
        m.xtype = wire::IO_OPENFD_PIPE;
        assert_eq!(check(&m), Err(DecodeError::BadXtype(1)));
        m.xtype = 0;
        assert_eq!(check(&m), Ok(()));
        assert_eq!(m.access(), Access::ReadWrite);
    }

    #[test]
    fn lengths_are_this_versions_message_sizes() {
        let (dup, openfd) = if wire::IS_V8 { (40, 48) } else { (60, 68) };
        assert_eq!((DUP_LEN, OPENFD_LEN, MAX_LEN), (dup, openfd, openfd));
        assert_eq!((v8::IoDup::SIZE, v8::IoOpenfd::SIZE), (40, 48));
        assert_eq!((v7::IoDup::SIZE, v7::IoOpenfd::SIZE), (60, 68));
        // frame_len reads the type of a real ticket of each kind, whatever follows.
        let d = wire::IoDup::with_info(hdr(), 0);
        let o = wire::IoOpenfd::with_info(hdr(), 0);
        assert_eq!(frame_len(d.as_bytes()), Ok(DUP_LEN));
        assert_eq!(frame_len(&o.as_bytes()[..PEEK_LEN]), Ok(OPENFD_LEN));
        assert_eq!(
            frame_len(&[]),
            Err(DecodeError::TooShort { need: 2, got: 0 })
        );
    }

    #[test]
    fn parse_dispatches_on_type() {
        let d = wire::IoDup::with_info(hdr(), 0);
        assert!(matches!(parse(d.as_bytes()), Ok(Ticket::Dup(_))));
        let o = wire::IoOpenfd::with_info(hdr(), 0);
        let t = parse(o.as_bytes()).unwrap();
        assert!(matches!(t, Ticket::Openfd(_)));
        assert_eq!(t.sender_pid(), 77);
        assert_eq!(
            parse(&[]).unwrap_err(),
            DecodeError::TooShort { need: 2, got: 0 }
        );
        assert_eq!(parse(&[0, 0]).unwrap_err(), DecodeError::WrongType(0));
    }

    #[test]
    fn batches() {
        let d = v8::IoDup::with_info(hdr(), 0);
        let mut buf = [0u8; 40 * 4];
        for c in buf.chunks_exact_mut(40) {
            c.copy_from_slice(d.as_bytes());
        }
        let count = |b: &[u8]| {
            let mut v = heapless::Vec::<v8::IoDup, 4>::new();
            split_batch(b, &mut v).map(|()| v.len())
        };
        assert_eq!(count(&buf), Ok(4));
        assert_eq!(count(&buf[..80]), Ok(2));
        let mut three = heapless::Vec::<v8::IoDup, 3>::new();
        assert_eq!(split_batch(&buf, &mut three).unwrap_err().0, 3);
        assert_eq!(
            count(&buf[..79]).unwrap_err(),
            (1, DecodeError::TooShort { need: 40, got: 39 })
        );
        assert_eq!(
            count(&[]).unwrap_err(),
            (0, DecodeError::TooShort { need: 40, got: 0 })
        );
        buf[80 + 16] = 0; // ticket 2: info.tid low byte
        buf[80 + 17] = 0;
        assert_eq!(count(&buf).unwrap_err(), (2, DecodeError::BadSender(0)));
    }

    /// `parse_copy` (what the redeem paths use) answers exactly as `parse_as`: every length from 0 to 80
    /// at an aligned and an unaligned start, and every single-byte change of a valid ticket.
    fn copy_agrees<M: Message + PartialEq>() {
        let good = M::with_info(hdr(), if M::HANDLE { 0x1234_5678_9abc_def0 } else { 0 });
        let same = |b: &[u8]| {
            assert_eq!(
                parse_copy::<M>(b),
                parse_as::<M>(b).map(|m| *m),
                "{:02x?}",
                b
            );
        };
        let mut buf = TicketBuf::<96>::new();
        buf.bytes[..M::SIZE].copy_from_slice(good.as_bytes());
        for len in 0..=80 {
            same(&buf.bytes[..len]);
            same(&buf.bytes[1..=len]);
        }
        for at in 0..M::SIZE {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = buf;
                b.bytes[at] = v;
                same(b.filled(M::SIZE));
                same(&b.bytes[..M::SIZE - 1]);
            }
        }
    }

    #[test]
    fn parse_copy_agrees_with_parse_as() {
        copy_agrees::<v7::IoDup>();
        copy_agrees::<v7::IoOpenfd>();
        copy_agrees::<v8::IoDup>();
        copy_agrees::<v8::IoOpenfd>();
    }
}
