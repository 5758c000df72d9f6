#!/usr/bin/env bash
# QNX cross builds and the machine-code check of the raw kernel-call stubs.
#
# For each QNX target (7.1 and 8.0, aarch64 and x86_64; 8.0 under both its names, see .ci/qnx-target.sh;
# and 7.0 on 32-bit x86, whose kernel-call ABI is 6.x's):
#   1. build the library with the raw stubs, then with --features libc-calls (compile only: the QNX C
#      library is not here to link against);
#   2. clippy -D warnings for both;
#   3. disassemble the raw build's rlib and check every stub with .ci/stubcheck.py: the call number in
#      w8 / eax before the trap, negated MsgSend lengths, the error path returning -errno, and each
#      typed wrapper calling its own stub. The check's table is independent of src/sys/nto/nr.rs.
# Debug profile on purpose: the wrappers stay out of line, so the wrapper -> stub check can see them.
# Set QNX_TARGETS to a subset (space-separated triples) to run fewer targets.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .ci/nightly.sh
export CARGO_TERM_COLOR=never
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
targets=${QNX_TARGETS:-"aarch64-unknown-nto-qnx710 x86_64-pc-nto-qnx710 i686-pc-nto-qnx700 aarch64-unknown-qnx x86_64-pc-qnx aarch64-unknown-nto-qnx800 x86_64-pc-nto-qnx800"}
. .ci/qnx-target.sh
objdump="$(rustc +"$NIGHTLY" --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objdump"
if [ ! -x "$objdump" ]; then
  echo "llvm-objdump not found at $objdump: run 'rustup component add --toolchain $NIGHTLY llvm-tools'"
  exit 1
fi
status=0
fail() { echo "FAILED: $*"; status=1; }
for t in $targets; do
  if ! qnx_target_args "$t"; then
    fail "$QNX_HOW"
    continue
  fi
  echo "=== $QNX_HOW"
  echo "--- $t: clippy (raw, libc-calls)"
  cargo +"$NIGHTLY" clippy -q -p qnx-fdpass "${QNX_ARGS[@]}" -- -D warnings || fail "$t clippy"
  cargo +"$NIGHTLY" clippy -q -p qnx-fdpass "${QNX_ARGS[@]}" --features libc-calls -- -D warnings \
    || fail "$t clippy libc-calls"
  echo "--- $t: build with libc-calls (compile only)"
  cargo +"$NIGHTLY" build -q -p qnx-fdpass "${QNX_ARGS[@]}" --features libc-calls || fail "$t build libc-calls"
  echo "--- $t: build with raw stubs, machine-code check"
  # The rlib's path comes from cargo's own report: newer cargo keeps libraries in its build directory
  # rather than beside final artifacts.
  if rlib=$(cargo +"$NIGHTLY" build -q -p qnx-fdpass "${QNX_ARGS[@]}" --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "qnx_fdpass":
        print(*[f for f in m["filenames"] if f.endswith(".rlib")])'); then
    if [ -n "$rlib" ]; then
      python3 .ci/stubcheck.py "$objdump" "$t" "$rlib" || fail "$t stub check"
    else
      fail "$t build: cargo reported no rlib"
    fi
  else
    fail "$t build"
  fi
done
exit $status
