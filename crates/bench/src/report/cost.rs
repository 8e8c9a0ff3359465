//! The cost of a variant against the plain request it repeats, per target
//! and concurrency, from one run: streams (`put-streamed`,
//! `update-streamed` against `put`, `update`) and PartiQL (`pq-select`,
//! `pq-insert`, `pq-update`, `pq-query-100` against `get`, `put`,
//! `update`, `query-100`).

use std::fmt::Write as _;

use super::{fmt_opt, ratio};
use crate::run::CellResult;
use crate::workload::Variant;

/// The variants, in report order.
const VARIANTS: [Variant; 2] = [Variant::Streamed, Variant::PartiQL];

/// What the tables of a variant call it.
fn names(variant: Variant) -> (&'static str, &'static str) {
    match variant {
        // (what it costs, what its cells are)
        Variant::Streamed => ("streams", "streamed"),
        Variant::PartiQL => ("PartiQL", "PartiQL"),
    }
}

/// A variant's cell and the plain cell of the same target and concurrency.
struct Pair<'a> {
    plain: &'a CellResult,
    variant: &'a CellResult,
}

impl Pair<'_> {
    /// Variant throughput ÷ plain throughput (below 1: the variant costs).
    fn throughput_ratio(&self) -> Option<f64> {
        ratio(
            Some(self.variant.throughput()),
            Some(self.plain.throughput()),
        )
    }

    /// Variant server CPU per request ÷ plain.
    fn cpu_ratio(&self) -> Option<f64> {
        ratio(
            self.variant.server_cpu_per_op(),
            self.plain.server_cpu_per_op(),
        )
    }

    /// Which of the two cells the target could not run, if any.
    fn unsupported(&self) -> Option<&str> {
        [self.plain, self.variant]
            .iter()
            .find_map(|r| r.unsupported.as_ref().map(|_| r.workload.name()))
    }
}

/// Every cell of `variant` that has a plain counterpart, in report order.
fn pairs(results: &[CellResult], variant: Variant) -> Vec<Pair<'_>> {
    results
        .iter()
        .filter_map(|cell| {
            let (plain_workload, kind) = cell.workload.plain()?;
            if kind != variant {
                return None;
            }
            let plain = results.iter().find(|r| {
                r.workload == plain_workload
                    && r.target == cell.target
                    && r.concurrency == cell.concurrency
            })?;
            Some(Pair {
                plain,
                variant: cell,
            })
        })
        .collect()
}

/// The markdown tables of the cost of each variant that ran next to its
/// plain workload (nothing when none did).
pub fn markdown_cost(results: &[CellResult]) -> String {
    let mut tables = Vec::new();
    for variant in VARIANTS {
        let pairs = pairs(results, variant);
        if !pairs.is_empty() {
            tables.push(markdown_table(&pairs, variant));
        }
    }
    tables.join("\n")
}

fn markdown_table(pairs: &[Pair], variant: Variant) -> String {
    let (cost, label) = names(variant);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| cost of {cost} | conc. | target | plain ops/s | {label} ops/s | throughput {label} ÷ plain | plain server CPU µs/op | {label} server CPU µs/op | server CPU {label} ÷ plain |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for p in pairs {
        let lead = format!(
            "| {} → {} | {} | {} |",
            p.plain.workload.name(),
            p.variant.workload.name(),
            p.variant.concurrency,
            p.variant.target
        );
        if let Some(which) = p.unsupported() {
            let _ = writeln!(out, "{lead} {which} unsupported | - | - | - | - | - |");
            continue;
        }
        let _ = writeln!(
            out,
            "{lead} {:.0} | {:.0} | {}× | {} | {} | {}× |",
            p.plain.throughput(),
            p.variant.throughput(),
            fmt_opt(p.throughput_ratio(), 2),
            fmt_opt(p.plain.server_cpu_per_op(), 1),
            fmt_opt(p.variant.server_cpu_per_op(), 1),
            fmt_opt(p.cpu_ratio(), 2),
        );
    }
    out
}

/// The plain-text lines of the cost of each variant.
pub fn plain_cost(results: &[CellResult]) -> String {
    let mut out = String::new();
    for variant in VARIANTS {
        let pairs = pairs(results, variant);
        if pairs.is_empty() {
            continue;
        }
        let (cost, label) = names(variant);
        let _ = writeln!(out, "\n== cost of {cost} ({label} ÷ plain, same run) ==");
        for p in &pairs {
            let lead = format!(
                "{:<18} {} → {} c={}:",
                p.variant.target,
                p.plain.workload.name(),
                p.variant.workload.name(),
                p.variant.concurrency
            );
            if let Some(which) = p.unsupported() {
                let _ = writeln!(out, "{lead} {which} unsupported");
                continue;
            }
            let _ = writeln!(
                out,
                "{lead} {:.0} → {:.0} ops/s (×{}), server CPU {} → {} µs/op (×{})",
                p.plain.throughput(),
                p.variant.throughput(),
                fmt_opt(p.throughput_ratio(), 2),
                fmt_opt(p.plain.server_cpu_per_op(), 1),
                fmt_opt(p.variant.server_cpu_per_op(), 1),
                fmt_opt(p.cpu_ratio(), 2),
            );
        }
    }
    out
}
