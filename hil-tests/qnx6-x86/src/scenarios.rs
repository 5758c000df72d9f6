//! The scenarios. Each writes its answer (what the kernel and the servers did, in terms that do not
//! change between runs or backends) into the text and returns its verdict.
//!
//! The scenario process is the receiver; a forked holder (`peer.rs`) owns the descriptor and issues
//! tickets through the crate's public API. Scenarios that redeem compare this process's descriptors and
//! kernel connections before and after ([`held`]): nothing may leak.

use core::ffi::CStr;
use core::mem::{offset_of, size_of};

use qnx_fdpass::fd::{AsRawFd, IntoRawFd};
use qnx_fdpass::seams;
use qnx_fdpass::selftest::{kernel_rows, KERNEL_ROWS};
use qnx_fdpass::sys::nto::{self_test_with, DefaultKernel, Libc};
use qnx_fdpass::sys::{Kernel, NeutrinoKernel};
use qnx_fdpass::wire::{IoDup, IoOpenfd, IO_COMBINE_FLAG, IO_DUP, IO_OPENFD_ACCEPT};
use qnx_fdpass::{
    receive_fd, Access, BatchError, BorrowedFd, DecodeError, DupTicket, Error, OpenfdTicket,
    Receiver, Recipient,
};

use crate::hostile::{
    hostile_holds, hostile_holds_unblock, hostile_lies, hostile_own_channel, hostile_refusals,
    hostile_refuses, hostile_silent,
};
use crate::kern::{self, Counting, CALL_NAMES};
use crate::out::Text;
use crate::peer::{self, Peer};
use crate::util::{
    held, in_child, make_file, my_pid, offset, open, os, read, remove, seek, En, Er, Show,
};
use crate::{c, ensure, note, proc, Verdict};
// Scenarios in files of their own (the lookup table below names them here).
use crate::native::native_msg;

/// A scenario's function.
pub type Scenario = fn(&mut Text) -> Verdict;

/// The function of a scenario named in `scenarios.txt`: the one whose name it has (`build.rs` makes
/// the table from the list).
pub fn lookup(name: &str) -> Option<Scenario> {
    Some(include!(concat!(env!("OUT_DIR"), "/lookup.rs")))
}

const RDWR_CREAT: i32 = c::O_RDWR | c::O_CREAT;

/// The file most scenarios pass: this payload's own binary on the CD (`fs-cd`, served through
/// `devb-eide`). The guest's QNX4 disk is full (creating a file works, writing to it fails with
/// ENOSPC), and `/dev/shmem` answers `_IO_OPENFD` with ENOSYS, so the CD is the file system that has
/// known, readable contents and answers both messages. Its bytes are compared with a fresh read.
const DATA: &CStr = c"/fs/cd0/hil-raw";

/// A holder of [`DATA`], read-only.
fn hold_data() -> Result<Peer, i32> {
    peer::holder(|| open(DATA, c::O_RDONLY), &[])
}

/// `N` bytes of `path` at `off`, read through a fresh open.
fn bytes_at<const N: usize>(path: &CStr, off: i32) -> Result<[u8; N], i32> {
    let fd = open(path, c::O_RDONLY)?;
    let mut b = [0u8; N];
    let r = seek(fd, off).and_then(|_| read(fd, &mut b).map(|g| g.len()));
    proc::close(fd);
    match r {
        Ok(n) if n == N => Ok(b),
        Ok(_) => Err(c::EIO_LOCAL),
        Err(e) => Err(e),
    }
}

macro_rules! try_or_fail {
    ($t:expr, $e:expr, $what:literal) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                note!($t, concat!($what, ": {}"), En(e));
                return Verdict::Fail;
            }
        }
    };
}

fn me() -> i32 {
    my_pid()
}

/// `nto::self_test` through the build's backend (raw traps in `hil-raw`, the crate's `Libc` in
/// `hil-libc`) and through the C library (the crate's `Libc`, in both binaries); both reports must be
/// right and agree with the C library's `getpid()`. Raw traps are not probed in `hil-libc`, so a broken trap stub
/// fails the raw rows only.
fn kernel_selftest(t: &mut Text) -> Verdict {
    let libc_pid = my_pid();
    let build = self_test_with(&DefaultKernel::default());
    let clib = self_test_with(&Libc);
    // The rows examples/selftest.rs prints on a user's target, from the same library mapping.
    for (who, r) in [(crate::BACKEND, &build), ("C library", &clib)] {
        for (row, o) in KERNEL_ROWS.iter().zip(kernel_rows(Some(r))) {
            crate::say!("kernel_selftest {who}: {row}: {o}");
        }
    }
    for (who, r) in [("build's backend", &build), ("C library", &clib)] {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                note!(t, "{who}: self_test failed: {e}");
                return Verdict::Fail;
            }
        };
        ensure!(
            t,
            r.detach_errno.raw() == 22,
            "{who}: ConnectDetach(-1) gave {}",
            En(r.detach_errno.raw())
        );
        ensure!(
            t,
            (r.sysmgr_pid, r.sysmgr_chid) == (1, 1),
            "{who}: the side channel names pid {} chid {}",
            r.sysmgr_pid,
            r.sysmgr_chid
        );
        ensure!(
            t,
            r.sysmgr_coid as u32 >= 0x4000_0000,
            "{who}: side-channel coid {:#x}",
            r.sysmgr_coid
        );
        ensure!(
            t,
            r.pid == libc_pid,
            "{who}: getpid {} but the C library's getpid() is {libc_pid}",
            r.pid
        );
    }
    crate::say!(
        "kernel_selftest ({}): side-channel coid {:#x} (C library {:#x})",
        crate::BACKEND,
        build.map_or(-1, |r| r.sysmgr_coid),
        clib.map_or(-1, |r| r.sysmgr_coid)
    );
    note!(
        t,
        "the build's backend and the C library agree: ConnectDetach(-1) EINVAL through the error path; \
         side-channel ConnectAttach to the process manager, ConnectServerInfo pid 1 chid 1; getpid = \
         the C library's"
    );
    Verdict::Pass
}

/// A dup ticket redeemed here shares the sender's open file and offset, both ways.
fn dup_shares_offset(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    try_or_fail!(t, h.value(peer::SEEK, 3, 0), "seek 3");
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    {
        let fd = match receive_fd(tk.as_slice()) {
            Ok(fd) => fd,
            Err(e) => {
                note!(t, "receive_fd: {}", Er(&e));
                return Verdict::Fail;
            }
        };
        let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
        ensure!(
            t,
            o == 3,
            "redeemed descriptor at offset {o}, the sender's is 3"
        );
        let want = try_or_fail!(t, bytes_at::<2>(DATA, 3), "fresh read");
        let mut b = [0u8; 2];
        let got = try_or_fail!(t, read(fd.as_raw_fd(), &mut b), "read");
        ensure!(
            t,
            got == want,
            "read [{}] at offset 3, the file has [{}]",
            Show(got),
            Show(&want)
        );
        let theirs = try_or_fail!(t, h.value(peer::OFFSET, 0, 0), "sender's offset");
        ensure!(
            t,
            theirs == 5,
            "receiver read 2 bytes: sender's offset is {theirs}, want 5"
        );
        try_or_fail!(t, h.value(peer::SEEK, 11, 0), "seek 11");
        let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
        ensure!(t, o == 11, "sender seeked to 11: receiver sees {o}");
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    note!(
        t,
        "offset 3 seen, read 2 -> sender at 5, sender seek 11 -> receiver at 11; nothing leaked"
    );
    Verdict::Pass
}

/// An openfd ticket opens anew (own offset) and cannot widen access.
fn openfd_own_offset(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    try_or_fail!(t, h.value(peer::SEEK, 4, 0), "seek 4");
    {
        let tk = try_or_fail!(t, h.ticket(peer::OPENFD, me(), 1), "issue openfd-r");
        let fd = match receive_fd(tk.as_slice()) {
            Ok(fd) => fd,
            Err(e) => {
                note!(t, "receive_fd(openfd-r): {}", Er(&e));
                return Verdict::Fail;
            }
        };
        let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
        ensure!(t, o == 0, "a new open starts at 0, got {o}");
        let want = try_or_fail!(t, bytes_at::<3>(DATA, 0), "fresh read");
        let mut b = [0u8; 3];
        let got = try_or_fail!(t, read(fd.as_raw_fd(), &mut b), "read");
        ensure!(
            t,
            got == want,
            "read [{}], the file starts [{}]",
            Show(got),
            Show(&want)
        );
        let theirs = try_or_fail!(t, h.value(peer::OFFSET, 0, 0), "sender's offset");
        ensure!(
            t,
            theirs == 4,
            "sender's offset moved to {theirs}: the open is not separate"
        );
    }
    note!(
        t,
        "openfd-r: offset 0, reads the file's first bytes, sender stays at 4"
    );
    for (name, access) in [("openfd-rw", 3), ("openfd-w", 2)] {
        let tk = try_or_fail!(t, h.ticket(peer::OPENFD, me(), access), "issue");
        match receive_fd(tk.as_slice()) {
            Err(e) if os(&e) == Some(13) => {}
            Err(e) => {
                note!(
                    t,
                    "; {name} on a read-only open: {}, want Os(EACCES)",
                    Er(&e)
                );
                return Verdict::Fail;
            }
            Ok(_) => {
                note!(t, "; {name} on a read-only open was granted");
                return Verdict::Fail;
            }
        }
        note!(t, "; {name}: Os(EACCES)");
    }
    ensure!(t, h.quit() == Some(0), "; holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "; held {before} before, {after} after");
    Verdict::Pass
}

/// Each malformed ticket is refused with its own DecodeError before any kernel call; fields located
/// with `offset_of!` on the wire types of this target (the 6.x/7.x layout: `io_dup_t` of 60 bytes).
fn bad_packets(t: &mut Text) -> Verdict {
    let mut h = try_or_fail!(t, hold_data(), "holder");
    let good = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue dup");
    let openfd = try_or_fail!(t, h.ticket(peer::OPENFD, me(), 1), "issue openfd");
    let size = size_of::<IoDup>();
    ensure!(
        t,
        good.len == size,
        "dup ticket is {} bytes, IoDup {size}",
        good.len
    );
    ensure!(
        t,
        openfd.len == size_of::<IoOpenfd>(),
        "openfd ticket is {} bytes",
        openfd.len
    );
    let before = held();
    let mut wrong = 0;
    let mut n = 0;
    let mut case = |t: &mut Text, what: &str, bytes: &[u8], want: DecodeError| {
        n += 1;
        match receive_fd(bytes) {
            Err(Error::Decode(got)) if got == want => {}
            Err(e) => {
                wrong += 1;
                note!(t, "{what}: {}, want Decode({want:?}); ", Er(&e));
            }
            Ok(_) => {
                wrong += 1;
                note!(t, "{what}: redeemed; ");
            }
        }
    };
    let with = |base: &peer::Bytes, at: usize, field: &[u8]| {
        let mut b = *base;
        b.buf[at..at + field.len()].copy_from_slice(field);
        b
    };
    case(
        t,
        "truncated",
        &good.as_slice()[..size - 1],
        DecodeError::TooShort {
            need: size,
            got: size - 1,
        },
    );
    let mut long = good;
    long.len += 1;
    case(
        t,
        "one byte too many",
        long.as_slice(),
        DecodeError::TooLong {
            max: size,
            got: size + 1,
        },
    );
    let b = with(&good, offset_of!(IoDup, type_), &(IO_DUP - 1).to_ne_bytes());
    case(t, "type", b.as_slice(), DecodeError::WrongType(IO_DUP - 1));
    let combined = size as u16 | IO_COMBINE_FLAG;
    let b = with(
        &good,
        offset_of!(IoDup, combine_len),
        &combined.to_ne_bytes(),
    );
    case(
        t,
        "combine_len",
        b.as_slice(),
        DecodeError::WrongCombineLen {
            expected: size as u16,
            got: combined,
        },
    );
    let b = with(&good, offset_of!(IoDup, info.srcnd), &1u32.to_ne_bytes());
    case(
        t,
        "info.srcnd",
        b.as_slice(),
        DecodeError::ReservedNonZero {
            field: "info.srcnd",
        },
    );
    let b = with(&good, offset_of!(IoDup, info.tid), &0i32.to_ne_bytes());
    case(t, "sender 0", b.as_slice(), DecodeError::BadSender(0));
    let b = with(&good, offset_of!(IoDup, info.coid), &(-5i32).to_ne_bytes());
    case(t, "coid -5", b.as_slice(), DecodeError::BadCoid(-5));
    let b = with(&good, offset_of!(IoDup, info.msglen), &1i32.to_ne_bytes());
    case(
        t,
        "info.msglen",
        b.as_slice(),
        DecodeError::ReservedNonZero {
            field: "info.msglen",
        },
    );
    let b = with(&good, offset_of!(IoDup, reserved), &1u32.to_ne_bytes());
    case(
        t,
        "reserved",
        b.as_slice(),
        DecodeError::ReservedNonZero { field: "reserved" },
    );
    let b = with(&openfd, offset_of!(IoOpenfd, ioflag), &0u32.to_ne_bytes());
    case(t, "ioflag 0", b.as_slice(), DecodeError::BadAccess(0));
    let b = with(
        &openfd,
        offset_of!(IoOpenfd, xtype),
        &IO_OPENFD_ACCEPT.to_ne_bytes(),
    );
    case(
        t,
        "xtype accept",
        b.as_slice(),
        DecodeError::BadXtype(IO_OPENFD_ACCEPT),
    );
    let b = with(
        &openfd,
        offset_of!(IoOpenfd, reserved2),
        &1u32.to_ne_bytes(),
    );
    case(
        t,
        "reserved2",
        b.as_slice(),
        DecodeError::ReservedNonZero { field: "reserved2" },
    );
    ensure!(t, wrong == 0, "{wrong} of {n} cases wrong");
    ensure!(t, receive_fd(&[]).is_err(), "an empty packet was accepted");
    let after = held();
    ensure!(
        t,
        after == before,
        "held {before} before, {after} after the refusals"
    );
    for (what, tk) in [("dup", &good), ("openfd", &openfd)] {
        if let Err(e) = receive_fd(tk.as_slice()) {
            note!(t, "the uncorrupted {what} ticket: {}", Er(&e));
            return Verdict::Fail;
        }
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    note!(
        t,
        "{n} corruptions each refused with its DecodeError, nothing opened; the originals redeem"
    );
    Verdict::Pass
}

/// A ticket from a sender that has exited fails cleanly.
fn dead_sender(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    let mut cached = Receiver::new();
    if let Err(e) = cached.redeem(tk.as_slice()) {
        note!(t, "redeem while the sender lives: {}", Er(&e));
        return Verdict::Fail;
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let fresh = receive_fd(tk.as_slice());
    let again = cached.redeem(tk.as_slice());
    drop(cached);
    for (who, r) in [("receive_fd", &fresh), ("a Receiver used before", &again)] {
        match r {
            Err(e) if matches!(os(e), Some(3 | 9)) => {
                note!(t, "{who} after the sender exited: {}; ", Er(e));
            }
            Err(e) => {
                note!(
                    t,
                    "{who} after the sender exited: {}, want Os(ESRCH|EBADF)",
                    Er(e)
                );
                return Verdict::Fail;
            }
            Ok(_) => {
                note!(t, "{who} after the sender exited: a descriptor was granted");
                return Verdict::Fail;
            }
        }
    }
    drop((fresh, again));
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    note!(t, "nothing leaked");
    Verdict::Pass
}

/// A ticket for a descriptor the sender closed fails with EBADF.
fn closed_fd(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    try_or_fail!(t, h.value(peer::CLOSE, 0, -1), "close");
    for (who, r) in [
        ("receive_fd", receive_fd(tk.as_slice())),
        ("Receiver::redeem", Receiver::new().redeem(tk.as_slice())),
    ] {
        match r {
            Err(e) if os(&e) == Some(9) => note!(t, "{who}: Os(EBADF); "),
            Err(e) => {
                note!(
                    t,
                    "{who} of a closed descriptor: {}, want Os(EBADF)",
                    Er(&e)
                );
                return Verdict::Fail;
            }
            Ok(_) => {
                note!(t, "{who} of a closed descriptor was granted");
                return Verdict::Fail;
            }
        }
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    note!(t, "nothing leaked");
    Verdict::Pass
}

/// A batch redeems every ticket or none.
fn batch_all_or_nothing(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    let good = try_or_fail!(t, h.ticket(peer::BATCH, 3, 0), "batch 3+0");
    let bad = try_or_fail!(t, h.ticket(peer::BATCH, 3, 1), "batch 3+1");
    let mut r = Receiver::new();
    {
        let fds = match r.redeem_batch::<4>(good.as_slice()) {
            Ok(f) => f,
            Err(e) => {
                note!(t, "good batch: index {} {}", e.index, Er(&e.error));
                return Verdict::Fail;
            }
        };
        ensure!(
            t,
            fds.len() == 3,
            "good batch gave {} descriptors",
            fds.len()
        );
        try_or_fail!(t, h.value(peer::SEEK, 6, 0), "seek 6");
        for fd in &fds {
            let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
            ensure!(
                t,
                o == 6,
                "a batch descriptor is at {o}, the sender's file at 6"
            );
        }
    }
    note!(t, "3 good: 3 descriptors on the sender's offset; ");
    let mid = held();
    match r.redeem_batch::<4>(bad.as_slice()) {
        Err(BatchError {
            index: 3, error, ..
        }) if os(&error) == Some(9) => {
            note!(t, "3 good + 1 stale: index 3 Os(EBADF); ");
        }
        Err(e) => {
            note!(
                t,
                "bad batch: index {} {}, want index 3 Os(EBADF)",
                e.index,
                Er(&e.error)
            );
            return Verdict::Fail;
        }
        Ok(f) => {
            note!(t, "bad batch redeemed {} descriptors", f.len());
            return Verdict::Fail;
        }
    }
    let after_bad = held();
    ensure!(
        t,
        after_bad == mid,
        "the failed batch left {mid} -> {after_bad}"
    );
    match r.redeem_batch::<2>(good.as_slice()) {
        Err(e) if e.index == 2 => note!(t, "3 into capacity 2: index 2; "),
        Err(e) => {
            note!(t, "3 into capacity 2: index {}", e.index);
            return Verdict::Fail;
        }
        Ok(_) => {
            note!(t, "3 into capacity 2 accepted");
            return Verdict::Fail;
        }
    }
    drop(r);
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    note!(t, "nothing leaked");
    Verdict::Pass
}

/// 10 000 redeems of one ticket through one Receiver and 1 000 through receive_fd (as the Linux
/// guests' `soak_10000`): descriptors and kernel connections flat.
fn soak_10000(t: &mut Text) -> Verdict {
    const N: u32 = 10_000;
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    try_or_fail!(t, h.value(peer::SEEK, 7, 0), "seek 7");
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    let mut r = Receiver::new();
    for i in 0..N {
        let fd = match r.redeem(tk.as_slice()) {
            Ok(fd) => fd,
            Err(e) => {
                note!(t, "pass {i}: {}", Er(&e));
                return Verdict::Fail;
            }
        };
        if i % 1000 == 0 {
            let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
            ensure!(t, o == 7, "pass {i}: offset {o}, want 7");
        }
    }
    for i in 0..N / 10 {
        if let Err(e) = receive_fd(tk.as_slice()) {
            note!(t, "receive_fd pass {i}: {}", Er(&e));
            return Verdict::Fail;
        }
    }
    drop(r);
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(
        t,
        after == before,
        "after {N} + {} passes: held {before} -> {after}",
        N / 10
    );
    note!(
        t,
        "{N} + {} passes, descriptors and kernel connections where they started",
        N / 10
    );
    Verdict::Pass
}

/// The article's demo: a sender process reads a file's first line and passes the descriptor over a
/// POSIX message queue (the guest's `mqueue` server); this process redeems it and reads the next line.
fn mqueue_demo(t: &mut Text) -> Verdict {
    // The QNX4 disk is full: the demo's file is a shared-memory object (the process manager's).
    const P: &CStr = c"/dev/shmem/hil-mq";
    const Q: &CStr = c"/hil-fdpass";
    try_or_fail!(
        t,
        make_file(P, b"alpha line\nbeta line\ngamma line\n"),
        "create"
    );
    let before = held();
    let attr = c::MqAttr {
        mq_maxmsg: 4,
        mq_msgsize: 256,
        ..Default::default()
    };
    // SAFETY: NUL-terminated name; mode and attribute pointer are read because of O_CREAT.
    let q = unsafe { c::mq_open(Q.as_ptr(), c::O_RDWR | c::O_CREAT, 0o600, &attr) };
    if q < 0 {
        note!(t, "mq_open: {}", En(c::errno()));
        return Verdict::Fail;
    }
    let go = match proc::pipe() {
        Ok(p) => p,
        Err(e) => {
            note!(t, "pipe: {}", En(e));
            return Verdict::Fail;
        }
    };
    let receiver = me();
    let sender = proc::spawn(|| {
        proc::close(go.w);
        let Ok(fd) = open(P, c::O_RDONLY) else {
            return 2;
        };
        let mut line = [0u8; 64];
        let mut n = 0;
        let mut b = [0u8; 1];
        while n < line.len() && read(fd, &mut b).map(|r| r.len()) == Ok(1) && b[0] != b'\n' {
            line[n] = b[0];
            n += 1;
        }
        crate::say!("SFD: first line [{}]", Show(&line[..n]));
        // SAFETY: `fd` stays open until this process exits, after the receiver said it is done.
        let tk = match DupTicket::new(
            unsafe { BorrowedFd::borrow_raw(fd) },
            Recipient::Pid(receiver),
        ) {
            Ok(tk) => tk,
            Err(_) => return 3,
        };
        // SAFETY: NUL-terminated name.
        let wq = unsafe { c::mq_open(Q.as_ptr(), c::O_WRONLY) };
        let bytes = tk.as_bytes();
        // SAFETY: the ticket's bytes are live for the call.
        if wq < 0 || unsafe { c::mq_send(wq, bytes.as_ptr().cast(), bytes.len(), 0) } != 0 {
            return 4;
        }
        let mut done = [0u8; 1];
        proc::read_exact(go.r, &mut done);
        0
    });
    proc::close(go.r);
    let Ok(sender) = sender else {
        note!(t, "fork failed");
        return Verdict::Fail;
    };
    let mut msg = [0u8; 256];
    let mut prio = 0;
    // SAFETY: `msg` is valid for its length, at least the queue's message size.
    let n = unsafe { c::mq_receive(q, msg.as_mut_ptr().cast(), msg.len(), &mut prio) };
    let verdict = if n < 0 {
        note!(t, "mq_receive: {}", En(c::errno()));
        Verdict::Fail
    } else {
        match receive_fd(&msg[..n as usize]) {
            Ok(fd) => {
                let mut line = [0u8; 64];
                let mut len = 0;
                let mut b = [0u8; 1];
                while len < line.len()
                    && read(fd.as_raw_fd(), &mut b).map(|r| r.len()) == Ok(1)
                    && b[0] != b'\n'
                {
                    line[len] = b[0];
                    len += 1;
                }
                crate::say!("RFD: next line [{}]", Show(&line[..len]));
                if &line[..len] == b"beta line" {
                    note!(t, "sender read [alpha line]; the {n}-byte ticket crossed the queue; receiver read [beta line]");
                    Verdict::Pass
                } else {
                    note!(
                        t,
                        "receiver's next line is [{}], want [beta line]",
                        Show(&line[..len])
                    );
                    Verdict::Fail
                }
            }
            Err(e) => {
                note!(t, "RFD: receive_fd: {}", Er(&e));
                Verdict::Fail
            }
        }
    };
    proc::write_all(go.w, b"x");
    proc::close(go.w);
    let exit = proc::wait_for(sender, 5_000);
    // SAFETY: closes and removes the queue this scenario made.
    unsafe {
        c::mq_close(q);
        c::mq_unlink(Q.as_ptr());
    }
    if verdict != Verdict::Pass {
        return verdict;
    }
    ensure!(
        t,
        exit == Some(proc::Exit::Code(0)),
        "; sender ended {exit:?}"
    );
    let after = held();
    ensure!(t, after == before, "; held {before} before, {after} after");
    verdict
}

/// What one server answered to a dup and an openfd (read) ticket: "ok" or the errno.
fn try_server(t: &mut Text, h: &mut Peer) -> Result<(bool, bool), ()> {
    let mut oks = (false, false);
    for (i, (kind, op, b)) in [("dup", peer::DUP, -1), ("openfd", peer::OPENFD, 1)]
        .into_iter()
        .enumerate()
    {
        let tk = match h.ticket(op, me(), b) {
            Ok(tk) => tk,
            Err(e) => {
                note!(t, "{kind} not issued ({}) ", En(e));
                continue;
            }
        };
        let server = qnx_fdpass::parse(tk.as_slice())
            .map(|p| p.info().pid)
            .unwrap_or(-1);
        // The same ticket through the C library: the build's backend must get the same answer (so a
        // wrong answer of the raw backend fails this row on its own, not only the runner's comparison).
        let by_libc = match seams::Receiver::<0, Libc>::with_kernel(Libc).redeem(tk.as_slice()) {
            Ok(fd) => {
                // SAFETY: `into_raw_fd` gave up the redeemed descriptor; this close is its only one.
                let _ = unsafe { Libc.close(fd.into_raw_fd()) };
                0
            }
            Err(e) => os(&e).unwrap_or(-1),
        };
        let mine = receive_fd(tk.as_slice());
        let by_build = match &mine {
            Ok(_) => 0,
            Err(e) => os(e).unwrap_or(-1),
        };
        if by_build != by_libc {
            note!(
                t,
                "{kind}: the build's backend answered {}, the C library {} ",
                Answer(Some(by_build)),
                Answer(Some(by_libc))
            );
            return Err(());
        }
        match mine {
            Ok(fd) => {
                // The new descriptor must be a connection to the ticket's server.
                let same = kern::server_info_from(fd.as_raw_fd())
                    .map(|(coid, i)| coid == fd.as_raw_fd() && i.pid == server)
                    .unwrap_or(false);
                if !same {
                    note!(t, "{kind} granted a descriptor to another server ");
                    return Err(());
                }
                note!(t, "{kind} ok ");
                if i == 0 {
                    oks.0 = true;
                } else {
                    oks.1 = true;
                }
            }
            Err(e) => note!(t, "{kind} {} ", Er(&e)),
        }
    }
    Ok(oks)
}

/// Opens what a holder holds.
type Opener = fn() -> Result<i32, i32>;

/// Which servers of the guest answer `_IO_DUP` and `_IO_OPENFD`, and what the others answer.
fn servers(t: &mut Text) -> Verdict {
    let before = held();
    let rows: [(&str, Opener); 9] = [
        ("QNX4 file", || open(c"/hil-srv", RDWR_CREAT)),
        ("/dev/shmem object", || {
            open(c"/dev/shmem/hil-srv", RDWR_CREAT)
        }),
        ("pipe", || proc::pipe().map(|p| p.r)),
        ("/dev/null", || open(c"/dev/null", c::O_RDWR)),
        ("/dev/con1", || open(c"/dev/con1", c::O_RDWR)),
        ("pty /dev/ptyp0", || open(c"/dev/ptyp0", c::O_RDWR)),
        ("/dev/ser2", || open(c"/dev/ser2", c::O_RDWR)),
        ("CD file", || open(c"/fs/cd0/nonce", c::O_RDONLY)),
        ("mqueue", || {
            // SAFETY: NUL-terminated name; mode and a null attribute pointer because of O_CREAT.
            let q = unsafe {
                c::mq_open(
                    c"/hil-srv".as_ptr(),
                    RDWR_CREAT,
                    0o600,
                    core::ptr::null::<c::MqAttr>(),
                )
            };
            if q < 0 {
                Err(c::errno())
            } else {
                Ok(q)
            }
        }),
    ];
    let mut file_ok = false;
    for (name, opener) in rows {
        note!(t, "{name}: ");
        let mut h = match peer::holder(opener, &[]) {
            Ok(h) => h,
            Err(e) => {
                note!(t, "not opened ({}); ", En(e));
                continue;
            }
        };
        match try_server(t, &mut h) {
            Ok(oks) => {
                if name == "QNX4 file" {
                    file_ok = oks == (true, true);
                }
            }
            Err(()) => return Verdict::Fail,
        }
        note!(t, "; ");
        if h.quit() != Some(0) {
            note!(t, "holder did not exit cleanly");
            return Verdict::Fail;
        }
    }
    remove(c"/hil-srv");
    remove(c"/dev/shmem/hil-srv");
    // SAFETY: NUL-terminated name.
    unsafe { c::mq_unlink(c"/hil-srv".as_ptr()) };
    ensure!(t, file_ok, "a file on the QNX4 disk must accept both");
    // Why the other scenarios pass a file on the CD: can the QNX4 disk hold a byte?
    match make_file(c"/hil-srv", b"x") {
        Ok(()) => note!(t, "(QNX4 disk: create and write ok)"),
        Err(e) => note!(t, "(QNX4 disk: create ok, write {})", En(e)),
    }
    remove(c"/hil-srv");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    Verdict::Pass
}

/// Redeems `tk` in a forked child that first becomes `uid` (unless `uid` is 0): 0 if it got a
/// descriptor, the errno if refused, -1 for a decode error, `None` if it hung or died.
fn redeem_as(uid: u32, tk: &peer::Bytes) -> Option<i32> {
    in_child(10_000, || {
        // SAFETY: integer only.
        if uid != 0 && unsafe { c::setuid(uid) } != 0 {
            return -2;
        }
        match receive_fd(tk.as_slice()) {
            Ok(_) => 0,
            Err(e) => os(&e).unwrap_or(-1),
        }
    })
}

struct Answer(Option<i32>);

impl core::fmt::Display for Answer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(0) => f.write_str("granted"),
            Some(-1) => f.write_str("refused by the crate (decode)"),
            Some(-2) => f.write_str("setuid failed"),
            Some(e) => write!(f, "refused {}", En(e)),
            None => f.write_str("no answer (hung or died)"),
        }
    }
}

/// The 6.x rule: the server grants a dup to the same process, root, or a process with the owner's
/// effective uid; a receiver that became another uid is refused.
fn uid_rule(t: &mut Text) -> Verdict {
    const UID: u32 = 100;
    let before = held();
    let mut root = try_or_fail!(t, hold_data(), "holder");
    let tk = try_or_fail!(t, root.ticket(peer::DUP, 0, -1), "issue");
    let as_root = redeem_as(0, &tk);
    let as_other = redeem_as(UID, &tk);
    note!(
        t,
        "root owner: root receiver {}, uid {UID} receiver {}; ",
        Answer(as_root),
        Answer(as_other)
    );
    ensure!(t, as_root == Some(0), "a root receiver must get through");
    ensure!(
        t,
        matches!(as_other, Some(e) if e > 0),
        "a uid {UID} receiver must be refused by the server"
    );
    // The owner becomes uid 100 too: the same effective uid is accepted.
    let mut owner = try_or_fail!(t, hold_data(), "holder");
    try_or_fail!(t, owner.value(peer::SETUID, UID as i32, 0), "holder setuid");
    let tk = try_or_fail!(t, owner.ticket(peer::DUP, 0, -1), "issue as uid 100");
    let same = redeem_as(UID, &tk);
    let by_root = redeem_as(0, &tk);
    note!(
        t,
        "uid {UID} owner: uid {UID} receiver {}, root receiver {}",
        Answer(same),
        Answer(by_root)
    );
    ensure!(
        t,
        same == Some(0),
        "; the owner's effective uid must be accepted"
    );
    ensure!(t, by_root == Some(0), "; root must be accepted");
    ensure!(
        t,
        root.quit() == Some(0) && owner.quit() == Some(0),
        "; a holder did not exit cleanly"
    );
    let after = held();
    ensure!(t, after == before, "; held {before} before, {after} after");
    Verdict::Pass
}

extern "C" {
    fn ChannelCreate(flags: u32) -> i32;
}

/// Which channel of the receiver's own a forged ticket names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Own {
    /// None: the ticket's fields as forged.
    No,
    /// A channel the receiver creates, with the ticket's server pid left as forged (0).
    Channel,
    /// A channel the receiver creates, and the receiver's own pid as the server.
    PidAndChannel,
}

/// A crate refusal as a code a child can hand back (-10 and below).
fn decode_code(d: &DecodeError) -> i32 {
    match d {
        DecodeError::BadServerPid(_) => -10,
        DecodeError::BadChid(_) => -11,
        DecodeError::RemoteNode(_) => -12,
        DecodeError::GlobalChannel(_) => -13,
        DecodeError::OwnServer(_) => -14,
        _ => -19,
    }
}

fn decode_name(code: i32) -> &'static str {
    match code {
        -10 => "BadServerPid",
        -11 => "BadChid",
        -12 => "RemoteNode",
        -13 => "GlobalChannel",
        -14 => "OwnServer",
        _ => "another DecodeError",
    }
}

/// Tickets whose server is forged: pid 0 (the receiver itself), chid 0 or global, another process, a
/// remote node. Each is redeemed in a child with a 5 s deadline: it must neither hang nor yield a
/// descriptor that is not the sender's file. The last names the receiver's own pid and a channel it owns:
/// refused by default (`OwnServer`; before the own-server refusal the crate sent to itself and blocked, killed at the
/// deadline).
fn forged_tickets(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    let good = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    let Ok(real) = qnx_fdpass::parse(good.as_slice()).map(|p| p.info()) else {
        note!(t, "the genuine ticket does not parse");
        return Verdict::Fail;
    };
    let put = |field: usize, v: i32| {
        let mut b = good;
        b.buf[field..field + 4].copy_from_slice(&v.to_ne_bytes());
        b
    };
    let pid_at = offset_of!(IoDup, info.pid);
    let chid_at = offset_of!(IoDup, info.chid);
    let nd_at = offset_of!(IoDup, info.nd);
    let holder_pid = h.pid();
    let global = real.chid | 0x4000_0000; // _NTO_GLOBAL_CHANNEL
    let cases: [(&str, peer::Bytes, Own); 8] = [
        ("server pid 0", put(pid_at, 0), Own::No),
        (
            "server pid 0 on the receiver's own channel",
            put(pid_at, 0),
            Own::Channel,
        ),
        ("chid 0", put(chid_at, 0), Own::No),
        (
            "chid with the global-channel bit",
            put(chid_at, global),
            Own::No,
        ),
        ("server pid 1 (process manager)", put(pid_at, 1), Own::No),
        (
            "server = the sender (no channel)",
            put(pid_at, holder_pid),
            Own::No,
        ),
        ("nd 1", put(nd_at, 1), Own::No),
        (
            "the receiver's own pid and channel",
            good,
            Own::PidAndChannel,
        ),
    ];
    let mut bad = false;
    for (what, bytes, own) in cases {
        let answer = in_child(5_000, || {
            let mut bytes = bytes;
            if own != Own::No {
                // The receiver owns a channel, and the ticket names it.
                // SAFETY: integer only.
                let chid = unsafe { ChannelCreate(0) };
                if chid < 0 {
                    return -3;
                }
                bytes.buf[chid_at..chid_at + 4].copy_from_slice(&chid.to_ne_bytes());
                if own == Own::PidAndChannel {
                    bytes.buf[pid_at..pid_at + 4].copy_from_slice(&my_pid().to_ne_bytes());
                }
            }
            match receive_fd(bytes.as_slice()) {
                Ok(fd) => match kern::server_info_from(fd.as_raw_fd()) {
                    // Granted: only the sender's own file would be acceptable.
                    Ok((_, i)) if i.pid == real.pid && i.chid == real.chid => 1,
                    _ => 2,
                },
                Err(Error::Os(e)) => e.raw(),
                Err(Error::Decode(d)) => decode_code(&d),
                Err(_) => -4,
            }
        });
        match answer {
            Some(1) => note!(t, "{what}: granted the sender's own file; "),
            Some(2) => {
                note!(t, "{what}: GRANTED A DESCRIPTOR TO ANOTHER SERVER; ");
                bad = true;
            }
            Some(-3) => note!(t, "{what}: ChannelCreate failed; "),
            Some(code) if code <= -10 => {
                note!(t, "{what}: refused by the crate ({}); ", decode_name(code))
            }
            Some(e) => note!(t, "{what}: Os({}); ", En(e)),
            None => {
                note!(t, "{what}: NO ANSWER WITHIN 5 s (deadlock, killed); ");
                bad = true;
            }
        }
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    if bad {
        return Verdict::Fail;
    }
    note!(t, "no hang, no foreign descriptor");
    Verdict::Pass
}

/// Descriptor-number reuse: the sender closes fd N and opens another file on the same server, which
/// lands on N; an outstanding ticket for N then redeems the new file. On another server at N: refused.
fn fd_reuse(t: &mut Text) -> Verdict {
    const B: &CStr = c"/fs/cd0/nonce";
    const PATHS: &[&CStr] = &[B, c"/dev/null"];
    let before = held();
    let b_starts = try_or_fail!(t, bytes_at::<4>(B, 0), "read b");
    let a_starts = try_or_fail!(t, bytes_at::<4>(DATA, 0), "read a");
    ensure!(t, a_starts != b_starts, "the two CD files start alike");
    let mut h = try_or_fail!(t, peer::holder(|| open(DATA, c::O_RDONLY), PATHS), "holder");
    let n = h.fd;
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    try_or_fail!(t, h.value(peer::CLOSE, 0, -1), "close a");
    let m = try_or_fail!(t, h.value(peer::OPEN, 0, c::O_RDONLY), "open b");
    ensure!(t, m == n, "precondition: b landed on fd {m}, a was on {n}");
    match receive_fd(tk.as_slice()) {
        Ok(fd) => {
            let _ = seek(fd.as_raw_fd(), 0);
            let mut b = [0u8; 4];
            let got = try_or_fail!(t, read(fd.as_raw_fd(), &mut b), "read");
            ensure!(
                t,
                got == b_starts,
                "the ticket for a (closed) redeemed a file starting [{}]",
                Show(got)
            );
            note!(t, "same server: the outstanding ticket for the closed file redeemed the NEW file on that number; ");
        }
        Err(e) => note!(t, "same server: refused {}; ", Er(&e)),
    }
    // The number again, now bound to another server (/dev/null, the process manager).
    try_or_fail!(t, h.value(peer::CLOSE, 0, -1), "close b");
    let m = try_or_fail!(t, h.value(peer::OPEN, 1, c::O_RDONLY), "open /dev/null");
    ensure!(
        t,
        m == n,
        "precondition: /dev/null landed on fd {m}, not {n}"
    );
    match receive_fd(tk.as_slice()) {
        Ok(_) => {
            note!(t, "other server on that number: the ticket still redeemed");
            return Verdict::Fail;
        }
        Err(e) => note!(t, "other server on that number: refused {}", Er(&e)),
    }
    ensure!(t, h.quit() == Some(0), "; holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "; held {before} before, {after} after");
    Verdict::Pass
}

/// A redeemed descriptor closed, then the same number bound again to the same server: by a second
/// redeem (50 cycles) and by a plain open(); and what a detach without `_IO_CLOSE` leaves behind.
fn close_rebind(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    try_or_fail!(t, h.value(peer::SEEK, 5, 0), "seek");
    let tk = try_or_fail!(t, h.ticket(peer::DUP, me(), -1), "issue");
    let mut number = -1;
    for i in 0..50 {
        let fd = match receive_fd(tk.as_slice()) {
            Ok(fd) => fd,
            Err(e) => {
                note!(t, "cycle {i}: {}", Er(&e));
                return Verdict::Fail;
            }
        };
        if number < 0 {
            number = fd.as_raw_fd();
        }
        ensure!(
            t,
            fd.as_raw_fd() == number,
            "cycle {i}: descriptor {} not {number}",
            fd.as_raw_fd()
        );
        let o = try_or_fail!(t, offset(fd.as_raw_fd()), "lseek");
        ensure!(t, o == 5, "cycle {i}: offset {o}");
    }
    note!(
        t,
        "50 redeem/close cycles, each on the same number and the sender's offset; "
    );
    let fd = try_or_fail!(t, open(DATA, c::O_RDONLY), "open");
    ensure!(t, fd == number, "open() landed on {fd}, not {number}");
    let want = try_or_fail!(t, bytes_at::<2>(DATA, 0), "fresh read");
    let mut b = [0u8; 2];
    let got = try_or_fail!(t, read(fd, &mut b), "read");
    ensure!(t, got == want, "open() on the number read [{}]", Show(got));
    proc::close(fd);
    note!(t, "open() on that number to the same server works; ");
    // A detach without _IO_CLOSE while another descriptor to the same server stays open: the server
    // does not hear of it. What does rebinding the number to that server answer then?
    let keep = try_or_fail!(t, open(DATA, c::O_RDONLY), "open keep");
    let stale = match receive_fd(tk.as_slice()) {
        Ok(fd) => fd.into_raw_fd(),
        Err(e) => {
            note!(t, "redeem: {}", Er(&e));
            return Verdict::Fail;
        }
    };
    // SAFETY: `stale` was given up by its `OwnedFd` above: this scenario owns it, and detaches it
    // behind the server's back on purpose.
    let detached = unsafe { DefaultKernel::default().connect_detach(stale) };
    ensure!(t, detached.is_ok(), "ConnectDetach: {detached:?}");
    let rebound = receive_fd(tk.as_slice());
    match &rebound {
        Ok(fd) => note!(
            t,
            "after a bare ConnectDetach (server not told) a redeem on the same number: {}",
            if fd.as_raw_fd() == stale {
                "granted"
            } else {
                "granted elsewhere"
            }
        ),
        Err(e) => note!(
            t,
            "after a bare ConnectDetach (server not told) a redeem on the same number: {}",
            Er(e)
        ),
    }
    drop(rebound);
    proc::close(keep);
    ensure!(t, h.quit() == Some(0), "; holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "; held {before} before, {after} after");
    Verdict::Pass
}

fn counts(t: &mut Text, k: &Counting<impl NeutrinoKernel>) -> u32 {
    let n = k.counts();
    let mut total = 0;
    let mut first = true;
    for (i, &c) in n.iter().enumerate() {
        if c > 0 {
            note!(t, "{}{} {c}", if first { "" } else { " + " }, CALL_NAMES[i]);
            first = false;
            total += c;
        }
    }
    k.reset();
    total
}

/// Kernel calls (calls of the crate's `Kernel` trait) per issue and per redeem, counted by a wrapper
/// around the build's backend, in this process (a same-process dup is always granted).
fn kernel_calls(t: &mut Text) -> Verdict {
    let fd = try_or_fail!(t, open(DATA, c::O_RDONLY), "open");
    let k = Counting::new(DefaultKernel::default());
    // SAFETY: `fd` stays open until the end of this function.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    let mut want_ok = true;
    let mut step = |t: &mut Text, what: &str, want: u32, k: &Counting<DefaultKernel>| {
        note!(t, "{what}: ");
        let got = counts(t, k);
        note!(t, " = {got}; ");
        want_ok &= got == want;
    };
    let dup = match DupTicket::with_kernel(&k, b, Recipient::Any) {
        Ok(d) => d,
        Err(e) => {
            note!(t, "issue: {}", En(e.raw()));
            return Verdict::Fail;
        }
    };
    step(t, "DupTicket::new", 2, &k);
    let issuer = match seams::Issuer::with_kernel(Counting::new(DefaultKernel::default())) {
        Ok(s) => s,
        Err(e) => {
            note!(t, "Issuer: {}", En(e.raw()));
            return Verdict::Fail;
        }
    };
    issuer.kernel().reset();
    let _ = issuer.dup(b, Recipient::Any);
    step(t, "Issuer::dup", 1, issuer.kernel());
    let _ = OpenfdTicket::with_kernel(&k, b, Access::Read, Recipient::Any);
    k.reset();
    let openfd = OpenfdTicket::with_kernel(&k, b, Access::Read, Recipient::Any);
    step(t, "OpenfdTicket::new", 2, &k);
    let mut r = seams::Receiver::<0, _>::with_kernel(Counting::new(DefaultKernel::default()));
    let got = r.redeem(dup.as_bytes()).map(|fd| fd.into_raw_fd());
    step(t, "redeem dup", 3, r.kernel());
    if let Ok(nfd) = got {
        // SAFETY: `into_raw_fd` gave up the redeemed descriptor; this close is its only one.
        let _ = unsafe { r.kernel().close(nfd) };
        step(t, "close", 1, r.kernel());
    }
    if let Ok(o) = openfd {
        let got = r.redeem(o.as_bytes()).map(|fd| fd.into_raw_fd());
        step(t, "redeem openfd", 3, r.kernel());
        if let Ok(nfd) = got {
            // SAFETY: as above.
            let _ = unsafe { r.kernel().close(nfd) };
            r.kernel().reset();
        }
    }
    proc::close(fd);
    let refused = r.redeem(dup.as_bytes());
    let refused_ok = matches!(&refused, Err(e) if os(e) == Some(9));
    drop(refused);
    step(t, "redeem of a closed descriptor (EBADF)", 4, r.kernel());
    ensure!(t, want_ok && refused_ok, "expected 2, 1, 2, 3, 1, 3, 4");
    note!(t, "calls of the crate's Kernel trait, as its issue and redeem sequences say (getpid is one call whatever the backend does inside; a redeem asks it to refuse a ticket naming this process as the server)");
    Verdict::Pass
}

fn cycles() -> u64 {
    // SAFETY: rdtsc has no preconditions (the guest CPU has a time-stamp counter).
    unsafe { core::arch::x86::_rdtsc() }
}

/// Issue + redeem + close through the build's backend and through the C library (this program's own
/// routing), interleaved in 40 blocks of 200 (alternating which goes first), in this process; the cycle ratio is printed on the console (not in
/// the answer: times differ per run). In `hil-raw` that is raw traps against the C library, the figure
/// asked for; in `hil-libc` the crate's `Libc` against the same calls, a control near 1.
fn bench_raw_libc(t: &mut Text) -> Verdict {
    const BLOCK: u32 = 200;
    const BLOCKS: u32 = 40;
    let fd = try_or_fail!(t, open(DATA, c::O_RDONLY), "open");
    let before = held();
    // SAFETY: `fd` stays open until the end of this function.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    fn block<K: NeutrinoKernel + Copy>(k: K, b: BorrowedFd<'_>, n: u32) -> Result<u64, Error> {
        let mut r = seams::Receiver::<0, K>::with_kernel(k);
        let t0 = cycles();
        for _ in 0..n {
            let tk = DupTicket::with_kernel(&k, b, Recipient::Any)?;
            let fd = r.redeem_dup(tk.as_bytes())?.into_raw_fd();
            // SAFETY: `into_raw_fd` gave up the redeemed descriptor; this close is its only one.
            unsafe { k.close(fd) }?;
        }
        Ok(cycles() - t0)
    }
    // Sums, and the fastest block of each: the host running the emulator is shared, and the fastest
    // block is the one least disturbed by other load.
    let (mut raw, mut lib) = (0u64, 0u64);
    let (mut raw_min, mut lib_min) = (u64::MAX, u64::MAX);
    for i in 0..BLOCKS {
        // Alternate which backend goes first, so neither always follows the other.
        let pair = if i % 2 == 0 {
            let r = block(DefaultKernel::default(), b, BLOCK);
            (r, block(Libc, b, BLOCK))
        } else {
            let l = block(Libc, b, BLOCK);
            (block(DefaultKernel::default(), b, BLOCK), l)
        };
        match pair {
            (Ok(r), Ok(l)) => {
                raw += r;
                lib += l;
                raw_min = raw_min.min(r);
                lib_min = lib_min.min(l);
            }
            (Err(e), _) | (_, Err(e)) => {
                note!(t, "a pass failed: {}", Er(&e));
                return Verdict::Fail;
            }
        }
    }
    let n = u64::from(BLOCK * BLOCKS);
    crate::say!(
        "bench_raw_libc ({}): {n} passes each (issue + redeem + close): build's backend {} cycles/pass, \
         C library {} cycles/pass, ratio {:.3}; fastest block of {BLOCK}: {} vs {} cycles/pass, ratio {:.3}",
        crate::BACKEND,
        raw / n,
        lib / n,
        raw as f64 / lib as f64,
        raw_min / u64::from(BLOCK),
        lib_min / u64::from(BLOCK),
        raw_min as f64 / lib_min as f64
    );
    proc::close(fd);
    let after = held();
    ensure!(
        t,
        after.fds + 1 == before.fds,
        "held {before} before, {after} after (less the file)"
    );
    note!(t, "{n} passes each through the build's backend and the C library, interleaved; nothing leaked; cycle ratio on the console");
    Verdict::Pass
}

/// `OpenfdTicket::with_flags`: an openfd ticket carrying `O_NONBLOCK` (libc's encoding, beside the
/// access) gives a descriptor whose `fcntl(F_GETFL)` has it, as `openfd(fd, O_RDONLY | O_NONBLOCK)`
/// would; one without flags does not. The CD file system's server keeps the bits (6.4
/// `iofunc_openfd.c`).
fn openfd_flags(t: &mut Text) -> Verdict {
    let before = held();
    let mut h = try_or_fail!(t, hold_data(), "holder");
    for (what, b, want) in [
        ("no flags", 1, false),
        ("O_NONBLOCK", 1 | c::O_NONBLOCK, true),
    ] {
        let tk = try_or_fail!(t, h.ticket(peer::OPENFD, me(), b), "issue");
        let fd = match receive_fd(tk.as_slice()) {
            Ok(fd) => fd,
            Err(e) => {
                note!(t, "{what}: receive_fd: {}", Er(&e));
                return Verdict::Fail;
            }
        };
        // SAFETY: integers only; `fd` is open.
        let fl = unsafe { c::fcntl(fd.as_raw_fd(), c::F_GETFL) };
        ensure!(t, fl >= 0, "{what}: F_GETFL: {}", En(c::errno()));
        let has = fl & c::O_NONBLOCK != 0;
        note!(t, "{what}: F_GETFL has O_NONBLOCK: {has}; ");
        ensure!(t, has == want, "expected {want}");
    }
    ensure!(t, h.quit() == Some(0), "holder did not exit cleanly");
    let after = held();
    ensure!(t, after == before, "held {before} before, {after} after");
    note!(
        t,
        "the server kept the status flag the ticket carried; nothing leaked"
    );
    Verdict::Pass
}
