//! kv-memory against the kv contract suite, and against the copy-on-write
//! model as its own oracle.

use openddb_kv::contract::{self, CopyModel};
use openddb_kv::Kv;
use openddb_kv_memory::MemoryKv;

openddb_kv::contract_tests!(|| Box::new(MemoryKv::new()));

#[test]
fn model_check_against_copy_model() {
    contract::model_check(
        &|| -> Box<dyn Kv> { Box::new(CopyModel::new()) },
        &|| -> Box<dyn Kv> { Box::new(MemoryKv::new()) },
        512,
    );
}

#[test]
fn reads_are_cheap() {
    assert!(MemoryKv::new().reads_are_cheap());
}
