//! kv-sqlite behaviour beyond the shared contract: durability across
//! reopen, group commit, shutdown, and the tenant directory layout.

mod common;

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::TempKv;
use openddb_kv::{write_blocking, KeyRange, Kv, KvError, Outcome};
use openddb_kv_sqlite::{Durability, SqliteKv, SqliteOptions, SqliteTenants, FORMAT_LINE};

fn put(kv: &dyn Kv, key: &[u8], value: &[u8]) {
    let (k, v) = (key.to_vec(), value.to_vec());
    write_blocking(kv, move |t| {
        t.put(&k, &v)?;
        Ok((Outcome::Commit, ()))
    })
    .unwrap();
}

fn get(kv: &dyn Kv, key: &[u8]) -> Option<Vec<u8>> {
    kv.read().unwrap().get(key).unwrap()
}

#[test]
fn data_persists_after_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite3");
    {
        let kv = SqliteKv::open(&path, SqliteOptions::default()).unwrap();
        put(&kv, b"a", b"1");
        put(&kv, b"b", &[0xFF; 3000]);
        write_blocking(&kv, |t| {
            t.delete(b"a")?;
            t.put(b"c", b"")?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        write_blocking(&kv, |t| {
            t.put(b"never", b"x")?;
            Ok((Outcome::Abort, ()))
        })
        .unwrap();
    }
    let kv = SqliteKv::open(&path, SqliteOptions::default()).unwrap();
    let everything = KeyRange::prefix(b"");
    let all = kv.read().unwrap().scan(&everything, false, 10).unwrap();
    assert_eq!(
        all,
        vec![
            (b"b".to_vec(), vec![0xFF; 3000]),
            (b"c".to_vec(), Vec::new())
        ]
    );
}

#[test]
fn writes_queued_before_drop_are_committed_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite3");
    let (tx, rx) = mpsc::channel();
    {
        let kv = SqliteKv::open(&path, SqliteOptions::default()).unwrap();
        for i in 0..50u32 {
            let tx = tx.clone();
            kv.write(
                Box::new(move |t| {
                    t.put(&i.to_be_bytes(), b"v")?;
                    Ok(Outcome::Commit)
                }),
                Box::new(move |r| tx.send(r).unwrap()),
            );
        }
    }
    drop(tx);
    let answers: Vec<Result<(), KvError>> = rx.iter().collect();
    assert_eq!(answers, vec![Ok(()); 50]);
    let kv = SqliteKv::open(&path, SqliteOptions::default()).unwrap();
    let all = kv
        .read()
        .unwrap()
        .scan(&KeyRange::prefix(b""), false, 100)
        .unwrap();
    assert_eq!(all.len(), 50);
}

#[test]
fn last_handle_dropped_inside_done_does_not_deadlock() {
    let store = Arc::new(TempKv::new(SqliteOptions::default()));
    let (tx, rx) = mpsc::channel();
    let held = store.clone();
    store.write(
        Box::new(|t| {
            t.put(b"k", b"v")?;
            Ok(Outcome::Commit)
        }),
        Box::new(move |r| {
            // Runs on the writer thread and may drop the last handle.
            drop(held);
            tx.send(r).unwrap();
        }),
    );
    drop(store);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), Ok(()));
}

/// Writes/s with `threads` writers doing `each` durable single-key writes.
fn durable_rate(kv: &dyn Kv, threads: usize, each: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for thread in 0..threads {
            s.spawn(move || {
                for i in 0..each {
                    put(kv, format!("{thread}/{i}").as_bytes(), &[7; 100]);
                }
            });
        }
    });
    (threads * each) as f64 / start.elapsed().as_secs_f64()
}

#[test]
fn group_commit_batches_concurrent_writers() {
    let store = TempKv::new(SqliteOptions::default());
    let single = durable_rate(&store, 1, 200);
    let after_single = store.kv.stats();
    assert_eq!(after_single.jobs, 200);
    assert_eq!(
        after_single.commits, 200,
        "one writer: one commit per write"
    );

    let concurrent = durable_rate(&store, 32, 100);
    let stats = store.kv.stats();
    let jobs = stats.jobs - after_single.jobs;
    let commits = stats.commits - after_single.commits;
    assert_eq!(jobs, 3200);
    assert!(
        jobs > commits,
        "32 concurrent writers should share commits: {jobs} jobs in {commits} commits"
    );
    // Figures for the reader of the test log; never asserted on.
    eprintln!(
        "durable writes/s: 1 thread {single:.0}, 32 threads {concurrent:.0} \
         ({jobs} jobs in {commits} commits, {:.1} per commit)",
        jobs as f64 / commits as f64
    );
    assert_eq!(get(&store, b"31/99"), Some(vec![7; 100]));

    let relaxed = TempKv::new(SqliteOptions {
        durability: Durability::Relaxed,
        ..SqliteOptions::default()
    });
    eprintln!(
        "relaxed writes/s: 1 thread {:.0}",
        durable_rate(&relaxed, 1, 200)
    );
}

#[test]
fn many_concurrent_readers_share_a_small_pool() {
    let store = TempKv::new(SqliteOptions {
        read_connections: 2,
        ..SqliteOptions::default()
    });
    put(&store, b"k", b"v");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..200 {
                    let r = store.read().unwrap();
                    assert_eq!(r.get(b"k").unwrap(), Some(b"v".to_vec()));
                }
            });
        }
        s.spawn(|| {
            for i in 0..50u32 {
                put(&store, &i.to_be_bytes(), b"w");
            }
        });
    });
}

#[test]
fn tenants_layout_and_format_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tenants = SqliteTenants::open(&data, SqliteOptions::default()).unwrap();
    let format = std::fs::read_to_string(data.join("FORMAT")).unwrap();
    assert_eq!(format.lines().next(), Some(FORMAT_LINE));

    let a = tenants.tenant("account-A_1").unwrap();
    put(&*a, b"k", b"tenant a");
    let b = tenants.tenant("b").unwrap();
    assert_eq!(get(&*b, b"k"), None, "tenants do not share keys");
    assert!(tenants.tenant_path("account-A_1").is_file());
    assert!(Arc::ptr_eq(&a, &tenants.tenant("account-A_1").unwrap()));
    drop((a, b, tenants));

    // Reopening finds the same data.
    let tenants = SqliteTenants::open(&data, SqliteOptions::default()).unwrap();
    assert_eq!(
        get(&*tenants.tenant("account-A_1").unwrap(), b"k"),
        Some(b"tenant a".to_vec())
    );
}

#[test]
fn tenant_ids_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = SqliteTenants::open(dir.path(), SqliteOptions::default()).unwrap();
    let too_long = "x".repeat(openddb_kv_sqlite::MAX_TENANT_ID + 1);
    for bad in ["", "../etc", "a/b", "a.b", "é", "a b", too_long.as_str()] {
        let err = tenants.tenant(bad).unwrap_err();
        assert!(
            matches!(err, KvError::Fatal(ref m) if m.contains("invalid tenant id")),
            "{bad:?}: {err:?}"
        );
    }
    assert!(tenants
        .tenant(&"x".repeat(openddb_kv_sqlite::MAX_TENANT_ID))
        .is_ok());
    assert!(!dir.path().join("etc.sqlite3").exists());
}

#[test]
fn other_formats_and_foreign_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("FORMAT"), "openddb-sqlite-tenants 3\n").unwrap();
    let err = SqliteTenants::open(dir.path(), SqliteOptions::default()).unwrap_err();
    assert!(
        matches!(err, KvError::Fatal(ref m) if m.contains("openddb-sqlite-tenants 3") && m.contains(FORMAT_LINE)),
        "{err:?}"
    );

    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("photo.jpg"), b"...").unwrap();
    let err = SqliteTenants::open(foreign.path(), SqliteOptions::default()).unwrap_err();
    assert!(
        matches!(err, KvError::Fatal(ref m) if m.contains("no FORMAT file")),
        "{err:?}"
    );
    assert!(!foreign.path().join("FORMAT").exists());
}

#[test]
fn open_tenants_are_bounded_and_evicted_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = SqliteTenants::open(
        dir.path(),
        SqliteOptions {
            max_open_tenants: 3,
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    for i in 0..10 {
        let t = tenants.tenant(&format!("t{i}")).unwrap();
        put(&*t, b"i", &[i]);
        assert!(tenants.open_tenants() <= 3);
    }
    assert_eq!(tenants.open_tenants(), 3);

    // t7 is the least recently used of t7, t8, t9; touching it makes t8 so.
    let t7 = tenants.tenant("t7").unwrap();
    tenants.tenant("t0").unwrap();
    let t9 = tenants.tenant("t9").unwrap();
    assert!(Arc::ptr_eq(&t7, &tenants.tenant("t7").unwrap()));

    // A handle evicted while still held keeps working, and asking for the
    // tenant again returns that same handle, not a second one on the file.
    let held = tenants.tenant("t1").unwrap();
    for i in 2..6 {
        tenants.tenant(&format!("t{i}")).unwrap();
    }
    put(&*held, b"after eviction", b"ok");
    assert!(Arc::ptr_eq(&held, &tenants.tenant("t1").unwrap()));
    drop(held);

    for i in 0..10u8 {
        let t = tenants.tenant(&format!("t{i}")).unwrap();
        assert_eq!(get(&*t, b"i"), Some(vec![i]), "tenant t{i}");
    }
    assert_eq!(
        get(&*tenants.tenant("t1").unwrap(), b"after eviction"),
        Some(b"ok".to_vec())
    );
    drop((t7, t9));
}
