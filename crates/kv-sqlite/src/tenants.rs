//! One SQLite file per tenant under a data directory: the layout, its
//! format file and secret, and the registry handing out one handle per
//! tenant.
//!
//! Layout (format 2):
//!
//! ```text
//! <data_dir>/FORMAT                      "openddb-sqlite-tenants 2": checked on open
//! <data_dir>/token-secret                32 random bytes (mode 0600): the key that
//!                                        authenticates what the server hands to
//!                                        clients to send back (paging tokens,
//!                                        iterators); created once, read on open
//! <data_dir>/tenants/<h0>/<h1>/<account_id>.sqlite3
//!                                        one tenant's keyspace (+ -wal, -shm while
//!                                        open); h0/h1 = the first two bytes of
//!                                        SHA-256(account_id) in hex (`layout.rs`)
//! ```
//!
//! Format 1 kept the files flat in `tenants/`; opening such a directory
//! moves them into the hashed layout and then writes format 2.
//!
//! Asking for a tenant creates nothing: its file appears with its first
//! write. At most `max_open_tenants` files hold connections; opening
//! another closes the least recently used idle one, so a million idle
//! tenants cost disk, not memory or descriptors.
//!
//! The credential store (`openddb-auth`) adds `credentials.sqlite3`,
//! `credentials-key` and `admin-token` beside them, only once `FORMAT`
//! exists (see `docs/architecture.md`, "Data directory").

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openddb_kv::KvError;

use crate::file::{Handles, Shared, TenantFile};
use crate::layout::{self, io_error};
use crate::pool::WriterPool;
use crate::{SqliteKv, SqliteOptions};

/// The first line of `<data_dir>/FORMAT` this build reads and writes.
pub const FORMAT_LINE: &str = "openddb-sqlite-tenants 2";

/// Format 1: the same files, flat in `tenants/`; migrated on open.
const FORMAT_LINE_FLAT: &str = "openddb-sqlite-tenants 1";

/// The name of the secret's file in the data directory.
pub const TOKEN_SECRET_FILE: &str = "token-secret";

/// How long the secret is.
pub const TOKEN_SECRET_BYTES: usize = 32;

/// The longest tenant id: room for DynamoDB Local-style databases named
/// `<access key id>_<region>` (an access key id has at most 128
/// characters), and still a file name every file system takes.
pub const MAX_TENANT_ID: usize = 160;

/// Whether `id` can name a tenant: 1 to [`MAX_TENANT_ID`] characters of
/// `[A-Za-z0-9_-]`, so it is always a plain, portable file name.
pub fn valid_tenant_id(id: &str) -> bool {
    (1..=MAX_TENANT_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The most file descriptors one open tenant file can hold: the write
/// connection's three (file, `-wal`, `-shm`) and two per read connection
/// (the `-shm` mapping is shared inside a process).
pub fn fds_per_open_tenant(read_connections: usize) -> usize {
    3 + 2 * read_connections.max(1)
}

/// The process's soft limit on open files (`RLIMIT_NOFILE`), read from
/// `/proc/self/limits`; `None` where that is not available or unlimited.
pub fn nofile_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many tenant files to keep open by default: the descriptors left by
/// `RLIMIT_NOFILE` once `reserved` are set aside (client sockets, the
/// listener, logs), divided by [`fds_per_open_tenant`], at least 16. With
/// no known limit, 1,024 is assumed (the usual soft limit).
pub fn default_max_open_tenants(reserved: usize, read_connections: usize) -> usize {
    let nofile = usize::try_from(nofile_limit().unwrap_or(1024)).unwrap_or(usize::MAX);
    (nofile.saturating_sub(reserved) / fds_per_open_tenant(read_connections)).max(16)
}

/// Every tenant's keyspace, one SQLite file each.
pub struct SqliteTenants {
    data_dir: PathBuf,
    tenants_dir: PathBuf,
    token_secret: [u8; TOKEN_SECRET_BYTES],
    shared: Arc<Shared>,
    pool: Option<WriterPool>,
}

impl Drop for SqliteTenants {
    fn drop(&mut self) {
        // The threads finish every queued write first; then the files
        // nobody holds any more are closed (checkpointed).
        drop(self.pool.take());
        self.shared.close_all();
    }
}

impl std::fmt::Debug for SqliteTenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTenants")
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

impl SqliteTenants {
    /// Opens the data directory, creating it (with its `FORMAT` file) if it
    /// is missing or empty, and migrating format 1's flat layout. A
    /// directory of another format, or a non-empty one without a `FORMAT`
    /// file, is refused; so is one whose token secret is not 32 bytes (a
    /// secret that changed would quietly refuse every token already handed
    /// out, one that is guessable would accept forged ones).
    pub fn open(data_dir: &Path, options: SqliteOptions) -> Result<SqliteTenants, KvError> {
        fs::create_dir_all(data_dir).map_err(|e| io_error("cannot create", data_dir, e))?;
        let format_path = data_dir.join("FORMAT");
        let tenants_dir = data_dir.join("tenants");
        match fs::read_to_string(&format_path) {
            Ok(text) => {
                let found = text.lines().next().unwrap_or("").trim();
                if found == FORMAT_LINE_FLAT {
                    let moved = layout::migrate_flat(&tenants_dir)?;
                    tracing::info!(
                        "moved {moved} tenant files of {} into hashed directories",
                        data_dir.display()
                    );
                    write_format(data_dir)?;
                } else if found != FORMAT_LINE {
                    return Err(KvError::Fatal(format!(
                        "data directory {} has format {found:?}, but this build of openddb \
                         reads only {FORMAT_LINE:?} (and migrates {FORMAT_LINE_FLAT:?}); \
                         refusing to open it",
                        data_dir.display()
                    )));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut entries =
                    fs::read_dir(data_dir).map_err(|e| io_error("cannot list", data_dir, e))?;
                let foreign = entries.any(|entry| {
                    entry.map_or(true, |entry| {
                        let name = entry.file_name();
                        name != "FORMAT.tmp" && name != SECRET_TMP
                    })
                });
                if foreign {
                    return Err(KvError::Fatal(format!(
                        "{} is not empty and has no FORMAT file, so it is not an openddb \
                         data directory; refusing to write into it",
                        data_dir.display()
                    )));
                }
                write_format(data_dir)?;
                sync_parent(data_dir);
            }
            Err(e) => return Err(io_error("cannot read", &format_path, e)),
        }
        let token_secret = read_or_create_secret(data_dir)?;
        if !tenants_dir.is_dir() {
            fs::create_dir_all(&tenants_dir)
                .map_err(|e| io_error("cannot create", &tenants_dir, e))?;
            // A new directory entry is durable only once its directory is
            // fsynced: without this a power cut can take `tenants/`, and
            // every tenant's file with it, after their writes were
            // acknowledged.
            layout::sync_dir(data_dir)?;
        }
        let pool = WriterPool::start(options.writer_threads, "openddb-sqlite-writer")
            .map_err(|e| KvError::Fatal(format!("cannot start the writer threads: {e}")))?;
        let shared = Arc::new(Shared::new(options, tenants_dir.clone(), pool.queue()));
        Ok(SqliteTenants {
            data_dir: data_dir.to_path_buf(),
            tenants_dir,
            token_secret,
            shared,
            pool: Some(pool),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The data directory's secret: the same on every open of the
    /// directory, unknown to clients.
    pub fn token_secret(&self) -> &[u8; TOKEN_SECRET_BYTES] {
        &self.token_secret
    }

    /// The file that holds (or will hold) `account_id`'s keyspace.
    pub fn tenant_path(&self, account_id: &str) -> PathBuf {
        layout::tenant_file(&self.tenants_dir, account_id)
    }

    /// How many tenant files have connections open.
    pub fn open_tenants(&self) -> usize {
        self.shared.open_files()
    }

    /// How many tenants have a live handle (held by a caller, or with
    /// writes still queued).
    pub fn live_tenants(&self) -> usize {
        self.shared.handles.lock().len()
    }

    /// The keyspace of `account_id`. Nothing is opened or created here:
    /// the file is opened by the first read or write and created by the
    /// first write. While a handle (or a queued write) for the tenant is
    /// alive, asking again returns that same handle's file, so a file never
    /// has two writers.
    pub fn tenant(&self, account_id: &str) -> Result<Arc<SqliteKv>, KvError> {
        if !valid_tenant_id(account_id) {
            return Err(KvError::Fatal(format!(
                "invalid tenant id {account_id:?}: expected 1 to {MAX_TENANT_ID} characters of [A-Za-z0-9_-]"
            )));
        }
        loop {
            let mut handles = self.shared.handles.lock();
            let Some(entry) = handles.get_mut(account_id) else {
                let file = Arc::new(TenantFile::new(
                    account_id.to_string(),
                    self.tenant_path(account_id),
                    self.shared.clone(),
                ));
                let kv = Arc::new(SqliteKv::shared_handle(file.clone()));
                handles.insert(
                    account_id.to_string(),
                    Handles {
                        file: Arc::downgrade(&file),
                        kv: Arc::downgrade(&kv),
                    },
                );
                return Ok(kv);
            };
            if let Some(kv) = entry.kv.upgrade() {
                return Ok(kv);
            }
            if let Some(file) = entry.file.upgrade() {
                let kv = Arc::new(SqliteKv::shared_handle(file));
                entry.kv = Arc::downgrade(&kv);
                return Ok(kv);
            }
            // The last handle is being dropped on another thread, which is
            // closing the file: wait for it rather than open a second
            // writer beside it.
            drop(handles);
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// Makes a new data directory's own entry durable. Best effort: the parent
/// is the operator's, and a parent openddb cannot read should not stop it.
fn sync_parent(data_dir: &Path) {
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Err(e) = fs::File::open(parent).and_then(|dir| dir.sync_all()) {
        tracing::warn!(
            "cannot fsync {}: a power loss soon after may lose the new data directory ({e})",
            parent.display()
        );
    }
}

/// Writes `FORMAT` atomically: a temporary file, fsynced, renamed into place.
fn write_format(data_dir: &Path) -> Result<(), KvError> {
    let tmp = data_dir.join("FORMAT.tmp");
    let path = data_dir.join("FORMAT");
    let mut file = fs::File::create(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
    file.write_all(format!("{FORMAT_LINE}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| io_error("cannot create", &path, e))?;
    layout::sync_dir(data_dir)
}

const SECRET_TMP: &str = "token-secret.tmp";

/// Reads the data directory's secret, creating it on first use: 32 bytes
/// from the operating system's random source, written to a temporary
/// file readable by the owner only, fsynced, renamed into place and the
/// directory fsynced, so a crash leaves either no secret or a whole one.
fn read_or_create_secret(data_dir: &Path) -> Result<[u8; TOKEN_SECRET_BYTES], KvError> {
    let path = data_dir.join(TOKEN_SECRET_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            return <[u8; TOKEN_SECRET_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
                KvError::Fatal(format!(
                    "{} holds {} bytes, not {TOKEN_SECRET_BYTES}: it is corrupt; refusing to \
                     open the data directory (restore the file, or delete it to have a new \
                     secret made, which invalidates every token handed out so far)",
                    path.display(),
                    bytes.len()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("cannot read", &path, e)),
    }
    let mut secret = [0u8; TOKEN_SECRET_BYTES];
    getrandom::fill(&mut secret)
        .map_err(|e| KvError::Fatal(format!("no random bytes for {}: {e}", path.display())))?;
    let tmp = data_dir.join(SECRET_TMP);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .map_err(|e| io_error("cannot create", &tmp, e))?;
    // A temporary file left by a crash keeps the mode it was created
    // with; make sure it is the owner's alone before the secret goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("cannot restrict", &tmp, e))?;
    }
    file.write_all(&secret)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &tmp, e))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| io_error("cannot create", &path, e))?;
    fs::File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error("cannot sync", data_dir, e))?;
    Ok(secret)
}
