//! What the server knows about an access key, and how it asks.
//!
//! The SigV4 verifier needs, for the access key id in a request's
//! credential scope, the secret to derive the signing key from, whether a
//! session token must accompany it, and who the key belongs to. The
//! credential store answers; tests may answer from a fixed table.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

/// Who a key belongs to: an IAM-style user of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The 12-digit account: the tenant whose data the key reaches.
    pub account_id: String,
    /// `arn:aws:iam::<account>:user/<path><name>` (or `…:root`).
    pub arn: String,
    /// The user's name (`${aws:username}`).
    pub user_name: String,
    /// The user's unique id (`${aws:userid}`, `AIDA…`).
    pub user_id: String,
    /// The user's tags (`${aws:PrincipalTag/…}`).
    pub tags: BTreeMap<String, String>,
    /// The identity-based policy documents attached to the user (JSON
    /// text, as stored), evaluated in `--auth iam` mode.
    pub policies: Vec<Arc<str>>,
}

/// One access key as the verifier needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub access_key_id: String,
    /// The secret access key (40 characters), in plain text: HMAC needs it.
    pub secret: String,
    /// For temporary credentials: the session token the request must carry
    /// in `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// For temporary credentials: when they stop working.
    pub expires: Option<SystemTime>,
    pub principal: Arc<Principal>,
}

impl std::fmt::Debug for KeyRecord {
    // The secret and token never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.as_ref().map(|_| "…"))
            .field("expires", &self.expires)
            .field("principal", &self.principal)
            .finish()
    }
}

/// Why a key could not be looked up (not: that it does not exist).
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("credential store unavailable: {0}")]
    Unavailable(String),
}

/// Answers "whose key is this?" for the verifier. Called on every verified
/// request, so an implementation answers from memory; a key revoked or
/// deactivated must not be answered on the next request after the change.
pub trait KeyLookup: Send + Sync {
    /// The active key with this id, `None` if there is none (unknown,
    /// deleted or inactive).
    fn lookup(&self, access_key_id: &str) -> Result<Option<KeyRecord>, LookupError>;
}

/// A fixed set of keys: for tests and for embedding.
#[derive(Debug, Default, Clone)]
pub struct StaticKeys(pub Vec<KeyRecord>);

impl KeyLookup for StaticKeys {
    fn lookup(&self, access_key_id: &str) -> Result<Option<KeyRecord>, LookupError> {
        Ok(self
            .0
            .iter()
            .find(|k| k.access_key_id == access_key_id)
            .cloned())
    }
}
