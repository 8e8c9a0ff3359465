//! kv-sqlite against the kv contract suite, with kv-memory as the oracle of
//! the model check.

mod common;

use common::TempKv;
use openddb_kv::{contract, Kv};
use openddb_kv_memory::MemoryKv;
use openddb_kv_sqlite::{Durability, SqliteOptions};

openddb_kv::contract_tests!(|| Box::new(TempKv::new(SqliteOptions::default())));

#[test]
fn snapshot_isolation() {
    contract::snapshot_isolation(&|| -> Box<dyn Kv> {
        Box::new(TempKv::new(SqliteOptions::default()))
    });
}

#[test]
fn model_check_against_memory() {
    // Durability does not change what is visible, only when it is on disk;
    // relaxed keeps the many small commits of this test quick.
    let relaxed = SqliteOptions {
        durability: Durability::Relaxed,
        ..SqliteOptions::default()
    };
    contract::model_check(
        &|| -> Box<dyn Kv> { Box::new(MemoryKv::new()) },
        &|| -> Box<dyn Kv> { Box::new(TempKv::new(relaxed.clone())) },
        128,
    );
}

#[test]
fn model_check_durable_and_one_read_connection() {
    let options = SqliteOptions {
        read_connections: 1,
        max_batch: 1,
        ..SqliteOptions::default()
    };
    contract::model_check(
        &|| -> Box<dyn Kv> { Box::new(MemoryKv::new()) },
        &|| -> Box<dyn Kv> { Box::new(TempKv::new(options.clone())) },
        16,
    );
}
