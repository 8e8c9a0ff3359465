#!/usr/bin/env bash
# Builds every package openddb ships and installs each into a scratch
# project, the way a user would, without publishing anything (first it
# checks that the recipes in docs/recipes show the example files unchanged):
#   1. `cargo install --path crates/openddb` (the release binary every other
#      step packs);
#   2. the npm tarballs (packaging/npm/build.sh), installed with
#      @aws-sdk/client-dynamodb and vitest: a smoke test
#      (packaging/examples/node) and a vitest global-setup suite
#      (packaging/examples/vitest);
#   3. the wheel (maturin, packaging/python), installed in a venv with boto3
#      and pytest: a smoke test (packaging/examples/python) and a pytest run
#      on the plugin's fixtures (packaging/examples/pytest);
#   4. `cargo package` of every publishable crate, verified: each .crate
#      builds on its own, its path dependencies taken from the others.
# Needs cargo, node + npm, python3 (with venv) and the npm and PyPI
# registries. Exits non-zero on the first failure.
#
# Environment: CARGO_TARGET_DIR (default ./target; maturin shares it),
# PACKAGES_TEST_DIR (scratch directory, kept; default a new temporary one,
# removed at the end unless KEEP=1), CARGO_PACKAGE=0 skips step 4.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

# Only a directory this script made is removed at the end.
if [[ -n ${PACKAGES_TEST_DIR:-} ]]; then
    work=$PACKAGES_TEST_DIR
    mkdir -p "$work"
    made_work=0
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/openddb-packages.XXXXXX")
    made_work=1
fi
work=$(cd "$work" && pwd)
cleanup() {
    if [[ $made_work == 1 && ${KEEP:-0} != 1 ]]; then
        rm -rf "$work"
    else
        echo "scratch files left in $work"
    fi
}
trap cleanup EXIT

started=$SECONDS
step_started=$SECONDS
step() {
    echo
    echo "== $* ($((SECONDS - started)) s so far)"
    step_started=$SECONDS
}
done_step() {
    echo "-- done in $((SECONDS - step_started)) s"
}

# What the scratch projects install from the registries, pinned so a new
# release elsewhere cannot change the result (raise them deliberately).
aws_sdk_js=3.1178.0
vitest=3.2.7
maturin=1.16.0
boto3=1.44.18
pytest=9.2.0

version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
echo "openddb $version; scratch directory $work; CARGO_TARGET_DIR $CARGO_TARGET_DIR"

# ---------------------------------------------------------------------------
step "docs: the recipes show the examples this script runs, unchanged"
# A fenced block after `<!-- example: PATH -->` must be PATH's content.
python3 - docs/recipes/*.md <<'PY'
import pathlib, re, sys
checked = 0
for doc in sys.argv[1:]:
    text = pathlib.Path(doc).read_text()
    for m in re.finditer(r"<!-- example: (\S+) -->\n```[a-z]*\n(.*?)```\n", text, re.S):
        checked += 1
        if pathlib.Path(m.group(1)).read_text() != m.group(2):
            sys.exit(f"{doc}: the block for {m.group(1)} differs from the file; copy the file into it")
    if text.count("<!-- example:") != len(re.findall(r"<!-- example: \S+ -->\n```", text)):
        sys.exit(f"{doc}: an example marker is not followed by a code block")
print(f"{checked} example blocks match their files")
PY
done_step

# ---------------------------------------------------------------------------
step "cargo install --path crates/openddb (release)"
cargo install --locked --path crates/openddb --root "$work/cargo" --force
binary=$work/cargo/bin/openddb
installed=$("$binary" --version)
[[ $installed == "openddb $version" ]] || { echo "cargo install gave '$installed'" >&2; exit 1; }
done_step

# ---------------------------------------------------------------------------
step "npm: pack the launcher and this platform's package"
packaging/npm/build.sh "$binary" "$work/npm-dist"
done_step

step "npm: install into a scratch project (with @aws-sdk/client-dynamodb, vitest)"
node_project=$work/node-project
mkdir -p "$node_project"
cp packaging/examples/node/smoke.mjs "$node_project/"
cp -R packaging/examples/vitest "$node_project/vitest"
cat >"$node_project/package.json" <<'EOF'
{ "name": "openddb-packages-test", "private": true, "type": "module" }
EOF
platform=$(node -p 'process.platform + "-" + process.arch')
(
    cd "$node_project"
    # The platform package is named explicitly: it is not on the registry,
    # so the launcher's optional dependency on it is met by this tarball
    # (and the other platforms', absent from the registry, are skipped).
    npm install --no-audit --no-fund --loglevel=error \
        "$work/npm-dist/openddb-$version.tgz" \
        "$work/npm-dist/openddb-$platform-$version.tgz" \
        "@aws-sdk/client-dynamodb@$aws_sdk_js" "vitest@$vitest"
)
done_step

step "npm: the openddb command (arguments, signals, exit status)"
(
    cd "$node_project"
    shimmed=$(node_modules/.bin/openddb --version)
    [[ $shimmed == "openddb $version" ]] || { echo "node_modules/.bin/openddb --version gave '$shimmed'" >&2; exit 1; }
    echo "node_modules/.bin/openddb --version: $shimmed"
    # A server through the launcher: ready, healthy, and stopped by a
    # SIGTERM sent to the launcher (which passes it on): exit status 0.
    node_modules/.bin/openddb --port 0 --in-memory 2>"$work/launcher.log" &
    launcher=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^openddb listening on .*:\([0-9]*\)$/\1/p' "$work/launcher.log")
        [[ -n $port ]] && break
        sleep 0.1
    done
    [[ -n $port ]] || { cat "$work/launcher.log" >&2; kill "$launcher"; exit 1; }
    node_modules/.bin/openddb health --port "$port"
    kill -TERM "$launcher"
    status=0
    wait "$launcher" || status=$?
    [[ $status == 0 ]] || { echo "the launcher exited $status after SIGTERM" >&2; cat "$work/launcher.log" >&2; exit 1; }
    echo "launcher: served on port $port, healthy, exit status 0 after SIGTERM"
)
done_step

step "npm: the smoke test (packaging/examples/node)"
(cd "$node_project" && node smoke.mjs)
done_step

step "npm: vitest with a global setup (packaging/examples/vitest)"
(cd "$node_project/vitest" && ../node_modules/.bin/vitest run)
done_step

# ---------------------------------------------------------------------------
step "PyPI: build the wheel with maturin"
python3 -m venv "$work/build-venv"
"$work/build-venv/bin/pip" install --quiet --disable-pip-version-check "maturin==$maturin"
(
    cd packaging/python
    "$work/build-venv/bin/maturin" build --release --locked --out "$work/wheels"
)
wheel=$(ls "$work"/wheels/openddb-"$version"-*.whl)
echo "built $wheel"
done_step

step "PyPI: install the wheel into a scratch venv (with boto3, pytest)"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" "boto3==$boto3" "pytest==$pytest"
done_step

step "PyPI: the smoke test (packaging/examples/python)"
for command in "$work/venv/bin/openddb --version" "$work/venv/bin/python -m openddb --version"; do
    said=$($command)
    [[ $said == "openddb $version" ]] || { echo "$command gave '$said'" >&2; exit 1; }
    echo "$command: $said"
done
"$work/venv/bin/python" packaging/examples/python/smoke.py
done_step

step "PyPI: pytest with the plugin's fixtures (packaging/examples/pytest)"
(
    cd "$work"
    "$work/venv/bin/python" -m pytest -p no:cacheprovider -v "$root/packaging/examples/pytest"
)
done_step

# ---------------------------------------------------------------------------
if [[ ${CARGO_PACKAGE:-1} != 0 ]]; then
    step "cargo package: every publishable crate, each built from its .crate"
    # The publishable set is read from the manifests (publish = false
    # excludes a crate), so a new crate cannot be forgotten here.
    publishable=$(cargo metadata --no-deps --format-version 1 --locked |
        python3 -c 'import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["publish"] != []:
        print("-p", p["name"])')
    # --allow-dirty: packs the working tree as it is (CI's is clean). The
    # verification builds each .crate with the default dev profile (packaged
    # manifests have no [profile]), so its artifacts are shared with nothing
    # else: without debug info they take half the disk.
    # shellcheck disable=SC2086
    CARGO_PROFILE_DEV_DEBUG=false cargo package --locked --allow-dirty $publishable
    done_step
fi

echo
echo "packages test: passed in $((SECONDS - started)) s"
