//! The ordered, transactional key-value contract every storage backend implements.
//!
//! A backend stores ordered bytes in short transactions and knows nothing of
//! DynamoDB: no conditions, indexes or streams live here. Keys compare as
//! unsigned bytes (`memcmp`).
//!
//! Writes are submitted as closures ([`WriteFn`]) so a backend may batch many
//! of them into one physical transaction (group commit) and may re-run one
//! after a conflict; `done` is called once the outcome is durable.
#![forbid(unsafe_code)]

pub mod contract;

use std::ops::Bound;

/// A key/value pair as returned by scans.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// The closed set of storage errors. A user's failed condition is never one
/// of these: it is the closure's own `Err(Abort)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// Another transaction touched a key this one read with `lock` or wrote.
    #[error("transaction conflict")]
    Conflict,
    /// A passing failure (busy database, lost connection); the same call may succeed later.
    #[error("retryable storage error: {0}")]
    Retryable(String),
    /// The transaction exceeds what the backend can hold in one commit.
    #[error("transaction too large")]
    TooLarge,
    /// The backend cannot be reached or is shutting down.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend refused to take more work for now (its write queue is
    /// full); nothing was done. Distinct from `Retryable` so that callers
    /// can answer it as throttling: the cure is to send less, not to retry
    /// at once.
    #[error("storage overloaded: {0}")]
    Overloaded(String),
    /// Anything else: corruption, I/O failure.
    #[error("fatal storage error: {0}")]
    Fatal(String),
}

/// A half-open or closed range of keys for [`ReadTxn::scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        let end = match prefix_successor(prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        KeyRange {
            start: Bound::Included(prefix.to_vec()),
            end,
        }
    }

    /// `[start, end)`.
    pub fn half_open(start: Vec<u8>, end: Vec<u8>) -> KeyRange {
        KeyRange {
            start: Bound::Included(start),
            end: Bound::Excluded(end),
        }
    }

    /// Whether `key` lies inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let after_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let before_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        after_start && before_end
    }
}

/// The smallest key greater than every key starting with `prefix`, or `None`
/// when no such key exists (the prefix is empty or all `0xFF`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// Reads inside a transaction. Reads see the transaction's own writes.
pub trait ReadTxn {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    /// Up to `limit` pairs inside `range`, ascending by key, or descending
    /// when `reverse`.
    fn scan(&self, range: &KeyRange, reverse: bool, limit: usize)
        -> Result<Vec<KeyValue>, KvError>;

    /// `scan`, stopping early right after the pair that takes the keys and
    /// values read past `max_bytes` in all: a caller that needs about a
    /// megabyte of possibly large values does not have `limit` of them read
    /// into memory. Fewer than `limit` pairs that hold no more than
    /// `max_bytes` means the range has no more. The default reads all
    /// `limit` pairs; backends override it (the contract suite's
    /// `scan_bounded_stops_after_the_bound` checks they do).
    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        let _ = max_bytes;
        self.scan(range, reverse, limit)
    }
}

/// A read-write transaction.
pub trait Txn: ReadTxn {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError>;
    fn delete(&mut self, key: &[u8]) -> Result<(), KvError>;
    /// Deletes every key in `[start, end)`.
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError>;
    /// Adds `key` to the transaction's read set, so that a concurrent write
    /// of it makes this transaction conflict. Single-writer backends have
    /// nothing to do.
    fn lock(&mut self, key: &[u8]) -> Result<(), KvError>;
}

/// The closure's verdict on its own transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Keep the writes.
    Commit,
    /// Discard every write this closure made (a user outcome such as a
    /// failed condition, not an error of the store).
    Abort,
}

/// A unit of write work. It may be called more than once (after a
/// conflict); each call must start from scratch. Writes it made are kept
/// only if it returns `Ok(Outcome::Commit)`; an `Err` discards them and is
/// reported to `done`.
pub type WriteFn = Box<dyn FnMut(&mut dyn Txn) -> Result<Outcome, KvError> + Send>;

/// Called exactly once per write with the final result: `Ok(())` once the
/// closure's last run returned and its writes (if committed) are durable.
pub type DoneFn = Box<dyn FnOnce(Result<(), KvError>) + Send>;

/// A snapshot read transaction.
pub type ReadHandle<'a> = Box<dyn ReadTxn + 'a>;

/// One tenant's ordered keyspace.
pub trait Kv: Send + Sync + 'static {
    /// A consistent read-only snapshot. May block briefly; callers on an
    /// async runtime call it from a blocking-capable thread.
    fn read(&self) -> Result<ReadHandle<'_>, KvError>;

    /// Queues `f` for execution in a read-write transaction. `done` is
    /// called once, after the result is durable (or has failed). A backend
    /// may call `done` on the calling thread or another one.
    fn write(&self, f: WriteFn, done: DoneFn);

    /// Whether `read` is cheap enough (no I/O, no waiting) to call from an
    /// async task directly instead of a blocking thread.
    fn reads_are_cheap(&self) -> bool {
        false
    }

    /// A snapshot, if one can be had without waiting (for a pooled
    /// connection, a lock, or opening a file); `None` when `read` would
    /// wait, and the caller should call it from a blocking-capable thread.
    /// Lets async callers serve most reads where they are without ever
    /// blocking on the ones that would wait.
    fn try_read(&self) -> Option<Result<ReadHandle<'_>, KvError>> {
        None
    }
}

/// Runs `f` as a write and waits for it on the calling thread. Convenient
/// for tests and synchronous callers.
pub fn write_blocking<T: Send + 'static>(
    kv: &dyn Kv,
    mut f: impl FnMut(&mut dyn Txn) -> Result<(Outcome, T), KvError> + Send + 'static,
) -> Result<T, KvError> {
    use std::sync::{mpsc, Arc, Mutex};
    let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let slot_w = slot.clone();
    let (tx, rx) = mpsc::channel();
    kv.write(
        Box::new(move |txn| {
            let (o, v) = f(txn)?;
            *slot_w.lock().unwrap() = Some(v);
            Ok(o)
        }),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    rx.recv()
        .map_err(|_| KvError::Unavailable("writer went away".into()))??;
    let v = slot.lock().unwrap().take();
    v.ok_or_else(|| KvError::Fatal("write finished without running".into()))
}
