//! Real processes, real kernel: a sender process issues tickets for its descriptors, this process
//! redeems them. Linux host backend only; nothing here is evidence about QNX.
//!
//! The sender is this test binary re-executed with `FDPASS_ROLE=sender`. It opens the file named by
//! `FDPASS_FILE` read-only, reads the first line (so its offset is past it), writes its tickets to stdout
//! as hex lines, then obeys commands on stdin (`pos`, `read N`, `exit`).

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::{Child, ChildStdin, ChildStdout};

mod common;

use common::open_fds;

use qnx_fdpass::wire::Message;
use qnx_fdpass::{
    receive_fd, wire, Access, BatchError, DecodeError, DupBatch, DupTicket, Errno, Error,
    OpenfdTicket, OwnedFd, Receiver, Recipient,
};

const CONTENT: &str = "first line\nsecond line\nthird line\nfourth line\n";

/// The sender role. Runs only when re-executed with `FDPASS_ROLE=sender`.
#[test]
#[ignore = "helper role: the sender process re-executed by the tests in this file"]
fn sender_role() {
    common::assert_role("sender");
    let path = std::env::var("FDPASS_FILE").unwrap();
    let mut file = File::open(&path).unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while file.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let fd = common::fd(&file);
    let closed = File::open(&path).unwrap();
    let closed_ticket = DupTicket::new(common::fd(&closed), Recipient::Any).unwrap();
    let closed_in_batch = DupTicket::new(common::fd(&closed), Recipient::Any).unwrap();
    drop(closed);
    let dup = DupTicket::new(fd, Recipient::Any).unwrap();
    // Tickets are move-only: the bad batch is three more good tickets and the closed one.
    let [mut batch, mut bad_batch] = [DupBatch::<4>::new(), DupBatch::<4>::new()];
    for b in [&mut batch, &mut bad_batch] {
        for _ in 0..3 {
            b.push(DupTicket::new(fd, Recipient::Any).unwrap()).unwrap();
        }
    }
    bad_batch.push(closed_in_batch).unwrap();
    let mut out = std::io::stdout().lock();
    common::write_ticket(&mut out, "dup", dup.as_bytes());
    for (name, access) in [
        ("openfd-r", Access::Read),
        ("openfd-rw", Access::ReadWrite),
        ("openfd-w", Access::Write),
    ] {
        let t = OpenfdTicket::new(fd, access, Recipient::Any).unwrap();
        common::write_ticket(&mut out, name, t.as_bytes());
    }
    common::write_ticket(&mut out, "closed", closed_ticket.as_bytes());
    common::write_ticket(&mut out, "batch", batch.as_bytes());
    common::write_ticket(&mut out, "bad-batch", bad_batch.as_bytes());
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for cmd in std::io::stdin().lock().lines() {
        let cmd = cmd.unwrap();
        let mut words = cmd.split_whitespace();
        match words.next() {
            Some("pos") => writeln!(out, "R {}", file.stream_position().unwrap()).unwrap(),
            Some("read") => {
                let n: usize = words.next().unwrap().parse().unwrap();
                let mut buf = vec![0; n];
                file.read_exact(&mut buf).unwrap();
                writeln!(
                    out,
                    "R {}",
                    String::from_utf8(buf).unwrap().escape_default()
                )
                .unwrap();
            }
            _ => break,
        }
        out.flush().unwrap();
    }
    std::process::exit(0);
}

struct Sender {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    tickets: BTreeMap<String, Vec<u8>>,
    path: std::path::PathBuf,
}

impl Sender {
    fn start(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("qnx-fdpass-mp-{}-{tag}", std::process::id()));
        std::fs::write(&path, CONTENT).unwrap();
        let mut cmd = common::role_command("sender_role", "sender");
        let mut child = common::spawn_piped(cmd.env("FDPASS_FILE", &path));
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let tickets = common::read_tickets(&mut stdout);
        Sender {
            child,
            stdin,
            stdout,
            tickets,
            path,
        }
    }

    fn ask(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "sender died");
            if let Some(answer) = line.trim_end_matches('\n').strip_prefix("R ") {
                return answer.to_string();
            }
        }
    }

    fn ticket(&self, name: &str) -> &[u8] {
        &self.tickets[name]
    }

    fn stop(mut self) {
        writeln!(self.stdin, "exit").unwrap();
        assert!(self.child.wait().unwrap().success());
        let _ = std::fs::remove_file(&self.path);
    }
}

fn file(fd: OwnedFd) -> File {
    common::file(fd)
}

/// Fails unless `f` is the sender's file (same device and inode). Called before any read: a read from a
/// wrong descriptor (a pipe) could block instead of failing.
fn assert_senders_file(s: &Sender, f: &File) {
    assert_eq!(
        common::path_id(&s.path),
        common::file_id(f),
        "not the sender's file"
    );
}

fn read_n(f: &mut File, n: usize) -> String {
    let mut buf = vec![0; n];
    f.read_exact(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn dup_shares_the_offset_both_ways() {
    let _g = common::serial();
    let mut s = Sender::start("dup");
    let mut mine = file(receive_fd(s.ticket("dup")).unwrap());
    assert_senders_file(&s, &mine);
    // The sender read the first line: the shared offset is past it.
    assert_eq!(read_n(&mut mine, 12), "second line\n");
    assert_eq!(s.ask("pos"), "23", "our read moved the sender's offset");
    assert_eq!(s.ask("read 11"), "third line\\n");
    assert_eq!(
        read_n(&mut mine, 12),
        "fourth line\n",
        "the sender's read moved ours"
    );
    // The descriptor is close-on-exec.
    let flags = rustix::io::fcntl_getfd(&mine).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
    // The dup-only entry point gives the same: the sender's file, sharing its offset.
    let mut again = file(Receiver::new().redeem_dup(s.ticket("dup")).unwrap());
    assert_senders_file(&s, &again);
    again.seek(SeekFrom::Start(11)).unwrap();
    assert_eq!(s.ask("pos"), "11", "the offset is shared");
    s.stop();
}

#[test]
fn openfd_has_its_own_offset_and_refuses_wider_access() {
    let _g = common::serial();
    let mut s = Sender::start("openfd");
    let before = open_fds();
    let mut mine = file(Receiver::new().redeem(s.ticket("openfd-r")).unwrap());
    assert_senders_file(&s, &mine);
    assert_eq!(
        read_n(&mut mine, 11),
        "first line\n",
        "a new open starts at offset 0"
    );
    assert_eq!(s.ask("pos"), "11", "the sender's offset did not move");
    mine.seek(SeekFrom::Start(0)).unwrap();
    drop(mine);
    assert_eq!(
        receive_fd(s.ticket("openfd-rw")).unwrap_err(),
        Error::Os(Errno::ACCES)
    );
    assert_eq!(
        receive_fd(s.ticket("openfd-w")).unwrap_err(),
        Error::Os(Errno::ACCES)
    );
    assert_eq!(open_fds(), before);
    s.stop();
}

#[test]
fn closed_descriptor_fails_with_ebadf_and_leaks_nothing() {
    let _g = common::serial();
    let s = Sender::start("closed");
    let before = open_fds();
    assert_eq!(
        receive_fd(s.ticket("closed")).unwrap_err(),
        Error::Os(Errno::BADF)
    );
    let mut r = Receiver::new();
    assert_eq!(
        r.redeem(s.ticket("closed")).unwrap_err(),
        Error::Os(Errno::BADF)
    );
    drop(r);
    assert_eq!(open_fds(), before);
    s.stop();
}

#[test]
fn exited_sender_fails_cleanly() {
    let _g = common::serial();
    let s = Sender::start("exited");
    let dup = s.ticket("dup").to_vec();
    let mut cached = Receiver::new();
    drop(cached.redeem(&dup).unwrap());
    s.stop();
    let before = open_fds();
    let e = receive_fd(&dup).unwrap_err();
    assert!(matches!(e, Error::Os(Errno::SRCH)), "{e:?}");
    let e = cached.redeem(&dup).unwrap_err();
    assert!(
        matches!(e, Error::Os(Errno::SRCH) | Error::Os(Errno::BADF)),
        "{e:?}"
    );
    drop(cached);
    assert_eq!(
        open_fds().len(),
        before.len() - 1,
        "the cached pidfd was the only descriptor released"
    );
}

#[test]
fn malformed_packets_each_fail_with_their_own_error() {
    let _g = common::serial();
    let s = Sender::start("malformed");
    let good = s.ticket("dup").to_vec();
    let before = open_fds();
    let size = core::mem::size_of::<wire::IoDup>();
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (
            good[..size - 1].to_vec(),
            DecodeError::TooShort {
                need: size,
                got: size - 1,
            },
        ),
        (
            [good.clone(), vec![0]].concat(),
            DecodeError::TooLong {
                max: size,
                got: size + 1,
            },
        ),
        (
            {
                let mut b = good.clone();
                b[0] = 0x14;
                b
            },
            DecodeError::WrongType(0x114),
        ),
        (
            {
                let mut b = good.clone();
                b[3] = 0x80;
                b
            },
            DecodeError::WrongCombineLen {
                expected: size as u16,
                got: 0x8000 | size as u16,
            },
        ),
        (
            {
                let mut b = good.clone();
                b[8] = 1;
                b
            },
            DecodeError::ReservedNonZero {
                field: "info.srcnd",
            },
        ),
        (
            {
                let mut b = good.clone();
                b[16..20].copy_from_slice(&0i32.to_ne_bytes());
                b
            },
            DecodeError::BadSender(0),
        ),
        (
            {
                let mut b = good.clone();
                b[28..32].copy_from_slice(&(-5i32).to_ne_bytes());
                b
            },
            DecodeError::BadCoid(-5),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(receive_fd(&bytes).unwrap_err(), Error::Decode(want));
        assert_eq!(
            Receiver::new().redeem_dup(&bytes).unwrap_err(),
            Error::Decode(want),
            "redeem_dup"
        );
    }
    let mut o = s.ticket("openfd-r").to_vec();
    o[4] = 0;
    assert_eq!(
        receive_fd(&o).unwrap_err(),
        Error::Decode(DecodeError::BadAccess(0))
    );
    let mut o = s.ticket("openfd-r").to_vec();
    o[10] = 3;
    assert_eq!(
        receive_fd(&o).unwrap_err(),
        Error::Decode(DecodeError::BadXtype(3))
    );
    // A ticket whose sender identity (start time) does not match: what a reused pid looks like.
    let mut forged = good.clone();
    let h = wire::IoDup::SIZE - 8;
    forged[h] ^= 1;
    assert_eq!(receive_fd(&forged).unwrap_err(), Error::Os(Errno::SRCH));
    assert_eq!(
        Receiver::new().redeem_dup(&forged).unwrap_err(),
        Error::Os(Errno::SRCH)
    );
    assert_eq!(open_fds(), before);
    s.stop();
}

#[test]
fn batches_are_all_or_nothing() {
    let _g = common::serial();
    let s = Sender::start("batch");
    let mut r = Receiver::new();
    // One pidfd stays cached in the receiver: warm it first so the counts below compare descriptors.
    drop(r.redeem_batch::<4>(s.ticket("batch")).unwrap());
    let empty = open_fds();
    let fds = r.redeem_batch::<4>(s.ticket("batch")).unwrap();
    assert_eq!(fds.len(), 3);
    let mut numbers: Vec<_> = (&fds)
        .into_iter()
        .map(qnx_fdpass::fd::AsRawFd::as_raw_fd)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "three distinct descriptors");
    // By value, in ticket order: each one the sender's file.
    let mut it = fds.into_iter();
    assert_eq!(it.len(), 3);
    let first = file(it.next().unwrap());
    assert_senders_file(&s, &first);
    drop(it); // closes the two not taken
    drop(first);
    assert_eq!(
        open_fds(),
        empty,
        "the iterator closed what it did not hand out"
    );
    let before = open_fds();
    assert_eq!(
        r.redeem_batch::<4>(s.ticket("bad-batch")).unwrap_err(),
        BatchError::new(3, Error::Os(Errno::BADF))
    );
    assert_eq!(
        open_fds(),
        before,
        "the three descriptors obtained before ticket 3 were closed"
    );
    assert_eq!(
        r.redeem_batch::<2>(s.ticket("batch")).unwrap_err().index,
        2,
        "capacity is enforced"
    );
    assert_eq!(open_fds(), before);
    drop(r);
    s.stop();
}
