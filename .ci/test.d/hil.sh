#!/usr/bin/env bash
# HIL step: `cargo hil` boots the x86_64 and aarch64 Linux guests under QEMU (and a Neutrino image when
# QNX_IMAGE_DIR is set) and runs every scenario there. Exits non-zero when anything failed; the runner's
# per-guest and total summary lines are its last lines.
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo hil
