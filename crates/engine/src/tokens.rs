//! ClientRequestToken idempotency for TransactWriteItems.
//!
//! A successful transaction with a token writes the token's record in the
//! same kv transaction as its items, so the record exists exactly when the
//! writes do, and survives a crash with them. For ten minutes after it
//! completed, a request with the same token and the same items is answered
//! from the record without writing again; with different items it is
//! refused. Expired records are swept a few at a time by later token
//! writes, oldest first, through an index ordered by completion time.

use std::time::{SystemTime, UNIX_EPOCH};

use openddb_kv::{KeyRange, KvError, ReadTxn, Txn};
use sha2::{Digest, Sha256};

use crate::keys;

/// How long a token is remembered after its transaction completed.
pub const WINDOW_MS: u64 = 10 * 60 * 1000;

/// Expired records removed by each token write, at most.
const SWEEP: usize = 8;

/// What a completed transaction with a token leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The hash of the request's items (the parameters that must match).
    pub fingerprint: [u8; 32],
    pub completed_ms: u64,
}

impl TokenRecord {
    fn encode(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..32].copy_from_slice(&self.fingerprint);
        out[32..].copy_from_slice(&self.completed_ms.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<TokenRecord> {
        Some(TokenRecord {
            fingerprint: bytes.get(..32)?.try_into().ok()?,
            completed_ms: u64::from_be_bytes(bytes.get(32..40)?.try_into().ok()?),
        })
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The hash of a request's parameters. Maps are hashed in key order (a
/// `serde_json::Value` keeps its objects sorted), so two encodings of the
/// same request agree.
pub fn fingerprint<T: serde::Serialize>(request: &T) -> [u8; 32] {
    let canonical = serde_json::to_value(request)
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_default();
    Sha256::digest(&canonical).into()
}

/// The token's record, unless there is none or it has expired at `now_ms`.
pub fn lookup(txn: &dyn ReadTxn, token: &str, now_ms: u64) -> Result<Option<TokenRecord>, KvError> {
    let Some(bytes) = txn.get(&keys::token_key(token))? else {
        return Ok(None);
    };
    let record = TokenRecord::decode(&bytes)
        .ok_or_else(|| KvError::Fatal("corrupt client request token record".into()))?;
    Ok((now_ms < record.completed_ms.saturating_add(WINDOW_MS)).then_some(record))
}

/// Writes `token`'s record (replacing an expired one) and sweeps a few
/// expired records.
pub fn record(txn: &mut dyn Txn, token: &str, record: &TokenRecord) -> Result<(), KvError> {
    let key = keys::token_key(token);
    if let Some(old) = txn.get(&key)?.and_then(|b| TokenRecord::decode(&b)) {
        txn.delete(&keys::token_expiry_key(old.completed_ms, token))?;
    }
    txn.put(&key, &record.encode())?;
    txn.put(&keys::token_expiry_key(record.completed_ms, token), &[])?;
    sweep(txn, record.completed_ms)
}

/// Removes up to `SWEEP` records that expired before `now_ms`.
fn sweep(txn: &mut dyn Txn, now_ms: u64) -> Result<(), KvError> {
    let prefix = keys::token_expiry_prefix();
    let limit = keys::token_expiry_key(now_ms.saturating_sub(WINDOW_MS), "");
    let expired = txn.scan(&KeyRange::half_open(prefix.clone(), limit), false, SWEEP)?;
    for (k, _) in expired {
        let Some(token) = k
            .get(prefix.len() + 8..)
            .and_then(|t| std::str::from_utf8(t).ok())
        else {
            continue;
        };
        txn.delete(&keys::token_key(token))?;
        txn.delete(&k)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_kv::{write_blocking, Kv, Outcome};
    use openddb_kv_memory::MemoryKv;

    fn rec(completed_ms: u64) -> TokenRecord {
        TokenRecord {
            fingerprint: fingerprint(&"request"),
            completed_ms,
        }
    }

    fn put(kv: &MemoryKv, token: &'static str, r: TokenRecord) {
        write_blocking(kv, move |txn| {
            record(txn, token, &r)?;
            Ok((Outcome::Commit, ()))
        })
        .unwrap();
    }

    #[test]
    fn records_round_trip_and_expire_after_ten_minutes() {
        let kv = MemoryKv::new();
        put(&kv, "t1", rec(1_000));
        let snap = kv.read().unwrap();
        assert_eq!(lookup(&*snap, "t1", 1_000).unwrap(), Some(rec(1_000)));
        assert_eq!(
            lookup(&*snap, "t1", 1_000 + WINDOW_MS - 1).unwrap(),
            Some(rec(1_000))
        );
        assert_eq!(lookup(&*snap, "t1", 1_000 + WINDOW_MS).unwrap(), None);
        assert_eq!(lookup(&*snap, "t2", 1_000).unwrap(), None);
    }

    #[test]
    fn later_tokens_sweep_expired_records() {
        let kv = MemoryKv::new();
        put(&kv, "old", rec(1_000));
        put(&kv, "recent", rec(2_000));
        put(&kv, "new", rec(1_000 + WINDOW_MS + 500));
        let snap = kv.read().unwrap();
        assert!(snap.get(&keys::token_key("old")).unwrap().is_none());
        assert!(snap.get(&keys::token_key("recent")).unwrap().is_some());
        let left = snap
            .scan(&KeyRange::prefix(&keys::token_expiry_prefix()), false, 10)
            .unwrap();
        assert_eq!(left.len(), 2);
    }

    #[test]
    fn fingerprints_ignore_map_order() {
        let mut a = std::collections::HashMap::new();
        let mut b = std::collections::HashMap::new();
        for i in 0..20 {
            a.insert(format!("k{i}"), i);
        }
        for i in (0..20).rev() {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.insert("k0".into(), 99);
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
