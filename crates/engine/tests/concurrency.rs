//! Concurrent read-modify-write on one item loses no update: 16 tasks each
//! run `ADD counter :one` 100 times on a multi-threaded runtime.

mod common;

use std::sync::Arc;

use common::*;
use openddb_core::api::UpdateItemInput;
use openddb_engine::Database;

const TASKS: usize = 16;
const ROUNDS: usize = 100;

async fn hammer(db: Arc<Database>) {
    create_hash_table(&db, "counters").await;
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    db.update_item(UpdateItemInput {
                        table_name: Some("counters".into()),
                        key: Some(item(&[("pk", s("hot"))])),
                        update_expression: Some("ADD #c :one".into()),
                        expression_attribute_names: Some(names(&[("#c", "counter")])),
                        expression_attribute_values: Some(values(&[(":one", n("1"))])),
                        ..Default::default()
                    })
                    .await
                    .expect("ADD");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    let got = get(&db, "counters", item(&[("pk", s("hot"))])).await;
    assert_eq!(
        got,
        Some(item(&[
            ("pk", s("hot")),
            ("counter", n(&(TASKS * ROUNDS).to_string()))
        ]))
    );
    assert_eq!(stats(&db, "counters").await.0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_lose_no_update_in_memory() {
    let h = Harness::new(Mode::Memory);
    hammer(Arc::new(h.db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_lose_no_update_sqlite() {
    let h = Harness::new(Mode::Sqlite);
    let _dir = h.dir;
    hammer(Arc::new(h.db)).await;
}
