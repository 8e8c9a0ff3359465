//! A fixed set of access keys read from a JSON file (`--auth-keys-file`):
//! a way to run with verified signatures without the credential store, for
//! tests, CI and small deployments.
//!
//! ```json
//! [
//!   {"accessKeyId": "AKIAEXAMPLE000000001", "secretAccessKey": "…40 characters…",
//!    "accountId": "111122223333", "userName": "alice"},
//!   {"accessKeyId": "ASIAEXAMPLE000000002", "secretAccessKey": "…",
//!    "accountId": "444455556666", "userName": "ci", "sessionToken": "…",
//!    "tags": {"team": "blue"},
//!    "policies": [{"Version": "2012-10-17", "Statement": […]}]}
//! ]
//! ```
//!
//! `policies` (identity-based policy documents) and `tags` matter with
//! `--auth iam` only.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::credentials::{KeyRecord, Principal, StaticKeys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entry {
    access_key_id: String,
    secret_access_key: String,
    account_id: String,
    user_name: String,
    #[serde(default)]
    session_token: Option<String>,
    /// Identity-based policies (`--auth iam`): policy documents as JSON
    /// objects, evaluated together.
    #[serde(default)]
    policies: Vec<serde_json::Value>,
    /// The user's tags (`${aws:PrincipalTag/…}`).
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Why a keys file was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    #[error("not a JSON list of keys: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key {index}: {problem}")]
    Invalid { index: usize, problem: String },
}

/// Reads a keys file's contents.
pub fn parse(json: &[u8]) -> Result<StaticKeys, KeysFileError> {
    let entries: Vec<Entry> = serde_json::from_slice(json)?;
    let mut seen = HashSet::new();
    let mut keys = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let invalid = |problem: String| KeysFileError::Invalid { index, problem };
        // The access key id is the first element of a credential scope, so
        // it cannot hold a slash; AWS's are 16 to 128 word characters.
        let id = &entry.access_key_id;
        if !(1..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(format!(
                "accessKeyId {id:?} is not 1 to 128 letters and digits"
            )));
        }
        if !seen.insert(id.clone()) {
            return Err(invalid(format!("accessKeyId {id:?} is listed twice")));
        }
        if entry.secret_access_key.is_empty() {
            return Err(invalid("secretAccessKey is empty".into()));
        }
        if !crate::is_account_id(&entry.account_id) {
            return Err(invalid(format!(
                "accountId {:?} is not 12 digits",
                entry.account_id
            )));
        }
        let user = &entry.user_name;
        if user.is_empty()
            || user.len() > 64
            || !user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        {
            return Err(invalid(format!(
                "userName {user:?} is not an IAM user name (1 to 64 of A-Z a-z 0-9 +=,.@_-)"
            )));
        }
        if entry.session_token.as_ref().is_some_and(String::is_empty) {
            return Err(invalid("sessionToken is empty".into()));
        }
        let mut policies = Vec::with_capacity(entry.policies.len());
        for (n, document) in entry.policies.iter().enumerate() {
            let text = document.to_string();
            crate::policy::Policy::parse_kind(&text, crate::policy::PolicyKind::Identity)
                .map_err(|e| invalid(format!("policy {n}: {e}")))?;
            policies.push(Arc::<str>::from(text));
        }
        keys.push(KeyRecord {
            principal: Arc::new(Principal {
                arn: format!("arn:aws:iam::{}:user/{user}", entry.account_id),
                user_id: user_id(&entry.account_id, user),
                user_name: entry.user_name.clone(),
                account_id: entry.account_id,
                tags: entry.tags,
                policies,
            }),
            access_key_id: entry.access_key_id,
            secret: entry.secret_access_key,
            session_token: entry.session_token,
            expires: None,
        });
    }
    Ok(StaticKeys(keys))
}

/// A stable `AIDA…` id for a user named in a keys file (IAM's user ids are
/// `AIDA` and 17 more characters), the same every time the file is read.
fn user_id(account_id: &str, user_name: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(format!("{account_id}:{user_name}").as_bytes());
    let mut id = String::from("AIDA");
    id.extend(
        digest
            .iter()
            .take(17)
            .map(|b| char::from(ALPHABET[usize::from(b % 32)])),
    );
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyLookup;

    #[test]
    fn reads_keys_and_their_principals() {
        let keys = parse(
            br#"[
                {"accessKeyId": "AKIAEXAMPLE000000001", "secretAccessKey": "s1",
                 "accountId": "111122223333", "userName": "alice"},
                {"accessKeyId": "ASIAEXAMPLE000000002", "secretAccessKey": "s2",
                 "accountId": "444455556666", "userName": "ci", "sessionToken": "t"}
            ]"#,
        )
        .unwrap();
        let alice = keys.lookup("AKIAEXAMPLE000000001").unwrap().unwrap();
        assert_eq!(alice.secret, "s1");
        assert_eq!(alice.session_token, None);
        assert_eq!(alice.principal.account_id, "111122223333");
        assert_eq!(alice.principal.arn, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(alice.principal.user_name, "alice");
        assert_eq!(alice.principal.user_id.len(), 21);
        assert!(alice.principal.user_id.starts_with("AIDA"));
        let ci = keys.lookup("ASIAEXAMPLE000000002").unwrap().unwrap();
        assert_eq!(ci.session_token.as_deref(), Some("t"));
        assert_ne!(ci.principal.user_id, alice.principal.user_id);
        assert!(keys.lookup("AKIAUNKNOWN").unwrap().is_none());
        assert_eq!(parse(b"[]").unwrap().0.len(), 0);
    }

    #[test]
    fn refuses_bad_files() {
        let entry = |id: &str, secret: &str, account: &str, user: &str| {
            format!(
                r#"{{"accessKeyId": "{id}", "secretAccessKey": "{secret}", "accountId": "{account}", "userName": "{user}"}}"#
            )
        };
        let good = entry("AKID1", "s", "111122223333", "u");
        for (json, expected) in [
            ("{}".to_owned(), "not a JSON list"),
            (format!("[{good}, {good}]"), "key 1: accessKeyId \"AKID1\" is listed twice"),
            (format!("[{}]", entry("AK/ID", "s", "111122223333", "u")), "key 0: accessKeyId"),
            (format!("[{}]", entry("", "s", "111122223333", "u")), "key 0: accessKeyId"),
            (format!("[{}]", entry("AKID", "", "111122223333", "u")), "secretAccessKey is empty"),
            (format!("[{}]", entry("AKID", "s", "11112222333", "u")), "accountId"),
            (format!("[{}]", entry("AKID", "s", "111122223333", "a:b")), "userName"),
            (
                r#"[{"accessKeyId": "AKID", "secretAccessKey": "s", "accountId": "111122223333", "userName": "u", "role": "x"}]"#.to_owned(),
                "unknown field",
            ),
            (
                r#"[{"accessKeyId": "AKID", "secretAccessKey": "s", "accountId": "111122223333", "userName": "u", "sessionToken": ""}]"#.to_owned(),
                "sessionToken is empty",
            ),
        ] {
            let err = parse(json.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
