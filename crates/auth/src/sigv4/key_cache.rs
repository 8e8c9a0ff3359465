//! The derived signing keys of recent requests, so that verifying a request
//! costs one HMAC (over the string to sign) instead of five.
//!
//! A SigV4 signing key is `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date),
//! region), service), "aws4_request")`: the same for every request a key
//! signs on one day for one region. The cache keeps it — as an HMAC whose
//! key pads are already absorbed, which saves two more compressions per
//! request — under `access key id/date/region`, next to a fingerprint of
//! the secret it came from. The credential lookup is still asked on every
//! request: a deleted key finds no record, and a record whose secret
//! changed has another fingerprint, so a cached key never outlives its
//! secret.
//!
//! Only keys that verified a signature are kept, so requests with made-up
//! regions or guessed secrets add nothing; and the cache is bounded
//! ([`KeyCache::new`]): past its size an arbitrary entry makes room.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::parse::TERMINATOR;

pub(crate) type HmacSha256 = Hmac<Sha256>;

struct Entry {
    fingerprint: u64,
    signer: HmacSha256,
}

pub(crate) struct KeyCache {
    entries: Mutex<HashMap<Box<str>, Entry>>,
    capacity: usize,
    /// Keys the fingerprints: SipHash with a per-process random key, so a
    /// fingerprint says nothing about the secret outside this process.
    fingerprints: RandomState,
}

impl KeyCache {
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
            fingerprints: RandomState::new(),
        }
    }

    pub fn fingerprint(&self, secret: &str) -> u64 {
        self.fingerprints.hash_one(secret)
    }

    /// The signer cached under `scope` (`keyid/date/region`) for a secret
    /// with this fingerprint.
    pub fn get(&self, scope: &str, fingerprint: u64) -> Option<HmacSha256> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(scope)
            .filter(|entry| entry.fingerprint == fingerprint)
            .map(|entry| entry.signer.clone())
    }

    /// Keeps `signer` under `scope`, replacing what was there.
    pub fn insert(&self, scope: &str, fingerprint: u64, signer: HmacSha256) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(scope) {
            // The hash map's order is random: this is a random eviction.
            if let Some(victim) = entries.keys().next().cloned() {
                entries.remove(&victim);
            }
        }
        entries.insert(
            scope.into(),
            Entry {
                fingerprint,
                signer,
            },
        );
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

/// The signing key of `secret` for one day, region and service, as an HMAC
/// ready to sign with it.
pub(crate) fn derive(secret: &str, date: &str, region: &str, service: &str) -> HmacSha256 {
    let mut key = Vec::with_capacity(4 + secret.len());
    key.extend_from_slice(b"AWS4");
    key.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&key, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes());
    keyed(&k_signing)
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length; this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_signing_key() {
        // AWS General Reference, "Examples of how to derive a signing key
        // for Signature Version 4": secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
        // 20120215, us-east-1, iam.
        let mut signer = derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        let k_signing = hmac(
            &hmac(
                &hmac(
                    &hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215"),
                    b"us-east-1",
                ),
                b"iam",
            ),
            b"aws4_request",
        );
        assert_eq!(
            super::super::canonical::hex_of(&k_signing),
            *b"f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        signer.update(b"x");
        let mut direct = keyed(&k_signing);
        direct.update(b"x");
        assert_eq!(
            signer.finalize().into_bytes(),
            direct.finalize().into_bytes()
        );
    }

    #[test]
    fn a_changed_secret_misses_and_the_cache_stays_bounded() {
        let cache = KeyCache::new(3);
        let old = cache.fingerprint("old secret");
        let new = cache.fingerprint("new secret");
        assert_ne!(old, new);
        cache.insert(
            "AKID/20240101/us-east-1",
            old,
            derive("old secret", "20240101", "us-east-1", "dynamodb"),
        );
        assert!(cache.get("AKID/20240101/us-east-1", old).is_some());
        assert!(cache.get("AKID/20240101/us-east-1", new).is_none());
        assert!(cache.get("AKID/20240101/eu-west-1", old).is_none());
        for region in ["a", "b", "c", "d", "e"] {
            let scope = format!("AKID/20240101/{region}");
            cache.insert(
                &scope,
                old,
                derive("old secret", "20240101", region, "dynamodb"),
            );
            assert!(cache.len() <= 3);
            assert!(cache.get(&scope, old).is_some());
        }
        let empty = KeyCache::new(0);
        empty.insert(
            "AKID/20240101/a",
            old,
            derive("old secret", "20240101", "a", "dynamodb"),
        );
        assert!(empty.get("AKID/20240101/a", old).is_none());
    }
}
