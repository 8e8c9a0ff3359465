#!/usr/bin/env bash
# Runs real projects' test suites against a local DynamoDB — openddb or
# DynamoDB Local — the way each project runs them, and prints pass/fail
# counts, wall times and the server's peak memory. Results: docs/real-suites.md.
#
#   ElectroDB (github.com/tywalch/electrodb): its CI runs `npm test`, i.e.
#     docker compose (DynamoDB Local `-jar DynamoDBLocal.jar -inMemory`) and
#     `npm run test:run` = test:types (tsd, no server), test:init (creates the
#     tables), test:unit (mocha over test/*.spec.*), with
#     LOCAL_DYNAMO_ENDPOINT, AWS_REGION=us-east-1 and the key pair test/test.
#     Here: the same steps against the server started below. One difference:
#     test/init.js stops at the first table the server refuses while the
#     other CreateTable calls are in flight; lib/init-continue.cjs lets them
#     finish (the refusal is still reported and counted).
#   dynamodb-toolbox (github.com/dynamodb-toolbox/dynamodb-toolbox): its CI
#     runs `npm test`, whose only test step is `vitest run` over
#     src/**/*.unit.test.ts. Those tests mock the AWS SDK client
#     (aws-sdk-client-mock) and never reach a server: run here with
#     AWS_ENDPOINT_URL_DYNAMODB pointing at the server, for completeness.
#
# Usage:
#   bench/suites/run.sh --electrodb DIR [--toolbox DIR] [--server openddb|ddbl]
#                       [--openddb BIN] [--openddb-style ddbl|native] [--ddbl DIR]
#                       [--types] [--install] [--server-arg ARG]... [--out DIR]
#
#   --server      openddb (default) or ddbl (DynamoDB Local, for a baseline)
#   --openddb     the openddb binary [target/release/openddb]
#   --openddb-style  how openddb is started: ddbl (default), with DynamoDB
#                 Local's own command line as ElectroDB's compose file gives it,
#                 `BIN -jar DynamoDBLocal.jar -inMemory -port 0 --host 127.0.0.1`
#                 (one database per access key id and region, as there); or
#                 native, `BIN --port 0 --in-memory` (one per account). Both
#                 add `--log-level warn` and --server-arg
#   --ddbl        directory with DynamoDBLocal.jar and DynamoDBLocal_lib; started
#                 as `java -Djava.library.path=DIR/DynamoDBLocal_lib -jar
#                 DIR/DynamoDBLocal.jar -port P -inMemory -disableTelemetry`
#                 plus --server-arg (ElectroDB's compose file uses -inMemory)
#   --electrodb   an ElectroDB checkout; --toolbox a dynamodb-toolbox checkout
#   --install     run `npm ci` in each checkout first (otherwise it must have
#                 node_modules already)
#   --types       also run ElectroDB's test:types step (tsd; no server involved)
#   --out         directory for logs and results [/tmp/openddb-suites-DATE]
#
# Known failures against openddb, with their category, are listed in
# bench/suites/known-failures.tsv; a failure not listed there is printed as
# NEW and makes the exit status 1. Nothing is downloaded but the projects'
# npm dependencies (with --install); every process started is stopped by PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$here/lib
known=$here/known-failures.tsv

server=openddb
openddb_bin=target/release/openddb
openddb_style=ddbl
ddbl_dir=""
electrodb=""
toolbox=""
types=0
install=0
server_args=()
out=/tmp/openddb-suites-$(date +%Y%m%d-%H%M%S)

while [ $# -gt 0 ]; do
    case $1 in
        --server) server=$2; shift 2 ;;
        --openddb) openddb_bin=$2; shift 2 ;;
        --openddb-style) openddb_style=$2; shift 2 ;;
        --ddbl) ddbl_dir=$2; shift 2 ;;
        --electrodb) electrodb=$2; shift 2 ;;
        --toolbox) toolbox=$2; shift 2 ;;
        --types) types=1; shift ;;
        --install) install=1; shift ;;
        --server-arg) server_args+=("$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -n "$electrodb$toolbox" ] || { echo "give --electrodb DIR and/or --toolbox DIR" >&2; exit 2; }
case $openddb_style in ddbl|native) ;; *) echo "--openddb-style is ddbl or native" >&2; exit 2 ;; esac
case $server in
    openddb) [ -x "$openddb_bin" ] || { echo "no openddb binary at $openddb_bin" >&2; exit 2; } ;;
    ddbl) [ -f "$ddbl_dir/DynamoDBLocal.jar" ] || { echo "--ddbl DIR must hold DynamoDBLocal.jar" >&2; exit 2; } ;;
    *) echo "--server is openddb or ddbl" >&2; exit 2 ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, b - a }'; }

server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop_server EXIT

# The server's peak resident memory (MiB) and CPU time (s) so far.
server_usage() {
    local rss cpu
    rss=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status" 2>/dev/null || echo "?")
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' \
        "/proc/$server_pid/stat" 2>/dev/null || echo "?")
    echo "server peak RSS $rss MiB, CPU $cpu s"
}

# Starts the server and sets server_pid, endpoint and ready_seconds.
start_server() {
    local log=$out/$server-$1.log started port
    started=$(now)
    if [ "$server" = openddb ]; then
        local args=(--port 0 --in-memory)
        [ "$openddb_style" = ddbl ] && args=(-jar DynamoDBLocal.jar -inMemory -port 0 --host 127.0.0.1)
        "$openddb_bin" "${args[@]}" --log-level warn "${server_args[@]}" >"$log" 2>&1 &
        server_pid=$!
        port=""
        for _ in $(seq 1 300); do
            port=$(sed -n 's/^openddb listening on .*:\([0-9][0-9]*\)$/\1/p' "$log" | head -1)
            [ -n "$port" ] && break
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.01
        done
    else
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        (cd "$ddbl_dir" && exec java "-Djava.library.path=$ddbl_dir/DynamoDBLocal_lib" -jar "$ddbl_dir/DynamoDBLocal.jar" \
            -port "$port" -inMemory -disableTelemetry "${server_args[@]}") >"$log" 2>&1 &
        server_pid=$!
        for _ in $(seq 1 600); do
            curl -s -o /dev/null "http://127.0.0.1:$port/" && break
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.05
        done
    fi
    if [ -z "$port" ] || ! curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "the server did not start; its log: $log" >&2
        cat "$log" >&2
        exit 1
    fi
    endpoint=http://127.0.0.1:$port
    ready_seconds=$(since "$started" 3)
}

status=0
report_failures() { # suite results.json
    node - "$1" "$2" "$known" "$server" <<'EOF'
const [suite, file, knownFile, server] = process.argv.slice(2);
const fs = require("fs");
const r = JSON.parse(fs.readFileSync(file, "utf8"));
const known = new Map();
for (const line of fs.readFileSync(knownFile, "utf8").split("\n")) {
  if (!line.trim() || line.startsWith("#")) continue;
  const [s, category, title] = line.split("\t");
  if (s === suite) known.set(title, category);
}
let unknown = 0;
for (const f of [...r.hooks, ...r.failures]) {
  const category = server === "openddb" ? known.get(f.title) : undefined;
  if (server === "openddb" && !category) unknown++;
  console.log(`  ${category ? "known (" + category + ")" : server === "openddb" ? "NEW" : "failed"}: ${f.title}\n      ${f.message}`);
}
process.exit(unknown || (server !== "openddb" && r.hooks.length + r.failures.length) ? 1 : 0);
EOF
}

if [ -n "$electrodb" ]; then
    electrodb=$(cd "$electrodb" && pwd)
    echo "== ElectroDB $(git -C "$electrodb" describe --tags --always 2>/dev/null) ($(git -C "$electrodb" rev-parse HEAD 2>/dev/null)) against $server"
    if [ $install = 1 ]; then (cd "$electrodb" && npm ci --no-audit --no-fund >"$out/electrodb-npm.log" 2>&1); fi
    if [ $types = 1 ]; then
        t=$(now)
        if (cd "$electrodb" && npx tsd >"$out/electrodb-types.log" 2>&1); then r=passed; else r=FAILED; status=1; fi
        echo "test:types (tsd): $r in $(since "$t") s"
    fi
    start_server electrodb
    echo "server ready in $ready_seconds s at $endpoint"
    export LOCAL_DYNAMO_ENDPOINT=$endpoint AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    t=$(now)
    if (cd "$electrodb" && node -r "$lib/init-continue.cjs" ./test/init.js >"$out/electrodb-init.log" 2>&1); then
        echo "test:init: every table created in $(since "$t") s"
    else
        echo "test:init: refused in $(since "$t") s (the other tables were created):"
        grep -E '^[A-Za-z]+Exception:' "$out/electrodb-init.log" | sed 's/^/  /' || true
        [ $server = openddb ] && ! grep -q "^electrodb	init	" "$known" && status=1
    fi
    t=$(now)
    (cd "$electrodb" && SUITE_RESULTS=$out/electrodb.json npm run --silent test:unit -- \
        --reporter "$lib/mocha-results.cjs" >"$out/electrodb-unit.log" 2>&1) || true
    unit_seconds=$(since "$t")
    server_usage
    stop_server
    unset LOCAL_DYNAMO_ENDPOINT
    if [ -f "$out/electrodb.json" ]; then
        node -e '
            const r = require(process.argv[1]);
            console.log(`test:unit (mocha): ${r.planned} tests: ${r.passed} passed, ${r.failed} failed, ` +
                `${r.pending} pending, ${r.notRun} not run (${r.hookFailures} failed hooks) in ${process.argv[2]} s ` +
                `(the tests themselves: ${r.seconds.toFixed(1)} s; the rest is loading and compiling the spec files with ts-node)`);
        ' "$out/electrodb.json" "$unit_seconds"
        report_failures electrodb "$out/electrodb.json" || status=1
    else
        echo "test:unit did not finish; see $out/electrodb-unit.log"
        status=1
    fi
fi

if [ -n "$toolbox" ]; then
    toolbox=$(cd "$toolbox" && pwd)
    echo "== dynamodb-toolbox $(git -C "$toolbox" describe --tags --always 2>/dev/null) ($(git -C "$toolbox" rev-parse HEAD 2>/dev/null)) against $server"
    if [ $install = 1 ]; then (cd "$toolbox" && npm ci --legacy-peer-deps --no-audit --no-fund >"$out/toolbox-npm.log" 2>&1); fi
    start_server toolbox
    echo "server ready in $ready_seconds s at $endpoint (the suite mocks the SDK client; nothing reaches it)"
    t=$(now)
    (cd "$toolbox" && AWS_ENDPOINT_URL_DYNAMODB=$endpoint AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        npx vitest run --reporter=json --outputFile="$out/toolbox.json" >"$out/toolbox-unit.log" 2>&1) || true
    unit_seconds=$(since "$t")
    server_usage
    stop_server
    if [ -f "$out/toolbox.json" ]; then
        node -e '
            const r = require(process.argv[1]);
            console.log(`vitest: ${r.numTotalTests} tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ` +
                `${r.numPendingTests + r.numTodoTests} skipped, in ${r.numTotalTestSuites} suites, in ${process.argv[2]} s`);
            for (const f of r.testResults) for (const a of f.assertionResults)
                if (a.status === "failed") console.log(`  failed: ${a.fullName}`);
            process.exit(r.numFailedTests ? 1 : 0);
        ' "$out/toolbox.json" "$unit_seconds" || status=1
    else
        echo "vitest did not finish; see $out/toolbox-unit.log"
        status=1
    fi
fi
echo "logs and results: $out"
exit $status
