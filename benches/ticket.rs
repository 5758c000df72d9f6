//! Microbenchmarks: building and parsing a ticket, and the library's own work in a redeem, in ns per
//! operation (median, min and max over rounds of many iterations each; the loop and `black_box` are
//! included in every figure).
//!
//! Environment: `FDPASS_BENCH_QUICK=1` (few iterations, for CI), `FDPASS_BENCH_ROUNDS`,
//! `FDPASS_BENCH_ITERS`, `FDPASS_BENCH_ONLY=<part of an operation's name>` (for `valgrind`, whose
//! instruction counts do not depend on the machine's load).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::time::Instant;

use qnx_fdpass::fd::{IntoRawFd, RawFd};
use qnx_fdpass::seams;
use qnx_fdpass::sys::{Kernel, LinuxKernel};
use qnx_fdpass::ticket::parse_as;
use qnx_fdpass::wire::{self, IoDup, Message, MsgInfoHdr, TicketBuf};
use qnx_fdpass::{parse, Access, BorrowedFd, DupTicket, Errno, Issuer, Recipient, Ticket};

/// A host kernel that answers at once and opens nothing: what is left of a redeem is the library's own
/// work (checks, peer lookup, the result container, the rollback bookkeeping).
struct Instant0;

// SAFETY: NOT a real kernel: the numbers it returns are no descriptors of this process. The benchmark
// keeps it sound by never letting one be closed or used: this kernel's `close` does nothing, and every
// descriptor a redeem hands out is turned back into a number (`into_raw_fd`) without being dropped.
unsafe impl Kernel for Instant0 {
    unsafe fn close(&self, _: RawFd) -> Result<(), Errno> {
        Ok(())
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        Ok(4242)
    }
}

// SAFETY: as above.
unsafe impl LinuxKernel for Instant0 {
    fn pidfd_open(&self, _: i32) -> Result<RawFd, Errno> {
        Ok(900)
    }
    unsafe fn pidfd_getfd(&self, _: RawFd, fd: RawFd) -> Result<RawFd, Errno> {
        Ok(1000 + fd)
    }
    unsafe fn access_mode(&self, _: RawFd) -> Result<Access, Errno> {
        Ok(Access::ReadWrite)
    }
    unsafe fn reopen(&self, fd: RawFd, _: Access) -> Result<RawFd, Errno> {
        Ok(fd)
    }
    fn start_time(&self, _: i32) -> Result<u64, Errno> {
        Ok(123_456)
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn bench(name: &str, rounds: usize, iters: usize, mut f: impl FnMut()) {
    if std::env::var("FDPASS_BENCH_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    let mut ns: Vec<f64> = (0..rounds)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..iters {
                f();
            }
            t0.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} |",
        ns[ns.len() / 2],
        ns[0],
        ns[ns.len() - 1]
    );
}

fn main() {
    let quick = std::env::var("FDPASS_BENCH_QUICK").is_ok_and(|v| v != "0");
    let rounds = env_usize("FDPASS_BENCH_ROUNDS").unwrap_or(if quick { 3 } else { 15 });
    let iters = env_usize("FDPASS_BENCH_ITERS").unwrap_or(if quick { 10_000 } else { 2_000_000 });

    let info = MsgInfoHdr {
        tid: 4242,
        coid: 7,
        ..MsgInfoHdr::default()
    };
    let msg = <IoDup as Message>::with_info(info, 123_456);
    let mut aligned = TicketBuf::<72>::new();
    aligned.bytes[..IoDup::SIZE].copy_from_slice(zerocopy_bytes(&msg));
    // The same bytes one byte off alignment: parse copies them into an aligned value.
    let mut unaligned = [0u8; 80];
    unaligned[1..=IoDup::SIZE].copy_from_slice(zerocopy_bytes(&msg));
    let aligned = &aligned.bytes[..IoDup::SIZE];
    let unaligned = &unaligned[1..=IoDup::SIZE];
    assert!(matches!(parse(aligned), Ok(Ticket::Dup(p)) if p.is_borrowed()));
    assert!(matches!(parse(unaligned), Ok(Ticket::Dup(p)) if !p.is_borrowed()));

    println!(
        "ticket: {} bytes ({} layout), {rounds} rounds of {iters} iterations",
        IoDup::SIZE,
        if wire::IS_V8 { "QNX 8.0" } else { "QNX 7.x" }
    );
    println!();
    println!("| operation | median ns/op | min | max |");
    println!("|---|---:|---:|---:|");
    bench("parse + validate (`parse`, aligned)", rounds, iters, || {
        let t = parse(black_box(aligned));
        black_box(matches!(t, Ok(Ticket::Dup(_))));
    });
    bench(
        "parse + validate (`parse_as::<IoDup>`, aligned)",
        rounds,
        iters,
        || {
            black_box(parse_as::<IoDup>(black_box(aligned)).is_ok());
        },
    );
    bench(
        "parse + validate (`parse`, unaligned: copy)",
        rounds,
        iters,
        || {
            let t = parse(black_box(unaligned));
            black_box(matches!(t, Ok(Ticket::Dup(_))));
        },
    );
    let mut wrong = aligned.to_vec();
    wrong[0] ^= 0xff;
    bench("reject a wrong type (`parse`)", rounds, iters, || {
        black_box(parse(black_box(&wrong)).is_err());
    });
    bench(
        "build (`Message::with_info` + `as_bytes`)",
        rounds,
        iters,
        || {
            let m = <IoDup as Message>::with_info(black_box(info), black_box(123_456));
            black_box(zerocopy_bytes(&m)[0]);
        },
    );
    // The redeem path without system calls: one ticket, and a packet of 8 (descriptors 7..15 of the
    // sender). The descriptors handed out are made up, so they are let go of, not closed.
    let mut receiver = seams::Receiver::<4, _>::with_kernel(Instant0);
    bench("redeem one (library work only)", rounds, iters / 4, || {
        let fd = receiver.redeem(black_box(aligned)).unwrap();
        black_box(fd.into_raw_fd());
    });
    let mut packet = TicketBuf::<{ 8 * core::mem::size_of::<IoDup>() }>::new();
    for (i, chunk) in packet.bytes.chunks_exact_mut(IoDup::SIZE).enumerate() {
        let m = <IoDup as Message>::with_info(
            MsgInfoHdr {
                coid: 7 + i as i32,
                ..info
            },
            123_456,
        );
        chunk.copy_from_slice(zerocopy_bytes(&m));
    }
    let packet = packet.filled(8 * IoDup::SIZE);
    bench(
        "redeem a batch of 8 (library work only)",
        rounds,
        iters / 4,
        || {
            let fds = receiver.redeem_batch::<8>(black_box(packet)).unwrap();
            for fd in fds {
                black_box(fd.into_raw_fd());
            }
        },
    );
    // SAFETY: standard input stays open for the whole benchmark (only its number is put in a ticket).
    let fd = unsafe { BorrowedFd::borrow_raw(0) };
    if DupTicket::new(fd, Recipient::Any).is_ok() {
        bench(
            "issue (`DupTicket::new`, with its system calls)",
            rounds,
            iters / 20,
            || {
                black_box(DupTicket::new(black_box(fd), Recipient::Any).is_ok());
            },
        );
        let sender = Issuer::new().unwrap();
        bench(
            "issue (`Issuer::dup`, identity looked up once)",
            rounds,
            iters,
            || {
                black_box(sender.dup(black_box(fd), Recipient::Any).is_ok());
            },
        );
    }
}

fn zerocopy_bytes(m: &IoDup) -> &[u8] {
    // The wire types are `zerocopy::IntoBytes`: their bytes without a `DupTicket` (and its system calls).
    zerocopy::IntoBytes::as_bytes(m)
}
