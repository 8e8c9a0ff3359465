//! Shared helpers for the engine tests: a database per storage mode, value
//! and item builders, a few table shapes, and the wire-path caller.
#![allow(dead_code)]

use std::collections::HashMap;

use openddb_core::api::{
    AttributeDefinition, AttributeNames, AttributeValues, CreateTableInput, DescribeTableInput,
    GetItemInput, KeySchemaElement, ProvisionedThroughput, PutItemInput, TableDescription,
};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item, Number};
use openddb_engine::{Database, RequestContext, StorageConfig};
use tempfile::TempDir;

/// The two storage modes every behaviour test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Memory,
    Sqlite,
}

/// A database and, for SQLite, the directory it lives in (removed on drop).
pub struct Harness {
    pub db: Database,
    pub dir: Option<TempDir>,
}

impl Harness {
    pub fn new(mode: Mode) -> Harness {
        match mode {
            Mode::Memory => Harness {
                db: Database::open(StorageConfig::InMemory).expect("open in-memory database"),
                dir: None,
            },
            Mode::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let db = Database::open(StorageConfig::Directory(dir.path().to_path_buf()))
                    .expect("open SQLite database");
                Harness { db, dir: Some(dir) }
            }
        }
    }
}

/// Runs `body` as a task on a multi-threaded runtime whose workers (and
/// blocking threads) have a 1 MiB stack, half what the server gives its
/// workers, once per storage mode.
pub fn on_small_workers<F>(body: impl Fn(Database) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(1024 * 1024)
        .thread_name("openddb-worker")
        .enable_all()
        .build()
        .expect("runtime");
    for mode in [Mode::Memory, Mode::Sqlite] {
        // The directory (SQLite) outlives the task that uses the database.
        let Harness { db, dir } = Harness::new(mode);
        let task = body(db);
        rt.block_on(async { rt.spawn(task).await.expect("task ran to its end") });
        drop(dir);
    }
}

/// Defines each test once per storage mode: `name::in_memory` and
/// `name::sqlite`, both running the same body against a fresh database.
#[allow(unused_macros)]
macro_rules! both_modes {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &openddb_engine::Database) $body

            $(#[$meta])*
            #[tokio::test]
            async fn in_memory() {
                let h = crate::common::Harness::new(crate::common::Mode::Memory);
                body(&h.db).await;
            }

            $(#[$meta])*
            #[tokio::test]
            async fn sqlite() {
                let h = crate::common::Harness::new(crate::common::Mode::Sqlite);
                body(&h.db).await;
            }
        }
    )*};
}

pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub fn n(v: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(v).expect("valid number"))
}

pub fn ss(v: &[&str]) -> AttributeValue {
    AttributeValue::SS(v.iter().map(|x| x.to_string()).collect())
}

pub fn l(v: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(v)
}

pub fn m(pairs: &[(&str, AttributeValue)]) -> AttributeValue {
    AttributeValue::M(item(pairs))
}

pub fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn names(pairs: &[(&str, &str)]) -> AttributeNames {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn values(pairs: &[(&str, AttributeValue)]) -> AttributeValues {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect::<HashMap<_, _>>()
}

fn def(name: &str, ty: &str) -> AttributeDefinition {
    AttributeDefinition {
        attribute_name: Some(name.into()),
        attribute_type: Some(ty.into()),
    }
}

fn key(name: &str, ty: &str) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: Some(name.into()),
        key_type: Some(ty.into()),
    }
}

/// A PROVISIONED 5/5 table with a string partition key `pk`.
pub fn hash_table_input(name: &str) -> CreateTableInput {
    CreateTableInput {
        table_name: Some(name.into()),
        attribute_definitions: Some(vec![def("pk", "S")]),
        key_schema: Some(vec![key("pk", "HASH")]),
        provisioned_throughput: Some(ProvisionedThroughput {
            read_capacity_units: Some(5),
            write_capacity_units: Some(5),
        }),
        ..Default::default()
    }
}

/// A PAY_PER_REQUEST table with string keys `pk` (partition) and `sk` (sort).
pub fn composite_table_input(name: &str) -> CreateTableInput {
    CreateTableInput {
        table_name: Some(name.into()),
        attribute_definitions: Some(vec![def("pk", "S"), def("sk", "S")]),
        key_schema: Some(vec![key("pk", "HASH"), key("sk", "RANGE")]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    }
}

/// A PAY_PER_REQUEST table with a binary partition key `pk`.
pub fn binary_table_input(name: &str) -> CreateTableInput {
    CreateTableInput {
        table_name: Some(name.into()),
        attribute_definitions: Some(vec![def("pk", "B")]),
        key_schema: Some(vec![key("pk", "HASH")]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    }
}

pub async fn create_hash_table(db: &Database, name: &str) -> TableDescription {
    db.create_table(hash_table_input(name))
        .await
        .expect("create table")
        .table_description
        .expect("TableDescription")
}

pub async fn create_composite_table(db: &Database, name: &str) -> TableDescription {
    db.create_table(composite_table_input(name))
        .await
        .expect("create table")
        .table_description
        .expect("TableDescription")
}

pub async fn describe(db: &Database, name: &str) -> TableDescription {
    db.describe_table(DescribeTableInput {
        table_name: Some(name.into()),
    })
    .await
    .expect("describe table")
    .table
    .expect("Table")
}

pub async fn put(db: &Database, table: &str, it: Item) {
    db.put_item(PutItemInput {
        table_name: Some(table.into()),
        item: Some(it),
        ..Default::default()
    })
    .await
    .expect("put item");
}

pub async fn get(db: &Database, table: &str, k: Item) -> Option<Item> {
    db.get_item(GetItemInput {
        table_name: Some(table.into()),
        key: Some(k),
        consistent_read: Some(true),
        ..Default::default()
    })
    .await
    .expect("get item")
    .item
}

/// ItemCount and TableSizeBytes as DescribeTable reports them.
pub async fn stats(db: &Database, table: &str) -> (i64, i64) {
    let d = describe(db, table).await;
    (
        d.item_count.expect("ItemCount"),
        d.table_size_bytes.expect("TableSizeBytes"),
    )
}

/// Calls an action through the wire path (JSON in, JSON out).
pub async fn wire(
    db: &Database,
    operation: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, DynamoError> {
    let bytes = serde_json::to_vec(&body).expect("serialisable body");
    let out = db
        .dispatch(&RequestContext::default(), operation, &bytes)
        .await?;
    Ok(serde_json::from_slice(&out).expect("JSON response"))
}

/// Asserts an error's kind and exact message.
#[track_caller]
pub fn assert_error(
    result: Result<impl std::fmt::Debug, DynamoError>,
    kind: ErrorKind,
    message: &str,
) {
    match result {
        Ok(v) => panic!("expected {kind:?} {message:?}, got success {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, kind, "kind of {:?}", e.message);
            assert_eq!(e.message, message);
        }
    }
}

// ---------------------------------------------------------------------
// Query, Scan and secondary-index helpers.

pub fn b(v: &[u8]) -> AttributeValue {
    AttributeValue::B(v.to_vec())
}

/// An attribute definition (`S`, `N` or `B`).
pub fn attribute(name: &str, ty: &str) -> AttributeDefinition {
    def(name, ty)
}

/// A key schema element (`HASH` or `RANGE`).
pub fn key_element(name: &str, key_type: &str) -> KeySchemaElement {
    key(name, key_type)
}

/// A projection: `ALL`, `KEYS_ONLY`, or `INCLUDE` with `non_key` attributes.
pub fn projection(projection_type: &str, non_key: &[&str]) -> openddb_core::api::Projection {
    openddb_core::api::Projection {
        projection_type: Some(projection_type.into()),
        non_key_attributes: (!non_key.is_empty())
            .then(|| non_key.iter().map(|a| a.to_string()).collect()),
    }
}

/// A local secondary index on the table's partition key `pk` and `sort`.
pub fn local_index(
    name: &str,
    sort: &str,
    projection: openddb_core::api::Projection,
) -> openddb_core::api::LocalSecondaryIndex {
    openddb_core::api::LocalSecondaryIndex {
        index_name: Some(name.into()),
        key_schema: Some(vec![key("pk", "HASH"), key(sort, "RANGE")]),
        projection: Some(projection),
    }
}

/// A global secondary index without provisioned throughput (for
/// PAY_PER_REQUEST tables); `sort` is optional.
pub fn global_index(
    name: &str,
    partition: &str,
    sort: Option<&str>,
    projection: openddb_core::api::Projection,
) -> openddb_core::api::GlobalSecondaryIndex {
    let mut schema = vec![key(partition, "HASH")];
    schema.extend(sort.map(|s| key(s, "RANGE")));
    openddb_core::api::GlobalSecondaryIndex {
        index_name: Some(name.into()),
        key_schema: Some(schema),
        projection: Some(projection),
        ..Default::default()
    }
}

/// A PAY_PER_REQUEST table keyed by `pk` (S) and, when given, a sort key
/// `sk` of type `sort_type`.
pub fn table_input(name: &str, sort_type: Option<&str>) -> CreateTableInput {
    let mut defs = vec![def("pk", "S")];
    let mut schema = vec![key("pk", "HASH")];
    if let Some(t) = sort_type {
        defs.push(def("sk", t));
        schema.push(key("sk", "RANGE"));
    }
    CreateTableInput {
        table_name: Some(name.into()),
        attribute_definitions: Some(defs),
        key_schema: Some(schema),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    }
}

/// The attributes `names` of `it` (a key, as LastEvaluatedKey holds it).
pub fn key_of(it: &Item, names: &[&str]) -> Item {
    names
        .iter()
        .filter_map(|n| it.get(*n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

/// Every page of a Query, following LastEvaluatedKey from the request's
/// ExclusiveStartKey until it is absent.
pub async fn query_pages(
    db: &Database,
    input: openddb_core::api::QueryInput,
) -> Vec<openddb_core::api::QueryOutput> {
    let mut pages = Vec::new();
    let mut input = input;
    loop {
        let page = db.query(input.clone()).await.expect("query page");
        let next = page.last_evaluated_key.clone();
        pages.push(page);
        assert!(pages.len() <= 10_000, "query does not end");
        match next {
            Some(k) => input.exclusive_start_key = Some(k),
            None => return pages,
        }
    }
}

/// Every page of a Scan, following LastEvaluatedKey until it is absent.
pub async fn scan_pages(
    db: &Database,
    input: openddb_core::api::ScanInput,
) -> Vec<openddb_core::api::ScanOutput> {
    let mut pages = Vec::new();
    let mut input = input;
    loop {
        let page = db.scan(input.clone()).await.expect("scan page");
        let next = page.last_evaluated_key.clone();
        pages.push(page);
        assert!(pages.len() <= 10_000, "scan does not end");
        match next {
            Some(k) => input.exclusive_start_key = Some(k),
            None => return pages,
        }
    }
}

/// The items of all pages, in order.
pub fn items_of(pages: &[openddb_core::api::QueryOutput]) -> Vec<Item> {
    pages
        .iter()
        .flat_map(|p| p.items.clone().expect("Items"))
        .collect()
}

/// Polls DescribeTable until the table and all its global indexes are
/// ACTIVE (and none is being deleted), for at most a minute.
pub async fn wait_until_active(db: &Database, table: &str) -> TableDescription {
    for _ in 0..6000 {
        let d = describe(db, table).await;
        let indexes_ready = d
            .global_secondary_indexes
            .iter()
            .flatten()
            .all(|g| g.index_status.as_deref() == Some("ACTIVE"));
        if d.table_status.as_deref() == Some("ACTIVE") && indexes_ready {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{table} did not become ACTIVE within a minute");
}

/// Asserts a TransactionCanceledException with DynamoDB's message for
/// `codes` and reasons carrying exactly those codes in order; returns the
/// reasons.
#[track_caller]
pub fn cancelled<T: std::fmt::Debug>(
    result: Result<T, DynamoError>,
    codes: &[&str],
) -> Vec<serde_json::Value> {
    let err = match result {
        Ok(v) => panic!("expected a cancellation {codes:?}, got success {v:?}"),
        Err(e) => e,
    };
    assert_eq!(
        err.kind,
        ErrorKind::TransactionCanceledException,
        "kind of {:?}",
        err.message
    );
    assert_eq!(
        err.message,
        format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        )
    );
    let reasons = err
        .cancellation_reasons
        .expect("CancellationReasons")
        .as_array()
        .expect("CancellationReasons is an array")
        .clone();
    let got: Vec<&str> = reasons
        .iter()
        .map(|r| r["Code"].as_str().expect("Code"))
        .collect();
    assert_eq!(got, codes);
    reasons
}
