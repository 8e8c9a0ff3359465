//! What one read request takes from storage is bounded by what it may
//! answer, not by its Limit times the largest item: a storage wrapper
//! counts the bytes each read's scans return.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{DoneFn, KeyRange, KeyValue, Kv, KvError, ReadHandle, ReadTxn, WriteFn};
use openddb_kv_memory::MemoryKv;
use serde_json::{json, Value};

use crate::tenant::Tenant;
use crate::RequestContext;

/// The memory backend, counting the bytes of keys and values its read
/// snapshots' scans return.
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
        let bytes: usize = rows.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.scanned.fetch_add(bytes, Ordering::Relaxed);
        Ok(rows)
    }
}

impl Kv for CountingKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        Ok(Box::new(Counting {
            inner: self.inner.read()?,
            scanned: self.scanned.clone(),
        }))
    }

    fn write(&self, f: WriteFn, done: DoneFn) {
        self.inner.write(f, done)
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
