//! Plain-text and markdown reports. The first target is the subject; the
//! ratios compare it with each other target of the same cell. Cells a
//! target could not run are shown as unsupported, with the reason.

mod cost;

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

pub(crate) fn fmt_opt(v: Option<f64>, digits: usize) -> String {
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
/// times less server CPU the subject spends per operation); none when
/// either could not run the cell.
fn ratios(subject: &CellResult, peer: &CellResult) -> (Option<f64>, Option<f64>) {
    if subject.unsupported.is_some() || peer.unsupported.is_some() {
        return (None, None);
    }
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
pub(crate) fn percent(part: u64, whole: u64) -> f64 {
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

/// `a vs b` in a comparison, or which of them could not run the cell.
fn comparison_note(subject: &CellResult, peer: &CellResult) -> Option<String> {
    let lacking: Vec<&str> = [subject, peer]
        .iter()
        .filter(|r| r.unsupported.is_some())
        .map(|r| r.target.as_str())
        .collect();
    (!lacking.is_empty()).then(|| format!("{} unsupported", lacking.join(" and ")))
}

/// The targets that could not run some workload, and why (one line per
/// target and workload), e.g. `- dynoxide put-streamed: ...`.
fn unsupported_list(results: &[&CellResult]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for r in results {
        if let Some(why) = &r.unsupported {
            let line = format!("{} {}: {why}", r.target, r.workload.name());
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    lines
}

/// The human-readable report.
pub fn plain(report: &Report) -> String {
    let mut out = plain_cells(report.cells);
    out.push_str(&cost::plain_cost(report.cells));
    if !report.scans.is_empty() {
        out.push_str(&plain_scans(report.scans));
    }
    if !report.loads.is_empty() {
        let _ = writeln!(out, "\n== loading ==");
        for l in report.loads {
            let _ = writeln!(
                out,
                "{:<18} {:<14} {:>9} items  {:<24} {:>8.1} s {:>9.0} items/s{}",
                l.target,
                l.table,
                l.items,
                l.method,
                l.elapsed.as_secs_f64(),
                l.items_per_sec(),
                l.note
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
            if let Some(why) = &r.unsupported {
                let _ = writeln!(out, "{:<18} unsupported: {why}", r.target);
                continue;
            }
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
        for r in group
            .iter()
            .filter(|r| r.workload == Workload::GetRecords && r.unsupported.is_none())
        {
            let _ = writeln!(
                out,
                "  {}: {} records/request, {} GetShardIterator calls, server CPU {} µs/record",
                r.target,
                fmt_opt(records_per_request(r), 1),
                r.side_calls,
                fmt_opt(r.server_cpu_per_item(), 2)
            );
        }
        for peer in group.iter().skip(1) {
            if let Some(note) = comparison_note(first, peer) {
                let _ = writeln!(out, "  {} vs {}: {note}", first.target, peer.target);
                continue;
            }
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
    /// GetRecords: req/s, records/s, records per request, GetShardIterator
    /// calls, server CPU per request and per record.
    Stream,
}

impl Table {
    fn of(w: Workload) -> Table {
        if w == Workload::GetRecords {
            Table::Stream
        } else if w.writes_items() {
            Table::Writes
        } else if w.returns_items() {
            Table::Reads
        } else {
            Table::Single
        }
    }
}

/// Records a GetRecords request returned on average.
fn records_per_request(r: &CellResult) -> Option<f64> {
    (r.ok > 0).then(|| r.items as f64 / r.ok as f64)
}

/// Markdown tables: the single-item cells, the query cells (with items/s),
/// the multi-item writes (with items/s, conflicts and unprocessed items),
/// the GetRecords cells (with records/s), the cost of streams and of
/// PartiQL (each variant against its plain workload), the scans and how the tables were loaded,
/// each followed by its ratios.
pub fn markdown(report: &Report) -> String {
    let mut parts = Vec::new();
    for table in [Table::Single, Table::Reads, Table::Writes, Table::Stream] {
        let cells: Vec<&CellResult> = report
            .cells
            .iter()
            .filter(|r| Table::of(r.workload) == table)
            .collect();
        if !cells.is_empty() {
            parts.push(markdown_cells(&cells, table));
        }
    }
    let cost = cost::markdown_cost(report.cells);
    if !cost.is_empty() {
        parts.push(cost);
    }
    if !report.scans.is_empty() {
        parts.push(markdown_scans(report.scans));
    }
    if !report.loads.is_empty() {
        parts.push(markdown_loads(report.loads));
    }
    parts.join("\n")
}

/// The header of a markdown table of cells, its alignment row included.
fn cells_header(table: Table) -> &'static str {
    match table {
        Table::Single => {
            "| workload | conc. | target | ops/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/op |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|"
        }
        Table::Reads => {
            "| workload | conc. | target | req/s | items/s | p50 µs | p99 µs | p99.9 µs | errors | server CPU µs/req |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        }
        Table::Writes => {
            "| workload | conc. | target | req/s | items/s | p50 µs | p99 µs | p99.9 µs | conflicts | unprocessed items | errors | server CPU µs/req |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        }
        Table::Stream => {
            "| workload | conc. | target | req/s | records/s | records/req | p50 µs | p99 µs | p99.9 µs | GetShardIterator calls | errors | server CPU µs/req | server CPU µs/record |\n\
             |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        }
    }
}

/// A row of `table` for a cell: its figures, or `unsupported` and dashes.
fn cells_row(r: &CellResult, table: Table) -> String {
    let lead = format!(
        "| {} | {} | {} |",
        r.workload.name(),
        r.concurrency,
        r.target
    );
    if r.unsupported.is_some() {
        let columns = cells_header(table)
            .lines()
            .next()
            .map_or(0, |h| h.matches('|').count() - 1);
        return format!("{lead} unsupported |{}", " - |".repeat(columns - 4));
    }
    let latency = format!(
        "{} | {} | {} |",
        quantile(r, 0.5),
        quantile(r, 0.99),
        quantile(r, 0.999)
    );
    let cpu = fmt_opt(r.server_cpu_per_op(), 1);
    match table {
        Table::Single => format!(
            "{lead} {:.0} | {latency} {} | {cpu} |",
            r.throughput(),
            r.errors
        ),
        Table::Reads => format!(
            "{lead} {:.0} | {:.0} | {latency} {} | {cpu} |",
            r.throughput(),
            r.items_per_sec(),
            r.errors
        ),
        Table::Writes => {
            let undone = match Undone::of(r) {
                Some(u) if r.workload == Workload::TransactWrite4 => {
                    format!("{} | - |", u.figure())
                }
                Some(u) => format!("- | {} |", u.figure()),
                None => "- | - |".to_owned(),
            };
            format!(
                "{lead} {:.0} | {:.0} | {latency} {undone} {} | {cpu} |",
                r.throughput(),
                r.items_per_sec(),
                r.errors
            )
        }
        Table::Stream => format!(
            "{lead} {:.0} | {:.0} | {} | {latency} {} | {} | {cpu} | {} |",
            r.throughput(),
            r.items_per_sec(),
            fmt_opt(records_per_request(r), 1),
            r.side_calls,
            r.errors,
            fmt_opt(r.server_cpu_per_item(), 2)
        ),
    }
}

/// The ratios of `peer` to `subject` in `table`: throughput, then (multi-item
/// writes) items/s, (GetRecords) records/s, then server CPU per operation
/// (per record for GetRecords) and (multi-item writes) what was left undone.
fn comparison_row(subject: &CellResult, peer: &CellResult, table: Table) -> String {
    let lead = format!(
        "| {} | {} | {} vs {} |",
        subject.workload.name(),
        subject.concurrency,
        subject.target,
        peer.target
    );
    let columns = match table {
        Table::Single | Table::Reads => 2,
        Table::Writes => 4,
        Table::Stream => 3,
    };
    if let Some(note) = comparison_note(subject, peer) {
        return format!("{lead} {note} |{}", " - |".repeat(columns - 1));
    }
    let (tput, cpu) = ratios(subject, peer);
    let items = fmt_opt(
        ratio(Some(subject.items_per_sec()), Some(peer.items_per_sec())),
        2,
    );
    match table {
        Table::Single | Table::Reads => {
            format!("{lead} {}× | {}× |", fmt_opt(tput, 2), fmt_opt(cpu, 2))
        }
        Table::Writes => format!(
            "{lead} {}× | {items}× | {}× | {} |",
            fmt_opt(tput, 2),
            fmt_opt(cpu, 2),
            undone_vs(subject, peer).unwrap_or_else(|| "-".to_owned())
        ),
        Table::Stream => format!(
            "{lead} {}× | {items}× | {}× |",
            fmt_opt(tput, 2),
            fmt_opt(
                ratio(peer.server_cpu_per_item(), subject.server_cpu_per_item()),
                2
            )
        ),
    }
}

/// One row per cell, then the ratios. Queries and multi-item writes have
/// an items/s column ("req/s" for the request rate); the writes also show
/// the transactions cancelled by conflicts (share of requests) and the
/// items left unprocessed (share of items sent); GetRecords shows
/// records/s, records per request and the GetShardIterator calls made on
/// the way (not counted as requests).
fn markdown_cells(results: &[&CellResult], table: Table) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", cells_header(table));
    let groups = cells_of(results);
    for group in &groups {
        for r in group {
            let _ = writeln!(out, "{}", cells_row(r, table));
        }
    }
    if groups.iter().any(|g| g.len() > 1) {
        let _ = writeln!(out);
        let header = match table {
            Table::Single | Table::Reads => {
                "| workload | conc. | comparison | throughput ratio | server CPU/op ratio (peer ÷ subject) |\n\
                 |---|---:|---|---:|---:|"
            }
            Table::Writes => {
                "| workload | conc. | comparison | throughput ratio | items/s ratio | server CPU/req ratio (peer ÷ subject) | conflicts or unprocessed, subject vs peer |\n\
                 |---|---:|---|---:|---:|---:|---|"
            }
            Table::Stream => {
                "| workload | conc. | comparison | req/s ratio | records/s ratio | server CPU/record ratio (peer ÷ subject) |\n\
                 |---|---:|---|---:|---:|---:|"
            }
        };
        let _ = writeln!(out, "{header}");
        for group in &groups {
            let first = group[0];
            for peer in group.iter().skip(1) {
                let _ = writeln!(out, "{}", comparison_row(first, peer, table));
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
    let unsupported = unsupported_list(results);
    if !unsupported.is_empty() {
        let _ = writeln!(out, "\nUnsupported:\n");
        for line in unsupported {
            let _ = writeln!(out, "- {line}");
        }
    }
    out
}

pub(crate) fn mib(kib: Option<u64>) -> Option<f64> {
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
            "| {} | {} | {} | {}{} | {:.1} | {:.0} |",
            l.target,
            l.table,
            l.items,
            l.method,
            l.note,
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
            side_calls: 0,
            unsupported: None,
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

    #[test]
    fn partiql_report_its_cost_next_to_the_cost_of_streams() {
        let cells = [
            cell("a", Workload::Get, 100, 0, 0),
            cell("b", Workload::Get, 40, 0, 0),
            cell("a", Workload::PqSelect, 80, 0, 0),
            CellResult::unsupported(
                "b",
                Workload::PqSelect,
                32,
                Duration::from_secs(1),
                "ExecuteStatement answered HTTP 400",
            ),
            cell("a", Workload::Put, 100, 0, 0),
            cell("a", Workload::PutStreamed, 50, 0, 0),
        ];
        let report = Report {
            cells: &cells,
            scans: &[],
            loads: &[],
        };
        let md = markdown(&report);
        assert_rectangular(&md);
        assert!(
            md.contains("| cost of streams | conc. | target | plain ops/s | streamed ops/s |"),
            "{md}"
        );
        assert!(
            md.contains("| put → put-streamed | 32 | a | 100 | 50 | 0.50× |"),
            "{md}"
        );
        assert!(md.contains("| cost of PartiQL | conc. | target | plain ops/s | PartiQL ops/s | throughput PartiQL ÷ plain |"), "{md}");
        assert!(
            md.contains(
                "| get → pq-select | 32 | a | 100 | 80 | 0.80× | 10000.0 | 12500.0 | 1.25× |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| get → pq-select | 32 | b | pq-select unsupported |"),
            "{md}"
        );
        assert!(
            md.contains("| pq-select | 32 | a vs b | b unsupported | - |"),
            "{md}"
        );
        // put-streamed is not a PartiQL variant, nor pq-select a streamed one.
        assert_eq!(md.matches("→ pq-select").count(), 2, "{md}");
        assert_eq!(md.matches("→ put-streamed").count(), 1, "{md}");
        let plain = plain(&report);
        assert!(
            plain.contains("== cost of PartiQL (PartiQL ÷ plain, same run) =="),
            "{plain}"
        );
        assert!(
            plain.contains("get → pq-select c=32: 100 → 80 ops/s (×0.80)"),
            "{plain}"
        );
    }

    #[test]
    fn streams_report_cost_records_and_unsupported_cells() {
        let mut records = cell("a", Workload::GetRecords, 20, 0, 0);
        records.items = 20_000;
        records.side_calls = 1;
        let mut records_b = cell("b", Workload::GetRecords, 10, 0, 0);
        records_b.items = 5_000;
        let cells = [
            cell("a", Workload::Put, 100, 0, 0),
            cell("b", Workload::Put, 50, 0, 0),
            CellResult::unsupported("c", Workload::Put, 32, Duration::from_secs(1), "irrelevant"),
            cell("a", Workload::PutStreamed, 80, 0, 0),
            cell("b", Workload::PutStreamed, 25, 0, 0),
            CellResult::unsupported(
                "c",
                Workload::PutStreamed,
                32,
                Duration::from_secs(1),
                "CreateTable with a StreamSpecification answered HTTP 400",
            ),
            records,
            records_b,
        ];
        let report = Report {
            cells: &cells,
            scans: &[],
            loads: &[],
        };
        let md = markdown(&report);
        assert_rectangular(&md);
        assert!(
            md.contains("| put-streamed | 32 | c | unsupported | - | - | - | - | - |"),
            "{md}"
        );
        assert!(
            md.contains("| put-streamed | 32 | a vs c | c unsupported | - |"),
            "{md}"
        );
        assert!(
            md.contains("| put-streamed | 32 | a vs b | 3.20× | 3.20× |"),
            "{md}"
        );
        assert!(
            md.contains(
                "- c put-streamed: CreateTable with a StreamSpecification answered HTTP 400"
            ),
            "{md}"
        );
        // The cost of streams, per target.
        assert!(
            md.contains(
                "| put → put-streamed | 32 | a | 100 | 80 | 0.80× | 10000.0 | 12500.0 | 1.25× |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| put → put-streamed | 32 | b | 50 | 25 | 0.50× |"),
            "{md}"
        );
        assert!(
            md.contains("| put → put-streamed | 32 | c | put unsupported |"),
            "{md}"
        );
        // GetRecords: records/s, records per request, iterator calls, CPU
        // per record; ratios on records/s and CPU per record.
        assert!(
            md.contains("| get-records | 32 | a | 20 | 20000 | 1000.0 | 100 | 100 | 100 | 1 | 0 | 50000.0 | 50.00 |"),
            "{md}"
        );
        assert!(
            md.contains("| get-records | 32 | a vs b | 2.00× | 4.00× | 4.00× |"),
            "{md}"
        );
        let plain = plain(&report);
        assert!(
            plain.contains("c                  unsupported: CreateTable"),
            "{plain}"
        );
        assert!(
            plain.contains("put → put-streamed c=32: 100 → 80 ops/s (×0.80)"),
            "{plain}"
        );
        assert!(plain.contains("a vs c: c unsupported"), "{plain}");
        assert!(
            plain.contains("1000.0 records/request, 1 GetShardIterator calls"),
            "{plain}"
        );
    }
}
