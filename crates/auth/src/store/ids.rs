//! Identifiers and secrets in AWS's shapes, from the operating system's
//! random source.

use super::error::StoreError;

/// The characters after an access key id's or unique id's prefix: AWS uses
/// upper-case base32 (A–Z, 2–7).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The characters of a secret access key and a session token.
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Long-term access key ids: `AKIA` + 16 characters.
pub const ACCESS_KEY_PREFIX: &str = "AKIA";
/// Temporary access key ids: `ASIA` + 16 characters.
pub const SESSION_KEY_PREFIX: &str = "ASIA";
/// Access key ids are 20 characters.
pub const ACCESS_KEY_ID_LEN: usize = 20;
/// Secret access keys are 40 characters.
pub const SECRET_LEN: usize = 40;
/// Session tokens: long enough to be unguessable (768 bits).
pub const SESSION_TOKEN_LEN: usize = 128;

fn random_bytes(n: usize) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::failure(format!("no random bytes: {e}")))?;
    Ok(bytes)
}

/// `n` characters of `alphabet`, whose length divides 256 so each is
/// uniform.
fn random_chars(alphabet: &[u8], n: usize) -> Result<String, StoreError> {
    debug_assert!(256 % alphabet.len() == 0);
    Ok(random_bytes(n)?
        .into_iter()
        .map(|b| alphabet[usize::from(b) % alphabet.len()] as char)
        .collect())
}

/// A random 12-digit account id.
pub fn account_id() -> Result<String, StoreError> {
    // Rejection sampling keeps every id equally likely.
    loop {
        let bytes = random_bytes(8)?;
        let n = u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]));
        let limit = u64::MAX - u64::MAX % 1_000_000_000_000;
        if n < limit {
            return Ok(format!("{:012}", n % 1_000_000_000_000));
        }
    }
}

/// `AKIA…` (long-term) or `ASIA…` (temporary), 20 characters.
pub fn access_key_id(prefix: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{prefix}{}",
        random_chars(BASE32, ACCESS_KEY_ID_LEN - prefix.len())?
    ))
}

/// A user's unique id: `AIDA` + 17 characters, as IAM's.
pub fn user_id() -> Result<String, StoreError> {
    Ok(format!("AIDA{}", random_chars(BASE32, 17)?))
}

/// A 40-character secret access key (240 random bits).
pub fn secret_access_key() -> Result<String, StoreError> {
    random_chars(BASE64, SECRET_LEN)
}

/// A session token for temporary credentials.
pub fn session_token() -> Result<String, StoreError> {
    random_chars(BASE64, SESSION_TOKEN_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = access_key_id(ACCESS_KEY_PREFIX).unwrap();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        assert!(id[4..].bytes().all(|b| BASE32.contains(&b)));
        let id = access_key_id(SESSION_KEY_PREFIX).unwrap();
        assert!(id.starts_with("ASIA") && id.len() == 20);
        let secret = secret_access_key().unwrap();
        assert_eq!(secret.len(), 40);
        assert!(secret.bytes().all(|b| BASE64.contains(&b)));
        let account = account_id().unwrap();
        assert!(crate::is_account_id(&account));
        let user = user_id().unwrap();
        assert!(user.starts_with("AIDA") && user.len() == 21);
        assert_ne!(secret_access_key().unwrap(), secret);
        assert_eq!(session_token().unwrap().len(), SESSION_TOKEN_LEN);
    }
}
