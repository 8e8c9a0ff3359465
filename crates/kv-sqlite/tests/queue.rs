//! The writer queue is bounded: a write that finds it full is refused at
//! once with `KvError::Overloaded`, writes already queued are unaffected, and
//! the store takes writes again once the writer catches up.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::TempKv;
use openddb_kv::{Kv, KvError, Outcome};
use openddb_kv_sqlite::SqliteOptions;

const WAIT: Duration = Duration::from_secs(30);

fn put_job(
    kv: &dyn Kv,
    key: &'static [u8],
    answers: &mpsc::Sender<(&'static [u8], Result<(), KvError>)>,
) {
    let answers = answers.clone();
    kv.write(
        Box::new(move |t| {
            t.put(key, b"v")?;
            Ok(Outcome::Commit)
        }),
        Box::new(move |r| answers.send((key, r)).unwrap()),
    );
}

#[test]
fn a_full_write_queue_refuses_at_once_and_recovers() {
    let store = TempKv::new(SqliteOptions {
        write_queue: 2,
        ..SqliteOptions::default()
    });
    let (answers, answered) = mpsc::channel();

    // Hold the writer thread inside a first write, so nothing leaves the
    // queue until the test lets it go.
    let (running_tx, running) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let first = answers.clone();
    store.write(
        Box::new(move |t| {
            let _ = running_tx.send(());
            released.recv().unwrap();
            t.put(b"first", b"v")?;
            Ok(Outcome::Commit)
        }),
        Box::new(move |r| first.send((&b"first"[..], r)).unwrap()),
    );
    running.recv_timeout(WAIT).unwrap();

    // Two fit in the queue; the third is refused before `write` returns.
    put_job(&store, b"second", &answers);
    put_job(&store, b"third", &answers);
    assert!(answered.try_recv().is_err(), "queued writes wait");
    put_job(&store, b"refused", &answers);
    let (key, result) = answered.try_recv().expect("refused without waiting");
    assert_eq!(key, b"refused");
    assert!(matches!(result, Err(KvError::Overloaded(_))), "{result:?}");

    release.send(()).unwrap();
    let mut done: Vec<_> = (0..3)
        .map(|_| answered.recv_timeout(WAIT).unwrap())
        .collect();
    done.sort_by_key(|(key, _)| *key);
    assert_eq!(
        done,
        vec![
            (&b"first"[..], Ok(())),
            (&b"second"[..], Ok(())),
            (&b"third"[..], Ok(()))
        ]
    );

    // The writer has caught up: writes are taken again, and the refused
    // one left nothing behind.
    put_job(&store, b"later", &answers);
    assert_eq!(
        answered.recv_timeout(WAIT).unwrap(),
        (&b"later"[..], Ok(()))
    );
    let snapshot = store.read().unwrap();
    assert!(snapshot.get(b"refused").unwrap().is_none());
    for key in [&b"first"[..], b"second", b"third", b"later"] {
        assert!(snapshot.get(key).unwrap().is_some());
    }
}
