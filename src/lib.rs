//! Pass open file descriptors between QNX Neutrino processes, `no_std` and without allocating.
//!
//! On Neutrino a descriptor is a connection to a resource manager, so its number means nothing in another
//! process. The sender turns its descriptor into a *ticket*: the bytes of an `_IO_DUP` (or `_IO_OPENFD`)
//! message that name the server and the sender's connection. It hands the bytes over any channel it likes;
//! the receiver attaches to the same server channel and sends it the message, and the server binds the
//! receiver's new connection to the sender's open file.
//!
//! Layers, bottom to top, each importing only those below it: [`wire`] (the `#[repr(C)]` messages),
//! [`ticket`] (parsing and checks), `sys` (kernel calls, the only `unsafe` code: one `unsafe`
//! kernel-call trait per backend, `NeutrinoKernel` and `LinuxKernel`, over the shared `Kernel`, and the
//! one choice of backend, in `sys/mod.rs`; `sys/nto/` for Neutrino, `sys/host/` for the Linux host;
//! `KernelFd`, the descriptor a kernel call returned, owned and closed through that kernel, which is
//! all `pass` holds, so its failing paths clean up by dropping; `FailAt`, the fault injector; and the
//! core-only descriptor types), `pass` (issuing and redeeming tickets, one file per backend:
//! `pass/nto.rs`, `pass/host.rs`, each generic over its backend's trait so the tests put a double
//! underneath), and the API at this root ([`OwnedFd`], tickets, [`send_fd`]/[`receive_fd`]).
//!
//! # Features
//!
//! - `std` (off by default): the descriptor types are `std::os::fd`'s ([`fd`] says how), and the errors
//!   convert into `std::io::Error` (so `?` works in a function returning `io::Result`). Without it the
//!   crate is `no_std` and never allocates.
//! - `defmt`: logs what the article printed, through `defmt`.
//! - `libc-calls`: on Neutrino, kernel calls through the QNX C library instead of raw traps.
//! - `kernel-seams`: makes public the kernel-call seams this crate's own tests and fault injection use
//!   (`seams`, `sys`, the `with_kernel` constructors). **Not covered by semver**; programs do not need it.
//!   It is sound under any feature combination: the kernel traits are `unsafe` to implement (each
//!   descriptor number they return becomes an owned descriptor), and every call that closes or uses a
//!   bare descriptor number is an `unsafe fn`, so no program without `unsafe` can take or use a
//!   descriptor it does not own through them. It stays a feature rather than a `--cfg`: hiding alone
//!   would not make it sound (any crate in a dependency graph can switch a feature on), and a `--cfg`
//!   would need `RUSTFLAGS` in every build of this repository.
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

#[cfg(any(test, feature = "std"))]
extern crate std;

mod fmt;

mod api;
mod pass;
pub mod ticket;
mod timeout;

pub mod errno;
pub mod error;
pub mod fd;
pub mod selftest;
#[cfg(feature = "std")]
pub mod stream;
/// Kernel calls (`kernel-seams` feature: the backends' traits, real implementations and fault
/// injection; not covered by semver).
#[cfg(feature = "kernel-seams")]
#[allow(unsafe_code)]
pub mod sys;
#[cfg(not(feature = "kernel-seams"))]
// Without the seams its public items (the traits, the backends' types) are not reachable: unused.
#[allow(unsafe_code, dead_code, unused_imports)]
// The same files as the declaration above: cargo-mutants cannot tell which of the two a build compiles,
// so this one carries its skip marker, behind a cfg nothing sets (rustc drops it unread).
#[cfg_attr(mutants_skip, mutants::skip)]
mod sys;
pub mod wire;

#[cfg(feature = "kernel-seams")]
pub use api::seams;
pub use api::{
    close, getpid, receive_fd, send_fd, withdraw, DupBatch, DupTicket, Issuer, OpenfdTicket,
    OwnedFds, OwnedFdsIter, Receiver,
};
pub use errno::Errno;
pub use error::{BatchError, DecodeError, Error, SendError};
pub use fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
pub use ticket::{parse, Recipient, Ticket};
pub use timeout::Timeout;
pub use wire::{Access, StatusFlags};

/// The `zerocopy` this crate is built with, re-exported: the [`wire`] types implement its traits
/// (`FromBytes`, `IntoBytes`, `KnownLayout`, `Immutable`) and [`wire::Message`] requires them, so code
/// that reads or writes tickets as bytes uses them through this path. **zerocopy's major version (0.8)
/// is part of this crate's semver**: moving to an incompatible zerocopy is a breaking release here.
/// No other dependency appears in the public API (batches come back as [`OwnedFds`], not a
/// `heapless::Vec`).
pub use zerocopy;

/// The README's examples, compiled and run as doctests (with the `std` feature: they show both ways in,
/// and the std one needs it).
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
