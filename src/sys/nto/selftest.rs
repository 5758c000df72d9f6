//! The run-time probe of the Neutrino kernel-call ABI (`nto::self_test`), and the pid by kernel calls
//! alone that it cross-checks the TLS pid with.
//!
//! Pure sequences over [`NeutrinoKernel`] and [`ChannelCalls`], compiled on every target so the host tests what
//! each failure reports and that everything made midway is released.
//!
//! Section numbers (§) refer to the project's ABI fact sheet, `docs/qnx-abi.md` in this repository.

use core::fmt;

use crate::errno::Errno;
use crate::sys::NeutrinoKernel;
use crate::wire::{MsgInfo64, ND_LOCAL_NODE, NTO_SIDE_CHANNEL};

/// `SYSMGR_PID`: the process manager's pid. CONFIRMED, all versions (§2.4).
pub(crate) const SYSMGR_PID: i32 = 1;
/// `SYSMGR_CHID`: the process manager's channel. CONFIRMED, all versions (§2.4).
pub(crate) const SYSMGR_CHID: i32 = 1;

/// `_NTO_CHF_PRIVATE`: a channel only its own process may connect to, which needs no `public_channel`
/// ability. CONFIRMED 0x1000 in the QNX 7.0, 7.1 and 8.0 headers (§9.4). QNX 6.x has no such flag (its
/// channel flags end at 0x0800); its kernel stores `ChannelCreate`'s flags without checking for unknown
/// bits and no 6.x code tests this one (CONFIRMED in the 6.4 kernel source), so the same value is
/// harmless there and one binary serves 6.x and 7.0.
pub(crate) const NTO_CHF_PRIVATE: u32 = 0x1000;

/// The channel calls [`self_pid`] needs beyond [`NeutrinoKernel`] (implemented by the Neutrino backends).
pub(crate) trait ChannelCalls {
    /// `ChannelCreate(flags)`: a new channel; returns its chid.
    fn channel_create(&self, flags: u32) -> Result<i32, Errno>;
    /// `ChannelDestroy(chid)`.
    fn channel_destroy(&self, chid: i32) -> Result<(), Errno>;
}

/// The calling process's pid by kernel calls alone, without reading TLS (§5): a private channel, a
/// side-channel connection to it with pid 0 (= self), and `ConnectServerInfo` on that connection, whose
/// `pid` is then our own. The channel is made and destroyed through `ch`, the connection calls go
/// through `k` (the same object, except when `nto::self_test_with` probes a kernel of the caller's).
///
/// Five kernel calls. The backends' `getpid` reads the TLS block instead, as libc does; this sequence is
/// `self_test`'s independent cross-check of that value. Whatever fails midway, the connection and the
/// channel this function created are released, in reverse order, before it returns.
///
/// # Errors
///
/// The first failing call's errno; [`Errno::SRCH`] if the kernel reports a pid that is not positive.
pub(crate) fn self_pid<K: NeutrinoKernel + ?Sized, C: ChannelCalls + ?Sized>(
    k: &K,
    ch: &C,
) -> Result<i32, Errno> {
    let chid = ch.channel_create(NTO_CHF_PRIVATE)?;
    let coid = match k.connect_attach(ND_LOCAL_NODE, 0, chid, NTO_SIDE_CHANNEL, 0) {
        Ok(coid) => coid,
        Err(e) => {
            let _ = ch.channel_destroy(chid);
            return Err(e);
        }
    };
    // SAFETY: `coid` is the connection just attached, which this function owns.
    let info = unsafe { k.connect_server_info(0, coid) };
    // Cleanup errors cannot change the answer, and there is nothing more to release.
    // SAFETY: this function owns `coid` and does not use it again.
    let _ = unsafe { k.connect_detach(coid) };
    let _ = ch.channel_destroy(chid);
    match info {
        Ok(si) if si.pid > 0 => Ok(si.pid),
        Ok(_) => Err(Errno::SRCH),
        Err(e) => Err(e),
    }
}

/// What a successful `nto::self_test` observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct SelfTestReport {
    /// The errno `ConnectDetach(-1)` came back with through the error path (`EINVAL`).
    pub detach_errno: Errno,
    /// The side-channel connection `ConnectAttach(0, SYSMGR_PID, SYSMGR_CHID, _NTO_SIDE_CHANNEL, 0)`
    /// returned (detached again before the test returned).
    pub sysmgr_coid: i32,
    /// The pid `ConnectServerInfo` reported for that connection (`SYSMGR_PID`, 1).
    pub sysmgr_pid: i32,
    /// The chid `ConnectServerInfo` reported for that connection (`SYSMGR_CHID`, 1).
    pub sysmgr_chid: i32,
    /// The calling process's pid, as the backend's `getpid` computes it (from the TLS block).
    pub pid: i32,
    /// The calling process's pid as the kernel names it: `ConnectServerInfo` on a connection to a
    /// private channel of our own (five kernel calls, no TLS). Equal to `pid`.
    pub kernel_pid: i32,
}

/// Why a `nto::self_test` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SelfTestError {
    /// A call that must fail returned success: the trap stub's error path was not taken (on x86_64, the
    /// kernel resumes at an offset the stub does not expect).
    ErrorPathNotTaken {
        /// The C name of the call.
        call: &'static str,
    },
    /// A call failed as it should, but with the wrong errno.
    WrongErrno {
        /// The C name of the call.
        call: &'static str,
        /// What the reference says it returns.
        expected: Errno,
        /// What came back.
        got: Errno,
    },
    /// A call that must succeed failed.
    CallFailed {
        /// The C name of the call.
        call: &'static str,
        /// Its errno.
        errno: Errno,
    },
    /// A call succeeded but returned a value that cannot be right.
    BadValue {
        /// The C name of the call and the field checked.
        what: &'static str,
        /// The value seen.
        got: i64,
    },
    /// `getpid` (the TLS block) and the kernel (`ConnectServerInfo` on a connection to ourselves) name
    /// different processes.
    PidMismatch {
        /// What the backend's `getpid` returned.
        getpid: i32,
        /// What the kernel named.
        kernel: i32,
    },
}

impl fmt::Display for SelfTestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ErrorPathNotTaken { call } => {
                write!(
                    f,
                    "{call} succeeded where it must fail: the trap's error path was not taken"
                )
            }
            Self::WrongErrno {
                call,
                expected,
                got,
            } => {
                write!(f, "{call} failed with {got:?}, expected {expected:?}")
            }
            Self::CallFailed { call, errno } => write!(f, "{call} failed: {errno}"),
            Self::BadValue { what, got } => write!(f, "{what} returned an impossible value {got}"),
            Self::PidMismatch { getpid, kernel } => write!(
                f,
                "getpid says {getpid}, the kernel names this process {kernel}"
            ),
        }
    }
}

impl core::error::Error for SelfTestError {}

/// Probes a backend's error and success paths; see `nto::self_test`.
///
/// 1. `ConnectDetach(-1)` must fail with `EINVAL`, through the stub's error path.
/// 2. `ConnectAttach` to the process manager's channel on a side channel must succeed with a coid at or
///    above `_NTO_SIDE_CHANNEL`; `ConnectServerInfo` on it must name pid 1, chid 1 and that coid; then it
///    is detached (also when a check fails).
/// 3. `getpid` must return a pid above 1;
/// 4. [`self_pid`] (`ConnectServerInfo` on a connection to a private channel of our own, the channel
///    made through `ch`) must name the same process.
///
/// # Errors
///
/// The first check that failed.
pub(crate) fn self_test_with<K: NeutrinoKernel + ?Sized, C: ChannelCalls + ?Sized>(
    k: &K,
    ch: &C,
) -> Result<SelfTestReport, SelfTestError> {
    // SAFETY: -1 names no connection (the kernel answers `EINVAL`, which is the check).
    let detach_errno = match unsafe { k.connect_detach(-1) } {
        Ok(()) => {
            return Err(SelfTestError::ErrorPathNotTaken {
                call: "ConnectDetach",
            })
        }
        Err(e) if e == Errno::INVAL => e,
        Err(got) => {
            return Err(SelfTestError::WrongErrno {
                call: "ConnectDetach",
                expected: Errno::INVAL,
                got,
            })
        }
    };

    let coid = k
        .connect_attach(ND_LOCAL_NODE, SYSMGR_PID, SYSMGR_CHID, NTO_SIDE_CHANNEL, 0)
        .map_err(|errno| SelfTestError::CallFailed {
            call: "ConnectAttach",
            errno,
        })?;
    let checked = check_sysmgr(k, coid);
    // SAFETY: this function owns `coid` (attached above) and does not use it again.
    let detached = unsafe { k.connect_detach(coid) };
    let info = checked?;
    detached.map_err(|errno| SelfTestError::CallFailed {
        call: "ConnectDetach",
        errno,
    })?;

    let pid = k.getpid().map_err(|errno| SelfTestError::CallFailed {
        call: "getpid",
        errno,
    })?;
    if pid <= SYSMGR_PID {
        return Err(SelfTestError::BadValue {
            what: "getpid",
            got: i64::from(pid),
        });
    }
    let kernel_pid = self_pid(k, ch).map_err(|errno| SelfTestError::CallFailed {
        call: "ChannelCreate/ConnectAttach/ConnectServerInfo on our own channel",
        errno,
    })?;
    if kernel_pid != pid {
        return Err(SelfTestError::PidMismatch {
            getpid: pid,
            kernel: kernel_pid,
        });
    }
    Ok(SelfTestReport {
        detach_errno,
        sysmgr_coid: coid,
        sysmgr_pid: info.pid,
        sysmgr_chid: info.chid,
        pid,
        kernel_pid,
    })
}

/// Step 2 of [`self_test_with`], before the detach.
fn check_sysmgr<K: NeutrinoKernel + ?Sized>(k: &K, coid: i32) -> Result<MsgInfo64, SelfTestError> {
    if u32::try_from(coid).map_or(true, |c| c < NTO_SIDE_CHANNEL) {
        return Err(SelfTestError::BadValue {
            what: "ConnectAttach coid",
            got: i64::from(coid),
        });
    }
    // SAFETY: `coid` is the connection the caller attached and still owns.
    let info =
        unsafe { k.connect_server_info(0, coid) }.map_err(|errno| SelfTestError::CallFailed {
            call: "ConnectServerInfo",
            errno,
        })?;
    let bad = |what, got: i32| {
        Err(SelfTestError::BadValue {
            what,
            got: i64::from(got),
        })
    };
    if info.pid != SYSMGR_PID {
        return bad("ConnectServerInfo pid", info.pid);
    }
    if info.chid != SYSMGR_CHID {
        return bad("ConnectServerInfo chid", info.chid);
    }
    if info.coid != coid {
        return bad("ConnectServerInfo coid", info.coid);
    }
    Ok(info)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::sys::nto::double::{Call, Double, CHID, SERVER, SIDE};

    const SELF_ATTACH: Call = Call::Attach {
        nd: ND_LOCAL_NODE,
        pid: 0,
        chid: CHID,
        index: NTO_SIDE_CHANNEL,
        flags: 0,
    };
    const SIDE_INFO: Call = Call::ServerInfo { pid: 0, coid: SIDE };
    /// The self test's side-channel connection to the process manager.
    const SYSMGR_ATTACH: Call = Call::Attach {
        nd: ND_LOCAL_NODE,
        pid: SYSMGR_PID,
        chid: SYSMGR_CHID,
        index: NTO_SIDE_CHANNEL,
        flags: 0,
    };
    const PRIVATE_CHANNEL: Call = Call::ChannelCreate(NTO_CHF_PRIVATE);
    /// The whole `self_pid` sequence, in order.
    const SELF_PID: [Call; 5] = [
        PRIVATE_CHANNEL,
        SELF_ATTACH,
        SIDE_INFO,
        Call::Detach(SIDE),
        Call::ChannelDestroy(CHID),
    ];

    /// The kernel double, its connections on a side channel ([`SIDE`]) as the self test's attaches ask.
    fn side() -> Double {
        Double {
            coid: Some(SIDE),
            ..Double::default()
        }
    }

    /// [`side`], with the process manager (pid 1, chid 1) as the server it reports: a sane kernel.
    fn sane() -> Double {
        Double {
            server: MsgInfo64 {
                pid: SYSMGR_PID,
                ..SERVER
            },
            ..side()
        }
    }

    #[test]
    fn self_pid_sequence() {
        let k = side();
        assert_eq!(self_pid(&k, &k), Ok(4321));
        assert_eq!(k.log(), SELF_PID);
        // The channel is private (no `public_channel` ability needed), and the pid is the one the kernel
        // names for a connection to ourselves, not some server's.
        assert_eq!(NTO_CHF_PRIVATE, 0x1000);
        let k = Double {
            kernel_pid: 5151,
            ..side()
        };
        assert_eq!(self_pid(&k, &k), Ok(5151));
    }

    #[test]
    fn self_pid_releases_on_every_failure() {
        let fail_on = |name, errno| Double {
            fail_on: Some((name, errno)),
            ..side()
        };
        let k = fail_on("ChannelCreate", Errno::MFILE);
        assert_eq!(self_pid(&k, &k), Err(Errno::MFILE));
        assert_eq!(k.log(), [PRIVATE_CHANNEL]);

        let k = fail_on("ConnectAttach", Errno::AGAIN);
        assert_eq!(self_pid(&k, &k), Err(Errno::AGAIN));
        assert_eq!(
            k.log(),
            [PRIVATE_CHANNEL, SELF_ATTACH, Call::ChannelDestroy(CHID)]
        );

        let k = fail_on("ConnectServerInfo", Errno::BADF);
        assert_eq!(self_pid(&k, &k), Err(Errno::BADF));
        assert_eq!(k.log(), SELF_PID);

        // The kernel names a pid that is not positive.
        let k = Double {
            kernel_pid: 0,
            ..side()
        };
        assert_eq!(self_pid(&k, &k), Err(Errno::SRCH));
        assert_eq!(k.log().len(), 5);

        // A failing cleanup does not change a good answer, and the channel is still destroyed.
        let k = fail_on("ConnectDetach", Errno::BADF);
        assert_eq!(self_pid(&k, &k), Ok(4321));
        assert_eq!(k.log().last(), Some(&Call::ChannelDestroy(CHID)));
    }

    #[test]
    fn self_test_passes_on_a_sane_kernel() {
        let k = sane();
        let r = self_test_with(&k, &k).unwrap();
        assert_eq!(
            r,
            SelfTestReport {
                detach_errno: Errno::INVAL,
                sysmgr_coid: SIDE,
                sysmgr_pid: 1,
                sysmgr_chid: 1,
                pid: 4321,
                kernel_pid: 4321,
            }
        );
        let mut expected = std::vec![
            Call::Detach(-1),
            SYSMGR_ATTACH,
            SIDE_INFO,
            Call::Detach(SIDE),
            Call::Getpid,
        ];
        expected.extend(SELF_PID);
        assert_eq!(k.log(), expected);
    }

    #[test]
    fn self_test_cross_checks_getpid_with_the_kernel() {
        // The TLS pid and the kernel's answer differ: reported, with both values.
        let k = Double {
            kernel_pid: 4343,
            ..sane()
        };
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::PidMismatch {
                getpid: 4321,
                kernel: 4343
            })
        );
        // The sequence itself fails: reported as a failed call, after it released what it made.
        let k = Double {
            fail_on: Some(("ChannelCreate", Errno::AGAIN)),
            ..sane()
        };
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::CallFailed {
                call: "ChannelCreate/ConnectAttach/ConnectServerInfo on our own channel",
                errno: Errno::AGAIN
            })
        );
        assert_eq!(k.log().last(), Some(&PRIVATE_CHANNEL));
    }

    #[test]
    fn self_test_catches_a_broken_error_path() {
        let k = Double {
            detach_invalid: Ok(()),
            ..sane()
        };
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::ErrorPathNotTaken {
                call: "ConnectDetach"
            })
        );

        let k = Double {
            detach_invalid: Err(Errno::BADF),
            ..sane()
        };
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::WrongErrno {
                call: "ConnectDetach",
                expected: Errno::INVAL,
                got: Errno::BADF
            })
        );
    }

    #[test]
    fn self_test_detaches_when_a_check_fails() {
        let k = side(); // the server is pid 0x2001, not the process manager
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::BadValue {
                what: "ConnectServerInfo pid",
                got: 0x2001
            })
        );
        assert_eq!(k.log().last(), Some(&Call::Detach(SIDE)));

        let k = Double {
            fail_on: Some(("ConnectServerInfo", Errno::BADF)),
            ..sane()
        };
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::CallFailed {
                call: "ConnectServerInfo",
                errno: Errno::BADF
            })
        );
        assert_eq!(k.log().last(), Some(&Call::Detach(SIDE)));
    }

    /// The process manager's connection must be a side channel: `_NTO_SIDE_CHANNEL` itself is the first
    /// one (accepted, checked with `ConnectServerInfo`); the coid below it, or a small one, is refused
    /// before `ConnectServerInfo` and detached.
    #[test]
    fn self_test_takes_a_side_channel_coid_only() {
        let first = i32::try_from(NTO_SIDE_CHANNEL).unwrap();
        let k = Double {
            coid: Some(first),
            ..sane()
        };
        let r = self_test_with(&k, &k).unwrap();
        assert_eq!(r.sysmgr_coid, first);
        assert_eq!(
            k.log()[..4],
            [
                Call::Detach(-1),
                SYSMGR_ATTACH,
                Call::ServerInfo {
                    pid: 0,
                    coid: first
                },
                Call::Detach(first)
            ]
        );

        for coid in [first - 1, 5] {
            let k = Double {
                coid: Some(coid),
                ..sane()
            };
            assert_eq!(
                self_test_with(&k, &k),
                Err(SelfTestError::BadValue {
                    what: "ConnectAttach coid",
                    got: i64::from(coid)
                }),
                "{coid:#x}"
            );
            assert_eq!(
                k.log(),
                [Call::Detach(-1), SYSMGR_ATTACH, Call::Detach(coid)],
                "{coid:#x}"
            );
            assert!(k.open.borrow().is_empty(), "{coid:#x}");
        }
    }

    #[test]
    fn self_test_error_display() {
        use std::string::ToString;
        let e = SelfTestError::WrongErrno {
            call: "ConnectDetach",
            expected: Errno::INVAL,
            got: Errno::BADF,
        };
        assert_eq!(
            e.to_string(),
            "ConnectDetach failed with Errno(EBADF), expected Errno(EINVAL)"
        );
        let e = SelfTestError::PidMismatch {
            getpid: 7,
            kernel: 8,
        };
        assert_eq!(
            e.to_string(),
            "getpid says 7, the kernel names this process 8"
        );
    }
}
