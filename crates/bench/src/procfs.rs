//! Reading process CPU time and resident memory from `/proc`.

use std::fs;

/// Kernel clock ticks per second for `/proc/PID/stat` times (`USER_HZ`,
/// 100 on every mainstream Linux configuration).
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// User + system CPU time consumed so far by process `pid`, in microseconds
/// (resolution: one clock tick, 10 ms).
pub fn cpu_micros(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu_micros(&stat)
}

fn parse_stat_cpu_micros(stat: &str) -> Option<u64> {
    // The command name (field 2) is parenthesised and may contain spaces or
    // parentheses; the fields after the last ')' start at field 3 (state).
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?; // field 14
    let stime: u64 = fields.next()?.parse().ok()?; // field 15
    Some((utime + stime) * 1_000_000 / CLOCK_TICKS_PER_SEC)
}

/// Resident set size of process `pid` (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        let line = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1 1 1";
        assert_eq!(parse_stat_cpu_micros(line), Some(3_000_000));
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id();
        assert!(cpu_micros(me).is_some());
        assert!(rss_kib(me).unwrap() > 0);
    }
}
