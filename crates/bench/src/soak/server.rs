//! The server under soak when the program starts it itself: spawned durable
//! with its data directory and log under a given root, stopped with SIGTERM
//! by its PID (SIGKILL only if it does not stop), its exit status and the
//! warnings and errors of its log kept for the report.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::startup::{list_tables_request, probe};

/// How long the server may take to answer its first ListTables.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long it may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Log lines kept for the report.
const KEPT_LINES: usize = 10;

/// How to start the server.
pub struct Launch<'a> {
    pub binary: &'a Path,
    pub root: &'a Path,
    pub addr: SocketAddr,
    pub host_header: &'a str,
    pub ttl_sweep_interval: &'a str,
    pub extra: &'a [String],
}

/// A server this program started.
pub struct Spawned {
    child: Child,
    pub pid: u32,
    /// `ROOT/openddb-soak-TIME-PID`: holds `data/` and `server.log`.
    pub dir: PathBuf,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub command: String,
}

/// How the server ended.
pub struct Ending {
    /// `None` if it had to be killed.
    pub status: Option<ExitStatus>,
    /// It was already gone when the soak ended.
    pub died_early: bool,
    pub log: LogSummary,
}

/// The warnings and errors in the server's log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub lines: usize,
    pub warnings: usize,
    pub errors: usize,
    pub panics: usize,
    /// The first warning, error or panic lines.
    pub first: Vec<String>,
}

/// Reads a log the way tracing's plain formatter writes it (`... WARN
/// target: message`) and counts panics, which Rust prints as `thread '…'
/// panicked at`.
pub fn summarise_log(text: &str) -> LogSummary {
    let mut s = LogSummary::default();
    for line in text.lines() {
        s.lines += 1;
        let warn = line.contains(" WARN ");
        let error = line.contains(" ERROR ");
        let panic = line.contains("panicked at");
        s.warnings += usize::from(warn);
        s.errors += usize::from(error);
        s.panics += usize::from(panic);
        if (warn || error || panic) && s.first.len() < KEPT_LINES {
            s.first.push(line.chars().take(400).collect());
        }
    }
    s
}

impl Spawned {
    /// Starts the server and waits until it answers ListTables.
    pub fn start(launch: &Launch) -> Result<Spawned, String> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let dir = launch
            .root
            .join(format!("openddb-soak-{stamp}-{}", std::process::id()));
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
        let log = dir.join("server.log");
        let out = File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let request = list_tables_request(launch.host_header);
        if probe(launch.addr, &request).unwrap_or(true) {
            return Err(format!(
                "something already answers on {}; choose another --port",
                launch.addr
            ));
        }
        let mut args: Vec<String> = vec![
            "--host".into(),
            launch.addr.ip().to_string(),
            "--port".into(),
            launch.addr.port().to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--ttl-sweep-interval".into(),
            launch.ttl_sweep_interval.into(),
            "--log-level".into(),
            "warn".into(),
        ];
        args.extend(launch.extra.iter().cloned());
        let command = format!("{} {}", launch.binary.display(), args.join(" "));
        let child = Command::new(launch.binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.binary.display()))?;
        let mut spawned = Spawned {
            pid: child.id(),
            child,
            dir,
            data_dir,
            log,
            command,
        };
        let started = Instant::now();
        loop {
            match probe(launch.addr, &request) {
                Ok(true) => return Ok(spawned),
                Ok(false) => {}
                Err(e) => return Err(format!("the server answered: {e}")),
            }
            if let Ok(Some(status)) = spawned.child.try_wait() {
                return Err(format!(
                    "the server exited with {status} before answering; see {}",
                    spawned.log.display()
                ));
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "the server did not answer within {READY_TIMEOUT:?}"
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the server: SIGTERM to its PID, then SIGKILL after
    /// [`STOP_TIMEOUT`]; reads its log.
    pub fn stop(&mut self) -> Ending {
        let early = self.exited();
        let status = match early {
            Some(status) => Some(status),
            None => {
                // Only the process this program started, by its PID; `kill`
                // saves a dependency for one signal.
                let _ = Command::new("kill")
                    .args(["-TERM", &self.pid.to_string()])
                    .status();
                let deadline = Instant::now() + STOP_TIMEOUT;
                loop {
                    if let Some(status) = self.exited() {
                        break Some(status);
                    }
                    if Instant::now() > deadline {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        break None;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
            }
        };
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        Ending {
            status,
            died_early: early.is_some(),
            log: summarise_log(&text),
        }
    }

    /// Removes the data directory, or everything when `log_too`.
    pub fn remove(&self, log_too: bool) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if log_too {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Never leave the server running, whatever path the soak took.
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_summary() {
        let text = "openddb listening on 127.0.0.1:19200\n\
            2026-11-22T10:00:00.000Z  WARN openddb_engine::ttl: slow sweep\n\
            2026-11-22T10:00:01.000Z ERROR openddb_server: request failed\n\
            thread 'openddb-worker' panicked at crates/x.rs:1:1:\n\
            boom\n";
        let s = summarise_log(text);
        assert_eq!((s.lines, s.warnings, s.errors, s.panics), (5, 1, 1, 1));
        assert_eq!(s.first.len(), 3);
        assert!(s.first[2].contains("panicked"));
        assert_eq!(summarise_log(""), LogSummary::default());
    }
}
