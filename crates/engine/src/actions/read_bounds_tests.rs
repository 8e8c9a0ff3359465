//! What one read request (or one step of stream trimming) takes from
//! storage is bounded by what it may answer or do, not by its Limit times
//! the largest item: a storage wrapper counts the bytes scans return.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{
    DoneFn, KeyRange, KeyValue, Kv, KvError, Outcome, ReadHandle, ReadTxn, Txn, WriteFn,
};
use openddb_kv_memory::MemoryKv;
use serde_json::{json, Value};

use crate::tenant::Tenant;
use crate::RequestContext;

/// The memory backend, counting the bytes of keys and values its scans
/// return (in read snapshots and write transactions).
#[derive(Default)]
struct CountingKv {
    inner: MemoryKv,
    scanned: Arc<AtomicUsize>,
}

struct Counting<'a> {
    inner: ReadHandle<'a>,
    scanned: Arc<AtomicUsize>,
}

impl ReadTxn for Counting<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.inner.get(key)
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        let rows = self.inner.scan(range, reverse, limit)?;
        self.count(&rows);
        Ok(rows)
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        let rows = self.inner.scan_bounded(range, reverse, limit, max_bytes)?;
        self.count(&rows);
        Ok(rows)
    }
}

impl Counting<'_> {
    fn count(&self, rows: &[KeyValue]) {
        count(&self.scanned, rows);
    }
}

fn count(scanned: &AtomicUsize, rows: &[KeyValue]) {
    let bytes: usize = rows.iter().map(|(k, v)| k.len() + v.len()).sum();
    scanned.fetch_add(bytes, Ordering::Relaxed);
}

struct CountingTxn<'a> {
    inner: &'a mut dyn Txn,
    scanned: Arc<AtomicUsize>,
}

impl ReadTxn for CountingTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.inner.get(key)
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        let rows = self.inner.scan(range, reverse, limit)?;
        count(&self.scanned, &rows);
        Ok(rows)
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        let rows = self.inner.scan_bounded(range, reverse, limit, max_bytes)?;
        count(&self.scanned, &rows);
        Ok(rows)
    }
}

impl Txn for CountingTxn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.inner.put(key, value)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.inner.delete(key)
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError> {
        self.inner.delete_range(start, end)
    }

    fn lock(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.inner.lock(key)
    }
}

impl Kv for CountingKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        Ok(Box::new(Counting {
            inner: self.inner.read()?,
            scanned: self.scanned.clone(),
        }))
    }

    fn write(&self, mut f: WriteFn, done: DoneFn) {
        let scanned = self.scanned.clone();
        self.inner.write(
            Box::new(move |txn| {
                f(&mut CountingTxn {
                    inner: txn,
                    scanned: scanned.clone(),
                })
            }),
            done,
        )
    }

    fn reads_are_cheap(&self) -> bool {
        true
    }
}

fn tenant_over(kv: Arc<CountingKv>) -> Arc<Tenant> {
    Arc::new(
        Tenant::load(
            kv,
            Arc::default(),
            Default::default(),
            Duration::from_secs(3600),
            crate::sealed::Sealer::new(&crate::sealed::TokenSecret::new([7; 32]), "000000000000"),
        )
        .expect("load the tenant"),
    )
}

/// Runs action `$action` on `$tenant` with the request `$json`; the answer
/// as JSON.
macro_rules! call {
    ($tenant:expr, $action:ident, $json:tt) => {
        serde_json::to_value(
            crate::actions::$action::run(
                $tenant,
                &RequestContext::default(),
                serde_json::from_value(json!($json)).expect("request"),
            )
            .await
            .expect(stringify!($action)),
        )
        .expect("an answer")
    };
}

/// Bytes of the large attribute of each item: near the 400 KB item limit.
const LARGE: usize = 380 * 1024;

/// A table `ttt` with a NEW_AND_OLD_IMAGES stream and `n` items of about
/// 380 KB, each written twice (so each has a record with both images).
async fn large_items(tenant: &Arc<Tenant>, n: usize) -> Value {
    let created = call!(tenant, create_table, {
        "TableName": "ttt",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    });
    for i in 0..n {
        for fill in ["a", "b"] {
            let big = fill.repeat(LARGE);
            call!(tenant, put_item, {
                "TableName": "ttt",
                "Item": {"pk": {"S": (format!("item{i:03}"))}, "big": {"S": big}}
            });
        }
    }
    created
}

#[tokio::test]
async fn get_records_reads_about_what_it_answers() {
    let kv = Arc::new(CountingKv::default());
    let tenant = tenant_over(kv.clone());
    let created = large_items(&tenant, 20).await;
    let arn = created["TableDescription"]["LatestStreamArn"].clone();
    let stream = call!(&tenant, describe_stream, {"StreamArn": arn});
    let shard = stream["StreamDescription"]["Shards"][0]["ShardId"].clone();
    let iterator = call!(&tenant, get_shard_iterator, {
        "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"
    });

    // 40 records of 0.4 to 0.8 MB wait; one call answers about 1 MB.
    let mut iterator = iterator["ShardIterator"].clone();
    let mut seen = 0;
    while seen < 40 {
        kv.scanned.store(0, Ordering::Relaxed);
        let page = call!(&tenant, get_records, {"ShardIterator": iterator});
        let records = page["Records"].as_array().expect("Records").len();
        assert!((1..=2).contains(&records), "{records} records in one call");
        let scanned = kv.scanned.load(Ordering::Relaxed);
        assert!(
            scanned <= 4 << 20,
            "{scanned} bytes read for {records} records"
        );
        seen += records;
        iterator = page["NextShardIterator"].clone();
    }
    assert_eq!(seen, 40);
}

#[tokio::test]
async fn query_and_scan_read_about_what_they_answer() {
    let kv = Arc::new(CountingKv::default());
    let tenant = tenant_over(kv.clone());
    large_items(&tenant, 20).await;
    // Every item is about 380 KB: a page ends after the third (past 1 MB).
    for (what, request) in [
        ("Scan", json!({"TableName": "ttt"})),
        (
            "parallel Scan",
            json!({"TableName": "ttt", "Segment": 0, "TotalSegments": 1}),
        ),
        (
            "Query",
            json!({
                "TableName": "ttt",
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "item007"}}
            }),
        ),
    ] {
        kv.scanned.store(0, Ordering::Relaxed);
        let page = if what == "Query" {
            call!(&tenant, query, request)
        } else {
            call!(&tenant, scan, request)
        };
        let scanned = kv.scanned.load(Ordering::Relaxed);
        assert!(
            scanned <= 4 << 20,
            "{what}: {scanned} bytes read for {} items",
            page["Count"]
        );
    }
    // All 20 are found, page by page.
    let mut found = 0;
    let mut start = Value::Null;
    loop {
        kv.scanned.store(0, Ordering::Relaxed);
        let page = if start.is_null() {
            call!(&tenant, scan, {"TableName": "ttt", "Select": "COUNT"})
        } else {
            call!(&tenant, scan, {"TableName": "ttt", "Select": "COUNT", "ExclusiveStartKey": start})
        };
        assert!(kv.scanned.load(Ordering::Relaxed) <= 4 << 20);
        found += page["Count"].as_u64().expect("Count");
        start = page["LastEvaluatedKey"].clone();
        if start.is_null() {
            break;
        }
    }
    assert_eq!(found, 20);
}

#[tokio::test]
async fn a_trim_step_reads_a_bounded_part_of_a_stream() {
    let kv = Arc::new(CountingKv::default());
    let tenant = tenant_over(kv.clone());
    large_items(&tenant, 20).await;
    let stream = {
        let snapshot = tenant.kv.read().expect("snapshot");
        crate::streams::list(&*snapshot).expect("streams").remove(0)
    };
    let records = |kv: &CountingKv| {
        let snapshot = kv.inner.read().expect("snapshot");
        crate::streams::shards(&*snapshot, stream.id)
            .expect("shards")
            .iter()
            .map(|sh| {
                crate::streams::read(&*snapshot, stream.id, sh.index, 0, 1000, u64::MAX)
                    .expect("records")
                    .len()
            })
            .sum::<usize>()
    };
    assert_eq!(records(&kv), 40);
    let trim = |cutoff: u64| {
        let stream = stream.clone();
        crate::background::write(&tenant.kv, move |txn| {
            Ok((
                Outcome::Commit,
                crate::streams::trim(txn, &stream, cutoff, 1000)?,
            ))
        })
    };

    // Nothing is past retention: the step looks at the first records only.
    kv.scanned.store(0, Ordering::Relaxed);
    let (removed, more) = trim(0).await.expect("trim");
    assert_eq!((removed, more), (0, false));
    let scanned = kv.scanned.load(Ordering::Relaxed);
    assert!(scanned <= 6 << 20, "{scanned} bytes read to trim nothing");

    // Everything is: each step removes a bounded part and says more is
    // left, until none is.
    let mut steps = 0;
    loop {
        kv.scanned.store(0, Ordering::Relaxed);
        let (removed, more) = trim(u64::MAX).await.expect("trim");
        let scanned = kv.scanned.load(Ordering::Relaxed);
        assert!(scanned <= 6 << 20, "{scanned} bytes read to trim {removed}");
        steps += 1;
        if !more {
            break;
        }
        assert!(removed > 0 && steps < 40, "step {steps} removed {removed}");
    }
    assert!(steps > 1, "{steps} steps");
    assert_eq!(records(&kv), 0);
}

/// A local index that projects only keys, queried for every attribute:
/// each entry's item is fetched from the table, and the page stops once the
/// entries and the items fetched pass 1 MB, as a page of the table would.
/// It stopped on the entries alone: 30 items of 380 KB came back in one
/// page, and a partition of them could make a page of gigabytes (a 1 MB
/// page holds some 35,000 entries of a few dozen bytes).
#[tokio::test]
async fn a_query_fetching_from_the_table_stops_at_about_a_megabyte() {
    let tenant = tenant_over(Arc::new(CountingKv::default()));
    call!(&tenant, create_table, {
        "TableName": "lll",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "x", "AttributeType": "S"}
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ],
        "LocalSecondaryIndexes": [{
            "IndexName": "byx",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "x", "KeyType": "RANGE"}
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"}
        }],
        "BillingMode": "PAY_PER_REQUEST"
    });
    for i in 0..30 {
        let big = "z".repeat(LARGE);
        call!(&tenant, put_item, {
            "TableName": "lll",
            "Item": {
                "pk": {"S": "p"},
                "sk": {"S": (format!("{i:03}"))},
                "x": {"S": (format!("{:03}", 29 - i))},
                "big": {"S": big}
            }
        });
    }
    let mut found = Vec::new();
    let mut start = Value::Null;
    loop {
        let mut request = json!({
            "TableName": "lll",
            "IndexName": "byx",
            "Select": "ALL_ATTRIBUTES",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}}
        });
        if !start.is_null() {
            request["ExclusiveStartKey"] = start;
        }
        let page = call!(&tenant, query, request);
        let items = page["Items"].as_array().expect("Items");
        // Three make a page; a page that ends at the last item leaves an
        // empty one after it, as DynamoDB's may.
        assert!(items.len() <= 3, "{} items", items.len());
        assert!(
            !items.is_empty() || page.get("LastEvaluatedKey").is_none(),
            "an empty page before the end"
        );
        for item in items {
            assert_eq!(item["big"]["S"].as_str().map(str::len), Some(LARGE));
            found.push(item["x"]["S"].as_str().expect("x").to_owned());
        }
        start = page["LastEvaluatedKey"].clone();
        if start.is_null() {
            break;
        }
    }
    let expected: Vec<String> = (0..30).map(|i| format!("{i:03}")).collect();
    assert_eq!(found, expected);
}
