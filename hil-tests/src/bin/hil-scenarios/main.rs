//! The guest program: one self-checking scenario per subcommand.
//!
//! The scenarios are listed once, in `hil_tests::registry!` (`src/lib.rs`), with their functions in the
//! theme modules here: `sharing` (what a redeemed descriptor shares), `refusals` (tickets that must be
//! refused), `soak` (many passes, many threads), `native` (one system's own interfaces). `fixture` has
//! what they share, `peer` the other process of a scenario, `util` system helpers.
//!
//! `hil-scenarios <scenario>` runs one scenario, prints its `HIL-<nonce> RESULT` marker and exits with
//! the verdict (0 pass, 1 fail, 77 skip). Peers (the other process of a scenario) are this same program
//! re-executed as `hil-scenarios --role <role> <args...>`; they talk to the scenario over their stdin and
//! stdout, one line per message.
//!
//! Environment, set by the guest's init from the boot parameters:
//! - `HIL_NONCE`: the run's nonce, carried by every marker;
//! - `HIL_BREAK=<scenario>`: that scenario deliberately checks the wrong thing (it must then fail);
//! - `HIL_HANG=<scenario>`: that scenario sleeps forever (the runner's deadline must catch it);
//! - `HIL_NAME_SUFFIX`: appended to the name in the RESULT marker (`-libc` for the libc-routed build).

mod fixture;
mod native;
mod peer;
mod refusals;
mod registry;
mod sharing;
mod soak;
mod util;

use hil_tests::{result_marker, Verdict, SCENARIOS};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::exit;

/// What a scenario returns when it does not pass.
#[derive(Debug)]
pub enum Outcome {
    /// Something checked was wrong.
    Fail(String),
    /// It cannot run here.
    Skip(String),
}

/// A scenario's result: `Ok(())` means every check held.
pub type Check = Result<(), Outcome>;

/// Per-run settings from the environment.
pub struct Ctx {
    /// Break this scenario on purpose.
    pub broken: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--role") => exit(peer::run_role(
            args.get(1).map(String::as_str).unwrap_or(""),
            &args[2..],
        )),
        Some("list") | None => {
            for s in SCENARIOS {
                println!("{:<22} {}", s.name, s.about);
            }
        }
        Some(name) => exit(run_scenario(name)),
    }
}

fn run_scenario(name: &str) -> i32 {
    let nonce = std::env::var("HIL_NONCE").unwrap_or_else(|_| "local".into());
    let env_is = |var: &str| {
        std::env::var(var)
            .map(|v| v.split(',').any(|n| n == name))
            .unwrap_or(false)
    };
    let ctx = Ctx {
        broken: env_is("HIL_BREAK"),
    };
    if ctx.broken {
        println!("{name}: HIL_BREAK names this scenario: checking the wrong thing on purpose");
    }
    if env_is("HIL_HANG") {
        println!("{name}: HIL_HANG names this scenario: sleeping forever on purpose");
        let _ = std::io::stdout().flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    let (verdict, reason) = match registry::function(name) {
        None => (
            Verdict::Fail,
            format!("unknown scenario {name:?}; `hil-scenarios list` names them"),
        ),
        Some(run) => match catch_unwind(AssertUnwindSafe(|| run(&ctx))) {
            Ok(Ok(())) => (Verdict::Pass, String::new()),
            Ok(Err(Outcome::Fail(why))) => (Verdict::Fail, why),
            Ok(Err(Outcome::Skip(why))) => (Verdict::Skip, why),
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (Verdict::Fail, format!("panicked: {msg}"))
            }
        },
    };
    // A Neutrino guest runs the libc-routed build as `<name>-libc` (see hil-tests/README.md).
    let shown = format!(
        "{name}{}",
        std::env::var("HIL_NAME_SUFFIX").unwrap_or_default()
    );
    println!("{}", result_marker(&nonce, &shown, verdict, &reason));
    let _ = std::io::stdout().flush();
    verdict.exit_code()
}
