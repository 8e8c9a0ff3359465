//! The figures of one round of the suite, kept as one JSON line so that
//! rounds run by separate invocations (interleaved across servers) can be
//! summarised together: medians with their min–max spread, figures that
//! moved too much between rounds marked as noise.

use serde_json::{json, Map, Value};

/// One figure of a round.
pub struct Metric {
    /// Key in the record.
    pub key: &'static str,
    /// Column header.
    pub header: &'static str,
}

const fn metric(key: &'static str, header: &'static str) -> Metric {
    Metric { key, header }
}

/// Time figures (the first table).
pub const TIME: &[Metric] = &[
    metric("wall_s", "suite wall s"),
    metric("tests_per_s", "tests/s"),
    metric("p50_ms", "test p50 ms"),
    metric("p90_ms", "p90 ms"),
    metric("p99_ms", "p99 ms"),
    metric("max_ms", "max ms"),
    metric("startup_ms", "start-up ms"),
];

/// Memory and CPU figures (the second table).
pub const RESOURCES: &[Metric] = &[
    metric("idle_rss_mib", "idle RSS MiB"),
    metric("after_rss_mib", "RSS after MiB"),
    metric("peak_rss_mib", "peak RSS MiB"),
    metric("cpu_suite_s", "CPU s (suite)"),
    metric("cpu_total_s", "CPU s (total)"),
    metric("cpu_ms_per_test", "CPU ms/test"),
    metric("polls_per_test", "polls/test"),
];

/// One round against one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub name: String,
    pub round: u64,
    pub tests: u64,
    pub parallel: u64,
    pub command: String,
    pub load_start: Option<[f64; 3]>,
    pub load_end: Option<[f64; 3]>,
    /// Figures by [`Metric::key`]; one that could not be read is absent.
    pub figures: Vec<(String, f64)>,
    /// Why the round failed (then `figures` holds what was measured
    /// before).
    pub error: Option<String>,
}

impl Record {
    pub fn figure(&self, key: &str) -> Option<f64> {
        self.figures.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub fn to_json(&self) -> String {
        let figures: Map<String, Value> = self
            .figures
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut v = json!({
            "name": self.name,
            "round": self.round,
            "tests": self.tests,
            "parallel": self.parallel,
            "command": self.command,
            "load_start": self.load_start,
            "load_end": self.load_end,
            "figures": figures,
        });
        if let Some(e) = &self.error {
            v["error"] = json!(e);
        }
        v.to_string()
    }

    pub fn from_json(line: &str) -> Result<Record, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        let text = |k: &str| {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no string `{k}`"))
        };
        let number = |k: &str| v[k].as_u64().ok_or_else(|| format!("no count `{k}`"));
        let load = |k: &str| -> Option<[f64; 3]> {
            let a = v[k].as_array()?;
            Some([
                a.first()?.as_f64()?,
                a.get(1)?.as_f64()?,
                a.get(2)?.as_f64()?,
            ])
        };
        let figures = v["figures"]
            .as_object()
            .ok_or("no object `figures`")?
            .iter()
            .map(|(k, x)| {
                x.as_f64()
                    .map(|x| (k.clone(), x))
                    .ok_or_else(|| format!("figure `{k}` is not a number"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Record {
            name: text("name")?,
            round: number("round")?,
            tests: number("tests")?,
            parallel: number("parallel")?,
            command: text("command")?,
            load_start: load("load_start"),
            load_end: load("load_end"),
            figures,
            error: v["error"].as_str().map(str::to_owned),
        })
    }
}

/// Reads records, one JSON line each (blank lines skipped).
pub fn parse_lines(text: &str, origin: &str) -> Result<Vec<Record>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record::from_json(l).map_err(|e| format!("{origin}:{}: {e}", i + 1)))
        .collect()
}

/// The median and range of one figure over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    /// Moved more than `limit` (a share of the median) between rounds.
    pub fn noisy(&self, limit: f64) -> bool {
        self.n > 1 && self.median > 0.0 && (self.max - self.min) / self.median > limit
    }

    /// `median (min–max)`, with a trailing `†` when noisy.
    pub fn cell(&self, limit: f64) -> String {
        let mut s = number(self.median);
        if self.n > 1 {
            s = format!("{s} ({}–{})", number(self.min), number(self.max));
        }
        if self.noisy(limit) {
            s.push_str(" †");
        }
        s
    }
}

/// A figure with as many decimals as it needs to be read: 4.21, 126.8, 3072.
pub fn number(x: f64) -> String {
    let a = x.abs();
    if a < 10.0 {
        format!("{x:.2}")
    } else if a < 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// Servers in the order they first appear, with their rounds.
fn by_server(records: &[Record]) -> Vec<(&str, Vec<&Record>)> {
    let mut out: Vec<(&str, Vec<&Record>)> = Vec::new();
    for r in records {
        match out.iter_mut().find(|(n, _)| *n == r.name) {
            Some((_, rounds)) => rounds.push(r),
            None => out.push((&r.name, vec![r])),
        }
    }
    out
}

fn load_text(records: &[Record]) -> Option<String> {
    let first = records.iter().find_map(|r| r.load_start)?;
    let last = records.iter().rev().find_map(|r| r.load_end)?;
    let all: Vec<f64> = records
        .iter()
        .flat_map(|r| r.load_start.into_iter().chain(r.load_end))
        .map(|l| l[0])
        .collect();
    let s = Spread::of(&all)?;
    Some(format!(
        "load average (1 min) {:.2} at the start, {:.2} at the end ({:.2}–{:.2} over the rounds)",
        first[0], last[0], s.min, s.max
    ))
}

/// The summary of `records`: per server, each figure's median over its
/// successful rounds with the min–max spread, a figure whose spread exceeds
/// `noise` × its median marked `†`; failed rounds listed. Markdown tables or
/// plain lines.
pub fn summary(records: &[Record], noise: f64, markdown: bool) -> Result<String, String> {
    let servers = by_server(records);
    for (name, rounds) in &servers {
        if rounds
            .iter()
            .any(|r| (r.tests, r.parallel) != (rounds[0].tests, rounds[0].parallel))
        {
            return Err(format!(
                "{name}: rounds with different --tests or --parallel cannot be summarised together"
            ));
        }
    }
    let spreads = |rounds: &[&Record], metrics: &[Metric]| -> Vec<Option<Spread>> {
        metrics
            .iter()
            .map(|m| {
                let values: Vec<f64> = rounds
                    .iter()
                    .filter(|r| r.error.is_none())
                    .filter_map(|r| r.figure(m.key))
                    .collect();
                Spread::of(&values)
            })
            .collect()
    };
    let rounds_cell = |rounds: &[&Record]| {
        let ok = rounds.iter().filter(|r| r.error.is_none()).count();
        let failed = rounds.len() - ok;
        if failed == 0 {
            format!("{ok}")
        } else {
            format!("{ok} ({failed} failed)")
        }
    };
    let mut out = String::new();
    if let Some(load) = load_text(records) {
        out.push_str(&format!("{}{load}\n\n", if markdown { "" } else { "# " }));
    }
    if markdown {
        for (i, metrics) in [TIME, RESOURCES].into_iter().enumerate() {
            let headers: Vec<&str> = metrics.iter().map(|m| m.header).collect();
            if i == 0 {
                out.push_str(&format!(
                    "| server | tests × parallel | rounds | {} |\n|---|---:|---:|{}\n",
                    headers.join(" | "),
                    "---:|".repeat(headers.len())
                ));
            } else {
                out.push_str(&format!(
                    "| server | {} |\n|---|{}\n",
                    headers.join(" | "),
                    "---:|".repeat(headers.len())
                ));
            }
            for (name, rounds) in &servers {
                let cells: Vec<String> = spreads(rounds, metrics)
                    .iter()
                    .map(|s| s.map_or_else(|| "—".to_owned(), |s| s.cell(noise)))
                    .collect();
                if i == 0 {
                    out.push_str(&format!(
                        "| {name} | {} × {} | {} | {} |\n",
                        rounds[0].tests,
                        rounds[0].parallel,
                        rounds_cell(rounds),
                        cells.join(" | ")
                    ));
                } else {
                    out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
                }
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "Median (min–max) over the rounds; † moved more than {:.0} % of the median between rounds: noise.\n",
            noise * 100.0
        ));
    } else {
        for (name, rounds) in &servers {
            out.push_str(&format!(
                "{name}: {} tests × {} parallel, rounds: {}\n",
                rounds[0].tests,
                rounds[0].parallel,
                rounds_cell(rounds)
            ));
            for metrics in [TIME, RESOURCES] {
                let cells: Vec<String> = metrics
                    .iter()
                    .zip(spreads(rounds, metrics))
                    .filter_map(|(m, s)| Some(format!("{} {}", m.header, s?.cell(noise))))
                    .collect();
                if !cells.is_empty() {
                    out.push_str(&format!("  {}\n", cells.join(", ")));
                }
            }
        }
        out.push_str(&format!(
            "(median (min–max) over the rounds; † moved more than {:.0} % between rounds: noise)\n",
            noise * 100.0
        ));
    }
    let failures: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let e = r.error.as_ref()?;
            Some(format!("{} round {}: {e}", r.name, r.round))
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\nFailed rounds:\n");
        for f in failures {
            out.push_str(&format!("- {f}\n"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, round: u64, wall: f64, error: Option<&str>) -> Record {
        Record {
            name: name.into(),
            round,
            tests: 500,
            parallel: 1,
            command: "openddb --in-memory".into(),
            load_start: Some([1.5, 1.0, 0.5]),
            load_end: Some([2.5 + round as f64, 1.0, 0.5]),
            figures: vec![("wall_s".into(), wall), ("startup_ms".into(), 4.0)],
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn records_round_trip() {
        let r = record(
            "openddb-memory",
            2,
            3.25,
            Some("test 7: GetItem: expected …"),
        );
        // Figures come back keyed, not in the order they were measured.
        let mut back = Record::from_json(&r.to_json()).unwrap();
        back.figures.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sorted = r.clone();
        sorted.figures.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(back, sorted);
        let mut bare = record("x", 1, 1.0, None);
        bare.load_start = None;
        bare.figures.clear();
        assert_eq!(Record::from_json(&bare.to_json()).unwrap(), bare);
        assert!(Record::from_json("{}").is_err());
        assert!(Record::from_json(r#"{"name":"x","round":1,"tests":1,"parallel":1,"command":"c","figures":{"wall_s":"1"}}"#).is_err());
        let text = format!("{}\n\n{}\n", r.to_json(), bare.to_json());
        assert_eq!(parse_lines(&text, "f").unwrap().len(), 2);
        assert!(parse_lines("nope\n", "f").unwrap_err().starts_with("f:1:"));
    }

    #[test]
    fn spreads_and_noise() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert!(s.noisy(0.2));
        assert_eq!(s.cell(0.2), "2.00 (1.00–3.00) †");
        let even = Spread::of(&[10.0, 12.0, 11.0, 13.0]).unwrap();
        assert_eq!(even.median, 11.5);
        assert!(!even.noisy(0.3));
        assert_eq!(even.cell(0.3), "11.5 (10.0–13.0)");
        let one = Spread::of(&[5000.0]).unwrap();
        assert!(!one.noisy(0.0));
        assert_eq!(one.cell(0.2), "5000");
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN]), None);
        assert_eq!(number(4.2049), "4.20");
        assert_eq!(number(126.84), "126.8");
    }

    #[test]
    fn summary_takes_medians_of_successful_rounds() {
        let records = vec![
            record("openddb-memory", 1, 3.0, None),
            record("ddblocal-memory", 1, 30.0, None),
            record("openddb-memory", 2, 3.1, None),
            record("ddblocal-memory", 2, 99.0, Some("test 3: Query: …")),
            record("openddb-memory", 3, 3.2, None),
            record("ddblocal-memory", 3, 40.0, None),
        ];
        let md = summary(&records, 0.2, true).unwrap();
        assert!(md.starts_with("load average (1 min) 1.50 at the start, 5.50 at the end"));
        // Server order is that of first appearance.
        let openddb = md
            .find("| openddb-memory | 500 × 1 | 3 | 3.10 (3.00–3.20) |")
            .unwrap();
        let ddbl = md
            .find("| ddblocal-memory | 500 × 1 | 2 (1 failed) | 35.0 (30.0–40.0) † |")
            .unwrap();
        assert!(openddb < ddbl);
        assert!(md.contains("- ddblocal-memory round 2: test 3: Query: …"));
        // Figures that were never read show as a dash.
        assert!(md.contains("| openddb-memory | — |"));
        let plain = summary(&records, 0.2, false).unwrap();
        assert!(plain.contains("openddb-memory: 500 tests × 1 parallel, rounds: 3\n"));
        assert!(plain.contains("suite wall s 3.10 (3.00–3.20)"));

        let mut mixed = records.clone();
        mixed[2].tests = 100;
        assert!(summary(&mixed, 0.2, true).is_err());
    }
}
