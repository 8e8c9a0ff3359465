//! Reading a request's SigV4 parameters, from the `Authorization` header or
//! from a presigned query string, with DynamoDB's answers to the ones that
//! are missing or malformed.
//!
//! The messages and their order are DynamoDB's as dynalite recorded them
//! against the service (`architect/dynalite` `index.js`, "THEN check …"
//! comments): missing token → missing parameters → date → `host` signed →
//! algorithm → credential elements → credential scope → key → signature →
//! session token.

use std::borrow::Cow;

use super::{AuthError, AuthErrorKind, Request};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub(crate) const TERMINATOR: &str = "aws4_request";

/// Where the signature travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    Header,
    /// `?X-Amz-Algorithm=…&X-Amz-Credential=…&…&X-Amz-Signature=…` (presigned).
    Query,
}

/// A request's SigV4 parameters, present and non-empty but not yet checked.
#[derive(Debug)]
pub(crate) struct Authorization<'a> {
    pub form: Form,
    pub algorithm: Cow<'a, str>,
    pub credential: Cow<'a, str>,
    pub signed_headers: Cow<'a, str>,
    pub signature: Cow<'a, str>,
    /// `X-Amz-Date` (or, for the header form, `Date` when there is none).
    pub date: Cow<'a, [u8]>,
    /// `X-Amz-Security-Token`, header or query parameter.
    pub security_token: Option<Cow<'a, [u8]>>,
    /// `X-Amz-Expires` of a presigned request.
    pub expires: Option<Cow<'a, str>>,
}

/// The elements of `keyid/date/region/service/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credential<'c> {
    pub access_key_id: &'c str,
    pub date: &'c str,
    pub region: &'c str,
    pub service: &'c str,
    pub terminator: &'c str,
}

impl<'c> Credential<'c> {
    /// Splits a credential into its five elements; trailing slashes are
    /// ignored, as DynamoDB does.
    pub fn split(credential: &'c str) -> Result<Credential<'c>, AuthError> {
        let mut parts = credential.trim_end_matches('/').split('/');
        let parts: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
        match parts {
            [Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None] => {
                Ok(Credential {
                    access_key_id,
                    date,
                    region,
                    service,
                    terminator,
                })
            }
            _ => Err(AuthError::new(
                AuthErrorKind::IncompleteSignature,
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
                ),
            )),
        }
    }
}

pub(crate) fn missing_token() -> AuthError {
    AuthError::new(
        AuthErrorKind::MissingAuthenticationToken,
        "Request is missing Authentication Token",
    )
}

fn incomplete(message: String) -> AuthError {
    AuthError::new(AuthErrorKind::IncompleteSignature, message)
}

/// Finds the request's SigV4 parameters and checks that none is missing.
pub(crate) fn authorization<'a>(request: &Request<'a>) -> Result<Authorization<'a>, AuthError> {
    let header = request.first_header("authorization");
    let query = request.query.unwrap_or_default();
    let query_auth = query_param(query, "X-Amz-Algorithm").is_some();
    match (header, query_auth) {
        (Some(_), true) => Err(AuthError::new(
            AuthErrorKind::InvalidSignature,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (Some(value), false) => from_header(request, value),
        (None, true) => from_query(query),
        (None, false) => Err(missing_token()),
    }
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Parameters
/// may be separated by commas, spaces or both; a parameter with an empty
/// value counts as missing; a later one of the same name wins.
fn from_header<'a>(request: &Request<'a>, value: &'a [u8]) -> Result<Authorization<'a>, AuthError> {
    // A header value that is not visible ASCII is not an AWS4 one.
    if !value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Err(missing_token());
    }
    let header = std::str::from_utf8(value).map_err(|_| missing_token())?;
    let trimmed = header.trim();
    if !trimmed.starts_with("AWS4-") {
        return Err(missing_token());
    }
    // Split by hand on bytes: `str::split` with a set of characters was
    // the largest part of a verification's cost.
    let mut tokens = trimmed
        .as_bytes()
        .split(|&b| b == b',' || b == b' ')
        .filter(|token| !token.is_empty())
        // Splitting ASCII separators out of a str leaves str pieces.
        .map(|token| std::str::from_utf8(token).unwrap_or_default());
    let algorithm = tokens.next().unwrap_or_default();
    let (mut credential, mut signature, mut signed_headers) = ("", "", "");
    for token in tokens {
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        match key {
            "Credential" => credential = value,
            "Signature" => signature = value,
            "SignedHeaders" => signed_headers = value,
            _ => {}
        }
    }
    let date = request
        .first_header("x-amz-date")
        .or_else(|| request.first_header("date"));

    let mut message = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_empty() {
            message.push_str("Authorization header requires '");
            message.push_str(name);
            message.push_str("' parameter. ");
        }
    }
    if date.is_none() {
        message.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !message.is_empty() {
        message.push_str("Authorization=");
        message.push_str(header);
        return Err(incomplete(message));
    }
    Ok(Authorization {
        form: Form::Header,
        algorithm: Cow::Borrowed(algorithm),
        credential: Cow::Borrowed(credential),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        date: Cow::Borrowed(date.unwrap_or_default()),
        security_token: request
            .first_header("x-amz-security-token")
            .map(Cow::Borrowed),
        expires: None,
    })
}

/// Presigned requests: `?X-Amz-Algorithm=…&X-Amz-Credential=…&…`. The first
/// of each parameter counts.
fn from_query(query: &str) -> Result<Authorization<'_>, AuthError> {
    const REQUIRED: [&str; 5] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ];
    let mut message = String::new();
    for name in REQUIRED {
        if query_param(query, name).is_none_or(str::is_empty) {
            message.push_str("AWS query-string parameters must include '");
            message.push_str(name);
            message.push_str("'. ");
        }
    }
    if !message.is_empty() {
        message.push_str("Re-examine the query-string parameters.");
        return Err(incomplete(message));
    }
    let param = |name| percent_decode(query_param(query, name).unwrap_or_default());
    let date = match param("X-Amz-Date") {
        Cow::Borrowed(date) => Cow::Borrowed(date.as_bytes()),
        Cow::Owned(date) => Cow::Owned(date.into_bytes()),
    };
    Ok(Authorization {
        form: Form::Query,
        algorithm: param("X-Amz-Algorithm"),
        credential: param("X-Amz-Credential"),
        signed_headers: param("X-Amz-SignedHeaders"),
        signature: param("X-Amz-Signature"),
        date,
        security_token: query_param(query, "X-Amz-Security-Token").map(
            |token| match percent_decode(token) {
                Cow::Borrowed(token) => Cow::Borrowed(token.as_bytes()),
                Cow::Owned(token) => Cow::Owned(token.into_bytes()),
            },
        ),
        expires: query_param(query, "X-Amz-Expires").map(percent_decode),
    })
}

pub(crate) fn check_algorithm(algorithm: &str) -> Result<(), AuthError> {
    if algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )))
    }
}

/// The raw value of the first `name` parameter of a query string (`Some("")`
/// for a bare `name`), or `None` when it is absent.
pub(crate) fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// Decodes `%XX` escapes (and `+` as space); invalid escapes are kept as-is
/// and bytes that do not form UTF-8 become U+FFFD.
pub(crate) fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains(['%', '+']) {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

pub(crate) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
