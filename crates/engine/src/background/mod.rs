//! Background work: one scheduler, with one pacing policy, for every long
//! job of a tenant (index backfill and removal, Time to Live backfill and
//! sweep, stream trim, and the purge of deleted tables). A job is a state
//! machine the scheduler steps; each step is bounded (one short kv
//! transaction, or a few cheap reads). Jobs live in their tenant's
//! registry; the database's one scheduler (`crate::tenancy`) visits a
//! tenant when a job is due. The Time to Live sweep and the stream trim are
//! due when the data says (`wakeups`). See docs/adr/0008-background-work.md
//! and docs/adr/0014-tenant-cache-and-scheduler.md.

pub mod problems;
pub mod purge;
#[cfg(test)]
mod tests;
pub mod wakeups;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use openddb_kv::{prefix_successor, KeyRange, Kv, KvError, Outcome, ReadTxn, Txn};
use parking_lot::Mutex;

use crate::tenant::Tenant;
pub use wakeups::{Timed, Wakeups};

/// What identifies a job: a job is never started twice while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobKey {
    IndexBuild {
        table_id: u64,
        index_id: u32,
    },
    IndexRemoval {
        table_id: u64,
        index_id: u32,
    },
    TtlBackfill {
        table_id: u64,
        since: u64,
    },
    TtlSweep,
    StreamTrim,
    Purge,
    #[cfg(test)]
    Test(u32),
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobKey::IndexBuild { table_id, index_id } => {
                write!(f, "backfill of index {index_id} of table {table_id}")
            }
            JobKey::IndexRemoval { table_id, index_id } => {
                write!(f, "removal of index {index_id} of table {table_id}")
            }
            JobKey::TtlBackfill { table_id, .. } => {
                write!(f, "Time to Live backfill of table {table_id}")
            }
            JobKey::TtlSweep => f.write_str("Time to Live sweep"),
            JobKey::StreamTrim => f.write_str("stream trim"),
            JobKey::Purge => f.write_str("purge of deleted tables"),
            #[cfg(test)]
            JobKey::Test(n) => write!(f, "test job {n}"),
        }
    }
}

/// What a step leaves the scheduler to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More work follows: the next step runs after the pacing pause.
    More,
    /// Nothing to do for now: the job stops unless it is still wanted
    /// (`Job::wanted`, decided under the lock `start` takes), and otherwise
    /// runs again after this long.
    Idle(Duration),
    /// Nothing to do before this time, or (`None`) before a write or a
    /// change brings the job forward (`Wakeups`, timed jobs only); like
    /// `Idle`, the job stops unless it is still wanted. A job that sleeps
    /// without a due time does not keep its tenant in the due index.
    Wait(Option<Instant>),
    /// The job is finished.
    Done,
}

/// How the previous attempts at the current step went: jobs that walk
/// items use it to narrow a failing batch down to the item that fails.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// Steps that failed in a row just before this one.
    pub failures: u32,
    /// The error of the last of them.
    pub last_error: Option<KvError>,
}

/// After this many failures in a row, item-walking jobs retry one item
/// at a time, so that one bad item does not hold up a whole batch.
pub const NARROW_AFTER: u32 = 2;

/// After this many failures in a row of a one-item step with an error
/// that is not transient, the job records the item as a problem and goes
/// past it instead of retrying it forever.
pub const GIVE_UP_AFTER: u32 = 4;

impl Attempt {
    /// Whether to retry one item at a time.
    pub fn narrowed(&self) -> bool {
        self.failures >= NARROW_AFTER
    }

    /// Whether the item the last steps failed on should be given up: it
    /// failed alone, repeatedly, with an error that says so about the data
    /// rather than about the store being busy or away.
    pub fn give_up(&self) -> bool {
        self.failures >= GIVE_UP_AFTER
            && matches!(
                self.last_error,
                Some(KvError::Fatal(_)) | Some(KvError::TooLarge)
            )
    }
}

pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<Step, KvError>> + Send + 'a>>;

/// A unit of background work the scheduler drives one step at a time.
/// A step that fails with a storage error is retried after a backoff; its
/// effects must therefore be all-or-nothing (one kv transaction) or
/// idempotent.
pub trait Job: Send + 'static {
    fn key(&self) -> JobKey;

    /// One bounded step of the work.
    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, attempt: &'a Attempt) -> StepFuture<'a>;

    /// Whether the job should run (asked before it starts) or keep running
    /// after a step found nothing to do (asked under the registry's lock,
    /// so that a change that wants it again either is seen here or starts
    /// a new task).
    fn wanted(&self, _tenant: &Tenant) -> bool {
        true
    }
}

/// A tenant's background work: the jobs it has, when each is next due,
/// and the problems they met. Nothing here runs by itself: the database's
/// one scheduler (`crate::tenancy::scheduler`) visits a tenant when its
/// earliest job is due and steps its jobs (`visit`).
#[derive(Default)]
pub struct Registry {
    jobs: Mutex<Vec<Slot>>,
    /// One visit at a time: steps of one tenant's jobs take turns, each
    /// followed by its pause, so that the tenant's background work as a
    /// whole (not each job) uses at most about half of its writer.
    turn: tokio::sync::Mutex<()>,
    pub problems: problems::Problems,
    /// A table was deleted since the purge job last looked for work.
    pub(crate) purge_pending: AtomicBool,
    /// What the tenant's storage wrapper shares with the registry: the
    /// timed jobs' due times, writes' reports, and whom to wake.
    pub(crate) wakeups: Arc<Wakeups>,
}

/// One job of a tenant and when it is next due.
struct Slot {
    key: JobKey,
    /// `None` while a visit is stepping it (the key stays, so the job
    /// cannot be started a second time meanwhile).
    job: Option<Box<dyn Job>>,
    /// `None`: asleep until brought forward (`Step::Wait(None)`).
    due: Option<Instant>,
    attempt: Attempt,
}

impl Registry {
    /// Whether a job of this key is registered.
    #[cfg(test)]
    pub fn is_running(&self, key: &JobKey) -> bool {
        self.jobs.lock().iter().any(|s| &s.key == key)
    }

    /// A registry whose timed jobs writes bring forward through `wakeups`
    /// (shared with the tenant's storage wrapper).
    pub fn over(wakeups: Arc<Wakeups>) -> Registry {
        Registry {
            wakeups,
            ..Registry::default()
        }
    }

    /// When the earliest job is due, if the tenant has any that is not
    /// asleep.
    pub fn next_due(&self) -> Option<Instant> {
        let mut jobs = self.jobs.lock();
        self.wakeups.fold(&mut jobs);
        jobs.iter().filter_map(|s| s.due).min()
    }
}

/// The pause after a step that took `took`: as long again, so background
/// work leaves at least half of the writer to foreground requests (a step's
/// time includes its wait in the writer's queue, so the busier the tenant,
/// the longer the pause). Capped so that one stalled commit does not park a
/// job for long.
pub fn pause(took: Duration) -> Duration {
    took.min(MAX_PAUSE)
}

const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The wait before retrying after `failures` failed steps in a row:
/// doubling from 100 ms up to 30 s, so a store that fails is not hammered.
pub fn backoff(failures: u32) -> Duration {
    let shift = failures.saturating_sub(1).min(16);
    (Duration::from_millis(100) * (1u32 << shift)).min(MAX_BACKOFF)
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Registers `job` with the tenant, due now, unless a job of the same key
/// is registered already or it is not wanted, and tells the scheduler. A
/// timed job registered already is asked for a round as soon as its
/// interval allows instead (what started it may have made work for it).
/// Nothing runs here: a job is only ever stepped by a visit.
pub fn start<J: Job>(tenant: &Arc<Tenant>, job: J) {
    let key = job.key();
    let due = Instant::now();
    let wakeups = &tenant.background.wakeups;
    {
        let mut jobs = tenant.background.jobs.lock();
        if jobs.iter().any(|s| s.key == key) {
            drop(jobs);
            if let Some(timed) = Timed::of(&key) {
                wakeups.soon(timed);
            }
            return;
        }
        if !job.wanted(tenant) {
            return;
        }
        if let Some(timed) = Timed::of(&key) {
            wakeups.settled(timed, Some(Some(due)));
        }
        jobs.push(Slot {
            key,
            job: Some(Box::new(job)),
            due: Some(due),
            attempt: Attempt::default(),
        });
    }
    if let Some(waker) = wakeups.waker.get() {
        waker.wake(due);
    }
}

/// How long one visit may go on stepping a tenant's jobs before it lets
/// the scheduler turn to other tenants (the tenant is then due again at
/// once, behind those already waiting).
pub const VISIT_BUDGET: Duration = Duration::from_millis(200);

/// Takes a job's slot out of the registry if its step never came back
/// (a panic), so the job can be started again.
struct Taken<'a> {
    tenant: &'a Tenant,
    key: Option<JobKey>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            tracing::error!(job = %key, "background step panicked; the job is dropped");
            self.tenant.background.jobs.lock().retain(|s| s.key != key);
            if let Some(timed) = Timed::of(&key) {
                self.tenant.background.wakeups.settled(timed, None);
            }
        }
    }
}

/// Steps the tenant's due jobs, earliest first, one step at a time with
/// the pacing pause after each, until none is due or `budget` is spent.
/// Returns when the tenant's earliest job is next due (`None`: it has no
/// job left). Only the scheduler calls it, holding the tenant open.
pub async fn visit(tenant: &Arc<Tenant>, budget: Duration) -> Option<Instant> {
    let _turn = tenant.background.turn.lock().await;
    let started = Instant::now();
    loop {
        let picked = {
            let mut jobs = tenant.background.jobs.lock();
            tenant.background.wakeups.fold(&mut jobs);
            let now = Instant::now();
            let picked = jobs
                .iter_mut()
                .filter(|s| s.job.is_some() && s.due.is_some_and(|d| d <= now))
                .min_by_key(|s| s.due)
                .and_then(|s| Some((s.key.clone(), s.job.take()?, s.attempt.clone())));
            if let Some(timed) = picked.as_ref().and_then(|(key, ..)| Timed::of(key)) {
                tenant.background.wakeups.taken(timed);
            }
            picked
        };
        let Some((key, mut job, mut attempt)) = picked else {
            break;
        };
        let mut taken = Taken {
            tenant,
            key: Some(key.clone()),
        };
        let step_started = Instant::now();
        let outcome = job.step(tenant, &attempt).await;
        taken.key = None;
        let now = Instant::now();
        let pause = pause(step_started.elapsed());
        // What becomes of the job is decided under the registry's lock, so
        // that a change that wants an idle job again either is seen by
        // `wanted` here or, coming after, registers it anew.
        {
            let mut jobs = tenant.background.jobs.lock();
            // `None`: the job goes; `Some(None)`: it sleeps.
            let due = match outcome {
                Ok(Step::More) => {
                    attempt = Attempt::default();
                    Some(Some(now + pause))
                }
                Ok(Step::Idle(wait)) => {
                    attempt = Attempt::default();
                    job.wanted(tenant).then_some(Some(now + wait))
                }
                Ok(Step::Wait(until)) => {
                    attempt = Attempt::default();
                    job.wanted(tenant).then_some(until)
                }
                Ok(Step::Done) => None,
                Err(e) => {
                    attempt.failures += 1;
                    let wait = backoff(attempt.failures);
                    if attempt.failures < 10 {
                        tracing::warn!(job = %key, attempt = attempt.failures, error = %e,
                            retry_in_ms = wait.as_millis() as u64, "background step failed; retrying");
                    } else {
                        tracing::error!(job = %key, attempt = attempt.failures, error = %e,
                            retry_in_ms = wait.as_millis() as u64, "background step keeps failing; retrying");
                    }
                    attempt.last_error = Some(e);
                    Some(Some(now + wait))
                }
            };
            match due {
                Some(due) => {
                    if let Some(slot) = jobs.iter_mut().find(|s| s.key == key) {
                        slot.job = Some(job);
                        slot.due = due;
                        slot.attempt = attempt;
                    }
                }
                None => jobs.retain(|s| s.key != key),
            }
            if let Some(timed) = Timed::of(&key) {
                let wakeups = &tenant.background.wakeups;
                wakeups.settled(timed, due);
                // Reports that came while the job was stepped.
                wakeups.fold(&mut jobs);
            }
        }
        // The tenant as a whole pauses after a step, whichever job is next.
        if started.elapsed() + pause >= budget {
            break;
        }
        let next = tenant.background.next_due();
        match next {
            Some(next) if next <= Instant::now() + pause => {
                tokio::time::sleep(pause).await;
            }
            _ => break,
        }
    }
    tenant.background.next_due()
}

/// Runs `f` in a write transaction and waits until it is durable,
/// keeping storage errors as they are (the scheduler backs off on them).
pub async fn write<T, F>(kv: &Arc<dyn Kv>, mut f: F) -> Result<T, KvError>
where
    T: Send + 'static,
    F: FnMut(&mut dyn Txn) -> Result<(Outcome, T), KvError> + Send + 'static,
{
    let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let slot_w = slot.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    kv.write(
        Box::new(move |txn| {
            let (outcome, value) = f(txn)?;
            *slot_w.lock() = Some(value);
            Ok(outcome)
        }),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    match rx.await {
        Ok(Ok(())) => slot
            .lock()
            .take()
            .ok_or_else(|| KvError::Fatal("write finished without running".into())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(KvError::Unavailable("writer stopped".into())),
    }
}

/// Runs `f` against a read snapshot; on a blocking thread unless the
/// backend says its reads are cheap, so that a job never holds up an
/// async worker waiting for a read connection.
pub async fn read<T, F>(kv: &Arc<dyn Kv>, f: F) -> Result<T, KvError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ReadTxn) -> Result<T, KvError> + Send + 'static,
{
    if kv.reads_are_cheap() {
        let snapshot = kv.read()?;
        return f(&*snapshot);
    }
    let kv = kv.clone();
    tokio::task::spawn_blocking(move || {
        let snapshot = kv.read()?;
        f(&*snapshot)
    })
    .await
    .map_err(|e| KvError::Unavailable(format!("read task failed: {e}")))?
}

/// Keys deleted per transaction by the jobs that remove data (table purge,
/// index removal): enough to make progress, few enough that a step never
/// holds the writer (or grows the write-ahead log) for long.
pub const DELETE_STEP_KEYS: usize = 1000;

/// Bytes of values a deleting step may read on the way (the kv contract's
/// scans return values): a thousand 400 KB items must not be one step.
const DELETE_STEP_BYTES: usize = 4 << 20;

/// Keys read per scan while counting a deleting step.
const DELETE_SCAN_PAGE: usize = 16;

/// Deletes up to `budget` keys (and about `DELETE_STEP_BYTES` of values)
/// from the start of `prefix`. Returns how many went and whether any may
/// be left.
pub fn delete_some(
    txn: &mut dyn Txn,
    prefix: &[u8],
    budget: usize,
) -> Result<(usize, bool), KvError> {
    let end = match prefix_successor(prefix) {
        Some(end) => std::ops::Bound::Excluded(end),
        None => std::ops::Bound::Unbounded,
    };
    let mut range = KeyRange {
        start: std::ops::Bound::Included(prefix.to_vec()),
        end,
    };
    let (mut count, mut bytes) = (0, 0);
    let mut last: Option<Vec<u8>> = None;
    let more = loop {
        let want = budget.saturating_sub(count).min(DELETE_SCAN_PAGE);
        if want == 0 {
            break true;
        }
        let rows = txn.scan(&range, false, want)?;
        count += rows.len();
        bytes += rows.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        let full = rows.len() == want;
        if let Some((k, _)) = rows.into_iter().last() {
            range.start = std::ops::Bound::Excluded(k.clone());
            last = Some(k);
        }
        if !full {
            break false;
        }
        if bytes >= DELETE_STEP_BYTES {
            break true;
        }
    };
    if let Some(mut last) = last {
        // Everything from the prefix up to and including the last key read.
        last.push(0);
        txn.delete_range(prefix, &last)?;
    }
    Ok((count, more))
}

/// Starts all the work a tenant's stored state says is unfinished: index
/// builds and removals, Time to Live backfills, the sweeper and the stream
/// trimmer when they have something to watch, and the purge of deleted
/// tables if any wait. Called when a tenant is opened: a tenant with
/// nothing unfinished registers no job.
pub fn resume(tenant: &Arc<Tenant>) {
    crate::indexing::resume(tenant);
    crate::ttl::index::resume(tenant);
    crate::ttl::sweeper::ensure(tenant);
    crate::trimmer::ensure(tenant);
    if tenant.purge_waiting {
        purge::ensure(tenant);
    }
}

/// A storage key for logs: bytes as hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
