//! QEMU profiles: one TOML file per (OS, arch) in `targets/qemu/`, e.g. `linux-aarch64.toml`.
//!
//! String values may name variables as `${NAME}` or `${NAME:-default}`. The runner defines `HIL_CACHE`
//! (kernels and busybox from `.ci/setup.d/hil.sh`), `HIL_PAYLOAD` (the initramfs or payload disk it built)
//! and, for Neutrino profiles, `QNX_IMAGE_DIR` (the image for that profile's arch); any other name is read
//! from the environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a guest boots from and how its tests get in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Linux: an initramfs with busybox, `/init` and the scenario program.
    Initramfs,
    /// Neutrino: a FAT disk with the scenario program and `run.sh`, run by the image at boot.
    FatDisk,
}

/// One parsed profile; strings are not yet expanded.
#[derive(Debug, Clone)]
pub struct Profile {
    /// File stem, e.g. `linux-x86_64`.
    pub name: String,
    /// `linux` or `qnx`.
    pub os: String,
    /// `x86_64` or `aarch64`.
    pub arch: String,
    /// The Rust target the scenario program is built for.
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
    /// `-kernel` path.
    pub kernel: String,
    /// Kernel command line (Linux guests); the runner appends its `hil.*` parameters.
    pub append: Option<String>,
    /// busybox-static for the initramfs (Linux guests).
    pub busybox: Option<String>,
    /// How tests get in.
    pub payload: Payload,
    /// Fixed arguments (console, display, reboot behaviour), in order.
    pub args: Vec<String>,
    /// Backends the devices refer to (`-drive`, `-netdev`, `-object` pairs), in order.
    pub backends: Vec<String>,
    /// `-device` values, in the order the guest's drivers expect.
    pub devices: Vec<String>,
    /// Seconds from QEMU start to the guest's READY marker.
    pub boot_timeout: u64,
    /// Seconds per scenario, BEGIN to EXIT.
    pub test_timeout: u64,
    /// Seconds for the whole guest.
    pub total_timeout: u64,
}

fn get_str(t: &toml::Table, k: &str) -> Result<Option<String>, String> {
    match t.get(k) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("`{k}` must be a string, not {}", v.type_str())),
    }
}

fn req_str(t: &toml::Table, k: &str) -> Result<String, String> {
    get_str(t, k)?.ok_or_else(|| format!("missing `{k}`"))
}

fn get_list(t: &toml::Table, k: &str) -> Result<Vec<String>, String> {
    match t.get(k) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{k}` holds a non-string"))
            })
            .collect(),
        Some(v) => Err(format!(
            "`{k}` must be an array of strings, not {}",
            v.type_str()
        )),
    }
}

fn get_int(t: &toml::Table, k: &str, default: u64) -> Result<u64, String> {
    match t.get(k) {
        None => Ok(default),
        Some(toml::Value::Integer(i)) if *i > 0 => Ok(*i as u64),
        Some(v) => Err(format!("`{k}` must be a positive integer, not {v:?}")),
    }
}

impl Profile {
    /// Parses one profile file's text.
    pub fn parse(name: &str, text: &str) -> Result<Profile, String> {
        let t: toml::Table = text.parse().map_err(|e| format!("{name}: {e}"))?;
        let p = (|| {
            let deadlines = match t.get("deadlines") {
                None => toml::Table::new(),
                Some(toml::Value::Table(d)) => d.clone(),
                Some(_) => return Err("`deadlines` must be a table".to_string()),
            };
            let payload = match req_str(&t, "payload")?.as_str() {
                "initramfs" => Payload::Initramfs,
                "fat-disk" => Payload::FatDisk,
                other => return Err(format!("unknown payload {other:?} (initramfs | fat-disk)")),
            };
            Ok(Profile {
                name: name.to_string(),
                os: req_str(&t, "os")?,
                arch: req_str(&t, "arch")?,
                rust_target: req_str(&t, "rust-target")?,
                qemu: req_str(&t, "qemu")?,
                machine: req_str(&t, "machine")?,
                cpu: req_str(&t, "cpu")?,
                memory: get_str(&t, "memory")?.unwrap_or_else(|| "256M".into()),
                smp: get_int(&t, "smp", 1)? as u32,
                accel: get_str(&t, "accel")?.unwrap_or_else(|| "auto".into()),
                kernel: req_str(&t, "kernel")?,
                append: get_str(&t, "append")?,
                busybox: get_str(&t, "busybox")?,
                payload,
                args: get_list(&t, "args")?,
                backends: get_list(&t, "backends")?,
                devices: get_list(&t, "devices")?,
                boot_timeout: get_int(&deadlines, "boot", 60)?,
                test_timeout: get_int(&deadlines, "test", 60)?,
                total_timeout: get_int(&deadlines, "total", 240)?,
            })
        })()
        .map_err(|e| format!("{name}: {e}"))?;
        if p.payload == Payload::Initramfs && p.busybox.is_none() {
            return Err(format!("{name}: an initramfs profile needs `busybox`"));
        }
        Ok(p)
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
    }
}
