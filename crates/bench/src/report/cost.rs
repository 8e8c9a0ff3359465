//! The cost of streams: each streamed write (`put-streamed`,
//! `update-streamed`) against the same write on the plain table, per target
//! and concurrency, from one run.

use std::fmt::Write as _;

use super::{fmt_opt, ratio};
use crate::run::CellResult;

/// A streamed cell and the plain cell of the same write, target and
/// concurrency.
struct Pair<'a> {
    plain: &'a CellResult,
    streamed: &'a CellResult,
}

impl Pair<'_> {
    /// Streamed throughput ÷ plain throughput (below 1: streams cost).
    fn throughput_ratio(&self) -> Option<f64> {
        ratio(
            Some(self.streamed.throughput()),
            Some(self.plain.throughput()),
        )
    }

    /// Streamed server CPU per write ÷ plain.
    fn cpu_ratio(&self) -> Option<f64> {
        ratio(
            self.streamed.server_cpu_per_op(),
            self.plain.server_cpu_per_op(),
        )
    }

    /// Which of the two cells the target could not run, if any.
    fn unsupported(&self) -> Option<&str> {
        [self.plain, self.streamed]
            .iter()
            .find_map(|r| r.unsupported.as_ref().map(|_| r.workload.name()))
    }
}

/// Every streamed cell that has a plain counterpart, in report order.
fn pairs(results: &[CellResult]) -> Vec<Pair<'_>> {
    results
        .iter()
        .filter_map(|streamed| {
            let plain_workload = streamed.workload.plain()?;
            let plain = results.iter().find(|r| {
                r.workload == plain_workload
                    && r.target == streamed.target
                    && r.concurrency == streamed.concurrency
            })?;
            Some(Pair { plain, streamed })
        })
        .collect()
}

/// The markdown table of the cost of streams, or nothing when no streamed
/// write ran next to its plain one.
pub fn markdown_cost(results: &[CellResult]) -> String {
    let pairs = pairs(results);
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| cost of streams | conc. | target | plain ops/s | streamed ops/s | throughput streamed ÷ plain | plain server CPU µs/op | streamed server CPU µs/op | server CPU streamed ÷ plain |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for p in &pairs {
        let lead = format!(
            "| {} → {} | {} | {} |",
            p.plain.workload.name(),
            p.streamed.workload.name(),
            p.streamed.concurrency,
            p.streamed.target
        );
        if let Some(which) = p.unsupported() {
            let _ = writeln!(out, "{lead} {which} unsupported | - | - | - | - | - |");
            continue;
        }
        let _ = writeln!(
            out,
            "{lead} {:.0} | {:.0} | {}× | {} | {} | {}× |",
            p.plain.throughput(),
            p.streamed.throughput(),
            fmt_opt(p.throughput_ratio(), 2),
            fmt_opt(p.plain.server_cpu_per_op(), 1),
            fmt_opt(p.streamed.server_cpu_per_op(), 1),
            fmt_opt(p.cpu_ratio(), 2),
        );
    }
    out
}

/// The plain-text lines of the cost of streams.
pub fn plain_cost(results: &[CellResult]) -> String {
    let pairs = pairs(results);
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n== cost of streams (streamed ÷ plain, same run) ==\n");
    for p in &pairs {
        let lead = format!(
            "{:<18} {} → {} c={}:",
            p.streamed.target,
            p.plain.workload.name(),
            p.streamed.workload.name(),
            p.streamed.concurrency
        );
        if let Some(which) = p.unsupported() {
            let _ = writeln!(out, "{lead} {which} unsupported");
            continue;
        }
        let _ = writeln!(
            out,
            "{lead} {:.0} → {:.0} ops/s (×{}), server CPU {} → {} µs/op (×{})",
            p.plain.throughput(),
            p.streamed.throughput(),
            fmt_opt(p.throughput_ratio(), 2),
            fmt_opt(p.plain.server_cpu_per_op(), 1),
            fmt_opt(p.streamed.server_cpu_per_op(), 1),
            fmt_opt(p.cpu_ratio(), 2),
        );
    }
    out
}
