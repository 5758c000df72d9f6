#!/usr/bin/env bash
# The oldest Rust the library promises to build with (`rust-version` in Cargo.toml), for .ci/test.d/msrv.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
rustup toolchain install "$msrv" --profile minimal
