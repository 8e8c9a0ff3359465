//! The one scheduler of a database: a single task that visits tenants
//! whose background work is due, whether they are open or not. Open
//! tenants' due times are kept in memory (a queue by time); closed
//! tenants' are read from the persisted index (`due`). A visit holds the
//! tenant open through the cache, steps its due jobs for a bounded time
//! (`background::visit`), records when it is next due, and lets the
//! tenant go, so the cache may close it again. At most `MAX_VISITS` visits
//! run at once; no task, timer or thread exists per tenant.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::cache::{TenantCache, Use};
use super::due::{Change, DueIndex};
use crate::tenant::Tenant;

/// Visits running at once, over all tenants.
pub const MAX_VISITS: usize = 4;

/// How often the persisted index is looked at for closed tenants' work
/// when nothing in it was known to be due sooner.
const POLL: Duration = Duration::from_secs(1);

/// Index entries read per look.
const POLL_BATCH: usize = 64;

/// How long after a failed visit (the tenant could not be opened) it is
/// tried again.
const RETRY_FAILED_VISIT: Duration = Duration::from_secs(30);

/// Now, in epoch milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A point of the process's clock as epoch milliseconds (for the index).
/// A future time is rounded up: recorded a millisecond early, work would
/// be looked for before it is due (a visit for nothing, then another).
pub fn instant_to_ms(at: Instant) -> u64 {
    let now = Instant::now();
    if at >= now {
        let ahead = (at - now).as_micros().div_ceil(1000);
        now_ms().saturating_add(u64::try_from(ahead).unwrap_or(u64::MAX))
    } else {
        now_ms().saturating_sub((now - at).as_millis() as u64)
    }
}

/// Epoch milliseconds as a point of the process's clock (now, if past).
/// A time beyond what the clock can hold is a century away.
pub fn ms_to_instant(ms: u64) -> Instant {
    let now = Instant::now();
    let ahead = Duration::from_millis(ms.saturating_sub(now_ms()));
    now.checked_add(ahead)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// What `ms_to_instant` makes of a time too far away to hold.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Default)]
struct Queue {
    by_time: BTreeSet<(Instant, String)>,
    by_account: HashMap<String, Instant>,
    /// Tenants a visit is working on (not queued meanwhile).
    visiting: HashSet<String>,
    /// When tenants being visited are due next, as noted meanwhile: queued
    /// once their visit ends.
    deferred: HashMap<String, Instant>,
}

impl Queue {
    fn remove(&mut self, account: &str) {
        if let Some(at) = self.by_account.remove(account) {
            self.by_time.remove(&(at, account.to_owned()));
        }
    }
}

pub struct Scheduler {
    index: DueIndex,
    queue: Mutex<Queue>,
    notify: Notify,
    cache: OnceLock<Weak<TenantCache>>,
    started: AtomicBool,
    stopped: AtomicBool,
    visits: Arc<Semaphore>,
}

impl Scheduler {
    pub fn new(index: DueIndex) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            index,
            queue: Mutex::default(),
            notify: Notify::new(),
            cache: OnceLock::new(),
            started: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            visits: Arc::new(Semaphore::new(MAX_VISITS)),
        })
    }

    pub fn index(&self) -> &DueIndex {
        &self.index
    }

    pub(crate) fn attach(&self, cache: &Arc<TenantCache>) {
        let _ = self.cache.set(Arc::downgrade(cache));
    }

    /// Starts the scheduler's task, once, if a Tokio runtime is at hand
    /// (a purely synchronous embedding runs no background work).
    pub fn start_if_needed(self: &Arc<Self>) {
        if self.started.load(Ordering::Relaxed) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        handle.spawn(self.clone().run());
    }

    /// Ends the task (the database is going away).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Notes that `account` (open) has work due at `due`.
    pub fn schedule(&self, account: &str, due: Instant) {
        {
            let mut queue = self.queue.lock();
            if queue.visiting.contains(account) {
                let at = queue.deferred.entry(account.to_owned()).or_insert(due);
                *at = (*at).min(due);
                return;
            }
            if queue.by_account.get(account).is_some_and(|at| *at <= due) {
                return;
            }
            queue.remove(account);
            queue.by_time.insert((due, account.to_owned()));
            queue.by_account.insert(account.to_owned(), due);
        }
        self.notify.notify_one();
    }

    /// Drops `account` from the in-memory queue (it was closed: its due
    /// work is in the persisted index now).
    pub fn forget(&self, account: &str) {
        let mut queue = self.queue.lock();
        queue.remove(account);
        queue.deferred.remove(account);
    }

    async fn run(self: Arc<Self>) {
        let mut next_poll = Instant::now();
        let mut poll_cursor: Option<(u64, String)> = None;
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            let Some(cache) = self.cache.get().and_then(Weak::upgrade) else {
                return;
            };
            let now = Instant::now();
            let mut due: Vec<String> = Vec::new();
            {
                let mut queue = self.queue.lock();
                while let Some((at, account)) = queue.by_time.first().cloned() {
                    if at > now || due.len() >= POLL_BATCH {
                        break;
                    }
                    queue.remove(&account);
                    // The queue is for open tenants: one closed since has
                    // handed its work to the persisted index (and a wake
                    // noted during its last visit is not worth reopening
                    // it for).
                    if cache.is_open(&account) && queue.visiting.insert(account.clone()) {
                        due.push(account);
                    }
                }
            }
            if now >= next_poll {
                match self.poll_index(&cache, &mut poll_cursor) {
                    Ok(found) => {
                        let mut queue = self.queue.lock();
                        for account in found {
                            if queue.visiting.insert(account.clone()) {
                                due.push(account);
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the due index"),
                }
                next_poll = now + POLL;
            }
            for account in due {
                let Ok(permit) = self.visits.clone().acquire_owned().await else {
                    return;
                };
                let (scheduler, cache) = (self.clone(), cache.clone());
                tokio::spawn(async move {
                    // A visit that panics still frees its tenant and permit.
                    let visit = tokio::spawn(scheduler.clone().visit(cache, account.clone()));
                    if visit.await.is_err() {
                        tracing::error!(account, "a background visit failed");
                    }
                    {
                        let mut queue = scheduler.queue.lock();
                        queue.visiting.remove(&account);
                        if let Some(at) = queue.deferred.remove(&account) {
                            queue.by_time.insert((at, account.clone()));
                            queue.by_account.insert(account.clone(), at);
                        }
                    }
                    drop(permit);
                    scheduler.notify.notify_one();
                });
            }
            drop(cache);
            let wake_at = {
                let queue = self.queue.lock();
                queue
                    .by_time
                    .first()
                    .map_or(next_poll, |(at, _)| (*at).min(next_poll))
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake_at) => {}
                () = self.notify.notified() => {}
            }
        }
    }

    /// Tenants the persisted index says are due and that are not open (an
    /// open tenant's work is in the in-memory queue). Walks on from where
    /// the last look stopped so that entries of open tenants, which stay
    /// due until the tenant closes, cannot hide the others.
    fn poll_index(
        &self,
        cache: &TenantCache,
        cursor: &mut Option<(u64, String)>,
    ) -> Result<Vec<String>, openddb_kv::KvError> {
        let now = now_ms();
        let mut found = Vec::new();
        let mut rounds = 0;
        while found.len() < POLL_BATCH && rounds < 16 {
            rounds += 1;
            let page = self.index.due(now, cursor.as_ref(), POLL_BATCH)?;
            let end = page.len() < POLL_BATCH;
            *cursor = page.last().cloned();
            for (_, account) in page {
                if !cache.is_present(&account) {
                    found.push(account);
                }
            }
            if end {
                *cursor = None;
                break;
            }
        }
        Ok(found)
    }

    async fn visit(self: Arc<Self>, cache: Arc<TenantCache>, account: String) {
        let lease = match cache.get(&account, Use::Background).await {
            Ok(lease) => lease,
            Err(e) => {
                tracing::warn!(account, error = %e, "cannot open a tenant for its background work");
                self.schedule(&account, Instant::now() + RETRY_FAILED_VISIT);
                return;
            }
        };
        let next = crate::background::visit(&lease, crate::background::VISIT_BUDGET).await;
        if let Some(next) = next {
            self.schedule(&account, next);
        }
        if let Err(e) = self.settle(&lease).await {
            tracing::warn!(account, error = %e, "cannot record a tenant's due work");
        }
    }

    /// Brings the tenant's persisted entry in line after a visit: lowered
    /// if its work is due sooner than the entry says, removed if it has
    /// none (and neither a change that creates work nor a write that may
    /// make timed work relies on it: `Arming::disarm`). An entry that is
    /// earlier than needed is left: it costs at most one visit, and the
    /// exact time is recorded when the tenant closes. The tenant's due time
    /// is read here, under the lock, so that work a write reported since
    /// the visit ended is counted.
    async fn settle(&self, tenant: &Tenant) -> Result<(), openddb_kv::KvError> {
        let _due = tenant.due_lock.lock().await;
        let recorded = super::recorded(tenant);
        let arming = &tenant.background.wakeups.arming;
        match tenant.background.next_due().map(instant_to_ms) {
            Some(ms) if recorded.is_none_or(|r| ms < r) => {
                let now = self
                    .index
                    .change(&tenant.account_id, Change::Lower(ms))
                    .await?;
                *tenant.persisted_due.lock() = now;
            }
            None if recorded.is_some() && tenant.announced.load(Ordering::SeqCst) == 0 => {
                let Some(disarmed) = arming.disarm().await else {
                    return Ok(());
                };
                if tenant.background.next_due().is_some() {
                    // A write reported work between the two looks.
                    return Ok(());
                }
                let removed = self
                    .index
                    .change(&tenant.account_id, Change::Set(None))
                    .await;
                // A failed removal may have happened all the same: the
                // tenant is taken as having no entry (the next watched
                // write arms it again, the close records its due time).
                *tenant.persisted_due.lock() = None;
                disarmed.removed();
                removed?;
            }
            _ => {}
        }
        Ok(())
    }
}
