#!/usr/bin/env bash
# Bounded fuzzing: each cargo-fuzz target for FUZZ_SECONDS (default 60) from the committed seed corpus.
# A finding fails the step; libFuzzer leaves the input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
. ../.ci/nightly.sh
secs=${FUZZ_SECONDS:-60}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is not installed (.ci/setup.d/fuzz.sh installs it)" >&2
  exit 1
fi
for target in $(cargo fuzz list); do
  echo "fuzz: $target for ${secs}s"
  # Fuzz into a scratch corpus seeded from the committed one, so the CI run adds no files to the tree.
  work=$(mktemp -d)
  log=$(mktemp)
  trap 'rm -rf "$work" "$log"' EXIT
  cp corpus/"$target"/seed-* "$work"/
  status=0
  cargo +"$NIGHTLY" fuzz run -O "$target" "$work" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1 ||
    status=$?
  grep -E '^(#[0-9]+\s+(INITED|DONE)|Done |stat::number_of_executed_units|stat::peak_rss|==[0-9]+== ERROR|.*panicked at)' "$log" || true
  [ "$status" -eq 0 ] || tail -n 40 "$log"
  rm -rf "$work" "$log"
  trap - EXIT
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $status); see fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
