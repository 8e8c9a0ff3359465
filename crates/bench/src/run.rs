//! The closed-loop measurement of one (target, workload, concurrency)
//! cell.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::sleep_until;

use bytes::Bytes;

use crate::client::{Conn, Reply};
use crate::dataset::Shape;
use crate::procfs;
use crate::streams::Reader;
use crate::target::Target;
use crate::workload::{Outcome, Rng, Workload};

/// Parameters shared by every cell of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Measured window per cell.
    pub duration: Duration,
    /// Unmeasured time before the window.
    pub warmup: Duration,
    /// Sizes of the pre-loaded tables.
    pub shape: Shape,
}

/// What one cell measured.
pub struct CellResult {
    /// Target label.
    pub target: String,
    /// Workload.
    pub workload: Workload,
    /// Number of connections / in-flight requests.
    pub concurrency: usize,
    /// Requests given the expected answer inside the window.
    pub ok: u64,
    /// Items read or written by the requests of the window (for the
    /// multi-item writes, including those of partial answers).
    pub items: u64,
    /// `BatchWriteItem` answers with items left in `UnprocessedItems`.
    pub partial: u64,
    /// Items left in `UnprocessedItems` (not retried).
    pub unprocessed: u64,
    /// `TransactWriteItems` cancelled by `TransactionConflict` only.
    pub conflicts: u64,
    /// Requests answered otherwise (or not at all) inside the window.
    pub errors: u64,
    /// Unmeasured calls made on the way inside the window (`get-records`:
    /// GetShardIterator), answered correctly; not in `ok` or the latency.
    pub side_calls: u64,
    /// Why the target could not run this cell (e.g. it has no streams);
    /// everything else is then zero.
    pub unsupported: Option<String>,
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
    /// A cell the target could not run, and why.
    pub fn unsupported(
        target: &str,
        workload: Workload,
        concurrency: usize,
        window: Duration,
        why: &str,
    ) -> CellResult {
        CellResult {
            target: target.to_owned(),
            workload,
            concurrency,
            ok: 0,
            items: 0,
            partial: 0,
            unprocessed: 0,
            conflicts: 0,
            errors: 0,
            side_calls: 0,
            unsupported: Some(why.to_owned()),
            error_kinds: BTreeMap::new(),
            error_sample: None,
            window,
            latency: new_histogram(),
            server_cpu_us: None,
            client_cpu_us: None,
        }
    }

    /// Successful operations per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// Items read or written per second.
    pub fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.window.as_secs_f64()
    }

    /// Requests of the window, whatever their answer (not counting
    /// [`CellResult::side_calls`]).
    pub fn requests(&self) -> u64 {
        self.ok + self.partial + self.conflicts + self.errors
    }

    /// Server CPU microseconds per item read or written (per record for
    /// `get-records`).
    pub fn server_cpu_per_item(&self) -> Option<f64> {
        self.server_cpu_us
            .filter(|_| self.items > 0)
            .map(|us| us as f64 / self.items as f64)
    }

    /// Server CPU microseconds per request (successful or not).
    pub fn server_cpu_per_op(&self) -> Option<f64> {
        let n = self.requests();
        self.server_cpu_us
            .filter(|_| n > 0)
            .map(|us| us as f64 / n as f64)
    }

    /// Client CPU microseconds per request.
    pub fn client_cpu_per_op(&self) -> Option<f64> {
        let n = self.requests();
        self.client_cpu_us
            .filter(|_| n > 0)
            .map(|us| us as f64 / n as f64)
    }
}

/// What one worker saw in the window.
struct WorkerTally {
    ok: u64,
    items: u64,
    partial: u64,
    unprocessed: u64,
    conflicts: u64,
    errors: u64,
    side_calls: u64,
    kinds: BTreeMap<String, u64>,
    sample: Option<String>,
    latency: Histogram<u64>,
}

impl WorkerTally {
    fn new() -> WorkerTally {
        WorkerTally {
            ok: 0,
            items: 0,
            partial: 0,
            unprocessed: 0,
            conflicts: 0,
            errors: 0,
            side_calls: 0,
            kinds: BTreeMap::new(),
            sample: None,
            latency: new_histogram(),
        }
    }

    /// Counts the judged answer of a measured request.
    fn count(&mut self, judged: Outcome) {
        match judged {
            Outcome::Ok { items } => {
                self.ok += 1;
                self.items += items;
            }
            Outcome::Partial {
                written,
                unprocessed,
            } => {
                self.partial += 1;
                self.items += written;
                self.unprocessed += unprocessed;
            }
            Outcome::Conflict => self.conflicts += 1,
            Outcome::Error { kind, sample } => self.error(kind, sample),
        }
    }

    /// Counts the judged answer of an unmeasured call made on the way: an
    /// error counts as one, a correct answer only as a side call.
    fn count_side(&mut self, judged: Outcome) {
        match judged {
            Outcome::Error { kind, sample } => self.error(kind, sample),
            _ => self.side_calls += 1,
        }
    }

    fn error(&mut self, kind: String, sample: String) {
        self.errors += 1;
        *self.kinds.entry(kind).or_default() += 1;
        self.sample.get_or_insert(sample);
    }
}

/// Where a worker's requests come from.
enum Driver {
    /// Independent requests on keys drawn at random.
    Keys { rng: Rng, keys: Vec<u64> },
    /// `get-records`: GetRecords along the stream's shard iterators.
    Stream(Reader),
}

impl Driver {
    /// The next request: operation, body, and whether it is measured.
    fn next(&mut self, workload: Workload, seq: u64, shape: &Shape) -> (&'static str, Bytes, bool) {
        match self {
            Driver::Keys { rng, keys } => {
                workload.draw_keys(rng, shape, keys);
                (workload.operation(), workload.body(keys, seq, shape), true)
            }
            Driver::Stream(reader) => reader.next_request(),
        }
    }

    /// Judges an answer. The stream reader reads every answer (it carries
    /// the next iterator); the others are judged only when `counted`.
    fn judge(&mut self, workload: Workload, reply: &Reply, counted: bool) -> Option<Outcome> {
        match self {
            Driver::Stream(reader) => Some(reader.take(reply)),
            Driver::Keys { .. } if counted => Some(workload.check(reply)),
            Driver::Keys { .. } => None,
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Runs one closed-loop cell: `concurrency` workers, each with its own
/// keep-alive connection, each sending its next request when the previous
/// one is answered; a warm-up, then the measured window. `get-records`
/// workers first find the stream and its shards (DescribeTable,
/// DescribeStream, a TRIM_HORIZON iterator per shard), before the warm-up.
pub async fn measure(
    target: &Target,
    workload: Workload,
    concurrency: usize,
    plan: &Plan,
) -> Result<CellResult, String> {
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let mut conn = Conn::open(target).await?;
        let driver = if workload == Workload::GetRecords {
            let table = workload.dataset().table();
            let reader = Reader::open(&mut conn, target, table, worker)
                .await
                .map_err(|e| format!("{}: get-records set-up: {e}", target.name))?;
            Driver::Stream(reader)
        } else {
            Driver::Keys {
                rng: Rng::new(worker as u64 + 1),
                keys: Vec::with_capacity(workload.keys_per_request()),
            }
        };
        workers.push((conn, driver));
    }
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let window_end = window_start + plan.duration;
    let mut set = JoinSet::new();
    for (worker, (mut conn, mut driver)) in workers.into_iter().enumerate() {
        let target = target.clone();
        let shape = plan.shape.clone();
        set.spawn(async move {
            let mut tally = WorkerTally::new();
            let mut seq = (worker as u64) << 40;
            loop {
                seq += 1;
                let (op, body, measured) = driver.next(workload, seq, &shape);
                let t0 = Instant::now();
                if t0 >= window_end {
                    break;
                }
                let outcome = conn.call(op, body).await;
                let t1 = Instant::now();
                let counted = t0 >= window_start && t1 <= window_end;
                let judged = match &outcome {
                    Ok(reply) => driver.judge(workload, reply, counted),
                    Err(e) => Some(Outcome::Error {
                        kind: "transport".to_owned(),
                        sample: e.clone(),
                    }),
                };
                if let (true, Some(judged)) = (counted, judged) {
                    if measured {
                        let micros = (t1 - t0).as_micros().clamp(1, 60_000_000) as u64;
                        tally.latency.saturating_record(micros);
                        tally.count(judged);
                    } else {
                        tally.count_side(judged);
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
        items: 0,
        partial: 0,
        unprocessed: 0,
        conflicts: 0,
        errors: 0,
        side_calls: 0,
        unsupported: None,
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
        result.items += tally.items;
        result.partial += tally.partial;
        result.unprocessed += tally.unprocessed;
        result.conflicts += tally.conflicts;
        result.errors += tally.errors;
        result.side_calls += tally.side_calls;
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
