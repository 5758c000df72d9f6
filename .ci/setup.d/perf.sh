#!/usr/bin/env bash
# Tools for the benchmarks and the code-size check: the aarch64 cross gcc for the C yardstick
# in .ci/codesize.sh; strace, valgrind and perf for looking at where a pass spends its time. Idempotent.
set -euo pipefail
. "$(dirname "$0")/../nightly.sh"
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v strace >/dev/null || need+=(strace)
command -v valgrind >/dev/null || need+=(valgrind)
command -v perf >/dev/null || need+=(linux-perf)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rustup component add --toolchain "$NIGHTLY" llvm-tools rust-src >/dev/null 2>&1 || true
echo "perf-setup: $(aarch64-linux-gnu-gcc -dumpfullversion 2>/dev/null || echo 'no aarch64 gcc')"
