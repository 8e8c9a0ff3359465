//! Slow clients are timed out: a request head trickled byte by byte, a
//! keep-alive connection left idle, a body trickled byte by byte and an
//! answer the client does not read each end the connection (with short
//! configured timeouts), while clients within the bounds are served.

mod common;

use std::time::Duration;

use common::{post, read_until_closed, round_trip, signed, start_with};
use openddb_engine::StorageConfig;
use openddb_server::Limits;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const SHORT: Duration = Duration::from_millis(300);
/// How long a test waits for something the server must do; far longer than
/// `SHORT`, so only a server that never does it fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn limits() -> Limits {
    Limits {
        header_read_timeout: SHORT,
        body_read_timeout: SHORT,
        write_stall_timeout: SHORT,
        ..Limits::default()
    }
}

/// Writes `bytes` one at a time, `gap` apart, stopping quietly once the
/// server has closed the connection.
fn trickle(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    bytes: Vec<u8>,
    gap: Duration,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut sent = 0;
        for byte in bytes {
            if write.write_all(&[byte]).await.is_err() {
                break;
            }
            sent += 1;
            tokio::time::sleep(gap).await;
        }
        sent
    })
}

#[tokio::test]
async fn a_trickled_request_head_is_cut_off() {
    let server = start_with(StorageConfig::InMemory, limits(), None).await;
    let request = post(&signed("DynamoDB_20120810.ListTables"), b"{}");
    let head_len = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let conn = server.connect().await;
    let (mut read, write) = conn.stream.into_split();
    // One byte every 50 ms: the head would take over 15 s to arrive.
    let sender = trickle(write, request.clone(), Duration::from_millis(50));
    let got = read_until_closed_half(&mut read).await;
    assert!(got.is_some(), "the connection is closed");
    assert!(!got.unwrap().starts_with(b"HTTP/1.1 200"));
    sender.abort();
    let sent = sender.await.unwrap_or(0);
    assert!(
        sent < head_len,
        "closed before the head was complete ({sent} of {head_len} bytes)"
    );

    // A client that sends its head at once is served as usual.
    assert_eq!(round_trip(&server, &request).await.status, 200);
    server.shutdown().await;
}

async fn read_until_closed_half(read: &mut tokio::net::tcp::OwnedReadHalf) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let reading = async {
        let mut chunk = [0u8; 4096];
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, reading)
        .await
        .ok()
        .map(|()| got)
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start_with(StorageConfig::InMemory, limits(), None).await;
    let request = post(&signed("DynamoDB_20120810.ListTables"), b"{}");
    let mut conn = server.connect().await;
    // Reused at once, the connection serves request after request...
    for _ in 0..3 {
        conn.send(&request).await;
        assert_eq!(conn.reply().await.status, 200);
    }
    // ...left idle, it is closed.
    let rest = read_until_closed(&mut conn.stream, PATIENCE).await;
    assert_eq!(
        rest.as_deref(),
        Some(&b""[..]),
        "closed without another word"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_trickled_body_is_answered_request_timeout() {
    let server = start_with(StorageConfig::InMemory, limits(), None).await;
    let body = br#"{"Limit": 5,                                                 "ExclusiveStartTableName": "abc"}"#;
    let request = post(&signed("DynamoDB_20120810.ListTables"), body);
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;

    let conn = server.connect().await;
    let (mut read, mut write) = conn.stream.into_split();
    write.write_all(&request[..head_end]).await.unwrap();
    let sender = trickle(write, body.to_vec(), Duration::from_millis(50));
    let got = read_until_closed_half(&mut read).await.expect("closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("x-amzn-requestid: "),
        "{text}"
    );
    sender.abort();

    // A body sent at once is served.
    assert_eq!(round_trip(&server, &request).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_answer_the_client_does_not_read_ends_the_connection() {
    let server = start_with(StorageConfig::InMemory, limits(), None).await;
    let create = post(
        &signed("DynamoDB_20120810.CreateTable"),
        br#"{"TableName":"things","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#,
    );
    assert_eq!(round_trip(&server, &create).await.status, 200);
    let big = "x".repeat(350 * 1024);
    let put = post(
        &signed("DynamoDB_20120810.PutItem"),
        format!(r#"{{"TableName":"things","Item":{{"pk":{{"S":"big"}},"data":{{"S":"{big}"}}}}}}"#)
            .as_bytes(),
    );
    assert_eq!(round_trip(&server, &put).await.status, 200);
    let get = post(
        &signed("DynamoDB_20120810.GetItem"),
        br#"{"TableName":"things","Key":{"pk":{"S":"big"}}}"#,
    );
    // Read promptly, the answer arrives whole.
    let reply = round_trip(&server, &get).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() > big.len());

    // Forty such answers (14 MB) are far more than the socket buffers hold
    // (a few MB at most on loopback, with the client's receive buffer kept
    // small). A client that sends the requests and then reads nothing
    // stalls the server's writes; it is disconnected, so when it finally
    // reads it finds the stream ending before all forty answers.
    const REQUESTS: usize = 40;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let mut pipelined = Vec::new();
    for _ in 0..REQUESTS {
        pipelined.extend_from_slice(&get);
    }
    stream.write_all(&pipelined).await.unwrap();
    tokio::time::sleep(SHORT * 5).await;
    let got = read_until_closed(&mut stream, PATIENCE)
        .await
        .expect("the connection is closed");
    let answers = got.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    assert!(answers < REQUESTS, "all {answers} answers arrived");

    // Other clients are unaffected.
    assert_eq!(round_trip(&server, &get).await.status, 200);
    server.shutdown().await;
}
