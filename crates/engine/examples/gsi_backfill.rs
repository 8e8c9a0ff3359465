//! Measures adding a global secondary index to a large table while writes
//! go on: loads N items (default 1 000 000) into a durable database, adds a
//! GSI with UpdateTable, keeps writing from several tasks during the
//! backfill, and prints how long the index took to become ACTIVE, the
//! write latencies seen meanwhile (against a baseline before it) and
//! whether the index holds exactly the items it should.
//!
//! `cargo run --release -p openddb-engine --example gsi_backfill -- [items] [dir]`

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openddb_core::api::{
    AttributeDefinition, CreateTableInput, DescribeTableInput, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, Projection, PutItemInput, QueryInput,
    UpdateTableInput,
};
use openddb_core::{AttributeValue, Item, Number};
use openddb_engine::{Database, StorageConfig};

const TABLE: &str = "backfill";
const GROUPS: u64 = 1000;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn key_schema(parts: &[(&str, &str)]) -> Vec<KeySchemaElement> {
    parts
        .iter()
        .map(|(n, t)| KeySchemaElement {
            attribute_name: Some(n.to_string()),
            key_type: Some(t.to_string()),
        })
        .collect()
}

fn definition(name: &str) -> AttributeDefinition {
    AttributeDefinition {
        attribute_name: Some(name.into()),
        attribute_type: Some("S".into()),
    }
}

fn item(i: u64, writer: u64) -> Item {
    let mut it = Item::new();
    it.insert("pk".into(), s(format!("item-{i:08}")));
    it.insert("g".into(), s(format!("group-{:04}", i % GROUPS)));
    it.insert(
        "w".into(),
        AttributeValue::N(Number::parse(&writer.to_string()).unwrap()),
    );
    it.insert("body".into(), s("x".repeat(100)));
    it
}

async fn put(db: &Database, it: Item) -> Duration {
    let start = Instant::now();
    db.put_item(PutItemInput {
        table_name: Some(TABLE.into()),
        item: Some(it),
        ..Default::default()
    })
    .await
    .expect("put");
    start.elapsed()
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

/// Writes as fast as `tasks` concurrent writers can until `stop`, returning
/// every latency.
async fn write_load(
    db: Arc<Database>,
    tasks: u64,
    first: u64,
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (db, stop) = (db.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = first + t;
            while !stop.load(Ordering::Relaxed) {
                lat.push(put(&db, item(i, 1)).await);
                i += tasks;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("writer"));
    }
    all
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("item count"));
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("openddb-gsi-backfill"));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Arc::new(Database::open(StorageConfig::Directory(dir.clone())).expect("open"));
    db.create_table(CreateTableInput {
        table_name: Some(TABLE.into()),
        attribute_definitions: Some(vec![definition("pk")]),
        key_schema: Some(key_schema(&[("pk", "HASH")])),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    })
    .await
    .expect("create");

    let load = Instant::now();
    let mut handles = Vec::new();
    let writers = 64;
    for t in 0..writers {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut i = t;
            while i < n {
                put(&db, item(i, 0)).await;
                i += writers;
            }
        }));
    }
    for h in handles {
        h.await.expect("loader");
    }
    let load_secs = load.elapsed().as_secs_f64();
    println!(
        "loaded {n} items in {load_secs:.1} s ({:.0} items/s, {writers} concurrent PutItem)",
        n as f64 / load_secs
    );

    // Baseline write latency without a backfill.
    let stop = Arc::new(AtomicBool::new(false));
    let baseline = tokio::spawn(write_load(db.clone(), 4, n, stop.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let baseline = baseline.await.expect("baseline");

    let stop = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn(write_load(db.clone(), 4, 2 * n, stop.clone()));
    let start = Instant::now();
    db.update_table(UpdateTableInput {
        table_name: Some(TABLE.into()),
        attribute_definitions: Some(vec![definition("g"), definition("pk")]),
        global_secondary_index_updates: Some(vec![GlobalSecondaryIndexUpdate {
            create: Some(GlobalSecondaryIndex {
                index_name: Some("by-group".into()),
                key_schema: Some(key_schema(&[("g", "HASH"), ("pk", "RANGE")])),
                projection: Some(Projection {
                    projection_type: Some("KEYS_ONLY".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    })
    .await
    .expect("update table");
    loop {
        let d = db
            .describe_table(DescribeTableInput {
                table_name: Some(TABLE.into()),
            })
            .await
            .expect("describe");
        let status = d
            .table
            .and_then(|t| t.global_secondary_indexes)
            .and_then(|g| g.into_iter().next().and_then(|g| g.index_status));
        if status.as_deref() == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let backfill_secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during = during.await.expect("writes during backfill");

    println!(
        "backfill of {n} items: ACTIVE after {backfill_secs:.1} s ({:.0} items/s)",
        n as f64 / backfill_secs
    );
    for (label, lat) in [("before backfill", baseline), ("during backfill", during)] {
        println!(
            "writes {label}: {} puts, {:.0}/s, p50 {:?}, p99 {:?}, max {:?}",
            lat.len(),
            lat.len() as f64
                / if label.starts_with("before") {
                    3.0
                } else {
                    backfill_secs
                },
            percentile(lat.clone(), 0.5),
            percentile(lat.clone(), 0.99),
            lat.iter().max().copied().unwrap_or_default()
        );
    }

    // The index must hold every item exactly once: count per group.
    let d = db
        .describe_table(DescribeTableInput {
            table_name: Some(TABLE.into()),
        })
        .await
        .expect("describe");
    let t = d.table.expect("table");
    let table_items = t.item_count.unwrap_or(0);
    let index_items = t
        .global_secondary_indexes
        .and_then(|g| g.into_iter().next())
        .and_then(|g| g.item_count)
        .unwrap_or(-1);
    let mut counted = 0i64;
    let mut per_group: HashMap<u64, i64> = HashMap::new();
    for g in 0..GROUPS {
        let mut esk = None;
        loop {
            let mut values = HashMap::new();
            values.insert(":g".to_string(), s(format!("group-{g:04}")));
            let out = db
                .query(QueryInput {
                    table_name: Some(TABLE.into()),
                    index_name: Some("by-group".into()),
                    key_condition_expression: Some("g = :g".into()),
                    expression_attribute_values: Some(values),
                    select: Some("COUNT".into()),
                    exclusive_start_key: esk,
                    ..Default::default()
                })
                .await
                .expect("query");
            *per_group.entry(g).or_default() += out.count;
            counted += out.count;
            esk = out.last_evaluated_key;
            if esk.is_none() {
                break;
            }
        }
    }
    println!(
        "table ItemCount {table_items}, index ItemCount {index_items}, items found by querying every group {counted}: {}",
        if table_items == index_items && index_items == counted {
            "consistent"
        } else {
            "MISMATCH"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
