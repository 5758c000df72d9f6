//! The kernel-call self-check a user runs on their own QNX target, row by row of the project's ABI
//! table (`docs/abi-status.md`), in a form to paste into a bug report.
//!
//! No 7.1 or 8.0 kernel is reachable from this project's CI, so the 64-bit rows of that table can only be
//! confirmed on users' boards. `raw()` (and, with the `libc-calls` feature, `libc()`; both exist on
//! Neutrino only) run the crate's kernel-call probe through each backend; [`kernel_rows`] turns a probe's
//! answer into one [`Outcome`] per row of [`KERNEL_ROWS`]. `examples/selftest.rs` prints them, adds rows for passing a
//! descriptor between two of its own processes both ways, and the QNX version and architecture; the
//! Neutrino 6.4 HIL payload prints the same rows from the same functions.
//!
//! The probe (`ConnectDetach(-1)` through the error path, a side-channel `ConnectAttach` to the process
//! manager read back with `ConnectServerInfo`, the TLS pid against the kernel's) creates nothing that
//! outlives it. On the Linux host there is no Neutrino kernel: [`kernel_rows`] is still callable (the
//! rows say what they would check), `raw()` and `libc()` do not exist.
//!
//! # Examples
//!
//! ```
//! use qnx_fdpass::selftest::{kernel_rows, KERNEL_ROWS, Outcome};
//! # #[cfg(any(target_os = "nto", target_os = "qnx"))] let probe = Some(qnx_fdpass::selftest::raw());
//! # #[cfg(not(any(target_os = "nto", target_os = "qnx")))] let probe = None;
//! for (row, outcome) in KERNEL_ROWS.iter().zip(kernel_rows(probe.as_ref())) {
//!     println!("raw  {row}: {outcome}");
//! }
//! # if probe.is_none() { assert!(kernel_rows(None).iter().all(|o| matches!(o, Outcome::NotApplicable(_)))); }
//! ```

use core::fmt;

pub use crate::sys::nto::selftest::{SelfTestError, SelfTestReport};

/// The rows of `docs/abi-status.md` the kernel probe speaks to, in the order [`kernel_rows`] answers.
pub const KERNEL_ROWS: [&str; 5] = [
    "kernel-call numbers and trap (ConnectAttach, ConnectDetach, ConnectServerInfo, ChannelCreate/Destroy)",
    "error path: the kernel's resume offset and errno after a failing call",
    "ConnectServerInfo fills this process's _server_info (pid, chid, coid in place)",
    "getpid from the thread's TLS block",
    "pid by kernel calls: ConnectAttach(pid 0) to a private channel names this process",
];

/// The answer for one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The probe's check for this row held.
    Pass,
    /// The check for this row failed, with what was seen.
    Fail(SelfTestError),
    /// An earlier check failed, so this one did not run.
    NotReached,
    /// The row does not apply here (the reason): no Neutrino kernel, or a backend not built.
    NotApplicable(&'static str),
}

impl Outcome {
    /// `true` for [`Outcome::Fail`].
    #[must_use]
    pub const fn is_fail(&self) -> bool {
        matches!(self, Self::Fail(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pass => f.write_str("PASS"),
            Self::Fail(e) => write!(f, "FAIL ({e})"),
            Self::NotReached => f.write_str("NOT RUN (an earlier row failed)"),
            Self::NotApplicable(why) => write!(f, "N/A ({why})"),
        }
    }
}

/// One [`Outcome`] per row of [`KERNEL_ROWS`] for a probe's answer (`None`: there is no Neutrino
/// kernel here, every row is [`Outcome::NotApplicable`]).
///
/// The probe stops at its first failed check: that check's row fails, the rows it had passed pass, and
/// the rest are [`Outcome::NotReached`].
#[must_use]
pub fn kernel_rows(probe: Option<&Result<SelfTestReport, SelfTestError>>) -> [Outcome; 5] {
    let failed_row = match probe {
        None => return [Outcome::NotApplicable("not a Neutrino system"); 5],
        Some(Ok(_)) => return [Outcome::Pass; 5],
        Some(Err(e)) => row_of(e),
    };
    let mut rows = [Outcome::NotReached; 5];
    for (i, r) in rows.iter_mut().enumerate() {
        if i < failed_row {
            *r = Outcome::Pass;
        } else if i == failed_row {
            if let Some(Err(e)) = probe {
                *r = Outcome::Fail(*e);
            }
        }
    }
    rows
}

/// The row of [`KERNEL_ROWS`] a probe failure belongs to.
fn row_of(e: &SelfTestError) -> usize {
    match *e {
        // ConnectDetach(-1) is the first call: a wrong errno or a missed error path is the error path's
        // row, anything else failing later is about the calls themselves or their answers.
        SelfTestError::ErrorPathNotTaken { .. } | SelfTestError::WrongErrno { .. } => 1,
        SelfTestError::CallFailed { call, .. } => match call {
            "ConnectServerInfo" => 2,
            "getpid" => 3,
            "ConnectAttach" | "ConnectDetach" => 0,
            _ => 4,
        },
        SelfTestError::BadValue { what, .. } => match what {
            "getpid" => 3,
            "ConnectAttach coid" => 0,
            _ => 2,
        },
        SelfTestError::PidMismatch { .. } => 3,
    }
}

/// The kernel probe through the raw trap stubs (`sys::nto::Raw`, the default backend), on Neutrino.
///
/// # Errors
///
/// The first check that failed.
#[cfg(neutrino)]
pub fn raw() -> Result<SelfTestReport, SelfTestError> {
    crate::sys::nto::self_test_with(&crate::sys::nto::Raw)
}

/// The kernel probe through the QNX C library's entry points (`libc-calls` feature), on Neutrino.
///
/// # Errors
///
/// The first check that failed.
#[cfg(all(neutrino, feature = "libc-calls"))]
pub fn libc() -> Result<SelfTestReport, SelfTestError> {
    crate::sys::nto::self_test_with(&crate::sys::nto::Libc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::Errno;

    #[test]
    fn a_failure_fails_its_row_passes_the_earlier_ones_and_stops() {
        let ok = SelfTestReport {
            detach_errno: Errno::INVAL,
            sysmgr_coid: 0x4000_0000,
            sysmgr_pid: 1,
            sysmgr_chid: 1,
            pid: 7,
            kernel_pid: 7,
        };
        assert_eq!(kernel_rows(Some(&Ok(ok))), [Outcome::Pass; 5]);
        assert!(kernel_rows(None)
            .iter()
            .all(|o| matches!(o, Outcome::NotApplicable(_))));
        let cases = [
            (
                SelfTestError::ErrorPathNotTaken {
                    call: "ConnectDetach",
                },
                1,
            ),
            (
                SelfTestError::WrongErrno {
                    call: "ConnectDetach",
                    expected: Errno::INVAL,
                    got: Errno::from_raw(-22),
                },
                1,
            ),
            (
                SelfTestError::CallFailed {
                    call: "ConnectAttach",
                    errno: Errno::NOSYS,
                },
                0,
            ),
            (
                SelfTestError::BadValue {
                    what: "ConnectServerInfo chid",
                    got: 0,
                },
                2,
            ),
            (
                SelfTestError::PidMismatch {
                    getpid: 5,
                    kernel: 6,
                },
                3,
            ),
            (
                SelfTestError::CallFailed {
                    call: "ChannelCreate/ConnectAttach/ConnectServerInfo on our own channel",
                    errno: Errno::PERM,
                },
                4,
            ),
            // Each name the probe reports gets its own row (the catch-all would put it elsewhere).
            (
                SelfTestError::CallFailed {
                    call: "ConnectServerInfo",
                    errno: Errno::BADF,
                },
                2,
            ),
            (
                SelfTestError::CallFailed {
                    call: "getpid",
                    errno: Errno::NOSYS,
                },
                3,
            ),
            (
                SelfTestError::BadValue {
                    what: "getpid",
                    got: -1,
                },
                3,
            ),
            (
                SelfTestError::BadValue {
                    what: "ConnectAttach coid",
                    got: 5,
                },
                0,
            ),
        ];
        for (e, row) in cases {
            let rows = kernel_rows(Some(&Err(e)));
            for (i, o) in rows.iter().enumerate() {
                let want = match i.cmp(&row) {
                    core::cmp::Ordering::Less => Outcome::Pass,
                    core::cmp::Ordering::Equal => Outcome::Fail(e),
                    core::cmp::Ordering::Greater => Outcome::NotReached,
                };
                assert_eq!(*o, want, "{e:?}, row {i}");
            }
        }
    }

    #[test]
    fn only_a_failure_is_fail() {
        let e = SelfTestError::PidMismatch {
            getpid: 5,
            kernel: 6,
        };
        assert!(Outcome::Fail(e).is_fail());
        assert!(!Outcome::Pass.is_fail());
        assert!(!Outcome::NotReached.is_fail());
        assert!(!Outcome::NotApplicable("no kernel").is_fail());
    }

    #[test]
    fn an_outcome_prints_its_verdict_and_what_was_seen() {
        use std::string::ToString;
        let e = SelfTestError::PidMismatch {
            getpid: 5,
            kernel: 6,
        };
        assert_eq!(Outcome::Pass.to_string(), "PASS");
        assert_eq!(Outcome::Fail(e).to_string(), std::format!("FAIL ({e})"));
        assert!(Outcome::Fail(e).to_string().contains("getpid says 5"));
        assert_eq!(
            Outcome::NotReached.to_string(),
            "NOT RUN (an earlier row failed)"
        );
        assert_eq!(
            Outcome::NotApplicable("no kernel").to_string(),
            "N/A (no kernel)"
        );
    }
}
