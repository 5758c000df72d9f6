//! QNX 6.x, 7.0 and 7.1 layouts: `info` is the 48-byte `_msg_info32`, the peer proof a `MsgKeyData` key.
//!
//! Source: `qnx-abi.md` §2.2 and §2.3 (CONFIRMED from the 6.x, 7.0 and 7.1 headers; offsets computed).

#[cfg(feature = "defmt")]
use defmt::Format;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::message::message;
use super::{assert_layout, MsgInfo32};

/// `io_dup_t` on QNX 6.x/7.0/7.1 (60 bytes, align 4).
///
/// | field | offset |
/// |---|---|
/// | `type_` | 0 |
/// | `combine_len` | 2 |
/// | `info` | 4 (48 bytes; `info.pid` at 12, `info.tid` at 16, `info.coid` at 28) |
/// | `reserved` | 52 |
/// | `key` | 56 |
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
    /// `size_of::<IoDup>()` (60).
    pub combine_len: u16,
    /// The original connection: server `nd/pid/chid/scoid` and the owner's `coid`.
    pub info: MsgInfo32,
    /// Reserved, zero.
    pub reserved: u32,
    /// `MsgKeyData` key authorising the dup, or 0.
    pub key: u32,
}
assert_layout!(IoDup, size = 60, align = 4, { type_ = 0, combine_len = 2, info = 4, reserved = 52, key = 56 });
message!(
    IoDup,
    dup,
    handle = false,
    proof = key,
    reserved = [reserved]
);

/// `io_openfd_t` on QNX 6.x/7.0/7.1 (68 bytes, align 4).
///
/// | field | offset |
/// |---|---|
/// | `type_` | 0 |
/// | `combine_len` | 2 |
/// | `ioflag` | 4 |
/// | `sflag` | 8 |
/// | `xtype` | 10 |
/// | `info` | 12 (48 bytes) |
/// | `reserved2` | 60 |
/// | `key` | 64 |
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
    /// `size_of::<IoOpenfd>()` (68).
    pub combine_len: u16,
    /// Requested access: [`IO_FLAG_RD`](super::IO_FLAG_RD) | [`IO_FLAG_WR`](super::IO_FLAG_WR).
    pub ioflag: u32,
    /// Sharing mode ([`SH_DENYNO`](super::SH_DENYNO)).
    pub sflag: u16,
    /// `_IO_OPENFD_*` extended type.
    pub xtype: u16,
    /// The original connection.
    pub info: MsgInfo32,
    /// Reserved, zero.
    pub reserved2: u32,
    /// `MsgKeyData` key, or 0.
    pub key: u32,
}
assert_layout!(IoOpenfd, size = 68, align = 4, {
    type_ = 0, combine_len = 2, ioflag = 4, sflag = 8, xtype = 10, info = 12, reserved2 = 60, key = 64,
});
message!(
    IoOpenfd,
    openfd,
    handle = false,
    proof = key,
    reserved = [reserved2]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_support::{hdr, HDR_BYTES};
    use crate::wire::{IO_DUP, IO_OPENFD, IO_OPENFD_NONE, SH_DENYNO};

    #[test]
    fn io_dup_bytes() {
        let msg = IoDup {
            type_: IO_DUP,
            combine_len: 60,
            info: MsgInfo32::from_hdr(hdr()),
            reserved: 0,
            key: 0xAABB_CCDD,
        };
        let want = [
            &[0x15, 0x01, 60, 0][..],  // type, combine_len
            &HDR_BYTES,                // info: the header ...
            &[0; 20],                  // ... msglen, srcmsglen, dstmsglen, priority, flags, type_id
            &[0; 4],                   // reserved
            &[0xDD, 0xCC, 0xBB, 0xAA], // key
        ]
        .concat();
        assert_eq!(msg.as_bytes(), &want[..]);
        assert_eq!(IoDup::read_from_bytes(&want).ok(), Some(msg));
    }

    #[test]
    fn io_openfd_bytes() {
        let msg = IoOpenfd {
            type_: IO_OPENFD,
            combine_len: 68,
            ioflag: 1,
            sflag: SH_DENYNO,
            xtype: IO_OPENFD_NONE,
            info: MsgInfo32::from_hdr(hdr()),
            reserved2: 0,
            key: 0,
        };
        let b = msg.as_bytes();
        assert_eq!(b.len(), 68);
        assert_eq!(&b[..12], &[0x0D, 0x01, 68, 0, 1, 0, 0, 0, 0x40, 0, 0, 0]);
        assert_eq!(&b[20..24], &[0x04, 0x03, 0x02, 0x01]); // info.pid
        assert_eq!(&b[24..28], &[77, 0, 0, 0]); // info.tid
        assert_eq!(&b[36..40], &[3, 0, 0, 0]); // info.coid
        assert_eq!(&b[60..68], &[0; 8]);
    }
}
