//! One tenant (account): its keyspace and a cache of its catalog.

use std::collections::BTreeMap;
use std::sync::Arc;

use openddb_core::DynamoError;
use openddb_kv::{KeyRange, Kv};
use parking_lot::RwLock;

use crate::catalog::TableMeta;
use crate::inflight::{ConflictFaults, InFlight};
use crate::keys;
use crate::run::storage_error;

pub struct Tenant {
    /// The account whose keyspace this is.
    pub account_id: String,
    pub kv: Arc<dyn Kv>,
    /// Storage reads this tenant may run at once (run::read): one tenant's
    /// flood of Scans waits here instead of taking every blocking thread
    /// and read connection the other tenants need.
    pub reads: tokio::sync::Semaphore,
    /// How many read slots there are.
    pub read_slots: usize,
    /// Every table by name, sorted as ListTables returns them. Updated only
    /// after the catalog change is durable.
    tables: RwLock<BTreeMap<String, Arc<TableMeta>>>,
    /// The items writes in flight hold (transaction conflicts).
    pub inflight: Arc<InFlight>,
    /// The share of transactions cancelled on purpose.
    pub faults: Arc<ConflictFaults>,
    /// How new streams cut their shards.
    pub stream_settings: crate::streams::StreamSettings,
    /// Seals and opens the tokens handed to this tenant's clients.
    pub sealer: crate::sealed::Sealer,
    /// How often the Time to Live sweeper looks for expired items.
    pub ttl_sweep_interval: std::time::Duration,
    /// The tenant's background jobs (index builds, TTL, stream trim, the
    /// purge of deleted tables).
    pub background: crate::background::Registry,
    /// Whether disabled streams are still kept (they keep the trimmer
    /// running after their tables are gone).
    stream_history: std::sync::atomic::AtomicBool,
    /// Whether deleted tables were waiting to be purged when the tenant
    /// was opened.
    pub(crate) purge_waiting: bool,
    /// The tenant's entry in the persisted due index, as last read or
    /// written (`tenancy::due`).
    pub(crate) persisted_due: parking_lot::Mutex<Option<u64>>,
    /// Orders the changes of that entry.
    pub(crate) due_lock: tokio::sync::Mutex<()>,
    /// Changes under way that create background work (`tenancy::work_ahead`).
    pub(crate) announced: std::sync::atomic::AtomicUsize,
    /// Counts this tenant among the live ones of its account.
    pub(crate) live: Option<crate::tenancy::cache::LiveGuard>,
    /// Transient statuses held for a while (`--delay-transient-statuses`).
    pub(crate) transient: Option<crate::transient::Transient>,
}

/// Storage reads one tenant runs at once unless configured.
pub const DEFAULT_READS_PER_TENANT: usize = 4;

impl Tenant {
    /// Loads the catalog of a tenant's keyspace.
    pub fn load(
        kv: Arc<dyn Kv>,
        faults: Arc<ConflictFaults>,
        stream_settings: crate::streams::StreamSettings,
        ttl_sweep_interval: std::time::Duration,
        sealer: crate::sealed::Sealer,
    ) -> Result<Tenant, DynamoError> {
        let mut tables = BTreeMap::new();
        let stream_history;
        let purge_waiting;
        {
            let snapshot = kv.read().map_err(storage_error)?;
            purge_waiting = !snapshot
                .scan(&KeyRange::prefix(&keys::purge_prefix()), false, 1)
                .map_err(storage_error)?
                .is_empty();
            stream_history = !snapshot
                .scan(
                    &KeyRange::prefix(&crate::streams::streams_prefix()),
                    false,
                    1,
                )
                .map_err(storage_error)?
                .is_empty();
            let range = KeyRange::prefix(&keys::catalog_prefix());
            let mut rows = snapshot
                .scan(&range, false, usize::MAX)
                .map_err(storage_error)?;
            for (_, value) in rows.drain(..) {
                let meta: TableMeta = serde_json::from_slice(&value)
                    .map_err(|e| DynamoError::internal(format!("corrupt catalog entry: {e}")))?;
                tables.insert(meta.name().to_string(), Arc::new(meta));
            }
        }
        Ok(Tenant {
            account_id: String::new(),
            kv,
            reads: tokio::sync::Semaphore::new(DEFAULT_READS_PER_TENANT),
            read_slots: DEFAULT_READS_PER_TENANT,
            persisted_due: Default::default(),
            due_lock: Default::default(),
            announced: Default::default(),
            live: None,
            transient: None,
            tables: RwLock::new(tables),
            inflight: InFlight::new(),
            faults,
            stream_settings,
            sealer,
            ttl_sweep_interval,
            background: Default::default(),
            stream_history: std::sync::atomic::AtomicBool::new(stream_history),
            purge_waiting,
        })
    }

    /// Whether the tenant keeps streams of deleted tables or disabled
    /// streams (as of the last look).
    pub fn has_stream_history(&self) -> bool {
        self.stream_history
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_stream_history(&self, present: bool) {
        self.stream_history
            .store(present, std::sync::atomic::Ordering::Relaxed);
    }

    /// The table, if requests can use it: one still CREATING (in a
    /// transient window, `transient.rs`) is not found yet.
    pub fn table(&self, name: &str) -> Option<Arc<TableMeta>> {
        let meta = self.tables.read().get(name).cloned()?;
        match &self.transient {
            Some(t) if t.is_creating(name, meta.id) => None,
            _ => Some(meta),
        }
    }

    /// The table whatever its transient status: for the control plane,
    /// which describes a CREATING table and refuses to change it.
    pub fn catalog_table(&self, name: &str) -> Option<Arc<TableMeta>> {
        self.tables.read().get(name).cloned()
    }

    /// Refuses a change to a table in a transient window (`id` `None`:
    /// the name of a table being deleted).
    pub fn check_not_transient(&self, name: &str, id: Option<u64>) -> Result<(), DynamoError> {
        match self.transient.as_ref().and_then(|t| t.status(name, id)) {
            Some(status) => Err(crate::transient::in_use(name, &status)),
            None => Ok(()),
        }
    }

    /// `description` of table `id` as its transient window shows it.
    pub fn overlay(&self, id: u64, description: &mut openddb_core::api::TableDescription) {
        if let Some(t) = &self.transient {
            t.overlay(id, description);
        }
    }

    /// The table, or DynamoDB's ResourceNotFoundException for item actions.
    pub fn table_or_not_found(&self, name: &str) -> Result<Arc<TableMeta>, DynamoError> {
        self.table(name)
            .ok_or_else(crate::actions::describe_table::not_found_item)
    }

    /// Caches a changed catalog entry after its change is durable. Changes
    /// to one table may finish out of order (an UpdateTable and a background
    /// index build, or either and a DeleteTable committed in the same group
    /// commit), so an entry only replaces an older generation of the same
    /// table: a table deleted (or deleted and created again under a new id)
    /// since is not brought back by a change that committed before it.
    pub fn put_table(&self, meta: Arc<TableMeta>) {
        let mut tables = self.tables.write();
        if let Some(cur) = tables.get_mut(meta.name()) {
            if cur.id == meta.id && cur.generation <= meta.generation {
                *cur = meta;
            }
        }
    }

    /// Caches a table just created (its id is new, so nothing can be
    /// cached under it yet).
    pub fn insert_table(&self, meta: Arc<TableMeta>) {
        self.tables.write().insert(meta.name().to_string(), meta);
    }

    /// Every table, by name.
    pub fn tables(&self) -> Vec<Arc<TableMeta>> {
        self.tables.read().values().cloned().collect()
    }

    /// Forgets table `id` (deleted). A table of the same name created
    /// since (a new id) stays.
    pub fn remove_table(&self, name: &str, id: u64) {
        let mut tables = self.tables.write();
        if tables.get(name).is_some_and(|t| t.id == id) {
            tables.remove(name);
        }
    }

    /// Table names after `start` (exclusive), at most `limit` of them, and
    /// whether more follow.
    pub fn table_names_after(&self, start: Option<&str>, limit: usize) -> (Vec<String>, bool) {
        let tables = self.tables.read();
        let mut iter = tables
            .keys()
            .filter(|n| start.is_none_or(|s| n.as_str() > s))
            .cloned();
        let names: Vec<String> = iter.by_ref().take(limit).collect();
        let more = iter.next().is_some();
        (names, more)
    }
}
