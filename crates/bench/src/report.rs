//! Plain-text and markdown reports. The first target is the subject; the
//! ratios compare it with each other target of the same cell.

use std::fmt::Write as _;

use crate::dataset::LoadReport;
use crate::run::CellResult;
use crate::scan::ScanResult;
use crate::workload::Workload;

/// Everything one run measured.
pub struct Report<'a> {
    pub cells: &'a [CellResult],
    pub scans: &'a [ScanResult],
    pub loads: &'a [LoadReport],
}

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
    cells_of(&results.iter().collect::<Vec<_>>())
}

fn cells_of<'a>(results: &[&'a CellResult]) -> Vec<Vec<&'a CellResult>> {
    let mut groups: Vec<Vec<&CellResult>> = Vec::new();
    for &r in results {
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

/// Whether the cell's report has an items/s column.
fn counts_items(w: Workload) -> bool {
    w.returns_items() || w.writes_items()
}

/// `part` as a percentage of `whole`.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// What a multi-item write may leave undone without an error:
/// transactions cancelled by conflicts (a share of all requests) or items
/// left unprocessed (a share of all items sent).
struct Undone {
    /// `conflicts` or `unprocessed`.
    name: &'static str,
    count: u64,
    percent: f64,
}

impl Undone {
    fn of(r: &CellResult) -> Option<Undone> {
        let (name, count, whole) = match r.workload {
            Workload::TransactWrite4 => ("conflicts", r.conflicts, r.requests()),
            Workload::BatchWrite25 => (
                "unprocessed",
                r.unprocessed,
                r.requests() * r.workload.keys_per_request() as u64,
            ),
            _ => return None,
        };
        Some(Undone {
            name,
            count,
            percent: percent(count, whole),
        })
    }

    /// e.g. `12 (0.35 %)`.
    fn figure(&self) -> String {
        format!("{} ({:.2} %)", self.count, self.percent)
    }
}

/// The share left undone by `subject` and by `peer`, e.g.
/// `conflicts 0.35 % vs 0.00 %`.
fn undone_vs(subject: &CellResult, peer: &CellResult) -> Option<String> {
    let (a, b) = (Undone::of(subject)?, Undone::of(peer)?);
    Some(format!(
        "{} {:.2} % vs {:.2} %",
        a.name, a.percent, b.percent
    ))
}

/// The human-readable report.
pub fn plain(report: &Report) -> String {
    let mut out = plain_cells(report.cells);
    if !report.scans.is_empty() {
        out.push_str(&plain_scans(report.scans));
    }
    if !report.loads.is_empty() {
        let _ = writeln!(out, "\n== loading ==");
        for l in report.loads {
            let _ = writeln!(
                out,
                "{:<18} {:<12} {:>9} items  {:<24} {:>8.1} s {:>9.0} items/s",
                l.target,
                l.table,
                l.items,
                l.method,
                l.elapsed.as_secs_f64(),
                l.items_per_sec()
            );
        }
    }
    out
}

fn plain_cells(results: &[CellResult]) -> String {
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
        // The multi-item writes add a column for what they left undone.
        let undone_header = Undone::of(first).map_or(String::new(), |u| format!(" {:>16}", u.name));
        let _ = writeln!(
            out,
            "{:<18} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}{undone_header} {:>12} {:>12}",
            "target",
            "ops/s",
            "items/s",
            "p50 µs",
            "p99 µs",
            "p999 µs",
            "errors",
            "srv CPU/op",
            "cli CPU/op"
        );
        for r in &group {
            let items = if counts_items(r.workload) {
                format!("{:.0}", r.items_per_sec())
            } else {
                "-".to_owned()
            };
            let undone_col =
                Undone::of(r).map_or(String::new(), |u| format!(" {:>16}", u.figure()));
            let _ = writeln!(
                out,
                "{:<18} {:>10.0} {:>10} {:>8} {:>8} {:>8} {:>8}{undone_col} {:>12} {:>12}",
                r.target,
                r.throughput(),
                items,
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
            let more = match undone_vs(first, peer) {
                Some(undone) => format!(
                    ", items/s ×{}, {undone}",
                    fmt_opt(
                        ratio(Some(first.items_per_sec()), Some(peer.items_per_sec())),
                        2
                    ),
                ),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  {} vs {}: throughput ×{}, server CPU/op ×{} less{more}",
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

/// The columns of a markdown table of cells.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// Single-item requests: ops/s.
    Single,
    /// Queries: req/s and items/s.
    Reads,
    /// Multi-item writes: req/s, items/s, conflicts and unprocessed items.
    Writes,
}

impl Table {
    fn of(w: Workload) -> Table {
        if w.writes_items() {
            Table::Writes
        } else if w.returns_items() {
            Table::Reads
        } else {
            Table::Single
        }
    }
}

/// Markdown tables: the single-item cells, the query cells (with items/s),
/// the multi-item writes (with items/s, conflicts and unprocessed items),
/// the scans and how the tables were loaded, each followed by its ratios.
pub fn markdown(report: &Report) -> String {
    let mut parts = Vec::new();
    for table in [Table::Single, Table::Reads, Table::Writes] {
        let cells: Vec<&CellResult> = report
            .cells
            .iter()
            .filter(|r| Table::of(r.workload) == table)
            .collect();
        if !cells.is_empty() {
            parts.push(markdown_cells(&cells, table));
        }
    }
    if !report.scans.is_empty() {
        parts.push(markdown_scans(report.scans));
    }
    if !report.loads.is_empty() {
        parts.push(markdown_loads(report.loads));
    }
    parts.join("\n")
}

/// One row per cell, then the ratios. Queries and multi-item writes have
/// an items/s column ("req/s" for the request rate); the writes also show
/// the transactions cancelled by conflicts (share of requests) and the
/// items left unprocessed (share of items sent).
fn markdown_cells(results: &[&CellResult], table: Table) -> String {
    let mut out = String::new();
    match table {
        Table::Single => {
            let _ = writeln!(
                out,
                "| workload | conc. | target | ops/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/op |"
            );
            let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|");
        }
        Table::Reads => {
            let _ = writeln!(
                out,
                "| workload | conc. | target | req/s | items/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/req |"
            );
            let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        }
        Table::Writes => {
            let _ = writeln!(
                out,
                "| workload | conc. | target | req/s | items/s | p50 µs | p99 µs | p99.9 µs | conflicts | unprocessed items | errors | server CPU µs/req |"
            );
            let _ = writeln!(
                out,
                "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
        }
    }
    let groups = cells_of(results);
    for group in &groups {
        for r in group {
            let items_col = match table {
                Table::Single => String::new(),
                Table::Reads | Table::Writes => format!(" {:.0} |", r.items_per_sec()),
            };
            let undone_cols = match (table, Undone::of(r)) {
                (Table::Writes, Some(u)) if r.workload == Workload::TransactWrite4 => {
                    format!(" {} | - |", u.figure())
                }
                (Table::Writes, Some(u)) => format!(" - | {} |", u.figure()),
                (Table::Writes, None) => " - | - |".to_owned(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} |{} {} | {} | {} |{} {} | {} |",
                r.workload.name(),
                r.concurrency,
                r.target,
                r.throughput(),
                items_col,
                quantile(r, 0.5),
                quantile(r, 0.99),
                quantile(r, 0.999),
                undone_cols,
                r.errors,
                fmt_opt(r.server_cpu_per_op(), 1),
            );
        }
    }
    if groups.iter().any(|g| g.len() > 1) {
        let _ = writeln!(out);
        if table == Table::Writes {
            let _ = writeln!(
                out,
                "| workload | conc. | comparison | throughput ratio | items/s ratio | server CPU/req ratio (peer ÷ subject) | conflicts or unprocessed, subject vs peer |"
            );
            let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---|");
        } else {
            let _ = writeln!(
                out,
                "| workload | conc. | comparison | throughput ratio | server CPU/op ratio (peer ÷ subject) |"
            );
            let _ = writeln!(out, "|---|---:|---|---:|---:|");
        }
        for group in &groups {
            let first = group[0];
            for peer in group.iter().skip(1) {
                let (tput, cpu) = ratios(first, peer);
                let writes_cols = if table == Table::Writes {
                    format!(
                        " {}× |",
                        fmt_opt(
                            ratio(Some(first.items_per_sec()), Some(peer.items_per_sec())),
                            2
                        )
                    )
                } else {
                    String::new()
                };
                let undone_col = match table {
                    Table::Writes => format!(
                        " {} |",
                        undone_vs(first, peer).unwrap_or_else(|| "-".to_owned())
                    ),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} vs {} | {}× |{writes_cols} {}× |{undone_col}",
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
    let errors: Vec<&&CellResult> = results.iter().filter(|r| r.errors > 0).collect();
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

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| k as f64 / 1024.0)
}

fn scan_cpu_per_1000(r: &ScanResult) -> Option<f64> {
    r.server_cpu_us
        .filter(|_| r.items > 0)
        .map(|us| us as f64 / 1000.0 / (r.items as f64 / 1000.0))
}

fn plain_scans(scans: &[ScanResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n== scan · whole table, 1 MB pages ==");
    let _ = writeln!(
        out,
        "{:<18} {:>9} {:>6} {:>8} {:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "target",
        "items",
        "pages",
        "wall s",
        "items/s",
        "p50 ms",
        "p99 ms",
        "CPU ms/1k",
        "RSS0 MiB",
        "peak MiB"
    );
    for r in scans {
        let _ = writeln!(
            out,
            "{:<18} {:>9} {:>6} {:>8.2} {:>10.0} {:>9.1} {:>9.1} {:>10} {:>10} {:>10}{}",
            r.target,
            r.items,
            r.pages,
            r.elapsed.as_secs_f64(),
            r.items_per_sec(),
            r.page_latency.value_at_quantile(0.5) as f64 / 1000.0,
            r.page_latency.value_at_quantile(0.99) as f64 / 1000.0,
            fmt_opt(scan_cpu_per_1000(r), 1),
            fmt_opt(mib(r.rss_before_kib), 1),
            fmt_opt(mib(r.rss_peak_kib), 1),
            scan_note(r),
        );
    }
    if let Some((first, peers)) = scans.split_first() {
        for peer in peers {
            let _ = writeln!(
                out,
                "  {} vs {}: items/s ×{}",
                first.target,
                peer.target,
                fmt_opt(
                    ratio(Some(first.items_per_sec()), Some(peer.items_per_sec())),
                    2
                )
            );
        }
    }
    out
}

fn scan_note(r: &ScanResult) -> String {
    if !r.complete {
        format!(
            " (stopped at the time limit after {} of {} items)",
            r.items, r.expected
        )
    } else if r.items != r.expected {
        format!(" (returned {} items, {} expected)", r.items, r.expected)
    } else {
        String::new()
    }
}

fn markdown_scans(scans: &[ScanResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | target | items | pages | wall s | items/s | page p50 ms | page p99 ms | server CPU ms per 1000 items | RSS before MiB | peak RSS during scan MiB |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in scans {
        let _ = writeln!(
            out,
            "| scan | {}{} | {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {} | {} | {} |",
            r.target,
            scan_note(r),
            r.items,
            r.pages,
            r.elapsed.as_secs_f64(),
            r.items_per_sec(),
            r.page_latency.value_at_quantile(0.5) as f64 / 1000.0,
            r.page_latency.value_at_quantile(0.99) as f64 / 1000.0,
            fmt_opt(scan_cpu_per_1000(r), 1),
            fmt_opt(mib(r.rss_before_kib), 1),
            fmt_opt(mib(r.rss_peak_kib), 1),
        );
    }
    if let Some((first, peers)) = scans.split_first() {
        if !peers.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "| workload | comparison | items/s ratio | server CPU per item ratio (peer ÷ subject) |"
            );
            let _ = writeln!(out, "|---|---|---:|---:|");
            for peer in peers {
                let _ = writeln!(
                    out,
                    "| scan | {} vs {} | {}× | {}× |",
                    first.target,
                    peer.target,
                    fmt_opt(
                        ratio(Some(first.items_per_sec()), Some(peer.items_per_sec())),
                        2
                    ),
                    fmt_opt(ratio(scan_cpu_per_1000(peer), scan_cpu_per_1000(first)), 2),
                );
            }
        }
    }
    out
}

fn markdown_loads(loads: &[LoadReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| target | table | items | loaded with | s | items/s |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|");
    for l in loads {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} | {:.0} |",
            l.target,
            l.table,
            l.items,
            l.method,
            l.elapsed.as_secs_f64(),
            l.items_per_sec()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn cell(
        target: &str,
        workload: Workload,
        ok: u64,
        conflicts: u64,
        unprocessed: u64,
    ) -> CellResult {
        let mut latency = hdrhistogram::Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        latency.record(100).unwrap();
        CellResult {
            target: target.to_owned(),
            workload,
            concurrency: 32,
            ok,
            items: ok * workload.keys_per_request() as u64,
            partial: u64::from(unprocessed > 0),
            unprocessed,
            conflicts,
            errors: 0,
            error_kinds: BTreeMap::new(),
            error_sample: None,
            window: Duration::from_secs(1),
            latency,
            server_cpu_us: Some(1_000_000),
            client_cpu_us: None,
        }
    }

    /// Every row of a markdown table has as many cells as its header.
    fn assert_rectangular(markdown: &str) {
        for table in markdown.split("\n\n") {
            let widths: Vec<usize> = table
                .lines()
                .filter(|l| l.starts_with('|'))
                .map(|l| l.matches('|').count())
                .collect();
            assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
        }
    }

    #[test]
    fn writes_report_conflicts_and_unprocessed_items() {
        let cells = [
            cell("a", Workload::BatchWrite25, 100, 0, 5),
            cell("b", Workload::BatchWrite25, 50, 0, 0),
            cell("a", Workload::TransactWrite4, 99, 1, 0),
            cell("b", Workload::TransactWrite4, 10, 0, 0),
            cell("a", Workload::Put, 10, 0, 0),
            cell("b", Workload::Put, 5, 0, 0),
        ];
        let report = Report {
            cells: &cells,
            scans: &[],
            loads: &[],
        };
        let md = markdown(&report);
        assert_rectangular(&md);
        assert!(
            md.contains("| batch-write-25 | 32 | a | 100 | 2500 |"),
            "{md}"
        );
        assert!(md.contains("| - | 5 (0.20 %) | 0 |"), "{md}");
        assert!(md.contains("| 1 (1.00 %) | - | 0 |"), "{md}");
        assert!(md.contains("| transact-write-4 | 32 | a vs b | 9.90× | 9.90× | 10.00× | conflicts 1.00 % vs 0.00 % |"), "{md}");
        assert!(md.contains("| put | 32 | a vs b | 2.00× | 2.00× |"), "{md}");
        let plain = plain(&report);
        assert!(plain.contains("conflicts 1.00 % vs 0.00 %"), "{plain}");
        assert!(plain.contains("unprocessed 0.20 % vs 0.00 %"), "{plain}");
    }
}
