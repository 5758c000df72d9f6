#!/usr/bin/env bash
# The Neutrino 6.4 x86 payload (hil-tests/qnx6-x86): its own crate, outside the workspace, core only.
#   1. cargo fmt --check on it;
#   2. clippy -D warnings for i686-pc-nto-qnx700, raw and with libc-calls;
#   3. the programs built and linked (hil-raw, hil-libc, and the C programs c-raw, c-libc), which needs the fixture's symbol list
#      (../shared/neutrino-6.4-x86/ or HIL_NTO64_DIR); without the fixture the link is skipped, saying
#      so (the QEMU run itself is the runner's, `cargo hil`).
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/nightly.sh
export CARGO_TERM_COLOR=never
(cd hil-tests/qnx6-x86 && cargo "+$NIGHTLY" fmt -- --check)
HIL_NTO64_CARGO=clippy bash hil-tests/qnx6-x86/build.sh target/hil-qnx6-x86/out
fixture=${HIL_NTO64_DIR:-$PWD/../shared/neutrino-6.4-x86}
if [ ! -f "$fixture/libc.so.3.symbols" ]; then
    echo "qnx6-payload: SKIPPED the link: no Neutrino 6.4 fixture at $fixture (fmt and clippy ran)"
    exit 0
fi
HIL_NTO64_DIR=$fixture bash hil-tests/qnx6-x86/build.sh target/hil-qnx6-x86/out
