//! A Directory (SQLite) database keeps tables, items, statistics and
//! settings across closing and reopening; table ids are never reused.

mod common;

use common::*;
use openddb_core::api::{
    DeleteItemInput, DeleteTableInput, ListTablesInput, ProvisionedThroughput, UpdateItemInput,
    UpdateTableInput,
};
use openddb_engine::{Database, StorageConfig};

fn open(dir: &std::path::Path) -> Database {
    Database::open(StorageConfig::Directory(dir.to_path_buf())).expect("open database")
}

#[tokio::test]
async fn directory_database_survives_reopening() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (count, size);
    {
        let db = open(dir.path());
        create_hash_table(&db, "kept").await;
        create_composite_table(&db, "dropped").await;
        for i in 0..50 {
            put(
                &db,
                "kept",
                item(&[("pk", s(&format!("k{i:02}"))), ("v", n(&i.to_string()))]),
            )
            .await;
        }
        put(&db, "dropped", item(&[("pk", s("a")), ("sk", s("b"))])).await;
        db.update_item(UpdateItemInput {
            table_name: Some("kept".into()),
            key: Some(item(&[("pk", s("k00"))])),
            update_expression: Some("SET tags = :t ADD v :one".into()),
            expression_attribute_values: Some(values(&[(":t", ss(&["x", "y"])), (":one", n("1"))])),
            ..Default::default()
        })
        .await
        .expect("update");
        for i in 40..50 {
            db.delete_item(DeleteItemInput {
                table_name: Some("kept".into()),
                key: Some(item(&[("pk", s(&format!("k{i:02}")))])),
                ..Default::default()
            })
            .await
            .expect("delete");
        }
        db.update_table(UpdateTableInput {
            table_name: Some("kept".into()),
            provisioned_throughput: Some(ProvisionedThroughput {
                read_capacity_units: Some(7),
                write_capacity_units: Some(9),
            }),
            deletion_protection_enabled: Some(true),
            ..Default::default()
        })
        .await
        .expect("update table");
        db.delete_table(DeleteTableInput {
            table_name: Some("dropped".into()),
        })
        .await
        .expect("delete table");
        (count, size) = stats(&db, "kept").await;
        assert_eq!(count, 40);
    }

    let db = open(dir.path());
    let names = db
        .list_tables(ListTablesInput::default())
        .await
        .expect("list")
        .table_names;
    assert_eq!(names, ["kept"]);
    assert_eq!(stats(&db, "kept").await, (count, size));
    let d = describe(&db, "kept").await;
    assert_eq!(d.table_status.as_deref(), Some("ACTIVE"));
    assert_eq!(d.deletion_protection_enabled, Some(true));
    let pt = d.provisioned_throughput.expect("ProvisionedThroughput");
    assert_eq!(
        (pt.read_capacity_units, pt.write_capacity_units),
        (Some(7), Some(9))
    );
    assert_eq!(
        get(&db, "kept", item(&[("pk", s("k00"))])).await,
        Some(item(&[
            ("pk", s("k00")),
            ("v", n("1")),
            ("tags", ss(&["x", "y"]))
        ]))
    );
    for i in 1..40 {
        assert_eq!(
            get(&db, "kept", item(&[("pk", s(&format!("k{i:02}")))])).await,
            Some(item(&[
                ("pk", s(&format!("k{i:02}"))),
                ("v", n(&i.to_string()))
            ])),
            "k{i:02}"
        );
    }
    for i in 40..50 {
        assert_eq!(
            get(&db, "kept", item(&[("pk", s(&format!("k{i:02}")))])).await,
            None
        );
    }

    // A table re-created under a deleted table's name after reopening starts
    // empty: the old table's id is not handed out again.
    create_composite_table(&db, "dropped").await;
    assert_eq!(
        get(&db, "dropped", item(&[("pk", s("a")), ("sk", s("b"))])).await,
        None
    );
    assert_eq!(stats(&db, "dropped").await, (0, 0));
    put(&db, "dropped", item(&[("pk", s("new")), ("sk", s("one"))])).await;
    drop(db);

    // And the new table's contents survive another reopening, beside the old one's.
    let db = open(dir.path());
    assert_eq!(stats(&db, "dropped").await, (1, 2 + 3 + 2 + 3));
    assert_eq!(stats(&db, "kept").await, (count, size));
}

#[tokio::test]
async fn in_memory_database_starts_empty_each_time() {
    let db = Database::open(StorageConfig::InMemory).expect("open");
    create_hash_table(&db, "temp").await;
    drop(db);
    let db = Database::open(StorageConfig::InMemory).expect("open");
    let names = db
        .list_tables(ListTablesInput::default())
        .await
        .expect("list")
        .table_names;
    assert!(names.is_empty());
}
