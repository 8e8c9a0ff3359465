//! BatchGetItem in both storage modes: several tables, missing keys,
//! projections, the 16 MB answer limit with UnprocessedKeys, capacity, and
//! DynamoDB's errors.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::*;
use openddb_core::api::{BatchGetItemInput, KeysAndAttributes};
use openddb_core::{ErrorKind, Item};
use openddb_engine::Database;

fn keys_of(keys: Vec<Item>) -> KeysAndAttributes {
    KeysAndAttributes {
        keys: Some(keys),
        ..Default::default()
    }
}

fn batch(tables: Vec<(&str, KeysAndAttributes)>) -> BatchGetItemInput {
    BatchGetItemInput {
        request_items: Some(
            tables
                .into_iter()
                .map(|(t, k)| (t.to_string(), k))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    }
}

fn hkey(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

async fn setup(db: &Database) {
    create_hash_table(db, "hhh").await;
    create_composite_table(db, "ccc").await;
    for i in 0..3 {
        put(
            db,
            "hhh",
            item(&[("pk", s(&format!("k{i}"))), ("a", s("x")), ("b", n("1"))]),
        )
        .await;
    }
    put(
        db,
        "ccc",
        item(&[("pk", s("p")), ("sk", s("1")), ("v", s("ccc"))]),
    )
    .await;
}

both_modes! {
    async fn reads_several_tables_and_skips_missing_keys(db) {
        setup(db).await;
        let mut c = keys_of(vec![
            item(&[("pk", s("p")), ("sk", s("1"))]),
            item(&[("pk", s("p")), ("sk", s("2"))]),
        ]);
        c.consistent_read = Some(true);
        let mut input = batch(vec![
            ("hhh", keys_of(vec![hkey("k0"), hkey("k2"), hkey("nope")])),
            ("ccc", c),
        ]);
        input.return_consumed_capacity = Some("TOTAL".into());
        let out = db.batch_get_item(input).await.expect("batch get");
        let mut h: Vec<String> = out.responses["hhh"]
            .iter()
            .map(|i| match &i["pk"] {
                openddb_core::AttributeValue::S(s) => s.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        h.sort();
        assert_eq!(h, ["k0", "k2"]);
        assert_eq!(out.responses["ccc"].len(), 1);
        assert!(out.unprocessed_keys.is_empty());
        let capacity: BTreeMap<String, f64> = out
            .consumed_capacity
            .expect("ConsumedCapacity")
            .into_iter()
            .map(|c| (c.table_name, c.capacity_units))
            .collect();
        // Three eventually consistent reads at 0.5, two consistent at 1.
        assert_eq!(capacity["hhh"], 1.5);
        assert_eq!(capacity["ccc"], 2.0);
    }

    async fn projections_apply_per_table(db) {
        setup(db).await;
        let mut h = keys_of(vec![hkey("k1")]);
        h.projection_expression = Some("#a".into());
        h.expression_attribute_names = Some([("#a".to_string(), "a".to_string())].into());
        let mut c = keys_of(vec![item(&[("pk", s("p")), ("sk", s("1"))])]);
        c.attributes_to_get = Some(vec!["v".into()]);
        let out = db.batch_get_item(batch(vec![("hhh", h), ("ccc", c)])).await.expect("batch get");
        assert_eq!(out.responses["hhh"], vec![item(&[("a", s("x"))])]);
        assert_eq!(out.responses["ccc"], vec![item(&[("v", s("ccc"))])]);
    }

    async fn answers_past_sixteen_megabytes_come_back_unprocessed(db) {
        create_hash_table(db, "big").await;
        let body = "x".repeat(390_000);
        let keys: Vec<Item> = (0..50).map(|i| hkey(&format!("b{i:02}"))).collect();
        for k in &keys {
            let mut it = k.clone();
            it.insert("body".into(), s(&body));
            put(db, "big", it).await;
        }
        let mut input = batch(vec![("big", keys_of(keys.clone()))]);
        input.request_items.as_mut().expect("items").get_mut("big").expect("big").consistent_read = Some(true);
        let out = db.batch_get_item(input).await.expect("batch get");
        let returned = out.responses["big"].len();
        let unprocessed = out.unprocessed_keys["big"].keys.as_ref().expect("keys").len();
        assert_eq!(returned + unprocessed, 50);
        assert_eq!(returned, 16 * 1024 * 1024 / 390_006);
        // The unprocessed entry keeps the table's read options.
        assert_eq!(out.unprocessed_keys["big"].consistent_read, Some(true));
    }

    async fn errors_in_dynamodb_words(db) {
        setup(db).await;
        assert_error(
            db.batch_get_item(BatchGetItemInput {
                request_items: Some(BTreeMap::new()),
                ..Default::default()
            })
            .await,
            ErrorKind::ValidationException,
            "The requestItems parameter is required for BatchGetItem",
        );
        let many: Vec<Item> = (0..101).map(|i| hkey(&format!("m{i}"))).collect();
        assert_error(
            db.batch_get_item(batch(vec![("hhh", keys_of(many))])).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value at 'RequestItems.hhh.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100",
        );
        let sixty: Vec<Item> = (0..60).map(|i| hkey(&format!("m{i}"))).collect();
        let fifty: Vec<Item> = (0..50)
            .map(|i| item(&[("pk", s("p")), ("sk", s(&i.to_string()))]))
            .collect();
        assert_error(
            db.batch_get_item(batch(vec![("hhh", keys_of(sixty)), ("ccc", keys_of(fifty))])).await,
            ErrorKind::ValidationException,
            "Too many items requested for the BatchGetItem call",
        );
        assert_error(
            db.batch_get_item(batch(vec![("missing", keys_of(vec![hkey("k")]))])).await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
        assert_error(
            db.batch_get_item(batch(vec![("hhh", keys_of(vec![hkey("k0"), hkey("k0")]))])).await,
            ErrorKind::ValidationException,
            "Provided list of item keys contains duplicates",
        );
        assert_error(
            db.batch_get_item(batch(vec![("hhh", keys_of(vec![item(&[("other", s("x"))])]))])).await,
            ErrorKind::ValidationException,
            "The provided key element does not match the schema",
        );
    }
}

mod writes {
    use super::*;
    use openddb_core::api::{BatchWriteItemInput, DeleteRequest, PutRequest, WriteRequest};

    fn put_req(it: Item) -> WriteRequest {
        WriteRequest {
            put_request: Some(PutRequest { item: Some(it) }),
            ..Default::default()
        }
    }

    fn delete_req(key: Item) -> WriteRequest {
        WriteRequest {
            delete_request: Some(DeleteRequest { key: Some(key) }),
            ..Default::default()
        }
    }

    fn writes(tables: Vec<(&str, Vec<WriteRequest>)>) -> BatchWriteItemInput {
        BatchWriteItemInput {
            request_items: Some(
                tables
                    .into_iter()
                    .map(|(t, r)| (t.to_string(), r))
                    .collect(),
            ),
            ..Default::default()
        }
    }

    both_modes! {
        async fn puts_and_deletes_over_several_tables(db) {
            setup(db).await;
            let mut input = writes(vec![
                ("hhh", vec![put_req(item(&[("pk", s("new")), ("a", s("y"))])), delete_req(hkey("k0"))]),
                ("ccc", vec![delete_req(item(&[("pk", s("p")), ("sk", s("1"))]))]),
            ]);
            input.return_consumed_capacity = Some("TOTAL".into());
            let out = db.batch_write_item(input).await.expect("batch write");
            assert!(out.unprocessed_items.is_empty());
            let capacity: BTreeMap<String, f64> = out
                .consumed_capacity
                .expect("ConsumedCapacity")
                .into_iter()
                .map(|c| (c.table_name, c.capacity_units))
                .collect();
            assert_eq!(capacity["hhh"], 2.0);
            assert_eq!(capacity["ccc"], 1.0);
            assert_eq!(get(db, "hhh", hkey("new")).await, Some(item(&[("pk", s("new")), ("a", s("y"))])));
            assert_eq!(get(db, "hhh", hkey("k0")).await, None);
            assert_eq!(get(db, "ccc", item(&[("pk", s("p")), ("sk", s("1"))])).await, None);
            assert_eq!(stats(db, "hhh").await.0, 3);
            assert_eq!(stats(db, "ccc").await.0, 0);
        }

        async fn nothing_is_written_unless_every_request_is_valid(db) {
            setup(db).await;
            // The second put lacks the key: the first must not be written.
            let bad = writes(vec![(
                "hhh",
                vec![put_req(item(&[("pk", s("fresh"))])), put_req(item(&[("a", s("x"))]))],
            )]);
            assert_error(
                db.batch_write_item(bad).await,
                ErrorKind::ValidationException,
                "One or more parameter values were invalid: Missing the key pk in the item",
            );
            assert_eq!(get(db, "hhh", hkey("fresh")).await, None);
            assert_error(
                db.batch_write_item(writes(vec![("hhh", vec![put_req(hkey("d")), delete_req(hkey("d"))])])).await,
                ErrorKind::ValidationException,
                "Provided list of item keys contains duplicates",
            );
            assert_error(
                db.batch_write_item(writes(vec![("nope", vec![put_req(hkey("x"))])])).await,
                ErrorKind::ResourceNotFoundException,
                "Requested resource not found",
            );
            assert_error(
                db.batch_write_item(BatchWriteItemInput { request_items: Some(BTreeMap::new()), ..Default::default() }).await,
                ErrorKind::ValidationException,
                "The requestItems parameter is required for BatchWriteItem",
            );
            let many = (0..26).map(|i| put_req(hkey(&format!("m{i}")))).collect();
            let err = db.batch_write_item(writes(vec![("hhh", many)])).await.expect_err("26 requests");
            assert!(err.message.starts_with("1 validation error detected: Value '{hhh=[WriteRequest(PutRequest=PutRequest(Item={pk={S:m0}})"), "{}", err.message);
            assert!(err.message.ends_with("at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"), "{}", err.message);
            let twenty: Vec<WriteRequest> = (0..20).map(|i| put_req(hkey(&format!("t{i}")))).collect();
            let ten: Vec<WriteRequest> = (0..10)
                .map(|i| put_req(item(&[("pk", s("q")), ("sk", s(&i.to_string()))])))
                .collect();
            assert_error(
                db.batch_write_item(writes(vec![("hhh", twenty), ("ccc", ten)])).await,
                ErrorKind::ValidationException,
                "Too many items requested for the BatchWriteItem call",
            );
            assert_eq!(stats(db, "hhh").await.0, 3);
        }
    }
}

mod transact_gets {
    use super::*;
    use openddb_core::api::{Get, TransactGetItem, TransactGetItemsInput};

    fn get_of(table: &str, key: Item) -> TransactGetItem {
        TransactGetItem {
            get: Some(Get {
                table_name: Some(table.into()),
                key: Some(key),
                ..Default::default()
            }),
        }
    }

    both_modes! {
        async fn gets_in_order_with_empty_entries_and_transactional_capacity(db) {
            setup(db).await;
            let mut projected = get_of("ccc", item(&[("pk", s("p")), ("sk", s("1"))]));
            projected.get.as_mut().expect("get").projection_expression = Some("v".into());
            let out = db
                .transact_get_items(TransactGetItemsInput {
                    transact_items: Some(vec![
                        get_of("hhh", hkey("k1")),
                        get_of("hhh", hkey("missing")),
                        projected,
                    ]),
                    return_consumed_capacity: Some("TOTAL".into()),
                })
                .await
                .expect("transact get");
            let responses = out.responses.expect("Responses");
            assert_eq!(responses.len(), 3);
            assert_eq!(responses[0].item.as_ref().map(|i| i["a"].clone()), Some(s("x")));
            assert_eq!(responses[1].item, None);
            assert_eq!(responses[2].item, Some(item(&[("v", s("ccc"))])));
            let capacity: BTreeMap<String, (f64, Option<f64>)> = out
                .consumed_capacity
                .expect("ConsumedCapacity")
                .into_iter()
                .map(|c| (c.table_name, (c.capacity_units, c.read_capacity_units)))
                .collect();
            // Two units per item (per started 4 KB), found or not.
            assert_eq!(capacity["hhh"], (4.0, Some(4.0)));
            assert_eq!(capacity["ccc"], (2.0, Some(2.0)));
        }

        async fn transact_get_errors(db) {
            setup(db).await;
            assert_error(
                db.transact_get_items(TransactGetItemsInput {
                    transact_items: Some(vec![get_of("hhh", hkey("k1")), get_of("hhh", hkey("k1"))]),
                    ..Default::default()
                })
                .await,
                ErrorKind::ValidationException,
                "Transaction request cannot include multiple operations on one item",
            );
            assert_error(
                db.transact_get_items(TransactGetItemsInput {
                    transact_items: Some(vec![get_of("nope", hkey("k1"))]),
                    ..Default::default()
                })
                .await,
                ErrorKind::ResourceNotFoundException,
                "Requested resource not found",
            );
            assert_error(
                db.transact_get_items(TransactGetItemsInput {
                    transact_items: Some(vec![]),
                    ..Default::default()
                })
                .await,
                ErrorKind::ValidationException,
                "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            );
            let err = db
                .transact_get_items(TransactGetItemsInput {
                    transact_items: Some(vec![get_of("hhh", hkey("k1")), get_of("hhh", item(&[("x", s("y"))]))]),
                    ..Default::default()
                })
                .await
                .expect_err("bad key");
            assert_eq!(err.kind, ErrorKind::TransactionCanceledException);
            assert_eq!(
                err.message,
                "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]"
            );
            assert_eq!(
                err.cancellation_reasons,
                Some(serde_json::json!([
                    {"Code": "None"},
                    {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}
                ]))
            );
        }
    }
}
