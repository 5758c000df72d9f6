#!/usr/bin/env bash
# Writes a link-time stand-in for the Neutrino 6.4 x86 C library: a shared object with the real one's
# SONAME (libc.so.3) that exports every name of the guest's libc.so.3 as a one-instruction function.
# The payload links against it; at run time the guest's dynamic linker binds the names to the real
# library. (The guest's own libc.so.3 cannot be linked against: its section headers are stripped.)
#
# usage: stub-libc.sh SYMBOLS_FILE OUTDIR   -> OUTDIR/libc.so.3
# Needs binutils' `as` and `ld` (with i386 support), or falls back to rust-lld for the link.
set -euo pipefail
symbols=$1
out=$2
mkdir -p "$out"
asm="$out/libc-stub.s"
{
    echo '    .text'
    # One `ret` per exported name; the names are C identifiers (checked below).
    while IFS= read -r name; do
        [ -z "$name" ] && continue
        case "$name" in
        *[!A-Za-z0-9_]* | [0-9]*)
            echo "stub-libc.sh: not a C identifier in $symbols: $name" >&2
            exit 1
            ;;
        esac
        printf '    .globl %s\n    .type %s,@function\n%s:\n    ret\n' "$name" "$name" "$name"
    done <"$symbols"
} >"$asm"
as --32 -o "$out/libc-stub.o" "$asm"
if ld -m elf_i386 -V >/dev/null 2>&1; then
    ld -m elf_i386 -shared -soname libc.so.3 --hash-style=sysv -o "$out/libc.so.3" "$out/libc-stub.o"
else
    "${RUST_LLD:?no ld -m elf_i386 and RUST_LLD unset}" -flavor gnu -m elf_i386 -shared -soname libc.so.3 \
        --hash-style=sysv -o "$out/libc.so.3" "$out/libc-stub.o"
fi
rm -f "$asm" "$out/libc-stub.o"
