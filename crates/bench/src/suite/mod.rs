//! `openddb-bench suite`: a synthetic test suite run the way a project's
//! tests use DynamoDB Local. The server command is spawned (fresh for each
//! round), polled with ListTables until its first answer (the start-up
//! time), left idle (idle memory), then N tests run one at a time or on P
//! connections at once, each creating, using and deleting a table of its
//! own (see `case`). Reported per round and as medians over rounds: the
//! suite's wall time, tests per second, per-test latency, start-up time,
//! the server's memory before and after the suite and at its peak, and its
//! CPU time. `--record FILE` appends each round as a JSON line, and
//! `suite-summary FILE…` summarises rounds run by separate invocations
//! (servers interleaved round by round, as `bench/suite.sh` does).

mod case;
mod record;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use tokio::task::JoinSet;

use self::record::Record;
use crate::client::Conn;
use crate::procfs;
use crate::startup::{
    list_tables_request, spawn_until_ready, terminate, wait_until_free, ServerOutput,
};
use crate::target::{parse_url, Target};

const MAX_TESTS: usize = 100_000;
const MAX_PARALLEL: usize = 64;
const MAX_ROUNDS: usize = 100;
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Options of `suite`.
#[derive(Args)]
pub struct SuiteArgs {
    /// Label for the report.
    #[arg(long)]
    name: String,
    /// Where the server will answer, `http://127.0.0.1:PORT`.
    #[arg(long)]
    url: String,
    /// Tests per round.
    #[arg(long, default_value_t = 500)]
    tests: usize,
    /// Tests run at once, each worker on its own connection (as a test
    /// runner runs files in parallel); 1 runs them one after the other.
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Rounds, each with a freshly spawned server.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Number of the first round in the report and the record (for rounds
    /// run by separate invocations).
    #[arg(long, default_value_t = 1)]
    first_round: u64,
    /// Idle time after the first answer before reading the idle VmRSS.
    #[arg(long, value_parser = crate::parse_duration, default_value = "1s")]
    idle: Duration,
    /// Pause between connection attempts while waiting for the first answer
    /// (0 = busy loop).
    #[arg(long, value_parser = crate::parse_duration, default_value = "50us")]
    poll: Duration,
    /// Give up when the server has not answered after this long.
    #[arg(long, value_parser = crate::parse_duration, default_value = "120s")]
    timeout: Duration,
    /// Append each round, as one JSON line, to this file (for
    /// `suite-summary`).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Append the server's standard output and error to this file
    /// (otherwise discarded).
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// A figure whose (max − min) / median over the rounds exceeds this is
    /// marked as noise.
    #[arg(long, default_value_t = 0.2)]
    noise: f64,
    /// Print markdown tables instead of plain lines.
    #[arg(long)]
    markdown: bool,
    /// The server command line (after `--`); the spawned process must be
    /// the server itself (a wrapper script must `exec` it), since its PID
    /// is measured and stopped.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Options of `suite-summary`.
#[derive(Args)]
pub struct SummaryArgs {
    /// Files written by `suite --record`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A figure whose (max − min) / median over the rounds exceeds this is
    /// marked as noise.
    #[arg(long, default_value_t = 0.2)]
    noise: f64,
    /// Print markdown tables instead of plain lines.
    #[arg(long)]
    markdown: bool,
}

/// What one test took.
struct Outcome {
    latency: Duration,
    polls: u32,
}

/// Runs the suite's rounds and prints their summary.
pub fn run(args: SuiteArgs) -> Result<(), String> {
    if args.tests == 0 || args.tests > MAX_TESTS {
        return Err(format!("--tests must be in 1..={MAX_TESTS}"));
    }
    if args.parallel == 0 || args.parallel > MAX_PARALLEL.min(args.tests) {
        return Err(format!(
            "--parallel must be in 1..={} (and at most --tests)",
            MAX_PARALLEL
        ));
    }
    if args.rounds == 0 || args.rounds > MAX_ROUNDS {
        return Err(format!("--rounds must be in 1..={MAX_ROUNDS}"));
    }
    if !(args.noise > 0.0 && args.noise.is_finite()) {
        return Err("--noise must be a positive share (0.2 = 20 %)".into());
    }
    if args.idle > Duration::from_secs(60) {
        return Err("--idle is limited to 60s".into());
    }
    let runtime = crate::client_runtime(1)?;
    let mut records = Vec::new();
    let mut failure = None;
    for i in 0..args.rounds {
        let round = args.first_round + i as u64;
        let record = run_round(&args, round, &runtime);
        eprintln!("openddb-bench: {}", round_line(&record));
        if let Some(path) = &args.record {
            append(path, &record)?;
        }
        if let Some(e) = &record.error {
            failure = Some(format!("{} round {round}: {e}", args.name));
        }
        records.push(record);
        if failure.is_some() {
            break;
        }
    }
    print!("{}", record::summary(&records, args.noise, args.markdown)?);
    match failure {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Prints the summary of the rounds recorded in `args.files`.
pub fn summarise(args: SummaryArgs) -> Result<(), String> {
    if !(args.noise > 0.0 && args.noise.is_finite()) {
        return Err("--noise must be a positive share (0.2 = 20 %)".into());
    }
    let mut records = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        records.extend(record::parse_lines(&text, &path.display().to_string())?);
    }
    if records.is_empty() {
        return Err("no rounds recorded in the given files".into());
    }
    print!("{}", record::summary(&records, args.noise, args.markdown)?);
    Ok(())
}

fn append(path: &PathBuf, record: &Record) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    writeln!(file, "{}", record.to_json()).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// One line of progress for a round.
fn round_line(r: &Record) -> String {
    let f = |key: &str| r.figure(key).map_or("—".to_owned(), record::number);
    let mut line = format!(
        "{} round {}: {} tests × {} in {} s ({} tests/s), test p50 {} / p90 {} / p99 {} / max {} ms, \
         start-up {} ms, RSS idle {} after {} peak {} MiB, server CPU {} s in the suite ({} s in all), \
         {} DescribeTable polls per test",
        r.name,
        r.round,
        r.tests,
        r.parallel,
        f("wall_s"),
        f("tests_per_s"),
        f("p50_ms"),
        f("p90_ms"),
        f("p99_ms"),
        f("max_ms"),
        f("startup_ms"),
        f("idle_rss_mib"),
        f("after_rss_mib"),
        f("peak_rss_mib"),
        f("cpu_suite_s"),
        f("cpu_total_s"),
        f("polls_per_test"),
    );
    if let Some(e) = &r.error {
        line.push_str(&format!("; FAILED: {e}"));
    }
    line
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Spawns the server, waits for it, runs the tests and stops it. A failure
/// is kept in the record with the figures measured before it.
fn run_round(args: &SuiteArgs, round: u64, runtime: &tokio::runtime::Runtime) -> Record {
    let mut record = Record {
        name: args.name.clone(),
        round,
        tests: args.tests as u64,
        parallel: args.parallel as u64,
        command: args.command.join(" "),
        load_start: procfs::load_average(),
        load_end: None,
        figures: Vec::new(),
        error: None,
    };
    if let Err(e) = measure_round(args, round, runtime, &mut record) {
        record.error = Some(e);
    }
    record.load_end = procfs::load_average();
    record
}

fn measure_round(
    args: &SuiteArgs,
    round: u64,
    runtime: &tokio::runtime::Runtime,
    record: &mut Record,
) -> Result<(), String> {
    let (addr, host_header) = parse_url(&args.url)?;
    let request = list_tables_request(&host_header);
    let output = match &args.server_log {
        Some(path) => ServerOutput::File(path.clone()),
        None => ServerOutput::Null,
    };
    let (mut child, startup) = spawn_until_ready(
        &args.name,
        addr,
        &request,
        &args.command,
        &output,
        args.poll,
        args.timeout,
    )?;
    let pid = child.id();
    let mut put = |key: &str, value: Option<f64>| {
        if let Some(v) = value {
            record.figures.push((key.to_owned(), v));
        }
    };
    put("startup_ms", Some(startup.as_secs_f64() * 1000.0));
    let measured = (|| {
        thread::sleep(args.idle);
        put("idle_rss_mib", procfs::rss_kib(pid).map(mib));
        let cpu_before = procfs::cpu_micros(pid);
        let target = Target {
            name: args.name.clone(),
            addr,
            host_header: host_header.clone(),
            pid: Some(pid),
            signer: None,
        };
        let started = Instant::now();
        let outcomes = runtime.block_on(run_tests(&target, args.tests, args.parallel, round))?;
        let wall = started.elapsed();
        let status = procfs::status(pid).ok_or("the server exited during the suite")?;
        let cpu_after = procfs::cpu_micros(pid);
        let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
        latencies.sort_unstable();
        let polls: u64 = outcomes.iter().map(|o| u64::from(o.polls)).sum();
        let tests = outcomes.len() as f64;
        let ms = |d: Duration| Some(d.as_secs_f64() * 1000.0);
        put("wall_s", Some(wall.as_secs_f64()));
        put("tests_per_s", Some(tests / wall.as_secs_f64().max(1e-9)));
        put("p50_ms", ms(percentile(&latencies, 0.50)));
        put("p90_ms", ms(percentile(&latencies, 0.90)));
        put("p99_ms", ms(percentile(&latencies, 0.99)));
        put("max_ms", ms(percentile(&latencies, 1.0)));
        put("after_rss_mib", status.rss_kib.map(mib));
        put("peak_rss_mib", status.hwm_kib.map(mib));
        let suite_cpu = cpu_before
            .zip(cpu_after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / 1e6);
        put("cpu_suite_s", suite_cpu);
        put("cpu_total_s", cpu_after.map(|a| a as f64 / 1e6));
        put("cpu_ms_per_test", suite_cpu.map(|s| s * 1000.0 / tests));
        put("polls_per_test", Some(polls as f64 / tests));
        Ok(())
    })();
    terminate(&mut child, STOP_GRACE);
    wait_until_free(addr, &request, args.timeout);
    measured
}

/// Runs `tests` tests on `parallel` connections, each taking the next test
/// when its previous one is done; stops at the first failure.
async fn run_tests(
    target: &Target,
    tests: usize,
    parallel: usize,
    round: u64,
) -> Result<Vec<Outcome>, String> {
    // Names unique across runs, so that a durable data directory left by an
    // earlier run cannot hold one of them.
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let tables: Arc<Vec<String>> = Arc::new(
        (1..=tests)
            .map(|i| format!("suite-{stamp}-r{round}-t{i:05}"))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = JoinSet::new();
    for _ in 0..parallel {
        let (target, tables, next, stop) =
            (target.clone(), tables.clone(), next.clone(), stop.clone());
        workers.spawn(async move {
            let mut conn = Conn::open(&target).await?;
            let mut done = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(table) = tables.get(i) else { break };
                let started = Instant::now();
                match case::run(&target, &mut conn, table).await {
                    Ok(polls) => done.push(Outcome {
                        latency: started.elapsed(),
                        polls,
                    }),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(format!("test {} ({table}): {e}", i + 1));
                    }
                }
            }
            Ok::<_, String>(done)
        });
    }
    let mut outcomes = Vec::with_capacity(tests);
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(done)) => outcomes.extend(done),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(format!("a worker ended abnormally: {e}"));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None if outcomes.len() == tests => Ok(outcomes),
        None => Err(format!("{} of {tests} tests ran", outcomes.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&v, 0.0), Duration::from_millis(1));
        assert_eq!(
            percentile(&[Duration::from_millis(7)], 0.9),
            Duration::from_millis(7)
        );
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
