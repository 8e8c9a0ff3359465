//! The life cycle of global secondary indexes added or removed by
//! UpdateTable: catalog changes made inside transactions against the stored
//! entry, a backfill that builds a new index in bounded chunks while
//! writes go on (writes maintain a CREATING index from the moment it is
//! declared), and the removal of a deleted one. Both are background jobs
//! (`background`) and resume after a restart: the catalog says which
//! indexes are still CREATING or DELETING, and a backfill's progress
//! record where it stopped.

use std::sync::Arc;

use openddb_core::size::item_size;
use openddb_core::value::{decode_item, encode_item};
use openddb_core::{AttributeValue, Item};
use openddb_kv::{KeyRange, KvError, Outcome, ReadTxn, Txn};

use crate::actions::common::read_stats;
use crate::background::problems::Problem;
use crate::background::{self, Attempt, Job, JobKey, Step, StepFuture};
use crate::catalog::{
    IndexMeta, IndexStatus, TableMeta, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES,
};
use crate::keys::{self, TableStats};
use crate::tenant::Tenant;
use crate::write::index_entry;

/// Base items read per backfill transaction: small enough that a chunk
/// never holds up the writes queued behind it for long.
const BACKFILL_CHUNK: usize = 100;

/// Index key violations logged one by one per backfill; the rest are
/// counted, and the total is logged when the index becomes ACTIVE.
const VIOLATIONS_LOGGED: u64 = 10;

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
/// needs (when the tenant is opened).
pub fn resume(tenant: &Arc<Tenant>) {
    for meta in tenant.tables() {
        for index in &meta.indexes {
            match index.status {
                IndexStatus::Creating => start_build(tenant, &meta, index.id),
                IndexStatus::Deleting => start_removal(tenant, &meta, index.id),
                IndexStatus::Active => {}
            }
        }
    }
}

/// Starts the backfill of index `index_id` (CREATING) of `meta`; it marks
/// the index ACTIVE when done.
pub fn start_build(tenant: &Arc<Tenant>, meta: &TableMeta, index_id: u32) {
    background::start(
        tenant,
        Build {
            table: meta.name().to_string(),
            table_id: meta.id,
            index_id,
            violations: 0,
        },
    );
}

/// Starts the removal of index `index_id` (DELETING) of `meta`.
pub fn start_removal(tenant: &Arc<Tenant>, meta: &TableMeta, index_id: u32) {
    background::start(
        tenant,
        Removal {
            table: meta.name().to_string(),
            table_id: meta.id,
            index_id,
        },
    );
}

/// Why a base item has no entry in an index being built.
enum Left {
    /// It lacks one of the index key attributes (a sparse index).
    Sparse,
    /// DynamoDB's index key violation: the item stays in the table, the
    /// index has no entry for it, and the backfill goes on. See "Detecting
    /// and correcting index key violations" in the DynamoDB Developer
    /// Guide (GSI.OnlineOps.ViolationDetection).
    Violation(String),
}

/// The item's entry in `index`, or why it has none.
fn backfill_entry(
    meta: &TableMeta,
    index: &IndexMeta,
    item: &Item,
) -> Result<(Vec<u8>, Item), Left> {
    let attributes = index
        .partition
        .iter()
        .map(|a| (a, MAX_PARTITION_KEY_BYTES))
        .chain(index.sort.iter().map(|a| (a, MAX_SORT_KEY_BYTES)));
    let mut violation = None;
    for (attr, max) in attributes {
        let Some(value) = item.get(&attr.name) else {
            return Err(Left::Sparse);
        };
        if violation.is_some() {
            continue;
        }
        let len = match value {
            AttributeValue::S(s) => Some(s.len()),
            AttributeValue::B(b) => Some(b.len()),
            _ => None,
        };
        violation = if value.type_name() != attr.attr_type {
            Some(format!(
                "{} is of type {}, the index key is {}",
                attr.name,
                value.type_name(),
                attr.attr_type
            ))
        } else if len == Some(0) {
            Some(format!("{} is empty", attr.name))
        } else if len.is_some_and(|l| l > max) {
            Some(format!("{} is longer than {max} bytes", attr.name))
        } else {
            None
        };
    }
    if let Some(why) = violation {
        return Err(Left::Violation(why));
    }
    index_entry(meta, index, item).ok_or(Left::Sparse)
}

/// The primary key of an item, as DynamoDB JSON, for logs.
fn key_of(meta: &TableMeta, item: &Item) -> String {
    let key: std::collections::BTreeMap<&str, &AttributeValue> = meta
        .key_names()
        .filter_map(|n| item.get(n).map(|v| (n, v)))
        .collect();
    serde_json::to_string(&key).unwrap_or_default()
}

/// A backfill: walks the base table in key order from its progress record,
/// writing the entries writes have not made already.
struct Build {
    table: String,
    table_id: u64,
    index_id: u32,
    violations: u64,
}

/// What one backfill chunk did (the closure may run more than once: what
/// it found is reported only once the chunk is durable).
#[derive(Default)]
struct Chunk {
    /// The table or the index went away, or the index is built already.
    gone: bool,
    /// The catalog entry with the index ACTIVE, when the walk ended.
    finished: Option<TableMeta>,
    index_name: String,
    violations: Vec<(String, String)>,
    undecodable: Vec<Vec<u8>>,
    /// An item given up on after failing alone.
    skipped: Option<Vec<u8>>,
}

impl Job for Build {
    fn key(&self) -> JobKey {
        JobKey::IndexBuild {
            table_id: self.table_id,
            index_id: self.index_id,
        }
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, attempt: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            let (name, table_id, index_id) = (self.table.clone(), self.table_id, self.index_id);
            let limit = if attempt.narrowed() {
                1
            } else {
                BACKFILL_CHUNK
            };
            let skip = attempt.give_up();
            let chunk = background::write(&tenant.kv, move |txn| {
                Ok((
                    Outcome::Commit,
                    backfill_chunk(txn, &name, table_id, index_id, limit, skip)?,
                ))
            })
            .await?;
            if chunk.gone {
                return Ok(Step::Done);
            }
            let problems = &tenant.background.problems;
            for (key, why) in &chunk.violations {
                self.violations += 1;
                if self.violations <= VIOLATIONS_LOGGED {
                    tracing::warn!(table = %self.table, index = %chunk.index_name, key = %key,
                        reason = %why, "index key violation: the item is left out of the index");
                }
            }
            problems.add(Problem::IndexKeyViolation, chunk.violations.len() as u64);
            for key in &chunk.undecodable {
                tracing::warn!(table = %self.table, index = %chunk.index_name,
                    key = %background::hex(key), "undecodable item left out of the index");
            }
            problems.add(Problem::UndecodableItem, chunk.undecodable.len() as u64);
            if let Some(key) = &chunk.skipped {
                tracing::warn!(table = %self.table, index = %chunk.index_name,
                    key = %background::hex(key), error = ?attempt.last_error,
                    "item kept failing: left out of the index");
                problems.add(Problem::ItemSkipped, 1);
            }
            let Some(meta) = chunk.finished else {
                return Ok(Step::More);
            };
            if self.violations > 0 {
                tracing::warn!(table = %self.table, index = %chunk.index_name,
                    violations = self.violations,
                    "index is ACTIVE; items with index key violations are not in it");
            }
            tenant.put_table(Arc::new(meta));
            Ok(Step::Done)
        })
    }
}

fn backfill_chunk(
    txn: &mut dyn Txn,
    name: &str,
    table_id: u64,
    index_id: u32,
    limit: usize,
    skip: bool,
) -> Result<Chunk, KvError> {
    let gone = Chunk {
        gone: true,
        ..Default::default()
    };
    let Some(mut meta) = load_meta(txn, name, table_id)? else {
        return Ok(gone);
    };
    let Some(index) = meta.indexes.iter().find(|i| i.id == index_id).cloned() else {
        return Ok(gone);
    };
    if index.status != IndexStatus::Creating {
        return Ok(gone);
    }
    let mut chunk = Chunk {
        index_name: index.name.clone(),
        ..Default::default()
    };
    let progress = keys::index_build_progress_key(table_id, index_id);
    let mut range = KeyRange::prefix(&keys::index_prefix(table_id, keys::BASE_INDEX));
    if let Some(from) = txn.get(&progress)? {
        range.start = std::ops::Bound::Excluded(from);
    }
    if skip {
        // Step past the item the last attempts failed on, touching nothing
        // but the progress record.
        if let Some((key, _)) = txn.scan(&range, false, 1)?.into_iter().next() {
            txn.put(&progress, &key)?;
            chunk.skipped = Some(key);
            return Ok(chunk);
        }
    }
    let rows = txn.scan(&range, false, limit)?;
    let done = rows.len() < limit;
    let stats_key = keys::index_stats_key(table_id, index_id);
    let mut stats = txn
        .get(&stats_key)?
        .and_then(|b| TableStats::decode(&b))
        .unwrap_or_default();
    for (key, value) in &rows {
        let Ok(item) = decode_item(value) else {
            chunk.undecodable.push(key.clone());
            continue;
        };
        let (entry_key, stored) = match backfill_entry(&meta, &index, &item) {
            Ok(entry) => entry,
            Err(Left::Sparse) => continue,
            Err(Left::Violation(why)) => {
                chunk.violations.push((key_of(&meta, &item), why));
                continue;
            }
        };
        // A write since the index was declared may have made the entry already.
        if txn.get(&entry_key)?.is_none() {
            txn.put(&entry_key, &encode_item(&stored))?;
            stats.replace(None, Some(item_size(&stored)));
        }
    }
    txn.put(&stats_key, &stats.encode())?;
    if !done {
        if let Some((last, _)) = rows.last() {
            txn.put(&progress, last)?;
        }
        return Ok(chunk);
    }
    txn.delete(&progress)?;
    if let Some(i) = meta.indexes.iter_mut().find(|i| i.id == index_id) {
        i.status = IndexStatus::Active;
    }
    store_meta(txn, &mut meta)?;
    chunk.finished = Some(meta);
    Ok(chunk)
}

/// The removal of a DELETING index: its entries in bounded steps (writes
/// no longer maintain it, so none come back), then its statistics and the
/// index itself from the catalog.
struct Removal {
    table: String,
    table_id: u64,
    index_id: u32,
}

impl Job for Removal {
    fn key(&self) -> JobKey {
        JobKey::IndexRemoval {
            table_id: self.table_id,
            index_id: self.index_id,
        }
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, _: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            let (name, table_id, index_id) = (self.table.clone(), self.table_id, self.index_id);
            let removed = background::write(&tenant.kv, move |txn| {
                Ok((
                    Outcome::Commit,
                    removal_step(txn, &name, table_id, index_id)?,
                ))
            })
            .await?;
            Ok(match removed {
                Removed::Some => Step::More,
                Removed::Gone => Step::Done,
                Removed::Finished(meta) => {
                    tenant.put_table(Arc::new(*meta));
                    Step::Done
                }
            })
        })
    }
}

enum Removed {
    Some,
    Gone,
    Finished(Box<TableMeta>),
}

fn removal_step(
    txn: &mut dyn Txn,
    name: &str,
    table_id: u64,
    index_id: u32,
) -> Result<Removed, KvError> {
    let Some(mut meta) = load_meta(txn, name, table_id)? else {
        return Ok(Removed::Gone);
    };
    if !meta
        .indexes
        .iter()
        .any(|i| i.id == index_id && i.status == IndexStatus::Deleting)
    {
        return Ok(Removed::Gone);
    }
    let prefix = keys::index_prefix(table_id, index_id);
    let (_, more) = background::delete_some(txn, &prefix, background::DELETE_STEP_KEYS)?;
    if more {
        return Ok(Removed::Some);
    }
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
    Ok(Removed::Finished(Box::new(meta)))
}
