//! The full-table Scan: one client reads every item of `bench_scan` page
//! by page (DynamoDB's 1 MB pages), following `LastEvaluatedKey` to the
//! end, while a sampler thread records the server's resident memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;

use crate::client::Conn;
use crate::dataset::Dataset;
use crate::procfs;
use crate::target::Target;
use crate::wire;

/// How often the server's `VmRSS` is read during the scan.
const RSS_PERIOD: Duration = Duration::from_millis(10);

/// What one full scan measured.
pub struct ScanResult {
    pub target: String,
    /// Items in the table.
    pub expected: u64,
    /// Items returned (sum of the pages' `Count`).
    pub items: u64,
    pub pages: u64,
    /// First request to last answer.
    pub elapsed: Duration,
    /// Whether the scan reached the last page before the time limit.
    pub complete: bool,
    /// Latency of each page request, in microseconds.
    pub page_latency: Histogram<u64>,
    /// Server CPU time over the scan, in microseconds.
    pub server_cpu_us: Option<u64>,
    /// Server `VmRSS` just before the scan, in KiB.
    pub rss_before_kib: Option<u64>,
    /// Highest server `VmRSS` sampled during the scan, in KiB.
    pub rss_peak_kib: Option<u64>,
}

impl ScanResult {
    pub fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn scan_body(exclusive_start: Option<&str>) -> Bytes {
    let table = Dataset::Scan.table();
    Bytes::from(match exclusive_start {
        None => format!(r#"{{"TableName":"{table}"}}"#),
        Some(key) => format!(r#"{{"TableName":"{table}","ExclusiveStartKey":{key}}}"#),
    })
}

/// Scans from the start for `warmup` (unmeasured, JIT and caches), then
/// scans the whole table once, giving up after `limit`.
pub async fn measure(
    target: &Target,
    expected: u64,
    warmup: Duration,
    limit: Duration,
) -> Result<ScanResult, String> {
    let mut conn = Conn::open(target).await?;
    let warm_end = Instant::now() + warmup;
    let mut key: Option<String> = None;
    while Instant::now() < warm_end {
        let reply = conn.call("Scan", scan_body(key.as_deref())).await?;
        if !reply.ok() {
            return Err(format!(
                "{}: Scan (warm-up) answered {}",
                target.name,
                wire::reply_text(&reply)
            ));
        }
        key = wire::last_evaluated_key(&reply.body);
        if key.is_none() {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let rss_before_kib = target.pid.and_then(procfs::rss_kib);
    let sampler = target.pid.map(RssSampler::start);
    let cpu0 = target.pid.and_then(procfs::cpu_micros);
    let mut page_latency =
        Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
    let (mut items, mut pages, mut complete) = (0u64, 0u64, false);
    let mut key: Option<String> = None;
    let started = Instant::now();
    let deadline = started + limit;
    let outcome = loop {
        let t0 = Instant::now();
        if t0 >= deadline {
            break Ok(());
        }
        let reply = match conn.call("Scan", scan_body(key.as_deref())).await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        page_latency.saturating_record((t0.elapsed().as_micros() as u64).max(1));
        if !reply.ok() {
            break Err(format!(
                "{}: Scan page {} answered {}",
                target.name,
                pages + 1,
                wire::reply_text(&reply)
            ));
        }
        let Some(count) = wire::count(&reply.body) else {
            break Err(format!(
                "{}: Scan page {} without Count",
                target.name,
                pages + 1
            ));
        };
        items += count;
        pages += 1;
        key = wire::last_evaluated_key(&reply.body);
        if key.is_none() {
            complete = true;
            break Ok(());
        }
    };
    let elapsed = started.elapsed();
    let cpu1 = target.pid.and_then(procfs::cpu_micros);
    let rss_peak_kib = sampler.and_then(RssSampler::stop);
    outcome?;
    Ok(ScanResult {
        target: target.name.clone(),
        expected,
        items,
        pages,
        elapsed,
        complete,
        page_latency,
        server_cpu_us: cpu0.zip(cpu1).map(|(a, b)| b.saturating_sub(a)),
        rss_before_kib,
        rss_peak_kib,
    })
}

/// A thread reading a process's `VmRSS` every [`RSS_PERIOD`], keeping the
/// highest value (a thread, so that sampling goes on while the client's
/// single-threaded runtime is busy with a page).
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: thread::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, peak) = (stop.clone(), peak.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = procfs::rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    thread::sleep(RSS_PERIOD);
                }
            })
        };
        RssSampler { stop, peak, handle }
    }

    /// Stops sampling; the peak in KiB, if any sample was read.
    fn stop(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        Some(self.peak.load(Ordering::Relaxed)).filter(|&kib| kib > 0)
    }
}
