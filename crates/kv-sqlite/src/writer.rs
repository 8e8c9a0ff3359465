//! Committing a batch of queued writes on a file's write connection.
//!
//! A pool thread (`pool.rs`) takes up to `max_batch` queued writes of one
//! file and runs them all in one `BEGIN IMMEDIATE … COMMIT`, each inside
//! its own savepoint so that an aborted or failed job is rolled back alone.
//! One commit — one fsync — then answers the whole batch, which is why
//! durable throughput grows with the number of concurrent writers. Jobs run
//! in queue order, so each sees the writes of the jobs before it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use openddb_kv::{KeyRange, KeyValue, KvError, Outcome, ReadTxn, Txn, WriteFn};
use rusqlite::Connection;

use crate::file::Job;
use crate::sql::{self, kv_error};

/// Runs one batch in one transaction: the result for each job, in order,
/// and whether the transaction committed.
pub(crate) fn run_batch(conn: &Connection, batch: &mut [Job]) -> (Vec<Result<(), KvError>>, bool) {
    let failed_all = |e: KvError, n: usize| (vec![Err(e); n], false);
    if let Err(e) = sql::exec(conn, "BEGIN IMMEDIATE") {
        return failed_all(kv_error(e), batch.len());
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        match run_job(conn, &mut job.f) {
            Ok(result) => results.push(result),
            Err(e) => {
                // The transaction itself is lost (SQLite rolls it back on
                // some I/O and disk-full errors) or in an unknown state:
                // nothing of this batch is committed, so every job hears it.
                rollback(conn);
                return failed_all(e, batch.len());
            }
        }
    }
    match sql::exec(conn, "COMMIT") {
        Ok(()) => (results, true),
        Err(e) => {
            rollback(conn);
            failed_all(kv_error(e), batch.len())
        }
    }
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // If even this fails the connection is beyond repair; the next
        // `BEGIN IMMEDIATE` will then fail and report it to every job.
        let _ = sql::exec(conn, "ROLLBACK");
    }
}

/// Runs one job inside a savepoint. The outer error means the batch's
/// transaction is unusable; the inner result is the job's own answer.
fn run_job(conn: &Connection, f: &mut WriteFn) -> Result<Result<(), KvError>, KvError> {
    sql::exec(conn, "SAVEPOINT job").map_err(kv_error)?;
    let mut txn = SqliteTxn { conn };
    let verdict = catch_unwind(AssertUnwindSafe(|| f(&mut txn)))
        .unwrap_or_else(|_| Err(KvError::Fatal("write closure panicked".into())));
    if conn.is_autocommit() {
        // SQLite rolled back the whole transaction under the closure.
        return Err(verdict
            .err()
            .unwrap_or_else(|| KvError::Retryable("transaction rolled back by SQLite".into())));
    }
    let keep = matches!(verdict, Ok(Outcome::Commit));
    if !keep {
        sql::exec(conn, "ROLLBACK TO job").map_err(kv_error)?;
    }
    sql::exec(conn, "RELEASE job").map_err(kv_error)?;
    Ok(verdict.map(|_| ()))
}

/// The transaction a write closure sees: the write connection itself, inside
/// the job's savepoint, so SQLite provides read-your-writes.
struct SqliteTxn<'c> {
    conn: &'c Connection,
}

impl ReadTxn for SqliteTxn<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        sql::get(self.conn, key).map_err(kv_error)
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        sql::get_many(self.conn, keys).map_err(kv_error)
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        sql::scan(self.conn, range, reverse, limit, usize::MAX).map_err(kv_error)
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        sql::scan(self.conn, range, reverse, limit, max_bytes).map_err(kv_error)
    }
}

impl Txn for SqliteTxn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        sql::put(self.conn, key, value).map_err(kv_error)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), KvError> {
        sql::delete(self.conn, key).map_err(kv_error)
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), KvError> {
        sql::delete_range(self.conn, start, end).map_err(kv_error)
    }

    fn lock(&mut self, _key: &[u8]) -> Result<(), KvError> {
        // One writer per file: nothing can write between our read and commit.
        Ok(())
    }
}
