//! `#[repr(C)]` mirrors of the QNX Neutrino messages that carry a descriptor.
//!
//! Every layout here is transcribed from the project's ABI fact sheet (`docs/qnx-abi.md`, sections 1, 2 and
//! "Recommended Rust layouts"), which cites the QNX headers each number was read from. Nothing in this
//! module is `unsafe`: layouts are proved by zerocopy's derives and by `const` assertions placed directly
//! under each definition, so a wrong field type or order fails the build on every target.
//!
//! The message layout differs between QNX versions:
//!
//! | module | QNX versions | `io_dup_t` | `io_openfd_t` | peer proof carried |
//! |---|---|---|---|---|
//! | [`v7`] | 6.x, 7.0, 7.1 | 60 bytes, align 4 | 68 bytes, align 4 | `key` (`MsgKeyData`) |
//! | [`v8`] | 8.0 | 40 bytes, align 8 | 48 bytes, align 8 | `handle` (`dupfd_register`) |
//!
//! [`IoDup`] and [`IoOpenfd`] name the layout of the QNX version being built for. The crate's build
//! script turns the target into the cfgs `qnx_v7` and `qnx_v8`, and the choice is made in exactly one
//! place, the `cfg` block below:
//!
//! - `qnx_v7` (QNX 7.0 and 7.1 targets, which 6.x shares) selects [`v7`];
//! - `qnx_v8` (the QNX 8.0 targets, under their old and new names) selects [`v8`];
//! - any other target (the Linux host backend) selects [`v8`]: it is the current QNX layout, it is the
//!   smaller one, and its 64-bit `handle` slot is where the host backend carries the sender's identity
//!   token (the start time that guards against pid reuse), the same role the `dupfd` handle plays on 8.0.
//!
//! # Padding cannot slip in
//!
//! Every wire type derives zerocopy's `IntoBytes`, which refuses a struct with padding bytes at compile
//! time (padding would leak stack contents into a ticket and would mean the layout differs from C). This
//! mirror of a header with the `u32` after a `u16` does not compile:
//!
//! ```compile_fail,E0277
//! use zerocopy::{Immutable, IntoBytes};
//! #[derive(IntoBytes, Immutable)]
//! #[repr(C)]
//! struct Padded {
//!     type_: u16,
//!     ioflag: u32, // two bytes of padding before this field
//! }
//! ```
//!
//! while the real layout, with the padding spelled out as C has it (`combine_len`), does:
//!
//! ```
//! use zerocopy::{Immutable, IntoBytes};
//! #[derive(IntoBytes, Immutable)]
//! #[repr(C)]
//! struct Unpadded {
//!     type_: u16,
//!     combine_len: u16,
//!     ioflag: u32,
//! }
//! assert_eq!(Unpadded { type_: 0x10D, combine_len: 8, ioflag: 1 }.as_bytes(), &[0x0D, 1, 8, 0, 1, 0, 0, 0]);
//! ```

#[cfg(feature = "defmt")]
use defmt::Format;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

mod message;
pub mod v7;
pub mod v8;

pub(crate) use message::OpenfdAccess;
pub use message::{Access, Message, StatusFlags};

// The one place where the message layout is chosen.
#[cfg(qnx_v7)]
pub use v7::{IoDup, IoOpenfd};
#[cfg(not(qnx_v7))]
pub use v8::{IoDup, IoOpenfd};

/// `true` when [`IoDup`]/[`IoOpenfd`] are the QNX 8.0 layout ([`v8`]).
pub const IS_V8: bool = cfg!(not(qnx_v7));

// On Neutrino the layout and the kernel calls are of one QNX version: the 8.0 layout exactly when the
// 8.0-only calls (`dupfd`) are built. CI's stub check proves, per target name, whether they are (the
// `ConnectDupFd` stub must be there on 8.0 and absent on 7.x), so together the two prove the layout.
#[cfg(neutrino)]
const _: () = assert!(IS_V8 == cfg!(qnx_v8));

/// `_IO_OPENFD`: open the file behind another client's descriptor again. CONFIRMED, all versions.
pub const IO_OPENFD: u16 = 0x10D;
/// `_IO_DUP`: bind a new connection to another client's open file. CONFIRMED, all versions.
pub const IO_DUP: u16 = 0x115;
/// `_IO_CLOSE`: the message libc's `close()` sends before `ConnectDetach`. CONFIRMED, all versions.
pub const IO_CLOSE: u16 = 0x116;
/// `_IO_COMBINE_FLAG`, ORed into `combine_len` when another message follows. CONFIRMED, all versions.
pub const IO_COMBINE_FLAG: u16 = 0x8000;

/// `ND_LOCAL_NODE`: the node descriptor of this machine. CONFIRMED 0 in 6.x and 8.0 (obsolete there).
pub const ND_LOCAL_NODE: u32 = 0;
/// `_NTO_SIDE_CHANNEL`: connection ids at or above this are side channels, not descriptors. CONFIRMED.
pub const NTO_SIDE_CHANNEL: u32 = 0x4000_0000;
/// `_NTO_COF_CLOEXEC`: connection flag, close on exec. CONFIRMED, all versions.
pub const NTO_COF_CLOEXEC: i32 = 0x0001;
/// `_NTO_COF_DEAD`: reported by `ConnectServerInfo` when the server has died. CONFIRMED, all versions.
pub const NTO_COF_DEAD: i32 = 0x0002;
/// `_NTO_COF_PIPE` (QNX 8.0 only): the connection is an in-kernel pipe. CONFIRMED value 0x0400 (SDP 8.0
/// `sys/neutrino.h`, `qnx-abi.md` §2.4); that `ConnectServerInfo` reports it for a pipe is INFERRED. On
/// 6.x/7.x the same bit is `_NTO_COF_GLOBAL`, so test it only for the 8.0 layout.
pub const NTO_COF_PIPE: i32 = 0x0400;
/// `_NTO_GLOBAL_CHANNEL`: a bit of a **chid** that makes `ConnectAttach` look the channel up among the
/// system's global channels instead of in the named process. CONFIRMED 0x4000_0000 in 6.x (source and
/// kernel use), 7.x and 8.0 headers (`qnx-abi.md` §2.4, §2.5).
pub const NTO_GLOBAL_CHANNEL: u32 = 0x4000_0000;

/// `_IO_OPENFD_NONE`: a plain re-open (the only xtype `iofunc_openfd_default` accepts).
pub const IO_OPENFD_NONE: u16 = 0;
/// `_IO_OPENFD_PIPE`.
pub const IO_OPENFD_PIPE: u16 = 1;
/// `_IO_OPENFD_ACCEPT`: an xtype the receiver refuses ([`DecodeError::BadXtype`](crate::error::DecodeError::BadXtype)),
/// kept for tests and tools that build such a ticket. (The other special xtypes are not named here.)
pub const IO_OPENFD_ACCEPT: u16 = 3;

/// `_IO_FLAG_RD`: read access in an `_IO_OPENFD` `ioflag` (libc encodes `O_RDONLY + 1`). CONFIRMED 6.x.
pub const IO_FLAG_RD: u32 = 1;
/// `_IO_FLAG_WR`: write access in an `_IO_OPENFD` `ioflag` (libc encodes `O_WRONLY + 1`). CONFIRMED 6.x.
pub const IO_FLAG_WR: u32 = 2;
/// `SH_DENYNO`: the sharing mode libc's `openfd()` sends. CONFIRMED 0x40 in the 6.4 and SDP 7.0
/// `<share.h>` (`qnx-abi.md` §9.6); 8.0 INFERRED the same.
pub const SH_DENYNO: u16 = 0x40;

/// The alignment of a 64-bit integer field (`_Uint64t`, `_Ssize64t`) in a C struct on the target: 8, except
/// on 32-bit x86, where the System V i386 ABI (and so QNX's gcc) aligns it to 4, as Rust does. Only the
/// types holding such a field ([`MsgInfo64`], the 8.0 layouts in [`v8`]) depend on it; their sizes and
/// field offsets are the same either way.
pub(crate) const ALIGN_64BIT_FIELD: usize = if cfg!(target_arch = "x86") { 4 } else { 8 };

/// Checks at compile time that a wire type has the size, alignment and field offsets of its C twin.
macro_rules! assert_layout {
    ($ty:ty, size = $size:expr, align = $align:expr, { $($field:ident = $off:expr),* $(,)? }) => {
        const _: () = {
            assert!(core::mem::size_of::<$ty>() == $size);
            assert!(core::mem::align_of::<$ty>() == $align);
            $( assert!(core::mem::offset_of!($ty, $field) == $off); )*
        };
    };
}
pub(crate) use assert_layout;

/// `struct _msg_info_hdr`: the 28-byte prefix shared by every `_msg_info` variant (QNX 7.0, 7.1, 8.0; the
/// 6.x `_msg_info` starts the same way).
///
/// In a `_server_info` (what `ConnectServerInfo` returns) `nd`, `pid`, `chid` and `scoid` name the
/// server and `coid` the caller's connection.
///
/// | field | offset |
/// |---|---|
/// | `nd` | 0 |
/// | `srcnd` | 4 |
/// | `pid` | 8 |
/// | `tid` | 12 |
/// | `chid` | 16 |
/// | `scoid` | 20 |
/// | `coid` | 24 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "_msg_info_hdr")]
#[repr(C)]
pub struct MsgInfoHdr {
    /// Node descriptor.
    pub nd: u32,
    /// Source node descriptor (unused in a server info).
    pub srcnd: u32,
    /// Process id (the server's, in a server info).
    pub pid: i32,
    /// Thread id (unused in a server info; the article's tickets carry the sender's pid here).
    pub tid: i32,
    /// Channel id.
    pub chid: i32,
    /// Server connection id (ORed with `_NTO_SIDE_CHANNEL` by the kernel).
    pub scoid: i32,
    /// Connection id in the client (the descriptor number).
    pub coid: i32,
}
assert_layout!(MsgInfoHdr, size = 28, align = 4, {
    nd = 0, srcnd = 4, pid = 8, tid = 12, chid = 16, scoid = 20, coid = 24,
});

/// `struct _msg_info32`: what QNX 7.x `io_dup_t`/`io_openfd_t` embed, even for 64-bit processes (and the
/// 6.x `_msg_info`, whose last field was called `reserved`).
///
/// | field | offset |
/// |---|---|
/// | header fields | 0..28 |
/// | `msglen` | 28 |
/// | `srcmsglen` | 32 |
/// | `dstmsglen` | 36 |
/// | `priority` | 40 |
/// | `flags` | 42 |
/// | `type_id` | 44 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "_msg_info32")]
#[repr(C)]
pub struct MsgInfo32 {
    /// Node descriptor.
    pub nd: u32,
    /// Source node descriptor.
    pub srcnd: u32,
    /// Process id.
    pub pid: i32,
    /// Thread id.
    pub tid: i32,
    /// Channel id.
    pub chid: i32,
    /// Server connection id.
    pub scoid: i32,
    /// Client connection id.
    pub coid: i32,
    /// Message length.
    pub msglen: i32,
    /// Source message length.
    pub srcmsglen: i32,
    /// Destination message length.
    pub dstmsglen: i32,
    /// Priority.
    pub priority: i16,
    /// Connection flags (`_NTO_COF_*`), as reported by `ConnectServerInfo`.
    pub flags: i16,
    /// Type id (`reserved` in 6.x).
    pub type_id: u32,
}
assert_layout!(MsgInfo32, size = 48, align = 4, {
    nd = 0, srcnd = 4, pid = 8, tid = 12, chid = 16, scoid = 20, coid = 24,
    msglen = 28, srcmsglen = 32, dstmsglen = 36, priority = 40, flags = 42, type_id = 44,
});

/// `struct _msg_info64`: the `_server_info` that `ConnectServerInfo` fills in a 64-bit process on QNX 7.x
/// and 8.0. It is 64 bytes; the C example of the article passes the 48-byte field of `io_dup_t` instead,
/// which the kernel may overrun. Always fill a zeroed `MsgInfo64` and copy its [`MsgInfoHdr`] prefix.
///
/// | field | offset |
/// |---|---|
/// | header fields | 0..28 |
/// | `priority` | 28 |
/// | `flags` | 30 |
/// | `msglen` | 32 |
/// | `srcmsglen` | 40 |
/// | `dstmsglen` | 48 |
/// | `type_id` | 56 |
/// | `reserved` | 60 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "_msg_info64")]
#[doc(alias = "_server_info")]
#[repr(C)]
pub struct MsgInfo64 {
    /// Node descriptor.
    pub nd: u32,
    /// Source node descriptor.
    pub srcnd: u32,
    /// Process id.
    pub pid: i32,
    /// Thread id.
    pub tid: i32,
    /// Channel id.
    pub chid: i32,
    /// Server connection id.
    pub scoid: i32,
    /// Client connection id.
    pub coid: i32,
    /// Priority.
    pub priority: i16,
    /// Connection flags (`_NTO_COF_*`).
    pub flags: i16,
    /// Message length.
    pub msglen: i64,
    /// Source message length.
    pub srcmsglen: i64,
    /// Destination message length.
    pub dstmsglen: i64,
    /// Type id.
    pub type_id: u32,
    /// Reserved.
    pub reserved: u32,
}
assert_layout!(MsgInfo64, size = 64, align = ALIGN_64BIT_FIELD, {
    nd = 0, srcnd = 4, pid = 8, tid = 12, chid = 16, scoid = 20, coid = 24,
    priority = 28, flags = 30, msglen = 32, srcmsglen = 40, dstmsglen = 48, type_id = 56, reserved = 60,
});

/// `hdr()` for the `_msg_info` variants, which all begin with the header's seven fields.
macro_rules! impl_hdr {
    ($($t:ty),*) => {$(
        impl $t {
            /// The 28-byte header prefix, the only part a ticket carries.
            #[must_use]
            pub const fn hdr(&self) -> MsgInfoHdr {
                MsgInfoHdr {
                    nd: self.nd,
                    srcnd: self.srcnd,
                    pid: self.pid,
                    tid: self.tid,
                    chid: self.chid,
                    scoid: self.scoid,
                    coid: self.coid,
                }
            }
        }
    )*};
}
impl_hdr!(MsgInfo32, MsgInfo64);

impl MsgInfo32 {
    /// A `_msg_info32` whose header is `hdr` and whose other fields are zero.
    #[must_use]
    pub const fn from_hdr(hdr: MsgInfoHdr) -> Self {
        Self {
            nd: hdr.nd,
            srcnd: hdr.srcnd,
            pid: hdr.pid,
            tid: hdr.tid,
            chid: hdr.chid,
            scoid: hdr.scoid,
            coid: hdr.coid,
            msglen: 0,
            srcmsglen: 0,
            dstmsglen: 0,
            priority: 0,
            flags: 0,
            type_id: 0,
        }
    }

    /// This `ConnectServerInfo` answer of a 32-bit process (§1.1, §1.2) as the [`MsgInfo64`] a 64-bit
    /// process gets, which the crate's kernel-call layer returns on every target: every field keeps
    /// its value (the lengths are sign-extended), only the layout changes.
    ///
    /// Reading the 32-bit answer through the 64-bit layout instead would put `msglen` where `priority`
    /// and `flags` are and shift everything after the 28-byte header; tickets copy only that header,
    /// but the `_NTO_COF_DEAD` bit in `flags` would be read from the wrong bytes.
    #[must_use]
    pub const fn widen(self) -> MsgInfo64 {
        MsgInfo64 {
            nd: self.nd,
            srcnd: self.srcnd,
            pid: self.pid,
            tid: self.tid,
            chid: self.chid,
            scoid: self.scoid,
            coid: self.coid,
            priority: self.priority,
            flags: self.flags,
            msglen: self.msglen as i64,
            srcmsglen: self.srcmsglen as i64,
            dstmsglen: self.dstmsglen as i64,
            type_id: self.type_id,
            reserved: 0,
        }
    }
}

/// `struct _io_close` (`io_close_t`): the 4-byte message libc's `close()` sends to the server.
///
/// | field | offset |
/// |---|---|
/// | `type_` | 0 |
/// | `combine_len` | 2 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "_io_close")]
#[doc(alias = "io_close_t")]
#[repr(C)]
pub struct IoClose {
    /// [`IO_CLOSE`].
    pub type_: u16,
    /// Size of this message (4).
    pub combine_len: u16,
}
assert_layout!(IoClose, size = 4, align = 2, { type_ = 0, combine_len = 2 });

impl IoClose {
    /// The message libc's `close()` sends.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            type_: IO_CLOSE,
            combine_len: core::mem::size_of::<Self>() as u16,
        }
    }
}

/// A receive buffer aligned for every wire type, so that parsing a ticket received into it borrows the
/// bytes in place instead of copying them.
///
/// `N` is the capacity in bytes; the default, [`ticket::MAX_LEN`](crate::ticket::MAX_LEN), fits one
/// ticket of either kind of this build's QNX version.
#[derive(FromBytes, KnownLayout, Immutable, Clone, Copy, Debug)]
#[repr(C, align(8))]
pub struct TicketBuf<const N: usize = { crate::ticket::MAX_LEN }> {
    /// The bytes.
    pub bytes: [u8; N],
}

impl<const N: usize> TicketBuf<N> {
    /// A zeroed buffer.
    pub const DEFAULT: Self = Self { bytes: [0; N] };

    /// A zeroed buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self::DEFAULT
    }

    /// The first `len` bytes (all of them if `len` is larger than the buffer).
    #[must_use]
    pub fn filled(&self, len: usize) -> &[u8] {
        self.bytes.get(..len).unwrap_or(&self.bytes)
    }
}

impl<const N: usize> Default for TicketBuf<N> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the layout tests of every module build their messages from.
#[cfg(test)]
pub(crate) mod test_support {
    use super::MsgInfoHdr;

    /// A header with a distinct value in every field a ticket uses (server pid, sender pid in `tid`,
    /// chid, a side-channel scoid, the sender's coid).
    pub(crate) const fn hdr() -> MsgInfoHdr {
        MsgInfoHdr {
            nd: 0,
            srcnd: 0,
            pid: 0x0102_0304,
            tid: 77,
            chid: 1,
            scoid: 0x4000_0002,
            coid: 3,
        }
    }

    /// [`hdr`]'s 28 bytes (little-endian).
    #[rustfmt::skip]
    pub(crate) const HDR_BYTES: [u8; 28] = [
        0, 0, 0, 0, 0, 0, 0, 0,                // nd, srcnd
        0x04, 0x03, 0x02, 0x01,                // pid
        77, 0, 0, 0,                           // tid
        1, 0, 0, 0,                            // chid
        2, 0, 0, 0x40,                         // scoid
        3, 0, 0, 0,                            // coid
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_close_bytes() {
        assert_eq!(IoClose::new().as_bytes(), &[0x16, 0x01, 0x04, 0x00]);
    }

    #[test]
    fn msg_info64_bytes_and_hdr() {
        let info = MsgInfo64 {
            nd: 1,
            srcnd: 2,
            pid: 3,
            tid: 4,
            chid: 5,
            scoid: 6,
            coid: 7,
            priority: 8,
            flags: 9,
            msglen: 10,
            srcmsglen: 11,
            dstmsglen: 12,
            type_id: 13,
            reserved: 14,
        };
        let mut want = [0u8; 64];
        for (i, v) in [1u32, 2, 3, 4, 5, 6, 7].iter().enumerate() {
            want[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        want[28..30].copy_from_slice(&8i16.to_le_bytes());
        want[30..32].copy_from_slice(&9i16.to_le_bytes());
        want[32..40].copy_from_slice(&10i64.to_le_bytes());
        want[40..48].copy_from_slice(&11i64.to_le_bytes());
        want[48..56].copy_from_slice(&12i64.to_le_bytes());
        want[56..60].copy_from_slice(&13u32.to_le_bytes());
        want[60..64].copy_from_slice(&14u32.to_le_bytes());
        assert_eq!(info.as_bytes(), &want);
        assert_eq!(info.hdr().as_bytes(), &want[..28]);
    }

    #[test]
    fn msg_info32_bytes() {
        let hdr = MsgInfoHdr {
            nd: 0,
            srcnd: 0,
            pid: 0x11,
            tid: 0x22,
            chid: 0x33,
            scoid: 0x4000_0044,
            coid: 5,
        };
        let mut info = MsgInfo32::from_hdr(hdr);
        info.priority = -1;
        info.flags = 1;
        let b = info.as_bytes();
        assert_eq!(b.len(), 48);
        assert_eq!(&b[8..12], &[0x11, 0, 0, 0]);
        assert_eq!(&b[12..16], &[0x22, 0, 0, 0]);
        assert_eq!(&b[20..24], &[0x44, 0, 0, 0x40]);
        assert_eq!(&b[28..40], &[0; 12]);
        assert_eq!(&b[40..44], &[0xff, 0xff, 0x01, 0x00]);
        assert_eq!(info.hdr(), hdr);
    }

    #[test]
    fn ticket_buf_is_aligned_for_every_message() {
        assert_eq!(core::mem::align_of::<TicketBuf>(), 8);
        // The default holds either kind of this build's version (a tool reading another version's
        // tickets names its size, e.g. `TicketBuf<72>` for a 7.x openfd).
        assert!(core::mem::size_of::<TicketBuf>() >= core::mem::size_of::<IoOpenfd>());
        assert!(core::mem::size_of::<TicketBuf>() >= core::mem::size_of::<IoDup>());
        assert_eq!(
            crate::ticket::MAX_LEN,
            core::mem::size_of::<IoDup>().max(core::mem::size_of::<IoOpenfd>())
        );
        let buf = TicketBuf::<72>::new();
        assert_eq!(buf.filled(100).len(), 72);
        assert_eq!(buf.filled(3).len(), 3);
    }

    #[test]
    fn server_info_widens_field_by_field() {
        use zerocopy::FromBytes;
        // What a 32-bit kernel writes: the 6.x / `_msg_info32` layout, each field a distinct value.
        let mut raw = [0u8; 48];
        for (k, v) in [
            (0, 1u32),
            (4, 2),
            (8, 77),
            (12, 4),
            (16, 5),
            (20, 0x4000_0006),
            (24, 7),
        ] {
            raw[k..k + 4].copy_from_slice(&v.to_le_bytes());
        }
        raw[28..32].copy_from_slice(&(-8i32).to_le_bytes()); // msglen
        raw[32..36].copy_from_slice(&9i32.to_le_bytes()); // srcmsglen
        raw[36..40].copy_from_slice(&10i32.to_le_bytes()); // dstmsglen
        raw[40..42].copy_from_slice(&11i16.to_le_bytes()); // priority
        raw[42..44].copy_from_slice(&2i16.to_le_bytes()); // flags: _NTO_COF_DEAD
        raw[44..48].copy_from_slice(&13u32.to_le_bytes()); // type_id
        let narrow = MsgInfo32::read_from_bytes(&raw[..]).unwrap();
        let wide = narrow.widen();
        assert_eq!(
            wide,
            MsgInfo64 {
                nd: 1,
                srcnd: 2,
                pid: 77,
                tid: 4,
                chid: 5,
                scoid: 0x4000_0006,
                coid: 7,
                priority: 11,
                flags: 2,
                msglen: -8,
                srcmsglen: 9,
                dstmsglen: 10,
                type_id: 13,
                reserved: 0,
            }
        );
        assert_eq!(wide.hdr(), narrow.hdr());
        // The same bytes read as the 64-bit layout give a different, wrong answer: the trap this avoids.
        let mut as64 = [0u8; 64];
        as64[..48].copy_from_slice(&raw);
        let wrong = MsgInfo64::read_from_bytes(&as64[..]).unwrap();
        assert_ne!(wrong.flags, wide.flags);
        assert_ne!(wrong.msglen, wide.msglen);
    }
}
