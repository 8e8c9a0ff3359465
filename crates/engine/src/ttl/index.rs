//! The Time to Live index: one empty entry per item whose TTL attribute
//! holds an expiry, ordered by expiry, so the sweeper reads only what is
//! due. Writes keep it in the item's own transaction; enabling TTL on a
//! table with items backfills it in bounded chunks (a background job,
//! resumed from its progress record when a tenant is opened); disabling
//! removes it with the setting.

use std::sync::{Arc, LazyLock};

use openddb_core::value::decode_item;
use openddb_core::Item;
use openddb_kv::{prefix_successor, KeyRange, KvError, Outcome, Txn};

use super::expiry_of;
use crate::background::problems::Problem;
use crate::background::{self, Attempt, Job, JobKey, StepFuture};
use crate::catalog::TableMeta;
use crate::indexing::{load_meta, store_meta};
use crate::keys;
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
/// storage key of the last item done), and notes where it stopped in the
/// backfill's progress record. Returns the key to continue after, or
/// `None` when the table has been walked to its end. Called in the
/// transaction that enables TTL (its first chunk).
pub fn fill(
    txn: &mut dyn Txn,
    meta: &TableMeta,
    from: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, KvError> {
    let filled = fill_chunk(txn, meta, from, BACKFILL_CHUNK)?;
    for key in &filled.undecodable {
        // Logged, not counted: this closure may run more than once.
        tracing::warn!(table = %meta.name(), key = %background::hex(key),
            "undecodable item left out of the Time to Live index");
    }
    Ok(filled.next)
}

/// What one chunk of a Time to Live backfill did.
struct Filled {
    /// The key to continue after, if the walk goes on.
    next: Option<Vec<u8>>,
    undecodable: Vec<Vec<u8>>,
}

fn fill_chunk(
    txn: &mut dyn Txn,
    meta: &TableMeta,
    from: Option<&[u8]>,
    limit: usize,
) -> Result<Filled, KvError> {
    let mut filled = Filled {
        next: None,
        undecodable: Vec::new(),
    };
    let Some(ttl) = &meta.ttl else {
        return Ok(filled);
    };
    let mut range = KeyRange::prefix(&keys::index_prefix(meta.id, keys::BASE_INDEX));
    if let Some(from) = from {
        range.start = std::ops::Bound::Excluded(from.to_vec());
    }
    let rows = txn.scan(&range, false, limit)?;
    let more = rows.len() == limit;
    for (key, value) in &rows {
        // An item that cannot be read cannot expire either; it is left out
        // (and reported) rather than stopping the walk.
        let Ok(item) = decode_item(value) else {
            filled.undecodable.push(key.clone());
            continue;
        };
        if let Some(expiry) = expiry_of(&item, &ttl.attribute_name) {
            txn.put(&keys::ttl_key(meta.id, expiry, key), &[])?;
        }
    }
    let progress = keys::ttl_backfill_progress_key(meta.id, ttl.since);
    match rows.last() {
        Some((last, _)) if more => {
            txn.put(&progress, last)?;
            filled.next = Some(last.clone());
        }
        _ => txn.delete(&progress)?,
    }
    Ok(filled)
}

/// The first byte of every Time to Live index key.
static ENTRY_TAG: LazyLock<u8> = LazyLock::new(|| keys::ttl_prefix(0)[0]);

/// The expiry a key of the Time to Live index holds, or `None` for any
/// other key: how the tenant's storage wrapper learns of new expiries
/// without the write path telling it (`tenancy::watch`).
pub fn entry_expiry(key: &[u8]) -> Option<u64> {
    if key.first() != Some(&*ENTRY_TAG) {
        return None;
    }
    let table_id = u64::from_be_bytes(key.get(1..9)?.try_into().ok()?);
    keys::split_ttl_key(table_id, key).map(|(expiry, _)| expiry)
}

/// Removes every TTL entry of a table (TTL disabled).
pub fn remove_all(txn: &mut dyn Txn, table_id: u64) -> Result<(), KvError> {
    let prefix = keys::ttl_prefix(table_id);
    let end = prefix_successor(&prefix).unwrap_or_default();
    txn.delete_range(&prefix, &end)
}

/// Starts the backfill of the Time to Live index of `meta` (TTL enabled,
/// not yet backfilled), from its progress record; it marks the setting
/// backfilled when done.
pub fn start_backfill(tenant: &Arc<Tenant>, meta: &TableMeta) {
    let Some(ttl) = meta.ttl.as_ref().filter(|t| !t.backfilled) else {
        return;
    };
    background::start(
        tenant,
        Backfill {
            table: meta.name().to_string(),
            table_id: meta.id,
            since: ttl.since,
        },
    );
}

/// Restarts the backfills a tenant's catalog says are unfinished, each
/// from its progress record.
pub fn resume(tenant: &Arc<Tenant>) {
    for meta in tenant.tables() {
        start_backfill(tenant, &meta);
    }
}

/// A Time to Live backfill of the enabling `since` of a table.
struct Backfill {
    table: String,
    table_id: u64,
    since: u64,
}

/// What one background backfill step did.
enum Step {
    Continue(Vec<Vec<u8>>),
    /// The walk ended; the catalog entry now says backfilled.
    Finished(Box<TableMeta>, Vec<Vec<u8>>),
    /// The table, or this enabling of TTL, is gone.
    Gone,
    /// An item given up on after failing alone.
    Skipped(Vec<u8>),
}

impl Job for Backfill {
    fn key(&self) -> JobKey {
        JobKey::TtlBackfill {
            table_id: self.table_id,
            since: self.since,
        }
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, attempt: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            let (name, table_id, since) = (self.table.clone(), self.table_id, self.since);
            let limit = if attempt.narrowed() {
                1
            } else {
                BACKFILL_CHUNK
            };
            let skip = attempt.give_up();
            let step = background::write(&tenant.kv, move |txn| {
                let progress = keys::ttl_backfill_progress_key(table_id, since);
                let Some(mut meta) = current(txn, &name, table_id, since)? else {
                    // This enabling was disabled (or the table deleted): its
                    // place in the walk is of no use any more.
                    txn.delete(&progress)?;
                    return Ok((Outcome::Commit, Step::Gone));
                };
                let from = txn.get(&progress)?;
                let mut range = KeyRange::prefix(&keys::index_prefix(table_id, keys::BASE_INDEX));
                if let Some(from) = &from {
                    range.start = std::ops::Bound::Excluded(from.clone());
                }
                if skip {
                    if let Some((key, _)) = txn.scan(&range, false, 1)?.into_iter().next() {
                        txn.put(&progress, &key)?;
                        return Ok((Outcome::Commit, Step::Skipped(key)));
                    }
                }
                let filled = fill_chunk(txn, &meta, from.as_deref(), limit)?;
                if filled.next.is_some() {
                    return Ok((Outcome::Commit, Step::Continue(filled.undecodable)));
                }
                if let Some(ttl) = meta.ttl.as_mut() {
                    ttl.backfilled = true;
                }
                store_meta(txn, &mut meta)?;
                Ok((
                    Outcome::Commit,
                    Step::Finished(Box::new(meta), filled.undecodable),
                ))
            })
            .await?;
            let problems = &tenant.background.problems;
            let report = |undecodable: &[Vec<u8>]| {
                for key in undecodable {
                    tracing::warn!(table = %self.table, key = %background::hex(key),
                        "undecodable item left out of the Time to Live index");
                }
                problems.add(Problem::UndecodableItem, undecodable.len() as u64);
            };
            Ok(match step {
                Step::Continue(undecodable) => {
                    report(&undecodable);
                    background::Step::More
                }
                Step::Skipped(key) => {
                    tracing::warn!(table = %self.table, key = %background::hex(&key),
                        error = ?attempt.last_error,
                        "item kept failing: left out of the Time to Live index");
                    problems.add(Problem::ItemSkipped, 1);
                    background::Step::More
                }
                Step::Finished(meta, undecodable) => {
                    report(&undecodable);
                    tenant.put_table(Arc::new(*meta));
                    background::Step::Done
                }
                Step::Gone => background::Step::Done,
            })
        })
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
