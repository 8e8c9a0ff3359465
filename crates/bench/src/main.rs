//! `openddb-bench`: a closed-loop load generator that speaks DynamoDB's wire
//! protocol (AWS JSON 1.0 over HTTP/1.1) to compare openddb with other
//! DynamoDB-compatible servers on the same workloads, plus a `startup`
//! subcommand measuring time-to-first-answer and idle memory.
//!
//! ```text
//! openddb-bench --target openddb=http://127.0.0.1:8000@PID \
//!               --target dynoxide=http://127.0.0.1:8002@PID \
//!               --workloads put,get,update,cond-put --concurrency 1,32 \
//!               --duration 10s --items 10000 [--markdown]
//! openddb-bench --target ... --workloads query-100,gsi-query,scan \
//!               --query-partitions 4 --gsi-items 100000 --scan-items 1000000
//! openddb-bench --target ... --workloads batch-write-25,transact-write-4
//! openddb-bench --target ... \
//!               --workloads put,put-streamed,update,update-streamed,get-records \
//!               --stream-records 20000
//! openddb-bench --target ... \
//!               --workloads get,pq-select,put,put-fresh,pq-insert,update,pq-update
//! openddb-bench startup --name openddb --url http://127.0.0.1:8000 \
//!               -- target/release/openddb --port 8000 --in-memory
//! openddb-bench suite --name openddb --url http://127.0.0.1:8000 \
//!               [--tests 500 --parallel 1 --rounds 3 --record rounds.jsonl] \
//!               -- target/release/openddb --port 8000 --in-memory
//! openddb-bench suite-summary [--markdown] rounds.jsonl
//! openddb-bench tenants --root /var/tmp/tenants --tenants 1000000
//! openddb-bench soak --server target/release/openddb --port 19200 \
//!               --data-root /tmp [--duration 10m --concurrency 32]
//! openddb-bench --target sigv4=http://127.0.0.1:8000@PID --sign AKID:SECRET ...
//! openddb-bench sigv4 [--rounds 5 --iterations 200000]
//! ```
//!
//! Every worker owns one keep-alive connection and sends its next request
//! when the previous one is answered. Each target gets fresh tables for the
//! chosen workloads (see `dataset`), pre-loaded; every (workload,
//! concurrency) cell has a warm-up and a measured window, during which
//! latencies go into an HDR histogram and, when the server's PID is given,
//! its CPU time is read from `/proc/PID/stat`. The multi-item writes also
//! count what DynamoDB lets a server answer under load without it being an
//! error: items left in `UnprocessedItems` and transactions cancelled by
//! `TransactionConflict`. The `scan` workload instead
//! reads its whole table once, page by page, sampling the server's memory.
//! The streamed writes run on a twin of the single-item table with a
//! NEW_AND_OLD_IMAGES stream, and `get-records` reads a stream through the
//! Streams API on the same port; a target that has no streams has those
//! cells reported as unsupported. The PartiQL workloads send
//! `ExecuteStatement` statements asking what `get`, `put-fresh`, `update`
//! and `query-100` ask; a target that does not answer a probe statement as
//! expected has their cells reported as unsupported.
//! The `suite` subcommand (see `suite`) spawns a server and runs a
//! synthetic test suite against it the way a project's tests use DynamoDB
//! Local (a table created, used and deleted per test), timing it from the
//! spawn and reading the server's memory and CPU.
//! The `soak` subcommand (see `soak`) runs a mixed load of every kind of
//! request at saturation for minutes to hours against one server, and
//! judges whether its memory and descriptors stayed flat and whether any
//! answer was an error.
//! Only loopback targets are accepted, and all durations and counts are
//! bounded.

mod client;
mod dataset;
mod partiql;
mod procfs;
mod report;
mod run;
mod scan;
mod sigv4;
mod soak;
mod startup;
mod streams;
mod suite;
mod target;
mod tenants;
mod wire;
mod workload;
mod writes;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::dataset::{
    Dataset, LoadPlan, LoadReport, LoadWith, PrepareError, Shape, GSI_VALUES, WINDOW,
};
use crate::report::Report;
use crate::run::{CellResult, Plan};
use crate::scan::ScanResult;
use crate::target::{parse_target, parse_url, Target};
use crate::workload::Workload;

const MAX_DURATION: Duration = Duration::from_secs(600);
const MAX_ITEMS: u64 = 10_000_000;
const MAX_CONCURRENCY: usize = 1024;
const MAX_TARGETS: usize = 8;
const MAX_REPEAT: usize = 100;

#[derive(Parser)]
#[command(
    name = "openddb-bench",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Time from spawn to the first successful ListTables answer, and idle RSS.
    Startup(StartupArgs),
    /// A synthetic test suite the way a project's tests use DynamoDB Local
    /// (per test: CreateTable with a GSI, DescribeTable until ACTIVE, puts,
    /// a get, two queries, a conditional update, a batch write, a
    /// transaction, DeleteTable) against a server spawned for each round:
    /// wall time, per-test latency, start-up, memory and CPU (see `suite`).
    Suite(suite::SuiteArgs),
    /// Medians (min–max) of the rounds written by `suite --record`.
    SuiteSummary(suite::SummaryArgs),
    /// A mixed load at saturation for a long time (default 10 minutes):
    /// memory, file descriptors and data size over time with a verdict on
    /// whether memory stayed flat, latency per operation per interval, and
    /// errors by type (see `soak`).
    Soak(soak::SoakArgs),
    /// The CPU cost of verifying one SigV4 signature (µs per request, with
    /// the signing key cached and without), in-process.
    Sigv4(sigv4::Sigv4Args),
    /// Many accounts on one machine through the embedded API: disk per
    /// tenant, memory with 1,000 vs N tenants on disk, first-request
    /// latency of cold tenants, hot single-tenant throughput (see
    /// `tenants`).
    Tenants(tenants::TenantsArgs),
    /// A child process of `tenants` (creates a batch, or measures).
    #[command(hide = true)]
    TenantsWorker {
        #[command(subcommand)]
        command: tenants::WorkerCommand,
    },
}

/// Load-generation options.
#[derive(Args)]
struct LoadArgs {
    /// A server to load, `NAME=http://127.0.0.1:PORT[@PID]` (repeatable; the
    /// first one is the subject of the ratios). PID enables server CPU/op.
    #[arg(long = "target", value_parser = parse_target)]
    targets: Vec<Target>,
    /// Sign every request with this access key, `ACCESS_KEY_ID:SECRET`
    /// (region us-east-1), for servers that verify signatures (`openddb
    /// --auth sigv4`). Without it requests carry a fixed, well-formed
    /// signature that no verifying server accepts.
    #[arg(long, value_name = "ACCESS_KEY_ID:SECRET", value_parser = parse_signer)]
    sign: Option<std::sync::Arc<openddb_auth::sigv4::Signer>>,
    /// Comma-separated workloads: put, get, update, cond-put (single items),
    /// query-100, gsi-query (100-item queries), scan (whole table),
    /// batch-write-25 (BatchWriteItem of 25 puts), transact-write-4
    /// (TransactWriteItems of 2 puts, an update and a condition check),
    /// put-streamed, update-streamed (put and update on a table with a
    /// NEW_AND_OLD_IMAGES stream), get-records (GetRecords along a stream's
    /// shard iterators), put-fresh (put at a key never written before),
    /// pq-select, pq-insert, pq-update, pq-query-100 (ExecuteStatement: get,
    /// put-fresh, update and query-100 in PartiQL).
    #[arg(long, value_delimiter = ',', default_value = "put,get,update,cond-put")]
    workloads: Vec<Workload>,
    /// Comma-separated numbers of concurrent connections.
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    concurrency: Vec<usize>,
    /// Measured window per workload × concurrency × target (e.g. 10s, 500ms).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    duration: Duration,
    /// Unmeasured warm-up before each window (and, per target, before the
    /// first window: each workload once at the highest concurrency).
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    warmup: Duration,
    /// Key space, and number of items pre-loaded into each target, of the
    /// single-item workloads and the multi-item writes (at least 25 for
    /// batch-write-25).
    #[arg(long, default_value_t = 10_000)]
    items: u64,
    /// query-100: partitions of the Query table.
    #[arg(long, default_value_t = 4)]
    query_partitions: u64,
    /// query-100: items per partition of the Query table.
    #[arg(long, default_value_t = 10_000)]
    query_partition_items: u64,
    /// gsi-query: items of the GSI table (a multiple of 100, at least
    /// 10 000: 100 GSI partitions of at least 100 items).
    #[arg(long, default_value_t = 100_000)]
    gsi_items: u64,
    /// scan: items of the Scan table.
    #[arg(long, default_value_t = 1_000_000)]
    scan_items: u64,
    /// get-records: puts made to its table after the stream was enabled,
    /// over half as many keys (so half INSERT and half MODIFY records).
    #[arg(long, default_value_t = 20_000)]
    stream_records: u64,
    /// scan: give up (and report a partial scan) after this long.
    #[arg(long, value_parser = parse_duration, default_value = "600s")]
    scan_limit: Duration,
    /// How the read workloads' tables are loaded: auto (BatchWriteItem of
    /// 25 where the target implements it, else PutItem), put or batch. The
    /// table of the single-item workloads and multi-item writes, its
    /// streamed twin and the get-records table are always loaded with
    /// PutItem ×16.
    #[arg(long, default_value = "auto")]
    load_with: LoadWith,
    /// Requests in flight when loading a read workload's table with PutItem.
    #[arg(long, default_value_t = 64)]
    load_concurrency: usize,
    /// Requests in flight when loading with BatchWriteItem.
    #[arg(long, default_value_t = 4)]
    batch_load_concurrency: usize,
    /// Threads of the load generator's runtime (1 leaves the most CPU to
    /// the server on a small machine).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Print markdown tables instead of the plain report.
    #[arg(long)]
    markdown: bool,
    /// Also write the markdown tables to this file.
    #[arg(long)]
    markdown_file: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct StartupArgs {
    /// Label for the report.
    #[arg(long)]
    name: String,
    /// Where the server will answer, `http://127.0.0.1:PORT`.
    #[arg(long)]
    url: String,
    /// Number of start-ups.
    #[arg(long, default_value_t = 10)]
    repeat: usize,
    /// Idle time after the first answer before reading VmRSS.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    idle: Duration,
    /// Pause between connection attempts while waiting (0 = busy loop).
    #[arg(long, value_parser = parse_duration, default_value = "50us")]
    poll: Duration,
    /// Give up on one start-up after this long.
    #[arg(long, value_parser = parse_duration, default_value = "120s")]
    timeout: Duration,
    /// Print a markdown table row instead of a plain line.
    #[arg(long)]
    markdown: bool,
    /// The server command line (after `--`); the spawned process must be
    /// the server itself.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Parses `10s`, `500ms`, `50us`, `2m` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_duration_up_to(s, MAX_DURATION)
}

/// [`parse_duration`] with a limit of its own (and `h` for hours).
pub(crate) fn parse_duration_up_to(s: &str, max: Duration) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("bad duration `{s}`"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "bad duration unit in `{s}` (use s, ms, us, m or h)"
            ))
        }
    };
    if !secs.is_finite() || secs > max.as_secs_f64() {
        return Err(format!("duration `{s}` exceeds the limit of {max:?}"));
    }
    let d = Duration::from_secs_f64(secs);
    Ok(d)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Startup(args)) => run_startup(args),
        Some(Command::Suite(args)) => suite::run(args),
        Some(Command::SuiteSummary(args)) => suite::summarise(args),
        Some(Command::Soak(args)) => soak::run(args),
        Some(Command::Sigv4(args)) => sigv4::run(args),
        Some(Command::Tenants(args)) => tenants::run(args),
        Some(Command::TenantsWorker { command }) => tenants::run_worker(command),
        None => run_load(cli.load),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openddb-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_startup(args: StartupArgs) -> Result<(), String> {
    if args.repeat == 0 || args.repeat > MAX_REPEAT {
        return Err(format!("--repeat must be in 1..={MAX_REPEAT}"));
    }
    let (addr, host_header) = parse_url(&args.url)?;
    let plan = startup::StartupPlan {
        name: args.name,
        addr,
        host_header,
        command: args.command,
        repeat: args.repeat,
        idle: args.idle,
        poll: args.poll,
        timeout: args.timeout,
    };
    let result = startup::measure(&plan)?;
    if args.markdown {
        println!("{}", result.markdown_row());
    } else {
        println!("{}", result.line());
    }
    Ok(())
}

/// The runtime the load runs on: `threads` workers, or the calling thread
/// alone for one.
fn client_runtime(threads: usize) -> Result<tokio::runtime::Runtime, String> {
    if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("tokio runtime: {e}"))
}

/// `ACCESS_KEY_ID:SECRET` as a signer for DynamoDB in us-east-1.
fn parse_signer(s: &str) -> Result<std::sync::Arc<openddb_auth::sigv4::Signer>, String> {
    match s.split_once(':') {
        Some((key, secret)) if !key.is_empty() && !secret.is_empty() && !key.contains('/') => {
            Ok(std::sync::Arc::new(openddb_auth::sigv4::Signer::new(
                key,
                secret,
                "us-east-1",
                "dynamodb",
            )))
        }
        _ => Err("expected ACCESS_KEY_ID:SECRET".into()),
    }
}

fn run_load(mut args: LoadArgs) -> Result<(), String> {
    if let Some(signer) = &args.sign {
        for target in &mut args.targets {
            target.signer = Some(signer.clone());
        }
    }
    if args.targets.is_empty() {
        return Err("give at least one --target NAME=URL[@PID]".into());
    }
    if args.targets.len() > MAX_TARGETS {
        return Err(format!("at most {MAX_TARGETS} targets"));
    }
    let query_items = args
        .query_partitions
        .saturating_mul(args.query_partition_items);
    for (flag, n, min) in [
        ("--items", args.items, 1),
        (
            "--query-partition-items",
            args.query_partition_items,
            WINDOW,
        ),
        (
            "--query-partitions × --query-partition-items",
            query_items,
            args.query_partition_items.max(1),
        ),
        ("--gsi-items", args.gsi_items, GSI_VALUES * WINDOW),
        ("--scan-items", args.scan_items, 1),
        // At least 25 keys, so that a BatchWriteItem of 25 puts loading it
        // never writes one key twice.
        ("--stream-records", args.stream_records, 50),
    ] {
        if n < min || n > MAX_ITEMS {
            return Err(format!("{flag} must be in {min}..={MAX_ITEMS}"));
        }
    }
    if let Some(w) = args
        .workloads
        .iter()
        .find(|w| w.keys_per_request() as u64 > args.items)
    {
        return Err(format!(
            "--items must be at least {} for {}",
            w.keys_per_request(),
            w.name()
        ));
    }
    if !args.gsi_items.is_multiple_of(GSI_VALUES) {
        return Err(format!("--gsi-items must be a multiple of {GSI_VALUES}"));
    }
    for (flag, c) in [
        ("--load-concurrency", args.load_concurrency),
        ("--batch-load-concurrency", args.batch_load_concurrency),
    ] {
        if c == 0 || c > MAX_CONCURRENCY {
            return Err(format!("{flag} must be in 1..={MAX_CONCURRENCY}"));
        }
    }
    if args
        .concurrency
        .iter()
        .any(|&c| c == 0 || c > MAX_CONCURRENCY)
    {
        return Err(format!(
            "--concurrency values must be in 1..={MAX_CONCURRENCY}"
        ));
    }
    if args.duration.is_zero() {
        return Err("--duration must be positive".into());
    }
    if args.warmup > Duration::from_secs(60) {
        return Err("--warmup is limited to 60s".into());
    }
    if args.client_threads == 0 || args.client_threads > 64 {
        return Err("--client-threads must be in 1..=64".into());
    }
    let (scans, loops): (Vec<Workload>, Vec<Workload>) =
        args.workloads.iter().partition(|w| **w == Workload::Scan);
    let cells = args.targets.len() * loops.len() * args.concurrency.len();
    let planned = (args.duration + args.warmup) * cells as u32
        + args.warmup * (args.targets.len() * loops.len()) as u32;
    eprintln!(
        "openddb-bench: {cells} cells, about {:.0} s of load plus set-up",
        planned.as_secs_f64()
    );
    let runtime = client_runtime(args.client_threads)?;
    let shape = Shape {
        items: args.items,
        query_partitions: args.query_partitions,
        query_partition_items: args.query_partition_items,
        gsi_items: args.gsi_items,
        scan_items: args.scan_items,
        stream_records: args.stream_records,
    };
    let load_plan = LoadPlan {
        with: args.load_with,
        put_concurrency: args.load_concurrency,
        batch_concurrency: args.batch_load_concurrency,
    };
    let plan = Plan {
        duration: args.duration,
        warmup: args.warmup,
        shape: shape.clone(),
    };
    let mut collected = Collected::default();
    let mut scan_results: Vec<ScanResult> = Vec::new();
    runtime.block_on(async {
        for target in &args.targets {
            // Tables loaded late are prepared after the cells on the others
            // (see `Dataset::loaded_late`).
            let (early, late): (Vec<Workload>, Vec<Workload>) =
                loops.iter().partition(|w| !w.dataset().loaded_late());
            let ran = run_cells(
                target,
                &early,
                &args,
                &shape,
                &load_plan,
                &plan,
                &mut collected,
            )
            .await
                && run_cells(
                    target,
                    &late,
                    &args,
                    &shape,
                    &load_plan,
                    &plan,
                    &mut collected,
                )
                .await;
            if ran && !scans.is_empty() {
                if let Err(e) = run_scan(
                    target,
                    &shape,
                    &load_plan,
                    &args,
                    &mut collected.loads,
                    &mut scan_results,
                )
                .await
                {
                    eprintln!("openddb-bench: {e}");
                    collected.failures.push(e);
                }
            }
        }
    });
    let Collected {
        mut results,
        loads,
        failures,
    } = collected;
    // Order the report by workload, then concurrency, then target order.
    let order = |r: &CellResult| {
        (
            args.workloads.iter().position(|w| *w == r.workload),
            args.concurrency.iter().position(|c| *c == r.concurrency),
            args.targets.iter().position(|t| t.name == r.target),
        )
    };
    results.sort_by_key(order);
    let report = Report {
        cells: &results,
        scans: &scan_results,
        loads: &loads,
    };
    if args.markdown {
        print!("{}", report::markdown(&report));
    } else {
        println!("{}", report::plain(&report));
    }
    if let Some(path) = &args.markdown_file {
        std::fs::write(path, report::markdown(&report))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} failure(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// What the closed-loop cells of a run produced.
#[derive(Default)]
struct Collected {
    results: Vec<CellResult>,
    loads: Vec<LoadReport>,
    failures: Vec<String>,
}

/// Prepares the tables of `workloads` on `target`, warms every workload up
/// once at the highest concurrency (JIT, caches; results discarded), then
/// measures each (workload, concurrency) cell. Workloads whose table the
/// target cannot have, and PartiQL workloads whose probe statement it does
/// not answer as expected, are recorded as unsupported cells. `false` when
/// a table could not be prepared (a failure, recorded).
async fn run_cells(
    target: &Target,
    workloads: &[Workload],
    args: &LoadArgs,
    shape: &Shape,
    load_plan: &LoadPlan,
    plan: &Plan,
    out: &mut Collected,
) -> bool {
    let mut datasets: Vec<Dataset> = workloads.iter().map(|w| w.dataset()).collect();
    datasets.sort();
    datasets.dedup();
    // Tables this target cannot have, and why.
    let mut lacking: Vec<(Dataset, String)> = Vec::new();
    for dataset in datasets {
        match dataset::prepare(target, dataset, shape, load_plan).await {
            Ok(report) => {
                if !report.note.is_empty() {
                    eprintln!(
                        "openddb-bench: {}: {}{}",
                        target.name, report.table, report.note
                    );
                }
                out.loads.push(report);
            }
            Err(PrepareError::Unsupported(why)) => {
                eprintln!(
                    "openddb-bench: {}: {} unsupported: {why}",
                    target.name,
                    dataset.table()
                );
                lacking.push((dataset, why));
            }
            Err(PrepareError::Failed(e)) => {
                eprintln!("openddb-bench: {e}");
                out.failures.push(e);
                return false;
            }
        }
        settle().await;
    }
    let mut runnable = Vec::new();
    for &workload in workloads {
        let mut why = lacking
            .iter()
            .find(|(d, _)| *d == workload.dataset())
            .map(|(_, why)| why.clone());
        if why.is_none() && workload.partiql() {
            match partiql::probe(target, workload, shape).await {
                Ok(()) => {}
                Err(PrepareError::Unsupported(answer)) => {
                    eprintln!(
                        "openddb-bench: {}: {} unsupported: {answer}",
                        target.name,
                        workload.name()
                    );
                    why = Some(answer);
                }
                Err(PrepareError::Failed(e)) => {
                    eprintln!("openddb-bench: {e}");
                    out.failures.push(e);
                    continue;
                }
            }
        }
        match why {
            Some(why) => {
                for &concurrency in &args.concurrency {
                    out.results.push(CellResult::unsupported(
                        &target.name,
                        workload,
                        concurrency,
                        args.duration,
                        &why,
                    ));
                }
            }
            None => runnable.push(workload),
        }
    }
    let max_concurrency = args.concurrency.iter().copied().max().unwrap_or(1);
    let warm = Plan {
        duration: args.warmup,
        warmup: Duration::ZERO,
        shape: shape.clone(),
    };
    for &workload in &runnable {
        if !args.warmup.is_zero() {
            if let Err(e) = run::measure(target, workload, max_concurrency, &warm).await {
                eprintln!("openddb-bench: warm-up: {e}");
            }
        }
    }
    for &workload in &runnable {
        for &concurrency in &args.concurrency {
            match run::measure(target, workload, concurrency, plan).await {
                Ok(r) => {
                    eprintln!("openddb-bench: {}", cell_line(&r));
                    out.results.push(r);
                }
                Err(e) => {
                    eprintln!("openddb-bench: {e}");
                    out.failures.push(e);
                }
            }
            // Let background work (checkpoints, GC) settle between cells.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    true
}

/// One line of progress for a measured cell.
fn cell_line(r: &CellResult) -> String {
    let more = match r.workload {
        Workload::BatchWrite25 => format!(", {} unprocessed items", r.unprocessed),
        Workload::TransactWrite4 => format!(", {} conflicts", r.conflicts),
        Workload::GetRecords => format!(
            ", {:.0} records/s, {} GetShardIterator calls",
            r.items_per_sec(),
            r.side_calls
        ),
        _ => String::new(),
    };
    format!(
        "{} {} c={}: {:.0} ops/s, p99 {} µs, {} errors{more}",
        r.target,
        r.workload.name(),
        r.concurrency,
        r.throughput(),
        r.latency.value_at_quantile(0.99),
        r.errors
    )
}

/// A pause after loading, for background work (WAL checkpoints, GC).
async fn settle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Loads the Scan table of `target` and scans it once. It is loaded last,
/// after the closed-loop cells, so that they do not run next to a large
/// table still being checkpointed.
async fn run_scan(
    target: &Target,
    shape: &Shape,
    load_plan: &LoadPlan,
    args: &LoadArgs,
    loads: &mut Vec<LoadReport>,
    scans: &mut Vec<ScanResult>,
) -> Result<(), String> {
    loads.push(
        dataset::prepare(target, Dataset::Scan, shape, load_plan)
            .await
            .map_err(|e| e.to_string())?,
    );
    settle().await;
    eprintln!(
        "openddb-bench: {}: scanning {} items",
        target.name, shape.scan_items
    );
    let r = scan::measure(target, shape.scan_items, args.warmup, args.scan_limit).await?;
    eprintln!(
        "openddb-bench: {} scan: {} items in {} pages, {:.2} s, {:.0} items/s, peak RSS {} KiB",
        r.target,
        r.items,
        r.pages,
        r.elapsed.as_secs_f64(),
        r.items_per_sec(),
        r.rss_peak_kib.unwrap_or(0)
    );
    scans.push(r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("50us").unwrap(), Duration::from_micros(50));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("11m").is_err());
        assert!(parse_duration("1h").is_err());
        let day = Duration::from_secs(86_400);
        assert_eq!(
            parse_duration_up_to("2h", day).unwrap(),
            Duration::from_secs(7200)
        );
        assert!(parse_duration_up_to("25h", day).is_err());
        assert!(parse_duration_up_to("1e400", day).is_err());
    }
}
