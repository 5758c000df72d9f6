//! QEMU profiles: one TOML file per (OS, arch) in `targets/qemu/`, e.g. `linux-aarch64.toml`.
//!
//! String values may name variables as `${NAME}` or `${NAME:-default}`. The runner defines `HIL_CACHE`
//! (kernels and busybox from `.ci/setup.d/hil.sh`), `HIL_PAYLOAD` (the initramfs or payload disk it built)
//! and, for Neutrino profiles, `QNX_IMAGE_DIR` (the image for that profile's arch); `cd-typed` profiles
//! also get `HIL_FIXTURE` (the fixture directory), `HIL_QMP` (the QMP socket) and `HIL_CONSOLE` (the serial log).
//! Any other name is read from the environment.
//!
//! Keys are checked: an unknown key (a typo) is an error, not a silently ignored setting.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a guest boots from and how its tests get in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Payload {
    /// Linux: an initramfs with busybox, `/init` and the scenario program.
    Initramfs,
    /// Neutrino image made by the SDP: a FAT disk with the scenario program and `run.sh`, run by the
    /// image at boot.
    FatDisk,
    /// A fixed Neutrino boot disk (no boot script of ours): the payload from `build` on an ISO 9660 CD,
    /// started by keystrokes typed at the shell prompt read off the VGA screen (`[typed]`).
    CdTyped,
}

/// One program the runner types at the prompt of a `cd-typed` guest, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Row suffix: `<guest>::<scenario>::<row>`.
    pub row: String,
    /// The file `build` must leave in its output directory (it goes on the CD).
    pub file: String,
    /// The command line typed at the prompt.
    pub command: String,
    /// The scenario list it runs (`qnx6::lists()`): the Rust payload's unless named.
    #[serde(default = "default_list")]
    pub list: String,
}

fn default_list() -> String {
    crate::qnx6::PAYLOAD.into()
}

/// How the runner drives a guest through its console (`payload = "cd-typed"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Typed {
    /// The shell prompt, as the last line of the VGA screen shows it when the shell waits for input.
    pub prompt: String,
    /// Commands typed first, each waited for (the prompt must come back).
    #[serde(default)]
    pub setup: Vec<String>,
    /// The payload programs, typed one after the other, each after the previous one's DONE marker.
    pub programs: Vec<Program>,
}

/// One parsed profile; strings are not yet expanded.
#[derive(Debug, Clone)]
pub struct Profile {
    /// File stem, e.g. `linux-x86_64`.
    pub name: String,
    /// `linux` or `qnx`.
    pub os: String,
    /// `x86_64`, `aarch64` or `x86`.
    pub arch: String,
    /// The Rust target the scenario program is built for (empty for `cd-typed`: `build` decides).
    pub rust_target: String,
    /// Emulator binary.
    pub qemu: String,
    /// `-machine` value.
    pub machine: String,
    /// `-cpu` value.
    pub cpu: String,
    /// `-m` value.
    pub memory: String,
    /// `-smp` value.
    pub smp: u32,
    /// `auto` (KVM only where it really works), `tcg` or `kvm`.
    pub accel: String,
    /// `-kernel` path (empty when the guest boots from a disk in `backends`).
    pub kernel: String,
    /// Kernel command line (Linux guests); the runner appends its `hil.*` parameters.
    pub append: Option<String>,
    /// busybox-static for the initramfs (Linux guests).
    pub busybox: Option<String>,
    /// How tests get in.
    pub payload: Payload,
    /// The test fixture directory the guest boots from (`cd-typed`), relative to the repository root;
    /// absent means the guest is skipped. The runner calls it `HIL_FIXTURE` in the other strings.
    pub fixture: Option<String>,
    /// Environment variable that, when set, names the fixture directory instead.
    pub fixture_env: Option<String>,
    /// Files that must be in `fixture`.
    pub fixture_files: Vec<String>,
    /// The sha256 (lowercase hex) each named file of `fixture` must have: the runner refuses to boot a
    /// different file (`fixture-sha256 = { "qnxfs.img" = "..." }`).
    pub fixture_sha256: std::collections::BTreeMap<String, String>,
    /// Script (relative to the repository root) that builds the payload into the directory it is given.
    pub build: Option<String>,
    /// Keyboard driving (`cd-typed`).
    pub typed: Option<Typed>,
    /// Fixed arguments (console, display, reboot behaviour), in order.
    pub args: Vec<String>,
    /// Backends the devices refer to (`-drive`, `-netdev`, `-object` pairs), in order.
    pub backends: Vec<String>,
    /// `-device` values, in the order the guest's drivers expect.
    pub devices: Vec<String>,
    /// Seconds from QEMU start to the guest's READY marker (`cd-typed`: to the shell prompt).
    pub boot_timeout: u64,
    /// Seconds from typing a program to its READY marker (`cd-typed`).
    pub ready_timeout: u64,
    /// Seconds per scenario, BEGIN to EXIT.
    pub test_timeout: u64,
    /// Seconds for the whole guest.
    pub total_timeout: u64,
}

/// The file as written: every key known (`deny_unknown_fields`), so a misspelt key is an error instead
/// of a silently ignored setting.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    os: String,
    arch: String,
    #[serde(default)]
    rust_target: String,
    qemu: String,
    machine: String,
    cpu: String,
    #[serde(default = "default_memory")]
    memory: String,
    #[serde(default = "default_smp")]
    smp: u32,
    #[serde(default = "default_accel")]
    accel: String,
    #[serde(default)]
    kernel: String,
    append: Option<String>,
    busybox: Option<String>,
    payload: Payload,
    fixture: Option<String>,
    fixture_env: Option<String>,
    #[serde(default)]
    fixture_files: Vec<String>,
    #[serde(default)]
    fixture_sha256: std::collections::BTreeMap<String, String>,
    build: Option<String>,
    typed: Option<Typed>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    backends: Vec<String>,
    #[serde(default)]
    devices: Vec<String>,
    #[serde(default)]
    deadlines: FileDeadlines,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDeadlines {
    #[serde(default = "default_boot")]
    boot: u64,
    #[serde(default = "default_ready")]
    ready: u64,
    #[serde(default = "default_test")]
    test: u64,
    #[serde(default = "default_total")]
    total: u64,
}

impl Default for FileDeadlines {
    fn default() -> Self {
        FileDeadlines {
            boot: default_boot(),
            ready: default_ready(),
            test: default_test(),
            total: default_total(),
        }
    }
}

fn default_memory() -> String {
    "256M".into()
}
fn default_smp() -> u32 {
    1
}
fn default_accel() -> String {
    "auto".into()
}
fn default_boot() -> u64 {
    60
}
fn default_ready() -> u64 {
    20
}
fn default_test() -> u64 {
    60
}
fn default_total() -> u64 {
    240
}

impl Profile {
    /// Parses one profile file's text.
    pub fn parse(name: &str, text: &str) -> Result<Profile, String> {
        let f: File = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let err = |m: &str| Err(format!("{name}: {m}"));
        let d = &f.deadlines;
        if [d.boot, d.ready, d.test, d.total].contains(&0) || f.smp == 0 {
            return err("deadlines and smp must be positive");
        }
        match f.payload {
            Payload::Initramfs | Payload::FatDisk => {
                if f.rust_target.is_empty() || f.kernel.is_empty() {
                    return err(
                        "an initramfs or fat-disk profile needs `rust-target` and `kernel`",
                    );
                }
                if f.payload == Payload::Initramfs && f.busybox.is_none() {
                    return err("an initramfs profile needs `busybox`");
                }
            }
            Payload::CdTyped => {
                let Some(t) = &f.typed else {
                    return err("a cd-typed profile needs a [typed] table");
                };
                if f.build.is_none() || f.fixture.is_none() || t.programs.is_empty() {
                    return err("a cd-typed profile needs `build`, `fixture` and [typed] programs");
                }
                if t.prompt.trim().is_empty() {
                    return err("[typed] prompt must not be blank");
                }
                let hex = |h: &String| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
                if !f.fixture_sha256.values().all(hex) {
                    return err("fixture-sha256 values must be 64 hex digits");
                }
            }
        }
        Ok(Profile {
            name: name.to_string(),
            os: f.os,
            arch: f.arch,
            rust_target: f.rust_target,
            qemu: f.qemu,
            machine: f.machine,
            cpu: f.cpu,
            memory: f.memory,
            smp: f.smp,
            accel: f.accel,
            kernel: f.kernel,
            append: f.append,
            busybox: f.busybox,
            payload: f.payload,
            fixture: f.fixture,
            fixture_env: f.fixture_env,
            fixture_files: f.fixture_files,
            fixture_sha256: f.fixture_sha256,
            build: f.build,
            typed: f.typed,
            args: f.args,
            backends: f.backends,
            devices: f.devices,
            boot_timeout: f.deadlines.boot,
            ready_timeout: f.deadlines.ready,
            test_timeout: f.deadlines.test,
            total_timeout: f.deadlines.total,
        })
    }

    /// Loads every `*.toml` in `dir`, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Vec<Profile>, String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let name = p
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                Profile::parse(&name, &text)
            })
            .collect()
    }
}

/// Expands `${NAME}` and `${NAME:-default}` from `vars`, then the environment.
///
/// Returns the names that had no value and no default; those are left in the text as written, which is
/// what `--dry-run` shows for an image that is not configured.
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let body = &after[..end];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let val = vars
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .or_else(|| default.map(str::to_string));
        match val {
            Some(v) => out.push_str(&v),
            None => {
                missing.push(name.to_string());
                out.push_str(&rest[at..at + 2 + end + 1]);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_vars_defaults_and_reports_missing() {
        let mut v = BTreeMap::new();
        v.insert("A".to_string(), "x".to_string());
        assert_eq!(expand("${A}/k", &v), ("x/k".to_string(), vec![]));
        assert_eq!(
            expand("virt-${HIL_NO_SUCH_VAR_1:-4.2}", &v),
            ("virt-4.2".to_string(), vec![])
        );
        let (s, m) = expand("file=${HIL_NO_SUCH_VAR_2}/disk", &v);
        assert_eq!(s, "file=${HIL_NO_SUCH_VAR_2}/disk");
        assert_eq!(m, vec!["HIL_NO_SUCH_VAR_2".to_string()]);
    }

    #[test]
    fn the_repository_profiles_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/qemu");
        let ps = Profile::load_dir(&dir).unwrap();
        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
        for want in ["linux-aarch64", "linux-x86_64", "qnx-aarch64", "qnx-x86_64"] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let qa = ps.iter().find(|p| p.name == "qnx-aarch64").unwrap();
        let order: Vec<&str> = qa
            .devices
            .iter()
            .map(|d| d.split(',').next().unwrap())
            .collect();
        assert_eq!(
            &order[..3],
            &[
                "virtio-blk-device",
                "virtio-net-device",
                "virtio-rng-device"
            ]
        );
        assert!(qa
            .backends
            .iter()
            .any(|b| b.contains("disk-qemu") && b.contains("snapshot=on")));

        let n = ps.iter().find(|p| p.name == "qnx64-x86").unwrap();
        assert_eq!(n.payload, Payload::CdTyped);
        assert_eq!(n.fixture_env.as_deref(), Some("HIL_NTO64_DIR"));
        assert_eq!(
            n.fixture_sha256.get("qnxfs.img").map(String::as_str),
            Some("9571161f47c059124a1fca8427c1a3322bebfc7032e186bcbf585d2c5f94a6db")
        );
        assert!(n.kernel.is_empty(), "boots from its disk, no -kernel");
        assert!(n
            .backends
            .iter()
            .any(|b| b.contains("${HIL_FIXTURE}/qnxfs.img") && b.contains("snapshot=on")));
        let t = n.typed.as_ref().unwrap();
        let rows: Vec<(&str, &str)> = t
            .programs
            .iter()
            .map(|p| (p.row.as_str(), p.list.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("raw", "payload"),
                ("libc", "payload"),
                ("raw", "c"),
                ("libc", "c")
            ]
        );
        assert!(t.programs.iter().all(|p| p.command.ends_with(&p.file)));
        assert!(t
            .programs
            .iter()
            .all(|p| crate::qnx6::list(&p.list).is_ok()));
    }

    #[test]
    fn unknown_keys_and_missing_pieces_are_errors() {
        let ok = r#"
            os = "linux"
            arch = "x86_64"
            rust-target = "x86_64-unknown-linux-musl"
            qemu = "qemu-system-x86_64"
            machine = "pc"
            cpu = "qemu64"
            kernel = "k"
            busybox = "b"
            payload = "initramfs"
            [deadlines]
            boot = 5
        "#;
        let p = Profile::parse("t", ok).unwrap();
        assert_eq!((p.boot_timeout, p.test_timeout, p.smp), (5, 60, 1));
        // A misspelt key, at the top and in a table, is refused, naming it.
        let e = Profile::parse("t", &ok.replace("busybox", "busybx")).unwrap_err();
        assert!(e.contains("busybx"), "{e}");
        let e = Profile::parse("t", &ok.replace("boot = 5", "boto = 5")).unwrap_err();
        assert!(e.contains("boto"), "{e}");
        let e = Profile::parse("t", &ok.replace("\"initramfs\"", "\"floppy\"")).unwrap_err();
        assert!(e.contains("floppy"), "{e}");
        assert!(Profile::parse("t", &ok.replace("boot = 5", "boot = 0")).is_err());
        let typed = ok.replace("\"initramfs\"", "\"cd-typed\"");
        let e = Profile::parse("t", &typed).unwrap_err();
        assert!(e.contains("[typed]"), "{e}");
    }
}
