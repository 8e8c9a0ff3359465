//! What one `KeyLookup::lookup` costs: an in-memory store (the map alone),
//! a file store under a stream of lookups (the map, and a `PRAGMA
//! data_version` check at most once per millisecond so that other
//! processes' changes apply), and one lookup that does run the check (the
//! first after the interval). Run with
//! `cargo run --release -p openddb-auth --example lookup_cost`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use openddb_auth::store::{Store, CHECK_INTERVAL};
use openddb_auth::KeyLookup;

fn stream(label: &str, store: &Store, id: &str) {
    let rounds = 200_000;
    for _ in 0..1_000 {
        store.lookup(id).unwrap().unwrap();
    }
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(store.lookup(std::hint::black_box(id)).unwrap());
    }
    let per = started.elapsed().as_nanos() as f64 / f64::from(rounds);
    println!("{label:<44} {per:>8.0} ns per lookup");
}

fn checked(label: &str, store: &Store, id: &str) {
    let rounds = 2_000;
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        std::thread::sleep(CHECK_INTERVAL + Duration::from_micros(100));
        let started = Instant::now();
        std::hint::black_box(store.lookup(id).unwrap());
        total += started.elapsed();
    }
    let per = total.as_nanos() as f64 / f64::from(rounds);
    println!("{label:<44} {per:>8.0} ns per lookup");
}

fn populate(store: &Store) -> String {
    let account = store.create_account(None, None).unwrap().account_id;
    store
        .create_user(&account, "bench", None, &BTreeMap::new())
        .unwrap();
    store
        .create_access_key(&account, "bench")
        .unwrap()
        .key
        .access_key_id
}

fn main() {
    let memory = Store::in_memory().unwrap();
    let id = populate(&memory);
    stream("in memory: map only", &memory, &id);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("FORMAT"),
        format!("{}\n", openddb_kv_sqlite::FORMAT_LINE),
    )
    .unwrap();
    let file = Store::open_with_key_file(dir.path(), None).unwrap();
    let id = populate(&file);
    stream("file: back-to-back lookups", &file, &id);
    checked("file: a lookup that runs the check", &file, &id);
}
