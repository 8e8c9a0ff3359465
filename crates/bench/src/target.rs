//! Benchmark targets: `NAME=URL[@PID]`, restricted to loopback addresses.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use openddb_auth::sigv4::Signer;

/// One server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Label used in reports (e.g. `openddb`, `dynoxide-file`).
    pub name: String,
    /// Loopback socket address the server listens on.
    pub addr: SocketAddr,
    /// Value of the `Host` header (`host:port` as given in the URL).
    pub host_header: String,
    /// Server process id, for CPU accounting from `/proc/PID/stat`.
    pub pid: Option<u32>,
    /// Signs every request (`--sign`), for servers that verify signatures;
    /// without it requests carry a fixed, well-formed but unverifiable one.
    pub signer: Option<Arc<Signer>>,
}

/// Parses `NAME=http://HOST:PORT[/][@PID]` and refuses non-loopback hosts.
pub fn parse_target(spec: &str) -> Result<Target, String> {
    let (name, rest) = spec
        .split_once('=')
        .ok_or_else(|| format!("target `{spec}`: expected NAME=URL[@PID]"))?;
    if name.is_empty() {
        return Err(format!("target `{spec}`: empty name"));
    }
    let (url, pid) = match rest.rsplit_once('@') {
        Some((url, pid)) => {
            let pid: u32 = pid
                .parse()
                .map_err(|_| format!("target `{spec}`: `{pid}` is not a process id"))?;
            (url, Some(pid))
        }
        None => (rest, None),
    };
    let (addr, host_header) = parse_url(url)?;
    Ok(Target {
        name: name.to_string(),
        addr,
        host_header,
        pid,
        signer: None,
    })
}

/// Parses `http://HOST:PORT[/]` into a loopback socket address and the
/// `Host` header value. Only plain HTTP to loopback is allowed.
pub fn parse_url(url: &str) -> Result<(SocketAddr, String), String> {
    let hostport = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?
        .trim_end_matches('/');
    if hostport.contains('/') {
        return Err(format!("`{url}`: the URL must not have a path"));
    }
    let addrs: Vec<SocketAddr> = hostport
        .to_socket_addrs()
        .map_err(|e| format!("`{url}`: cannot resolve `{hostport}` (a port is required): {e}"))?
        .collect();
    let addr = addrs
        .first()
        .copied()
        .ok_or_else(|| format!("`{url}`: `{hostport}` resolves to nothing"))?;
    if let Some(bad) = addrs.iter().find(|a| !is_loopback(a.ip())) {
        return Err(format!(
            "`{url}`: {} is not a loopback address; this tool only loads local servers",
            bad.ip()
        ));
    }
    Ok((addr, hostport.to_string()))
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_url_pid() {
        let t = parse_target("openddb=http://127.0.0.1:8000@1234").unwrap();
        assert_eq!(t.name, "openddb");
        assert_eq!(t.addr.port(), 8000);
        assert_eq!(t.pid, Some(1234));
        assert_eq!(t.host_header, "127.0.0.1:8000");
        let t = parse_target("x=http://localhost:9/").unwrap();
        assert_eq!(t.pid, None);
        assert!(t.addr.ip().is_loopback());
    }

    #[test]
    fn refuses_non_loopback() {
        assert!(parse_target("x=http://10.0.0.1:8000").is_err());
        assert!(parse_target("x=http://[::ffff:8.8.8.8]:80").is_err());
        assert!(parse_target("x=https://127.0.0.1:8000").is_err());
        assert!(parse_target("x=http://127.0.0.1").is_err());
        assert!(parse_target("http://127.0.0.1:8000").is_err());
    }
}
