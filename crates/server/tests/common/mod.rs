//! A raw HTTP/1.1 client and an in-process server on a loopback port, so
//! every byte on the wire is under the test's control.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openddb_core::ErrorKind;
use openddb_engine::{Database, StorageConfig};
use openddb_server::{serve_with, serve_with_hook, DispatchHook, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef";

pub struct Server {
    pub addr: SocketAddr,
    pub db: Arc<Database>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<std::io::Result<()>>,
}

/// A server on a fresh in-memory database with the default limits.
pub async fn start() -> Server {
    start_with(StorageConfig::InMemory, Limits::default(), None).await
}

/// A server on `storage` within `limits`, with an optional dispatch hook.
pub async fn start_with(
    storage: StorageConfig,
    limits: Limits,
    hook: Option<DispatchHook>,
) -> Server {
    let db = Arc::new(Database::open(storage).expect("open the database"));
    start_on(db, limits, hook).await
}

/// A server on an already opened database.
pub async fn start_on(db: Arc<Database>, limits: Limits, hook: Option<DispatchHook>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let task = match hook {
        Some(hook) => tokio::spawn(serve_with_hook(
            db.clone(),
            listener,
            limits,
            hook,
            shutdown,
        )),
        None => tokio::spawn(serve_with(db.clone(), listener, limits, shutdown)),
    };
    Server {
        addr,
        db,
        stop: Some(stop),
        task,
    }
}

impl Server {
    pub async fn connect(&self) -> Conn {
        Conn {
            stream: TcpStream::connect(self.addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Every answer carries a request id and the CRC32 of its body.
    pub fn assert_standard_headers(&self) {
        let id = self.header("x-amzn-requestid").expect("x-amzn-RequestId");
        assert_eq!(id.len(), 52, "{id}");
        assert!(id
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let crc: u32 = self
            .header("x-amz-crc32")
            .expect("x-amz-crc32")
            .parse()
            .unwrap();
        assert_eq!(crc, crc32fast::hash(&self.body));
        let len: usize = self
            .header("content-length")
            .expect("Content-Length")
            .parse()
            .unwrap();
        assert_eq!(len, self.body.len());
    }

    pub fn assert_error(&self, status: u16, kind: ErrorKind, message: Option<&str>) {
        self.assert_standard_headers();
        assert_eq!(self.status, status, "{self:?}");
        let body = self.json();
        assert_eq!(body["__type"], kind.wire_type(), "{body}");
        assert_eq!(
            body.get("message").and_then(|m| m.as_str()),
            message,
            "{body}"
        );
    }
}

pub struct Conn {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
}

impl Conn {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    pub async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await.unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// Reads one response (Content-Length or chunked framing).
    pub async fn reply(&mut self) -> Reply {
        tokio::time::timeout(Duration::from_secs(10), self.reply_inner())
            .await
            .expect("a reply within 10 s")
    }

    async fn reply_inner(&mut self) -> Reply {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            assert!(self.fill().await, "connection closed before a reply");
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let body = if let Some(len) = get("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len {
                assert!(self.fill().await, "connection closed mid-body");
            }
            self.buf.drain(..len).collect()
        } else if get("transfer-encoding").as_deref() == Some("chunked") {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break i;
                    }
                    assert!(self.fill().await);
                };
                let size = usize::from_str_radix(
                    std::str::from_utf8(&self.buf[..line_end]).unwrap().trim(),
                    16,
                )
                .unwrap();
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    assert!(self.fill().await);
                }
                body.extend(self.buf.drain(..size));
                self.buf.drain(..2);
                if size == 0 {
                    break body;
                }
            }
        } else {
            Vec::new()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// True once the server has closed the connection.
    pub async fn is_closed(&mut self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.fill()).await,
            Ok(false)
        )
    }
}

/// A POST with the given extra header lines (each ending in `\r\n`).
pub fn post(extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

pub fn signed(target: &str) -> String {
    format!(
        "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: {AUTH}\r\n"
    )
}

/// CreateTable of `things`, keyed by a string `pk`, billed on demand.
pub fn create_things() -> Vec<u8> {
    post(
        &signed("DynamoDB_20120810.CreateTable"),
        br#"{"TableName":"things","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    )
}

/// PutItem of the item `{pk}` into `things`.
pub fn put_item(pk: &str) -> Vec<u8> {
    post(
        &signed("DynamoDB_20120810.PutItem"),
        format!(r#"{{"TableName":"things","Item":{{"pk":{{"S":"{pk}"}}}}}}"#).as_bytes(),
    )
}

/// GetItem of `pk` from `things`.
pub fn get_item(pk: &str) -> Vec<u8> {
    post(
        &signed("DynamoDB_20120810.GetItem"),
        format!(r#"{{"TableName":"things","Key":{{"pk":{{"S":"{pk}"}}}}}}"#).as_bytes(),
    )
}

pub async fn round_trip(server: &Server, request: &[u8]) -> Reply {
    let mut conn = server.connect().await;
    conn.send(request).await;
    conn.reply().await
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// What DynamoDB says when an account is over its limits.
pub const LIMIT_MESSAGE: &str =
    "Throughput exceeds the current throughput limit for your account. \
     To request a limit increase, contact AWS Support at https://aws.amazon.com/support.";

/// Asserts `reply` is DynamoDB's throttling answer, byte for byte.
pub fn assert_throttled(reply: &Reply) {
    reply.assert_error(400, ErrorKind::RequestLimitExceeded, Some(LIMIT_MESSAGE));
    assert_eq!(
        reply.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded"
    );
}

/// A dispatch hook that holds every request for one operation until
/// released, and reports each one as it arrives (holding its slots).
pub struct Gate {
    entered: tokio::sync::mpsc::UnboundedReceiver<()>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    pub fn new(operation: &'static str) -> (DispatchHook, Gate) {
        let (entered_tx, entered) = tokio::sync::mpsc::unbounded_channel();
        let (open, open_rx) = tokio::sync::watch::channel(false);
        let hook: DispatchHook = Arc::new(move |called: &str| {
            let held = called == operation;
            let entered = entered_tx.clone();
            let mut open = open_rx.clone();
            Box::pin(async move {
                if held {
                    let _ = entered.send(());
                    let _ = open.wait_for(|open| *open).await;
                }
            })
        });
        (hook, Gate { entered, open })
    }

    /// Waits until `n` more held requests have arrived.
    pub async fn entered(&mut self, n: usize) {
        for _ in 0..n {
            tokio::time::timeout(Duration::from_secs(10), self.entered.recv())
                .await
                .expect("a held request arrives")
                .expect("the hook lives");
        }
    }

    /// Lets every held request (and every later one) through.
    pub fn open(&self) {
        let _ = self.open.send(true);
    }
}

/// Reads until the server closes the connection (end of stream or reset),
/// returning what arrived; `None` if it stays open for `wait`.
pub async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = async {
        let mut chunk = [0u8; 16384];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read).await.ok().map(|()| got)
}
