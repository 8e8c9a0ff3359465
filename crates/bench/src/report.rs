//! Plain-text and markdown reports. The first target is the subject; the
//! ratios compare it with each other target of the same cell.

use std::fmt::Write as _;

use crate::run::CellResult;

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Groups results by (workload, concurrency), keeping the order of first
/// appearance and the order of targets inside each group.
fn cells(results: &[CellResult]) -> Vec<Vec<&CellResult>> {
    let mut groups: Vec<Vec<&CellResult>> = Vec::new();
    for r in results {
        match groups
            .iter_mut()
            .find(|g| g[0].workload == r.workload && g[0].concurrency == r.concurrency)
        {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

fn quantile(r: &CellResult, q: f64) -> u64 {
    if r.latency.is_empty() {
        0
    } else {
        r.latency.value_at_quantile(q)
    }
}

/// Throughput ratio subject/peer and CPU-per-op ratio peer/subject (how many
/// times less server CPU the subject spends per operation).
fn ratios(subject: &CellResult, peer: &CellResult) -> (Option<f64>, Option<f64>) {
    (
        ratio(Some(subject.throughput()), Some(peer.throughput())),
        ratio(peer.server_cpu_per_op(), subject.server_cpu_per_op()),
    )
}

/// The human-readable report.
pub fn plain(results: &[CellResult]) -> String {
    let mut out = String::new();
    for group in cells(results) {
        let first = group[0];
        let _ = writeln!(
            out,
            "\n== {} · concurrency {} · {:.0} s window ==",
            first.workload.name(),
            first.concurrency,
            first.window.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "{:<18} {:>10} {:>8} {:>8} {:>8} {:>8} {:>12} {:>12}",
            "target", "ops/s", "p50 µs", "p99 µs", "p999 µs", "errors", "srv CPU/op", "cli CPU/op"
        );
        for r in &group {
            let _ = writeln!(
                out,
                "{:<18} {:>10.0} {:>8} {:>8} {:>8} {:>8} {:>12} {:>12}",
                r.target,
                r.throughput(),
                quantile(r, 0.5),
                quantile(r, 0.99),
                quantile(r, 0.999),
                r.errors,
                fmt_opt(r.server_cpu_per_op(), 1),
                fmt_opt(r.client_cpu_per_op(), 1),
            );
        }
        for peer in group.iter().skip(1) {
            let (tput, cpu) = ratios(first, peer);
            let _ = writeln!(
                out,
                "  {} vs {}: throughput ×{}, server CPU/op ×{} less",
                first.target,
                peer.target,
                fmt_opt(tput, 2),
                fmt_opt(cpu, 2)
            );
        }
        for r in group.iter().filter(|r| r.errors > 0) {
            let kinds: Vec<String> = r
                .error_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let _ = writeln!(out, "  ! {} errors: {}", r.target, kinds.join(", "));
            if let Some(sample) = &r.error_sample {
                let _ = writeln!(out, "    e.g. {sample}");
            }
        }
    }
    out
}

/// Markdown tables: one row per cell, then the ratios.
pub fn markdown(results: &[CellResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | conc. | target | ops/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/op |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|");
    let groups = cells(results);
    for group in &groups {
        for r in group {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                r.workload.name(),
                r.concurrency,
                r.target,
                r.throughput(),
                quantile(r, 0.5),
                quantile(r, 0.99),
                quantile(r, 0.999),
                r.errors,
                fmt_opt(r.server_cpu_per_op(), 1),
            );
        }
    }
    if groups.iter().any(|g| g.len() > 1) {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| workload | conc. | comparison | throughput ratio | server CPU/op ratio (peer ÷ subject) |"
        );
        let _ = writeln!(out, "|---|---:|---|---:|---:|");
        for group in &groups {
            let first = group[0];
            for peer in group.iter().skip(1) {
                let (tput, cpu) = ratios(first, peer);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} vs {} | {}× | {}× |",
                    first.workload.name(),
                    first.concurrency,
                    first.target,
                    peer.target,
                    fmt_opt(tput, 2),
                    fmt_opt(cpu, 2)
                );
            }
        }
    }
    let errors: Vec<&CellResult> = results.iter().filter(|r| r.errors > 0).collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nErrors:\n");
        for r in errors {
            let kinds: Vec<String> = r
                .error_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let _ = writeln!(
                out,
                "- {} {} c={}: {}",
                r.target,
                r.workload.name(),
                r.concurrency,
                kinds.join(", ")
            );
        }
    }
    out
}
