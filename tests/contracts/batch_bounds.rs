//! Batch lengths at and around every boundary: a `DupBatch` holds up to `N` tickets and says how many; a
//! packet of `k` tickets, or a byte more or less, is redeemed by a receiver taking up to `N`, or refused
//! whole with the error and index the documentation gives, and then nothing is left open.
//!
//! This process issues the tickets for its own file and redeems them (a ticket may name its own
//! issuer). Linux host backend only.

use std::fs::File;

use crate::common::{fd, open_fds};
use qnx_fdpass::wire::IoDup;
use qnx_fdpass::wire::Message;
use qnx_fdpass::{
    BatchError, DecodeError, DupBatch, DupTicket, Error, OwnedFd, Receiver, Recipient,
};

const SIZE: usize = IoDup::SIZE;

fn ticket(f: &File) -> DupTicket {
    DupTicket::new(fd(f), Recipient::Any).unwrap()
}

/// `k` tickets for `f` back to back, as a `DupBatch` would send them.
fn packet(f: &File, k: usize) -> Vec<u8> {
    let t = ticket(f);
    t.as_bytes().repeat(k)
}

fn same_file(got: &OwnedFd, f: &File) -> bool {
    let got = crate::common::sys_fd(qnx_fdpass::fd::AsRawFd::as_raw_fd(got));
    crate::common::file_id(&got) == crate::common::file_id(f)
}

#[test]
fn batch_counts_its_tickets_up_to_n() {
    let _g = crate::common::serial();
    let f = File::open("Cargo.toml").unwrap();
    let mut b = DupBatch::<3>::new();
    assert_eq!((b.len(), b.is_empty()), (0, true));
    assert!(b.as_bytes().is_empty());
    for n in 1..=3 {
        b.push(ticket(&f)).unwrap();
        assert_eq!((b.len(), b.is_empty()), (n, false));
        assert_eq!(b.as_bytes().len(), n * SIZE);
    }
    let back = b.push(ticket(&f)).unwrap_err();
    assert_eq!(
        back.as_bytes(),
        ticket(&f).as_bytes(),
        "the ticket comes back"
    );
    assert_eq!((b.len(), b.is_empty()), (3, false));
    assert_eq!(b.as_bytes(), &packet(&f, 3)[..]);

    let mut one = DupBatch::<1>::new();
    assert!(one.is_empty());
    one.push(ticket(&f)).unwrap();
    assert_eq!((one.len(), one.is_empty()), (1, false));
    assert!(one.push(ticket(&f)).is_err());

    let mut none = DupBatch::<0>::new();
    assert!(none.push(ticket(&f)).is_err());
    assert_eq!((none.len(), none.is_empty()), (0, true));
}

/// What `redeem_batch::<N>` must answer for a packet of `len` bytes of whole tickets.
fn expected(len: usize, n: usize) -> Result<usize, BatchError> {
    let count = len / SIZE;
    let rest = len % SIZE;
    let err = |index, error| Err(BatchError::new(index, Error::Decode(error)));
    if len < SIZE {
        err(
            0,
            DecodeError::TooShort {
                need: SIZE,
                got: len,
            },
        )
    } else if count > n {
        err(
            n,
            DecodeError::TooLong {
                max: n * SIZE,
                got: len,
            },
        )
    } else if rest != 0 {
        err(
            count,
            DecodeError::TooShort {
                need: SIZE,
                got: rest,
            },
        )
    } else {
        Ok(count)
    }
}

fn check<const N: usize>(f: &File) {
    let mut r = Receiver::new();
    // Warm the receiver's pidfd cache, so the descriptor table is the same before and after each batch.
    drop(r.redeem(ticket(f).as_bytes()).unwrap());
    for k in 0..=N + 2 {
        let whole = packet(f, k + 1);
        for len in [k * SIZE, (k * SIZE).saturating_sub(1), k * SIZE + 1] {
            let bytes = &whole[..len];
            let before = open_fds();
            let got = r.redeem_batch::<N>(bytes);
            match (got, expected(len, N)) {
                (Ok(fds), Ok(count)) => {
                    assert_eq!(fds.len(), count, "N={N} len={len}");
                    assert!(fds.iter().all(|d| same_file(d, f)), "N={N} len={len}");
                }
                (Err(e), Err(want)) => {
                    assert_eq!(e, want, "N={N} len={len}");
                    assert_eq!(open_fds(), before, "N={N} len={len}: left open");
                }
                (got, want) => panic!(
                    "N={N} len={len}: got {:?}, expected {want:?}",
                    got.map(|v| v.len())
                ),
            }
            assert_eq!(
                open_fds(),
                before,
                "N={N} len={len}: the batch's descriptors closed"
            );
        }
    }
}

#[test]
fn packets_at_and_around_every_length_boundary() {
    let _g = crate::common::serial();
    let f = File::open("Cargo.toml").unwrap();
    check::<0>(&f);
    check::<1>(&f);
    check::<2>(&f);
    check::<4>(&f);
}

/// The expectations above, against the values written out for `N = 2` (ticket size `S`).
#[test]
fn the_expected_answers() {
    let _g = crate::common::serial();
    let e = |index, error| Err(BatchError::new(index, Error::Decode(error)));
    assert_eq!(
        expected(0, 2),
        e(0, DecodeError::TooShort { need: SIZE, got: 0 })
    );
    assert_eq!(
        expected(SIZE - 1, 2),
        e(
            0,
            DecodeError::TooShort {
                need: SIZE,
                got: SIZE - 1
            }
        )
    );
    assert_eq!(expected(SIZE, 2), Ok(1));
    assert_eq!(
        expected(SIZE + 1, 2),
        e(1, DecodeError::TooShort { need: SIZE, got: 1 })
    );
    assert_eq!(expected(2 * SIZE, 2), Ok(2));
    assert_eq!(
        expected(2 * SIZE + 1, 2),
        e(2, DecodeError::TooShort { need: SIZE, got: 1 })
    );
    assert_eq!(
        expected(3 * SIZE - 1, 2),
        e(
            2,
            DecodeError::TooShort {
                need: SIZE,
                got: SIZE - 1
            }
        )
    );
    assert_eq!(
        expected(3 * SIZE, 2),
        e(
            2,
            DecodeError::TooLong {
                max: 2 * SIZE,
                got: 3 * SIZE
            }
        )
    );
}
