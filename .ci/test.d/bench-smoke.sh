#!/usr/bin/env bash
# Smoke run of the benchmarks: a few passes of every variant, so a broken benchmark shows in CI;
# the figures are meaningless at this size. Then the code-size report (.ci/codesize.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
export FDPASS_BENCH_QUICK=1
status=0
cargo bench -q -p qnx-fdpass --bench fdpass || status=1
cargo bench -q -p qnx-fdpass --bench ticket || status=1
bash .ci/codesize.sh || status=1
exit $status
