//! Descriptors with I/O safety: [`OwnedFd`], [`BorrowedFd`], [`RawFd`] and the traits [`AsFd`],
//! [`AsRawFd`], [`FromRawFd`] and [`IntoRawFd`].
//!
//! **With the `std` feature these are `std::os::fd`'s own items**, re-exported: a descriptor this crate
//! redeems *is* a `std::os::fd::OwnedFd`, so `File::from(fd)`, `UnixStream::from(fd)` and the like need
//! no conversion, and every function taking `impl AsFd` accepts `&File`, `&UnixStream`, `&PipeReader`...
//! Dropping it calls the C library's `close()` (on Neutrino an `_IO_CLOSE` to the server, then
//! `ConnectDetach`, which is what closing a connection needs).
//!
//! **Without it (the default, `no_std`)** they are this crate's own types and traits with the same names,
//! methods and trait impls as std's, as rustix does with its polyfill: code that imports them from here
//! and calls them through the traits compiles against either. The core `OwnedFd` closes its descriptor
//! through the crate's own kernel calls when dropped, with no C library needed on the raw Neutrino path.
//!
//! Which one a build has is fixed by the feature, not by the caller: `qnx_fdpass::fd::OwnedFd` is the
//! name that works in both.

#[cfg(feature = "std")]
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

#[cfg(not(feature = "std"))]
pub use crate::sys::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
