//! SQLite kv backend, the default and durable one.
//!
//! One SQLite file holds one ordered keyspace in a single table,
//! `kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID`; blobs compare
//! with `memcmp`, which is exactly the contract's key order. The file is in
//! WAL mode so that readers run beside the writer:
//!
//! - **Writes** go to the file's bounded queue, served by a shared pool of
//!   writer threads (`pool.rs`) that commits many queued writes of a file
//!   in one transaction and one fsync (group commit, `writer.rs`) and takes
//!   the files with work round-robin. `done` is called only after the
//!   commit is on disk ([`Durability::Full`], the default); a write that
//!   finds the queue full is answered [`KvError::Overloaded`] at once.
//! - **Reads** take a connection from a small per-file pool of read-only
//!   connections and hold a read transaction (the snapshot) until the
//!   handle drops; they never wait for the writer. `try_read` takes only an
//!   idle connection, so async callers can read in place when that needs
//!   no waiting.
//!
//! [`SqliteTenants`] lays out one such file per tenant under a data
//! directory, creates a file only on its tenant's first write, and keeps a
//! bounded number of files open (`file.rs`).
#![forbid(unsafe_code)]

mod file;
mod layout;
mod optimize;
mod pool;
mod read;
mod sql;
mod tenants;
mod writer;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{DoneFn, Kv, KvError, ReadHandle, WriteFn};

pub use file::writer_overlaps;
pub use layout::tenant_file;
pub use optimize::{optimize_files, OptimizeReport};
pub use tenants::{
    default_max_open_tenants, fds_per_open_tenant, nofile_limit, valid_tenant_id, SqliteTenants,
    FORMAT_LINE, MAX_TENANT_ID, TOKEN_SECRET_BYTES, TOKEN_SECRET_FILE,
};

use file::{Shared, TenantFile};
use pool::WriterPool;

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
    /// [`SqliteKv::open`]). An open file holds one write connection (three
    /// file descriptors: the file, `-wal`, `-shm`) and up to
    /// `read_connections` read ones (two each), see
    /// [`fds_per_open_tenant`]; [`default_max_open_tenants`] derives a
    /// value from `RLIMIT_NOFILE`.
    pub max_open_tenants: usize,
    /// Threads in the writer pool shared by every file of a
    /// [`SqliteTenants`] (a standalone [`SqliteKv`] has one of its own).
    pub writer_threads: usize,
    /// Page cache of each connection, in KiB (SQLite's own default is about
    /// 2 MiB). Pages not in it are read from the operating system's cache.
    pub cache_kib: u32,
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
            writer_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cache_kib: 512,
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
/// Write closures and their `done` callbacks run on a writer pool thread,
/// one after another for a given file: keep them short, and never wait from
/// them for another write to the same store (it would wait for itself).
///
/// A store opened with [`SqliteKv::open`] has its own one-thread pool, and
/// dropping it waits for that thread: writes queued before the drop are
/// still run, committed and answered, and the file is closed
/// (checkpointed). A handle from [`SqliteTenants::tenant`] shares its
/// tenants' pool; dropping it only lets the file close once nobody holds
/// it and its queued writes are done.
pub struct SqliteKv {
    file: Arc<TenantFile>,
    own_pool: Option<WriterPool>,
}

impl std::fmt::Debug for SqliteKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKv")
            .field("path", &self.file.path)
            .finish()
    }
}

impl SqliteKv {
    /// Opens (creating if missing) the store in the file at `path`. The
    /// parent directory must exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteKv, KvError> {
        let pool = WriterPool::start(1, "openddb-sqlite-writer")
            .map_err(|e| KvError::Fatal(format!("cannot start the writer thread: {e}")))?;
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let shared = Arc::new(Shared::new(options, root, pool.queue()));
        let file = Arc::new(TenantFile::new(
            path.display().to_string(),
            path.to_path_buf(),
            shared,
        ));
        file.open_now()?;
        Ok(SqliteKv {
            file,
            own_pool: Some(pool),
        })
    }

    pub(crate) fn shared_handle(file: Arc<TenantFile>) -> SqliteKv {
        SqliteKv {
            file,
            own_pool: None,
        }
    }

    /// The database file (which may not exist yet).
    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// Group-commit counters: with many concurrent writers, `jobs` grows
    /// faster than `commits`.
    pub fn stats(&self) -> SqliteStats {
        SqliteStats {
            commits: self.file.counters.commits.load(Ordering::Relaxed),
            jobs: self.file.counters.jobs.load(Ordering::Relaxed),
        }
    }
}

impl Kv for SqliteKv {
    fn read(&self) -> Result<ReadHandle<'_>, KvError> {
        Ok(Box::new(self.file.begin()?))
    }

    fn try_read(&self) -> Option<Result<ReadHandle<'_>, KvError>> {
        Some(
            self.file
                .try_begin()?
                .map(|read| Box::new(read) as ReadHandle<'_>),
        )
    }

    fn write(&self, f: WriteFn, done: DoneFn) {
        self.file.write(f, done)
    }
}

impl Drop for SqliteKv {
    fn drop(&mut self) {
        if let Some(pool) = self.own_pool.take() {
            // Lets the thread drain the queue, then joins it (unless this
            // runs on it, from a `done` callback: it then stops by itself,
            // after the writes still queued, which reopen the file).
            drop(pool);
            self.file.close();
        }
    }
}
