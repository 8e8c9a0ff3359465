#!/usr/bin/env bash
# Soak of openddb (issue 12): `openddb-bench soak` starts the release build of
# openddb durable (data and log under DATA_ROOT, --ttl-sweep-interval 1) on
# 127.0.0.1:BASE_PORT, loads its table, runs the mixed load at saturation for
# DURATION after WARMUP, stops the server by its PID, and writes the report
# (markdown) to OUT/soak.md and the whole output to OUT/soak.txt. The exit
# status is non-zero when the verdict fails (memory or descriptors not flat,
# errors, a sequence number that went back, a lost increment, a server that
# died or logged errors). docs/benchmarks.md, "Soak (issue 12)", describes
# the mix and the verdict.
#
# Usage: bench/soak.sh      (build first: cargo build --release -p openddb -p openddb-bench)
#        DURATION=2m BASE_PORT=19200 bench/soak.sh
# Environment (defaults in brackets):
#   OPENDDB         openddb binary                     [target/release/openddb]
#   BENCH           load generator                     [target/release/openddb-bench]
#   DURATION [10m]  WARMUP [30s]  INTERVAL [30s]  CONCURRENCY [32]  STREAM_READERS [2]
#   KEYS            regular items, a multiple of 100   [10000]
#   BASE_PORT       the server's loopback port         [18140]
#   DATA_ROOT       where the server's directory goes  [/tmp]
#   OUT             report and output                  [/tmp/openddb-soak-DATE]
#   SOAK_ARGS       more options for `openddb-bench soak` (e.g. --keep-data)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OPENDDB=${OPENDDB:-$ROOT/target/release/openddb}
BENCH=${BENCH:-$ROOT/target/release/openddb-bench}
DURATION=${DURATION:-10m}
WARMUP=${WARMUP:-30s}
INTERVAL=${INTERVAL:-30s}
CONCURRENCY=${CONCURRENCY:-32}
STREAM_READERS=${STREAM_READERS:-2}
KEYS=${KEYS:-10000}
BASE_PORT=${BASE_PORT:-18140}
DATA_ROOT=${DATA_ROOT:-/tmp}
OUT=${OUT:-/tmp/openddb-soak-$(date +%Y%m%d-%H%M%S)}
SOAK_ARGS=${SOAK_ARGS:-}

die() { echo "bench/soak.sh: $*" >&2; exit 1; }
[[ -x $OPENDDB ]] || die "openddb binary not found at $OPENDDB (cargo build --release -p openddb, or set OPENDDB)"
[[ -x $BENCH ]] || die "load generator not found at $BENCH (cargo build --release -p openddb-bench, or set BENCH)"
mkdir -p "$OUT" "$DATA_ROOT"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cores"
    echo "openddb: $OPENDDB ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo "settings: DURATION=$DURATION WARMUP=$WARMUP INTERVAL=$INTERVAL CONCURRENCY=$CONCURRENCY STREAM_READERS=$STREAM_READERS KEYS=$KEYS BASE_PORT=$BASE_PORT SOAK_ARGS=$SOAK_ARGS"
} >"$OUT/settings.txt"
echo "bench/soak.sh: report in $OUT/soak.md" >&2
# shellcheck disable=SC2086 # SOAK_ARGS is a list of options
"$BENCH" soak --server "$OPENDDB" --port "$BASE_PORT" --data-root "$DATA_ROOT" \
    --duration "$DURATION" --warmup "$WARMUP" --interval "$INTERVAL" \
    --concurrency "$CONCURRENCY" --stream-readers "$STREAM_READERS" --keys "$KEYS" \
    --markdown-file "$OUT/soak.md" $SOAK_ARGS 2>&1 | tee "$OUT/soak.txt"
