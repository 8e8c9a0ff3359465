//! Table set-up, pre-loading and the closed-loop measurement of one
//! (target, workload, concurrency) cell.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use crate::client::{Conn, Reply};
use crate::procfs;
use crate::target::Target;
use crate::workload::{Rng, Workload, TABLE};

/// Parameters shared by every cell of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Measured window per cell.
    pub duration: Duration,
    /// Unmeasured time before the window.
    pub warmup: Duration,
    /// Key space and number of pre-loaded items.
    pub items: u64,
}

/// What one cell measured.
pub struct CellResult {
    /// Target label.
    pub target: String,
    /// Workload.
    pub workload: Workload,
    /// Number of connections / in-flight requests.
    pub concurrency: usize,
    /// Requests answered with HTTP 200 inside the window.
    pub ok: u64,
    /// Requests answered otherwise (or not at all) inside the window.
    pub errors: u64,
    /// Error kinds and counts, e.g. `400 ValidationException`.
    pub error_kinds: BTreeMap<String, u64>,
    /// One error body, for the report.
    pub error_sample: Option<String>,
    /// Length of the measured window.
    pub window: Duration,
    /// Latency of every request in the window, in microseconds.
    pub latency: Histogram<u64>,
    /// Server CPU time over the window, in microseconds, when the PID is known.
    pub server_cpu_us: Option<u64>,
    /// This load generator's CPU time over the window, in microseconds.
    pub client_cpu_us: Option<u64>,
}

impl CellResult {
    /// Successful operations per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// Server CPU microseconds per request (successful or not).
    pub fn server_cpu_per_op(&self) -> Option<f64> {
        let n = self.ok + self.errors;
        self.server_cpu_us
            .filter(|_| n > 0)
            .map(|us| us as f64 / n as f64)
    }

    /// Client CPU microseconds per request.
    pub fn client_cpu_per_op(&self) -> Option<f64> {
        let n = self.ok + self.errors;
        self.client_cpu_us
            .filter(|_| n > 0)
            .map(|us| us as f64 / n as f64)
    }
}

async fn call_ok(conn: &mut Conn, op: &str, body: String) -> Result<Reply, String> {
    conn.call(op, Bytes::from(body)).await
}

fn fail(target: &Target, what: &str, reply: &Reply) -> String {
    format!(
        "{}: {what} answered {}: {}",
        target.name,
        reply.status,
        String::from_utf8_lossy(&reply.body)
    )
}

/// Deletes the `bench` table if it exists, creates it fresh (pk S,
/// PAY_PER_REQUEST), waits for ACTIVE and loads `items` items.
pub async fn prepare(target: &Target, items: u64) -> Result<(), String> {
    let mut conn = Conn::open(target).await?;
    let name = format!(r#"{{"TableName":"{TABLE}"}}"#);
    let deleted = call_ok(&mut conn, "DeleteTable", name.clone()).await?;
    if deleted.ok() {
        wait_for(target, &mut conn, |r| !r.ok(), "the old table to disappear").await?;
    } else if !deleted.error_kind().contains("ResourceNotFoundException") {
        return Err(fail(target, "DeleteTable", &deleted));
    }
    let create = format!(
        r#"{{"TableName":"{TABLE}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
    );
    let created = call_ok(&mut conn, "CreateTable", create).await?;
    if !created.ok() {
        return Err(fail(target, "CreateTable", &created));
    }
    wait_for(
        target,
        &mut conn,
        |r| r.ok() && r.json()["Table"]["TableStatus"] == "ACTIVE",
        "the table to become ACTIVE",
    )
    .await?;
    preload(target, items).await
}

async fn wait_for(
    target: &Target,
    conn: &mut Conn,
    done: impl Fn(&Reply) -> bool,
    what: &str,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = call_ok(
            conn,
            "DescribeTable",
            format!(r#"{{"TableName":"{TABLE}"}}"#),
        )
        .await?;
        if done(&reply) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{}: timed out waiting for {what}", target.name));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Loads items `0..items` with `PutItem` over 16 connections (PutItem
/// rather than BatchWriteItem so that every server can be loaded the same
/// way with the one operation all of them implement).
async fn preload(target: &Target, items: u64) -> Result<(), String> {
    const LOADERS: u64 = 16;
    let mut set = JoinSet::new();
    for loader in 0..LOADERS {
        let target = target.clone();
        set.spawn(async move {
            let mut conn = Conn::open(&target).await?;
            let mut key = loader;
            while key < items {
                let reply = conn.call("PutItem", Workload::Put.body(key, 0)).await?;
                if !reply.ok() {
                    return Err(fail(&target, "PutItem (pre-load)", &reply));
                }
                key += LOADERS;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| format!("pre-load task: {e}"))??;
    }
    Ok(())
}

/// What one worker saw in the window.
struct WorkerTally {
    ok: u64,
    errors: u64,
    kinds: BTreeMap<String, u64>,
    sample: Option<String>,
    latency: Histogram<u64>,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Runs one closed-loop cell: `concurrency` workers, each with its own
/// keep-alive connection, each sending its next request when the previous
/// one is answered; a warm-up, then the measured window.
pub async fn measure(
    target: &Target,
    workload: Workload,
    concurrency: usize,
    plan: &Plan,
) -> Result<CellResult, String> {
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        conns.push(Conn::open(target).await?);
    }
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let window_end = window_start + plan.duration;
    let items = plan.items;
    let mut set = JoinSet::new();
    for (worker, mut conn) in conns.into_iter().enumerate() {
        let target = target.clone();
        set.spawn(async move {
            let mut rng = Rng::new(worker as u64 + 1);
            let mut tally = WorkerTally {
                ok: 0,
                errors: 0,
                kinds: BTreeMap::new(),
                sample: None,
                latency: new_histogram(),
            };
            let mut seq = (worker as u64) << 40;
            loop {
                let key = rng.below(items);
                seq += 1;
                let body = workload.body(key, seq);
                let t0 = Instant::now();
                if t0 >= window_end {
                    break;
                }
                let outcome = conn.call(workload.operation(), body).await;
                let t1 = Instant::now();
                let counted = t0 >= window_start && t1 <= window_end;
                let error = match &outcome {
                    Ok(reply) if reply.ok() => {
                        if workload == Workload::Get && !contains(&reply.body, b"\"Item\"") {
                            Some(("200 GetItem without Item".to_owned(), reply_text(reply)))
                        } else {
                            None
                        }
                    }
                    Ok(reply) => Some((reply.error_kind(), reply_text(reply))),
                    Err(e) => Some(("transport".to_owned(), e.clone())),
                };
                if counted {
                    let micros = (t1 - t0).as_micros().clamp(1, 60_000_000) as u64;
                    tally.latency.saturating_record(micros);
                    match error {
                        None => tally.ok += 1,
                        Some((kind, text)) => {
                            tally.errors += 1;
                            *tally.kinds.entry(kind).or_default() += 1;
                            tally.sample.get_or_insert(text);
                        }
                    }
                }
                if outcome.is_err() {
                    // Reconnect; keep trying until the window ends.
                    loop {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        if Instant::now() >= window_end {
                            return tally;
                        }
                        if let Ok(c) = Conn::open(&target).await {
                            conn = c;
                            break;
                        }
                    }
                }
            }
            tally
        });
    }

    sleep_until(window_start.into()).await;
    let server0 = target.pid.and_then(procfs::cpu_micros);
    let client0 = procfs::cpu_micros(std::process::id());
    sleep_until(window_end.into()).await;
    let server1 = target.pid.and_then(procfs::cpu_micros);
    let client1 = procfs::cpu_micros(std::process::id());

    let mut result = CellResult {
        target: target.name.clone(),
        workload,
        concurrency,
        ok: 0,
        errors: 0,
        error_kinds: BTreeMap::new(),
        error_sample: None,
        window: plan.duration,
        latency: new_histogram(),
        server_cpu_us: server0.zip(server1).map(|(a, b)| b.saturating_sub(a)),
        client_cpu_us: client0.zip(client1).map(|(a, b)| b.saturating_sub(a)),
    };
    while let Some(joined) = set.join_next().await {
        let tally = joined.map_err(|e| format!("worker task: {e}"))?;
        result.ok += tally.ok;
        result.errors += tally.errors;
        for (kind, n) in tally.kinds {
            *result.error_kinds.entry(kind).or_default() += n;
        }
        if result.error_sample.is_none() {
            result.error_sample = tally.sample;
        }
        result
            .latency
            .add(&tally.latency)
            .map_err(|e| format!("merging histograms: {e}"))?;
    }
    Ok(result)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn reply_text(reply: &Reply) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    let cut: String = text.chars().take(300).collect();
    format!("HTTP {}: {cut}", reply.status.as_u16())
}
