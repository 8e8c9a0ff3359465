//! The server's resources sampled over the soak (resident memory and its
//! peak, threads, open file descriptors, the data directory's size, CPU
//! time) and the verdict on whether a series stayed flat.
//!
//! A series is flat when both hold:
//!
//! - its level at the end (median of the last minute's samples) is within
//!   the tolerance of its level after the first minute (median of the first
//!   minute's samples), and
//! - its trend over the rest of the run (the Theil–Sen slope: the median of
//!   the slopes between every pair of samples, which a few spikes do not
//!   move) projected over that stretch stays within the tolerance too —
//!   so a steady climb that a lucky last minute hides still fails.
//!
//! Medians rather than single readings, because VmRSS moves by a few MiB
//! from one sample to the next as the allocator and SQLite's page caches
//! take and give back memory.

use std::path::Path;
use std::time::Duration;

use crate::procfs;

/// One reading of the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Since the start of the measured window.
    pub at: Duration,
    pub status: procfs::Status,
    pub fds: Option<u64>,
    /// Bytes of the files under the data directory.
    pub data_bytes: Option<u64>,
    /// Server CPU time so far, µs.
    pub cpu_us: Option<u64>,
}

/// Reads the server `pid` (and its data directory) now; `None` when the
/// process is gone.
pub fn sample(pid: u32, data_dir: Option<&Path>, at: Duration) -> Option<Sample> {
    let status = procfs::status(pid)?;
    Some(Sample {
        at,
        status,
        fds: procfs::open_fds(pid),
        data_bytes: data_dir.and_then(dir_bytes),
        cpu_us: procfs::cpu_micros(pid),
    })
}

/// Total size of the files under `dir`, recursively (SQLite files, WAL).
pub fn dir_bytes(dir: &Path) -> Option<u64> {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            // A file may vanish between listing and reading (SQLite's
            // journal); it then counts for nothing.
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Some(total)
}

/// How far a series may move and still be flat: the larger of a share of
/// its level after the first minute and an absolute amount.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub percent: f64,
    pub absolute: f64,
}

impl Tolerance {
    pub fn of(&self, baseline: f64) -> f64 {
        (baseline * self.percent / 100.0).max(self.absolute)
    }
}

/// The verdict on one series (values in the series' own unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Seconds at each end of the window whose medians are compared.
    pub settle: f64,
    /// Median over the first `settle` of the window.
    pub baseline: f64,
    /// Median over the last `settle` of the window.
    pub end: f64,
    /// Theil–Sen slope after `settle`, per minute.
    pub slope_per_min: f64,
    /// That slope over the window after `settle`.
    pub projected: f64,
    pub tolerance: f64,
    pub flat: bool,
}

impl Verdict {
    pub fn growth(&self) -> f64 {
        self.end - self.baseline
    }
}

/// Most points the slope is computed over (pairs grow with the square).
const SLOPE_POINTS: usize = 400;

/// Judges the series `points` (seconds since the window start, value) of a
/// window `window_secs` long; `settle` is the stretch at each end whose
/// median is taken (one minute, or a quarter of a shorter window). `None`
/// without enough samples to tell (fewer than two in either end stretch).
pub fn verdict(
    points: &[(f64, f64)],
    window_secs: f64,
    settle: f64,
    tolerance: Tolerance,
) -> Option<Verdict> {
    let settle = settle.min(window_secs / 4.0);
    let first: Vec<f64> = points
        .iter()
        .filter(|(t, _)| *t <= settle)
        .map(|p| p.1)
        .collect();
    let last: Vec<f64> = points
        .iter()
        .filter(|(t, _)| *t >= window_secs - settle)
        .map(|p| p.1)
        .collect();
    if first.len() < 2 || last.len() < 2 {
        return None;
    }
    let baseline = median(first)?;
    let end = median(last)?;
    let rest: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, _)| *t >= settle)
        .collect();
    let slope = theil_sen(&rest).unwrap_or(0.0);
    let projected = slope * (window_secs - settle);
    let tolerance = tolerance.of(baseline);
    Some(Verdict {
        settle,
        baseline,
        end,
        slope_per_min: slope * 60.0,
        projected,
        tolerance,
        flat: end - baseline <= tolerance && projected <= tolerance,
    })
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// The median of the slopes between every pair of points with distinct
/// times (evenly thinned to [`SLOPE_POINTS`] first).
fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let step = points.len().div_ceil(SLOPE_POINTS).max(1);
    let thin: Vec<(f64, f64)> = points.iter().copied().step_by(step).collect();
    let mut slopes = Vec::with_capacity(thin.len() * thin.len() / 2);
    for (i, a) in thin.iter().enumerate() {
        for b in &thin[i + 1..] {
            if b.0 > a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    median(slopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: Tolerance = Tolerance {
        percent: 10.0,
        absolute: 16.0,
    };

    /// A series sampled every 5 s over 10 minutes.
    fn series(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..=120)
            .map(|i| {
                let t = i as f64 * 5.0;
                (t, f(t))
            })
            .collect()
    }

    #[test]
    fn flat_with_noise_and_spikes() {
        // ±3 MiB of noise and two 40 MiB spikes around 100 MiB.
        let s = series(|t| {
            let noise = ((t * 7.0) % 6.0) - 3.0;
            let spike = if t == 200.0 || t == 400.0 { 40.0 } else { 0.0 };
            100.0 + noise + spike
        });
        let v = verdict(&s, 600.0, 60.0, TOL).unwrap();
        assert!(v.flat, "{v:?}");
        assert!((v.baseline - 100.0).abs() < 3.5);
        assert_eq!(v.tolerance, 16.0);
    }

    #[test]
    fn caches_filling_early_then_flat() {
        // +12 MiB over the second minute (page caches warming), then flat.
        let s = series(|t| 100.0 + ((t - 60.0).clamp(0.0, 60.0) / 60.0) * 12.0);
        let v = verdict(&s, 600.0, 60.0, TOL).unwrap();
        assert!(v.flat, "{v:?}");
        assert!((v.growth() - 12.0).abs() < 1e-9);
    }

    #[test]
    fn a_steady_leak_fails() {
        // 3 MiB a minute: 27 MiB after the first minute.
        let s = series(|t| 100.0 + t / 20.0);
        let v = verdict(&s, 600.0, 60.0, TOL).unwrap();
        assert!(!v.flat, "{v:?}");
        assert!((v.slope_per_min - 3.0).abs() < 1e-9);
        assert!((v.projected - 27.0).abs() < 1e-6);
    }

    #[test]
    fn a_leak_hidden_by_a_low_last_minute_still_fails() {
        // Climbs 40 MiB, then drops back for the last minute: the end is
        // within tolerance, the trend is not.
        let s = series(|t| if t >= 540.0 { 105.0 } else { 100.0 + t / 12.0 });
        let v = verdict(&s, 600.0, 60.0, TOL).unwrap();
        assert!(v.growth() <= v.tolerance);
        assert!(!v.flat, "{v:?}");
    }

    #[test]
    fn tolerance_grows_with_the_baseline() {
        let s = series(|t| 1000.0 + t / 10.0); // +54 after minute one
        let v = verdict(&s, 600.0, 60.0, TOL).unwrap();
        assert!((v.tolerance - v.baseline / 10.0).abs() < 1e-9);
        assert!(v.tolerance > 100.0);
        assert!(v.flat, "{v:?}");
    }

    #[test]
    fn short_windows_and_missing_samples() {
        // A 60 s window settles over 15 s at each end.
        let s: Vec<(f64, f64)> = (0..=12).map(|i| (i as f64 * 5.0, 50.0)).collect();
        let v = verdict(&s, 60.0, 60.0, TOL).unwrap();
        assert!(v.flat);
        assert_eq!(v.slope_per_min, 0.0);
        assert!(verdict(&s[..2], 60.0, 60.0, TOL).is_none());
        assert!(verdict(&[], 600.0, 60.0, TOL).is_none());
    }

    #[test]
    fn medians_and_slopes() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        let line: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, 2.0 * i as f64)).collect();
        assert_eq!(theil_sen(&line), Some(2.0));
        assert_eq!(theil_sen(&[(1.0, 1.0)]), None);
    }

    #[test]
    fn samples_this_process() {
        let dir = std::env::temp_dir().join(format!("soak-dir-bytes-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), [0u8; 100]).unwrap();
        std::fs::write(dir.join("sub").join("b"), [0u8; 23]).unwrap();
        let s = sample(std::process::id(), Some(&dir), Duration::from_secs(3)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(s.data_bytes, Some(123));
        assert!(s.status.rss_kib.unwrap() > 0);
        assert!(s.fds.unwrap() > 0);
        assert!(s.cpu_us.is_some());
        assert_eq!(s.at, Duration::from_secs(3));
        assert!(dir_bytes(&dir).is_none());
    }
}
