//! DynamoDB Streams storage: streams, their shards and their records, all
//! in the tenant's keyspace and all written in the transaction of the item
//! change they describe (so a crash never separates a change from its
//! record).
//!
//! ```text
//! 0x05 'S' <stream id u64>               → StreamMeta (JSON)
//! 0x05 'H' <stream id> <shard u32>       → ShardMeta (JSON)
//! 0x05 'Q' <stream id>                   → the write state: next sequence number and the open shards (binary)
//! 0x05 'T' <stream id>                   → sequence numbers below this were trimmed (u64)
//! 0x06 <stream id> <shard> <seq u64>     → one record (binary)
//! ```
//!
//! A stream starts with one open shard covering the whole hash space of
//! partition keys. An open shard that has taken `split_after` records is
//! closed and split into two children (each half of its hash range) while
//! fewer than `max_open_shards` are open, and otherwise replaced by one
//! child with the same range; a shard is also replaced after
//! `rollover_ms`. An item's records therefore always go to the one open
//! shard covering its hash, in commit order, and a consumer that finishes a
//! parent before its children sees every item's changes in order.

use std::time::{SystemTime, UNIX_EPOCH};

use openddb_core::api::KeySchemaElement;
use openddb_core::keyenc::{encode_key_value, KeyValue};
use openddb_core::size::item_size;
use openddb_core::value::{decode_item, encode_item};
use openddb_core::Item;
use openddb_kv::{KeyRange, KvError, ReadTxn, Txn};
use serde::{Deserialize, Serialize};

use crate::sealed::{Fields, Purpose, Sealed, Sealer, Verified};

const META: u8 = 0x05;
const RECORDS: u8 = 0x06;

/// Sequence numbers are shown as `FIRST_SEQUENCE + n`: 21-digit numeric
/// strings that compare the same as text and as numbers.
pub const FIRST_SEQUENCE: u128 = 100_000_000_000_000_000_000;

/// How streams cut their shards.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// Records an open shard takes before it is closed.
    pub split_after: u64,
    /// Open shards a stream may have at once.
    pub max_open_shards: usize,
    /// Longest an open shard stays open, in milliseconds.
    pub rollover_ms: u64,
    /// How long records (and closed shards, disabled streams) are kept.
    pub retention_ms: u64,
    /// The least time between two rounds of the retention task; a round is
    /// due when the oldest record (or closed shard, or disabled stream)
    /// passes retention, not every interval (ADR 0014).
    pub trim_interval_ms: u64,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            split_after: 100_000,
            max_open_shards: 4,
            rollover_ms: 4 * 3600 * 1000,
            retention_ms: 24 * 3600 * 1000,
            trim_interval_ms: 60 * 1000,
        }
    }
}

/// A stream: what DescribeStream and ListStreams show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub id: u64,
    pub arn: String,
    pub label: String,
    pub table_name: String,
    pub table_id: u64,
    pub view_type: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub region: String,
    pub created_ms: u64,
    /// When the stream was disabled (or its table deleted).
    pub disabled_ms: Option<u64>,
}

/// One shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMeta {
    pub index: u32,
    pub shard_id: String,
    pub parent: Option<u32>,
    /// The partition-key hashes it takes: `lo..=hi`.
    pub lo: u32,
    pub hi: u32,
    /// The first sequence number it may hold.
    pub first_seq: u64,
    /// Its last record, once closed (`None` while open, or closed empty).
    pub last_seq: Option<u64>,
    pub closed: bool,
    pub opened_ms: u64,
}

/// What the table's catalog entry says about its stream: enough for the
/// write path to append without reading the stream's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRef {
    pub id: u64,
    pub arn: String,
    pub view_type: String,
    pub split_after: u64,
    pub max_open_shards: usize,
    pub rollover_ms: u64,
}

impl StreamRef {
    fn settings(&self) -> StreamSettings {
        StreamSettings {
            split_after: self.split_after,
            max_open_shards: self.max_open_shards,
            rollover_ms: self.rollover_ms,
            ..Default::default()
        }
    }
}

fn next_stream_id_key() -> Vec<u8> {
    vec![META, b'N']
}

/// Brings a table's stream in line with its description, in the
/// transaction that stores the description: a newly enabled stream (or a
/// new label after re-enabling) is created, a disabled one is closed and
/// kept readable until trimmed.
pub fn reconcile(
    txn: &mut dyn Txn,
    meta: &mut crate::catalog::TableMeta,
    region: &str,
    settings: &StreamSettings,
) -> Result<(), KvError> {
    let d = &meta.description;
    let enabled = d
        .stream_specification
        .as_ref()
        .and_then(|s| s.stream_enabled)
        == Some(true);
    let arn = d.latest_stream_arn.clone().unwrap_or_default();
    let now = now_ms();
    if let Some(current) = &meta.stream {
        if enabled && current.arn == arn {
            return Ok(());
        }
        disable(txn, current.id, now)?;
        meta.stream = None;
    }
    if !enabled {
        return Ok(());
    }
    let id = match txn.get(&next_stream_id_key())? {
        Some(b) => b
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| fatal("counter"))?,
        None => 1,
    };
    txn.put(&next_stream_id_key(), &(id + 1).to_be_bytes())?;
    let view_type = d
        .stream_specification
        .as_ref()
        .and_then(|s| s.stream_view_type.clone())
        .unwrap_or_else(|| "NEW_AND_OLD_IMAGES".into());
    create(
        txn,
        &StreamMeta {
            id,
            arn: arn.clone(),
            label: d.latest_stream_label.clone().unwrap_or_default(),
            table_name: meta.name().to_string(),
            table_id: meta.id,
            view_type: view_type.clone(),
            key_schema: d.key_schema.clone().unwrap_or_default(),
            region: region.to_string(),
            created_ms: now,
            disabled_ms: None,
        },
    )?;
    meta.stream = Some(StreamRef {
        id,
        arn,
        view_type,
        split_after: settings.split_after,
        max_open_shards: settings.max_open_shards,
        rollover_ms: settings.rollover_ms,
    });
    Ok(())
}

/// What a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    pub fn wire(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }

    fn code(self) -> u8 {
        match self {
            EventName::Insert => 1,
            EventName::Modify => 2,
            EventName::Remove => 3,
        }
    }

    fn from_code(c: u8) -> Option<EventName> {
        match c {
            1 => Some(EventName::Insert),
            2 => Some(EventName::Modify),
            3 => Some(EventName::Remove),
            _ => None,
        }
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: u64,
    pub event: EventName,
    pub created_ms: u64,
    /// Deleted by Time to Live (`userIdentity` is DynamoDB's service).
    pub by_ttl: bool,
    pub keys: Item,
    pub old: Option<Item>,
    pub new: Option<Item>,
    pub size_bytes: u64,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn fatal(what: &str) -> KvError {
    KvError::Fatal(format!("corrupt stream {what}"))
}

fn meta_key(kind: u8, stream: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(14);
    k.extend_from_slice(&[META, kind]);
    k.extend_from_slice(&stream.to_be_bytes());
    k
}

pub fn stream_key(stream: u64) -> Vec<u8> {
    meta_key(b'S', stream)
}

pub fn streams_prefix() -> Vec<u8> {
    vec![META, b'S']
}

fn shard_key(stream: u64, shard: u32) -> Vec<u8> {
    let mut k = meta_key(b'H', stream);
    k.extend_from_slice(&shard.to_be_bytes());
    k
}

fn shards_prefix(stream: u64) -> Vec<u8> {
    meta_key(b'H', stream)
}

fn state_key(stream: u64) -> Vec<u8> {
    meta_key(b'Q', stream)
}

fn trimmed_key(stream: u64) -> Vec<u8> {
    meta_key(b'T', stream)
}

fn shard_records_prefix(stream: u64, shard: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(25);
    k.push(RECORDS);
    k.extend_from_slice(&stream.to_be_bytes());
    k.extend_from_slice(&shard.to_be_bytes());
    k
}

fn record_key(stream: u64, shard: u32, seq: u64) -> Vec<u8> {
    let mut k = shard_records_prefix(stream, shard);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn stream_records_prefix(stream: u64) -> Vec<u8> {
    let mut k = vec![RECORDS];
    k.extend_from_slice(&stream.to_be_bytes());
    k
}

/// Where an item's records go: FNV-1a of its encoded partition key.
pub fn hash_of(partition_key: KeyValue<'_>) -> u32 {
    let mut enc = Vec::with_capacity(32);
    encode_key_value(partition_key, &mut enc);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in enc {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

/// A shard id in DynamoDB's form: `shardId-<20 digits>-<8 hex>`.
fn shard_id(opened_ms: u64, stream: u64, index: u32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in stream
        .to_be_bytes()
        .iter()
        .chain(index.to_be_bytes().iter())
        .chain(opened_ms.to_be_bytes().iter())
    {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("shardId-{opened_ms:020}-{h:08x}")
}

/// The write path's view of a stream: the next sequence number and the
/// open shards.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WriteState {
    next_seq: u64,
    next_shard: u32,
    open: Vec<OpenShard>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenShard {
    index: u32,
    lo: u32,
    hi: u32,
    records: u64,
    last_seq: u64,
    opened_ms: u64,
}

impl WriteState {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 36 * self.open.len());
        out.extend_from_slice(&self.next_seq.to_be_bytes());
        out.extend_from_slice(&self.next_shard.to_be_bytes());
        for s in &self.open {
            out.extend_from_slice(&s.index.to_be_bytes());
            out.extend_from_slice(&s.lo.to_be_bytes());
            out.extend_from_slice(&s.hi.to_be_bytes());
            out.extend_from_slice(&s.records.to_be_bytes());
            out.extend_from_slice(&s.last_seq.to_be_bytes());
            out.extend_from_slice(&s.opened_ms.to_be_bytes());
        }
        out
    }

    fn decode(b: &[u8]) -> Option<WriteState> {
        let u32_at = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
        let u64_at = |i: usize| Some(u64::from_be_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let mut state = WriteState {
            next_seq: u64_at(0)?,
            next_shard: u32_at(8)?,
            open: Vec::new(),
        };
        let mut i = 12;
        while i < b.len() {
            state.open.push(OpenShard {
                index: u32_at(i)?,
                lo: u32_at(i + 4)?,
                hi: u32_at(i + 8)?,
                records: u64_at(i + 12)?,
                last_seq: u64_at(i + 20)?,
                opened_ms: u64_at(i + 28)?,
            });
            i += 36;
        }
        Some(state)
    }
}

fn put_json<T: Serialize>(txn: &mut dyn Txn, key: &[u8], value: &T) -> Result<(), KvError> {
    let bytes = serde_json::to_vec(value).map_err(|e| KvError::Fatal(e.to_string()))?;
    txn.put(key, &bytes)
}

fn open_shard(
    txn: &mut dyn Txn,
    stream: u64,
    state: &mut WriteState,
    parent: Option<u32>,
    lo: u32,
    hi: u32,
    now: u64,
) -> Result<(), KvError> {
    let index = state.next_shard;
    state.next_shard += 1;
    put_json(
        txn,
        &shard_key(stream, index),
        &ShardMeta {
            index,
            shard_id: shard_id(now, stream, index),
            parent,
            lo,
            hi,
            first_seq: state.next_seq,
            last_seq: None,
            closed: false,
            opened_ms: now,
        },
    )?;
    state.open.push(OpenShard {
        index,
        lo,
        hi,
        records: 0,
        last_seq: 0,
        opened_ms: now,
    });
    Ok(())
}

fn close_shard(txn: &mut dyn Txn, stream: u64, open: &OpenShard) -> Result<(), KvError> {
    let key = shard_key(stream, open.index);
    let mut shard: ShardMeta = match txn.get(&key)? {
        Some(b) => serde_json::from_slice(&b).map_err(|_| fatal("shard"))?,
        None => return Ok(()),
    };
    shard.closed = true;
    shard.last_seq = (open.records > 0).then_some(open.last_seq);
    put_json(txn, &key, &shard)
}

/// Creates a stream (in the transaction that enables it) with its first
/// shard. `id` must be new to the tenant.
pub fn create(txn: &mut dyn Txn, meta: &StreamMeta) -> Result<(), KvError> {
    put_json(txn, &stream_key(meta.id), meta)?;
    let mut state = WriteState {
        next_seq: 0,
        next_shard: 0,
        open: Vec::new(),
    };
    open_shard(txn, meta.id, &mut state, None, 0, u32::MAX, meta.created_ms)?;
    txn.put(&state_key(meta.id), &state.encode())
}

/// Disables a stream (its table's stream was turned off or the table was
/// deleted): every shard closes; the records stay readable until trimmed.
pub fn disable(txn: &mut dyn Txn, stream: u64, now: u64) -> Result<(), KvError> {
    let Some(bytes) = txn.get(&stream_key(stream))? else {
        return Ok(());
    };
    let mut meta: StreamMeta = serde_json::from_slice(&bytes).map_err(|_| fatal("metadata"))?;
    if meta.disabled_ms.is_some() {
        return Ok(());
    }
    meta.disabled_ms = Some(now);
    put_json(txn, &stream_key(stream), &meta)?;
    if let Some(state) = txn
        .get(&state_key(stream))?
        .and_then(|b| WriteState::decode(&b))
    {
        for open in &state.open {
            close_shard(txn, stream, open)?;
        }
        let closed = WriteState {
            open: Vec::new(),
            ..state
        };
        txn.put(&state_key(stream), &closed.encode())?;
    }
    Ok(())
}

/// Appends the record of one item change, in the change's transaction.
/// `keys` are the item's key attributes; `old`/`new` the item before and
/// after (at least one present, and different).
pub fn append(
    txn: &mut dyn Txn,
    stream: &StreamRef,
    partition_key: KeyValue<'_>,
    keys: &Item,
    old: Option<&Item>,
    new: Option<&Item>,
    by_ttl: bool,
) -> Result<(), KvError> {
    let event = match (old, new) {
        (None, Some(_)) => EventName::Insert,
        (Some(_), Some(_)) => EventName::Modify,
        (Some(_), None) => EventName::Remove,
        (None, None) => return Ok(()),
    };
    let settings = stream.settings();
    let Some(mut state) = txn
        .get(&state_key(stream.id))?
        .map(|b| WriteState::decode(&b).ok_or_else(|| fatal("state")))
        .transpose()?
    else {
        return Ok(());
    };
    let now = now_ms();
    let hash = hash_of(partition_key);
    let Some(pos) = state.open.iter().position(|s| s.lo <= hash && hash <= s.hi) else {
        // A disabled stream has no open shard: nothing to record.
        return Ok(());
    };
    let mut shard = state.open[pos];
    let full = shard.records >= settings.split_after;
    let old_enough = now.saturating_sub(shard.opened_ms) >= settings.rollover_ms;
    if full || old_enough {
        close_shard(txn, stream.id, &shard)?;
        state.open.remove(pos);
        let splittable = shard.hi > shard.lo;
        if full && splittable && state.open.len() + 2 <= settings.max_open_shards {
            let mid = shard.lo + (shard.hi - shard.lo) / 2;
            open_shard(
                txn,
                stream.id,
                &mut state,
                Some(shard.index),
                shard.lo,
                mid,
                now,
            )?;
            open_shard(
                txn,
                stream.id,
                &mut state,
                Some(shard.index),
                mid + 1,
                shard.hi,
                now,
            )?;
        } else {
            open_shard(
                txn,
                stream.id,
                &mut state,
                Some(shard.index),
                shard.lo,
                shard.hi,
                now,
            )?;
        }
        let pos = state
            .open
            .iter()
            .position(|s| s.lo <= hash && hash <= s.hi)
            .ok_or_else(|| fatal("shard ranges"))?;
        shard = state.open[pos];
    }
    let seq = state.next_seq;
    state.next_seq += 1;
    let (old, new) = match stream.view_type.as_str() {
        "KEYS_ONLY" => (None, None),
        "NEW_IMAGE" => (None, new),
        "OLD_IMAGE" => (old, None),
        _ => (old, new),
    };
    let size = item_size(keys) + old.map_or(0, item_size) + new.map_or(0, item_size);
    let record = Record {
        seq,
        event,
        created_ms: now,
        by_ttl,
        keys: keys.clone(),
        old: old.cloned(),
        new: new.cloned(),
        size_bytes: size as u64,
    };
    txn.put(
        &record_key(stream.id, shard.index, seq),
        &encode_record(&record),
    )?;
    if let Some(s) = state.open.iter_mut().find(|s| s.index == shard.index) {
        s.records += 1;
        s.last_seq = seq;
    }
    txn.put(&state_key(stream.id), &state.encode())
}

fn encode_record(r: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + r.size_bytes as usize);
    out.push(r.event.code());
    out.push(u8::from(r.by_ttl));
    out.extend_from_slice(&r.created_ms.to_be_bytes());
    out.extend_from_slice(&r.size_bytes.to_be_bytes());
    for part in [Some(&r.keys), r.old.as_ref(), r.new.as_ref()] {
        match part {
            Some(item) => {
                let bytes = encode_item(item);
                out.extend_from_slice(&(bytes.len() as u32 + 1).to_be_bytes());
                out.extend_from_slice(&bytes);
            }
            None => out.extend_from_slice(&0u32.to_be_bytes()),
        }
    }
    out
}

fn decode_record(seq: u64, b: &[u8]) -> Option<Record> {
    let event = EventName::from_code(*b.first()?)?;
    let by_ttl = *b.get(1)? == 1;
    let created_ms = u64::from_be_bytes(b.get(2..10)?.try_into().ok()?);
    let size_bytes = u64::from_be_bytes(b.get(10..18)?.try_into().ok()?);
    let mut rest = b.get(18..)?;
    let mut parts = Vec::with_capacity(3);
    for _ in 0..3 {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        rest = rest.get(4..)?;
        if len == 0 {
            parts.push(None);
        } else {
            let bytes = rest.get(..len - 1)?;
            parts.push(Some(decode_item(bytes).ok()?));
            rest = rest.get(len - 1..)?;
        }
    }
    let new = parts.pop()?;
    let old = parts.pop()?;
    let keys = parts.pop()??;
    Some(Record {
        seq,
        event,
        created_ms,
        by_ttl,
        keys,
        old,
        new,
        size_bytes,
    })
}

/// Every stream of the tenant (enabled or kept after disabling).
pub fn list(txn: &dyn ReadTxn) -> Result<Vec<StreamMeta>, KvError> {
    txn.scan(&KeyRange::prefix(&streams_prefix()), false, usize::MAX)?
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).map_err(|_| fatal("metadata")))
        .collect()
}

pub fn get(txn: &dyn ReadTxn, stream: u64) -> Result<Option<StreamMeta>, KvError> {
    txn.get(&stream_key(stream))?
        .map(|v| serde_json::from_slice(&v).map_err(|_| fatal("metadata")))
        .transpose()
}

/// A stream's shards, oldest first, with the last sequence number of each
/// open one (for its range so far).
pub fn shards(txn: &dyn ReadTxn, stream: u64) -> Result<Vec<ShardMeta>, KvError> {
    txn.scan(&KeyRange::prefix(&shards_prefix(stream)), false, usize::MAX)?
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).map_err(|_| fatal("shard")))
        .collect()
}

/// Sequence numbers below this have been trimmed.
pub fn trimmed_below(txn: &dyn ReadTxn, stream: u64) -> Result<u64, KvError> {
    Ok(txn
        .get(&trimmed_key(stream))?
        .and_then(|b| b.try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

/// Records of one shard from sequence number `from` on: at most `limit`,
/// and none after the first whose size (as DynamoDB sizes records) takes
/// their total past `max_bytes`. Storage is read in pages that double from
/// one record, so a call reads about what it answers (at most about twice
/// that) however large the records are: a thousand records of two 400 KB
/// images each must not be read to answer one megabyte.
pub fn read(
    txn: &dyn ReadTxn,
    stream: u64,
    shard: u32,
    from: u64,
    limit: usize,
    max_bytes: u64,
) -> Result<Vec<Record>, KvError> {
    const MAX_PAGE: usize = 256;
    let prefix = shard_records_prefix(stream, shard);
    let end = openddb_kv::prefix_successor(&prefix).ok_or_else(|| fatal("key"))?;
    let mut range = KeyRange::half_open(record_key(stream, shard, from), end);
    let mut records = Vec::new();
    let mut bytes = 0u64;
    let mut page = 1;
    while records.len() < limit {
        let want = page.min(limit - records.len());
        let rows = txn.scan(&range, false, want)?;
        let full = rows.len() == want;
        for (k, v) in rows {
            let seq = u64::from_be_bytes(k[prefix.len()..].try_into().map_err(|_| fatal("key"))?);
            let record = decode_record(seq, &v).ok_or_else(|| fatal("record"))?;
            bytes = bytes.saturating_add(record.size_bytes);
            records.push(record);
            if bytes > max_bytes {
                return Ok(records);
            }
            range.start = std::ops::Bound::Excluded(k);
        }
        if !full {
            break;
        }
        page = (page * 2).min(MAX_PAGE);
    }
    Ok(records)
}

/// Bytes of records one trim step reads, about (the record that passes it
/// is read too): a step must not read a thousand records of two 400 KB
/// images each to find that the first is too young to go.
const TRIM_STEP_BYTES: usize = 4 << 20;

/// Removes what is past retention: up to `budget` records older than
/// `cutoff_ms` (oldest first in each shard), reading about
/// `TRIM_STEP_BYTES` of them at most, closed shards left empty and old,
/// and disabled streams with nothing left. Returns how many records were
/// removed, and whether the step stopped at its bounds with more perhaps
/// past retention.
pub fn trim(
    txn: &mut dyn Txn,
    stream: &StreamMeta,
    cutoff_ms: u64,
    budget: usize,
) -> Result<(usize, bool), KvError> {
    let mut removed = 0;
    let mut read = 0usize;
    let mut trimmed = trimmed_below(txn, stream.id)?;
    let mut remaining = false;
    let mut more = false;
    for shard in shards(txn, stream.id)? {
        let prefix = shard_records_prefix(stream.id, shard.index);
        let want = budget.saturating_sub(removed);
        let max_bytes = TRIM_STEP_BYTES.saturating_sub(read);
        let rows = txn.scan_bounded(&KeyRange::prefix(&prefix), false, want, max_bytes)?;
        let got: usize = rows.iter().map(|(k, v)| k.len() + v.len()).sum();
        read += got;
        // The scan stopped at the step's bounds, not at the shard's end.
        let cut = rows.len() == want || got > max_bytes;
        let mut young = false;
        for (k, v) in &rows {
            let created = v
                .get(2..10)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
            if created >= cutoff_ms {
                young = true;
                break;
            }
            let seq = u64::from_be_bytes(k[prefix.len()..].try_into().map_err(|_| fatal("key"))?);
            trimmed = trimmed.max(seq + 1);
            txn.delete(k)?;
            removed += 1;
        }
        if !young
            && !cut
            && shard.closed
            && shard.opened_ms < cutoff_ms
            && txn.scan(&KeyRange::prefix(&prefix), false, 1)?.is_empty()
        {
            txn.delete(&shard_key(stream.id, shard.index))?;
        } else {
            remaining = true;
        }
        if cut && !young {
            more = true;
            break;
        }
    }
    if trimmed > 0 {
        txn.put(&trimmed_key(stream.id), &trimmed.to_be_bytes())?;
    }
    if !remaining && stream.disabled_ms.is_some_and(|d| d < cutoff_ms) {
        txn.delete(&stream_key(stream.id))?;
        txn.delete(&state_key(stream.id))?;
        txn.delete(&trimmed_key(stream.id))?;
        let end = openddb_kv::prefix_successor(&stream_records_prefix(stream.id))
            .ok_or_else(|| fatal("key"))?;
        txn.delete_range(&stream_records_prefix(stream.id), &end)?;
    }
    Ok((removed, more))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_core::AttributeValue;
    use openddb_kv::{write_blocking, Kv, Outcome};
    use openddb_kv_memory::MemoryKv;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn meta() -> StreamMeta {
        StreamMeta {
            id: 7,
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x".into(),
            label: "x".into(),
            table_name: "t".into(),
            table_id: 1,
            view_type: "NEW_AND_OLD_IMAGES".into(),
            key_schema: Vec::new(),
            region: "us-east-1".into(),
            created_ms: now_ms(),
            disabled_ms: None,
        }
    }

    fn item(pk: &str, v: &str) -> Item {
        Item::from([("pk".to_string(), s(pk)), ("v".to_string(), s(v))])
    }

    fn append_n(kv: &MemoryKv, settings: StreamSettings, n: usize) {
        let r = StreamRef {
            id: 7,
            arn: "x".into(),
            view_type: "NEW_AND_OLD_IMAGES".into(),
            split_after: settings.split_after,
            max_open_shards: settings.max_open_shards,
            rollover_ms: settings.rollover_ms,
        };
        for i in 0..n {
            let r = r.clone();
            write_blocking(kv, move |txn| {
                let pk = format!("k{}", i % 37);
                let keys = Item::from([("pk".to_string(), s(&pk))]);
                let new = item(&pk, &i.to_string());
                append(txn, &r, KeyValue::S(&pk), &keys, None, Some(&new), false)?;
                Ok((Outcome::Commit, ()))
            })
            .unwrap();
        }
    }

    #[test]
    fn records_round_trip_with_images_by_view_type() {
        let r = Record {
            seq: 5,
            event: EventName::Modify,
            created_ms: 123,
            by_ttl: true,
            keys: Item::from([("pk".to_string(), s("a"))]),
            old: Some(item("a", "1")),
            new: None,
            size_bytes: 42,
        };
        assert_eq!(decode_record(5, &encode_record(&r)), Some(r));
    }

    #[test]
    fn busy_shards_split_and_every_record_lands_once_in_item_order() {
        let kv = MemoryKv::new();
        write_blocking(&kv, |txn| {
            create(txn, &meta())?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        let settings = StreamSettings {
            split_after: 10,
            max_open_shards: 4,
            ..Default::default()
        };
        append_n(&kv, settings, 200);
        let snap = kv.read().unwrap();
        let shards = shards(&*snap, 7).unwrap();
        assert!(shards.len() > 4, "{} shards", shards.len());
        assert!(shards.iter().filter(|s| !s.closed).count() <= 4);
        // Children cover their parent's range.
        for s in &shards {
            if let Some(p) = s.parent {
                let parent = shards.iter().find(|x| x.index == p).unwrap();
                assert!(parent.closed && parent.lo <= s.lo && s.hi <= parent.hi);
            }
        }
        // Reading parents before children gives each item's changes in order.
        let mut seen: std::collections::HashMap<String, Vec<u64>> = Default::default();
        let mut total = 0;
        for sh in &shards {
            for rec in read(&*snap, 7, sh.index, 0, usize::MAX, u64::MAX).unwrap() {
                total += 1;
                let pk = match &rec.keys["pk"] {
                    AttributeValue::S(v) => v.clone(),
                    _ => unreachable!(),
                };
                let h = hash_of(KeyValue::S(&pk));
                assert!(sh.lo <= h && h <= sh.hi);
                seen.entry(pk).or_default().push(rec.seq);
            }
        }
        assert_eq!(total, 200);
        for seqs in seen.values() {
            assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn disabling_closes_every_shard_and_trim_removes_old_records() {
        let kv = MemoryKv::new();
        write_blocking(&kv, |txn| {
            create(txn, &meta())?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        append_n(&kv, StreamSettings::default(), 5);
        write_blocking(&kv, |txn| {
            disable(txn, 7, now_ms())?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        append_n(&kv, StreamSettings::default(), 3);
        let snap = kv.read().unwrap();
        let all = shards(&*snap, 7).unwrap();
        assert!(all.iter().all(|s| s.closed));
        assert_eq!(all[0].last_seq, Some(4));
        assert_eq!(read(&*snap, 7, 0, 0, 100, u64::MAX).unwrap().len(), 5);
        drop(snap);
        let m = get(&*kv.read().unwrap(), 7).unwrap().unwrap();
        write_blocking(&kv, move |txn| {
            let (n, _) = trim(txn, &m, now_ms() + 1, 100)?;
            assert_eq!(n, 5);
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        // Disabled before the cutoff and now empty: the stream is gone.
        let snap = kv.read().unwrap();
        assert!(get(&*snap, 7).unwrap().is_none());
        assert!(shards(&*snap, 7).unwrap().is_empty());
    }

    #[test]
    fn trimming_an_enabled_stream_moves_its_horizon() {
        let kv = MemoryKv::new();
        write_blocking(&kv, |txn| {
            create(txn, &meta())?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        append_n(&kv, StreamSettings::default(), 4);
        let m = get(&*kv.read().unwrap(), 7).unwrap().unwrap();
        write_blocking(&kv, move |txn| {
            assert_eq!(trim(txn, &m, now_ms() + 1, 3)?, (3, true));
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        let snap = kv.read().unwrap();
        assert_eq!(trimmed_below(&*snap, 7).unwrap(), 3);
        assert_eq!(read(&*snap, 7, 0, 0, 10, u64::MAX).unwrap().len(), 1);
        assert!(get(&*snap, 7).unwrap().is_some());
    }
}

/// The next sequence number a stream will hand out.
pub fn next_sequence(txn: &dyn ReadTxn, stream: u64) -> Result<u64, KvError> {
    Ok(txn
        .get(&state_key(stream))?
        .and_then(|b| WriteState::decode(&b))
        .map_or(0, |s| s.next_seq))
}

/// A sequence number as the API shows it.
pub fn show_sequence(seq: u64) -> String {
    (FIRST_SEQUENCE + u128::from(seq)).to_string()
}

/// A sequence number given by a client; `None` unless it is one of ours.
pub fn parse_sequence(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u128 = s.parse().ok()?;
    u64::try_from(n.checked_sub(FIRST_SEQUENCE)?).ok()
}

/// How long a shard iterator stays valid.
pub const ITERATOR_LIFETIME_MS: u64 = 15 * 60 * 1000;

/// Where a shard iterator points: the next record it returns is the
/// shard's first with a sequence number of at least `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IteratorPosition {
    pub stream: u64,
    pub shard: u32,
    pub from: u64,
    pub issued_ms: u64,
}

impl Sealed for IteratorPosition {
    const PURPOSE: Purpose = Purpose::ShardIterator;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.stream.to_be_bytes());
        out.extend_from_slice(&self.shard.to_be_bytes());
        out.extend_from_slice(&self.from.to_be_bytes());
        out.extend_from_slice(&self.issued_ms.to_be_bytes());
    }

    fn read(bytes: &[u8]) -> Option<IteratorPosition> {
        let mut r = Fields(bytes);
        let p = IteratorPosition {
            stream: r.u64()?,
            shard: r.u32()?,
            from: r.u64()?,
            issued_ms: r.u64()?,
        };
        r.is_empty().then_some(p)
    }
}

/// Longest ShardIterator (the API model's).
pub const MAX_ITERATOR_LEN: usize = 2048;

/// A shard iterator in DynamoDB's shape: the stream ARN, a version, and the
/// sealed position, whose tag also covers the ARN and the tenant.
pub fn encode_iterator(sealer: &Sealer, arn: &str, p: &IteratorPosition) -> String {
    format!("{arn}|1|{}", sealer.seal_text(p, arn.as_bytes()))
}

/// Reads a shard iterator back: its ARN and position, or `None` unless
/// this tenant's sealer made it. The position still has to be checked
/// against the stream as it is now.
pub fn decode_iterator<'a>(
    sealer: &Sealer,
    s: &'a str,
) -> Option<(&'a str, Verified<IteratorPosition>)> {
    if s.len() > MAX_ITERATOR_LEN {
        return None;
    }
    let (rest, payload) = s.rsplit_once('|')?;
    let (arn, version) = rest.rsplit_once('|')?;
    if version != "1" {
        return None;
    }
    let position = sealer.open_text(payload, arn.as_bytes(), MAX_ITERATOR_LEN)?;
    Some((arn, position))
}

/// The stream with this ARN, if the tenant still has it. A tenant is one
/// account, and its streams are the same whatever region names them, so
/// the resource part (`table/<name>/stream/<label>`) identifies one; the
/// caller checks the account and region.
pub fn by_arn(txn: &dyn ReadTxn, arn: &str) -> Result<Option<StreamMeta>, KvError> {
    let Some(wanted) = crate::arn::resource(arn) else {
        return Ok(None);
    };
    Ok(list(txn)?
        .into_iter()
        .find(|s| crate::arn::resource(&s.arn) == Some(wanted)))
}

#[cfg(test)]
mod codec_tests {
    use super::*;
    use crate::sealed::TokenSecret;

    #[test]
    fn iterators_and_sequence_numbers_round_trip() {
        let sealer = Sealer::new(&TokenSecret::new([9; 32]), "000000000000");
        let p = IteratorPosition {
            stream: 3,
            shard: 9,
            from: 12345,
            issued_ms: 99,
        };
        let arn = "arn:aws:dynamodb:us-east-1:1:table/t/stream/x";
        let it = encode_iterator(&sealer, arn, &p);
        assert!(it.starts_with(&format!("{arn}|1|")));
        let (got_arn, got) = decode_iterator(&sealer, &it).unwrap();
        assert_eq!((got_arn, got.into_inner()), (arn, p));
        // Another version, ARN, tenant or secret; garbage; too long.
        assert!(decode_iterator(&sealer, &it.replace("|1|", "|2|")).is_none());
        assert!(decode_iterator(&sealer, &it.replace("stream/x", "stream/y")).is_none());
        let other = Sealer::new(&TokenSecret::new([9; 32]), "111111111111");
        assert!(decode_iterator(&other, &it).is_none());
        let other = Sealer::new(&TokenSecret::new([8; 32]), "000000000000");
        assert!(decode_iterator(&other, &it).is_none());
        assert!(decode_iterator(&sealer, "garbage").is_none());
        assert!(decode_iterator(&sealer, "a|1|b").is_none());
        let long = format!("{}{it}", "x".repeat(MAX_ITERATOR_LEN));
        assert!(decode_iterator(&sealer, &long).is_none());
        assert_eq!(show_sequence(0), "100000000000000000000");
        assert_eq!(parse_sequence(&show_sequence(42)), Some(42));
        assert_eq!(parse_sequence("12"), None);
        assert_eq!(parse_sequence("abc"), None);
    }
}
