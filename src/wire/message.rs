//! What the dup and openfd messages of both layouts have in common, as one trait ([`Message`]), and the
//! access an `_IO_OPENFD` asks for ([`Access`], the meaning of its `ioflag`).
//!
//! The four messages differ in two ways only: the layout (`info` is a `_msg_info32` and the peer proof a
//! 32-bit `key` on 7.x, a `_msg_info_hdr` and a 64-bit `handle` on 8.0) and the kind (an openfd carries
//! `ioflag`, `sflag` and `xtype`). [`message!`](message) writes the trait once for all four from those
//! differences; `v7.rs` and `v8.rs` invoke it under each definition.

use core::mem::size_of;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::{MsgInfo32, MsgInfoHdr, IO_FLAG_RD, IO_FLAG_WR, IO_OPENFD_NONE};
use crate::error::DecodeError;

/// Access requested by an `_IO_OPENFD` ticket. The server refuses access wider than the original open's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Access {
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Read and write.
    ReadWrite,
}

impl Access {
    /// The `ioflag` bits (`_IO_FLAG_RD`, `_IO_FLAG_WR`).
    #[must_use]
    pub const fn ioflag(self) -> u32 {
        match self {
            Self::Read => IO_FLAG_RD,
            Self::Write => IO_FLAG_WR,
            Self::ReadWrite => IO_FLAG_RD | IO_FLAG_WR,
        }
    }

    /// The access an `ioflag` asks for.
    ///
    /// # Errors
    ///
    /// [`DecodeError::BadAccess`] for no access or bits other than read and write.
    pub const fn from_ioflag(ioflag: u32) -> Result<Self, DecodeError> {
        match ioflag {
            IO_FLAG_RD => Ok(Self::Read),
            IO_FLAG_WR => Ok(Self::Write),
            3 => Ok(Self::ReadWrite),
            other => Err(DecodeError::BadAccess(other)),
        }
    }
}

/// File status flags an `_IO_OPENFD` passes on to the new open, as libc's `openfd()` passes the caller's
/// `oflag` bits (`O_APPEND`, `O_NONBLOCK`, ...): the server keeps them with the access (6.4
/// `iofunc_openfd.c`; 7.0 keeps `ioflag & 0x82ff`, `qnx-abi.md` §9.6).
///
/// The values are Neutrino's `O_*` bits, which libc's encoding leaves in place: `ioflag =
/// (oflag & ~(O_ACCMODE | O_CLOEXEC)) | ((oflag + 1) & O_ACCMODE)`, so the `ioflag` of an openfd ticket
/// is [`Access::ioflag`] ORed with these bits. CONFIRMED from the SDP 7.0 `fcntl.h`; 6.4 INFERRED the
/// same (its `O_NONBLOCK` 0o200 is confirmed by the 6.4 payload); 8.0 UNKNOWN. Only the status flags
/// `fcntl(F_SETFL)` may change (`O_SETFLAG`) are offered: never `O_CREAT`, `O_TRUNC` or `O_EXCL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusFlags(u32);

impl StatusFlags {
    /// No status flag: what [`OpenfdTicket::new`](crate::OpenfdTicket::new) sends.
    pub const NONE: Self = Self(0);
    /// `O_APPEND` (0o10): every write goes to the end of the file.
    pub const APPEND: Self = Self(0o10);
    /// `O_DSYNC` (0o20).
    pub const DSYNC: Self = Self(0o20);
    /// `O_SYNC` (0o40).
    pub const SYNC: Self = Self(0o40);
    /// `O_RSYNC` (0o100).
    pub const RSYNC: Self = Self(0o100);
    /// `O_NONBLOCK` (0o200).
    pub const NONBLOCK: Self = Self(0o200);
    /// `O_LARGEFILE` (0o100000).
    pub const LARGEFILE: Self = Self(0o100_000);
    /// Every flag above: Neutrino's `O_SETFLAG`.
    pub const ALL: Self = Self(0o100_370);

    /// The flags as `O_*` bits.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The flags of `bits`, or `None` if it holds any other bit.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits & !Self::ALL.0 == 0 {
            Some(Self(bits))
        } else {
            None
        }
    }

    /// Both sets of flags.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `true` if every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for StatusFlags {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        self.union(other)
    }
}

/// The `ioflag` bits of the access (`_IO_FLAG_RD | _IO_FLAG_WR`).
const ACCESS_BITS: u32 = IO_FLAG_RD | IO_FLAG_WR;

pub(crate) mod sealed {
    /// Only this crate's wire messages implement [`Message`](super::Message).
    pub trait Sealed {}
}

/// A wire message that can travel as a ticket: the dup and openfd messages of both QNX layouts.
///
/// The crate uses the layout of the target ([`IoDup`](super::IoDup), [`IoOpenfd`](super::IoOpenfd));
/// the trait lets tests and tools build and check the other version's tickets too.
pub trait Message:
    FromBytes + IntoBytes + KnownLayout + Immutable + Copy + core::fmt::Debug + sealed::Sealed
{
    /// `_IO_DUP` or `_IO_OPENFD`.
    const TYPE: u16;
    /// The message size, which is also the value of `combine_len`.
    const SIZE: usize = size_of::<Self>();
    /// `true` for the QNX 8.0 layout, whose peer proof is a `dupfd` handle the sender must register.
    const HANDLE: bool;

    /// A zeroed message of this type with `combine_len`, `info` and the peer proof set (`handle` on 8.0,
    /// the low 32 bits as `key` on 7.x). An `_IO_OPENFD` also gets `sflag = SH_DENYNO`, read access and
    /// `xtype = _IO_OPENFD_NONE`.
    fn with_info(info: MsgInfoHdr, proof: u64) -> Self;
    /// The message type field.
    fn type_(&self) -> u16;
    /// The `combine_len` field.
    fn combine_len(&self) -> u16;
    /// The `info` header.
    fn info(&self) -> MsgInfoHdr;
    /// Replaces the `info` header (other `_msg_info32` fields are zeroed on 7.x).
    fn set_info(&mut self, info: MsgInfoHdr);
    /// The peer proof: `handle` on 8.0, `key` on 7.x.
    fn proof(&self) -> u64;
    /// The first reserved field that is not zero.
    fn nonzero_reserved(&self) -> Option<&'static str>;
    /// For `_IO_OPENFD`: checks `ioflag` and `xtype`; for `_IO_DUP`: nothing.
    fn check_open(&self) -> Result<(), DecodeError>;
}

/// Sets and reads the requested access of an `_IO_OPENFD` message (both layouts).
pub(crate) trait OpenfdAccess {
    fn set_access(&mut self, access: Access);
    /// Adds status flags to `ioflag` (libc's encoding: the `O_*` bits beside the access).
    fn set_status(&mut self, flags: StatusFlags);
    /// The status flags `ioflag` carries.
    #[allow(dead_code)]
    fn status(&self) -> StatusFlags;
    /// Read by the host backend's reopen; Neutrino servers read `ioflag` themselves.
    #[cfg_attr(not(host_linux), allow(dead_code))]
    fn access(&self) -> Access;
}

/// The `info` field of a message, either layout: the 48-byte `_msg_info32` (7.x) or the 28-byte
/// `_msg_info_hdr` (8.0). What [`message!`](message) needs to treat both alike.
pub(crate) trait InfoField: Copy {
    /// An `info` whose header is `hdr`, every other field zero.
    fn from_hdr(hdr: MsgInfoHdr) -> Self;
    /// The header.
    fn hdr(&self) -> MsgInfoHdr;
    /// The first field that must be zero in a ticket and is not (`flags`, which the kernel fills, is
    /// not one of them).
    fn nonzero_reserved(&self) -> Option<&'static str>;
}

impl InfoField for MsgInfoHdr {
    fn from_hdr(hdr: MsgInfoHdr) -> Self {
        hdr
    }
    fn hdr(&self) -> MsgInfoHdr {
        *self
    }
    fn nonzero_reserved(&self) -> Option<&'static str> {
        (self.srcnd != 0).then_some("info.srcnd")
    }
}

impl InfoField for MsgInfo32 {
    fn from_hdr(hdr: MsgInfoHdr) -> Self {
        MsgInfo32::from_hdr(hdr)
    }
    fn hdr(&self) -> MsgInfoHdr {
        MsgInfo32::hdr(self)
    }
    fn nonzero_reserved(&self) -> Option<&'static str> {
        if self.srcnd != 0 {
            Some("info.srcnd")
        } else if self.msglen != 0 {
            Some("info.msglen")
        } else if self.srcmsglen != 0 {
            Some("info.srcmsglen")
        } else if self.dstmsglen != 0 {
            Some("info.dstmsglen")
        } else if self.priority != 0 {
            Some("info.priority")
        } else if self.type_id != 0 {
            Some("info.type_id")
        } else {
            None
        }
    }
}

/// The peer-proof field of a message: the 7.x `key` (`u32`, which keeps the low 32 bits of a proof) or
/// the 8.0 `handle` (`u64`).
pub(crate) trait ProofField: Copy {
    fn from_proof(proof: u64) -> Self;
    fn proof(self) -> u64;
}

impl ProofField for u32 {
    fn from_proof(proof: u64) -> Self {
        proof as u32
    }
    fn proof(self) -> u64 {
        u64::from(self)
    }
}

impl ProofField for u64 {
    fn from_proof(proof: u64) -> Self {
        proof
    }
    fn proof(self) -> u64 {
        self
    }
}

/// The `_IO_OPENFD` field checks: the access is read, write or both, any other `ioflag` bit is one of
/// the [`StatusFlags`], and `xtype` is `_IO_OPENFD_NONE`.
pub(crate) const fn check_openfd_fields(ioflag: u32, xtype: u16) -> Result<(), DecodeError> {
    if Access::from_ioflag(ioflag & ACCESS_BITS).is_err()
        || StatusFlags::from_bits(ioflag & !ACCESS_BITS).is_none()
    {
        return Err(DecodeError::BadAccess(ioflag));
    }
    if xtype != IO_OPENFD_NONE {
        return Err(DecodeError::BadXtype(xtype));
    }
    Ok(())
}

/// Implements [`Message`] for one wire message:
///
/// `message!(Type, dup | openfd, handle = bool, proof = field, reserved = [fields])`: the kind, whether
/// the peer proof is an 8.0 `dupfd` handle, the proof field's name, and the reserved fields outside
/// `info` that must be zero, in order. An openfd message also gets [`OpenfdAccess`].
macro_rules! message {
    ($t:ty, dup, handle = $handle:expr, proof = $proof:ident, reserved = [$($res:ident),*]) => {
        $crate::wire::message::message!(@impl $t, $crate::wire::IO_DUP, $handle, $proof, [$($res),*],
            {}, |_msg| Ok(()));
    };
    ($t:ty, openfd, handle = $handle:expr, proof = $proof:ident, reserved = [$($res:ident),*]) => {
        $crate::wire::message::message!(@impl $t, $crate::wire::IO_OPENFD, $handle, $proof, [$($res),*],
            {
                ioflag: $crate::wire::IO_FLAG_RD,
                sflag: $crate::wire::SH_DENYNO,
                xtype: $crate::wire::IO_OPENFD_NONE,
            },
            |msg| $crate::wire::message::check_openfd_fields(msg.ioflag, msg.xtype));

        impl $crate::wire::message::OpenfdAccess for $t {
            fn set_access(&mut self, access: $crate::wire::Access) {
                self.ioflag = access.ioflag();
            }
            fn set_status(&mut self, flags: $crate::wire::StatusFlags) {
                self.ioflag |= flags.bits();
            }
            fn status(&self) -> $crate::wire::StatusFlags {
                $crate::wire::StatusFlags::from_bits(self.ioflag & !3).unwrap_or_default()
            }
            fn access(&self) -> $crate::wire::Access {
                // Checked by `check_open` before any use; read is the narrowest fallback.
                match $crate::wire::Access::from_ioflag(self.ioflag & 3) {
                    Ok(a) => a,
                    Err(_) => $crate::wire::Access::Read,
                }
            }
        }
    };
    (@impl $t:ty, $type:expr, $handle:expr, $proof:ident, [$($res:ident),*], { $($open:tt)* },
        |$msg:pat_param| $check:expr) => {
        impl $crate::wire::message::sealed::Sealed for $t {}

        impl $crate::wire::Message for $t {
            const TYPE: u16 = $type;
            const HANDLE: bool = $handle;
            fn with_info(info: $crate::wire::MsgInfoHdr, proof: u64) -> Self {
                use $crate::wire::message::{InfoField, ProofField};
                Self {
                    type_: $type,
                    combine_len: <Self as $crate::wire::Message>::SIZE as u16,
                    info: InfoField::from_hdr(info),
                    $proof: ProofField::from_proof(proof),
                    $($res: 0,)*
                    $($open)*
                }
            }
            fn type_(&self) -> u16 {
                self.type_
            }
            fn combine_len(&self) -> u16 {
                self.combine_len
            }
            fn info(&self) -> $crate::wire::MsgInfoHdr {
                $crate::wire::message::InfoField::hdr(&self.info)
            }
            fn set_info(&mut self, info: $crate::wire::MsgInfoHdr) {
                self.info = $crate::wire::message::InfoField::from_hdr(info);
            }
            fn proof(&self) -> u64 {
                $crate::wire::message::ProofField::proof(self.$proof)
            }
            fn nonzero_reserved(&self) -> Option<&'static str> {
                if let Some(field) = $crate::wire::message::InfoField::nonzero_reserved(&self.info) {
                    return Some(field);
                }
                $(
                    if self.$res != 0 {
                        return Some(stringify!($res));
                    }
                )*
                None
            }
            fn check_open(&self) -> Result<(), $crate::error::DecodeError> {
                let $msg = self;
                $check
            }
        }
    };
}
pub(crate) use message;
