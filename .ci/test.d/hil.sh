#!/usr/bin/env bash
# HIL step: `cargo hil` boots the x86_64 and aarch64 Linux guests under QEMU, the QNX Neutrino 6.4 x86 guest
# from the shared fixture (its rows are skipped, with the reason, where the fixture or its payload's build
# script is absent), and a Neutrino SDP image when QNX_IMAGE_DIR is set, and runs every scenario there.
# Exits non-zero when anything failed; the runner's per-guest and total summary lines are its last lines.
# (The type-check of the guest program for the QNX SDP targets, which cannot be linked here, is its own
# step, hil-qnx-check: it builds std from source for four targets and is no part of running guests.)
set -uo pipefail
cd "$(dirname "$0")/../.."
cargo hil
