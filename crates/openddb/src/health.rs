//! `openddb health`: asks a server `GET /` and exits 0 when it answers 200,
//! for container health checks (a distroless image has no curl).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Seconds to wait for the answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0, value_parser = crate::parse_timeout)]
    timeout: f64,
}

pub fn run(args: &HealthArgs) -> ExitCode {
    match check(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("openddb health: {message}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: &HealthArgs) -> Result<(), String> {
    let timeout = Duration::from_secs_f64(args.timeout);
    let target = format!("{}:{}", args.host, args.port);
    let address = target
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {target}: {e}"))?
        .next()
        .ok_or_else(|| format!("{target} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("cannot connect to {target}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\nUser-Agent: openddb-health\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {target}: {e}"))?;
    // The status line is all that matters; the health text is short.
    let mut answer = Vec::with_capacity(256);
    stream
        .take(4096)
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer from {target}: {e}"))?;
    let status_line = answer
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let mut words = status_line.split(' ');
    match (words.next(), words.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(()),
        _ => Err(format!("{target} answered {status_line:?}")),
    }
}
