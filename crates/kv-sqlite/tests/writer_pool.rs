//! The writer pool's threads do not grow with the number of tenants (alone
//! in its test binary, so no other test's threads are counted).

use openddb_kv::{write_blocking, Outcome};
use openddb_kv_sqlite::{SqliteOptions, SqliteTenants};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[test]
fn writing_many_tenants_starts_no_thread_per_tenant() {
    if threads() == 0 {
        eprintln!("no /proc/self/task here: nothing to count");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let before = threads();
    let tenants = SqliteTenants::open(
        dir.path(),
        SqliteOptions {
            writer_threads: 2,
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    let mut held = Vec::new();
    for i in 0..300 {
        let kv = tenants.tenant(&format!("tenant{i}")).unwrap();
        write_blocking(&*kv, |t| {
            t.put(b"k", b"v")?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
        held.push(kv);
    }
    assert_eq!(
        threads() - before,
        2,
        "only the pool's threads were started"
    );
    drop((held, tenants));
    assert_eq!(threads(), before, "the pool's threads stopped with it");
}
