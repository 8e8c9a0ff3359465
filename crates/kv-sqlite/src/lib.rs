//! SQLite kv backend, the default and durable one.
//!
//! One SQLite file holds one ordered keyspace in a single table,
//! `kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID`; blobs compare
//! with `memcmp`, which is exactly the contract's key order. The file is in
//! WAL mode so that readers run beside the writer:
//!
//! - **Writes** go through a bounded queue to one writer thread per file,
//!   which commits many queued writes in one transaction and one fsync
//!   (group commit, see `writer.rs`). `done` is called only after the commit
//!   is on disk ([`Durability::Full`], the default); a write that finds the
//!   queue full is answered [`KvError::Overloaded`] at once.
//! - **Reads** take a connection from a small pool of read-only connections
//!   and hold a read transaction (the snapshot) until the handle drops; they
//!   never wait for the writer. `try_read` takes only an idle connection, so
//!   async callers can read in place when that needs no waiting.
//!
//! [`SqliteTenants`] lays out one such file per tenant under a data
//! directory and keeps a bounded number of them open.
#![forbid(unsafe_code)]

mod read;
mod sql;
mod tenants;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, TrySendError};
use openddb_kv::{DoneFn, Kv, KvError, ReadHandle, WriteFn};
use rusqlite::{Connection, OpenFlags};

pub use tenants::{
    valid_tenant_id, SqliteTenants, FORMAT_LINE, TOKEN_SECRET_BYTES, TOKEN_SECRET_FILE,
};

use read::ReadPool;
use sql::kv_error;
use writer::{Counters, Job};

/// When a commit counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is fsynced before `done` is called: an acknowledged
    /// write survives a crash or power loss (`synchronous=FULL`).
    #[default]
    Full,
    /// Commits are not fsynced (`synchronous=NORMAL`): an acknowledged
    /// write survives a process crash but may be lost, with the writes after
    /// it, on power loss or OS crash. The file is never corrupted. Only for
    /// users who ask for it by name.
    Relaxed,
}

/// Settings of a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub durability: Durability,
    /// Most read-only connections per file (opened lazily, kept once open).
    /// A `read()` beyond this many live handles waits for one to drop.
    pub read_connections: usize,
    /// Most writes committed in one transaction.
    pub max_batch: usize,
    /// Most writes waiting for the writer thread. A write beyond this is
    /// refused at once with [`KvError::Overloaded`] rather than queued, so a
    /// burst cannot grow the queue (and the memory its closures hold)
    /// without bound.
    pub write_queue: usize,
    /// How long a connection waits on a lock held by another process (or a
    /// second handle on the same file) before answering `Retryable`.
    pub busy_timeout: Duration,
    /// Most tenant files [`SqliteTenants`] keeps open (unused by
    /// [`SqliteKv::open`]). Each open file costs a writer thread and one to
    /// `1 + read_connections` connections of three file descriptors each, so
    /// raise `RLIMIT_NOFILE` to match.
    pub max_open_tenants: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::Full,
            read_connections: 4,
            max_batch: 256,
            // Four full batches: deep enough that group commit always has a
            // next batch waiting, shallow enough to refuse a runaway burst.
            write_queue: 1024,
            busy_timeout: Duration::from_secs(5),
            max_open_tenants: 1024,
        }
    }
}

/// Group-commit counters since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqliteStats {
    /// Physical transactions committed.
    pub commits: u64,
    /// Writes answered (committed, aborted or failed).
    pub jobs: u64,
}

/// One ordered keyspace in one SQLite file.
///
/// Write closures and their `done` callbacks run on the file's writer
/// thread, one after another: keep them short, and never wait from them for
/// another write to the same store (it would wait for itself).
///
/// Dropping it closes the queue and waits for the writer thread to finish:
/// writes queued before the drop are still run, committed and answered.
pub struct SqliteKv {
    path: PathBuf,
    queue: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    reads: ReadPool,
}

impl std::fmt::Debug for SqliteKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKv")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteKv {
    /// Opens (creating if missing) the store in the file at `path`. The
    /// parent directory must exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteKv, KvError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| KvError::Fatal(format!("cannot open {}: {e}", path.display())))?;
        sql::configure_writer(&conn, &options).map_err(kv_error)?;

        let (tx, rx) = crossbeam_channel::bounded(options.write_queue.max(1));
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let max_batch = options.max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("openddb-sqlite-writer".into())
            .spawn(move || writer::run(conn, rx, max_batch, &thread_counters))
            .map_err(|e| KvError::Fatal(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteKv {
            path: path.to_path_buf(),
            queue: Some(tx),
            writer: Some(writer),
            counters,
            reads: ReadPool::new(path.to_path_buf(), options),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Group-commit counters: with many concurrent writers, `jobs` grows
    /// faster than `commits`.
    pub fn stats(&self) -> SqliteStats {
        SqliteStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
        }
    }
}

impl Kv for SqliteKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        Ok(Box::new(self.reads.begin()?))
    }

    fn try_read(&self) -> Option<Result<ReadHandle<'_>, KvError>> {
        Some(
            self.reads
                .try_begin()?
                .map(|read| Box::new(read) as ReadHandle<'_>),
        )
    }

    fn write(&self, f: WriteFn, done: DoneFn) {
        let Some(queue) = &self.queue else {
            done(Err(KvError::Unavailable("store is closing".into())));
            return;
        };
        match queue.try_send(Job { f, done }) {
            Ok(()) => {}
            Err(TrySendError::Full(rejected)) => {
                (rejected.done)(Err(KvError::Overloaded(format!(
                    "{} writes are already waiting",
                    queue.capacity().unwrap_or(0)
                ))))
            }
            Err(TrySendError::Disconnected(rejected)) => (rejected.done)(Err(
                KvError::Unavailable("the writer thread has stopped".into()),
            )),
        }
    }
}

impl Drop for SqliteKv {
    fn drop(&mut self) {
        // Readers close first so that the write connection is the last one
        // on the file: closing it checkpoints the WAL and removes it.
        self.reads.close_idle();
        // Closing the queue lets the writer drain what is left, then stop.
        self.queue = None;
        if let Some(writer) = self.writer.take() {
            // The last handle may be dropped by a `done` callback running on
            // the writer thread itself; it then stops on its own.
            if writer.thread().id() != std::thread::current().id() {
                let _ = writer.join();
            }
        }
    }
}
