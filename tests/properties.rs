//! Property tests of the ticket format, for the four wire layouts (QNX 7.x and 8.0, dup and openfd).
//!
//! 1. Encode then parse is the identity for every value of every field that a valid ticket may hold.
//! 2. Every single-byte corruption of a valid ticket is either accepted (the byte belongs to a field that
//!    takes any value, or the new value is still valid) or refused with the error that names that field.
//!    The expected error comes from an offset table written here from the C layouts, not from the crate.

use proptest::prelude::*;
use qnx_fdpass::ticket::parse_as;
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{v7, v8, MsgInfoHdr, IO_DUP, IO_OPENFD};
use qnx_fdpass::DecodeError;
use zerocopy::IntoBytes;

/// What a byte range of a message is, and so what corrupting it must do.
#[derive(Clone, Copy, Debug)]
enum Field {
    Type,
    CombineLen,
    /// Must be zero; the error names the field.
    Reserved(&'static str),
    /// `info.nd`: must be 0 (a node number is the sender's; Qnet is not supported).
    Nd,
    /// `info.tid`, the sender pid: must be positive.
    Tid,
    /// `info.coid`: must be in `0..0x4000_0000`.
    Coid,
    /// `ioflag`: read, write or both.
    Ioflag,
    /// `xtype`: must be `_IO_OPENFD_NONE`.
    Xtype,
    /// The 7.x `key`: must be 0 (the crate always issues 0).
    Key,
    /// Any value is accepted (server ids, unused on the host backend these tests run on; `info.flags`,
    /// `sflag`, the 8.0 handle).
    Any,
}

/// `(offset, size, field)` of a `_msg_info_hdr` at `base`.
fn hdr_fields(base: usize) -> Vec<(usize, usize, Field)> {
    vec![
        (base, 4, Field::Nd),                         // nd
        (base + 4, 4, Field::Reserved("info.srcnd")), // srcnd
        (base + 8, 4, Field::Any),                    // pid (the server's)
        (base + 12, 4, Field::Tid),                   // tid (the sender's pid)
        (base + 16, 4, Field::Any),                   // chid
        (base + 20, 4, Field::Any),                   // scoid
        (base + 24, 4, Field::Coid),                  // coid
    ]
}

/// `(offset, size, field)` of a `_msg_info32` at `base`.
fn info32_fields(base: usize) -> Vec<(usize, usize, Field)> {
    let mut f = hdr_fields(base);
    f.extend([
        (base + 28, 4, Field::Reserved("info.msglen")),
        (base + 32, 4, Field::Reserved("info.srcmsglen")),
        (base + 36, 4, Field::Reserved("info.dstmsglen")),
        (base + 40, 2, Field::Reserved("info.priority")),
        (base + 42, 2, Field::Any), // flags: filled by the kernel, ignored
        (base + 44, 4, Field::Reserved("info.type_id")),
    ]);
    f
}

fn openfd_head() -> Vec<(usize, usize, Field)> {
    vec![
        (0, 2, Field::Type),
        (2, 2, Field::CombineLen),
        (4, 4, Field::Ioflag),
        (8, 2, Field::Any), // sflag
        (10, 2, Field::Xtype),
    ]
}

fn table_v7_dup() -> Vec<(usize, usize, Field)> {
    let mut f = vec![(0, 2, Field::Type), (2, 2, Field::CombineLen)];
    f.extend(info32_fields(4));
    f.extend([(52, 4, Field::Reserved("reserved")), (56, 4, Field::Key)]);
    f
}

fn table_v7_openfd() -> Vec<(usize, usize, Field)> {
    let mut f = openfd_head();
    f.extend(info32_fields(12));
    f.extend([(60, 4, Field::Reserved("reserved2")), (64, 4, Field::Key)]);
    f
}

fn table_v8_dup() -> Vec<(usize, usize, Field)> {
    let mut f = vec![(0, 2, Field::Type), (2, 2, Field::CombineLen)];
    f.extend(hdr_fields(4));
    f.push((32, 8, Field::Any)); // handle
    f
}

fn table_v8_openfd() -> Vec<(usize, usize, Field)> {
    let mut f = openfd_head();
    f.extend(hdr_fields(12));
    f.push((40, 8, Field::Any)); // handle
    f
}

/// The table must cover every byte exactly once, or the corruption test would skip bytes.
fn assert_table_covers(table: &[(usize, usize, Field)], size: usize) {
    let mut seen = vec![0u8; size];
    for &(off, len, _) in table {
        for b in &mut seen[off..off + len] {
            *b += 1;
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "table does not tile {size} bytes: {seen:?}"
    );
}

fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |v, &b| (v << 8) | u64::from(b))
}

/// The outcome a message with one corrupted field must have, derived from the field and its new value.
fn expected<M: Message>(
    table: &[(usize, usize, Field)],
    bytes: &[u8],
    offset: usize,
) -> Result<(), DecodeError> {
    let &(off, len, field) = table
        .iter()
        .find(|(o, l, _)| (*o..o + l).contains(&offset))
        .expect("offset in table");
    let v = le(&bytes[off..off + len]);
    match field {
        Field::Type => Err(DecodeError::WrongType(v as u16)),
        Field::CombineLen => Err(DecodeError::WrongCombineLen {
            expected: M::SIZE as u16,
            got: v as u16,
        }),
        Field::Reserved(name) => Err(DecodeError::ReservedNonZero { field: name }),
        Field::Nd if v != 0 => Err(DecodeError::RemoteNode(v as u32)),
        Field::Tid if (v as i32) <= 0 => Err(DecodeError::BadSender(v as i32)),
        Field::Coid if (v as i32) < 0 || v as u32 >= 0x4000_0000 => {
            Err(DecodeError::BadCoid(v as i32))
        }
        // Read, write or both, and beside them only Neutrino's O_SETFLAG status bits (0o100370).
        Field::Ioflag if !(1..=3).contains(&(v & 3)) || v & !(3 | 0o100_370) != 0 => {
            Err(DecodeError::BadAccess(v as u32))
        }
        Field::Xtype => Err(DecodeError::BadXtype(v as u16)),
        Field::Key if v != 0 => Err(DecodeError::NonZeroKey(v as u32)),
        Field::Nd | Field::Tid | Field::Coid | Field::Ioflag | Field::Key | Field::Any => Ok(()),
    }
}

fn valid_hdr() -> impl Strategy<Value = MsgInfoHdr> {
    (
        Just(0u32), // nd: local tickets only
        any::<i32>(),
        1..=i32::MAX,
        any::<i32>(),
        any::<i32>(),
        0..0x4000_0000i32,
    )
        .prop_map(|(nd, pid, tid, chid, scoid, coid)| MsgInfoHdr {
            nd,
            srcnd: 0,
            pid,
            tid,
            chid,
            scoid,
            coid,
        })
}

/// Fields outside `info` and the proof that a valid ticket may carry: `ioflag`, `sflag`, `info.flags`.
#[derive(Clone, Copy, Debug)]
struct Extra {
    ioflag: u32,
    sflag: u16,
    flags: i16,
}

fn extra() -> impl Strategy<Value = Extra> {
    (1..=3u32, any::<u16>(), any::<i16>()).prop_map(|(ioflag, sflag, flags)| Extra {
        ioflag,
        sflag,
        flags,
    })
}

/// A valid 7.x ticket: its key is always 0, whatever `proof` the strategy drew.
fn build_v7_dup(h: MsgInfoHdr, _proof: u64, x: Extra) -> v7::IoDup {
    let mut m = v7::IoDup::with_info(h, 0);
    m.info.flags = x.flags;
    m
}
fn build_v7_openfd(h: MsgInfoHdr, _proof: u64, x: Extra) -> v7::IoOpenfd {
    let mut m = v7::IoOpenfd::with_info(h, 0);
    m.info.flags = x.flags;
    m.ioflag = x.ioflag;
    m.sflag = x.sflag;
    m
}
fn build_v8_dup(h: MsgInfoHdr, proof: u64, _: Extra) -> v8::IoDup {
    v8::IoDup::with_info(h, proof)
}
fn build_v8_openfd(h: MsgInfoHdr, proof: u64, x: Extra) -> v8::IoOpenfd {
    let mut m = v8::IoOpenfd::with_info(h, proof);
    m.ioflag = x.ioflag;
    m.sflag = x.sflag;
    m
}

/// Encode, parse (aligned and at an odd address), compare.
fn roundtrip<M: Message + PartialEq>(m: M, h: MsgInfoHdr, proof: u64) -> Result<(), TestCaseError> {
    let bytes = m.as_bytes();
    prop_assert_eq!(bytes.len(), M::SIZE);
    prop_assert_eq!(m.type_(), M::TYPE);
    prop_assert_eq!(usize::from(m.combine_len()), M::SIZE);
    // An 8-aligned buffer, then the same bytes one byte off.
    let mut buf = [0u64; 10];
    buf.as_mut_bytes()[..M::SIZE].copy_from_slice(bytes);
    let parsed = parse_as::<M>(&buf.as_bytes()[..M::SIZE])
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert!(parsed.is_borrowed());
    prop_assert_eq!(*parsed, m);
    prop_assert_eq!(parsed.as_bytes(), bytes);
    prop_assert_eq!(parsed.info(), h);
    let want_proof = if M::HANDLE { proof } else { 0 };
    prop_assert_eq!(parsed.proof(), want_proof);
    let mut odd = [0u64; 11];
    odd.as_mut_bytes()[1..=M::SIZE].copy_from_slice(bytes);
    let copied = parse_as::<M>(&odd.as_bytes()[1..=M::SIZE])
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert!(!copied.is_borrowed());
    prop_assert_eq!(*copied, m);
    Ok(())
}

/// Corrupts byte `offset` of `m` to `value` (if that changes it) and compares with the table.
fn corrupt<M: Message>(
    m: M,
    table: &[(usize, usize, Field)],
    offset: usize,
    value: u8,
) -> Result<(), TestCaseError> {
    let offset = offset % M::SIZE;
    let mut bytes = m.as_bytes().to_vec();
    prop_assume!(bytes[offset] != value);
    bytes[offset] = value;
    let want = expected::<M>(table, &bytes, offset);
    let got = parse_as::<M>(&bytes).map(|_| ());
    prop_assert_eq!(got, want, "offset {} value {:#04x}", offset, value);
    Ok(())
}

#[test]
fn tables_tile_the_layouts() {
    assert_table_covers(&table_v7_dup(), v7::IoDup::SIZE);
    assert_table_covers(&table_v7_openfd(), v7::IoOpenfd::SIZE);
    assert_table_covers(&table_v8_dup(), v8::IoDup::SIZE);
    assert_table_covers(&table_v8_openfd(), v8::IoOpenfd::SIZE);
    assert_eq!(v7::IoDup::TYPE, IO_DUP);
    assert_eq!(v8::IoOpenfd::TYPE, IO_OPENFD);
}

/// Every offset and every byte value, exhaustively, on one valid ticket of each layout: 256 × size cases.
fn exhaustive<M: Message>(m: M, table: &[(usize, usize, Field)]) {
    let mut refused = 0;
    for offset in 0..M::SIZE {
        for value in 0..=255u8 {
            let mut bytes = m.as_bytes().to_vec();
            if bytes[offset] == value {
                continue;
            }
            bytes[offset] = value;
            let want = expected::<M>(table, &bytes, offset);
            assert_eq!(
                parse_as::<M>(&bytes).map(|_| ()),
                want,
                "offset {offset} value {value:#04x}"
            );
            refused += usize::from(want.is_err());
        }
    }
    // Sanity: the type, combine_len and the reserved bytes alone refuse thousands of corruptions.
    assert!(refused > 2000, "only {refused} corruptions refused");
}

#[test]
fn every_single_byte_corruption_exhaustive() {
    let h = MsgInfoHdr {
        nd: 0,
        srcnd: 0,
        pid: 7,
        tid: 1234,
        chid: 1,
        scoid: 0x4000_0003,
        coid: 5,
    };
    let x = Extra {
        ioflag: 1,
        sflag: 0x40,
        flags: 1,
    };
    exhaustive(build_v7_dup(h, 0xdead_beef, x), &table_v7_dup());
    exhaustive(build_v7_openfd(h, 0xdead_beef, x), &table_v7_openfd());
    exhaustive(build_v8_dup(h, 0x1122_3344_5566_7788, x), &table_v8_dup());
    exhaustive(
        build_v8_openfd(h, 0x1122_3344_5566_7788, x),
        &table_v8_openfd(),
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Integration tests have no lib.rs to put regression files next to; failures print the input.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn roundtrip_v7_dup(h in valid_hdr(), proof in any::<u64>(), x in extra()) {
        roundtrip(build_v7_dup(h, proof, x), h, proof)?;
    }

    #[test]
    fn roundtrip_v7_openfd(h in valid_hdr(), proof in any::<u64>(), x in extra()) {
        let m = build_v7_openfd(h, proof, x);
        prop_assert_eq!(m.ioflag, x.ioflag);
        roundtrip(m, h, proof)?;
    }

    #[test]
    fn roundtrip_v8_dup(h in valid_hdr(), proof in any::<u64>(), x in extra()) {
        roundtrip(build_v8_dup(h, proof, x), h, proof)?;
    }

    #[test]
    fn roundtrip_v8_openfd(h in valid_hdr(), proof in any::<u64>(), x in extra()) {
        roundtrip(build_v8_openfd(h, proof, x), h, proof)?;
    }

    #[test]
    fn corruption_v7_dup(h in valid_hdr(), proof in any::<u64>(), x in extra(), off in any::<usize>(), v in any::<u8>()) {
        corrupt(build_v7_dup(h, proof, x), &table_v7_dup(), off, v)?;
    }

    #[test]
    fn corruption_v7_openfd(h in valid_hdr(), proof in any::<u64>(), x in extra(), off in any::<usize>(), v in any::<u8>()) {
        corrupt(build_v7_openfd(h, proof, x), &table_v7_openfd(), off, v)?;
    }

    #[test]
    fn corruption_v8_dup(h in valid_hdr(), proof in any::<u64>(), x in extra(), off in any::<usize>(), v in any::<u8>()) {
        corrupt(build_v8_dup(h, proof, x), &table_v8_dup(), off, v)?;
    }

    #[test]
    fn corruption_v8_openfd(h in valid_hdr(), proof in any::<u64>(), x in extra(), off in any::<usize>(), v in any::<u8>()) {
        corrupt(build_v8_openfd(h, proof, x), &table_v8_openfd(), off, v)?;
    }

    /// Whatever bytes the parser accepts are a message that re-encodes to exactly those bytes.
    #[test]
    fn accepted_bytes_reencode(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(t) = qnx_fdpass::parse(&bytes) {
            let re = match t {
                qnx_fdpass::Ticket::Dup(m) => m.as_bytes().to_vec(),
                qnx_fdpass::Ticket::Openfd(m) => m.as_bytes().to_vec(),
            };
            prop_assert_eq!(re, bytes);
        }
    }
}
