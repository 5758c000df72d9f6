//! Contracts of the public API and the host backend that mutation testing showed no test pinned down
//! (`cargo mutants`, .cargo/mutants.toml): the openfd access matrix, the receiver's pidfd cache as the
//! descriptor table shows it, batch lengths at every boundary, errors and their messages, the descriptor
//! types, the QNX kernel trait's provided methods and small API promises. Linux host backend only.
//!
//! One test program for all of them, so that each mutant rebuilds one program instead of seven. Its
//! tests read and compare this process's descriptor table, or check that a number was closed, so every
//! test takes [`serial`]: none opens a descriptor while another looks.

#![cfg(target_os = "linux")]

use std::sync::{Mutex, MutexGuard};

#[path = "../common/mod.rs"]
mod common;

mod api_contract;
mod batch_bounds;
mod error_messages;
mod fd_types;
mod kernel_defaults;
mod openfd_access;
mod peer_cache;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs the calling test alone among this program's tests (a failed test's poisoned lock is taken
/// over: its failure is reported on its own).
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
