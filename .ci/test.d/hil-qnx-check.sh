#!/usr/bin/env bash
# The Neutrino build of the HIL guest program (hil-scenarios, std) for the QNX 7.1/8.0 SDP targets,
# type-checked with clippy -D warnings (hil-tests/check-qnx.sh): no QNX linker here, so compile only.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec bash hil-tests/check-qnx.sh
