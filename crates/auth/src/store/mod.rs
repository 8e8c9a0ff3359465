//! The credential store: accounts, users, access keys, temporary
//! credentials, identity policies and tags, in one SQLite file of the data
//! directory (or in memory), secrets encrypted with AES-256-GCM.
//!
//! ```text
//! <data_dir>/credentials.sqlite3   the store (+ -wal, -shm)
//! <data_dir>/credentials-key       32 random bytes (0600), unless the operator
//!                                  passes --credentials-key-file
//! ```
//!
//! The SigV4 verifier asks [`Store`] through [`KeyLookup`] on every request.
//! It answers from an in-memory map of the active keys. Whether any other
//! connection — the admin CLI in another process included — committed a
//! change since the map was built is asked of SQLite (`PRAGMA
//! data_version`, two `fcntl` calls: measured 2–20 µs on the shared build
//! machine, too much for every request), at most once per
//! [`CHECK_INTERVAL`]; the map is rebuilt when it changed. A write is
//! acknowledged only [`ACK_DELAY`] (more than the interval) after its
//! commit, so every lookup that starts after a write returned — in any
//! process — sees it: a key revoked by any process fails on the very next
//! request.

mod accounts;
pub mod admin;
pub mod admin_token;
mod crypto;
mod error;
mod ids;
mod keys;
mod model;
mod policies;
mod users;
pub mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::credentials::{KeyLookup, KeyRecord, LookupError, Principal};

pub use admin_token::{AdminToken, ADMIN_TOKEN_FILE};
pub use crypto::{StoreKey, KEY_FILE};
pub use error::{ErrorCode, StoreError};
pub use model::{
    policy_arn, user_arn, AccessKey, Account, KeyKind, KeyStatus, NewAccessKey, Policy, Timestamp,
    User,
};

/// The store's file in the data directory.
pub const STORE_FILE: &str = "credentials.sqlite3";

/// How long a lookup may go on using the map without asking SQLite whether
/// another process changed the store.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(1);

/// How long a write to a file store waits after its commit before it
/// returns: longer than [`CHECK_INTERVAL`], so that once it has returned
/// every other process's next lookup checks again and sees it.
pub const ACK_DELAY: Duration = Duration::from_millis(2);

/// The first value of the store's `meta.format` row this build reads.
const FORMAT: &str = "openddb-credentials 1";

/// What the check value seals: opening it proves the key is the store's.
const KEY_CHECK: &[u8] = b"openddb credentials key check";
const KEY_CHECK_CONTEXT: &str = "key-check";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    alias TEXT UNIQUE,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    user_name TEXT NOT NULL COLLATE NOCASE,
    path TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_name)
);
CREATE TABLE IF NOT EXISTS user_tags (
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL COLLATE NOCASE,
    tag_key TEXT NOT NULL COLLATE NOCASE,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, user_name, tag_key),
    FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, user_name)
);
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL COLLATE NOCASE,
    secret BLOB NOT NULL,
    session_token BLOB,
    status TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER,
    last_used INTEGER,
    FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, user_name)
);
CREATE INDEX IF NOT EXISTS access_keys_by_user ON access_keys (account_id, user_name);
CREATE TABLE IF NOT EXISTS policies (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    policy_name TEXT NOT NULL COLLATE NOCASE,
    document TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (account_id, policy_name)
);
CREATE TABLE IF NOT EXISTS attachments (
    account_id TEXT NOT NULL,
    user_name TEXT NOT NULL COLLATE NOCASE,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (account_id, user_name, policy_name),
    FOREIGN KEY (account_id, user_name) REFERENCES users (account_id, user_name),
    FOREIGN KEY (account_id, policy_name) REFERENCES policies (account_id, policy_name)
);
";

/// The credential store. Cheap to share (`Arc<Store>`); every method may be
/// called from any thread. Writes are blocking (an fsync each).
pub struct Store {
    /// Writes and administrative reads.
    conn: Mutex<Connection>,
    /// File stores only: the connection that notices other processes'
    /// commits, with the `data_version` the map was built at.
    watch: Option<Mutex<Watch>>,
    /// When (nanoseconds after `epoch`) the check whose map is published
    /// started; 0 before the first.
    checked_at: AtomicU64,
    epoch: Instant,
    key: StoreKey,
    keys: RwLock<Arc<KeyMap>>,
    path: Option<PathBuf>,
}

struct Watch {
    conn: Connection,
    version: i64,
}

/// The active keys by id, with their principals.
#[derive(Default)]
struct KeyMap {
    keys: HashMap<String, KeyRecord>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store of an openddb data directory —
    /// one that has its `FORMAT` file, as `SqliteTenants::open` makes it —
    /// with the given key. A store sealed under another key is refused.
    pub fn open(data_dir: &Path, key: StoreKey) -> Result<Arc<Store>, StoreError> {
        check_data_dir(data_dir)?;
        let path = data_dir.join(STORE_FILE);
        let existed = path.exists();
        let conn = open_connection(&path)?;
        if !existed {
            // The new file's directory entry is durable only once its
            // directory is synced.
            std::fs::File::open(data_dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| {
                    StoreError::failure(format!("cannot sync {}: {e}", data_dir.display()))
                })?;
        }
        init(&conn, &key, &path)?;
        let watch = open_connection(&path)?;
        let store = Store {
            conn: Mutex::new(conn),
            watch: Some(Mutex::new(Watch {
                conn: watch,
                version: -1,
            })),
            checked_at: AtomicU64::new(0),
            epoch: Instant::now(),
            key,
            keys: RwLock::new(Arc::default()),
            path: Some(path),
        };
        store.reload()?;
        Ok(Arc::new(store))
    }

    /// Opens the store of `data_dir` with the operator's key file, or with
    /// the data directory's own key (`credentials-key`, made on first use).
    pub fn open_with_key_file(
        data_dir: &Path,
        key_file: Option<&Path>,
    ) -> Result<Arc<Store>, StoreError> {
        check_data_dir(data_dir)?;
        let key = match key_file {
            Some(file) => StoreKey::from_file(file)?,
            None => StoreKey::load_or_create(data_dir, data_dir.join(STORE_FILE).exists())?,
        };
        Store::open(data_dir, key)
    }

    /// A store in memory only, under a random key: for `--in-memory`
    /// servers and embedding. It dies with the process.
    pub fn in_memory() -> Result<Arc<Store>, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let key = StoreKey::random()?;
        init(&conn, &key, Path::new(":memory:"))?;
        let store = Store {
            conn: Mutex::new(conn),
            watch: None,
            checked_at: AtomicU64::new(0),
            epoch: Instant::now(),
            key,
            keys: RwLock::new(Arc::default()),
            path: None,
        };
        store.reload()?;
        Ok(Arc::new(store))
    }

    /// The store's file, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` in one write transaction (taken at once, so two processes
    /// writing never deadlock on an upgrade), commits it durably, and
    /// publishes the new set of keys before returning.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock();
        let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&txn)?;
        txn.commit()?;
        // The change is durable; should the map fail to rebuild now, the
        // next lookup tries again (its data_version is still behind).
        let rebuilt = match &self.watch {
            None => load_keys(&conn, &self.key).map(|map| self.publish(map)),
            Some(_) => {
                drop(conn);
                self.reload()
            }
        };
        if let Err(e) = rebuilt {
            tracing::error!("credential store: cannot rebuild the key map: {e}");
        }
        if self.watch.is_some() {
            // Other processes check at least every CHECK_INTERVAL: past
            // ACK_DELAY, any lookup of theirs that starts sees this commit.
            std::thread::sleep(ACK_DELAY);
        }
        Ok(out)
    }

    /// Runs `f` over a consistent snapshot of the store.
    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock();
        let txn = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&txn)
    }

    fn publish(&self, map: KeyMap) {
        *self.keys.write() = Arc::new(map);
    }

    /// Rebuilds the map of keys from what is committed (file stores).
    fn reload(&self) -> Result<(), StoreError> {
        match &self.watch {
            None => {
                let conn = self.conn.lock();
                self.publish(load_keys(&conn, &self.key)?);
            }
            Some(watch) => {
                let mut watch = watch.lock();
                let started = self.now_nanos();
                let version = data_version(&watch.conn)?;
                self.publish(load_keys(&watch.conn, &self.key)?);
                watch.version = version;
                self.checked_at.store(started, Ordering::Release);
            }
        }
        Ok(())
    }

    fn now_nanos(&self) -> u64 {
        // +1: 0 means "never checked".
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// Brings the map up to date if another connection committed since it
    /// was built, asking SQLite at most once per [`CHECK_INTERVAL`].
    fn catch_up(&self) -> Result<(), StoreError> {
        let Some(watch) = &self.watch else {
            return Ok(());
        };
        let interval = CHECK_INTERVAL.as_nanos() as u64;
        let fresh =
            |checked: u64| checked != 0 && self.now_nanos().saturating_sub(checked) < interval;
        if fresh(self.checked_at.load(Ordering::Acquire)) {
            return Ok(());
        }
        let mut watch = watch.lock();
        // Another thread may have checked while this one waited.
        if fresh(self.checked_at.load(Ordering::Acquire)) {
            return Ok(());
        }
        let started = self.now_nanos();
        let version = data_version(&watch.conn)?;
        if version != watch.version {
            // Read the version before the keys: a commit between the two
            // only makes the next check rebuild once more.
            self.publish(load_keys(&watch.conn, &self.key)?);
            watch.version = version;
        }
        // Published after the map, with the time the check started: a
        // lookup that finds it fresh uses a map at least that new.
        self.checked_at.store(started, Ordering::Release);
        Ok(())
    }
}

impl KeyLookup for Store {
    fn lookup(&self, access_key_id: &str) -> Result<Option<KeyRecord>, LookupError> {
        self.catch_up()
            .map_err(|e| LookupError::Unavailable(e.message))?;
        let keys = self.keys.read().clone();
        let Some(record) = keys.keys.get(access_key_id) else {
            return Ok(None);
        };
        if record
            .expires
            .is_some_and(|at| at <= std::time::SystemTime::now())
        {
            return Ok(None);
        }
        Ok(Some(record.clone()))
    }
}

/// Refuses a directory that is not an openddb data directory: the store is
/// created only beside a `FORMAT` file this build reads, so it never turns
/// a foreign directory into a half-made data directory (which
/// `SqliteTenants::open` would then refuse as not empty).
fn check_data_dir(data_dir: &Path) -> Result<(), StoreError> {
    let format = data_dir.join("FORMAT");
    match std::fs::read_to_string(&format) {
        Ok(text) if text.lines().next().unwrap_or("").trim() == openddb_kv_sqlite::FORMAT_LINE => {
            Ok(())
        }
        Ok(_) => Err(StoreError::failure(format!(
            "{} is not a data directory of this openddb (its FORMAT differs)",
            data_dir.display()
        ))),
        Err(e) => Err(StoreError::failure(format!(
            "{} is not an openddb data directory (cannot read {}: {e}); start the server on \
             it once, or run `openddb admin` with --data-dir, to make one",
            data_dir.display(),
            format.display()
        ))),
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::failure(format!("cannot open {}: {e}", path.display())))?;
    // Another process (the admin CLI, the server) may hold the write lock
    // for an fsync or two.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::failure(format!(
            "{} cannot use write-ahead logging (journal mode {mode})",
            path.display()
        )));
    }
    // FULL: in WAL mode NORMAL does not sync the log at each commit, so a
    // power cut could take a key `keys create` had printed; credential
    // writes are rare, the fsync is cheap here.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Creates the schema, or checks the format and the key of an existing
/// store.
fn init(conn: &Connection, key: &StoreKey, path: &Path) -> Result<(), StoreError> {
    // Other processes may be making the same store at this moment: take
    // the write lock first so one of them makes it and the others see it.
    let txn = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    txn.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    )?;
    let format: Option<Vec<u8>> = txn
        .query_row("SELECT value FROM meta WHERE name = 'format'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match format {
        Some(f) if f == FORMAT.as_bytes() => {
            let check: Option<Vec<u8>> = txn
                .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let opens = check
                .and_then(|c| key.open(KEY_CHECK_CONTEXT, &c))
                .is_some_and(|plain| plain == KEY_CHECK);
            if !opens {
                return Err(StoreError::failure(format!(
                    "the credentials key does not open {}: it was made with another key. \
                     Start with the key it was made with (--credentials-key-file, or the \
                     data directory's credentials-key)",
                    path.display()
                )));
            }
            txn.execute_batch(SCHEMA)?;
        }
        Some(f) => {
            return Err(StoreError::failure(format!(
                "{} has format {:?}, but this build reads only {FORMAT:?}",
                path.display(),
                String::from_utf8_lossy(&f)
            )))
        }
        None => {
            txn.execute_batch(SCHEMA)?;
            txn.execute(
                "INSERT INTO meta (name, value) VALUES ('format', ?1)",
                [FORMAT.as_bytes()],
            )?;
            txn.execute(
                "INSERT INTO meta (name, value) VALUES ('key_check', ?1)",
                [key.seal(KEY_CHECK_CONTEXT, KEY_CHECK)?],
            )?;
        }
    }
    txn.commit()?;
    Ok(())
}

fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?)
}

/// What the sealed secret of `access_key_id` is bound to.
fn secret_context(access_key_id: &str) -> String {
    format!("secret:{access_key_id}")
}

fn token_context(access_key_id: &str) -> String {
    format!("session-token:{access_key_id}")
}

/// Every active key with its principal, from one read transaction.
fn load_keys(conn: &Connection, key: &StoreKey) -> Result<KeyMap, StoreError> {
    let txn = conn.unchecked_transaction()?;
    let mut tags: HashMap<(String, String), std::collections::BTreeMap<String, String>> =
        HashMap::new();
    {
        let mut stmt = txn.prepare_cached(
            "SELECT t.account_id, u.user_name, t.tag_key, t.tag_value FROM user_tags t \
             JOIN users u ON u.account_id = t.account_id AND u.user_name = t.user_name",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            tags.entry((r.get(0)?, r.get(1)?))
                .or_default()
                .insert(r.get(2)?, r.get(3)?);
        }
    }
    let mut policies: HashMap<(String, String), Vec<Arc<str>>> = HashMap::new();
    {
        let mut stmt = txn.prepare_cached(
            "SELECT a.account_id, u.user_name, p.document FROM attachments a \
             JOIN users u ON u.account_id = a.account_id AND u.user_name = a.user_name \
             JOIN policies p ON p.account_id = a.account_id AND p.policy_name = a.policy_name \
             ORDER BY a.account_id, u.user_name, p.policy_name",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let document: String = r.get(2)?;
            policies
                .entry((r.get(0)?, r.get(1)?))
                .or_default()
                .push(Arc::from(document));
        }
    }
    let mut principals: HashMap<(String, String), Arc<Principal>> = HashMap::new();
    let mut map = KeyMap::default();
    let mut stmt = txn.prepare_cached(
        "SELECT k.access_key_id, k.secret, k.session_token, k.expires, \
                u.account_id, u.user_name, u.path, u.user_id \
         FROM access_keys k \
         JOIN users u ON u.account_id = k.account_id AND u.user_name = k.user_name \
         WHERE k.status = 'Active'",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let sealed: Vec<u8> = r.get(1)?;
        let sealed_token: Option<Vec<u8>> = r.get(2)?;
        let expires: Option<i64> = r.get(3)?;
        let account_id: String = r.get(4)?;
        let user_name: String = r.get(5)?;
        let path: String = r.get(6)?;
        let user_id: String = r.get(7)?;
        let Some(secret) = key
            .open(&secret_context(&id), &sealed)
            .and_then(|s| String::from_utf8(s).ok())
        else {
            // The key opened the check value, so this row was altered:
            // the key stays unusable rather than usable with garbage.
            tracing::error!(access_key_id = %id, "a stored secret does not decrypt; key ignored");
            continue;
        };
        let session_token = match sealed_token {
            None => None,
            Some(t) => match key
                .open(&token_context(&id), &t)
                .and_then(|s| String::from_utf8(s).ok())
            {
                Some(token) => Some(token),
                None => {
                    tracing::error!(access_key_id = %id, "a stored session token does not decrypt; key ignored");
                    continue;
                }
            },
        };
        let owner = (account_id, user_name);
        let principal = principals
            .entry(owner.clone())
            .or_insert_with(|| {
                Arc::new(Principal {
                    arn: user_arn(&owner.0, &path, &owner.1),
                    account_id: owner.0.clone(),
                    user_name: owner.1.clone(),
                    user_id,
                    tags: tags.remove(&owner).unwrap_or_default(),
                    policies: policies.remove(&owner).unwrap_or_default(),
                })
            })
            .clone();
        map.keys.insert(
            id.clone(),
            KeyRecord {
                access_key_id: id,
                secret,
                session_token,
                expires: expires.map(|e| Timestamp(e).to_system_time()),
                principal,
            },
        );
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
