//! The other process of a scenario: this program re-executed with `--role`, driven over stdin/stdout.
//!
//! Role `holder <path> <ro|rw>`: opens `<path>` and answers one command per line:
//! `hello` -> `pid <pid> fd <fd>`, `offset` -> `offset <n>`, `seek <n>` -> `ok`, `close` -> `ok`
//! (closes the descriptor), `ticket <dup|openfd-r|openfd-w|openfd-rw> <any|pid>` -> `ticket <hex>` or
//! `err <errno>`, `batch <good> <stale> <any|pid>` -> `ticket <hex>` (see [`make_batch`]),
//! `quit` -> exits 0. An unknown command answers `err unknown`.
//!
//! Role `mq-sender <queue> <path>`: on `send`, opens `<path>`, reads its first line, sends the
//! re-positioned descriptor over the POSIX queue `<queue>` with `send_fd` and answers
//! `SFD: client pid <pid>, first line [<line>]`; keeps the descriptor open until `quit`.
//!
//! Role `soak-sender <to> <path>...`: a stream of fresh dup tickets for several files (see
//! [`soak_sender`]), for `soak::soak_threads`.

use crate::util::{hex, offset, seek};
use crate::{ensure, Check, Outcome};
use qnx_fdpass::{Access, BorrowedFd, DupBatch, DupTicket, OpenfdTicket, Recipient};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// A running peer and its line channel.
pub struct Peer {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Peer {
    /// Starts this program again as `--role <role> <args...>`.
    pub fn spawn(role: &str, args: &[&str]) -> Result<Peer, Outcome> {
        let exe =
            std::env::current_exe().map_err(|e| Outcome::Fail(format!("current_exe: {e}")))?;
        let mut child = Command::new(exe)
            .arg("--role")
            .arg(role)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Outcome::Fail(format!("spawn peer {role}: {e}")))?;
        let to = child
            .stdin
            .take()
            .ok_or_else(|| Outcome::Fail("peer stdin".into()))?;
        let from = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| Outcome::Fail("peer stdout".into()))?,
        );
        Ok(Peer { child, to, from })
    }

    /// The peer's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends one command line without waiting for an answer.
    pub fn send(&mut self, cmd: &str) -> Result<(), Outcome> {
        writeln!(self.to, "{cmd}")
            .and_then(|_| self.to.flush())
            .map_err(|e| Outcome::Fail(format!("to peer ({cmd}): {e}")))
    }

    /// Reads the peer's next line into `line` (cleared first, its buffer reused), without the newline.
    /// `what` names the command it answers, for the failure message.
    pub fn read_line(&mut self, line: &mut String, what: &str) -> Result<(), Outcome> {
        line.clear();
        let n = self
            .from
            .read_line(line)
            .map_err(|e| Outcome::Fail(format!("from peer ({what}): {e}")))?;
        if n == 0 {
            return Err(Outcome::Fail(format!(
                "peer ended before answering {what:?}"
            )));
        }
        let end = line.trim_end().len();
        line.truncate(end);
        Ok(())
    }

    /// Sends one command and returns the peer's one-line answer.
    pub fn ask(&mut self, cmd: &str) -> Result<String, Outcome> {
        self.send(cmd)?;
        let mut line = String::new();
        self.read_line(&mut line, cmd)?;
        Ok(line)
    }

    /// Sends a command whose answer must start with `want `; returns the rest.
    pub fn expect(&mut self, cmd: &str, want: &str) -> Result<String, Outcome> {
        let ans = self.ask(cmd)?;
        match ans.strip_prefix(want) {
            Some(rest) => Ok(rest.trim().to_string()),
            None => Err(Outcome::Fail(format!(
                "peer answered {ans:?} to {cmd:?}, wanted {want}..."
            ))),
        }
    }

    /// Tells the peer to exit and reaps it; returns its exit status.
    pub fn quit(mut self) -> Result<i32, Outcome> {
        let _ = writeln!(self.to, "quit");
        let _ = self.to.flush();
        let st = self
            .child
            .wait()
            .map_err(|e| Outcome::Fail(format!("wait peer: {e}")))?;
        Ok(st.code().unwrap_or(-1))
    }

    /// Tells the peer to exit and reaps it; it must have exited 0.
    pub fn finish(self) -> Check {
        let st = self.quit()?;
        ensure!(st == 0, "peer exited with status {st}");
        Ok(())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Reaped on every path; `quit` already waited, in which case kill/wait are no-ops.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Entry point for `--role`.
pub fn run_role(role: &str, args: &[String]) -> i32 {
    match role {
        "holder" => holder(
            args.first().map(String::as_str).unwrap_or(""),
            args.get(1).map(String::as_str) == Some("ro"),
        ),
        "soak-sender" => soak_sender(
            args.first().map(String::as_str).unwrap_or(""),
            args.get(1..).unwrap_or(&[]),
        ),
        "mq-sender" => mq_sender(
            args.first().map(String::as_str).unwrap_or(""),
            args.get(1).map(String::as_str).unwrap_or(""),
        ),
        _ => {
            eprintln!("unknown role {role:?}");
            2
        }
    }
}

fn holder(path: &str, read_only: bool) -> i32 {
    let file = match std::fs::File::options()
        .read(true)
        .write(!read_only)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            println!("err open {path}: {e}");
            return 1;
        }
    };
    let mut fd = Some(file.into_raw_fd());
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let raw = fd.unwrap_or(-1);
        let answer = match words.as_slice() {
            ["hello"] => format!("pid {} fd {raw}", std::process::id()),
            ["offset"] => match offset(raw) {
                Ok(o) => format!("offset {o}"),
                Err(e) => format!("err {e:?}"),
            },
            ["seek", n] => match n
                .parse()
                .map_err(|_| ())
                .and_then(|n| seek(raw, n).map_err(|_| ()))
            {
                Ok(()) => "ok".into(),
                Err(()) => "err seek".into(),
            },
            ["close"] => {
                if let Some(fd) = fd.take() {
                    // SAFETY: `fd` came from into_raw_fd above and is closed exactly once.
                    unsafe { libc::close(fd) };
                }
                "ok".into()
            }
            ["ticket", kind, to] => make_ticket(raw, kind, to),
            ["batch", good, stale, to] => match (good.parse(), stale.parse()) {
                (Ok(g), Ok(s)) => make_batch(raw, g, s, to),
                _ => "err batch counts".into(),
            },
            ["quit"] => break,
            _ => "err unknown".into(),
        };
        if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    if let Some(fd) = fd {
        // SAFETY: closed once, at exit.
        unsafe { libc::close(fd) };
    }
    0
}

/// `any` or a pid, as the peers' commands spell a recipient.
pub fn recipient(to: &str) -> Result<Recipient, String> {
    match to {
        "any" => Ok(Recipient::Any),
        pid => pid
            .parse()
            .map(Recipient::Pid)
            .map_err(|_| format!("bad recipient {pid:?}")),
    }
}

/// What the `holder` peer answers to `ticket <dup|openfd-r|openfd-w|openfd-rw> <any|pid>`.
pub fn make_ticket(fd: i32, kind: &str, to: &str) -> String {
    let to = match recipient(to) {
        Ok(r) => r,
        Err(e) => return format!("err {e}"),
    };
    // SAFETY: the holder keeps `fd` open while it answers.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    let r = match kind {
        "dup" => DupTicket::new(b, to).map(|t| t.as_bytes().to_vec()),
        "openfd-r" => OpenfdTicket::new(b, Access::Read, to).map(|t| t.as_bytes().to_vec()),
        "openfd-w" => OpenfdTicket::new(b, Access::Write, to).map(|t| t.as_bytes().to_vec()),
        "openfd-rw" => OpenfdTicket::new(b, Access::ReadWrite, to).map(|t| t.as_bytes().to_vec()),
        _ => return format!("err unknown ticket kind {kind}"),
    };
    match r {
        Ok(bytes) => format!("ticket {}", hex(&bytes)),
        Err(e) => format!("err {e}"),
    }
}

/// What the `holder` peer answers to `batch <good> <stale> <any|pid>`: a batch of `good` tickets for
/// fresh `dup()`s of its descriptor, then `stale` tickets for dups closed right after the ticket was made.
pub fn make_batch(fd: i32, good: usize, stale: usize, to: &str) -> String {
    let to = match recipient(to) {
        Ok(r) => r,
        Err(e) => return format!("err {e}"),
    };
    let mut batch = DupBatch::<8>::new();
    for i in 0..good + stale {
        // SAFETY: dup of a descriptor the holder keeps open; the result is owned below.
        let d = unsafe { libc::dup(fd) };
        if d < 0 {
            return format!("err dup: {}", std::io::Error::last_os_error());
        }
        // SAFETY: `d` is a fresh descriptor nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(d) };
        // SAFETY: `owned` is open for the borrow.
        let t = match DupTicket::new(unsafe { BorrowedFd::borrow_raw(owned.as_raw_fd()) }, to) {
            Ok(t) => t,
            Err(e) => return format!("err {e}"),
        };
        if batch.push(t).is_err() {
            return "err batch full".into();
        }
        if i < good {
            // Kept open (leaked on purpose) until the holder exits: the tickets must stay redeemable.
            std::mem::forget(owned);
        }
    }
    format!("ticket {}", hex(batch.as_bytes()))
}

/// Role `soak-sender <to> <path>...`: opens every path read-only, answers `hello` with `ready <pid>`,
/// and `tickets <first> <n>` with `n` lines `ticket <hex>`, the `i`-th (counting from `first`) a fresh
/// dup ticket for the file `i % <number of paths>`, made for recipient `<to>` (`any` or a pid).
fn soak_sender(to: &str, paths: &[String]) -> i32 {
    let to = match recipient(to) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let mut files = Vec::new();
    for p in paths {
        match std::fs::File::open(p) {
            Ok(f) => files.push(f),
            Err(e) => return fail(&format!("open {p}: {e}")),
        }
    }
    if files.is_empty() {
        return fail("soak-sender needs at least one path");
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let sent = match words.as_slice() {
            ["hello"] => writeln!(out, "ready {}", std::process::id()),
            ["tickets", first, n] => {
                let (Ok(first), Ok(n)) = (first.parse::<usize>(), n.parse::<usize>()) else {
                    return fail(&format!("bad counts in {line:?}"));
                };
                let mut r = Ok(());
                for i in first..first + n {
                    let f = &files[i % files.len()];
                    // SAFETY: `files` stays open until this role exits, after the receiver is done.
                    let fd = unsafe { BorrowedFd::borrow_raw(f.as_raw_fd()) };
                    let t = match DupTicket::new(fd, to) {
                        Ok(t) => t,
                        Err(e) => return fail(&format!("ticket {i}: {e}")),
                    };
                    r = writeln!(out, "ticket {}", hex(t.as_bytes()));
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            ["quit"] => break,
            _ => writeln!(out, "err unknown"),
        };
        if sent.and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    drop(files);
    0
}

#[cfg(not(target_os = "linux"))]
fn mq_sender(_queue: &str, _path: &str) -> i32 {
    println!("err mq-sender is Linux only here");
    1
}

#[cfg(target_os = "linux")]
fn mq_sender(queue: &str, path: &str) -> i32 {
    use qnx_fdpass::send_fd;
    let mut out = std::io::stdout();
    let mut file = None;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match line.trim() {
            "send" => {
                let f = match std::fs::File::open(path) {
                    Ok(f) => f,
                    Err(e) => return fail(&format!("open {path}: {e}")),
                };
                // Read the first line byte by byte, so the offset stops right after it.
                let mut first = Vec::new();
                loop {
                    match crate::util::read_n(f.as_raw_fd(), 1) {
                        Ok(b) if b.is_empty() || b[0] == b'\n' => break,
                        Ok(b) => first.extend_from_slice(&b),
                        Err(e) => return fail(&format!("read: {e:?}")),
                    }
                }
                let q = match crate::util::mq_open_wr(queue) {
                    Ok(q) => q,
                    Err(e) => return fail(&format!("{e:?}")),
                };
                // SAFETY: `f` stays open for the borrow (and after: until quit).
                let fd = unsafe { BorrowedFd::borrow_raw(f.as_raw_fd()) };
                let sent = send_fd(fd, Recipient::Any, |ticket| crate::util::mq_send(q, ticket));
                crate::util::mq_close(q);
                if let Err(e) = sent {
                    return fail(&format!("send_fd: {e}"));
                }
                file = Some(f);
                format!(
                    "SFD: client pid {}, first line [{}]",
                    std::process::id(),
                    String::from_utf8_lossy(&first)
                )
            }
            "quit" => break,
            _ => "err unknown".into(),
        };
        if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    drop(file);
    0
}

fn fail(why: &str) -> i32 {
    println!("err {why}");
    1
}
