//! The key layout of one tenant's keyspace (see docs/architecture.md):
//!
//! ```text
//! 0x00 'C' <table name>                      → catalog entry (TableMeta, JSON)
//! 0x00 'N'                                   → next table id (u64 BE)
//! 0x01 <table id u64 BE> <index id u32 BE> enc(pk) [enc(sk)] → item (codec bytes)
//! 0x02 <table id u64 BE>                     → table statistics (item count, size)
//! ```
//!
//! Table ids are never reused, so a re-created table never sees old data.

use openddb_core::keyenc::encode_key_value;
use openddb_core::AttributeValue;

const META: u8 = 0x00;
const ITEMS: u8 = 0x01;
const STATS: u8 = 0x02;

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
pub fn item_key(table_id: u64, pk: &AttributeValue, sk: Option<&AttributeValue>) -> Vec<u8> {
    let mut k = index_prefix(table_id, BASE_INDEX);
    encode_key_value(pk, &mut k);
    if let Some(sk) = sk {
        encode_key_value(sk, &mut k);
    }
    k
}

/// Statistics of a table, kept in the same transaction as every write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    pub item_count: i64,
    pub size_bytes: i64,
}

impl TableStats {
    pub fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.item_count.to_be_bytes());
        out[8..].copy_from_slice(&self.size_bytes.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<TableStats> {
        if bytes.len() != 16 {
            return None;
        }
        Some(TableStats {
            item_count: i64::from_be_bytes(bytes[..8].try_into().ok()?),
            size_bytes: i64::from_be_bytes(bytes[8..].try_into().ok()?),
        })
    }
}
