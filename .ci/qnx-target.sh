# Sourced by the QNX CI scripts: how to ask the installed nightly for one QNX target.
#
# Rust renamed the QNX 8.0 targets in mid-2026 (rust-lang/rust#158449): `aarch64-unknown-nto-qnx800` and
# `x86_64-pc-nto-qnx800` (target_os "nto", target_env "nto80") became `aarch64-unknown-qnx` and
# `x86_64-pc-qnx` (target_os "qnx"). Toolchains from before the rename know only the old names, newer ones
# only the new. The crate supports both (its build.rs sets cfg qnx_v8 for either), so CI builds
# both: the new names directly, the old ones directly when the nightly still has them, otherwise through
# a target spec generated from the renamed target with os "nto" and env "nto80", which is what the old
# built-in target was (same data layout, features and ABI; only the cfg values differ).
#
# qnx_target_args <triple> sets the array QNX_ARGS to the cargo arguments that build for <triple>, and
# QNX_HOW to a line saying which way. Returns 1 (with QNX_HOW saying why) if neither way exists.
qnx_target_args() {
  local t=$1 renamed spec
  QNX_ARGS=() QNX_HOW=""
  if rustc +"$NIGHTLY" --print target-list | grep -qx "$t"; then
    if [ -f "targets/$t.toml" ]; then
      QNX_ARGS=(--config "targets/$t.toml")
      QNX_HOW="$t: built-in target, fragment targets/$t.toml"
    else
      QNX_ARGS=(--target "$t" -Zbuild-std=core)
      QNX_HOW="$t: built-in target"
    fi
    return 0
  fi
  case $t in
    aarch64-unknown-nto-qnx800) renamed=aarch64-unknown-qnx ;;
    x86_64-pc-nto-qnx800) renamed=x86_64-pc-qnx ;;
    *) QNX_HOW="$t: not a target of this nightly"; return 1 ;;
  esac
  if ! rustc +"$NIGHTLY" --print target-list | grep -qx "$renamed"; then
    QNX_HOW="$t: this nightly has neither $t nor $renamed"
    return 1
  fi
  spec="${CARGO_TARGET_DIR:-target}/qnx-specs/$t.json"
  mkdir -p "$(dirname "$spec")"
  rustc +"$NIGHTLY" --print target-spec-json -Z unstable-options --target "$renamed" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["os"], d["env"] = "nto", "nto80"
d.pop("metadata", None)
json.dump(d, sys.stdout, indent=2)' >"$spec" || { QNX_HOW="$t: could not write a spec from $renamed"; return 1; }
  case $spec in /*) ;; *) spec=$PWD/$spec ;; esac
  QNX_ARGS=(--target "$spec" -Zbuild-std=core -Zjson-target-spec)
  QNX_HOW="$t: pre-rename name, not in this nightly: spec generated from $renamed with target_os \"nto\", target_env \"nto80\""
  return 0
}
