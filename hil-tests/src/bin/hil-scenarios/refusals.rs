//! Scenarios on tickets that must be refused: malformed bytes, a sender that has exited, a descriptor
//! the sender closed. Each refusal leaves nothing open.

use crate::fixture::{me, no_fault, refused, ticket, Scratch, CONTENTS};
use crate::util::{fd_count, Ctx as _};
use crate::{ensure, Check, Ctx};
use qnx_fdpass::{receive_fd, DecodeError, Errno, Error, Receiver};

/// Each kind of malformed ticket is refused with its own DecodeError, before any system call.
///
/// Fields are found with `offset_of!` on the crate's wire types, so the corruptions follow the layout of
/// the QNX version being built for (`wire::IoDup` is the 7.x or the 8.0 `io_dup_t`), and each is written
/// as a whole field in native byte order, as the tickets carry them.
pub fn bad_packets(ctx: &Ctx) -> Check {
    use qnx_fdpass::wire::{IoDup, IoOpenfd, IO_COMBINE_FLAG, IO_DUP, IO_OPENFD_ACCEPT};
    use std::mem::{offset_of, size_of};

    let s = Scratch::new("bad", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    // Named recipient: QNX 8.0 refuses to issue for `Recipient::Any`.
    let good = ticket(&mut peer, "dup", &me())?;
    let openfd = ticket(&mut peer, "openfd-r", &me())?;
    let before = fd_count();
    let size = size_of::<IoDup>();
    ensure!(
        good.len() == size,
        "dup ticket is {} bytes, IoDup is {size}",
        good.len()
    );
    ensure!(
        openfd.len() == size_of::<IoOpenfd>(),
        "openfd ticket is {} bytes, IoOpenfd is {}",
        openfd.len(),
        size_of::<IoOpenfd>()
    );
    // `base` with the field at `at` overwritten by `bytes` (a whole field, native byte order).
    let with = |base: &[u8], at: usize, bytes: &[u8]| {
        let mut b = base.to_vec();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    let combined = size as u16 | IO_COMBINE_FLAG;
    #[allow(unused_mut)] // the 7.x-only cases below push more
    let mut cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        (
            "truncated",
            good[..size - 1].to_vec(),
            DecodeError::TooShort {
                need: size,
                got: size - 1,
            },
        ),
        (
            "one byte too many",
            [good.clone(), vec![0]].concat(),
            DecodeError::TooLong {
                max: size,
                got: size + 1,
            },
        ),
        (
            "type _IO_DUP-1",
            with(&good, offset_of!(IoDup, type_), &(IO_DUP - 1).to_ne_bytes()),
            DecodeError::WrongType(IO_DUP - 1),
        ),
        (
            "combine_len with _IO_COMBINE_FLAG",
            with(
                &good,
                offset_of!(IoDup, combine_len),
                &combined.to_ne_bytes(),
            ),
            DecodeError::WrongCombineLen {
                expected: size as u16,
                got: combined,
            },
        ),
        (
            "info.srcnd",
            with(&good, offset_of!(IoDup, info.srcnd), &1u32.to_ne_bytes()),
            DecodeError::ReservedNonZero {
                field: "info.srcnd",
            },
        ),
        (
            "sender pid (info.tid) 0",
            with(&good, offset_of!(IoDup, info.tid), &0i32.to_ne_bytes()),
            DecodeError::BadSender(0),
        ),
        (
            "info.coid -5",
            with(&good, offset_of!(IoDup, info.coid), &(-5i32).to_ne_bytes()),
            DecodeError::BadCoid(-5),
        ),
        (
            "openfd ioflag 0 (no access)",
            with(&openfd, offset_of!(IoOpenfd, ioflag), &0u32.to_ne_bytes()),
            DecodeError::BadAccess(0),
        ),
        (
            "openfd xtype _IO_OPENFD_ACCEPT",
            with(
                &openfd,
                offset_of!(IoOpenfd, xtype),
                &IO_OPENFD_ACCEPT.to_ne_bytes(),
            ),
            DecodeError::BadXtype(IO_OPENFD_ACCEPT),
        ),
    ];
    // QNX 7.x tickets embed the 48-byte `_msg_info32` and a reserved word: those must be zero too.
    #[cfg(any(
        target_env = "nto70",
        target_env = "nto71",
        target_env = "nto71_iosock"
    ))]
    cases.extend([
        (
            "info.msglen",
            with(&good, offset_of!(IoDup, info.msglen), &1i32.to_ne_bytes()),
            DecodeError::ReservedNonZero {
                field: "info.msglen",
            },
        ),
        (
            "reserved",
            with(&good, offset_of!(IoDup, reserved), &1u32.to_ne_bytes()),
            DecodeError::ReservedNonZero { field: "reserved" },
        ),
        (
            "openfd reserved2",
            with(
                &openfd,
                offset_of!(IoOpenfd, reserved2),
                &1u32.to_ne_bytes(),
            ),
            DecodeError::ReservedNonZero { field: "reserved2" },
        ),
    ]);
    let mut wrong = Vec::new();
    for (what, bytes, want) in cases {
        match receive_fd(&bytes) {
            Err(Error::Decode(got)) if got == want => {}
            other => wrong.push(format!("{what}: {other:?}, want Decode({want:?})")),
        }
    }
    ensure!(wrong.is_empty(), "{}", wrong.join("; "));
    ensure!(receive_fd(&[]).is_err(), "an empty packet was accepted");
    // The good tickets the corruptions started from still redeem: each case broke one field only.
    drop(receive_fd(&good).ctx("the uncorrupted dup ticket")?);
    drop(receive_fd(&openfd).ctx("the uncorrupted openfd ticket")?);
    let after = fd_count();
    ensure!(
        after == before,
        "descriptor count {before} before, {after} after the refusals"
    );
    s.finish(peer, ctx)
}

/// A ticket whose sender has exited fails with ESRCH and leaves nothing open.
pub fn dead_sender(ctx: &Ctx) -> Check {
    let s = Scratch::new("dead", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    let t = ticket(&mut peer, "dup", &me())?;
    let mut cached = Receiver::new();
    drop(cached.redeem(&t).ctx("redeem while the sender lives")?);
    peer.finish()?;
    // The sender is gone (reaped): a fresh receiver and one that cached the sender both fail.
    refused(
        receive_fd(&t),
        &[Errno::SRCH],
        "receive_fd after the sender exited",
    )?;
    refused(
        cached.redeem(&t),
        &[Errno::SRCH, Errno::BADF],
        "cached receiver after exit",
    )?;
    drop(cached);
    s.check_fds()?;
    no_fault(ctx)
}

/// A ticket for a descriptor the sender closed fails with EBADF and leaves nothing open.
pub fn closed_fd(ctx: &Ctx) -> Check {
    let s = Scratch::new("closed", CONTENTS)?;
    let mut peer = s.holder("rw")?;
    let t = ticket(&mut peer, "dup", &me())?;
    peer.expect("close", "ok")?;
    refused(
        receive_fd(&t),
        &[Errno::BADF],
        "receive_fd of a closed descriptor",
    )?;
    let mut r = Receiver::new();
    refused(
        r.redeem(&t),
        &[Errno::BADF],
        "Receiver::redeem of a closed descriptor",
    )?;
    drop(r);
    s.finish(peer, ctx)
}
