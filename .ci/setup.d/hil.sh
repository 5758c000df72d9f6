#!/usr/bin/env bash
# HIL set-up (runs as root on a fresh Debian 12 machine; idempotent, a second run only checks):
#  1. QEMU 10 (x86_64 + aarch64 system emulators) and seabios from bookworm-backports. The backports source
#     is built from the URIs already in the system's apt sources; no mirror host is named here.
#  2. Debian kernels and busybox-static for amd64 and arm64, fetched with `apt-get download` through a
#     private apt root (no `dpkg --add-architecture`), unpacked into a cache under target/hil-cache/.
#     x86_64 gets an ELF vmlinux extracted from the bzImage: QEMU boots it by PVH, about twice as fast.
#  3. The musl targets the guest programs are built for.
#  4. genisoimage, which writes the CD that carries the Neutrino 6.4 guest's payload (bookworm main).
set -euo pipefail
cd "$(dirname "$0")/../.."

cache=${HIL_CACHE:-$PWD/target/hil-cache}
mkdir -p "$cache"
log() { echo "hil-setup: $*"; }

# --- 1. QEMU from bookworm-backports ------------------------------------------------------------------
need_qemu=0
for b in qemu-system-x86_64 qemu-system-i386 qemu-system-aarch64; do command -v "$b" >/dev/null || need_qemu=1; done
if [ "$need_qemu" = 0 ] && ! qemu-system-x86_64 --version | grep -Eq 'version (9|[1-9][0-9])\.'; then need_qemu=1; fi
if [ "$need_qemu" = 1 ]; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # The first deb822 stanza that serves plain `bookworm` gives the URI and the keyring.
    read -r uri keyring < <(python3 - <<'EOF'
import glob, re
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in re.split(r'\n\s*\n', open(path).read()):
        f = {}
        for line in stanza.splitlines():
            m = re.match(r'^([A-Za-z-]+):\s*(.*)$', line)
            if m:
                f[m.group(1)] = m.group(2).strip()
        if 'bookworm' in f.get('Suites', '').split() and f.get('URIs'):
            print(f['URIs'].split()[0], f.get('Signed-By', '/usr/share/keyrings/debian-archive-keyring.gpg'))
            raise SystemExit
EOF
    )
    [ -n "${uri:-}" ] || { echo "hil-setup: no bookworm URIs: line in /etc/apt/sources.list.d/*.sources" >&2; exit 1; }
    log "adding bookworm-backports from the system's own URI"
    cat >/etc/apt/sources.list.d/hil-backports.sources <<EOF
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $keyring
EOF
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports \
    qemu-system-x86 qemu-system-arm qemu-system-common qemu-system-data seabios >/dev/null
fi
log "$(qemu-system-x86_64 --version | head -1)"

# --- 2. kernels and busybox, per Debian architecture ---------------------------------------------------
# A private apt root: its own sources (copied from the system's), lists, cache and an empty dpkg status,
# so downloading arm64 packages never touches the system's package state.
apt_root() {
  local arch=$1 root=$cache/apt-$1
  mkdir -p "$root"/etc/sources.list.d "$root"/etc/preferences.d "$root"/state/lists/partial \
    "$root"/cache/archives/partial
  cp /etc/apt/sources.list.d/*.sources "$root"/etc/sources.list.d/ 2>/dev/null || true
  : >"$root"/etc/sources.list
  : >"$root"/state/status
  echo "-o Dir::Etc=$root/etc -o Dir::State=$root/state -o Dir::State::status=$root/state/status \
-o Dir::Cache=$root/cache -o APT::Sandbox::User=root -o APT::Architecture=$arch -o APT::Architectures=$arch"
}

fetch_guest() { # <debian arch> <profile dir name>
  local arch=$1 out=$cache/$2 opts
  if [ -s "$out/kernel" ] && [ -x "$out/busybox" ]; then log "$2: cached"; return; fi
  opts=$(apt_root "$arch")
  # shellcheck disable=SC2086
  apt-get $opts update -qq
  local kpkg
  # linux-image-<arch> is a metapackage: its first dependency names the versioned kernel package.
  # shellcheck disable=SC2086
  kpkg=$(apt-cache $opts depends "linux-image-$arch" | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$kpkg" ] || { echo "hil-setup: cannot resolve linux-image-$arch" >&2; exit 1; }
  local dl=$cache/apt-$arch/debs
  mkdir -p "$dl" "$out"
  # shellcheck disable=SC2086
  (cd "$dl" && apt-get $opts download "$kpkg" busybox-static >/dev/null)
  local tmp; tmp=$(mktemp -d)
  dpkg-deb --fsys-tarfile "$dl"/busybox-static_*.deb | tar -x -C "$tmp" ./bin/busybox
  dpkg-deb --fsys-tarfile "$dl"/"$kpkg"_*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
  install -m 0755 "$tmp"/bin/busybox "$out"/busybox
  cp "$tmp"/boot/vmlinuz-* "$out"/vmlinuz
  rm -rf "$tmp" "$dl"
  if [ "$arch" = amd64 ]; then
    # extract-vmlinux: the bzImage carries an XZ stream holding the ELF vmlinux.
    python3 - "$out/vmlinuz" "$out/kernel" <<'EOF'
import lzma, sys
data = open(sys.argv[1], 'rb').read()
start = 0
while True:
    i = data.find(b'\xfd7zXZ\x00', start)
    if i < 0:
        sys.exit('no XZ stream holding an ELF in ' + sys.argv[1])
    try:
        elf = lzma.LZMADecompressor().decompress(data[i:])
    except lzma.LZMAError:
        start = i + 1
        continue
    if elf[:4] == b'\x7fELF':
        open(sys.argv[2], 'wb').write(elf)
        break
    start = i + 1
EOF
  else
    # Debian ships the arm64 kernel as a plain Image, which QEMU -kernel boots directly.
    mv "$out"/vmlinuz "$out"/kernel
  fi
  echo "$kpkg" >"$out"/kernel.package
  log "$2: $kpkg + busybox-static"
}
fetch_guest amd64 linux-x86_64
fetch_guest arm64 linux-aarch64

# --- 3. musl targets ---------------------------------------------------------------------------------
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl >/dev/null 2>&1 ||
  rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl
# --- 4. genisoimage ------------------------------------------------------------------------------------
if ! command -v genisoimage >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends genisoimage >/dev/null
fi
log "$(genisoimage --version 2>&1 | head -1)"
log "ready (cache: target/hil-cache)"
