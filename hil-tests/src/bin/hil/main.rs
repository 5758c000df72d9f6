//! `cargo hil`: boots each QEMU profile in `targets/qemu/`, runs the scenarios inside, and reports.
//!
//! ```text
//! cargo hil [--dry-run] [--list] [--guest NAME[,NAME]] [--scenario NAME[,NAME]]
//!           [--break SCENARIO] [--hang SCENARIO] [--panic SCENARIO] [--lose-key]
//!           [--boot-timeout S] [--test-timeout S] [--total-timeout S]
//! ```
//!
//! `--guest` takes profile names or prefixes (`linux`, `qnx-aarch64`, `qnx64`). `--break`, `--hang` and
//! `--panic` exist to prove the harness: they make a scenario check the wrong thing, sleep forever, or
//! crash the guest kernel, and the run must then fail saying which and where; `--lose-key` leaves a
//! character out of each line typed at a guest's prompt the first time, which the runner must see on
//! the screen and type again. See `hil-tests/README.md`.

mod cpio;
mod fat;
mod guest;
mod image;
mod profile;
mod qemu;
mod qmp;
mod qnx6;
mod typed;

use guest::GuestParams;
use hil_tests::SCENARIOS;
use profile::{Payload, Profile};
use qemu::{Deadlines, Row};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Default)]
struct Opts {
    dry_run: bool,
    list: bool,
    guests: Vec<String>,
    scenarios: Vec<String>,
    broken: Vec<String>,
    hang: Vec<String>,
    panic: Vec<String>,
    lose_key: bool,
    boot: Option<u64>,
    test: Option<u64>,
    total: Option<u64>,
}

const USAGE: &str = "usage: cargo hil [--dry-run] [--list] [--guest NAME[,NAME]] [--scenario NAME[,NAME]] \
[--break S] [--hang S] [--panic S] [--lose-key] [--boot-timeout SECS] [--test-timeout SECS] [--total-timeout SECS]";

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut args = std::env::args().skip(1);
    let list = |v: Option<String>, flag: &str| -> Result<Vec<String>, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        Ok(v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    };
    let secs = |v: Option<String>, flag: &str| -> Result<Option<u64>, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map(Some)
            .map_err(|_| format!("{flag}: {v:?} is not a number of seconds"))
    };
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--dry-run" => o.dry_run = true,
            "--list" => o.list = true,
            "--guest" => o.guests.extend(list(val(), "--guest")?),
            "--scenario" => o.scenarios.extend(list(val(), "--scenario")?),
            "--break" => o.broken.extend(list(val(), "--break")?),
            "--hang" => o.hang.extend(list(val(), "--hang")?),
            "--panic" => o.panic.extend(list(val(), "--panic")?),
            "--lose-key" => o.lose_key = true,
            "--boot-timeout" => o.boot = secs(val(), "--boot-timeout")?,
            "--test-timeout" => o.test = secs(val(), "--test-timeout")?,
            "--total-timeout" => o.total = secs(val(), "--total-timeout")?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    for s in o
        .scenarios
        .iter()
        .chain(&o.broken)
        .chain(&o.hang)
        .chain(&o.panic)
    {
        let qnx6 = qnx6::scenarios()?;
        if hil_tests::scenario(s).is_none() && !qnx6.iter().any(|n| n.name == *s) {
            return Err(format!(
                "unknown scenario {s:?}; `cargo hil --list` names them"
            ));
        }
    }
    Ok(o)
}

fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

fn nonce() -> String {
    let mut b = [0u8; 8];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    if !ok {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        b = (t.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The Neutrino image for a profile: `QNX_IMAGE_DIR_<ARCH>`, else `QNX_IMAGE_DIR` when `QNX_IMAGE_ARCH`
/// (default x86_64) names this profile's arch.
fn qnx_image_dir(p: &Profile) -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    var(&format!("QNX_IMAGE_DIR_{}", p.arch.to_uppercase())).or_else(|| {
        let arch = var("QNX_IMAGE_ARCH").unwrap_or_else(|| "x86_64".into());
        if arch == p.arch || (arch == "aarch64le" && p.arch == "aarch64") {
            var("QNX_IMAGE_DIR")
        } else {
            None
        }
    })
}

fn env_key(profile: &str) -> String {
    profile.to_uppercase().replace('-', "_")
}

/// Builds (or finds, with `HIL_SCENARIOS_BIN_<PROFILE>` / `HIL_SCENARIOS_LIBC_BIN_<PROFILE>`) the
/// scenario program for a profile, with the `libc-calls` feature when `libc`, and returns its bytes.
fn scenario_program(root: &Path, p: &Profile, libc: bool) -> Result<Vec<u8>, String> {
    let read = |path: PathBuf| std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()));
    let key = env_key(&p.name);
    let pre = if libc {
        "HIL_SCENARIOS_LIBC_BIN"
    } else {
        "HIL_SCENARIOS_BIN"
    };
    if let Ok(pre) = std::env::var(format!("{pre}_{key}")) {
        return read(PathBuf::from(pre));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(root)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "hil-tests",
            "--bin",
            "hil-scenarios",
            "--target",
        ])
        .arg(&p.rust_target);
    if libc {
        c.args(["--features", "libc-calls"]);
    }
    if let Ok(extra) = std::env::var(format!("HIL_CARGO_ARGS_{key}")) {
        c.args(extra.split_whitespace());
    }
    if let Ok(tc) = std::env::var(format!("HIL_TOOLCHAIN_{key}")) {
        c.env("RUSTUP_TOOLCHAIN", tc);
    }
    let st = c.status().map_err(|e| format!("cargo: {e}"))?;
    if !st.success() {
        return Err(format!(
            "building hil-scenarios for {} failed ({st})",
            p.rust_target
        ));
    }
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let target_dir = if target_dir.is_absolute() {
        target_dir
    } else {
        root.join(target_dir)
    };
    // Read at once: the other feature set's build overwrites the same path.
    read(
        target_dir
            .join(&p.rust_target)
            .join("release")
            .join("hil-scenarios"),
    )
}

/// One guest's name, seconds and rows.
type GuestResult = (String, f64, Vec<(String, Row)>);

enum Plan {
    Run {
        cmd: Vec<String>,
        deadlines: Deadlines,
        params: GuestParams,
        log: PathBuf,
    },
    /// A `cd-typed` guest: the payload is built by `build` into `cd`, put on an ISO with the run's files,
    /// and started by typing.
    Typed {
        cmd: Vec<String>,
        deadlines: Deadlines,
        plan: Box<typed::Plan>,
        log: PathBuf,
        build: PathBuf,
        params: GuestParams,
        /// The CD being built, in its own thread: the payload's build (mostly `core` for a target with
        /// no prebuilt standard library, on one CPU) overlaps the other guests' builds.
        cd: Option<std::thread::JoinHandle<Result<PathBuf, String>>>,
    },
    Rows(Vec<(String, Row)>),
}

/// Builds a `cd-typed` guest's CD: runs `build` with an empty `build` directory, copies the programs it
/// must leave there into an empty `cd` directory, adds `nonce`, one `scenarios` file per scenario list
/// (`qnx6::cd_file`; and `hang`, `break` when asked for), and writes `payload.iso` with genisoimage (Rock Ridge: names and execute bits survive).
fn typed_cd(
    root: &Path,
    build: &Path,
    dir: &Path,
    plan: &typed::Plan,
    params: &GuestParams,
) -> Result<PathBuf, String> {
    let (out, cd) = (dir.join("build"), dir.join("cd"));
    for d in [&out, &cd] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let shown = build
        .strip_prefix(root)
        .unwrap_or(build)
        .display()
        .to_string();
    eprintln!("hil: building the payload: bash {shown} {}", out.display());
    let st = Command::new("bash")
        .arg(build)
        .arg(&out)
        .current_dir(root)
        .status()
        .map_err(|e| format!("bash {shown}: {e}"))?;
    if !st.success() {
        return Err(format!("payload build failed: bash {shown} ({st})"));
    }
    // Only the programs go on the CD: the build may leave link-time stand-ins beside them.
    for p in &plan.typed.programs {
        let (from, to) = (out.join(&p.file), cd.join(&p.file));
        if !from.is_file() {
            return Err(format!(
                "payload build left no `{}` in its output directory ({shown})",
                p.file
            ));
        }
        std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    let lines = |v: &[String]| v.iter().map(|s| format!("{s}\n")).collect::<String>();
    let mut files = vec![("nonce".to_string(), format!("{}\n", plan.nonce))];
    for (list, names) in &plan.scenarios {
        files.push((qnx6::cd_file(list), lines(names)));
    }
    if !params.hang.is_empty() {
        files.push(("hang".into(), lines(&params.hang)));
    }
    if !params.broken.is_empty() {
        files.push(("break".into(), lines(&params.broken)));
    }
    for (name, text) in files {
        let f = cd.join(name);
        std::fs::write(&f, text).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let iso = dir.join("payload.iso");
    let out = Command::new("genisoimage")
        .args(["-quiet", "-R", "-V", "HIL", "-o"])
        .arg(&iso)
        .arg(&cd)
        .output()
        .map_err(|e| format!("genisoimage: {e} (installed by .ci/setup.d/hil.sh)"))?;
    if !out.status.success() {
        return Err(format!(
            "genisoimage failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(iso)
}

/// The plan for a `cd-typed` profile: `None` when `--scenario` selects none of its scenarios; skip rows
/// (with the reason) when its fixture or payload build script is absent.
fn typed_plan(
    root: &Path,
    runs: &Path,
    p: &Profile,
    o: &Opts,
    nonce: &str,
) -> Result<Option<Plan>, String> {
    let mut typed = p.typed.clone().ok_or("cd-typed profile without [typed]")?;
    // Per list, the scenarios `--scenario` selects (all without it); a program whose list has none
    // selected is not typed.
    let mut by_list: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for prog in &typed.programs {
        let names = qnx6::list(&prog.list)
            .map_err(|e| format!("{}: program {}: {e}", p.name, prog.file))?
            .into_iter()
            .map(|s| s.name)
            .filter(|n| o.scenarios.is_empty() || o.scenarios.contains(n))
            .collect();
        by_list.insert(prog.list.clone(), names);
    }
    typed
        .programs
        .retain(|prog| by_list.get(&prog.list).is_some_and(|v| !v.is_empty()));
    if typed.programs.is_empty() {
        return Ok(None);
    }
    let scenarios: Vec<String> = by_list.values().flatten().cloned().collect();
    let dir = runs.join(&p.name);
    let env_dir = p
        .fixture_env
        .as_deref()
        .and_then(|k| std::env::var(k).ok())
        .filter(|v| !v.is_empty());
    let fixture = match env_dir {
        Some(d) => PathBuf::from(d),
        None => root.join(p.fixture.as_deref().unwrap_or_default()),
    };
    // A unix socket path is limited to 107 bytes: keep it short and out of a deep checkout, one per run
    // and guest (the nonce) so parallel runs never share it. `typed::run` removes it.
    let qmp = std::env::temp_dir().join(format!("hil-{}-{}.qmp", &nonce[..8], p.name));
    let vars = BTreeMap::from([
        ("HIL_FIXTURE".to_string(), fixture.display().to_string()),
        (
            "HIL_PAYLOAD".to_string(),
            dir.join("payload.iso").display().to_string(),
        ),
        ("HIL_QMP".to_string(), qmp.display().to_string()),
        (
            "HIL_CONSOLE".to_string(),
            dir.join("console.log").display().to_string(),
        ),
    ]);
    let params = GuestParams {
        nonce: nonce.to_string(),
        tests: scenarios.clone(),
        broken: o.broken.clone(),
        hang: o.hang.clone(),
        panic: o.panic.clone(),
    };
    let (cmd, missing) = qemu::command(p, &vars, &params);
    let plan = typed::Plan {
        nonce: nonce.to_string(),
        scenarios: by_list,
        typed,
        qmp,
        scratch: dir.join("vga.bin"),
        lose_key: o.lose_key,
    };
    if o.dry_run {
        let note = if missing.is_empty() {
            String::new()
        } else {
            format!("  # not set: {}", missing.join(", "))
        };
        let typed: Vec<String> = plan
            .typed
            .setup
            .iter()
            .chain(plan.typed.programs.iter().map(|p| &p.command))
            .map(|c| format!("`{c}`"))
            .collect();
        println!(
            "{} ({}):{note}\n  {}\n  then typed at the {:?} prompt: {}\n",
            p.name,
            qemu::accel_for(p),
            qemu::shell_line(&cmd),
            plan.typed.prompt,
            typed.join(", ")
        );
        return Ok(None);
    }
    let all = |row: Row| {
        plan.rows()
            .into_iter()
            .map(|t| (t, row.clone()))
            .collect::<Vec<_>>()
    };
    let how = p
        .fixture_env
        .as_deref()
        .map(|k| format!(" (set {k} to its directory)"))
        .unwrap_or_default();
    for f in &p.fixture_files {
        if !fixture.join(f).is_file() {
            let why = format!(
                "no Neutrino 6.4 fixture: {} not found{how}; get the image from {} (hil-tests/README.md)",
                fixture.join(f).display(),
                image::NTO64_SOURCE
            );
            return Ok(Some(Plan::Rows(all(Row::Skip(why)))));
        }
    }
    // A different image is refused, not booted: its rows fail with the reason.
    for (f, sum) in &p.fixture_sha256 {
        if let Err(why) = image::check(&fixture.join(f), sum) {
            return Ok(Some(Plan::Rows(all(Row::Fail(why, Vec::new())))));
        }
    }
    let build_rel = p.build.as_deref().unwrap_or_default();
    let build = root.join(build_rel);
    if !build.is_file() {
        let why = format!("payload not built: {build_rel} missing");
        return Ok(Some(Plan::Rows(all(Row::Skip(why)))));
    }
    if !missing.is_empty() {
        let why = format!("{}: profile needs {}", p.name, missing.join(", "));
        return Ok(Some(Plan::Rows(all(Row::Fail(why, Vec::new())))));
    }
    if !o.panic.is_empty() {
        eprintln!(
            "hil: {}: --panic is not supported on this guest (it has no way to crash its kernel on demand)",
            p.name
        );
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(Some(Plan::Typed {
        cmd,
        deadlines: Deadlines {
            boot: o.boot.unwrap_or(p.boot_timeout),
            ready: p.ready_timeout,
            test: o.test.unwrap_or(p.test_timeout),
            total: o.total.unwrap_or(p.total_timeout),
        },
        plan: Box::new(plan),
        log: dir.join("console.log"),
        build,
        params,
        cd: None,
    }))
}

fn main() {
    let code = match real_main() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hil: {e}");
            2
        }
    };
    std::process::exit(code);
}

fn real_main() -> Result<i32, String> {
    let t0 = Instant::now();
    let o = parse_opts()?;
    if o.list {
        println!("hil-scenarios (Linux guests, Neutrino SDP images):");
        for s in SCENARIOS {
            println!(
                "  {:<22} {}{}",
                s.name,
                s.about,
                if s.runs_on("linux") {
                    ""
                } else {
                    " (Neutrino only)"
                }
            );
        }
        for (id, file) in qnx6::lists() {
            println!(
                "\nNeutrino 6.4 guest (qnx64-x86), list {id} ({file}), rows ::raw and ::libc:"
            );
            for s in qnx6::list(id)? {
                println!("  {:<22} {}", s.name, s.about);
            }
        }
        return Ok(0);
    }
    let root = workspace();
    let mut profiles = Profile::load_dir(&root.join("targets/qemu"))?;
    if !o.guests.is_empty() {
        profiles.retain(|p| {
            o.guests
                .iter()
                .any(|g| p.name == *g || p.name.starts_with(g.as_str()))
        });
        if profiles.is_empty() {
            return Err(format!(
                "no profile in targets/qemu matches --guest {}",
                o.guests.join(",")
            ));
        }
    }
    let cache = std::env::var("HIL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/hil-cache"));
    let runs = root.join("target/hil-runs");
    let nonce = nonce();

    let mut plans: Vec<(Profile, Plan)> = Vec::new();
    for p in profiles {
        if p.payload == Payload::CdTyped {
            if let Some(plan) = typed_plan(&root, &runs, &p, &o, &nonce)? {
                plans.push((p, plan));
            }
            continue;
        }
        let qnx = p.os == "qnx";
        let tests: Vec<String> = SCENARIOS
            .iter()
            .filter(|s| s.runs_on(&p.os))
            .filter(|s| o.scenarios.is_empty() || o.scenarios.iter().any(|x| x == s.name))
            // Neutrino: every scenario twice, raw kernel calls then libc-routed (`<name>-libc`).
            .flat_map(|s| {
                let libc = qnx.then(|| format!("{}-libc", s.name));
                std::iter::once(s.name.to_string()).chain(libc)
            })
            .collect();
        if tests.is_empty() {
            continue; // --scenario names none of this guest's scenarios
        }
        let params = GuestParams {
            nonce: nonce.clone(),
            tests: tests.clone(),
            broken: o.broken.clone(),
            hang: o.hang.clone(),
            panic: o.panic.clone(),
        };
        let dir = runs.join(&p.name);
        let payload = dir.join(if p.payload == Payload::Initramfs {
            "initramfs.cpio"
        } else {
            "payload.img"
        });
        let mut vars = BTreeMap::new();
        vars.insert("HIL_CACHE".to_string(), cache.display().to_string());
        vars.insert("HIL_PAYLOAD".to_string(), payload.display().to_string());
        let image = if qnx { qnx_image_dir(&p) } else { None };
        if let Some(img) = &image {
            vars.insert("QNX_IMAGE_DIR".to_string(), img.clone());
        }
        let (cmd, missing) = qemu::command(&p, &vars, &params);
        if o.dry_run {
            let note = if missing.is_empty() {
                String::new()
            } else {
                format!("  # not set: {}", missing.join(", "))
            };
            println!(
                "{} ({}):{note}\n  {}\n",
                p.name,
                qemu::accel_for(&p),
                qemu::shell_line(&cmd)
            );
            continue;
        }
        let all = |row: Row| {
            tests
                .iter()
                .map(|t| (t.clone(), row.clone()))
                .collect::<Vec<_>>()
        };
        if qnx && image.is_none() {
            let why = format!(
                "no Neutrino image: set QNX_IMAGE_DIR (with QNX_IMAGE_ARCH={}) or QNX_IMAGE_DIR_{} (hil-tests/README.md)",
                p.arch,
                p.arch.to_uppercase()
            );
            plans.push((p, Plan::Rows(all(Row::Skip(why)))));
            continue;
        }
        if !missing.is_empty() {
            let why = format!("{}: profile needs {}", p.name, missing.join(", "));
            plans.push((p, Plan::Rows(all(Row::Fail(why, Vec::new())))));
            continue;
        }
        let deadlines = Deadlines {
            boot: o.boot.unwrap_or(p.boot_timeout),
            ready: p.ready_timeout,
            test: o.test.unwrap_or(p.test_timeout),
            total: o.total.unwrap_or(p.total_timeout),
        };
        let log = dir.join("console.log");
        plans.push((
            p,
            Plan::Run {
                cmd,
                deadlines,
                params,
                log,
            },
        ));
    }
    if o.dry_run {
        return Ok(0);
    }

    // Build the scenario program once per Rust target, then each guest's payload.
    let mut built: BTreeMap<(String, bool), Result<Vec<u8>, String>> = BTreeMap::new();
    let mut program = |p: &Profile, libc: bool| {
        built
            .entry((p.rust_target.clone(), libc))
            .or_insert_with(|| {
                let how = if libc { " (libc-calls)" } else { "" };
                eprintln!("hil: building hil-scenarios for {}{how}", p.rust_target);
                scenario_program(&root, p, libc)
            })
            .clone()
    };
    for (p, plan) in plans.iter_mut() {
        if let Plan::Typed {
            plan: tp,
            build,
            params,
            cd,
            ..
        } = plan
        {
            let (root, build, dir) = (root.clone(), build.clone(), runs.join(&p.name));
            let (tp, params) = (tp.clone(), params.clone());
            *cd = Some(std::thread::spawn(move || {
                typed_cd(&root, &build, &dir, &tp, &params)
            }));
            continue;
        }
        let Plan::Run { params, .. } = plan else {
            continue;
        };
        let prog = program(p, false);
        let libc = if p.payload == Payload::FatDisk {
            program(p, true)
        } else {
            Ok(Vec::new())
        };
        let dir = runs.join(&p.name);
        let made = prog.and_then(|prog| {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            match p.payload {
                Payload::Initramfs => {
                    let vars =
                        BTreeMap::from([("HIL_CACHE".to_string(), cache.display().to_string())]);
                    let bb = profile::expand(p.busybox.as_deref().unwrap_or(""), &vars).0;
                    let kernel = profile::expand(&p.kernel, &vars).0;
                    if !Path::new(&kernel).exists() {
                        return Err(format!(
                            "{kernel} missing: run .ci/setup.d/hil.sh (as root) first"
                        ));
                    }
                    let bb = std::fs::read(&bb).map_err(|e| {
                        format!("{bb}: {e}: run .ci/setup.d/hil.sh (as root) first")
                    })?;
                    guest::linux_initramfs(&dir.join("initramfs.cpio"), &bb, &prog)
                        .map_err(|e| format!("initramfs: {e}"))
                }
                Payload::FatDisk => {
                    guest::qnx_payload(&dir.join("payload.img"), &prog, &libc?, params)
                        .map_err(|e| format!("payload disk: {e}"))
                }
                Payload::CdTyped => Err("cd-typed profiles are planned as Plan::Typed".into()),
            }
        });
        if let Err(e) = made {
            let rows = params
                .tests
                .iter()
                .map(|t| (t.clone(), Row::Fail(format!("{}: {e}", p.name), Vec::new())))
                .collect();
            *plan = Plan::Rows(rows);
        }
    }

    // Every build is done before any guest boots: a guest sharing the CPUs with a compiler can miss its
    // deadlines.
    for (p, plan) in plans.iter_mut() {
        if let Plan::Typed { plan: tp, cd, .. } = plan {
            let made = match cd.take().map(std::thread::JoinHandle::join) {
                Some(Ok(made)) => made,
                _ => Err("the payload build did not finish".to_string()),
            };
            if let Err(e) = made {
                let rows = tp
                    .rows()
                    .into_iter()
                    .map(|t| (t, Row::Fail(format!("{}: {e}", p.name), Vec::new())))
                    .collect();
                *plan = Plan::Rows(rows);
            }
        }
    }

    let total_tests: usize = plans
        .iter()
        .map(|(_, pl)| match pl {
            Plan::Run { params, .. } => params.tests.len(),
            Plan::Typed { plan, .. } => plan.rows().len(),
            Plan::Rows(r) => r.len(),
        })
        .sum();
    println!("\nrunning {total_tests} tests (nonce {nonce})");
    let out = Mutex::new(());
    let line = |guest: &str, name: &str, row: &Row| {
        let _g = out.lock();
        let v = match row {
            Row::Pass => "ok".to_string(),
            Row::Fail(..) => "FAILED".to_string(),
            Row::Skip(why) => format!("ignored, {why}"),
        };
        println!("test {guest}::{name} ... {v}");
        let _ = std::io::stdout().flush();
    };
    let t_guests = Instant::now();
    let mut results: Vec<GuestResult> = Vec::new();
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (p, plan) in &plans {
            match plan {
                Plan::Rows(_) => {} // reported after the guests, below
                Plan::Run {
                    cmd,
                    deadlines,
                    params,
                    log,
                } => {
                    let line = &line;
                    let name = p.name.clone();
                    handles.push(s.spawn(move || {
                        let t = Instant::now();
                        let rows = qemu::run(&name, cmd, params, *deadlines, log, &|n, r| {
                            line(&name, n, r)
                        });
                        (name, t.elapsed().as_secs_f64(), rows)
                    }));
                }
                Plan::Typed {
                    cmd,
                    deadlines,
                    plan,
                    params,
                    log,
                    ..
                } => {
                    let line = &line;
                    let name = p.name.clone();
                    handles.push(s.spawn(move || {
                        let t = Instant::now();
                        let rows =
                            typed::run(&name, cmd, plan, params, *deadlines, log, &|n, r| {
                                line(&name, n, r)
                            });
                        (name, t.elapsed().as_secs_f64(), rows)
                    }));
                }
            }
        }
        for h in handles {
            if let Ok(r) = h.join() {
                results.push(r);
            }
        }
    });
    for (p, plan) in &plans {
        if let Plan::Rows(rows) = plan {
            for (n, r) in rows {
                line(&p.name, n, r);
            }
            results.push((p.name.clone(), 0.0, rows.clone()));
        }
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let mut failures = Vec::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut summary = Vec::new();
    for (guest, secs, rows) in &results {
        let (mut p, mut f, mut k) = (0, 0, 0);
        for (n, r) in rows {
            match r {
                Row::Pass => p += 1,
                Row::Fail(why, lines) => {
                    f += 1;
                    failures.push((format!("{guest}::{n}"), why.clone(), lines.clone()));
                }
                Row::Skip(_) => k += 1,
            }
        }
        let log = Path::new("target/hil-runs").join(guest).join("console.log");
        let how = if *secs > 0.0 {
            format!(" ({secs:.1} s, console log {})", log.display())
        } else {
            String::new()
        };
        summary.push(format!(
            "{guest}: {p} passed, {f} failed{}{how}",
            if k > 0 {
                format!(", {k} skipped")
            } else {
                String::new()
            }
        ));
        passed += p;
        failed += f;
        skipped += k;
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, why, lines) in &failures {
            println!("---- {name} ----\n{why}");
            let tail = lines.len().saturating_sub(25);
            for l in &lines[tail..] {
                println!("    | {l}");
            }
            println!();
        }
        println!("failures:");
        for (name, ..) in &failures {
            println!("    {name}");
        }
    }
    println!();
    for s in &summary {
        println!("{s}");
    }
    println!(
        "hil: guests took {:.1} s, {:.1} s in all with builds",
        t_guests.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    let skip = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    println!("{passed} passed, {failed} failed{skip}");
    Ok(if failed == 0 { 0 } else { 1 })
}
