//! The `tenants` benchmark: many accounts on one machine.
//!
//! It runs through the embedded API (`openddb_engine::Database::dispatch`
//! with one `RequestContext` per account): the cost measured is the
//! engine's (JSON decoding, validation, the catalog, the tenant cache) and
//! the storage's, without HTTP, SigV4 or sockets. Tenants are created by
//! child processes in batches (`tenants-worker create`), each a fresh
//! process, so the creation phase's memory does not pile up; every
//! measurement runs in a fresh process too (`tenants-worker measure`), as
//! a restarted server would. Figures: disk per tenant, resident memory
//! idle and after touching tenants, first-request latency of cold tenants,
//! and hot single-tenant GetItem/PutItem throughput, each compared with a
//! small data directory (1,000 tenants for memory, 1 for throughput).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use openddb_engine::{Database, RequestContext, StorageConfig, StorageLimits};
use serde_json::{json, Value};

use crate::procfs;

#[derive(Args)]
pub struct TenantsArgs {
    /// Where the data directories go (`<root>/n<N>`, `<root>/n1000`,
    /// `<root>/n1`); an existing one is reused and completed.
    #[arg(long)]
    pub root: PathBuf,
    /// Tenants to create in the large data directory.
    #[arg(long, default_value_t = 1_000_000)]
    pub tenants: u64,
    /// Tenants created by one child process.
    #[arg(long, default_value_t = 20_000)]
    pub batch: u64,
    /// Tenants being created at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Items put into each tenant's table.
    #[arg(long, default_value_t = 3)]
    pub items: u64,
    /// Writer threads of the storage (creation is fsync-bound, so more
    /// than the cores helps).
    #[arg(long, default_value_t = 8)]
    pub writer_threads: usize,
    /// Cold tenants sampled for the first-request latency.
    #[arg(long, default_value_t = 1000)]
    pub cold_samples: u64,
    /// Measured window of each hot-throughput round.
    #[arg(long, default_value = "5")]
    pub hot_seconds: u64,
    /// Hot-throughput rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Concurrent requests of the hot-throughput rounds.
    #[arg(long, default_value_t = 16)]
    pub hot_concurrency: usize,
}

#[derive(Subcommand)]
pub enum WorkerCommand {
    /// Create tenants `[from, to)` in a data directory.
    Create {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        #[arg(long)]
        concurrency: usize,
        #[arg(long)]
        items: u64,
        #[arg(long)]
        writer_threads: usize,
    },
    /// Open a data directory of `tenants` tenants and print the figures as
    /// one JSON line.
    Measure {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        tenants: u64,
        #[arg(long)]
        cold_samples: u64,
        #[arg(long)]
        hot_seconds: u64,
        #[arg(long)]
        rounds: usize,
        #[arg(long)]
        hot_concurrency: usize,
    },
}

/// The account id of tenant `i`: 12 digits, as the SDKs send them.
fn account(i: u64) -> String {
    format!("{:012}", 100_000_000_000 + i)
}

fn context(i: u64) -> RequestContext {
    RequestContext {
        account_id: account(i),
        ..RequestContext::default()
    }
}

fn open(data_dir: &Path, writer_threads: usize) -> Result<Database, String> {
    let limits = StorageLimits {
        writer_threads,
        ..StorageLimits::default()
    };
    Database::open_with_limits(StorageConfig::Directory(data_dir.to_path_buf()), limits)
        .map_err(|e| format!("open {}: {e}", data_dir.display()))
}

async fn call(db: &Database, ctx: &RequestContext, op: &str, body: &Value) -> Result<(), String> {
    let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    match db.dispatch(ctx, op, &body).await {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{op} for {}: {e}", ctx.account_id)),
    }
}

fn put_body(pk: &str) -> Value {
    json!({"TableName": "tbl", "Item": {"pk": {"S": pk}, "v": {"S": "a small value"}, "n": {"N": "42"}}})
}

fn get_body(pk: &str) -> Value {
    json!({"TableName": "tbl", "Key": {"pk": {"S": pk}}})
}

async fn create_tenant(db: &Database, i: u64, items: u64) -> Result<(), String> {
    let ctx = context(i);
    let create = json!({
        "TableName": "tbl",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if let Err(e) = call(db, &ctx, "CreateTable", &create).await {
        // A rerun completes a directory: the table may be there already.
        if !e.contains("ResourceInUse") && !e.contains("already exists") {
            return Err(e);
        }
    }
    for item in 0..items {
        call(db, &ctx, "PutItem", &put_body(&format!("item{item}"))).await?;
    }
    Ok(())
}

pub fn run_worker(command: WorkerCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    match command {
        WorkerCommand::Create {
            data_dir,
            from,
            to,
            concurrency,
            items,
            writer_threads,
        } => runtime.block_on(async move {
            let db = Arc::new(open(&data_dir, writer_threads)?);
            let next = Arc::new(AtomicU64::new(from));
            let mut tasks = Vec::new();
            for _ in 0..concurrency.max(1) {
                let (db, next) = (db.clone(), next.clone());
                tasks.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= to {
                            return Ok::<(), String>(());
                        }
                        create_tenant(&db, i, items).await?;
                    }
                }));
            }
            for task in tasks {
                task.await.map_err(|e| e.to_string())??;
            }
            Ok(())
        }),
        WorkerCommand::Measure {
            data_dir,
            tenants,
            cold_samples,
            hot_seconds,
            rounds,
            hot_concurrency,
        } => runtime.block_on(measure(
            data_dir,
            tenants,
            cold_samples,
            Duration::from_secs(hot_seconds),
            rounds,
            hot_concurrency,
        )),
    }
}

fn rss_kib() -> u64 {
    procfs::rss_kib(std::process::id()).unwrap_or(0)
}

async fn measure(
    data_dir: PathBuf,
    tenants: u64,
    cold_samples: u64,
    hot: Duration,
    rounds: usize,
    concurrency: usize,
) -> Result<(), String> {
    let db = Arc::new(open(&data_dir, StorageLimits::default().writer_threads)?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kib();
    let fds_idle = procfs::open_fds(std::process::id()).unwrap_or(0);

    // Cold first requests: GetItem on tenants never touched by this
    // process, in a pseudo-random order (a fixed LCG: reproducible).
    let mut cold = Vec::new();
    // Tenant 0 is the hot one; with a single tenant there is no cold one.
    let samples = cold_samples.min(tenants.saturating_sub(1));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut seen = std::collections::HashSet::new();
    while (cold.len() as u64) < samples {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let i = 1 + (x >> 33) % (tenants - 1);
        if !seen.insert(i) {
            if seen.len() as u64 >= tenants.saturating_sub(1) {
                break;
            }
            continue;
        }
        let start = Instant::now();
        call(&db, &context(i), "GetItem", &get_body("item0")).await?;
        cold.push(start.elapsed());
    }
    cold.sort();
    let pct = |p: f64| {
        cold.get(((cold.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rss_touched = rss_kib();
    let fds_touched = procfs::open_fds(std::process::id()).unwrap_or(0);

    // Hot single tenant: tenant 0, GetItem and PutItem.
    let mut get_rounds = Vec::new();
    let mut put_rounds = Vec::new();
    for _ in 0..rounds {
        get_rounds.push(hot_round(&db, "GetItem", hot, concurrency).await?);
        put_rounds.push(hot_round(&db, "PutItem", hot, concurrency).await?);
    }
    let out = json!({
        "tenants": tenants,
        "rss_idle_kib": rss_idle,
        "fds_idle": fds_idle,
        "cold_samples": cold.len(),
        "cold_p50_ms": pct(0.50),
        "cold_p99_ms": pct(0.99),
        "cold_max_ms": cold.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        "rss_after_cold_kib": rss_touched,
        "fds_after_cold": fds_touched,
        "hot_get_ops": get_rounds,
        "hot_put_ops": put_rounds,
    });
    println!("{out}");
    Ok(())
}

async fn hot_round(
    db: &Arc<Database>,
    op: &'static str,
    window: Duration,
    concurrency: usize,
) -> Result<f64, String> {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency.max(1) {
        let (db, done) = (db.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let ctx = context(0);
            let mut k = 0u64;
            while start.elapsed() < window {
                let pk = format!("item{}", (w as u64 * 7919 + k) % 3);
                let body = if op == "GetItem" {
                    get_body(&pk)
                } else {
                    put_body(&format!("hot{w}-{}", k % 1000))
                };
                call(&db, &ctx, op, &body).await?;
                done.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Bytes the files under `dir` take on disk (allocated blocks, as `du`).
fn disk_bytes(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let (mut bytes, mut files) = (0u64, 0u64);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        if let Ok(m) = std::fs::metadata(&d) {
            bytes += m.blocks() * 512;
        }
        for entry in entries.flatten() {
            let Ok(m) = entry.metadata() else { continue };
            if m.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += m.blocks() * 512;
                files += 1;
            }
        }
    }
    (bytes, files)
}

fn worker(args: &[String]) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("tenants-worker")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "tenants-worker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn create_all(a: &TenantsArgs, dir: &Path, n: u64) -> Result<Duration, String> {
    let start = Instant::now();
    let mut from = 0;
    while from < n {
        let to = (from + a.batch.max(1)).min(n);
        worker(&[
            "create".into(),
            "--data-dir".into(),
            dir.display().to_string(),
            "--from".into(),
            from.to_string(),
            "--to".into(),
            to.to_string(),
            "--concurrency".into(),
            a.concurrency.to_string(),
            "--items".into(),
            a.items.to_string(),
            "--writer-threads".into(),
            a.writer_threads.to_string(),
        ])?;
        eprintln!(
            "  {}: {to}/{n} tenants created ({:.0}/s)",
            dir.display(),
            to as f64 / start.elapsed().as_secs_f64()
        );
        from = to;
    }
    Ok(start.elapsed())
}

fn measure_dir(a: &TenantsArgs, dir: &Path, n: u64) -> Result<Value, String> {
    let line = worker(&[
        "measure".into(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--tenants".into(),
        n.to_string(),
        "--cold-samples".into(),
        a.cold_samples.to_string(),
        "--hot-seconds".into(),
        a.hot_seconds.to_string(),
        "--rounds".into(),
        a.rounds.to_string(),
        "--hot-concurrency".into(),
        a.hot_concurrency.to_string(),
    ])?;
    serde_json::from_str(line.trim()).map_err(|e| format!("measure output {line:?}: {e}"))
}

pub fn run(a: TenantsArgs) -> Result<(), String> {
    let load = procfs::load_average();
    let sizes = [(1u64, "n1"), (1000, "n1000"), (a.tenants, "big")];
    let mut results = Vec::new();
    for (n, name) in sizes {
        let dir = a.root.join(if name == "big" {
            format!("n{n}")
        } else {
            name.into()
        });
        let took = create_all(&a, &dir, n)?;
        let (bytes, files) = disk_bytes(&dir.join("tenants"));
        eprintln!("  measuring {}", dir.display());
        let m = measure_dir(&a, &dir, n)?;
        results.push((n, took, bytes, files, m));
    }
    println!(
        "load average at start: {:?}, at end: {:?}",
        load,
        procfs::load_average()
    );
    println!("| tenants | create time | disk/tenant (tenants/) | files | RSS idle | RSS after {} cold | cold p50 / p99 / max | hot GetItem ops/s (rounds) | hot PutItem ops/s (rounds) |", a.cold_samples);
    println!("|---|---|---|---|---|---|---|---|---|");
    for (n, took, bytes, files, m) in &results {
        let rounds = |k: &str| {
            m[k].as_array()
                .map(|v| {
                    v.iter()
                        .map(|x| format!("{:.0}", x.as_f64().unwrap_or(0.0)))
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .unwrap_or_default()
        };
        println!(
            "| {n} | {:.0} s | {:.1} KiB | {files} | {} MiB | {} MiB | {:.2} / {:.2} / {:.2} ms | {} | {} |",
            took.as_secs_f64(),
            *bytes as f64 / 1024.0 / *n as f64,
            m["rss_idle_kib"].as_u64().unwrap_or(0) / 1024,
            m["rss_after_cold_kib"].as_u64().unwrap_or(0) / 1024,
            m["cold_p50_ms"].as_f64().unwrap_or(0.0),
            m["cold_p99_ms"].as_f64().unwrap_or(0.0),
            m["cold_max_ms"].as_f64().unwrap_or(0.0),
            rounds("hot_get_ops"),
            rounds("hot_put_ops"),
        );
    }
    for (n, _, _, _, m) in &results {
        println!("raw n={n}: {m}");
    }
    Ok(())
}
