#!/usr/bin/env bash
# Type-checks the Neutrino build of the guest program (hil-scenarios) with nightly clippy -D warnings, for
# each QNX target, raw and with --features libc-calls. Without a QNX image `cargo hil` never builds it, and
# without the QNX SDP nothing can link it; this at least keeps the Neutrino-only code (kernel_selftest, the
# 7.x cases of bad_packets, the non-Linux descriptor counting) compiling. std is built from source
# (-Zbuild-std): about 2 minutes on 2 cores the first time, seconds after.
#
# The 8.0 targets are checked under their current names (aarch64-unknown-qnx, x86_64-pc-qnx); a nightly
# from before the mid-2026 rename is asked for the old ones instead. The old names cannot be checked with
# a newer nightly: the `libc` crate std uses knows 8.0 only as target_os "qnx" and refuses "nto" + "nto80".
# QNX_TARGETS (space-separated triples) picks a subset.
set -uo pipefail
cd "$(dirname "$0")/.."
. .ci/nightly.sh
export CARGO_TERM_COLOR=never
known=$(rustc +"$NIGHTLY" --print target-list) || { echo "hil-qnx-check: no nightly toolchain"; exit 1; }
has() { grep -qx "$1" <<<"$known"; }
targets=${QNX_TARGETS:-"aarch64-unknown-qnx x86_64-pc-qnx aarch64-unknown-nto-qnx710 x86_64-pc-nto-qnx710"}
status=0
for t in $targets; do
  if ! has "$t"; then
    case $t in
      aarch64-unknown-qnx) old=aarch64-unknown-nto-qnx800 ;;
      x86_64-pc-qnx) old=x86_64-pc-nto-qnx800 ;;
      *) old="" ;;
    esac
    if [ -n "$old" ] && has "$old"; then
      t=$old
    else
      echo "hil-qnx-check: FAILED: $t is not a target of this nightly"
      status=1
      continue
    fi
  fi
  for features in "" libc-calls; do
    what="$t${features:+ --features $features}"
    if cargo +"$NIGHTLY" clippy -q -p hil-tests --bin hil-scenarios --target "$t" -Zbuild-std=core,std \
      ${features:+--features "$features"} -- -D warnings; then
      echo "hil-qnx-check: ok: $what"
    else
      echo "hil-qnx-check: FAILED: $what"
      status=1
    fi
  done
done
exit $status
