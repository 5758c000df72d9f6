//! Names the platform and the QNX version being built for, once, as cfgs the source uses instead of
//! spelling the target test out at every use:
//!
//! - `neutrino`: any QNX Neutrino target (`target_os = "nto"`, or `"qnx"` on toolchains since the
//!   mid-2026 rename): the `sys::nto` backend and the `pass::nto` logic are the crate's;
//! - `host_linux`: Linux, the host backend (`sys::host`, `pass::host`, through `rustix`);
//! - `qnx_v8`: QNX 8.0, whose targets are `target_os = "qnx"` on toolchains since the mid-2026 rename
//!   and `target_env = "nto80"` (with `target_os = "nto"`) before it;
//! - `qnx_v7`: QNX 7.0 and 7.1 (`target_env = "nto70"`, `"nto71"`, `"nto71_iosock"`), whose message
//!   layout 6.x shares.
//!
//! Neither version is set on other targets (the Linux host backend). Any other target builds the wire
//! layer and the pure logic only. The wire layout follows `qnx_v7`: v7 with
//! it, v8 without (the host uses the v8 layout, see `src/wire/mod.rs`); the kernel calls that exist only
//! on 8.0 (`dupfd`) follow `qnx_v8`.

use std::env;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(neutrino)");
    println!("cargo::rustc-check-cfg=cfg(host_linux)");
    println!("cargo::rustc-check-cfg=cfg(qnx_v7)");
    println!("cargo::rustc-check-cfg=cfg(qnx_v8)");
    // Cargo sets these from the target being built for (not the host running this script).
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "nto" || os == "qnx" {
        println!("cargo::rustc-cfg=neutrino");
    }
    // The Linux host backend's `rustix` dependency is declared for the same test in Cargo.toml.
    if os == "linux" {
        println!("cargo::rustc-cfg=host_linux");
    }
    if os == "qnx" || target_env == "nto80" {
        println!("cargo::rustc-cfg=qnx_v8");
    }
    if matches!(target_env.as_str(), "nto70" | "nto71" | "nto71_iosock") {
        println!("cargo::rustc-cfg=qnx_v7");
    }
}
