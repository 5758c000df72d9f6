#!/usr/bin/env bash
# The whole test suite: the README's second command. It first makes sure the machine has what the suite
# needs (.ci/setup.sh: the dated nightly and its components, QEMU, guest kernels, cross tools; idempotent,
# so on a machine already set up this costs seconds), then runs every step. Each step runs even if an
# earlier one failed; the last line counts them, and the exit status is non-zero if any failed.
# QNX_FDPASS_NO_SETUP=1 skips the set-up (for a machine set up by `sudo bash .ci/setup.sh` whose user
# cannot install packages).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
if [ "${QNX_FDPASS_NO_SETUP:-0}" != 1 ]; then
  echo "=== setup: .ci/setup.sh"
  t0=$SECONDS
  if ! bash .ci/setup.sh; then
    echo "=== FAILED: setup ($((SECONDS - t0)) s). It installs packages with apt-get and needs root; as another"
    echo "    user run 'sudo bash .ci/setup.sh' once, then QNX_FDPASS_NO_SETUP=1 bash .ci/test.sh"
    exit 1
  fi
  echo "=== ok: setup ($((SECONDS - t0)) s)"
fi
passed=0; failed=0; failures=()
step() {
  local name=$1; shift
  echo "=== step: $name"
  local t0=$SECONDS
  # A hung step fails after STEP_TIMEOUT seconds instead of holding the whole run.
  if timeout -k 30 "${STEP_TIMEOUT:-1800}" "$@"; then passed=$((passed + 1)); echo "=== ok: $name ($((SECONDS - t0)) s)"
  else failed=$((failed + 1)); failures+=("$name"); echo "=== FAILED: $name ($((SECONDS - t0)) s)"; fi
}
step fmt cargo fmt --all -- --check
step clippy-host cargo clippy --workspace --all-targets -- -D warnings
# The library is no_std by default and std-interoperable with `--features std`: both are linted and
# tested (tests/no_alloc.rs runs in both; tests/std_interop.rs and the README's examples need std).
step clippy-std cargo clippy -p qnx-fdpass --all-targets --features std -- -D warnings
step test cargo test --workspace
step test-std cargo test -p qnx-fdpass --features std
step clippy-defmt cargo clippy -p qnx-fdpass --features defmt -- -D warnings
step doc env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p qnx-fdpass
step doc-std env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p qnx-fdpass --features std
# With std on Neutrino the descriptors are std's (closed by the C library's close()): type-check that
# build too, std built from source with the dated nightly (no QNX linker here, so check only).
# The std build for QNX, and the examples users build for their target (self-test with both backends'
# paths, native message passing).
step qnx-std bash -c '. .ci/nightly.sh && export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/qnx-std" && \
  cargo +"$NIGHTLY" check -q -p qnx-fdpass --features std --target x86_64-pc-qnx -Zbuild-std=std,panic_abort && \
  cargo +"$NIGHTLY" check -q -p qnx-fdpass --example selftest --features std,libc-calls --target x86_64-pc-qnx -Zbuild-std=std,panic_abort && \
  cargo +"$NIGHTLY" check -q -p qnx-fdpass --example native --features std --target x86_64-pc-qnx -Zbuild-std=std,panic_abort'
for s in .ci/test.d/*.sh; do [ -e "$s" ] && step "$(basename "$s" .sh)" bash "$s"; done
echo
[ ${#failures[@]} -gt 0 ] && echo "failed steps: ${failures[*]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
