//! HTTPS: `aws-sdk-dynamodb` over TLS to a server with a self-signed
//! certificate (in-process and the real binary), certificates a client does
//! not trust, plain HTTP to a TLS port, handshakes that never finish, and
//! certificate files that cannot be used.
//!
//! The SDK's own rustls connector pulls aws-lc-sys (a long C build), so the
//! client here is the SDK over a small connector of ours: hyper's HTTP/1.1
//! client over tokio-rustls with the `ring` provider, one connection per
//! request.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use common::{create_table, get_consistent, item, put, s, ServerProcess};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use openddb::server::{Limits, Tls};
use openddb::{Database, StorageConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Sends each request over a new TLS connection to `addr`, verifying the
/// server as `name` against `roots`.
#[derive(Debug, Clone)]
struct RustlsConnector {
    addr: SocketAddr,
    name: ServerName<'static>,
    config: Arc<rustls::ClientConfig>,
}

fn connector_error(e: impl std::error::Error + Send + Sync + 'static) -> ConnectorError {
    ConnectorError::io(Box::new(e))
}

impl HttpConnector for RustlsConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(Box::new(e)))?;
            let tcp = TcpStream::connect(this.addr)
                .await
                .map_err(connector_error)?;
            let tls = tokio_rustls::TlsConnector::from(this.config)
                .connect(this.name, tcp)
                .await
                .map_err(connector_error)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(connector_error)?;
            tokio::spawn(connection);
            let response = sender
                .send_request(request)
                .await
                .map_err(connector_error)?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(connector_error)?.to_bytes();
            let response = hyper::Response::from_parts(parts, SdkBody::from(bytes));
            response
                .try_into()
                .map_err(|e| ConnectorError::other(Box::new(e), None))
        })
    }
}

/// rustls on `ring` (deprecated in rustls 0.23.48 for lacking post-quantum
/// key exchange; the alternative is the aws-lc-sys build this avoids).
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A rustls client trusting only `cert_pem`, speaking HTTP/1.1.
fn client_config(cert_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.expect("a PEM certificate")).expect("a root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(ring_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// An SDK client for `https://<name>:<port>` at `addr`, trusting `cert_pem`.
fn https_client(addr: SocketAddr, name: &str, cert_pem: &str) -> Client {
    let connector = RustlsConnector {
        addr,
        name: ServerName::try_from(name.to_owned()).expect("a server name"),
        config: client_config(cert_pem),
    };
    let host = if name.contains(':') {
        format!("[{name}]")
    } else {
        name.to_owned()
    };
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("https://{host}:{}", addr.port()))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "111111111111",
            "secret",
            None,
            None,
            "static",
        ))
        .http_client(http_client_fn(move |_, _| {
            SharedHttpConnector::new(connector.clone())
        }))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// An in-process HTTPS server.
struct TlsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TlsServer {
    async fn start(tls: Tls, limits: Limits) -> TlsServer {
        let db = Arc::new(Database::open(StorageConfig::InMemory).expect("open"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(openddb::server::serve_tls(
            db,
            listener,
            limits,
            tls,
            async {
                let _ = stopped.await;
            },
        ));
        TlsServer {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("the server stops")
            .expect("no panic")
            .expect("a clean stop");
    }
}

/// Create, write and read a table: the SDK's whole round trip works.
async fn round_trip(client: &Client) {
    create_table(client, "Secure", false).await;
    put(
        client,
        "Secure",
        item([("pk", s("k")), ("v", s("over TLS"))]),
    )
    .await;
    let got = get_consistent(client, "Secure", "k")
        .await
        .expect("GetItem");
    assert_eq!(got.and_then(|i| i.get("v").cloned()), Some(s("over TLS")));
}

#[tokio::test]
async fn the_sdk_works_over_https_with_a_self_signed_certificate() {
    let tls = Tls::self_signed().expect("a self-signed certificate");
    let pem = tls.certificate_pem().to_owned();
    let server = TlsServer::start(tls, Limits::default()).await;
    round_trip(&https_client(server.addr, "localhost", &pem)).await;
    // The certificate names the loopback address too.
    let by_ip = https_client(server.addr, "127.0.0.1", &pem);
    let tables = by_ip.list_tables().send().await.expect("ListTables by IP");
    assert_eq!(tables.table_names(), ["Secure"]);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let server = TlsServer::start(Tls::self_signed().unwrap(), Limits::default()).await;
    let stranger = Tls::self_signed().unwrap();
    let client = https_client(server.addr, "localhost", stranger.certificate_pem());
    let err = client.list_tables().send().await.expect_err("untrusted");
    let shown = format!("{:?}", err);
    assert!(shown.contains("InvalidCertificate"), "{shown}");
    server.shutdown().await;
}

/// Sends a plain HTTP request to `addr` and reads whatever comes back
/// until the server closes (or 10 s pass).
async fn plain_http(addr: SocketAddr) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let request =
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
                   Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}";
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closes the connection");
    answer
}

#[tokio::test]
async fn plain_http_to_a_tls_port_gets_no_answer() {
    let tls = Tls::self_signed().unwrap();
    let pem = tls.certificate_pem().to_owned();
    let server = TlsServer::start(tls, Limits::default()).await;
    let answer = plain_http(server.addr).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "no HTTP answer: {}",
        String::from_utf8_lossy(&answer)
    );
    // The server goes on serving TLS.
    let client = https_client(server.addr, "localhost", &pem);
    client
        .list_tables()
        .send()
        .await
        .expect("ListTables over TLS");
    server.shutdown().await;
}

/// A client that opens TCP and never finishes the handshake (sends
/// nothing, or half a ClientHello) is closed after the header-read
/// timeout, and the connection slot it held serves another client.
#[tokio::test]
async fn an_unfinished_handshake_is_closed_after_the_header_timeout() {
    let limits = Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let tls = Tls::self_signed().unwrap();
    let pem = tls.certificate_pem().to_owned();
    let server = TlsServer::start(tls, limits).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    // A TLS record header announcing a 512-byte handshake, and 3 bytes.
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01])
        .await
        .unwrap();
    for socket in [&mut silent, &mut partial] {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(20), socket.read(&mut buf))
            .await
            .expect("the server closes the stalled connection");
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "closed, not answered: {read:?}"
        );
    }
    // Both slots are free again: two clients are served.
    for _ in 0..2 {
        let client = https_client(server.addr, "localhost", &pem);
        client
            .list_tables()
            .send()
            .await
            .expect("served after the stalled ones left");
    }
    server.shutdown().await;
}

/// The binary: `--tls-self-signed` prints the certificate's fingerprint
/// and writes its PEM where asked; the SDK trusting that PEM is served.
#[tokio::test]
async fn the_binary_serves_https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let mut server = ServerProcess::start_with(
        &dir.path().join("data"),
        &[
            "--tls-self-signed",
            "--tls-self-signed-cert-out",
            cert.to_str().unwrap(),
        ],
    );
    let line = server.wait_for_log(&["fingerprint"], Duration::from_secs(10));
    let pem = std::fs::read_to_string(&cert).expect("the certificate was written");
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate");
    let printed = line.rsplit(' ').next().unwrap();
    assert_eq!(printed, sha256_fingerprint(&der));
    round_trip(&https_client(server.addr, "localhost", &pem)).await;
    let answer = plain_http(server.addr).await;
    assert!(!answer.starts_with(b"HTTP/"));
    server.kill();
}

/// `AB:CD:…`, computed apart from the server's own code.
fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = ring_provider()
        .cipher_suites
        .iter()
        .filter_map(|s| s.tls13())
        .find(|s| s.common.hash_provider.output_len() == 32)
        .map(|s| s.common.hash_provider.hash(der))
        .expect("a SHA-256 hash");
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Certificate or key files that cannot be used stop the binary at start,
/// with a message naming the file.
#[test]
fn unusable_certificate_files_stop_the_binary_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let cases = [
        (
            missing.clone(),
            garbage.clone(),
            format!("{}: cannot read it", missing.display()),
        ),
        (
            garbage.clone(),
            garbage.clone(),
            format!("{}: holds no PEM certificate", garbage.display()),
        ),
    ];
    for (cert, key, expected) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_openddb"))
            .args(["--in-memory", "--port", "0", "--tls-cert"])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .output()
            .expect("run the binary");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot set up TLS"), "{stderr}");
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
    // --tls-key without --tls-cert is refused by the command line.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openddb"))
        .args(["--in-memory", "--tls-key"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
}
