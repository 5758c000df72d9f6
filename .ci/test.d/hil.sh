#!/usr/bin/env bash
# HIL step: first the Neutrino build of the guest program is type-checked (hil-tests/check-qnx.sh: no QNX
# linker here, so compile only), then `cargo hil` boots the x86_64 and aarch64 Linux guests under QEMU, the
# QNX Neutrino 6.4 x86 guest from the shared fixture (its rows are skipped, with the reason, where the fixture
# or its payload's build script is absent), and a Neutrino SDP image when QNX_IMAGE_DIR is set, and runs
# every scenario there. Exits non-zero when anything failed; the runner's per-guest and total summary lines
# are its last lines.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
bash hil-tests/check-qnx.sh || status=1
cargo hil || status=1
exit $status
