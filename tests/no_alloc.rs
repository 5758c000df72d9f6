//! Zero heap allocations on every path, counted by a global allocator: issuing (also through a
//! an `Issuer`), redeeming (cached peer and stateless, general and dup-only), batches, and parsing good and
//! bad tickets. Linux host backend.
//!
//! Only allocations made by the test's own thread while it is measuring are counted (the harness
//! allocates on other threads meanwhile).

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs::File;

use qnx_fdpass::ticket::parse_as;
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{IoDup, MsgInfoHdr, TicketBuf};
mod common;

use qnx_fdpass::{
    parse, receive_fd, send_fd, Access, DupBatch, DupTicket, Issuer, OpenfdTicket, Receiver,
    Recipient,
};

struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    // Per thread, like the switch: a global counter would also see the allocations that tests on
    // other threads make while this one measures (seen as a flaky failure).
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may already be gone while a thread exits.
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments unchanged; the
// counting touches only const-initialised thread-locals, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`; `ptr` came from this allocator, which is `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations this thread made meanwhile.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    MEASURING.with(|m| m.set(true));
    let r = f();
    MEASURING.with(|m| m.set(false));
    (ALLOCS.with(Cell::get) - before, r)
}

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| vec![1u8; 16]);
    assert_eq!(n, 1, "the counting allocator must see a Vec's allocation");
    drop(v);
}

#[test]
fn every_path_allocates_nothing() {
    let file = File::open("/dev/null").unwrap();
    let fd = common::fd(&file);

    // Issue: the first call also reads and caches this process's start time.
    let (n, dup) = allocations(|| DupTicket::new(fd, Recipient::Any).unwrap());
    assert_eq!(n, 0, "DupTicket::new (first: reads /proc/self/stat)");
    let (n, _) = allocations(|| DupTicket::new(fd, Recipient::Any).unwrap());
    assert_eq!(n, 0, "DupTicket::new (cached identity)");
    let (n, openfd) = allocations(|| OpenfdTicket::new(fd, Access::Read, Recipient::Any).unwrap());
    assert_eq!(n, 0, "OpenfdTicket::new");
    let (n, issuer) = allocations(|| Issuer::new().unwrap());
    assert_eq!(n, 0, "Issuer::new");
    let (n, _) = allocations(|| issuer.dup(fd, Recipient::Any).unwrap());
    assert_eq!(n, 0, "Issuer::dup");
    let (n, _) = allocations(|| issuer.openfd(fd, Access::Read, Recipient::Any).unwrap());
    assert_eq!(n, 0, "Issuer::openfd");
    let mut len = 0;
    let (n, sent) = allocations(|| {
        send_fd(fd, Recipient::Any, |t| -> Result<(), ()> {
            len = t.len();
            Ok(())
        })
    });
    assert_eq!(n, 0, "send_fd");
    assert_eq!((sent, len), (Ok(()), IoDup::SIZE));
    let (n, sent) = allocations(|| send_fd(fd, Recipient::Any, |_| Err(qnx_fdpass::Errno::PIPE)));
    assert_eq!(n, 0, "send_fd, sink failed (withdrawn)");
    assert_eq!(
        sent,
        Err(qnx_fdpass::SendError::Sink(qnx_fdpass::Errno::PIPE))
    );

    // Receive into an aligned buffer, as the docs advise.
    let mut buf = TicketBuf::<{ qnx_fdpass::ticket::MAX_LEN }>::new();
    buf.bytes[..IoDup::SIZE].copy_from_slice(dup.as_bytes());
    let bytes = buf.filled(IoDup::SIZE);

    // Parse, good and bad, aligned and not.
    let (n, ok) = allocations(|| parse(bytes).is_ok() && parse_as::<IoDup>(bytes).is_ok());
    assert_eq!(n, 0, "parse");
    assert!(ok);
    let mut odd = [0u8; 80];
    odd[1..=IoDup::SIZE].copy_from_slice(bytes);
    let (n, ok) = allocations(|| parse(&odd[1..=IoDup::SIZE]).is_ok());
    assert_eq!(n, 0, "parse, unaligned (copy)");
    assert!(ok);
    let (n, errs) = allocations(|| {
        let mut bad = [0u8; 40];
        bad.copy_from_slice(bytes);
        bad[0] ^= 0xff;
        [
            parse(&bad).is_err(),
            parse(&bytes[..10]).is_err(),
            parse(&[]).is_err(),
            // The error's Display goes through core::fmt into a fixed buffer, not a String.
            {
                use std::fmt::Write as _;
                let mut s = heapless_str::<128>();
                write!(s, "{}", parse(&bad).unwrap_err()).is_ok()
            },
        ]
    });
    assert_eq!(n, 0, "parse errors");
    assert_eq!(errs, [true; 4]);

    // Redeem: a new peer (pidfd_open, /proc/<pid>/stat), then the cached peer, then stateless.
    let mut receiver = Receiver::new();
    let (n, r) = allocations(|| receiver.redeem(bytes).map(drop));
    assert_eq!(n, 0, "Receiver::redeem (new peer)");
    r.unwrap();
    let (n, r) = allocations(|| receiver.redeem(bytes).map(drop));
    assert_eq!(n, 0, "Receiver::redeem (cached peer)");
    r.unwrap();
    let (n, r) = allocations(|| receive_fd(bytes).map(drop));
    assert_eq!(n, 0, "receive_fd");
    r.unwrap();
    let (n, r) = allocations(|| receiver.redeem_dup(bytes).map(drop));
    assert_eq!(n, 0, "Receiver::redeem_dup (cached peer)");
    r.unwrap();
    let (n, r) = allocations(|| Receiver::new().redeem_dup(bytes).map(drop));
    assert_eq!(n, 0, "Receiver::<0>::redeem_dup (stateless)");
    r.unwrap();
    let (n, r) = allocations(|| receiver.redeem_dup(openfd.as_bytes()).map(drop));
    assert_eq!(n, 0, "Receiver::redeem_dup (refusing an openfd ticket)");
    assert!(r.is_err());
    let (n, r) = allocations(|| receiver.redeem(openfd.as_bytes()).map(drop));
    assert_eq!(n, 0, "Receiver::redeem (openfd)");
    r.unwrap();

    // Batches: build, redeem all-or-nothing, and fail half way (the first tickets are closed again).
    let (n, batch) = allocations(|| {
        let mut b = DupBatch::<8>::new();
        for _ in 0..8 {
            b.push(DupTicket::new(fd, Recipient::Any).unwrap()).unwrap();
        }
        b
    });
    assert_eq!(n, 0, "DupBatch::push");
    let mut packet = TicketBuf::<320>::new();
    packet.bytes.copy_from_slice(batch.as_bytes());
    let (n, r) = allocations(|| receiver.redeem_batch::<8>(&packet.bytes).map(|v| v.len()));
    assert_eq!(n, 0, "redeem_batch");
    assert_eq!(r.unwrap(), 8);
    let (n, r) = allocations(|| {
        receiver
            .redeem_batch::<8>(&packet.bytes)
            .map(|v| v.into_iter().count())
    });
    assert_eq!(n, 0, "redeem_batch, iterated by value");
    assert_eq!(r.unwrap(), 8);
    let mut broken = packet;
    // The last ticket names a descriptor this process does not have.
    let coid_at = 7 * IoDup::SIZE
        + core::mem::offset_of!(IoDup, info)
        + core::mem::offset_of!(MsgInfoHdr, coid);
    broken.bytes[coid_at..coid_at + 4].copy_from_slice(&1_000_000i32.to_ne_bytes());
    let (n, r) = allocations(|| receiver.redeem_batch::<8>(&broken.bytes).map(|v| v.len()));
    assert_eq!(n, 0, "redeem_batch (failing at the last ticket)");
    assert_eq!(r.unwrap_err().index, 7);

    let (n, ()) = allocations(|| drop(receiver));
    assert_eq!(n, 0, "Receiver drop");
}

/// A fixed-capacity string for formatting without the heap.
struct FixedStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

fn heapless_str<const N: usize>() -> FixedStr<N> {
    FixedStr {
        buf: [0; N],
        len: 0,
    }
}

impl<const N: usize> std::fmt::Write for FixedStr<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
