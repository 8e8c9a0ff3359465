#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: installs what the tests need
# that this machine lacks (scripts/test-setup.sh, when present), runs every
# test of the workspace, then a short fuzzing run of every fuzz target
# (scripts/fuzz-smoke.sh: FUZZ_SECONDS per target, default 60; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -x scripts/test-setup.sh ]]; then
    scripts/test-setup.sh
fi
cargo test --workspace
if [[ "${FUZZ_SECONDS:-60}" != 0 ]]; then
    scripts/fuzz-smoke.sh
fi
