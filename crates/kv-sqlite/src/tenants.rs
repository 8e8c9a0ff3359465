//! One SQLite file per tenant under a data directory, opened on demand
//! through a bounded cache of open handles.
//!
//! Layout:
//!
//! ```text
//! <data_dir>/FORMAT                      "openddb-sqlite-tenants 1": checked on open
//! <data_dir>/token-secret                32 random bytes (mode 0600): the key that
//!                                        authenticates what the server hands to
//!                                        clients to send back (paging tokens,
//!                                        iterators); created once, read on open
//! <data_dir>/tenants/<account_id>.sqlite3   one tenant's keyspace (+ -wal, -shm)
//! ```
//!
//! The credential store (`openddb-auth`) adds `credentials.sqlite3`,
//! `credentials-key` and `admin-token` beside them, only once `FORMAT`
//! exists (see `docs/architecture.md`, "Data directory").
//!
//! A tenant's file is created the first time it is asked for. At most
//! `max_open_tenants` files are held open; asking for another closes the
//! least recently used one once nobody holds it any more, so a million idle
//! tenants cost disk, not memory. Deleting a tenant is deleting its files.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use openddb_kv::KvError;
use parking_lot::Mutex;

use crate::{SqliteKv, SqliteOptions};

/// The first line of `<data_dir>/FORMAT` this build reads and writes.
pub const FORMAT_LINE: &str = "openddb-sqlite-tenants 1";

/// The name of the secret's file in the data directory.
pub const TOKEN_SECRET_FILE: &str = "token-secret";

/// How long the secret is.
pub const TOKEN_SECRET_BYTES: usize = 32;

/// Whether `id` can name a tenant: 1 to 64 characters of `[A-Za-z0-9_-]`,
/// so it is always a plain, portable file name.
pub fn valid_tenant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Every tenant's keyspace, one SQLite file each.
pub struct SqliteTenants {
    data_dir: PathBuf,
    tenants_dir: PathBuf,
    token_secret: [u8; TOKEN_SECRET_BYTES],
    options: SqliteOptions,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    open: HashMap<String, Entry>,
    /// Logical clock for least-recently-used eviction.
    tick: u64,
    /// Handles evicted while still in use. Asking for the tenant again
    /// brings them back rather than opening a second writer on the file.
    evicted: HashMap<String, Weak<SqliteKv>>,
}

struct Entry {
    kv: Arc<SqliteKv>,
    last_used: u64,
}

impl std::fmt::Debug for SqliteTenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTenants")
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> KvError {
    KvError::Fatal(format!("{what} {}: {e}", path.display()))
}

impl SqliteTenants {
    /// Opens the data directory, creating it (with its `FORMAT` file) if it
    /// is missing or empty. A directory of another format, or a non-empty
    /// one without a `FORMAT` file, is refused; so is one whose token
    /// secret is not 32 bytes (a secret that changed would quietly refuse
    /// every token already handed out, one that is guessable would accept
    /// forged ones).
    pub fn open(data_dir: &Path, options: SqliteOptions) -> Result<SqliteTenants, KvError> {
        fs::create_dir_all(data_dir).map_err(|e| io_error("cannot create", data_dir, e))?;
        let format_path = data_dir.join("FORMAT");
        match fs::read_to_string(&format_path) {
            Ok(text) => {
                let found = text.lines().next().unwrap_or("").trim();
                if found != FORMAT_LINE {
                    return Err(KvError::Fatal(format!(
                        "data directory {} has format {found:?}, but this build of openddb \
                         reads only {FORMAT_LINE:?}; refusing to open it",
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
        let tenants_dir = data_dir.join("tenants");
        if !tenants_dir.is_dir() {
            fs::create_dir_all(&tenants_dir)
                .map_err(|e| io_error("cannot create", &tenants_dir, e))?;
            // A new directory entry is durable only once its directory is
            // fsynced: without this a power cut can take `tenants/`, and
            // every tenant's file with it, after their writes were
            // acknowledged (SQLite syncs only the directory of its files).
            fs::File::open(data_dir)
                .and_then(|dir| dir.sync_all())
                .map_err(|e| io_error("cannot sync", data_dir, e))?;
        }
        Ok(SqliteTenants {
            data_dir: data_dir.to_path_buf(),
            tenants_dir,
            token_secret,
            options,
            cache: Mutex::new(Cache::default()),
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

    /// The file that holds `account_id`'s keyspace.
    pub fn tenant_path(&self, account_id: &str) -> PathBuf {
        self.tenants_dir.join(format!("{account_id}.sqlite3"))
    }

    /// How many tenant files the cache holds open.
    pub fn open_tenants(&self) -> usize {
        self.cache.lock().open.len()
    }

    /// The keyspace of `account_id`, opening (and creating) its file if it
    /// is not open yet.
    pub fn tenant(&self, account_id: &str) -> Result<Arc<SqliteKv>, KvError> {
        if !valid_tenant_id(account_id) {
            return Err(KvError::Fatal(format!(
                "invalid tenant id {account_id:?}: expected 1 to 64 characters of [A-Za-z0-9_-]"
            )));
        }
        // Closing a store waits for its writer, so an evicted handle is
        // dropped only after the cache lock is released.
        let mut evicted_handle = None;
        let kv = {
            let mut cache = self.cache.lock();
            cache.tick += 1;
            let tick = cache.tick;
            if let Some(entry) = cache.open.get_mut(account_id) {
                entry.last_used = tick;
                return Ok(entry.kv.clone());
            }
            let kv = match cache.evicted.remove(account_id).and_then(|w| w.upgrade()) {
                Some(kv) => kv,
                // Opening under the lock keeps one handle per file; it makes
                // a cache miss stall other lookups for the open (~1 ms).
                None => Arc::new(SqliteKv::open(
                    &self.tenant_path(account_id),
                    self.options.clone(),
                )?),
            };
            if cache.open.len() >= self.options.max_open_tenants.max(1) {
                let oldest = cache
                    .open
                    .iter()
                    .min_by_key(|(_, e)| e.last_used)
                    .map(|(id, _)| id.clone());
                if let Some(entry) = oldest.and_then(|id| cache.open.remove_entry(&id)) {
                    let (id, Entry { kv: old, .. }) = entry;
                    cache.evicted.retain(|_, w| w.strong_count() > 0);
                    cache.evicted.insert(id, Arc::downgrade(&old));
                    evicted_handle = Some(old);
                }
            }
            cache.open.insert(
                account_id.to_string(),
                Entry {
                    kv: kv.clone(),
                    last_used: tick,
                },
            );
            kv
        };
        drop(evicted_handle);
        Ok(kv)
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
    fs::File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error("cannot sync", data_dir, e))
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
