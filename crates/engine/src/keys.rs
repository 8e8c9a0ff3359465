//! The key layout of one tenant's keyspace (see docs/architecture.md):
//!
//! ```text
//! 0x00 'C' <table name>                      → catalog entry (TableMeta, JSON)
//! 0x00 'N'                                   → next table id (u64 BE)
//! 0x00 'P' <table id u64 BE>                 → (empty) a deleted table whose data the
//!                                              background purge is still removing
//! 0x01 <table id u64 BE> <index id u32 BE> enc(pk) [enc(sk)] → item (codec bytes)
//! 0x01 <table id> <index id ≥ 1> enc(index pk…) enc(index sk…) enc(pk) [enc(sk)]
//!                                            → index entry (projected item, codec bytes)
//! 0x02 <table id u64 BE>                     → table statistics (item count, size, schema generation)
//! 0x02 <table id u64 BE> <index id u32 BE>   → index statistics (item count, size)
//! 0x03 <table id u64 BE> enc(pk)             → item-collection size (tables with local indexes)
//! 0x04 'T' <client request token>            → what a TransactWriteItems with that token did
//! 0x04 'E' <completed ms u64 BE> <token>     → (empty) the tokens in the order they expire
//! 0x05 …, 0x06 …                             → streams (see streams.rs)
//! 0x07 <table id u64 BE> <expiry s u64 BE> <item storage key>
//!                                            → (empty) Time to Live index: the items of a
//!                                              table with TTL enabled, by expiry
//! 0x08 <table id u64 BE> <job u8> <job arg>  → a background job's progress (its cursor)
//! ```
//!
//! An index entry's key ends with the base item's key, so entries with the
//! same index key (GSI keys are not unique) are distinct and ordered.
//!
//! Table ids are never reused, so a re-created table never sees old data.

use openddb_core::keyenc::{encode_key_value, KeyValue};

const META: u8 = 0x00;
const ITEMS: u8 = 0x01;
const STATS: u8 = 0x02;
const COLLECTIONS: u8 = 0x03;
const TOKENS: u8 = 0x04;
const TTL: u8 = 0x07;

/// Index id of the base table.
pub const BASE_INDEX: u32 = 0;

pub fn catalog_prefix() -> Vec<u8> {
    vec![META, b'C']
}

pub fn catalog_key(table_name: &str) -> Vec<u8> {
    let mut k = catalog_prefix();
    k.extend_from_slice(table_name.as_bytes());
    k
}

pub fn next_table_id_key() -> Vec<u8> {
    vec![META, b'N']
}

pub fn stats_key(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(STATS);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Statistics of every index of a table (not the table's own record).
pub fn index_stats_prefix(table_id: u64) -> Vec<u8> {
    stats_key(table_id)
}

pub fn index_stats_key(table_id: u64, index_id: u32) -> Vec<u8> {
    let mut k = stats_key(table_id);
    k.extend_from_slice(&index_id.to_be_bytes());
    k
}

/// The record of a client request token.
pub fn token_key(token: &str) -> Vec<u8> {
    let mut k = vec![TOKENS, b'T'];
    k.extend_from_slice(token.as_bytes());
    k
}

/// Every token's expiry entry, oldest first.
pub fn token_expiry_prefix() -> Vec<u8> {
    vec![TOKENS, b'E']
}

/// A token's entry in the expiry order.
pub fn token_expiry_key(completed_ms: u64, token: &str) -> Vec<u8> {
    let mut k = token_expiry_prefix();
    k.extend_from_slice(&completed_ms.to_be_bytes());
    k.extend_from_slice(token.as_bytes());
    k
}

/// Every Time to Live index entry of a table.
pub fn ttl_prefix(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(TTL);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// The Time to Live entries of a table that expire at `expiry` seconds
/// or later (the start of a range).
pub fn ttl_from(table_id: u64, expiry: u64) -> Vec<u8> {
    let mut k = ttl_prefix(table_id);
    k.extend_from_slice(&expiry.to_be_bytes());
    k
}

/// An item's Time to Live entry: its expiry, then its storage key.
pub fn ttl_key(table_id: u64, expiry: u64, item_key: &[u8]) -> Vec<u8> {
    let mut k = ttl_from(table_id, expiry);
    k.extend_from_slice(item_key);
    k
}

/// The expiry and item storage key of a Time to Live entry of `table_id`.
pub fn split_ttl_key(table_id: u64, key: &[u8]) -> Option<(u64, &[u8])> {
    let rest = key.strip_prefix(ttl_prefix(table_id).as_slice())?;
    let expiry = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    Some((expiry, &rest[8..]))
}

/// Every item-collection size of a table.
pub fn collections_prefix(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(COLLECTIONS);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// The size of the item collection (base items and local index entries)
/// of one partition key.
pub fn collection_key(table_id: u64, pk: KeyValue<'_>) -> Vec<u8> {
    let mut k = collections_prefix(table_id);
    encode_key_value(pk, &mut k);
    k
}

/// Every key of a table's items and index entries.
pub fn table_prefix(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(ITEMS);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Every key of one index (or the base table, index 0).
pub fn index_prefix(table_id: u64, index_id: u32) -> Vec<u8> {
    let mut k = table_prefix(table_id);
    k.extend_from_slice(&index_id.to_be_bytes());
    k
}

/// The storage key of a base-table item.
pub fn item_key(table_id: u64, pk: KeyValue<'_>, sk: Option<KeyValue<'_>>) -> Vec<u8> {
    let mut k = index_prefix(table_id, BASE_INDEX);
    encode_key_value(pk, &mut k);
    if let Some(sk) = sk {
        encode_key_value(sk, &mut k);
    }
    k
}

/// The storage key of an index entry: the index key, then the base key.
pub fn index_entry_key<'a>(
    table_id: u64,
    index_id: u32,
    index_key: impl IntoIterator<Item = KeyValue<'a>>,
    pk: KeyValue<'_>,
    sk: Option<KeyValue<'_>>,
) -> Vec<u8> {
    let mut k = index_prefix(table_id, index_id);
    for v in index_key {
        encode_key_value(v, &mut k);
    }
    encode_key_value(pk, &mut k);
    if let Some(sk) = sk {
        encode_key_value(sk, &mut k);
    }
    k
}

/// Statistics of a table or an index, kept in the same transaction as
/// every write. A table's record also carries its schema generation, which
/// changes whenever its set of indexes does: a write that was prepared
/// against an older catalog sees the mismatch inside its transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    pub item_count: i64,
    pub size_bytes: i64,
    pub generation: u64,
}

impl TableStats {
    pub fn encode(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.item_count.to_be_bytes());
        out[8..16].copy_from_slice(&self.size_bytes.to_be_bytes());
        out[16..].copy_from_slice(&self.generation.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<TableStats> {
        if bytes.len() != 24 && bytes.len() != 16 {
            return None;
        }
        Some(TableStats {
            item_count: i64::from_be_bytes(bytes[..8].try_into().ok()?),
            size_bytes: i64::from_be_bytes(bytes[8..16].try_into().ok()?),
            generation: match bytes.get(16..24) {
                Some(g) => u64::from_be_bytes(g.try_into().ok()?),
                None => 0,
            },
        })
    }

    /// Accounts for one item (or index entry) replaced by another.
    pub fn replace(&mut self, old_size: Option<usize>, new_size: Option<usize>) {
        // Saturating: a corrupt record must not make a write panic.
        self.item_count = self
            .item_count
            .saturating_add(i64::from(new_size.is_some()) - i64::from(old_size.is_some()));
        self.size_bytes = self
            .size_bytes
            .saturating_add(new_size.unwrap_or(0) as i64 - old_size.unwrap_or(0) as i64);
    }
}

// ---------------------------------------------------------------------------
// Background work (engine/src/background): what a table deleted by
// DeleteTable still has to have removed, and where a resumable job keeps
// its place. Kept apart from the layout above so that each can change
// without the other.
//
// 0x00 'P' <table id u64 BE>                 → purge record (JSON): the table's
//                                              data is still to be removed
// 0x08 <table id u64 BE> <job u8> <job arg>  → a job's progress (its cursor)
// ---------------------------------------------------------------------------

const PROGRESS: u8 = 0x08;

/// Every purge record (tables deleted whose data is still being removed).
pub fn purge_prefix() -> Vec<u8> {
    vec![META, b'P']
}

pub fn purge_key(table_id: u64) -> Vec<u8> {
    let mut k = purge_prefix();
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// The table id of a purge record's key.
pub fn split_purge_key(key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(purge_prefix().as_slice())?;
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

/// Every progress record of a table's background jobs.
pub fn progress_prefix(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(PROGRESS);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Where an index backfill notes the last base item it has indexed.
pub fn index_build_progress_key(table_id: u64, index_id: u32) -> Vec<u8> {
    let mut k = progress_prefix(table_id);
    k.push(b'I');
    k.extend_from_slice(&index_id.to_be_bytes());
    k
}

/// Where a Time to Live backfill (of the enabling `since`) notes the last
/// base item it has indexed.
pub fn ttl_backfill_progress_key(table_id: u64, since: u64) -> Vec<u8> {
    let mut k = progress_prefix(table_id);
    k.push(b'T');
    k.extend_from_slice(&since.to_be_bytes());
    k
}

/// Every key space that holds something of table `table_id` and goes with
/// it when it is purged, in the order the purge empties them. (Its
/// catalog entry and its own statistics record go in DeleteTable's
/// transaction; its stream is kept for a day and trimmed separately.)
pub fn table_data_prefixes(table_id: u64) -> [Vec<u8>; 5] {
    [
        table_prefix(table_id),
        index_stats_prefix(table_id),
        collections_prefix(table_id),
        ttl_prefix(table_id),
        progress_prefix(table_id),
    ]
}
