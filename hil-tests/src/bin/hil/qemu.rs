//! Starting QEMU for a profile, watching its serial console, enforcing deadlines, and reaping it.

use crate::guest::GuestParams;
use crate::profile::{expand, Payload, Profile};
use hil_tests::{parse_line, strip_noise, Event, Verdict, EXIT_PASS, EXIT_SKIP};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `tcg` or `kvm` for a profile on this host.
///
/// KVM only when a real KVM module is loaded (`kvm_intel` or `kvm_amd`: other `/dev/kvm` providers hang
/// stock kernels) and the guest's arch is the host's.
pub fn accel_for(p: &Profile) -> String {
    match p.accel.as_str() {
        "auto" => {
            let real_kvm = Path::new("/sys/module/kvm_intel").exists()
                || Path::new("/sys/module/kvm_amd").exists();
            if real_kvm && p.arch == std::env::consts::ARCH && Path::new("/dev/kvm").exists() {
                "kvm".into()
            } else {
                "tcg".into()
            }
        }
        other => other.into(),
    }
}

/// The full QEMU command line for a profile, and the variables it names that have no value.
pub fn command(
    p: &Profile,
    vars: &BTreeMap<String, String>,
    params: &GuestParams,
) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut x = |s: &str| {
        let (v, m) = expand(s, vars);
        missing.extend(m);
        v
    };
    let mut cmd = vec![x(&p.qemu)];
    let accel = accel_for(p);
    for (flag, val) in [
        ("-machine", x(&p.machine)),
        ("-cpu", x(&p.cpu)),
        ("-m", x(&p.memory)),
        ("-smp", p.smp.to_string()),
        ("-accel", accel),
    ] {
        cmd.push(flag.into());
        cmd.push(val);
    }
    // Guests booting from a disk in `backends` have no `-kernel`.
    if !p.kernel.is_empty() {
        cmd.push("-kernel".into());
        cmd.push(x(&p.kernel));
    }
    if p.payload == Payload::Initramfs {
        cmd.push("-initrd".into());
        cmd.push(x("${HIL_PAYLOAD}"));
    }
    if let Some(a) = &p.append {
        cmd.push("-append".into());
        cmd.push(format!("{} {}", x(a), params.cmdline()));
    }
    cmd.extend(p.args.iter().map(|a| x(a)));
    cmd.extend(p.backends.iter().map(|a| x(a)));
    for d in &p.devices {
        cmd.push("-device".into());
        cmd.push(x(d));
    }
    missing.sort();
    missing.dedup();
    (cmd, missing)
}

/// Shell-quotes a command for display.
pub fn shell_line(cmd: &[String]) -> String {
    cmd.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One scenario's outcome in one guest.
#[derive(Debug, Clone)]
pub enum Row {
    /// Passed.
    Pass,
    /// Failed: why, then the scenario's own console lines.
    Fail(String, Vec<String>),
    /// Could not run: why.
    Skip(String),
}

fn answer(r: &Row) -> String {
    match r {
        Row::Pass => "PASS".into(),
        Row::Fail(why, _) => format!("FAIL ({why})"),
        Row::Skip(why) => format!("SKIP ({why})"),
    }
}

fn same_answer(a: &Row, b: &Row) -> bool {
    answer(a) == answer(b)
}

/// Deadlines for one guest, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// QEMU start to READY (`cd-typed`: to the shell prompt).
    pub boot: u64,
    /// Typing a program to its READY marker (`cd-typed`).
    pub ready: u64,
    /// BEGIN to EXIT of one scenario.
    pub test: u64,
    /// The whole guest.
    pub total: u64,
}

enum Msg {
    Out(String),
    Err(String),
    Eof,
}

/// A QEMU process, killed (if still running) and reaped when dropped: on every path out of [`run`] (and
/// `typed::run`).
pub(crate) struct Reap(pub(crate) Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

struct Current {
    name: String,
    began: Instant,
    result: Option<(Verdict, String)>,
    lines: Vec<String>,
}

/// Boots one guest and collects a row per planned scenario. `report` is called as each row is known.
pub fn run(
    guest: &str,
    cmd: &[String],
    params: &GuestParams,
    dl: Deadlines,
    log_path: &Path,
    report: &(dyn Fn(&str, &Row) + Sync),
) -> Vec<(String, Row)> {
    let mut rows: Vec<(String, Row)> = Vec::new();
    let emit = |rows: &mut Vec<(String, Row)>, name: &str, row: Row| {
        // `<name>-libc` (Neutrino, libc-routed) must give the same answer as `<name>` (raw calls).
        let row = match (name.strip_suffix("-libc"), &row) {
            (Some(base), Row::Pass | Row::Skip(_)) => match rows.iter().find(|(n, _)| n == base) {
                Some((_, raw)) if !same_answer(raw, &row) => Row::Fail(
                    format!(
                        "answers differ: raw kernel calls {}, libc-routed {}",
                        answer(raw),
                        answer(&row)
                    ),
                    Vec::new(),
                ),
                _ => row,
            },
            _ => row,
        };
        report(name, &row);
        rows.push((name.to_string(), row));
    };
    let fail_rest = |rows: &mut Vec<(String, Row)>, why: &str| {
        for t in &params.tests {
            if !rows.iter().any(|(n, _)| n == t) {
                emit(
                    rows,
                    t,
                    Row::Fail(format!("{guest}: not run: {why}"), Vec::new()),
                );
            }
        }
    };

    let log = match File::create(log_path) {
        Ok(f) => Arc::new(Mutex::new(f)),
        Err(e) => {
            fail_rest(
                &mut rows,
                &format!("cannot create console log {}: {e}", log_path.display()),
            );
            return rows;
        }
    };
    if let Ok(mut f) = log.lock() {
        let _ = writeln!(f, "# {}\n# nonce {}", shell_line(cmd), params.nonce);
    }
    let child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => Reap(c),
        Err(e) => {
            fail_rest(&mut rows, &format!("cannot start {}: {e}", cmd[0]));
            return rows;
        }
    };
    let start = Instant::now();
    let (tx, rx) = channel();
    if let Some(out) = child.0.stdout.take() {
        let (tx, log) = (tx.clone(), Arc::clone(&log));
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                if let Ok(mut f) = log.lock() {
                    let _ = f.write_all(&buf);
                }
                let _ = tx.send(Msg::Out(String::from_utf8_lossy(&buf).into_owned()));
                buf.clear();
            }
            let _ = tx.send(Msg::Eof);
        });
    }
    if let Some(err) = child.0.stderr.take() {
        let (tx, log) = (tx.clone(), Arc::clone(&log));
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut f) = log.lock() {
                    let _ = writeln!(f, "[qemu stderr] {line}");
                }
                let _ = tx.send(Msg::Err(line));
            }
        });
    }
    drop(tx);

    let boot_by = start + Duration::from_secs(dl.boot);
    let total_by = start + Duration::from_secs(dl.total);
    let mut ready = false;
    let mut done_at: Option<Instant> = None;
    let mut cur: Option<Current> = None;
    let mut panic_line: Option<String> = None;
    let mut qemu_err: Vec<String> = Vec::new();
    let mut recent: Vec<String> = Vec::new();

    let abort: Option<String> = loop {
        let (deadline, what) = if let Some(d) = done_at {
            (d + Duration::from_secs(10), "poweroff")
        } else if !ready {
            (boot_by.min(total_by), "boot")
        } else if let Some(c) = &cur {
            (
                (c.began + Duration::from_secs(dl.test)).min(total_by),
                "test",
            )
        } else {
            (total_by, "total")
        };
        let now = Instant::now();
        let msg = if now >= deadline {
            Err(RecvTimeoutError::Timeout)
        } else {
            rx.recv_timeout(deadline - now)
        };
        match msg {
            Ok(Msg::Out(raw)) => {
                let line = strip_noise(&raw);
                if line.contains("Kernel panic - not syncing") && panic_line.is_none() {
                    panic_line = Some(line.trim().to_string());
                }
                match parse_line(&params.nonce, &line) {
                    Some(Event::Ready(_)) => ready = true,
                    Some(Event::Begin(name)) => {
                        if let Some(c) = cur.take() {
                            emit(
                                &mut rows,
                                &c.name,
                                Row::Fail(
                                    format!("{guest}: no EXIT marker before the next BEGIN"),
                                    c.lines,
                                ),
                            );
                        }
                        cur = Some(Current {
                            name,
                            began: Instant::now(),
                            result: None,
                            lines: Vec::new(),
                        });
                    }
                    Some(Event::Result {
                        name,
                        verdict,
                        reason,
                    }) => match &mut cur {
                        Some(c) if c.name == name => c.result = Some((verdict, reason)),
                        _ => recent.push(format!("(stray RESULT for {name})")),
                    },
                    Some(Event::Exit { name, status }) => {
                        let c = match cur.take() {
                            Some(c) if c.name == name => c,
                            other => {
                                cur = other;
                                continue;
                            }
                        };
                        let row = match (&c.result, status) {
                            (Some((Verdict::Pass, _)), EXIT_PASS) => Row::Pass,
                            (Some((Verdict::Skip, why)), EXIT_SKIP) => Row::Skip(why.clone()),
                            (Some((Verdict::Fail, why)), _) => Row::Fail(why.clone(), c.lines),
                            (Some((v, _)), st) => Row::Fail(
                                format!("verdict {} but exit status {st}", v.word()),
                                c.lines,
                            ),
                            (None, st) => Row::Fail(
                                format!("exited with status {st} without a verdict"),
                                c.lines,
                            ),
                        };
                        emit(&mut rows, &name, row);
                    }
                    Some(Event::Done) => done_at = Some(Instant::now()),
                    None => {
                        let t = line.trim();
                        if !t.is_empty() {
                            if let Some(c) = &mut cur {
                                c.lines.push(t.to_string());
                            }
                            recent.push(t.to_string());
                            if recent.len() > 40 {
                                recent.remove(0);
                            }
                        }
                    }
                }
            }
            Ok(Msg::Err(l)) => qemu_err.push(l),
            Ok(Msg::Eof) | Err(RecvTimeoutError::Disconnected) => {
                if done_at.is_some() {
                    break None;
                }
                // QEMU ended on its own: reap it to learn how, then say why the guest stopped.
                let status = child
                    .0
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|e| e.to_string());
                break Some(match &panic_line {
                    Some(p) => {
                        let what = p.split("Kernel panic - ").nth(1).unwrap_or(p);
                        format!("guest kernel panicked: \"Kernel panic - {what}\"")
                    }
                    None => {
                        let err = qemu_err
                            .iter()
                            .rev()
                            .take(3)
                            .rev()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" | ");
                        format!(
                            "QEMU exited ({status}) before the guest finished{}",
                            if err.is_empty() {
                                String::new()
                            } else {
                                format!(": {err}")
                            }
                        )
                    }
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                break match what {
                    "poweroff" => None, // every verdict is in; the guest just did not power off
                    "boot" if Instant::now() >= total_by => Some(format!("total deadline of {} s reached", dl.total)),
                    "boot" => Some(format!("guest did not boot: no READY marker within {} s (boot deadline)", dl.boot)),
                    "test" if Instant::now() < total_by => Some(format!(
                        "hung: no EXIT marker within {} s of BEGIN (per-test deadline); QEMU killed",
                        dl.test
                    )),
                    _ => Some(format!("total deadline of {} s reached; QEMU killed", dl.total)),
                };
            }
        }
    };
    drop(child); // kill (if still running) and reap
    if let Some(why) = abort {
        if let Ok(mut f) = log.lock() {
            let _ = writeln!(f, "\n# hil: {why}");
        }
        if let Some(c) = cur.take() {
            let mut lines = c.lines;
            if lines.is_empty() {
                lines = recent.clone();
            }
            if let Some(at) = lines
                .iter()
                .position(|l| l.contains("Kernel panic - not syncing"))
            {
                // The panic's own first lines say more than the tail of its backtrace.
                let from = at.saturating_sub(2);
                lines = lines[from..(at + 6).min(lines.len())].to_vec();
            }
            emit(
                &mut rows,
                &c.name,
                Row::Fail(format!("{guest}: {why}, during {}", c.name), lines),
            );
            fail_rest(
                &mut rows,
                &format!("guest stopped earlier ({why}) during {}", c.name),
            );
        } else {
            let lines = if ready { Vec::new() } else { recent.clone() };
            for t in &params.tests {
                if !rows.iter().any(|(n, _)| n == t) {
                    emit(
                        &mut rows,
                        t,
                        Row::Fail(format!("{guest}: not run: {why}"), lines.clone()),
                    );
                }
            }
        }
    } else {
        fail_rest(&mut rows, "the guest finished without running it");
    }
    if let Ok(mut f) = log.lock() {
        let _ = writeln!(f, "# hil: {:.1} s", start.elapsed().as_secs_f64());
    }
    rows
}
