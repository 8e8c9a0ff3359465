//! Read-only connections and the snapshot read handles built on them.
//!
//! WAL lets readers run beside the writer, so `read()` never waits for it:
//! it takes an idle connection from a small pool (opening one lazily while
//! fewer than the maximum exist, otherwise waiting for one to come back)
//! and starts a read transaction on it, which is the snapshot. `try_read()`
//! takes only an idle connection, never opening or waiting.

use std::path::PathBuf;

use openddb_kv::{KeyRange, KeyValue, KvError, ReadTxn};
use parking_lot::{Condvar, Mutex};
use rusqlite::{Connection, OpenFlags};

use crate::sql::{self, kv_error};
use crate::SqliteOptions;

pub(crate) struct ReadPool {
    path: PathBuf,
    options: SqliteOptions,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections in existence, idle or lent out.
    open: usize,
}

impl ReadPool {
    pub(crate) fn new(path: PathBuf, options: SqliteOptions) -> ReadPool {
        ReadPool {
            path,
            options,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Starts a snapshot on a pooled connection.
    pub(crate) fn begin(&self) -> Result<SqliteRead<'_>, KvError> {
        let conn = self.take()?;
        self.start(conn)
    }

    /// Starts a snapshot on an idle connection, if there is one.
    pub(crate) fn try_begin(&self) -> Option<Result<SqliteRead<'_>, KvError>> {
        let conn = self.state.lock().idle.pop()?;
        Some(self.start(conn))
    }

    fn start(&self, conn: Connection) -> Result<SqliteRead<'_>, KvError> {
        // `BEGIN` alone defers the snapshot to the first read; reading a
        // page now pins it to this moment, as callers of `read()` expect.
        let started = sql::exec(&conn, "BEGIN").and_then(|()| {
            conn.prepare_cached("SELECT 1 FROM kv LIMIT 1")?
                .query([])?
                .next()
                .map(|_| ())
        });
        match started {
            Ok(()) => Ok(SqliteRead {
                pool: self,
                conn: Some(conn),
            }),
            Err(e) => {
                // The connection may be half inside a transaction: drop it.
                self.discard(conn);
                Err(kv_error(e))
            }
        }
    }

    fn take(&self) -> Result<Connection, KvError> {
        let mut state = self.state.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(conn);
            }
            if state.open < self.options.read_connections.max(1) {
                state.open += 1;
                drop(state);
                return self.connect().inspect_err(|_| {
                    self.state.lock().open -= 1;
                    self.returned.notify_one();
                });
            }
            self.returned.wait(&mut state);
        }
    }

    fn connect(&self) -> Result<Connection, KvError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(kv_error)?;
        sql::configure(&conn, &self.options).map_err(kv_error)?;
        Ok(conn)
    }

    /// Closes every idle connection (all of them, once no handle is alive).
    pub(crate) fn close_idle(&self) {
        let mut state = self.state.lock();
        state.open -= state.idle.len();
        state.idle.clear();
    }

    fn give_back(&self, conn: Connection) {
        self.state.lock().idle.push(conn);
        self.returned.notify_one();
    }

    fn discard(&self, conn: Connection) {
        drop(conn);
        self.state.lock().open -= 1;
        self.returned.notify_one();
    }
}

/// A snapshot read: one read transaction on a pooled connection, ended and
/// the connection returned when the handle drops.
pub(crate) struct SqliteRead<'a> {
    pool: &'a ReadPool,
    conn: Option<Connection>,
}

impl SqliteRead<'_> {
    fn conn(&self) -> Result<&Connection, KvError> {
        self.conn
            .as_ref()
            .ok_or_else(|| KvError::Fatal("read handle without a connection".into()))
    }
}

impl ReadTxn for SqliteRead<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        sql::get(self.conn()?, key).map_err(kv_error)
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        sql::get_many(self.conn()?, keys).map_err(kv_error)
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        sql::scan(self.conn()?, range, reverse, limit, usize::MAX).map_err(kv_error)
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        sql::scan(self.conn()?, range, reverse, limit, max_bytes).map_err(kv_error)
    }
}

impl Drop for SqliteRead<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Ending the read transaction releases the snapshot, letting
            // checkpoints move past it.
            match sql::exec(&conn, "COMMIT") {
                Ok(()) => self.pool.give_back(conn),
                Err(_) => self.pool.discard(conn),
            }
        }
    }
}
