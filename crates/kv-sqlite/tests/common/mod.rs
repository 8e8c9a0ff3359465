//! A SQLite store in its own temporary directory, removed when dropped.

use openddb_kv::{DoneFn, Kv, KvError, ReadHandle, WriteFn};
use openddb_kv_sqlite::{SqliteKv, SqliteOptions};

pub struct TempKv {
    // Field order matters: the store closes before its directory goes.
    pub kv: SqliteKv,
    _dir: tempfile::TempDir,
}

impl TempKv {
    pub fn new(options: SqliteOptions) -> TempKv {
        let dir = tempfile::tempdir().expect("temp dir");
        let kv = SqliteKv::open(&dir.path().join("kv.sqlite3"), options).expect("open");
        TempKv { kv, _dir: dir }
    }
}

impl Kv for TempKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        self.kv.read()
    }

    fn write(&self, f: WriteFn, done: DoneFn) {
        self.kv.write(f, done)
    }

    fn reads_are_cheap(&self) -> bool {
        self.kv.reads_are_cheap()
    }

    fn try_read(&self) -> Option<Result<ReadHandle<'_>, KvError>> {
        self.kv.try_read()
    }
}
