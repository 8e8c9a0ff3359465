//! Time to Live: UpdateTimeToLive and DescribeTimeToLive (members,
//! messages, statuses) and the sweeper (what it deletes and keeps, indexes
//! and statistics after it, enabling on a table with items, and a durable
//! database picking up where it left off).

#[macro_use]
mod common;

use std::time::Duration;

use common::*;
use openddb_core::api::{
    CreateTableInput, DescribeTimeToLiveInput, QueryInput, TimeToLiveSpecification,
    UpdateItemInput, UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item, Number};
use openddb_engine::{Database, StorageConfig};

const T: &str = "ttl_table";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Seconds DynamoDB looks back for expired items (five years).
const FIVE_YEARS: u64 = 5 * 365 * 24 * 3600;

fn num(v: u64) -> AttributeValue {
    AttributeValue::N(Number::parse(&v.to_string()).expect("number"))
}

async fn set_ttl(
    db: &Database,
    table: &str,
    enabled: bool,
    attribute: &str,
) -> Result<UpdateTimeToLiveOutput, DynamoError> {
    db.update_time_to_live(UpdateTimeToLiveInput {
        table_name: Some(table.into()),
        time_to_live_specification: Some(TimeToLiveSpecification {
            enabled: Some(enabled),
            attribute_name: Some(attribute.into()),
        }),
    })
    .await
}

/// TimeToLiveStatus and AttributeName as DescribeTimeToLive reports them.
async fn ttl_status(db: &Database, table: &str) -> (String, Option<String>) {
    let d = db
        .describe_time_to_live(DescribeTimeToLiveInput {
            table_name: Some(table.into()),
        })
        .await
        .expect("DescribeTimeToLive")
        .time_to_live_description
        .expect("TimeToLiveDescription");
    (d.time_to_live_status.expect("status"), d.attribute_name)
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn with_exp(pk: &str, exp: AttributeValue) -> Item {
    item(&[("pk", s(pk)), ("exp", exp), ("payload", s("some bytes"))])
}

async fn create(db: &Database, input: CreateTableInput) {
    db.create_table(input).await.expect("create table");
}

/// Polls until `pk` is gone, for at most ten seconds.
async fn wait_gone(db: &Database, table: &str, pk: &str) {
    for _ in 0..1000 {
        if get(db, table, key(pk)).await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{pk} was not deleted within ten seconds");
}

/// Polls until DescribeTimeToLive says ENABLED, for at most ten seconds.
async fn wait_enabled(db: &Database, table: &str) {
    for _ in 0..1000 {
        if ttl_status(db, table).await.0 == "ENABLED" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("TTL of {table} did not become ENABLED within ten seconds");
}

/// Every test in a sweeper test module, once per storage mode, against a
/// database whose sweeper runs every 100 ms.
macro_rules! with_sweeper {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &openddb_engine::Database) $body

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_memory() {
                let db = Database::in_memory().with_ttl_sweep_interval(SWEEP);
                body(&db).await;
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("temporary directory");
                let db = Database::open(StorageConfig::Directory(dir.path().to_path_buf()))
                    .expect("open")
                    .with_ttl_sweep_interval(SWEEP);
                body(&db).await;
            }
        }
    )*};
}

const SWEEP: Duration = Duration::from_millis(100);

both_modes! {
    async fn members_are_checked_with_dynamodb_messages(db) {
        create_hash_table(db, T).await;
        let cases = [
            (
                serde_json::json!({"TableName": T}),
                "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null",
            ),
            (
                serde_json::json!({"TableName": T, "TimeToLiveSpecification": {"Enabled": true}}),
                "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
            ),
            (
                serde_json::json!({"TableName": T, "TimeToLiveSpecification": {"AttributeName": "exp"}}),
                "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
            ),
            (
                serde_json::json!({"TableName": T, "TimeToLiveSpecification": {}}),
                "2 validation errors detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null; Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
            ),
            (
                serde_json::json!({"TableName": T, "TimeToLiveSpecification": {"Enabled": true, "AttributeName": ""}}),
                "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ),
            (
                serde_json::json!({"TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
            ),
            (
                serde_json::json!({"TableName": "bad name", "TimeToLiveSpecification": {"Enabled": false, "AttributeName": ""}}),
                "2 validation errors detected: Value 'bad name' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ),
        ];
        for (body, message) in cases {
            assert_error(
                wire(db, "UpdateTimeToLive", body).await,
                ErrorKind::ValidationException,
                message,
            );
        }
        let long = "a".repeat(256);
        assert_error(
            wire(db, "UpdateTimeToLive", serde_json::json!({
                "TableName": T,
                "TimeToLiveSpecification": {"Enabled": true, "AttributeName": long}
            }))
            .await,
            ErrorKind::ValidationException,
            &format!("1 validation error detected: Value '{long}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255"),
        );
        // 255 characters are fine.
        set_ttl(db, T, true, &"a".repeat(255)).await.expect("255 characters");
        assert_error(
            wire(db, "DescribeTimeToLive", serde_json::json!({})).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        );
        // Nothing invalid reached the table.
        assert_eq!(ttl_status(db, T).await, ("ENABLED".into(), Some("a".repeat(255))));
    }

    async fn missing_tables_are_resource_not_found(db) {
        assert_error(
            set_ttl(db, "nope", true, "exp").await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found: Table: nope not found",
        );
        assert_error(
            db.describe_time_to_live(DescribeTimeToLiveInput {
                table_name: Some("nope".into()),
            })
            .await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found: Table: nope not found",
        );
        // The specification is checked before the table is looked up.
        assert_error(
            wire(db, "UpdateTimeToLive", serde_json::json!({
                "TableName": "nope",
                "TimeToLiveSpecification": {"Enabled": true}
            }))
            .await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
        );
    }

    async fn statuses_follow_enabling_and_disabling(db) {
        create_hash_table(db, T).await;
        assert_eq!(ttl_status(db, T).await, ("DISABLED".into(), None));
        let wire_fresh = wire(db, "DescribeTimeToLive", serde_json::json!({"TableName": T}))
            .await
            .expect("describe");
        assert_eq!(
            wire_fresh,
            serde_json::json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
        );
        assert_error(
            set_ttl(db, T, false, "exp").await,
            ErrorKind::ValidationException,
            "TimeToLive is already disabled",
        );

        // UpdateTimeToLive echoes the specification.
        let out = wire(db, "UpdateTimeToLive", serde_json::json!({
            "TableName": T,
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}
        }))
        .await
        .expect("enable");
        assert_eq!(
            out,
            serde_json::json!({"TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})
        );
        assert_eq!(ttl_status(db, T).await, ("ENABLED".into(), Some("exp".into())));

        // Not idempotent; the attribute changes only by disabling first.
        assert_error(
            set_ttl(db, T, true, "exp").await,
            ErrorKind::ValidationException,
            "TimeToLive is already enabled",
        );
        for enabled in [true, false] {
            assert_error(
                set_ttl(db, T, enabled, "other").await,
                ErrorKind::ValidationException,
                "TimeToLive is active on a different AttributeName: current AttributeName is exp",
            );
        }
        assert_eq!(ttl_status(db, T).await, ("ENABLED".into(), Some("exp".into())));

        let out = set_ttl(db, T, false, "exp").await.expect("disable");
        assert_eq!(
            out.time_to_live_specification,
            Some(TimeToLiveSpecification {
                enabled: Some(false),
                attribute_name: Some("exp".into()),
            })
        );
        // Disabled forgets the attribute.
        assert_eq!(ttl_status(db, T).await, ("DISABLED".into(), None));
        assert_error(
            set_ttl(db, T, false, "exp").await,
            ErrorKind::ValidationException,
            "TimeToLive is already disabled",
        );
        set_ttl(db, T, true, "other").await.expect("enable another attribute");
        assert_eq!(ttl_status(db, T).await, ("ENABLED".into(), Some("other".into())));

        // A key attribute may hold the expiry.
        create(db, table_input("keyed", None)).await;
        set_ttl(db, "keyed", true, "pk").await.expect("TTL on the partition key");
        assert_eq!(ttl_status(db, "keyed").await, ("ENABLED".into(), Some("pk".into())));
    }

    async fn the_setting_goes_with_the_table(db) {
        create_hash_table(db, T).await;
        set_ttl(db, T, true, "exp").await.expect("enable");
        db.delete_table(openddb_core::api::DeleteTableInput {
            table_name: Some(T.into()),
        })
        .await
        .expect("delete table");
        create_hash_table(db, T).await;
        assert_eq!(ttl_status(db, T).await, ("DISABLED".into(), None));
    }
}

with_sweeper! {
    async fn expired_items_are_deleted_and_others_kept(db) {
        create_hash_table(db, T).await;
        let now = now();
        let keep = [
            ("future", num(now + 3600)),
            ("ancient", num(now - FIVE_YEARS - 86_400)),
            ("string", s(&(now - 100).to_string())),
            ("set", AttributeValue::NS(vec![Number::parse(&(now - 100).to_string()).unwrap()])),
            ("millis", num((now - 100) * 1000)),
        ];
        // Written while TTL is off: readable, and indexed when it is enabled.
        put(db, T, with_exp("before", num(now - 50))).await;
        assert!(get(db, T, key("before")).await.is_some());
        set_ttl(db, T, true, "exp").await.expect("enable");
        put(db, T, with_exp("expired", num(now - 10))).await;
        put(db, T, with_exp("fraction", AttributeValue::N(Number::parse(&format!("{}.5", now - 10)).unwrap()))).await;
        put(db, T, with_exp("almost_five_years", num(now - FIVE_YEARS + 3600))).await;
        put(db, T, item(&[("pk", s("no_ttl"))])).await;
        for (pk, exp) in &keep {
            put(db, T, with_exp(pk, exp.clone())).await;
        }
        for pk in ["before", "expired", "fraction", "almost_five_years"] {
            wait_gone(db, T, pk).await;
        }
        // Several more sweeps leave the rest alone.
        tokio::time::sleep(SWEEP * 4).await;
        for pk in keep.iter().map(|(pk, _)| *pk).chain(["no_ttl"]) {
            assert!(get(db, T, key(pk)).await.is_some(), "{pk} was deleted");
        }
        assert_eq!(stats(db, T).await.0, keep.len() as i64 + 1);
    }

    async fn an_item_given_a_later_expiry_is_kept(db) {
        create_hash_table(db, T).await;
        set_ttl(db, T, true, "exp").await.expect("enable");
        let soon = now() + 1;
        put(db, T, with_exp("lapses", num(soon))).await;
        put(db, T, with_exp("renewed", num(soon))).await;
        put(db, T, with_exp("cleared", num(soon))).await;
        let update = |pk: &str, expression: &str, value: Option<AttributeValue>| UpdateItemInput {
            table_name: Some(T.into()),
            key: Some(key(pk)),
            update_expression: Some(expression.into()),
            expression_attribute_values: value.map(|v| values(&[(":v", v)])),
            ..Default::default()
        };
        db.update_item(update("renewed", "SET exp = :v", Some(num(now() + 3600))))
            .await
            .expect("renew");
        db.update_item(update("cleared", "REMOVE exp", None))
            .await
            .expect("clear");
        wait_gone(db, T, "lapses").await;
        tokio::time::sleep(SWEEP * 3).await;
        assert!(get(db, T, key("renewed")).await.is_some());
        assert!(get(db, T, key("cleared")).await.is_some());
        // Disabling stops deletions: an item that expires afterwards stays.
        set_ttl(db, T, false, "exp").await.expect("disable");
        put(db, T, with_exp("after_disable", num(now() - 10))).await;
        tokio::time::sleep(SWEEP * 3).await;
        assert!(get(db, T, key("after_disable")).await.is_some());
    }

    async fn indexes_and_statistics_follow_deletions(db) {
        let mut input = table_input(T, None);
        input.attribute_definitions.get_or_insert_with(Vec::new).push(attribute("g", "S"));
        input.global_secondary_indexes = Some(vec![global_index("by_g", "g", None, projection("ALL", &[]))]);
        create(db, input.clone()).await;
        // The same items, minus the expired ones, in a table without TTL.
        input.table_name = Some("expected".into());
        create(db, input).await;
        set_ttl(db, T, true, "exp").await.expect("enable");
        let now = now();
        for i in 0..6 {
            let exp = if i % 2 == 0 { now - 5 } else { now + 3600 };
            let it = item(&[("pk", s(&format!("k{i}"))), ("g", s("G")), ("exp", num(exp))]);
            put(db, T, it.clone()).await;
            if i % 2 == 1 {
                put(db, "expected", it).await;
            }
        }
        for i in [0, 2, 4] {
            wait_gone(db, T, &format!("k{i}")).await;
        }
        let by_g = |table: &str| QueryInput {
            table_name: Some(table.into()),
            index_name: Some("by_g".into()),
            key_condition_expression: Some("g = :g".into()),
            expression_attribute_values: Some(values(&[(":g", s("G"))])),
            ..Default::default()
        };
        let left: Vec<Item> = db.query(by_g(T)).await.expect("query").items.expect("Items");
        assert_eq!(
            left.iter().map(|i| i["pk"].clone()).collect::<Vec<_>>(),
            [s("k1"), s("k3"), s("k5")]
        );
        assert_eq!(stats(db, T).await, stats(db, "expected").await);
        let gsi = |d: openddb_core::api::TableDescription| {
            let g = &d.global_secondary_indexes.expect("GSIs")[0];
            (g.item_count, g.index_size_bytes)
        };
        assert_eq!(gsi(describe(db, T).await), gsi(describe(db, "expected").await));
    }

    async fn enabling_on_a_table_with_items_finds_them_all(db) {
        create_hash_table(db, T).await;
        let now = now();
        for i in 0..350 {
            let exp = if i % 7 == 0 { now + 3600 } else { now - 60 };
            put(db, T, with_exp(&format!("k{i:03}"), num(exp))).await;
        }
        set_ttl(db, T, true, "exp").await.expect("enable");
        let (status, attribute) = ttl_status(db, T).await;
        assert!(["ENABLING", "ENABLED"].contains(&status.as_str()), "{status}");
        assert_eq!(attribute.as_deref(), Some("exp"));
        wait_enabled(db, T).await;
        for _ in 0..1000 {
            if stats(db, T).await.0 == 50 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(stats(db, T).await.0, 50);
        assert!(get(db, T, key("k007")).await.is_some());
        assert!(get(db, T, key("k001")).await.is_none());
    }
}

/// A tenant's sweeper and an unfinished backfill start again when a
/// durable database is reopened.
#[test]
fn a_durable_database_resumes_backfill_and_sweeping_on_reopening() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let open = || {
        Database::open(StorageConfig::Directory(dir.path().to_path_buf()))
            .expect("open")
            .with_ttl_sweep_interval(SWEEP)
    };
    let now = now();
    // On a current-thread runtime the backfill and the sweeper cannot run
    // before `block_on` returns: the database closes with both to do.
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = first.block_on(async {
        let db = open();
        create_hash_table(&db, T).await;
        for i in 0..300 {
            let exp = if i % 3 == 0 { now + 3600 } else { now - 60 };
            put(&db, T, with_exp(&format!("k{i:03}"), num(exp))).await;
        }
        set_ttl(&db, T, true, "exp").await.expect("enable");
        put(&db, T, with_exp("late", num(now - 60))).await;
        ttl_status(&db, T).await
    });
    drop(first);
    assert_eq!(status, ("ENABLING".into(), Some("exp".into())));

    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    second.block_on(async {
        let db = open();
        wait_enabled(&db, T).await;
        wait_gone(&db, T, "late").await;
        for _ in 0..1000 {
            if stats(&db, T).await.0 == 100 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(stats(&db, T).await.0, 100);
        assert!(get(&db, T, key("k000")).await.is_some());
    });
}
