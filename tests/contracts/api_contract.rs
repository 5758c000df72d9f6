//! Small promises of the public API that no other test pins down: what `send_fd` returns for each
//! answer of its sink, that a ticket's `message()` is the message its bytes are, that `close` reports what the
//! close answered, and that `getpid` is this process's pid. Linux host backend only.

use std::fs::File;
use std::os::fd::AsRawFd;

use crate::common::fd;
use qnx_fdpass::fd::FromRawFd;
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{IoDup, IoOpenfd};
use qnx_fdpass::{
    close, getpid, send_fd, withdraw, Access, DecodeError, DupTicket, Errno, Error, Issuer,
    OpenfdTicket, OwnedFd, Receiver, Recipient, SendError, Timeout,
};
use zerocopy::{FromBytes, IntoBytes};

/// `send_fd` hands the sink the ticket's bytes once; an `Ok(())` from it is `Ok(())`, an `Err` comes
/// back as `SendError::Sink` (the ticket withdrawn).
#[test]
fn send_fd_returns_what_the_sink_returned() {
    let _g = crate::common::serial();
    let f = File::open("Cargo.toml").unwrap();
    let reference = DupTicket::new(fd(&f), Recipient::Any).unwrap();
    let mut seen = Vec::new();
    let r = send_fd(fd(&f), Recipient::Any, |b: &[u8]| {
        seen = b.to_vec();
        Err(Errno::PIPE)
    });
    assert_eq!(r, Err(SendError::Sink(Errno::PIPE)));
    assert_eq!(seen, reference.as_bytes());
    let mut calls = 0;
    assert_eq!(
        send_fd(fd(&f), Recipient::Any, |b: &[u8]| -> Result<(), ()> {
            calls += 1;
            assert_eq!(b.len(), IoDup::SIZE);
            Ok(())
        }),
        Ok(())
    );
    assert_eq!(calls, 1);
    reference.withdraw().unwrap();
}

#[test]
fn a_tickets_message_is_the_message_its_bytes_are() {
    let _g = crate::common::serial();
    let f = File::open("Cargo.toml").unwrap();
    let d = DupTicket::new(fd(&f), Recipient::Any).unwrap();
    assert_eq!(d.message().as_bytes(), d.as_bytes());
    assert_eq!(*d.message(), IoDup::read_from_bytes(d.as_bytes()).unwrap());
    assert_eq!(d.message().info.tid, std::process::id() as i32);
    assert_eq!(d.message().info.coid, f.as_raw_fd());
    let o = OpenfdTicket::new(fd(&f), Access::Read, Recipient::Any).unwrap();
    assert_eq!(o.message().as_bytes(), o.as_bytes());
    assert_eq!(
        *o.message(),
        IoOpenfd::read_from_bytes(o.as_bytes()).unwrap()
    );
    assert_eq!(o.message().info.coid, f.as_raw_fd());
}

#[test]
fn getpid_is_this_process() {
    let _g = crate::common::serial();
    assert_eq!(getpid(), std::process::id() as i32);
    assert_eq!(Issuer::new().unwrap().pid(), std::process::id() as i32);
}

/// `close` closes, and reports the close's answer: `EBADF` for a number that was not open (where
/// dropping the `OwnedFd` would say nothing).
#[test]
fn close_reports_what_the_close_answered() {
    let _g = crate::common::serial();
    let open = File::open("Cargo.toml").unwrap();
    let n = std::os::fd::IntoRawFd::into_raw_fd(open);
    // SAFETY: `n` is an open descriptor this test owns and hands over.
    let owned = unsafe { OwnedFd::from_raw_fd(n) };
    assert_eq!(close(owned), Ok(()));
    // Closed: the number is free (no other test of this file opens descriptors meanwhile).
    assert_eq!(
        rustix::io::fcntl_getfd(crate::common::sys_fd(n)),
        Err(rustix::io::Errno::BADF)
    );
    // SAFETY: `n` is not open; closing it again is the point (nothing else can own it now: the tests
    // of this file run one at a time and open nothing in between).
    let stale = unsafe { OwnedFd::from_raw_fd(n) };
    assert_eq!(close(stale), Err(Errno::BADF));
}

/// `withdraw(bytes)` takes one ticket or a whole batch packet and refuses anything else before
/// withdrawing any ticket (on the host a well-formed ticket is withdrawn by doing nothing).
#[test]
fn withdraw_from_bytes_takes_a_ticket_or_a_batch_and_nothing_else() {
    let _g = crate::common::serial();
    let f = File::open("Cargo.toml").unwrap();
    let d = DupTicket::new(fd(&f), Recipient::Any).unwrap();
    let o = OpenfdTicket::new(fd(&f), Access::Read, Recipient::Any).unwrap();
    let size = IoDup::SIZE;
    assert_eq!(withdraw(d.as_bytes()), Ok(()));
    assert_eq!(withdraw(o.as_bytes()), Ok(()));
    let two = d.as_bytes().repeat(2);
    assert_eq!(withdraw(&two), Ok(()));
    assert_eq!(
        withdraw(&[]),
        Err(Error::Decode(DecodeError::TooShort { need: 2, got: 0 }))
    );
    let mut one_and_a_byte = d.as_bytes().to_vec();
    one_and_a_byte.push(0);
    assert_eq!(
        withdraw(&one_and_a_byte),
        Err(Error::Decode(DecodeError::TooLong {
            max: size,
            got: size + 1
        }))
    );
    let mut two_and_a_byte = two.clone();
    two_and_a_byte.push(0);
    assert_eq!(
        withdraw(&two_and_a_byte),
        Err(Error::Decode(DecodeError::TooLong {
            max: size,
            got: 2 * size + 1
        }))
    );
    // A batch with a bad second ticket: refused with that ticket's error.
    let mut bad = two;
    bad[size + 16..size + 20].copy_from_slice(&0i32.to_ne_bytes()); // info.tid
    assert_eq!(
        withdraw(&bad),
        Err(Error::Decode(DecodeError::BadSender(0)))
    );
}

/// On the Linux host a redeem never blocks, so a receiver's timeout is accepted and changes nothing:
/// the same ticket redeems, with or without one (the Neutrino behaviour is tested against the kernel
/// double and on the 6.4 guest). A ticket naming this process as its sender is not refused on the host
/// either: its tickets name no server, so `allow_own_server` has nothing to allow.
#[test]
fn a_timeout_is_accepted_on_the_host_and_nothing_blocks() {
    let _g = crate::common::serial();
    let f = File::open("/proc/self/exe").unwrap();
    let ticket = DupTicket::new(fd(&f), Recipient::Any).unwrap();
    let t0 = std::time::Instant::now();
    let bounded = Receiver::new()
        .with_timeout(Timeout::from_nanos(1))
        .redeem(ticket.as_bytes())
        .unwrap();
    let own = Receiver::new()
        .allow_own_server()
        .with_timeout(Timeout::from_millis(1))
        .redeem(ticket.as_bytes())
        .unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    use qnx_fdpass::fd::AsRawFd as Raw;
    assert_ne!(Raw::as_raw_fd(&bounded), Raw::as_raw_fd(&own));
    assert!(qnx_fdpass::receive_fd(ticket.as_bytes()).is_ok());
}

/// Dropping an unsent ticket withdraws nothing, on every version: the ticket types have no drop glue
/// at all (so on QNX 8.0 the `dupfd` registration stays until redeemed, withdrawn, or the descriptor
/// is closed), and on this host backend a dropped ticket's bytes still redeem the descriptor.
#[test]
fn dropping_an_unsent_ticket_leaves_it_redeemable() {
    let _g = crate::common::serial();
    assert!(!std::mem::needs_drop::<DupTicket>());
    assert!(!std::mem::needs_drop::<OpenfdTicket>());
    // A batch's storage (heapless) has a drop, of messages that have none.
    assert!(!std::mem::needs_drop::<IoDup>());
    let f = File::open("Cargo.toml").unwrap();
    let t = DupTicket::new(fd(&f), Recipient::Any).unwrap();
    let bytes = t.as_bytes().to_vec();
    drop(t);
    let mut got = File::from(crate::common::std_fd(
        qnx_fdpass::receive_fd(&bytes).unwrap(),
    ));
    let mut head = String::new();
    std::io::Read::read_to_string(&mut got, &mut head).unwrap();
    assert!(head.starts_with("[workspace]"));
}
