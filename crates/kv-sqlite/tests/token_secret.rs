//! The data directory's token secret: made once from the OS's random
//! source, private to its owner, the same on every open, and a corrupt one
//! refuses the directory rather than being replaced.

use openddb_kv::KvError;
use openddb_kv_sqlite::{SqliteOptions, SqliteTenants, TOKEN_SECRET_BYTES, TOKEN_SECRET_FILE};

fn open(dir: &std::path::Path) -> Result<SqliteTenants, KvError> {
    SqliteTenants::open(dir, SqliteOptions::default())
}

#[test]
fn secret_is_made_once_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let first = *open(dir.path()).unwrap().token_secret();
    let path = dir.path().join(TOKEN_SECRET_FILE);
    assert_eq!(std::fs::read(&path).unwrap(), first);
    assert_ne!(first, [0u8; TOKEN_SECRET_BYTES]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    assert!(!dir.path().join("token-secret.tmp").exists());
    assert_eq!(*open(dir.path()).unwrap().token_secret(), first);

    let other = tempfile::tempdir().unwrap();
    assert_ne!(*open(other.path()).unwrap().token_secret(), first);
}

#[test]
fn corrupt_secret_refuses_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).unwrap());
    let path = dir.path().join(TOKEN_SECRET_FILE);
    for bad in [&b""[..], &[7u8; 31][..], &[7u8; 33][..]] {
        std::fs::write(&path, bad).unwrap();
        let err = open(dir.path()).unwrap_err();
        assert!(
            matches!(err, KvError::Fatal(ref m) if m.contains("corrupt") && m.contains(TOKEN_SECRET_FILE)),
            "{err:?}"
        );
        // Refusing leaves the file as it was found.
        assert_eq!(std::fs::read(&path).unwrap(), bad);
    }
}

#[test]
fn secret_is_made_for_a_directory_that_had_none() {
    // A data directory from before secrets existed, or one whose creation
    // stopped between FORMAT and the secret (a leftover temporary file).
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).unwrap());
    std::fs::remove_file(dir.path().join(TOKEN_SECRET_FILE)).unwrap();
    std::fs::write(dir.path().join("token-secret.tmp"), b"partial").unwrap();
    let secret = *open(dir.path()).unwrap().token_secret();
    assert_eq!(
        std::fs::read(dir.path().join(TOKEN_SECRET_FILE)).unwrap(),
        secret
    );
    assert!(!dir.path().join("token-secret.tmp").exists());
}
