//! DynamoDB's transaction conflicts, made deterministic by holding items
//! in the in-flight registry the way a request in flight holds them.

use openddb_core::api::{
    BatchWriteItemInput, ConditionCheck, CreateTableInput, Delete, Get, GetItemInput, PutItemInput,
    PutRequest, TransactGetItem, TransactGetItemsInput, TransactWriteItem, TransactWriteItemsInput,
    Update, UpdateItemInput, WriteRequest,
};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item};

use crate::keys;
use crate::{Database, StorageConfig};

const ACCOUNT: &str = "000000000000";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), s(pk))])
}

async fn setup() -> Database {
    let db = Database::open(StorageConfig::InMemory).expect("open");
    let table: CreateTableInput = serde_json::from_value(serde_json::json!({
        "TableName": "ttt",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("table input");
    db.create_table(table).await.expect("create table");
    for pk in ["a", "b"] {
        put(&db, pk).await.expect("seed");
    }
    db
}

fn storage_key(db: &Database, pk: &str) -> Vec<u8> {
    let tenant = db.tenant(ACCOUNT).expect("tenant");
    let meta = tenant.table("ttt").expect("table");
    keys::item_key(meta.id, openddb_core::keyenc::KeyValue::S(pk), None)
}

async fn put(db: &Database, pk: &str) -> Result<(), DynamoError> {
    db.put_item(PutItemInput {
        table_name: Some("ttt".into()),
        item: Some(key(pk)),
        ..Default::default()
    })
    .await
    .map(|_| ())
}

fn transact_write(pks: &[&str]) -> TransactWriteItemsInput {
    TransactWriteItemsInput {
        transact_items: Some(
            pks.iter()
                .map(|pk| TransactWriteItem {
                    update: Some(Update {
                        table_name: Some("ttt".into()),
                        key: Some(key(pk)),
                        update_expression: Some("SET v = :v".into()),
                        expression_attribute_values: Some(
                            [(":v".to_string(), s("x"))].into_iter().collect(),
                        ),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn transact_get(pks: &[&str]) -> TransactGetItemsInput {
    TransactGetItemsInput {
        transact_items: Some(
            pks.iter()
                .map(|pk| TransactGetItem {
                    get: Some(Get {
                        table_name: Some("ttt".into()),
                        key: Some(key(pk)),
                        ..Default::default()
                    }),
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn codes(err: &DynamoError) -> Vec<String> {
    err.cancellation_reasons
        .as_ref()
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .map(|r| r["Code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn value_of(db: &Database, pk: &str) -> Option<AttributeValue> {
    db.get_item(GetItemInput {
        table_name: Some("ttt".into()),
        key: Some(key(pk)),
        consistent_read: Some(true),
        ..Default::default()
    })
    .await
    .expect("get")
    .item
    .and_then(|i| i.get("v").cloned())
}

#[tokio::test]
async fn a_transaction_in_flight_refuses_plain_writes_and_other_transactions() {
    let db = setup().await;
    let tenant = db.tenant(ACCOUNT).unwrap();
    let held = tenant
        .inflight
        .transaction(&[storage_key(&db, "a")])
        .unwrap();

    // A plain write of the item: TransactionConflictException.
    let err = put(&db, "a").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::TransactionConflictException);
    assert_eq!(err.message, "Transaction is ongoing for the item");
    let err = db
        .update_item(UpdateItemInput {
            table_name: Some("ttt".into()),
            key: Some(key("a")),
            update_expression: Some("SET v = :v".into()),
            expression_attribute_values: Some([(":v".to_string(), s("y"))].into_iter().collect()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TransactionConflictException);
    // Other items are free.
    put(&db, "b").await.expect("another item");

    // Another transaction including it: cancelled at its place, nothing written.
    let err = db
        .transact_write_items(transact_write(&["b", "a"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TransactionCanceledException);
    assert_eq!(codes(&err), ["None", "TransactionConflict"]);
    assert_eq!(
        err.message,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"
    );
    let reasons = err.cancellation_reasons.clone().unwrap();
    assert_eq!(reasons[1]["Message"], "Transaction is ongoing for the item");
    assert_eq!(value_of(&db, "b").await, None);

    // A TransactGetItems of it: cancelled.
    let err = db
        .transact_get_items(transact_get(&["a", "b"]))
        .await
        .unwrap_err();
    assert_eq!(codes(&err), ["TransactionConflict", "None"]);

    // BatchWriteItem: the held item comes back unprocessed, the other is written.
    let batch: BatchWriteItemInput = BatchWriteItemInput {
        request_items: Some(
            [(
                "ttt".to_string(),
                ["a", "c"]
                    .iter()
                    .map(|pk| WriteRequest {
                        put_request: Some(PutRequest {
                            item: Some(key(pk)),
                        }),
                        delete_request: None,
                    })
                    .collect(),
            )]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    };
    let out = db.batch_write_item(batch).await.expect("batch");
    let unprocessed = &out.unprocessed_items["ttt"];
    assert_eq!(unprocessed.len(), 1);
    assert_eq!(
        unprocessed[0].put_request.as_ref().unwrap().item,
        Some(key("a"))
    );

    // Once the transaction is answered, everything goes through.
    drop(held);
    assert_eq!(tenant.inflight.held(), 0);
    put(&db, "a").await.expect("after the transaction");
    db.transact_write_items(transact_write(&["b", "a"]))
        .await
        .expect("transaction after");
    assert_eq!(value_of(&db, "a").await, Some(s("x")));
    db.transact_get_items(transact_get(&["a", "b"]))
        .await
        .expect("read after");
    assert_eq!(tenant.inflight.held(), 0);
}

#[tokio::test]
async fn a_plain_write_in_flight_cancels_transactional_reads_only() {
    let db = setup().await;
    let tenant = db.tenant(ACCOUNT).unwrap();
    let held = tenant.inflight.write(&storage_key(&db, "a")).unwrap();
    let err = db
        .transact_get_items(transact_get(&["b", "a"]))
        .await
        .unwrap_err();
    assert_eq!(codes(&err), ["None", "TransactionConflict"]);
    // Writes are serialised by the store: a transaction or another plain
    // write of the item proceeds.
    put(&db, "a").await.expect("plain write");
    db.transact_write_items(transact_write(&["a"]))
        .await
        .expect("transaction");
    drop(held);
    db.transact_get_items(transact_get(&["b", "a"]))
        .await
        .expect("read after");
}

#[tokio::test]
async fn fault_injection_cancels_the_chosen_share_of_transactions() {
    let db = Database::open(StorageConfig::InMemory)
        .unwrap()
        .with_transaction_conflicts(0.5);
    let table: CreateTableInput = serde_json::from_value(serde_json::json!({
        "TableName": "ttt",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .unwrap();
    db.create_table(table).await.unwrap();
    let mut cancelled = 0;
    for _ in 0..10 {
        match db.transact_write_items(transact_write(&["a"])).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(codes(&e), ["TransactionConflict"]);
                cancelled += 1;
            }
        }
    }
    assert_eq!(cancelled, 5);
    // A ConditionCheck-only transaction and TransactGetItems count too; plain
    // writes never conflict.
    let check = TransactWriteItemsInput {
        transact_items: Some(vec![TransactWriteItem {
            condition_check: Some(ConditionCheck {
                table_name: Some("ttt".into()),
                key: Some(key("a")),
                condition_expression: Some("attribute_exists(pk)".into()),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let outcomes = [
        db.transact_write_items(check.clone()).await.is_ok(),
        db.transact_get_items(transact_get(&["a"])).await.is_ok(),
    ];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1);
    for _ in 0..10 {
        put(&db, "a").await.expect("plain writes never conflict");
    }
    let delete = TransactWriteItemsInput {
        transact_items: Some(vec![TransactWriteItem {
            delete: Some(Delete {
                table_name: Some("ttt".into()),
                key: Some(key("zz")),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let _ = db.transact_write_items(delete).await;
    assert_eq!(db.tenant(ACCOUNT).unwrap().inflight.held(), 0);
}
