//! The one path every single-item write takes: inside one kv transaction,
//! read the old item, let the action compute the new one (or refuse, for a
//! failed condition), write it and keep the table statistics in step.
//! Actions are pure functions of the old item, so a backend may re-run them.

use std::sync::Arc;

use openddb_core::size::item_size;
use openddb_core::value::{decode_item, encode_item, normalize_sets};
use openddb_core::{DynamoError, Item};
use openddb_kv::{KvError, Txn};

use crate::actions::common::read_stats;
use crate::actions::describe_table::not_found_item;
use crate::catalog::TableMeta;
use crate::keys;
use crate::run;
use crate::tenant::Tenant;

/// What the action decided for the item.
pub enum Change {
    /// Store this item (insert or replace).
    Put(Item),
    /// Remove the item (a no-op when there is none).
    Delete,
}

/// The item before and after a write, and whatever else the action's
/// decision produced (`extra`).
pub struct Written<X> {
    pub old: Option<Item>,
    pub new: Option<Item>,
    pub old_size: usize,
    pub new_size: usize,
    pub extra: X,
}

fn decode(bytes: &[u8]) -> Result<Item, KvError> {
    decode_item(bytes).map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))
}

/// Reads, decides and writes one item atomically. `decide` may run more
/// than once (a backend may retry); only its last answer counts.
pub async fn write_item<F, X>(
    tenant: &Arc<Tenant>,
    meta: &TableMeta,
    key: Vec<u8>,
    mut decide: F,
) -> Result<Written<X>, DynamoError>
where
    F: FnMut(Option<&Item>) -> Result<(Change, X), DynamoError> + Send + 'static,
    X: Send + 'static,
{
    let table_id = meta.id;
    run::write(&tenant.kv, move |txn: &mut dyn Txn| {
        let Some(mut stats) = read_stats(txn, table_id)? else {
            return Ok(Err(not_found_item()));
        };
        let old = match txn.get(&key)? {
            Some(bytes) => Some(decode(&bytes)?),
            None => None,
        };
        let (change, extra) = match decide(old.as_ref()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let old_size = old.as_ref().map_or(0, item_size);
        let (new, new_size) = match change {
            Change::Put(mut item) => {
                normalize_sets(&mut item);
                let size = item_size(&item);
                txn.put(&key, &encode_item(&item))?;
                (Some(item), size)
            }
            Change::Delete => {
                if old.is_some() {
                    txn.delete(&key)?;
                }
                (None, 0)
            }
        };
        if old.is_some() || new.is_some() {
            stats.item_count += i64::from(new.is_some()) - i64::from(old.is_some());
            stats.size_bytes += new_size as i64 - old_size as i64;
            txn.put(&keys::stats_key(table_id), &stats.encode())?;
        }
        Ok(Ok(Written {
            old,
            new,
            old_size,
            new_size,
            extra,
        }))
    })
    .await
}

/// Reads one item by its storage key.
pub async fn read_item(
    tenant: &Arc<Tenant>,
    meta: &TableMeta,
    key: Vec<u8>,
) -> Result<Option<Item>, DynamoError> {
    let table_id = meta.id;
    run::read(&tenant.kv, move |txn| {
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
