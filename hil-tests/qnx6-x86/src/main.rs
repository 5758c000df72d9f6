//! The HIL payload for the QNX Neutrino 6.4 x86 guest: `no_std`, `no_main`, core only.
//!
//! The runner boots the guest with a CD holding this program twice (`hil-raw`: the crate's raw kernel
//! calls; `hil-libc`: the crate with `libc-calls`), `nonce` and `scenarios`, starts `devc-ser8250` and
//! types `/fs/cd0/hil-raw`, then `/fs/cd0/hil-libc`. Each run reads the nonce and the scenario names,
//! and reports on `/dev/ser1` with the marker lines of `hil-tests/src/lib.rs`:
//!
//! ```text
//! HIL-<nonce> READY <release> <machine> <raw|libc>
//! HIL-<nonce> BEGIN <name>
//! HIL-<nonce> RESULT <name> PASS|FAIL|SKIP <answer>
//! HIL-<nonce> EXIT <name> <status>
//! HIL-<nonce> DONE
//! ```
//!
//! Every scenario runs in a forked child with a deadline, so a crash or a hang costs that scenario
//! only. The answer text says what the kernel did (errno names, offsets, counts) and nothing that
//! differs between runs or backends (pids, times), so the runner can compare the two binaries' rows.

#![no_std]
#![no_main]

mod c;
mod hostile;
mod kern;
mod native;
mod out;
mod peer;
mod proc;
mod rt;
mod scenarios;
mod util;

use core::fmt::Write as _;

use out::Text;

/// Which kernel-call backend this binary's crate uses.
pub const BACKEND: &str = if cfg!(feature = "libc-calls") {
    "libc"
} else {
    "raw"
};

/// The scenario table shared with the runner: `name<TAB>description` per line.
pub const LIST: &str = include_str!("../scenarios.txt");

/// How long one scenario may take before its child is killed: under the runner's own per-scenario
/// deadline (`test`, 90 s, in `targets/qemu/qnx64-x86.toml`), so a hang is reported here, with its scenario, and
/// the rest still run. The whole run of one binary takes about 10-15 s under TCG.
const DEADLINE_MS: u32 = 45_000;

/// A scenario's verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    const fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
    const fn code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Skip => 77,
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

fn cstr_field(b: &[u8]) -> &str {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    core::str::from_utf8(&b[..n]).unwrap_or("?")
}

/// The program: READY, each scenario named in `/fs/cd0/scenarios`, DONE.
pub fn main() -> i32 {
    let mut nonce_buf = [0u8; 64];
    let nonce = match proc::read_file(c"/fs/cd0/nonce", &mut nonce_buf) {
        Ok(n) => trim(n),
        Err(_) => b"local",
    };
    // SAFETY: the path is NUL-terminated.
    let serial = unsafe { c::open(c"/dev/ser1".as_ptr(), c::O_WRONLY) };
    out::init(serial, nonce);
    if serial < 0 {
        say!(
            "hil: cannot open /dev/ser1 (errno {}): is devc-ser8250 running?",
            c::errno()
        );
    }
    // SAFETY: a zeroed utsname is a valid buffer for uname to fill.
    let mut uts: c::Utsname = unsafe { core::mem::zeroed() };
    // SAFETY: `uts` is a live utsname.
    unsafe { c::uname(&mut uts) };
    out::marker(format_args!(
        "READY {} {} {BACKEND}",
        cstr_field(&uts.release),
        cstr_field(&uts.machine)
    ));

    let mut names_buf = [0u8; 4096];
    let names: &[u8] = match proc::read_file(c"/fs/cd0/scenarios", &mut names_buf) {
        Ok(n) => n,
        Err(e) => {
            say!("hil: cannot read /fs/cd0/scenarios (errno {e}): running every scenario");
            LIST.as_bytes()
        }
    };
    // Proving the harness (`cargo hil --hang S` / `--break S`): names, one a line, absent normally.
    let mut hang_buf = [0u8; 1024];
    let hang = proc::read_file(c"/fs/cd0/hang", &mut hang_buf).unwrap_or(&[]);
    let mut break_buf = [0u8; 1024];
    let broken = proc::read_file(c"/fs/cd0/break", &mut break_buf).unwrap_or(&[]);
    for name in names_in(names) {
        let on_purpose = Purpose {
            hang: names_in(hang).any(|n| n == name),
            broken: names_in(broken).any(|n| n == name),
        };
        run_one(name, on_purpose);
    }
    out::marker(format_args!("DONE"));
    0
}

/// The names in a list file: one a line, the first TAB-separated field, blanks and `#` lines skipped.
fn names_in(list: &[u8]) -> impl Iterator<Item = &str> {
    list.split(|&b| b == b'\n').filter_map(|line| {
        let name = line.split(|&b| b == b'\t').next().unwrap_or(b"");
        let name = core::str::from_utf8(trim(name)).ok()?;
        (!name.is_empty() && !name.starts_with('#')).then_some(name)
    })
}

/// What the runner asked a scenario to do wrong on purpose.
#[derive(Clone, Copy)]
struct Purpose {
    /// Block forever after BEGIN (the payload's deadline must then fail it).
    hang: bool,
    /// Fail after its checks, saying so (the run must then fail).
    broken: bool,
}

/// Runs one scenario in a child: BEGIN, the child's RESULT (or one for it if it died or hung), EXIT.
fn run_one(name: &str, on_purpose: Purpose) {
    out::marker(format_args!("BEGIN {name}"));
    let listed = LIST
        .lines()
        .any(|l| l.split('\t').next().map(str::trim) == Some(name));
    let f = match scenarios::lookup(name) {
        Some(f) if listed => f,
        _ => {
            out::marker(format_args!(
                "RESULT {name} FAIL unknown scenario (not in scenarios.txt with a function)"
            ));
            out::marker(format_args!("EXIT {name} 1"));
            return;
        }
    };
    let told = match proc::pipe() {
        Ok(p) => p,
        Err(e) => {
            out::marker(format_args!("RESULT {name} FAIL pipe: errno {e}"));
            out::marker(format_args!("EXIT {name} 1"));
            return;
        }
    };
    let child = proc::spawn(|| {
        proc::close(told.r);
        if on_purpose.hang {
            say!("{name}: /fs/cd0/hang names this scenario: blocking forever on purpose");
            loop {
                proc::sleep_ms(60_000);
            }
        }
        let mut text = Text::new();
        let mut v = f(&mut text);
        if on_purpose.broken {
            say!("{name}: /fs/cd0/break names this scenario: failing it on purpose");
            let _ = write!(
                text,
                " (BROKEN ON PURPOSE: /fs/cd0/break names this scenario)"
            );
            v = Verdict::Fail;
        }
        out::marker(format_args!("RESULT {name} {} {}", v.word(), text.as_str()));
        proc::write_all(told.w, &[v.code() as u8]);
        v.code()
    });
    proc::close(told.w);
    let pid = match child {
        Ok(pid) => pid,
        Err(e) => {
            proc::close(told.r);
            out::marker(format_args!("RESULT {name} FAIL fork: errno {e}"));
            out::marker(format_args!("EXIT {name} 1"));
            return;
        }
    };
    let exit = proc::wait_for(pid, DEADLINE_MS);
    // The child is reaped, so its verdict byte (if any) is in the pipe; a holder it forked may still
    // hold the write end, so do not wait for more.
    // SAFETY: integers only.
    unsafe { c::fcntl(told.r, c::F_SETFL, c::O_NONBLOCK) };
    let mut said = [0u8; 1];
    let reported = proc::read_exact(told.r, &mut said);
    proc::close(told.r);
    let status = match exit {
        Some(proc::Exit::Code(c)) if reported => c,
        Some(how) => {
            let mut t = Text::new();
            let _ = write!(t, "the scenario's process ended without a verdict: {how:?}");
            out::marker(format_args!("RESULT {name} FAIL {}", t.as_str()));
            match how {
                proc::Exit::Code(c) if c != 0 => c,
                proc::Exit::Signal(s) => 128 + s,
                proc::Exit::Code(_) => 1,
            }
        }
        None => {
            out::marker(format_args!(
                "RESULT {name} FAIL no verdict within {} s: killed",
                DEADLINE_MS / 1000
            ));
            124
        }
    };
    out::marker(format_args!("EXIT {name} {status}"));
}
