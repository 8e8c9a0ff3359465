//! Request authentication: the server's side of `openddb_auth::sigv4`.
//!
//! `--auth off` checks the signature's shape only (DynamoDB's errors for a
//! missing or malformed one) and takes the account from the access key id;
//! `--auth sigv4` verifies it against the credentials a [`KeyLookup`]
//! answers, in two steps around the body: everything but the signature
//! itself before the body is read, the signature over the bytes that
//! arrived (before any gzip is inflated) once it is here.

use std::sync::Arc;
use std::time::SystemTime;

use hyper::header::HeaderMap;
use openddb_auth::sigv4::{self, AuthError, AuthErrorKind, Pending, Verified, Verifier};
use openddb_auth::KeyLookup;
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{Authorizer, PolicyAuthorizer};

/// The service DynamoDB and DynamoDB Streams requests are signed for.
const SERVICE: &str = "dynamodb";

/// How the server authenticates requests.
#[derive(Clone, Default)]
pub enum Authentication {
    /// Signatures are checked for shape only; a 12-digit access key id
    /// selects its account, any other key the default account (LocalStack's
    /// convention). For local development.
    #[default]
    Off,
    /// Every request's SigV4 signature is verified against the keys this
    /// lookup knows; the request runs in the key's account.
    Sigv4(Arc<dyn KeyLookup>),
    /// As `Sigv4`, and then IAM policies decide: the identity-based
    /// policies the lookup gives each key's user, and the resources'
    /// policies. Everything not allowed is refused.
    Iam(Arc<dyn KeyLookup>),
}

impl std::fmt::Debug for Authentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Authentication::Off => f.write_str("Off"),
            Authentication::Sigv4(_) => f.write_str("Sigv4(..)"),
            Authentication::Iam(_) => f.write_str("Iam(..)"),
        }
    }
}

/// What the handlers share: the mode, and in `sigv4` the verifier with its
/// cache of signing keys.
pub(crate) enum Authenticator {
    Off,
    Sigv4 {
        keys: Arc<dyn KeyLookup>,
        verifier: Verifier,
        /// `--auth iam`: what every verified request is authorized by.
        authorizer: Option<Arc<dyn Authorizer>>,
    },
}

impl Authenticator {
    pub fn new(authentication: Authentication) -> Authenticator {
        match authentication {
            Authentication::Off => Authenticator::Off,
            Authentication::Sigv4(keys) => Authenticator::Sigv4 {
                keys,
                verifier: Verifier::dynamodb(),
                authorizer: None,
            },
            Authentication::Iam(keys) => Authenticator::Sigv4 {
                keys,
                verifier: Verifier::dynamodb(),
                authorizer: Some(Arc::new(PolicyAuthorizer::new())),
            },
        }
    }

    /// The checks that need no body.
    pub fn begin<'a>(&self, request: &sigv4::Request<'a>) -> Result<Caller<'a>, DynamoError> {
        match self {
            Authenticator::Off => {
                let scope = sigv4::check_shape(request, SERVICE).map_err(to_dynamo)?;
                Ok(Caller::Unverified(Unverified {
                    account_id: openddb_auth::unverified_account(&scope.access_key_id).to_owned(),
                    access_key_id: scope.access_key_id.into_owned(),
                    region: scope.region.into_owned(),
                }))
            }
            Authenticator::Sigv4 { keys, verifier, .. } => verifier
                .begin(request, SystemTime::now(), keys.as_ref())
                .map(|pending| Caller::Pending(Box::new(pending)))
                .map_err(to_dynamo),
        }
    }

    /// What decides verified requests (`--auth iam`), if anything.
    pub fn authorizer(&self) -> Option<&Arc<dyn Authorizer>> {
        match self {
            Authenticator::Off => None,
            Authenticator::Sigv4 { authorizer, .. } => authorizer.as_ref(),
        }
    }

    /// The signature, over `body` as it arrived.
    pub fn finish(&self, caller: Caller<'_>, body: &[u8]) -> Result<Authenticated, DynamoError> {
        match (self, caller) {
            (_, Caller::Unverified(caller)) => Ok(Authenticated::Unverified(caller)),
            (Authenticator::Sigv4 { verifier, .. }, Caller::Pending(pending)) => (*pending)
                .finish(verifier, body)
                .map(Authenticated::Verified)
                .map_err(to_dynamo),
            // Only a sigv4 authenticator makes pending callers.
            (Authenticator::Off, Caller::Pending(_)) => {
                Err(DynamoError::internal("Internal server error"))
            }
        }
    }
}

/// Who a request says it is, before its body has arrived.
pub(crate) enum Caller<'a> {
    /// `--auth off`: taken from the credential scope.
    Unverified(Unverified),
    /// `--auth sigv4`, the key known, the signature not yet checked (boxed:
    /// it is most of the handler future's size otherwise).
    Pending(Box<Pending<'a>>),
}

impl Caller<'_> {
    /// The account whose limits the request counts against.
    pub fn account_id(&self) -> &str {
        match self {
            Caller::Unverified(caller) => &caller.account_id,
            Caller::Pending(pending) => pending.account_id(),
        }
    }
}

/// Who a request is, as far as the mode checks.
pub(crate) enum Authenticated {
    Unverified(Unverified),
    /// `--auth sigv4`: the signature verified.
    Verified(Verified),
}

/// A request's credential scope, its signature unchecked (`--auth off`).
pub(crate) struct Unverified {
    pub account_id: String,
    pub access_key_id: String,
    pub region: String,
}

/// The request's headers as the verifier reads them (names lowercase, in
/// arrival order within a name).
pub(crate) fn header_list(headers: &HeaderMap) -> Vec<(&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

fn to_dynamo(err: AuthError) -> DynamoError {
    let kind = match err.kind {
        AuthErrorKind::MissingAuthenticationToken => ErrorKind::MissingAuthenticationTokenException,
        AuthErrorKind::IncompleteSignature => ErrorKind::IncompleteSignatureException,
        AuthErrorKind::InvalidSignature => ErrorKind::InvalidSignatureException,
        AuthErrorKind::UnrecognizedClient => ErrorKind::UnrecognizedClientException,
        AuthErrorKind::ExpiredToken => ErrorKind::ExpiredTokenException,
        AuthErrorKind::Unavailable => {
            tracing::error!(error = %err.message, "cannot look up an access key");
            return DynamoError::new(
                ErrorKind::ServiceUnavailable,
                "The service is currently unavailable or busy.",
            );
        }
    };
    DynamoError::new(kind, err.message)
}
