//! The marker protocol shared by the host runner (`hil`) and the guest program (`hil-scenarios`).
//!
//! A guest reports on its serial console with lines of the form
//!
//! ```text
//! HIL-<nonce> READY <kernel release> <machine>
//! HIL-<nonce> BEGIN <scenario>
//! HIL-<nonce> RESULT <scenario> PASS|FAIL|SKIP <reason...>
//! HIL-<nonce> EXIT <scenario> <status>
//! HIL-<nonce> DONE
//! ```
//!
//! The nonce is fresh for every run and reaches the guest only through its boot parameters, so nothing
//! that merely echoes text (a shell, a kernel log of the command line, an old log replayed) can produce a
//! well-formed marker for this run. Every marker is assembled at run time in the guest, never typed.
//!
//! Serial consoles mix firmware output, ANSI escapes and CRs into lines, and kernel messages can land in
//! the middle of one: [`strip_noise`] cleans a line and [`parse_line`] looks for the marker anywhere in it.

#![forbid(unsafe_code)]

/// Where a scenario is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guests {
    /// Every guest that runs `hil-scenarios`: Linux and Neutrino SDP images. A scenario that needs one
    /// system's interfaces skips itself elsewhere, saying why.
    All,
    /// Neutrino guests only: a Linux guest has no row for it.
    Neutrino,
}

/// One self-checking scenario the guest program knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// The name used on the command line, in markers and in the runner's `test os-arch::name` lines.
    pub name: &'static str,
    /// What it checks, one line.
    pub about: &'static str,
    /// Where it is scheduled.
    pub guests: Guests,
}

impl Scenario {
    /// Whether a guest of this OS (`linux`, `qnx`) gets a row for it.
    pub fn runs_on(&self, os: &str) -> bool {
        self.guests == Guests::All || os == "qnx"
    }
}

/// The registry of the guest program's scenarios, in the order guests run them: one line each, its
/// function as `module::name` under `src/bin/hil-scenarios/` (the function's name is the scenario's),
/// where it runs ([`Guests`]) and what it checks. Adding a scenario is a line here and its function.
///
/// The macro hands the list to the macro named `$then`: this library makes [`SCENARIOS`] of it (what
/// the runner needs: names, descriptions, where they run), and `hil-scenarios` its table of functions
/// (the module paths mean something only there).
#[macro_export]
macro_rules! registry {
    ($then:ident) => {
        $then! {
            native::pidfd_getfd_fork, All,
                "raw pidfd_open + pidfd_getfd across a fork shares the open file (harness check)";
            sharing::dup_shares_offset, All,
                "a DupTicket redeemed in another process shares the file offset, both ways";
            sharing::openfd_own_offset, All,
                "an OpenfdTicket opens anew: own offset, and wider access is refused with EACCES";
            refusals::bad_packets, All,
                "truncated, oversized and corrupted tickets are refused with the right DecodeError";
            refusals::dead_sender, All,
                "a ticket from a process that has exited fails cleanly, no descriptor leaked";
            refusals::closed_fd, All,
                "a ticket for a descriptor closed before redeeming fails cleanly, no descriptor leaked";
            sharing::batch_all_or_nothing, All,
                "a batch with one stale ticket redeems nothing and leaks nothing";
            soak::soak_10000, All,
                "10 000 send/receive passes leave the descriptor count where it started";
            soak::soak_threads, All,
                "4 threads, each its own Receiver, redeem 40 000 fresh tickets: right files, fds and RSS flat";
            native::mqueue_demo, All,
                "the article's demo: sender and receiver processes pass a descriptor over a POSIX mqueue";
            native::kernel_selftest, Neutrino,
                "nto::self_test: ConnectDetach error path, ConnectAttach + ConnectServerInfo, getpid";
        }
    };
}

/// Makes [`SCENARIOS`] of the [`registry!`]; the functions are left to `hil-scenarios`.
macro_rules! scenario_list {
    ($($module:ident :: $name:ident, $guests:ident, $about:literal;)*) => {
        /// Every scenario, in the order guests run them (the [`registry!`]).
        pub const SCENARIOS: &[Scenario] = &[$(Scenario {
            name: stringify!($name),
            about: $about,
            guests: Guests::$guests,
        }),*];
    };
}

registry!(scenario_list);

/// Looks a scenario up by name.
pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// Exit status of a scenario that passed.
pub const EXIT_PASS: i32 = 0;
/// Exit status of a scenario that failed.
pub const EXIT_FAIL: i32 = 1;
/// Exit status of a scenario that could not run here (the automake convention).
pub const EXIT_SKIP: i32 = 77;

/// A scenario's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It checked what it promised and found it true.
    Pass,
    /// It found something wrong.
    Fail,
    /// It could not run here; the reason says why.
    Skip,
}

impl Verdict {
    /// The word used in markers.
    pub const fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }

    /// The matching exit status.
    pub const fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => EXIT_PASS,
            Verdict::Fail => EXIT_FAIL,
            Verdict::Skip => EXIT_SKIP,
        }
    }

    fn from_word(w: &str) -> Option<Self> {
        match w {
            "PASS" => Some(Verdict::Pass),
            "FAIL" => Some(Verdict::Fail),
            "SKIP" => Some(Verdict::Skip),
            _ => None,
        }
    }
}

/// A marker line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The guest's init is running (boot finished); carries `uname -r -m`.
    Ready(String),
    /// A scenario starts.
    Begin(String),
    /// A scenario's own verdict.
    Result {
        /// Scenario name.
        name: String,
        /// Its verdict.
        verdict: Verdict,
        /// Why (may be empty for a pass).
        reason: String,
    },
    /// The scenario program exited with this status.
    Exit {
        /// Scenario name.
        name: String,
        /// Exit status as the guest shell saw it.
        status: i32,
    },
    /// Every scenario ran; the guest powers off.
    Done,
}

/// The marker prefix for a nonce: `HIL-<nonce> `.
pub fn prefix(nonce: &str) -> String {
    format!("HIL-{nonce} ")
}

/// Formats the RESULT marker a scenario prints.
pub fn result_marker(nonce: &str, name: &str, verdict: Verdict, reason: &str) -> String {
    // One line whatever the reason holds.
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{}RESULT {name} {} {reason}", prefix(nonce), verdict.word())
        .trim_end()
        .to_string()
}

/// Removes ANSI escape sequences (CSI, OSC, two-byte ESC sequences), CRs and other control characters
/// except tabs from one console line.
pub fn strip_noise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ST (ESC \)
                Some(']') => {
                    while let Some(d) = chars.next() {
                        if d == '\u{7}' {
                            break;
                        }
                        if d == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                // ESC ( B and friends take one more byte
                Some('(' | ')' | '*' | '+' | '#' | '%') => {
                    chars.next();
                }
                _ => {}
            },
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Finds a well-formed marker for `nonce` anywhere in a cleaned line.
///
/// Anything malformed (unknown kind, missing fields, a status that is not a number) is not a marker.
pub fn parse_line(nonce: &str, line: &str) -> Option<Event> {
    let p = prefix(nonce);
    let at = line.find(&p)?;
    let rest = line.get(at + p.len()..)?;
    let mut words = rest.split_whitespace();
    let kind = words.next()?;
    let ev = match kind {
        "READY" => Event::Ready(words.collect::<Vec<_>>().join(" ")),
        "BEGIN" => Event::Begin(valid_name(words.next()?)?),
        "RESULT" => {
            let name = valid_name(words.next()?)?;
            let verdict = Verdict::from_word(words.next()?)?;
            Event::Result {
                name,
                verdict,
                reason: words.collect::<Vec<_>>().join(" "),
            }
        }
        "EXIT" => Event::Exit {
            name: valid_name(words.next()?)?,
            status: words.next()?.parse().ok()?,
        },
        "DONE" => Event::Done,
        _ => return None,
    };
    Some(ev)
}

fn valid_name(w: &str) -> Option<String> {
    let ok = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then(|| w.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_are_unique_and_valid() {
        for (i, s) in SCENARIOS.iter().enumerate() {
            assert_eq!(valid_name(s.name).as_deref(), Some(s.name));
            assert!(!s.about.is_empty(), "{} has no description", s.name);
            assert_eq!(scenario(s.name), Some(&SCENARIOS[i]), "{} twice", s.name);
        }
        let linux: Vec<_> = SCENARIOS.iter().filter(|s| s.runs_on("linux")).collect();
        assert!(
            linux.len() < SCENARIOS.len(),
            "kernel_selftest is Neutrino's"
        );
    }

    #[test]
    fn strips_ansi_and_cr() {
        let raw = "\u{1b}[2J\u{1b}[01;01H\u{1b}[=3h\u{1b}[2J\u{1b}[01;01HSeaBIOS\r";
        assert_eq!(strip_noise(raw), "SeaBIOS");
        assert_eq!(strip_noise("a\u{1b}]0;title\u{7}b\u{1b}(Bc"), "abc");
    }

    #[test]
    fn marker_mid_line_is_found() {
        let line = strip_noise(
            "[    3.1] random: crng init\u{1b}[0mHIL-abc123 RESULT dup_shares_offset PASS ok\r",
        );
        assert_eq!(
            parse_line("abc123", &line),
            Some(Event::Result {
                name: "dup_shares_offset".into(),
                verdict: Verdict::Pass,
                reason: "ok".into()
            })
        );
    }

    #[test]
    fn other_nonce_and_malformed_are_ignored() {
        assert_eq!(parse_line("abc123", "HIL-zzz RESULT x PASS"), None);
        assert_eq!(parse_line("abc123", "HIL-abc123 RESULT x MAYBE"), None);
        assert_eq!(parse_line("abc123", "HIL-abc123 EXIT x notanumber"), None);
        assert_eq!(parse_line("abc123", "HIL-abc123 BEGIN ../etc"), None);
        // what a shell echoing the init script would show
        assert_eq!(
            parse_line("abc123", "printf 'HIL''-%s %s\\n' \"$NONCE\" RESULT"),
            None
        );
        assert_eq!(
            parse_line("abc123", "HIL-abc123 EXIT x 77"),
            Some(Event::Exit {
                name: "x".into(),
                status: 77
            })
        );
    }

    #[test]
    fn result_marker_roundtrips() {
        let m = result_marker("n1", "soak_10000", Verdict::Fail, "fd count 5 -> 6\nleak");
        assert_eq!(
            parse_line("n1", &m),
            Some(Event::Result {
                name: "soak_10000".into(),
                verdict: Verdict::Fail,
                reason: "fd count 5 -> 6 leak".into()
            })
        );
    }
}
