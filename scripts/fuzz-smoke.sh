#!/usr/bin/env bash
# Short fuzzing run of every target in fuzz/: builds them (release with
# AddressSanitizer) and runs each for FUZZ_SECONDS (default 60) with inputs
# up to 8 KB, twice DynamoDB's 4 KB expression limit, so every target can
# reach the limits. Exits non-zero on the first crash, panic, sanitizer
# report, leak or timeout; prints executions and coverage per target.
#
# Needs cargo-fuzz (installed here if missing) and a nightly compiler:
# `cargo +nightly` when a nightly toolchain is installed, otherwise the
# stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags).
set -euo pipefail

seconds="${FUZZ_SECONDS:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    toolchain="$(rustc +nightly --version)"
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    toolchain="$(rustc --version) with RUSTC_BOOTSTRAP=1"
fi
echo "toolchain: $toolchain; $(cargo fuzz --version); ${seconds}s per target, -max_len=8192"

"${fuzz[@]}" build
targets=$("${fuzz[@]}" list)

logs="$(mktemp -d)"
failed=()
printf '%-24s %12s %8s %8s %s\n' target executions cov ft result
for t in $targets; do
    log="$logs/$t.log"
    # A dictionary of the grammar's tokens, for the targets that read text.
    case "$t" in
        condition_expression | update_expression | projection_expression) dict=(-dict=dicts/expression.dict) ;;
        partiql) dict=(-dict=dicts/partiql.dict) ;;
        *) dict=() ;;
    esac
    if "${fuzz[@]}" run "$t" -- -max_len=8192 -max_total_time="$seconds" "${dict[@]}" >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        failed+=("$t")
    fi
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || true)
    stats=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$stats")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$stats")
    printf '%-24s %12s %8s %8s %s\n' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done

if ((${#failed[@]})); then
    for t in "${failed[@]}"; do
        echo "--- $t (log $logs/$t.log; inputs in fuzz/artifacts/$t/)"
        tail -40 "$logs/$t.log"
    done
    exit 1
fi
rm -rf "$logs"
