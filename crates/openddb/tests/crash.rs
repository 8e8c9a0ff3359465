//! Crash consistency of the real `openddb` binary: SIGKILL it under a
//! concurrent write load, restart it on the same data directory, and check
//! that every write it acknowledged is there. Three kill/restart cycles.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use common::load::{kill_under_load, refused};
use common::{create_table, get_consistent, item, n, s, ServerProcess};

const TABLE: &str = "Crash";
const WRITERS: usize = 16;
const COUNTERS: usize = 4;
const CYCLES: usize = 3;
/// Acknowledged writes to wait for before the kill (besides 300 ms of load).
const MIN_ACKED: usize = 200;

/// What the writers were told, across all cycles.
#[derive(Default, Clone)]
struct Ledger {
    /// Unique keys whose PutItem was acknowledged, with the value written.
    acked_puts: HashMap<String, i64>,
    /// Per counter: increments acknowledged, and increments whose outcome
    /// is unknown (sent, no answer before the kill).
    counters: HashMap<String, (u64, u64)>,
    /// Per writer's overwritten key: last acknowledged and last attempted value.
    overwrites: HashMap<String, (Option<i64>, i64)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start(dir.path());
    create_table(&server.client(), TABLE, false).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    for cycle in 0..CYCLES {
        let client = server.client();
        // Kill in the middle of the load: after 300 ms and enough acks.
        let (acked_before_kill, outcomes) = kill_under_load(
            server,
            cycle,
            WRITERS,
            MIN_ACKED,
            Duration::from_secs(60),
            |w, stop, acked| writer(client.clone(), cycle, w, Arc::clone(&ledger), stop, acked),
        )
        .await;
        eprintln!("cycle {cycle}: SIGKILL after {acked_before_kill} acknowledged writes");
        for outcome in outcomes {
            if let Err(refused) = outcome {
                panic!("cycle {cycle}: the server refused a valid write: {refused}");
            }
        }

        server = ServerProcess::start(dir.path());
        let snapshot = ledger.lock().unwrap().clone();
        verify(&server.client(), &snapshot, cycle).await;
    }
    server.kill();
}

/// Writes until told to stop or until the server stops answering: unique
/// puts, an overwritten key, and `ADD` increments on shared counters. A
/// request the server answered with an error (rather than vanishing under
/// SIGKILL) is a failure.
async fn writer(
    client: Client,
    cycle: usize,
    w: usize,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) -> Result<(), String> {
    let payload = "p".repeat(100 + 37 * w);
    let overwrite_key = format!("w{w}-latest");
    let mut seq: i64 = 0;
    while !stop.load(Ordering::SeqCst) {
        seq += 1;
        let outcome = match seq % 3 {
            0 => {
                let key = format!("c{cycle}-w{w}-{seq}");
                let value = seq * 1000 + w as i64;
                let result = client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(item([
                        ("pk", s(&key)),
                        ("v", n(&value.to_string())),
                        ("payload", s(&payload)),
                    ])))
                    .send()
                    .await;
                if result.is_ok() {
                    ledger.lock().unwrap().acked_puts.insert(key, value);
                }
                result.map(drop).map_err(refused)
            }
            1 => {
                let counter = format!("counter-{}", (w + seq as usize) % COUNTERS);
                ledger
                    .lock()
                    .unwrap()
                    .counters
                    .entry(counter.clone())
                    .or_default()
                    .1 += 1;
                let result = client
                    .update_item()
                    .table_name(TABLE)
                    .set_key(Some(item([("pk", s(&counter))])))
                    .update_expression("ADD #c :one")
                    .expression_attribute_names("#c", "count")
                    .expression_attribute_values(":one", n("1"))
                    .send()
                    .await;
                if result.is_ok() {
                    let mut ledger = ledger.lock().unwrap();
                    let entry = ledger.counters.get_mut(&counter).expect("counted above");
                    entry.0 += 1;
                    entry.1 -= 1;
                }
                result.map(drop).map_err(refused)
            }
            _ => {
                // Values only grow, across cycles too.
                let value = (cycle as i64) << 32 | seq;
                ledger
                    .lock()
                    .unwrap()
                    .overwrites
                    .entry(overwrite_key.clone())
                    .or_insert((None, value))
                    .1 = value;
                let result = client
                    .put_item()
                    .table_name(TABLE)
                    .set_item(Some(item([
                        ("pk", s(&overwrite_key)),
                        ("v", n(&value.to_string())),
                    ])))
                    .send()
                    .await;
                if result.is_ok() {
                    ledger
                        .lock()
                        .unwrap()
                        .overwrites
                        .get_mut(&overwrite_key)
                        .expect("recorded above")
                        .0 = Some(value);
                }
                result.map(drop).map_err(refused)
            }
        };
        match outcome {
            Ok(()) => {
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Err(Some(refused)) => return Err(refused),
            // The server is gone (killed); nothing more will be answered.
            Err(None) => return Ok(()),
        }
    }
    Ok(())
}

async fn verify(client: &Client, ledger: &Ledger, cycle: usize) {
    let get = |key: String| async move {
        get_consistent(client, TABLE, &key)
            .await
            .unwrap_or_else(|e| panic!("GetItem {key} after restart: {e:?}"))
    };
    let number = |item: &HashMap<String, AttributeValue>, name: &str| -> i64 {
        match item.get(name) {
            Some(AttributeValue::N(v)) => v.parse().expect("an integer"),
            other => panic!("attribute {name} is {other:?}"),
        }
    };

    assert!(!ledger.acked_puts.is_empty());
    for (key, value) in &ledger.acked_puts {
        let got = get(key.clone())
            .await
            .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged put {key} lost"));
        assert_eq!(number(&got, "v"), *value, "cycle {cycle}: {key}");
    }
    for (counter, (acked, unknown)) in &ledger.counters {
        let value = match get(counter.clone()).await {
            Some(got) => number(&got, "count"),
            None => 0,
        };
        let (acked, unknown) = (*acked as i64, *unknown as i64);
        assert!(
            value >= acked && value <= acked + unknown,
            "cycle {cycle}: {counter} = {value}, acknowledged {acked} (+{unknown} unknown)"
        );
    }
    for (key, (acked, attempted)) in &ledger.overwrites {
        let got = get(key.clone()).await;
        match (acked, got) {
            (Some(acked), Some(got)) => {
                let value = number(&got, "v");
                assert!(
                    value >= *acked && value <= *attempted,
                    "cycle {cycle}: {key} = {value}, acknowledged {acked}, last attempted {attempted}"
                );
            }
            (Some(acked), None) => {
                panic!("cycle {cycle}: {key} lost (acknowledged {acked})")
            }
            (None, _) => {}
        }
    }
    let table = client
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTable after restart")
        .table
        .expect("Table");
    let count = table.item_count().expect("ItemCount");
    assert!(
        count >= ledger.acked_puts.len() as i64,
        "cycle {cycle}: ItemCount {count} < {} acknowledged puts",
        ledger.acked_puts.len()
    );
}
