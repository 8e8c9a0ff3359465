//! The life cycle of global secondary indexes added or removed by
//! UpdateTable: catalog changes made inside transactions against the stored
//! entry, a backfill that builds a new index in bounded chunks while
//! writes go on (writes maintain a CREATING index from the moment it is
//! declared), and the removal of a deleted one. Both resume after a
//! restart: the catalog says which indexes are still CREATING or DELETING.

use std::sync::Arc;

use openddb_core::size::item_size;
use openddb_core::value::{decode_item, encode_item};
use openddb_core::DynamoError;
use openddb_kv::{prefix_successor, KeyRange, KvError, ReadTxn, Txn};

use crate::actions::common::read_stats;
use crate::catalog::{IndexStatus, TableMeta};
use crate::keys::{self, TableStats};
use crate::run;
use crate::tenant::Tenant;
use crate::write::index_entry;

/// Base items read per backfill transaction: small enough that a chunk
/// never holds up the writes queued behind it for long.
const BACKFILL_CHUNK: usize = 100;

/// The stored catalog entry of `name`, if it is still table `id`.
pub fn load_meta(txn: &dyn ReadTxn, name: &str, id: u64) -> Result<Option<TableMeta>, KvError> {
    let Some(bytes) = txn.get(&keys::catalog_key(name))? else {
        return Ok(None);
    };
    let meta: TableMeta = serde_json::from_slice(&bytes)
        .map_err(|e| KvError::Fatal(format!("corrupt catalog entry: {e}")))?;
    Ok((meta.id == id).then_some(meta))
}

/// Stores a changed catalog entry with the next generation, and mirrors the
/// generation in the table's statistics so that writes prepared against the
/// old entry notice.
pub fn store_meta(txn: &mut dyn Txn, meta: &mut TableMeta) -> Result<(), KvError> {
    meta.generation += 1;
    let bytes = serde_json::to_vec(meta).map_err(|e| KvError::Fatal(e.to_string()))?;
    txn.put(&keys::catalog_key(meta.name()), &bytes)?;
    let mut stats = read_stats(txn, meta.id)?.unwrap_or_default();
    stats.generation = meta.generation;
    txn.put(&keys::stats_key(meta.id), &stats.encode())
}

/// Starts the work every CREATING or DELETING index of the tenant still
/// needs (after a restart). Needs a Tokio runtime; without one (a purely
/// synchronous embedding) the work starts with the next UpdateTable.
pub fn resume(tenant: &Arc<Tenant>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for meta in tenant.tables() {
        for index in &meta.indexes {
            match index.status {
                IndexStatus::Creating => {
                    handle.spawn(build(tenant.clone(), meta.clone(), index.id));
                }
                IndexStatus::Deleting => {
                    handle.spawn(remove(tenant.clone(), meta.clone(), index.id));
                }
                IndexStatus::Active => {}
            }
        }
    }
}

/// What one backfill chunk did.
enum Step {
    /// More items follow the last one read (its storage key).
    Continue(Vec<u8>),
    Done,
    /// The table or the index went away; nothing more to do.
    Gone,
}

/// Backfills index `index_id`, then marks it ACTIVE.
pub async fn build(tenant: Arc<Tenant>, meta: Arc<TableMeta>, index_id: u32) {
    let name = meta.name().to_string();
    let table_id = meta.id;
    let prefix = keys::index_prefix(table_id, keys::BASE_INDEX);
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let started = std::time::Instant::now();
        let (name_w, prefix_w, from) = (name.clone(), prefix.clone(), cursor.clone());
        let step = run::write(&tenant.kv, move |txn| {
            backfill_chunk(txn, &name_w, table_id, index_id, &prefix_w, from.as_deref()).map(Ok)
        })
        .await;
        match step {
            Ok(Step::Continue(last)) => cursor = Some(last),
            Ok(Step::Done) => break,
            Ok(Step::Gone) => return,
            Err(e) => {
                tracing::error!(table = %name, error = %e.message, "index backfill failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        // Leave the writer to foreground traffic for as long as the chunk
        // took: a backfill uses at most half of the write path.
        tokio::time::sleep(started.elapsed()).await;
    }
    let name_w = name.clone();
    let finished = run::write(&tenant.kv, move |txn| {
        let Some(mut meta) = load_meta(txn, &name_w, table_id)? else {
            return Ok(Ok(None));
        };
        let Some(index) = meta.indexes.iter_mut().find(|i| i.id == index_id) else {
            return Ok(Ok(None));
        };
        if index.status != IndexStatus::Creating {
            return Ok(Ok(None));
        }
        index.status = IndexStatus::Active;
        store_meta(txn, &mut meta)?;
        Ok(Ok(Some(meta)))
    })
    .await;
    if let Ok(Some(meta)) = finished {
        tenant.put_table(Arc::new(meta));
    }
}

fn backfill_chunk(
    txn: &mut dyn Txn,
    name: &str,
    table_id: u64,
    index_id: u32,
    prefix: &[u8],
    from: Option<&[u8]>,
) -> Result<Step, KvError> {
    let Some(meta) = load_meta(txn, name, table_id)? else {
        return Ok(Step::Gone);
    };
    let Some(index) = meta.indexes.iter().find(|i| i.id == index_id) else {
        return Ok(Step::Gone);
    };
    if index.status != IndexStatus::Creating {
        return Ok(Step::Gone);
    }
    let mut range = KeyRange::prefix(prefix);
    if let Some(from) = from {
        range.start = std::ops::Bound::Excluded(from.to_vec());
    }
    let rows = txn.scan(&range, false, BACKFILL_CHUNK)?;
    let done = rows.len() < BACKFILL_CHUNK;
    let last = rows.last().map(|(k, _)| k.clone());
    let stats_key = keys::index_stats_key(table_id, index_id);
    let mut stats = txn
        .get(&stats_key)?
        .and_then(|b| TableStats::decode(&b))
        .unwrap_or_default();
    for (_, value) in rows {
        let item = decode_item(&value).map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))?;
        let Some((key, stored)) = index_entry(&meta, index, &item) else {
            continue;
        };
        // A write since the index was declared may have made the entry already.
        if txn.get(&key)?.is_none() {
            txn.put(&key, &encode_item(&stored))?;
            stats.replace(None, Some(item_size(&stored)));
        }
    }
    txn.put(&stats_key, &stats.encode())?;
    Ok(match (done, last) {
        (false, Some(last)) => Step::Continue(last),
        _ => Step::Done,
    })
}

/// Removes the entries and statistics of a DELETING index, then the index
/// itself from the catalog.
pub async fn remove(tenant: Arc<Tenant>, meta: Arc<TableMeta>, index_id: u32) {
    let name = meta.name().to_string();
    let table_id = meta.id;
    let result: Result<Option<TableMeta>, DynamoError> = run::write(&tenant.kv, move |txn| {
        let Some(mut meta) = load_meta(txn, &name, table_id)? else {
            return Ok(Ok(None));
        };
        if !meta
            .indexes
            .iter()
            .any(|i| i.id == index_id && i.status == IndexStatus::Deleting)
        {
            return Ok(Ok(None));
        }
        let prefix = keys::index_prefix(table_id, index_id);
        let end = prefix_successor(&prefix).unwrap_or_default();
        txn.delete_range(&prefix, &end)?;
        txn.delete(&keys::index_stats_key(table_id, index_id))?;
        let index_name = meta
            .indexes
            .iter()
            .find(|i| i.id == index_id)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        meta.indexes.retain(|i| i.id != index_id);
        // Attribute definitions only the removed index used go with it.
        let used: Vec<String> = meta
            .key_schema
            .names()
            .map(str::to_string)
            .chain(
                meta.indexes
                    .iter()
                    .flat_map(|i| i.key_attributes().map(|a| a.name.clone())),
            )
            .collect();
        if let Some(defs) = meta.description.attribute_definitions.as_mut() {
            defs.retain(|d| d.attribute_name.as_ref().is_some_and(|n| used.contains(n)));
        }
        if let Some(gsis) = meta.description.global_secondary_indexes.as_mut() {
            gsis.retain(|g| g.index_name.as_deref() != Some(index_name.as_str()));
            if gsis.is_empty() {
                meta.description.global_secondary_indexes = None;
            }
        }
        store_meta(txn, &mut meta)?;
        Ok(Ok(Some(meta)))
    })
    .await;
    match result {
        Ok(Some(meta)) => tenant.put_table(Arc::new(meta)),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e.message, "index removal failed"),
    }
}
