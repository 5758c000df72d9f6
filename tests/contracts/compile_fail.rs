//! Programs that must not compile, each with the compiler's answer beside it (`tests/compile-fail/`,
//! checked by `trybuild`):
//!
//! - `forge_stdout.rs`: a program with `#![forbid(unsafe_code)]`, built with the `kernel-seams` feature
//!   (and `std` when the test runs with it), implements the host kernel trait so that `pidfd_getfd`
//!   answers descriptor 1 and redeems a ticket through `seams::Receiver::with_kernel`: the redeem would
//!   hand it standard output as an `OwnedFd`, and dropping that would close it behind std's back. The
//!   kernel traits are `unsafe` to implement, so it is refused;
//! - `double_lacks_a_call.rs`: a Neutrino kernel double without `dupfd`: the traits have no provided
//!   methods, so a double that forgets a call does not compile (rather than answering `ENOSYS` at run
//!   time).
//!
//! To regenerate an expected answer after a deliberate change: `TRYBUILD=overwrite cargo test --test
//! contracts compile_fail`, then read the diff.

#[test]
fn compile_fail() {
    let _g = crate::common::serial();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile-fail/*.rs");
}
