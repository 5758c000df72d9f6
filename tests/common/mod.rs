//! Between std's descriptors and this crate's, for tests that run with and without the `std` feature.
//!
//! With `std` the crate's `OwnedFd`/`BorrowedFd` *are* std's, so these are the identity and a test could
//! pass `&file` straight to `send_fd` (tests/std_interop.rs does). Without it the crate is `no_std` and
//! has its own types, which std's `File` knows nothing about: a `no_std` program never holds a `File`,
//! but these tests do, so they cross over here, the one place with `unsafe` for it.

#![allow(dead_code, unsafe_code)]

use std::fs::File;
use std::os::fd::AsFd;
#[cfg(not(feature = "std"))]
use std::os::fd::{AsRawFd, FromRawFd};

/// The descriptor of a std value as the crate's `BorrowedFd`, for as long as the value is borrowed.
#[cfg(feature = "std")]
pub fn fd<T: AsFd + ?Sized>(f: &T) -> qnx_fdpass::BorrowedFd<'_> {
    f.as_fd()
}

/// The descriptor of a std value as the crate's `BorrowedFd`, for as long as the value is borrowed.
#[cfg(not(feature = "std"))]
pub fn fd<T: AsFd + ?Sized>(f: &T) -> qnx_fdpass::BorrowedFd<'_> {
    // SAFETY: `f` is borrowed for the returned lifetime, and its descriptor stays open while it lives.
    unsafe { qnx_fdpass::BorrowedFd::borrow_raw(f.as_fd().as_raw_fd()) }
}

/// A descriptor the crate redeemed, as std's `OwnedFd`.
#[cfg(feature = "std")]
pub fn std_fd(fd: qnx_fdpass::OwnedFd) -> std::os::fd::OwnedFd {
    fd
}

/// A descriptor the crate redeemed, as std's `OwnedFd`.
#[cfg(not(feature = "std"))]
pub fn std_fd(fd: qnx_fdpass::OwnedFd) -> std::os::fd::OwnedFd {
    use qnx_fdpass::fd::IntoRawFd;
    // SAFETY: `into_raw_fd` gives up the crate's ownership of an open descriptor; std's takes it over.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.into_raw_fd()) }
}

/// A descriptor the crate redeemed, as a `File`.
pub fn file(fd: qnx_fdpass::OwnedFd) -> File {
    File::from(std_fd(fd))
}
