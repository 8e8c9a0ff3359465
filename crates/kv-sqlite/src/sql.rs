//! The SQL both the writer and the readers run, connection setup, and the
//! mapping of SQLite errors onto the closed [`KvError`] set.

use std::ops::Bound;
use std::sync::OnceLock;

use openddb_kv::{KeyRange, KeyValue, KvError};
use rusqlite::{Connection, ErrorCode, OptionalExtension};

use crate::{Durability, SqliteOptions};

/// Enough for every scan variant (18), the point statements and the
/// transaction control ones, so no statement is ever re-prepared.
const STATEMENT_CACHE: usize = 48;

pub(crate) const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID";

/// Settings every connection gets.
pub(crate) fn configure(conn: &Connection, options: &SqliteOptions) -> rusqlite::Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Negative: a size in KiB rather than in pages.
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib.max(64)))?;
    Ok(())
}

/// Settings of the one write connection: WAL, the durability level, and the
/// schema.
pub(crate) fn configure_writer(conn: &Connection, options: &SqliteOptions) -> rusqlite::Result<()> {
    configure(conn, options)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!(
                "could not switch to WAL mode (journal_mode is {mode})"
            )),
        ));
    }
    // In WAL mode FULL syncs the log on every commit (what makes `done`
    // mean durable); NORMAL syncs only at checkpoints, so a power loss may
    // lose the last commits, though never corrupt the file.
    let synchronous = match options.durability {
        Durability::Full => "FULL",
        Durability::Relaxed => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // Keep the WAL file from staying huge after a burst of writes.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Maps a SQLite error onto the closed set: busy/locked → `Retryable`, a
/// string or blob over SQLite's length limit → `TooLarge`, anything else
/// `Fatal`.
///
/// A full disk (`SQLITE_FULL`: ENOSPC while writing the WAL, the database
/// file during a checkpoint, or a temporary file) is `Fatal` too, not
/// `TooLarge`: the same write fits once space returns, so it must not read
/// as the request's fault, and the operator needs it in the log. SQLite has
/// by then rolled back the statement or the whole transaction, and the
/// writer rolls back the rest (`writer.rs`), so the connection is usable
/// again as soon as there is room. A file size limit (EFBIG) arrives as an
/// I/O error, which is `Fatal` as well.
pub(crate) fn kv_error(e: rusqlite::Error) -> KvError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            KvError::Retryable(e.to_string())
        }
        Some(ErrorCode::TooBig) => KvError::TooLarge,
        _ => KvError::Fatal(e.to_string()),
    }
}

pub(crate) fn get(conn: &Connection, key: &[u8]) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT v FROM kv WHERE k = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()
}

pub(crate) fn get_many(
    conn: &Connection,
    keys: &[&[u8]],
) -> rusqlite::Result<Vec<Option<Vec<u8>>>> {
    let mut stmt = conn.prepare_cached("SELECT v FROM kv WHERE k = ?1")?;
    keys.iter()
        .map(|k| stmt.query_row([k], |row| row.get(0)).optional())
        .collect()
}

/// Index of a bound kind in the scan statement table.
fn bound_kind(b: &Bound<Vec<u8>>) -> usize {
    match b {
        Bound::Unbounded => 0,
        Bound::Included(_) => 1,
        Bound::Excluded(_) => 2,
    }
}

/// The 18 scan statements: start kind × end kind × direction, built once
/// so that a scan never formats SQL.
fn scan_sql(start: usize, end: usize, reverse: bool) -> &'static str {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut out = Vec::with_capacity(18);
        for s in ["", "k >= ?", "k > ?"] {
            for e in ["", "k <= ?", "k < ?"] {
                for order in ["ASC", "DESC"] {
                    let conds: Vec<&str> = [s, e].into_iter().filter(|c| !c.is_empty()).collect();
                    let filter = if conds.is_empty() {
                        String::new()
                    } else {
                        format!(" WHERE {}", conds.join(" AND "))
                    };
                    out.push(format!(
                        "SELECT k, v FROM kv{filter} ORDER BY k {order} LIMIT ?"
                    ));
                }
            }
        }
        out
    });
    &table[(start * 3 + end) * 2 + usize::from(reverse)]
}

/// Up to `limit` pairs of `range`, stopping right after the pair that
/// takes the bytes read past `max_bytes` (rows are stepped one at a time,
/// so nothing past it is read).
pub(crate) fn scan(
    conn: &Connection,
    range: &KeyRange,
    reverse: bool,
    limit: usize,
    max_bytes: usize,
) -> rusqlite::Result<Vec<KeyValue>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let sql = scan_sql(bound_kind(&range.start), bound_kind(&range.end), reverse);
    let mut stmt = conn.prepare_cached(sql)?;
    let mut index = 1;
    for bound in [&range.start, &range.end] {
        if let Bound::Included(k) | Bound::Excluded(k) = bound {
            stmt.raw_bind_parameter(index, k.as_slice())?;
            index += 1;
        }
    }
    stmt.raw_bind_parameter(index, i64::try_from(limit).unwrap_or(i64::MAX))?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let (k, v): (Vec<u8>, Vec<u8>) = (row.get(0)?, row.get(1)?);
        bytes = bytes.saturating_add(k.len() + v.len());
        out.push((k, v));
        if bytes > max_bytes {
            break;
        }
    }
    Ok(out)
}

pub(crate) fn put(conn: &Connection, key: &[u8], value: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO kv (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    )?
    .execute([key, value])?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, key: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM kv WHERE k = ?1")?
        .execute([key])?;
    Ok(())
}

pub(crate) fn delete_range(conn: &Connection, start: &[u8], end: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM kv WHERE k >= ?1 AND k < ?2")?
        .execute([start, end])?;
    Ok(())
}

/// Runs a parameterless statement through the cache (transaction control).
pub(crate) fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
