//! Limits as a user meets them: the AWS SDK treats openddb's answer past a
//! limit as throttling and retries it until it succeeds, and the `openddb`
//! binary's limit flags take effect.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use common::{create_table, item, s};
use openddb::server::{DispatchHook, Limits};
use openddb::{Database, StorageConfig};
use tokio::net::TcpListener;

const LIMIT_MESSAGE: &str = "Throughput exceeds the current throughput limit for your account. \
     To request a limit increase, contact AWS Support at https://aws.amazon.com/support.";

/// Records the HTTP status of every attempt the SDK makes.
#[derive(Debug, Clone, Default)]
struct Attempts(Arc<Mutex<Vec<u16>>>);

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "Attempts"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .lock()
            .unwrap()
            .push(context.response().status().as_u16());
        Ok(())
    }
}

impl Attempts {
    fn statuses(&self) -> Vec<u16> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn the_sdk_retries_request_limit_exceeded_as_throttling() {
    // ListTables requests are held in flight until `open` says otherwise.
    let (open, open_rx) = tokio::sync::watch::channel(false);
    let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel();
    let hook: DispatchHook = Arc::new(move |operation: &str| {
        let held = operation == "ListTables";
        let entered = entered_tx.clone();
        let mut open = open_rx.clone();
        Box::pin(async move {
            if held {
                let _ = entered.send(());
                let _ = open.wait_for(|open| *open).await;
            }
        })
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let db = Arc::new(Database::open(StorageConfig::InMemory).unwrap());
    let limits = Limits {
        max_in_flight_per_account: 1,
        ..Limits::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(openddb::server::serve_with_hook(
        db,
        listener,
        limits,
        hook,
        async {
            let _ = stopped.await;
        },
    ));

    let client = common::client(addr);
    create_table(&client, "things", false).await;
    client
        .put_item()
        .table_name("things")
        .set_item(Some(item([("pk", s("a"))])))
        .send()
        .await
        .unwrap();

    // The account's one slot is taken by a ListTables held in flight.
    let held = {
        let client = client.clone();
        tokio::spawn(async move { client.list_tables().send().await })
    };
    tokio::time::timeout(Duration::from_secs(10), entered.recv())
        .await
        .expect("the held request arrives");

    // Without retries the SDK reports DynamoDB's modeled throttling error.
    let err = client
        .get_item()
        .table_name("things")
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("over the account's limit");
    assert_eq!(err.code(), Some("RequestLimitExceeded"));
    assert_eq!(err.message(), Some(LIMIT_MESSAGE));
    assert!(matches!(
        err.into_service_error(),
        GetItemError::RequestLimitExceeded(_)
    ));

    // With its standard retry policy, it retries the throttled attempts
    // until the slot comes back.
    let attempts = Attempts::default();
    let retrying = aws_sdk_dynamodb::Client::from_conf(
        common::client(addr)
            .config()
            .to_builder()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(50)
                    .with_initial_backoff(Duration::from_millis(10))
                    .with_max_backoff(Duration::from_millis(100)),
            )
            .interceptor(attempts.clone())
            .build(),
    );
    let get = tokio::spawn(async move {
        retrying
            .get_item()
            .table_name("things")
            .key("pk", s("a"))
            .send()
            .await
    });
    for _ in 0..1000 {
        if attempts.statuses().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        attempts.statuses().len() >= 2,
        "the SDK retried: {:?}",
        attempts.statuses()
    );
    open.send(true).unwrap();
    let got = get.await.unwrap().expect("succeeds once the slot is back");
    assert_eq!(got.item, Some(item([("pk", s("a"))])));
    let statuses = attempts.statuses();
    assert_eq!(statuses.last(), Some(&200));
    assert!(statuses[..statuses.len() - 1]
        .iter()
        .all(|&status| status == 400));
    held.await.unwrap().expect("the held request is answered");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// The real binary with `args`, killed when dropped.
struct Binary {
    child: Child,
    addr: SocketAddr,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_openddb"))
            .args(["--port", "0", "--in-memory", "--log-level", "warn"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the openddb binary");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("openddb listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.trim().to_owned());
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address")
            .parse()
            .unwrap();
        Binary { child, addr }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LIST_TABLES: &[u8] = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00\r\nContent-Length: 2\r\n\r\n{}";

/// Everything the server sends until it closes the connection.
fn read_to_close(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the connection stays open: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn the_binarys_limit_flags_take_effect() {
    let server = Binary::start(&["--max-connections", "1", "--header-read-timeout", "0.5"]);

    // The one connection the limit allows is served.
    let mut first = TcpStream::connect(server.addr).unwrap();
    first.write_all(LIST_TABLES).unwrap();
    let mut head = [0u8; 12];
    first.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");

    // A second one is answered with throttling and closed.
    let mut second = TcpStream::connect(server.addr).unwrap();
    second.write_all(LIST_TABLES).unwrap();
    let answer = read_to_close(&mut second);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains(r#""__type":"com.amazonaws.dynamodb.v20120810#RequestLimitExceeded""#),
        "{answer}"
    );

    // Left idle past --header-read-timeout, the first is closed (after the
    // rest of its answer), which frees its slot for a new connection.
    let rest = read_to_close(&mut first);
    assert!(rest.contains(r#"{"TableNames":[]}"#), "{rest}");
    let mut served = false;
    for _ in 0..200 {
        let mut next = TcpStream::connect(server.addr).unwrap();
        next.write_all(LIST_TABLES).unwrap();
        if read_to_close(&mut next).starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(served);
}

#[test]
fn limit_flags_are_checked() {
    for args in [
        &["--max-connections", "0"][..],
        &["--max-requests-in-flight", "x"],
        &["--body-memory-mib", "15"],
        &["--write-queue-depth", "0"],
        &["--body-read-timeout", "0"],
        &["--write-stall-timeout", "inf"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_openddb"))
            .args(["--port", "0", "--in-memory"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(args[0]), "{args:?}: {stderr}");
    }
}
