//! Scenario `native_msg`: QNX native message passing as the transport, the flow of `examples/native.rs`.
//! This process owns a channel; a forked sender attaches to it, issues a dup ticket for a file it has
//! read one line of, and `MsgSend`s the ticket's bytes; this process `MsgReceive`s them, takes the
//! length from the first bytes (`ticket::frame_len`), redeems, and `MsgReply`s the errno (0). The reply
//! unblocks the sender, which only then closes its descriptor. Run in both rows (`hil-raw`, `hil-libc`):
//! the redeem goes through the build's backend, the message passing through the C library in both.

use core::ffi::{c_int, c_long, c_uint, c_void, CStr};

use qnx_fdpass::fd::AsRawFd;
use qnx_fdpass::ticket::{frame_len, PEEK_LEN};
use qnx_fdpass::wire::TicketBuf;
use qnx_fdpass::{BorrowedFd, DupTicket, Error, Receiver, Recipient};

use crate::out::Text;
use crate::util::{held, make_file, my_pid, open, read, remove, En, Er, Show};
use crate::{c, ensure, note, proc, Verdict};

// The same prototypes as the other declarations of these names in this program (the 6.4 C library's).
extern "C" {
    fn ChannelCreate(flags: u32) -> i32;
    fn ChannelDestroy(chid: c_int) -> c_int;
    fn ConnectAttach(nd: u32, pid: c_int, chid: c_int, index: c_uint, flags: c_int) -> c_int;
    fn ConnectDetach(coid: c_int) -> c_int;
    fn MsgSend(c: c_int, s: *const c_void, sn: usize, r: *mut c_void, rn: usize) -> c_long;
    fn MsgReceive(chid: c_int, msg: *mut c_void, bytes: usize, info: *mut c_void) -> c_int;
    fn MsgReply(rcvid: c_int, status: c_long, msg: *const c_void, bytes: usize) -> c_int;
}

/// `_NTO_SIDE_CHANNEL`.
const SIDE_CHANNEL: c_uint = 0x4000_0000;

/// The child's exit codes, each a step that failed.
const NO_FILE: i32 = 2;
const NO_TICKET: i32 = 3;
const NO_ATTACH: i32 = 4;
const SEND_FAILED: i32 = 5;

pub fn native_msg(t: &mut Text) -> Verdict {
    const P: &CStr = c"/dev/shmem/hil-native";
    if let Err(e) = make_file(P, b"alpha line\nbeta line\n") {
        note!(t, "create: {}", En(e));
        return Verdict::Fail;
    }
    let before = held();
    // SAFETY: plain kernel call.
    let chid = unsafe { ChannelCreate(0) };
    if chid < 0 {
        note!(t, "ChannelCreate: {}", En(c::errno()));
        return Verdict::Fail;
    }
    let receiver = my_pid();
    let sender = proc::spawn(|| {
        let Ok(fd) = open(P, c::O_RDONLY) else {
            return NO_FILE;
        };
        let mut b = [0u8; 1];
        while read(fd, &mut b).map(|r| r.len()) == Ok(1) && b[0] != b'\n' {}
        // SAFETY: `fd` stays open until this process exits, after the receiver's reply.
        let Ok(tk) = DupTicket::new(
            unsafe { BorrowedFd::borrow_raw(fd) },
            Recipient::Pid(receiver),
        ) else {
            return NO_TICKET;
        };
        // SAFETY: plain kernel call: a side-channel connection to the receiver's channel.
        let coid = unsafe { ConnectAttach(0, receiver, chid, SIDE_CHANNEL, 0) };
        if coid < 0 {
            return NO_ATTACH;
        }
        let sent = tk.send(|bytes| {
            // SAFETY: `bytes` is live for the call; no reply data.
            match unsafe {
                MsgSend(
                    coid,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    core::ptr::null_mut(),
                    0,
                )
            } {
                0 => Ok(()),
                _ => Err(()),
            }
        });
        // SAFETY: our connection.
        unsafe { ConnectDetach(coid) };
        if sent.is_ok() {
            0
        } else {
            SEND_FAILED
        }
    });
    let Ok(sender) = sender else {
        // SAFETY: our channel.
        unsafe { ChannelDestroy(chid) };
        note!(t, "fork failed");
        return Verdict::Fail;
    };
    let mut buf: TicketBuf = TicketBuf::new();
    let verdict = receive_one(t, chid, &mut buf);
    let exit = proc::wait_for(sender, 5_000);
    // SAFETY: our channel, not used after this.
    unsafe { ChannelDestroy(chid) };
    remove(P);
    if verdict != Verdict::Pass {
        note!(t, "; sender ended {exit:?}");
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

/// Receives one message on `chid` (pulses skipped), redeems it, replies, and checks the descriptor reads
/// the sender's next line.
fn receive_one(t: &mut Text, chid: c_int, buf: &mut TicketBuf) -> Verdict {
    let rcvid = loop {
        // SAFETY: `buf` is valid for writes of its length; no info wanted.
        let r = unsafe {
            MsgReceive(
                chid,
                buf.bytes.as_mut_ptr().cast(),
                buf.bytes.len(),
                core::ptr::null_mut(),
            )
        };
        if r != 0 {
            break r;
        }
    };
    if rcvid < 0 {
        note!(t, "MsgReceive: {}", En(c::errno()));
        return Verdict::Fail;
    }
    let redeemed = frame_len(&buf.bytes[..PEEK_LEN])
        .map_err(Error::from)
        .and_then(|n| Receiver::new().redeem(buf.filled(n)));
    let status = match &redeemed {
        Ok(_) => 0,
        Err(Error::Os(e)) => e.raw(),
        Err(_) => 22,
    };
    // SAFETY: the sender we received from; an empty reply carrying the status.
    unsafe { MsgReply(rcvid, c_long::from(status), core::ptr::null(), 0) };
    let fd = match redeemed {
        Ok(fd) => fd,
        Err(e) => {
            note!(t, "redeem: {}", Er(&e));
            return Verdict::Fail;
        }
    };
    let mut line = [0u8; 32];
    let mut n = 0;
    let mut b = [0u8; 1];
    while n < line.len() && read(fd.as_raw_fd(), &mut b).map(|r| r.len()) == Ok(1) && b[0] != b'\n'
    {
        line[n] = b[0];
        n += 1;
    }
    if &line[..n] != b"beta line" {
        note!(
            t,
            "the redeemed descriptor reads [{}], want [beta line]",
            Show(&line[..n])
        );
        return Verdict::Fail;
    }
    note!(
        t,
        "a {}-byte dup ticket crossed MsgSend/MsgReceive, was redeemed and replied to; the descriptor reads [beta line] at the sender's offset",
        qnx_fdpass::ticket::DUP_LEN
    );
    Verdict::Pass
}
