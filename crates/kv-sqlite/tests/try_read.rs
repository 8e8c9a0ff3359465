//! `try_read` starts a snapshot only on an idle pooled connection: it never
//! opens a connection and never waits for one, so async callers can read in
//! place exactly when that cannot block.

mod common;

use common::TempKv;
use openddb_kv::{write_blocking, Kv, Outcome};
use openddb_kv_sqlite::SqliteOptions;

#[test]
fn try_read_takes_only_an_idle_connection() {
    let store = TempKv::new(SqliteOptions {
        read_connections: 2,
        ..SqliteOptions::default()
    });
    write_blocking(&store, |t| {
        t.put(b"k", b"v")?;
        Ok((Outcome::Commit, ()))
    })
    .unwrap();

    // No connection is open yet: opening one is left to `read`.
    assert!(store.try_read().is_none());
    drop(store.read().unwrap());

    // The connection `read` opened is idle now, and `try_read` uses it.
    let snapshot = store.try_read().expect("an idle connection").unwrap();
    assert_eq!(snapshot.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    // Every connection open is lent out (and the other one not opened).
    assert!(store.try_read().is_none());
    let second = store.read().unwrap();
    assert!(store.try_read().is_none());
    drop(snapshot);
    let again = store.try_read().expect("a connection came back").unwrap();
    assert_eq!(again.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    drop((again, second));
}
