//! One tenant's file: its write queue, its connections (opened on demand,
//! closed when the file is evicted or dropped), and the turn a pool thread
//! takes on it.
//!
//! Nothing is opened or created when a `TenantFile` is made. The file is
//! created, durably, by the first write; until then reads see an empty
//! keyspace. Opening an existing file opens the write connection first and
//! read connections after, and closing closes the readers first, so the
//! write connection is the last one on the file: its close checkpoints the
//! WAL into the file and removes `-wal` and `-shm`, leaving an idle tenant
//! as one file.

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use openddb_kv::{DoneFn, KvError, WriteFn};
use parking_lot::{Condvar, Mutex, MutexGuard};
use rusqlite::{Connection, OpenFlags};

use crate::layout;
use crate::pool::RunQueue;
use crate::read::Snapshot;
use crate::sql::{self, kv_error};
use crate::{writer, SqliteKv, SqliteOptions};

pub(crate) struct Job {
    pub(crate) f: WriteFn,
    pub(crate) done: DoneFn,
}

/// Group-commit counters behind [`crate::SqliteStats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) commits: AtomicU64,
    pub(crate) jobs: AtomicU64,
}

/// What the files of one store share: settings, the writer pool's run
/// queue, the set of files holding connections (bounded) and the registry
/// of live handles (one `TenantFile` per file).
pub(crate) struct Shared {
    pub(crate) options: SqliteOptions,
    /// The top of the hashed directories, synced when a file is created.
    pub(crate) root: PathBuf,
    pub(crate) run: Arc<RunQueue>,
    /// Files with at least one connection open, by path. Held strongly:
    /// this is the cache that keeps recently used files open even when no
    /// caller holds them, up to `max_open_tenants`.
    open: Mutex<HashMap<PathBuf, Arc<TenantFile>>>,
    /// Every live file by tenant id, and the handle last given out for it.
    pub(crate) handles: Mutex<HashMap<String, Handles>>,
    clock: AtomicU64,
}

pub(crate) struct Handles {
    pub(crate) file: Weak<TenantFile>,
    pub(crate) kv: Weak<SqliteKv>,
}

impl Shared {
    pub(crate) fn new(options: SqliteOptions, root: PathBuf, run: Arc<RunQueue>) -> Shared {
        Shared {
            options,
            root,
            run,
            open: Mutex::new(HashMap::new()),
            handles: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
        }
    }

    pub(crate) fn open_files(&self) -> usize {
        self.open.lock().len()
    }

    /// Counts `file` as open and closes least recently used idle files past
    /// the cap. A file in use (a read handle lent, its writer in a batch) is
    /// never closed: when every other open file is in use the cap is
    /// exceeded until one is free and another file opens, so the overshoot
    /// is bounded by the work in flight. The connections to close are
    /// returned, to be dropped once the caller holds no lock.
    fn register(&self, file: &Arc<TenantFile>) -> Vec<Closing> {
        let max = self.options.max_open_tenants.max(1);
        let (excess, mut candidates) = {
            let mut open = self.open.lock();
            open.insert(file.path.clone(), file.clone());
            if open.len() <= max {
                return Vec::new();
            }
            // Each file's last use is read once: other threads go on
            // touching files, and a sort whose keys change under it is not
            // a total order (the standard sort may panic on one).
            let candidates: Vec<(u64, Arc<TenantFile>)> = open
                .values()
                .filter(|f| !Arc::ptr_eq(f, file))
                .map(|f| (f.last_used.load(Ordering::Relaxed), f.clone()))
                .collect();
            (open.len() - max, candidates)
        };
        candidates.sort_unstable_by_key(|(used, _)| *used);
        let mut closing = Vec::new();
        for (_, candidate) in &candidates {
            if closing.len() == excess {
                break;
            }
            if let Some(c) = candidate.close_if_idle() {
                closing.push(c);
            }
        }
        closing
    }

    /// Takes `file` out of the open set; the caller drops what is returned
    /// once it holds no lock (it may be the file's last reference).
    fn unregister(&self, file: &TenantFile) -> Option<Arc<TenantFile>> {
        let mut open = self.open.lock();
        if open
            .get(&file.path)
            .is_some_and(|f| std::ptr::eq(Arc::as_ptr(f), file))
        {
            return open.remove(&file.path);
        }
        None
    }

    /// Empties the open set (when the store closes): files nobody else
    /// holds are closed.
    pub(crate) fn close_all(&self) {
        let open = std::mem::take(&mut *self.open.lock());
        drop(open);
    }
}

/// Write connections open in this process, by path: a debug check that no
/// file ever has two writers, whatever the caching above does.
fn open_writers() -> &'static Mutex<HashSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

static WRITER_OVERLAPS: AtomicU64 = AtomicU64::new(0);

/// How many times a write connection was opened on a file that already had
/// one open in this process (should stay 0; tests assert it).
pub fn writer_overlaps() -> u64 {
    WRITER_OVERLAPS.load(Ordering::Relaxed)
}

/// The write connection, registered in [`open_writers`] while it exists.
pub(crate) struct WriterConn {
    conn: Option<Connection>,
    path: PathBuf,
}

impl WriterConn {
    fn new(conn: Connection, path: &Path) -> WriterConn {
        if !open_writers().lock().insert(path.to_path_buf()) {
            WRITER_OVERLAPS.fetch_add(1, Ordering::Relaxed);
            tracing::error!("a second write connection opened on {}", path.display());
        }
        WriterConn {
            conn: Some(conn),
            path: path.to_path_buf(),
        }
    }

    pub(crate) fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a write connection until dropped")
    }
}

impl Drop for WriterConn {
    fn drop(&mut self) {
        // Close first (this checkpoints), then say it is gone.
        drop(self.conn.take());
        open_writers().lock().remove(&self.path);
    }
}

/// Connections taken from a file to be closed: readers first, the writer
/// last (see the module comment); and the open set's reference to the
/// file, released after them.
#[derive(Default)]
pub(crate) struct Closing {
    readers: Vec<Connection>,
    writer: Option<WriterConn>,
    file: Option<Arc<TenantFile>>,
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.readers.clear();
        drop(self.writer.take());
        drop(self.file.take());
    }
}

#[derive(Default)]
struct Conns {
    /// Whether the file exists; `None` until first needed.
    exists: Option<bool>,
    writer: Option<WriterConn>,
    /// The writer is out with a pool thread running a batch.
    writer_out: bool,
    idle: Vec<Connection>,
    /// Read connections open, idle or lent out.
    readers: usize,
    /// Counted in the store's open set.
    registered: bool,
}

impl Conns {
    fn in_use(&self) -> bool {
        self.writer_out || self.idle.len() < self.readers
    }

    fn take_all(&mut self) -> Closing {
        self.readers = 0;
        self.registered = false;
        Closing {
            readers: std::mem::take(&mut self.idle),
            writer: self.writer.take(),
            file: None,
        }
    }
}

#[derive(Default)]
struct WriteQueue {
    jobs: VecDeque<Job>,
    /// In the pool's run queue or being served by a pool thread.
    scheduled: bool,
}

pub(crate) struct TenantFile {
    pub(crate) id: String,
    pub(crate) path: PathBuf,
    pub(crate) shared: Arc<Shared>,
    last_used: AtomicU64,
    queue: Mutex<WriteQueue>,
    conns: Mutex<Conns>,
    returned: Condvar,
    pub(crate) counters: Counters,
}

impl TenantFile {
    pub(crate) fn new(id: String, path: PathBuf, shared: Arc<Shared>) -> TenantFile {
        TenantFile {
            id,
            path,
            shared,
            last_used: AtomicU64::new(0),
            queue: Mutex::default(),
            conns: Mutex::default(),
            returned: Condvar::new(),
            counters: Counters::default(),
        }
    }

    fn touch(&self) {
        let now = self.shared.clock.fetch_add(1, Ordering::Relaxed);
        self.last_used.store(now, Ordering::Relaxed);
    }

    /// Queues a write, or answers at once when the queue is full or the
    /// pool is shutting down.
    pub(crate) fn write(self: &Arc<Self>, f: WriteFn, done: DoneFn) {
        let depth = self.shared.options.write_queue.max(1);
        let mut queue = self.queue.lock();
        if queue.jobs.len() >= depth {
            drop(queue);
            done(Err(KvError::Overloaded(format!(
                "{depth} writes are already waiting"
            ))));
            return;
        }
        if !queue.scheduled {
            if !self.shared.run.schedule(self.clone()) {
                drop(queue);
                done(Err(KvError::Unavailable("store is closing".into())));
                return;
            }
            queue.scheduled = true;
        }
        queue.jobs.push_back(Job { f, done });
    }

    /// One pool turn: commits at most one batch; true if more writes wait.
    pub(crate) fn run_turn(self: &Arc<Self>) -> bool {
        let max_batch = self.shared.options.max_batch.max(1);
        let mut batch: Vec<Job> = {
            let mut queue = self.queue.lock();
            let n = queue.jobs.len().min(max_batch);
            queue.jobs.drain(..n).collect()
        };
        if !batch.is_empty() {
            self.touch();
            let (results, committed) = match self.take_writer() {
                Ok(conn) => {
                    let outcome = writer::run_batch(conn.conn(), &mut batch);
                    self.give_writer(conn);
                    outcome
                }
                Err(e) => (vec![Err(e); batch.len()], false),
            };
            if committed {
                self.counters.commits.fetch_add(1, Ordering::Relaxed);
            }
            self.counters
                .jobs
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            for (job, result) in batch.drain(..).zip(results) {
                // A panicking `done` must not take the pool thread with it.
                let done = job.done;
                let _ = catch_unwind(AssertUnwindSafe(move || done(result)));
            }
        }
        let mut queue = self.queue.lock();
        if queue.jobs.is_empty() {
            queue.scheduled = false;
            false
        } else {
            true
        }
    }

    /// After a turn panicked: the tenant is no longer in a turn; true if
    /// writes still wait (the pool then gives it another).
    pub(crate) fn after_panic(&self) -> bool {
        let mut queue = self.queue.lock();
        queue.scheduled = !queue.jobs.is_empty();
        queue.scheduled
    }

    fn exists(&self, conns: &mut Conns) -> bool {
        *conns.exists.get_or_insert_with(|| self.path.is_file())
    }

    /// Opens the file now (creating it if missing), as a standalone store
    /// does when opened.
    pub(crate) fn open_now(self: &Arc<Self>) -> Result<(), KvError> {
        let conn = self.take_writer()?;
        self.give_writer(conn);
        Ok(())
    }

    /// Lends the write connection to a pool thread, opening the file (and
    /// creating it on the first write) if it is not open.
    fn take_writer(self: &Arc<Self>) -> Result<WriterConn, KvError> {
        let mut conns = self.conns.lock();
        let mut closing = Vec::new();
        if conns.writer.is_none() {
            let create = !self.exists(&mut conns);
            conns.writer = Some(self.open_writer(create)?);
            conns.exists = Some(true);
            closing = self.register_once(&mut conns);
        }
        conns.writer_out = true;
        let writer = conns.writer.take();
        drop(conns);
        drop(closing);
        writer.ok_or_else(|| KvError::Fatal("write connection missing".into()))
    }

    fn give_writer(&self, writer: WriterConn) {
        let mut conns = self.conns.lock();
        conns.writer = Some(writer);
        conns.writer_out = false;
    }

    fn register_once(self: &Arc<Self>, conns: &mut MutexGuard<'_, Conns>) -> Vec<Closing> {
        if conns.registered {
            return Vec::new();
        }
        conns.registered = true;
        self.shared.register(self)
    }

    fn open_writer(&self, create: bool) -> Result<WriterConn, KvError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            layout::create_parents(&self.path)?;
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| KvError::Fatal(format!("cannot open {}: {e}", self.path.display())))?;
        let conn = WriterConn::new(conn, &self.path);
        sql::configure_writer(conn.conn(), &self.shared.options).map_err(kv_error)?;
        if create {
            layout::sync_new_file(&self.path, &self.shared.root)?;
        }
        Ok(conn)
    }

    fn open_reader(&self) -> Result<Connection, KvError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(kv_error)?;
        sql::configure(&conn, &self.shared.options).map_err(kv_error)?;
        Ok(conn)
    }

    /// A snapshot: on an idle read connection, a new one (opening the file
    /// if it is closed) while fewer than the maximum exist, or the next one
    /// handed back. A file never written reads as empty.
    pub(crate) fn begin(self: &Arc<Self>) -> Result<Snapshot<'_>, KvError> {
        self.touch();
        let mut conns = self.conns.lock();
        loop {
            if let Some(conn) = conns.idle.pop() {
                drop(conns);
                return Snapshot::start(self, conn);
            }
            if !self.exists(&mut conns) {
                return Ok(Snapshot::Empty);
            }
            if conns.readers < self.shared.options.read_connections.max(1) {
                let mut closing = Vec::new();
                if conns.writer.is_none() && !conns.writer_out {
                    conns.writer = Some(self.open_writer(false)?);
                }
                closing.extend(self.register_once(&mut conns));
                let conn = self.open_reader()?;
                conns.readers += 1;
                drop(conns);
                drop(closing);
                return Snapshot::start(self, conn);
            }
            self.returned.wait(&mut conns);
        }
    }

    /// A snapshot only if it needs no waiting and no opening.
    pub(crate) fn try_begin(self: &Arc<Self>) -> Option<Result<Snapshot<'_>, KvError>> {
        let mut conns = self.conns.lock();
        if let Some(conn) = conns.idle.pop() {
            drop(conns);
            self.touch();
            return Some(Snapshot::start(self, conn));
        }
        (conns.exists == Some(false)).then_some(Ok(Snapshot::Empty))
    }

    pub(crate) fn give_back(&self, conn: Connection) {
        self.conns.lock().idle.push(conn);
        self.returned.notify_one();
    }

    pub(crate) fn discard(&self, conn: Connection) {
        drop(conn);
        let mut conns = self.conns.lock();
        conns.readers = conns.readers.saturating_sub(1);
        drop(conns);
        self.returned.notify_one();
    }

    /// Closes the file if none of its connections is in use, and takes it
    /// out of the open set; `None` if busy or its lock is held. The
    /// connections are closed before the lock is released, so a reopen
    /// can never overlap the close (two writers on one file); what is
    /// returned holds only the open set's reference to the file, to be
    /// dropped once the caller holds no lock.
    fn close_if_idle(&self) -> Option<Closing> {
        let mut conns = self.conns.try_lock()?;
        if conns.in_use() || !conns.registered {
            return None;
        }
        drop(conns.take_all());
        let mut closing = Closing::default();
        closing.file = self.shared.unregister(self);
        drop(conns);
        Some(closing)
    }

    /// Closes the file now (a standalone store being dropped, with its
    /// pool drained: nothing can be in use).
    pub(crate) fn close(&self) {
        let mut conns = self.conns.lock();
        drop(conns.take_all());
        let file = self.shared.unregister(self);
        drop(conns);
        drop(file);
    }
}

impl Drop for TenantFile {
    fn drop(&mut self) {
        // Not in the open set (it holds a reference), so only the
        // connections and the registry entry are left.
        let closing = self.conns.get_mut().take_all();
        drop(closing);
        let mut handles = self.shared.handles.lock();
        if handles
            .get(&self.id)
            .is_some_and(|h| std::ptr::eq(h.file.as_ptr(), self))
        {
            handles.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::RunQueue;

    /// Past the cap, registering a file picks the least recently used
    /// files to close while other threads keep using files. Regression: the
    /// sort read each file's last use as it compared, so uses during the
    /// sort broke its order and the standard sort panicked ("user-provided
    /// comparison function does not correctly implement a total order"),
    /// killing a writer thread (seen creating 200,000 tenants).
    /// Sets its flag when dropped, on a panic too.
    struct StopOnExit<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for StopOnExit<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    #[test]
    fn choosing_files_to_close_survives_files_used_meanwhile() {
        let options = SqliteOptions {
            max_open_tenants: 8,
            ..SqliteOptions::default()
        };
        let shared = Arc::new(Shared::new(
            options,
            PathBuf::from("/nonexistent"),
            RunQueue::idle(),
        ));
        let files: Vec<Arc<TenantFile>> = (0..2000)
            .map(|i| {
                Arc::new(TenantFile::new(
                    i.to_string(),
                    PathBuf::from(format!("/nonexistent/{i}.sqlite3")),
                    shared.clone(),
                ))
            })
            .collect();
        // Never opened, so none can be closed: every registration past the
        // cap sorts all the others.
        for f in &files[..1000] {
            shared.register(f);
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            // A panic below must still stop the touching threads, or the
            // scope would wait for them forever.
            let _stop_on_exit = StopOnExit(&stop);
            for t in 0..2 {
                let (files, stop) = (&files, &stop);
                s.spawn(move || {
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        files[i % 1000].touch();
                        i = i.wrapping_mul(7919).wrapping_add(13);
                    }
                });
            }
            for f in &files[1000..] {
                assert!(shared.register(f).is_empty());
            }
        });
        assert_eq!(shared.open_files(), 2000);
    }
}
