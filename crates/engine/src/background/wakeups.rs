//! How a tenant's writes bring its timed jobs forward. Two jobs are due
//! when the data says, not on a clock: the Time to Live sweep (when the
//! earliest expiry passes) and the stream trim (when the oldest record
//! passes retention). Each works out its next due time from storage at
//! the end of a round and sleeps until then, or without a due time when
//! nothing will ever be due. A write that makes earlier work (an expiry
//! sooner than any known, a record in an empty stream) is seen by the
//! tenant's storage wrapper (`tenancy::watch`) and reported here once it
//! commits; the job becomes due that much sooner. A write whose work is no
//! earlier than the job's due time costs one comparison.
//!
//! A report is applied to the job's slot in the registry under the
//! registry's lock (`fold`); one that arrives while the job is being
//! stepped waits until the step's outcome is recorded, so a round that read
//! storage before the write committed cannot hide it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tokio::time::Instant;

use super::JobKey;
use crate::tenancy::scheduler::{instant_to_ms, ms_to_instant, now_ms};
use crate::tenancy::watch::Arming;
use crate::tenancy::Waker;

/// A job whose due time follows from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timed {
    /// The Time to Live sweep: due a whole second after the earliest
    /// expiry.
    Sweep = 0,
    /// The stream trim: due when the oldest record is past retention.
    Trim = 1,
}

const TIMED: [Timed; 2] = [Timed::Sweep, Timed::Trim];

/// No time: nothing pending, or nothing covered.
const NEVER: u64 = u64::MAX;

impl Timed {
    pub fn of(key: &JobKey) -> Option<Timed> {
        match key {
            JobKey::TtlSweep => Some(Timed::Sweep),
            JobKey::StreamTrim => Some(Timed::Trim),
            _ => None,
        }
    }

    fn at(self) -> usize {
        self as usize
    }
}

/// What a tenant's storage wrapper shares with its job registry: the
/// timed jobs' due times as writes need to see them, the reports not yet
/// applied, whom to wake, and whether the persisted due index is ready for
/// writes that make work (`Arming`).
pub struct Wakeups {
    /// Per timed job: work due at or after this time (epoch ms) needs no
    /// report, the job being due by then. `NEVER` while the job sleeps
    /// without a due time or is being stepped (every report counts); 0
    /// while it is not registered (it is registered due at once when it is
    /// wanted again).
    covered: [AtomicU64; 2],
    /// Per timed job: the earliest time (epoch ms) a report may make it
    /// due, so that rounds stay an interval apart however often writes
    /// bring it forward.
    not_before: [AtomicU64; 2],
    /// Per timed job: the earliest reported time (epoch ms) not yet
    /// applied to its slot, or `NEVER`.
    pending: [AtomicU64; 2],
    /// Whom to tell that a job became due (the scheduler), once the
    /// tenant is published.
    pub(crate) waker: OnceLock<Waker>,
    pub(crate) arming: Arming,
}

impl Default for Wakeups {
    fn default() -> Self {
        Wakeups {
            covered: [AtomicU64::new(0), AtomicU64::new(0)],
            not_before: [AtomicU64::new(0), AtomicU64::new(0)],
            pending: [AtomicU64::new(NEVER), AtomicU64::new(NEVER)],
            waker: OnceLock::new(),
            arming: Arming::default(),
        }
    }
}

impl Wakeups {
    /// Work for `job` due at `at_ms` (epoch ms) has committed.
    pub fn report(&self, job: Timed, at_ms: u64) {
        let at = at_ms.max(self.not_before[job.at()].load(Ordering::SeqCst));
        if at >= self.covered[job.at()].load(Ordering::SeqCst) {
            return;
        }
        self.pending[job.at()].fetch_min(at, Ordering::SeqCst);
        if let Some(waker) = self.waker.get() {
            waker.wake(ms_to_instant(at));
        }
    }

    /// Keeps `job` from being brought forward before `until_ms` (the start
    /// of its round plus its interval).
    pub fn hold_off(&self, job: Timed, until_ms: u64) {
        self.not_before[job.at()].store(until_ms, Ordering::SeqCst);
    }

    /// Asks for a round of `job` as soon as its interval allows (a change
    /// that may have made work for it: TTL enabled, a stream disabled).
    pub fn soon(&self, job: Timed) {
        self.report(job, now_ms());
    }

    /// The job is being stepped: every report counts until its outcome is
    /// recorded.
    pub(super) fn taken(&self, job: Timed) {
        self.covered[job.at()].store(NEVER, Ordering::SeqCst);
    }

    /// The job's slot now says `due` (`None`: the job is gone; `Some(None)`:
    /// it sleeps until brought forward).
    pub(super) fn settled(&self, job: Timed, due: Option<Option<Instant>>) {
        let covered = match due {
            None => 0,
            Some(None) => NEVER,
            Some(Some(at)) => instant_to_ms(at),
        };
        self.covered[job.at()].store(covered, Ordering::SeqCst);
    }

    /// Applies the pending reports to the slots they are for; called under
    /// the registry's lock. A report for a job being stepped stays pending
    /// until its outcome is recorded; one for a job not registered is of no
    /// use (it is registered due at once when wanted).
    pub(super) fn fold(&self, jobs: &mut [super::Slot]) {
        for job in TIMED {
            let at = self.pending[job.at()].swap(NEVER, Ordering::SeqCst);
            if at == NEVER {
                continue;
            }
            match jobs.iter_mut().find(|s| Timed::of(&s.key) == Some(job)) {
                Some(slot) if slot.job.is_some() => {
                    let at = ms_to_instant(at);
                    let due = slot.due.map_or(at, |d| d.min(at));
                    slot.due = Some(due);
                    self.settled(job, Some(Some(due)));
                }
                Some(_) => {
                    self.pending[job.at()].fetch_min(at, Ordering::SeqCst);
                }
                None => {}
            }
        }
    }
}
