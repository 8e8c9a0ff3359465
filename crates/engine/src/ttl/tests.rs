//! The TTL index as the write path, enabling, disabling and DeleteTable
//! leave it, and what a sweep writes to a table's stream. (Behaviour seen
//! through the API is in `tests/ttl.rs`.)

use std::sync::Arc;

use openddb_core::api::{
    CreateTableInput, DeleteItemInput, DeleteTableInput, PutItemInput, UpdateItemInput,
    UpdateTimeToLiveInput,
};
use openddb_core::{AttributeValue, Item, Number};
use openddb_kv::KeyRange;

use super::{now_secs, sweeper, MAX_AGE_SECS};
use crate::keys;
use crate::tenant::Tenant;
use crate::Database;

const ACCOUNT: &str = "000000000000";
const T: &str = "ttl_t";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(Number::parse(&v.to_string()).expect("number"))
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), s(pk))])
}

fn with(pk: &str, attrs: &[(&str, AttributeValue)]) -> Item {
    let mut it = key(pk);
    for (k, v) in attrs {
        it.insert(k.to_string(), v.clone());
    }
    it
}

async fn setup(stream: bool) -> (Database, Arc<Tenant>) {
    let db = Database::in_memory();
    let mut table = serde_json::json!({
        "TableName": T,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if stream {
        table["StreamSpecification"] =
            serde_json::json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"});
    }
    let table: CreateTableInput = serde_json::from_value(table).expect("table input");
    db.create_table(table).await.expect("create table");
    let tenant = db.tenant(ACCOUNT).expect("tenant");
    (db, tenant)
}

async fn set_ttl(db: &Database, enabled: bool, attribute: &str) {
    let input: UpdateTimeToLiveInput = serde_json::from_value(serde_json::json!({
        "TableName": T,
        "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}
    }))
    .expect("input");
    db.update_time_to_live(input)
        .await
        .expect("UpdateTimeToLive");
}

async fn put(db: &Database, it: Item) {
    db.put_item(PutItemInput {
        table_name: Some(T.into()),
        item: Some(it),
        ..Default::default()
    })
    .await
    .expect("put");
}

/// The table's TTL entries: (expiry, item storage key).
fn entries(tenant: &Tenant, table_id: u64) -> Vec<(u64, Vec<u8>)> {
    let snap = tenant.kv.read().expect("snapshot");
    snap.scan(
        &KeyRange::prefix(&keys::ttl_prefix(table_id)),
        false,
        usize::MAX,
    )
    .expect("scan")
    .into_iter()
    .map(|(k, _)| {
        let (expiry, item) = keys::split_ttl_key(table_id, &k).expect("entry key");
        (expiry, item.to_vec())
    })
    .collect()
}

fn item_key(tenant: &Tenant, pk: &str) -> Vec<u8> {
    let meta = tenant.table(T).expect("table");
    keys::item_key(meta.id, openddb_core::keyenc::KeyValue::S(pk), None)
}

#[tokio::test]
async fn writes_keep_one_entry_per_item_with_a_numeric_expiry() {
    let (db, tenant) = setup(false).await;
    let id = tenant.table(T).unwrap().id;
    put(&db, with("before", &[("exp", n(50))])).await;
    set_ttl(&db, true, "exp").await;
    // Enabling indexed the item already there.
    assert_eq!(entries(&tenant, id), [(50, item_key(&tenant, "before"))]);

    put(&db, with("a", &[("exp", n(100))])).await;
    put(&db, with("b", &[("misc", n(100))])).await;
    put(&db, with("c", &[("exp", s("100"))])).await;
    put(
        &db,
        with(
            "d",
            &[(
                "exp",
                AttributeValue::NS(vec![Number::parse("100").unwrap()]),
            )],
        ),
    )
    .await;
    let a = item_key(&tenant, "a");
    assert_eq!(
        entries(&tenant, id),
        [(50, item_key(&tenant, "before")), (100, a.clone())]
    );

    // The expiry moves with the item; a non-number or a removed attribute
    // takes the item out; a number brings it back.
    let update = |pk: &str, expr: &str, value: Option<AttributeValue>| UpdateItemInput {
        table_name: Some(T.into()),
        key: Some(key(pk)),
        update_expression: Some(expr.into()),
        expression_attribute_values: value.map(|v| [(":v".to_string(), v)].into_iter().collect()),
        ..Default::default()
    };
    db.update_item(update("a", "SET exp = :v", Some(n(200))))
        .await
        .unwrap();
    db.update_item(update("before", "SET misc = :v", Some(n(1))))
        .await
        .unwrap();
    assert_eq!(
        entries(&tenant, id),
        [(50, item_key(&tenant, "before")), (200, a.clone())]
    );
    db.update_item(update("a", "SET exp = :v", Some(s("soon"))))
        .await
        .unwrap();
    db.update_item(update("before", "REMOVE exp", None))
        .await
        .unwrap();
    assert!(entries(&tenant, id).is_empty());
    db.update_item(update("c", "SET exp = :v", Some(n(300))))
        .await
        .unwrap();
    assert_eq!(entries(&tenant, id), [(300, item_key(&tenant, "c"))]);
    db.delete_item(DeleteItemInput {
        table_name: Some(T.into()),
        key: Some(key("c")),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(entries(&tenant, id).is_empty());
}

#[tokio::test]
async fn disabling_and_deleting_the_table_remove_every_entry() {
    let (db, tenant) = setup(false).await;
    let id = tenant.table(T).unwrap().id;
    set_ttl(&db, true, "exp").await;
    for i in 0..5 {
        put(&db, with(&format!("k{i}"), &[("exp", n(1000 + i))])).await;
    }
    assert_eq!(entries(&tenant, id).len(), 5);
    set_ttl(&db, false, "exp").await;
    assert!(entries(&tenant, id).is_empty());
    // Writes while disabled leave no entry; re-enabling with another
    // attribute indexes that one.
    put(&db, with("x", &[("exp", n(7)), ("at", n(9))])).await;
    assert!(entries(&tenant, id).is_empty());
    set_ttl(&db, true, "at").await;
    assert_eq!(entries(&tenant, id), [(9, item_key(&tenant, "x"))]);
    assert_eq!(entries(&tenant, id).len(), 1);
    db.delete_table(DeleteTableInput {
        table_name: Some(T.into()),
    })
    .await
    .unwrap();
    // The table's data, its TTL entries included, is purged in the
    // background.
    for _ in 0..500 {
        if entries(&tenant, id).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(entries(&tenant, id).is_empty());
}

#[tokio::test]
async fn enabling_on_many_items_backfills_in_the_background() {
    let (db, tenant) = setup(false).await;
    let id = tenant.table(T).unwrap().id;
    for i in 0..450 {
        let mut attrs = vec![("v", n(i))];
        if i % 3 != 0 {
            attrs.push(("exp", n(10_000 + i)));
        }
        put(&db, with(&format!("k{i:03}"), &attrs)).await;
    }
    set_ttl(&db, true, "exp").await;
    assert!(!tenant.table(T).unwrap().ttl.as_ref().unwrap().backfilled);
    // Writes during the backfill are indexed too.
    put(&db, with("k000", &[("exp", n(5))])).await;
    for _ in 0..500 {
        if tenant.table(T).unwrap().ttl.as_ref().unwrap().backfilled {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(tenant.table(T).unwrap().ttl.as_ref().unwrap().backfilled);
    let found = entries(&tenant, id);
    assert_eq!(found.len(), 300 + 1);
    assert_eq!(found[0], (5, item_key(&tenant, "k000")));
}

#[tokio::test]
async fn a_sweep_deletes_due_items_with_a_ttl_stream_record() {
    let (db, tenant) = setup(true).await;
    set_ttl(&db, true, "exp").await;
    let now = now_secs();
    put(&db, with("old", &[("exp", n(now - 10)), ("v", s("x"))])).await;
    put(&db, with("later", &[("exp", n(now + 3600))])).await;
    put(
        &db,
        with("ancient", &[("exp", n(now - MAX_AGE_SECS - 100))]),
    )
    .await;
    db.delete_item(DeleteItemInput {
        table_name: Some(T.into()),
        key: Some(key("later")),
        ..Default::default()
    })
    .await
    .unwrap();
    let meta = tenant.table(T).unwrap();
    let deleted = sweeper::sweep_table(&tenant, &meta).await.expect("sweep");
    assert_eq!(deleted, 1);
    assert_eq!(entries(&tenant, meta.id).len(), 1, "the ancient item stays");

    let snap = tenant.kv.read().expect("snapshot");
    let streams = crate::streams::list(&*snap).expect("streams");
    assert_eq!(streams.len(), 1);
    let mut records = Vec::new();
    for shard in crate::streams::shards(&*snap, streams[0].id).expect("shards") {
        records.extend(
            crate::streams::read(&*snap, streams[0].id, shard.index, 0, 100, u64::MAX)
                .expect("records"),
        );
    }
    let removes: Vec<_> = records
        .iter()
        .filter(|r| r.event == crate::streams::EventName::Remove)
        .collect();
    assert_eq!(removes.len(), 2);
    // The user's delete is the user's; the sweep's names the TTL service
    // and carries the old image.
    assert_eq!(removes[0].keys, key("later"));
    assert!(!removes[0].by_ttl);
    assert_eq!(removes[1].keys, key("old"));
    assert!(removes[1].by_ttl);
    assert_eq!(
        removes[1].old.as_ref().and_then(|o| o.get("v")),
        Some(&s("x"))
    );
    assert_eq!(removes[1].new, None);
}
