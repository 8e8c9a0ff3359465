#!/usr/bin/env bash
# Builds openddb as one statically linked executable and lays out the
# container image's root file system in ROOTFS. The Dockerfile's builder
# stage runs this, and so does scripts/container-check.sh before it runs
# the result the way the image would: one recipe, so the image and the
# check cannot drift apart.
#
#   packaging/docker/build-static.sh ROOTFS
#
# Environment: OPENDDB_STATIC_TARGET_DIR (default target/static), the
# cargo target directory of this build, kept apart from the usual one
# because the flags differ.
#
# Why glibc with crt-static rather than musl: the toolchain and the C
# compiler every Rust builder image and CI machine already has build it
# (glibc's libc.a ships with libc6-dev; musl needs its own rustup target
# and a musl C compiler for SQLite, ring and mimalloc), and openddb's
# allocator is mimalloc, so musl's slow malloc would not have been in play
# anyway. What a static glibc cannot do is load NSS modules: numeric
# addresses and /etc/hosts names resolve, which is all the image uses.
#
# getrandom_backend="linux_getrandom": the getrandom crate otherwise looks
# the getrandom(2) wrapper up with dlsym, which finds nothing in a static
# glibc executable, and falls back to reading /dev/urandom; with it the
# random bytes come from the system call, so the binary needs no /dev.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 ROOTFS" >&2
    exit 2
fi
rootfs=$1
cd "$(dirname "$0")/../.."

# The image's layout; scripts/container-check.sh checks the Dockerfile
# against these.
readonly BIN=/usr/local/bin/openddb
readonly HOME_DIR=/home/dynamodblocal
readonly DATA_DIR=$HOME_DIR/data
readonly RUN_UID=1000
readonly RUN_GID=1000

target_dir=${OPENDDB_STATIC_TARGET_DIR:-target/static}
triple="$(uname -m)-unknown-linux-gnu"

# Without --target, RUSTFLAGS would apply to build scripts and proc macros
# too, which cannot be static. No debug info: the image is meant to be
# small; symbol names stay, so a backtrace still names functions.
unset CARGO_ENCODED_RUSTFLAGS
CARGO_INCREMENTAL=0 \
    CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    RUSTFLAGS='-C target-feature=+crt-static --cfg getrandom_backend="linux_getrandom"' \
    cargo build --locked --release --target "$triple" -p openddb --bin openddb \
    --target-dir "$target_dir"
binary="$target_dir/$triple/release/openddb"

# A dynamic executable would fail in the image with "no such file or
# directory" (its loader is missing); refuse it here instead.
if readelf --program-headers "$binary" | grep -q INTERP; then
    echo "$binary is dynamically linked (it has a program interpreter)" >&2
    exit 1
fi

case "$(realpath -m "$rootfs")" in
/ | "$(realpath .)") echo "refusing to lay the image out in $rootfs" >&2; exit 2 ;;
esac
rm -rf "$rootfs"
install -d -m 0755 "$rootfs" "$rootfs/usr" "$rootfs/usr/local" "$rootfs/usr/local/bin" "$rootfs/home"
install -m 0755 "$binary" "$rootfs$BIN"
# SQLite's temporary files (VACUUM for --optimize-db-before-startup, big
# sorts) go to /tmp.
install -d -m 1777 "$rootfs/tmp"
# The working directory and the data directory belong to the user the
# server runs as: a named volume mounted on the data directory starts with
# this ownership, so the server can write it.
install -d -m 0755 -o "$RUN_UID" -g "$RUN_GID" "$rootfs$HOME_DIR" "$rootfs$DATA_DIR"
echo "static openddb laid out in $rootfs ($(du -h "$rootfs$BIN" | cut -f1) binary)"
