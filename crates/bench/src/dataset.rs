//! The tables the workloads run on, how each is created and how its items
//! are loaded: `PutItem` at high concurrency, or `BatchWriteItem` of 25
//! items where the target implements it. Two tables have a
//! NEW_AND_OLD_IMAGES stream; a target that cannot create them is reported
//! as not supporting the workloads on them, not as a failure.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinSet;

use crate::client::{Conn, Reply};
use crate::streams::{self, STREAM_SPECIFICATION};
use crate::target::Target;
use crate::wire;
use crate::workload::{push_item, push_payload, TABLE};

/// Items a query returns: the width of the sort-key window it asks for.
pub const WINDOW: u64 = 100;
/// Distinct values of the GSI's partition key `g`.
pub const GSI_VALUES: u64 = 100;
/// Name of the GSI of [`Dataset::Gsi`].
pub const GSI_NAME: &str = "by_g";
/// Items per `BatchWriteItem`, DynamoDB's maximum.
const BATCH: u64 = 25;
/// Connections loading [`Dataset::Point`].
const POINT_LOAD_CONCURRENCY: usize = 16;

/// Sizes of the data sets, from the command line.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Items of the single-item workloads' table (and their key space).
    pub items: u64,
    /// Partitions of the Query table.
    pub query_partitions: u64,
    /// Items per partition of the Query table.
    pub query_partition_items: u64,
    /// Items of the GSI table (a multiple of [`GSI_VALUES`]).
    pub gsi_items: u64,
    /// Items of the Scan table.
    pub scan_items: u64,
    /// Writes made to the `get-records` table after its stream was
    /// enabled (so records in its stream).
    pub stream_records: u64,
}

impl Shape {
    /// Keys of the `get-records` table: each is written twice, so that
    /// half of its stream's records are INSERTs (new image) and half
    /// MODIFYs (old and new images).
    pub fn record_keys(&self) -> u64 {
        self.stream_records.div_ceil(2)
    }

    /// Sort-key windows of [`WINDOW`] items under one GSI partition.
    pub fn gsi_windows_per_value(&self) -> u64 {
        self.gsi_items / GSI_VALUES - WINDOW + 1
    }
}

/// How the items of a data set are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadWith {
    /// `BatchWriteItem` when the target implements it, else `PutItem`.
    Auto,
    /// `PutItem` only.
    Put,
    /// `BatchWriteItem` only.
    Batch,
}

impl std::str::FromStr for LoadWith {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(LoadWith::Auto),
            "put" => Ok(LoadWith::Put),
            "batch" => Ok(LoadWith::Batch),
            _ => Err(format!("`{s}`: expected auto, put or batch")),
        }
    }
}

/// Loading options.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub with: LoadWith,
    /// Connections (requests in flight) when loading with `PutItem`.
    pub put_concurrency: usize,
    /// Connections when loading with `BatchWriteItem`.
    pub batch_concurrency: usize,
}

/// One table and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dataset {
    /// `bench` (pk S): `k000001234` items for the single-item workloads.
    Point,
    /// `bench_query` (pk S, sk S): partitions `p00000`… of
    /// `query_partition_items` items with sort keys `s000000000`….
    Query,
    /// `bench_gsi` (pk S) with GSI `by_g` (g S, gs S, projection ALL):
    /// item n has `g = g{n % 100}` and `gs = s{n / 100}`.
    Gsi,
    /// `bench_scan` (pk S): the single-item workloads' items, `scan_items`
    /// of them.
    Scan,
    /// `bench_streamed`: [`Dataset::Point`] with a NEW_AND_OLD_IMAGES
    /// stream, loaded the same way, for the streamed writes.
    Streamed,
    /// `bench_records` (pk S) with a NEW_AND_OLD_IMAGES stream, onto which
    /// `stream_records` puts (PutItem ×16) were made after the stream was
    /// enabled: put n writes key `k{n mod record_keys}` with `t = p{n}`, so
    /// every put changes its item and writes one record.
    Records,
}

impl Dataset {
    /// Table name.
    pub fn table(self) -> &'static str {
        match self {
            Dataset::Point => TABLE,
            Dataset::Query => "bench_query",
            Dataset::Gsi => "bench_gsi",
            Dataset::Scan => "bench_scan",
            Dataset::Streamed => "bench_streamed",
            Dataset::Records => "bench_records",
        }
    }

    /// Whether the table is prepared only after the cells on the other
    /// tables have run (like the Scan table): the `get-records` table's
    /// records must not weigh on the streamed writes, and on Dynoxide
    /// every streamed write costs more the more records any stream on the
    /// server holds.
    pub fn loaded_late(self) -> bool {
        self == Dataset::Records
    }

    /// Whether the table has a stream.
    pub fn streamed(self) -> bool {
        matches!(self, Dataset::Streamed | Dataset::Records)
    }

    /// Number of items.
    pub fn items(self, shape: &Shape) -> u64 {
        match self {
            Dataset::Point | Dataset::Streamed => shape.items,
            Dataset::Query => shape.query_partitions * shape.query_partition_items,
            Dataset::Gsi => shape.gsi_items,
            Dataset::Scan => shape.scan_items,
            Dataset::Records => shape.stream_records,
        }
    }

    /// Partition key value of Query-table partition `n`.
    pub fn partition_key(n: u64) -> String {
        format!("p{n:05}")
    }

    /// Sort key value number `n` (Query table `sk`, GSI `gs`).
    pub fn sort_key(n: u64) -> String {
        format!("s{n:09}")
    }

    /// GSI partition key value number `n`.
    pub fn gsi_value(n: u64) -> String {
        format!("g{n:03}")
    }

    fn create_body(self) -> String {
        let table = self.table();
        match self {
            Dataset::Point | Dataset::Scan => format!(
                r#"{{"TableName":"{table}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
            ),
            Dataset::Streamed | Dataset::Records => format!(
                r#"{{"TableName":"{table}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST",{STREAM_SPECIFICATION}}}"#
            ),
            Dataset::Query => format!(
                r#"{{"TableName":"{table}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
            ),
            Dataset::Gsi => format!(
                r#"{{"TableName":"{table}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"g","AttributeType":"S"}},{{"AttributeName":"gs","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"GlobalSecondaryIndexes":[{{"IndexName":"{GSI_NAME}","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}},{{"AttributeName":"gs","KeyType":"RANGE"}}],"Projection":{{"ProjectionType":"ALL"}}}}],"BillingMode":"PAY_PER_REQUEST"}}"#
            ),
        }
    }

    /// Item number `n` as JSON (~200 bytes in DynamoDB's size accounting;
    /// ~215 for the GSI table, which carries `g` and `gs` as well).
    pub fn push_item(self, s: &mut String, n: u64, shape: &Shape) {
        match self {
            Dataset::Point | Dataset::Scan | Dataset::Streamed => push_item(s, n, 0),
            Dataset::Records => push_item(s, n % shape.record_keys(), n),
            Dataset::Query => {
                let per = shape.query_partition_items;
                let _ = write!(
                    s,
                    r#"{{"pk":{{"S":"{}"}},"sk":{{"S":"{}"}}"#,
                    Dataset::partition_key(n / per),
                    Dataset::sort_key(n % per)
                );
                push_payload(s, 0);
                s.push('}');
            }
            Dataset::Gsi => {
                let _ = write!(
                    s,
                    r#"{{"pk":{{"S":"k{n:09}"}},"g":{{"S":"{}"}},"gs":{{"S":"{}"}}"#,
                    Dataset::gsi_value(n % GSI_VALUES),
                    Dataset::sort_key(n / GSI_VALUES)
                );
                push_payload(s, 0);
                s.push('}');
            }
        }
    }

    fn put_body(self, n: u64, shape: &Shape) -> Bytes {
        let mut s = String::with_capacity(400);
        let _ = write!(s, r#"{{"TableName":"{}","Item":"#, self.table());
        self.push_item(&mut s, n, shape);
        s.push('}');
        Bytes::from(s)
    }

    fn batch_body(self, from: u64, to: u64, shape: &Shape) -> Bytes {
        let mut s = String::with_capacity(400 * (to - from) as usize + 64);
        let _ = write!(s, r#"{{"RequestItems":{{"{}":["#, self.table());
        for n in from..to {
            if n > from {
                s.push(',');
            }
            s.push_str(r#"{"PutRequest":{"Item":"#);
            self.push_item(&mut s, n, shape);
            s.push_str("}}");
        }
        s.push_str("]}}");
        Bytes::from(s)
    }
}

/// How a table was loaded, for the report.
pub struct LoadReport {
    pub target: String,
    pub table: &'static str,
    pub items: u64,
    /// e.g. `PutItem ×64` or `BatchWriteItem(25) ×4`.
    pub method: String,
    pub elapsed: Duration,
    /// What was found after loading, e.g. `; stream: 20000 records in 1
    /// shard` (empty for tables without a stream).
    pub note: String,
}

/// Why a table could not be prepared.
#[derive(Debug)]
pub enum PrepareError {
    /// The target lacks what the table needs (a stream, an operation of
    /// the Streams API): its workloads are reported as unsupported.
    Unsupported(String),
    /// Anything else: the run reports a failure.
    Failed(String),
}

impl From<String> for PrepareError {
    fn from(e: String) -> Self {
        PrepareError::Failed(e)
    }
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Unsupported(why) => write!(f, "unsupported: {why}"),
            PrepareError::Failed(e) => f.write_str(e),
        }
    }
}

impl LoadReport {
    pub fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn fail(target: &Target, what: &str, reply: &Reply) -> String {
    format!(
        "{}: {what} answered {}",
        target.name,
        wire::reply_text(reply)
    )
}

/// Deletes `dataset`'s table if it exists, creates it fresh (PAY_PER_REQUEST),
/// waits until it and its indexes are ACTIVE and loads its items. A
/// streamed table that the target refuses to create, or creates without a
/// stream, is [`PrepareError::Unsupported`]; so is a Streams API operation
/// the target does not know when the `get-records` table's stream is read
/// through after loading.
pub async fn prepare(
    target: &Target,
    dataset: Dataset,
    shape: &Shape,
    plan: &LoadPlan,
) -> Result<LoadReport, PrepareError> {
    let table = dataset.table();
    let mut conn = Conn::open(target).await?;
    let name = format!(r#"{{"TableName":"{table}"}}"#);
    let deleted = conn.call("DeleteTable", Bytes::from(name)).await?;
    if deleted.ok() {
        wait_for(
            target,
            &mut conn,
            table,
            |r| !r.ok(),
            "the old table to disappear",
        )
        .await?;
    } else if !deleted.error_kind().contains("ResourceNotFoundException") {
        return Err(fail(target, "DeleteTable", &deleted).into());
    }
    let created = conn
        .call("CreateTable", Bytes::from(dataset.create_body()))
        .await?;
    if !created.ok() {
        if dataset.streamed() {
            return Err(PrepareError::Unsupported(format!(
                "CreateTable with a StreamSpecification answered {}",
                wire::reply_text(&created)
            )));
        }
        return Err(fail(target, "CreateTable", &created).into());
    }
    wait_for(
        target,
        &mut conn,
        table,
        all_active,
        "the table to become ACTIVE",
    )
    .await?;
    if dataset.streamed() {
        streams::stream_arn(&mut conn, target, table).await?;
    }
    let mut report = load(target, dataset, shape, plan, &mut conn).await?;
    if dataset == Dataset::Records {
        // A fresh connection: this one sat idle through the load, and
        // DynamoDB Local closes idle connections.
        let mut conn = Conn::open(target).await?;
        let contents = streams::read_through(&mut conn, target, table).await?;
        report.note = format!(
            "; stream: {} records in {} shard{}",
            contents.records,
            contents.shards,
            if contents.shards == 1 { "" } else { "s" }
        );
        if contents.records != report.items {
            eprintln!(
                "openddb-bench: {}: the stream of {table} holds {} records after {} puts",
                target.name, contents.records, report.items
            );
        }
    }
    Ok(report)
}

/// The table and all its GSIs are ACTIVE.
pub(crate) fn all_active(reply: &Reply) -> bool {
    let v = reply.json();
    reply.ok()
        && v["Table"]["TableStatus"] == "ACTIVE"
        && v["Table"]["GlobalSecondaryIndexes"]
            .as_array()
            .is_none_or(|gsis| gsis.iter().all(|g| g["IndexStatus"] == "ACTIVE"))
}

/// Polls `DescribeTable` of `table` every 20 ms (as an SDK waiter does, only
/// faster) until `done` holds for its answer; returns how many
/// `DescribeTable` requests that took.
pub(crate) async fn wait_for(
    target: &Target,
    conn: &mut Conn,
    table: &str,
    done: impl Fn(&Reply) -> bool,
    what: &str,
) -> Result<u32, String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut polls = 0u32;
    loop {
        let body = format!(r#"{{"TableName":"{table}"}}"#);
        let reply = conn.call("DescribeTable", Bytes::from(body)).await?;
        polls += 1;
        if done(&reply) {
            return Ok(polls);
        }
        if Instant::now() > deadline {
            return Err(format!("{}: timed out waiting for {what}", target.name));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn load(
    target: &Target,
    dataset: Dataset,
    shape: &Shape,
    plan: &LoadPlan,
    conn: &mut Conn,
) -> Result<LoadReport, String> {
    let items = dataset.items(shape);
    // The single-item workloads' table is loaded as it always was (PutItem
    // over 16 connections), so that their figures compare with past runs;
    // its streamed twin likewise, so that the two compare with each other,
    // and the `get-records` table too: it is defined by the puts made to
    // it (and DynamoDB Local on disk takes BatchWriteItem on a streamed
    // table at a few dozen items/s, PutItem at hundreds).
    let (with, put_concurrency) = match dataset {
        Dataset::Point | Dataset::Streamed | Dataset::Records => {
            (LoadWith::Put, POINT_LOAD_CONCURRENCY)
        }
        _ => (plan.with, plan.put_concurrency),
    };
    let started = Instant::now();
    // With `auto`, the first batch probes for BatchWriteItem; when it is
    // accepted whole, the load goes on from the second instead of writing
    // the same items twice.
    let (batch, first) = match with {
        LoadWith::Put => (false, 0),
        LoadWith::Batch => (true, 0),
        LoadWith::Auto => {
            let reply = conn
                .call(
                    "BatchWriteItem",
                    dataset.batch_body(0, items.min(BATCH), shape),
                )
                .await?;
            if reply.ok() && unprocessed_none(&reply) {
                (true, 1)
            } else if reply.ok() {
                (true, 0)
            } else if reply.error_kind().contains("UnknownOperationException") {
                (false, 0)
            } else {
                return Err(fail(target, "BatchWriteItem (probe)", &reply));
            }
        }
    };
    let (connections, method) = if batch {
        let c = plan.batch_concurrency;
        (c, format!("BatchWriteItem({BATCH}) ×{c}"))
    } else {
        (put_concurrency, format!("PutItem ×{put_concurrency}"))
    };
    eprintln!(
        "openddb-bench: {}: loading {items} items into {} with {method}",
        target.name,
        dataset.table()
    );
    // Requests are numbered; worker w sends first + w, first + w +
    // connections, ...
    let requests = if batch { items.div_ceil(BATCH) } else { items };
    let done = Arc::new(AtomicU64::new(first));
    let mut set = JoinSet::new();
    for worker in 0..connections as u64 {
        let target = target.clone();
        let shape = shape.clone();
        let done = done.clone();
        set.spawn(async move {
            let mut conn = Conn::open(&target).await?;
            let mut request = first + worker;
            while request < requests {
                if batch {
                    let from = request * BATCH;
                    let body = dataset.batch_body(from, (from + BATCH).min(items), &shape);
                    write_batch(&target, &mut conn, body).await?;
                } else {
                    let reply = conn
                        .call("PutItem", dataset.put_body(request, &shape))
                        .await?;
                    if !reply.ok() {
                        return Err(fail(&target, "PutItem (load)", &reply));
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
                request += connections as u64;
            }
            Ok::<(), String>(())
        });
    }
    let progress = {
        let done = done.clone();
        let name = target.name.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            tick.tick().await;
            loop {
                tick.tick().await;
                let n = done.load(Ordering::Relaxed);
                eprintln!(
                    "openddb-bench: {name}: {:.1} % loaded after {:.0} s",
                    100.0 * n as f64 / requests as f64,
                    started.elapsed().as_secs_f64()
                );
            }
        })
    };
    let mut outcome = Ok(());
    while let Some(joined) = set.join_next().await {
        let result = joined
            .map_err(|e| format!("load task: {e}"))
            .and_then(|r| r);
        if let (Err(e), Ok(())) = (result, &outcome) {
            outcome = Err(e);
            set.abort_all();
        }
    }
    progress.abort();
    outcome?;
    Ok(LoadReport {
        target: target.name.clone(),
        table: dataset.table(),
        items,
        method,
        elapsed: started.elapsed(),
        note: String::new(),
    })
}

/// A BatchWriteItem answer that left nothing unprocessed.
fn unprocessed_none(reply: &Reply) -> bool {
    wire::find(&reply.body, b"\"UnprocessedItems\":{}").is_some()
        || reply.json()["UnprocessedItems"]
            .as_object()
            .is_some_and(|m| m.is_empty())
}

/// Sends one `BatchWriteItem`, then its `UnprocessedItems` until none are
/// left (with a short pause between attempts, as DynamoDB asks).
pub(crate) async fn write_batch(
    target: &Target,
    conn: &mut Conn,
    body: Bytes,
) -> Result<(), String> {
    let mut body = body;
    for attempt in 0..200u32 {
        let reply = conn.call("BatchWriteItem", body).await?;
        if !reply.ok() {
            return Err(fail(target, "BatchWriteItem (load)", &reply));
        }
        if wire::find(&reply.body, b"\"UnprocessedItems\":{}").is_some() {
            return Ok(());
        }
        let v = reply.json();
        let unprocessed = &v["UnprocessedItems"];
        match unprocessed.as_object() {
            None => return Ok(()),
            Some(tables) if tables.is_empty() => return Ok(()),
            Some(_) => {}
        }
        body = Bytes::from(format!(r#"{{"RequestItems":{unprocessed}}}"#));
        tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt.min(20) + 1))).await;
    }
    Err(format!(
        "{}: BatchWriteItem kept answering UnprocessedItems",
        target.name
    ))
}

/// The size of `item` (DynamoDB JSON of string values) as DynamoDB counts
/// it: name lengths + value lengths.
#[cfg(test)]
pub fn item_size(item: &serde_json::Value) -> usize {
    item.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            k.len()
                + v.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .len()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            items: 10,
            query_partitions: 2,
            query_partition_items: 10_000,
            gsi_items: 100_000,
            scan_items: 1_000,
            stream_records: 100,
        }
    }

    #[test]
    fn items_are_json_of_about_200_bytes() {
        let shape = shape();
        for d in [
            Dataset::Point,
            Dataset::Query,
            Dataset::Gsi,
            Dataset::Scan,
            Dataset::Streamed,
            Dataset::Records,
        ] {
            let mut s = String::new();
            d.push_item(&mut s, 12_345, &shape);
            let item: serde_json::Value = serde_json::from_str(&s).unwrap();
            assert!(
                (195..=220).contains(&item_size(&item)),
                "{d:?}: {}",
                item_size(&item)
            );
            let body: serde_json::Value =
                serde_json::from_slice(&d.batch_body(0, 25, &shape)).unwrap();
            assert_eq!(
                body["RequestItems"][d.table()].as_array().unwrap().len(),
                25
            );
            let _: serde_json::Value = serde_json::from_str(&d.create_body()).unwrap();
        }
        let mut s = String::new();
        Dataset::Query.push_item(&mut s, 10_001, &shape);
        assert!(
            s.starts_with(r#"{"pk":{"S":"p00001"},"sk":{"S":"s000000001"}"#),
            "{s}"
        );
        let mut s = String::new();
        Dataset::Gsi.push_item(&mut s, 1_234, &shape);
        assert!(
            s.contains(r#""g":{"S":"g034"},"gs":{"S":"s000000012"}"#),
            "{s}"
        );
    }

    #[test]
    fn streamed_tables() {
        let shape = shape();
        for d in [Dataset::Streamed, Dataset::Records] {
            assert!(d.streamed());
            let v: serde_json::Value = serde_json::from_str(&d.create_body()).unwrap();
            assert_eq!(v["StreamSpecification"]["StreamEnabled"], true);
            assert_eq!(
                v["StreamSpecification"]["StreamViewType"],
                "NEW_AND_OLD_IMAGES"
            );
            // The same key schema as the point table.
            let plain: serde_json::Value =
                serde_json::from_str(&Dataset::Point.create_body()).unwrap();
            assert_eq!(v["KeySchema"], plain["KeySchema"]);
        }
        assert!(!Dataset::Point.streamed());
        // Put n and put n + record_keys write the same key, with different
        // values: one INSERT and one MODIFY record.
        assert_eq!(shape.record_keys(), 50);
        let item = |n| {
            let mut s = String::new();
            Dataset::Records.push_item(&mut s, n, &shape);
            serde_json::from_str::<serde_json::Value>(&s).unwrap()
        };
        assert_eq!(item(7)["pk"], item(57)["pk"]);
        assert_ne!(item(7)["t"], item(57)["t"]);
        assert_ne!(item(7)["pk"], item(8)["pk"]);
        // A batch of 25 consecutive puts has 25 distinct keys.
        let body: serde_json::Value =
            serde_json::from_slice(&Dataset::Records.batch_body(25, 50, &shape)).unwrap();
        let mut keys: Vec<String> = body["RequestItems"]["bench_records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["PutRequest"]["Item"]["pk"]["S"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 25);
    }
}
