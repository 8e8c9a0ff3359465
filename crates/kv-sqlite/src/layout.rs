//! Where a tenant's file lives, how a new one is made durable, and the
//! migration from the flat layout of format 1.
//!
//! A tenant's file is `tenants/<h0>/<h1>/<id>.sqlite3`, where `h0` and `h1`
//! are the first two bytes of SHA-256 of the tenant id's UTF-8 bytes, in
//! lower-case hex. The rule is part of the data directory's format
//! (`FORMAT_LINE`): changing it means a new format and a migration. Two
//! levels of 256 keep a million tenants at about 15 files per directory,
//! so listing, backing up and looking up stay cheap on any file system.

use std::fs;
use std::path::{Path, PathBuf};

use openddb_kv::KvError;
use sha2::{Digest, Sha256};

use crate::tenants::valid_tenant_id;

/// The file of `account_id` under `tenants_dir` (`<data_dir>/tenants`).
pub fn tenant_file(tenants_dir: &Path, account_id: &str) -> PathBuf {
    let hash = Sha256::digest(account_id.as_bytes());
    tenants_dir
        .join(format!("{:02x}", hash[0]))
        .join(format!("{:02x}", hash[1]))
        .join(format!("{account_id}.sqlite3"))
}

pub(crate) fn io_error(what: &str, path: &Path, e: std::io::Error) -> KvError {
    KvError::Fatal(format!("{what} {}: {e}", path.display()))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), KvError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("cannot sync", dir, e))
}

/// Creates the hashed directories of a tenant's file if missing. The
/// directory entries are made durable later by [`sync_new_file`], once the
/// file is in them.
pub(crate) fn create_parents(file: &Path) -> Result<(), KvError> {
    let dir = file
        .parent()
        .ok_or_else(|| KvError::Fatal(format!("{} has no directory", file.display())))?;
    fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))
}

/// Makes a newly created tenant file's name durable: its directory and the
/// two hashed directories above it are fsynced, children first. SQLite
/// syncs the file's contents but not the directory entry of the main
/// database file, so without this a power cut could lose a tenant whose
/// first writes were acknowledged. Every level is synced even if another
/// tenant created it: that tenant may not have synced it yet.
pub(crate) fn sync_new_file(file: &Path, tenants_dir: &Path) -> Result<(), KvError> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        sync_dir(d)?;
        if d == tenants_dir {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Moves format 1's flat `tenants/<id>.sqlite3` files into the hashed
/// layout. Each file is first opened read-write and closed, which
/// checkpoints its WAL into it and removes the WAL (a file is moved only
/// when no `-wal` is left beside it, so a committed write can never be left
/// behind), then renamed (atomic: the file is in one place or the other),
/// and both directories are fsynced. A crash part-way leaves some files
/// moved and `FORMAT` still at 1; the next open moves the rest.
pub(crate) fn migrate_flat(tenants_dir: &Path) -> Result<usize, KvError> {
    let entries = match fs::read_dir(tenants_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error("cannot list", tenants_dir, e)),
    };
    let mut moved = 0;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("cannot list", tenants_dir, e))?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".sqlite3"))
            .filter(|id| valid_tenant_id(id))
        else {
            continue;
        };
        let old = entry.path();
        if !old.is_file() {
            continue;
        }
        checkpoint_and_close(&old)?;
        let wal = with_suffix(&old, "-wal");
        if wal.exists() {
            return Err(KvError::Fatal(format!(
                "cannot migrate {}: its WAL was not checkpointed (is another process using it?)",
                old.display()
            )));
        }
        let _ = fs::remove_file(with_suffix(&old, "-shm"));
        let new = tenant_file(tenants_dir, id);
        create_parents(&new)?;
        fs::rename(&old, &new).map_err(|e| io_error("cannot move", &old, e))?;
        sync_new_file(&new, tenants_dir)?;
        moved += 1;
    }
    if moved > 0 {
        sync_dir(tenants_dir)?;
    }
    Ok(moved)
}

fn checkpoint_and_close(path: &Path) -> Result<(), KvError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| KvError::Fatal(format!("cannot open {}: {e}", path.display())))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(|e| KvError::Fatal(format!("cannot checkpoint {}: {e}", path.display())))?;
    conn.close()
        .map_err(|(_, e)| KvError::Fatal(format!("cannot close {}: {e}", path.display())))
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hashed_path_is_stable() {
        // Part of the on-disk format: these must never change.
        let root = Path::new("t");
        assert_eq!(
            tenant_file(root, "000000000000"),
            Path::new("t/f7/b1/000000000000.sqlite3")
        );
        assert_eq!(
            tenant_file(root, "123456789012"),
            Path::new("t/2a/33/123456789012.sqlite3")
        );
    }
}
