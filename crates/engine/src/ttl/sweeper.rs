//! The Time to Live sweeper: one background job per open tenant, running
//! only while one of its tables has TTL enabled. A round reads each such
//! table's TTL index for entries that are due and deletes their items
//! through the write path (`Change::Expire`: indexes, statistics and the
//! stream record, which names DynamoDB's TTL service), in bounded, paced
//! transactions. The next round is due when the earliest expiry left in
//! the index passes, and no sooner than an interval after this one; with
//! no expiry left the sweeper sleeps until a write indexes one
//! (`background::wakeups`), so an idle tenant is not visited at all. An
//! item whose deletion keeps failing on its own is left for a while (and
//! reported) instead of holding up the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use openddb_core::value::decode_item;
use openddb_core::Item;
use openddb_kv::{KeyRange, KvError, Outcome, Txn};

use super::{due, due_ms, expiry_of, now_secs, MAX_AGE_SECS};
use crate::background::problems::Problem;
use crate::background::{self, Attempt, Job, JobKey, Step, StepFuture, Timed};
use crate::catalog::TableMeta;
use crate::indexing::load_meta;
use crate::keys;
use crate::tenancy::scheduler::{ms_to_instant, now_ms};
use crate::tenant::Tenant;
use crate::write::{write_in, Change};

/// Items deleted per kv transaction.
const SWEEP_BATCH: usize = 100;

/// How far apart a sweeper's rounds are at least unless configured (a
/// round is due when an item expires, or an interval after the previous
/// one if that is later): DynamoDB deletes within days; we aim for within
/// a minute of expiry.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// How long an item the sweeper gave up on is left alone before it is
/// tried again: long enough not to flood the log, short enough that an
/// item a passing fault held up still goes the same hour.
const RETRY_GIVEN_UP: Duration = Duration::from_secs(600);

fn any_ttl(tenant: &Tenant) -> bool {
    tenant.tables().iter().any(|t| t.ttl.is_some())
}

/// Starts the tenant's sweeper if one of its tables has TTL enabled and it
/// is not running yet (a tenant without TTL never wakes up). Called when a
/// tenant is opened and after TTL is enabled.
pub fn ensure(tenant: &Arc<Tenant>) {
    background::start(
        tenant,
        Sweep {
            interval: tenant.ttl_sweep_interval,
            phase: Phase::Start,
            round: Vec::new(),
            now: 0,
            started: Instant::now(),
            cursor: None,
            given_up: HashMap::new(),
        },
    );
}

enum Phase {
    /// A round starts with the next step.
    Start,
    /// Sweeping `round`'s last table; `true` once something was found due.
    Table(bool),
}

/// The sweeper's state between steps.
struct Sweep {
    interval: Duration,
    phase: Phase,
    /// Tables left in this round, the current one last.
    round: Vec<Arc<TableMeta>>,
    /// The time this round deletes up to.
    now: u64,
    /// When this round started.
    started: Instant,
    /// The last TTL entry of the current table this round has dealt with.
    cursor: Option<Vec<u8>>,
    /// TTL entries given up on, and when to try them again.
    given_up: HashMap<Vec<u8>, Instant>,
}

impl Job for Sweep {
    fn key(&self) -> JobKey {
        JobKey::TtlSweep
    }

    fn wanted(&self, tenant: &Tenant) -> bool {
        any_ttl(tenant)
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, attempt: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            loop {
                match self.phase {
                    Phase::Start => {
                        let mut tables: Vec<_> = tenant
                            .tables()
                            .into_iter()
                            .filter(|t| t.ttl.is_some())
                            .collect();
                        tables.reverse();
                        self.round = tables;
                        self.now = now_secs();
                        self.started = Instant::now();
                        self.cursor = None;
                        self.phase = Phase::Table(false);
                        // Writes during the round bring the next one
                        // forward, but not before an interval has passed.
                        let interval_ms = self.interval.as_millis() as u64;
                        tenant
                            .background
                            .wakeups
                            .hold_off(Timed::Sweep, now_ms().saturating_add(interval_ms));
                    }
                    Phase::Table(found) => {
                        let Some(meta) = self.round.last().cloned() else {
                            let now = Instant::now();
                            self.given_up.retain(|_, retry| *retry > now);
                            let next = self.next_round(tenant).await?;
                            self.phase = Phase::Start;
                            return Ok(Step::Wait(next));
                        };
                        let range = self.due_range(&meta);
                        // The common case, nothing due, is one short read of
                        // a snapshot; the writer is taken only for deletions.
                        if !found {
                            let probe = range.clone();
                            let anything = background::read(&tenant.kv, move |txn| {
                                Ok(!txn.scan(&probe, false, 1)?.is_empty())
                            })
                            .await?;
                            if !anything {
                                self.next_table();
                                continue;
                            }
                            self.phase = Phase::Table(true);
                        }
                        if attempt.give_up() {
                            self.give_up(tenant, &meta, range, attempt).await?;
                            return Ok(Step::More);
                        }
                        let limit = if attempt.narrowed() { 1 } else { SWEEP_BATCH };
                        let now = Instant::now();
                        let skip: Vec<Vec<u8>> = self
                            .given_up
                            .iter()
                            .filter(|(_, retry)| **retry > now)
                            .map(|(k, _)| k.clone())
                            .collect();
                        let swept =
                            sweep_batch(tenant, &meta, range, self.now, limit, skip).await?;
                        report_undecodable(tenant, &meta, &swept.undecodable);
                        match swept.last {
                            Some(last) if swept.more => self.cursor = Some(last),
                            _ => self.next_table(),
                        }
                        return Ok(Step::More);
                    }
                }
            }
        })
    }
}

impl Sweep {
    /// When the next round is due: a whole second after the earliest
    /// expiry in the index (leaving out the entries given up on for now),
    /// or when an item given up on is to be tried again, and no sooner
    /// than an interval after this round started. `None` when no item
    /// will expire.
    async fn next_round(&self, tenant: &Tenant) -> Result<Option<Instant>, KvError> {
        let now = Instant::now();
        let skip: Vec<Vec<u8>> = self.given_up.keys().cloned().collect();
        let tables: Vec<u64> = tenant
            .tables()
            .iter()
            .filter(|t| t.ttl.is_some())
            .map(|t| t.id)
            .collect();
        // Entries more than five years past are never due: not looked at.
        let oldest = now_secs().saturating_sub(MAX_AGE_SECS);
        let earliest = background::read(&tenant.kv, move |txn| {
            let mut earliest: Option<u64> = None;
            for id in tables {
                let mut range = KeyRange::prefix(&keys::ttl_prefix(id));
                range.start = std::ops::Bound::Included(keys::ttl_from(id, oldest));
                let first = txn
                    .scan(&range, false, skip.len() + 1)?
                    .into_iter()
                    .filter(|(k, _)| !skip.contains(k))
                    .find_map(|(k, _)| keys::split_ttl_key(id, &k).map(|(e, _)| e));
                if let Some(expiry) = first {
                    earliest = Some(earliest.map_or(expiry, |e| e.min(expiry)));
                }
            }
            Ok(earliest)
        })
        .await?;
        let by_expiry = earliest.and_then(due_ms).map(ms_to_instant);
        let retry = self.given_up.values().min().copied();
        let next = match (by_expiry, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(next.map(|at| at.max(self.started + self.interval).max(now)))
    }

    /// The entries of `meta` due this round that are still to be dealt with.
    fn due_range(&self, meta: &TableMeta) -> KeyRange {
        let mut range = KeyRange::half_open(
            keys::ttl_from(meta.id, self.now.saturating_sub(MAX_AGE_SECS)),
            keys::ttl_from(meta.id, self.now),
        );
        if let Some(cursor) = &self.cursor {
            range.start = std::ops::Bound::Excluded(cursor.clone());
        }
        range
    }

    fn next_table(&mut self) {
        self.round.pop();
        self.cursor = None;
        self.phase = Phase::Table(false);
    }

    /// Leaves the first entry left in `range` alone for a while: its item
    /// failed to be deleted on its own, repeatedly.
    async fn give_up(
        &mut self,
        tenant: &Tenant,
        meta: &TableMeta,
        range: KeyRange,
        attempt: &Attempt,
    ) -> Result<(), KvError> {
        let entry = background::read(&tenant.kv, move |txn| {
            Ok(txn
                .scan(&range, false, 1)?
                .into_iter()
                .next()
                .map(|(k, _)| k))
        })
        .await?;
        let Some(entry) = entry else {
            self.next_table();
            return Ok(());
        };
        let item_key = keys::split_ttl_key(meta.id, &entry).map_or(&[][..], |(_, k)| k);
        tracing::warn!(table = %meta.name(), key = %background::hex(item_key),
            error = ?attempt.last_error, retry_in_s = RETRY_GIVEN_UP.as_secs(),
            "expired item kept failing to be deleted: left for now");
        tenant.background.problems.add(Problem::ItemSkipped, 1);
        self.given_up
            .insert(entry.clone(), Instant::now() + RETRY_GIVEN_UP);
        self.cursor = Some(entry);
        Ok(())
    }
}

fn report_undecodable(tenant: &Tenant, meta: &TableMeta, keys: &[Vec<u8>]) {
    for key in keys {
        tracing::warn!(table = %meta.name(), key = %background::hex(key),
            "undecodable item cannot expire: its Time to Live entry is dropped");
    }
    tenant
        .background
        .problems
        .add(Problem::UndecodableItem, keys.len() as u64);
}

/// What one batch of a sweep did.
pub struct Swept {
    pub deleted: usize,
    /// The last entry dealt with.
    last: Option<Vec<u8>>,
    /// Whether more entries may follow it.
    more: bool,
    /// Items that could not be decoded (their entries were dropped).
    undecodable: Vec<Vec<u8>>,
}

/// Deletes every due item of one table now, batch after batch, without
/// pacing.
#[cfg(test)]
pub async fn sweep_table(tenant: &Arc<Tenant>, meta: &TableMeta) -> Result<usize, KvError> {
    let now = now_secs();
    let mut range = KeyRange::half_open(
        keys::ttl_from(meta.id, now.saturating_sub(MAX_AGE_SECS)),
        keys::ttl_from(meta.id, now),
    );
    let mut deleted = 0;
    loop {
        let swept = sweep_batch(tenant, meta, range.clone(), now, SWEEP_BATCH, Vec::new()).await?;
        report_undecodable(tenant, meta, &swept.undecodable);
        deleted += swept.deleted;
        match swept.last {
            Some(last) if swept.more => range.start = std::ops::Bound::Excluded(last),
            _ => return Ok(deleted),
        }
    }
}

/// Deletes the items of up to `limit` due entries of `range` (except those
/// in `skip`), in one transaction.
async fn sweep_batch(
    tenant: &Arc<Tenant>,
    meta: &TableMeta,
    range: KeyRange,
    now: u64,
    limit: usize,
    skip: Vec<Vec<u8>>,
) -> Result<Swept, KvError> {
    let (name, id) = (meta.name().to_string(), meta.id);
    background::write(&tenant.kv, move |txn| {
        sweep_in(txn, &name, id, &range, now, limit, &skip)
    })
    .await
}

/// Each item's TTL value is read again here, in the deleting transaction:
/// an entry exists exactly while its item holds that expiry (the write path
/// moves it), but an entry that does not match is dropped rather than
/// trusted.
fn sweep_in(
    txn: &mut dyn Txn,
    name: &str,
    table_id: u64,
    range: &KeyRange,
    now: u64,
    limit: usize,
    skip: &[Vec<u8>],
) -> Result<(Outcome, Swept), KvError> {
    let mut swept = Swept {
        deleted: 0,
        last: None,
        more: false,
        undecodable: Vec::new(),
    };
    let Some(meta) = load_meta(txn, name, table_id)? else {
        return Ok((Outcome::Commit, swept));
    };
    let Some(attribute) = meta.ttl.as_ref().map(|t| t.attribute_name.clone()) else {
        return Ok((Outcome::Commit, swept));
    };
    let meta = Arc::new(meta);
    let entries = txn.scan(range, false, limit)?;
    swept.more = entries.len() == limit;
    swept.last = entries.last().map(|(k, _)| k.clone());
    for (entry, _) in &entries {
        if skip.contains(entry) {
            continue;
        }
        let Some((expiry, item_key)) = keys::split_ttl_key(table_id, entry) else {
            txn.delete(entry)?;
            continue;
        };
        let current = match txn.get(item_key)? {
            Some(bytes) => match decode_item(&bytes) {
                Ok(item) => expiry_of(&item, &attribute),
                Err(_) => {
                    // The write path cannot delete what it cannot read; the
                    // entry goes so the item is not met every round.
                    swept.undecodable.push(item_key.to_vec());
                    None
                }
            },
            None => None,
        };
        if current != Some(expiry) {
            txn.delete(entry)?;
            continue;
        }
        if !due(expiry, now) {
            continue;
        }
        // The write path removes the entry with the item.
        let mut expire = |_: Option<&Item>| Ok((Change::Expire, ()));
        if write_in(txn, &meta, item_key, &mut expire)?.is_err() {
            // The table is gone (the only refusal an expiry can meet, and
            // met before anything is written): nothing more to sweep.
            swept.more = false;
            return Ok((Outcome::Commit, swept));
        }
        swept.deleted += 1;
    }
    Ok((Outcome::Commit, swept))
}
