//! Start-up latency and idle memory: spawn a server command, poll it with
//! `ListTables` until the first successful answer, then read its resident
//! memory after an idle pause.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{AMZ_DATE, AUTHORIZATION_VALUE, CONTENT_TYPE_VALUE};
use crate::procfs;

/// How the measurement is run.
pub struct StartupPlan {
    /// Label for the report.
    pub name: String,
    /// Loopback address the server will listen on.
    pub addr: SocketAddr,
    /// `Host` header value.
    pub host_header: String,
    /// Server command line; the spawned process must be the server itself
    /// (a wrapper script must `exec` it), since its PID is measured and
    /// killed.
    pub command: Vec<String>,
    /// Number of start-ups.
    pub repeat: usize,
    /// Idle time after the first answer before reading `VmRSS`.
    pub idle: Duration,
    /// Pause between connection attempts.
    pub poll: Duration,
    /// Give up on one start-up after this long.
    pub timeout: Duration,
}

/// Start-up figures, one entry per repetition.
pub struct StartupResult {
    /// Label.
    pub name: String,
    /// Spawn to first 200 answer to `ListTables`.
    pub startup: Vec<Duration>,
    /// `VmRSS` after the first answer and the idle pause, in KiB.
    pub idle_rss_kib: Vec<u64>,
}

fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

impl StartupResult {
    /// Median start-up time.
    pub fn median_startup(&self) -> Option<Duration> {
        median(&self.startup)
    }

    /// Median idle RSS in KiB.
    pub fn median_rss_kib(&self) -> Option<u64> {
        median(&self.idle_rss_kib)
    }

    /// One human-readable line.
    pub fn line(&self) -> String {
        let min = self.startup.iter().min().copied().unwrap_or_default();
        let max = self.startup.iter().max().copied().unwrap_or_default();
        format!(
            "{}: start-up median {:.2} ms (min {:.2}, max {:.2}, n={}), idle RSS median {:.1} MiB",
            self.name,
            ms(self.median_startup().unwrap_or_default()),
            ms(min),
            ms(max),
            self.startup.len(),
            self.median_rss_kib().unwrap_or_default() as f64 / 1024.0
        )
    }

    /// One markdown table row (`| name | median ms | min ms | max ms | RSS MiB |`).
    pub fn markdown_row(&self) -> String {
        let min = self.startup.iter().min().copied().unwrap_or_default();
        let max = self.startup.iter().max().copied().unwrap_or_default();
        format!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.1} |",
            self.name,
            ms(self.median_startup().unwrap_or_default()),
            ms(min),
            ms(max),
            self.median_rss_kib().unwrap_or_default() as f64 / 1024.0
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A raw HTTP/1.1 `ListTables` request with `Connection: close`.
pub(crate) fn list_tables_request(host: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: {CONTENT_TYPE_VALUE}\r\n\
         X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: {AMZ_DATE}\r\n\
         Authorization: {AUTHORIZATION_VALUE}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .into_bytes()
}

/// One connect + `ListTables`; `Ok(true)` on HTTP 200, `Ok(false)` when
/// nothing listens yet, `Err` for any other answer.
pub(crate) fn probe(addr: SocketAddr, request: &[u8]) -> Result<bool, String> {
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::TimedOut) => {
            return Ok(false)
        }
        Err(e) => return Err(format!("connect {addr}: {e}")),
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if stream.write_all(request).is_err() {
        return Ok(false); // listening socket not serving yet
    }
    let mut answer = Vec::new();
    if stream.read_to_end(&mut answer).is_err() && answer.is_empty() {
        return Ok(false);
    }
    if answer.is_empty() {
        return Ok(false);
    }
    let status_line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(true)
    } else {
        Err(format!("ListTables answered `{status_line}`"))
    }
}

fn stop(child: &mut Child) {
    // Only the process this tool spawned, by its handle.
    let _ = child.kill();
    let _ = child.wait();
}

/// Where a spawned server's standard output and error go.
pub(crate) enum ServerOutput {
    /// Discarded.
    Null,
    /// Appended to this file.
    File(std::path::PathBuf),
}

impl ServerOutput {
    fn stdio(&self) -> Result<(Stdio, Stdio), String> {
        match self {
            ServerOutput::Null => Ok((Stdio::null(), Stdio::null())),
            ServerOutput::File(path) => {
                let out = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("opening {}: {e}", path.display()))?;
                let err = out
                    .try_clone()
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok((out.into(), err.into()))
            }
        }
    }
}

/// Spawns `command` (the server itself) and polls `addr` with `request`
/// until the first HTTP 200; returns the child and the time from spawn to
/// that answer. The child is killed if it does not answer within `timeout`,
/// exits first or answers something else.
pub(crate) fn spawn_until_ready(
    name: &str,
    addr: SocketAddr,
    request: &[u8],
    command: &[String],
    output: &ServerOutput,
    poll: Duration,
    timeout: Duration,
) -> Result<(Child, Duration), String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| format!("{name}: no server command given"))?;
    match probe(addr, request) {
        Ok(false) => {}
        Ok(true) => {
            return Err(format!(
                "{name}: a server already answers ListTables on {addr} before spawning"
            ))
        }
        Err(e) => return Err(format!("{name}: {addr} is not free before spawning: {e}")),
    }
    let (stdout, stderr) = output.stdio()?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("{name}: cannot spawn `{program}`: {e}"))?;
    let answered = loop {
        match probe(addr, request) {
            Ok(true) => break Ok(started.elapsed()),
            Ok(false) => {}
            Err(e) => break Err(format!("{name}: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!(
                "{name}: server exited with {status} before answering"
            ));
        }
        if started.elapsed() > timeout {
            break Err(format!("{name}: no answer within {timeout:?}"));
        }
        if !poll.is_zero() {
            thread::sleep(poll);
        }
    };
    match answered {
        Ok(elapsed) => Ok((child, elapsed)),
        Err(e) => {
            stop(&mut child);
            Err(e)
        }
    }
}

/// Waits (up to `timeout`) until nothing answers on `addr` any more, so the
/// next start-up does not meet the previous server.
pub(crate) fn wait_until_free(addr: SocketAddr, request: &[u8], timeout: Duration) {
    let freed = Instant::now();
    while probe(addr, request).unwrap_or(true) && freed.elapsed() < timeout {
        thread::sleep(Duration::from_millis(5));
    }
}

/// Stops a server this tool spawned: SIGTERM to its PID (a graceful stop,
/// as a test framework's teardown does), SIGKILL after `grace`.
pub(crate) fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // Only the process this tool spawned, by its PID; `kill` saves a
    // dependency for one signal.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    stop(child);
}

/// Runs the start-up measurement `plan.repeat` times.
pub fn measure(plan: &StartupPlan) -> Result<StartupResult, String> {
    let request = list_tables_request(&plan.host_header);
    let mut result = StartupResult {
        name: plan.name.clone(),
        startup: Vec::new(),
        idle_rss_kib: Vec::new(),
    };
    for round in 0..plan.repeat {
        let (mut child, elapsed) = spawn_until_ready(
            &plan.name,
            plan.addr,
            &request,
            &plan.command,
            &ServerOutput::Null,
            plan.poll,
            plan.timeout,
        )
        .map_err(|e| format!("{e} (round {round})"))?;
        thread::sleep(plan.idle);
        let rss = procfs::rss_kib(child.id());
        stop(&mut child);
        result.startup.push(elapsed);
        result.idle_rss_kib.extend(rss);
        // Wait until the port is free again before the next round.
        wait_until_free(plan.addr, &request, plan.timeout);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_picks_middle() {
        assert_eq!(median(&[5, 1, 3]), Some(3));
        assert_eq!(median::<u64>(&[]), None);
    }

    #[test]
    fn request_is_complete_http() {
        let r = String::from_utf8(list_tables_request("127.0.0.1:1")).unwrap();
        assert!(r.starts_with("POST / HTTP/1.1\r\n"));
        assert!(r.ends_with("\r\n\r\n{}"));
    }
}
