//! A panic in a request handler is an answer, not a dropped connection: the
//! client gets DynamoDB's `InternalServerError`, the event is logged with
//! the request id the client received, and the server — the same
//! connection, the same account, every slot the request held — goes on.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{create_things, get_item, post, put_item, round_trip, signed, start_with};
use openddb_core::ErrorKind;
use openddb_engine::StorageConfig;
use openddb_server::{DispatchHook, Limits};

/// Log lines written by the server, captured for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// The default (current-thread) runtime runs the server on the test's
// thread, so the thread's log subscriber sees its events.
#[tokio::test]
async fn a_panicking_handler_is_answered_internal_server_error_and_the_server_goes_on() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::ERROR)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // The first PutItem panics on its way to the engine, holding the only
    // slot in flight, its account's only slot and part of the body budget.
    let armed = Arc::new(AtomicBool::new(true));
    let trigger = armed.clone();
    let hook: DispatchHook = Arc::new(move |operation: &str| {
        if operation == "PutItem" && trigger.swap(false, Ordering::SeqCst) {
            panic!("injected failure in {operation}");
        }
        Box::pin(async {})
    });
    let limits = Limits {
        max_in_flight: 1,
        max_in_flight_per_account: 1,
        body_budget: 4096,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, Some(hook)).await;
    let create = create_things();
    assert_eq!(round_trip(&server, &create).await.status, 200);

    let mut conn = server.connect().await;
    conn.send(&put_item("first")).await;
    let reply = conn.reply().await;
    reply.assert_error(
        500,
        ErrorKind::InternalServerError,
        Some("Internal server error"),
    );
    assert_eq!(
        reply.body,
        br#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert!(!armed.load(Ordering::SeqCst), "the hook did fire");

    // Logged at error level, naming the request id the client received and
    // what the panic said.
    let request_id = reply.header("x-amzn-requestid").unwrap().to_owned();
    let lines = log.text();
    let line = lines
        .lines()
        .find(|line| line.contains(&request_id))
        .unwrap_or_else(|| panic!("no log line names {request_id}: {lines}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("injected failure in PutItem"), "{line}");

    // The same connection, the same account, the same (single) slots.
    conn.send(&put_item("second")).await;
    assert_eq!(conn.reply().await.status, 200);
    conn.send(&get_item("second")).await;
    assert_eq!(conn.reply().await.json()["Item"]["pk"]["S"], "second");
    // Nothing of the panicked request was written.
    let missing = round_trip(&server, &get_item("first")).await;
    assert_eq!(missing.status, 200);
    assert!(missing.json().get("Item").is_none());
    // Other connections too, and a body as large as the whole budget.
    let mut big = br#"{"TableName":"things","Item":{"pk":{"S":"big"}}}"#.to_vec();
    big.resize(4095, b' ');
    big.push(b'\n');
    let reply = round_trip(&server, &post(&signed("DynamoDB_20120810.PutItem"), &big)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    server.shutdown().await;
}
