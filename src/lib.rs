//! Pass open file descriptors between QNX Neutrino processes, `no_std` and without allocating.
//!
//! On Neutrino a descriptor is a connection to a resource manager, so its number means nothing in another
//! process. The sender turns its descriptor into a *ticket*: the bytes of an `_IO_DUP` (or `_IO_OPENFD`)
//! message that name the server and the sender's connection. It hands the bytes over any channel it likes;
//! the receiver attaches to the same server channel and sends it the message, and the server binds the
//! receiver's new connection to the sender's open file.
//!
//! Layers, top to bottom: the API at this root ([`OwnedFd`], tickets, [`send_fd`]/[`receive_fd`]),
//! [`wire`] (the `#[repr(C)]` messages), and `sys` (kernel calls, the only `unsafe` code).
#![no_std]
#![deny(unsafe_code)]
// Library code never panics on input: no unwrap, expect, panic or indexing outside tests.
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

mod fmt;

mod api;
mod imp;
pub mod ticket;

pub mod errno;
pub mod error;
pub mod fd;
#[allow(unsafe_code)]
pub mod sys;
pub mod wire;

pub use api::{
    after_fork, close, getpid, receive_fd, send_fd, Batch, Delivery, DupTicket, OpenfdTicket, Os,
    Receiver, Sender,
};
pub use errno::Errno;
pub use error::{BatchError, DecodeError, Error};
pub use fd::{BorrowedFd, OwnedFd, RawFd};
pub use ticket::{parse, Access, Recipient, Ticket};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
