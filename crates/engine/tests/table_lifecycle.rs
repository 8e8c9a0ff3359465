//! Table lifecycle through the embedded API, in both storage modes:
//! CreateTable, DescribeTable, ListTables, DeleteTable and UpdateTable, and
//! the exact ItemCount / TableSizeBytes DescribeTable reports.

#[macro_use]
mod common;

use common::*;
use openddb_core::api::{
    DeleteItemInput, DeleteTableInput, ListTablesInput, ProvisionedThroughput, StreamSpecification,
    UpdateItemInput, UpdateTableInput,
};
use openddb_core::ErrorKind;
use openddb_engine::Database;

async fn delete_table(db: &Database, name: &str) -> Result<(), openddb_core::DynamoError> {
    db.delete_table(DeleteTableInput {
        table_name: Some(name.into()),
    })
    .await
    .map(|_| ())
}

async fn list(
    db: &Database,
    start: Option<&str>,
    limit: Option<i64>,
) -> (Vec<String>, Option<String>) {
    let out = db
        .list_tables(ListTablesInput {
            exclusive_start_table_name: start.map(str::to_string),
            limit,
        })
        .await
        .expect("list tables");
    (out.table_names, out.last_evaluated_table_name)
}

async fn update_table(
    db: &Database,
    input: UpdateTableInput,
) -> Result<openddb_core::api::TableDescription, openddb_core::DynamoError> {
    db.update_table(input)
        .await
        .map(|o| o.table_description.expect("TableDescription"))
}

fn throughput(r: i64, w: i64) -> Option<ProvisionedThroughput> {
    Some(ProvisionedThroughput {
        read_capacity_units: Some(r),
        write_capacity_units: Some(w),
    })
}

both_modes! {
    async fn create_table_is_active_at_once(db) {
        let created = create_hash_table(db, "first").await;
        assert_eq!(created.table_status.as_deref(), Some("ACTIVE"));
        assert_eq!(created.item_count, Some(0));
        assert_eq!(created.table_size_bytes, Some(0));
        let d = describe(db, "first").await;
        assert_eq!(d.table_status.as_deref(), Some("ACTIVE"));
        assert_eq!(d.table_name.as_deref(), Some("first"));
        assert_eq!(
            d.table_arn.as_deref(),
            Some("arn:aws:dynamodb:us-east-1:000000000000:table/first")
        );
        assert_eq!(d.key_schema, hash_table_input("first").key_schema);
        assert_eq!(d.attribute_definitions, hash_table_input("first").attribute_definitions);
        let pt = d.provisioned_throughput.expect("ProvisionedThroughput");
        assert_eq!((pt.read_capacity_units, pt.write_capacity_units), (Some(5), Some(5)));
        // Items can be written the moment CreateTable returns.
        put(db, "first", item(&[("pk", s("a"))])).await;
        assert!(get(db, "first", item(&[("pk", s("a"))])).await.is_some());
    }

    async fn pay_per_request_table_reports_its_billing_mode(db) {
        create_composite_table(db, "ppr").await;
        let d = describe(db, "ppr").await;
        assert_eq!(
            d.billing_mode_summary.and_then(|b| b.billing_mode).as_deref(),
            Some("PAY_PER_REQUEST")
        );
        assert_eq!(d.key_schema.map(|k| k.len()), Some(2));
    }

    async fn creating_an_existing_table_is_resource_in_use(db) {
        create_hash_table(db, "dup").await;
        assert_error(
            db.create_table(hash_table_input("dup")).await,
            ErrorKind::ResourceInUseException,
            "Table already exists: dup",
        );
    }

    async fn deleted_table_is_gone_at_once(db) {
        create_hash_table(db, "gone").await;
        let out = db
            .delete_table(DeleteTableInput { table_name: Some("gone".into()) })
            .await
            .expect("delete table")
            .table_description
            .expect("TableDescription");
        assert_eq!(out.table_name.as_deref(), Some("gone"));
        assert_error(
            db.describe_table(openddb_core::api::DescribeTableInput {
                table_name: Some("gone".into()),
            })
            .await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found: Table: gone not found",
        );
        assert!(!list(db, None, None).await.0.contains(&"gone".to_string()));
        assert_error(
            delete_table(db, "gone").await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found: Table: gone not found",
        );
    }

    async fn recreated_table_never_sees_old_items(db) {
        create_hash_table(db, "again").await;
        for i in 0..10 {
            put(db, "again", item(&[("pk", s(&format!("k{i}"))), ("v", s("old"))])).await;
        }
        delete_table(db, "again").await.expect("delete table");
        create_hash_table(db, "again").await;
        for i in 0..10 {
            assert_eq!(get(db, "again", item(&[("pk", s(&format!("k{i}")))])).await, None);
        }
        assert_eq!(stats(db, "again").await, (0, 0));
        // Item actions on the deleted-then-recreated name reach the new table.
        put(db, "again", item(&[("pk", s("k0")), ("v", s("new"))])).await;
        assert_eq!(
            get(db, "again", item(&[("pk", s("k0"))])).await,
            Some(item(&[("pk", s("k0")), ("v", s("new"))]))
        );
        assert_eq!(stats(db, "again").await, (1, 2 + 2 + 1 + 3));
    }

    async fn item_actions_on_a_deleted_table_are_not_found(db) {
        create_hash_table(db, "dropped").await;
        delete_table(db, "dropped").await.expect("delete table");
        assert_error(
            db.get_item(openddb_core::api::GetItemInput {
                table_name: Some("dropped".into()),
                key: Some(item(&[("pk", s("a"))])),
                ..Default::default()
            })
            .await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
    }

    async fn item_count_and_size_are_exact(db) {
        create_hash_table(db, "sized").await;
        // pk(2) + "a1"(2) + data(4) + "hello"(5) = 13 bytes.
        put(db, "sized", item(&[("pk", s("a1")), ("data", s("hello"))])).await;
        assert_eq!(stats(db, "sized").await, (1, 13));
        // pk(2) + "b2"(2) + n(1) + 42(2: one byte per two digits, plus one) = 7.
        put(db, "sized", item(&[("pk", s("b2")), ("n", n("42"))])).await;
        assert_eq!(stats(db, "sized").await, (2, 20));
        // Overwrite: data grows from 5 to 10 bytes.
        put(db, "sized", item(&[("pk", s("a1")), ("data", s("hellohello"))])).await;
        assert_eq!(stats(db, "sized").await, (2, 25));
        // UpdateItem adds x(1) + "xyz"(3) to a1.
        db.update_item(UpdateItemInput {
            table_name: Some("sized".into()),
            key: Some(item(&[("pk", s("a1"))])),
            update_expression: Some("SET x = :v".into()),
            expression_attribute_values: Some(values(&[(":v", s("xyz"))])),
            ..Default::default()
        })
        .await
        .expect("update item");
        assert_eq!(stats(db, "sized").await, (2, 29));
        // UpdateItem on a missing key creates a key-only item: pk(2) + "c3"(2).
        db.update_item(UpdateItemInput {
            table_name: Some("sized".into()),
            key: Some(item(&[("pk", s("c3"))])),
            ..Default::default()
        })
        .await
        .expect("update item");
        assert_eq!(stats(db, "sized").await, (3, 33));
        // Deleting an item takes off its whole size; deleting a missing one nothing.
        for key in ["b2", "b2", "nope"] {
            db.delete_item(DeleteItemInput {
                table_name: Some("sized".into()),
                key: Some(item(&[("pk", s(key))])),
                ..Default::default()
            })
            .await
            .expect("delete item");
        }
        assert_eq!(stats(db, "sized").await, (2, 26));
        // A failed condition changes nothing.
        let failed = db
            .delete_item(DeleteItemInput {
                table_name: Some("sized".into()),
                key: Some(item(&[("pk", s("a1"))])),
                condition_expression: Some("attribute_not_exists(pk)".into()),
                ..Default::default()
            })
            .await;
        assert_error(failed, ErrorKind::ConditionalCheckFailedException, "The conditional request failed");
        assert_eq!(stats(db, "sized").await, (2, 26));
    }

    async fn list_tables_is_sorted_and_paginated(db) {
        for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
            create_hash_table(db, name).await;
        }
        let (all, last) = list(db, None, None).await;
        assert_eq!(all, ["alpha", "bravo", "charlie", "delta", "echo"]);
        assert_eq!(last, None);

        // (ExclusiveStartTableName, Limit, page, LastEvaluatedTableName)
        type Page<'a> = (Option<&'a str>, i64, &'a [&'a str], Option<&'a str>);
        let cases: &[Page] = &[
            (None, 2, &["alpha", "bravo"], Some("bravo")),
            (Some("bravo"), 2, &["charlie", "delta"], Some("delta")),
            (Some("delta"), 2, &["echo"], None),
            (None, 1, &["alpha"], Some("alpha")),
            // The start name need not be a table; names after it follow.
            (Some("bravo0"), 100, &["charlie", "delta", "echo"], None),
            (Some("zzz"), 5, &[], None),
        ];
        for &(start, limit, names, last) in cases {
            let (got, got_last) = list(db, start, Some(limit)).await;
            assert_eq!(got, names, "start {start:?} limit {limit}");
            assert_eq!(got_last.as_deref(), last, "start {start:?} limit {limit}");
        }

        // Paging to the end visits every table exactly once.
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let (page, last) = list(db, start.as_deref(), Some(2)).await;
            seen.extend(page);
            match last {
                Some(l) => start = Some(l),
                None => break,
            }
        }
        assert_eq!(seen, all);
    }

    async fn list_tables_limit_is_validated(db) {
        let cases: &[(i64, &str)] = &[
            (0, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"),
            (101, "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"),
        ];
        for &(limit, message) in cases {
            assert_error(
                db.list_tables(ListTablesInput { limit: Some(limit), ..Default::default() }).await,
                ErrorKind::ValidationException,
                message,
            );
        }
    }

    async fn deletion_protection_blocks_delete_until_lifted(db) {
        let mut input = hash_table_input("kept");
        input.deletion_protection_enabled = Some(true);
        let created = db.create_table(input).await.expect("create").table_description.unwrap();
        assert_eq!(created.deletion_protection_enabled, Some(true));
        let err = delete_table(db, "kept").await.expect_err("protected table deleted");
        assert_eq!(err.kind, ErrorKind::ValidationException);
        assert_eq!(
            err.message,
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
        );
        assert_eq!(describe(db, "kept").await.table_status.as_deref(), Some("ACTIVE"));

        let d = update_table(db, UpdateTableInput {
            table_name: Some("kept".into()),
            deletion_protection_enabled: Some(false),
            ..Default::default()
        })
        .await
        .expect("lift protection");
        assert_eq!(d.deletion_protection_enabled, Some(false));
        delete_table(db, "kept").await.expect("delete after lifting protection");
    }

    async fn update_table_changes_throughput(db) {
        create_hash_table(db, "prov").await;
        let d = update_table(db, UpdateTableInput {
            table_name: Some("prov".into()),
            provisioned_throughput: throughput(20, 15),
            ..Default::default()
        })
        .await
        .expect("update throughput");
        let pt = d.provisioned_throughput.unwrap();
        assert_eq!((pt.read_capacity_units, pt.write_capacity_units), (Some(20), Some(15)));
        let pt = describe(db, "prov").await.provisioned_throughput.unwrap();
        assert_eq!((pt.read_capacity_units, pt.write_capacity_units), (Some(20), Some(15)));
        assert_eq!(describe(db, "prov").await.table_status.as_deref(), Some("ACTIVE"));
    }

    async fn update_table_switches_billing_mode_both_ways(db) {
        create_hash_table(db, "bill").await;
        let d = update_table(db, UpdateTableInput {
            table_name: Some("bill".into()),
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..Default::default()
        })
        .await
        .expect("to on-demand");
        assert_eq!(
            d.billing_mode_summary.and_then(|b| b.billing_mode).as_deref(),
            Some("PAY_PER_REQUEST")
        );
        // On-demand to on-demand is accepted as a no-op.
        update_table(db, UpdateTableInput {
            table_name: Some("bill".into()),
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..Default::default()
        })
        .await
        .expect("on-demand no-op");
        let d = update_table(db, UpdateTableInput {
            table_name: Some("bill".into()),
            billing_mode: Some("PROVISIONED".into()),
            provisioned_throughput: throughput(5, 5),
            ..Default::default()
        })
        .await
        .expect("back to provisioned");
        assert_eq!(
            d.billing_mode_summary.and_then(|b| b.billing_mode).as_deref(),
            Some("PROVISIONED")
        );
        let pt = describe(db, "bill").await.provisioned_throughput.unwrap();
        assert_eq!((pt.read_capacity_units, pt.write_capacity_units), (Some(5), Some(5)));
    }

    async fn update_table_refusals(db) {
        create_hash_table(db, "prov").await;
        create_composite_table(db, "ondemand").await;
        let cases: Vec<(UpdateTableInput, ErrorKind, &str)> = vec![
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    billing_mode: Some("PROVISIONED".into()),
                    provisioned_throughput: throughput(5, 5),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
            ),
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    provisioned_throughput: throughput(5, 5),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
            ),
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    billing_mode: Some("PAY_PER_REQUEST".into()),
                    provisioned_throughput: throughput(10, 10),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ),
            (
                UpdateTableInput {
                    table_name: Some("ondemand".into()),
                    provisioned_throughput: throughput(10, 10),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ),
            (
                UpdateTableInput {
                    table_name: Some("ondemand".into()),
                    billing_mode: Some("PROVISIONED".into()),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ),
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    provisioned_throughput: throughput(0, 5),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    billing_mode: Some("FREE".into()),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
            ),
            (
                UpdateTableInput {
                    table_name: Some("prov".into()),
                    ..Default::default()
                },
                ErrorKind::ValidationException,
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ),
            (
                UpdateTableInput {
                    table_name: Some("missing".into()),
                    provisioned_throughput: throughput(10, 10),
                    ..Default::default()
                },
                ErrorKind::ResourceNotFoundException,
                "Requested resource not found: Table: missing not found",
            ),
        ];
        for (input, kind, message) in cases {
            let label = format!("{input:?}");
            match update_table(db, input).await {
                Ok(_) => panic!("accepted {label}"),
                Err(e) => {
                    assert_eq!(e.kind, kind, "{label}");
                    assert_eq!(e.message, message, "{label}");
                }
            }
        }
        // Nothing changed.
        let pt = describe(db, "prov").await.provisioned_throughput.unwrap();
        assert_eq!((pt.read_capacity_units, pt.write_capacity_units), (Some(5), Some(5)));
    }

    async fn update_table_stream_specification(db) {
        create_hash_table(db, "streamed").await;
        let enable = |view: Option<&str>| UpdateTableInput {
            table_name: Some("streamed".into()),
            stream_specification: Some(StreamSpecification {
                stream_enabled: Some(true),
                stream_view_type: view.map(str::to_string),
            }),
            ..Default::default()
        };
        let disable = UpdateTableInput {
            table_name: Some("streamed".into()),
            stream_specification: Some(StreamSpecification {
                stream_enabled: Some(false),
                stream_view_type: None,
            }),
            ..Default::default()
        };

        // Disabling a stream that is not there, or enabling without a view type, fails.
        let e = update_table(db, disable.clone()).await.expect_err("disable without stream");
        assert_eq!(e.message, "Table has no stream to disable: TableName: streamed");
        let e = update_table(db, enable(None)).await.expect_err("enable without view type");
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required"
        );
        let e = update_table(db, enable(Some("EVERYTHING"))).await.expect_err("bad view type");
        assert_eq!(e.kind, ErrorKind::ValidationException);
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'EVERYTHING' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]"
        );

        let d = update_table(db, enable(Some("NEW_AND_OLD_IMAGES"))).await.expect("enable stream");
        let spec = d.stream_specification.expect("StreamSpecification");
        assert_eq!(spec.stream_enabled, Some(true));
        assert_eq!(spec.stream_view_type.as_deref(), Some("NEW_AND_OLD_IMAGES"));
        let label = d.latest_stream_label.expect("LatestStreamLabel");
        assert_eq!(
            d.latest_stream_arn.as_deref(),
            Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/streamed/stream/{label}").as_str())
        );
        assert_eq!(describe(db, "streamed").await.latest_stream_label.as_deref(), Some(label.as_str()));

        // A second enable is refused; disabling works once.
        let e = update_table(db, enable(Some("KEYS_ONLY"))).await.expect_err("enable twice");
        assert_eq!(e.message, "Table already has an enabled stream: TableName: streamed");
        let d = update_table(db, disable.clone()).await.expect("disable stream");
        assert!(d.stream_specification.is_none_or(|s| s.stream_enabled != Some(true)));
        let e = update_table(db, disable).await.expect_err("disable twice");
        assert_eq!(e.kind, ErrorKind::ValidationException);
    }

    async fn table_management_validation_messages(db) {
        let long = "a".repeat(256);
        let cases: Vec<(&str, serde_json::Value, ErrorKind, String)> = vec![
            ("DescribeTable", serde_json::json!({}), ErrorKind::ValidationException,
             "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into()),
            ("DescribeTable", serde_json::json!({"TableName": "nope"}), ErrorKind::ResourceNotFoundException,
             "Requested resource not found: Table: nope not found".into()),
            ("DeleteTable", serde_json::json!({"TableName": long}), ErrorKind::ValidationException,
             format!("1 validation error detected: Value '{long}' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255")),
            ("CreateTable", serde_json::json!({
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "The parameter 'TableName' is required but was not present in the request".into()),
            ("CreateTable", serde_json::json!({"TableName": "ab",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3".into()),
            ("CreateTable", serde_json::json!({"TableName": "dupkey",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "Invalid KeySchema: Some index key attribute have no definition".into()),
            ("CreateTable", serde_json::json!({"TableName": "threekeys",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}, {"AttributeName": "extra", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "extra", "KeyType": "RANGE"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=extra, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2".into()),
            ("CreateTable", serde_json::json!({"TableName": "badkeytype",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "INVALID"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "1 validation error detected: Value 'INVALID' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]".into()),
            ("CreateTable", serde_json::json!({"TableName": "badattrtype",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "INVALID"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "1 validation error detected: Value 'INVALID' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]".into()),
            ("CreateTable", serde_json::json!({"TableName": "lsinorange",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "lsk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "LocalSecondaryIndexes": [{"IndexName": "lsi1",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex".into()),
            ("CreateTable", serde_json::json!({"TableName": "dupindex",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [
                    {"IndexName": "sameIndex", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                     "Projection": {"ProjectionType": "ALL"},
                     "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}},
                    {"IndexName": "sameIndex", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                     "Projection": {"ProjectionType": "ALL"},
                     "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}],
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
             ErrorKind::ValidationException,
             "One or more parameter values were invalid: Duplicate index name: sameIndex".into()),
            ("CreateTable", serde_json::json!({"TableName": "indexnames",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "LocalSecondaryIndexes": [{"IndexName": "l1",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "g", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "GlobalSecondaryIndexes": [{"IndexName": "g1",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "2 validation errors detected: Value 'g1' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'l1' at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3".into()),
            ("CreateTable", serde_json::json!({"TableName": "unusedattr",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "extra", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
             ErrorKind::ValidationException,
             "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions".into()),
            ("CreateTable", serde_json::json!({"TableName": "nothroughput",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
             ErrorKind::ValidationException,
             "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED".into()),
        ];
        for (op, body, kind, message) in cases {
            let label = format!("{op} {body}");
            match wire(db, op, body).await {
                Ok(v) => panic!("{label}: accepted: {v}"),
                Err(e) => {
                    assert_eq!(e.kind, kind, "{label}: {}", e.message);
                    assert_eq!(e.message, message, "{label}");
                }
            }
        }
        // None of the refused definitions left a table behind.
        assert_eq!(list(db, None, None).await.0, Vec::<String>::new());
    }
}
