//! The server's resource bounds over the wire: at its limit a request is
//! served, just past it it is refused at once with DynamoDB's throttling
//! answer (`RequestLimitExceeded`), and once the load is gone the server
//! serves again. Requests are held in flight deterministically by a
//! dispatch hook, not by timing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    assert_throttled, create_things, get_item, gzip, post, put_item, round_trip, signed, start_on,
    start_with, Conn, Gate, Server,
};
use openddb_core::ErrorKind;
use openddb_engine::{Database, StorageConfig, StorageLimits};
use openddb_server::Limits;

fn list_tables(body: &[u8]) -> Vec<u8> {
    post(&signed("DynamoDB_20120810.ListTables"), body)
}

fn describe_missing_table() -> Vec<u8> {
    post(
        &signed("DynamoDB_20120810.DescribeTable"),
        br#"{"TableName":"missing"}"#,
    )
}

/// Sends `request` on a connection of its own and leaves it waiting.
async fn send_on_new(server: &Server, request: &[u8]) -> Conn {
    let mut conn = server.connect().await;
    conn.send(request).await;
    conn
}

/// Sends `n` ListTables, each on a connection of its own, and waits until
/// the gate holds them all in flight.
async fn hold_list_tables(server: &Server, gate: &mut Gate, n: usize) -> Vec<Conn> {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(send_on_new(server, &list_tables(b"{}")).await);
    }
    gate.entered(n).await;
    held
}

/// A request whose target names no operation.
fn bad_target() -> Vec<u8> {
    post(
        "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: whatever\r\n",
        b"{}",
    )
}

fn assert_not_found(reply: &common::Reply) {
    reply.assert_error(
        400,
        ErrorKind::ResourceNotFoundException,
        Some("Requested resource not found: Table: missing not found"),
    );
}

#[tokio::test]
async fn requests_in_flight_are_bounded_per_server() {
    let (hook, mut gate) = Gate::new("ListTables");
    let limits = Limits {
        max_in_flight: 2,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, Some(hook)).await;

    // At the limit: two requests are in flight.
    let mut held = hold_list_tables(&server, &mut gate, 2).await;

    // Just past it: refused at once, whatever the request, before anything
    // else about it is looked at.
    assert_throttled(&round_trip(&server, &describe_missing_table()).await);
    assert_throttled(&round_trip(&server, &bad_target()).await);
    // The health check is not an API request and is always answered.
    let health = round_trip(&server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(health.status, 200);

    gate.open();
    for conn in &mut held {
        let reply = conn.reply().await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    // Their slots are free again.
    assert_not_found(&round_trip(&server, &describe_missing_table()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn requests_in_flight_are_bounded_per_account() {
    let (hook, mut gate) = Gate::new("ListTables");
    let limits = Limits {
        max_in_flight_per_account: 2,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, Some(hook)).await;

    let mut held = hold_list_tables(&server, &mut gate, 2).await;

    assert_throttled(&round_trip(&server, &describe_missing_table()).await);
    // A request that never reaches the account (refused for its target or
    // its signature) does not count against it and gets its own answer.
    round_trip(&server, &bad_target()).await.assert_error(
        400,
        ErrorKind::UnknownOperationException,
        None,
    );
    let unsigned = post(
        "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n",
        b"{}",
    );
    round_trip(&server, &unsigned).await.assert_error(
        400,
        ErrorKind::MissingAuthenticationTokenException,
        Some("Request is missing Authentication Token"),
    );

    gate.open();
    for conn in &mut held {
        assert_eq!(conn.reply().await.status, 200);
    }
    assert_not_found(&round_trip(&server, &describe_missing_table()).await);
    server.shutdown().await;
}

/// `{"Limit":5}` padded with JSON whitespace to exactly `len` bytes.
fn padded_body(len: usize) -> Vec<u8> {
    let mut body = br#"{"Limit":5"#.to_vec();
    body.resize(len - 1, b' ');
    body.push(b'}');
    body
}

#[tokio::test]
async fn request_bodies_share_a_byte_budget() {
    const BUDGET: usize = 1000;
    let (hook, mut gate) = Gate::new("ListTables");
    let limits = Limits {
        body_budget: BUDGET,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, Some(hook)).await;

    // At the limit: one body takes the whole budget and is held.
    let mut held = send_on_new(&server, &list_tables(&padded_body(BUDGET))).await;
    gate.entered(1).await;

    // Past it: any other body is refused...
    assert_throttled(&round_trip(&server, &describe_missing_table()).await);
    // ...but an answer that needs no body in memory is given as usual: a
    // body with a non-JSON content type is counted, not kept, and an empty
    // body takes nothing.
    let reply = round_trip(&server, &post("", &vec![b'a'; 5 * BUDGET])).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, b"<UnknownOperationException/>\n");
    round_trip(&server, &list_tables(b"")).await.assert_error(
        400,
        ErrorKind::SerializationException,
        None,
    );

    gate.open();
    assert_eq!(held.reply().await.status, 200);

    // Alone, a body of exactly the budget is served, one byte more never is.
    assert_eq!(
        round_trip(&server, &list_tables(&padded_body(BUDGET)))
            .await
            .status,
        200
    );
    assert_throttled(&round_trip(&server, &list_tables(&padded_body(BUDGET + 1))).await);

    // An inflated body counts at its inflated size.
    let headers = format!(
        "{}Content-Encoding: gzip\r\n",
        signed("DynamoDB_20120810.ListTables")
    );
    let small = gzip(&padded_body(BUDGET / 4));
    assert_eq!(
        round_trip(&server, &post(&headers, &small)).await.status,
        200
    );
    let bomb = gzip(&padded_body(64 * BUDGET));
    assert!(bomb.len() < BUDGET / 2);
    assert_throttled(&round_trip(&server, &post(&headers, &bomb)).await);

    // A chunked body is counted as it arrives and refused once it passes.
    let mut conn = server.connect().await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{}\r\n",
        signed("DynamoDB_20120810.ListTables")
    );
    conn.send(head.as_bytes()).await;
    let chunk = vec![b' '; BUDGET / 2 + 1];
    for _ in 0..2 {
        conn.send(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        conn.send(&chunk).await;
        conn.send(b"\r\n").await;
    }
    assert_throttled(&conn.reply().await);

    // Everything came back: the whole budget is usable again.
    assert_eq!(
        round_trip(&server, &list_tables(&padded_body(BUDGET)))
            .await
            .status,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connections_past_the_limit_get_one_throttled_answer() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, None).await;

    // At the limit: two connections, both served (and so both accepted).
    let mut first = server.connect().await;
    let mut second = server.connect().await;
    for conn in [&mut first, &mut second] {
        conn.send(&list_tables(b"{}")).await;
        assert_eq!(conn.reply().await.status, 200);
    }

    // Past it: the request is answered with throttling and the connection
    // closed.
    let mut third = server.connect().await;
    third.send(&list_tables(b"{}")).await;
    let reply = third.reply().await;
    assert_throttled(&reply);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(third.is_closed().await);

    // The connections within the limit go on.
    second.send(&list_tables(b"{}")).await;
    assert_eq!(second.reply().await.status, 200);

    // Once one of them goes, a new connection is served (the server notices
    // the close asynchronously, so a few early tries may still be refused).
    drop(first);
    let mut served = false;
    for _ in 0..200 {
        let reply = round_trip(&server, &list_tables(b"{}")).await;
        if reply.status == 200 {
            served = true;
            break;
        }
        assert_throttled(&reply);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(served, "a freed connection slot is reused");
    server.shutdown().await;
}

#[tokio::test]
async fn a_full_write_queue_is_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_with_limits(
        StorageConfig::Directory(dir.path().to_path_buf()),
        StorageLimits {
            write_queue: 1,
            ..StorageLimits::default()
        },
    )
    .unwrap();
    let server = start_on(Arc::new(db), Limits::default(), None).await;
    assert_eq!(round_trip(&server, &create_things()).await.status, 200);

    // Hold the account's writer inside a write of the test's own.
    let kv = server.db.tenant_storage("000000000000").await.unwrap();
    let (running_tx, running) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    kv.write(
        Box::new(move |_| {
            let _ = running_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(60));
            Ok(openddb_kv::Outcome::Commit)
        }),
        Box::new(|_| {}),
    );
    tokio::task::spawn_blocking(move || running.recv().unwrap())
        .await
        .unwrap();

    // The queue holds one write: of two PutItems, whichever reaches it
    // second is refused at once, the other waits for the writer.
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for pk in ["a", "b"] {
        let mut conn = send_on_new(&server, &put_item(pk)).await;
        let answers = answers.clone();
        tokio::spawn(async move { answers.send((pk, conn.reply().await)) });
    }
    let (_, refused) = answered.recv().await.unwrap();
    assert_throttled(&refused);
    assert!(answered.try_recv().is_err(), "the other write waits");

    release.send(()).unwrap();
    let (waiting_pk, waiting) = answered.recv().await.unwrap();
    assert_eq!(waiting.status, 200, "{waiting:?}");
    let stored = round_trip(&server, &get_item(waiting_pk)).await;
    assert_eq!(stored.json()["Item"]["pk"]["S"], waiting_pk);
    // The writer has caught up: writes are taken again.
    assert_eq!(round_trip(&server, &put_item("c")).await.status, 200);
    server.shutdown().await;
    drop(kv);
}
