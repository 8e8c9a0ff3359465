//! A request whose body is still on its way holds no more of the server
//! than its connection and the bytes that have arrived: not a slot among
//! the requests in flight (the server's or its account's), and not the
//! body budget for bytes it has only declared. Otherwise a few clients
//! that send a head and then nothing would have every other request
//! throttled until the body read timeout cut them off, and again as soon
//! as they reconnect.

mod common;

use std::time::Duration;

use common::{post, round_trip, signed, start_with, Conn, Server};
use openddb_engine::StorageConfig;
use openddb_server::Limits;

/// `{"Limit":5}` padded with JSON whitespace to exactly `len` bytes.
fn padded_list_tables(len: usize) -> Vec<u8> {
    let mut body = br#"{"Limit":5"#.to_vec();
    body.resize(len - 1, b' ');
    body.push(b'}');
    post(&signed("DynamoDB_20120810.ListTables"), &body)
}

/// Opens a connection and sends `request` up to `sent` bytes of its body.
async fn send_part(server: &Server, request: &[u8], sent: usize) -> Conn {
    let head = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut conn = server.connect().await;
    conn.send(&request[..head + sent]).await;
    conn
}

/// Time for the server to read what was sent, so that on a server that
/// held slots for waiting bodies they would be held by now. The assertions
/// do not depend on it: a server that holds nothing passes either way.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_body_on_its_way_holds_no_request_slot() {
    for limits in [
        Limits {
            max_in_flight: 2,
            ..Limits::default()
        },
        Limits {
            max_in_flight_per_account: 2,
            ..Limits::default()
        },
    ] {
        let server = start_with(StorageConfig::InMemory, limits.clone(), None).await;
        let request = padded_list_tables(100);
        let mut waiting = Vec::new();
        for _ in 0..2 {
            waiting.push(send_part(&server, &request, 10).await);
        }
        settle().await;
        let reply = round_trip(&server, &request).await;
        assert_eq!(reply.status, 200, "{limits:?}: {reply:?}");

        // The waiting requests are served once their bodies arrive.
        let head = request.len() - 100;
        for conn in &mut waiting {
            conn.send(&request[head + 10..]).await;
            assert_eq!(conn.reply().await.status, 200, "{limits:?}");
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_body_on_its_way_holds_only_the_budget_it_has_used() {
    const BUDGET: usize = 10_000;
    let limits = Limits {
        body_budget: BUDGET,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, None).await;
    // Two bodies that declare half the budget each, 10 bytes of each sent.
    let half = padded_list_tables(BUDGET / 2);
    let mut waiting = Vec::new();
    for _ in 0..2 {
        waiting.push(send_part(&server, &half, 10).await);
    }
    settle().await;
    let reply = round_trip(&server, &padded_list_tables(1000)).await;
    assert_eq!(reply.status, 200, "{reply:?}");

    // Once they arrive, they fit the budget together and are served.
    let head = half.len() - BUDGET / 2;
    for conn in &mut waiting {
        conn.send(&half[head + 10..]).await;
        assert_eq!(conn.reply().await.status, 200);
    }
    // And the whole budget is free again.
    assert_eq!(
        round_trip(&server, &padded_list_tables(BUDGET))
            .await
            .status,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_chunked_body_of_exactly_the_budget_is_served() {
    const BUDGET: usize = 1000;
    let limits = Limits {
        body_budget: BUDGET,
        ..Limits::default()
    };
    let server = start_with(StorageConfig::InMemory, limits, None).await;
    let request = padded_list_tables(BUDGET);
    let head = request.len() - BUDGET;
    let body = &request[head..];
    for pieces in [2, 3, 7, 40] {
        let mut conn = server.connect().await;
        let chunked = String::from_utf8(request[..head].to_vec())
            .unwrap()
            .replace(
                &format!("Content-Length: {BUDGET}\r\n"),
                "Transfer-Encoding: chunked\r\n",
            );
        conn.send(chunked.as_bytes()).await;
        for chunk in body.chunks(BUDGET.div_ceil(pieces)) {
            conn.send(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
            conn.send(chunk).await;
            conn.send(b"\r\n").await;
            // Each chunk on its own, so the server reads it as a frame.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        conn.send(b"0\r\n\r\n").await;
        let reply = conn.reply().await;
        assert_eq!(reply.status, 200, "{pieces} chunks: {reply:?}");
    }
    server.shutdown().await;
}
