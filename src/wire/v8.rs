//! QNX 8.0 layouts: `info` is the 28-byte `_msg_info_hdr`, the peer proof a 64-bit `dupfd` handle.
//!
//! Source: `qnx-abi.md` §2.2, §2.3 and §8 (CONFIRMED from the 8.0 headers and docs; offsets computed).

#[cfg(feature = "defmt")]
use defmt::Format;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::message::message;
use super::{assert_layout, MsgInfoHdr, ALIGN_64BIT_FIELD};

/// `io_dup_t` on QNX 8.0 (40 bytes, align 8).
///
/// | field | offset |
/// |---|---|
/// | `type_` | 0 |
/// | `combine_len` | 2 |
/// | `info` | 4 (28 bytes; `info.pid` at 12, `info.tid` at 16, `info.coid` at 28) |
/// | `handle` | 32 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "io_dup_t")]
#[doc(alias = "_io_dup")]
#[repr(C)]
pub struct IoDup {
    /// [`IO_DUP`](super::IO_DUP).
    pub type_: u16,
    /// `size_of::<IoDup>()` (40).
    pub combine_len: u16,
    /// The original connection: server `nd/pid/chid/scoid` and the owner's `coid`.
    pub info: MsgInfoHdr,
    /// `dupfd_handle_t` from `dupfd_register()` (the host backend: the sender's identity token).
    pub handle: u64,
}
assert_layout!(IoDup, size = 40, align = ALIGN_64BIT_FIELD, { type_ = 0, combine_len = 2, info = 4, handle = 32 });
message!(IoDup, dup, handle = true, proof = handle, reserved = []);

/// `io_openfd_t` on QNX 8.0 (48 bytes, align 8).
///
/// | field | offset |
/// |---|---|
/// | `type_` | 0 |
/// | `combine_len` | 2 |
/// | `ioflag` | 4 |
/// | `sflag` | 8 |
/// | `xtype` | 10 |
/// | `info` | 12 (28 bytes) |
/// | `handle` | 40 |
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Clone, Copy, Default, Debug, PartialEq, Eq,
)]
#[cfg_attr(feature = "defmt", derive(Format))]
#[doc(alias = "io_openfd_t")]
#[doc(alias = "_io_openfd")]
#[repr(C)]
pub struct IoOpenfd {
    /// [`IO_OPENFD`](super::IO_OPENFD).
    pub type_: u16,
    /// `size_of::<IoOpenfd>()` (48).
    pub combine_len: u16,
    /// Requested access: [`IO_FLAG_RD`](super::IO_FLAG_RD) | [`IO_FLAG_WR`](super::IO_FLAG_WR).
    pub ioflag: u32,
    /// Sharing mode ([`SH_DENYNO`](super::SH_DENYNO)).
    pub sflag: u16,
    /// `_IO_OPENFD_*` extended type.
    pub xtype: u16,
    /// The original connection.
    pub info: MsgInfoHdr,
    /// `dupfd_handle_t` (the host backend: the sender's identity token).
    pub handle: u64,
}
assert_layout!(IoOpenfd, size = 48, align = ALIGN_64BIT_FIELD, {
    type_ = 0, combine_len = 2, ioflag = 4, sflag = 8, xtype = 10, info = 12, handle = 40,
});
message!(
    IoOpenfd,
    openfd,
    handle = true,
    proof = handle,
    reserved = []
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_support::{hdr, HDR_BYTES};
    use crate::wire::{IO_DUP, IO_OPENFD, SH_DENYNO};

    #[test]
    fn io_dup_bytes() {
        let msg = IoDup {
            type_: IO_DUP,
            combine_len: 40,
            info: hdr(),
            handle: 0x1122_3344_5566_7788,
        };
        #[rustfmt::skip]
        let want: [u8; 40] = [
            0x15, 0x01, 40, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
            0x04, 0x03, 0x02, 0x01,
            77, 0, 0, 0,
            1, 0, 0, 0,
            2, 0, 0, 0x40,
            3, 0, 0, 0,
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        ];
        assert_eq!(msg.as_bytes(), &want);
        assert_eq!(IoDup::read_from_bytes(&want).ok(), Some(msg));
    }

    #[test]
    fn io_openfd_bytes() {
        let msg = IoOpenfd {
            type_: IO_OPENFD,
            combine_len: 48,
            ioflag: 3,
            sflag: SH_DENYNO,
            xtype: 0,
            info: hdr(),
            handle: 9,
        };
        let b = msg.as_bytes();
        let want = [
            &[0x0D, 0x01, 48, 0][..],  // type, combine_len
            &[3, 0, 0, 0],             // ioflag
            &[0x40, 0, 0, 0],          // sflag, xtype
            &HDR_BYTES,                // info
            &[9, 0, 0, 0, 0, 0, 0, 0], // handle
        ]
        .concat();
        assert_eq!(b, &want[..]);
    }
}
