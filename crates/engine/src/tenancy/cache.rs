//! The bounded tenant cache. Exactly one live `Tenant` per account: a
//! tenant is loaded by one task while others asking for it wait, and it is
//! closed only when nothing but the cache holds it, with the account's
//! entry marked as closing until the close is over, so a second `Tenant`
//! (with its own catalog cache and conflict registry) can never exist
//! beside the first. Past `cap` open tenants, the least recently used idle
//! one is closed: its next due background work goes to the persisted
//! index, its storage handle is released, and nothing of it stays in
//! memory. A tenant every request is still using is never closed; the
//! cache then holds more than `cap` until one is let go.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use openddb_core::DynamoError;
use openddb_kv::{KeyRange, Kv};
use openddb_kv_memory::MemoryKv;
use openddb_kv_sqlite::SqliteTenants;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{oneshot, watch};

use super::due::Change;
use super::scheduler::{self, Scheduler};
use super::watch::Watched;
use super::Waker;
use crate::background::{Registry, Wakeups};
use crate::inflight::ConflictFaults;
use crate::run::storage_error;
use crate::sealed::{sealer_for, TokenSecret};
use crate::tenant::Tenant;

/// Where tenants' keyspaces come from.
pub(crate) enum Storage {
    /// One memory keyspace per account, kept here (not in the `Tenant`)
    /// so that closing a tenant loses nothing; an empty one is dropped.
    Memory(Mutex<HashMap<String, Arc<MemoryKv>>>),
    Sqlite(Arc<SqliteTenants>),
    /// Every account over the same store (tests that inject faults).
    #[cfg(test)]
    Fixed(Arc<dyn Kv>),
}

/// What every tenant is opened with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub faults: Arc<ConflictFaults>,
    pub stream_settings: crate::streams::StreamSettings,
    pub ttl_sweep_interval: std::time::Duration,
    pub token_secret: Result<TokenSecret, String>,
    /// Most storage reads one tenant runs at once.
    pub reads_per_tenant: usize,
    /// How long transient statuses last (`None`: they pass at once).
    pub transient_delay: Option<std::time::Duration>,
}

/// Who opens a tenant: a request makes it the most recently used; the
/// scheduler's visits leave it where it was (an idle tenant opened for its
/// background work is the first to be closed again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Request,
    Background,
}

enum Entry {
    Open {
        tenant: Arc<Tenant>,
        last_used: u64,
    },
    /// Being opened or closed: wait until the sender goes away, then look
    /// again.
    Changing(watch::Receiver<()>),
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    open: usize,
    tick: u64,
}

/// Counts of the cache's work, for tests and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantStats {
    /// Tenants the cache holds open.
    pub open: usize,
    /// `Tenant` values alive anywhere (open, or closing).
    pub live: usize,
    /// Times a second `Tenant` of an account came to life while one was
    /// alive: must stay 0.
    pub duplicates: u64,
    /// Tenants opened since the database was.
    pub opened: u64,
    /// Tenants closed since the database was.
    pub closed: u64,
}

/// Counts the `Tenant` values alive per account; a tenant holds a
/// [`LiveGuard`] for its life.
#[derive(Default)]
pub struct LiveTenants {
    per_account: Mutex<HashMap<String, usize>>,
    live: AtomicUsize,
    duplicates: AtomicU64,
    opened: AtomicU64,
    closed: AtomicU64,
}

/// One live `Tenant` of an account, counted.
pub struct LiveGuard {
    counter: Arc<LiveTenants>,
    account: String,
}

impl LiveTenants {
    pub fn guard(self: &Arc<Self>, account: &str) -> LiveGuard {
        let mut per = self.per_account.lock();
        let n = per.entry(account.to_owned()).or_default();
        *n += 1;
        if *n > 1 {
            self.duplicates.fetch_add(1, Ordering::SeqCst);
            tracing::error!(
                account,
                live = *n,
                "a second Tenant of one account is alive"
            );
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        self.opened.fetch_add(1, Ordering::SeqCst);
        LiveGuard {
            counter: self.clone(),
            account: account.to_owned(),
        }
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        let mut per = self.counter.per_account.lock();
        if let Some(n) = per.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.account);
            }
        }
        self.counter.live.fetch_sub(1, Ordering::SeqCst);
        self.counter.closed.fetch_add(1, Ordering::SeqCst);
    }
}

/// The open tenants, at most `cap` of them idle.
pub struct TenantCache {
    state: Mutex<State>,
    cap: usize,
    storage: Storage,
    pub(crate) settings: RwLock<Settings>,
    scheduler: Arc<Scheduler>,
    live: Arc<LiveTenants>,
    /// Set when the cache holds more than `cap` because every tenant was in
    /// use: the next lease let go closes some.
    over_cap: AtomicBool,
}

/// A tenant held open for one request or one visit of the scheduler; the
/// tenant cannot be closed while a lease on it exists.
pub struct Lease {
    tenant: Option<Arc<Tenant>>,
    cache: Arc<TenantCache>,
}

impl Deref for Lease {
    type Target = Arc<Tenant>;
    fn deref(&self) -> &Arc<Tenant> {
        self.tenant
            .as_ref()
            .expect("a lease holds its tenant until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.tenant.take());
        if self.cache.over_cap.load(Ordering::Relaxed) {
            self.cache.close_over_cap();
        }
    }
}

impl Drop for TenantCache {
    fn drop(&mut self) {
        self.scheduler.stop();
    }
}

impl TenantCache {
    pub(crate) fn new(
        storage: Storage,
        settings: Settings,
        cap: usize,
        scheduler: Arc<Scheduler>,
    ) -> Arc<TenantCache> {
        let cache = Arc::new(TenantCache {
            state: Mutex::default(),
            cap: cap.max(1),
            storage,
            settings: RwLock::new(settings),
            scheduler,
            live: Arc::default(),
            over_cap: AtomicBool::new(false),
        });
        cache.scheduler.attach(&cache);
        cache
    }

    pub fn scheduler(&self) -> &Arc<Scheduler> {
        &self.scheduler
    }

    /// Counts of the cache's work.
    pub fn stats(&self) -> TenantStats {
        TenantStats {
            open: self.state.lock().open,
            live: self.live.live.load(Ordering::SeqCst),
            duplicates: self.live.duplicates.load(Ordering::SeqCst),
            opened: self.live.opened.load(Ordering::SeqCst),
            closed: self.live.closed.load(Ordering::SeqCst),
        }
    }

    /// Whether a memory keyspace is kept for `account`.
    #[cfg(test)]
    pub fn has_memory_store(&self, account: &str) -> bool {
        match &self.storage {
            Storage::Memory(stores) => stores.lock().contains_key(account),
            _ => false,
        }
    }

    /// Whether `account`'s tenant is open (not being opened or closed).
    pub fn is_open(&self, account: &str) -> bool {
        matches!(
            self.state.lock().entries.get(account),
            Some(Entry::Open { .. })
        )
    }

    /// Whether `account`'s tenant is open (or being opened or closed).
    pub fn is_present(&self, account: &str) -> bool {
        self.state.lock().entries.contains_key(account)
    }

    /// The tenant of `account`, opening it if needed. Opening (the file, the
    /// catalog) runs on the blocking pool in a task of its own, so a request
    /// that goes away meanwhile leaves no half-opened entry behind.
    pub async fn get(self: &Arc<Self>, account: &str, by: Use) -> Result<Lease, DynamoError> {
        self.scheduler.start_if_needed();
        loop {
            let (wait, opened) = {
                let mut state = self.state.lock();
                state.tick += 1;
                let tick = state.tick;
                match state.entries.get_mut(account) {
                    Some(Entry::Open { tenant, last_used }) => {
                        if by == Use::Request {
                            *last_used = tick;
                        }
                        return Ok(self.lease(tenant.clone()));
                    }
                    Some(Entry::Changing(rx)) => (Some(rx.clone()), None),
                    None => {
                        let (tx, rx) = watch::channel(());
                        state
                            .entries
                            .insert(account.to_owned(), Entry::Changing(rx));
                        let (done_tx, done_rx) = oneshot::channel();
                        let cache = self.clone();
                        let account = account.to_owned();
                        tokio::spawn(async move {
                            let loader = cache.loader(&account);
                            let loaded = crate::run::blocking(loader).await;
                            let result = cache.finish_open(&account, loaded, by, tx);
                            let _ = done_tx.send(result);
                        });
                        (None, Some(done_rx))
                    }
                }
            };
            if let Some(done) = opened {
                return match done.await {
                    Ok(result) => result,
                    Err(_) => Err(DynamoError::internal("Internal server error")),
                };
            }
            if let Some(mut wait) = wait {
                // Err: the opener or closer is done (its sender dropped).
                let _ = wait.changed().await;
            }
        }
    }

    /// Like [`TenantCache::get`], on the calling thread (tests).
    #[cfg(test)]
    pub fn get_blocking(self: &Arc<Self>, account: &str) -> Result<Lease, DynamoError> {
        loop {
            let tx = {
                let mut state = self.state.lock();
                state.tick += 1;
                let tick = state.tick;
                match state.entries.get_mut(account) {
                    Some(Entry::Open { tenant, last_used }) => {
                        *last_used = tick;
                        return Ok(self.lease(tenant.clone()));
                    }
                    Some(Entry::Changing(_)) => None,
                    None => {
                        let (tx, rx) = watch::channel(());
                        state
                            .entries
                            .insert(account.to_owned(), Entry::Changing(rx));
                        Some(tx)
                    }
                }
            };
            match tx {
                Some(tx) => {
                    let loaded = self.loader(account)();
                    return self.finish_open(account, loaded, Use::Request, tx);
                }
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
    }

    fn lease(self: &Arc<Self>, tenant: Arc<Tenant>) -> Lease {
        Lease {
            tenant: Some(tenant),
            cache: self.clone(),
        }
    }

    /// What opening `account`'s tenant needs, to run on a blocking thread.
    fn loader(
        self: &Arc<Self>,
        account: &str,
    ) -> impl FnOnce() -> Result<Tenant, DynamoError> + Send + 'static {
        let cache = self.clone();
        let account = account.to_owned();
        move || cache.load(&account)
    }

    fn load(&self, account: &str) -> Result<Tenant, DynamoError> {
        let storage: Arc<dyn Kv> = match &self.storage {
            Storage::Memory(stores) => stores
                .lock()
                .entry(account.to_owned())
                .or_insert_with(|| Arc::new(MemoryKv::new()))
                .clone(),
            Storage::Sqlite(tenants) => tenants.tenant(account).map_err(storage_error)?,
            #[cfg(test)]
            Storage::Fixed(kv) => kv.clone(),
        };
        let settings = self.settings.read().clone();
        // Every write of the tenant is watched for timed work (`watch`).
        let wakeups = Arc::new(Wakeups::default());
        let kv = Arc::new(Watched::new(
            storage,
            wakeups.clone(),
            settings.stream_settings.retention_ms,
        ));
        let mut tenant = Tenant::load(
            kv,
            settings.faults,
            settings.stream_settings,
            settings.ttl_sweep_interval,
            sealer_for(&settings.token_secret, account)?,
        )?;
        tenant.account_id = account.to_owned();
        tenant.transient = settings
            .transient_delay
            .map(crate::transient::Transient::new);
        tenant.read_slots = settings.reads_per_tenant.max(1);
        tenant.reads = tokio::sync::Semaphore::new(tenant.read_slots);
        tenant.background = Registry::over(wakeups);
        // What the index says now: the tenant's entry is only ever lowered
        // or replaced from here on.
        let entry = self.scheduler.index().get(account).map_err(storage_error)?;
        *tenant.persisted_due.get_mut() = entry;
        let timed = tenant
            .tables()
            .iter()
            .any(|t| t.ttl.is_some() || t.stream.is_some());
        tenant.background.wakeups.arming.opened(timed, entry);
        tenant.live = Some(self.live.guard(account));
        Ok(tenant)
    }

    /// Publishes a loaded tenant (or forgets a failed load) and wakes those
    /// waiting for it; then registers the background work its stored state
    /// says is unfinished, and closes tenants past the cap.
    fn finish_open(
        self: &Arc<Self>,
        account: &str,
        loaded: Result<Tenant, DynamoError>,
        by: Use,
        opening: watch::Sender<()>,
    ) -> Result<Lease, DynamoError> {
        let result = {
            let mut state = self.state.lock();
            match loaded {
                Ok(tenant) => {
                    let _ = tenant.background.wakeups.waker.set(Waker {
                        scheduler: Arc::downgrade(&self.scheduler),
                        account: account.to_owned(),
                    });
                    let tenant = Arc::new(tenant);
                    let last_used = match by {
                        Use::Request => state.tick,
                        Use::Background => 0,
                    };
                    state.entries.insert(
                        account.to_owned(),
                        Entry::Open {
                            tenant: tenant.clone(),
                            last_used,
                        },
                    );
                    state.open += 1;
                    if state.open > self.cap {
                        self.over_cap.store(true, Ordering::Relaxed);
                    }
                    Ok(tenant)
                }
                Err(e) => {
                    state.entries.remove(account);
                    Err(e)
                }
            }
        };
        drop(opening);
        let tenant = result?;
        crate::background::resume(&tenant);
        Ok(self.lease(tenant))
    }

    /// Closes idle tenants, least recently used first, until at most `cap`
    /// are open or every one left is in use.
    fn close_over_cap(self: &Arc<Self>) {
        loop {
            let victim = {
                let mut state = self.state.lock();
                if state.open <= self.cap {
                    self.over_cap.store(false, Ordering::Relaxed);
                    return;
                }
                // A tenant only the cache holds: every other holder got its
                // `Arc` from the cache under this lock, and no weak
                // reference to a tenant exists, so none can appear now.
                let oldest = state
                    .entries
                    .iter()
                    .filter_map(|(account, entry)| match entry {
                        Entry::Open { tenant, last_used } if Arc::strong_count(tenant) == 1 => {
                            Some((*last_used, account.clone()))
                        }
                        _ => None,
                    })
                    .min();
                let Some((_, account)) = oldest else {
                    self.over_cap.store(true, Ordering::Relaxed);
                    return;
                };
                let (tx, rx) = watch::channel(());
                let Some(Entry::Open { tenant, .. }) =
                    state.entries.insert(account.clone(), Entry::Changing(rx))
                else {
                    unreachable!("the entry was open under this lock");
                };
                state.open -= 1;
                (account, tenant, tx)
            };
            let (account, tenant, closing) = victim;
            let cache = self.clone();
            let close = move || cache.close(&account, tenant, closing);
            match tokio::runtime::Handle::try_current() {
                // Closing may wait for the tenant's writer to finish.
                Ok(handle) => drop(handle.spawn_blocking(close)),
                Err(_) => close(),
            }
        }
    }

    /// Closes a tenant nobody holds: hands its background work to the
    /// persisted index, drops it (and with it its storage handle), and only
    /// then lets the account be opened again.
    fn close(&self, account: &str, tenant: Arc<Tenant>, closing: watch::Sender<()>) {
        let due = tenant.background.next_due().map(scheduler::instant_to_ms);
        let recorded = super::recorded(&tenant);
        if due != recorded {
            if let Err(e) = self
                .scheduler
                .index()
                .change_blocking(account, Change::Set(due))
            {
                // The tenant stays open rather than lose its work.
                tracing::error!(account, error = %e, "cannot record a closing tenant's due work; kept open");
                let mut state = self.state.lock();
                state.entries.insert(
                    account.to_owned(),
                    Entry::Open {
                        tenant,
                        last_used: 0,
                    },
                );
                state.open += 1;
                return;
            }
        }
        self.scheduler.forget(account);
        let kv = tenant.kv.clone();
        drop(tenant);
        if let Storage::Memory(stores) = &self.storage {
            let empty = kv
                .read()
                .and_then(|s| s.scan(&KeyRange::prefix(&[]), false, 1))
                .is_ok_and(|rows| rows.is_empty());
            drop(kv);
            if empty {
                stores.lock().remove(account);
            }
        } else {
            drop(kv);
        }
        self.state.lock().entries.remove(account);
        drop(closing);
    }
}
