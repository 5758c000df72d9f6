//! The pure half of the Neutrino backend: register encoding, result decoding and the call sequences.
//!
//! Nothing here traps or touches memory it does not own, so this module is compiled on every target and
//! its tests run on the host and under Miri. The backends in `nto` (raw traps and the libc-routed twin)
//! only move values between these functions and the kernel.
//!
//! What lives here, and why it is worth testing away from a kernel:
//!
//! - how a C argument becomes a register value on 64-bit targets, or a 32-bit stack slot on 32-bit x86
//!   ([`int_arg`], [`uint_arg`], [`buf_len`]);
//! - how a trap stub's result becomes `Result<_, Errno>` ([`int_result`], [`long_result`]), and how a libc
//!   entry point's `-1` + `errno` does ([`libc_int`], [`libc_long`]);
//! - the multi-call sequences whose cleanup order matters: [`self_pid`] (the pid by kernel calls alone,
//!   §5: the self-test's cross-check of the TLS pid),
//!   [`close_with`] and [`close_retrying`] (what libc's `close()` does, §9.5), [`self_test_with`] (the
//!   error-path probe).
//!
//! Section numbers (§) refer to the project's ABI fact sheet, `docs/qnx-abi.md` in this repository.

// On targets other than Neutrino only the tests use this module.
#![cfg_attr(not(any(target_os = "nto", target_os = "qnx")), allow(dead_code))]

use core::fmt;

use zerocopy::IntoBytes;

use crate::sys::Kernel;
#[cfg(any(test, target_pointer_width = "32"))]
use crate::wire::MsgInfo32;
use crate::wire::{IoClose, MsgInfo64, ND_LOCAL_NODE, NTO_SIDE_CHANNEL};
use crate::Errno;

/// `SYSMGR_PID`: the process manager's pid. CONFIRMED, all versions (§2.4).
pub(crate) const SYSMGR_PID: i32 = 1;
/// `SYSMGR_CHID`: the process manager's channel. CONFIRMED, all versions (§2.4).
pub(crate) const SYSMGR_CHID: i32 = 1;

/// The register value for a C `int` (or `pid_t`) argument: sign-extended to the pointer width (64 bits
/// in a register, as a C compiler would for a `long` parameter, so the kernel never sees undefined upper
/// bits; on 32-bit x86 the value itself, in its stack slot).
#[must_use]
pub(crate) const fn int_arg(v: i32) -> usize {
    v as isize as usize
}

/// The register value for a C `unsigned` argument: zero-extended to the pointer width.
#[must_use]
pub(crate) const fn uint_arg(v: u32) -> usize {
    v as usize
}

/// Checks a plain-buffer length for `MsgSend`/`MsgSendnc`.
///
/// The raw stubs negate the length before the trap, because a negative part count tells the kernel the
/// argument is a buffer of that many bytes rather than an `iov_t` array (§4.3). The negation is exact only
/// for lengths up to `isize::MAX`; a Rust slice never exceeds that, so the error is a guard, not a path.
///
/// # Errors
///
/// [`Errno::MSGSIZE`] if `-len` does not fit in an `isize`.
pub(crate) const fn buf_len(len: usize) -> Result<usize, Errno> {
    if len <= isize::MAX as usize {
        Ok(len)
    } else {
        Err(Errno::MSGSIZE)
    }
}

/// What the kernel receives for a plain buffer of `len` bytes: the negated length (§4.3). The stubs do
/// this negation in machine code; this is the model the tests hold them to.
#[cfg(test)]
const fn kernel_parts(len: usize) -> isize {
    -(len as isize)
}

/// Decodes a raw trap stub's result for a call whose C return type is `int`.
///
/// The stubs return the kernel's value on success and `-errno` on failure (the "NEGATIVE" `_r` shape,
/// §4.1). Only the low 32 bits are read: the C function returns `int`, and both a 32-bit and a 64-bit
/// negation of a small errno leave the same low 32 bits, so this is correct whichever width the kernel
/// writes (libc's own error path reads only the low 32 bits too, `qnx-abi.md` §9.1).
///
/// # Errors
///
/// The errno the kernel reported.
pub(crate) const fn int_result(r: isize) -> Result<i32, Errno> {
    let v = r as i32;
    if v < 0 {
        Err(Errno::from_raw(v.wrapping_neg()))
    } else {
        Ok(v)
    }
}

/// Decodes a raw trap stub's result for a call whose C return type is `long` (`MsgSend*`).
///
/// # Errors
///
/// The errno the kernel reported.
pub(crate) const fn long_result(r: isize) -> Result<isize, Errno> {
    if r < 0 {
        Err(Errno::from_raw(r.wrapping_neg() as i32))
    } else {
        Ok(r)
    }
}

/// Decodes a QNX C library result of type `int`: `-1` means failure with the reason in `errno`, read
/// only then.
///
/// # Errors
///
/// The thread's `errno` when `r == -1`.
#[cfg(any(test, feature = "libc-calls"))]
pub(crate) fn libc_int(r: i32, errno: impl FnOnce() -> i32) -> Result<i32, Errno> {
    if r == -1 {
        Err(Errno::from_raw(errno()))
    } else {
        Ok(r)
    }
}

/// Decodes a QNX C library result of type `long` (`MsgSend*`), like [`libc_int`].
///
/// # Errors
///
/// The thread's `errno` when `r == -1`.
#[cfg(any(test, feature = "libc-calls"))]
pub(crate) fn libc_long(r: isize, errno: impl FnOnce() -> i32) -> Result<isize, Errno> {
    if r == -1 {
        Err(Errno::from_raw(errno()))
    } else {
        Ok(r)
    }
}

/// Checks `ConnectServerInfo`'s answer: the kernel returns the *next higher* existing connection when
/// `coid` does not exist (§2.5), so anything but `coid` itself means `coid` is not open.
///
/// # Errors
///
/// [`Errno::BADF`] if `ret != coid`.
pub(crate) const fn check_server_info(ret: i32, coid: i32) -> Result<(), Errno> {
    if ret == coid {
        Ok(())
    } else {
        Err(Errno::BADF)
    }
}

/// A 32-bit process's `ConnectServerInfo` answer, the 48-byte `_msg_info32` (6.x `_msg_info`, §1.1,
/// §1.2), as the [`MsgInfo64`] the rest of the crate reads: every field keeps its value (the lengths are
/// sign-extended), only the layout changes.
///
/// Reading the 32-bit answer through the 64-bit layout instead would put `msglen` where `priority` and
/// `flags` are and shift everything after the 28-byte header; tickets copy only that header, but the
/// `_NTO_COF_DEAD` bit in `flags` would be read from the wrong bytes.
///
/// Only 32-bit Neutrino targets need it (and the host tests, which check it).
#[cfg(any(test, target_pointer_width = "32"))]
#[must_use]
pub(crate) const fn widen_server_info(i: MsgInfo32) -> MsgInfo64 {
    MsgInfo64 {
        nd: i.nd,
        srcnd: i.srcnd,
        pid: i.pid,
        tid: i.tid,
        chid: i.chid,
        scoid: i.scoid,
        coid: i.coid,
        priority: i.priority,
        flags: i.flags,
        msglen: i.msglen as i64,
        srcmsglen: i.srcmsglen as i64,
        dstmsglen: i.dstmsglen as i64,
        type_id: i.type_id,
        reserved: 0,
    }
}

/// `_NTO_CHF_PRIVATE`: a channel only its own process may connect to, which needs no `public_channel`
/// ability. CONFIRMED 0x1000 in the QNX 7.0, 7.1 and 8.0 headers (§9.4). QNX 6.x has no such flag (its
/// channel flags end at 0x0800); its kernel stores `ChannelCreate`'s flags without checking for unknown
/// bits and no 6.x code tests this one (CONFIRMED in the 6.4 kernel source), so the same value is
/// harmless there and one binary serves 6.x and 7.0.
pub(crate) const NTO_CHF_PRIVATE: u32 = 0x1000;

/// The channel calls [`self_pid`] needs beyond [`Kernel`] (implemented by the Neutrino backends).
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
pub(crate) fn self_pid<K: Kernel + ?Sized, C: ChannelCalls + ?Sized>(
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
    let info = k.connect_server_info(0, coid);
    // Cleanup errors cannot change the answer, and there is nothing more to release.
    let _ = k.connect_detach(coid);
    let _ = ch.channel_destroy(chid);
    match info {
        Ok(si) if si.pid > 0 => Ok(si.pid),
        Ok(_) => Err(Errno::SRCH),
        Err(e) => Err(e),
    }
}

/// What libc's `close()` does for a connection (qnx-abi.md §9.5): an `_IO_CLOSE` message to the server
/// with `MsgSend`, then, **unless that send was interrupted** (`EINTR`), `ConnectDetach`; the result is the
/// server's answer.
///
/// After `EINTR` the descriptor is still open and still bound in the server: detaching then would drop the
/// connection link without the server hearing of it (every descriptor a process holds to one channel
/// shares one kernel connection, and the server is told only when the last link goes), so the server
/// would keep a binding for this descriptor number, and a later bind of the same number to that server
/// would fail with `EBUSY`. The caller retries ([`close_retrying`]) or keeps the descriptor.
///
/// # Errors
///
/// `EINTR` (the descriptor is still open); otherwise the server's error for `_IO_CLOSE` (the descriptor is
/// detached all the same, as libc does), or the errno of `ConnectDetach`.
pub(crate) fn close_with<K: Kernel + ?Sized>(k: &K, coid: i32) -> Result<(), Errno> {
    let msg = IoClose::new();
    let sent = k.msg_send(coid, msg.as_bytes(), &mut []);
    if sent == Err(Errno::INTR) {
        return Err(Errno::INTR);
    }
    let detached = k.connect_detach(coid);
    match sent {
        Err(e) => Err(e),
        Ok(_) => detached,
    }
}

/// How many times [`close_retrying`] calls `close` while it answers `EINTR`.
pub(crate) const CLOSE_ATTEMPTS: usize = 8;

/// [`Kernel::close`], repeated while it is interrupted, at most [`CLOSE_ATTEMPTS`] times: how every
/// descriptor the crate owns is closed (`OwnedFd`'s drop, `qnx_fdpass::close`, a failed redeem, a batch
/// rolled back).
///
/// On Neutrino an interrupted `close()` leaves the descriptor open (libc does not detach after `EINTR`,
/// §9.5), so trying again is correct and cannot close a descriptor another thread has opened since.
///
/// # Errors
///
/// The last answer of `close`: `EINTR` after [`CLOSE_ATTEMPTS`] interrupted attempts, in which case the
/// descriptor stays open (leaked rather than detached behind the server's back).
pub(crate) fn close_retrying<K: Kernel + ?Sized>(k: &K, coid: i32) -> Result<(), Errno> {
    let mut result = k.close(coid);
    let mut attempts = 1;
    while result == Err(Errno::INTR) && attempts < CLOSE_ATTEMPTS {
        result = k.close(coid);
        attempts += 1;
    }
    result
}

/// The `ConnectDupFd` operation the raw backend registers with for `dupfd_register()` `flags`: the plain
/// `_NTO_DUPFD_REGISTER` (1) with [`DUPFD_NO_DISCARD`](crate::sys::DUPFD_NO_DISCARD), else
/// `_NTO_DUPFD_REGISTER_DISC` (2).
///
/// **INFERRED** (qnx-abi.md §9.4): both values are CONFIRMED (SDP 8.0 headers), but which one libc's
/// `dupfd_register()` issues for which flag is not public; "DISC" is read as "discard the oldest when
/// full", the behaviour the documentation gives for flags without `DUPFD_NO_DISCARD`.
// Used by the raw 8.0 registration only.
#[cfg_attr(not(any(test, qnx_v8)), allow(dead_code))]
pub(crate) const fn dupfd_register_op(flags: u32) -> i32 {
    if flags & crate::sys::DUPFD_NO_DISCARD != 0 {
        1
    } else {
        2
    }
}

/// The `info` header the raw 8.0 registration passes to `ConnectDupFd`: the one the receiver's `_IO_DUP`
/// will carry for this ticket (server `nd`, `chid`, `scoid`, the sender's descriptor in `coid`, the
/// **owner's pid** in `pid`, `srcnd` and `tid` 0), so that whatever the kernel compares at redeem time, it
/// was given the same header at registration (qnx-abi.md §9.4; which form the kernel expects is UNKNOWN).
// Used by the raw 8.0 registration only.
#[cfg_attr(not(any(test, qnx_v8)), allow(dead_code))]
pub(crate) fn dupfd_register_header(server: &MsgInfo64, owner: i32) -> crate::wire::MsgInfoHdr {
    let mut hdr = server.hdr();
    hdr.srcnd = 0;
    hdr.pid = owner;
    hdr.tid = 0;
    hdr
}

/// What a successful `nto::self_test` observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
pub(crate) fn self_test_with<K: Kernel + ?Sized, C: ChannelCalls + ?Sized>(
    k: &K,
    ch: &C,
) -> Result<SelfTestReport, SelfTestError> {
    let detach_errno = match k.connect_detach(-1) {
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
    let detached = k.connect_detach(coid);
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
fn check_sysmgr<K: Kernel + ?Sized>(k: &K, coid: i32) -> Result<MsgInfo64, SelfTestError> {
    if u32::try_from(coid).map_or(true, |c| c < NTO_SIDE_CHANNEL) {
        return Err(SelfTestError::BadValue {
            what: "ConnectAttach coid",
            got: i64::from(coid),
        });
    }
    let info = k
        .connect_server_info(0, coid)
        .map_err(|errno| SelfTestError::CallFailed {
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
    use core::cell::RefCell;
    use std::vec::Vec;

    #[test]
    fn argument_registers() {
        assert_eq!(int_arg(-1), usize::MAX);
        assert_eq!(int_arg(-22), 0usize.wrapping_sub(22));
        assert_eq!(int_arg(7), 7);
        assert_eq!(uint_arg(0x4000_0000), 0x4000_0000);
        assert_eq!(uint_arg(u32::MAX), 0xffff_ffff);
    }

    #[test]
    fn buffer_lengths_negate_exactly() {
        assert_eq!(buf_len(0), Ok(0));
        assert_eq!(buf_len(60), Ok(60));
        assert_eq!(buf_len(isize::MAX as usize), Ok(isize::MAX as usize));
        assert_eq!(buf_len(isize::MAX as usize + 1), Err(Errno::MSGSIZE));
        assert_eq!(buf_len(usize::MAX), Err(Errno::MSGSIZE));
        // What the stub hands the kernel for each accepted length: -len, and 0 parts for no buffer.
        assert_eq!(kernel_parts(buf_len(60).unwrap()), -60);
        assert_eq!(kernel_parts(buf_len(0).unwrap()), 0);
        assert_eq!(
            kernel_parts(buf_len(isize::MAX as usize).unwrap()),
            -isize::MAX
        );
    }

    #[test]
    fn trap_results() {
        assert_eq!(int_result(0), Ok(0));
        assert_eq!(int_result(0x4000_0003), Ok(0x4000_0003));
        assert_eq!(int_result(-22), Err(Errno::INVAL));
        assert_eq!(int_result(-9), Err(Errno::BADF));
        // A kernel that negates only the low 32 bits (upper bits zero) decodes the same.
        assert_eq!(int_result(0xffff_ffea_isize), Err(Errno::INVAL));
        assert_eq!(long_result(0), Ok(0));
        assert_eq!(long_result(1234), Ok(1234));
        assert_eq!(long_result(-89), Err(Errno::NOSYS));
        assert_eq!(long_result(isize::MIN), Err(Errno::from_raw(0)));
    }

    #[test]
    fn libc_results() {
        let never = || -> i32 { panic!("errno read on success") };
        assert_eq!(libc_int(3, never), Ok(3));
        assert_eq!(libc_int(0, never), Ok(0));
        assert_eq!(libc_int(-1, || 22), Err(Errno::INVAL));
        assert_eq!(libc_long(60, never), Ok(60));
        assert_eq!(libc_long(-1, || 3), Err(Errno::SRCH));
    }

    #[test]
    fn server_info_coid_check() {
        assert_eq!(check_server_info(5, 5), Ok(()));
        assert_eq!(check_server_info(6, 5), Err(Errno::BADF));
        assert_eq!(check_server_info(0x4000_0000, 5), Err(Errno::BADF));
    }

    #[test]
    fn server_info_widens_field_by_field() {
        use zerocopy::FromBytes;
        // What a 32-bit kernel writes: the 6.x / `_msg_info32` layout, each field a distinct value.
        let mut raw = [0u8; 48];
        for (k, v) in [
            (0, 1u32),
            (4, 2),
            (8, 77),
            (12, 4),
            (16, 5),
            (20, 0x4000_0006),
            (24, 7),
        ] {
            raw[k..k + 4].copy_from_slice(&v.to_le_bytes());
        }
        raw[28..32].copy_from_slice(&(-8i32).to_le_bytes()); // msglen
        raw[32..36].copy_from_slice(&9i32.to_le_bytes()); // srcmsglen
        raw[36..40].copy_from_slice(&10i32.to_le_bytes()); // dstmsglen
        raw[40..42].copy_from_slice(&11i16.to_le_bytes()); // priority
        raw[42..44].copy_from_slice(&2i16.to_le_bytes()); // flags: _NTO_COF_DEAD
        raw[44..48].copy_from_slice(&13u32.to_le_bytes()); // type_id
        let narrow = MsgInfo32::read_from_bytes(&raw[..]).unwrap();
        let wide = widen_server_info(narrow);
        assert_eq!(
            wide,
            MsgInfo64 {
                nd: 1,
                srcnd: 2,
                pid: 77,
                tid: 4,
                chid: 5,
                scoid: 0x4000_0006,
                coid: 7,
                priority: 11,
                flags: 2,
                msglen: -8,
                srcmsglen: 9,
                dstmsglen: 10,
                type_id: 13,
                reserved: 0,
            }
        );
        assert_eq!(wide.hdr(), narrow.hdr());
        // The same bytes read as the 64-bit layout give a different, wrong answer: the trap this avoids.
        let mut as64 = [0u8; 64];
        as64[..48].copy_from_slice(&raw);
        let wrong = MsgInfo64::read_from_bytes(&as64[..]).unwrap();
        assert_ne!(wrong.flags, wide.flags);
        assert_ne!(wrong.msglen, wide.msglen);
    }

    /// One recorded kernel call.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Call {
        ChannelCreate(u32),
        ChannelDestroy(i32),
        Attach { pid: i32, chid: i32, index: u32 },
        Detach(i32),
        ServerInfo(i32),
        SendncClose(i32),
        SendClose(i32),
        Getpid,
    }

    /// A kernel double: records calls, fails the one named in `fail`.
    struct Double {
        log: RefCell<Vec<Call>>,
        fail: Option<(&'static str, Errno)>,
        server_pid: i32,
        /// The pid `ConnectServerInfo` names on a connection attached with pid 0 (to ourselves).
        own_pid: i32,
        /// The pid of the last `ConnectAttach`.
        attached_pid: core::cell::Cell<i32>,
        /// `MsgSend` answers `EINTR` this many more times.
        intr: core::cell::Cell<usize>,
    }

    impl Double {
        fn new(fail: Option<(&'static str, Errno)>) -> Self {
            Self {
                log: RefCell::new(Vec::new()),
                fail,
                server_pid: 77,
                own_pid: 4242,
                attached_pid: core::cell::Cell::new(-1),
                intr: core::cell::Cell::new(0),
            }
        }
        fn call(&self, name: &'static str, c: Call) -> Result<(), Errno> {
            self.log.borrow_mut().push(c);
            match self.fail {
                Some((n, e)) if n == name => Err(e),
                _ => Ok(()),
            }
        }
        fn log(&self) -> Vec<Call> {
            self.log.borrow().clone()
        }
    }

    const CHID: i32 = 3;
    const SIDE: i32 = 0x4000_0002;

    impl ChannelCalls for Double {
        fn channel_create(&self, flags: u32) -> Result<i32, Errno> {
            self.call("ChannelCreate", Call::ChannelCreate(flags))
                .map(|()| CHID)
        }
        fn channel_destroy(&self, chid: i32) -> Result<(), Errno> {
            self.call("ChannelDestroy", Call::ChannelDestroy(chid))
        }
    }

    impl Kernel for Double {
        fn connect_attach(
            &self,
            _nd: u32,
            pid: i32,
            chid: i32,
            index: u32,
            _flags: i32,
        ) -> Result<i32, Errno> {
            self.attached_pid.set(pid);
            self.call("ConnectAttach", Call::Attach { pid, chid, index })
                .map(|()| SIDE)
        }
        fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
            if coid == -1 {
                self.log.borrow_mut().push(Call::Detach(coid));
                return match self.fail {
                    Some(("ConnectDetach(-1)", e)) => Err(e),
                    Some(("ConnectDetach(-1) ok", _)) => Ok(()),
                    _ => Err(Errno::INVAL),
                };
            }
            self.call("ConnectDetach", Call::Detach(coid))
        }
        fn connect_server_info(&self, _pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
            self.call("ConnectServerInfo", Call::ServerInfo(coid))?;
            let pid = if self.fail.map(|f| f.0) == Some("bad pid") {
                0
            } else if self.attached_pid.get() == 0 {
                self.own_pid
            } else {
                self.server_pid
            };
            Ok(MsgInfo64 {
                pid,
                chid: 1,
                coid,
                ..MsgInfo64::default()
            })
        }
        fn connect_flags(
            &self,
            _pid: i32,
            _coid: i32,
            _mask: u32,
            _bits: u32,
        ) -> Result<u32, Errno> {
            Ok(0)
        }
        fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
            assert_eq!(smsg, IoClose::new().as_bytes());
            assert_eq!(smsg, &[0x16, 0x01, 4, 0]);
            assert!(rmsg.is_empty());
            self.call("MsgSendnc", Call::SendncClose(coid)).map(|()| 0)
        }
        fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
            assert_eq!(smsg, IoClose::new().as_bytes());
            assert!(rmsg.is_empty());
            self.call("MsgSend", Call::SendClose(coid))?;
            if self.intr.get() > 0 {
                self.intr.set(self.intr.get() - 1);
                return Err(Errno::INTR);
            }
            Ok(0)
        }
        fn close(&self, coid: i32) -> Result<(), Errno> {
            close_with(self, coid)
        }
        fn getpid(&self) -> Result<i32, Errno> {
            self.call("getpid", Call::Getpid).map(|()| 4242)
        }
        fn dupfd_register(&self, _dstpid: i32, _fd: i32, _flags: u32) -> Result<u64, Errno> {
            Err(Errno::NOSYS)
        }
    }

    const SELF_ATTACH: Call = Call::Attach {
        pid: 0,
        chid: CHID,
        index: NTO_SIDE_CHANNEL,
    };
    const PRIVATE_CHANNEL: Call = Call::ChannelCreate(NTO_CHF_PRIVATE);
    /// The whole `self_pid` sequence, in order.
    const SELF_PID: [Call; 5] = [
        PRIVATE_CHANNEL,
        SELF_ATTACH,
        Call::ServerInfo(SIDE),
        Call::Detach(SIDE),
        Call::ChannelDestroy(CHID),
    ];

    #[test]
    fn self_pid_sequence() {
        let k = Double::new(None);
        assert_eq!(self_pid(&k, &k), Ok(4242));
        assert_eq!(k.log(), SELF_PID);
        // The channel is private (no `public_channel` ability needed), and the pid is the one the kernel
        // names for a connection to ourselves, not some server's.
        assert_eq!(NTO_CHF_PRIVATE, 0x1000);
        let mut k = Double::new(None);
        k.own_pid = 5151;
        assert_eq!(self_pid(&k, &k), Ok(5151));
    }

    #[test]
    fn self_pid_releases_on_every_failure() {
        let k = Double::new(Some(("ChannelCreate", Errno::MFILE)));
        assert_eq!(self_pid(&k, &k), Err(Errno::MFILE));
        assert_eq!(k.log(), [PRIVATE_CHANNEL]);

        let k = Double::new(Some(("ConnectAttach", Errno::AGAIN)));
        assert_eq!(self_pid(&k, &k), Err(Errno::AGAIN));
        assert_eq!(
            k.log(),
            [PRIVATE_CHANNEL, SELF_ATTACH, Call::ChannelDestroy(CHID)]
        );

        let k = Double::new(Some(("ConnectServerInfo", Errno::BADF)));
        assert_eq!(self_pid(&k, &k), Err(Errno::BADF));
        assert_eq!(k.log(), SELF_PID);

        let k = Double::new(Some(("bad pid", Errno::IO)));
        assert_eq!(self_pid(&k, &k), Err(Errno::SRCH));
        assert_eq!(k.log().len(), 5);

        // A failing cleanup does not change a good answer, and the channel is still destroyed.
        let k = Double::new(Some(("ConnectDetach", Errno::BADF)));
        assert_eq!(self_pid(&k, &k), Ok(4242));
        assert_eq!(k.log().last(), Some(&Call::ChannelDestroy(CHID)));
    }

    #[test]
    fn close_sends_io_close_then_detaches() {
        // libc's close(): `_IO_CLOSE` with MsgSend (a cancellation point), not MsgSendnc.
        let k = Double::new(None);
        assert_eq!(close_with(&k, 5), Ok(()));
        assert_eq!(k.log(), [Call::SendClose(5), Call::Detach(5)]);

        // The server's answer is the result; the connection is detached all the same.
        let k = Double::new(Some(("MsgSend", Errno::SRVRFAULT)));
        assert_eq!(close_with(&k, 5), Err(Errno::SRVRFAULT));
        assert_eq!(k.log(), [Call::SendClose(5), Call::Detach(5)]);

        let k = Double::new(Some(("ConnectDetach", Errno::BADF)));
        assert_eq!(close_with(&k, 5), Err(Errno::BADF));
    }

    #[test]
    fn interrupted_close_does_not_detach() {
        // EINTR: the server still holds the binding, so the descriptor must stay attached.
        let k = Double::new(Some(("MsgSend", Errno::INTR)));
        assert_eq!(close_with(&k, 5), Err(Errno::INTR));
        assert_eq!(k.log(), [Call::SendClose(5)]);
    }

    #[test]
    fn close_retries_while_interrupted_and_gives_up_attached() {
        // Two interruptions, then the close goes through: three `_IO_CLOSE`s, one detach.
        let k = Double::new(None);
        k.intr.set(2);
        assert_eq!(close_retrying(&k, 5), Ok(()));
        assert_eq!(
            k.log(),
            [
                Call::SendClose(5),
                Call::SendClose(5),
                Call::SendClose(5),
                Call::Detach(5)
            ]
        );
        // Interrupted every time: bounded, and never detached.
        let k = Double::new(Some(("MsgSend", Errno::INTR)));
        assert_eq!(close_retrying(&k, 5), Err(Errno::INTR));
        assert_eq!(k.log(), [Call::SendClose(5); CLOSE_ATTEMPTS]);
        // Another error is not retried.
        let k = Double::new(Some(("MsgSend", Errno::SRVRFAULT)));
        assert_eq!(close_retrying(&k, 5), Err(Errno::SRVRFAULT));
        assert_eq!(k.log(), [Call::SendClose(5), Call::Detach(5)]);
    }

    #[test]
    fn raw_registration_op_follows_the_flag() {
        assert_eq!(dupfd_register_op(crate::sys::DUPFD_NO_DISCARD), 1);
        assert_eq!(dupfd_register_op(0), 2);
    }

    #[test]
    fn self_test_passes_on_a_sane_kernel() {
        let mut k = Double::new(None);
        k.server_pid = SYSMGR_PID;
        let r = self_test_with(&k, &k).unwrap();
        assert_eq!(
            r,
            SelfTestReport {
                detach_errno: Errno::INVAL,
                sysmgr_coid: SIDE,
                sysmgr_pid: 1,
                sysmgr_chid: 1,
                pid: 4242,
                kernel_pid: 4242,
            }
        );
        let sysmgr = Call::Attach {
            pid: SYSMGR_PID,
            chid: SYSMGR_CHID,
            index: NTO_SIDE_CHANNEL,
        };
        let mut expected = std::vec![
            Call::Detach(-1),
            sysmgr,
            Call::ServerInfo(SIDE),
            Call::Detach(SIDE),
            Call::Getpid,
        ];
        expected.extend(SELF_PID);
        assert_eq!(k.log(), expected);
    }

    #[test]
    fn self_test_cross_checks_getpid_with_the_kernel() {
        // The TLS pid and the kernel's answer differ: reported, with both values.
        let mut k = Double::new(None);
        k.server_pid = SYSMGR_PID;
        k.own_pid = 4343;
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::PidMismatch {
                getpid: 4242,
                kernel: 4343
            })
        );
        // The sequence itself fails: reported as a failed call, after it released what it made.
        let mut k = Double::new(Some(("ChannelCreate", Errno::AGAIN)));
        k.server_pid = SYSMGR_PID;
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
        let mut k = Double::new(Some(("ConnectDetach(-1) ok", Errno::IO)));
        k.server_pid = SYSMGR_PID;
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::ErrorPathNotTaken {
                call: "ConnectDetach"
            })
        );

        let mut k = Double::new(Some(("ConnectDetach(-1)", Errno::BADF)));
        k.server_pid = SYSMGR_PID;
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
        let k = Double::new(None); // server pid 77, not the process manager
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::BadValue {
                what: "ConnectServerInfo pid",
                got: 77
            })
        );
        assert_eq!(k.log().last(), Some(&Call::Detach(SIDE)));

        let mut k = Double::new(Some(("ConnectServerInfo", Errno::BADF)));
        k.server_pid = SYSMGR_PID;
        assert_eq!(
            self_test_with(&k, &k),
            Err(SelfTestError::CallFailed {
                call: "ConnectServerInfo",
                errno: Errno::BADF
            })
        );
        assert_eq!(k.log().last(), Some(&Call::Detach(SIDE)));
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
