//! The HTTP protocol layer end to end over a loopback socket, with a raw
//! HTTP/1.1 client so every byte on the wire is under the test's control.

mod common;

use std::time::Duration;

use common::{gzip, post, round_trip, signed, start};
use openddb_core::ErrorKind;
use openddb_server::MAX_REQUEST_BYTES;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn health_check_and_other_methods() {
    let server = start().await;
    let reply = round_trip(&server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    reply.assert_standard_headers();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"healthy: dynamodb.us-east-1.amazonaws.com ");

    for method in ["PUT", "DELETE", "OPTIONS", "PATCH"] {
        let request = format!("{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        let reply = round_trip(&server, request.as_bytes()).await;
        reply.assert_standard_headers();
        assert_eq!(reply.status, 404, "{method}");
        assert_eq!(reply.body, b"<UnknownOperationException/>\n");
        assert_eq!(reply.header("x-amz-crc32"), Some("3552371480"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn body_with_a_non_json_content_type_is_not_found() {
    let server = start().await;
    for content_type in [
        "",
        "Content-Type: whatever\r\n",
        "Content-Type: application/jsonasdf\r\n",
    ] {
        let headers = format!("{content_type}X-Amz-Target: DynamoDB_20120810.ListTables\r\n");
        let reply = round_trip(&server, &post(&headers, b"{}")).await;
        assert_eq!(reply.status, 404, "{content_type:?}");
        assert_eq!(reply.body, b"<UnknownOperationException/>\n");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_target_is_unknown_operation() {
    let server = start().await;
    for target in [
        "",
        "X-Amz-Target: whatever\r\n",
        "X-Amz-Target: DynamoDB_20120810.ListTable\r\n",
        "X-Amz-Target: DynamoDBStreams_20120810.ListTables\r\n",
    ] {
        let headers = format!("Content-Type: application/x-amz-json-1.0\r\n{target}");
        let reply = round_trip(&server, &post(&headers, b"{}")).await;
        reply.assert_error(400, ErrorKind::UnknownOperationException, None);
        // Byte for byte what DynamoDB sends.
        assert_eq!(
            reply.body,
            br#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/x-amz-json-1.0")
        );
    }
    // DynamoDB answers `application/json` unless asked in x-amz-json-1.0.
    let reply = round_trip(&server, &post("Content-Type: application/json\r\n", b"{}")).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    server.shutdown().await;
}

#[tokio::test]
async fn body_that_is_not_json_is_a_serialization_error_before_target_and_auth() {
    let server = start().await;
    let reply = round_trip(
        &server,
        &post("Content-Type: application/x-amz-json-1.0\r\n", b"hi"),
    )
    .await;
    reply.assert_error(400, ErrorKind::SerializationException, None);
    let headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n";
    let reply = round_trip(&server, &post(headers, b"{")).await;
    reply.assert_error(400, ErrorKind::SerializationException, None);
    server.shutdown().await;
}

#[tokio::test]
async fn missing_authorization() {
    let server = start().await;
    let headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n";
    let kind = ErrorKind::MissingAuthenticationTokenException;
    let reply = round_trip(&server, &post(headers, b"{}")).await;
    reply.assert_error(
        kind.http_status(),
        kind,
        Some("Request is missing Authentication Token"),
    );
    let headers = format!("{headers}Authorization: Basic dXNlcjpwYXNz\r\n");
    let reply = round_trip(&server, &post(&headers, b"{}")).await;
    reply.assert_error(
        kind.http_status(),
        kind,
        Some("Request is missing Authentication Token"),
    );
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_authorization() {
    let server = start().await;
    let headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nAuthorization: AWS4-\r\n";
    let reply = round_trip(&server, &post(headers, b"{}")).await;
    reply.assert_error(
        400,
        ErrorKind::IncompleteSignatureException,
        Some(
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization=AWS4-",
        ),
    );
    let headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nDate: a\r\nAuthorization: AWS4- Signature=b, Credential=a\r\n";
    let reply = round_trip(&server, &post(headers, b"{}")).await;
    reply.assert_error(
        400,
        ErrorKind::IncompleteSignatureException,
        Some("Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b, Credential=a"),
    );
    server.shutdown().await;
}

#[tokio::test]
async fn signed_request_reaches_the_engine() {
    let server = start().await;
    let reply = round_trip(
        &server,
        &post(&signed("DynamoDB_20120810.ListTables"), b"{}"),
    )
    .await;
    reply.assert_standard_headers();
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    if reply.status != 200 {
        let kind = reply.json()["__type"].as_str().unwrap().to_owned();
        for protocol_error in [
            ErrorKind::MissingAuthenticationTokenException,
            ErrorKind::IncompleteSignatureException,
            ErrorKind::InvalidSignatureException,
            ErrorKind::SerializationException,
        ] {
            assert_ne!(kind, protocol_error.wire_type());
        }
    }
    // An empty body passes authentication, then is a SerializationException.
    let reply = round_trip(&server, &post(&signed("DynamoDB_20120810.ListTables"), b"")).await;
    reply.assert_error(400, ErrorKind::SerializationException, None);
    server.shutdown().await;
}

#[tokio::test]
async fn gzip_bodies_are_inflated() {
    let server = start().await;
    let body = br#"{"Limit": 5}"#;
    let plain = round_trip(
        &server,
        &post(&signed("DynamoDB_20120810.ListTables"), body),
    )
    .await;
    let headers = format!(
        "{}Content-Encoding: gzip\r\n",
        signed("DynamoDB_20120810.ListTables")
    );
    let zipped = round_trip(&server, &post(&headers, &gzip(body))).await;
    zipped.assert_standard_headers();
    assert_eq!(zipped.status, plain.status);
    assert_eq!(zipped.body, plain.body);

    let reply = round_trip(&server, &post(&headers, b"not gzip at all")).await;
    reply.assert_error(400, ErrorKind::SerializationException, None);

    // The limit applies to the inflated size too.
    let bomb = gzip(&vec![b' '; MAX_REQUEST_BYTES + 1]);
    assert!(bomb.len() < MAX_REQUEST_BYTES);
    let reply = round_trip(&server, &post(&headers, &bomb)).await;
    assert_eq!(reply.status, 413);
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let server = start().await;

    // Declared too large: rejected before a byte of body is read.
    let mut conn = server.connect().await;
    conn.send(
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{}\r\n",
            MAX_REQUEST_BYTES + 1,
            signed("DynamoDB_20120810.ListTables")
        )
        .as_bytes(),
    )
    .await;
    let reply = conn.reply().await;
    assert_eq!(reply.status, 413);
    assert!(reply.body.is_empty());
    assert!(conn.is_closed().await);

    // Chunked, so the size shows only while reading.
    let conn = server.connect().await;
    let (mut read, mut write) = conn.stream.into_split();
    let writer = tokio::spawn(async move {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{}\r\n",
            signed("DynamoDB_20120810.ListTables")
        );
        write.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..=MAX_REQUEST_BYTES >> 20 {
            write
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            write.write_all(&chunk).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await
    });
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), read.read_to_end(&mut response)).await;
    let _ = writer.await;
    assert!(
        response.starts_with(b"HTTP/1.1 413 "),
        "{:?}",
        String::from_utf8_lossy(&response)
    );

    // Exactly at the limit is accepted (then refused for its content type).
    let reply = round_trip(&server, &post("", &vec![b'a'; MAX_REQUEST_BYTES])).await;
    assert_eq!(reply.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start().await;
    let mut conn = server.connect().await;
    let request = post(&signed("DynamoDB_20120810.ListTables"), b"{}");
    conn.send(&request).await;
    let first = conn.reply().await;
    conn.send(&request).await;
    let second = conn.reply().await;
    // Pipelined, too.
    let mut two = request.clone();
    two.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.send(&two).await;
    let third = conn.reply().await;
    let health = conn.reply().await;
    for reply in [&first, &second, &third] {
        reply.assert_standard_headers();
        assert_eq!(reply.status, first.status);
    }
    assert_ne!(
        first.header("x-amzn-requestid"),
        second.header("x-amzn-requestid")
    );
    assert_eq!(health.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn cors() {
    let server = start().await;
    let reply = round_trip(
        &server,
        b"OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:3000\r\nAccess-Control-Request-Headers: a, b\r\nAccess-Control-Request-Method: POST\r\n\r\n",
    )
    .await;
    reply.assert_standard_headers();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-allow-headers"), Some("a, b"));
    assert_eq!(reply.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(reply.header("access-control-max-age"), Some("1728000"));
    let headers = "Origin: http://localhost:3000\r\nContent-Type: application/x-amz-json-1.0\r\n";
    let reply = round_trip(&server, &post(headers, b"{}")).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let mut server = start().await;

    // A request whose head has arrived but whose body has not.
    let mut busy = server.connect().await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n{}\r\n",
        signed("DynamoDB_20120810.ListTables")
    );
    busy.send(head.as_bytes()).await;
    // An idle keep-alive connection that has already been served once.
    let mut idle = server.connect().await;
    idle.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(idle.reply().await.status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let _ = server.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.task.is_finished(),
        "serve waits for the request in flight"
    );
    assert!(
        idle.is_closed().await,
        "idle connections are closed at once"
    );

    busy.send(b"{}").await;
    let reply = busy.reply().await;
    reply.assert_standard_headers();
    assert!(busy.is_closed().await, "no keep-alive after shutdown");

    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("serve returns once the request is answered")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no longer listening"
    );
}
