#!/usr/bin/env bash
# Side-by-side benchmark of openddb against DynamoDB Local and Dynoxide.
#
# Starts every server on its own loopback port, in like-for-like groups,
# runs target/release/openddb-bench on each group with the servers' PIDs (for
# server CPU per operation), stops the processes it started (by PID only),
# then measures start-up time and idle memory.
#
#   durable group: openddb --data-dir DIR | dynoxide --db-path FILE | DynamoDB Local -dbPath DIR
#   memory group:  openddb --in-memory    | dynoxide (in memory)    | DynamoDB Local -inMemory
#   reads-durable, reads-memory: the same servers, fresh, running the read
#   workloads (READ_WORKLOADS: 100-item Query, GSI Query, whole-table Scan)
#   writes-durable, writes-memory: the same servers, fresh, running the
#   multi-item writes (WORKLOADS_W: BatchWriteItem of 25 puts,
#   TransactWriteItems of 4 actions) on the ITEMS-item table
#   streams-durable, streams-memory: the same servers, fresh, running
#   WORKLOADS_S: put and update on the ITEMS-item table and on its twin with
#   a NEW_AND_OLD_IMAGES stream (the cost of streams), and GetRecords along
#   the stream of a table that took STREAM_RECORDS puts; a server without
#   streams has those cells reported as unsupported
#   partiql-durable, partiql-memory: the same servers, fresh, running
#   WORKLOADS_P: GetItem, PutItem (at random and at new keys) and UpdateItem
#   next to the same requests as PartiQL statements (ExecuteStatement) on
#   the ITEMS-item table (the cost of PartiQL); a server that does not answer a statement as expected
#   has that workload's cells reported as unsupported
#
# Usage: bench/run.sh            (build first: cargo build --release -p openddb -p openddb-bench)
#        BENCH_GROUPS=writes STARTUP=0 bench/run.sh   (only the multi-item write groups)
#        BENCH_GROUPS=streams STARTUP=0 bench/run.sh  (only the streams groups)
#        BENCH_GROUPS=partiql STARTUP=0 bench/run.sh  (only the PartiQL groups)
# Environment (defaults in brackets):
#   DDBLOCAL_START  script starting DynamoDB Local: PORT [-inMemory|-dbPath DIR] [/work/peers/start-ddblocal.sh]
#   DYNOXIDE        Dynoxide binary                                             [/work/peers/dynoxide/bin/dynoxide]
#   OPENDDB         openddb binary                                              [target/release/openddb]
#   BENCH           load generator                                              [target/release/openddb-bench]
#   PEERS           peers to include, comma-separated: dynoxide,ddblocal        [dynoxide,ddblocal]
#   BENCH_GROUPS    groups to run: durable, memory, reads-durable, reads-memory,
#                   writes-durable, writes-memory, streams-durable, streams-memory,
#                   partiql-durable, partiql-memory; `reads` stands for
#                   reads-durable,reads-memory, `writes` for
#                   writes-durable,writes-memory, `streams` for
#                   streams-durable,streams-memory, `partiql` for
#                   partiql-durable,partiql-memory                              [durable,memory]
#   WORKLOADS       [put,get,update,cond-put]   CONCURRENCY [1,32]   DURATION [10s]
#   WARMUP          [2s]                        ITEMS       [10000]
#   READ_WORKLOADS  workloads of the reads groups                               [query-100,gsi-query,scan]
#   WORKLOADS_W     workloads of the writes groups                              [batch-write-25,transact-write-4]
#   WORKLOADS_S     workloads of the streams groups    [put,put-streamed,update,update-streamed,get-records]
#   STREAM_RECORDS  puts made to the get-records table after its stream was enabled [20000]
#   WORKLOADS_P     workloads of the PartiQL groups (pq-query-100 also loads the
#                   Query table)     [get,pq-select,put,put-fresh,pq-insert,update,pq-update]
#   QUERY_PARTITIONS [4] (of 10 000 items)      GSI_ITEMS   [100000]  SCAN_ITEMS [1000000]
#   SCAN_LIMIT      longest a scan may run before it is reported as partial     [600s]
#   LOAD_WITH       auto (BatchWriteItem where implemented, else PutItem), put or batch [auto]
#   LOAD_CONCURRENCY PutItem requests in flight when loading                    [64]
#   STARTUP         1 to measure start-up / idle RSS, 0 to skip                 [1]
#   STARTUP_REPEAT  [10]
#   BASE_PORT       first of the loopback ports used (36 consecutive ports)     [18100]
#   DATA_ROOT       where the servers' data directories are created             [/tmp]
#   OUT             directory for logs and results                              [/tmp/openddb-bench-DATE]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OPENDDB=${OPENDDB:-$ROOT/target/release/openddb}
BENCH=${BENCH:-$ROOT/target/release/openddb-bench}
DDBLOCAL_START=${DDBLOCAL_START:-/work/peers/start-ddblocal.sh}
DYNOXIDE=${DYNOXIDE:-/work/peers/dynoxide/bin/dynoxide}
PEERS=${PEERS:-dynoxide,ddblocal}
GROUPS_TO_RUN=${BENCH_GROUPS:-durable,memory}
WORKLOADS=${WORKLOADS:-put,get,update,cond-put}
READ_WORKLOADS=${READ_WORKLOADS:-query-100,gsi-query,scan}
WORKLOADS_W=${WORKLOADS_W:-batch-write-25,transact-write-4}
WORKLOADS_S=${WORKLOADS_S:-put,put-streamed,update,update-streamed,get-records}
WORKLOADS_P=${WORKLOADS_P:-get,pq-select,put,put-fresh,pq-insert,update,pq-update}
STREAM_RECORDS=${STREAM_RECORDS:-20000}
QUERY_PARTITIONS=${QUERY_PARTITIONS:-4}
GSI_ITEMS=${GSI_ITEMS:-100000}
SCAN_ITEMS=${SCAN_ITEMS:-1000000}
SCAN_LIMIT=${SCAN_LIMIT:-600s}
LOAD_WITH=${LOAD_WITH:-auto}
LOAD_CONCURRENCY=${LOAD_CONCURRENCY:-64}
CONCURRENCY=${CONCURRENCY:-1,32}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ITEMS=${ITEMS:-10000}
STARTUP=${STARTUP:-1}
STARTUP_REPEAT=${STARTUP_REPEAT:-10}
BASE_PORT=${BASE_PORT:-18100}
DATA_ROOT=${DATA_ROOT:-/tmp}
OUT=${OUT:-/tmp/openddb-bench-$(date +%Y%m%d-%H%M%S)}

die() { echo "bench/run.sh: $*" >&2; exit 1; }
has_peer() { [[ ",$PEERS," == *",$1,"* ]]; }
has_group() { [[ ",$GROUPS_TO_RUN," == *",$1,"* ]]; }

# `reads`, `writes`, `streams` and `partiql` stand for both groups of their kind;
# anything else must be a group name.
groups=()
IFS=, read -ra requested <<<"$GROUPS_TO_RUN"
for g in "${requested[@]}"; do
    case $g in
        reads) groups+=(reads-durable reads-memory) ;;
        writes) groups+=(writes-durable writes-memory) ;;
        streams) groups+=(streams-durable streams-memory) ;;
        partiql) groups+=(partiql-durable partiql-memory) ;;
        durable | memory | reads-durable | reads-memory | writes-durable | writes-memory | streams-durable | streams-memory | partiql-durable | partiql-memory) groups+=("$g") ;;
        *) die "unknown group \`$g' in BENCH_GROUPS (durable, memory, reads-durable, reads-memory, reads, writes-durable, writes-memory, writes, streams-durable, streams-memory, streams, partiql-durable, partiql-memory, partiql)" ;;
    esac
done
GROUPS_TO_RUN=$(IFS=,; echo "${groups[*]}")

[[ -x $OPENDDB ]] || die "openddb binary not found at $OPENDDB (cargo build --release -p openddb, or set OPENDDB)"
[[ -x $BENCH ]] || die "load generator not found at $BENCH (cargo build --release -p openddb-bench, or set BENCH)"
if has_peer dynoxide; then
    [[ -x $DYNOXIDE ]] || die "Dynoxide not found at $DYNOXIDE: install it (docs/conformance.md section 4) and set DYNOXIDE, or drop it with PEERS=ddblocal"
fi
if has_peer ddblocal; then
    [[ -x $DDBLOCAL_START ]] || die "DynamoDB Local start script not found at $DDBLOCAL_START: install it (docs/conformance.md section 3) and set DDBLOCAL_START, or drop it with PEERS=dynoxide"
    command -v java >/dev/null || die "java not found (DynamoDB Local needs Java 17)"
fi
command -v curl >/dev/null || die "curl is needed to wait for the servers"

mkdir -p "$OUT"
mkdir -p "$DATA_ROOT"
DATA=$(mktemp -d "$DATA_ROOT/openddb-bench-data.XXXXXX")
STARTED=()   # PIDs of the servers this script started

stop_pid() {
    local pid=$1
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    STARTED=()
    rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until the server on PORT answers ListTables with 200.
wait_ready() {
    local name=$1 port=$2 pid=$3 code
    for _ in $(seq 1200); do
        kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited; see $OUT/$name.log"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST "http://127.0.0.1:$port/" \
            -H 'Content-Type: application/x-amz-json-1.0' \
            -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
            -H 'X-Amz-Date: 20260101T000000Z' \
            -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' \
            -d '{}' || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    die "$name did not answer on port $port within 120 s; see $OUT/$name.log"
}

# start NAME PORT COMMAND...: starts a server in the background, records its
# PID in STARTED and in LAST_PID, and waits until it answers.
start() {
    local name=$1 port=$2
    shift 2
    "$@" >"$OUT/$name.log" 2>&1 &
    local pid=$!
    STARTED+=("$pid")
    LAST_PID=$pid
    wait_ready "$name" "$port" "$pid"
    echo "bench/run.sh: $name ready on 127.0.0.1:$port (pid $pid)" >&2
}

stop_all() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    STARTED=()
}

bench() {
    local group=$1
    shift
    echo "bench/run.sh: running the $group group" >&2
    local workloads=$WORKLOADS
    [[ $group == reads-* ]] && workloads=$READ_WORKLOADS
    [[ $group == writes-* ]] && workloads=$WORKLOADS_W
    [[ $group == streams-* ]] && workloads=$WORKLOADS_S
    [[ $group == partiql-* ]] && workloads=$WORKLOADS_P
    "$BENCH" "$@" --workloads "$workloads" --concurrency "$CONCURRENCY" \
        --duration "$DURATION" --warmup "$WARMUP" --items "$ITEMS" \
        --query-partitions "$QUERY_PARTITIONS" --gsi-items "$GSI_ITEMS" \
        --scan-items "$SCAN_ITEMS" --scan-limit "$SCAN_LIMIT" \
        --stream-records "$STREAM_RECORDS" \
        --load-with "$LOAD_WITH" --load-concurrency "$LOAD_CONCURRENCY" \
        --markdown-file "$OUT/$group.md" 2>&1 | tee "$OUT/$group.txt"
}

# run_group GROUP OFFSET DURABLE: starts openddb and the peers on ports
# BASE_PORT+OFFSET.., on disk (DURABLE=1) or in memory, runs the group and
# stops them.
run_group() {
    local group=$1 p=$((BASE_PORT + $2)) durable=$3 suffix
    local args=()
    if [[ $durable == 1 ]]; then
        suffix=${group%durable}
        mkdir -p "$DATA/$group"
        start "${suffix}openddb-durable" $p "$OPENDDB" --host 127.0.0.1 --port $p --data-dir "$DATA/$group/openddb"
        args+=(--target "openddb-durable=http://127.0.0.1:$p@$LAST_PID")
        if has_peer dynoxide; then
            start "${suffix}dynoxide-file" $((p + 1)) "$DYNOXIDE" --host 127.0.0.1 --port $((p + 1)) --db-path "$DATA/$group/dynoxide.db"
            args+=(--target "dynoxide-file=http://127.0.0.1:$((p + 1))@$LAST_PID")
        fi
        if has_peer ddblocal; then
            start "${suffix}ddblocal-disk" $((p + 2)) "$DDBLOCAL_START" $((p + 2)) -dbPath "$DATA/$group/ddblocal"
            args+=(--target "ddblocal-disk=http://127.0.0.1:$((p + 2))@$LAST_PID")
        fi
    else
        suffix=${group%memory}
        start "${suffix}openddb-memory" $p "$OPENDDB" --host 127.0.0.1 --port $p --in-memory
        args+=(--target "openddb-memory=http://127.0.0.1:$p@$LAST_PID")
        if has_peer dynoxide; then
            start "${suffix}dynoxide-memory" $((p + 1)) "$DYNOXIDE" --host 127.0.0.1 --port $((p + 1))
            args+=(--target "dynoxide-memory=http://127.0.0.1:$((p + 1))@$LAST_PID")
        fi
        if has_peer ddblocal; then
            start "${suffix}ddblocal-memory" $((p + 2)) "$DDBLOCAL_START" $((p + 2)) -inMemory
            args+=(--target "ddblocal-memory=http://127.0.0.1:$((p + 2))@$LAST_PID")
        fi
    fi
    bench "$group" "${args[@]}"
    stop_all
}

echo "bench/run.sh: results and logs in $OUT" >&2
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) cores"
    echo "openddb: $OPENDDB"
    echo "settings: BENCH_GROUPS=$GROUPS_TO_RUN WORKLOADS=$WORKLOADS CONCURRENCY=$CONCURRENCY DURATION=$DURATION WARMUP=$WARMUP ITEMS=$ITEMS"
    echo "reads: READ_WORKLOADS=$READ_WORKLOADS QUERY_PARTITIONS=$QUERY_PARTITIONS GSI_ITEMS=$GSI_ITEMS SCAN_ITEMS=$SCAN_ITEMS SCAN_LIMIT=$SCAN_LIMIT LOAD_WITH=$LOAD_WITH LOAD_CONCURRENCY=$LOAD_CONCURRENCY"
    echo "writes: WORKLOADS_W=$WORKLOADS_W (on the ITEMS-item table)"
    echo "streams: WORKLOADS_S=$WORKLOADS_S STREAM_RECORDS=$STREAM_RECORDS"
    echo "partiql: WORKLOADS_P=$WORKLOADS_P (on the ITEMS-item table; pq-query-100 on the reads groups' Query table)"
} >"$OUT/settings.txt"

P=$BASE_PORT
if has_group durable; then run_group durable 0 1; fi
if has_group memory; then run_group memory 3 0; fi
if has_group reads-durable; then run_group reads-durable 12 1; fi
if has_group reads-memory; then run_group reads-memory 15 0; fi
if has_group writes-durable; then run_group writes-durable 18 1; fi
if has_group writes-memory; then run_group writes-memory 21 0; fi
if has_group streams-durable; then run_group streams-durable 24 1; fi
if has_group streams-memory; then run_group streams-memory 27 0; fi
if has_group partiql-durable; then run_group partiql-durable 30 1; fi
if has_group partiql-memory; then run_group partiql-memory 33 0; fi

if [[ $STARTUP == 1 ]]; then
    echo "bench/run.sh: measuring start-up and idle memory" >&2
    su() {
        local name=$1 port=$2
        shift 2
        "$BENCH" startup --name "$name" --url "http://127.0.0.1:$port" --repeat "$STARTUP_REPEAT" --markdown -- "$@"
    }
    {
        echo "| server | start-up median ms | min ms | max ms | idle RSS MiB |"
        echo "|---|---:|---:|---:|---:|"
        su openddb-memory $((P + 6)) "$OPENDDB" --host 127.0.0.1 --port $((P + 6)) --in-memory
        mkdir -p "$DATA/openddb-startup"
        su openddb-durable $((P + 7)) "$OPENDDB" --host 127.0.0.1 --port $((P + 7)) --data-dir "$DATA/openddb-startup"
        if has_peer dynoxide; then
            su dynoxide-memory $((P + 8)) "$DYNOXIDE" --host 127.0.0.1 --port $((P + 8))
            su dynoxide-file $((P + 10)) "$DYNOXIDE" --host 127.0.0.1 --port $((P + 10)) --db-path "$DATA/dynoxide-startup.db"
        fi
        if has_peer ddblocal; then
            su ddblocal-memory $((P + 9)) "$DDBLOCAL_START" $((P + 9)) -inMemory
        fi
    } | tee "$OUT/startup.md"
fi
echo "bench/run.sh: done; results in $OUT" >&2
