#!/usr/bin/env bash
# Builds the Neutrino 6.4 x86 payload twice and leaves in OUTDIR:
#   hil-raw   the crate with raw kernel calls (default features)
#   hil-libc  the crate with --features libc-calls
#   c-raw, c-libc  the C programs against the C interface (build-c.sh)
#   libc.so.3 the link-time stand-in for the guest's C library (not shipped to the guest)
#
# usage: bash hil-tests/qnx6-x86/build.sh OUTDIR
# The fixture (libc.so.3.symbols) is found at ../shared/neutrino-6.4-x86/ from the repository root, or
# where HIL_NTO64_DIR points. Extra cargo arguments: HIL_NTO64_CARGO_ARGS. `HIL_NTO64_CARGO=clippy` runs
# clippy -D warnings on both builds instead of building (no fixture needed then).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mode=${HIL_NTO64_CARGO:-build}
fixture=${HIL_NTO64_DIR:-$root/../shared/neutrino-6.4-x86}
symbols=$fixture/libc.so.3.symbols
if [ "$mode" != clippy ] && [ ! -f "$symbols" ]; then
    echo "build.sh: no $symbols (set HIL_NTO64_DIR to the neutrino-6.4-x86 fixture)" >&2
    exit 2
fi
# shellcheck source=../../.ci/nightly.sh
source "$root/.ci/nightly.sh"
target=i686-pc-nto-qnx700
sysroot=$(rustc "+$NIGHTLY" --print sysroot)
lld=$(find "$sysroot/lib/rustlib" -name rust-lld -type f | head -n 1)
[ -x "$lld" ] || { echo "build.sh: no rust-lld in $sysroot" >&2; exit 2; }
# clippy does not link: it needs no stub (the flags stay the same, so both modes share one build).
[ "$mode" = clippy ] || RUST_LLD=$lld bash "$here/stub-libc.sh" "$symbols" "$out"

# The 6.4 dynamic linker (ldqnx.so.2) needs the classic executable layout: no PIE, one read-only-and-
# text segment, no RELRO, lazy binding, SysV hash, the old base address. With lld's default layout the
# program died inside libc before main.
link=(
    -C "linker=$lld" -C linker-flavor=ld.lld -C relocation-model=static -C panic=abort
    -C link-arg=--dynamic-linker=/usr/lib/ldqnx.so.2 -C link-arg=-no-pie
    -C link-arg=--no-rosegment -C link-arg=-znorelro -C link-arg=-zlazy
    -C link-arg=--hash-style=sysv -C link-arg=-znoseparate-code
    -C link-arg=--image-base=0x8048000 -C "link-arg=$out/libc.so.3"
)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/hil-qnx6-x86}
export RUSTFLAGS="${link[*]}"
cd "$here"
for variant in raw libc; do
    features=()
    [ "$variant" = libc ] && features=(--features libc-calls)
    if [ "$mode" = clippy ]; then
        cargo "+$NIGHTLY" clippy -Zbuild-std=core --target "$target" --release "${features[@]}" \
            ${HIL_NTO64_CARGO_ARGS:-} -- -D warnings
        continue
    fi
    cargo "+$NIGHTLY" build -Zbuild-std=core --target "$target" --release "${features[@]}" \
        ${HIL_NTO64_CARGO_ARGS:-}
    cp "$CARGO_TARGET_DIR/$target/release/hil-qnx6-x86" "$out/hil-$variant"
done
[ "$mode" = clippy ] || bash "$here/build-c.sh" "$out"
ls -l "$out"/hil-raw "$out"/hil-libc 2>/dev/null || true
