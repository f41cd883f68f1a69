#!/usr/bin/env bash
# Installs what bosun needs to build and test, idempotently (`make deps`).
#
# 1. Debian packages: installed with apt-get only when one is missing
#    (tzdata: the zoneinfo files CronJobs' spec.timeZone is read from,
#    util/tz.c).
# 2. libraft: always the one built here, linked statically, never a system
#    one. We fetch the `raft` source package of the Debian 13 (trixie) suite
#    (0.22.1, which the patches are made against) with apt-get source, from
#    the same archive this machine's own apt sources name, apply our fixes,
#    scripts/libraft-patches/*.patch in order with `patch -p1`, and build it
#    into $DEPS/prefix. A system libraft, whatever its version, lacks those
#    fixes (crashes, a follower recording a wrong term, a commit index going
#    back, leaks: found by the simulation, tests/sim; a configuration never
#    committed: tests/unit/test_raft_config.c), so it is not used even
#    if pkg-config finds one; Debian 12's 0.15.0 also has consensus-safety
#    bugs fixed only in 0.17.1 and 0.18.0. $DEPS/patches.sha256 records the
#    patch set the library was built with: when the patches change (added,
#    removed or edited), libraft is rebuilt from a fresh extraction. Nothing
#    third-party is committed.
#
# 3. The Kubernetes API types: the `golang-k8s-api` and
#    `golang-k8s-apimachinery` source packages of Debian 13 (0.32.3, the
#    version of kubectl 1.32), fetched the same way into $DEPS/src/k8s/;
#    scripts/gen_schema.py derives the schema (build/gen/) from their
#    generated.proto and types.go files at build time. $DEPS/k8s.mk names
#    the two directories for the Makefile.
#
# DEPS (default .deps in the repository) names the directory to build into,
# e.g. DEPS=/tmp/deps-new to rebuild from scratch without disturbing .deps
# until it is moved into place; the raft.mk it writes finds the library
# relative to its own location, so the directory can be moved.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=${DEPS:-$ROOT/.deps}
mkdir -p "$DEPS"
DEPS=$(cd "$DEPS" && pwd)
PATCHES=$ROOT/scripts/libraft-patches
PKGS="build-essential pkg-config libuv1-dev liblmdb-dev libmsgpack-dev libmicrohttpd-dev
      libjansson-dev libyaml-dev liblz4-dev libcmocka-dev python3-pytest python3-pytest-xdist lmdb-utils
      dpkg-dev autoconf automake libtool patch curl iproute2 bc clang libjemalloc-dev tzdata"
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

# A private apt configuration naming Debian 13's source packages, from the
# archive this machine's own apt sources already use.
apt_trixie() {
    mkdir -p "$DEPS/apt/lists/partial"
    if [ ! -f "$DEPS/apt/trixie.sources" ]; then
        local uri
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
    fi
    APT="-o Dir::Etc::sourcelist=$DEPS/apt/trixie.sources -o Dir::Etc::sourceparts=/dev/null -o Dir::State::Lists=$DEPS/apt/lists -o APT::Sandbox::User=root"
    if [ ! -f "$DEPS/apt/updated" ]; then
        apt-get $APT update -qq && touch "$DEPS/apt/updated"
    fi
}

# The Kubernetes API sources (see 3. above).
K8S_VERSION=0.32.3
if [ "$(cat "$DEPS/k8s.stamp" 2>/dev/null)" != "$K8S_VERSION" ] || [ ! -f "$DEPS/k8s.mk" ]; then
    echo "deps: fetching the Kubernetes API sources $K8S_VERSION (Debian 13 source packages)"
    apt_trixie
    rm -rf "$DEPS/src/k8s" && mkdir -p "$DEPS/src/k8s"
    for pkg in golang-k8s-api golang-k8s-apimachinery; do
        # The archive may lack the .dsc of these packages (seen here: 404)
        # while it serves their tarballs, whose checksums apt verifies
        # against the signed Sources index; so a failure of the .dsc alone
        # is tolerated and the upstream tarball is unpacked directly.
        (cd "$DEPS/src/k8s" && apt-get $APT source --download-only "$pkg" >/dev/null 2>&1 || true)
        orig=$(ls "$DEPS/src/k8s/$pkg"_*.orig.tar.* 2>/dev/null | sed -n 1p)
        [ -n "$orig" ] || { echo "deps: cannot fetch the $pkg source package" >&2; exit 1; }
        mkdir -p "$DEPS/src/k8s/${pkg#golang-k8s-}"
        tar -xf "$orig" -C "$DEPS/src/k8s/${pkg#golang-k8s-}" --strip-components=1 \
            || { echo "deps: cannot unpack $orig" >&2; exit 1; }
    done
    [ -f "$DEPS/src/k8s/api/core/v1/generated.proto" ] \
        && [ -f "$DEPS/src/k8s/apimachinery/pkg/apis/meta/v1/generated.proto" ] \
        || { echo "deps: the Kubernetes API sources lack generated.proto" >&2; exit 1; }
    cat > "$DEPS/k8s.mk" <<'MK'
K8S_SRC := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))src/k8s)
K8S_API := $(K8S_SRC)/api
K8S_MACHINERY := $(K8S_SRC)/apimachinery
MK
    echo "$K8S_VERSION" > "$DEPS/k8s.stamp"
fi

# The patch set: names and contents, in the order they are applied.
shopt -s nullglob
patches=("$PATCHES"/*.patch)
shopt -u nullglob
want=$( (cd "$ROOT" && for p in "${patches[@]}"; do sha256sum "scripts/libraft-patches/${p##*/}"; done) \
        | sha256sum | cut -d' ' -f1)

if [ -f "$DEPS/prefix/lib/libraft.a" ] && [ -f "$DEPS/raft.mk" ] \
   && [ "$(cat "$DEPS/patches.sha256" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

echo "deps: building libraft from the Debian 13 (trixie) source package with ${#patches[@]} patch(es)"
# raft.mk stays while we rebuild (it does not change), so builds running
# meanwhile still link the previous library until the new one is installed.
rm -f "$DEPS/patches.sha256"
mkdir -p "$DEPS/src"
if ! ls "$DEPS"/src/raft_*.dsc >/dev/null 2>&1; then
    apt_trixie
    (cd "$DEPS/src" && rm -rf raft* && apt-get $APT source --download-only raft >/dev/null)
fi
# Always a fresh extraction, so every patch applies to pristine sources.
(cd "$DEPS/src" && rm -rf raft && dpkg-source -x raft_*.dsc raft >/dev/null)
for p in "${patches[@]}"; do
    (cd "$DEPS/src/raft" && patch -p1 --forward --batch --quiet -i "$p") \
        || { echo "deps: ${p##*/} does not apply to libraft" >&2; exit 1; }
done
(cd "$DEPS/src/raft" && autoreconf -i >/dev/null 2>&1 \
    && ./configure -q --prefix="$DEPS/prefix" --disable-shared --enable-static --with-pic \
           --disable-example --disable-benchmark >/dev/null \
    && make -j"$(nproc)" >/dev/null 2>&1 && make install >/dev/null) \
    || { echo "deps: building libraft failed (in $DEPS/src/raft)" >&2; exit 1; }
v=$(PKG_CONFIG_PATH=$DEPS/prefix/lib/pkgconfig pkg-config --modversion raft)
version_ge "$v" 0.17.1 || { echo "deps: built libraft $v is older than 0.17.1" >&2; exit 1; }
# Paths relative to this file, so that $DEPS can be moved (make includes it
# as .deps/raft.mk).
cat > "$DEPS/raft.mk" <<'MK'
RAFT_PREFIX := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))prefix)
RAFT_CFLAGS := -I$(RAFT_PREFIX)/include
RAFT_LIBS := $(RAFT_PREFIX)/lib/libraft.a -llz4
MK
echo "$want" > "$DEPS/patches.sha256"
echo "deps: libraft $v (+${#patches[@]} patch(es)) built into $DEPS/prefix"
