#!/usr/bin/env bash
# Builds the C programs for the Neutrino 6.4 x86 guest and leaves in OUTDIR:
#   c-raw   capi/c/test_pass.c, the article's pass (.ci/c/fdpass_article.c) and its benchmark, linked
#           with libqnx_fdpass_capi.a built core-only for i686-pc-nto-qnx700 (raw kernel calls)
#   c-libc  the same with the library's libc-calls
# Scenarios: c/scenarios.txt; harness: c/hil.c (its own _start, as the Rust payload's src/rt.rs).
#
# usage: bash hil-tests/qnx6-x86/build-c.sh OUTDIR   (after build.sh made OUTDIR/libc.so.3; build.sh
# calls it). Compiled by the host's gcc with -m32 -ffreestanding and no C library headers (the few
# declarations are in capi/c/platform.h), linked by rust-lld with the payload's classic 32-bit layout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(cd "${1:?usage: build-c.sh OUTDIR}" && pwd)
[ -f "$out/libc.so.3" ] || { echo "build-c.sh: no $out/libc.so.3 (run build.sh)" >&2; exit 2; }
# shellcheck source=../../.ci/nightly.sh
source "$root/.ci/nightly.sh"
target=i686-pc-nto-qnx700
sysroot=$(rustc "+$NIGHTLY" --print sysroot)
lld=$(find "$sysroot/lib/rustlib" -name rust-lld -type f | head -n 1)
[ -x "$lld" ] || { echo "build-c.sh: no rust-lld in $sysroot" >&2; exit 2; }
gccinc=$(gcc -m32 -print-file-name=include)
# Freestanding: gcc's own stddef.h/stdint.h/stdarg.h only; no PIE, no stack protector (no libc symbol
# for it is assumed), no unwind tables. -DQNX_FDPASS_NTO64 selects platform.h's guest declarations;
# file names in messages (__FILE__) are relative to the repository.
cflags=(-m32 -march=i686 -std=gnu99 -O2 -ffreestanding -nostdinc -isystem "$gccinc" -fno-pie
    -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none
    -Wall -Wextra -Werror -DQNX_FDPASS_NTO64 -I"$root/capi/include" -I"$root/capi/c" -I"$here/c"
    -ffile-prefix-map="$root/"=)
# Every kernel-call function count.c wraps (its WRAP_C lines are the list).
wraps=$(sed -n 's/^WRAP_C([^,]*, *\([A-Za-z0-9_]*\),.*/--wrap=\1/p' "$here/c/count.c")
[ -n "$wraps" ] || { echo "build-c.sh: no WRAP_C lines in c/count.c" >&2; exit 2; }
# The layout the 6.4 dynamic linker needs (build.sh says why).
ldflags=(-m elf_i386 -e _start --dynamic-linker=/usr/lib/ldqnx.so.2 -no-pie --no-rosegment -znorelro
    -zlazy --hash-style=sysv -znoseparate-code --image-base=0x8048000 --gc-sections)
objs=$out/c-obj
mkdir -p "$objs"
for variant in raw libc; do
    features=() raw=1
    [ "$variant" = libc ] && features=(--features libc-calls) raw=
    # Its own target directory per variant: switching the feature would rebuild the other each time.
    tdir=$root/target/hil-qnx6-x86-capi-$variant
    (cd "$root" && RUSTFLAGS="-C panic=abort" CARGO_TARGET_DIR=$tdir cargo "+$NIGHTLY" build -q \
        -p qnx-fdpass-capi -Zbuild-std=core --target "$target" --release "${features[@]}")
    lib=$tdir/$target/release/libqnx_fdpass_capi.a
    o=()
    for src in "$root/capi/c/test_pass.c" "$root/.ci/c/fdpass_article.c" "$here/c/hil.c" \
        "$here/c/bench.c" "$here/c/count.c"; do
        obj=$objs/$variant-$(basename "$src" .c).o
        gcc "${cflags[@]}" -DHIL_BACKEND="\"$variant\"" ${raw:+-DHIL_RAW} -c "$src" -o "$obj"
        o+=("$obj")
    done
    # shellcheck disable=SC2086 # one --wrap=NAME a word
    "$lld" -flavor gnu "${ldflags[@]}" $wraps -o "$out/c-$variant" "${o[@]}" "$lib" "$out/libc.so.3"
done
rm -rf "$objs"
ls -l "$out"/c-raw "$out"/c-libc
