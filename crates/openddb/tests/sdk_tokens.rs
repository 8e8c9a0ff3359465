//! Tokens handed to clients through the SDKs, against a real server: a
//! PartiQL NextToken or a shard iterator that was forged, edited, cut
//! short, made too long or minted on another data directory gets
//! DynamoDB's ValidationException, never a dropped connection; a durable
//! server's tokens still work after a restart on the same directory.

mod common;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams as ds;
use base64::Engine as _;
use common::{
    create_stream_table, create_table, describe_all_shards, item, message, put, s, Server,
};

const SELECT: &str = r#"SELECT * FROM "Paged" WHERE pk = 'p'"#;
const INVALID_TOKEN: &str = "Invalid NextToken";
const INVALID_ITERATOR: &str = "Invalid ShardIterator";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("the token is base64")
}

/// A table `Paged` with items p/1..p/5 (and q/1), for pages of two.
async fn paged_table(client: &Client) {
    create_table(client, "Paged", true).await;
    for sk in ["1", "2", "3", "4", "5"] {
        put(client, "Paged", item([("pk", s("p")), ("sk", s(sk))])).await;
    }
    put(client, "Paged", item([("pk", s("q")), ("sk", s("1"))])).await;
}

/// One page of `SELECT` with Limit 2: its sort keys and NextToken.
async fn select_page(
    client: &Client,
    token: Option<&str>,
) -> Result<(Vec<String>, Option<String>), (Option<String>, Option<String>)> {
    match client
        .execute_statement()
        .statement(SELECT)
        .limit(2)
        .set_next_token(token.map(str::to_owned))
        .send()
        .await
    {
        Ok(out) => {
            let sks = out
                .items()
                .iter()
                .map(|it| match it.get("sk") {
                    Some(AttributeValue::S(v)) => v.clone(),
                    other => panic!("sk {other:?}"),
                })
                .collect();
            Ok((sks, out.next_token))
        }
        Err(e) => {
            let e = e.into_service_error();
            Err((e.code().map(str::to_owned), message(&e).map(str::to_owned)))
        }
    }
}

#[track_caller]
fn assert_validation<T: std::fmt::Debug>(
    result: Result<T, (Option<String>, Option<String>)>,
    expected: &str,
    what: &str,
) {
    match result {
        Err((code, msg)) => {
            assert_eq!(code.as_deref(), Some("ValidationException"), "{what}");
            let msg = msg.unwrap_or_default();
            assert!(msg.contains(expected), "{what}: {msg}");
        }
        Ok(v) => panic!("{what}: accepted, {v:?}"),
    }
}

#[tokio::test]
async fn execute_statement_refuses_tokens_it_did_not_hand_out() {
    let server = Server::in_memory().await;
    let client = server.client();
    paged_table(&client).await;
    let (first, token) = select_page(&client, None).await.expect("first page");
    assert_eq!(first, ["1", "2"]);
    let token = token.expect("a NextToken");
    let bytes = unb64(&token);

    // The edit that once crashed the server: an unsigned base64 JSON token
    // naming a BOOL key (the format earlier builds handed out).
    let bool_key = b64(
        serde_json::json!({"h": "0", "p": 0, "k": {"pk": {"BOOL": true}, "sk": {"S": "2"}}})
            .to_string()
            .as_bytes(),
    );
    assert_validation(
        select_page(&client, Some(&bool_key)).await,
        INVALID_TOKEN,
        "BOOL key",
    );

    // Edited anywhere (first byte, a key byte, the tag's last byte).
    for i in [0, bytes.len() / 2, bytes.len() - 1] {
        let mut edited = bytes.clone();
        edited[i] ^= 0x20;
        assert_validation(
            select_page(&client, Some(&b64(&edited))).await,
            INVALID_TOKEN,
            &format!("byte {i} edited"),
        );
    }
    // Cut short, or lengthened.
    for cut in [1, 16, bytes.len() - 1] {
        assert_validation(
            select_page(&client, Some(&b64(&bytes[..cut]))).await,
            INVALID_TOKEN,
            &format!("cut to {cut} bytes"),
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"more");
    assert_validation(
        select_page(&client, Some(&b64(&longer))).await,
        INVALID_TOKEN,
        "longer",
    );
    // Forged from nothing, not base64, the longest allowed garbage.
    let longest = "A".repeat(32768);
    for forged in [
        b64(&[0u8; 64]).as_str(),
        "not base64 at all",
        longest.as_str(),
    ] {
        assert_validation(
            select_page(&client, Some(forged)).await,
            INVALID_TOKEN,
            "forged",
        );
    }
    // Past the API model's limit: a length violation, decoded no further.
    let oversized = "A".repeat(32769);
    assert_validation(
        select_page(&client, Some(&oversized)).await,
        "Member must have length between 1 and 32768",
        "oversized",
    );
    // A real token of another statement.
    let other = client
        .execute_statement()
        .statement(r#"SELECT * FROM "Paged" WHERE pk = 'p' AND sk > '0'"#)
        .limit(2)
        .next_token(&token)
        .send()
        .await
        .expect_err("another statement's token")
        .into_service_error();
    assert_eq!(other.code(), Some("ValidationException"));
    assert_eq!(message(&other), Some("NextToken does not match request"));

    // The server is still up, and the real token still reads on.
    let (second, next) = select_page(&client, Some(&token))
        .await
        .expect("second page");
    assert_eq!(second, ["3", "4"]);
    let (third, last) = select_page(&client, next.as_deref())
        .await
        .expect("third page");
    assert_eq!(third, ["5"]);
    assert_eq!(last, None);

    server.shutdown().await;
}

/// A table with a NEW_AND_OLD_IMAGES stream; returns the stream's ARN.
async fn stream_table(client: &Client, name: &str) -> String {
    create_stream_table(client, name, "NEW_AND_OLD_IMAGES", false).await
}

async fn horizon(streams: &ds::Client, arn: &str) -> String {
    let (_, shards) = describe_all_shards(streams, arn).await;
    streams
        .get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shards[0].shard_id().expect("ShardId"))
        .shard_iterator_type(ds::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator
        .expect("ShardIterator")
}

/// GetRecords: the partition keys of the records, or the error's code and
/// message.
async fn records(
    streams: &ds::Client,
    iterator: &str,
) -> Result<Vec<String>, (Option<String>, Option<String>)> {
    match streams.get_records().shard_iterator(iterator).send().await {
        Ok(out) => Ok(out
            .records()
            .iter()
            .map(|r| {
                let keys = r.dynamodb().and_then(|d| d.keys()).expect("Keys");
                match keys.get("pk") {
                    Some(ds::types::AttributeValue::S(v)) => v.clone(),
                    other => panic!("pk {other:?}"),
                }
            })
            .collect()),
        Err(e) => {
            let e = e.into_service_error();
            Err((e.code().map(str::to_owned), message(&e).map(str::to_owned)))
        }
    }
}

#[tokio::test]
async fn get_records_refuses_iterators_it_did_not_hand_out() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let arn = stream_table(&client, "Streamed").await;
    let other_arn = stream_table(&client, "Other").await;
    put(&client, "Streamed", item([("pk", s("a"))])).await;
    let it = horizon(&streams, &arn).await;
    let other_it = horizon(&streams, &other_arn).await;
    let (head, payload) = it.rsplit_once('|').expect("arn|version|payload");
    let sealed = unb64(payload);

    let mut bad: Vec<(String, &str)> = vec![
        ("garbage".into(), "garbage"),
        (format!("{arn}|1|"), "no payload"),
        (format!("{arn}|1|{}", b64(&[0u8; 60])), "forged payload"),
        (
            format!("{head}|{}", b64(&sealed[..sealed.len() - 1])),
            "cut short",
        ),
        (format!("{head}|{}", b64(&sealed[..8])), "cut to 8 bytes"),
        (it.replace("|1|", "|2|"), "another version"),
        // A real payload under another stream's ARN, and the reverse.
        (format!("{other_arn}|1|{payload}"), "ARN swapped"),
        (
            format!("{arn}|1|{}", other_it.rsplit_once('|').expect("payload").1),
            "payload swapped",
        ),
        (it[..it.len() - 4].to_owned(), "text cut"),
    ];
    for i in [0, sealed.len() / 2, sealed.len() - 1] {
        let mut edited = sealed.clone();
        edited[i] ^= 0x01;
        bad.push((format!("{head}|{}", b64(&edited)), "payload edited"));
    }
    for (iterator, what) in &bad {
        assert_validation(records(&streams, iterator).await, INVALID_ITERATOR, what);
    }
    // A PartiQL NextToken is not an iterator, even in an iterator's shape.
    paged_table(&client).await;
    let (_, token) = select_page(&client, None).await.expect("a page");
    let token = token.expect("NextToken");
    assert_validation(
        records(&streams, &format!("{arn}|1|{token}")).await,
        INVALID_ITERATOR,
        "a NextToken as payload",
    );
    // Nor is an iterator's payload a NextToken.
    assert_validation(
        select_page(&client, Some(payload)).await,
        INVALID_TOKEN,
        "payload as NextToken",
    );
    // Past the API model's limit.
    let oversized = format!("{it}{}", "A".repeat(2049 - it.len()));
    assert_validation(
        records(&streams, &oversized).await,
        "Member must have length less than or equal to 2048",
        "oversized",
    );

    // The real iterator still reads the record.
    assert_eq!(records(&streams, &it).await.expect("GetRecords"), ["a"]);

    server.shutdown().await;
}

/// What a client of one server holds: a NextToken and an iterator.
struct Held {
    token: String,
    iterator: String,
}

async fn mint(client: &Client, streams: &ds::Client) -> Held {
    paged_table(client).await;
    let arn = stream_table(client, "Streamed").await;
    put(client, "Streamed", item([("pk", s("a"))])).await;
    let (_, token) = select_page(client, None).await.expect("first page");
    Held {
        token: token.expect("NextToken"),
        iterator: horizon(streams, &arn).await,
    }
}

#[tokio::test]
async fn durable_tokens_outlive_a_restart_but_not_a_move() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let held = mint(&server.client(), &server.streams()).await;
    server.shutdown().await;

    let server = Server::durable(dir.path()).await;
    let client = server.client();
    let (page, _) = select_page(&client, Some(&held.token))
        .await
        .expect("the token after a restart");
    assert_eq!(page, ["3", "4"]);
    assert_eq!(
        records(&server.streams(), &held.iterator)
            .await
            .expect("the iterator after a restart"),
        ["a"]
    );
    server.shutdown().await;

    // Another data directory with the same tables, items and statement:
    // its secret is its own.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(elsewhere.path()).await;
    let client = server.client();
    let streams = server.streams();
    let own = mint(&client, &streams).await;
    assert_validation(
        select_page(&client, Some(&held.token)).await,
        INVALID_TOKEN,
        "a token of another data directory",
    );
    // Even under this server's own stream ARN.
    let (own_head, _) = own.iterator.rsplit_once('|').expect("arn|version|payload");
    let (_, held_payload) = held.iterator.rsplit_once('|').expect("arn|version|payload");
    for iterator in [held.iterator.clone(), format!("{own_head}|{held_payload}")] {
        assert_validation(
            records(&streams, &iterator).await,
            INVALID_ITERATOR,
            "an iterator of another data directory",
        );
    }
    // Its own tokens work.
    assert!(select_page(&client, Some(&own.token)).await.is_ok());
    assert_eq!(records(&streams, &own.iterator).await.expect("own"), ["a"]);
    server.shutdown().await;
}
