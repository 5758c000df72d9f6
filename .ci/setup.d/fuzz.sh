#!/usr/bin/env bash
# Installs cargo-fuzz (libFuzzer driver for the fuzz/ crate) if absent. The nightly toolchain it needs
# is installed by .ci/setup.sh. Idempotent: a second run only checks.
set -euo pipefail
if cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-setup: $(cargo fuzz --version)"
  exit 0
fi
cargo install cargo-fuzz --locked
echo "fuzz-setup: $(cargo fuzz --version)"
