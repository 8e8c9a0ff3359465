//! The contract test suite every kv backend must pass.
//!
//! Each public function takes a factory for a fresh, empty store and panics
//! on the first violation. A backend's test file instantiates them all with
//! [`contract_tests!`](crate::contract_tests), one `#[test]` each, and adds
//! [`model_check`] with `openddb_kv_memory::MemoryKv` as the oracle. Tests
//! that not every backend can run (see each one's doc) are called by name.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::{write_blocking, KeyRange, KeyValue, Kv, KvError, Outcome, ReadTxn, Txn};

/// A factory for a fresh, empty store.
pub type Factory<'a> = &'a dyn Fn() -> Box<dyn Kv>;

/// One `#[test]` per contract function, for the backend built by `$factory`
/// (an expression callable as `$factory()` returning a `Box` of a [`Kv`](crate::Kv)).
///
/// ```ignore
/// openddb_kv::contract_tests!(|| Box::new(MemoryKv::new()));
/// ```
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!(@each $factory;
            empty_store,
            put_get_delete,
            overwrite,
            get_many_keeps_order,
            scan_directions_and_limits,
            scan_every_bound_kind,
            scan_prefixes_and_extreme_bytes,
            scan_bounded_stops_after_the_bound,
            reads_see_own_writes,
            later_jobs_see_earlier_commits,
            abort_discards_everything,
            error_discards_and_is_reported,
            panic_is_reported_and_store_survives,
            done_is_called_once_per_write,
            write_blocking_returns_value,
            delete_range_is_half_open,
            empty_keys_and_values,
            large_values,
            many_writes_in_one_transaction,
            concurrent_increments_are_not_lost,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::contract::$name(
                    &|| -> ::std::boxed::Box<dyn $crate::Kv> { ($factory)() },
                );
            }
        )*
    };
}

// ---------------------------------------------------------------- helpers

fn put(kv: &dyn Kv, key: &[u8], value: &[u8]) {
    let (k, v) = (key.to_vec(), value.to_vec());
    write_blocking(kv, move |t| {
        t.put(&k, &v)?;
        Ok((Outcome::Commit, ()))
    })
    .expect("put");
}

fn get(kv: &dyn Kv, key: &[u8]) -> Option<Vec<u8>> {
    kv.read().expect("read").get(key).expect("get")
}

fn all(kv: &dyn Kv) -> Vec<KeyValue> {
    scan_of(&*kv.read().expect("read"), &everything(), false, usize::MAX)
}

fn scan_of(r: &dyn ReadTxn, range: &KeyRange, reverse: bool, limit: usize) -> Vec<KeyValue> {
    r.scan(range, reverse, limit).expect("scan")
}

fn everything() -> KeyRange {
    KeyRange {
        start: Bound::Unbounded,
        end: Bound::Unbounded,
    }
}

fn pair(k: &[u8], v: &[u8]) -> KeyValue {
    (k.to_vec(), v.to_vec())
}

/// Submits `f` with [`Kv::write`] and waits for `done`; the closure's own
/// result is passed back through `out`.
fn write_and_wait(
    kv: &dyn Kv,
    f: impl FnMut(&mut dyn Txn) -> Result<Outcome, KvError> + Send + 'static,
) -> Result<(), KvError> {
    let (tx, rx) = mpsc::channel();
    kv.write(
        Box::new(f),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    rx.recv_timeout(Duration::from_secs(60))
        .expect("done was not called")
}

// ------------------------------------------------------- the contract tests

/// A fresh store is empty.
pub fn empty_store(factory: Factory) {
    let kv = factory();
    assert_eq!(get(&*kv, b"a"), None);
    assert_eq!(get(&*kv, b""), None);
    assert!(all(&*kv).is_empty());
    assert!(scan_of(&*kv.read().unwrap(), &everything(), true, 10).is_empty());
}

/// Put, get and delete, each visible to the next read once `done` has run.
pub fn put_get_delete(factory: Factory) {
    let kv = factory();
    write_and_wait(&*kv, |t| {
        t.put(b"k1", b"v1")?;
        t.put(b"k2", b"v2")?;
        Ok(Outcome::Commit)
    })
    .unwrap();
    assert_eq!(get(&*kv, b"k1"), Some(b"v1".to_vec()));
    assert_eq!(get(&*kv, b"k2"), Some(b"v2".to_vec()));
    assert_eq!(get(&*kv, b"k3"), None);
    write_and_wait(&*kv, |t| {
        t.delete(b"k1")?;
        t.delete(b"never-there")?;
        Ok(Outcome::Commit)
    })
    .unwrap();
    assert_eq!(get(&*kv, b"k1"), None);
    assert_eq!(all(&*kv), vec![pair(b"k2", b"v2")]);
}

/// A put replaces the previous value, including a longer or shorter one.
pub fn overwrite(factory: Factory) {
    let kv = factory();
    put(&*kv, b"k", b"first");
    put(&*kv, b"k", b"a much longer second value");
    assert_eq!(
        get(&*kv, b"k"),
        Some(b"a much longer second value".to_vec())
    );
    put(&*kv, b"k", b"3");
    assert_eq!(all(&*kv), vec![pair(b"k", b"3")]);
}

/// `get_many` answers in the order asked, with `None` for missing keys and
/// repeated keys answered each time.
pub fn get_many_keeps_order(factory: Factory) {
    let kv = factory();
    put(&*kv, b"a", b"1");
    put(&*kv, b"c", b"3");
    let r = kv.read().unwrap();
    let got = r
        .get_many(&[b"c".as_slice(), b"b", b"a", b"c", b""])
        .unwrap();
    assert_eq!(
        got,
        vec![
            Some(b"3".to_vec()),
            None,
            Some(b"1".to_vec()),
            Some(b"3".to_vec()),
            None
        ]
    );
    assert!(r.get_many(&[]).unwrap().is_empty());
}

/// A bounded scan returns what `scan` would, up to and including the pair
/// that takes the bytes of keys and values past the bound, in snapshots and
/// in write transactions (which see their own pending writes).
pub fn scan_bounded_stops_after_the_bound(factory: Factory) {
    let kv = factory();
    // Pairs of 2 + 10 * i bytes: uneven, so every bound lands differently.
    let pairs: Vec<KeyValue> = (0u8..8)
        .map(|i| (vec![b'k', i], vec![i; 10 * usize::from(i)]))
        .collect();
    let committed = pairs.clone();
    write_blocking(&*kv, move |t| {
        for (k, v) in committed.iter().filter(|(k, _)| k[1] % 2 == 0) {
            t.put(k, v)?;
        }
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    let check = |r: &dyn ReadTxn, present: &[KeyValue]| {
        for reverse in [false, true] {
            for limit in [0, 1, 3, usize::MAX] {
                let full = scan_of(r, &everything(), reverse, limit);
                assert_eq!(full.len(), present.len().min(limit));
                for max_bytes in [0, 1, 2, 21, 22, 23, 60, 500, usize::MAX] {
                    let mut expected = Vec::new();
                    let mut bytes = 0;
                    for (k, v) in &full {
                        expected.push((k.clone(), v.clone()));
                        bytes += k.len() + v.len();
                        if bytes > max_bytes {
                            break;
                        }
                    }
                    let got = r
                        .scan_bounded(&everything(), reverse, limit, max_bytes)
                        .expect("scan_bounded");
                    assert_eq!(
                        got, expected,
                        "reverse {reverse}, limit {limit}, max_bytes {max_bytes}"
                    );
                }
            }
        }
    };
    let even: Vec<KeyValue> = pairs
        .iter()
        .filter(|(k, _)| k[1] % 2 == 0)
        .cloned()
        .collect();
    check(&*kv.read().unwrap(), &even);
    let all = pairs.clone();
    write_blocking(&*kv, move |t| {
        for (k, v) in all.iter().filter(|(k, _)| k[1] % 2 == 1) {
            t.put(k, v)?;
        }
        t.delete(&[b'k', 4])?;
        let present: Vec<KeyValue> = all.iter().filter(|(k, _)| k[1] != 4).cloned().collect();
        check(&*t, &present);
        Ok((Outcome::Abort, ()))
    })
    .unwrap();
}

/// Scans run forward and backward and stop at the limit, 0 included.
pub fn scan_directions_and_limits(factory: Factory) {
    let kv = factory();
    let keys: Vec<Vec<u8>> = (0u8..10).map(|i| vec![b'k', i]).collect();
    let ks = keys.clone();
    write_blocking(&*kv, move |t| {
        // Inserted out of order: the store, not the caller, sorts.
        for k in ks.iter().rev() {
            t.put(k, &[k[1] * 2])?;
        }
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    let r = kv.read().unwrap();
    let pairs: Vec<KeyValue> = keys.iter().map(|k| (k.clone(), vec![k[1] * 2])).collect();
    let mut reversed = pairs.clone();
    reversed.reverse();
    for limit in [0, 1, 3, 9, 10, 11, usize::MAX] {
        let n = limit.min(10);
        assert_eq!(scan_of(&*r, &everything(), false, limit), pairs[..n]);
        assert_eq!(scan_of(&*r, &everything(), true, limit), reversed[..n]);
    }
    let mid = KeyRange::half_open(vec![b'k', 3], vec![b'k', 7]);
    assert_eq!(scan_of(&*r, &mid, false, 2), pairs[3..5]);
    assert_eq!(
        scan_of(&*r, &mid, true, 2),
        vec![pairs[6].clone(), pairs[5].clone()]
    );
}

/// Keys for the bound tests: empty, 0x00 and 0xFF in every position, and
/// prefixes of one another.
fn tricky_keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xFF],
        vec![0x01],
        b"a".to_vec(),
        b"a\x00".to_vec(),
        b"a\x00\x00".to_vec(),
        b"a\xff".to_vec(),
        b"ab".to_vec(),
        b"b".to_vec(),
        vec![0x7F],
        vec![0x80],
        vec![0xFE, 0xFF],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF],
        vec![0xFF, 0xFF, 0xFF],
    ];
    keys.sort();
    keys
}

fn load(kv: &dyn Kv, keys: &[Vec<u8>]) {
    let ks = keys.to_vec();
    write_blocking(kv, move |t| {
        for (i, k) in ks.iter().enumerate() {
            t.put(k, &i.to_be_bytes())?;
        }
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
}

fn expected_scan(
    pairs: &[KeyValue],
    range: &KeyRange,
    reverse: bool,
    limit: usize,
) -> Vec<KeyValue> {
    let inside = pairs.iter().filter(|(k, _)| range.contains(k)).cloned();
    if reverse {
        inside.rev().take(limit).collect()
    } else {
        inside.take(limit).collect()
    }
}

/// Every combination of included / excluded / unbounded start and end, in
/// both directions, including inverted and empty ranges, against keys
/// holding 0x00 and 0xFF bytes. Order is unsigned bytewise.
pub fn scan_every_bound_kind(factory: Factory) {
    let kv = factory();
    let keys = tricky_keys();
    load(&*kv, &keys);
    let pairs = all(&*kv);
    let stored: Vec<Vec<u8>> = pairs.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(stored, keys, "keys must come back in unsigned byte order");

    let probes: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0xFF],
        b"a".to_vec(),
        b"a\x00".to_vec(),
        b"aa".to_vec(),
        vec![0x80],
        vec![0xFF],
        vec![0xFF, 0xFF],
    ];
    let mut bounds = vec![Bound::Unbounded];
    for p in &probes {
        bounds.push(Bound::Included(p.clone()));
        bounds.push(Bound::Excluded(p.clone()));
    }
    let r = kv.read().unwrap();
    for start in &bounds {
        for end in &bounds {
            let range = KeyRange {
                start: start.clone(),
                end: end.clone(),
            };
            for reverse in [false, true] {
                for limit in [usize::MAX, 2] {
                    assert_eq!(
                        scan_of(&*r, &range, reverse, limit),
                        expected_scan(&pairs, &range, reverse, limit),
                        "range {range:?} reverse {reverse} limit {limit}"
                    );
                }
            }
        }
    }
}

/// Prefix ranges, including the empty prefix and prefixes of 0xFF bytes
/// (which have no successor and so scan to the end).
pub fn scan_prefixes_and_extreme_bytes(factory: Factory) {
    let kv = factory();
    let keys = tricky_keys();
    load(&*kv, &keys);
    let pairs = all(&*kv);
    let r = kv.read().unwrap();
    let prefixes: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"a",
        b"a\x00",
        b"a\xff",
        b"\xff",
        b"\xff\xff",
        b"zz",
    ];
    for p in prefixes {
        let range = KeyRange::prefix(p);
        let want: Vec<KeyValue> = pairs
            .iter()
            .filter(|(k, _)| k.starts_with(p))
            .cloned()
            .collect();
        assert_eq!(
            scan_of(&*r, &range, false, usize::MAX),
            want,
            "prefix {p:?}"
        );
        let mut rev = want.clone();
        rev.reverse();
        assert_eq!(scan_of(&*r, &range, true, usize::MAX), rev, "prefix {p:?}");
        assert_eq!(
            scan_of(&*r, &range, true, 1),
            rev.into_iter().take(1).collect::<Vec<_>>(),
            "prefix {p:?}"
        );
    }
}

/// Inside a transaction, `get`, `get_many` and `scan` see the transaction's
/// own puts, deletes and range deletes merged with committed data, and the
/// committed result is exactly what the transaction last saw.
pub fn reads_see_own_writes(factory: Factory) {
    let kv = factory();
    for (k, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")] {
        put(&*kv, k.as_bytes(), v.as_bytes());
    }
    let seen = write_blocking(&*kv, |t| {
        let check = |t: &dyn Txn, want: &[(&str, &str)]| -> Result<(), KvError> {
            let got = t.scan(&everything(), false, usize::MAX)?;
            let want: Vec<KeyValue> = want
                .iter()
                .map(|(k, v)| pair(k.as_bytes(), v.as_bytes()))
                .collect();
            assert_eq!(got, want);
            let mut rev = t.scan(&everything(), true, usize::MAX)?;
            rev.reverse();
            assert_eq!(rev, want);
            Ok(())
        };
        t.put(b"b", b"B")?;
        assert_eq!(t.get(b"b")?, Some(b"B".to_vec()));
        t.put(b"bb", b"new")?;
        check(
            t,
            &[
                ("a", "1"),
                ("b", "B"),
                ("bb", "new"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
            ],
        )?;
        assert_eq!(
            t.scan(&KeyRange::prefix(b"b"), true, 1)?,
            vec![pair(b"bb", b"new")]
        );

        t.delete(b"c")?;
        assert_eq!(t.get(b"c")?, None);
        check(
            t,
            &[
                ("a", "1"),
                ("b", "B"),
                ("bb", "new"),
                ("d", "4"),
                ("e", "5"),
            ],
        )?;

        // [d, e): d goes, e stays.
        t.delete_range(b"d", b"e")?;
        assert_eq!(t.get(b"d")?, None);
        check(t, &[("a", "1"), ("b", "B"), ("bb", "new"), ("e", "5")])?;

        // A range delete also removes this transaction's own pending puts...
        t.delete_range(b"ba", b"c")?;
        assert_eq!(t.get(b"bb")?, None);
        check(t, &[("a", "1"), ("b", "B"), ("e", "5")])?;

        // ...and a put after it inside the range is visible again.
        t.put(b"d2", b"again")?;
        t.put(b"c", b"back")?;
        check(
            t,
            &[
                ("a", "1"),
                ("b", "B"),
                ("c", "back"),
                ("d2", "again"),
                ("e", "5"),
            ],
        )?;
        assert_eq!(
            t.get_many(&[b"c".as_slice(), b"bb", b"d2", b"zz"])?,
            vec![Some(b"back".to_vec()), None, Some(b"again".to_vec()), None]
        );
        assert_eq!(
            t.scan(
                &KeyRange::half_open(b"b".to_vec(), b"d3".to_vec()),
                false,
                2
            )?,
            vec![pair(b"b", b"B"), pair(b"c", b"back")]
        );
        let seen = t.scan(&everything(), false, usize::MAX)?;
        Ok((Outcome::Commit, seen))
    })
    .unwrap();
    assert_eq!(all(&*kv), seen);
}

/// A write sees every write committed before it, including ones that a
/// batching backend commits in the same physical transaction.
pub fn later_jobs_see_earlier_commits(factory: Factory) {
    let kv = factory();
    let (tx, rx) = mpsc::channel();
    // Submitted back to back without waiting, so a batching backend is free
    // to put them in one batch; each one appends to what the previous wrote.
    for i in 0..20u8 {
        let tx = tx.clone();
        kv.write(
            Box::new(move |t| {
                let mut v = t.get(b"log")?.unwrap_or_default();
                v.push(i);
                t.put(b"log", &v)?;
                if i % 3 == 0 {
                    // An aborted job in the middle must not hide others' writes.
                    t.put(b"log", b"garbage")?;
                    return Ok(Outcome::Abort);
                }
                Ok(Outcome::Commit)
            }),
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
    }
    for _ in 0..20 {
        rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap();
    }
    let mut log = get(&*kv, b"log").unwrap();
    log.sort();
    let want: Vec<u8> = (0..20u8).filter(|i| i % 3 != 0).collect();
    assert_eq!(log, want);
}

/// A closure returning `Abort` leaves no trace, and `done` gets `Ok`.
pub fn abort_discards_everything(factory: Factory) {
    let kv = factory();
    put(&*kv, b"a", b"1");
    put(&*kv, b"b", b"2");
    let r = write_and_wait(&*kv, |t| {
        t.put(b"a", b"changed")?;
        t.put(b"new", b"x")?;
        t.delete(b"b")?;
        t.delete_range(b"", b"\xff")?;
        assert!(t.scan(&everything(), false, usize::MAX)?.is_empty());
        Ok(Outcome::Abort)
    });
    assert_eq!(r, Ok(()));
    assert_eq!(all(&*kv), vec![pair(b"a", b"1"), pair(b"b", b"2")]);
}

/// A closure returning `Err` leaves no trace, and `done` gets that error.
pub fn error_discards_and_is_reported(factory: Factory) {
    let kv = factory();
    put(&*kv, b"a", b"1");
    let r = write_and_wait(&*kv, |t| {
        t.put(b"a", b"changed")?;
        t.put(b"b", b"2")?;
        Err(KvError::Retryable("closure gave up".into()))
    });
    assert_eq!(r, Err(KvError::Retryable("closure gave up".into())));
    assert_eq!(all(&*kv), vec![pair(b"a", b"1")]);
    let r = write_blocking(&*kv, |t| {
        t.delete(b"a")?;
        Err::<(Outcome, ()), _>(KvError::Conflict)
    });
    assert_eq!(r, Err(KvError::Conflict));
    assert_eq!(get(&*kv, b"a"), Some(b"1".to_vec()));
}

/// A panicking closure is reported to `done` as `Fatal`, its writes are
/// discarded, and the store keeps working (a background writer must not die).
pub fn panic_is_reported_and_store_survives(factory: Factory) {
    let kv = factory();
    put(&*kv, b"a", b"1");
    let r = write_and_wait(&*kv, |t| {
        t.put(b"a", b"changed")?;
        panic!("closure panicked on purpose (this message is expected)");
    });
    assert!(matches!(r, Err(KvError::Fatal(_))), "got {r:?}");
    assert_eq!(get(&*kv, b"a"), Some(b"1".to_vec()));
    put(&*kv, b"b", b"2");
    assert_eq!(all(&*kv), vec![pair(b"a", b"1"), pair(b"b", b"2")]);
}

/// Each of many queued writes calls its `done` exactly once, and every
/// committed one is applied.
pub fn done_is_called_once_per_write(factory: Factory) {
    let kv = factory();
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let n = 100usize;
    for i in 0..n {
        let calls = calls.clone();
        let tx = tx.clone();
        kv.write(
            Box::new(move |t| {
                t.put(format!("k{i:03}").as_bytes(), b"v")?;
                Ok(if i % 10 == 9 {
                    Outcome::Abort
                } else {
                    Outcome::Commit
                })
            }),
            Box::new(move |r| {
                calls.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send(r);
            }),
        );
    }
    for _ in 0..n {
        rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), n);
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
    assert_eq!(calls.load(Ordering::SeqCst), n);
    assert_eq!(all(&*kv).len(), 90);
}

/// `write_blocking` hands back the closure's value on commit and on abort,
/// and the error on failure.
pub fn write_blocking_returns_value(factory: Factory) {
    let kv = factory();
    let v = write_blocking(&*kv, |t| {
        t.put(b"k", b"v")?;
        Ok((Outcome::Commit, 42u32))
    });
    assert_eq!(v, Ok(42));
    let v = write_blocking(&*kv, |t| {
        let old = t.get(b"k")?;
        t.delete(b"k")?;
        Ok((Outcome::Abort, old))
    });
    assert_eq!(v, Ok(Some(b"v".to_vec())));
    assert_eq!(get(&*kv, b"k"), Some(b"v".to_vec()));
    let v = write_blocking(&*kv, |_| Err::<(Outcome, ()), _>(KvError::TooLarge));
    assert_eq!(v, Err(KvError::TooLarge));
}

/// `delete_range(start, end)` removes `[start, end)`; an empty or inverted
/// range removes nothing.
pub fn delete_range_is_half_open(factory: Factory) {
    let kv = factory();
    let keys = tricky_keys();
    load(&*kv, &keys);
    let before = all(&*kv);
    let cases: [(&[u8], &[u8]); 6] = [
        (b"a", b"a"),
        (b"b", b"a"),
        (b"\xff", b"\x00"),
        (b"a", b"b"),
        (b"", b"\x00\xff"),
        (b"\xff", b"\xff\xff"),
    ];
    let mut model = before.clone();
    for (start, end) in cases {
        let (s, e) = (start.to_vec(), end.to_vec());
        write_blocking(&*kv, move |t| {
            t.delete_range(&s, &e)?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        model.retain(|(k, _)| !(k.as_slice() >= start && k.as_slice() < end));
        assert_eq!(all(&*kv), model, "after delete_range({start:?}, {end:?})");
    }
    assert!(get(&*kv, b"\xff\xff").is_some());
    assert!(get(&*kv, b"b").is_some());
}

/// The empty key and the empty value are ordinary values, distinct from a
/// missing key.
pub fn empty_keys_and_values(factory: Factory) {
    let kv = factory();
    put(&*kv, b"", b"empty key");
    put(&*kv, b"k", b"");
    assert_eq!(get(&*kv, b""), Some(b"empty key".to_vec()));
    assert_eq!(get(&*kv, b"k"), Some(Vec::new()));
    assert_eq!(get(&*kv, b"\x00"), None);
    assert_eq!(all(&*kv), vec![pair(b"", b"empty key"), pair(b"k", b"")]);
    put(&*kv, b"", b"");
    assert_eq!(get(&*kv, b""), Some(Vec::new()));
    let r = kv.read().unwrap();
    assert_eq!(
        scan_of(&*r, &KeyRange::prefix(b""), true, 1),
        vec![pair(b"k", b"")]
    );
    assert_eq!(
        scan_of(
            &*r,
            &KeyRange::half_open(Vec::new(), b"\x00".to_vec()),
            false,
            9
        ),
        vec![pair(b"", b"")]
    );
    drop(r);
    write_blocking(&*kv, |t| {
        t.delete(b"")?;
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    assert_eq!(get(&*kv, b""), None);
    assert_eq!(all(&*kv), vec![pair(b"k", b"")]);
}

/// 1 MiB values and a 64 KiB key round-trip byte for byte.
pub fn large_values(factory: Factory) {
    let kv = factory();
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let key: Vec<u8> = (0..1 << 16).map(|i: u32| (i % 7) as u8).collect();
    let (b, k) = (big.clone(), key.clone());
    write_blocking(&*kv, move |t| {
        for i in 0u8..4 {
            t.put(&[b"big".as_slice(), &[i]].concat(), &b)?;
        }
        t.put(&k, b"long key")?;
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    assert_eq!(get(&*kv, b"big\x02").as_deref(), Some(big.as_slice()));
    assert_eq!(get(&*kv, &key), Some(b"long key".to_vec()));
    let r = kv.read().unwrap();
    let scanned = scan_of(&*r, &KeyRange::prefix(b"big"), true, 2);
    assert_eq!(scanned.len(), 2);
    assert_eq!(scanned[0].0, b"big\x03");
    assert_eq!(scanned[1].1, big);
}

/// Thousands of writes in one transaction, then a range delete of half.
pub fn many_writes_in_one_transaction(factory: Factory) {
    let kv = factory();
    write_blocking(&*kv, |t| {
        for i in 0u32..2000 {
            t.put(&i.to_be_bytes(), &i.to_le_bytes())?;
        }
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    assert_eq!(all(&*kv).len(), 2000);
    write_blocking(&*kv, |t| {
        t.delete_range(&500u32.to_be_bytes(), &1500u32.to_be_bytes())?;
        assert_eq!(t.scan(&everything(), false, usize::MAX)?.len(), 1000);
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    let r = kv.read().unwrap();
    let left = scan_of(&*r, &everything(), false, usize::MAX);
    assert_eq!(left.len(), 1000);
    assert_eq!(left[499].0, 499u32.to_be_bytes());
    assert_eq!(left[500].0, 1500u32.to_be_bytes());
    assert_eq!(r.get(&1000u32.to_be_bytes()).unwrap(), None);
}

/// 16 threads × 200 read-modify-write increments over 4 shared counters and
/// one per-thread counter: no update is lost or applied twice.
pub fn concurrent_increments_are_not_lost(factory: Factory) {
    const THREADS: u64 = 16;
    const EACH: u64 = 200;
    let kv = factory();
    let kv = &*kv;
    let incr = |t: &mut dyn Txn, key: &[u8]| -> Result<(), KvError> {
        let n = match t.get(key)? {
            Some(v) => u64::from_be_bytes(v.try_into().expect("8-byte counter")),
            None => 0,
        };
        t.put(key, &(n + 1).to_be_bytes())
    };
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            s.spawn(move || {
                for i in 0..EACH {
                    let shared = format!("shared/{}", (thread + i) % 4).into_bytes();
                    let own = format!("thread/{thread:02}").into_bytes();
                    write_blocking(kv, move |t| {
                        incr(t, &shared)?;
                        incr(t, &own)?;
                        Ok((Outcome::Commit, ()))
                    })
                    .expect("increment");
                }
            });
        }
    });
    let count = |k: &[u8]| u64::from_be_bytes(get(kv, k).unwrap().try_into().unwrap());
    let shared: u64 = (0..4)
        .map(|c| count(format!("shared/{c}").as_bytes()))
        .sum();
    assert_eq!(shared, THREADS * EACH);
    for thread in 0..THREADS {
        assert_eq!(count(format!("thread/{thread:02}").as_bytes()), EACH);
    }
}

/// A handle from `read()` is a snapshot taken when `read()` returns: writes
/// committed afterwards are invisible to it (even if it had not read
/// anything yet), while a new handle sees them. This also proves that a
/// live read handle does not block a writer.
///
/// Not part of [`contract_tests!`](crate::contract_tests): a backend whose
/// read handle blocks writers (kv-memory) cannot run it; backends with
/// real snapshots call it by name.
pub fn snapshot_isolation(factory: Factory) {
    let kv = factory();
    put(&*kv, b"a", b"old");
    put(&*kv, b"gone", b"soon");
    let untouched = kv.read().unwrap();
    let touched = kv.read().unwrap();
    assert_eq!(touched.get(b"a").unwrap(), Some(b"old".to_vec()));
    write_blocking(&*kv, |t| {
        t.put(b"a", b"new")?;
        t.put(b"b", b"added")?;
        t.delete(b"gone")?;
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
    let before = vec![pair(b"a", b"old"), pair(b"gone", b"soon")];
    for r in [&untouched, &touched] {
        assert_eq!(r.get(b"a").unwrap(), Some(b"old".to_vec()));
        assert_eq!(r.get(b"b").unwrap(), None);
        assert_eq!(scan_of(&**r, &everything(), false, usize::MAX), before);
    }
    drop((untouched, touched));
    assert_eq!(all(&*kv), vec![pair(b"a", b"new"), pair(b"b", b"added")]);
}

// ------------------------------------------------------- model-based check

/// A transaction step of the model check.
#[derive(Debug, Clone)]
enum Op {
    Get(Vec<u8>),
    GetMany(Vec<Vec<u8>>),
    Scan(KeyRange, bool, usize),
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    DeleteRange(Vec<u8>, Vec<u8>),
}

/// How a write transaction ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Commit,
    Abort,
    Fail,
}

#[derive(Debug, Clone)]
enum Step {
    Write(Vec<Op>, End),
    Read(Vec<Op>),
}

/// What one operation answered.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Value(Option<Vec<u8>>),
    Values(Vec<Option<Vec<u8>>>),
    Pairs(Vec<KeyValue>),
    Done,
    Error(KvError),
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    // A tiny alphabet so that keys collide, nest as prefixes and sit on
    // range bounds often.
    prop::collection::vec(
        prop::sample::select(vec![0x00u8, 0x01, b'a', b'b', 0xFE, 0xFF]),
        0..4,
    )
}

fn range_strategy() -> impl Strategy<Value = KeyRange> {
    let bound = prop_oneof![
        key_strategy().prop_map(Bound::Included),
        key_strategy().prop_map(Bound::Excluded),
        Just(Bound::Unbounded),
    ];
    prop_oneof![
        3 => (bound.clone(), bound).prop_map(|(start, end)| KeyRange { start, end }),
        1 => key_strategy().prop_map(|p| KeyRange::prefix(&p)),
    ]
}

fn read_op_strategy() -> impl Strategy<Value = Op> {
    let limit = prop_oneof![0..4usize, Just(usize::MAX)];
    prop_oneof![
        2 => key_strategy().prop_map(Op::Get),
        1 => prop::collection::vec(key_strategy(), 0..4).prop_map(Op::GetMany),
        2 => (range_strategy(), any::<bool>(), limit).prop_map(|(r, rev, l)| Op::Scan(r, rev, l)),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key_strategy(), prop::collection::vec(any::<u8>(), 0..6))
            .prop_map(|(k, v)| Op::Put(k, v)),
        2 => key_strategy().prop_map(Op::Delete),
        1 => (key_strategy(), key_strategy()).prop_map(|(s, e)| Op::DeleteRange(s, e)),
        4 => read_op_strategy(),
    ]
}

fn steps_strategy() -> impl Strategy<Value = Vec<Step>> {
    let end = prop_oneof![6 => Just(End::Commit), 1 => Just(End::Abort), 1 => Just(End::Fail)];
    let step = prop_oneof![
        3 => (prop::collection::vec(op_strategy(), 1..10), end)
            .prop_map(|(ops, end)| Step::Write(ops, end)),
        1 => prop::collection::vec(read_op_strategy(), 1..4).prop_map(Step::Read),
    ];
    prop::collection::vec(step, 1..24)
}

fn answer<T>(r: Result<T, KvError>, f: impl FnOnce(T) -> Answer) -> Answer {
    r.map_or_else(Answer::Error, f)
}

fn run_read_op(t: &dyn ReadTxn, op: &Op) -> Answer {
    match op {
        Op::Get(k) => answer(t.get(k), Answer::Value),
        Op::GetMany(ks) => {
            let ks: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
            answer(t.get_many(&ks), Answer::Values)
        }
        Op::Scan(r, rev, l) => answer(t.scan(r, *rev, *l), Answer::Pairs),
        _ => unreachable!("not a read"),
    }
}

fn run_op(t: &mut dyn Txn, op: &Op) -> Answer {
    match op {
        Op::Put(k, v) => answer(t.put(k, v), |()| Answer::Done),
        Op::Delete(k) => answer(t.delete(k), |()| Answer::Done),
        Op::DeleteRange(s, e) => answer(t.delete_range(s, e), |()| Answer::Done),
        read => run_read_op(t, read),
    }
}

/// Runs one step; the answers of every operation, then `done`'s result.
fn run_step(kv: &dyn Kv, step: &Step) -> (Vec<Answer>, Result<(), KvError>) {
    match step {
        Step::Read(ops) => match kv.read() {
            Ok(r) => (ops.iter().map(|op| run_read_op(&*r, op)).collect(), Ok(())),
            Err(e) => (Vec::new(), Err(e)),
        },
        Step::Write(ops, end) => {
            let answers = Arc::new(Mutex::new(Vec::new()));
            let (ops, end, out) = (ops.clone(), *end, answers.clone());
            let done = write_and_wait(kv, move |t| {
                // A closure may be re-run: only the last run's answers count.
                let got: Vec<Answer> = ops.iter().map(|op| run_op(t, op)).collect();
                *out.lock().expect("answers") = got;
                match end {
                    End::Commit => Ok(Outcome::Commit),
                    End::Abort => Ok(Outcome::Abort),
                    End::Fail => Err(KvError::Conflict),
                }
            });
            let answers = std::mem::take(&mut *answers.lock().expect("answers"));
            (answers, done)
        }
    }
}

fn check_steps(oracle: &dyn Kv, subject: &dyn Kv, steps: &[Step]) -> Result<(), String> {
    for (i, step) in steps.iter().enumerate() {
        let want = run_step(oracle, step);
        let got = run_step(subject, step);
        if want != got {
            return Err(format!(
                "step {i} {step:?}: oracle answered {want:?}, backend answered {got:?}"
            ));
        }
        let (want, got) = (all(oracle), all(subject));
        if want != got {
            return Err(format!(
                "after step {i} {step:?}: oracle holds {want:?}, backend holds {got:?}"
            ));
        }
    }
    Ok(())
}

/// Model-based check: `cases` random sequences of transactions (puts,
/// deletes, range deletes, gets and scans of every bound kind, ending in
/// commit, abort or error) and snapshot reads, run against a fresh `oracle`
/// and a fresh `subject` store. Every answer and the whole contents after
/// every step must agree. Panics with a shrunk counterexample.
pub fn model_check(oracle: Factory, subject: Factory, cases: u32) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&steps_strategy(), |steps| {
        let (o, s) = (oracle(), subject());
        check_steps(&*o, &*s, &steps).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("model check failed: {e}");
    }
}

/// The plainest possible store, as an oracle for the oracle: a transaction
/// works on a full copy of the map and a commit swaps the copy in. Slow
/// (O(n) per write) and obviously right; kv-memory's model check runs
/// against it.
#[derive(Debug, Default)]
pub struct CopyModel {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl CopyModel {
    pub fn new() -> CopyModel {
        CopyModel::default()
    }
}

struct CopyTxn(BTreeMap<Vec<u8>, Vec<u8>>);

impl ReadTxn for CopyTxn {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.get(key).cloned())
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        // A linear filter, deliberately free of `BTreeMap::range` edge cases.
        let inside = self.0.iter().filter(|(k, _)| range.contains(k));
        let pairs = inside.map(|(k, v)| (k.clone(), v.clone()));
        Ok(if reverse {
            pairs.rev().take(limit).collect()
        } else {
            pairs.take(limit).collect()
        })
    }
}

impl Txn for CopyTxn {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.0.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), KvError> {
        self.0.remove(key);
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError> {
        self.0
            .retain(|k, _| !(k.as_slice() >= start && k.as_slice() < end));
        Ok(())
    }

    fn lock(&mut self, _key: &[u8]) -> Result<(), KvError> {
        Ok(())
    }
}

impl Kv for CopyModel {
    fn read(&self) -> Result<crate::ReadHandle<'_>, KvError> {
        let map = self
            .map
            .lock()
            .map_err(|_| KvError::Fatal("poisoned".into()))?;
        Ok(Box::new(CopyTxn(map.clone())))
    }

    fn write(&self, mut f: crate::WriteFn, done: crate::DoneFn) {
        let result = match self.map.lock() {
            Err(_) => Err(KvError::Fatal("poisoned".into())),
            Ok(mut map) => {
                let mut txn = CopyTxn(map.clone());
                match f(&mut txn) {
                    Ok(Outcome::Commit) => {
                        *map = txn.0;
                        Ok(())
                    }
                    Ok(Outcome::Abort) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        };
        done(result);
    }
}
