//! Contracts of the public API and the host backend that mutation testing showed no test pinned down
//! (`cargo mutants`, .cargo/mutants.toml): the openfd access matrix, the receiver's pidfd cache as the
//! descriptor table shows it, batch lengths at every boundary, errors and their messages, the descriptor
//! types, small API promises, and the programs that must not compile (`compile_fail`: forging
//! ownership through the kernel seams without `unsafe`, a kernel double that lacks a call). Linux host
//! backend only.
//!
//! One test program for all of them, so that each mutant rebuilds one program instead of seven. Its
//! tests read and compare this process's descriptor table, or check that a number was closed, so every
//! test takes `common::serial()`, this program's one lock: none opens a descriptor while another looks.

#![cfg(target_os = "linux")]

#[path = "../common/mod.rs"]
mod common;

mod api_contract;
mod batch_bounds;
mod compile_fail;
mod error_messages;
mod fd_types;
mod openfd_access;
mod peer_cache;
