//! A KCL-style consumer of DynamoDB Streams against a busy table: shards
//! split after 50 records (at most 4 open), 8 writers put, update and
//! delete ~40 items for a few seconds, and a consumer follows the shard
//! lineage the way the Kinesis Client Library does — a shard is read only
//! once its parent has been read to its end (no `NextShardIterator`), open
//! shards are polled — and collects every record. After the writers stop
//! the consumer drains what is left; the stream is then disabled and the
//! consumer reads every shard to its end.
//!
//! Every acknowledged change must arrive exactly once, each item's changes
//! in the order they were acknowledged, with images equal to what was
//! written; sequence numbers strictly increase in each shard; and the
//! stream must have split (a shard with two children, several open at once).
//! In memory and on disk.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, StreamSpecification, StreamViewType};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams as ds;
use common::{
    create_table, describe_all_shards, enable_stream, from_stream_item, item, n, s, seq_number,
    Server,
};
use ds::types::{ShardIteratorType, StreamStatus};
use openddb::{StorageConfig, StreamSettings};
use tokio::sync::Mutex;

type Item = HashMap<String, AttributeValue>;

const TABLE: &str = "Consumed";
const WRITERS: usize = 8;
const ITEMS: usize = 40;
const WRITE_FOR: Duration = Duration::from_secs(4);
const SPLIT_AFTER: u64 = 50;
const MAX_OPEN_SHARDS: usize = 4;

fn settings() -> StreamSettings {
    StreamSettings {
        split_after: SPLIT_AFTER,
        max_open_shards: MAX_OPEN_SHARDS,
        ..Default::default()
    }
}

/// One change to one item, as a stream record describes it.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Insert { new: Item },
    Modify { old: Item, new: Item },
    Remove { old: Item },
}

/// An item as the writers know it (they take its lock around each write,
/// so the order of acknowledgements on an item is the order of its writes).
#[derive(Default)]
struct ItemState {
    current: Option<Item>,
    next_version: u64,
    /// The acknowledged changes, in order.
    log: Vec<Change>,
}

fn key(i: usize) -> String {
    format!("item-{i:02}")
}

/// xorshift64*: a small deterministic generator per writer.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Writes until `stop`: on a random item, a PutItem (new version), an
/// UpdateItem (new version, returning the new item), a DeleteItem, or a
/// PutItem of the item as it is (no change: no record). Returns how many
/// changes were acknowledged.
async fn writer(
    client: Client,
    w: usize,
    items: Arc<Vec<Mutex<ItemState>>>,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((w as u64 + 1) * 0x1000_0001));
    let mut changes = 0;
    while !stop.load(Ordering::SeqCst) {
        let i = rng.below(ITEMS as u64) as usize;
        let mut state = items[i].lock().await;
        let version = state.next_version;
        let op = rng.below(10);
        let change = match op {
            0..=3 => {
                let new = item([
                    ("pk", s(&key(i))),
                    ("ver", n(&version.to_string())),
                    ("by", s(&format!("writer {w} put"))),
                ]);
                client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(new.clone()))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("PutItem {}: {e:?}", key(i)));
                Some(new)
            }
            4..=6 => {
                let out = client
                    .update_item()
                    .table_name(TABLE)
                    .set_key(Some(item([("pk", s(&key(i)))])))
                    .update_expression("SET ver = :v, updated_by = :w")
                    .expression_attribute_values(":v", n(&version.to_string()))
                    .expression_attribute_values(":w", n(&w.to_string()))
                    .return_values(ReturnValue::AllNew)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("UpdateItem {}: {e:?}", key(i)));
                Some(out.attributes.expect("ALL_NEW attributes"))
            }
            7 | 8 => {
                client
                    .delete_item()
                    .table_name(TABLE)
                    .set_key(Some(item([("pk", s(&key(i)))])))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("DeleteItem {}: {e:?}", key(i)));
                None
            }
            _ => {
                // The item as it is: acknowledged, and no change.
                if let Some(same) = state.current.clone() {
                    client
                        .put_item()
                        .table_name(TABLE)
                        .set_item(Some(same))
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("PutItem (same) {}: {e:?}", key(i)));
                }
                continue;
            }
        };
        state.next_version += 1;
        let old = state.current.take();
        let logged = match (old, change.clone()) {
            (None, Some(new)) => Some(Change::Insert { new }),
            (Some(old), Some(new)) => Some(Change::Modify { old, new }),
            (Some(old), None) => Some(Change::Remove { old }),
            // Deleting a missing item changes nothing.
            (None, None) => None,
        };
        state.current = change;
        if let Some(c) = logged {
            state.log.push(c);
            changes += 1;
        }
    }
    changes
}

struct ShardState {
    parent: Option<String>,
    iterator: Option<String>,
    /// Read to its end: GetRecords gave no `NextShardIterator`.
    finished: bool,
    last_seq: Option<u128>,
    records: usize,
}

/// The consumer: shards in listing order, their state, and the records.
struct Consumer {
    streams: ds::Client,
    arn: String,
    order: Vec<String>,
    shards: HashMap<String, ShardState>,
    records: Vec<(String, ds::types::Record)>,
    seqs: HashSet<u128>,
    max_open: usize,
    passes: usize,
    get_records_calls: usize,
}

/// What one pass over the stream saw.
struct Pass {
    new_records: usize,
    new_shards: usize,
    disabled: bool,
    all_finished: bool,
}

impl Consumer {
    fn new(streams: ds::Client, arn: String) -> Consumer {
        Consumer {
            streams,
            arn,
            order: Vec::new(),
            shards: HashMap::new(),
            records: Vec::new(),
            seqs: HashSet::new(),
            max_open: 0,
            passes: 0,
            get_records_calls: 0,
        }
    }

    /// DescribeStream, then read every shard whose parent is finished,
    /// until it has nothing more (open) or ends (closed).
    async fn pass(&mut self) -> Pass {
        self.passes += 1;
        // DescribeStream, page by page. Each page is one consistent view;
        // shards may close and open between pages, so open shards are
        // counted per page (a shard seen open on page 1 may have been
        // replaced by one seen open on page 2).
        let mut listed = Vec::new();
        // Disabled on every page (the status may change between pages).
        let mut disabled = true;
        let mut open = 0;
        let mut start: Option<String> = None;
        loop {
            let d = self
                .streams
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .unwrap_or_else(|e| panic!("DescribeStream: {e:?}"))
                .stream_description
                .expect("StreamDescription");
            disabled &= d.stream_status() == Some(&StreamStatus::Disabled);
            let page = d.shards();
            let open_in_page = page
                .iter()
                .filter(|s| {
                    s.sequence_number_range()
                        .and_then(|r| r.ending_sequence_number())
                        .is_none()
                })
                .count();
            assert!(
                open_in_page <= MAX_OPEN_SHARDS,
                "{open_in_page} open shards in one DescribeStream page"
            );
            self.max_open = self.max_open.max(open_in_page);
            open += open_in_page;
            listed.extend(page.iter().cloned());
            start = d.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        if disabled {
            assert_eq!(open, 0, "a disabled stream has no open shard");
        }
        let mut new_shards = 0;
        for shard in &listed {
            let id = shard.shard_id().expect("ShardId").to_owned();
            if !self.shards.contains_key(&id) {
                if let Some(p) = shard.parent_shard_id() {
                    assert!(
                        self.shards.contains_key(p),
                        "parent {p} of {id} was listed before it"
                    );
                }
                new_shards += 1;
                self.order.push(id.clone());
                self.shards.insert(
                    id,
                    ShardState {
                        parent: shard.parent_shard_id().map(str::to_owned),
                        iterator: None,
                        finished: false,
                        last_seq: None,
                        records: 0,
                    },
                );
            }
        }

        let mut new_records = 0;
        for index in 0..self.order.len() {
            let id = self.order[index].clone();
            let ready = {
                let state = &self.shards[&id];
                !state.finished
                    && state
                        .parent
                        .as_ref()
                        .is_none_or(|p| self.shards.get(p).is_none_or(|p| p.finished))
            };
            if !ready {
                continue;
            }
            let mut iterator = match self.shards[&id].iterator.clone() {
                Some(it) => it,
                None => self
                    .streams
                    .get_shard_iterator()
                    .stream_arn(&self.arn)
                    .shard_id(&id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GetShardIterator {id}: {e:?}"))
                    .shard_iterator
                    .expect("ShardIterator"),
            };
            loop {
                self.get_records_calls += 1;
                let out = self
                    .streams
                    .get_records()
                    .shard_iterator(&iterator)
                    .limit(100)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GetRecords {id}: {e:?}"));
                let records = out.records.unwrap_or_default();
                let got = records.len();
                let state = self.shards.get_mut(&id).expect("known shard");
                for r in records {
                    let seq = seq_number(
                        r.dynamodb()
                            .and_then(|d| d.sequence_number())
                            .expect("SequenceNumber"),
                    );
                    if let Some(last) = state.last_seq {
                        assert!(seq > last, "shard {id}: sequence number {seq} after {last}");
                    }
                    state.last_seq = Some(seq);
                    assert!(
                        self.seqs.insert(seq),
                        "sequence number {seq} delivered twice"
                    );
                    state.records += 1;
                    self.records.push((id.clone(), r));
                }
                new_records += got;
                match out.next_shard_iterator {
                    None => {
                        state.finished = true;
                        state.iterator = None;
                        break;
                    }
                    Some(next) => {
                        state.iterator = Some(next.clone());
                        iterator = next;
                        if got == 0 {
                            break;
                        }
                    }
                }
            }
        }
        Pass {
            new_records,
            new_shards,
            disabled,
            all_finished: self.shards.values().all(|s| s.finished),
        }
    }
}

/// What a record says happened, as a [`Change`], and the item's key.
fn change_of(r: &ds::types::Record) -> (String, Change) {
    let d = r.dynamodb().expect("dynamodb");
    let keys = from_stream_item(d.keys().expect("Keys"));
    let pk = match keys.get("pk") {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("Keys.pk is {other:?}"),
    };
    let new = d.new_image().map(from_stream_item);
    let old = d.old_image().map(from_stream_item);
    let change = match (r.event_name().map(|e| e.as_str()), old, new) {
        (Some("INSERT"), None, Some(new)) => Change::Insert { new },
        (Some("MODIFY"), Some(old), Some(new)) => Change::Modify { old, new },
        (Some("REMOVE"), Some(old), None) => Change::Remove { old },
        (event, old, new) => panic!("record {event:?} with old {old:?} and new {new:?}"),
    };
    (pk, change)
}

async fn consume_a_busy_stream(server: Server, label: &str) {
    let started = Instant::now();
    let client = server.client();
    create_table(&client, TABLE, false).await;
    let arn = enable_stream(&client, TABLE, StreamViewType::NewAndOldImages).await;

    let items: Arc<Vec<Mutex<ItemState>>> = Arc::new(
        (0..ITEMS)
            .map(|_| Mutex::new(ItemState::default()))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(writer(
                client.clone(),
                w,
                Arc::clone(&items),
                Arc::clone(&stop),
            ))
        })
        .collect();

    // The consumer polls while the writers write.
    let consumer_stop = Arc::new(AtomicBool::new(false));
    let live_records = Arc::new(AtomicUsize::new(0));
    let consumer = {
        let mut consumer = Consumer::new(server.streams(), arn.clone());
        let stop = Arc::clone(&consumer_stop);
        let live = Arc::clone(&live_records);
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let pass = consumer.pass().await;
                live.fetch_add(pass.new_records, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            consumer
        })
    };

    tokio::time::sleep(WRITE_FOR).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = 0;
    for w in writers {
        acked += w.await.expect("writer task");
    }
    let read_live = live_records.load(Ordering::SeqCst);
    consumer_stop.store(true, Ordering::SeqCst);
    let mut consumer = consumer.await.expect("consumer task");

    // Drain: until a pass finds no new shard and no new record.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pass = consumer.pass().await;
        assert!(!pass.disabled);
        if pass.new_records == 0 && pass.new_shards == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the consumer does not catch up");
    }
    let drained = consumer.records.len();
    assert_eq!(
        drained, acked,
        "{label}: the consumer drained {drained} records for {acked} acknowledged changes"
    );

    // Disable: every shard closes, and the consumer reads each to its end.
    client
        .update_table()
        .table_name(TABLE)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .expect("stream specification"),
        )
        .send()
        .await
        .expect("disable the stream");
    loop {
        let pass = consumer.pass().await;
        assert_eq!(pass.new_records, 0, "records after the drain");
        if pass.disabled && pass.all_finished {
            break;
        }
        assert!(Instant::now() < deadline, "the closed shards never end");
    }

    // Every acknowledged change exactly once, in order per item.
    let mut seen: HashMap<String, Vec<Change>> = HashMap::new();
    for (_, r) in &consumer.records {
        let (pk, change) = change_of(r);
        seen.entry(pk).or_default().push(change);
    }
    for (i, state) in items.iter().enumerate() {
        let state = state.lock().await;
        let got = seen.remove(&key(i)).unwrap_or_default();
        assert_eq!(
            got.len(),
            state.log.len(),
            "{label}: {} has {} records for {} acknowledged changes",
            key(i),
            got.len(),
            state.log.len()
        );
        for (at, (got, want)) in got.iter().zip(&state.log).enumerate() {
            assert_eq!(got, want, "{label}: change {at} of {}", key(i));
        }
    }
    assert!(
        seen.is_empty(),
        "records for unknown items: {:?}",
        seen.keys()
    );

    // The stream split, and several shards were open at once.
    let shards = &consumer.shards;
    let mut children: HashMap<&str, usize> = HashMap::new();
    for s in shards.values() {
        if let Some(p) = &s.parent {
            *children.entry(p.as_str()).or_default() += 1;
        }
    }
    assert!(
        children.values().any(|&c| c == 2),
        "{label}: no shard split into two: {children:?}"
    );
    assert!(consumer.max_open > 1, "{label}: one open shard at most");
    assert!(consumer.max_open <= MAX_OPEN_SHARDS);
    let (_, listed) = describe_all_shards(&consumer.streams, &arn).await;
    assert_eq!(listed.len(), shards.len());

    let with_records = shards.values().filter(|s| s.records > 0).count();
    println!(
        "{label}: {acked} acknowledged changes, {} records ({read_live} read while writing), \
         {} shards ({with_records} with records, {} splits, at most {} open), \
         {} passes, {} GetRecords calls, {:.1} s",
        consumer.records.len(),
        shards.len(),
        children.values().filter(|&&c| c == 2).count(),
        consumer.max_open,
        consumer.passes,
        consumer.get_records_calls,
        started.elapsed().as_secs_f64()
    );
    assert!(acked > 2 * SPLIT_AFTER as usize);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_follows_lineage_in_memory() {
    let server = Server::with_stream_settings(StorageConfig::InMemory, settings()).await;
    consume_a_busy_stream(server, "in memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_follows_lineage_durable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::with_stream_settings(
        StorageConfig::Directory(dir.path().to_path_buf()),
        settings(),
    )
    .await;
    consume_a_busy_stream(server, "durable").await;
}
