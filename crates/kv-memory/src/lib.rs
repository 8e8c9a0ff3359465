//! In-memory kv backend: a `BTreeMap` behind a lock. It is the reference
//! model the other backends are checked against, and the engine of
//! `--in-memory`.
//!
//! # Concurrency
//!
//! The map sits behind a `parking_lot::RwLock`:
//!
//! - [`Kv::read`] returns a handle holding a shared guard, so a handle is a
//!   true snapshot: no write can commit while it is alive.
//! - [`Kv::write`] runs the closure at once on the calling thread, holding
//!   the lock's single *upgradable* guard. That serialises writers while
//!   readers keep going; the closure's writes are buffered in an overlay
//!   (reads inside the transaction see them), and only on `Commit` is the
//!   guard upgraded to exclusive for the short time it takes to apply them.
//!
//! The price of this simplicity: a thread that holds a read handle must not
//! write (the commit would wait for its own handle forever), nor take a second
//! read handle while writers may be waiting (the lock is fair, so the second
//! handle queues behind the waiting writer). Read handles are meant to live
//! for one request. The durable backends have no such restriction.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};

use openddb_kv::{
    DoneFn, KeyRange, KeyValue, Kv, KvError, Outcome, ReadHandle, ReadTxn, Txn, WriteFn,
};
use parking_lot::{RwLock, RwLockReadGuard, RwLockUpgradableReadGuard};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;
/// A transaction's pending writes: `None` is a deletion.
type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// One ordered keyspace held in memory.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: RwLock<Map>,
}

impl MemoryKv {
    /// An empty store.
    pub fn new() -> MemoryKv {
        MemoryKv::default()
    }

    /// Number of keys stored (committed state).
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }
}

impl Kv for MemoryKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        Ok(Box::new(Snapshot {
            map: self.map.read(),
        }))
    }

    fn write(&self, mut f: WriteFn, done: DoneFn) {
        let guard = self.map.upgradable_read();
        let mut txn = MemoryTxn {
            base: &guard,
            overlay: Overlay::new(),
        };
        // A panicking closure must not take the caller's `done` with it; it
        // is reported like any other failed write and its writes discarded.
        let verdict = catch_unwind(AssertUnwindSafe(|| f(&mut txn)))
            .unwrap_or_else(|_| Err(KvError::Fatal("write closure panicked".into())));
        let overlay = txn.overlay;
        let result = match verdict {
            Ok(Outcome::Commit) => {
                let mut map = RwLockUpgradableReadGuard::upgrade(guard);
                for (k, v) in overlay {
                    match v {
                        Some(v) => map.insert(k, v),
                        None => map.remove(&k),
                    };
                }
                Ok(())
            }
            Ok(Outcome::Abort) => Ok(()),
            Err(e) => Err(e),
        };
        // Every guard is released by now, so `done` may read or write again.
        done(result);
    }

    fn reads_are_cheap(&self) -> bool {
        true
    }
}

/// A read handle: the shared guard is the snapshot.
struct Snapshot<'a> {
    map: RwLockReadGuard<'a, Map>,
}

impl ReadTxn for Snapshot<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.map.get(key).cloned())
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        Ok(merged_scan(
            &self.map,
            &Overlay::new(),
            range,
            reverse,
            limit,
            usize::MAX,
        ))
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        Ok(merged_scan(
            &self.map,
            &Overlay::new(),
            range,
            reverse,
            limit,
            max_bytes,
        ))
    }
}

/// A write transaction: committed state plus this transaction's overlay.
struct MemoryTxn<'a> {
    base: &'a Map,
    overlay: Overlay,
}

impl ReadTxn for MemoryTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(match self.overlay.get(key) {
            Some(pending) => pending.clone(),
            None => self.base.get(key).cloned(),
        })
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        Ok(merged_scan(
            self.base,
            &self.overlay,
            range,
            reverse,
            limit,
            usize::MAX,
        ))
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        Ok(merged_scan(
            self.base,
            &self.overlay,
            range,
            reverse,
            limit,
            max_bytes,
        ))
    }
}

impl Txn for MemoryTxn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.overlay.insert(key.to_vec(), None);
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError> {
        if start >= end {
            return Ok(());
        }
        let bounds = (Bound::Included(start), Bound::Excluded(end));
        // Tombstone every committed key in the range, and turn every pending
        // write in it into a tombstone too; this is the same work the commit
        // would do anyway, so it costs no more than the deletion itself.
        for k in self.base.range::<[u8], _>(bounds).map(|(k, _)| k) {
            self.overlay.insert(k.clone(), None);
        }
        for (_, v) in self.overlay.range_mut::<[u8], _>(bounds) {
            *v = None;
        }
        Ok(())
    }

    fn lock(&mut self, _key: &[u8]) -> Result<(), KvError> {
        // Writers are serialised: there is nothing to conflict with.
        Ok(())
    }
}

/// Whether no key can lie inside `range` (also keeps `BTreeMap::range`,
/// which panics on inverted bounds, away from such ranges).
fn range_is_empty(range: &KeyRange) -> bool {
    let (start, start_inclusive) = match &range.start {
        Bound::Included(s) => (s, true),
        Bound::Excluded(s) => (s, false),
        Bound::Unbounded => return false,
    };
    let (end, end_inclusive) = match &range.end {
        Bound::Included(e) => (e, true),
        Bound::Excluded(e) => (e, false),
        Bound::Unbounded => return false,
    };
    start > end || (start == end && !(start_inclusive && end_inclusive))
}

fn as_slice_bounds(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    fn one(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        match b {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        }
    }
    (one(&range.start), one(&range.end))
}

/// Up to `limit` pairs of `base` overlaid with `overlay` (pending writes win,
/// tombstones hide), in key order or reverse key order.
fn merged_scan(
    base: &Map,
    overlay: &Overlay,
    range: &KeyRange,
    reverse: bool,
    limit: usize,
    max_bytes: usize,
) -> Vec<KeyValue> {
    if limit == 0 || range_is_empty(range) {
        return Vec::new();
    }
    let bounds = as_slice_bounds(range);
    let base_iter = base.range::<[u8], _>(bounds);
    let overlay_iter = overlay.range::<[u8], _>(bounds);
    if reverse {
        merge(base_iter.rev(), overlay_iter.rev(), true, limit, max_bytes)
    } else {
        merge(base_iter, overlay_iter, false, limit, max_bytes)
    }
}

fn merge<'a>(
    mut base: impl Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>,
    mut overlay: impl Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)>,
    reverse: bool,
    limit: usize,
    max_bytes: usize,
) -> Vec<KeyValue> {
    use std::cmp::Ordering;
    let mut out: Vec<KeyValue> = Vec::new();
    let mut bytes = 0usize;
    let mut b = base.next();
    let mut o = overlay.next();
    while out.len() < limit && bytes <= max_bytes {
        // Which side comes first in scan order: the committed pair, the
        // pending one, or both at once (the pending one wins).
        let take = match (b, o) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((bk, _)), Some((ok, _))) => {
                let ord = bk.cmp(ok);
                if reverse {
                    ord.reverse()
                } else {
                    ord
                }
            }
        };
        match take {
            Ordering::Less => {
                if let Some((k, v)) = b {
                    bytes = bytes.saturating_add(k.len() + v.len());
                    out.push((k.clone(), v.clone()));
                }
                b = base.next();
            }
            Ordering::Greater | Ordering::Equal => {
                if let Some((k, Some(v))) = o {
                    bytes = bytes.saturating_add(k.len() + v.len());
                    out.push((k.clone(), v.clone()));
                }
                if take == Ordering::Equal {
                    b = base.next();
                }
                o = overlay.next();
            }
        }
    }
    out
}
