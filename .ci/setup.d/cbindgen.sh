#!/usr/bin/env bash
# cbindgen, which writes capi/include/qnx_fdpass.h from capi/src/lib.rs (.ci/test.d/capi.sh checks the
# committed header is what it generates). Idempotent: installs only when missing. The version is pinned
# so the header does not change under CI with a new cbindgen release.
set -euo pipefail
want=0.29.4
if command -v cbindgen >/dev/null && [ "$(cbindgen --version 2>/dev/null)" = "cbindgen $want" ]; then
  echo "cbindgen-setup: cbindgen $want present"
  exit 0
fi
cargo install --locked cbindgen --version "$want"
echo "cbindgen-setup: $(cbindgen --version)"
