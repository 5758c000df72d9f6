//! The scenarios: each writes its answer into the text and returns its verdict.

use core::fmt::Write as _;

use crate::out::Text;
use crate::{c, Verdict};

/// A scenario's function.
pub type Scenario = fn(&mut Text) -> Verdict;

/// The function of a scenario named in `scenarios.txt`.
pub fn lookup(name: &str) -> Option<Scenario> {
    Some(match name {
        "harness_fork" => harness_fork,
        _ => return None,
    })
}

fn harness_fork(t: &mut Text) -> Verdict {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { c::getpid() };
    let _ = write!(
        t,
        "fork works (pid {} > 1)",
        if pid > 1 { "yes" } else { "no" }
    );
    if pid > 1 {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// What a forked child must do first.
pub fn after_fork() {}
