#!/usr/bin/env bash
# What the newest nightly would break, before the pinned one (targets/nightly) is moved. Installs rustup's
# current `nightly` (with rust-src), builds the library core-only for every QNX target with it (raw kernel
# calls; the libc-routed twin differs only in declarations) and reports each break. It never fails the
# run: the pinned nightly is what the suite depends on, and a move is planned from this report rather
# than suffered. It costs seconds when the newest nightly is the pinned one.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .ci/nightly.sh
pinned=$NIGHTLY
if ! rustup toolchain install nightly --profile minimal --component rust-src >/dev/null 2>&1; then
  echo "nightly-canary: could not install the newest nightly; nothing to report"
  exit 0
fi
newest=$(rustc +nightly -V)
if [ "$newest" = "$(rustc +"$pinned" -V)" ]; then
  echo "nightly-canary: the newest nightly is the pinned one ($pinned: $newest)"
  exit 0
fi
echo "nightly-canary: pinned $pinned ($(rustc +"$pinned" -V)), newest: $newest"
export NIGHTLY=nightly
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/nightly-canary"
. .ci/qnx-target.sh
targets=${QNX_TARGETS:-"aarch64-unknown-nto-qnx710 x86_64-pc-nto-qnx710 aarch64-unknown-qnx x86_64-pc-qnx i686-pc-nto-qnx700"}
breaks=0
for t in $targets; do
  if ! qnx_target_args "$t"; then
    echo "nightly-canary: BREAK $QNX_HOW"; breaks=$((breaks + 1)); continue
  fi
  if out=$(cargo +nightly build -q -p qnx-fdpass "${QNX_ARGS[@]}" 2>&1); then
    echo "nightly-canary: ok $t"
  else
    echo "nightly-canary: BREAK $t:"; echo "$out" | tail -15; breaks=$((breaks + 1))
  fi
done
echo "nightly-canary: $breaks break(s) with the newest nightly (reported, not failed; pinned: $pinned)"
exit 0
