//! Catalog changes of one table that commit together (one group commit)
//! reach the tenant's cache of the catalog in either order: a table deleted
//! beside another change of it stays deleted, in the cache as in storage.

use std::sync::Arc;

use openddb_core::DynamoError;
use openddb_engine::{Database, RequestContext, StorageConfig};
use serde_json::{json, Value};

async fn call(db: &Database, op: &str, body: Value) -> Result<Value, DynamoError> {
    let out = db
        .dispatch(&RequestContext::default(), op, body.to_string().as_bytes())
        .await?;
    Ok(serde_json::from_slice(&out).expect("a JSON answer"))
}

/// An UpdateTimeToLive and a DeleteTable sent together: when both succeed,
/// the first to commit may be the last to update the cache. Before the
/// cache refused updates of tables it no longer held, the late update put
/// the deleted table back: ListTables listed it and CreateTable of its name
/// answered "Table already exists" until a restart (within a few dozen
/// rounds on a 2-core machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_deleted_beside_another_change_stays_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open(StorageConfig::Directory(dir.path().into())).unwrap());
    let mut raced = 0;
    for round in 0..300 {
        call(
            &db,
            "CreateTable",
            json!({
                "TableName": "ttt",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("round {round}: CreateTable of a deleted table's name: {e}"));
        let (a, b) = (db.clone(), db.clone());
        let ttl = tokio::spawn(async move {
            call(
                &a,
                "UpdateTimeToLive",
                json!({
                    "TableName": "ttt",
                    "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}
                }),
            )
            .await
        });
        let delete =
            tokio::spawn(async move { call(&b, "DeleteTable", json!({"TableName": "ttt"})).await });
        let (ttl, deleted) = (ttl.await.unwrap(), delete.await.unwrap());
        if deleted.is_err() {
            // DeleteTable went first in the cache check and UpdateTimeToLive
            // is still settling, or the other way round: delete it now.
            call(&db, "DeleteTable", json!({"TableName": "ttt"}))
                .await
                .unwrap_or_else(|e| panic!("round {round}: DeleteTable: {e}"));
        } else if ttl.is_ok() {
            raced += 1;
        }
        let listed = call(&db, "ListTables", json!({})).await.unwrap();
        assert_eq!(
            listed["TableNames"],
            json!([]),
            "round {round}: the deleted table is listed"
        );
    }
    assert!(raced > 0, "no round had both requests succeed");
}
