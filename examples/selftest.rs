//! The self-test to run on your own QNX target: checks the kernel-call ABI this crate assumes, with the
//! raw kernel calls and (built with `--features libc-calls`) routed through the C library, then passes a
//! descriptor between two of its own processes both ways, `_IO_DUP` and `_IO_OPENFD`. It prints one
//! line per row of `docs/abi-status.md` it checks, plus the QNX version and architecture: paste the
//! output into a bug report. Exit status 0 when nothing failed.
//!
//! ```sh
//! # on a QNX SDP host (qcc in PATH, the dated nightly of targets/nightly with rust-src):
//! cargo +nightly build --release --example selftest --features std,libc-calls \
//!     --target aarch64-unknown-nto-qnx710 -Zbuild-std=std,panic_abort
//! # copy target/aarch64-unknown-nto-qnx710/release/examples/selftest to the target and run it there
//! cargo run --example selftest --features std   # on the Linux host: the pass rows; the kernel rows are N/A
//! ```
//!
//! The kernel rows come from the library ([`qnx_fdpass::selftest`]), the same code the Neutrino 6.4 HIL
//! payload runs; the pass rows use the public API only (`Issuer`, `Receiver`, the `stream` helpers over
//! the child's stdin and stdout).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::{Command, ExitCode, Stdio};

use qnx_fdpass::selftest::{kernel_rows, Outcome, KERNEL_ROWS};
use qnx_fdpass::{stream, Access, Issuer, Receiver, Recipient};

/// The test file's contents: each byte names its offset.
const DATA: &[u8] = b"0123456789abcdef";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return match child(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("selftest child: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut tally = Tally::default();
    println!("qnx-fdpass {} selftest", env!("CARGO_PKG_VERSION"));
    println!("system: {}", uname());
    println!(
        "built for: {} {}, {} ticket layout ({} / {} bytes), default backend {}",
        std::env::consts::ARCH,
        std::env::consts::OS,
        if qnx_fdpass::wire::IS_V8 {
            "QNX 8.0"
        } else {
            "QNX 7.x"
        },
        qnx_fdpass::ticket::DUP_LEN,
        qnx_fdpass::ticket::OPENFD_LEN,
        if cfg!(feature = "libc-calls") {
            "libc"
        } else {
            "raw"
        },
    );
    for (backend, outcomes) in kernel_probes() {
        for (row, outcome) in KERNEL_ROWS.iter().zip(outcomes) {
            tally.line(&format!("{backend:<4} {row}"), &outcome);
        }
    }
    // On the Linux host these rows exercise the host backend (pidfd_getfd), not Neutrino.
    let tag = if cfg!(any(target_os = "nto", target_os = "qnx")) {
        "pass"
    } else {
        "host"
    };
    for (row, result) in passes() {
        let outcome = match result {
            Ok(()) => Outcome::Pass,
            Err(e) => {
                tally.failed += 1;
                println!("{tag} {row}: FAIL ({e})");
                continue;
            }
        };
        tally.line(&format!("{tag} {row}"), &outcome);
    }
    println!(
        "selftest: {} passed, {} failed, {} not applicable",
        tally.passed, tally.failed, tally.other
    );
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    other: usize,
}

impl Tally {
    fn line(&mut self, what: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            o if o.is_fail() => self.failed += 1,
            _ => self.other += 1,
        }
        println!("{what}: {outcome}");
    }
}

/// The kernel probe's rows for each backend this build has.
fn kernel_probes() -> Vec<(&'static str, [Outcome; 5])> {
    #[cfg(any(target_os = "nto", target_os = "qnx"))]
    {
        let raw = qnx_fdpass::selftest::raw();
        #[cfg(feature = "libc-calls")]
        let libc = kernel_rows(Some(&qnx_fdpass::selftest::libc()));
        #[cfg(not(feature = "libc-calls"))]
        let libc = [Outcome::NotApplicable("built without --features libc-calls"); 5];
        vec![("raw", kernel_rows(Some(&raw))), ("libc", libc)]
    }
    #[cfg(not(any(target_os = "nto", target_os = "qnx")))]
    {
        vec![("raw", kernel_rows(None)), ("libc", kernel_rows(None))]
    }
}

/// `uname -srm`, or why not.
fn uname() -> String {
    match Command::new("uname").arg("-srm").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => format!("unknown (uname: {})", o.status),
        Err(e) => format!("unknown (uname: {e})"),
    }
}

type Check = Result<(), String>;

/// The four passes between this process and a child of its own, each a row.
fn passes() -> Vec<(&'static str, Check)> {
    let path = std::env::temp_dir().join(format!("qnx-fdpass-selftest-{}", std::process::id()));
    if let Err(e) = std::fs::write(&path, DATA) {
        let why = format!("cannot write {}: {e}", path.display());
        return ROWS.iter().map(|r| (*r, Err(why.clone()))).collect();
    }
    let p = path.to_string_lossy().to_string();
    let rows = vec![
        (ROWS[0], to_child(&p, Kind::Dup)),
        (ROWS[1], to_child(&p, Kind::Openfd)),
        (ROWS[2], from_child(&p, Kind::Dup)),
        (ROWS[3], from_child(&p, Kind::Openfd)),
    ];
    let _ = std::fs::remove_file(&path);
    rows
}

const ROWS: [&str; 4] = [
    "_IO_DUP to another process: the receiver shares the open file and its offset",
    "_IO_OPENFD to another process: a new open with its own offset",
    "_IO_DUP from another process",
    "_IO_OPENFD from another process",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Dup,
    Openfd,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Dup => "dup",
            Kind::Openfd => "openfd",
        }
    }
}

fn spawn(args: &[&str]) -> io::Result<std::process::Child> {
    Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
}

/// This process issues a ticket for its descriptor at offset 3; the child redeems it and reports its
/// offset and the two bytes it reads there.
fn to_child(path: &str, kind: Kind) -> Check {
    let mut file = File::open(path).map_err(|e| format!("open: {e}"))?;
    file.seek(SeekFrom::Start(3))
        .map_err(|e| format!("seek: {e}"))?;
    let mut child = spawn(&["redeem", kind.name()]).map_err(|e| format!("spawn: {e}"))?;
    let to = Recipient::Pid(child.id() as i32);
    let issuer = Issuer::new().map_err(|e| format!("Issuer::new: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let written = match kind {
        Kind::Dup => issuer.dup(&file, to).map(|t| t.write_to(&mut stdin)),
        Kind::Openfd => issuer
            .openfd(&file, Access::Read, to)
            .map(|t| t.write_to(&mut stdin)),
    };
    drop(stdin);
    let mut answer = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut answer);
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    written
        .map_err(|e| format!("issue: {e}"))?
        .map_err(|e| format!("write: {e}"))?;
    if !status.success() {
        return Err(format!("child: {status}, said {:?}", answer.trim()));
    }
    let (offset, bytes) = match kind {
        Kind::Dup => (3, &DATA[3..5]),
        Kind::Openfd => (0, &DATA[0..2]),
    };
    let want = format!("at {offset} read {}", String::from_utf8_lossy(bytes));
    if answer.trim() != want {
        return Err(format!("child says {:?}, expected {want:?}", answer.trim()));
    }
    // A dup moved our offset with the child's read; an openfd did not.
    let ours = file.stream_position().map_err(|e| format!("tell: {e}"))?;
    let expected = if kind == Kind::Dup { 5 } else { 3 };
    if ours != expected {
        return Err(format!(
            "our offset is {ours} after the child's read, expected {expected}"
        ));
    }
    Ok(())
}

/// The child opens the file at offset 7 and sends a ticket naming this process; this process redeems
/// it and reads there.
fn from_child(path: &str, kind: Kind) -> Check {
    let me = std::process::id().to_string();
    let mut child = spawn(&["send", kind.name(), path, &me]).map_err(|e| format!("spawn: {e}"))?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut buf = Default::default();
    let got = stream::read_ticket(&mut out, &mut buf)
        .map_err(|e| format!("read the ticket: {e}"))
        .and_then(|t| {
            Receiver::new()
                .redeem(t)
                .map_err(|e| format!("redeem: {e}"))
        })
        .and_then(|fd| {
            let mut f = File::from(fd);
            let at = f.stream_position().map_err(|e| format!("tell: {e}"))?;
            let mut two = [0u8; 2];
            f.read_exact(&mut two).map_err(|e| format!("read: {e}"))?;
            Ok((at, two))
        });
    // The child holds its descriptor until told to go.
    drop(child.stdin.take());
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let (at, two) = got?;
    let (offset, bytes) = match kind {
        Kind::Dup => (7, &DATA[7..9]),
        Kind::Openfd => (0, &DATA[0..2]),
    };
    if (at, &two[..]) != (offset, bytes) {
        return Err(format!(
            "redeemed at {at} reading {:?}, expected {offset} and {:?}",
            String::from_utf8_lossy(&two),
            String::from_utf8_lossy(bytes)
        ));
    }
    if !status.success() {
        return Err(format!("child: {status}"));
    }
    Ok(())
}

/// The child's side: `redeem KIND` (ticket on stdin, answer on stdout) or `send KIND PATH PID` (ticket
/// on stdout, then hold the descriptor until stdin closes).
fn child(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(0) {
        "redeem" => {
            let mut buf = Default::default();
            let ticket = stream::read_ticket(&mut io::stdin().lock(), &mut buf)
                .map_err(|e| format!("read: {e}"))?;
            let mut r = Receiver::new();
            let fd = match arg(1) {
                "dup" => r.redeem_dup(ticket),
                _ => r.redeem(ticket),
            }
            .map_err(|e| format!("redeem: {e}"))?;
            let mut f = File::from(fd);
            let at = f.stream_position().map_err(|e| format!("tell: {e}"))?;
            let mut two = [0u8; 2];
            f.read_exact(&mut two).map_err(|e| format!("read: {e}"))?;
            println!("at {at} read {}", String::from_utf8_lossy(&two));
            Ok(())
        }
        "send" => {
            let mut file = File::open(arg(2)).map_err(|e| format!("open: {e}"))?;
            file.seek(SeekFrom::Start(7))
                .map_err(|e| format!("seek: {e}"))?;
            let to = Recipient::Pid(arg(3).parse().map_err(|e| format!("pid: {e}"))?);
            let mut out = io::stdout().lock();
            match arg(1) {
                "dup" => Issuer::new()
                    .and_then(|i| i.dup(&file, to))
                    .map_err(|e| format!("issue: {e}"))?
                    .write_to(&mut out),
                _ => Issuer::new()
                    .and_then(|i| i.openfd(&file, Access::Read, to))
                    .map_err(|e| format!("issue: {e}"))?
                    .write_to(&mut out),
            }
            .and_then(|()| out.flush())
            .map_err(|e| format!("write: {e}"))?;
            drop(out);
            // Keep `file` open until the parent has redeemed (it closes our stdin then).
            let mut line = String::new();
            let _ = BufReader::new(io::stdin().lock()).read_line(&mut line);
            drop(file);
            Ok(())
        }
        other => Err(format!("unknown child role {other:?}")),
    }
}
