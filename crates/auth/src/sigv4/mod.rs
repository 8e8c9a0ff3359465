//! AWS Signature Version 4 verification, with DynamoDB's answers and order.
//!
//! A request is seen as its method, raw path, raw query, headers in arrival
//! order and body bytes ([`Request`]); no HTTP library's types are needed.
//! Verification runs in two steps so that the server can refuse a request
//! before its body arrives: [`Verifier::begin`] reads and checks the
//! signature's parameters, the clock and the credential scope and looks the
//! key up; [`Pending::finish`] computes the canonical request over the body
//! that arrived and compares signatures.
//!
//! Sources for the checks, their order and wording: dynalite's notes from
//! DynamoDB (`architect/dynalite` `index.js`), Alternator's tests against
//! DynamoDB (`scylladb/scylladb` `test/alternator/test_authorization.py`),
//! scratchstack-aws-signature's error ordering (`src/auth.rs`), DynamoDB
//! answers quoted in SDK issues (aws/aws-sdk-js#254, sebdah/dynamic-dynamodb#118,
//! guregu/dynamo#68, pynamodb/PynamoDB#603); see ADR 0010 in `docs/adr`.

mod canonical;
mod key_cache;
mod parse;
mod signer;
mod timestamp;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::credentials::{KeyLookup, KeyRecord, LookupError, Principal};
use canonical::{PathRules, QueryRule, SignedHeaders};
use key_cache::KeyCache;
use parse::{Authorization, Credential, Form};
use timestamp::Seconds;

pub use signer::{Signature, Signer};

/// How far a request's `X-Amz-Date` may be from the server's clock.
const MAX_SKEW_SECONDS: Seconds = 15 * 60;

/// Derived signing keys kept by a [`Verifier`] (about 400 bytes each).
pub const DEFAULT_KEY_CACHE_ENTRIES: usize = 10_000;

/// A request as SigV4 sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `POST`, `GET`, …
    pub method: &'a str,
    /// The path as it arrived (percent-encoded as the client sent it).
    pub path: &'a str,
    /// The query string as it arrived, without the `?`.
    pub query: Option<&'a str>,
    /// Every header, names in any case, values as bytes, in arrival order
    /// (the order of a repeated header's values is signed).
    pub headers: &'a [(&'a str, &'a [u8])],
}

impl<'a> Request<'a> {
    fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    fn first_header(&self, name: &str) -> Option<&'a [u8]> {
        self.header_values(name).next()
    }
}

/// Why a request is refused, as DynamoDB names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorKind {
    MissingAuthenticationToken,
    IncompleteSignature,
    InvalidSignature,
    UnrecognizedClient,
    /// Temporary credentials past their expiry.
    ExpiredToken,
    /// The credential lookup failed (not: found nothing).
    Unavailable,
}

/// A refusal with DynamoDB's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct AuthError {
    pub kind: AuthErrorKind,
    pub message: String,
}

impl AuthError {
    fn new(kind: AuthErrorKind, message: impl Into<String>) -> AuthError {
        AuthError {
            kind,
            message: message.into(),
        }
    }
}

/// Who signed a request, read from its credential scope and not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope<'a> {
    pub access_key_id: Cow<'a, str>,
    pub region: Cow<'a, str>,
}

/// The checks made when signatures are not verified (`--auth off`): the
/// signature's parameters are present, the algorithm is SigV4 and the
/// credential is scoped to `service`; nothing about the key, the clock or
/// the signature itself.
pub fn check_shape<'a>(request: &Request<'a>, service: &str) -> Result<Scope<'a>, AuthError> {
    let auth = parse::authorization(request)?;
    parse::check_algorithm(&auth.algorithm)?;
    let credential = Credential::split(&auth.credential)?;
    let mut message = String::new();
    scope_service_and_terminator(&mut message, &credential, service);
    if !message.is_empty() {
        return Err(scope_error(message));
    }
    let key_len = credential.access_key_id.len();
    let region_start = key_len + 1 + credential.date.len() + 1;
    let region_range = region_start..region_start + credential.region.len();
    Ok(match auth.credential {
        Cow::Borrowed(c) => Scope {
            access_key_id: Cow::Borrowed(&c[..key_len]),
            region: Cow::Borrowed(&c[region_range]),
        },
        Cow::Owned(c) => Scope {
            access_key_id: Cow::Owned(c[..key_len].to_owned()),
            region: Cow::Owned(c[region_range].to_owned()),
        },
    })
}

fn scope_service_and_terminator(message: &mut String, credential: &Credential<'_>, service: &str) {
    if credential.service != service {
        message.push_str("Credential should be scoped to correct service: '");
        message.push_str(service);
        message.push_str("'. ");
    }
    if credential.terminator != parse::TERMINATOR {
        message
            .push_str("Credential should be scoped with a valid terminator: 'aws4_request', not '");
        message.push_str(credential.terminator);
        message.push_str("'. ");
    }
}

fn scope_error(mut message: String) -> AuthError {
    message.truncate(message.trim_end().len());
    AuthError::new(AuthErrorKind::InvalidSignature, message)
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
    pub principal: Arc<Principal>,
}

/// Verifies SigV4 signatures for one service, caching derived keys.
pub struct Verifier {
    service: Cow<'static, str>,
    path_rules: PathRules,
    keys: KeyCache,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// DynamoDB's verifier. DynamoDB Streams requests are signed for
    /// `dynamodb` too (`aws-sdk-dynamodbstreams`' signing name).
    pub fn dynamodb() -> Verifier {
        Verifier::new("dynamodb", DEFAULT_KEY_CACHE_ENTRIES)
    }

    /// A verifier for requests signed for `service`, keeping at most
    /// `cached_keys` derived signing keys.
    pub fn new(service: impl Into<Cow<'static, str>>, cached_keys: usize) -> Verifier {
        Verifier {
            service: service.into(),
            path_rules: PathRules { normalize: true },
            keys: KeyCache::new(cached_keys),
        }
    }

    /// Leaves paths as they are (S3's rule); only for the AWS test vectors
    /// that exercise it.
    #[doc(hidden)]
    pub fn without_path_normalization(mut self) -> Verifier {
        self.path_rules.normalize = false;
        self
    }

    /// Everything that can be checked before the body arrives, in
    /// DynamoDB's order: the parameters are present; the date is ISO 8601
    /// and within 15 minutes of `now` (for a presigned request, also within
    /// its `X-Amz-Expires`); `host` is signed; the algorithm, the credential
    /// and its scope are right; and `keys` knows the access key.
    pub fn begin<'a>(
        &self,
        request: &Request<'a>,
        now: SystemTime,
        keys: &dyn KeyLookup,
    ) -> Result<Pending<'a>, AuthError> {
        let mut auth = parse::authorization(request)?;
        let now = timestamp::seconds(now);
        let Some(signed_at) = timestamp::parse(&auth.date) else {
            return Err(AuthError::new(
                AuthErrorKind::IncompleteSignature,
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                    String::from_utf8_lossy(&auth.date)
                ),
            ));
        };
        check_clock(signed_at, now, auth.expires.as_deref())?;
        let signed_headers = SignedHeaders::new(std::mem::take(&mut auth.signed_headers));
        if !signed_headers.contains("host") {
            return Err(AuthError::new(
                AuthErrorKind::InvalidSignature,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        parse::check_algorithm(&auth.algorithm)?;
        let credential = Credential::split(&auth.credential)?;
        self.check_scope(&credential, &auth.date)?;
        let key = match keys.lookup(credential.access_key_id) {
            Ok(Some(key)) => key,
            Ok(None) => {
                return Err(AuthError::new(
                    AuthErrorKind::UnrecognizedClient,
                    "The security token included in the request is invalid.",
                ))
            }
            Err(LookupError::Unavailable(why)) => {
                return Err(AuthError::new(
                    AuthErrorKind::Unavailable,
                    format!("The credential store is unavailable: {why}"),
                ))
            }
        };
        Ok(Pending {
            request: *request,
            auth,
            signed_headers,
            key,
            now,
        })
    }

    /// Region (in shape: any region is served, but it names ARNs), service,
    /// terminator and date, each problem in one message.
    fn check_scope(&self, credential: &Credential<'_>, date: &[u8]) -> Result<(), AuthError> {
        let mut message = String::new();
        if !is_region(credential.region) {
            message.push_str("Credential should be scoped to a valid region, not '");
            message.push_str(credential.region);
            message.push_str("'. ");
        }
        scope_service_and_terminator(&mut message, credential, &self.service);
        let day = &date[..8];
        if credential.date.as_bytes() != day {
            let date = String::from_utf8_lossy(date);
            message.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{date}'. ",
                credential.date,
                &date[..8],
            ));
        }
        if message.is_empty() {
            Ok(())
        } else {
            Err(scope_error(message))
        }
    }

    /// The canonical request the signature of `request` is checked
    /// against, as text; for tests that compare it with AWS's vectors.
    /// `token_signed`: whether a presigned request signed its session token.
    #[doc(hidden)]
    pub fn canonical_request(
        &self,
        request: &Request<'_>,
        body: &[u8],
        token_signed: bool,
    ) -> Result<String, AuthError> {
        let auth = parse::authorization(request)?;
        let rule = match auth.form {
            Form::Header => QueryRule::All,
            Form::Query => QueryRule::Presigned { token_signed },
        };
        let signed = SignedHeaders::new(auth.signed_headers);
        let mut out = Vec::new();
        canonical::canonical_request(
            &mut out,
            request,
            rule,
            self.path_rules,
            &signed,
            &canonical::sha256_hex(body),
        );
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Verifies a whole request at once (for tests and the bench).
    pub fn verify(
        &self,
        request: &Request<'_>,
        body: &[u8],
        now: SystemTime,
        keys: &dyn KeyLookup,
    ) -> Result<Verified, AuthError> {
        self.begin(request, now, keys)?.finish(self, body)
    }
}

/// `X-Amz-Date` within 15 minutes of the server's clock, both ways; and a
/// presigned request not past its own `X-Amz-Expires` (DynamoDB does not
/// look at it, so its 15 minutes bound a presigned request too: an
/// `X-Amz-Expires` shorter than that is honoured here, see
/// docs/differences.md).
fn check_clock(signed_at: Seconds, now: Seconds, expires: Option<&str>) -> Result<(), AuthError> {
    // Formatted for the refusals only: a request in time costs no string.
    let at = || timestamp::format(signed_at);
    if signed_at < now - MAX_SKEW_SECONDS {
        return Err(AuthError::new(
            AuthErrorKind::InvalidSignature,
            format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                at(),
                timestamp::format(now - MAX_SKEW_SECONDS),
                timestamp::format(now)
            ),
        ));
    }
    if signed_at > now + MAX_SKEW_SECONDS {
        return Err(AuthError::new(
            AuthErrorKind::InvalidSignature,
            format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                at(),
                timestamp::format(now + MAX_SKEW_SECONDS),
                timestamp::format(now)
            ),
        ));
    }
    let expires = expires.and_then(|e| e.parse::<u32>().ok());
    if let Some(expires) = expires.filter(|&e| Seconds::from(e) < MAX_SKEW_SECONDS) {
        if signed_at < now - Seconds::from(expires) {
            return Err(AuthError::new(
                AuthErrorKind::InvalidSignature,
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                    at(),
                    timestamp::format(now - Seconds::from(expires)),
                    timestamp::format(now)
                ),
            ));
        }
    }
    Ok(())
}

/// A region name in AWS's shape (`us-east-1`, `us-gov-west-1`, and the
/// `localhost` or `local` many local setups use): lowercase letters, digits
/// and single hyphens, starting with a letter, at most 32 characters. The
/// region goes into ARNs, so nothing else (no `:` or `/`) is allowed.
fn is_region(region: &str) -> bool {
    let bytes = region.as_bytes();
    (1..=32).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && !region.contains("--")
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A request whose key is known, waiting for its body.
#[derive(Debug)]
pub struct Pending<'a> {
    request: Request<'a>,
    auth: Authorization<'a>,
    signed_headers: SignedHeaders<'a>,
    key: KeyRecord,
    now: Seconds,
}

impl Pending<'_> {
    /// The account of the key that signed the request: who the request
    /// claims to be, not yet proven.
    pub fn account_id(&self) -> &str {
        &self.key.principal.account_id
    }

    /// Computes the signature of the request with `body` (the bytes as they
    /// arrived, before any decompression) and compares it with the one
    /// sent; then checks the session token and its expiry.
    pub fn finish(self, verifier: &Verifier, body: &[u8]) -> Result<Verified, AuthError> {
        let credential = Credential::split(&self.auth.credential)?;
        let payload_hash = canonical::sha256_hex(body);

        // Cached under `keyid/date/region`, a prefix of the credential.
        let scope_len = credential.access_key_id.len()
            + 1
            + credential.date.len()
            + 1
            + credential.region.len();
        let scope = &self.auth.credential[..scope_len];
        let fingerprint = verifier.keys.fingerprint(&self.key.secret);
        let cached = verifier.keys.get(scope, fingerprint);
        let hit = cached.is_some();
        let signer = cached.unwrap_or_else(|| {
            key_cache::derive(
                &self.key.secret,
                credential.date,
                credential.region,
                &verifier.service,
            )
        });
        let sent = decode_signature(&self.auth.signature);
        let matches = |rule| {
            // Written out and hashed at once: one hasher update per piece
            // (some sixty) costs more than the copy.
            let mut text = Vec::with_capacity(1024);
            canonical::canonical_request(
                &mut text,
                &self.request,
                rule,
                verifier.path_rules,
                &self.signed_headers,
                &payload_hash,
            );
            let canonical = Sha256::digest(&text);
            let mut mac = signer.clone();
            mac.update(parse::ALGORITHM.as_bytes());
            mac.update(b"\n");
            mac.update(&self.auth.date);
            mac.update(b"\n");
            for (part, end) in [
                (credential.date, b"/"),
                (credential.region, b"/"),
                (credential.service, b"/"),
                (credential.terminator, b"\n"),
            ] {
                mac.update(part.as_bytes());
                mac.update(end);
            }
            mac.update(&canonical::hex_of(&canonical));
            // Constant-time comparison; a signature that is not 64
            // lowercase hex digits is compared as zeros, and fails.
            mac.verify_slice(&sent.unwrap_or([0; 32])).is_ok() && sent.is_some()
        };
        let verified = match self.auth.form {
            Form::Header => matches(QueryRule::All),
            // A presigned token may have been added after signing.
            Form::Query => {
                matches(QueryRule::Presigned { token_signed: true })
                    || (self.auth.security_token.is_some()
                        && matches(QueryRule::Presigned {
                            token_signed: false,
                        }))
            }
        };
        if !verified {
            return Err(AuthError::new(
                AuthErrorKind::InvalidSignature,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            ));
        }
        if !hit {
            verifier.keys.insert(scope, fingerprint, signer);
        }

        // The token is checked once the signature is (DynamoDB's order), and
        // answered without the final period DynamoDB leaves off here.
        let token_ok = match (&self.key.session_token, &self.auth.security_token) {
            (None, None) => true,
            (Some(expected), Some(sent)) => constant_time_eq(expected.as_bytes(), sent),
            _ => false,
        };
        if !token_ok {
            return Err(AuthError::new(
                AuthErrorKind::UnrecognizedClient,
                "The security token included in the request is invalid",
            ));
        }
        if let Some(expires) = self.key.expires {
            if timestamp::seconds(expires) <= self.now {
                return Err(AuthError::new(
                    AuthErrorKind::ExpiredToken,
                    "The security token included in the request is expired",
                ));
            }
        }
        Ok(Verified {
            access_key_id: credential.access_key_id.to_owned(),
            region: credential.region.to_owned(),
            principal: self.key.principal.clone(),
        })
    }
}

/// 64 lowercase hex digits as 32 bytes.
fn decode_signature(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 || bytes.iter().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = parse::hex(pair[0])? << 4 | parse::hex(pair[1])?;
    }
    Some(out)
}

/// Equality whose time depends on the lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
