#!/usr/bin/env bash
# Code size of issuing and redeeming one dup ticket, beside the C yardstick.
#
# For QNX 8.0 on aarch64 and x86_64 (aarch64-unknown-qnx / x86_64-pc-qnx, or their pre-2026 names
# *-nto-qnx800 when the nightly has those; .ci/qnx-target.sh) at opt-level "s":
#   1. a throw-away staticlib under $CARGO_TARGET_DIR/codesize/ with two C entry points:
#      `fdpass_size_issue` calls `DupTicket::new` (to a given pid, as QNX 8.0 needs) and copies the 40
#      bytes out; `fdpass_size_redeem` calls `Receiver::redeem_dup` (every check of the general
#      redeem, dup tickets only) and hands the descriptor back, or, built again with the harness's
#      `redeem-any` feature, the general `Receiver::redeem` (dup and openfd). Fat LTO, panic = abort;
#   2. rust-lld keeps what issue + redeem reach (--gc-sections), kernel-call stubs included;
#   3. llvm-nm sizes the text symbols: the crate's code, the raw kernel-call stubs
#      (`__qnx_fdpass_v<major>_<minor>_ker_*`, src/sys/nto/arch/) and compiler builtins (`mem*`) are
#      counted apart;
#   4. all of it again with the `libc-calls` feature: the kernel calls and getpid are then the QNX C
#      library's, external and not counted, as in the C yardstick;
#   5. .ci/c/fdpass_article.c (send_fd + receive_fd the article's way, kernel calls external) is compiled
#      with gcc -Os (aarch64-linux-gnu-gcc, host gcc) and its .text printed beside.
# Needs nightly with rust-src and llvm-tools, and gcc-aarch64-linux-gnu (.ci/setup.d/perf.sh).
# A target that does not build yet is reported and skipped; the script fails only if none was measured.
set -uo pipefail
cd "$(dirname "$0")/.."
. .ci/nightly.sh
repo=$PWD
: "${CARGO_TARGET_DIR:=$repo/target}"
case $CARGO_TARGET_DIR in /*) ;; *) CARGO_TARGET_DIR=$repo/$CARGO_TARGET_DIR ;; esac
export CARGO_TARGET_DIR CARGO_TERM_COLOR=never
tools="$(rustc +"$NIGHTLY" --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin"
for t in llvm-nm llvm-size rust-lld; do
  [ -x "$tools/$t" ] || { echo "codesize: $tools/$t missing: rustup component add --toolchain $NIGHTLY llvm-tools"; exit 1; }
done

work=$CARGO_TARGET_DIR/codesize
mkdir -p "$work/src"
cat >"$work/Cargo.toml" <<TOML
[package]
name = "fdpass-codesize"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["staticlib"]
path = "src/lib.rs"

[dependencies]
qnx-fdpass = { path = "$repo" }

[features]
libc-calls = ["qnx-fdpass/libc-calls"]
redeem-any = []

[profile.release]
opt-level = "s"
panic = "abort"
codegen-units = 1
lto = true
debug = false

[workspace]
TOML
cat >"$work/src/lib.rs" <<'RUST'
//! Entry points, so the linker keeps exactly what issuing and redeeming one dup ticket needs.
#![no_std]
use qnx_fdpass::wire::IoDup;
use qnx_fdpass::fd::IntoRawFd;
use qnx_fdpass::{BorrowedFd, DupTicket, Receiver, Recipient};

const TICKET: usize = core::mem::size_of::<IoDup>();

/// Issues a dup ticket for `fd`, redeemable by process `to`, into `out`: 0, or the errno.
#[no_mangle]
pub extern "C" fn fdpass_size_issue(fd: i32, to: i32, out: &mut [u8; TICKET]) -> i32 {
    // SAFETY: the caller keeps `fd` open for the duration of the call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    match DupTicket::new(fd, Recipient::Pid(to)) {
        Ok(t) => {
            out.copy_from_slice(t.as_bytes());
            0
        }
        Err(e) => e.raw(),
    }
}

/// Checks and redeems the dup ticket in `bytes[..len]`: the new descriptor, or -1. With the
/// `redeem-any` feature, any ticket (dup or openfd) through the general `redeem`.
#[no_mangle]
pub unsafe extern "C" fn fdpass_size_redeem(bytes: *const u8, len: usize) -> i32 {
    // SAFETY: the caller passes `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(bytes, len) };
    #[cfg(not(feature = "redeem-any"))]
    let r = Receiver::new().redeem_dup(bytes);
    #[cfg(feature = "redeem-any")]
    let r = Receiver::new().redeem(bytes);
    match r {
        Ok(fd) => fd.into_raw_fd(),
        Err(_) => -1,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
RUST

# Sizes of the text symbols in an ELF: "crate stubs builtins nstubs". Symbols the assembler left
# without a size get the distance to the next symbol.
sizes() {
  "$tools/llvm-nm" --print-size --defined-only -n "$1" | python3 -c '
import re, sys
syms = []
for line in sys.stdin:
    f = line.split()
    if len(f) == 4 and f[2] in "tTwW":
        syms.append((int(f[0], 16), int(f[1], 16), f[3]))
ours = stubs = builtins = nstubs = 0
for i, (addr, size, name) in enumerate(syms):
    if size == 0 and i + 1 < len(syms):
        size = syms[i + 1][0] - addr
    if re.match(r"__qnx_fdpass_v[0-9]+_[0-9]+_ker_", name):
        stubs += size; nstubs += 1
    elif name in ("memcpy", "memset", "memmove", "memcmp", "bcmp") or name.startswith("compiler_builtins"):
        builtins += size
    else:
        ours += size
print(ours, stubs, builtins, nstubs)
'
}

measured=0
rows=()
for spec in "aarch64-unknown-qnx aarch64-unknown-nto-qnx800 aarch64linux aarch64-linux-gnu-gcc" \
            "x86_64-pc-qnx x86_64-pc-nto-qnx800 elf_x86_64 gcc"; do
  read -r target old emu cc <<<"$spec"
  if ! rustc +"$NIGHTLY" --print target-list | grep -qx "$target"; then
    target=$old
  fi
  cobj=$work/fdpass_article.$target.o
  if command -v "$cc" >/dev/null && "$cc" -Os -c .ci/c/fdpass_article.c -o "$cobj"; then
    ctext=$("$tools/llvm-size" -A "$cobj" | awk '$1 == ".text" {print $2}')
    cver=$("$cc" -dumpfullversion)
  else
    ctext="(no $cc)"; cver=""
  fi
  for calls in raw libc-calls; do
    echo "--- $target ($calls)"
    lib=$work/target/$target/release/libfdpass_codesize.a
    elf=$work/$target.$calls.elf
    any=$work/$target.$calls.any.elf
    # One build per measurement: an entry point that is linked away still changes what LTO inlines.
    ok=1
    for what in dup any; do
      features=()
      [ "$calls" = libc-calls ] && features+=(libc-calls)
      [ "$what" = any ] && features+=(redeem-any)
      out=$elf
      [ "$what" = any ] && out=$any
      if ! (cd "$work" && CARGO_PROFILE_RELEASE_OPT_LEVEL=s cargo +"$NIGHTLY" build -q --release \
            -Zbuild-std=core --target "$target" --target-dir "$work/target" \
            --features "${features[*]}" 2>"$work/build.log"); then
        tail -20 "$work/build.log"
        echo "codesize: $target ($calls, $what) does not build yet; skipped"
        ok=0
        break
      fi
      if ! "$tools/rust-lld" -flavor gnu -m "$emu" -static --gc-sections --unresolved-symbols=ignore-all \
           -e fdpass_size_issue -u fdpass_size_redeem -o "$out" "$lib"; then
        echo "codesize: link for $target ($calls, $what) failed; skipped"
        ok=0
        break
      fi
    done
    if [ "$ok" = 0 ]; then
      rows+=("| $target | $calls | (does not build) | | | | | |")
      continue
    fi
    read -r ours stubs builtins nstubs < <(sizes "$elf")
    read -r any_ours any_stubs any_builtins _ < <(sizes "$any")
    text=$("$tools/llvm-size" -A "$elf" | awk '$1 == ".text" {print $2}')
    echo "crate code ${ours} B, kernel-call stubs ${stubs} B (${nstubs}), builtins ${builtins} B, .text ${text} B;" \
         "with the general redeem: crate code ${any_ours} B, stubs ${any_stubs} B;" \
         "C send_fd+receive_fd ${ctext} B (gcc ${cver} -Os)"
    "$tools/llvm-nm" --print-size --size-sort --radix=d --defined-only "$elf" |
      awk '$3 ~ /^[tTwW]$/ {printf "    %6d %s\n", $2, $4}' | tail -12
    rows+=("| $target | $calls | $ours | $stubs ($nstubs) | $((ours + stubs + builtins)) | $((any_ours + any_stubs + any_builtins)) | $ctext | $cver |")
    measured=$((measured + 1))
  done
done
echo
echo "| target | kernel calls | issue + redeem_dup, crate code (B) | kernel-call stubs (B, count) | total with stubs and builtins (B) | the same with the general redeem (B) | C yardstick .text (B) | gcc |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
[ "$measured" -gt 0 ]
