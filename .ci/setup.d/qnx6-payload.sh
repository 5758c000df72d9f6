#!/usr/bin/env bash
# The Neutrino 6.4 x86 payload (hil-tests/qnx6-x86/build.sh): binutils with i386 support (`as --32`,
# `ld -m elf_i386`) to write the stub libc.so.3, gcc for the C programs (build-c.sh: `-m32
# -ffreestanding` with gcc's own headers only, so no multilib package), and the nightly's rust-src for
# -Zbuild-std=core. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/nightly.sh
if ! command -v as >/dev/null || ! ld -m elf_i386 -V >/dev/null 2>&1; then
    echo "qnx6-payload-setup: installing binutils"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null
fi
if ! printf 'int x;\n' | gcc -m32 -ffreestanding -nostdinc -x c -c -o /dev/null - 2>/dev/null; then
    echo "qnx6-payload-setup: installing gcc"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc >/dev/null
fi
rustup component add --toolchain "$NIGHTLY" rust-src >/dev/null
