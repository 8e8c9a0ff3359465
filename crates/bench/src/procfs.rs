//! Reading process CPU time, memory, threads and open files from `/proc`,
//! and the machine's load average.

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
    status(pid)?.rss_kib
}

/// What the soak reads from `/proc/PID/status` in one go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// `VmRSS`, in KiB.
    pub rss_kib: Option<u64>,
    /// `VmHWM` (peak resident set size), in KiB.
    pub hwm_kib: Option<u64>,
    /// `Threads`.
    pub threads: Option<u64>,
}

/// `VmRSS`, `VmHWM` and `Threads` of process `pid`; `None` once it is gone.
pub fn status(pid: u32) -> Option<Status> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(parse_status(&text))
}

fn parse_status(text: &str) -> Status {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Status {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        threads: field("Threads:"),
    }
}

/// Open file descriptors of process `pid` (entries of `/proc/PID/fd`:
/// files, sockets, pipes), or `None` when they cannot be listed.
pub fn open_fds(pid: u32) -> Option<u64> {
    let dir = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(dir.filter(|e| e.is_ok()).count() as u64)
}

/// The 1-, 5- and 15-minute load averages of the machine.
pub fn load_average() -> Option<[f64; 3]> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
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
        let s = status(me).unwrap();
        assert!(s.hwm_kib.unwrap() >= s.rss_kib.unwrap());
        assert!(s.threads.unwrap() >= 1);
        // At least stdin, stdout and stderr, or whatever the harness left.
        assert!(open_fds(me).unwrap() >= 1);
        assert!(load_average().unwrap().iter().all(|l| *l >= 0.0));
    }

    #[test]
    fn parses_status() {
        let text = "Name:\topenddb\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n";
        assert_eq!(
            parse_status(text),
            Status {
                rss_kib: Some(40960),
                hwm_kib: Some(51200),
                threads: Some(9)
            }
        );
        assert_eq!(parse_status(""), Status::default());
    }
}
