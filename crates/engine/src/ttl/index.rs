//! The Time to Live index: one empty entry per item whose TTL attribute
//! holds an expiry, ordered by expiry, so the sweeper reads only what is
//! due. Writes keep it in the item's own transaction; enabling TTL on a
//! table with items backfills it in bounded chunks (resumed when a tenant
//! is opened); disabling removes it with the setting.

use std::sync::Arc;
use std::time::Duration;

use openddb_core::value::decode_item;
use openddb_core::{DynamoError, Item};
use openddb_kv::{prefix_successor, KeyRange, KvError, Txn};

use super::expiry_of;
use crate::catalog::TableMeta;
use crate::indexing::{load_meta, store_meta};
use crate::keys;
use crate::run;
use crate::tenant::Tenant;

/// Base items read per backfill transaction (as for secondary indexes).
const BACKFILL_CHUNK: usize = 100;

/// Keeps an item's TTL entry in step with one change of it; part of every
/// write (`write::write_in`) on a table with TTL enabled. While a backfill
/// runs, an item it has not reached yet may have no entry: removing an
/// absent entry is harmless, and the backfill adds it from the item as it
/// is then.
pub fn maintain(
    txn: &mut dyn Txn,
    meta: &TableMeta,
    item_key: &[u8],
    old: Option<&Item>,
    new: Option<&Item>,
) -> Result<(), KvError> {
    let Some(ttl) = &meta.ttl else {
        return Ok(());
    };
    let before = old.and_then(|i| expiry_of(i, &ttl.attribute_name));
    let after = new.and_then(|i| expiry_of(i, &ttl.attribute_name));
    if before == after {
        return Ok(());
    }
    if let Some(expiry) = before {
        txn.delete(&keys::ttl_key(meta.id, expiry, item_key))?;
    }
    if let Some(expiry) = after {
        txn.put(&keys::ttl_key(meta.id, expiry, item_key), &[])?;
    }
    Ok(())
}

/// Adds the entries of up to one chunk of base items after `from` (the
/// storage key of the last item done). Returns the key to continue after,
/// or `None` when the table has been walked to its end.
pub fn fill(
    txn: &mut dyn Txn,
    meta: &TableMeta,
    from: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, KvError> {
    let Some(ttl) = &meta.ttl else {
        return Ok(None);
    };
    let mut range = KeyRange::prefix(&keys::index_prefix(meta.id, keys::BASE_INDEX));
    if let Some(from) = from {
        range.start = std::ops::Bound::Excluded(from.to_vec());
    }
    let rows = txn.scan(&range, false, BACKFILL_CHUNK)?;
    let more = rows.len() == BACKFILL_CHUNK;
    for (key, value) in &rows {
        let item = decode_item(value).map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))?;
        if let Some(expiry) = expiry_of(&item, &ttl.attribute_name) {
            txn.put(&keys::ttl_key(meta.id, expiry, key), &[])?;
        }
    }
    Ok(if more {
        rows.last().map(|(k, _)| k.clone())
    } else {
        None
    })
}

/// Removes every TTL entry of a table (TTL disabled, table deleted).
pub fn remove_all(txn: &mut dyn Txn, table_id: u64) -> Result<(), KvError> {
    let prefix = keys::ttl_prefix(table_id);
    let end = prefix_successor(&prefix).unwrap_or_default();
    txn.delete_range(&prefix, &end)
}

/// What one background backfill chunk found.
enum Step {
    Continue(Vec<u8>),
    Done,
    /// The table, or this enabling of TTL, is gone.
    Gone,
}

/// Backfills the TTL index of the enabling `since` of table `meta`,
/// starting after `cursor` (from the first item when `None`), then marks
/// it complete. Chunks are paced like index backfills: after each, the
/// writer is left to foreground traffic for as long as the chunk took.
pub async fn backfill(
    tenant: Arc<Tenant>,
    meta: Arc<TableMeta>,
    since: u64,
    mut cursor: Option<Vec<u8>>,
) {
    let name = meta.name().to_string();
    let table_id = meta.id;
    loop {
        let started = std::time::Instant::now();
        let (name_w, from) = (name.clone(), cursor.clone());
        let step = run::write(&tenant.kv, move |txn| {
            let Some(meta) = current(txn, &name_w, table_id, since)? else {
                return Ok(Ok(Step::Gone));
            };
            Ok(Ok(match fill(txn, &meta, from.as_deref())? {
                Some(last) => Step::Continue(last),
                None => Step::Done,
            }))
        })
        .await;
        match step {
            Ok(Step::Continue(last)) => cursor = Some(last),
            Ok(Step::Done) => break,
            Ok(Step::Gone) => return,
            Err(e) => {
                tracing::error!(table = %name, error = %e.message, "TTL backfill failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        tokio::time::sleep(started.elapsed()).await;
    }
    let finished: Result<Option<TableMeta>, DynamoError> = run::write(&tenant.kv, move |txn| {
        let Some(mut meta) = current(txn, &name, table_id, since)? else {
            return Ok(Ok(None));
        };
        if let Some(ttl) = meta.ttl.as_mut() {
            ttl.backfilled = true;
        }
        store_meta(txn, &mut meta)?;
        Ok(Ok(Some(meta)))
    })
    .await;
    match finished {
        Ok(Some(meta)) => tenant.put_table(Arc::new(meta)),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e.message, "TTL backfill could not finish"),
    }
}

/// The stored entry of the table, if TTL is still enabled by `since` and
/// not yet backfilled.
fn current(
    txn: &dyn Txn,
    name: &str,
    table_id: u64,
    since: u64,
) -> Result<Option<TableMeta>, KvError> {
    Ok(load_meta(txn, name, table_id)?.filter(|m| {
        m.ttl
            .as_ref()
            .is_some_and(|t| t.since == since && !t.backfilled)
    }))
}

/// Restarts the backfills a tenant's catalog says are unfinished (after a
/// restart they start again from the first item; entries already present
/// are written again, unchanged). Needs a Tokio runtime.
pub fn resume(tenant: &Arc<Tenant>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    for meta in tenant.tables() {
        if let Some(ttl) = meta.ttl.as_ref().filter(|t| !t.backfilled) {
            handle.spawn(backfill(tenant.clone(), meta.clone(), ttl.since, None));
        }
    }
}
