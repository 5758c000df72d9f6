//! The article's demo: one process opens a file, reads its first line and passes the re-positioned
//! descriptor over a POSIX message queue; another process redeems it and reads the next line.
//!
//! ```text
//! cargo run --example fdpass                 # both roles, as two processes, on /etc/passwd
//! cargo run --example fdpass -- --file PATH  # another file
//! cargo run --example fdpass -- -s           # the sender only (queue /fdpass), as in the article
//! cargo run --example fdpass -- -r           # the receiver only
//! ```
//!
//! On Linux the descriptor travels through the host backend (`pidfd_getfd`); on QNX through `_IO_DUP`.
//! Works with and without the crate's `std` feature (`--features std`), which only changes how a `File`
//! meets the crate's descriptor types (see `borrowed` and `into_file`).

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::{Command, ExitCode};
use std::time::Duration;

use nix::mqueue::{mq_open, mq_send, mq_timedreceive, mq_unlink, MQ_OFlag, MqAttr, MqdT};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::{clock_gettime, ClockId};
use qnx_fdpass::{getpid, receive_fd, send_fd, BorrowedFd, OwnedFd, Recipient, SendError};

const DEFAULT_QUEUE: &str = "/fdpass";
const DEFAULT_FILE: &str = "/etc/passwd";
#[cfg(target_os = "linux")]
const BACKEND: &str = "the Linux host's (pidfd_open + pidfd_getfd; no QNX involved)";
#[cfg(not(target_os = "linux"))]
const BACKEND: &str = "QNX Neutrino's (_IO_DUP to the file's server)";

struct Options {
    role: Option<bool>, // Some(true) sender, Some(false) receiver, None both
    file: String,
    queue: String,
    timeout: Duration,
}

fn usage() -> ExitCode {
    eprintln!("usage: fdpass [-s | -r] [--file PATH] [--queue NAME] [--timeout SECONDS]");
    eprintln!("  no role: run the sender and the receiver as two processes");
    eprintln!("  -s       send the descriptor (the article's sender)");
    eprintln!("  -r       receive the descriptor (the article's receiver)");
    ExitCode::from(2)
}

fn parse_args() -> Option<Options> {
    let mut o = Options {
        role: None,
        file: DEFAULT_FILE.into(),
        queue: DEFAULT_QUEUE.into(),
        timeout: Duration::from_secs(10),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-s" => o.role = Some(true),
            "-r" => o.role = Some(false),
            "--file" => o.file = args.next()?,
            "--queue" => o.queue = args.next()?,
            "--timeout" => o.timeout = Duration::from_secs(args.next()?.parse().ok()?),
            _ => return None,
        }
    }
    Some(o)
}

fn open_queue(name: &str) -> Result<MqdT, String> {
    let attr = MqAttr::new(0, 4, 128, 0);
    mq_open(
        name,
        MQ_OFlag::O_CREAT | MQ_OFlag::O_RDWR,
        Mode::from_bits_truncate(0o666),
        Some(&attr),
    )
    .map_err(|e| format!("can't open/create message queue {name}: {e}"))
}

fn deadline(after: Duration) -> TimeSpec {
    let now = clock_gettime(ClockId::CLOCK_REALTIME).unwrap_or_else(|_| TimeSpec::new(0, 0));
    now + TimeSpec::from_duration(after)
}

/// `file`'s descriptor as the crate's `BorrowedFd`. With the `std` feature that *is* std's type: this is
/// `file.as_fd()`, and `send_fd(&file, ..)` would do as well.
#[cfg(feature = "std")]
fn borrowed(file: &File) -> BorrowedFd<'_> {
    std::os::fd::AsFd::as_fd(file)
}

/// `file`'s descriptor as the crate's `BorrowedFd`. The default build of the crate is `no_std`, with
/// descriptor types of its own that std's `File` does not know: a `no_std` program has no `File`, but
/// this demo does, so it crosses over here.
#[cfg(not(feature = "std"))]
fn borrowed(file: &File) -> BorrowedFd<'_> {
    // SAFETY: `file` stays borrowed, so open, for the lifetime of the result.
    unsafe { BorrowedFd::borrow_raw(file.as_raw_fd()) }
}

/// A redeemed descriptor as a `File`: `File::from` with the `std` feature.
#[cfg(feature = "std")]
fn into_file(fd: OwnedFd) -> File {
    File::from(fd)
}

/// A redeemed descriptor as a `File` (the crate's own `OwnedFd` without the `std` feature).
#[cfg(not(feature = "std"))]
fn into_file(fd: OwnedFd) -> File {
    use qnx_fdpass::fd::IntoRawFd;
    use std::os::fd::FromRawFd;
    // SAFETY: the descriptor was just redeemed; `into_raw_fd` gives up the only other owner.
    unsafe { File::from_raw_fd(fd.into_raw_fd()) }
}

/// Reads one line, a byte at a time, so the descriptor's offset ends just past the newline.
fn read_line(file: &mut File) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut c = [0u8; 1];
    while file.read(&mut c)? == 1 && c[0] != b'\n' {
        line.push(c[0]);
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn sender(o: &Options) -> Result<(), String> {
    let mq = open_queue(&o.queue)?;
    let ack = open_queue(&format!("{}-ack", o.queue))?;
    let mut file =
        File::open(&o.file).map_err(|e| format!("can't open file to send {}: {e}", o.file))?;
    let first = read_line(&mut file).map_err(|e| format!("can't read {}: {e}", o.file))?;
    println!("SFD: first line [{first}]");
    // `file` stays open until the receiver has redeemed the ticket (we wait for the ack below).
    println!(
        "SFD: client pid {} passes fd {}",
        getpid(),
        file.as_raw_fd()
    );
    // A message queue takes a message whole or not at all: `Ok` means all the bytes went. On `Err` the
    // ticket is withdrawn.
    send_fd(borrowed(&file), Recipient::Any, |ticket| {
        mq_send(&mq, ticket, 0)
    })
    .map_err(|e| match e {
        SendError::Issue(e) => format!("can't make a ticket for fd {}: {e}", file.as_raw_fd()),
        e => format!("can't send the ticket: {e}"),
    })?;
    let mut buf = [0u8; 128];
    let mut prio = 0;
    match mq_timedreceive(&ack, &mut buf, &mut prio, &deadline(o.timeout)) {
        Ok(_) => {}
        Err(nix::errno::Errno::ETIMEDOUT) => {
            return Err(format!(
                "no receiver took the descriptor within {} s (run `fdpass -r`)",
                o.timeout.as_secs()
            ))
        }
        Err(e) => return Err(format!("can't receive the acknowledgement: {e}")),
    }
    println!("SFD: cleaning up and exiting");
    Ok(())
}

fn receiver(o: &Options) -> Result<(), String> {
    let mq = open_queue(&o.queue)?;
    let ack = open_queue(&format!("{}-ack", o.queue))?;
    let mut buf = [0u8; 128];
    let mut prio = 0;
    let n = match mq_timedreceive(&mq, &mut buf, &mut prio, &deadline(o.timeout)) {
        Ok(n) => n,
        Err(nix::errno::Errno::ETIMEDOUT) => {
            return Err(format!(
                "no sender within {} s (run `fdpass -s`)",
                o.timeout.as_secs()
            ))
        }
        Err(e) => return Err(format!("can't receive message: {e}")),
    };
    let ticket = &buf[..n];
    let fd = receive_fd(ticket).map_err(|e| format!("can't create file descriptor: {e}"))?;
    let sender = qnx_fdpass::parse(ticket)
        .map(|t| t.sender_pid())
        .unwrap_or(0);
    let mut file = into_file(fd);
    println!("RFD: other pid {sender}, new fd {}", file.as_raw_fd());
    let next =
        read_line(&mut file).map_err(|e| format!("can't read through the new descriptor: {e}"))?;
    println!("RFD: next line [{next}]");
    mq_send(&ack, b"done", 0).map_err(|e| format!("can't acknowledge: {e}"))?;
    println!("RFD: cleaning up and exiting");
    Ok(())
}

fn both(o: &Options) -> Result<(), String> {
    let queue = format!("/fdpass-{}", std::process::id());
    let ack = format!("{queue}-ack");
    let exe = std::env::current_exe().map_err(|e| format!("can't find this program: {e}"))?;
    let spawn = |role: &str| {
        Command::new(&exe)
            .args([
                role,
                "--file",
                &o.file,
                "--queue",
                &queue,
                "--timeout",
                &o.timeout.as_secs().to_string(),
            ])
            .spawn()
            .map_err(|e| format!("can't start the {role} process: {e}"))
    };
    println!(
        "fdpass: a sender process passes its open descriptor of {} to a receiver process over the POSIX \
         message queue {queue}, and the receiver reads on from where the sender stopped. Backend: {}",
        o.file, BACKEND
    );
    let mut s = spawn("-s")?;
    let mut r = match spawn("-r") {
        Ok(r) => r,
        Err(e) => {
            let _ = s.kill();
            let _ = s.wait();
            return Err(e);
        }
    };
    let rs = r.wait().map_err(|e| e.to_string())?;
    let ss = s.wait().map_err(|e| e.to_string())?;
    let _ = mq_unlink(CString::new(queue).unwrap_or_default().as_c_str());
    let _ = mq_unlink(CString::new(ack).unwrap_or_default().as_c_str());
    if ss.success() && rs.success() {
        println!(
            "fdpass: sender {} and receiver {} passed the descriptor",
            s.id(),
            r.id()
        );
        Ok(())
    } else {
        Err(format!("sender {ss}, receiver {rs}"))
    }
}

fn main() -> ExitCode {
    let Some(o) = parse_args() else {
        return usage();
    };
    let result = match o.role {
        Some(true) => sender(&o),
        Some(false) => receiver(&o),
        None => both(&o),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fdpass: {e}");
            ExitCode::FAILURE
        }
    }
}
