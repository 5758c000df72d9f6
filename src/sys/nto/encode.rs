//! The pure half of the Neutrino backend's kernel calls: how arguments become register values and how
//! results come back.
//!
//! Nothing here traps or touches memory it does not own, so this module is compiled on every target and
//! its tests run on the host and under Miri. The backends (`raw` traps and the libc-routed `clib`) only
//! move values between these functions and the kernel:
//!
//! - how a C argument becomes a register value on 64-bit targets, or a 32-bit stack slot on 32-bit x86
//!   ([`int_arg`], [`uint_arg`], [`buf_len`]);
//! - how a trap stub's result becomes `Result<_, Errno>` ([`int_result`], [`long_result`]), and how a libc
//!   entry point's `-1` + `errno` does ([`libc_int`], [`libc_long`]);
//! - what the kernel's answers mean ([`check_server_info`]) and what the raw 8.0
//!   registration passes ([`dupfd_register_op`], [`dupfd_register_header`]).
//!
//! Section numbers (§) refer to the project's ABI fact sheet, `docs/qnx-abi.md` in this repository.

use crate::errno::Errno;
use crate::wire::MsgInfo64;

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
#[cfg(any(test, feature = "libc-calls", all(neutrino, feature = "kernel-seams")))]
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
#[cfg(any(test, feature = "libc-calls", all(neutrino, feature = "kernel-seams")))]
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

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
    fn raw_registration_op_follows_the_flag() {
        assert_eq!(dupfd_register_op(crate::sys::DUPFD_NO_DISCARD), 1);
        assert_eq!(dupfd_register_op(0), 2);
    }
}
