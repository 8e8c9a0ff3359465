//! Background work survives SIGKILL: a server process is killed while a
//! global secondary index is being backfilled, while the Time to Live
//! sweeper deletes expired items, while a stream is being trimmed, and
//! while the data of a large table just deleted is being purged; restarted
//! on the same data directory, each job resumes and finishes, and what it
//! leaves agrees with the table (the index equals a rebuild from the items;
//! every item the sweeper deleted has exactly one TTL REMOVE record; the
//! stream has no gap and nothing trimmed comes back; no key of the deleted
//! table is left). Each kill waits for the job to show progress, through
//! the API or (the purge, which the API cannot show) the server's log.
//!
//! Data is loaded by an in-process database on the directory first (much
//! faster than through HTTP). The stream-trim test needs a retention
//! period of seconds, which the binary cannot be given: its server is this
//! test binary run again as a child process (`trim_child_server`), serving
//! the same library with those stream settings.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamViewType, TableDescription,
};
use aws_sdk_dynamodb::Client;
use common::load::refused;
use common::{
    attr_def, create_table, enable_stream, from_stream_item, item, key_elem, n, put_request,
    read_stream, read_stream_during_trim, s, seq_number, Rng, ServerProcess,
};
use openddb::{Database, StorageConfig, StreamSettings};
use openddb_kv::{KeyRange, Kv};
use openddb_kv_sqlite::{SqliteKv, SqliteOptions};

type Item = HashMap<String, AttributeValue>;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Runs `op` with the JSON request `body` on an in-process database.
async fn call(db: &Database, op: &str, body: serde_json::Value) -> serde_json::Value {
    let out = db
        .dispatch(db.default_context(), op, body.to_string().as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{op}: {e:?}"));
    serde_json::from_slice(&out).expect("a JSON answer")
}

/// Writes `items` (DynamoDB JSON) to `table` with BatchWriteItem, four
/// batches at a time.
async fn load(db: &Arc<Database>, table: &str, items: Vec<serde_json::Value>) {
    let batches: Vec<Vec<serde_json::Value>> = items.chunks(25).map(|c| c.to_vec()).collect();
    let queue = Arc::new(Mutex::new(batches));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (db, queue, table) = (db.clone(), queue.clone(), table.to_owned());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(batch) = queue.lock().unwrap().pop() else {
                    return;
                };
                let requests: Vec<serde_json::Value> = batch
                    .into_iter()
                    .map(|i| serde_json::json!({"PutRequest": {"Item": i}}))
                    .collect();
                let out = call(
                    &db,
                    "BatchWriteItem",
                    serde_json::json!({"RequestItems": {&table: requests}}),
                )
                .await;
                let unprocessed = out.get("UnprocessedItems").and_then(|u| u.as_object());
                assert!(unprocessed.is_none_or(|u| u.is_empty()), "{out}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("load task");
    }
}

/// Prepares `dir` with an in-process database: `setup` creates and loads
/// tables. The database is closed before this returns.
async fn prepare<F, Fut>(dir: &Path, setup: F)
where
    F: FnOnce(Arc<Database>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = Database::open(StorageConfig::Directory(dir.to_path_buf()))
        .expect("open the database")
        // Nothing expires while loading.
        .with_ttl_sweep_interval(Duration::from_secs(3600));
    setup(Arc::new(db)).await;
}

async fn describe(client: &Client, table: &str) -> TableDescription {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTable {table}: {e:?}"))
        .table
        .expect("Table")
}

/// Time to Live on `table`, by its attribute `exp`, on an in-process
/// database.
async fn enable_ttl(db: &Database, table: &str) {
    call(
        db,
        "UpdateTimeToLive",
        serde_json::json!({
            "TableName": table,
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}
        }),
    )
    .await;
}

/// The ARN of `table`'s stream.
async fn stream_arn(client: &Client, table: &str) -> String {
    describe(client, table)
        .await
        .latest_stream_arn
        .expect("LatestStreamArn")
}

/// A stream record's sequence number.
fn record_seq(r: &aws_sdk_dynamodbstreams::types::Record) -> u128 {
    seq_number(r.dynamodb().and_then(|d| d.sequence_number()).expect("seq"))
}

/// Every item of a table or of one of its indexes.
async fn scan_all(client: &Client, table: &str, index: Option<&str>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("Scan {table} {index:?}: {e:?}"));
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

fn text(it: &Item, name: &str) -> String {
    match it.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{name}: {other:?} in {it:?}"),
    }
}

/// Polls `probe` every 10 ms until it returns `Some`, up to `within`.
async fn until<T, Fut>(what: &str, within: Duration, mut probe: impl FnMut() -> Fut) -> T
where
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// --- A global secondary index backfill ------------------------------------

const BACKFILL_TABLE: &str = "Backfill";
const BACKFILL_ITEMS: usize = 6000;

/// The `g` attribute item `i` starts with: mostly a string, some numbers
/// (index key violations for a string index) and some none (sparse).
fn initial_g(i: usize) -> Option<serde_json::Value> {
    if i.is_multiple_of(13) {
        None
    } else if i.is_multiple_of(97) {
        Some(serde_json::json!({"N": i.to_string()}))
    } else {
        Some(serde_json::json!({"S": format!("g{}", i % 50)}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_midway_finishes_after_restart_and_equals_a_rebuild() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path(), |db| async move {
        call(
            &db,
            "CreateTable",
            serde_json::json!({
                "TableName": BACKFILL_TABLE,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        )
        .await;
        let items = (0..BACKFILL_ITEMS)
            .map(|i| {
                let mut it = serde_json::json!({
                    "pk": {"S": format!("k{i:05}")},
                    "v": {"N": i.to_string()}
                });
                if let Some(g) = initial_g(i) {
                    it["g"] = g;
                }
                it
            })
            .collect();
        load(&db, BACKFILL_TABLE, items).await;
    })
    .await;

    let server = ServerProcess::start_with(dir.path(), &["--log-level", "warn"]);
    let client = server.client();
    client
        .update_table()
        .table_name(BACKFILL_TABLE)
        .attribute_definitions(attr_def("g", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by_g")
                        .key_schema(key_elem("g", KeyType::Hash))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("index"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable creates the index");

    // Writes race the backfill: new string keys, keys removed, items
    // deleted, items added.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| tokio::spawn(backfill_writer(client.clone(), w, stop.clone())))
        .collect();

    // Kill once the index shows the backfill under way, not finished.
    let seen = until(
        "the backfill shows progress",
        Duration::from_secs(120),
        || {
            let client = client.clone();
            async move {
                let d = describe(&client, BACKFILL_TABLE).await;
                let gsi = d.global_secondary_indexes()[0].clone();
                assert_eq!(
                    gsi.index_status().map(|s| s.as_str()),
                    Some("CREATING"),
                    "the backfill ended before it could be seen under way"
                );
                let count = gsi.item_count().unwrap_or(0);
                (count >= 500).then_some(count)
            }
        },
    )
    .await;
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer task");
    }

    let server = ServerProcess::start_with(dir.path(), &["--log-level", "warn"]);
    let client = server.client();
    let d = until("the index becomes ACTIVE", Duration::from_secs(120), || {
        let client = client.clone();
        async move {
            let d = describe(&client, BACKFILL_TABLE).await;
            (d.global_secondary_indexes()[0]
                .index_status()
                .map(|s| s.as_str())
                == Some("ACTIVE"))
            .then_some(d)
        }
    })
    .await;

    // The index is exactly what a rebuild from the items would give.
    let base = scan_all(&client, BACKFILL_TABLE, None).await;
    let expected: BTreeMap<String, Item> = base
        .iter()
        .filter(|it| matches!(it.get("g"), Some(AttributeValue::S(_))))
        .map(|it| (text(it, "pk"), it.clone()))
        .collect();
    let indexed = scan_all(&client, BACKFILL_TABLE, Some("by_g")).await;
    let actual: BTreeMap<String, Item> = indexed
        .iter()
        .map(|it| (text(it, "pk"), it.clone()))
        .collect();
    assert_eq!(indexed.len(), actual.len(), "an item is in the index twice");
    assert_eq!(actual, expected);
    let gsi = &d.global_secondary_indexes()[0];
    assert_eq!(gsi.item_count(), Some(expected.len() as i64));
    assert_eq!(d.item_count(), Some(base.len() as i64));
    println!(
        "killed with {seen} index entries; after restart {} of {} items indexed",
        expected.len(),
        base.len()
    );
    server.kill();
}

/// Changes random items until stopped or the server goes; a write the
/// server refuses fails the test.
async fn backfill_writer(client: Client, w: u64, stop: Arc<AtomicBool>) {
    let mut rng = Rng::new(w + 7);
    let mut fresh = 0;
    while !stop.load(Ordering::SeqCst) {
        let k = format!("k{:05}", rng.below(BACKFILL_ITEMS as u64));
        let result = match rng.below(4) {
            0 => client
                .put_item()
                .table_name(BACKFILL_TABLE)
                .set_item(Some(item([
                    ("pk", s(&k)),
                    ("g", s(&format!("w{}", rng.below(9)))),
                    ("v", n("-1")),
                ])))
                .send()
                .await
                .map(drop)
                .map_err(refused),
            1 => client
                .update_item()
                .table_name(BACKFILL_TABLE)
                .key("pk", s(&k))
                .update_expression("REMOVE g")
                .send()
                .await
                .map(drop)
                .map_err(refused),
            2 => client
                .delete_item()
                .table_name(BACKFILL_TABLE)
                .key("pk", s(&k))
                .send()
                .await
                .map(drop)
                .map_err(refused),
            _ => {
                fresh += 1;
                client
                    .put_item()
                    .table_name(BACKFILL_TABLE)
                    .set_item(Some(item([
                        ("pk", s(&format!("new-{w}-{fresh}"))),
                        ("g", s("fresh")),
                    ])))
                    .send()
                    .await
                    .map(drop)
                    .map_err(refused)
            }
        };
        match result {
            Ok(()) => {}
            Err(Some(refused)) => panic!("the server refused a valid write: {refused}"),
            // The server is gone (killed).
            Err(None) => return,
        }
    }
}

// --- The Time to Live sweep -------------------------------------------------

const TTL_TABLE: &str = "Expiring";
const TTL_ITEMS: usize = 3000;

fn expired(i: usize) -> bool {
    !i.is_multiple_of(3)
}

/// Expired items a client tries to keep by giving them a later expiry.
fn rescued(i: usize) -> bool {
    expired(i) && i % 10 == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_killed_midway_loses_and_resurrects_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let now = now_secs();
    let later = now + 7200;
    prepare(dir.path(), |db| async move {
        call(
            &db,
            "CreateTable",
            serde_json::json!({
                "TableName": TTL_TABLE,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            }),
        )
        .await;
        enable_ttl(&db, TTL_TABLE).await;
        let items = (0..TTL_ITEMS)
            .map(|i| {
                let exp = if expired(i) { now - 1000 } else { later };
                serde_json::json!({
                    "pk": {"S": format!("k{i:05}")},
                    "v": {"N": i.to_string()},
                    "exp": {"N": exp.to_string()}
                })
            })
            .collect();
        load(&db, TTL_TABLE, items).await;
    })
    .await;

    let args = ["--log-level", "warn", "--ttl-sweep-interval", "0.2"];
    let server = ServerProcess::start_with(dir.path(), &args);
    let client = server.client();
    let arn = stream_arn(&client, TTL_TABLE).await;

    // A client races the sweeper for some expired items.
    let outcomes: Arc<Mutex<HashMap<usize, Rescue>>> = Arc::default();
    let rescuer = tokio::spawn(rescue(client.clone(), later + 1, outcomes.clone()));

    let all_expired = (0..TTL_ITEMS).filter(|i| expired(*i)).count() as i64;
    let total = TTL_ITEMS as i64;
    let seen = until("the sweep shows progress", Duration::from_secs(120), || {
        let client = client.clone();
        async move {
            let count = describe(&client, TTL_TABLE).await.item_count().unwrap_or(0);
            assert!(
                count > total - all_expired + all_expired / 4,
                "the sweep went too far ({count} items left) before it could be seen under way"
            );
            (count <= total - 200).then_some(count)
        }
    })
    .await;
    server.kill();
    rescuer.await.expect("rescuer task");

    let server = ServerProcess::start_with(dir.path(), &args);
    let client = server.client();
    let items = until(
        "every expired item is gone",
        Duration::from_secs(120),
        || {
            let client = client.clone();
            async move {
                let items = scan_all(&client, TTL_TABLE, None).await;
                let now = now_secs();
                items
                    .iter()
                    .all(|it| text(it, "exp").parse::<u64>().expect("exp") > now)
                    .then_some(items)
            }
        },
    )
    .await;
    let present: HashMap<String, Item> =
        items.into_iter().map(|it| (text(&it, "pk"), it)).collect();
    let outcomes = outcomes.lock().unwrap().clone();
    for i in 0..TTL_ITEMS {
        let k = format!("k{i:05}");
        let found = present.get(&k);
        match (expired(i), outcomes.get(&i)) {
            (false, _) => {
                let it = found.unwrap_or_else(|| panic!("{k}: unexpired item lost"));
                assert_eq!(text(it, "exp"), later.to_string(), "{k}");
            }
            (true, Some(Rescue::Kept)) => {
                let it = found.unwrap_or_else(|| panic!("{k}: acknowledged rescue lost"));
                assert_eq!(text(it, "exp"), (later + 1).to_string(), "{k}");
            }
            (true, Some(Rescue::Unknown)) => {
                if let Some(it) = found {
                    assert_eq!(text(it, "exp"), (later + 1).to_string(), "{k}");
                }
            }
            (true, Some(Rescue::TooLate) | None) => {
                assert!(
                    found.is_none(),
                    "{k}: an expired item is back or was never deleted"
                );
            }
        }
    }

    // The stream agrees: each deleted item has exactly one REMOVE, by the
    // TTL service, after which nothing; replaying the records gives the table.
    let streams = server.streams();
    let mut by_key: HashMap<String, Vec<aws_sdk_dynamodbstreams::types::Record>> = HashMap::new();
    let mut seqs = HashSet::new();
    for shard in read_stream(&streams, &arn).await {
        for r in shard.records {
            let d = r.dynamodb().expect("dynamodb");
            assert!(
                seqs.insert(seq_number(d.sequence_number().expect("seq"))),
                "a sequence number twice"
            );
            let keys = from_stream_item(d.keys().expect("Keys"));
            by_key.entry(text(&keys, "pk")).or_default().push(r);
        }
    }
    let mut ttl_removes = 0;
    for i in 0..TTL_ITEMS {
        let k = format!("k{i:05}");
        let records = by_key.get(&k).map(Vec::as_slice).unwrap_or_default();
        let mut image: Option<Item> = None;
        let mut removes = 0;
        for r in records {
            let d = r.dynamodb().expect("dynamodb");
            match r.event_name().map(|e| e.as_str()) {
                Some("INSERT") | Some("MODIFY") => {
                    assert_eq!(removes, 0, "{k}: a change after its deletion");
                    image = Some(from_stream_item(d.new_image().expect("NewImage")));
                }
                Some("REMOVE") => {
                    let identity = r.user_identity().expect("only the sweeper deletes");
                    assert_eq!(identity.r#type(), Some("Service"), "{k}");
                    assert_eq!(
                        identity.principal_id(),
                        Some("dynamodb.amazonaws.com"),
                        "{k}"
                    );
                    removes += 1;
                    image = None;
                }
                other => panic!("{k}: event {other:?}"),
            }
        }
        assert!(removes <= 1, "{k}: {removes} REMOVE records");
        ttl_removes += removes;
        assert_eq!(
            image.as_ref(),
            present.get(&k),
            "{k}: stream and item disagree"
        );
    }
    println!(
        "killed with {seen} of {total} items left; {ttl_removes} deleted by the sweeper in all, \
         {} kept by a client",
        outcomes
            .values()
            .filter(|o| matches!(o, Rescue::Kept))
            .count()
    );
    server.kill();
}

#[derive(Debug, Clone, Copy)]
enum Rescue {
    /// The later expiry was acknowledged.
    Kept,
    /// The item was gone already (the condition failed).
    TooLate,
    /// Sent, unanswered: the server was killed.
    Unknown,
}

/// Gives the rescued items a later expiry, if they are still there.
async fn rescue(client: Client, exp: u64, outcomes: Arc<Mutex<HashMap<usize, Rescue>>>) {
    for i in (0..TTL_ITEMS).filter(|i| rescued(*i)) {
        let result = client
            .update_item()
            .table_name(TTL_TABLE)
            .key("pk", s(&format!("k{i:05}")))
            .update_expression("SET exp = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":e", n(&exp.to_string()))
            .send()
            .await;
        let outcome = match result {
            Ok(_) => Rescue::Kept,
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Rescue::TooLate
            }
            Err(SdkError::ServiceError(e)) => panic!("a rescue was refused: {e:?}"),
            Err(_) => {
                outcomes.lock().unwrap().insert(i, Rescue::Unknown);
                return;
            }
        };
        outcomes.lock().unwrap().insert(i, outcome);
    }
}

// --- A stream trim ------------------------------------------------------------

const TRIM_TABLE: &str = "Trimmed";
const TRIM_RECORDS: usize = 6000;
const TRIM_DIR: &str = "OPENDDB_TEST_TRIM_SERVER_DIR";
const TRIM_INTERVAL: &str = "OPENDDB_TEST_TRIM_INTERVAL_MS";
/// A stream's first sequence number (engine/src/streams.rs).
const FIRST_SEQUENCE: u128 = 100_000_000_000_000_000_000;

/// Not a test: the server of `a_trim_killed_midway_leaves_a_gapless_stream`
/// when this binary is run again as its child (with `TRIM_DIR` set):
/// streams keep records for one second and are trimmed every
/// `TRIM_INTERVAL` milliseconds. Without the variable it does nothing.
#[test]
fn trim_child_server() {
    let Some(dir) = std::env::var_os(TRIM_DIR) else {
        return;
    };
    let interval: u64 = std::env::var(TRIM_INTERVAL)
        .expect("trim interval")
        .parse()
        .expect("a number of milliseconds");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let db = Database::open(StorageConfig::Directory(dir.into()))
            .expect("open the database")
            .with_stream_settings(StreamSettings {
                retention_ms: 1000,
                trim_interval_ms: interval,
                ..Default::default()
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        eprintln!(
            "openddb listening on {}",
            listener.local_addr().expect("address")
        );
        openddb::server::serve(Arc::new(db), listener, std::future::pending())
            .await
            .expect("serve");
    });
}

fn trim_server(dir: &Path, interval_ms: u64) -> ServerProcess {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "--exact",
            "trim_child_server",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(TRIM_DIR, dir)
        .env(TRIM_INTERVAL, interval_ms.to_string());
    ServerProcess::spawn(command)
}

/// The first record left in the stream's only shard, if any.
async fn first_record(streams: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Option<u128> {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let (_, shards) = common::describe_all_shards(streams, arn).await;
    assert_eq!(shards.len(), 1, "one shard");
    loop {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shards[0].shard_id().expect("ShardId"))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("GetShardIterator")
            .shard_iterator
            .expect("iterator");
        match streams
            .get_records()
            .shard_iterator(iterator)
            .limit(1)
            .send()
            .await
        {
            Ok(page) => return page.records().first().map(record_seq),
            // The trim passed the iterator's position in between: look again.
            Err(SdkError::ServiceError(e)) if e.err().is_trimmed_data_access_exception() => {}
            Err(e) => panic!("GetRecords: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trim_killed_midway_leaves_a_gapless_stream() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Trimmed every two seconds: the first trim after the load has
    // thousands of records to remove, in several transactions.
    let server = trim_server(dir.path(), 2000);
    let client = server.client();
    create_table(&client, TRIM_TABLE, false).await;
    let arn = enable_stream(&client, TRIM_TABLE, StreamViewType::KeysOnly).await;
    let streams = server.streams();
    let keys: Vec<String> = (0..TRIM_RECORDS).map(|i| format!("k{i:05}")).collect();
    let mut tasks = Vec::new();
    for chunk in keys.chunks(TRIM_RECORDS / 4) {
        let (client, chunk) = (client.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for batch in chunk.chunks(25) {
                let requests = batch
                    .iter()
                    .map(|k| put_request(item([("pk", s(k))])))
                    .collect();
                let out = client
                    .batch_write_item()
                    .request_items(TRIM_TABLE, requests)
                    .send()
                    .await
                    .expect("BatchWriteItem");
                assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer task");
    }
    let first = FIRST_SEQUENCE;
    let last = first + TRIM_RECORDS as u128 - 1;
    let before = first_record(&streams, &arn).await.unwrap_or(last + 1);
    let horizon = until("the trim shows progress", Duration::from_secs(60), || {
        let streams = streams.clone();
        let arn = arn.clone();
        async move {
            let now = first_record(&streams, &arn).await.unwrap_or(last + 1);
            (now > before).then_some(now)
        }
    })
    .await;
    server.kill();

    // Restarted: the scheduler resumes the interrupted trim as soon as the
    // tenant opens, so the reader may meet it (and starts the shard again
    // from its new horizon, as a consumer does); what it reads must still
    // be gapless and newer than the trim had reached.
    let server = trim_server(dir.path(), 600_000);
    let streams = server.streams();
    let shards = read_stream_during_trim(&streams, &arn).await;
    let seqs: Vec<u128> = shards
        .iter()
        .flat_map(|s| &s.records)
        .map(record_seq)
        .collect();
    let after = seqs.first().copied().unwrap_or(last + 1);
    assert!(
        after >= horizon,
        "trimmed records came back ({after} < {horizon})"
    );
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "the stream has a gap"
    );
    if let Some(end) = seqs.last() {
        assert_eq!(*end, last, "the newest records are kept");
    }
    let distinct: HashSet<String> = shards
        .iter()
        .flat_map(|s| &s.records)
        .map(|r| {
            text(
                &from_stream_item(r.dynamodb().and_then(|d| d.keys()).expect("Keys")),
                "pk",
            )
        })
        .collect();
    assert_eq!(
        distinct.len(),
        seqs.len(),
        "one record per item written once"
    );
    println!(
        "killed with the trim at record {} of {TRIM_RECORDS}; {} records left after restart",
        horizon - first,
        seqs.len()
    );
    server.kill();

    // And the trim, picked up again, finishes: every record goes, no item.
    let server = trim_server(dir.path(), 100);
    let streams = server.streams();
    until("the trim finishes", Duration::from_secs(60), || {
        let streams = streams.clone();
        let arn = arn.clone();
        async move { first_record(&streams, &arn).await.is_none().then_some(()) }
    })
    .await;
    assert_eq!(
        describe(&server.client(), TRIM_TABLE).await.item_count(),
        Some(TRIM_RECORDS as i64)
    );
    server.kill();
}

// --- DeleteTable of a large table ---------------------------------------------

const DOOMED: &str = "Doomed";
const DOOMED_ITEMS: usize = 5000;

/// The tenant file every SigV4 client of these tests writes to.
fn tenant_file(dir: &Path) -> std::path::PathBuf {
    openddb_kv_sqlite::tenant_file(&dir.join("tenants"), "000000000000")
}

/// The key spaces that hold a table's data (engine/src/keys.rs): items and
/// index entries, statistics, item-collection sizes, Time to Live entries,
/// background-job progress.
fn table_prefixes(table_id: u64) -> Vec<Vec<u8>> {
    [0x01u8, 0x02, 0x03, 0x07, 0x08]
        .iter()
        .map(|space| {
            let mut p = vec![*space];
            p.extend_from_slice(&table_id.to_be_bytes());
            p
        })
        .collect()
}

/// A deleted table's purge record (engine/src/keys.rs).
fn purge_key(table_id: u64) -> Vec<u8> {
    let mut k = vec![0x00, b'P'];
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Opens the tenant's keyspace (no server may be running on it).
fn open_keyspace(dir: &Path) -> SqliteKv {
    SqliteKv::open(&tenant_file(dir), SqliteOptions::default()).expect("open the tenant file")
}

fn count_keys(kv: &SqliteKv, prefixes: &[Vec<u8>]) -> usize {
    let snapshot = kv.read().expect("snapshot");
    prefixes
        .iter()
        .map(|p| {
            snapshot
                .scan(&KeyRange::prefix(p), false, usize::MAX)
                .expect("scan")
                .len()
        })
        .sum()
}

/// A table's id, from its catalog entry (engine/src/keys.rs, catalog.rs).
fn table_id(kv: &SqliteKv, table: &str) -> u64 {
    let mut key = vec![0x00, b'C'];
    key.extend_from_slice(table.as_bytes());
    let entry = kv
        .read()
        .expect("snapshot")
        .get(&key)
        .expect("get")
        .expect("catalog entry");
    let meta: serde_json::Value = serde_json::from_slice(&entry).expect("JSON");
    meta["id"].as_u64().expect("table id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_cut_short_by_sigkill_finishes_after_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path(), |db| async move {
        call(
            &db,
            "CreateTable",
            serde_json::json!({
                "TableName": DOOMED,
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                    {"AttributeName": "l", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"}
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"}
                ],
                "LocalSecondaryIndexes": [{
                    "IndexName": "by_l",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "l", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}
            }),
        )
        .await;
        enable_ttl(&db, DOOMED).await;
        let items = (0..DOOMED_ITEMS)
            .map(|i| {
                serde_json::json!({
                    "pk": {"S": format!("p{}", i % 50)},
                    "sk": {"S": format!("s{i:05}")},
                    "l": {"S": format!("l{i}")},
                    "g": {"S": format!("g{}", i % 7)},
                    "exp": {"N": "4000000000"}
                })
            })
            .collect();
        load(&db, DOOMED, items).await;
    })
    .await;
    let old = table_id(&open_keyspace(dir.path()), DOOMED);

    // Purge steps are logged at debug: the kill waits for the first.
    let args = ["--log-level", "warn,openddb_engine::background=debug"];
    let mut server = ServerProcess::start_with(dir.path(), &args);
    let client = server.client();
    let arn = stream_arn(&client, DOOMED).await;
    let out = client
        .delete_table()
        .table_name(DOOMED)
        .send()
        .await
        .expect("DeleteTable");
    assert_eq!(
        out.table_description()
            .and_then(|d| d.table_status())
            .map(|s| s.as_str()),
        Some("DELETING")
    );
    // (the space: table 1 is not table 10)
    let table = format!("table_id={old} ");
    server.wait_for_log(&["purge step", &table], Duration::from_secs(60));
    server.kill();

    // The kill cut the purge short: some of the table's data is gone, the
    // rest is still there, and so is the record that says it must go.
    let total = DOOMED_ITEMS * 4;
    {
        let kv = open_keyspace(dir.path());
        let left = count_keys(&kv, &table_prefixes(old));
        assert!(left > 0, "the purge was already over");
        assert!(left < total, "the purge had not begun ({left} keys left)");
        assert_eq!(count_keys(&kv, &[purge_key(old)]), 1);
        println!("killed with {left} keys of the deleted table left");
    }

    let mut server = ServerProcess::start_with(dir.path(), &args);
    let client = server.client();
    // Gone for clients from the start, and the name can be used again.
    let tables = client.list_tables().send().await.expect("ListTables");
    assert!(tables.table_names().is_empty(), "{tables:?}");
    let err = client
        .describe_table()
        .table_name(DOOMED)
        .send()
        .await
        .expect_err("deleted");
    assert!(err.into_service_error().is_resource_not_found_exception());
    create_table(&client, DOOMED, true).await;
    assert!(scan_all(&client, DOOMED, None).await.is_empty());
    client
        .put_item()
        .table_name(DOOMED)
        .set_item(Some(item([("pk", s("p1")), ("sk", s("new"))])))
        .send()
        .await
        .expect("PutItem");
    let old_item = client
        .get_item()
        .table_name(DOOMED)
        .key("pk", s("p1"))
        .key("sk", s("s00001"))
        .send()
        .await
        .expect("GetItem");
    assert!(old_item.item.is_none(), "an item of the deleted table");

    server.wait_for_log(&["table data purged", &table], Duration::from_secs(120));
    // The deleted table's stream stays readable, every record in it.
    let streams = server.streams();
    let records: usize = read_stream(&streams, &arn)
        .await
        .iter()
        .map(|s| s.records.len())
        .sum();
    assert_eq!(records, DOOMED_ITEMS);
    server.kill();

    let kv = open_keyspace(dir.path());
    assert_eq!(
        count_keys(&kv, &table_prefixes(old)),
        0,
        "keys of the deleted table left"
    );
    assert_eq!(
        count_keys(&kv, &[purge_key(old)]),
        0,
        "the purge record is left"
    );
    let new = table_id(&kv, DOOMED);
    assert_ne!(new, old);
    assert_eq!(
        count_keys(&kv, &table_prefixes(new)[..1]),
        1,
        "the new table's item"
    );
}
