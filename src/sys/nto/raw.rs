//! Typed wrappers over the raw trap stubs, and [`Raw`]'s [`NeutrinoKernel`] implementation.
//!
//! Each wrapper turns Rust arguments into register values (`encode::int_arg`, `uint_arg`, `buf_len`),
//! calls the stub for its kernel call, and decodes `-errno` into [`Errno`]. The stubs live in `arch/`; the
//! numbers in [`nr`](crate::sys::nto::nr).

use core::ptr::addr_of_mut;

use super::arch::{self, stub_symbol};
use super::{server_info64, Raw, ServerInfo};
use crate::errno::Errno;
use crate::sys::nto::close::close_with;
use crate::sys::nto::encode::{self, buf_len, int_arg, int_result, long_result, uint_arg};
use crate::sys::nto::selftest::ChannelCalls;
use crate::sys::{DupfdRecord, Kernel, NeutrinoKernel};
use crate::wire::MsgInfo64;
#[cfg(qnx_v8)]
use crate::wire::MsgInfoHdr;

// The trap stubs (`arch/`), one per kernel call: each returns the call's result, or `-errno`. Their
// symbols carry the crate's major and minor version (`arch::stub_symbol!`), so two semver-incompatible
// copies of this crate link into one image. Each takes only the arguments its kernel call takes, as
// `usize` (a register, or a 32-bit stack slot on x86), in C prototype order.
//
// Safety, for every stub: the arguments must satisfy the kernel call's contract (pointers valid for what
// the kernel reads or writes through them); argument registers past the declared ones may hold anything.
extern "C" {
    #[link_name = stub_symbol!(msg_send)]
    fn ker_msg_send(coid: usize, smsg: usize, sbytes: usize, rmsg: usize, rbytes: usize) -> isize;
    #[link_name = stub_symbol!(msg_sendnc)]
    fn ker_msg_sendnc(coid: usize, smsg: usize, sbytes: usize, rmsg: usize, rbytes: usize)
        -> isize;
    #[link_name = stub_symbol!(channel_create)]
    fn ker_channel_create(flags: usize) -> isize;
    #[link_name = stub_symbol!(channel_destroy)]
    fn ker_channel_destroy(chid: usize) -> isize;
    #[link_name = stub_symbol!(connect_attach)]
    fn ker_connect_attach(nd: usize, pid: usize, chid: usize, index: usize, flags: usize) -> isize;
    #[link_name = stub_symbol!(connect_detach)]
    fn ker_connect_detach(coid: usize) -> isize;
    #[link_name = stub_symbol!(connect_server_info)]
    fn ker_connect_server_info(pid: usize, coid: usize, info: usize) -> isize;
    #[link_name = stub_symbol!(connect_flags)]
    fn ker_connect_flags(pid: usize, coid: usize, mask: usize, bits: usize) -> isize;
    #[link_name = stub_symbol!(timer_timeout)]
    fn ker_timer_timeout(
        id: usize,
        flags: usize,
        notify: usize,
        ntime: usize,
        otime: usize,
    ) -> isize;
    #[cfg(qnx_v8)]
    #[link_name = stub_symbol!(connect_dupfd)]
    fn ker_connect_dupfd(
        op: usize,
        dstpid: usize,
        handle: usize,
        srvpid: usize,
        info: usize,
    ) -> isize;
}

/// `ConnectAttach(nd, pid, chid, index, flags)`: a new connection to channel `chid` of process `pid`
/// (0 = this process); returns the coid.
pub(crate) fn connect_attach(
    nd: u32,
    pid: i32,
    chid: i32,
    index: u32,
    flags: i32,
) -> Result<i32, Errno> {
    // SAFETY: every argument is an integer, which the kernel validates (§2.5); no memory is passed.
    let r = unsafe {
        ker_connect_attach(
            uint_arg(nd),
            int_arg(pid),
            int_arg(chid),
            uint_arg(index),
            int_arg(flags),
        )
    };
    int_result(r)
}

/// `ConnectDetach(coid)`: drops the connection without telling the server.
pub(crate) fn connect_detach(coid: i32) -> Result<(), Errno> {
    // SAFETY: the only argument is an integer, which the kernel validates; no memory is passed.
    let r = unsafe { ker_connect_detach(int_arg(coid)) };
    int_result(r).map(drop)
}

/// `ConnectServerInfo(pid, coid, &info)` into a zeroed `_server_info` of this process's width
/// (`_msg_info64`, or `_msg_info32` in a 32-bit process), returned as a [`MsgInfo64`].
///
/// # Errors
///
/// The kernel's errno, or `EBADF` when the kernel answers with another coid (it returns the next higher
/// existing one when `coid` is not open, §2.5).
pub(crate) fn connect_server_info(pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
    let mut info = ServerInfo::default();
    // SAFETY: `info` is a live, exclusively borrowed, zeroed `_server_info` of the layout the kernel
    // writes for a process of this width (64-byte `_msg_info64` on 64-bit targets, 48-byte `_msg_info32`
    // on 32-bit x86, §1.1, §1.2); the kernel writes only inside it, during the call.
    let r = unsafe {
        ker_connect_server_info(int_arg(pid), int_arg(coid), addr_of_mut!(info) as usize)
    };
    encode::check_server_info(int_result(r)?, coid)?;
    Ok(server_info64(info))
}

/// `ConnectFlags(pid, coid, mask, bits)`: sets the `mask` bits of the connection's flags to `bits`;
/// returns the previous flags.
pub(crate) fn connect_flags(pid: i32, coid: i32, mask: u32, bits: u32) -> Result<u32, Errno> {
    // SAFETY: every argument is an integer, which the kernel validates; no memory is passed.
    let r =
        unsafe { ker_connect_flags(int_arg(pid), int_arg(coid), uint_arg(mask), uint_arg(bits)) };
    // A non-negative int is the old flag word.
    int_result(r).map(|v| v as u32)
}

/// `TimerTimeout(clock, flags, NULL, &nanos, NULL)`: a relative timeout for the calling thread's next
/// blocking kernel call in the states `flags` names; returns the previous flags.
pub(crate) fn timer_timeout(clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
    let ntime = nanos;
    // SAFETY: `ntime` is a live, aligned u64 that the kernel only reads, during the call (6.4
    // `ker_timer_timeout` copies it before returning); `notify` and `otime` are null (no event: the
    // kernel unblocks with ETIMEDOUT; no remaining time asked); the rest are integers it validates.
    let r = unsafe {
        ker_timer_timeout(
            int_arg(clock),
            uint_arg(flags),
            0,
            core::ptr::addr_of!(ntime) as usize,
            0,
        )
    };
    // A non-negative int is the previous flag word.
    int_result(r).map(|v| v as u32)
}

/// `ChannelCreate(flags)`: a new channel of this process; returns the chid.
pub(crate) fn channel_create(flags: u32) -> Result<i32, Errno> {
    // SAFETY: the only argument is an integer, which the kernel validates; no memory is passed.
    let r = unsafe { ker_channel_create(uint_arg(flags)) };
    int_result(r)
}

/// `ChannelDestroy(chid)`.
pub(crate) fn channel_destroy(chid: i32) -> Result<(), Errno> {
    // SAFETY: the only argument is an integer, which the kernel validates; no memory is passed.
    let r = unsafe { ker_channel_destroy(int_arg(chid)) };
    int_result(r).map(drop)
}

/// `MsgSendnc(coid, smsg, sbytes, rmsg, rbytes)`: sends `smsg`, receives at most `rmsg.len()` reply bytes;
/// returns the server's reply status. Not a cancellation point.
pub(crate) fn msg_sendnc(coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
    // SAFETY: the stub traps `__KER_MSG_SENDVNC`, a call of the `MsgSendv` family.
    unsafe { send_through(ker_msg_sendnc, coid, smsg, rmsg) }
}

/// `MsgSend(coid, smsg, sbytes, rmsg, rbytes)`: like [`msg_sendnc`], as a cancellation point.
pub(crate) fn msg_send(coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
    // SAFETY: the stub traps `__KER_MSG_SENDV`, a call of the `MsgSendv` family.
    unsafe { send_through(ker_msg_send, coid, smsg, rmsg) }
}

/// A trap stub taking `(coid, smsg, -sbytes, rmsg, -rbytes)`.
type SendStub = unsafe extern "C" fn(usize, usize, usize, usize, usize) -> isize;

/// Sends `smsg` and receives the reply into `rmsg` through `stub`, with both lengths negated (plain
/// buffers, not iov arrays, §4.3). Inlined into both callers, so each calls its stub directly.
///
/// # Safety
///
/// `stub` must trap a kernel call of the `MsgSendv` family (`__KER_MSG_SENDV`, `__KER_MSG_SENDVNC`).
#[inline]
unsafe fn send_through(
    stub: SendStub,
    coid: i32,
    smsg: &[u8],
    rmsg: &mut [u8],
) -> Result<isize, Errno> {
    let (slen, rlen) = (buf_len(smsg.len())?, buf_len(rmsg.len())?);
    // SAFETY: by the caller's promise the stub traps a `MsgSendv` call, for which negated lengths mean
    // plain buffers: the kernel reads at most `slen` bytes from `smsg` and writes at most `rlen` bytes
    // into `rmsg` (§4.3); both are borrowed for the whole call, which returns only after the reply has
    // been copied, and any byte pattern is a valid `u8`.
    let r = unsafe {
        stub(
            int_arg(coid),
            smsg.as_ptr() as usize,
            slen,
            rmsg.as_mut_ptr() as usize,
            rlen,
        )
    };
    long_result(r)
}

/// QNX 8.0 `ConnectDupFd(op, &dstpid, &handle, &srvpid, &info)` (kernel call 44).
///
/// **ABI-UNVERIFIED**: the prototype is CONFIRMED (SDP80 headers), but which of the four pointers each
/// operation reads or writes is not public (open question 6). All four point to live, exclusively borrowed
/// values of the prototype's types, so whichever way each one goes, the kernel stays inside them.
#[cfg(qnx_v8)]
pub(crate) fn connect_dupfd(
    op: i32,
    dstpid: &mut i64,
    handle: &mut u64,
    srvpid: &mut i32,
    info: &mut MsgInfoHdr,
) -> Result<i32, Errno> {
    // SAFETY: `dstpid` is a `pid64_t` (64-bit), `handle` a `dupfd_handle_t` (u64), `srvpid` a `pid_t`
    // (i32) and `info` a 28-byte `_msg_info_hdr` (§2.4, §1.2), each live and exclusively borrowed for the
    // call; the kernel reads or writes at most the object each pointer names.
    let r = unsafe {
        ker_connect_dupfd(
            int_arg(op),
            core::ptr::from_mut(dstpid) as usize,
            core::ptr::from_mut(handle) as usize,
            core::ptr::from_mut(srvpid) as usize,
            core::ptr::from_mut(info) as usize,
        )
    };
    int_result(r)
}

/// Keeps [`connect_dupfd`] compiled into the library when the `raw-dupfd` feature is off and nothing
/// calls it, so CI's machine-code check still verifies the wrapper and its stub. `#[used]` keeps it in the
/// library: about 56 bytes of a raw 8.0 build (measured with `.ci/codesize.sh`), against about 340 for
/// keeping the whole registration compiled in. Not in a `libc-calls` build, which CI does not disassemble.
#[cfg(all(qnx_v8, not(feature = "raw-dupfd"), not(feature = "libc-calls")))]
#[used]
static KEEP_CONNECT_DUPFD: fn(
    i32,
    &mut i64,
    &mut u64,
    &mut i32,
    &mut MsgInfoHdr,
) -> Result<i32, Errno> = connect_dupfd;

/// The calling process's pid, read from the thread's TLS block as libc's `getpid()` does (§9): no kernel
/// call, nothing cached, so a `fork()`ed child names itself. The kernel-call sequence of `selftest::self_pid`
/// is kept as `self_test`'s cross-check of this value.
pub(crate) fn getpid() -> i32 {
    arch::tls_pid()
}

impl ChannelCalls for Raw {
    fn channel_create(&self, flags: u32) -> Result<i32, Errno> {
        channel_create(flags)
    }

    fn channel_destroy(&self, chid: i32) -> Result<(), Errno> {
        channel_destroy(chid)
    }
}

// SAFETY: `close` is libc's close sequence on the connection it is given; `connect_attach` returns the
// kernel's new connection, which nothing else knows of. Neither `dupfd` call exists in this backend
// (`ENOSYS`), so it returns no other descriptor.
unsafe impl Kernel for Raw {
    /// What libc's `close()` does for a connection: `_IO_CLOSE` to the server with `MsgSend`, then
    /// `ConnectDetach` unless the send was interrupted; the server's answer (`close::close_with`, §9.5).
    unsafe fn close(&self, coid: i32) -> Result<(), Errno> {
        // SAFETY: the caller's promise (it owns `coid`).
        unsafe { close_with(self, coid) }
    }

    fn close_attempts(&self) -> usize {
        crate::sys::nto::close::CLOSE_ATTEMPTS
    }

    fn getpid(&self) -> Result<i32, Errno> {
        Ok(getpid())
    }
}

// SAFETY: as the `Kernel` impl above.
unsafe impl NeutrinoKernel for Raw {
    fn connect_attach(
        &self,
        nd: u32,
        pid: i32,
        chid: i32,
        index: u32,
        flags: i32,
    ) -> Result<i32, Errno> {
        connect_attach(nd, pid, chid, index, flags)
    }

    unsafe fn connect_detach(&self, coid: i32) -> Result<(), Errno> {
        connect_detach(coid)
    }

    unsafe fn connect_server_info(&self, pid: i32, coid: i32) -> Result<MsgInfo64, Errno> {
        connect_server_info(pid, coid)
    }

    unsafe fn connect_flags(
        &self,
        pid: i32,
        coid: i32,
        mask: u32,
        bits: u32,
    ) -> Result<u32, Errno> {
        connect_flags(pid, coid, mask, bits)
    }

    fn timer_timeout(&self, clock: i32, flags: u32, nanos: u64) -> Result<u32, Errno> {
        timer_timeout(clock, flags, nanos)
    }

    unsafe fn msg_sendnc(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        msg_sendnc(coid, smsg, rmsg)
    }

    unsafe fn msg_send(&self, coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> Result<isize, Errno> {
        msg_send(coid, smsg, rmsg)
    }

    fn has_dupfd(&self) -> bool {
        false
    }

    /// Not on raw kernel calls: the receiver's half of a QNX 8.0 registration is the C library's
    /// `dupfd()` (`Libc`); the raw backend redeems with a hand-built `_IO_DUP` (its `has_dupfd` is
    /// `false`). `ENOSYS`.
    fn dupfd(&self, handle: u64, flags: i32) -> Result<i32, Errno> {
        let _ = (handle, flags);
        Err(Errno::NOSYS)
    }

    /// QNX 8.0, **only with the `raw-dupfd` feature** (otherwise `ENOSYS`): `ConnectServerInfo` on `fd`,
    /// then [`Kernel::dupfd_register_with`]. Without the feature, 8.0 programs register through the C
    /// library's documented `dupfd_register()` (feature `libc-calls`). On 7.x: `ENOSYS`.
    unsafe fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        #[cfg(qnx_v8)]
        {
            let si = connect_server_info(0, fd)?;
            // SAFETY: the caller's promise for `fd`, passed on.
            unsafe { self.dupfd_register_with(dstpid, fd, flags, &si) }
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = (dstpid, fd, flags);
            Err(Errno::NOSYS)
        }
    }

    /// QNX 8.0, **only with the `raw-dupfd` feature** (otherwise `ENOSYS`):
    /// `ConnectDupFd(op, &dstpid, &handle, &srvpid, &info)` with `fd`'s server info already in hand.
    ///
    /// **ABI-UNVERIFIED** (qnx-abi.md §9.4, open question 6): the call takes no descriptor, so the kernel
    /// must find the connection through `srvpid` and `info`, and which of the four arguments it reads or
    /// writes is not public. This registers the **same header form the redeem later sends**
    /// (`encode::dupfd_register_header`: the owner's pid in `info.pid`, `tid` 0, as in the `_IO_DUP`),
    /// the server's pid in `srvpid`, the receiver's in `dstpid`, and takes the handle as output; `op`
    /// comes from the flags (`encode::dupfd_register_op`, itself INFERRED). Whether the kernel expects
    /// this form, or the server-info form, or fills `info` itself is exactly what a run on 8.0 must
    /// settle. On 7.x: `ENOSYS`.
    unsafe fn dupfd_register_with(
        &self,
        dstpid: i32,
        fd: i32,
        flags: u32,
        server: &MsgInfo64,
    ) -> Result<u64, Errno> {
        #[cfg(qnx_v8)]
        {
            // Opt-in until a run on 8.0 settles the argument directions. Without the feature the rest
            // is still type-checked and linted, but not compiled in (`KEEP_CONNECT_DUPFD` keeps the
            // wrapper for the machine-code check).
            if !cfg!(feature = "raw-dupfd") {
                return Err(Errno::NOSYS);
            }
            // The connection registered is the one `server` names: refuse an answer for another one
            // (this is a public trait method; the crate's own caller always passes `fd`'s).
            if server.coid != fd {
                return Err(Errno::INVAL);
            }
            let mut dst = i64::from(dstpid);
            let mut handle = 0u64;
            let mut srvpid = server.pid;
            let mut hdr = encode::dupfd_register_header(server, getpid());
            connect_dupfd(
                encode::dupfd_register_op(flags),
                &mut dst,
                &mut handle,
                &mut srvpid,
                &mut hdr,
            )?;
            Ok(handle)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = (dstpid, fd, flags, server);
            Err(Errno::NOSYS)
        }
    }

    /// QNX 8.0, **only with the `raw-dupfd` feature** (otherwise `ENOSYS`), **ABI-UNVERIFIED** like the
    /// registration: `ConnectDupFd(_NTO_DUPFD_UNREGISTER, ..)` with the handle as input and the other
    /// arguments zeroed (INFERRED, open question 6). On 7.x: `ENOSYS`.
    /// QNX 8.0, **only with the `raw-dupfd` feature** (otherwise `ENOSYS`), **ABI-UNVERIFIED** like the
    /// registration: `ConnectDupFd(_NTO_DUPFD_LOOKUP, &peer, &handle, &srvpid, &info)`, the call the C
    /// library's `dupfd_getinfo()` is INFERRED to make (its arguments match the four pointers). On 7.x:
    /// `ENOSYS`.
    fn dupfd_getinfo(&self, handle: u64) -> Result<DupfdRecord, Errno> {
        #[cfg(qnx_v8)]
        {
            if !cfg!(feature = "raw-dupfd") {
                return Err(Errno::NOSYS);
            }
            let mut handle = handle;
            let mut rec = DupfdRecord::default();
            connect_dupfd(
                crate::sys::nto::nr::NTO_DUPFD_LOOKUP,
                &mut rec.peer,
                &mut handle,
                &mut rec.server,
                &mut rec.info,
            )?;
            Ok(rec)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = handle;
            Err(Errno::NOSYS)
        }
    }

    fn dupfd_unregister(&self, handle: u64) -> Result<(), Errno> {
        #[cfg(qnx_v8)]
        {
            if !cfg!(feature = "raw-dupfd") {
                return Err(Errno::NOSYS);
            }
            let mut handle = handle;
            connect_dupfd(
                crate::sys::nto::nr::NTO_DUPFD_UNREGISTER,
                &mut 0,
                &mut handle,
                &mut 0,
                &mut MsgInfoHdr::default(),
            )
            .map(drop)
        }
        #[cfg(not(qnx_v8))]
        {
            let _ = handle;
            Err(Errno::NOSYS)
        }
    }
}
