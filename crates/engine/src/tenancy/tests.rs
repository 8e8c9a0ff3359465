//! The tenant cache (one live `Tenant` per account, idle ones closed, one
//! in use never) and the scheduler (work of closed tenants found through
//! the persisted index, after eviction and after a restart; no task per
//! tenant).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::tenancy::cache::Use;
use crate::{Database, RequestContext, StorageConfig, StorageLimits};

fn ctx(account: &str) -> RequestContext {
    RequestContext {
        account_id: account.into(),
        ..RequestContext::default()
    }
}

async fn try_call(db: &Database, account: &str, op: &str, body: Value) -> Result<Value, String> {
    match db
        .dispatch(&ctx(account), op, body.to_string().as_bytes())
        .await
    {
        Ok(out) => Ok(serde_json::from_slice(&out).expect("JSON answer")),
        Err(e) => Err(format!("{op} for {account}: {e}")),
    }
}

async fn call(db: &Database, account: &str, op: &str, body: Value) -> Value {
    try_call(db, account, op, body)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn create(db: &Database, account: &str, extra: Value) {
    let mut body = json!({
        "TableName": "things",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    call(db, account, "CreateTable", body).await;
}

fn limits(cap: usize) -> StorageLimits {
    StorageLimits {
        max_open_tenants: cap,
        ..StorageLimits::default()
    }
}

fn memory(cap: usize) -> Database {
    Database::open_with_limits(StorageConfig::InMemory, limits(cap)).expect("open")
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not reached in 30 s");
}

/// Many accounts through a cache of four: every write acknowledged is read
/// back, there is never a second `Tenant` of an account, and once the
/// requests are over only four tenants stay open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_keeps_one_tenant_per_account_and_every_write() {
    let db = Arc::new(memory(4));
    let accounts: Vec<String> = (0..40).map(|i| format!("{i:012}")).collect();
    for account in &accounts {
        create(&db, account, json!({})).await;
    }
    let tasks: Vec<_> = (0..16u64)
        .map(|t| {
            let (db, accounts) = (db.clone(), accounts.clone());
            tokio::spawn(async move {
                let mut written = Vec::new();
                for i in 0..60u64 {
                    let account = &accounts[((t * 7919 + i * 104_729) % 40) as usize];
                    let pk = format!("t{t}-{i}");
                    call(
                        &db,
                        account,
                        "PutItem",
                        json!({"TableName": "things", "Item": {"pk": {"S": pk}}}),
                    )
                    .await;
                    written.push((account.clone(), pk));
                }
                written
            })
        })
        .collect();
    let mut written = Vec::new();
    for task in tasks {
        written.extend(task.await.expect("writer"));
    }
    for (account, pk) in &written {
        let got = call(
            &db,
            account,
            "GetItem",
            json!({"TableName": "things", "Key": {"pk": {"S": pk}}}),
        )
        .await;
        assert_eq!(got["Item"]["pk"]["S"], pk.as_str(), "{account} lost {pk}");
    }
    eventually("idle tenants closed down to the cap", || {
        let stats = db.tenant_stats();
        stats.open <= 4 && stats.live == stats.open
    })
    .await;
    let stats = db.tenant_stats();
    assert_eq!(stats.duplicates, 0, "{stats:?}");
    assert!(
        stats.closed > 40,
        "tenants were closed and opened again: {stats:?}"
    );
}

/// A tenant a request holds is not closed however many others are
/// opened; it is the same `Tenant` for every request meanwhile, and it is
/// closed once let go.
#[tokio::test]
async fn a_tenant_in_use_is_never_closed() {
    let db = memory(1);
    create(&db, "000000000001", json!({})).await;
    let held = db
        .tenants
        .get("000000000001", Use::Request)
        .await
        .expect("lease");
    for i in 2..6 {
        create(&db, &format!("{i:012}"), json!({})).await;
    }
    let again = db
        .tenants
        .get("000000000001", Use::Request)
        .await
        .expect("lease");
    assert!(Arc::ptr_eq(&held, &again));
    // The four others were opened and closed around it.
    eventually("the four others closed", || db.tenant_stats().closed >= 4).await;
    drop((held, again));
    call(&db, "000000000006", "ListTables", json!({})).await;
    eventually("the held tenant closes once let go", || {
        db.tenant_stats().open == 1 && !db.tenants.is_present("000000000001")
    })
    .await;
    assert_eq!(db.tenant_stats().duplicates, 0);
    // Its table is still there when it is opened again.
    let tables = call(&db, "000000000001", "ListTables", json!({})).await;
    assert_eq!(tables["TableNames"], json!(["things"]));
}

/// A tenant that never wrote leaves nothing behind once closed: no memory
/// keyspace, no index entry.
#[tokio::test]
async fn an_unused_tenant_costs_nothing_once_closed() {
    let db = memory(1);
    let listed = call(&db, "000000000007", "ListTables", json!({})).await;
    assert_eq!(listed["TableNames"], json!([]));
    call(&db, "000000000008", "ListTables", json!({})).await;
    eventually("the first tenant closed", || {
        !db.tenants.is_present("000000000007")
    })
    .await;
    assert!(!db.tenants.has_memory_store("000000000007"));
    assert_eq!(db.tenants_with_due_work().unwrap(), 0);
}

fn put_many(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"PutRequest": {"Item": {
                "pk": {"S": format!("k{i:05}")}, "g": {"S": format!("g{}", i % 7)}
            }}})
        })
        .collect()
}

async fn load(db: &Database, account: &str, n: usize) {
    for chunk in put_many(n).chunks(25) {
        call(
            db,
            account,
            "BatchWriteItem",
            json!({"RequestItems": {"things": chunk}}),
        )
        .await;
    }
}

fn add_gsi() -> Value {
    json!({
        "TableName": "things",
        "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {
            "IndexName": "by_g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}
        }}]
    })
}

async fn index_status(db: &Database, account: &str) -> String {
    let d = call(db, account, "DescribeTable", json!({"TableName": "things"})).await;
    d["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A backfill whose tenant is closed half-way is carried on by the
/// scheduler, which opens the tenant again from the persisted index, and
/// ends with every entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_resumes_after_its_tenant_is_closed() {
    let db = memory(1);
    let a = "000000000001";
    create(&db, a, json!({})).await;
    load(&db, a, 3000).await;
    call(&db, a, "UpdateTable", add_gsi()).await;
    let opened_before = db.tenant_stats().opened;
    // Other tenants push A out of the cache while its backfill runs.
    let mut evictions = 0;
    for i in 2..200 {
        if index_status(&db, a).await == "ACTIVE" {
            break;
        }
        call(&db, &format!("{i:012}"), "ListTables", json!({})).await;
        evictions += 1;
    }
    eventually("the index is built", || false_if_pending(&db)).await;
    let status = index_status(&db, a).await;
    assert_eq!(status, "ACTIVE");
    let scanned = call(
        &db,
        a,
        "Scan",
        json!({"TableName": "things", "IndexName": "by_g", "Select": "COUNT"}),
    )
    .await;
    assert_eq!(scanned["Count"], 3000);
    assert!(evictions > 0, "the backfill finished before any eviction");
    assert!(db.tenant_stats().opened > opened_before + 1);
    assert_eq!(db.tenant_stats().duplicates, 0);
}

/// Whether no tenant has work on record any more.
fn false_if_pending(db: &Database) -> bool {
    db.tenants_with_due_work().is_ok_and(|n| n == 0)
}

/// An expired item of a tenant that is not open goes: the scheduler finds
/// the tenant's sweep in the persisted index and opens it for the sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_item_of_a_closed_tenant_goes() {
    let db = memory(1).with_ttl_sweep_interval(Duration::from_millis(100));
    let a = "000000000001";
    create(&db, a, json!({})).await;
    call(
        &db,
        a,
        "UpdateTimeToLive",
        json!({"TableName": "things", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    )
    .await;
    let soon = crate::ttl::now_secs() + 1;
    call(
        &db,
        a,
        "PutItem",
        json!({"TableName": "things", "Item": {"pk": {"S": "x"}, "exp": {"N": soon.to_string()}}}),
    )
    .await;
    call(&db, "000000000002", "ListTables", json!({})).await;
    eventually("A is closed", || !db.tenants.is_present(a)).await;
    assert!(db.tenants_with_due_work().unwrap() >= 1);
    // No request opens A: the scheduler does, once, for its sweep (and
    // lets it go again at once, the cache being full).
    let opened = db.tenant_stats().opened;
    eventually("the scheduler opened A again", || {
        db.tenant_stats().opened > opened
    })
    .await;
    eventually("A has no work left", || false_if_pending(&db)).await;
    let got = call(
        &db,
        a,
        "GetItem",
        json!({"TableName": "things", "Key": {"pk": {"S": "x"}}}),
    )
    .await;
    assert!(
        got.get("Item").is_none(),
        "the item outlived its expiry: {got}"
    );
    assert_eq!(db.tenant_stats().duplicates, 0);
}

/// Idle tenants with Time to Live and a stream cost no task each: the
/// database's tasks are as many with forty such tenants as with four. With
/// nothing to expire and no stream record, none has work on record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_tenants_cost_no_task_each() {
    let db = memory(4).with_ttl_sweep_interval(Duration::from_secs(1));
    let setup = |account: String| {
        let db = &db;
        async move {
            create(
                db,
                &account,
                json!({"StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}),
            )
            .await;
            call(
                db,
                &account,
                "UpdateTimeToLive",
                json!({"TableName": "things", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
            )
            .await;
        }
    };
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    for i in 0..4 {
        setup(format!("{i:012}")).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_four = tasks();
    for i in 4..40 {
        setup(format!("{i:012}")).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_forty = tasks();
    // The scheduler's visits in flight (at most MAX_VISITS, two tasks each)
    // come and go; nothing else may grow with the tenants.
    let slack = 3 * super::scheduler::MAX_VISITS;
    assert!(
        with_forty <= with_four + slack,
        "tasks: {with_four} with 4 tenants, {with_forty} with 40"
    );
    assert!(db.tenant_stats().open <= 4 + super::scheduler::MAX_VISITS);
    assert_eq!(db.tenants_with_due_work().unwrap(), 0);
}

/// Work a change announced before it committed is found after a restart
/// in which the tenant is never asked for: a GSI backfill cut short by
/// the end of the process is finished by the next one on its own.
#[test]
fn due_work_of_a_tenant_never_opened_again_is_done_after_a_restart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let open = || Database::open(StorageConfig::Directory(dir.path().to_path_buf())).expect("open");
    let a = "000000000001";
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let db = open();
            create(&db, a, json!({})).await;
            load(&db, a, 1000).await;
            call(&db, a, "UpdateTable", add_gsi()).await;
            assert_eq!(index_status(&db, a).await, "CREATING");
        });
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let db = open();
            assert_eq!(db.tenants_with_due_work().unwrap(), 1);
            eventually("the backfill finished without a request", || {
                false_if_pending(&db)
            })
            .await;
            assert_eq!(index_status(&db, a).await, "ACTIVE");
            let n = call(
                &db,
                a,
                "Scan",
                json!({"TableName": "things", "IndexName": "by_g", "Select": "COUNT"}),
            )
            .await;
            assert_eq!(n["Count"], 1000);
        });
}
