#!/usr/bin/env bash
# Installs what bosun needs to build and test, idempotently (`make deps`).
#
# 1. Debian packages: installed with apt-get only when one is missing.
# 2. libraft >= 0.17.1. Debian 12 ships 0.15.0, which has consensus-safety
#    bugs (fixed in 0.17.1 and 0.18.0), so it must not be used. If pkg-config
#    finds a libraft that new on the system we use it; otherwise we fetch the
#    `raft` source package of the Debian 13 (trixie) suite with apt-get source,
#    from the same archive this machine's own apt sources name, build it into
#    .deps/prefix and link it statically. Nothing third-party is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/.deps
PKGS="build-essential pkg-config libuv1-dev liblmdb-dev libmsgpack-dev libmicrohttpd-dev
      libjansson-dev libyaml-dev liblz4-dev libcmocka-dev python3-pytest lmdb-utils
      dpkg-dev autoconf automake libtool curl iproute2 bc"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

sysver=$(pkg-config --modversion raft 2>/dev/null || true)
if [ -n "$sysver" ] && version_ge "$sysver" 0.17.1; then
    echo "deps: using system libraft $sysver"
    rm -f "$DEPS/raft.mk"; mkdir -p "$DEPS"
    echo "RAFT_CFLAGS := $(pkg-config --cflags raft)" > "$DEPS/raft.mk"
    echo "RAFT_LIBS := $(pkg-config --libs raft)" >> "$DEPS/raft.mk"
    exit 0
fi

if [ -f "$DEPS/prefix/lib/libraft.a" ] && [ -f "$DEPS/raft.mk" ]; then
    exit 0
fi

echo "deps: building libraft from the Debian 13 (trixie) source package"
mkdir -p "$DEPS/apt/lists/partial" "$DEPS/src"
# The archive is the one this machine already uses for Debian packages.
uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
      | grep -v security | grep -oE '(https?|file)://[^ ]+' | grep -i debian | sed -n 1p || true)
[ -n "$uri" ] || { echo "deps: no Debian archive found in the apt sources" >&2; exit 1; }
cat > "$DEPS/apt/trixie.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
APT="-o Dir::Etc::sourcelist=$DEPS/apt/trixie.sources -o Dir::Etc::sourceparts=/dev/null -o Dir::State::Lists=$DEPS/apt/lists -o APT::Sandbox::User=root"
apt-get $APT update -qq
(cd "$DEPS/src" && rm -rf raft* && apt-get $APT source --download-only raft >/dev/null \
    && dpkg-source -x raft_*.dsc raft >/dev/null)
(cd "$DEPS/src/raft" && autoreconf -i >/dev/null 2>&1 \
    && ./configure -q --prefix="$DEPS/prefix" --disable-shared --enable-static --with-pic \
           --disable-example --disable-benchmark >/dev/null \
    && make -j"$(nproc)" >/dev/null 2>&1 && make install >/dev/null)
v=$(PKG_CONFIG_PATH=$DEPS/prefix/lib/pkgconfig pkg-config --modversion raft)
version_ge "$v" 0.17.1 || { echo "deps: built libraft $v is older than 0.17.1" >&2; exit 1; }
echo "RAFT_CFLAGS := -I$DEPS/prefix/include" > "$DEPS/raft.mk"
echo "RAFT_LIBS := $DEPS/prefix/lib/libraft.a -llz4" >> "$DEPS/raft.mk"
echo "deps: libraft $v built into .deps/prefix"
