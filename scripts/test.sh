#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs what the tests need
# that this machine lacks (scripts/test-setup.sh, when present), runs every
# test of the workspace, checks the container image's static binary the way
# the image runs it (scripts/container-check.sh: needs root, as CI has),
# builds the npm and PyPI packages and smoke-tests them in scratch projects
# (scripts/packages-test.sh), then a short fuzzing run of every fuzz target
# (scripts/fuzz-smoke.sh: FUZZ_SECONDS per target, default 60; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x scripts/test-setup.sh ]]; then
    scripts/test-setup.sh
fi
cargo test --workspace
scripts/container-check.sh
scripts/packages-test.sh
if [[ "${FUZZ_SECONDS:-60}" != 0 ]]; then
    scripts/fuzz-smoke.sh
fi
