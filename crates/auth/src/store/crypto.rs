//! Secrets at rest: AES-256-GCM under the store's key, and the key's file.
//!
//! Every secret is sealed with a fresh 96-bit random nonce and, as
//! associated data, what it belongs to (`secret:<key id>`), so a sealed
//! value copied onto another row does not open. A store keeps one sealed
//! check value: opening a store with another key fails on it at once,
//! instead of handing out garbage secrets later.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;

use super::error::StoreError;

/// The name of the generated key's file in the data directory.
pub const KEY_FILE: &str = "credentials-key";

const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 32;

/// The key secrets are encrypted with. Its bytes never reach a log.
#[derive(Clone)]
pub struct StoreKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

impl StoreKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> StoreKey {
        StoreKey {
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    /// A fresh random key (for in-memory stores, whose secrets die with
    /// the process).
    pub fn random() -> Result<StoreKey, StoreError> {
        Ok(StoreKey::from_bytes(&random_key()?))
    }

    /// Reads an operator's key file: exactly 32 bytes, or 64 hexadecimal
    /// digits (surrounding whitespace allowed), so `head -c 32
    /// /dev/urandom` and `openssl rand -hex 32` both make one.
    pub fn from_file(path: &Path) -> Result<StoreKey, StoreError> {
        let bytes = fs::read(path).map_err(|e| {
            StoreError::failure(format!(
                "cannot read the credentials key {}: {e}",
                path.display()
            ))
        })?;
        parse_key(&bytes)
            .map(|k| StoreKey::from_bytes(&k))
            .ok_or_else(|| {
                StoreError::failure(format!(
                    "{} is not a credentials key: expected 32 bytes or 64 hexadecimal digits, \
                 found {} bytes",
                    path.display(),
                    bytes.len()
                ))
            })
    }

    /// The data directory's own key (`<data_dir>/credentials-key`), made on
    /// first use: 32 random bytes, owner-only, written whole or not at all.
    /// `store_exists` says whether the store file is already there: a store
    /// without its key cannot be opened, and a new key would not help.
    pub fn load_or_create(data_dir: &Path, store_exists: bool) -> Result<StoreKey, StoreError> {
        let path = data_dir.join(KEY_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                return parse_key(&bytes)
                    .map(|k| StoreKey::from_bytes(&k))
                    .ok_or_else(|| {
                        StoreError::failure(format!(
                            "{} holds {} bytes, not a 32-byte key: it is corrupt; refusing to \
                             open the credential store",
                            path.display(),
                            bytes.len()
                        ))
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::failure(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        }
        if store_exists {
            return Err(StoreError::failure(format!(
                "the credential store exists but its key {} is missing: restore the key (or \
                 pass --credentials-key-file); a new key could not read the stored secrets",
                path.display()
            )));
        }
        let key = random_key()?;
        write_private_file(data_dir, KEY_FILE, &key)?;
        Ok(StoreKey::from_bytes(&key))
    }

    /// Seals `plain`, bound to `context`: nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::failure(format!("no random bytes: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| StoreError::failure("cannot encrypt a secret"))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`StoreKey::seal`] sealed for the same `context`; `None`
    /// if the key or the context differ or the bytes were altered.
    pub(crate) fn open(&self, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

fn random_key() -> Result<[u8; KEY_BYTES], StoreError> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| StoreError::failure(format!("no random bytes: {e}")))?;
    Ok(key)
}

fn parse_key(bytes: &[u8]) -> Option<[u8; KEY_BYTES]> {
    if let Ok(raw) = <[u8; KEY_BYTES]>::try_from(bytes) {
        // 32 bytes that happen to be whitespace-free hex of 16 bytes are
        // still 32 raw bytes: length decides.
        return Some(raw);
    }
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if text.len() != 2 * KEY_BYTES {
        return None;
    }
    let mut key = [0u8; KEY_BYTES];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).ok()?;
        key[i] = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(key)
}

/// Writes `contents` to `<dir>/<name>` readable by the owner only: a
/// temporary file, fsynced, renamed into place, the directory fsynced, so a
/// crash leaves either no file or the whole one.
pub(crate) fn write_private_file(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<(), StoreError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        StoreError::failure(format!("cannot {what} {}: {e}", p.display()))
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| fail("create", &tmp, e))?;
    // A temporary file left by a crash keeps the mode it was made with.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| fail("restrict", &tmp, e))?;
    }
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| fail("write", &tmp, e))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| fail("create", &path, e))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("sync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = StoreKey::random().unwrap();
        let sealed = key.seal("secret:AKIA1", b"hello").unwrap();
        assert_eq!(key.open("secret:AKIA1", &sealed).unwrap(), b"hello");
        assert!(key.open("secret:AKIA2", &sealed).is_none());
        assert!(StoreKey::random()
            .unwrap()
            .open("secret:AKIA1", &sealed)
            .is_none());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open("secret:AKIA1", &altered).is_none());
        assert!(key.open("secret:AKIA1", &sealed[..5]).is_none());
        // A fresh nonce each time: the same secret never seals the same way.
        assert_ne!(sealed, key.seal("secret:AKIA1", b"hello").unwrap());
    }

    #[test]
    fn key_files_are_raw_or_hex() {
        assert_eq!(parse_key(&[7u8; 32]), Some([7u8; 32]));
        let hex = "ab".repeat(32);
        assert_eq!(parse_key(format!("{hex}\n").as_bytes()), Some([0xab; 32]));
        assert_eq!(parse_key(b"short"), None);
        assert_eq!(parse_key("zz".repeat(32).as_bytes()), None);
        assert_eq!(parse_key(&[1u8; 31]), None);
        // Non-ASCII of the right byte length must not panic on a char
        // boundary.
        assert_eq!(parse_key("é".repeat(32).as_bytes()), None);
    }
}
