//! The soak's figures and report: one row per interval (throughput,
//! answers by class, latency per operation, the server's resources), the
//! verdicts, and the markdown that shows them.

use std::fmt::Write as _;
use std::time::Duration;

use super::memory::{self, Sample, Tolerance, Verdict};
use super::mix::{Class, OPS};
use super::server::Ending;
use super::tally::{OpTally, Tally};
use crate::report::{fmt_opt, mib, percent};

/// Both end stretches whose medians the verdicts compare.
const SETTLE_SECS: f64 = 60.0;

/// The options the soak ran with, for the report.
pub struct Settings {
    pub duration: Duration,
    pub warmup: Duration,
    pub interval: Duration,
    pub sample_every: Duration,
    pub concurrency: usize,
    pub stream_readers: usize,
    pub keys: u64,
    pub hot_keys: u64,
    pub flat_percent: f64,
    pub flat_mib: f64,
    pub flat_fds: u64,
    /// The started server's; `None` when attached.
    pub ttl_sweep_interval: Option<String>,
    pub url: Option<String>,
    pub pid: Option<u32>,
}

/// One operation over one interval.
pub struct OpFigures {
    pub requests: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

fn quantile(t: &OpTally, q: f64) -> u64 {
    if t.latency.is_empty() {
        0
    } else {
        t.latency.value_at_quantile(q)
    }
}

impl OpFigures {
    fn of(t: &OpTally) -> OpFigures {
        OpFigures {
            requests: t.requests(),
            p50_us: quantile(t, 0.5),
            p99_us: quantile(t, 0.99),
            max_us: if t.latency.is_empty() {
                0
            } else {
                t.latency.max()
            },
        }
    }
}

/// One interval of the window.
pub struct IntervalRow {
    /// Since the window started.
    pub end: Duration,
    pub span: Duration,
    pub ops: Vec<OpFigures>,
    pub all: OpTally,
    pub records: u64,
    pub max_lag_ms: Option<u64>,
    /// The last sample of the interval.
    pub sample: Option<Sample>,
    pub server_cores: Option<f64>,
    pub client_cores: Option<f64>,
}

impl IntervalRow {
    pub fn new(
        end: Duration,
        span: Duration,
        tally: &Tally,
        sample: Option<Sample>,
        server_cores: Option<f64>,
        client_cores: Option<f64>,
    ) -> IntervalRow {
        IntervalRow {
            end,
            span,
            ops: tally.ops.iter().map(OpFigures::of).collect(),
            all: tally.all(),
            records: tally.streams.records,
            max_lag_ms: tally.streams.max_lag_ms,
            sample,
            server_cores,
            client_cores,
        }
    }

    fn per_sec(&self, n: u64) -> f64 {
        n as f64 / self.span.as_secs_f64().max(1e-9)
    }

    /// The line printed as the interval closes.
    pub fn progress_line(&self) -> String {
        let a = &self.all;
        let s = self.sample.unwrap_or_default();
        format!(
            "{} | {:.0} req/s, {} errors, {} throttled, {} conflicts, {} cond. failed, p99 {} ms | RSS {} MiB, HWM {}, {} fds, {} threads, data {} MiB | server {} cores, client {} | stream {:.0} rec/s, lag {} s",
            clock(self.end),
            self.per_sec(a.requests()),
            a.errors,
            a.throttled,
            a.conflicts,
            a.cond_failed,
            ms(quantile(a, 0.99)),
            fmt_opt(mib(s.status.rss_kib), 1),
            fmt_opt(mib(s.status.hwm_kib), 1),
            opt(s.fds),
            opt(s.status.threads),
            fmt_opt(s.data_bytes.map(|b| b as f64 / 1048576.0), 1),
            fmt_opt(self.server_cores, 2),
            fmt_opt(self.client_cores, 2),
            self.per_sec(self.records),
            fmt_opt(self.max_lag_ms.map(|l| l as f64 / 1000.0), 1),
        )
    }
}

/// Everything a soak produced.
pub struct Outcome {
    pub args: Settings,
    pub cores: usize,
    pub load_average_start: Option<[f64; 3]>,
    pub load_average_end: Option<[f64; 3]>,
    pub load_time: Duration,
    pub items_after_load: u64,
    pub items_at_end: Option<Result<u64, String>>,
    pub after_load: Option<Sample>,
    pub samples: Vec<Sample>,
    pub rows: Vec<IntervalRow>,
    pub total: Tally,
    /// The window as run (shorter than asked if the server died).
    pub window: Duration,
    pub ended_early: Option<String>,
    pub acked: u64,
    pub ambiguous: u64,
    pub hot_sum: Option<Result<u64, String>>,
    pub rss: Option<Verdict>,
    pub fds: Option<Verdict>,
    pub tolerance: Tolerance,
    pub fd_tolerance: Tolerance,
    pub server_command: Option<String>,
    pub ending: Option<Ending>,
}

impl Outcome {
    /// Computes the memory and descriptor verdicts from the samples.
    pub fn judged(mut self) -> Outcome {
        let window = self.window.as_secs_f64();
        let series = |f: &dyn Fn(&Sample) -> Option<u64>| -> Vec<(f64, f64)> {
            self.samples
                .iter()
                .filter_map(|s| f(s).map(|v| (s.at.as_secs_f64(), v as f64)))
                .collect()
        };
        self.rss = memory::verdict(
            &series(&|s| s.status.rss_kib),
            window,
            SETTLE_SECS,
            self.tolerance,
        );
        self.fds = memory::verdict(&series(&|s| s.fds), window, SETTLE_SECS, self.fd_tolerance);
        self
    }
}

/// Why the soak failed; empty when it passed.
pub fn failures(o: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = &o.ended_early {
        out.push(why.clone());
    }
    let all = o.total.all();
    if all.requests() == 0 {
        out.push("no request was made in the window".into());
    }
    if all.errors > 0 {
        out.push(format!("{} errors", all.errors));
    }
    if o.args.pid.is_some() {
        match &o.rss {
            Some(v) if !v.flat => out.push(format!(
                "memory not flat ({:+.1} MiB, trend {:+.2} MiB/min)",
                v.growth() / 1024.0,
                v.slope_per_min / 1024.0
            )),
            None => out.push("too few memory samples for a verdict".into()),
            _ => {}
        }
        if let Some(v) = o.fds.filter(|v| !v.flat) {
            out.push(format!(
                "open descriptors not flat ({:+.0}, trend {:+.2}/min)",
                v.growth(),
                v.slope_per_min
            ));
        }
    }
    if o.total.streams.seq_violations > 0 {
        out.push(format!(
            "{} stream sequence numbers did not grow",
            o.total.streams.seq_violations
        ));
    }
    match &o.hot_sum {
        Some(Ok(sum)) if !hot_consistent(*sum, o.acked, o.ambiguous) => out.push(format!(
            "hot counters sum to {sum}, acknowledged increments {} (+{} unanswered)",
            o.acked, o.ambiguous
        )),
        Some(Err(e)) => out.push(format!("hot counters: {e}")),
        _ => {}
    }
    if let Some(Err(e)) = &o.items_at_end {
        out.push(format!("counting items at the end: {e}"));
    }
    if let Some(e) = &o.ending {
        if e.died_early {
            out.push("the server was gone at the end".into());
        }
        match e.status {
            None => out.push("the server did not stop within 60 s of SIGTERM".into()),
            Some(s) if !s.success() && !e.died_early => {
                out.push(format!("the server exited with {s}"))
            }
            _ => {}
        }
        if e.log.panics + e.log.errors > 0 {
            out.push(format!(
                "the server logged {} errors and {} panics",
                e.log.errors, e.log.panics
            ));
        }
    }
    out
}

/// Each acknowledged increment applied once, and of those sent without an
/// answer, any number.
fn hot_consistent(sum: u64, acked: u64, ambiguous: u64) -> bool {
    sum >= acked && sum <= acked + ambiguous
}

/// `m:ss`.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Milliseconds with the digits that matter.
fn ms(us: u64) -> String {
    let v = us as f64 / 1000.0;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn load(l: Option<[f64; 3]>) -> String {
    l.map_or_else(
        || "-".to_owned(),
        |[a, b, c]| format!("{a:.2} / {b:.2} / {c:.2}"),
    )
}

fn resources(s: &Sample) -> String {
    format!(
        "RSS {} MiB, HWM {} MiB, {} fds, {} threads, data {} MiB",
        fmt_opt(mib(s.status.rss_kib), 1),
        fmt_opt(mib(s.status.hwm_kib), 1),
        opt(s.fds),
        opt(s.status.threads),
        fmt_opt(s.data_bytes.map(|b| b as f64 / 1048576.0), 1)
    )
}

fn mib_f(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn verdict_row(
    out: &mut String,
    what: &str,
    v: Option<&Verdict>,
    unit: impl Fn(f64) -> String,
    tolerance: &str,
) {
    match v {
        Some(v) => {
            let settle = v.settle;
            let _ = writeln!(
                out,
                "| {what} | {} | median of the first {settle:.0} s {} → of the last {settle:.0} s {} ({}{}); trend {}{}/min, {}{} over the window after the first {settle:.0} s; tolerance {} ({tolerance}) |",
                if v.flat { "flat" } else { "**NOT flat**" },
                unit(v.baseline),
                unit(v.end),
                sign(v.growth()),
                unit(v.growth().abs()),
                sign(v.slope_per_min),
                unit(v.slope_per_min.abs()),
                sign(v.projected),
                unit(v.projected.abs()),
                unit(v.tolerance),
            );
        }
        None => {
            let _ = writeln!(out, "| {what} | not measured | no PID, or fewer than two samples in a minute at either end |");
        }
    }
}

fn sign(v: f64) -> &'static str {
    if v < 0.0 {
        "−"
    } else {
        "+"
    }
}

/// The whole report, as markdown.
pub fn markdown(o: &Outcome) -> String {
    let mut out = String::new();
    let a = &o.args;
    let window = o.window.as_secs_f64().max(1e-9);
    let _ = writeln!(out, "### Soak run\n");
    match (&o.server_command, &a.url) {
        (Some(command), _) => {
            let _ = writeln!(
                out,
                "- server: `{command}` (pid {})",
                opt(a.pid.map(u64::from))
            );
        }
        (None, Some(url)) => {
            let _ = writeln!(
                out,
                "- server: attached at {url} (pid {})",
                opt(a.pid.map(u64::from))
            );
        }
        _ => {}
    }
    let _ = writeln!(
        out,
        "- window: {:.0} s (asked {:.0} s) after {:.0} s of warm-up; workers: {}, stream readers: {}; {} items in {} partitions of 100 + {} hot items; TTL sweep: {}; samples every {:.0} s, rows every {:.0} s",
        o.window.as_secs_f64(),
        a.duration.as_secs_f64(),
        a.warmup.as_secs_f64(),
        a.concurrency,
        a.stream_readers,
        a.keys,
        a.keys / 100,
        a.hot_keys,
        a.ttl_sweep_interval
            .as_ref()
            .map_or_else(|| "as the server was started".to_owned(), |i| format!("every {i} s")),
        a.sample_every.as_secs_f64(),
        a.interval.as_secs_f64(),
    );
    let _ = writeln!(
        out,
        "- machine: {} cores; load average (1 / 5 / 15 min) {} at the start, {} at the end",
        o.cores,
        load(o.load_average_start),
        load(o.load_average_end)
    );
    let end_items = match &o.items_at_end {
        Some(Ok(n)) => n.to_string(),
        Some(Err(_)) => "unreadable".into(),
        None => "-".into(),
    };
    let _ = writeln!(
        out,
        "- table loaded in {:.1} s; items (Select COUNT scan): {} after loading, {end_items} at the end",
        o.load_time.as_secs_f64(),
        o.items_after_load
    );
    for (when, sample) in [
        ("after loading", o.after_load.as_ref()),
        ("at the start of the window", o.samples.first()),
        ("at the end of the window", o.samples.last()),
    ] {
        if let Some(s) = sample {
            let _ = writeln!(out, "- server {when}: {}", resources(s));
        }
    }

    let failures = failures(o);
    let _ = writeln!(
        out,
        "\n#### Verdict: {}\n",
        if failures.is_empty() { "PASS" } else { "FAIL" }
    );
    if !failures.is_empty() {
        for f in &failures {
            let _ = writeln!(out, "- {f}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| check | result | figures |\n|---|---|---|");
    verdict_row(
        &mut out,
        "memory (VmRSS)",
        o.rss.as_ref(),
        mib_f,
        &format!("the larger of {} % and {} MiB", a.flat_percent, a.flat_mib),
    );
    verdict_row(
        &mut out,
        "open file descriptors",
        o.fds.as_ref(),
        |v| format!("{v:.1}"),
        &format!("{} descriptors", a.flat_fds),
    );
    let st = &o.total.streams;
    if let (Some(first), Some(last)) = (
        o.samples.first().and_then(|s| s.data_bytes),
        o.samples.last().and_then(|s| s.data_bytes),
    ) {
        let growth = last as f64 - first as f64;
        let written = st.records / a.stream_readers.max(1) as u64;
        let per_record = if a.stream_readers > 0 && written > 0 {
            format!(
                ", {:.0} bytes per stream record written ({written} records)",
                growth / written as f64
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| data directory | not judged: stream records are kept 24 hours | {}{:.1} MiB over the window{per_record} |",
            sign(growth),
            growth.abs() / 1048576.0
        );
    }
    let all = o.total.all();
    let _ = writeln!(
        out,
        "| errors (5xx, wrong answers, no answer) | {} | of {} requests; {} throttled, {} conflicts, {} conditions failed (expected under load) |",
        all.errors,
        all.requests(),
        all.throttled,
        all.conflicts,
        all.cond_failed
    );
    let _ =
        writeln!(
        out,
        "| stream sequence numbers grow within each shard | {} | {} compared, {} did not grow |",
        if st.seq_violations == 0 { "yes" } else { "**NO**" },
        st.seq_checked,
        st.seq_violations
    );
    match &o.hot_sum {
        Some(Ok(sum)) => {
            let _ = writeln!(
                out,
                "| hot counters: every acknowledged increment applied once | {} | sum {sum}; acknowledged {}; sent without an answer {} |",
                if hot_consistent(*sum, o.acked, o.ambiguous) { "yes" } else { "**NO**" },
                o.acked,
                o.ambiguous
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "| hot counters | **unreadable** | {e} |");
        }
        None => {
            let _ = writeln!(out, "| hot counters | not checked | the server was gone |");
        }
    }
    if let Some(e) = &o.ending {
        let how = match (e.status, e.died_early) {
            (Some(s), true) => format!("gone before the end ({s})"),
            (Some(s), false) => format!("stopped by SIGTERM: {s}"),
            (None, _) => "killed: no exit within 60 s of SIGTERM".to_owned(),
        };
        let _ = writeln!(
            out,
            "| server process and log | {} | {how}; log: {} lines, {} warnings, {} errors, {} panics |",
            if !e.died_early && e.status.is_some_and(|s| s.success()) && e.log.errors + e.log.panics == 0 { "ok" } else { "**NOT ok**" },
            e.log.lines,
            e.log.warnings,
            e.log.errors,
            e.log.panics
        );
    }
    if let Some(e) = o.ending.as_ref().filter(|e| !e.log.first.is_empty()) {
        let _ = writeln!(
            out,
            "\nFirst warnings and errors of the server's log:\n\n```text"
        );
        for line in &e.log.first {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "```");
    }

    let _ = writeln!(
        out,
        "\n#### Over time\n\n| t | req/s | errors | throttled | conflicts | cond. failed | unprocessed | p99 ms | RSS MiB | HWM MiB | fds | threads | data MiB | server cores | client cores | records/s | stream lag s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in &o.rows {
        let s = r.sample.unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} |",
            clock(r.end),
            r.per_sec(r.all.requests()),
            r.all.errors,
            r.all.throttled,
            r.all.conflicts,
            r.all.cond_failed,
            r.all.unprocessed,
            ms(quantile(&r.all, 0.99)),
            fmt_opt(mib(s.status.rss_kib), 1),
            fmt_opt(mib(s.status.hwm_kib), 1),
            opt(s.fds),
            opt(s.status.threads),
            fmt_opt(s.data_bytes.map(|b| b as f64 / 1048576.0), 1),
            fmt_opt(r.server_cores, 2),
            fmt_opt(r.client_cores, 2),
            r.per_sec(r.records),
            fmt_opt(r.max_lag_ms.map(|l| l as f64 / 1000.0), 1),
        );
    }

    let _ = write!(
        out,
        "\n#### Latency per operation over time (p50 / p99 / max, ms)\n\n| t |"
    );
    for op in OPS {
        let _ = write!(out, " {} |", op.short());
    }
    let _ = write!(out, "\n|---|");
    for _ in OPS {
        out.push_str("---|");
    }
    out.push('\n');
    for r in &o.rows {
        let _ = write!(out, "| {} |", clock(r.end));
        for f in &r.ops {
            if f.requests == 0 {
                out.push_str(" - |");
            } else {
                let _ = write!(
                    out,
                    " {} / {} / {} |",
                    ms(f.p50_us),
                    ms(f.p99_us),
                    ms(f.max_us)
                );
            }
        }
        out.push('\n');
    }

    let _ = writeln!(
        out,
        "\n#### Per operation, whole window\n\n| operation | requests | req/s | ok | cond. failed | conflicts | throttled | unprocessed | errors | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for op in OPS {
        let t = o.total.op(op);
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            op.name(),
            t.requests(),
            t.requests() as f64 / window,
            t.ok,
            t.cond_failed,
            t.conflicts,
            t.throttled,
            t.unprocessed,
            t.errors,
            ms(quantile(t, 0.5)),
            ms(quantile(t, 0.99)),
            ms(quantile(t, 0.999)),
            ms(if t.latency.is_empty() {
                0
            } else {
                t.latency.max()
            }),
        );
    }
    let _ = writeln!(
        out,
        "| all | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        all.requests(),
        all.requests() as f64 / window,
        all.ok,
        all.cond_failed,
        all.conflicts,
        all.throttled,
        all.unprocessed,
        all.errors,
        ms(quantile(&all, 0.5)),
        ms(quantile(&all, 0.99)),
        ms(quantile(&all, 0.999)),
        ms(if all.latency.is_empty() {
            0
        } else {
            all.latency.max()
        }),
    );

    let _ = writeln!(out, "\n#### Answers other than success\n");
    if o.total.kinds.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        let _ = writeln!(out, "| operation | answer | class | count | share of the operation |\n|---|---|---|---:|---:|");
        for ((op, kind), k) in &o.total.kinds {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.2} % |",
                op.name(),
                kind,
                k.class.name(),
                k.count,
                percent(k.count, o.total.op(*op).requests())
            );
        }
        let errors: Vec<_> = o
            .total
            .kinds
            .iter()
            .filter(|(_, k)| k.class == Class::Error)
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nFirst answer of each error:\n\n```text");
            for ((op, kind), k) in errors {
                let _ = writeln!(out, "{} / {kind}: {}", op.name(), k.sample);
            }
            let _ = writeln!(out, "```");
        }
    }

    let _ = writeln!(
        out,
        "\n#### Streams\n\n{} readers read {} records ({:.0}/s): {} INSERT, {} MODIFY, {} REMOVE of which {} by Time to Live; each knew of at most {} shards, and they read {} shards to their end between them; largest lag {} s; {} DescribeStream and GetShardIterator calls.",
        a.stream_readers,
        st.records,
        st.records as f64 / window,
        st.inserts,
        st.modifies,
        st.removes,
        st.ttl_removes,
        st.shards_known,
        st.shards_finished,
        fmt_opt(st.max_lag_ms.map(|l| l as f64 / 1000.0), 1),
        st.side_calls
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::mix::{Judged, Op};
    use super::*;
    use crate::procfs::Status;

    fn outcome(samples: Vec<Sample>, total: Tally) -> Outcome {
        let window = samples.last().map_or(Duration::ZERO, |s| s.at);
        let rows = vec![IntervalRow::new(
            window,
            window,
            &total,
            samples.last().copied(),
            Some(1.5),
            Some(0.3),
        )];
        Outcome {
            args: Settings {
                duration: window,
                warmup: Duration::from_secs(30),
                interval: Duration::from_secs(30),
                sample_every: Duration::from_secs(5),
                concurrency: 32,
                stream_readers: 2,
                keys: 10_000,
                hot_keys: 16,
                flat_percent: 10.0,
                flat_mib: 16.0,
                flat_fds: 8,
                ttl_sweep_interval: Some("1".into()),
                url: None,
                pid: Some(42),
            },
            cores: 2,
            load_average_start: Some([1.0, 0.5, 0.25]),
            load_average_end: Some([2.0, 1.5, 1.25]),
            load_time: Duration::from_secs(2),
            items_after_load: 10_016,
            items_at_end: Some(Ok(7_000)),
            after_load: samples.first().copied(),
            samples,
            rows,
            total,
            window,
            ended_early: None,
            acked: 10,
            ambiguous: 2,
            hot_sum: Some(Ok(11)),
            rss: None,
            fds: None,
            tolerance: Tolerance {
                percent: 10.0,
                absolute: 16.0 * 1024.0,
            },
            fd_tolerance: Tolerance {
                percent: 0.0,
                absolute: 8.0,
            },
            server_command: Some("openddb --port 19200".into()),
            ending: None,
        }
        .judged()
    }

    fn samples(rss: impl Fn(f64) -> u64, fds: u64) -> Vec<Sample> {
        (0..=120)
            .map(|i| {
                let at = Duration::from_secs(5 * i);
                Sample {
                    at,
                    status: Status {
                        rss_kib: Some(rss(at.as_secs_f64())),
                        hwm_kib: Some(200_000),
                        threads: Some(9),
                    },
                    fds: Some(fds),
                    data_bytes: Some(1 << 20),
                    cpu_us: Some(0),
                }
            })
            .collect()
    }

    fn some_answers() -> Tally {
        let mut t = Tally::default();
        let ok = || Judged {
            class: Class::Ok,
            kind: None,
            unprocessed: 0,
            scan_next: None,
        };
        for op in OPS {
            t.answer(op, 1_500, ok(), String::new);
        }
        t.answer(
            Op::UpdateItem,
            900,
            Judged {
                class: Class::CondFailed,
                kind: Some("400 ConditionalCheckFailedException".into()),
                unprocessed: 0,
                scan_next: None,
            },
            String::new,
        );
        t
    }

    #[test]
    fn a_clean_run_passes() {
        let o = outcome(samples(|_| 100_000, 60), some_answers());
        assert!(failures(&o).is_empty(), "{:?}", failures(&o));
        let text = markdown(&o);
        assert!(text.contains("#### Verdict: PASS"), "{text}");
        assert!(text.contains("| memory (VmRSS) | flat |"), "{text}");
        assert!(text.contains("| 10:00 |"), "{text}");
        assert!(
            text.contains("| data directory | not judged: stream records are kept 24 hours | +0.0 MiB over the window |"),
            "{text}"
        );
        assert!(
            text.contains("- server at the end of the window: RSS 97.7 MiB, HWM 195.3 MiB, 60 fds, 9 threads, data 1.0 MiB"),
            "{text}"
        );
        assert!(text.contains("| UpdateItem (cond.) | 400 ConditionalCheckFailedException | condition failed (expected) | 1 | 50.00 % |"), "{text}");
        // One latency column per operation.
        let header = text.lines().find(|l| l.starts_with("| t | get |")).unwrap();
        assert_eq!(header.matches('|').count(), OPS.len() + 2);
    }

    #[test]
    fn leaks_errors_and_lost_increments_fail() {
        // 4 MiB a minute.
        let mut o = outcome(
            samples(|t| 100_000 + (t as u64) * 4096 / 60, 60),
            some_answers(),
        );
        o.total
            .failure(Op::GetItem, "transport: request failed".into(), String::new);
        o.hot_sum = Some(Ok(9));
        let f = failures(&o);
        assert!(f.iter().any(|f| f.starts_with("memory not flat")), "{f:?}");
        assert!(f.iter().any(|f| f == "1 errors"), "{f:?}");
        assert!(
            f.iter().any(|f| f.starts_with("hot counters sum to 9")),
            "{f:?}"
        );
        let text = markdown(&o);
        assert!(text.contains("#### Verdict: FAIL"));
        assert!(text.contains("**NOT flat**"));
        assert!(text.contains("First answer of each error"));
        // Descriptors creeping up fail too.
        let o = outcome(
            samples(|_| 100_000, 60)
                .into_iter()
                .enumerate()
                .map(|(i, mut s)| {
                    s.fds = Some(60 + i as u64 / 4);
                    s
                })
                .collect(),
            some_answers(),
        );
        assert!(failures(&o)
            .iter()
            .any(|f| f.starts_with("open descriptors")));
    }

    #[test]
    fn formats() {
        assert_eq!(clock(Duration::from_secs(600)), "10:00");
        assert_eq!(clock(Duration::from_secs(95)), "1:35");
        assert_eq!(ms(1_234), "1.23");
        assert_eq!(ms(12_345), "12.3");
        assert_eq!(ms(123_456), "123");
        assert!(hot_consistent(10, 10, 0));
        assert!(hot_consistent(12, 10, 2));
        assert!(!hot_consistent(13, 10, 2));
        assert!(!hot_consistent(9, 10, 2));
    }
}
