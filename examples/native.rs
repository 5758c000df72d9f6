//! A descriptor passed over QNX native message passing, the channel most Neutrino programs already have:
//! the receiver owns a channel; the sender `MsgSend`s the ticket's bytes to it; the receiver
//! `MsgReceive`s them, redeems the ticket and `MsgReply`s the outcome. The send is synchronous, so the
//! reply is also the sender's signal that it may close its descriptor.
//!
//! One program, two processes: run it and it spawns itself as the sender.
//!
//! ```sh
//! cargo +$(cat targets/nightly) build --release --example native --features std \
//!     --target aarch64-unknown-nto-qnx710 -Zbuild-std=std,panic_abort   # with a QNX SDP (qcc)
//! ```
//!
//! Neutrino only (on another system it says so and exits). The kernel calls here are the C library's
//! (`libc` crate); the ticket's length on the receiving side comes from its first bytes
//! (`ticket::frame_len`), so no length travels beside it.

#[cfg(any(target_os = "nto", target_os = "qnx"))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--send") => neutrino::sender(&args[2], &args[3], &args[4]),
        _ => neutrino::receiver(),
    }
}

#[cfg(not(any(target_os = "nto", target_os = "qnx")))]
fn main() {
    println!("native: QNX native message passing exists on Neutrino only; nothing to do here");
}

#[cfg(any(target_os = "nto", target_os = "qnx"))]
mod neutrino {
    use std::io::Read;
    use std::process::Command;

    use qnx_fdpass::ticket::{frame_len, PEEK_LEN};
    use qnx_fdpass::wire::TicketBuf;
    use qnx_fdpass::{Error, Issuer, Receiver, Recipient};

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn os(what: &str) -> Box<dyn std::error::Error> {
        format!("{what}: {}", std::io::Error::last_os_error()).into()
    }

    /// The receiving process: owns the channel, spawns the sender, serves one message.
    pub fn receiver() -> Result<()> {
        // SAFETY: plain kernel call; a private channel needs no ability.
        let chid = unsafe { libc::ChannelCreate(0) };
        if chid < 0 {
            return Err(os("ChannelCreate"));
        }
        let me = std::process::id().to_string();
        let file = std::env::current_exe()?;
        let mut sender = Command::new(std::env::current_exe()?)
            .args(["--send", &me, &chid.to_string()])
            .arg(&file)
            .spawn()?;
        let mut buf: TicketBuf = TicketBuf::new();
        let result = loop {
            // SAFETY: `buf` is valid for writes of its length; no info wanted.
            let rcvid = unsafe {
                libc::MsgReceive(
                    chid,
                    buf.bytes.as_mut_ptr().cast(),
                    buf.bytes.len(),
                    core::ptr::null_mut(),
                )
            };
            if rcvid < 0 {
                break Err(os("MsgReceive"));
            }
            if rcvid == 0 {
                continue; // a pulse
            }
            // The message is one ticket: its length from its first bytes; anything else is refused.
            let redeemed = frame_len(&buf.bytes[..PEEK_LEN])
                .map_err(Error::from)
                .and_then(|n| Receiver::new().redeem(buf.filled(n)));
            let status = match &redeemed {
                Ok(_) => 0,
                Err(Error::Os(e)) => e.raw(),
                Err(_) => libc::EINVAL,
            };
            // SAFETY: `rcvid` is the sender we received from; an empty reply with the status.
            unsafe { libc::MsgReply(rcvid, status as libc::c_long, core::ptr::null(), 0) };
            break redeemed.map_err(|e| format!("redeem: {e}").into());
        };
        let status = sender.wait()?;
        // SAFETY: our channel, not used after this.
        unsafe { libc::ChannelDestroy(chid) };
        let fd = result?;
        let mut head = [0u8; 4];
        std::fs::File::from(fd).read_exact(&mut head)?;
        println!(
            "native: received a descriptor over MsgSend; it reads {head:02x?}; sender {status}"
        );
        Ok(())
    }

    /// The sending process: attaches to the receiver's channel and sends a ticket for `path`.
    pub fn sender(pid: &str, chid: &str, path: &str) -> Result<()> {
        let (pid, chid): (i32, i32) = (pid.parse()?, chid.parse()?);
        let file = std::fs::File::open(path)?;
        // SAFETY: plain kernel call; a side-channel connection to the receiver's channel.
        let coid = unsafe { libc::ConnectAttach(0, pid, chid, libc::_NTO_SIDE_CHANNEL, 0) };
        if coid < 0 {
            return Err(os("ConnectAttach"));
        }
        let ticket = Issuer::new()?.dup(&file, Recipient::Pid(pid))?;
        // The receiver replies after redeeming: `Ok` means it holds its descriptor now; on `Err` the
        // ticket is withdrawn.
        let sent = ticket.send(|bytes| {
            // SAFETY: `bytes` is valid for reads of its length; no reply data.
            let r = unsafe {
                libc::MsgSend(
                    coid,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    core::ptr::null_mut(),
                    0,
                )
            };
            match r {
                0 => Ok(()),
                r if r > 0 => Err(format!("the receiver refused the ticket: errno {r}")),
                _ => Err(format!("MsgSend: {}", std::io::Error::last_os_error())),
            }
        });
        // SAFETY: our connection, not used after this.
        unsafe { libc::ConnectDetach(coid) };
        drop(file); // only now: the receiver has replied
        Ok(sent?)
    }
}
