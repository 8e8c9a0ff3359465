//! What one `KeyLookup::lookup` costs: the in-memory map alone (an
//! in-memory store) and with the `PRAGMA data_version` check a file store
//! makes on every lookup so that another process's revocation applies at
//! once. Run with `cargo run --release -p openddb-auth --example lookup_cost`.

use std::collections::BTreeMap;
use std::time::Instant;

use openddb_auth::store::Store;
use openddb_auth::KeyLookup;

fn measure(label: &str, store: &Store, id: &str) {
    let rounds = 200_000;
    // Warm up the map and the statement cache.
    for _ in 0..1_000 {
        store.lookup(id).unwrap().unwrap();
    }
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(store.lookup(std::hint::black_box(id)).unwrap());
    }
    let per = started.elapsed().as_nanos() as f64 / f64::from(rounds);
    println!("{label:<40} {per:>8.0} ns per lookup");
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
    measure("in memory (map only)", &memory, &id);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("FORMAT"),
        format!("{}\n", openddb_kv_sqlite::FORMAT_LINE),
    )
    .unwrap();
    let file = Store::open_with_key_file(dir.path(), None).unwrap();
    let id = populate(&file);
    measure("file (map + PRAGMA data_version)", &file, &id);
}
