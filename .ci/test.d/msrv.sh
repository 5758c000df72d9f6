#!/usr/bin/env bash
# The library builds with the Rust named by `rust-version` (host backend, with and without defmt and std), so the
# declared minimum is a fact and not a hope. Tests, benches and examples may use newer Rust.
set -uo pipefail
cd "$(dirname "$0")/../.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv"
echo "--- library with Rust $msrv"
cargo "+$msrv" build -q -p qnx-fdpass --lib || exit 1
cargo "+$msrv" build -q -p qnx-fdpass --lib --features defmt || exit 1
cargo "+$msrv" build -q -p qnx-fdpass --lib --features std || exit 1
echo "ok: builds with Rust $msrv"
