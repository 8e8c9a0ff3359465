#!/usr/bin/env bash
# Packs the npm packages of one build, without publishing anything:
#   packaging/npm/build.sh <openddb binary> <outdir>
# writes to <outdir> the launcher's tarball (openddb-VERSION.tgz) and the
# tarball of one platform package (openddb-PLATFORM-VERSION.tgz) holding the
# given binary. The platform is this machine's (node's platform-arch) unless
# OPENDDB_NPM_PLATFORM names another (linux-x64, linux-arm64, darwin-x64,
# darwin-arm64, win32-x64), for a binary built for it. VERSION is the
# workspace's ([workspace.package] version in Cargo.toml).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <openddb binary> <outdir>" >&2
    exit 2
fi
binary=$1
outdir=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [[ ! -f $binary ]]; then
    echo "$0: no binary at $binary" >&2
    exit 1
fi
version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml")
if [[ -z $version ]]; then
    echo "$0: no [workspace.package] version in $root/Cargo.toml" >&2
    exit 1
fi
platform=${OPENDDB_NPM_PLATFORM:-$(node -p 'process.platform + "-" + process.arch')}
exe=openddb
[[ $platform == win32-* ]] && exe=openddb.exe

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The launcher: its sources, with the version and the optional dependencies
# on every platform package stamped in.
cp -R "$here/openddb" "$stage/launcher"
node "$here/stamp.js" launcher "$stage/launcher" "$version"

# This platform's package: the binary and a package.json with os/cpu.
mkdir -p "$stage/platform/bin"
cp "$binary" "$stage/platform/bin/$exe"
chmod 755 "$stage/platform/bin/$exe"
# The release profile keeps line tables for backtraces (debug = 1): six
# times the size. Users download the binary; strip the copy when this
# machine's strip understands it (OPENDDB_NPM_STRIP=0 keeps it as given).
host=$(node -p 'process.platform + "-" + process.arch')
if [[ ${OPENDDB_NPM_STRIP:-1} == 1 && $platform == "$host" && $platform != win32-* ]] && command -v strip >/dev/null; then
    strip "$stage/platform/bin/$exe"
fi
node "$here/stamp.js" platform "$stage/platform" "$platform" "$version"

for dir in launcher platform; do
    (cd "$stage/$dir" && npm pack --silent --pack-destination "$outdir" >/dev/null)
done
echo "packed into $outdir (version $version, platform $platform):"
ls -l "$outdir/openddb-$version.tgz" "$outdir/openddb-$platform-$version.tgz"
