//! Bridges the synchronous kv contract to async callers: writes are queued
//! to the backend (which may batch them into one commit) and awaited; reads
//! run inline when the backend says they are cheap, on a blocking thread
//! otherwise.

use std::sync::Arc;

use openddb_core::{CancellationReason, DynamoError, ErrorKind};
use openddb_kv::{Kv, KvError, Outcome, ReadTxn, Txn};
use parking_lot::Mutex;

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

pub fn storage_error(e: KvError) -> DynamoError {
    match e {
        KvError::Conflict => transaction_conflict(),
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

/// Runs `f` against a read snapshot, on the calling worker thread: reads
/// never wait for the writer (WAL snapshots, or the memory map's read
/// lock) and a single-item read is a few page lookups, so handing it to a
/// blocking thread would cost more (two thread hops) than it saves.
/// Multi-page reads (Query, Scan) should move to a blocking thread when
/// the backend says its reads are not cheap (`Kv::reads_are_cheap`).
pub async fn read<T, F>(kv: &Arc<dyn Kv>, f: F) -> Result<T, DynamoError>
where
    T: Send + 'static,
    F: FnOnce(&dyn ReadTxn) -> Result<T, DynamoError> + Send + 'static,
{
    let snapshot = kv.read().map_err(storage_error)?;
    f(&*snapshot)
}
