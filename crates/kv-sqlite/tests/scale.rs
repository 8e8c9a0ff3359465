//! Many tenants through few open files: files appear only with a first
//! write, in the hashed layout; thousands of tenants written by concurrent
//! writers through a small open-file cap lose no acknowledged write and
//! never have two writers on one file; format 1's flat layout is migrated.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use openddb_kv::{write_blocking, KeyRange, Kv, Outcome};
use openddb_kv_sqlite::{
    tenant_file, writer_overlaps, SqliteKv, SqliteOptions, SqliteTenants, FORMAT_LINE,
};

/// A tenant's acknowledged writes: key → value.
type Writes = HashMap<Vec<u8>, Vec<u8>>;

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

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_tenant_has_no_file_until_its_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = SqliteTenants::open(dir.path(), SqliteOptions::default()).unwrap();
    let kv = tenants.tenant("123456789012").unwrap();
    // Reads of a tenant never written see an empty keyspace...
    assert_eq!(get(&*kv, b"k"), None);
    let all = kv
        .read()
        .unwrap()
        .scan(&KeyRange::prefix(b""), false, 10)
        .unwrap();
    assert!(all.is_empty());
    assert!(kv.try_read().expect("an empty tenant never waits").is_ok());
    // ...and create nothing on disk, not even its directories.
    assert!(files_under(&dir.path().join("tenants")).is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tenants"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(tenants.open_tenants(), 0);

    // An aborted write creates the file too (the writer opens it), but a
    // committed one is what a caller relies on: it is in the hashed place.
    put(&*kv, b"k", b"v");
    let expected = tenant_file(&dir.path().join("tenants"), "123456789012");
    assert_eq!(kv.path(), expected);
    assert!(expected.ends_with("2a/33/123456789012.sqlite3"));
    assert!(expected.is_file());
    assert_eq!(get(&*kv, b"k"), Some(b"v".to_vec()));
    drop((kv, tenants));

    // Closing checkpointed the WAL: an idle tenant is one file.
    assert_eq!(files_under(&dir.path().join("tenants")), vec![expected]);
}

#[test]
fn thousands_of_tenants_through_a_small_cap_lose_no_acknowledged_write() {
    const TENANTS: usize = 2000;
    const WRITERS: usize = 4;
    const CAP: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        max_open_tenants: CAP,
        writer_threads: 3,
        read_connections: 2,
        ..SqliteOptions::default()
    };
    let tenants = Arc::new(SqliteTenants::open(dir.path(), options.clone()).unwrap());
    let overlaps_before = writer_overlaps();
    // What each tenant was acknowledged: key → value.
    let acked: Arc<Mutex<HashMap<String, Writes>>> = Arc::default();
    let most_open = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (tenants, acked, most_open) = (tenants.clone(), acked.clone(), most_open.clone());
            s.spawn(move || {
                // Each writer walks every tenant in its own order, so the
                // same tenants are written, evicted and reopened by several
                // writers at once.
                for i in 0..TENANTS / 2 {
                    let t = (i * 7 + w * 501) % TENANTS;
                    let id = format!("t{t:05}");
                    let kv = tenants.tenant(&id).unwrap();
                    let key = format!("w{w}-{i}").into_bytes();
                    let value = format!("{id}:{w}:{i}").into_bytes();
                    put(&*kv, &key, &value);
                    acked
                        .lock()
                        .unwrap()
                        .entry(id.clone())
                        .or_default()
                        .insert(key.clone(), value.clone());
                    // Read it back through whatever connection is open now.
                    assert_eq!(get(&*kv, &key), Some(value), "{id}");
                    most_open.fetch_max(tenants.open_tenants(), Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(
        writer_overlaps(),
        overlaps_before,
        "two writers on one file"
    );
    // In use files are never closed, so the cap can be passed by at most
    // the files in use at once: one per writer thread of the test.
    let most = most_open.load(Ordering::Relaxed);
    assert!(
        most <= CAP + WRITERS,
        "{most} files open with a cap of {CAP}"
    );
    assert!(tenants.open_tenants() <= CAP);
    drop(tenants);

    let files: Vec<_> = files_under(&dir.path().join("tenants"));
    assert_eq!(files.len(), TENANTS, "one file per tenant, nothing else");
    let tenants = SqliteTenants::open(dir.path(), options).unwrap();
    let acked = acked.lock().unwrap();
    assert_eq!(acked.len(), TENANTS);
    for (id, writes) in acked.iter() {
        let kv = tenants.tenant(id).unwrap();
        let stored: Writes = kv
            .read()
            .unwrap()
            .scan(&KeyRange::prefix(b""), false, usize::MAX)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(&stored, writes, "{id}");
    }
}

#[test]
fn a_flooding_tenant_does_not_starve_another() {
    const MAX_BATCH: usize = 8;
    const FLOOD: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let tenants = SqliteTenants::open(
        dir.path(),
        SqliteOptions {
            writer_threads: 1,
            max_batch: MAX_BATCH,
            write_queue: 2 * FLOOD,
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    let flooder = tenants.tenant("flooder").unwrap();
    let other = tenants.tenant("other").unwrap();
    put(&*other, b"warm", b"the file exists");

    // Hold the only pool thread inside the flooder's first batch while its
    // queue fills, so the other tenant's write arrives behind a deep queue.
    let (release, hold) = mpsc::channel::<()>();
    let hold = Mutex::new(hold);
    let flooded = Arc::new(AtomicUsize::new(0));
    let (held_tx, held) = mpsc::channel::<()>();
    flooder.write(
        Box::new(move |t| {
            let _ = held_tx.send(());
            let _ = hold.lock().unwrap().recv();
            t.put(b"first", b"")?;
            Ok(Outcome::Commit)
        }),
        {
            let flooded = flooded.clone();
            Box::new(move |r| {
                r.unwrap();
                flooded.fetch_add(1, Ordering::SeqCst);
            })
        },
    );
    held.recv().unwrap();
    let (all_done_tx, all_done) = mpsc::channel();
    for i in 0..FLOOD {
        let flooded = flooded.clone();
        let all_done_tx = all_done_tx.clone();
        flooder.write(
            Box::new(move |t| {
                t.put(format!("k{i}").as_bytes(), b"flood")?;
                Ok(Outcome::Commit)
            }),
            Box::new(move |r| {
                r.unwrap();
                flooded.fetch_add(1, Ordering::SeqCst);
                let _ = all_done_tx.send(());
            }),
        );
    }
    let (seen_tx, seen) = mpsc::channel();
    {
        let flooded = flooded.clone();
        other.write(
            Box::new(|t| {
                t.put(b"single", b"write")?;
                Ok(Outcome::Commit)
            }),
            Box::new(move |r| {
                r.unwrap();
                let _ = seen_tx.send(flooded.load(Ordering::SeqCst));
            }),
        );
    }
    release.send(()).unwrap();
    let flooder_done_before = seen.recv().unwrap();
    for _ in 0..FLOOD {
        all_done.recv().unwrap();
    }
    // Round-robin, one batch per turn: the other tenant was queued while
    // the flooder's first batch ran, so it went next; at most that batch
    // and one more of the flooder's can come before it, never the 1,000.
    assert!(
        flooder_done_before <= 1 + MAX_BATCH,
        "{flooder_done_before} flooder writes were answered before the other tenant's one"
    );
    assert_eq!(get(&*other, b"single"), Some(b"write".to_vec()));
    assert_eq!(flooded.load(Ordering::SeqCst), FLOOD + 1);
}

#[test]
fn format_1_flat_files_are_moved_into_the_hashed_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::create_dir_all(data.join("tenants")).unwrap();
    std::fs::write(data.join("FORMAT"), "openddb-sqlite-tenants 1\n").unwrap();
    for id in ["000000000000", "123456789012"] {
        let kv = SqliteKv::open(
            &data.join("tenants").join(format!("{id}.sqlite3")),
            SqliteOptions::default(),
        )
        .unwrap();
        put(&kv, b"who", id.as_bytes());
    }
    let tenants = SqliteTenants::open(data, SqliteOptions::default()).unwrap();
    let format = std::fs::read_to_string(data.join("FORMAT")).unwrap();
    assert_eq!(format.lines().next(), Some(FORMAT_LINE));
    for id in ["000000000000", "123456789012"] {
        assert!(!data.join("tenants").join(format!("{id}.sqlite3")).exists());
        let kv = tenants.tenant(id).unwrap();
        assert!(kv.path().is_file());
        assert_eq!(get(&*kv, b"who"), Some(id.as_bytes().to_vec()));
    }
}
