//! The Time to Live sweeper: one background task per open tenant, running
//! only while one of its tables has TTL enabled. Every interval it reads
//! each such table's TTL index for entries that are due and deletes their
//! items through the write path (`Change::Expire`: indexes, statistics and
//! the stream record, which names DynamoDB's TTL service), in bounded,
//! paced transactions.

use std::sync::{Arc, Weak};
use std::time::Duration;

use openddb_core::value::decode_item;
use openddb_core::{DynamoError, Item};
use openddb_kv::{KeyRange, KvError, Txn};
use parking_lot::Mutex;

use super::{due, expiry_of, now_secs, MAX_AGE_SECS};
use crate::catalog::TableMeta;
use crate::indexing::load_meta;
use crate::keys;
use crate::run::{self, WriteResult};
use crate::tenant::Tenant;
use crate::write::{write_in, Change};

/// Items deleted per kv transaction.
const SWEEP_BATCH: usize = 100;

/// How often a sweeper looks for expired items unless configured: DynamoDB
/// deletes within days; we aim for within a minute of expiry.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// A tenant's sweeper: its cadence and whether its task is running.
pub struct Sweeper {
    interval: Duration,
    running: Mutex<bool>,
}

impl Sweeper {
    pub fn new(interval: Duration) -> Sweeper {
        Sweeper {
            interval,
            running: Mutex::new(false),
        }
    }
}

fn any_ttl(tenant: &Tenant) -> bool {
    tenant.tables().iter().any(|t| t.ttl.is_some())
}

/// Starts the tenant's sweeper if one of its tables has TTL enabled and it
/// is not running yet (a tenant without TTL never wakes up). Called when a
/// tenant is opened and after TTL is enabled. Needs a Tokio runtime.
pub fn ensure(tenant: &Arc<Tenant>) {
    if !any_ttl(tenant) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let mut running = tenant.sweeper.running.lock();
    if *running {
        return;
    }
    *running = true;
    handle.spawn(sweep_forever(Arc::downgrade(tenant)));
}

/// Sweeps every interval until no table has TTL enabled (or the tenant is
/// dropped with its database).
async fn sweep_forever(tenant: Weak<Tenant>) {
    loop {
        let Some(interval) = tenant.upgrade().map(|t| t.sweeper.interval) else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(tenant) = tenant.upgrade() else {
            return;
        };
        let tables: Vec<Arc<TableMeta>> = tenant
            .tables()
            .into_iter()
            .filter(|t| t.ttl.is_some())
            .collect();
        if tables.is_empty() {
            // Decided under the lock `ensure` takes, so an enabling that
            // lands now either is seen here or starts a new task.
            let mut running = tenant.sweeper.running.lock();
            if !any_ttl(&tenant) {
                *running = false;
                return;
            }
            continue;
        }
        for meta in tables {
            if let Err(e) = sweep_table(&tenant, &meta).await {
                tracing::error!(table = %meta.name(), error = %e.message, "TTL sweep failed");
            }
        }
    }
}

/// Deletes every due item of one table. The common case, nothing due, is
/// one short read of a snapshot; otherwise batches of deletions, each
/// followed by a pause as long as it took, so that foreground writes keep
/// at least half of the writer.
pub async fn sweep_table(tenant: &Arc<Tenant>, meta: &TableMeta) -> Result<usize, DynamoError> {
    let now = now_secs();
    let due_range = KeyRange::half_open(
        keys::ttl_from(meta.id, now.saturating_sub(MAX_AGE_SECS)),
        keys::ttl_from(meta.id, now),
    );
    let range = due_range.clone();
    let anything = run::read(&tenant.kv, move |txn| {
        Ok(!txn
            .scan(&range, false, 1)
            .map_err(run::storage_error)?
            .is_empty())
    })
    .await?;
    if !anything {
        return Ok(0);
    }
    let mut deleted = 0;
    loop {
        let started = std::time::Instant::now();
        let (name, id, range) = (meta.name().to_string(), meta.id, due_range.clone());
        let (count, more) = run::write(&tenant.kv, move |txn| {
            sweep_batch(txn, &name, id, &range, now)
        })
        .await?;
        deleted += count;
        if !more {
            return Ok(deleted);
        }
        tokio::time::sleep(started.elapsed()).await;
    }
}

/// Deletes the items of up to one batch of due entries. Each item's TTL
/// value is read again here, in the deleting transaction: an entry exists
/// exactly while its item holds that expiry (the write path moves it), but
/// an entry that does not match is dropped rather than trusted. Returns how
/// many items were deleted and whether more entries may be due.
fn sweep_batch(
    txn: &mut dyn Txn,
    name: &str,
    table_id: u64,
    range: &KeyRange,
    now: u64,
) -> WriteResult<(usize, bool)> {
    let Some(meta) = load_meta(txn, name, table_id)? else {
        return Ok(Ok((0, false)));
    };
    let Some(attribute) = meta.ttl.as_ref().map(|t| t.attribute_name.clone()) else {
        return Ok(Ok((0, false)));
    };
    let meta = Arc::new(meta);
    let entries = txn.scan(range, false, SWEEP_BATCH)?;
    let mut deleted = 0;
    let mut dropped = 0;
    for (entry, _) in &entries {
        let Some((expiry, item_key)) = keys::split_ttl_key(table_id, entry) else {
            txn.delete(entry)?;
            dropped += 1;
            continue;
        };
        let current = match txn.get(item_key)? {
            Some(bytes) => {
                let item = decode_item(&bytes)
                    .map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))?;
                expiry_of(&item, &attribute)
            }
            None => None,
        };
        if current != Some(expiry) {
            txn.delete(entry)?;
            dropped += 1;
            continue;
        }
        if !due(expiry, now) {
            continue;
        }
        // The write path removes the entry with the item.
        let mut expire = |_: Option<&Item>| Ok((Change::Expire, ()));
        if let Err(e) = write_in(txn, &meta, item_key, &mut expire)? {
            return Ok(Err(e));
        }
        deleted += 1;
    }
    let more = entries.len() == SWEEP_BATCH && deleted + dropped > 0;
    Ok(Ok((deleted, more)))
}
