//! Signing requests, for the clients openddb ships (the bench's load
//! generator): the same canonical request the verifier builds, with the
//! day's signing key derived once. Tested against the AWS SDK's signer.

use std::sync::Mutex;
use std::time::SystemTime;

use hmac::Mac;
use sha2::{Digest, Sha256};

use super::canonical::{self, PathRules, QueryRule, SignedHeaders};
use super::key_cache::{self, HmacSha256};
use super::parse::ALGORITHM;
use super::{timestamp, Request};

/// Signs requests with one access key for one region and service.
pub struct Signer {
    access_key_id: String,
    secret: String,
    region: String,
    service: String,
    /// The signing key of the last day signed for.
    day_key: Mutex<Option<(String, HmacSha256)>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// What a signed request adds to its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The `X-Amz-Date` header (which must be one of the signed headers).
    pub amz_date: String,
    /// The `Authorization` header.
    pub authorization: String,
}

impl Signer {
    pub fn new(access_key_id: &str, secret: &str, region: &str, service: &str) -> Signer {
        Signer {
            access_key_id: access_key_id.to_owned(),
            secret: secret.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            day_key: Mutex::new(None),
        }
    }

    /// The `X-Amz-Date` for `now`.
    pub fn amz_date(now: SystemTime) -> String {
        timestamp::format(timestamp::seconds(now))
    }

    /// Signs `request`, whose headers already hold the `X-Amz-Date`
    /// `amz_date` (from [`Signer::amz_date`]); every header of the request
    /// is signed, `host` among them.
    pub fn sign(&self, request: &Request<'_>, body: &[u8], amz_date: &str) -> Signature {
        let mut names: Vec<String> = request
            .headers
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        names.sort_unstable();
        names.dedup();
        let list = names.join(";");
        let signed = SignedHeaders::new(list.as_str().into());
        let mut hash = Sha256::new();
        canonical::canonical_request(
            &mut hash,
            request,
            QueryRule::All,
            PathRules { normalize: true },
            &signed,
            &canonical::sha256_hex(body),
        );
        let day = &amz_date[..amz_date.len().min(8)];
        let mut mac = self.day_signer(day);
        let scope = format!("{day}/{}/{}/aws4_request", self.region, self.service);
        mac.update(ALGORITHM.as_bytes());
        mac.update(b"\n");
        mac.update(amz_date.as_bytes());
        mac.update(b"\n");
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(&canonical::hex_of(&hash.finalize()));
        let signature = canonical::hex_of(&mac.finalize().into_bytes());
        Signature {
            amz_date: amz_date.to_owned(),
            authorization: format!(
                "{ALGORITHM} Credential={}/{scope}, SignedHeaders={list}, Signature={}",
                self.access_key_id,
                String::from_utf8_lossy(&signature)
            ),
        }
    }

    fn day_signer(&self, day: &str) -> HmacSha256 {
        let mut cached = self.day_key.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((cached_day, signer)) if cached_day == day => signer.clone(),
            _ => {
                let signer = key_cache::derive(&self.secret, day, &self.region, &self.service);
                *cached = Some((day.to_owned(), signer.clone()));
                signer
            }
        }
    }
}
