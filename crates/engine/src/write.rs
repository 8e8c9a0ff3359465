//! The one path every single-item write takes: inside one kv transaction,
//! read the old item, let the action compute the new one (or refuse, for a
//! failed condition), write it and keep the table statistics in step.
//! Actions are pure functions of the old item, so a backend may re-run them.

use std::sync::Arc;

use openddb_core::keyenc::KeyValue;
use openddb_core::size::item_size;
use openddb_core::value::{decode_item, encode_item, normalize_sets};
use openddb_core::{DynamoError, Item};
use openddb_kv::{KvError, Txn};

use crate::actions::common::read_stats;
use crate::actions::describe_table::not_found_item;
use crate::capacity::write_units;
use crate::catalog::{IndexMeta, IndexStatus, TableMeta};
use crate::keys::{self, TableStats};
use crate::run::{self, WriteResult};
use crate::tenant::Tenant;

/// What the action decided for the item.
pub enum Change {
    /// Store this item (insert or replace).
    Put(Item),
    /// Remove the item (a no-op when there is none).
    Delete,
    /// Remove the item because its Time to Live passed (the stream record
    /// names DynamoDB's service as the remover).
    Expire,
}

/// The item before and after a write, and whatever else the action's
/// decision produced (`extra`).
pub struct Written<X> {
    pub old: Option<Item>,
    pub new: Option<Item>,
    pub old_size: usize,
    pub new_size: usize,
    pub extra: X,
    /// The write units each secondary index consumed.
    pub indexes: Vec<IndexWrite>,
    /// The item collection's size after the write (tables with local
    /// secondary indexes).
    pub collection_size: Option<i64>,
}

/// The part of a write one secondary index took.
#[derive(Debug, Clone)]
pub struct IndexWrite {
    pub name: String,
    pub global: bool,
    pub units: f64,
}

/// DynamoDB's limit on an item collection: the items of one partition key
/// and their local secondary index entries.
pub const MAX_COLLECTION_BYTES: i64 = 10 * 1024 * 1024 * 1024;

fn decode(bytes: &[u8]) -> Result<Item, KvError> {
    decode_item(bytes).map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))
}

/// Reads, decides and writes one item atomically. `decide` may run more
/// than once (a backend may retry); only its last answer counts. The item
/// is held until the write is answered; a transaction holding it already
/// makes this a `TransactionConflictException`.
pub async fn write_item<F, X>(
    tenant: &Arc<Tenant>,
    meta: &Arc<TableMeta>,
    key: Vec<u8>,
    mut decide: F,
) -> Result<Written<X>, DynamoError>
where
    F: FnMut(Option<&Item>) -> Result<(Change, X), DynamoError> + Send + 'static,
    X: Send + 'static,
{
    let _held = tenant
        .inflight
        .write(&key)
        .ok_or_else(run::transaction_conflict)?;
    let meta = meta.clone();
    run::write(&tenant.kv, move |txn: &mut dyn Txn| {
        write_in(txn, &meta, &key, &mut decide)
    })
    .await
}

/// The whole of one item's write inside a transaction the caller owns (so
/// that several items can share one): the table's existence and current
/// catalog, the old item, the action's decision, the new item, the table's
/// statistics, every index and the item collection. `Ok(Err(_))` means the
/// caller must abort the transaction.
pub fn write_in<F, X>(
    txn: &mut dyn Txn,
    meta: &Arc<TableMeta>,
    key: &[u8],
    decide: &mut F,
) -> WriteResult<Written<X>>
where
    F: FnMut(Option<&Item>) -> Result<(Change, X), DynamoError>,
{
    let table_id = meta.id;
    let Some(mut stats) = read_stats(txn, table_id)? else {
        return Ok(Err(not_found_item()));
    };
    let current = match current_meta(txn, meta, stats.generation)? {
        Some(m) => m,
        None => return Ok(Err(not_found_item())),
    };
    let old = match txn.get(key)? {
        Some(bytes) => Some(decode(&bytes)?),
        None => None,
    };
    let (change, extra) = match decide(old.as_ref()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let old_size = old.as_ref().map_or(0, item_size);
    let by_ttl = matches!(change, Change::Expire);
    let (new, new_size) = match change {
        Change::Put(mut item) => {
            normalize_sets(&mut item);
            if let Err(e) = check_index_keys(&current, &item) {
                return Ok(Err(e));
            }
            let size = item_size(&item);
            txn.put(key, &encode_item(&item))?;
            (Some(item), size)
        }
        Change::Delete | Change::Expire => {
            if old.is_some() {
                txn.delete(key)?;
            }
            (None, 0)
        }
    };
    if let Some(stream) = &current.stream {
        if old != new {
            let item = new.as_ref().or(old.as_ref());
            if let Some(pk) = item.and_then(|i| partition_key(&current, i)).transpose()? {
                let keys: Item = current
                    .key_names()
                    .filter_map(|n| item?.get(n).map(|v| (n.to_string(), v.clone())))
                    .collect();
                crate::streams::append(txn, stream, pk, &keys, old.as_ref(), new.as_ref(), by_ttl)?;
            }
        }
    }
    let mut indexes = Vec::new();
    let mut collection_size = None;
    if old.is_some() || new.is_some() {
        stats.replace(
            old.as_ref().map(|_| old_size),
            new.as_ref().map(|_| new_size),
        );
        txn.put(&keys::stats_key(table_id), &stats.encode())?;
        crate::ttl::index::maintain(txn, &current, key, old.as_ref(), new.as_ref())?;
        indexes = maintain_indexes(txn, &current, old.as_ref(), new.as_ref())?;
        if current.indexes.iter().any(|i| !i.global) {
            let delta = new_size as i64 - old_size as i64
                + indexes
                    .iter()
                    .filter(|i| !i.global)
                    .map(|i| i.delta)
                    .sum::<i64>();
            let item = new.as_ref().or(old.as_ref());
            if let Some(pk) = item.and_then(|i| partition_key(&current, i)).transpose()? {
                match update_collection(txn, table_id, pk, delta)? {
                    Ok(size) => collection_size = Some(size),
                    Err(e) => return Ok(Err(e)),
                }
            }
        }
    }
    Ok(Ok(Written {
        old,
        new,
        old_size,
        new_size,
        extra,
        indexes: indexes
            .into_iter()
            .map(|c| IndexWrite {
                name: c.name,
                global: c.global,
                units: c.units,
            })
            .collect(),
        collection_size,
    }))
}

/// The partition key of an item being written: `None` when it has none
/// (never, for an item that passed the key checks), an error when it is of
/// a type no key can have (only a corrupt stored item can be).
fn partition_key<'a>(meta: &TableMeta, item: &'a Item) -> Option<Result<KeyValue<'a>, KvError>> {
    let v = item.get(&meta.key_schema.partition_key.name)?;
    Some(
        KeyValue::try_from(v)
            .map_err(|e| KvError::Fatal(format!("corrupt item: a {} partition key", e.0))),
    )
}

/// Adds `delta` bytes to the item collection of `pk`, refusing a write
/// that would take it past DynamoDB's 10 GB limit; returns the new size.
fn update_collection(
    txn: &mut dyn Txn,
    table_id: u64,
    pk: KeyValue<'_>,
    delta: i64,
) -> Result<Result<i64, DynamoError>, KvError> {
    let key = keys::collection_key(table_id, pk);
    let before = match txn.get(&key)? {
        Some(b) => <[u8; 8]>::try_from(b.as_slice()).map_or(0, i64::from_be_bytes),
        None => 0,
    };
    let after = before.saturating_add(delta).max(0);
    if delta > 0 && after > MAX_COLLECTION_BYTES {
        return Ok(Err(DynamoError::new(
            openddb_core::ErrorKind::ItemCollectionSizeLimitExceededException,
            "Collection size exceeded.",
        )));
    }
    if after == 0 {
        txn.delete(&key)?;
    } else {
        txn.put(&key, &after.to_be_bytes())?;
    }
    Ok(Ok(after))
}

/// The catalog entry a write must work with: the cached one, unless the
/// table's indexes changed since it was read (its generation differs), in
/// which case the entry is read again inside the transaction. `None` when
/// the table was replaced by another of the same name.
fn current_meta(
    txn: &dyn Txn,
    cached: &Arc<TableMeta>,
    generation: u64,
) -> Result<Option<Arc<TableMeta>>, KvError> {
    if generation == cached.generation {
        return Ok(Some(cached.clone()));
    }
    Ok(crate::indexing::load_meta(txn, cached.name(), cached.id)?.map(Arc::new))
}

/// DynamoDB refuses an item whose secondary-index key attribute has the
/// wrong type or is an empty string or binary.
pub fn check_index_keys(meta: &TableMeta, item: &Item) -> Result<(), DynamoError> {
    for index in meta.maintained_indexes() {
        for attr in index.key_attributes() {
            let Some(v) = item.get(&attr.name) else {
                continue;
            };
            if v.type_name() != attr.attr_type {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
                    attr.name,
                    attr.attr_type,
                    v.type_name(),
                    index.name
                )));
            }
            let empty = match v {
                openddb_core::AttributeValue::S(s) => s.is_empty().then_some("string"),
                openddb_core::AttributeValue::B(b) => b.is_empty().then_some("binary"),
                _ => None,
            };
            if let Some(kind) = empty {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {}, IndexKey: {}",
                    index.name, attr.name
                )));
            }
        }
    }
    Ok(())
}

/// An item's entry in one index: its storage key and stored (projected) form.
pub fn index_entry(meta: &TableMeta, index: &IndexMeta, item: &Item) -> Option<(Vec<u8>, Item)> {
    let values = index.key_values(item)?;
    let key_of = |name: &str| KeyValue::try_from(item.get(name)?).ok();
    let pk = key_of(&meta.key_schema.partition_key.name)?;
    let sk = match &meta.key_schema.sort_key {
        Some(s) => Some(key_of(&s.name)?),
        None => None,
    };
    let key = keys::index_entry_key(meta.id, index.id, values, pk, sk);
    Some((key, index.project(item, &meta.key_schema)))
}

/// What one index's maintenance did.
struct IndexChange {
    name: String,
    global: bool,
    units: f64,
    /// Change in the index's stored bytes.
    delta: i64,
}

/// Keeps every maintained index in step with one item's change, and its
/// statistics. An index still being backfilled may lack the old entry, so
/// its presence is read rather than assumed. Returns what each touched
/// index consumed: a unit per started KB of each entry written or removed
/// (an entry that moves to a new index key is both).
fn maintain_indexes(
    txn: &mut dyn Txn,
    meta: &TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<Vec<IndexChange>, KvError> {
    let mut changes = Vec::new();
    for index in meta.maintained_indexes() {
        let old_entry = old.and_then(|o| index_entry(meta, index, o));
        let new_entry = new.and_then(|n| index_entry(meta, index, n));
        if old_entry.is_none() && new_entry.is_none() {
            continue;
        }
        if let (Some((ok, oi)), Some((nk, ni))) = (&old_entry, &new_entry) {
            if ok == nk && oi == ni && index.status == IndexStatus::Active {
                continue;
            }
        }
        let mut old_size = old_entry.as_ref().map(|(_, i)| item_size(i));
        if let Some((k, _)) = &old_entry {
            if index.status != IndexStatus::Active {
                old_size = txn
                    .get(k)?
                    .map(|b| decode(&b).map(|i| item_size(&i)))
                    .transpose()?;
            }
            if new_entry.as_ref().is_none_or(|(nk, _)| nk != k) {
                txn.delete(k)?;
            }
        }
        let new_size = match &new_entry {
            Some((k, i)) => {
                txn.put(k, &encode_item(i))?;
                Some(item_size(i))
            }
            None => None,
        };
        let moved = match (&old_entry, &new_entry) {
            (Some((ok, _)), Some((nk, _))) => ok != nk,
            _ => false,
        };
        let units = if moved {
            write_units(old_size.unwrap_or(0)) + write_units(new_size.unwrap_or(0))
        } else {
            write_units(old_size.unwrap_or(0).max(new_size.unwrap_or(0)))
        };
        changes.push(IndexChange {
            name: index.name.clone(),
            global: index.global,
            units,
            delta: new_size.unwrap_or(0) as i64 - old_size.unwrap_or(0) as i64,
        });
        let stats_key = keys::index_stats_key(meta.id, index.id);
        let mut stats = txn
            .get(&stats_key)?
            .and_then(|b| TableStats::decode(&b))
            .unwrap_or_default();
        stats.replace(old_size, new_size);
        txn.put(&stats_key, &stats.encode())?;
    }
    Ok(changes)
}

/// Reads one item by its storage key.
pub async fn read_item(
    tenant: &Arc<Tenant>,
    meta: &TableMeta,
    key: Vec<u8>,
) -> Result<Option<Item>, DynamoError> {
    let table_id = meta.id;
    run::read(tenant, move |txn| {
        let item = txn.get(&key).map_err(run::storage_error)?;
        if item.is_none()
            && read_stats(txn, table_id)
                .map_err(run::storage_error)?
                .is_none()
        {
            return Err(not_found_item());
        }
        item.map(|b| decode(&b).map_err(run::storage_error))
            .transpose()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_kv::{write_blocking, Kv, Outcome};
    use openddb_kv_memory::MemoryKv;

    fn pk() -> openddb_core::AttributeValue {
        openddb_core::AttributeValue::S("p".into())
    }

    fn update(kv: &MemoryKv, delta: i64) -> Result<i64, DynamoError> {
        write_blocking(kv, move |txn| {
            let r = update_collection(txn, 7, KeyValue::try_from(&pk()).unwrap(), delta)?;
            Ok((Outcome::Commit, r))
        })
        .expect("storage")
    }

    #[test]
    fn collections_grow_shrink_and_stop_at_ten_gigabytes() {
        let kv = MemoryKv::new();
        assert_eq!(update(&kv, 1000).unwrap(), 1000);
        assert_eq!(
            update(&kv, MAX_COLLECTION_BYTES - 1000).unwrap(),
            MAX_COLLECTION_BYTES
        );
        let err = update(&kv, 1).unwrap_err();
        assert_eq!(
            err.kind,
            openddb_core::ErrorKind::ItemCollectionSizeLimitExceededException
        );
        // Shrinking is always allowed, and an empty collection leaves no record.
        assert_eq!(update(&kv, -MAX_COLLECTION_BYTES).unwrap(), 0);
        let left = kv
            .read()
            .unwrap()
            .get(&keys::collection_key(7, KeyValue::try_from(&pk()).unwrap()))
            .unwrap();
        assert_eq!(left, None);
    }
}
