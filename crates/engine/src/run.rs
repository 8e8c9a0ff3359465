//! Bridges the synchronous kv contract to async callers: writes are queued
//! to the backend (which may batch them into one commit) and awaited; reads
//! run inline when the backend says they are cheap, on a blocking thread
//! otherwise, so a read that waits (for a pooled connection, for the disk)
//! never holds up the async workers and the other tenants they serve.

use std::sync::Arc;

use openddb_core::{CancellationReason, DynamoError, ErrorKind};
use openddb_kv::{Kv, KvError, Outcome, ReadTxn, Txn};
use parking_lot::Mutex;

use crate::tenant::Tenant;

/// A write closure's verdict: `Ok(Ok(v))` commits, `Ok(Err(e))` rolls back
/// its writes and answers `e` (a user outcome such as a failed condition),
/// `Err` is a storage error.
pub type WriteResult<T> = Result<Result<T, DynamoError>, KvError>;

/// What DynamoDB says, in a cancellation reason or as the
/// `TransactionConflictException` of a plain write, when a transaction holds
/// the item.
pub const CONFLICT_MESSAGE: &str = "Transaction is ongoing for the item";

/// A plain write refused because a transaction holds its item.
pub fn transaction_conflict() -> DynamoError {
    DynamoError::new(ErrorKind::TransactionConflictException, CONFLICT_MESSAGE)
}

/// A transaction cancelled because others hold the items marked `true`.
pub fn conflict_cancellation(held: &[bool]) -> DynamoError {
    let reasons: Vec<CancellationReason> = held
        .iter()
        .map(|h| {
            if *h {
                CancellationReason::new("TransactionConflict", CONFLICT_MESSAGE)
            } else {
                CancellationReason::none()
            }
        })
        .collect();
    DynamoError::transaction_canceled(&reasons)
}

/// What DynamoDB answers when an account sends more than its throughput
/// limit allows: `RequestLimitExceeded`, which the AWS SDKs retry with
/// backoff as throttling. Worded as the DynamoDB Developer Guide's error
/// table gives it.
pub fn request_limit_exceeded() -> DynamoError {
    DynamoError::new(
        ErrorKind::RequestLimitExceeded,
        "Throughput exceeds the current throughput limit for your account. \
         To request a limit increase, contact AWS Support at https://aws.amazon.com/support.",
    )
}

pub fn storage_error(e: KvError) -> DynamoError {
    match e {
        KvError::Conflict => transaction_conflict(),
        // A full write queue: the account is writing faster than its file
        // can commit.
        KvError::Overloaded(_) => request_limit_exceeded(),
        KvError::Retryable(_) | KvError::Unavailable(_) => DynamoError::new(
            ErrorKind::ServiceUnavailable,
            "The service is currently unavailable or busy.",
        ),
        other => {
            tracing::error!(error = %other, "storage failure");
            DynamoError::internal("Internal server error")
        }
    }
}

/// Runs `f` in a write transaction and waits until its outcome is durable.
pub async fn write<T, F>(kv: &Arc<dyn Kv>, mut f: F) -> Result<T, DynamoError>
where
    T: Send + 'static,
    F: FnMut(&mut dyn Txn) -> WriteResult<T> + Send + 'static,
{
    let slot: Arc<Mutex<Option<Result<T, DynamoError>>>> = Arc::new(Mutex::new(None));
    let slot_w = slot.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    kv.write(
        Box::new(move |txn| {
            let r = f(txn)?;
            let outcome = if r.is_ok() {
                Outcome::Commit
            } else {
                Outcome::Abort
            };
            *slot_w.lock() = Some(r);
            Ok(outcome)
        }),
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    match rx.await {
        Ok(Ok(())) => slot
            .lock()
            .take()
            .unwrap_or_else(|| Err(DynamoError::internal("Internal server error"))),
        Ok(Err(e)) => Err(storage_error(e)),
        Err(_) => Err(storage_error(KvError::Unavailable("writer stopped".into()))),
    }
}

/// Runs `f` against a read snapshot, on the calling worker when that needs
/// no waiting, on a blocking thread otherwise.
///
/// In place: when the backend's reads are cheap (`Kv::reads_are_cheap`), or
/// when it can start a snapshot at once (`Kv::try_read`: an idle pooled
/// connection). A single-item read is then a few page lookups, and handing
/// it to a blocking thread and back would double its cost (two thread
/// wake-ups; see docs/benchmarks.md). A read that would wait — for a pooled
/// connection, for a file to open — goes to the blocking pool: waiting on a
/// worker would stall every other request that worker serves, including
/// other tenants'.
///
/// Either way the read first takes one of the tenant's read slots
/// (`Tenant::reads`), so one tenant's flood of reads queues behind its own
/// slots, off every thread, while other tenants' reads go on.
pub async fn read<T, F>(tenant: &Tenant, f: F) -> Result<T, DynamoError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ReadTxn) -> Result<T, DynamoError> + Send + 'static,
{
    let _slot = read_slot(tenant).await?;
    let kv = &tenant.kv;
    if kv.reads_are_cheap() {
        let snapshot = kv.read().map_err(storage_error)?;
        return f(&*snapshot);
    }
    if let Some(snapshot) = kv.try_read() {
        let snapshot = snapshot.map_err(storage_error)?;
        return f(&*snapshot);
    }
    let kv = kv.clone();
    blocking(move || {
        let snapshot = kv.read().map_err(storage_error)?;
        f(&*snapshot)
    })
    .await
}

/// One of the tenant's read slots, held for the read.
pub async fn read_slot(tenant: &Tenant) -> Result<tokio::sync::SemaphorePermit<'_>, DynamoError> {
    tenant
        .reads
        .acquire()
        .await
        .map_err(|_| DynamoError::internal("Internal server error"))
}

/// Runs blocking storage work (a read, opening a tenant's files) on the
/// runtime's blocking pool and waits for it without holding a worker. A
/// panic in `f` is an internal error of this request only.
pub async fn blocking<T, F>(f: F) -> Result<T, DynamoError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, DynamoError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) => {
            tracing::error!(error = %err, "blocking storage work failed");
            Err(DynamoError::internal("Internal server error"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{json, Value};

    use crate::{Database, RequestContext, StorageConfig};

    fn ctx(account: &str) -> RequestContext {
        RequestContext {
            account_id: account.into(),
            ..RequestContext::default()
        }
    }

    async fn call(db: &Database, account: &str, operation: &str, body: Value) -> Value {
        let out = db
            .dispatch(&ctx(account), operation, body.to_string().as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{operation} for {account}: {e}"));
        serde_json::from_slice(&out).expect("JSON answer")
    }

    async fn seed(db: &Database, account: &str) {
        call(
            db,
            account,
            "CreateTable",
            json!({
                "TableName": "things",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        )
        .await;
        call(
            db,
            account,
            "PutItem",
            json!({"TableName": "things", "Item": {"pk": {"S": account}}}),
        )
        .await;
    }

    fn get_item(account: &str) -> Value {
        json!({"TableName": "things", "Key": {"pk": {"S": account}}})
    }

    /// One tenant with every read connection taken (as long Scans would
    /// hold them) does not stop another tenant's reads, even with a single
    /// worker thread: the reads that must wait for a connection wait on
    /// blocking threads, not on the worker.
    #[tokio::test(flavor = "current_thread")]
    async fn a_tenant_out_of_read_connections_does_not_stall_another() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(
            Database::open(StorageConfig::Directory(dir.path().to_path_buf())).expect("open"),
        );
        seed(&db, "tenantA").await;
        seed(&db, "tenantB").await;

        // Take all of tenant A's read connections on another thread and
        // keep them until told to (or, so that a regression fails instead
        // of hanging, until a minute has passed).
        let tenant_a = db.tenant("tenantA").expect("tenant A");
        let connections = openddb_kv_sqlite::SqliteOptions::default().read_connections;
        let released = Arc::new(AtomicBool::new(false));
        let (held_tx, held) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let released = released.clone();
            std::thread::spawn(move || {
                let snapshots: Vec<_> = (0..connections)
                    .map(|_| tenant_a.kv.read().expect("snapshot"))
                    .collect();
                held_tx.send(()).unwrap();
                let _ = release_rx.recv_timeout(Duration::from_secs(60));
                released.store(true, Ordering::SeqCst);
                drop(snapshots);
            })
        };
        held.recv().unwrap();

        // Tenant A's reads now have to wait for a connection...
        let waiting: Vec<_> = [
            ("GetItem", get_item("tenantA")),
            ("Scan", json!({"TableName": "things"})),
            ("GetItem", get_item("tenantA")),
        ]
        .into_iter()
        .map(|(operation, body)| {
            let db = db.clone();
            tokio::spawn(async move { call(&db, "tenantA", operation, body).await })
        })
        .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }

        // ...while tenant B's are answered.
        let got = call(&db, "tenantB", "GetItem", get_item("tenantB")).await;
        assert_eq!(got["Item"]["pk"]["S"], "tenantB");
        let scanned = call(&db, "tenantB", "Scan", json!({"TableName": "things"})).await;
        assert_eq!(scanned["Count"], 1);
        assert!(
            !released.load(Ordering::SeqCst),
            "tenant B was answered only after tenant A's connections came back"
        );
        assert!(waiting.iter().all(|task| !task.is_finished()));

        // Once A's connections come back, its reads finish too.
        release.send(()).unwrap();
        holder.join().unwrap();
        for task in waiting {
            let answer = task.await.expect("tenant A's read");
            assert!(
                answer.get("Item").is_some() || answer["Count"] == 1,
                "{answer}"
            );
        }
    }

    /// A tenant file whose writer queue is full refuses the next write at
    /// once with DynamoDB's throttling answer, writes nothing for it, and
    /// takes writes again once the writer catches up.
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_write_queue_is_request_limit_exceeded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(
            Database::open_with_limits(
                StorageConfig::Directory(dir.path().to_path_buf()),
                crate::StorageLimits {
                    write_queue: 2,
                    ..crate::StorageLimits::default()
                },
            )
            .expect("open"),
        );
        seed(&db, "tenantA").await;

        // Hold the writer thread inside a write of its own.
        let kv = db.tenant("tenantA").expect("tenant").kv.clone();
        let (running_tx, running) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        kv.write(
            Box::new(move |_| {
                let _ = running_tx.send(());
                let _ = release_rx.recv_timeout(Duration::from_secs(60));
                Ok(openddb_kv::Outcome::Commit)
            }),
            Box::new(|_| {}),
        );
        running.recv().unwrap();

        let put = |pk: &str| json!({"TableName": "things", "Item": {"pk": {"S": pk}}});
        // Two writes fill the queue and wait there...
        let queued: Vec<_> = ["q1", "q2"]
            .into_iter()
            .map(|pk| {
                let db = db.clone();
                let body = put(pk);
                tokio::spawn(async move { call(&db, "tenantA", "PutItem", body).await })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        // ...and the next is refused without waiting.
        let err = db
            .dispatch(
                &ctx("tenantA"),
                "PutItem",
                put("refused").to_string().as_bytes(),
            )
            .await
            .expect_err("a full queue refuses");
        assert_eq!(err, super::request_limit_exceeded());
        assert_eq!(err.kind.http_status(), 400);

        release.send(()).unwrap();
        for task in queued {
            task.await.expect("queued write");
        }
        call(&db, "tenantA", "PutItem", put("later")).await;
        for (pk, present) in [
            ("q1", true),
            ("q2", true),
            ("later", true),
            ("refused", false),
        ] {
            let got = call(
                &db,
                "tenantA",
                "GetItem",
                json!({"TableName": "things", "Key": {"pk": {"S": pk}}}),
            )
            .await;
            assert_eq!(got.get("Item").is_some(), present, "{pk}: {got}");
        }
    }
}
