//! `Issuer` (formerly `Sender`): the identity is looked up once, so a dup ticket costs no system call; the tickets are the
//! ones `DupTicket::new` / `OpenfdTicket::new` make, and they redeem to the right file. Linux host
//! backend only.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::fs::File;

use qnx_fdpass::seams;
use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::sys::FailAt;
use qnx_fdpass::{Access, DupTicket, Errno, Error, Issuer, OpenfdTicket, Receiver, Recipient};

#[test]
fn dup_tickets_cost_no_system_call_and_match_dup_ticket_new() {
    let file = File::open("Cargo.toml").unwrap();
    let fd = common::fd(&file);

    // Counts every call, `getpid` and `close` included.
    let calls = Cell::new(0usize);
    let sender = seams::Issuer::with_kernel(common::Tap(|_| calls.set(calls.get() + 1))).unwrap();
    let made = calls.get();
    assert!(
        (1..=2).contains(&made),
        "getpid, and the start time unless cached: {made}"
    );
    assert_eq!(sender.pid(), std::process::id() as i32);
    let reference = DupTicket::new(fd, Recipient::Any).unwrap();
    for _ in 0..100 {
        let t = sender.dup(fd, Recipient::Any).unwrap();
        assert_eq!(t.as_bytes(), reference.as_bytes());
    }
    assert_eq!(calls.get(), made, "no call per dup ticket");

    // Openfd tickets keep their access check, and only that.
    let o = sender.openfd(fd, Access::Read, Recipient::Any).unwrap();
    assert_eq!(calls.get(), made + 1);
    assert_eq!(
        o.as_bytes(),
        OpenfdTicket::new(fd, Access::Read, Recipient::Any)
            .unwrap()
            .as_bytes()
    );
}

#[test]
fn sender_tickets_redeem_to_the_same_file() {
    let file = File::open("Cargo.toml").unwrap();
    let fd = common::fd(&file);
    let sender = Issuer::new().unwrap();
    let mut receiver = Receiver::new();
    let want = common::file_id(&file);
    for bytes in [
        sender.dup(fd, Recipient::Any).unwrap().as_bytes().to_vec(),
        sender
            .openfd(fd, Access::Read, Recipient::Any)
            .unwrap()
            .as_bytes()
            .to_vec(),
    ] {
        let got = receiver.redeem(&bytes).unwrap();
        assert_eq!(common::file_id(&common::file(got)), want);
    }
}

#[test]
fn failures_come_back_unchanged() {
    let file = File::open("Cargo.toml").unwrap();
    let fd = common::fd(&file);
    // Once this process's start time is cached (by the first sender), a sender is made without a
    // fallible call, and the openfd access check is the first one.
    Issuer::new().unwrap();
    let sender = seams::Issuer::with_kernel(FailAt::new(Linux, 1, Errno::NOMEM)).unwrap();
    assert_eq!(sender.kernel().calls(), 0);
    assert_eq!(
        sender.openfd(fd, Access::Read, Recipient::Any).unwrap_err(),
        Errno::NOMEM
    );
    let _issued = sender.dup(fd, Recipient::Any).unwrap();
    // A closed descriptor is refused at redeem time, as for DupTicket::new (a high number, which the
    // other tests running meanwhile do not reuse).
    let closed = rustix::io::fcntl_dupfd_cloexec(&file, 1000).unwrap();
    let t = sender.dup(common::fd(&closed), Recipient::Any).unwrap();
    drop(closed);
    assert!(matches!(
        qnx_fdpass::receive_fd(t.as_bytes()),
        Err(Error::Os(Errno::BADF))
    ));
}
