//! The crate's descriptor types behave as `std::os::fd`'s (which they are with the `std` feature): every
//! way to a raw number gives the descriptor's own number, converting into a raw number does not close
//! it, dropping an `OwnedFd` does, and `Debug` shows the number. Linux host backend only.

use std::fs::File;

use qnx_fdpass::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, RawFd};
use qnx_fdpass::OwnedFd;

fn is_open(n: RawFd) -> bool {
    rustix::io::fcntl_getfd(crate::common::sys_fd(n)).is_ok()
}

/// A fresh descriptor, as the crate's `OwnedFd`.
fn owned() -> (OwnedFd, RawFd) {
    let n = std::os::fd::IntoRawFd::into_raw_fd(File::open("Cargo.toml").unwrap());
    // SAFETY: `n` was just opened and is handed over.
    (unsafe { OwnedFd::from_raw_fd(n) }, n)
}

#[test]
fn every_way_to_the_number_gives_the_descriptors_own() {
    let _g = crate::common::serial();
    let (mut fd, n) = owned();
    assert!(n > 2, "a descriptor of its own: {n}");
    assert_eq!(fd.as_raw_fd(), n);
    assert_eq!(fd.as_fd().as_raw_fd(), n);
    assert_eq!(AsFd::as_fd(&&fd).as_raw_fd(), n);
    assert_eq!(AsFd::as_fd(&&mut fd).as_raw_fd(), n);
    let b = fd.as_fd();
    assert_eq!(b.as_fd().as_raw_fd(), n);
    assert_eq!(AsRawFd::as_raw_fd(&b), n);
    assert_eq!(format!("{fd:?}"), format!("OwnedFd {{ fd: {n} }}"));
    assert_eq!(format!("{b:?}"), format!("BorrowedFd {{ fd: {n} }}"));
    // RawFd is a descriptor type too: the identity.
    assert_eq!(AsRawFd::as_raw_fd(&n), n);
    assert_eq!(IntoRawFd::into_raw_fd(n), n);
    // SAFETY: a raw number is only copied.
    assert_eq!(unsafe { <RawFd as FromRawFd>::from_raw_fd(n) }, n);
}

#[test]
fn into_raw_fd_keeps_it_open_and_drop_closes_it() {
    let _g = crate::common::serial();
    let (fd, n) = owned();
    assert_eq!(fd.into_raw_fd(), n);
    assert!(is_open(n), "into_raw_fd must not close");
    // SAFETY: `n` is still open and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(n) };
    drop(fd);
    assert!(!is_open(n), "dropping the OwnedFd closes it");
}
