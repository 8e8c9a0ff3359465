//! Streams survive a crash with the table they describe: the real `openddb`
//! binary serves a table with a NEW_AND_OLD_IMAGES stream under a
//! concurrent load of puts, updates and deletes, is killed with SIGKILL,
//! restarted on the same data directory, and the whole stream is read back
//! (every shard, parents first). Records and items must agree: every
//! acknowledged write has its record, a write cut off by the kill has a
//! record exactly when the item shows it happened, replaying the records
//! from an empty table gives exactly the items the table now holds, and no
//! sequence number appears twice. Three kill/restart cycles.
//!
//! The binary cannot be told to cut small shards, but a stream keeps the
//! settings it was created with: the table is created by an in-process
//! database (shards split after 50 records) on the same directory first, so
//! the binary's stream splits and rolls over under the load.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use aws_sdk_dynamodb::Client;
use common::load::{kill_under_load, refused};
use common::{
    create_table, enable_stream, from_stream_item, get_consistent, item, n, read_stream, s,
    seq_number, Server, ServerProcess,
};
use openddb::{StorageConfig, StreamSettings};

type Item = HashMap<String, AttributeValue>;

const TABLE: &str = "StreamCrash";
const WRITERS: usize = 8;
const ITEMS_PER_WRITER: usize = 5;
const CYCLES: usize = 3;
/// Acknowledged writes to wait for before each kill (besides 300 ms of load).
const MIN_ACKED: usize = 150;

/// One change to one item, as a stream record describes it.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Insert { new: Item },
    Modify { old: Item, new: Item },
    Remove { old: Item },
}

fn change(old: Option<Item>, new: Option<Item>) -> Option<Change> {
    match (old, new) {
        (None, Some(new)) => Some(Change::Insert { new }),
        (Some(old), Some(new)) => Some(Change::Modify { old, new }),
        (Some(old), None) => Some(Change::Remove { old }),
        (None, None) => None,
    }
}

/// What the writers were told about one item, across all cycles.
#[derive(Default, Clone)]
struct ItemLedger {
    /// The item after its last acknowledged (or, after a restart, found
    /// committed) write.
    current: Option<Item>,
    /// Those writes, in order.
    changes: Vec<Change>,
    /// A write sent without an answer before the kill: the item it would
    /// leave (`None`: deleted).
    pending: Option<Option<Item>>,
    next_version: u64,
}

type Ledger = Arc<Mutex<HashMap<String, ItemLedger>>>;

fn key(i: usize) -> String {
    format!("item-{i:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_records_and_items_agree_after_sigkill() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");

    // Create the table (and its stream, with small shards) in process.
    {
        let server = Server::with_stream_settings(
            StorageConfig::Directory(dir.path().to_path_buf()),
            StreamSettings {
                split_after: 50,
                max_open_shards: 4,
                ..Default::default()
            },
        )
        .await;
        let client = server.client();
        create_table(&client, TABLE, false).await;
        enable_stream(&client, TABLE, StreamViewType::NewAndOldImages).await;
        server.shutdown().await;
    }

    let mut server = ServerProcess::start(dir.path());
    let arn = server
        .client()
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTable")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("LatestStreamArn");
    let ledger: Ledger = Arc::new(Mutex::new(
        (0..WRITERS * ITEMS_PER_WRITER)
            .map(|i| (key(i), ItemLedger::default()))
            .collect(),
    ));

    for cycle in 0..CYCLES {
        let client = server.client();
        // Kill in the middle of the load: after 300 ms and enough acks.
        let (acked_before_kill, outcomes) = kill_under_load(
            server,
            cycle,
            WRITERS,
            MIN_ACKED,
            Duration::from_secs(20),
            |w, stop, acked| writer(client.clone(), cycle, w, Arc::clone(&ledger), stop, acked),
        )
        .await;
        for outcome in outcomes {
            if let Err(refused) = outcome {
                panic!("cycle {cycle}: the server refused a valid write: {refused}");
            }
        }

        server = ServerProcess::start(dir.path());
        let (committed, lost) = resolve_pending(&server.client(), &ledger, cycle).await;
        let snapshot = ledger.lock().unwrap().clone();
        let (records, shards, splits) = verify(&server, &arn, &snapshot, cycle).await;
        println!(
            "cycle {cycle}: SIGKILL after {acked_before_kill} acknowledged writes; \
             of the writes cut off, {committed} had happened and {lost} had not; \
             stream: {records} records in {shards} shards ({splits} split in two)"
        );
        if cycle == CYCLES - 1 {
            assert!(splits > 0, "the stream split under the load");
        }
    }
    server.kill();
    println!("{:.1} s", started.elapsed().as_secs_f64());
}

/// Writes until told to stop or until the server stops answering, on the
/// writer's own items (so each item has one write in flight at most): a
/// PutItem or an UpdateItem setting a new version, or a DeleteItem. Every
/// write is noted as pending before it is sent, and as a change once
/// acknowledged. A request the server answered with an error (rather than
/// vanishing under SIGKILL) is a failure.
async fn writer(
    client: Client,
    cycle: usize,
    w: usize,
    ledger: Ledger,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) -> Result<(), String> {
    let payload = "p".repeat(50 + 29 * w);
    let mut step: usize = 0;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let k = key(w + WRITERS * (step % ITEMS_PER_WRITER));
        let (before, version) = {
            let mut ledger = ledger.lock().unwrap();
            let entry = ledger.get_mut(&k).expect("known item");
            assert!(entry.pending.is_none(), "{k}: one write in flight");
            entry.next_version += 1;
            (entry.current.clone(), entry.next_version)
        };
        let op = (step / ITEMS_PER_WRITER + w) % 5;
        let (after, result) = match (op, &before) {
            (0 | 1, Some(_)) => {
                let mut after = before.clone().expect("present");
                after.insert("ver".into(), n(&version.to_string()));
                after.insert("cycle".into(), n(&cycle.to_string()));
                note_pending(&ledger, &k, Some(after.clone()));
                let result = client
                    .update_item()
                    .table_name(TABLE)
                    .set_key(Some(item([("pk", s(&k))])))
                    .update_expression("SET ver = :v, #c = :c")
                    .expression_attribute_names("#c", "cycle")
                    .expression_attribute_values(":v", n(&version.to_string()))
                    .expression_attribute_values(":c", n(&cycle.to_string()))
                    .send()
                    .await
                    .map(drop)
                    .map_err(refused);
                (Some(after), result)
            }
            (2, Some(_)) => {
                note_pending(&ledger, &k, None);
                let result = client
                    .delete_item()
                    .table_name(TABLE)
                    .set_key(Some(item([("pk", s(&k))])))
                    .send()
                    .await
                    .map(drop)
                    .map_err(refused);
                (None, result)
            }
            _ => {
                let after = item([
                    ("pk", s(&k)),
                    ("ver", n(&version.to_string())),
                    ("payload", s(&payload)),
                ]);
                note_pending(&ledger, &k, Some(after.clone()));
                let result = client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(after.clone()))
                    .send()
                    .await
                    .map(drop)
                    .map_err(refused);
                (Some(after), result)
            }
        };
        match result {
            Ok(()) => {
                let mut ledger = ledger.lock().unwrap();
                let entry = ledger.get_mut(&k).expect("known item");
                entry.pending = None;
                let old = entry.current.take();
                entry.changes.extend(change(old, after.clone()));
                entry.current = after;
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Err(Some(refused)) => return Err(refused),
            // The server is gone (killed); nothing more will be answered.
            Err(None) => return Ok(()),
        }
    }
    Ok(())
}

fn note_pending(ledger: &Ledger, k: &str, after: Option<Item>) {
    ledger
        .lock()
        .unwrap()
        .get_mut(k)
        .expect("known item")
        .pending = Some(after);
}

/// After a restart: each write cut off by the kill either happened (the
/// item is as it would have left it: it joins the item's changes) or did
/// not (the item is as before). Returns how many of each.
async fn resolve_pending(client: &Client, ledger: &Ledger, cycle: usize) -> (usize, usize) {
    let pending: Vec<(String, ItemLedger)> = ledger
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, l)| l.pending.is_some())
        .map(|(k, l)| (k.clone(), l.clone()))
        .collect();
    let (mut committed, mut lost) = (0, 0);
    for (k, entry) in pending {
        let now = get_consistent(client, TABLE, &k)
            .await
            .unwrap_or_else(|e| panic!("GetItem {k} after restart: {e:?}"));
        let after = entry.pending.clone().expect("pending");
        let mut ledger = ledger.lock().unwrap();
        let entry = ledger.get_mut(&k).expect("known item");
        entry.pending = None;
        if now == after {
            let old = entry.current.take();
            entry.changes.extend(change(old, after.clone()));
            entry.current = after;
            committed += 1;
        } else {
            assert_eq!(
                now, entry.current,
                "cycle {cycle}: {k} is neither as before nor as after its last write ({after:?})"
            );
            lost += 1;
        }
    }
    (committed, lost)
}

/// Reads the whole stream and the whole table and checks they agree with
/// each other and with the ledger. Returns the counts of records, shards
/// and shards split in two.
async fn verify(
    server: &ServerProcess,
    arn: &str,
    ledger: &HashMap<String, ItemLedger>,
    cycle: usize,
) -> (usize, usize, usize) {
    let reads = read_stream(&server.streams(), arn).await;
    let shards = reads.len();
    let mut children: HashMap<&str, usize> = HashMap::new();
    for read in &reads {
        if let Some(p) = read.shard.parent_shard_id() {
            *children.entry(p).or_default() += 1;
        }
    }
    let splits = children.values().filter(|&&c| c == 2).count();
    let mut seqs = HashSet::new();
    let mut per_item: HashMap<String, Vec<Change>> = HashMap::new();
    let mut records = 0;
    for read in &reads {
        let shard = read.shard.shard_id().unwrap_or_default();
        let mut last = None;
        for r in &read.records {
            records += 1;
            let d = r.dynamodb().expect("dynamodb");
            let seq = seq_number(d.sequence_number().expect("SequenceNumber"));
            assert!(
                seqs.insert(seq),
                "cycle {cycle}: sequence number {seq} twice"
            );
            if let Some(last) = last {
                assert!(
                    seq > last,
                    "cycle {cycle}: shard {shard}: {seq} after {last}"
                );
            }
            last = Some(seq);
            let keys = from_stream_item(d.keys().expect("Keys"));
            let pk = match keys.get("pk") {
                Some(AttributeValue::S(v)) => v.clone(),
                other => panic!("Keys.pk is {other:?}"),
            };
            let c = match (
                r.event_name().map(|e| e.as_str()),
                d.old_image().map(from_stream_item),
                d.new_image().map(from_stream_item),
            ) {
                (Some("INSERT"), None, Some(new)) => Change::Insert { new },
                (Some("MODIFY"), Some(old), Some(new)) => Change::Modify { old, new },
                (Some("REMOVE"), Some(old), None) => Change::Remove { old },
                other => panic!("cycle {cycle}: record {other:?}"),
            };
            per_item.entry(pk).or_default().push(c);
        }
    }

    // The records are exactly the acknowledged (or found committed) writes.
    for (k, entry) in ledger {
        let got = per_item.get(k).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            got.len(),
            entry.changes.len(),
            "cycle {cycle}: {k}: {} records for {} writes",
            got.len(),
            entry.changes.len()
        );
        for (at, (got, want)) in got.iter().zip(&entry.changes).enumerate() {
            assert_eq!(got, want, "cycle {cycle}: {k}: change {at}");
        }
    }
    assert!(
        per_item.keys().all(|k| ledger.contains_key(k)),
        "cycle {cycle}: records of unknown items"
    );

    // Replaying the records from an empty table gives the table.
    let mut replayed: HashMap<String, Item> = HashMap::new();
    for (k, changes) in &per_item {
        for c in changes {
            match c {
                Change::Insert { new } => {
                    assert!(
                        !replayed.contains_key(k),
                        "cycle {cycle}: {k} inserted twice"
                    );
                    replayed.insert(k.clone(), new.clone());
                }
                Change::Modify { old, new } => {
                    assert_eq!(replayed.get(k), Some(old), "cycle {cycle}: {k} OldImage");
                    replayed.insert(k.clone(), new.clone());
                }
                Change::Remove { old } => {
                    assert_eq!(replayed.remove(k).as_ref(), Some(old), "cycle {cycle}: {k}");
                }
            }
        }
    }
    let table = scan(&server.client()).await;
    assert_eq!(
        table.len(),
        replayed.len(),
        "cycle {cycle}: the table holds {} items, the stream replays to {}",
        table.len(),
        replayed.len()
    );
    for (k, it) in &table {
        assert_eq!(replayed.get(k), Some(it), "cycle {cycle}: {k}");
        assert_eq!(
            ledger.get(k).and_then(|l| l.current.as_ref()),
            Some(it),
            "cycle {cycle}: {k}"
        );
    }
    (records, shards, splits)
}

async fn scan(client: &Client) -> HashMap<String, Item> {
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan after restart");
        for it in page.items.unwrap_or_default() {
            let k = match it.get("pk") {
                Some(AttributeValue::S(v)) => v.clone(),
                other => panic!("pk is {other:?}"),
            };
            out.insert(k, it);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}
