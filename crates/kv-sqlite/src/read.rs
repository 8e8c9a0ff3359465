//! Snapshot read handles: a read transaction on one of a file's pooled
//! read-only connections, or an empty keyspace for a file never written.
//!
//! WAL lets readers run beside the writer, so a read never waits for it.
//! The connections themselves are opened, lent and closed by `file.rs`.

use openddb_kv::{KeyRange, KeyValue, KvError, ReadTxn};
use rusqlite::Connection;

use crate::file::TenantFile;
use crate::sql::{self, kv_error};

/// What `read()` hands out.
pub(crate) enum Snapshot<'a> {
    /// The tenant has no file yet: nothing was ever written.
    Empty,
    Conn(SqliteRead<'a>),
}

impl<'a> Snapshot<'a> {
    pub(crate) fn start(file: &'a TenantFile, conn: Connection) -> Result<Snapshot<'a>, KvError> {
        // `BEGIN` alone defers the snapshot to the first read; reading a
        // page now pins it to this moment, as callers of `read()` expect.
        let started = sql::exec(&conn, "BEGIN").and_then(|()| {
            conn.prepare_cached("SELECT 1 FROM kv LIMIT 1")?
                .query([])?
                .next()
                .map(|_| ())
        });
        match started {
            Ok(()) => Ok(Snapshot::Conn(SqliteRead {
                file,
                conn: Some(conn),
            })),
            Err(e) => {
                // The connection may be half inside a transaction: drop it.
                file.discard(conn);
                Err(kv_error(e))
            }
        }
    }
}

impl ReadTxn for Snapshot<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        match self {
            Snapshot::Empty => Ok(None),
            Snapshot::Conn(read) => read.get(key),
        }
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        match self {
            Snapshot::Empty => Ok(vec![None; keys.len()]),
            Snapshot::Conn(read) => read.get_many(keys),
        }
    }

    fn scan(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        match self {
            Snapshot::Empty => Ok(Vec::new()),
            Snapshot::Conn(read) => read.scan(range, reverse, limit),
        }
    }

    fn scan_bounded(
        &self,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<KeyValue>, KvError> {
        match self {
            Snapshot::Empty => Ok(Vec::new()),
            Snapshot::Conn(read) => read.scan_bounded(range, reverse, limit, max_bytes),
        }
    }
}

/// A snapshot read: one read transaction on a pooled connection, ended and
/// the connection returned when the handle drops.
pub(crate) struct SqliteRead<'a> {
    file: &'a TenantFile,
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
                Ok(()) => self.file.give_back(conn),
                Err(_) => self.file.discard(conn),
            }
        }
    }
}
