//! What background jobs met and went past instead of retrying forever:
//! each problem is logged at warn with its table, index and key, and
//! counted per tenant so that tests (and, later, metrics) can see it.

use std::collections::HashMap;

use parking_lot::Mutex;

/// A kind of item a job could not process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Problem {
    /// A global secondary index backfill left out an item whose index key
    /// attribute has another type than the index's, is an empty string or
    /// binary, or is longer than a key may be: DynamoDB's "index key
    /// violation", which does not stop the backfill either.
    IndexKeyViolation,
    /// A stored item could not be decoded; the job went past it.
    UndecodableItem,
    /// An item kept failing on its own with a storage error that is not
    /// transient; the job went past it.
    ItemSkipped,
    /// Trimming one stream kept failing; the other streams were trimmed and
    /// it is tried again next round.
    StreamSkipped,
}

/// Problems counted per kind since the tenant was opened.
#[derive(Default)]
pub struct Problems {
    counts: Mutex<HashMap<Problem, u64>>,
}

impl Problems {
    pub fn add(&self, problem: Problem, n: u64) {
        if n > 0 {
            *self.counts.lock().entry(problem).or_default() += n;
        }
    }

    #[cfg(test)]
    pub fn count(&self, problem: Problem) -> u64 {
        self.counts.lock().get(&problem).copied().unwrap_or(0)
    }
}
