//! `openddb-bench soak`: a mixed load at saturation for a long time
//! (default 10 minutes) against one server, started by this program
//! (durable, data under a given root) or attached to by URL and PID. It
//! reports the server's memory, descriptors and data size over time with a
//! verdict on whether they stayed flat, latency per operation per interval,
//! and every answer other than success by type, with the refusals DynamoDB
//! gives under load counted apart from errors.
//!
//! The mix (see `mix`): GetItem, PutItem (a quarter with a TTL that
//! expires during the run), conditional UpdateItem, DeleteItem, Query of a
//! ~100-item partition and of the GSI, Scan pages, BatchWriteItem,
//! BatchGetItem, TransactWriteItems that meet on a few hot items,
//! TransactGetItems, PartiQL SELECT and UPDATE, on a fixed key space so
//! that the data set does not grow; beside them, readers follow every shard
//! of the table's stream with GetRecords.

mod follow;
mod memory;
mod mix;
mod report;
mod server;
mod table;
mod tally;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use tokio::task::JoinSet;

use self::follow::{Follower, Step};
use self::memory::{Sample, Tolerance};
use self::mix::{Class, Ctx, Op, Space, PARTITION_ITEMS};
use self::report::{IntervalRow, Outcome};
use self::server::{Launch, Spawned};
use self::tally::Tally;
use crate::client::Conn;
use crate::procfs;
use crate::target::{parse_url, Target};
use crate::wire;

/// Longest soak (and warm-up, interval, sampling period) accepted.
const MAX_SOAK: Duration = Duration::from_secs(24 * 3600);
const MAX_KEYS: u64 = 1_000_000;

fn parse_soak_duration(s: &str) -> Result<Duration, String> {
    crate::parse_duration_up_to(s, MAX_SOAK)
}

/// Options of the soak.
#[derive(Args)]
pub struct SoakArgs {
    /// Start this server binary (openddb) on the loopback port given by
    /// --port, durable (--data-dir under --data-root), with
    /// --ttl-sweep-interval, and stop it with SIGTERM when done.
    #[arg(long, conflicts_with = "url", requires = "port")]
    server: Option<PathBuf>,
    /// Port of the server to start.
    #[arg(long)]
    port: Option<u16>,
    /// Where the started server gets its directory
    /// (openddb-soak-TIME-PID, holding data/ and server.log).
    #[arg(long, default_value = "/tmp")]
    data_root: PathBuf,
    /// The started server's --ttl-sweep-interval, in seconds: short, so the
    /// sweeper runs all along.
    #[arg(long, default_value = "1")]
    ttl_sweep_interval: String,
    /// One more argument for the started server (repeatable).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// Keep the started server's data directory (its log is kept anyway
    /// when the verdict fails).
    #[arg(long)]
    keep_data: bool,
    /// Attach to a running server instead, `http://127.0.0.1:PORT`.
    #[arg(long)]
    url: Option<String>,
    /// The attached server's PID: without it nothing about memory is
    /// measured.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// The attached server's data directory, for its size.
    #[arg(long, requires = "url")]
    data_dir: Option<PathBuf>,
    /// Measured window (e.g. 10m, 90s, 2h).
    #[arg(long, value_parser = parse_soak_duration, default_value = "10m")]
    duration: Duration,
    /// Full load before the window, not measured (after loading the table).
    #[arg(long, value_parser = parse_soak_duration, default_value = "30s")]
    warmup: Duration,
    /// One report line per this much of the window.
    #[arg(long, value_parser = parse_soak_duration, default_value = "30s")]
    interval: Duration,
    /// How often the server's memory, descriptors and data are read.
    #[arg(long, value_parser = parse_soak_duration, default_value = "5s")]
    sample_every: Duration,
    /// Workers, each with its own connection, sending the mix closed-loop.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Stream readers, each following every shard of the stream.
    #[arg(long, default_value_t = 2)]
    stream_readers: usize,
    /// Regular items (a multiple of 100: partitions of 100 items).
    #[arg(long, default_value_t = 10_000)]
    keys: u64,
    /// Hot items, which transactions share (at least 2).
    #[arg(long, default_value_t = 16)]
    hot_keys: u64,
    /// Memory is flat when it moved by at most the larger of this share of
    /// its first-minute level ...
    #[arg(long, default_value_t = 10.0)]
    flat_percent: f64,
    /// ... and this many MiB.
    #[arg(long, default_value_t = 16.0)]
    flat_mib: f64,
    /// Open file descriptors are flat when they moved by at most this many.
    #[arg(long, default_value_t = 8)]
    flat_fds: u64,
    /// Threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Seed of the workers' random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the report (markdown) to this file.
    #[arg(long)]
    markdown_file: Option<PathBuf>,
}

impl SoakArgs {
    fn check(&self) -> Result<(), String> {
        // clap drops `requires` when a conflicting argument is present.
        if self.server.is_some() && (self.pid.is_some() || self.data_dir.is_some()) {
            return Err("--pid and --data-dir are for --url; a started server's are known".into());
        }
        if self.concurrency == 0 || self.concurrency > crate::MAX_CONCURRENCY {
            return Err(format!(
                "--concurrency must be in 1..={}",
                crate::MAX_CONCURRENCY
            ));
        }
        if self.stream_readers > 64 {
            return Err("--stream-readers must be at most 64".into());
        }
        if self.keys < PARTITION_ITEMS
            || self.keys > MAX_KEYS
            || !self.keys.is_multiple_of(PARTITION_ITEMS)
        {
            return Err(format!(
                "--keys must be a multiple of {PARTITION_ITEMS} in {PARTITION_ITEMS}..={MAX_KEYS}"
            ));
        }
        if !(2..=100).contains(&self.hot_keys) {
            return Err("--hot-keys must be in 2..=100".into());
        }
        if self.client_threads == 0 || self.client_threads > 64 {
            return Err("--client-threads must be in 1..=64".into());
        }
        if self.duration.is_zero() || self.interval.is_zero() || self.sample_every.is_zero() {
            return Err("--duration, --interval and --sample-every must be positive".into());
        }
        if self.sample_every > self.interval {
            return Err("--sample-every must not be longer than --interval".into());
        }
        if !(self.flat_percent >= 0.0 && self.flat_mib >= 0.0) {
            return Err("--flat-percent and --flat-mib must not be negative".into());
        }
        Ok(())
    }
}

/// Runs the soak and prints its report; `Err` when it could not run or
/// its verdict is a failure.
pub fn run(args: SoakArgs) -> Result<(), String> {
    args.check()?;
    let (addr, host_header) = match (&args.server, &args.url, args.port) {
        (Some(_), None, Some(port)) => parse_url(&format!("http://127.0.0.1:{port}"))?,
        (None, Some(url), _) => parse_url(url)?,
        _ => return Err("give --server BINARY --port PORT, or --url URL [--pid PID]".into()),
    };
    let mut spawned = match &args.server {
        Some(binary) => {
            let s = Spawned::start(&Launch {
                binary,
                root: &args.data_root,
                addr,
                host_header: &host_header,
                ttl_sweep_interval: &args.ttl_sweep_interval,
                extra: &args.server_args,
            })?;
            eprintln!(
                "openddb-bench soak: started `{}` (pid {}), log {}",
                s.command,
                s.pid,
                s.log.display()
            );
            Some(s)
        }
        None => None,
    };
    let target = Target {
        name: "server".into(),
        addr,
        host_header,
        pid: spawned.as_ref().map(|s| s.pid).or(args.pid),
        signer: None,
    };
    let data_dir = spawned
        .as_ref()
        .map(|s| s.data_dir.clone())
        .or_else(|| args.data_dir.clone());
    let runtime = crate::client_runtime(args.client_threads)?;
    let result = runtime.block_on(soak(&args, &target, data_dir.as_deref(), &mut spawned));
    let ending = spawned.as_mut().map(Spawned::stop);
    let mut outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Some(s) = &spawned {
                s.remove(false);
                eprintln!("openddb-bench soak: server log kept at {}", s.log.display());
            }
            return Err(e);
        }
    };
    outcome.server_command = spawned.as_ref().map(|s| s.command.clone());
    outcome.ending = ending;
    let text = report::markdown(&outcome);
    print!("{text}");
    if let Some(path) = &args.markdown_file {
        std::fs::write(path, &text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let failures = report::failures(&outcome);
    if let Some(s) = &spawned {
        s.remove(failures.is_empty() && !args.keep_data);
        if args.keep_data {
            eprintln!("openddb-bench soak: data kept in {}", s.dir.display());
        } else if !failures.is_empty() {
            eprintln!("openddb-bench soak: server log kept at {}", s.log.display());
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("soak verdict: FAIL ({})", failures.join("; ")))
    }
}

/// What the workers and readers share with the soak's driver.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Hot-counter increments acknowledged with a 200.
    acked: AtomicU64,
    /// Hot-counter increments sent without an answer: applied or not.
    ambiguous: AtomicU64,
}

fn lock(tally: &Mutex<Tally>) -> MutexGuard<'_, Tally> {
    // A worker that panicked left its counts as they were; keep them.
    tally.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn transport_kind(e: &str) -> String {
    // The target's name and address are the same for every failure; what
    // follows says what went wrong.
    let cause = e.strip_prefix("server: ").unwrap_or(e);
    format!("transport: {}", cause.chars().take(80).collect::<String>())
}

/// Opens a connection, retrying until it works or the soak stops.
async fn connect(target: &Target, shared: &Shared, tally: &Mutex<Tally>, op: Op) -> Option<Conn> {
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return None;
        }
        match Conn::open(target).await {
            Ok(conn) => return Some(conn),
            Err(e) => {
                lock(tally).failure(op, transport_kind(&e), || e.clone());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One closed-loop worker: draws an operation, sends it, judges the answer,
/// and goes on until told to stop. After a throttling answer it backs off
/// (5 ms doubling to 160 ms), as an SDK would.
async fn worker(
    target: Target,
    space: Space,
    mut ctx: Ctx,
    tally: Arc<Mutex<Tally>>,
    shared: Arc<Shared>,
) {
    let Some(mut conn) = connect(&target, &shared, &tally, Op::GetItem).await else {
        return;
    };
    let mut throttled = 0u32;
    while !shared.stop.load(Ordering::Relaxed) {
        let op = mix::draw(&mut ctx.rng);
        let request = mix::request(op, &mut ctx, &space, unix_secs());
        let t0 = Instant::now();
        let answer = conn.call(op.operation(), request.body.clone()).await;
        let micros = t0.elapsed().as_micros() as u64;
        match answer {
            Ok(reply) => {
                let judged = mix::judge(&request, &reply);
                if let Some(next) = &judged.scan_next {
                    ctx.scan_cursor.clone_from(next);
                }
                if judged.class == Class::Ok {
                    shared
                        .acked
                        .fetch_add(request.increments, Ordering::Relaxed);
                }
                let backoff = judged.class == Class::Throttled;
                lock(&tally).answer(op, micros, judged, || wire::reply_text(&reply));
                if backoff {
                    throttled = (throttled + 1).min(6);
                    tokio::time::sleep(Duration::from_millis(5 << (throttled - 1))).await;
                } else {
                    throttled = 0;
                }
            }
            Err(e) => {
                shared
                    .ambiguous
                    .fetch_add(request.increments, Ordering::Relaxed);
                lock(&tally).failure(op, transport_kind(&e), || e.clone());
                match connect(&target, &shared, &tally, op).await {
                    Some(c) => conn = c,
                    None => return,
                }
            }
        }
    }
}

/// One stream reader (see [`follow::Follower`]).
async fn reader(target: Target, arn: String, tally: Arc<Mutex<Tally>>, shared: Arc<Shared>) {
    let Some(mut conn) = connect(&target, &shared, &tally, Op::GetRecords).await else {
        return;
    };
    let mut follower = Follower::new(arn);
    while !shared.stop.load(Ordering::Relaxed) {
        let mut step = follower.next(Instant::now());
        loop {
            let (op, body) = match step {
                Step::Wait(d) => {
                    tokio::time::sleep(d.min(Duration::from_millis(250))).await;
                    break;
                }
                Step::Call { op, body, .. } => (op, body),
            };
            let t0 = Instant::now();
            let answer = conn.call(op, body).await;
            let micros = t0.elapsed().as_micros() as u64;
            match answer {
                Ok(reply) => match follower.take(&reply, micros, &mut lock(&tally)) {
                    // The next page of a DescribeStream walk.
                    Some(next) => step = next,
                    None => break,
                },
                Err(e) => {
                    follower.abandon();
                    lock(&tally).failure(Op::GetRecords, transport_kind(&e), || e.clone());
                    match connect(&target, &shared, &tally, Op::GetRecords).await {
                        Some(c) => conn = c,
                        None => return,
                    }
                    break;
                }
            }
        }
    }
}

/// Takes what every task counted since the last call.
fn take_all(tallies: &[Arc<Mutex<Tally>>]) -> Tally {
    let mut sum = Tally::default();
    for t in tallies {
        let taken = std::mem::take(&mut *lock(t));
        sum.merge(&taken);
    }
    sum
}

/// Whether the server is still there.
fn alive(spawned: &mut Option<Spawned>, pid: Option<u32>) -> bool {
    match spawned {
        Some(s) => s.exited().is_none(),
        None => pid.is_none_or(|pid| procfs::status(pid).is_some_and(|s| s.rss_kib.is_some())),
    }
}

async fn soak(
    args: &SoakArgs,
    target: &Target,
    data_dir: Option<&Path>,
    spawned: &mut Option<Spawned>,
) -> Result<Outcome, String> {
    let space = Space {
        keys: args.keys,
        hot: args.hot_keys,
    };
    let load_average_start = procfs::load_average();
    eprintln!(
        "openddb-bench soak: creating and loading `{}` ({} items + {} hot)",
        mix::TABLE,
        space.keys,
        space.hot
    );
    let load_time = table::prepare(target, &space).await?;
    let items_after_load = table::count_items(target).await?;
    let mut conn = Conn::open(target).await?;
    let arn = follow::stream_arn(&mut conn, mix::TABLE).await?;
    drop(conn);
    let after_load = target
        .pid
        .and_then(|pid| memory::sample(pid, data_dir, Duration::ZERO));

    let shared = Arc::new(Shared::default());
    let run_id = (unix_secs() as u32) ^ std::process::id().rotate_left(16);
    let mut tasks = JoinSet::new();
    let mut tallies = Vec::new();
    for w in 0..args.concurrency {
        let tally = Arc::new(Mutex::new(Tally::default()));
        tallies.push(tally.clone());
        let ctx = Ctx::new(args.seed, run_id, w);
        tasks.spawn(worker(
            target.clone(),
            space.clone(),
            ctx,
            tally,
            shared.clone(),
        ));
    }
    for _ in 0..args.stream_readers {
        let tally = Arc::new(Mutex::new(Tally::default()));
        tallies.push(tally.clone());
        tasks.spawn(reader(target.clone(), arn.clone(), tally, shared.clone()));
    }
    eprintln!(
        "openddb-bench soak: workers: {}, stream readers: {}; warm-up {:?}, then {:?}",
        args.concurrency, args.stream_readers, args.warmup, args.duration
    );

    let mut ended_early = None;
    let warm_end = Instant::now() + args.warmup;
    while Instant::now() < warm_end {
        tokio::time::sleep(Duration::from_secs(1).min(warm_end - Instant::now())).await;
        if !alive(spawned, target.pid) {
            ended_early = Some("the server exited during the warm-up".to_owned());
            break;
        }
    }
    drop(take_all(&tallies));

    let window_start = Instant::now();
    let client_pid = std::process::id();
    let mut samples: Vec<Sample> = Vec::new();
    let read = |at: Duration| target.pid.and_then(|pid| memory::sample(pid, data_dir, at));
    samples.extend(read(Duration::ZERO));
    let mut rows: Vec<IntervalRow> = Vec::new();
    let mut total = Tally::default();
    let mut last_close = (
        Duration::ZERO,
        samples.last().and_then(|s| s.cpu_us),
        procfs::cpu_micros(client_pid),
    );
    let mut next_boundary = args.interval;
    let mut ticker =
        tokio::time::interval_at((window_start + args.sample_every).into(), args.sample_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while ended_early.is_none() {
        ticker.tick().await;
        let at = window_start.elapsed().min(args.duration);
        let up = alive(spawned, target.pid);
        if up {
            samples.extend(read(at));
        } else {
            ended_early = Some(format!(
                "the server exited {:.0} s into the window",
                at.as_secs_f64()
            ));
        }
        let done = at >= args.duration || !up;
        if at >= next_boundary || done {
            let taken = take_all(&tallies);
            let server_cpu = samples.last().filter(|_| up).and_then(|s| s.cpu_us);
            let client_cpu = procfs::cpu_micros(client_pid);
            let row = IntervalRow::new(
                at,
                at - last_close.0,
                &taken,
                samples.last().copied().filter(|_| up),
                cores(last_close.1, server_cpu, at - last_close.0),
                cores(last_close.2, client_cpu, at - last_close.0),
            );
            eprintln!("openddb-bench soak: {}", row.progress_line());
            total.merge(&taken);
            rows.push(row);
            last_close = (at, server_cpu, client_cpu);
            while next_boundary <= at {
                next_boundary += args.interval;
            }
        }
        if done {
            break;
        }
    }
    let window = rows.last().map_or(Duration::ZERO, |r| r.end);
    shared.stop.store(true, Ordering::Relaxed);
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            total.failure(Op::GetItem, format!("load task ended: {e}"), String::new);
        }
    }
    let load_average_end = procfs::load_average();
    let server_up = ended_early.is_none() && alive(spawned, target.pid);
    let (hot_sum, items_at_end) = if server_up {
        (
            Some(table::hot_sum(target, &space).await),
            Some(table::count_items(target).await),
        )
    } else {
        (None, None)
    };
    let tolerance = Tolerance {
        percent: args.flat_percent,
        absolute: args.flat_mib * 1024.0,
    };
    let fd_tolerance = Tolerance {
        percent: 0.0,
        absolute: args.flat_fds as f64,
    };
    Ok(Outcome {
        args: report::Settings {
            duration: args.duration,
            warmup: args.warmup,
            interval: args.interval,
            sample_every: args.sample_every,
            concurrency: args.concurrency,
            stream_readers: args.stream_readers,
            keys: args.keys,
            hot_keys: args.hot_keys,
            flat_percent: args.flat_percent,
            flat_mib: args.flat_mib,
            flat_fds: args.flat_fds,
            ttl_sweep_interval: args
                .server
                .as_ref()
                .map(|_| args.ttl_sweep_interval.clone()),
            url: args.url.clone(),
            pid: target.pid,
        },
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average_start,
        load_average_end,
        load_time,
        items_after_load,
        items_at_end,
        after_load,
        samples,
        rows,
        total,
        window,
        ended_early,
        acked: shared.acked.load(Ordering::Relaxed),
        ambiguous: shared.ambiguous.load(Ordering::Relaxed),
        hot_sum,
        rss: None,
        fds: None,
        tolerance,
        fd_tolerance,
        server_command: None,
        ending: None,
    }
    .judged())
}

/// CPU cores used between two CPU-time readings `span` apart.
fn cores(before: Option<u64>, after: Option<u64>, span: Duration) -> Option<f64> {
    let (a, b) = (before?, after?);
    (!span.is_zero()).then(|| b.saturating_sub(a) as f64 / 1e6 / span.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::{Cli, Command};

    fn soak(args: &[&str]) -> Result<super::SoakArgs, String> {
        let argv = ["openddb-bench", "soak"].iter().chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.kind().to_string())?
            .command
        {
            Some(Command::Soak(a)) => a.check().map(|()| a),
            _ => Err("not the soak".into()),
        }
    }

    #[test]
    fn options() {
        let a = soak(&["--server", "target/release/openddb", "--port", "19200"]).unwrap();
        assert_eq!(a.duration, std::time::Duration::from_secs(600));
        assert_eq!((a.concurrency, a.stream_readers, a.keys), (32, 2, 10_000));
        assert_eq!(a.ttl_sweep_interval, "1");
        let a = soak(&[
            "--url",
            "http://127.0.0.1:8000",
            "--pid",
            "42",
            "--duration",
            "2h",
        ])
        .unwrap();
        assert_eq!(a.pid, Some(42));
        assert_eq!(a.duration, std::time::Duration::from_secs(7200));
        let a = soak(&[
            "--server",
            "x",
            "--port",
            "1",
            "--server-arg",
            "--threads",
            "--server-arg",
            "4",
        ])
        .unwrap();
        assert_eq!(a.server_args, ["--threads", "4"]);
        // A server to start needs a port; one to attach to is not started.
        assert!(soak(&["--server", "x"]).is_err());
        assert!(soak(&[
            "--server",
            "x",
            "--port",
            "1",
            "--url",
            "http://127.0.0.1:1"
        ])
        .is_err());
        assert!(soak(&["--pid", "42", "--server", "x", "--port", "1"]).is_err());
        assert!(soak(&["--url", "http://127.0.0.1:1", "--keys", "150"]).is_err());
        assert!(soak(&["--url", "http://127.0.0.1:1", "--hot-keys", "1"]).is_err());
        assert!(soak(&["--url", "http://127.0.0.1:1", "--duration", "25h"]).is_err());
        assert!(soak(&["--url", "http://127.0.0.1:1", "--sample-every", "1m"]).is_err());
        assert!(soak(&["--url", "http://127.0.0.1:1", "--concurrency", "0"]).is_err());
    }
}
