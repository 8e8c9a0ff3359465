//! Batches and transactions through the official `aws-sdk-dynamodb` client:
//! BatchWriteItem, BatchGetItem, TransactGetItems and TransactWriteItems
//! round trips and the errors the SDK surfaces for them (cancellation
//! reasons in order, ClientRequestToken replays), the fault-injection
//! setting that cancels transactions on purpose, and concurrent clients:
//! bank transfers whose total must never change (on a durable and an
//! in-memory server) and a counter incremented by optimistic updates and
//! transactions at once, which must lose no increment.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemError;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, Get, KeysAndAttributes, Put,
    ReturnValuesOnConditionCheckFailure, Select, TransactGetItem, TransactWriteItem, Update,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;
use common::{create_table, item, message, n, num, put, put_request, s, Rng, Server};
use openddb::Database;
use tokio::sync::Barrier;

type Item = HashMap<String, AttributeValue>;

const CONFLICT_MESSAGE: &str = "Transaction is ongoing for the item";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The key of a table keyed by `pk` only.
fn pk(v: &str) -> Item {
    item([("pk", s(v))])
}

/// The key of a table keyed by `pk` and `sk`.
fn pk_sk(p: &str, k: &str) -> Item {
    item([("pk", s(p)), ("sk", s(k))])
}

async fn get(client: &Client, table: &str, key: Item) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

fn tx_put(table: &str, it: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(it))
                .build()
                .expect("Put"),
        )
        .build()
}

fn tx_delete(table: &str, key: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .build()
                .expect("Delete"),
        )
        .build()
}

/// `ADD n :one` on `key`.
fn tx_add_one(table: &str, key: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", n("1"))
                .build()
                .expect("Update"),
        )
        .build()
}

fn tx_check_exists(table: &str, key: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key))
                .condition_expression("attribute_exists(pk)")
                .build()
                .expect("ConditionCheck"),
        )
        .build()
}

fn tx_get(table: &str, key: Item) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .set_key(Some(key))
                .build()
                .expect("Get"),
        )
        .build()
}

fn delete_request(key: Item) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .expect("DeleteRequest"),
        )
        .build()
}

fn keys_and_attributes(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .expect("KeysAndAttributes")
}

/// `(Code, Message)` of each cancellation reason, in order.
fn reason_codes(e: &aws_sdk_dynamodb::types::error::TransactionCanceledException) -> Vec<String> {
    e.cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("<no code>").to_string())
        .collect()
}

/// Every item of `table`, by a consistent Scan.
async fn scan_all(client: &Client, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Round trips and errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn batch_write_item_puts_and_deletes_over_two_tables() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "BwA", false).await;
    create_table(&client, "BwB", true).await;
    put(&client, "BwA", item([("pk", s("old1")), ("v", n("1"))])).await;
    put(&client, "BwA", item([("pk", s("old2")), ("v", n("2"))])).await;
    put(
        &client,
        "BwB",
        item([("pk", s("p")), ("sk", s("0")), ("v", n("0"))]),
    )
    .await;

    let out = client
        .batch_write_item()
        .request_items(
            "BwA",
            vec![
                put_request(item([("pk", s("new1")), ("v", n("10"))])),
                delete_request(pk("old1")),
                put_request(item([("pk", s("new2")), ("v", n("20"))])),
                // Deleting what is not there is fine.
                delete_request(pk("never")),
            ],
        )
        .request_items(
            "BwB",
            vec![
                put_request(item([("pk", s("p")), ("sk", s("1")), ("v", n("1"))])),
                put_request(item([("pk", s("p")), ("sk", s("2")), ("v", n("2"))])),
                delete_request(pk_sk("p", "0")),
            ],
        )
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(
        out.unprocessed_items().is_none_or(|u| u.is_empty()),
        "nothing unprocessed: {:?}",
        out.unprocessed_items()
    );

    let mut a: Vec<String> = scan_all(&client, "BwA")
        .await
        .iter()
        .map(|i| i["pk"].as_s().unwrap().clone())
        .collect();
    a.sort();
    assert_eq!(a, ["new1", "new2", "old2"]);
    let mut b: Vec<String> = scan_all(&client, "BwB")
        .await
        .iter()
        .map(|i| i["sk"].as_s().unwrap().clone())
        .collect();
    b.sort();
    assert_eq!(b, ["1", "2"]);
    assert_eq!(
        num(&get(&client, "BwA", pk("new2")).await.unwrap(), "v"),
        20
    );

    // 26 requests for one table: the member constraint.
    let many: Vec<WriteRequest> = (0..26)
        .map(|i| put_request(item([("pk", s(&format!("many{i}")))])))
        .collect();
    let err = client
        .batch_write_item()
        .request_items("BwA", many)
        .send()
        .await
        .expect_err("26 requests for one table are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        message(&err)
            .unwrap()
            .contains("Member must have length less than or equal to 25"),
        "{err:?}"
    );

    // 13 + 13 over two tables: each list fits, the whole does not.
    let err = client
        .batch_write_item()
        .request_items(
            "BwA",
            (0..13)
                .map(|i| put_request(item([("pk", s(&format!("split{i}")))])))
                .collect(),
        )
        .request_items(
            "BwB",
            (0..13)
                .map(|i| put_request(item([("pk", s("split")), ("sk", s(&i.to_string()))])))
                .collect(),
        )
        .send()
        .await
        .expect_err("26 requests over two tables are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Too many items requested for the BatchWriteItem call")
    );

    // The same key twice in one table, even a put and a delete.
    let err = client
        .batch_write_item()
        .request_items(
            "BwA",
            vec![
                put_request(item([("pk", s("dup")), ("v", n("1"))])),
                put_request(item([("pk", s("fine"))])),
                delete_request(pk("dup")),
            ],
        )
        .send()
        .await
        .expect_err("duplicate keys are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Provided list of item keys contains duplicates")
    );

    // A table that does not exist.
    let err = client
        .batch_write_item()
        .request_items("NoSuchTable", vec![put_request(pk("x"))])
        .send()
        .await
        .expect_err("a missing table is refused")
        .into_service_error();
    assert!(
        matches!(err, BatchWriteItemError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    // None of the refused batches wrote anything.
    let a = scan_all(&client, "BwA").await;
    assert_eq!(a.len(), 3, "{a:?}");
    assert_eq!(scan_all(&client, "BwB").await.len(), 2);

    server.shutdown().await;
}

#[tokio::test]
async fn batch_get_item_reads_two_tables() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "BgA", false).await;
    create_table(&client, "BgB", true).await;
    for i in 1..=3 {
        put(
            &client,
            "BgA",
            item([("pk", s(&format!("k{i}"))), ("v", n(&i.to_string()))]),
        )
        .await;
    }
    put(
        &client,
        "BgB",
        item([("pk", s("p")), ("sk", s("1")), ("w", s("one"))]),
    )
    .await;
    put(
        &client,
        "BgB",
        item([("pk", s("p")), ("sk", s("2")), ("w", s("two"))]),
    )
    .await;

    let out = client
        .batch_get_item()
        .request_items(
            "BgA",
            keys_and_attributes(vec![pk("k1"), pk("missing"), pk("k3")]),
        )
        .request_items(
            "BgB",
            KeysAndAttributes::builder()
                .keys(pk_sk("p", "2"))
                .keys(pk_sk("p", "9"))
                .projection_expression("w")
                .build()
                .expect("KeysAndAttributes"),
        )
        .send()
        .await
        .expect("BatchGetItem");
    let responses = out.responses().expect("Responses");
    let mut a: Vec<i64> = responses["BgA"].iter().map(|i| num(i, "v")).collect();
    a.sort();
    assert_eq!(a, [1, 3], "missing keys are simply absent");
    assert_eq!(responses["BgB"], vec![item([("w", s("two"))])]);
    assert!(
        out.unprocessed_keys().is_none_or(|u| u.is_empty()),
        "nothing unprocessed: {:?}",
        out.unprocessed_keys()
    );

    let err = client
        .batch_get_item()
        .request_items("BgA", keys_and_attributes(vec![pk("k1"), pk("k1")]))
        .send()
        .await
        .expect_err("duplicate keys are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Provided list of item keys contains duplicates")
    );

    let err = client
        .batch_get_item()
        .request_items(
            "BgA",
            keys_and_attributes((0..60).map(|i| pk(&format!("x{i}"))).collect()),
        )
        .request_items(
            "BgB",
            keys_and_attributes((0..60).map(|i| pk_sk("x", &i.to_string())).collect()),
        )
        .send()
        .await
        .expect_err("120 keys are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Too many items requested for the BatchGetItem call")
    );

    let err = client
        .batch_get_item()
        .request_items("NoSuchTable", keys_and_attributes(vec![pk("k1")]))
        .send()
        .await
        .expect_err("a missing table is refused")
        .into_service_error();
    assert!(
        matches!(err, BatchGetItemError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    server.shutdown().await;
}

#[tokio::test]
async fn transact_get_items_answers_in_request_order() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "TgA", false).await;
    create_table(&client, "TgB", true).await;
    put(
        &client,
        "TgA",
        item([("pk", s("k1")), ("v", n("1")), ("x", s("a"))]),
    )
    .await;
    put(&client, "TgA", item([("pk", s("k2")), ("v", n("2"))])).await;
    put(
        &client,
        "TgB",
        item([("pk", s("p")), ("sk", s("1")), ("w", s("b"))]),
    )
    .await;

    let out = client
        .transact_get_items()
        .transact_items(tx_get("TgA", pk("k2")))
        .transact_items(tx_get("TgB", pk_sk("p", "1")))
        .transact_items(tx_get("TgA", pk("missing")))
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("TgA")
                        .key("pk", s("k1"))
                        .projection_expression("#v")
                        .expression_attribute_names("#v", "v")
                        .build()
                        .expect("Get"),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactGetItems");
    let r = out.responses();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0].item(), Some(&item([("pk", s("k2")), ("v", n("2"))])));
    assert_eq!(
        r[1].item(),
        Some(&item([("pk", s("p")), ("sk", s("1")), ("w", s("b"))]))
    );
    assert_eq!(r[2].item(), None, "a missing item is an empty response");
    assert_eq!(r[3].item(), Some(&item([("v", n("1"))])), "projected");

    let err = client
        .transact_get_items()
        .transact_items(tx_get("TgA", pk("k1")))
        .transact_items(tx_get("TgA", pk("k1")))
        .send()
        .await
        .expect_err("the same item twice is refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Transaction request cannot include multiple operations on one item")
    );

    let err = client
        .transact_get_items()
        .transact_items(tx_get("TgA", pk("k1")))
        .transact_items(tx_get("NoSuchTable", pk("k1")))
        .send()
        .await
        .expect_err("a missing table is refused")
        .into_service_error();
    assert!(
        matches!(err, TransactGetItemsError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    server.shutdown().await;
}

#[tokio::test]
async fn transact_write_items_commits_across_two_tables() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "TwA", false).await;
    create_table(&client, "TwB", true).await;
    put(
        &client,
        "TwA",
        item([("pk", s("acct")), ("balance", n("100"))]),
    )
    .await;
    put(&client, "TwA", item([("pk", s("gone")), ("v", n("1"))])).await;
    put(&client, "TwB", item([("pk", s("p")), ("sk", s("1"))])).await;

    client
        .transact_write_items()
        .transact_items(tx_put("TwA", item([("pk", s("new")), ("v", n("7"))])))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("TwA")
                        .key("pk", s("acct"))
                        .update_expression("SET balance = balance - :x")
                        .condition_expression("balance >= :x")
                        .expression_attribute_values(":x", n("30"))
                        .build()
                        .expect("Update"),
                )
                .build(),
        )
        .transact_items(tx_delete("TwA", pk("gone")))
        .transact_items(tx_check_exists("TwB", pk_sk("p", "1")))
        .transact_items(tx_put(
            "TwB",
            item([("pk", s("p")), ("sk", s("2")), ("w", s("x"))]),
        ))
        .send()
        .await
        .expect("TransactWriteItems");

    assert_eq!(
        get(&client, "TwA", pk("new")).await,
        Some(item([("pk", s("new")), ("v", n("7"))]))
    );
    assert_eq!(
        num(&get(&client, "TwA", pk("acct")).await.unwrap(), "balance"),
        70
    );
    assert_eq!(get(&client, "TwA", pk("gone")).await, None);
    assert_eq!(
        get(&client, "TwB", pk_sk("p", "2")).await,
        Some(item([("pk", s("p")), ("sk", s("2")), ("w", s("x"))]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn transact_write_items_cancellation_reasons_come_in_request_order() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "TcA", false).await;
    create_table(&client, "TcB", true).await;
    let acct = item([("pk", s("acct")), ("balance", n("10")), ("owner", s("ann"))]);
    put(&client, "TcA", acct.clone()).await;
    put(&client, "TcA", item([("pk", s("z"))])).await;
    let w = item([("pk", s("w")), ("note", s("kept"))]);
    put(&client, "TcA", w.clone()).await;

    let err = client
        .transact_write_items()
        .transact_items(tx_put("TcA", item([("pk", s("other"))])))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("TcA")
                        .key("pk", s("acct"))
                        .update_expression("SET balance = balance - :x")
                        .condition_expression("balance >= :x")
                        .expression_attribute_values(":x", n("50"))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .expect("Update"),
                )
                .build(),
        )
        .transact_items(tx_check_exists("TcB", pk_sk("p", "missing")))
        .transact_items(tx_delete("TcA", pk("z")))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("TcA")
                        .key("pk", s("w"))
                        .condition_expression("attribute_not_exists(pk)")
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .expect("ConditionCheck"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("three failed conditions cancel the transaction")
        .into_service_error();
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
        panic!("expected TransactionCanceledException, got {err:?}");
    };
    assert_eq!(
        reason_codes(cancelled),
        [
            "None",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "None",
            "ConditionalCheckFailed"
        ]
    );
    let reasons = cancelled.cancellation_reasons();
    assert_eq!(reasons[0].message(), None);
    assert_eq!(reasons[1].message(), Some("The conditional request failed"));
    assert_eq!(reasons[1].item(), Some(&acct), "ALL_OLD returns the item");
    assert_eq!(
        reasons[2].item(),
        None,
        "no ReturnValuesOnConditionCheckFailure"
    );
    assert_eq!(reasons[4].item(), Some(&w), "ALL_OLD on a ConditionCheck");
    assert!(
        cancelled.message().unwrap().contains(
            "[None, ConditionalCheckFailed, ConditionalCheckFailed, None, ConditionalCheckFailed]"
        ),
        "{cancelled:?}"
    );

    // Nothing was written.
    assert_eq!(get(&client, "TcA", pk("other")).await, None);
    assert_eq!(get(&client, "TcA", pk("acct")).await, Some(acct));
    assert!(get(&client, "TcA", pk("z")).await.is_some());

    server.shutdown().await;
}

#[tokio::test]
async fn transact_write_items_errors() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "TeA", false).await;

    // A table that does not exist.
    let err = client
        .transact_write_items()
        .transact_items(tx_put("TeA", pk("a")))
        .transact_items(tx_put("NoSuchTable", pk("a")))
        .send()
        .await
        .expect_err("a missing table is refused")
        .into_service_error();
    assert!(
        matches!(err, TransactWriteItemsError::ResourceNotFoundException(_)),
        "{err:?}"
    );

    // Two actions on one item.
    let err = client
        .transact_write_items()
        .transact_items(tx_put("TeA", pk("a")))
        .transact_items(tx_add_one("TeA", pk("a")))
        .send()
        .await
        .expect_err("two actions on one item are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        message(&err),
        Some("Transaction request cannot include multiple operations on one item")
    );
    assert_eq!(get(&client, "TeA", pk("a")).await, None);

    // More than 100 actions, or Gets.
    let mut request = client.transact_write_items();
    for i in 0..101 {
        request = request.transact_items(tx_put("TeA", pk(&format!("many{i}"))));
    }
    let err = request
        .send()
        .await
        .expect_err("101 actions are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        message(&err)
            .unwrap()
            .contains("Member must have length less than or equal to 100"),
        "{err:?}"
    );
    let mut request = client.transact_get_items();
    for i in 0..101 {
        request = request.transact_items(tx_get("TeA", pk(&format!("many{i}"))));
    }
    let err = request
        .send()
        .await
        .expect_err("101 Gets are refused")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        message(&err)
            .unwrap()
            .contains("Member must have length less than or equal to 100"),
        "{err:?}"
    );
    // 100 is fine.
    let mut request = client.transact_write_items();
    for i in 0..100 {
        request = request.transact_items(tx_put("TeA", pk(&format!("many{i}"))));
    }
    request.send().await.expect("100 actions");
    assert_eq!(scan_all(&client, "TeA").await.len(), 100);

    // A token reused with another payload.
    client
        .transact_write_items()
        .client_request_token("token-mismatch")
        .transact_items(tx_add_one("TeA", pk("m")))
        .send()
        .await
        .expect("TransactWriteItems");
    let err = client
        .transact_write_items()
        .client_request_token("token-mismatch")
        .transact_items(tx_add_one("TeA", pk("other")))
        .send()
        .await
        .expect_err("a token reused with another payload is refused")
        .into_service_error();
    assert!(
        matches!(
            err,
            TransactWriteItemsError::IdempotentParameterMismatchException(_)
        ),
        "{err:?}"
    );
    assert_eq!(get(&client, "TeA", pk("other")).await, None);
    assert_eq!(num(&get(&client, "TeA", pk("m")).await.unwrap(), "n"), 1);

    server.shutdown().await;
}

#[tokio::test]
async fn transact_write_items_token_replay_applies_once() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "TkA", false).await;
    create_table(&client, "TkB", false).await;

    let send = |token: Option<&str>| {
        client
            .transact_write_items()
            .set_client_request_token(token.map(str::to_string))
            .transact_items(tx_add_one("TkA", pk("counter")))
            .transact_items(tx_add_one("TkB", pk("counter")))
            .send()
    };
    send(Some("replay-token-1")).await.expect("first send");
    send(Some("replay-token-1"))
        .await
        .expect("the replay answers");
    // Even after another write changed the item.
    client
        .update_item()
        .table_name("TkA")
        .key("pk", s("counter"))
        .update_expression("SET touched = :t")
        .expression_attribute_values(":t", n("1"))
        .send()
        .await
        .expect("UpdateItem");
    send(Some("replay-token-1"))
        .await
        .expect("the replay answers");
    assert_eq!(
        num(&get(&client, "TkA", pk("counter")).await.unwrap(), "n"),
        1,
        "the replay wrote nothing"
    );
    assert_eq!(
        num(&get(&client, "TkB", pk("counter")).await.unwrap(), "n"),
        1
    );

    // No token: the SDK makes a fresh one each time, so each send applies.
    send(None).await.expect("SDK token");
    send(None).await.expect("SDK token");
    // Another explicit token applies once more.
    send(Some("replay-token-2")).await.expect("second token");
    send(Some("replay-token-2"))
        .await
        .expect("second token replay");
    assert_eq!(
        num(&get(&client, "TkA", pk("counter")).await.unwrap(), "n"),
        4
    );
    assert_eq!(
        num(&get(&client, "TkB", pk("counter")).await.unwrap(), "n"),
        4
    );

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 2. Fault injection
// ---------------------------------------------------------------------------

#[tokio::test]
async fn injected_conflicts_cancel_every_transaction() {
    let server = Server::with_database(Database::in_memory().with_transaction_conflicts(1.0)).await;
    let client = server.client();
    create_table(&client, "Faulty", false).await;
    put(&client, "Faulty", item([("pk", s("c")), ("n", n("5"))])).await;

    for round in 0..5 {
        let err = client
            .transact_write_items()
            .transact_items(tx_put("Faulty", item([("pk", s(&format!("t{round}")))])))
            .transact_items(tx_add_one("Faulty", pk("c")))
            .send()
            .await
            .expect_err("every transaction is cancelled")
            .into_service_error();
        let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
            panic!("expected TransactionCanceledException, got {err:?}");
        };
        let reasons = cancelled.cancellation_reasons();
        assert_eq!(reasons.len(), 2);
        assert!(
            reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict")
                    && r.message() == Some(CONFLICT_MESSAGE)),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .all(|r| matches!(r.code(), Some("TransactionConflict" | "None"))),
            "{reasons:?}"
        );
        assert!(
            cancelled.message().unwrap().contains("TransactionConflict"),
            "{cancelled:?}"
        );
    }
    // An explicit token does not escape the fault either.
    let err = client
        .transact_write_items()
        .client_request_token("faulty-token")
        .transact_items(tx_add_one("Faulty", pk("c")))
        .send()
        .await
        .expect_err("cancelled")
        .into_service_error();
    assert!(
        matches!(
            err,
            TransactWriteItemsError::TransactionCanceledException(_)
        ),
        "{err:?}"
    );

    // TransactGetItems too.
    let err = client
        .transact_get_items()
        .transact_items(tx_get("Faulty", pk("c")))
        .send()
        .await
        .expect_err("cancelled")
        .into_service_error();
    let TransactGetItemsError::TransactionCanceledException(cancelled) = &err else {
        panic!("expected TransactionCanceledException, got {err:?}");
    };
    assert_eq!(reason_codes(cancelled), ["TransactionConflict"]);

    // Nothing was written by the transactions.
    let items = scan_all(&client, "Faulty").await;
    assert_eq!(items, vec![item([("pk", s("c")), ("n", n("5"))])]);

    // Plain writes are never affected.
    put(&client, "Faulty", item([("pk", s("plain"))])).await;
    client
        .update_item()
        .table_name("Faulty")
        .key("pk", s("c"))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect("UpdateItem");
    client
        .delete_item()
        .table_name("Faulty")
        .key("pk", s("plain"))
        .send()
        .await
        .expect("DeleteItem");
    let out = client
        .batch_write_item()
        .request_items("Faulty", vec![put_request(pk("b1")), put_request(pk("b2"))])
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    assert_eq!(num(&get(&client, "Faulty", pk("c")).await.unwrap(), "n"), 6);
    assert_eq!(scan_all(&client, "Faulty").await.len(), 3);

    server.shutdown().await;
}

#[tokio::test]
async fn injected_conflicts_cancel_the_chosen_share() {
    let server = Server::with_database(Database::in_memory().with_transaction_conflicts(0.5)).await;
    let client = server.client();
    create_table(&client, "Half", false).await;

    let mut conflicts = 0;
    let mut committed = 0;
    for i in 0..20 {
        match client
            .transact_write_items()
            .transact_items(tx_add_one("Half", pk("c")))
            .transact_items(tx_put("Half", pk(&format!("log{i}"))))
            .send()
            .await
        {
            Ok(_) => committed += 1,
            Err(e) => match e.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    assert!(
                        reason_codes(&c).iter().any(|r| r == "TransactionConflict"),
                        "{c:?}"
                    );
                    conflicts += 1;
                }
                other => panic!("unexpected error {other:?}"),
            },
        }
        // Plain writes in between are never affected (and do not count).
        put(&client, "Half", pk(&format!("plain{i}"))).await;
    }
    assert_eq!((committed, conflicts), (10, 10));
    assert_eq!(num(&get(&client, "Half", pk("c")).await.unwrap(), "n"), 10);
    // c, 10 logs, 20 plain.
    assert_eq!(scan_all(&client, "Half").await.len(), 31);

    // A transaction cancelled by a conflict left no token record behind:
    // retried with the same token, it applies (once).
    let send = || {
        client
            .transact_write_items()
            .client_request_token("retried-token")
            .transact_items(tx_add_one("Half", pk("c")))
            .send()
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        match send().await {
            Ok(_) => break,
            Err(e) => match e.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    assert_eq!(reason_codes(&c), ["TransactionConflict"]);
                }
                other => panic!("unexpected error {other:?}"),
            },
        }
        assert!(attempts < 4, "one in two transactions commits");
    }
    assert_eq!(num(&get(&client, "Half", pk("c")).await.unwrap(), "n"), 11);
    // Replayed now, it answers from its record and writes nothing.
    send().await.expect("the replay answers");
    assert_eq!(num(&get(&client, "Half", pk("c")).await.unwrap(), "n"), 11);

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 3. Concurrent bank transfers
// ---------------------------------------------------------------------------

const BANK: &str = "Bank";
const ACCOUNTS: usize = 10;
const OPENING_BALANCE: i64 = 1000;

fn account(i: usize) -> String {
    format!("acct{i:02}")
}

/// How one bank run is shaped.
struct BankPlan {
    /// Tasks doing TransactWriteItems transfers.
    transferrers: usize,
    /// Tasks doing plain UpdateItem writes (`ADD pokes :one`) on the same
    /// accounts, racing the transfers.
    pokers: usize,
    /// Transfers (or pokes) each task does per round.
    per_round: usize,
    /// Most rounds.
    rounds: usize,
    /// No new round starts after this long.
    budget: Duration,
    seed: u64,
}

#[derive(Default)]
struct BankStats {
    rounds: AtomicU64,
    committed: AtomicU64,
    conflicts: AtomicU64,
    insufficient: AtomicU64,
    checker_reads: AtomicU64,
    checker_cancelled: AtomicU64,
    pokes: AtomicU64,
    poke_conflicts: AtomicU64,
    /// By account: the net of the committed transfers, and the pokes.
    ledger: Mutex<Vec<(i64, i64)>>,
}

impl BankStats {
    fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }

    fn bump(v: &AtomicU64) {
        v.fetch_add(1, Ordering::Relaxed);
    }
}

/// One transfer of `amount` from account `from` to `to`, retried while it
/// meets a conflict. Returns whether it committed (`false`: insufficient
/// funds).
async fn transfer(
    client: &Client,
    from: usize,
    to: usize,
    amount: i64,
    rng: &mut Rng,
    stats: &BankStats,
) -> bool {
    let debit = Update::builder()
        .table_name(BANK)
        .key("pk", s(&account(from)))
        .update_expression("SET balance = balance - :amt")
        .condition_expression("balance >= :amt")
        .expression_attribute_values(":amt", n(&amount.to_string()))
        .build()
        .expect("Update");
    // Both ways of crediting.
    let credit = if rng.below(2) == 0 {
        Update::builder().update_expression("ADD balance :amt")
    } else {
        Update::builder().update_expression("SET balance = balance + :amt")
    }
    .table_name(BANK)
    .key("pk", s(&account(to)))
    .condition_expression("attribute_exists(pk)")
    .expression_attribute_values(":amt", n(&amount.to_string()))
    .build()
    .expect("Update");
    for attempt in 0.. {
        assert!(attempt < 10_000, "a transfer never got through");
        let result = client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(debit.clone()).build())
            .transact_items(TransactWriteItem::builder().update(credit.clone()).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => {
                BankStats::bump(&stats.committed);
                let mut ledger = stats.ledger.lock().unwrap();
                ledger[from].0 -= amount;
                ledger[to].0 += amount;
                return true;
            }
            Err(e) => e.into_service_error(),
        };
        let TransactWriteItemsError::TransactionCanceledException(cancelled) = &err else {
            panic!("unexpected TransactWriteItems error: {err:?}");
        };
        let codes = reason_codes(cancelled);
        if codes.iter().any(|c| c == "TransactionConflict") {
            for r in cancelled.cancellation_reasons() {
                if r.code() == Some("TransactionConflict") {
                    assert_eq!(r.message(), Some(CONFLICT_MESSAGE));
                } else {
                    assert_eq!(r.code(), Some("None"), "{cancelled:?}");
                }
            }
            BankStats::bump(&stats.conflicts);
            rng.backoff().await;
            continue;
        }
        assert_eq!(codes, ["ConditionalCheckFailed", "None"], "{cancelled:?}");
        BankStats::bump(&stats.insufficient);
        return false;
    }
    unreachable!()
}

/// A plain UpdateItem on an account, retried while a transaction holds it.
async fn poke(client: &Client, i: usize, rng: &mut Rng, stats: &BankStats) {
    for attempt in 0.. {
        assert!(attempt < 10_000, "a poke never got through");
        let result = client
            .update_item()
            .table_name(BANK)
            .key("pk", s(&account(i)))
            .update_expression("ADD pokes :one")
            .expression_attribute_values(":one", n("1"))
            .send()
            .await;
        match result {
            Ok(_) => {
                BankStats::bump(&stats.pokes);
                stats.ledger.lock().unwrap()[i].1 += 1;
                return;
            }
            Err(e) => match e.into_service_error() {
                UpdateItemError::TransactionConflictException(c) => {
                    assert_eq!(c.message(), Some(CONFLICT_MESSAGE));
                    BankStats::bump(&stats.poke_conflicts);
                    rng.backoff().await;
                }
                other => panic!("unexpected UpdateItem error: {other:?}"),
            },
        }
    }
}

/// Every account's `(balance, pokes)` from one TransactGetItems, or `None`
/// when it was cancelled by a write in flight.
async fn read_accounts(client: &Client) -> Option<Vec<(i64, i64)>> {
    let mut request = client.transact_get_items();
    for i in 0..ACCOUNTS {
        request = request.transact_items(tx_get(BANK, pk(&account(i))));
    }
    match request.send().await {
        Ok(out) => Some(
            out.responses()
                .iter()
                .map(|r| {
                    let it = r.item().expect("every account exists");
                    let pokes = if it.contains_key("pokes") {
                        num(it, "pokes")
                    } else {
                        0
                    };
                    (num(it, "balance"), pokes)
                })
                .collect(),
        ),
        Err(e) => match e.into_service_error() {
            TransactGetItemsError::TransactionCanceledException(c) => {
                let codes = reason_codes(&c);
                assert!(
                    codes
                        .iter()
                        .all(|c| c == "TransactionConflict" || c == "None")
                        && codes.iter().any(|c| c == "TransactionConflict"),
                    "{c:?}"
                );
                None
            }
            other => panic!("unexpected TransactGetItems error: {other:?}"),
        },
    }
}

/// The books must balance in every snapshot.
fn assert_books_balance(balances: &[(i64, i64)], when: &str) {
    let total: i64 = balances.iter().map(|(b, _)| b).sum();
    assert_eq!(
        total,
        ACCOUNTS as i64 * OPENING_BALANCE,
        "{when}: the total moved: {balances:?}"
    );
    assert!(
        balances.iter().all(|(b, _)| *b >= 0),
        "{when}: a balance went negative: {balances:?}"
    );
}

/// When nothing is in flight, each account holds exactly its opening
/// balance plus the net of the transfers that were acknowledged, and the
/// pokes acknowledged: no transfer lost, none applied twice, none applied
/// that was reported cancelled, no plain write lost.
fn assert_ledger(balances: &[(i64, i64)], stats: &BankStats, when: &str) {
    let ledger = stats.ledger.lock().unwrap();
    let expected: Vec<(i64, i64)> = ledger
        .iter()
        .map(|(net, pokes)| (OPENING_BALANCE + net, *pokes))
        .collect();
    assert_eq!(
        balances, expected,
        "{when}: the books disagree with the ledger"
    );
}

/// Runs transfers in rounds: between rounds nothing is in flight and the
/// books are read and checked; during rounds a checker task reads them
/// with TransactGetItems (retrying when cancelled) and checks each
/// snapshot.
async fn run_bank(server: &Server, plan: BankPlan, label: &str) -> Arc<BankStats> {
    let admin = server.client();
    create_table(&admin, BANK, false).await;
    for i in 0..ACCOUNTS {
        put(
            &admin,
            BANK,
            item([
                ("pk", s(&account(i))),
                ("balance", n(&OPENING_BALANCE.to_string())),
            ]),
        )
        .await;
    }

    let stats = Arc::new(BankStats {
        ledger: Mutex::new(vec![(0, 0); ACCOUNTS]),
        ..BankStats::default()
    });
    let workers = plan.transferrers + plan.pokers;
    let start = Arc::new(Barrier::new(workers + 1));
    let done = Arc::new(Barrier::new(workers + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));

    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = server.client();
        let (start, done, stop, stats) = (start.clone(), done.clone(), stop.clone(), stats.clone());
        let is_poker = w >= plan.transferrers;
        let per_round = plan.per_round;
        let mut rng = Rng::new(plan.seed ^ ((w as u64 + 1) * 0x1000_0001));
        tasks.push(tokio::spawn(async move {
            loop {
                start.wait().await;
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                for _ in 0..per_round {
                    if is_poker {
                        let i = rng.below(ACCOUNTS as u64) as usize;
                        poke(&client, i, &mut rng, &stats).await;
                    } else {
                        let from = rng.below(ACCOUNTS as u64) as usize;
                        let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                        let amount = 1 + rng.below(900) as i64;
                        transfer(&client, from, to, amount, &mut rng, &stats).await;
                    }
                }
                done.wait().await;
            }
        }));
    }

    let checker = {
        let client = server.client();
        let (finished, stats) = (finished.clone(), stats.clone());
        tokio::spawn(async move {
            while !finished.load(Ordering::SeqCst) {
                match read_accounts(&client).await {
                    Some(balances) => {
                        assert_books_balance(&balances, "a concurrent TransactGetItems");
                        BankStats::bump(&stats.checker_reads);
                    }
                    None => BankStats::bump(&stats.checker_cancelled),
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    let began = Instant::now();
    for round in 0.. {
        if round == plan.rounds || began.elapsed() > plan.budget {
            stop.store(true, Ordering::SeqCst);
            start.wait().await;
            break;
        }
        start.wait().await;
        done.wait().await;
        BankStats::bump(&stats.rounds);
        // Nothing is in flight: the read cannot be cancelled.
        let balances = read_accounts(&admin)
            .await
            .expect("a TransactGetItems between rounds is not cancelled");
        assert_books_balance(&balances, &format!("after round {round}"));
        assert_ledger(&balances, &stats, &format!("after round {round}"));
    }
    finished.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.expect("a worker panicked");
    }
    checker.await.expect("the checker panicked");

    // The books, once more, by Scan.
    let items = scan_all(&admin, BANK).await;
    assert_eq!(items.len(), ACCOUNTS);
    let balances: Vec<(i64, i64)> = items
        .iter()
        .map(|it| {
            (
                num(it, "balance"),
                if it.contains_key("pokes") {
                    num(it, "pokes")
                } else {
                    0
                },
            )
        })
        .collect();
    let mut by_account: Vec<(String, (i64, i64))> = items
        .iter()
        .map(|it| it["pk"].as_s().unwrap().clone())
        .zip(balances)
        .collect();
    by_account.sort();
    let balances: Vec<(i64, i64)> = by_account.into_iter().map(|(_, b)| b).collect();
    assert_books_balance(&balances, "at the end");
    assert_ledger(&balances, &stats, "at the end");

    println!(
        "[{label}] {:.1}s, {} rounds of {} transferrers + {} pokers: \
         transfers committed {}, conflicts retried {}, insufficient-funds cancellations {}, \
         checker reads ok {}, checker reads cancelled {}, plain pokes {}, \
         plain pokes refused with TransactionConflictException {}",
        began.elapsed().as_secs_f64(),
        BankStats::get(&stats.rounds),
        plan.transferrers,
        plan.pokers,
        BankStats::get(&stats.committed),
        BankStats::get(&stats.conflicts),
        BankStats::get(&stats.insufficient),
        BankStats::get(&stats.checker_reads),
        BankStats::get(&stats.checker_cancelled),
        BankStats::get(&stats.pokes),
        BankStats::get(&stats.poke_conflicts),
    );
    assert!(BankStats::get(&stats.rounds) > 0);
    assert!(BankStats::get(&stats.committed) > 0);
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bank_transfers_keep_the_books_balanced_durable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let stats = run_bank(
        &server,
        BankPlan {
            transferrers: 24,
            pokers: 4,
            per_round: 3,
            rounds: 60,
            budget: Duration::from_secs(15),
            seed: 0x0DDB_0001,
        },
        "durable",
    )
    .await;
    assert!(
        BankStats::get(&stats.conflicts) > 0,
        "concurrent transfers on a durable server met no conflict"
    );
    assert!(
        BankStats::get(&stats.poke_conflicts) > 0,
        "plain writes racing transfers were never refused"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bank_transfers_keep_the_books_balanced_in_memory() {
    let server = Server::in_memory().await;
    run_bank(
        &server,
        BankPlan {
            transferrers: 16,
            pokers: 2,
            per_round: 3,
            rounds: 30,
            budget: Duration::from_secs(6),
            seed: 0x0DDB_0002,
        },
        "memory",
    )
    .await;
    server.shutdown().await;
}

/// The same ClientRequestToken sent by many clients at once applies once:
/// each send either commits, answers as a replay, or is refused with
/// TransactionInProgressException while another runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_token_sent_concurrently_applies_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let admin = server.client();
    create_table(&admin, "Tokens", false).await;

    let mut in_progress = 0;
    for round in 0..5 {
        let token = format!("concurrent-token-{round}");
        let sends: Vec<_> = (0..8)
            .map(|_| {
                let client = server.client();
                let token = token.clone();
                tokio::spawn(async move {
                    client
                        .transact_write_items()
                        .client_request_token(token)
                        .transact_items(tx_add_one("Tokens", pk("c")))
                        .transact_items(tx_add_one("Tokens", pk("d")))
                        .send()
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for send in sends {
            match send.await.expect("a send panicked") {
                Ok(_) => ok += 1,
                Err(e) => match e.into_service_error() {
                    TransactWriteItemsError::TransactionInProgressException(_) => in_progress += 1,
                    other => panic!("unexpected error {other:?}"),
                },
            }
        }
        assert!(ok >= 1, "round {round}: no send succeeded");
        let expected = round + 1;
        assert_eq!(
            num(&get(&admin, "Tokens", pk("c")).await.unwrap(), "n"),
            expected,
            "round {round}: the token applied more than once"
        );
        assert_eq!(
            num(&get(&admin, "Tokens", pk("d")).await.unwrap(), "n"),
            expected
        );
    }
    println!("[tokens] TransactionInProgressException answers: {in_progress}");
    server.shutdown().await;
}

/// BatchWriteItem returns the requests whose items a transaction holds in
/// UnprocessedItems, and writes the others: each batch writer owns its
/// items, so what it reads back after a batch tells exactly which of its
/// requests were written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_writes_racing_transactions_come_back_unprocessed() {
    const WRITERS: usize = 4;
    const ITEMS: usize = 8;
    const ROUNDS: i64 = 15;
    const TRANSACTORS: usize = 8;

    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let admin = server.client();
    create_table(&admin, "Race", false).await;
    let owned = |w: usize, i: usize| format!("w{w}-{i}");
    for w in 0..WRITERS {
        for i in 0..ITEMS {
            put(
                &admin,
                "Race",
                item([("pk", s(&owned(w, i))), ("gen", n("0"))]),
            )
            .await;
        }
    }

    let writing = Arc::new(AtomicBool::new(true));
    let tx_committed = Arc::new(AtomicU64::new(0));
    let tx_conflicts = Arc::new(AtomicU64::new(0));
    let mut transactors = Vec::new();
    for t in 0..TRANSACTORS {
        let client = server.client();
        let (writing, committed, conflicts) =
            (writing.clone(), tx_committed.clone(), tx_conflicts.clone());
        let mut rng = Rng::new(0xBA7C + t as u64);
        transactors.push(tokio::spawn(async move {
            while writing.load(Ordering::SeqCst) {
                // Hold two of the writers' items with ConditionChecks that
                // always hold, and count in an item of the transactions' own.
                let a = rng.below((WRITERS * ITEMS) as u64) as usize;
                let b =
                    (a + 1 + rng.below((WRITERS * ITEMS - 1) as u64) as usize) % (WRITERS * ITEMS);
                let check = |k: usize| {
                    TransactWriteItem::builder()
                        .condition_check(
                            ConditionCheck::builder()
                                .table_name("Race")
                                .key("pk", s(&owned(k / ITEMS, k % ITEMS)))
                                .condition_expression("attribute_exists(gen)")
                                .build()
                                .expect("ConditionCheck"),
                        )
                        .build()
                };
                let result = client
                    .transact_write_items()
                    .transact_items(check(a))
                    .transact_items(check(b))
                    .transact_items(tx_add_one("Race", pk(&format!("tx{t}"))))
                    .send()
                    .await;
                match result {
                    Ok(_) => {
                        committed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => match e.into_service_error() {
                        TransactWriteItemsError::TransactionCanceledException(c)
                            if reason_codes(&c).iter().any(|r| r == "TransactionConflict") =>
                        {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                            rng.backoff().await;
                        }
                        other => panic!("unexpected TransactWriteItems error: {other:?}"),
                    },
                }
            }
        }));
    }

    let unprocessed_total = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = server.client();
        let unprocessed_total = unprocessed_total.clone();
        writers.push(tokio::spawn(async move {
            for gen in 1..=ROUNDS {
                let mut pending: Vec<usize> = (0..ITEMS).collect();
                for attempt in 0.. {
                    assert!(attempt < 10_000, "a batch never got through");
                    let requests: Vec<WriteRequest> = pending
                        .iter()
                        .map(|&i| {
                            put_request(item([
                                ("pk", s(&owned(w, i))),
                                ("gen", n(&gen.to_string())),
                            ]))
                        })
                        .collect();
                    let out = client
                        .batch_write_item()
                        .request_items("Race", requests)
                        .send()
                        .await
                        .expect("BatchWriteItem");
                    let returned: Vec<usize> = out
                        .unprocessed_items()
                        .and_then(|u| u.get("Race"))
                        .map(|requests| {
                            requests
                                .iter()
                                .map(|r| {
                                    let it = r.put_request().expect("a put").item();
                                    assert_eq!(num(it, "gen"), gen, "returned as sent");
                                    let key = it["pk"].as_s().unwrap();
                                    (0..ITEMS)
                                        .find(|&i| owned(w, i) == *key)
                                        .expect("one of this writer's items")
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    unprocessed_total.fetch_add(returned.len() as u64, Ordering::Relaxed);
                    // Exactly the requests not returned were written.
                    for &i in &pending {
                        let now = get(&client, "Race", pk(&owned(w, i))).await.unwrap();
                        let want = if returned.contains(&i) { gen - 1 } else { gen };
                        assert_eq!(
                            num(&now, "gen"),
                            want,
                            "item {} after a batch that returned {returned:?}",
                            owned(w, i)
                        );
                    }
                    if returned.is_empty() {
                        break;
                    }
                    pending = returned;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }));
    }
    for w in writers {
        w.await.expect("a batch writer panicked");
    }
    writing.store(false, Ordering::SeqCst);
    for t in transactors {
        t.await.expect("a transactor panicked");
    }

    let items = scan_all(&admin, "Race").await;
    let mut tx_total = 0;
    for it in &items {
        let key = it["pk"].as_s().unwrap();
        if key.starts_with("tx") {
            tx_total += num(it, "n");
        } else {
            assert_eq!(num(it, "gen"), ROUNDS, "{it:?}");
        }
    }
    let committed = tx_committed.load(Ordering::Relaxed);
    assert_eq!(tx_total as u64, committed, "a transaction was lost");
    let unprocessed = unprocessed_total.load(Ordering::Relaxed);
    println!(
        "[batch vs transactions] requests returned unprocessed {unprocessed}, \
         transactions committed {committed}, transactions cancelled by conflicts {}",
        tx_conflicts.load(Ordering::Relaxed)
    );
    assert!(
        unprocessed > 0,
        "no BatchWriteItem request ever met a transaction holding its item"
    );
    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 4. Counters: optimistic updates and transactions lose no increment
// ---------------------------------------------------------------------------

const COUNTERS: &str = "Counters";

#[derive(Default)]
struct CounterStats {
    optimistic: AtomicU64,
    version_retries: AtomicU64,
    plain_conflicts: AtomicU64,
    transactional: AtomicU64,
    transaction_conflicts: AtomicU64,
}

/// One optimistic increment: read `v`, then `SET c = c + 1, v = v + 1` if
/// `v` is still what was read; retried until it lands.
async fn optimistic_increment(client: &Client, rng: &mut Rng, stats: &CounterStats) {
    for attempt in 0.. {
        assert!(attempt < 10_000, "an increment never got through");
        let current = get(client, COUNTERS, pk("c")).await.expect("the counter");
        let v = num(&current, "v");
        let result = client
            .update_item()
            .table_name(COUNTERS)
            .key("pk", s("c"))
            .update_expression("SET c = c + :one, v = v + :one")
            .condition_expression("v = :expected")
            .expression_attribute_values(":one", n("1"))
            .expression_attribute_values(":expected", n(&v.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => {
                stats.optimistic.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => match e.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(_) => {
                    stats.version_retries.fetch_add(1, Ordering::Relaxed);
                }
                UpdateItemError::TransactionConflictException(_) => {
                    stats.plain_conflicts.fetch_add(1, Ordering::Relaxed);
                    rng.backoff().await;
                }
                other => panic!("unexpected UpdateItem error: {other:?}"),
            },
        }
    }
}

/// One transactional increment, with a log item written alongside.
async fn transactional_increment(client: &Client, log: &str, rng: &mut Rng, stats: &CounterStats) {
    for attempt in 0.. {
        assert!(attempt < 10_000, "a transaction never got through");
        let result = client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(COUNTERS)
                            .key("pk", s("c"))
                            .update_expression("SET c = c + :one, v = v + :one")
                            .expression_attribute_values(":one", n("1"))
                            .build()
                            .expect("Update"),
                    )
                    .build(),
            )
            .transact_items(tx_put(COUNTERS, pk(log)))
            .send()
            .await;
        match result {
            Ok(_) => {
                stats.transactional.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => match e.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(c)
                    if reason_codes(&c).iter().any(|r| r == "TransactionConflict") =>
                {
                    stats.transaction_conflicts.fetch_add(1, Ordering::Relaxed);
                    rng.backoff().await;
                }
                other => panic!("unexpected TransactWriteItems error: {other:?}"),
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counter_loses_no_increment() {
    const OPTIMISTS: usize = 8;
    const TRANSACTORS: usize = 4;
    const EACH: usize = 15;

    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let admin = server.client();
    create_table(&admin, COUNTERS, false).await;
    put(
        &admin,
        COUNTERS,
        item([("pk", s("c")), ("c", n("0")), ("v", n("0"))]),
    )
    .await;

    let began = Instant::now();
    let stats = Arc::new(CounterStats::default());
    let mut tasks = Vec::new();
    for t in 0..OPTIMISTS + TRANSACTORS {
        let client = server.client();
        let stats = stats.clone();
        let mut rng = Rng::new(0xC0C0 + t as u64);
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                if t < OPTIMISTS {
                    optimistic_increment(&client, &mut rng, &stats).await;
                } else {
                    let log = format!("log#{t}#{i}");
                    transactional_increment(&client, &log, &mut rng, &stats).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("an incrementer panicked");
    }

    let optimistic = stats.optimistic.load(Ordering::Relaxed);
    let transactional = stats.transactional.load(Ordering::Relaxed);
    assert_eq!(optimistic as usize, OPTIMISTS * EACH);
    assert_eq!(transactional as usize, TRANSACTORS * EACH);
    let counter = get(&admin, COUNTERS, pk("c")).await.expect("the counter");
    assert_eq!(
        num(&counter, "c") as u64,
        optimistic + transactional,
        "an increment was lost (or doubled)"
    );
    assert_eq!(num(&counter, "v"), num(&counter, "c"));
    let logs = admin
        .scan()
        .table_name(COUNTERS)
        .consistent_read(true)
        .filter_expression("begins_with(pk, :log)")
        .expression_attribute_values(":log", s("log#"))
        .select(Select::Count)
        .send()
        .await
        .expect("Scan");
    assert_eq!(logs.count() as u64, transactional);

    println!(
        "[counter] {:.1}s: optimistic increments {optimistic} \
         (version retries {}, refused with TransactionConflictException {}), \
         transactional increments {transactional} (TransactionConflict retries {}), \
         counter {}",
        began.elapsed().as_secs_f64(),
        stats.version_retries.load(Ordering::Relaxed),
        stats.plain_conflicts.load(Ordering::Relaxed),
        stats.transaction_conflicts.load(Ordering::Relaxed),
        num(&counter, "c"),
    );
    server.shutdown().await;
}
