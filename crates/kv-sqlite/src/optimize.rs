//! Compacting a data directory's tenant files before a server opens them
//! (`--optimize-db-before-startup`, DynamoDB Local's
//! `-optimizeDbBeforeStartup`).

use std::fs;
use std::path::Path;

use openddb_kv::KvError;

use crate::layout::io_error;
use crate::tenants::valid_tenant_id;

/// What [`optimize_files`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptimizeReport {
    /// Tenant files optimized.
    pub files: usize,
    /// Their total size before (with their write-ahead logs) and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Checkpoints, vacuums and runs `PRAGMA optimize` on every tenant file
/// under `data_dir`, one at a time. Run it before the directory is opened:
/// a file another connection is using is reported as busy, not waited for.
/// A directory with no tenant files (or none at all) is nothing to do.
pub fn optimize_files(data_dir: &Path) -> Result<OptimizeReport, KvError> {
    let mut report = OptimizeReport::default();
    let tenants = data_dir.join("tenants");
    for level0 in list(&tenants)? {
        for level1 in list(&level0)? {
            for file in list(&level1)? {
                let is_tenant = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".sqlite3"))
                    .is_some_and(valid_tenant_id);
                if is_tenant && file.is_file() {
                    report.bytes_before += size_with_wal(&file);
                    optimize_one(&file)?;
                    report.bytes_after += size_with_wal(&file);
                    report.files += 1;
                }
            }
        }
    }
    Ok(report)
}

/// The entries of `dir`, sorted; none when it does not exist.
fn list(dir: &Path) -> Result<Vec<std::path::PathBuf>, KvError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot list", dir, e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| io_error("cannot list", dir, e))?.path());
    }
    paths.sort();
    Ok(paths)
}

fn size_with_wal(file: &Path) -> u64 {
    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(file) + size(&crate::layout::with_suffix(file, "-wal"))
}

fn optimize_one(path: &Path) -> Result<(), KvError> {
    let fail = |what: &str, e: rusqlite::Error| {
        KvError::Fatal(format!("cannot {what} {}: {e}", path.display()))
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("open", e))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    })
    .map_err(|e| fail("checkpoint", e))
    .and_then(|busy| {
        if busy == 0 {
            Ok(())
        } else {
            Err(KvError::Fatal(format!(
                "cannot optimize {}: another process is using it",
                path.display()
            )))
        }
    })?;
    conn.execute_batch("VACUUM; PRAGMA optimize;")
        .map_err(|e| fail("vacuum", e))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(|e| fail("checkpoint", e))?;
    conn.close().map_err(|(_, e)| fail("close", e))
}
