//! The admin API's credential: a bearer token from the operator's file or
//! made on first start in the data directory.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::crypto::write_private_file;
use super::error::StoreError;

/// The generated token's file in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Shorter tokens are refused: a guessable admin credential is worse than
/// none.
const MIN_TOKEN_CHARS: usize = 16;
const MAX_TOKEN_CHARS: usize = 4096;

/// The admin token, kept only as its SHA-256 digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl AdminToken {
    /// A token from its text.
    pub fn new(token: &str) -> Result<AdminToken, StoreError> {
        let token = token.trim();
        let n = token.chars().count();
        if !(MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&n)
            || token.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(StoreError::invalid(format!(
                "an admin token must be {MIN_TOKEN_CHARS} to {MAX_TOKEN_CHARS} characters \
                 with no spaces or control characters"
            )));
        }
        Ok(AdminToken {
            digest: digest(token.as_bytes()),
        })
    }

    /// Reads the operator's token file (its text, surrounding white space
    /// ignored).
    pub fn from_file(path: &Path) -> Result<AdminToken, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::failure(format!(
                "cannot read the admin token {}: {e}",
                path.display()
            ))
        })?;
        AdminToken::new(&text)
            .map_err(|e| StoreError::failure(format!("{}: {}", path.display(), e.message)))
    }

    /// The data directory's token (`<data_dir>/admin-token`), made on first
    /// use: 64 hexadecimal digits (256 random bits), owner-only.
    pub fn load_or_create(data_dir: &Path) -> Result<AdminToken, StoreError> {
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        if path.exists() {
            return AdminToken::from_file(&path);
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| StoreError::failure(format!("no random bytes: {e}")))?;
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private_file(data_dir, ADMIN_TOKEN_FILE, format!("{text}\n").as_bytes())?;
        AdminToken::new(&text)
    }

    /// Whether `presented` is the token, in time that depends on neither:
    /// both are hashed, and the digests compared without an early exit.
    pub fn verify(&self, presented: &[u8]) -> bool {
        let theirs = digest(presented);
        let difference = self
            .digest
            .iter()
            .zip(theirs.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_token() {
        let token = AdminToken::new("0123456789abcdef-token").unwrap();
        assert!(token.verify(b"0123456789abcdef-token"));
        assert!(!token.verify(b"0123456789abcdef-tokem"));
        assert!(!token.verify(b""));
        assert!(AdminToken::new("short").is_err());
        assert!(AdminToken::new("has a space in it ok").is_err());
    }

    #[test]
    fn made_once_in_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = AdminToken::load_or_create(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(ADMIN_TOKEN_FILE)).unwrap();
        assert!(first.verify(text.trim().as_bytes()));
        let again = AdminToken::load_or_create(dir.path()).unwrap();
        assert!(again.verify(text.trim().as_bytes()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ADMIN_TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
