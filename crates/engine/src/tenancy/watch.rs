//! The tenant's storage, watched for writes that make timed work: a Time
//! to Live index entry (an item that will expire) or a stream record (a
//! record that will pass retention). Every write of the tenant (requests,
//! background jobs) goes through `Watched`, a layer over its kv store, so
//! the write path itself knows nothing of the scheduler.
//!
//! Two promises follow a write that makes such work:
//!
//! - in memory, the timed job is due no later than the work
//!   (`background::Wakeups::report`, after the write commits);
//! - in the persisted due index, the tenant has an entry no later than the
//!   work before the write commits, so that a crash cannot lose it
//!   (`Arming`). A tenant open for requests keeps an entry at or before the
//!   first such write for as long as it is open (the scheduler skips open
//!   tenants, so that entry costs nothing); the exact time is recorded when
//!   it closes. That costs one small index write per tenant per time it is
//!   opened, by its first write (again only if a visit that found no work
//!   removed the entry since), and nothing for tenants without Time to
//!   Live or streams, whose writes pass straight through.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use openddb_kv::{
    DoneFn, KeyRange, KeyValue, Kv, KvError, Outcome, ReadHandle, ReadTxn, Txn, WriteFn,
};

use super::due::{Change, DueIndex};
use super::scheduler::now_ms;
use crate::background::{Timed, Wakeups};

/// The first byte of a stream record's key (`streams.rs`: `0x06 <stream
/// id> <shard> <seq>`). `tests::a_stream_record_is_seen` checks it against
/// what `streams::append` writes.
const STREAM_RECORD: u8 = 0x06;

/// No time.
const NONE: u64 = u64::MAX;

/// Whether the tenant's writes may make timed work, and whether its entry
/// in the persisted due index is early enough for them.
pub struct Arming {
    /// A table has Time to Live or a stream (as of opening, or of a change
    /// since): writes are watched.
    timed: AtomicBool,
    /// The tenant's entry is at or before now, and stays so while the
    /// tenant is open unless a visit removes it (`disarm`, only when no
    /// watched write is under way).
    armed: AtomicBool,
    /// Watched writes between their look at `armed` and their report.
    writes: AtomicUsize,
    /// What arming lowered the entry to (epoch ms), or `NONE`: the tenant's
    /// own record of its entry (`Tenant::persisted_due`) is not within
    /// reach of its storage.
    lowered: AtomicU64,
    /// Orders arming and disarming.
    lock: tokio::sync::Mutex<()>,
}

impl Default for Arming {
    fn default() -> Self {
        Arming {
            timed: AtomicBool::new(false),
            armed: AtomicBool::new(false),
            writes: AtomicUsize::new(0),
            lowered: AtomicU64::new(NONE),
            lock: tokio::sync::Mutex::new(()),
        }
    }
}

impl Arming {
    /// Sets the state of a tenant being opened: whether it has Time to
    /// Live or a stream, and its entry as read from the index.
    pub(crate) fn opened(&self, timed: bool, entry: Option<u64>) {
        self.timed.store(timed, Ordering::SeqCst);
        self.armed
            .store(entry.is_some_and(|e| e <= now_ms()), Ordering::SeqCst);
    }

    /// A change that creates work has just lowered the entry to now (or
    /// found it earlier): `tenancy::work_ahead`, under the tenant's due
    /// lock.
    pub(crate) fn armed_by_change(&self) {
        self.timed.store(true, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// What arming lowered the entry to, if it did.
    pub(crate) fn lowered(&self) -> Option<u64> {
        Some(self.lowered.load(Ordering::SeqCst)).filter(|l| *l != NONE)
    }

    /// Makes the entry at or before now, once.
    async fn arm(&self, index: &DueIndex, account: &str) -> Result<(), KvError> {
        let _order = self.lock.lock().await;
        if self.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let now = now_ms();
        let entry = index.change(account, Change::Lower(now)).await?;
        self.arm_done(entry.unwrap_or(now));
        Ok(())
    }

    /// `arm`, on a thread that may block (a write queued from outside any
    /// runtime).
    fn arm_blocking(&self, index: &DueIndex, account: &str) -> Result<(), KvError> {
        let _order = self.lock.blocking_lock();
        if self.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let now = now_ms();
        let entry = index.change_blocking(account, Change::Lower(now))?;
        self.arm_done(entry.unwrap_or(now));
        Ok(())
    }

    fn arm_done(&self, entry: u64) {
        self.lowered.fetch_min(entry, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Lets the scheduler remove the tenant's entry: `None` if a watched
    /// write is under way (it may rely on the entry). A write that looks at
    /// `armed` after this sees it unset and arms again, after the removal.
    /// Unless `Disarmed::removed` is called, the state is put back.
    pub(crate) async fn disarm(&self) -> Option<Disarmed<'_>> {
        let order = self.lock.lock().await;
        let was = self.armed.swap(false, Ordering::SeqCst);
        let disarmed = Disarmed {
            arming: self,
            was,
            _order: order,
        };
        // A write counts itself before it looks at `armed` (both SeqCst):
        // either it is counted here or it sees `armed` unset.
        (self.writes.load(Ordering::SeqCst) == 0).then_some(disarmed)
    }
}

/// The tenant's entry may be removed while this lives.
pub(crate) struct Disarmed<'a> {
    arming: &'a Arming,
    was: bool,
    _order: tokio::sync::MutexGuard<'a, ()>,
}

impl Disarmed<'_> {
    /// The entry is gone.
    pub(crate) fn removed(mut self) {
        self.arming.lowered.store(NONE, Ordering::SeqCst);
        self.was = false;
    }
}

impl Drop for Disarmed<'_> {
    fn drop(&mut self) {
        if self.was {
            self.arming.armed.store(true, Ordering::SeqCst);
        }
    }
}

/// A tenant's kv store, watched.
pub struct Watched {
    inner: Arc<dyn Kv>,
    wakeups: Arc<Wakeups>,
    /// How long stream records are kept (ms).
    retention_ms: u64,
}

impl Watched {
    pub fn new(inner: Arc<dyn Kv>, wakeups: Arc<Wakeups>, retention_ms: u64) -> Watched {
        Watched {
            inner,
            wakeups,
            retention_ms,
        }
    }
}

/// What the last run of a watched write's closure made, for its report:
/// the earliest expiry it indexed (epoch s) and when it wrote a stream
/// record (epoch ms, taken before the record's own time), or `NONE`.
#[derive(Default)]
struct Seen {
    expiry: AtomicU64,
    record: AtomicU64,
}

impl Kv for Watched {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        self.inner.read()
    }

    fn reads_are_cheap(&self) -> bool {
        self.inner.reads_are_cheap()
    }

    fn try_read(&self) -> Option<Result<ReadHandle<'_>, KvError>> {
        self.inner.try_read()
    }

    fn write(&self, mut f: WriteFn, done: DoneFn) {
        let arming = &self.wakeups.arming;
        if !arming.timed.load(Ordering::SeqCst) {
            return self.inner.write(f, done);
        }
        arming.writes.fetch_add(1, Ordering::SeqCst);
        let seen = Arc::new(Seen {
            expiry: AtomicU64::new(NONE),
            record: AtomicU64::new(NONE),
        });
        let seen_w = seen.clone();
        let watched: WriteFn = Box::new(move |txn| {
            let mut txn = WatchTxn {
                inner: txn,
                started_ms: now_ms(),
                expiry: NONE,
                record: NONE,
            };
            let outcome = f(&mut txn);
            let kept = matches!(outcome, Ok(Outcome::Commit));
            // Each run starts from scratch: only the last one counts.
            let (expiry, record) = if kept {
                (txn.expiry, txn.record)
            } else {
                (NONE, NONE)
            };
            seen_w.expiry.store(expiry, Ordering::SeqCst);
            seen_w.record.store(record, Ordering::SeqCst);
            outcome
        });
        let wakeups = self.wakeups.clone();
        let retention_ms = self.retention_ms;
        let reported: DoneFn = Box::new(move |result| {
            if result.is_ok() {
                let expiry = seen.expiry.load(Ordering::SeqCst);
                if let Some(due) = (expiry != NONE)
                    .then(|| crate::ttl::due_ms(expiry))
                    .flatten()
                {
                    wakeups.report(Timed::Sweep, due);
                }
                let record = seen.record.load(Ordering::SeqCst);
                if record != NONE {
                    // Past retention once a whole millisecond older.
                    let due = record.saturating_add(retention_ms).saturating_add(1);
                    wakeups.report(Timed::Trim, due);
                }
            }
            wakeups.arming.writes.fetch_sub(1, Ordering::SeqCst);
            done(result);
        });
        if arming.armed.load(Ordering::SeqCst) {
            return self.inner.write(watched, reported);
        }
        let index = self
            .wakeups
            .waker
            .get()
            .and_then(|w| Some((w.scheduler.upgrade()?.index().clone(), w.account.clone())));
        let Some((index, account)) = index else {
            // No scheduler (the database is going away): nothing to arm.
            return self.inner.write(watched, reported);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let (inner, wakeups) = (self.inner.clone(), self.wakeups.clone());
                runtime.spawn(async move {
                    match wakeups.arming.arm(&index, &account).await {
                        Ok(()) => inner.write(watched, reported),
                        Err(e) => reported(Err(e)),
                    }
                });
            }
            Err(_) => match arming.arm_blocking(&index, &account) {
                Ok(()) => self.inner.write(watched, reported),
                Err(e) => reported(Err(e)),
            },
        }
    }
}

/// A transaction of a watched write: notes the Time to Live entries and
/// stream records it puts.
struct WatchTxn<'a> {
    inner: &'a mut dyn Txn,
    started_ms: u64,
    expiry: u64,
    record: u64,
}

impl ReadTxn for WatchTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.inner.get(key)
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        self.inner.get_many(keys)
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        self.inner.scan(range, reverse, limit)
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        self.inner.scan_bounded(range, reverse, limit, max_bytes)
    }
}

impl Txn for WatchTxn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        if key.first() == Some(&STREAM_RECORD) {
            self.record = self.started_ms;
        } else if let Some(expiry) = crate::ttl::index::entry_expiry(key) {
            self.expiry = self.expiry.min(expiry);
        }
        self.inner.put(key, value)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.inner.delete(key)
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError> {
        self.inner.delete_range(start, end)
    }

    fn lock(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.inner.lock(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_core::keyenc::KeyValue as Key;
    use openddb_core::{AttributeValue, Item};
    use openddb_kv::write_blocking;
    use openddb_kv_memory::MemoryKv;

    use crate::streams::{self, StreamMeta, StreamRef};

    /// Runs `f` in a watched transaction over a memory store and returns
    /// what it saw.
    fn watch(f: impl FnMut(&mut dyn Txn) -> Result<(), KvError> + Send + 'static) -> (u64, u64) {
        let kv = MemoryKv::new();
        let mut f = f;
        write_blocking(&kv, move |txn| {
            let mut txn = WatchTxn {
                inner: txn,
                started_ms: 7,
                expiry: NONE,
                record: NONE,
            };
            f(&mut txn)?;
            Ok((Outcome::Commit, (txn.expiry, txn.record)))
        })
        .expect("write")
    }

    #[test]
    fn a_stream_record_is_seen() {
        let meta = StreamMeta {
            id: 3,
            arn: "arn".into(),
            label: "label".into(),
            table_name: "t".into(),
            table_id: 1,
            view_type: "KEYS_ONLY".into(),
            key_schema: Vec::new(),
            region: "us-east-1".into(),
            created_ms: 1,
            disabled_ms: None,
        };
        let stream = StreamRef {
            id: 3,
            arn: "arn".into(),
            view_type: "KEYS_ONLY".into(),
            split_after: 100,
            max_open_shards: 4,
            rollover_ms: u64::MAX,
        };
        // Creating a stream writes no record.
        let created = meta.clone();
        assert_eq!(
            watch(move |txn| streams::create(txn, &created)),
            (NONE, NONE)
        );
        let (expiry, record) = watch(move |txn| {
            streams::create(txn, &meta)?;
            let keys = Item::from([("pk".to_string(), AttributeValue::S("a".into()))]);
            streams::append(txn, &stream, Key::S("a"), &keys, None, Some(&keys), false)
        });
        assert_eq!((expiry, record), (NONE, 7));
    }

    #[test]
    fn the_earliest_expiry_indexed_is_seen() {
        let (expiry, record) = watch(|txn| {
            txn.put(&crate::keys::ttl_key(4, 900, b"item-a"), &[])?;
            txn.put(&crate::keys::ttl_key(4, 300, b"item-b"), &[])?;
            txn.put(&crate::keys::ttl_key(5, 600, b"item-c"), &[])?;
            txn.put(&crate::keys::stats_key(4), b"stats")
        });
        assert_eq!((expiry, record), (300, NONE));
    }
}
