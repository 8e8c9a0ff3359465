//! The real `openddb` binary as a child process on a free loopback port, for
//! the tests that kill it, restart it or attack it over raw sockets.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The server process; killed (SIGKILL) and reaped when dropped, so a failing
/// test leaves nothing running. Everything it writes to stderr is kept, so a
/// test can show what the server logged (a panic, a stack overflow).
pub struct ServerProcess {
    child: std::process::Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the real binary on a free port over `data_dir`.
    pub fn start(data_dir: &Path) -> ServerProcess {
        ServerProcess::start_with(data_dir, &[])
    }

    /// Starts it over `data_dir` with `extra` arguments after the usual ones.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> ServerProcess {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_openddb"))
            .arg("--port")
            .arg("0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--log-level")
            .arg("warn")
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the openddb binary");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_w = log.clone();
        // Keep draining stderr after the address line so the server never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("openddb listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.trim().to_owned());
                    }
                }
                if let Ok(mut log) = log_w.lock() {
                    log.push(line);
                }
            }
        });
        let mut server = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address");
        server.addr = addr.parse().expect("a socket address");
        server
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it has not exited or aborted).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Every line the server has written to stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
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
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
