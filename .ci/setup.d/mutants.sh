#!/usr/bin/env bash
# cargo-mutants, for the mutation-testing step (.ci/test.d/mutants.sh). Idempotent: when `cargo mutants`
# already answers, nothing is done; otherwise it is built from the registry with its locked dependencies
# (a few minutes, once per machine).
set -euo pipefail
if ! cargo mutants --version >/dev/null 2>&1; then
  cargo install --locked cargo-mutants
fi
echo "mutants-setup: $(cargo mutants --version)"
