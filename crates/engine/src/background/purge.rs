//! The purge of deleted tables. DeleteTable removes the catalog entry and
//! the table's statistics record in its own transaction (so the table is
//! gone for every request at once, and its name free) and leaves a purge
//! record there; this job then removes the table's items, index entries,
//! statistics, item-collection sizes, Time to Live entries and job
//! progress in bounded steps, and the record last. Table ids are never
//! reused, so nothing of the old table can surface in a new one meanwhile.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{KeyRange, KvError, Outcome, Txn};
use serde::{Deserialize, Serialize};

use super::{Attempt, Job, JobKey, Step, StepFuture, DELETE_STEP_KEYS};
use crate::keys;
use crate::tenant::Tenant;

/// What a purge record says (for logs: the table is no longer in the
/// catalog).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurgeRecord {
    pub table_name: String,
    pub deleted_ms: u64,
}

/// Notes, in DeleteTable's transaction, that table `table_id` must be
/// purged.
pub fn record(txn: &mut dyn Txn, table_id: u64, table_name: &str) -> Result<(), KvError> {
    let record = PurgeRecord {
        table_name: table_name.to_string(),
        deleted_ms: crate::streams::now_ms(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| KvError::Fatal(e.to_string()))?;
    txn.put(&keys::purge_key(table_id), &bytes)
}

/// Has the tenant's purge job look for deleted tables (after a
/// DeleteTable, or when the tenant is opened).
pub fn ensure(tenant: &Arc<Tenant>) {
    tenant
        .background
        .purge_pending
        .store(true, Ordering::SeqCst);
    super::start(tenant, Purge);
}

/// One job per tenant purges its deleted tables one after another.
struct Purge;

/// What one purge step did.
enum Purged {
    /// No table is waiting to be purged.
    Nothing,
    /// Some keys of a table went; more may follow.
    Some { table_id: u64, deleted: usize },
    /// The last keys of a table went, and its record with them.
    Finished(u64, Option<PurgeRecord>),
}

impl Job for Purge {
    fn key(&self) -> JobKey {
        JobKey::Purge
    }

    fn wanted(&self, tenant: &Tenant) -> bool {
        tenant.background.purge_pending.load(Ordering::SeqCst)
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, _: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            // Cleared before looking: a DeleteTable that commits after the
            // look sets it again, and the job goes on instead of stopping.
            tenant
                .background
                .purge_pending
                .store(false, Ordering::SeqCst);
            // Most tenants have nothing to purge: find that out without
            // taking the writer.
            let waiting = super::read(&tenant.kv, |txn| {
                Ok(!txn
                    .scan(&KeyRange::prefix(&keys::purge_prefix()), false, 1)?
                    .is_empty())
            })
            .await?;
            if !waiting {
                return Ok(Step::Idle(Duration::ZERO));
            }
            match super::write(&tenant.kv, |txn| Ok((Outcome::Commit, purge_step(txn)?))).await? {
                Purged::Nothing => Ok(Step::Idle(Duration::ZERO)),
                Purged::Some { table_id, deleted } => {
                    tracing::debug!(table_id, deleted, "purge step");
                    Ok(Step::More)
                }
                Purged::Finished(table_id, record) => {
                    tracing::info!(
                        table_id,
                        table = record.as_ref().map_or("", |r| r.table_name.as_str()),
                        "table data purged"
                    );
                    Ok(Step::More)
                }
            }
        })
    }
}

/// Removes up to `DELETE_STEP_KEYS` keys of the first table waiting to be
/// purged, and its purge record once nothing of it is left.
fn purge_step(txn: &mut dyn Txn) -> Result<Purged, KvError> {
    let Some((record_key, record)) = txn
        .scan(&KeyRange::prefix(&keys::purge_prefix()), false, 1)?
        .into_iter()
        .next()
    else {
        return Ok(Purged::Nothing);
    };
    let Some(table_id) = keys::split_purge_key(&record_key) else {
        // Not a record this build wrote: drop it rather than meet it forever.
        tracing::warn!(key = %super::hex(&record_key), "unreadable purge record removed");
        txn.delete(&record_key)?;
        return Ok(Purged::Some {
            table_id: 0,
            deleted: 1,
        });
    };
    let mut budget = DELETE_STEP_KEYS;
    for prefix in keys::table_data_prefixes(table_id) {
        let (deleted, more) = super::delete_some(txn, &prefix, budget)?;
        budget -= deleted.min(budget);
        if more || budget == 0 {
            return Ok(Purged::Some {
                table_id,
                deleted: DELETE_STEP_KEYS - budget,
            });
        }
    }
    txn.delete(&record_key)?;
    Ok(Purged::Finished(
        table_id,
        serde_json::from_slice(&record).ok(),
    ))
}
