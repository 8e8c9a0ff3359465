//! Tenants with Time to Live or a stream are due when their data says,
//! not every sweep or trim interval: an idle one whose items expire far
//! ahead (or never) is not opened again once closed; an item that expires
//! soon, or a stream record past retention, still goes without a request,
//! the scheduler opening its closed tenant once for it; and due times
//! survive a restart, whether the tenant was closed before it or not.

use std::time::Duration;

use serde_json::{json, Value};

use crate::streams::StreamSettings;
use crate::{Database, RequestContext, StorageConfig, StorageLimits};

const A: &str = "000000000001";
/// Requests to it close the others (one tenant open at most).
const OTHER: &str = "000000000009";
/// Short enough that the old behaviour, a visit every interval, would open
/// an idle tenant dozens of times in these tests.
const SWEEP: Duration = Duration::from_millis(50);
const DAY_MS: u64 = 24 * 3600 * 1000;

fn ctx(account: &str) -> RequestContext {
    RequestContext {
        account_id: account.into(),
        ..RequestContext::default()
    }
}

async fn call(db: &Database, account: &str, op: &str, body: Value) -> Value {
    let out = db
        .dispatch(&ctx(account), op, body.to_string().as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{op} for {account}: {e}"));
    serde_json::from_slice(&out).expect("JSON answer")
}

fn one_open() -> StorageLimits {
    StorageLimits {
        max_open_tenants: 1,
        ..StorageLimits::default()
    }
}

fn memory() -> Database {
    Database::open_with_limits(StorageConfig::InMemory, one_open())
        .expect("open")
        .with_ttl_sweep_interval(SWEEP)
}

fn durable(dir: &std::path::Path) -> Database {
    Database::open_with_limits(StorageConfig::Directory(dir.to_path_buf()), one_open())
        .expect("open")
        .with_ttl_sweep_interval(SWEEP)
}

fn now_secs() -> u64 {
    crate::ttl::now_secs()
}

fn now_ms() -> u64 {
    super::scheduler::now_ms()
}

/// Creates table `things` (with `extra` members); returns its description.
async fn create(db: &Database, account: &str, extra: Value) -> Value {
    let mut body = json!({
        "TableName": "things",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    call(db, account, "CreateTable", body).await["TableDescription"].clone()
}

async fn enable_ttl(db: &Database, account: &str) {
    call(
        db,
        account,
        "UpdateTimeToLive",
        json!({"TableName": "things",
               "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    )
    .await;
}

async fn put(db: &Database, account: &str, item: Value) {
    call(
        db,
        account,
        "PutItem",
        json!({"TableName": "things", "Item": item}),
    )
    .await;
}

async fn exists(db: &Database, account: &str, pk: &str) -> bool {
    let got = call(
        db,
        account,
        "GetItem",
        json!({"TableName": "things", "Key": {"pk": {"S": pk}}}),
    )
    .await;
    got.get("Item").is_some()
}

async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not reached within {within:?}");
}

/// Closes every tenant but `OTHER` by sending it requests (a tenant a
/// visit holds is closed by a later one, once let go).
async fn close_others(db: &Database, accounts: &[&str]) {
    for _ in 0..3000 {
        if accounts.iter().all(|a| !db.tenants.is_present(a)) {
            return;
        }
        call(db, OTHER, "ListTables", json!({})).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{accounts:?} not closed");
}

/// `account`'s entry in the persisted due index.
fn entry(db: &Database, account: &str) -> Option<u64> {
    db.tenants
        .scheduler()
        .index()
        .get(account)
        .expect("due index")
}

fn opened(db: &Database) -> u64 {
    db.tenant_stats().opened
}

/// When an item expiring at `expiry` (epoch s) is due (epoch ms); an
/// entry may be a millisecond later (the process clock's rounding).
fn due_of(expiry: u64) -> u64 {
    (expiry + 1) * 1000
}

fn near(entry: Option<u64>, ms: u64) -> bool {
    entry.is_some_and(|e| e >= ms && e <= ms + 2)
}

/// Records in the stream whose ARN is `arn`, read from every shard's
/// trim horizon.
async fn records(db: &Database, account: &str, arn: &str) -> usize {
    let described = call(db, account, "DescribeStream", json!({"StreamArn": arn})).await;
    let mut n = 0;
    for shard in described["StreamDescription"]["Shards"]
        .as_array()
        .expect("shards")
    {
        let iterator = call(
            db,
            account,
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard["ShardId"],
                   "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let got = call(
            db,
            account,
            "GetRecords",
            json!({"ShardIterator": iterator["ShardIterator"]}),
        )
        .await;
        n += got["Records"].as_array().expect("records").len();
    }
    n
}

/// A tenant with Time to Live and a stream whose items expire in ten days,
/// never (no attribute, or one that is not a number), and whose records
/// are a day from retention, is not opened again once closed, across
/// dozens of sweep and trim intervals: its entry is when its first record
/// turns a day old. A tenant with TTL and nothing to expire has no entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tenant_is_not_opened_every_interval() {
    let db = memory().with_stream_settings(StreamSettings {
        trim_interval_ms: SWEEP.as_millis() as u64,
        ..StreamSettings::default()
    });
    create(
        &db,
        A,
        json!({"StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}),
    )
    .await;
    enable_ttl(&db, A).await;
    let written = now_ms();
    let later = (now_secs() + 10 * 24 * 3600).to_string();
    put(&db, A, json!({"pk": {"S": "later"}, "exp": {"N": later}})).await;
    put(&db, A, json!({"pk": {"S": "never"}})).await;
    put(&db, A, json!({"pk": {"S": "text"}, "exp": {"S": "12"}})).await;
    let empty = "000000000002";
    create(&db, empty, json!({})).await;
    enable_ttl(&db, empty).await;
    close_others(&db, &[A, empty]).await;
    // A visit may be needed to work the times out (a tenant closed before
    // its jobs ran is due at once); after it, A is due in a day.
    eventually(
        "A's exact due time on record",
        Duration::from_secs(30),
        || {
            !db.tenants.is_present(A)
                && entry(&db, A).is_some_and(|e| e > now_ms() + DAY_MS / 2)
                && entry(&db, empty).is_none()
        },
    )
    .await;
    let due = entry(&db, A).expect("entry");
    assert!(
        due >= written + DAY_MS && due <= now_ms() + DAY_MS + 1,
        "due {due}, the first record was written at {written}"
    );

    let before = opened(&db);
    tokio::time::sleep(SWEEP * 30).await;
    assert_eq!(opened(&db), before, "an idle tenant was opened again");
    assert_eq!(entry(&db, A), Some(due));
    assert_eq!(db.tenants_with_due_work().unwrap(), 1);
    assert!(exists(&db, A, "later").await);
    assert!(exists(&db, A, "never").await);
    assert_eq!(db.tenant_stats().duplicates, 0);
}

/// An item that expires soon goes without a request after its tenant is
/// closed: the tenant's entry is the item's due time, the scheduler opens
/// it once then, and not again while the rest expires far ahead (durable
/// storage).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_expiring_soon_goes_after_its_tenant_is_closed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = durable(dir.path());
    create(&db, A, json!({})).await;
    enable_ttl(&db, A).await;
    let soon = now_secs() + 4;
    let later = now_secs() + 10 * 24 * 3600;
    put(
        &db,
        A,
        json!({"pk": {"S": "soon"}, "exp": {"N": soon.to_string()}}),
    )
    .await;
    put(
        &db,
        A,
        json!({"pk": {"S": "later"}, "exp": {"N": later.to_string()}}),
    )
    .await;
    close_others(&db, &[A]).await;
    eventually(
        "A due when its item expires",
        Duration::from_secs(30),
        || !db.tenants.is_present(A) && near(entry(&db, A), due_of(soon)),
    )
    .await;

    let before = opened(&db);
    // The index is read once a second.
    eventually(
        "the scheduler opened A for the expired item",
        Duration::from_secs(15),
        || opened(&db) > before,
    )
    .await;
    // The visit ends with A closed again (the cache is full) and the next
    // expiry, ten days ahead, on record.
    eventually("A due in ten days", Duration::from_secs(30), || {
        !db.tenants.is_present(A) && near(entry(&db, A), due_of(later))
    })
    .await;
    tokio::time::sleep(SWEEP * 20).await;
    assert_eq!(opened(&db), before + 1, "opened once, for its expiry");
    assert!(
        !exists(&db, A, "soon").await,
        "the expired item outlived it"
    );
    assert!(exists(&db, A, "later").await);
}

/// Stream records go once past retention without a request after their
/// tenant is closed, and the tenant is then left alone; a record appended
/// to the emptied stream, whose trim sleeps, brings the trim back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_records_are_trimmed_when_they_age_and_not_before() {
    let retention = 1500;
    let db = memory().with_stream_settings(StreamSettings {
        retention_ms: retention,
        trim_interval_ms: SWEEP.as_millis() as u64,
        ..StreamSettings::default()
    });
    let table = create(
        &db,
        A,
        json!({"StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}),
    )
    .await;
    let arn = table["LatestStreamArn"]
        .as_str()
        .expect("stream ARN")
        .to_owned();
    for round in 0..2 {
        // The trim has looked and found nothing: it sleeps, and A's entry
        // is gone while it is open.
        eventually("nothing on record", Duration::from_secs(30), || {
            db.tenants.is_present(A) && entry(&db, A).is_none()
        })
        .await;
        let written = now_ms();
        for i in 0..3 {
            put(&db, A, json!({"pk": {"S": format!("r{round}-{i}")}})).await;
        }
        // Recorded before the first write was acknowledged.
        assert!(entry(&db, A).is_some(), "round {round}");
        assert_eq!(records(&db, A, &arn).await, 3);
        close_others(&db, &[A]).await;
        // Closed before its trim first ran, A is visited once to work the
        // time out; then it is due when its first record ages.
        eventually("the trim on record", Duration::from_secs(30), || {
            !db.tenants.is_present(A) && entry(&db, A).is_some_and(|e| e > written + retention)
        })
        .await;
        let due = entry(&db, A).expect("the trim on record");
        assert!(
            due <= now_ms() + retention + 1,
            "round {round}: due {due}, records written from {written}"
        );
        let before = opened(&db);
        eventually(
            "the scheduler opened A to trim",
            Duration::from_secs(15),
            || opened(&db) > before,
        )
        .await;
        eventually("nothing left to trim", Duration::from_secs(30), || {
            !db.tenants.is_present(A) && entry(&db, A).is_none()
        })
        .await;
        // The stream is empty and enabled: nothing will age, the tenant is
        // not opened again.
        let before = opened(&db);
        tokio::time::sleep(SWEEP * 20).await;
        assert_eq!(opened(&db), before, "round {round}");
        assert_eq!(records(&db, A, &arn).await, 0, "round {round}");
    }
    assert_eq!(db.tenant_stats().duplicates, 0);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Due times survive a restart: a tenant closed before it keeps its exact
/// time (not visited before it, its expired item gone after it), one whose
/// items expire far ahead is not visited at all.
#[test]
fn due_times_of_closed_tenants_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let far = "000000000003";
    let soon = now_secs() + 6;
    let later = now_secs() + 10 * 24 * 3600;
    runtime().block_on(async {
        let db = durable(dir.path());
        for account in [far, A] {
            create(&db, account, json!({})).await;
            enable_ttl(&db, account).await;
        }
        put(
            &db,
            far,
            json!({"pk": {"S": "later"}, "exp": {"N": later.to_string()}}),
        )
        .await;
        put(
            &db,
            A,
            json!({"pk": {"S": "soon"}, "exp": {"N": soon.to_string()}}),
        )
        .await;
        close_others(&db, &[A, far]).await;
        eventually("both due exactly", Duration::from_secs(30), || {
            ![A, far].iter().any(|a| db.tenants.is_present(a))
                && near(entry(&db, A), due_of(soon))
                && near(entry(&db, far), due_of(later))
        })
        .await;
    });
    runtime().block_on(async {
        let db = durable(dir.path());
        assert!(near(entry(&db, A), due_of(soon)));
        assert!(near(entry(&db, far), due_of(later)));
        tokio::time::sleep(SWEEP * 10).await;
        if now_secs() < soon {
            assert_eq!(opened(&db), 0, "a tenant was visited before its time");
        }
        eventually(
            "A opened for its expired item",
            Duration::from_secs(20),
            || opened(&db) == 1,
        )
        .await;
        eventually("A's work done", Duration::from_secs(30), || {
            entry(&db, A).is_none()
        })
        .await;
        tokio::time::sleep(SWEEP * 10).await;
        assert_eq!(opened(&db), 1, "only A was opened");
        assert!(!exists(&db, A, "soon").await);
        assert!(exists(&db, far, "later").await);
    });
}

/// A write that makes timed work records its tenant in the due index
/// before it is acknowledged, so the work is found after the process stops
/// with the tenant open (no close to record it) and nothing asks for the
/// tenant again.
#[test]
fn an_expiry_written_just_before_a_crash_is_found_after_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let soon = now_secs() + 2;
    runtime().block_on(async {
        let db = durable(dir.path());
        create(&db, A, json!({})).await;
        enable_ttl(&db, A).await;
        // Enabling put A in the index; with nothing to expire the visit
        // that follows took it out again.
        eventually("no work on record", Duration::from_secs(30), || {
            entry(&db, A).is_none()
        })
        .await;
        put(
            &db,
            A,
            json!({"pk": {"S": "soon"}, "exp": {"N": soon.to_string()}}),
        )
        .await;
        assert!(
            entry(&db, A).is_some_and(|e| e <= now_ms()),
            "acknowledged before it was on record"
        );
        // Dropped with A open: nothing is recorded at close.
    });
    runtime().block_on(async {
        let db = durable(dir.path());
        eventually(
            "A opened for its expired item",
            Duration::from_secs(20),
            || opened(&db) >= 1 && now_secs() > soon,
        )
        .await;
        eventually("A's work done", Duration::from_secs(30), || {
            entry(&db, A).is_none()
        })
        .await;
        assert!(!exists(&db, A, "soon").await);
    });
}
