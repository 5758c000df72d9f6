//! Driving a guest that runs nothing of ours at boot (`payload = "cd-typed"`): the runner waits for the
//! shell prompt on the VGA screen, types the profile's commands through QMP, and reads the payload's
//! markers from the serial port, which QEMU appends to the console log.
//!
//! Under TCG a typed character can be lost, so every line is read back off the screen before Enter is
//! pressed, and erased and typed again (slower) when it differs. Typed text is echoed on the screen, so
//! nothing secret is ever typed: the nonce and the scenario list reach the payload as files on its CD.
//!
//! A program's run ends well when it printed DONE and the prompt came back. Otherwise:
//! - the prompt comes back first (a wrong path, a crash): the running scenario and the program's other
//!   rows fail with what the screen shows, and the next program is still typed;
//! - no READY after typing, no EXIT within the per-test deadline, no BEGIN/DONE after an EXIT, the total
//!   deadline, QEMU exiting: the guest is stopped (QEMU killed and reaped), the running scenario fails with
//!   the reason and the screen, every row not yet run fails as `not run`.

use crate::guest::GuestParams;
use crate::profile::{Program, Typed};
use crate::qemu::{shell_line, Deadlines, Reap, Row};
use crate::qmp::{last_line, Qmp, COLS};
use hil_tests::{parse_line, strip_noise, Event, Verdict, EXIT_PASS, EXIT_SKIP};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the screen is read while a program runs.
const SCREEN_EVERY: Duration = Duration::from_millis(250);
/// After the prompt is back, how long the serial port may still deliver the last markers.
const DRAIN: Duration = Duration::from_secs(2);
/// After DONE, how long the program may take to exit.
const EXIT_AFTER_DONE: Duration = Duration::from_secs(10);
/// Attempts at typing one line.
const TYPE_ATTEMPTS: u32 = 4;

/// One guest run, as planned by `main`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The run's nonce (on the CD, never typed).
    pub nonce: String,
    /// Selected scenario names, in order, per scenario list (`qnx6::lists()`): a program runs those
    /// of its list.
    pub scenarios: BTreeMap<String, Vec<String>>,
    /// Prompt, setup commands, programs.
    pub typed: Typed,
    /// QMP socket path (as on QEMU's command line).
    pub qmp: PathBuf,
    /// Scratch file for `pmemsave`.
    pub scratch: PathBuf,
    /// Prove the read-back checks: the first attempt at each line leaves out its second character, and
    /// the first Enter under each line is not pressed.
    pub lose_key: bool,
}

impl Plan {
    /// Every row this run must produce: `<scenario>::<program row>`, program by program.
    pub fn rows(&self) -> Vec<String> {
        self.typed
            .programs
            .iter()
            .flat_map(|p| self.scenarios_of(p).iter().map(move |s| row_name(s, p)))
            .collect()
    }

    /// The selected scenarios `p` runs: those of its list.
    pub fn scenarios_of(&self, p: &Program) -> &[String] {
        self.scenarios.get(&p.list).map_or(&[], Vec::as_slice)
    }
}

fn row_name(scenario: &str, p: &Program) -> String {
    format!("{scenario}::{}", p.row)
}

/// The part of a RESULT text that must agree between programs: everything before ` -- ` (after it,
/// free-form details such as pids and timings).
pub fn answer_of(verdict: Verdict, text: &str) -> String {
    let a = text.split(" -- ").next().unwrap_or("").trim();
    format!("{} {a}", verdict.word()).trim_end().to_string()
}

/// Reads what QEMU appends to the console log, line by line.
struct Tail {
    f: File,
    partial: Vec<u8>,
}

impl Tail {
    fn lines(&mut self) -> Vec<String> {
        let mut buf = Vec::new();
        let _ = self.f.read_to_end(&mut buf);
        self.partial.extend_from_slice(&buf);
        let mut out = Vec::new();
        while let Some(at) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=at).collect();
            out.push(strip_noise(&String::from_utf8_lossy(&line)));
        }
        out
    }
}

struct Current {
    name: String,
    began: Instant,
    result: Option<(Verdict, String)>,
    lines: Vec<String>,
}

struct Driver<'a> {
    guest: &'a str,
    plan: &'a Plan,
    /// The guest's parameters, on its CD: scenarios `hang` names must not finish, those `break` names
    /// must not pass.
    params: &'a GuestParams,
    dl: Deadlines,
    report: &'a (dyn Fn(&str, &Row) + Sync),
    rows: Vec<(String, Row)>,
    /// The first program's answers, per scenario, for the others to be compared with.
    answers: BTreeMap<String, String>,
    screen: Vec<String>,
    screen_shown: bool,
    transcript: Vec<String>,
    /// Lines whose first Enter `--lose-key` held back.
    lost_enter: Vec<String>,
    start: Instant,
    qemu_err: Arc<Mutex<Vec<String>>>,
}

/// What stops the guest: the reason and, when a scenario was running, its name.
struct Stop(String);

/// Boots one guest, drives it, and returns a row per planned row. `report` is called as each is known.
pub fn run(
    guest: &str,
    cmd: &[String],
    plan: &Plan,
    params: &GuestParams,
    dl: Deadlines,
    log_path: &Path,
    report: &(dyn Fn(&str, &Row) + Sync),
) -> Vec<(String, Row)> {
    let mut d = Driver {
        guest,
        plan,
        params,
        dl,
        report,
        rows: Vec::new(),
        answers: BTreeMap::new(),
        screen: Vec::new(),
        screen_shown: false,
        transcript: Vec::new(),
        lost_enter: Vec::new(),
        start: Instant::now(),
        qemu_err: Arc::new(Mutex::new(Vec::new())),
    };
    let header = format!(
        "# {}\n# nonce {}\n# COM1 of the guest follows (QEMU appends it); the runner's transcript and the \
         last VGA screen are at the end\n",
        shell_line(cmd),
        plan.nonce
    );
    if let Err(e) = std::fs::write(log_path, &header) {
        d.fail_rest(&format!(
            "cannot write console log {}: {e}",
            log_path.display()
        ));
        return d.rows;
    }
    let _ = std::fs::remove_file(&plan.qmp);
    let child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => Reap(c),
        Err(e) => {
            d.fail_rest(&format!("cannot start {}: {e}", cmd[0]));
            return d.rows;
        }
    };
    d.start = Instant::now();
    if let Some(err) = child.0.stderr.take() {
        let sink = Arc::clone(&d.qemu_err);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut v) = sink.lock() {
                    v.push(line);
                }
            }
        });
    }
    let outcome = match File::open(log_path) {
        Ok(mut f) => {
            let _ = f.seek(SeekFrom::Start(header.len() as u64));
            let mut tail = Tail {
                f,
                partial: Vec::new(),
            };
            d.session(&mut child, &mut tail)
        }
        Err(e) => Err(Stop(format!("cannot read {}: {e}", log_path.display()))),
    };
    drop(child); // kill (if still running) and reap
    let _ = std::fs::remove_file(&plan.qmp);
    if let Err(Stop(why)) = &outcome {
        d.transcript.push(format!("stopped: {why}; QEMU killed"));
        d.fail_rest(&format!("guest stopped earlier: {why}"));
    } else {
        d.fail_rest("the payload finished without running it");
    }
    let mut tail = String::new();
    for l in d.qemu_err.lock().map(|v| v.clone()).unwrap_or_default() {
        tail.push_str(&format!("# [qemu stderr] {l}\n"));
    }
    for l in &d.transcript {
        tail.push_str(&format!("# hil: {l}\n"));
    }
    tail.push_str("# VGA screen, last read:\n");
    for l in &d.screen {
        tail.push_str(&format!("#   |{l}\n"));
    }
    tail.push_str(&format!(
        "# hil: {:.1} s\n",
        d.start.elapsed().as_secs_f64()
    ));
    if let Ok(mut f) = File::options().append(true).open(log_path) {
        let _ = f.write_all(tail.as_bytes());
    }
    d.rows
}

impl Driver<'_> {
    fn note(&mut self, what: String) {
        let t = self.start.elapsed().as_secs_f64();
        self.transcript.push(format!("{t:6.1} s  {what}"));
    }

    fn bare_prompt(&self) -> &str {
        self.plan.typed.prompt.trim_end()
    }

    /// The screen's non-empty rows, for a failure report (once per run: it is the same screen).
    fn screen_lines(&mut self) -> Vec<String> {
        if self.screen_shown {
            return vec!["(VGA screen: see the first failure above)".into()];
        }
        self.screen_shown = true;
        let first = self.screen.iter().position(|l| !l.is_empty()).unwrap_or(0);
        let end = self
            .screen
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |i| i + 1);
        let rows = self.screen.get(first..end).unwrap_or_default();
        std::iter::once("VGA screen (last read):".to_string())
            .chain(rows.iter().map(|l| format!("  {l}")))
            .collect()
    }

    fn emit(&mut self, name: String, row: Row) {
        (self.report)(&name, &row);
        self.rows.push((name, row));
    }

    fn fail_rest(&mut self, why: &str) {
        for t in self.plan.rows() {
            if !self.rows.iter().any(|(n, _)| *n == t) {
                let lines = if self.screen.is_empty() {
                    Vec::new()
                } else {
                    self.screen_lines()
                };
                let row = Row::Fail(format!("{}: not run: {why}", self.guest), lines);
                self.emit(t, row);
            }
        }
    }

    /// QEMU's end, if it has ended: its status and last words.
    fn qemu_gone(&mut self, child: &mut Reap) -> Option<String> {
        let st = child.0.try_wait().ok().flatten()?;
        std::thread::sleep(Duration::from_millis(100)); // let the stderr reader catch up
        let err = self
            .qemu_err
            .lock()
            .map(|v| v.iter().rev().take(3).rev().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
            .join(" | ");
        Some(format!(
            "QEMU exited ({st}) before the guest finished{}",
            if err.is_empty() {
                String::new()
            } else {
                format!(": {err}")
            }
        ))
    }

    /// A QMP failure, explained by QEMU's exit when that is the cause.
    fn qmp_failed(&mut self, child: &mut Reap, e: String) -> Stop {
        Stop(self.qemu_gone(child).unwrap_or(e))
    }

    fn read_screen(&mut self, q: &mut Qmp, child: &mut Reap) -> Result<(), Stop> {
        match q.screen() {
            Ok(s) => {
                self.screen = s;
                Ok(())
            }
            Err(e) => Err(self.qmp_failed(child, e)),
        }
    }

    /// Waits until the last screen line is the bare prompt.
    fn wait_prompt(
        &mut self,
        q: &mut Qmp,
        child: &mut Reap,
        until: Instant,
        what: &str,
    ) -> Result<(), Stop> {
        let until = until.min(self.start + Duration::from_secs(self.dl.total));
        loop {
            self.read_screen(q, child)?;
            if last_line(&self.screen) == self.bare_prompt() {
                return Ok(());
            }
            if let Some(why) = self.qemu_gone(child) {
                return Err(Stop(why));
            }
            if Instant::now() >= until {
                return Err(Stop(what.to_string()));
            }
            std::thread::sleep(SCREEN_EVERY);
        }
    }

    /// Types `text` at the prompt, checks it on the screen, retypes it if a key was lost, presses Enter.
    fn type_line(&mut self, q: &mut Qmp, child: &mut Reap, text: &str) -> Result<(), Stop> {
        let prompt = self.plan.typed.prompt.clone();
        let bare = self.bare_prompt().to_string();
        if prompt.len() + text.len() >= COLS {
            return Err(Stop(format!(
                "`{text}` does not fit on one screen line after the prompt"
            )));
        }
        let want = format!("{prompt}{text}").trim_end().to_string();
        let mut seen = String::new();
        for attempt in 0..TYPE_ATTEMPTS {
            // Start from an empty command line: erase what a previous attempt left.
            self.read_screen(q, child)?;
            let line = last_line(&self.screen).to_string();
            if line != bare {
                let Some(rest) = line.strip_prefix(prompt.as_str()) else {
                    return Err(Stop(format!(
                        "wanted to type `{text}`, but the last screen line is {line:?}, not the prompt"
                    )));
                };
                for _ in 0..=rest.chars().count() {
                    q.key("backspace").map_err(|e| self.qmp_failed(child, e))?;
                }
                let t0 = Instant::now();
                while last_line(&self.screen) != bare && t0.elapsed() < Duration::from_secs(5) {
                    std::thread::sleep(Duration::from_millis(100));
                    self.read_screen(q, child)?;
                }
            }
            // Slower after a loss: fewer keys queued at once in QEMU and in the guest.
            let gap = Duration::from_millis(if attempt == 0 { 5 } else { 40 });
            let keys: String = if attempt == 0 && self.plan.lose_key {
                text.chars()
                    .enumerate()
                    .filter(|(i, _)| *i != 1)
                    .map(|(_, c)| c)
                    .collect()
            } else {
                text.to_string()
            };
            q.type_text(&keys, gap)
                .map_err(|e| self.qmp_failed(child, e))?;
            // The echo can trail the keys by a second or more under TCG: wait until it settles.
            let t0 = Instant::now();
            let mut changed = t0;
            let limit = Duration::from_secs(3) + Duration::from_millis(100) * text.len() as u32;
            loop {
                self.read_screen(q, child)?;
                let line = last_line(&self.screen).to_string();
                if line == want {
                    self.note(format!("typed `{text}` (attempt {})", attempt + 1));
                    return self.press_enter(q, child, &want);
                }
                if line != seen {
                    seen = line;
                    changed = Instant::now();
                }
                if (changed.elapsed() > Duration::from_millis(1500)
                    && t0.elapsed() > Duration::from_secs(1))
                    || t0.elapsed() > limit
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            self.note(format!(
                "typed `{text}`, the screen shows {seen:?}: erasing and typing it again"
            ));
        }
        Err(Stop(format!(
            "could not type `{text}`: after {TYPE_ATTEMPTS} attempts the screen line is {seen:?}"
        )))
    }

    /// Presses Enter under a line checked on the screen, and checks that it registered: on a full screen
    /// (the prompt on the last row, as after this guest's boot) Enter scrolls the line up a row. An Enter
    /// lost like any other key is pressed once more; an extra one where the first was only slow costs an
    /// empty command line.
    fn press_enter(&mut self, q: &mut Qmp, child: &mut Reap, want: &str) -> Result<(), Stop> {
        let at_bottom = self.screen.last().is_some_and(|l| l == want);
        let lose = self.plan.lose_key && !self.lost_enter.iter().any(|l| l == want);
        if lose {
            self.lost_enter.push(want.to_string()); // --lose-key: this Enter is "lost"
        } else {
            q.key("ret").map_err(|e| self.qmp_failed(child, e))?;
        }
        if !at_bottom {
            return Ok(()); // a scroll is the only sign there is; the deadlines catch the rest
        }
        for press in 1..=2 {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(3) {
                std::thread::sleep(Duration::from_millis(100));
                self.read_screen(q, child)?;
                if self.screen.last().is_none_or(|l| l != want) {
                    return Ok(());
                }
            }
            if press == 1 {
                self.note(format!(
                    "Enter under {want:?} did not register within 3 s: pressing it again"
                ));
                q.key("ret").map_err(|e| self.qmp_failed(child, e))?;
            }
        }
        self.note(format!("Enter under {want:?} still shows no effect"));
        Ok(())
    }

    fn session(&mut self, child: &mut Reap, tail: &mut Tail) -> Result<(), Stop> {
        let until = self.start + Duration::from_secs(10);
        let mut q = match Qmp::connect(&self.plan.qmp, self.plan.scratch.clone(), until) {
            Ok(q) => q,
            Err(e) => return Err(self.qmp_failed(child, e)),
        };
        let boot = self.dl.boot;
        let prompt = self.bare_prompt().to_string();
        self.wait_prompt(
            &mut q,
            child,
            self.start + Duration::from_secs(boot),
            &format!(
                "no `{prompt}` prompt on the VGA console within {boot} s of QEMU start (boot deadline)"
            ),
        )?;
        self.note(format!("prompt {prompt:?} on the screen"));
        for c in self.plan.typed.setup.clone() {
            self.type_line(&mut q, child, &c)?;
            let ready = self.dl.ready;
            self.wait_prompt(
                &mut q,
                child,
                Instant::now() + Duration::from_secs(ready),
                &format!("`{c}` did not give the prompt back within {ready} s"),
            )?;
        }
        let _ = tail.lines(); // anything before the first program is not ours
        for (i, p) in self.plan.typed.programs.clone().iter().enumerate() {
            self.program(&mut q, child, tail, i, p)?;
        }
        q.quit();
        Ok(())
    }

    /// Verdict row for a scenario that printed EXIT.
    fn finish(&mut self, idx: usize, p: &Program, c: Current, status: i32) {
        let verdict = c.result.as_ref().map_or("no verdict", |(v, _)| v.word());
        self.note(format!(
            "{}: {} {verdict}, status {status}, {:.1} s",
            p.row,
            c.name,
            c.began.elapsed().as_secs_f64()
        ));
        let mut row = match (&c.result, status) {
            (Some((Verdict::Pass, _)), EXIT_PASS) => Row::Pass,
            (Some((Verdict::Skip, why)), EXIT_SKIP) => Row::Skip(why.clone()),
            (Some((Verdict::Fail, why)), _) => Row::Fail(why.clone(), c.lines.clone()),
            (Some((v, _)), st) => Row::Fail(
                format!("verdict {} but exit status {st}", v.word()),
                c.lines.clone(),
            ),
            (None, st) => Row::Fail(
                format!("exited with status {st} without a verdict"),
                c.lines.clone(),
            ),
        };
        // The payload must honour the CD's `hang` and `break` files; one that ignores them would
        // otherwise let a harness check (`cargo hil --hang S`, `--break S`) pass silently.
        if matches!(row, Row::Pass) && self.params.hang.contains(&c.name) {
            row = Row::Fail(
                format!(
                    "--hang named {}, yet it finished: the payload ignores /fs/cd0/hang",
                    c.name
                ),
                c.lines.clone(),
            );
        } else if matches!(row, Row::Pass) && self.params.broken.contains(&c.name) {
            row = Row::Fail(
                format!(
                    "--break named {}, yet it passed: the payload ignores /fs/cd0/break",
                    c.name
                ),
                c.lines.clone(),
            );
        }
        if !self.plan.scenarios_of(p).contains(&c.name) {
            row = Row::Fail(
                format!(
                    "{} ran {}, which is not a selected scenario of its list ({})",
                    p.command, c.name, p.list
                ),
                c.lines.clone(),
            );
        }
        if let Some((v, text)) = &c.result {
            let answer = answer_of(*v, text);
            // The reference is the first program of the same list (the others run other scenarios).
            let programs = &self.plan.typed.programs;
            let first_idx = programs
                .iter()
                .position(|q| q.list == p.list)
                .unwrap_or(idx);
            if idx == first_idx {
                self.answers.insert(c.name.clone(), answer);
            } else if matches!(row, Row::Pass | Row::Skip(_)) {
                let first = &programs[first_idx].row;
                match self.answers.get(&c.name) {
                    Some(a) if *a != answer => {
                        row = Row::Fail(
                            format!("answers differ: {first} {a:?}, {} {answer:?}", p.row),
                            c.lines.clone(),
                        );
                    }
                    Some(_) => {}
                    None => {
                        row = Row::Fail(
                            format!(
                                "no {first} answer to compare with ({first} row failed or did not run); {} {answer:?}",
                                p.row
                            ),
                            c.lines.clone(),
                        );
                    }
                }
            }
        }
        self.emit(row_name(&c.name, p), row);
    }

    fn fail_current(&mut self, p: &Program, c: Current, why: &str, screen: bool) {
        let mut lines: Vec<String> = c.lines.iter().rev().take(8).rev().cloned().collect();
        if screen {
            lines.extend(self.screen_lines());
        }
        let row = Row::Fail(format!("{}: {why}, during {}", self.guest, c.name), lines);
        self.emit(row_name(&c.name, p), row);
    }

    /// Types one program and follows it to its end. `Ok` when the guest can go on (the program finished,
    /// well or badly); `Err` when it must be stopped.
    fn program(
        &mut self,
        q: &mut Qmp,
        child: &mut Reap,
        tail: &mut Tail,
        idx: usize,
        p: &Program,
    ) -> Result<(), Stop> {
        self.type_line(q, child, &p.command)?;
        self.screen_shown = false; // a new program, a new screen worth showing
        let dl = self.dl;
        let total_by = self.start + Duration::from_secs(dl.total);
        let entered = Instant::now();
        let mut ready = false;
        let mut cur: Option<Current> = None;
        let mut done_at: Option<Instant> = None;
        let mut last_event = entered;
        let mut prompt_back: Option<Instant> = None;
        let mut next_screen = entered + SCREEN_EVERY;
        let mut last_exit: Option<String> = None;
        loop {
            for line in tail.lines() {
                let now = Instant::now();
                match parse_line(&self.plan.nonce, &line) {
                    Some(ev) => {
                        last_event = now;
                        ready = true;
                        match ev {
                            Event::Ready(what) => self.note(format!("{}: READY {what}", p.row)),
                            Event::Begin(name) => {
                                if let Some(c) = cur.take() {
                                    self.fail_current(
                                        p,
                                        c,
                                        "no EXIT marker before the next BEGIN",
                                        false,
                                    );
                                }
                                cur = Some(Current {
                                    name,
                                    began: now,
                                    result: None,
                                    lines: Vec::new(),
                                });
                            }
                            Event::Result {
                                name,
                                verdict,
                                reason,
                            } => match &mut cur {
                                Some(c) if c.name == name => c.result = Some((verdict, reason)),
                                _ => self.note(format!("{}: stray RESULT for {name}", p.row)),
                            },
                            Event::Exit { name, status } => match cur.take() {
                                Some(c) if c.name == name => {
                                    last_exit = Some(name);
                                    self.finish(idx, p, c, status);
                                }
                                other => {
                                    cur = other;
                                    self.note(format!("{}: stray EXIT for {name}", p.row));
                                }
                            },
                            Event::Done => {
                                self.note(format!("{}: DONE", p.row));
                                done_at = Some(now);
                                if let Some(c) = cur.take() {
                                    self.fail_current(p, c, "no EXIT marker before DONE", false);
                                }
                                for s in self.plan.scenarios_of(p).to_vec() {
                                    let n = row_name(&s, p);
                                    if !self.rows.iter().any(|(r, _)| *r == n) {
                                        let why = format!(
                                            "{}: {} printed DONE without running {s}",
                                            self.guest, p.command
                                        );
                                        self.emit(n, Row::Fail(why, Vec::new()));
                                    }
                                }
                            }
                        }
                    }
                    None => {
                        let t = line.trim();
                        if let (Some(c), false) = (&mut cur, t.is_empty()) {
                            c.lines.push(t.to_string());
                        }
                    }
                }
            }
            let now = Instant::now();
            if now >= next_screen {
                self.read_screen(q, child)?;
                next_screen = now + SCREEN_EVERY;
                if prompt_back.is_none() && last_line(&self.screen) == self.bare_prompt() {
                    prompt_back = Some(now);
                    self.note(format!("{}: prompt back", p.row));
                }
            }
            if let (Some(_), Some(_)) = (done_at, prompt_back) {
                return Ok(());
            }
            // The program is gone without DONE: give the serial port a moment, then say what happened.
            if let (None, Some(t)) = (done_at, prompt_back) {
                if now >= t + DRAIN {
                    let why = if !ready {
                        format!(
                            "`{}` returned to the prompt without a READY marker (a wrong path, a program \
                             that cannot start, or one that could not open the serial port)",
                            p.command
                        )
                    } else if cur.is_some() {
                        format!(
                            "{} exited without the scenario's EXIT marker (crashed?)",
                            p.command
                        )
                    } else {
                        format!("{} exited without its DONE marker", p.command)
                    };
                    let typed_line = format!("{}{}", self.plan.typed.prompt, p.command);
                    let why = match exit_line(&self.screen, &p.file, &typed_line) {
                        Some(how) => format!("{why}; the shell says: {how}"),
                        None => why,
                    };
                    self.note(format!("{}: {why}", p.row));
                    if let Some(c) = cur.take() {
                        self.fail_current(p, c, &why, true);
                    }
                    for s in self.plan.scenarios_of(p).to_vec() {
                        let n = row_name(&s, p);
                        if !self.rows.iter().any(|(r, _)| *r == n) {
                            let lines = self.screen_lines();
                            let row = Row::Fail(format!("{}: not run: {why}", self.guest), lines);
                            self.emit(n, row);
                        }
                    }
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let stop = if let Some(why) = self.qemu_gone(child) {
                Some(why)
            } else if now >= total_by {
                Some(format!("total deadline of {} s reached", dl.total))
            } else if let Some(d) = done_at {
                (now >= d + EXIT_AFTER_DONE).then(|| {
                    format!(
                        "{} printed DONE but the prompt did not come back within {} s",
                        p.command,
                        EXIT_AFTER_DONE.as_secs()
                    )
                })
            } else if !ready {
                (now >= entered + Duration::from_secs(dl.ready)).then(|| {
                    format!(
                        "no READY marker within {} s of typing `{}`, and no prompt back",
                        dl.ready, p.command
                    )
                })
            } else if let Some(c) = &cur {
                (now >= c.began + Duration::from_secs(dl.test)).then(|| {
                    format!(
                        "hung: no EXIT marker within {} s of BEGIN (per-test deadline)",
                        dl.test
                    )
                })
            } else {
                (now >= last_event + Duration::from_secs(dl.test)).then(|| {
                    format!(
                        "no BEGIN or DONE from {} within {} s after {}",
                        p.command,
                        dl.test,
                        last_exit
                            .as_deref()
                            .map_or("READY".to_string(), |s| format!("the EXIT of {s}"))
                    )
                })
            };
            if let Some(why) = stop {
                let _ = self.read_screen(q, child);
                self.note(format!("{}: {why}", p.row));
                if let Some(c) = cur.take() {
                    let name = c.name.clone();
                    self.fail_current(p, c, &format!("{why}; QEMU killed"), true);
                    return Err(Stop(format!("{why}, during {name} ({})", p.row)));
                }
                // Make sure the screen is in the first failure.
                let first = self.screen_lines();
                let rest: Vec<String> = self
                    .plan
                    .rows()
                    .into_iter()
                    .filter(|t| !self.rows.iter().any(|(n, _)| n == t))
                    .collect();
                if let Some(t) = rest.first() {
                    let row = Row::Fail(format!("{}: {why}; QEMU killed", self.guest), first);
                    self.emit(t.clone(), row);
                }
                return Err(Stop(why));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The shell's word on how the program ended: its `Process N (file) terminated SIGSEGV ...` line (joined
/// with its continuation when it wrapped at the screen's edge), or else the last lines printed between
/// the typed command line and the prompt (`No such file or directory` for a wrong path).
fn exit_line(screen: &[String], file: &str, typed: &str) -> Option<String> {
    let tag = format!("({file})");
    if let Some(at) = screen
        .iter()
        .rposition(|l| l.starts_with("Process ") && l.contains(&tag))
    {
        let mut s = screen[at].clone();
        if s.chars().count() >= COLS {
            if let Some(next) = screen.get(at + 1) {
                s.push_str(next);
            }
        }
        return Some(s);
    }
    let from = screen.iter().rposition(|l| l == typed.trim_end())?;
    let end = screen.iter().rposition(|l| !l.is_empty())?; // the prompt
    let said: Vec<&str> = screen
        .get(from + 1..end)?
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &said[said.len().saturating_sub(2)..];
    (!tail.is_empty()).then(|| tail.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shells_word_on_a_crash() {
        // As read off the screen after a crash: esh's line is 80 columns and wraps.
        let screen: Vec<String> = [
            "# /fs/cd0/hil-raw",
            "",
            "Process 40970 (hil-raw) terminated SIGSEGV code=1 fltno=11 ip=080485d9(hil-raw@+",
            "0x80485d9) ref=00000000",
            "#",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let l = exit_line(&screen, "hil-raw", "# /fs/cd0/hil-raw").unwrap();
        assert!(l.contains("SIGSEGV") && l.ends_with("ref=00000000"), "{l}");
        let short = [
            "Process 45066 (hil-libc) exited status=3.".to_string(),
            "#".into(),
        ];
        assert_eq!(
            exit_line(&short, "hil-libc", "# /fs/cd0/hil-libc").as_deref(),
            Some("Process 45066 (hil-libc) exited status=3.")
        );
        // A wrong path: no Process line, the shell's complaint instead.
        let wrong: Vec<String> = ["# /fs/cd0/hil-rwa", "No such file or directory", "#"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            exit_line(&wrong, "hil-rwa", "# /fs/cd0/hil-rwa").as_deref(),
            Some("No such file or directory")
        );
        assert_eq!(exit_line(&wrong, "hil-libc", "# /fs/cd0/hil-libc"), None);
    }

    #[test]
    fn answers_ignore_details_after_the_separator() {
        assert_eq!(
            answer_of(Verdict::Pass, "EINVAL -- pid 4100, 0.3 s"),
            "PASS EINVAL"
        );
        assert_eq!(answer_of(Verdict::Skip, "no mqueue"), "SKIP no mqueue");
        assert_ne!(
            answer_of(Verdict::Pass, "ESRCH -- a"),
            answer_of(Verdict::Pass, "EBADF -- a")
        );
        assert_eq!(answer_of(Verdict::Pass, ""), "PASS");
    }

    #[test]
    fn rows_are_program_by_program() {
        let prog = |row: &str, list: &str| Program {
            row: row.into(),
            file: format!("{list}-{row}"),
            command: format!("/fs/cd0/{list}-{row}"),
            list: list.into(),
        };
        let plan = Plan {
            nonce: "n".into(),
            scenarios: BTreeMap::from([
                ("payload".to_string(), vec!["a".into(), "b".into()]),
                ("c".to_string(), vec!["x".into()]),
            ]),
            typed: Typed {
                prompt: "# ".into(),
                setup: Vec::new(),
                programs: vec![
                    prog("raw", "payload"),
                    prog("libc", "payload"),
                    prog("raw", "c"),
                    prog("libc", "c"),
                ],
            },
            qmp: PathBuf::new(),
            scratch: PathBuf::new(),
            lose_key: false,
        };
        assert_eq!(
            plan.rows(),
            ["a::raw", "b::raw", "a::libc", "b::libc", "x::raw", "x::libc"]
        );
    }
}
