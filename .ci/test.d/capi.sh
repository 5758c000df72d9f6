#!/usr/bin/env bash
# The C interface (capi/): the header is what cbindgen generates and compiles alone as C99; the static
# library links into the C test (two processes, a real descriptor through a pipe) and the article's demo
# rewritten in C (two processes over a POSIX message queue), both built with the host's gcc and run; the
# C test also compiles for the Neutrino 6.4 guest; and the library type-checks for a QNX target, core
# only, with the dated nightly.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .ci/nightly.sh
export CARGO_TERM_COLOR=never
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
out="$CARGO_TARGET_DIR/capi-c"
mkdir -p "$out"
status=0
fail() { echo "FAILED: $*"; status=1; }

echo "--- header is up to date (cbindgen $(cbindgen --version 2>/dev/null | cut -d' ' -f2))"
if ! command -v cbindgen >/dev/null; then
  fail "cbindgen is not installed (bash .ci/setup.d/cbindgen.sh)"
else
  cbindgen --quiet --config capi/cbindgen.toml --crate qnx-fdpass-capi --output "$out/qnx_fdpass.h" \
    || fail "cbindgen"
  diff -u capi/include/qnx_fdpass.h "$out/qnx_fdpass.h" \
    || fail "capi/include/qnx_fdpass.h is not what cbindgen generates: regenerate it (see capi/cbindgen.toml)"
fi

echo "--- header alone, C99 -pedantic"
printf '#include "qnx_fdpass.h"\n' >"$out/header_only.c"
gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -Icapi/include "$out/header_only.c" \
  || fail "header does not compile alone as C99"
printf '#include "qnx_fdpass.h"\n' >"$out/header_only.cc"
if command -v g++ >/dev/null; then
  g++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -Icapi/include "$out/header_only.cc" \
    || fail "header does not compile as C++"
else
  echo "skipped the C++ check: no g++"
fi

echo "--- static library"
cargo build -q -p qnx-fdpass-capi || fail "cargo build -p qnx-fdpass-capi"
lib="$CARGO_TARGET_DIR/debug/libqnx_fdpass_capi.a"
# What a static Rust library needs from the system when it links into a C program (std on the host).
libs=$(cargo rustc -q -p qnx-fdpass-capi --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
  | sed -n 's/.*native-static-libs: //p' | tail -1)
echo "native libraries: ${libs:-none reported}"

for prog in test_pass fdpass_demo; do
  gcc -std=c99 -Wall -Wextra -Werror -Icapi/include -o "$out/$prog" "capi/c/$prog.c" "$lib" $libs -lrt \
    || fail "gcc $prog.c"
done

echo "--- C test: two processes, a descriptor through a pipe"
"$out/test_pass" || fail "capi/c/test_pass.c"

echo "--- C test for the Neutrino 6.4 guest: compiles with gcc -m32 -ffreestanding, no C library headers"
# (Linked and run there by `cargo hil`, rows qnx64-x86::capi::*, with hil-tests/qnx6-x86/build-c.sh; this
# checks capi/c/platform.h's guest side where the fixture is absent.)
gcc -m32 -std=gnu99 -ffreestanding -nostdinc -isystem "$(gcc -m32 -print-file-name=include)" \
  -DQNX_FDPASS_NTO64 -Wall -Wextra -Werror -Icapi/include -Icapi/c -fsyntax-only capi/c/test_pass.c \
  || fail "capi/c/test_pass.c does not compile for the 6.4 guest"

echo "--- C demo: two processes over a POSIX message queue"
if demo=$("$out/fdpass_demo" 2>&1); then
  echo "$demo"
  first=$(sed -n 1p /etc/passwd) second=$(sed -n 2p /etc/passwd)
  grep -qxF "SFD: first line [$first]" <<<"$demo" || fail "demo: the sender's first line"
  grep -qxF "RFD: next line [$second]" <<<"$demo" || fail "demo: the receiver did not read the next line"
else
  echo "$demo"
  fail "capi/c/fdpass_demo.c"
fi

echo "--- QNX: the static library builds core-only (x86_64-pc-qnx, $NIGHTLY)"
# panic=abort: the QNX build has no std, so no unwinding runtime (the library never panics anyway; with
# panic=unwind a core-only crate does not build). Building a static library does not link, so no QNX
# toolchain is needed; linking it into a program needs qcc.
if rustc +"$NIGHTLY" --print target-list | grep -qx x86_64-pc-qnx; then
  qnx=(--target x86_64-pc-qnx -Zbuild-std=core)
  export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/capi-qnx" RUSTFLAGS="-C panic=abort"
  cargo +"$NIGHTLY" clippy -q -p qnx-fdpass-capi "${qnx[@]}" -- -D warnings || fail "clippy for x86_64-pc-qnx"
  if cargo +"$NIGHTLY" build -q -p qnx-fdpass-capi "${qnx[@]}"; then
    a="$CARGO_TARGET_DIR/x86_64-pc-qnx/debug/libqnx_fdpass_capi.a"
    exported=$(nm -g --defined-only "$a" 2>/dev/null | grep -c ' T qnx_fdpass_')
    want=$(grep -c '^[a-z].* qnx_fdpass_[a-z_]*(' capi/include/qnx_fdpass.h)
    echo "QNX archive exports $exported of the header's $want functions"
    [ "$exported" -eq "$want" ] || fail "the QNX archive does not export every function of the header"
  else
    fail "build for x86_64-pc-qnx"
  fi
else
  echo "skipped: $NIGHTLY has no x86_64-pc-qnx target"
fi
exit $status
