//! A server as a child process on a free loopback port — the real `openddb`
//! binary, the binary started through a wrapper command (a mount namespace,
//! resource limits), or another program that serves the same way — for the
//! tests that kill it, restart it, starve it of disk or attack it over raw
//! sockets. Every line it writes to stderr is kept (and echoed, so a failing
//! test shows it), so a test can wait for an event only the log shows, or
//! assert that the server logged no panic.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The server process; killed (SIGKILL) and reaped when dropped, so a failing
/// test leaves nothing running.
pub struct ServerProcess {
    child: std::process::Child,
    pub addr: SocketAddr,
    log: Arc<Log>,
    /// Lines before this one have been looked at by `wait_for_log`.
    seen: usize,
}

#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl ServerProcess {
    /// Starts the real binary on a free port over `data_dir`.
    pub fn start(data_dir: &Path) -> ServerProcess {
        ServerProcess::start_with(data_dir, &[])
    }

    /// Starts the real binary over `data_dir` with `extra` arguments (logging
    /// at `warn` unless they say otherwise).
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> ServerProcess {
        ServerProcess::start_wrapped(&[], data_dir, extra)
    }

    /// Starts the real binary through `wrapper`, a command that ends by
    /// running the program and arguments appended to it (`nsenter --target
    /// PID --mount --`, `sh -c '…; exec "$@"' sh`); empty for none.
    pub fn start_wrapped(wrapper: &[&str], data_dir: &Path, extra: &[&str]) -> ServerProcess {
        let binary = env!("CARGO_BIN_EXE_openddb");
        let mut command = match wrapper.split_first() {
            Some((program, prefix)) => {
                let mut c = Command::new(program);
                c.args(prefix).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        command
            .arg("--port")
            .arg("0")
            .arg("--data-dir")
            .arg(data_dir);
        if !extra.contains(&"--log-level") {
            command.args(["--log-level", "warn"]);
        }
        command.args(extra);
        ServerProcess::spawn(command)
    }

    /// Runs `command`, a server that prints `openddb listening on <addr>` on
    /// stderr, and waits for that line.
    pub fn spawn(mut command: Command) -> ServerProcess {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start the server process {command:?}: {e}"));
        let pid = child.id();
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Log::default());
        let log_w = log.clone();
        // Keep draining stderr after the address line so the server never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                let Ok(line) = line else { break };
                match line.strip_prefix("openddb listening on ") {
                    Some(addr) if tx.is_some() => {
                        let _ = tx.take().map(|tx| tx.send(addr.trim().to_owned()));
                    }
                    _ => eprintln!("[server {pid}] {line}"),
                }
                if let Ok(mut lines) = log_w.lines.lock() {
                    lines.push(line);
                    log_w.grew.notify_all();
                }
            }
        });
        let mut server = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            seen: 0,
        };
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address");
        server.addr = addr.parse().expect("a socket address");
        server
    }

    /// The process id (a wrapper execs into the server, so it is the
    /// server's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it has not exited or aborted).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Every line the server has written to stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits up to `within` for a line not yet waited past that contains
    /// every one of `parts`, and returns it.
    pub fn wait_for_log(&mut self, parts: &[&str], within: Duration) -> String {
        let deadline = Instant::now() + within;
        let mut lines = self.log.lines.lock().expect("the log");
        loop {
            while self.seen < lines.len() {
                let line = &lines[self.seen];
                self.seen += 1;
                if parts.iter().all(|p| line.contains(p)) {
                    return line.clone();
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("no log line with {parts:?} within {within:?}");
            }
            lines = self.log.grew.wait_timeout(lines, left).expect("the log").0;
        }
    }

    /// SIGKILL: no chance to flush or finish anything.
    pub fn kill(mut self) {
        self.sigkill();
    }

    /// SIGKILL, keeping the handle (for a restart in its place).
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// SIGTERM, then waits for the exit: requests in flight finish and the
    /// database files are closed cleanly.
    pub fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM the server");
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
