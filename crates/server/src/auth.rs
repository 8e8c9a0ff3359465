//! SigV4 request authentication: the shape checks DynamoDB makes before it
//! verifies a signature, in DynamoDB's order and wording, and the credential
//! scope (access key id, region) they yield.
//!
//! Signatures are not verified yet: any well-formed one is accepted.

use std::borrow::Cow;

use hyper::header::{HeaderMap, AUTHORIZATION, DATE};
use openddb_core::{DynamoError, ErrorKind};

/// Who signed a request, from its credential scope `keyid/date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope<'a> {
    pub access_key_id: Cow<'a, str>,
    pub region: Cow<'a, str>,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const X_AMZ_DATE: &str = "x-amz-date";

/// Checks the request's SigV4 authentication, from the `Authorization` header
/// or from presigned query-string parameters.
pub(crate) fn authenticate<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
) -> Result<Scope<'a>, DynamoError> {
    let header = headers.get(AUTHORIZATION);
    let query_auth = query.is_some_and(|q| query_param(q, "X-Amz-Algorithm").is_some());
    match (header, query_auth) {
        (Some(_), true) => Err(DynamoError::new(
            ErrorKind::InvalidSignatureException,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (Some(value), false) => {
            let value = value.to_str().map_err(|_| missing_token())?;
            let has_date = headers.contains_key(X_AMZ_DATE) || headers.contains_key(DATE);
            from_header(value, has_date)
        }
        (None, true) => from_query(query.unwrap_or_default()),
        (None, false) => Err(missing_token()),
    }
}

fn missing_token() -> DynamoError {
    DynamoError::new(
        ErrorKind::MissingAuthenticationTokenException,
        "Request is missing Authentication Token",
    )
}

fn incomplete(message: String) -> DynamoError {
    DynamoError::new(ErrorKind::IncompleteSignatureException, message)
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Parameters
/// may be separated by commas, spaces or both; a parameter with an empty
/// value counts as missing.
fn from_header(header: &str, has_date: bool) -> Result<Scope<'_>, DynamoError> {
    let trimmed = header.trim();
    if !trimmed.starts_with("AWS4-") {
        return Err(missing_token());
    }
    let mut tokens = trimmed.split([',', ' ']).filter(|token| !token.is_empty());
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
    if !has_date {
        message.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !message.is_empty() {
        message.push_str("Authorization=");
        message.push_str(header);
        return Err(incomplete(message));
    }
    check_algorithm(algorithm)?;
    parse_credential(Cow::Borrowed(credential))
}

/// Presigned requests: `?X-Amz-Algorithm=…&X-Amz-Credential=…&…`.
fn from_query(query: &str) -> Result<Scope<'_>, DynamoError> {
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
    let algorithm = percent_decode(query_param(query, "X-Amz-Algorithm").unwrap_or_default());
    check_algorithm(&algorithm)?;
    let credential = percent_decode(query_param(query, "X-Amz-Credential").unwrap_or_default());
    parse_credential(credential)
}

fn check_algorithm(algorithm: &str) -> Result<(), DynamoError> {
    if algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). "
        )))
    }
}

/// `keyid/date/region/service/aws4_request`; trailing slashes are ignored.
fn parse_credential(credential: Cow<'_, str>) -> Result<Scope<'_>, DynamoError> {
    let parts = {
        let mut parts = credential.trim_end_matches('/').split('/');
        let parts: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
        match parts {
            [Some(key), Some(date), Some(region), Some(service), Some(term), None] => Some((
                key.len(),
                date.len(),
                region.len(),
                service == "dynamodb",
                term,
            )),
            _ => None,
        }
    };
    let Some((key_len, date_len, region_len, right_service, term)) = parts else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let mut message = String::new();
    if !right_service {
        message.push_str("Credential should be scoped to correct service: 'dynamodb'. ");
    }
    if term != "aws4_request" {
        message
            .push_str("Credential should be scoped with a valid terminator: 'aws4_request', not '");
        message.push_str(term);
        message.push_str("'. ");
    }
    if !message.is_empty() {
        message.truncate(message.trim_end().len());
        return Err(DynamoError::new(
            ErrorKind::InvalidSignatureException,
            message,
        ));
    }
    let region_start = key_len + 1 + date_len + 1;
    let region_range = region_start..region_start + region_len;
    Ok(match credential {
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

/// The raw value of the first `name` parameter of a query string (`Some("")`
/// for a bare `name`), or `None` when it is absent.
fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// Decodes `%XX` escapes (and `+` as space); invalid escapes are kept as-is.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains(['%', '+']) {
        return Cow::Borrowed(value);
    }
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    fn headers(auth: Option<&str>, date: bool) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(auth) = auth {
            headers.insert(AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        }
        if date {
            headers.insert(X_AMZ_DATE, HeaderValue::from_static("20240101T000000Z"));
        }
        headers
    }

    fn error(auth: Option<&str>, date: bool, query: Option<&str>) -> (ErrorKind, String) {
        let headers = headers(auth, date);
        let err = authenticate(&headers, query).unwrap_err();
        (err.kind, err.message)
    }

    #[test]
    fn accepts_a_well_formed_header() {
        let headers = headers(Some(GOOD), true);
        let scope = authenticate(&headers, None).unwrap();
        assert_eq!(scope.access_key_id, "AKID");
        assert_eq!(scope.region, "eu-west-1");
    }

    #[test]
    fn accepts_trailing_slash_and_comma_only_separators() {
        let auth = "AWS4-HMAC-SHA256 Credential=k/d/r/dynamodb/aws4_request/,SignedHeaders=host,Signature=s";
        let headers = headers(Some(auth), true);
        assert_eq!(authenticate(&headers, None).unwrap().region, "r");
    }

    #[test]
    fn missing_token() {
        let expected = (
            ErrorKind::MissingAuthenticationTokenException,
            "Request is missing Authentication Token".to_string(),
        );
        assert_eq!(error(None, true, None), expected);
        assert_eq!(error(Some("AWS4"), true, None), expected);
        assert_eq!(error(Some("X"), true, Some("X-Amz-Algorith")), expected);
        assert_eq!(
            error(None, true, Some("X-Amz-Credential=a&X-Amz-Signature=b")),
            expected
        );
    }

    #[test]
    fn both_header_and_query() {
        assert_eq!(
            error(Some("X"), true, Some("X-Amz-Algorithm")),
            (
                ErrorKind::InvalidSignatureException,
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".into()
            )
        );
    }

    #[test]
    fn incomplete_header() {
        assert_eq!(
            error(Some("AWS4-"), false, None),
            (
                ErrorKind::IncompleteSignatureException,
                "Authorization header requires 'Credential' parameter. \
                 Authorization header requires 'Signature' parameter. \
                 Authorization header requires 'SignedHeaders' parameter. \
                 Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
                 Authorization=AWS4-"
                    .into()
            )
        );
        for auth in [
            "AWS4- Signature=b Credential=a",
            "AWS4- Signature=b,Credential=a",
            "AWS4- Signature=b, Credential=a",
        ] {
            assert_eq!(
                error(Some(auth), true, None),
                (
                    ErrorKind::IncompleteSignatureException,
                    format!("Authorization header requires 'SignedHeaders' parameter. Authorization={auth}")
                )
            );
        }
    }

    #[test]
    fn bad_algorithm_and_credential() {
        assert_eq!(
            error(
                Some("AWS4-HMAC-SHA25 Credential=a, SignedHeaders=b, Signature=c"),
                true,
                None
            ),
            (
                ErrorKind::IncompleteSignatureException,
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
                    .into()
            )
        );
        assert_eq!(
            error(Some("AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=b, Signature=c"), true, None),
            (
                ErrorKind::IncompleteSignatureException,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'".into()
            )
        );
        assert_eq!(
            error(
                Some("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=b, Signature=c"),
                true,
                None
            ),
            (
                ErrorKind::InvalidSignatureException,
                "Credential should be scoped to correct service: 'dynamodb'. \
                 Credential should be scoped with a valid terminator: 'aws4_request', not 'e'."
                    .into()
            )
        );
    }

    #[test]
    fn query_string_auth() {
        assert_eq!(
            error(None, false, Some("X-Amz-Algorithm")),
            (
                ErrorKind::IncompleteSignatureException,
                "AWS query-string parameters must include 'X-Amz-Algorithm'. \
                 AWS query-string parameters must include 'X-Amz-Credential'. \
                 AWS query-string parameters must include 'X-Amz-Signature'. \
                 AWS query-string parameters must include 'X-Amz-SignedHeaders'. \
                 AWS query-string parameters must include 'X-Amz-Date'. \
                 Re-examine the query-string parameters."
                    .into()
            )
        );
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fap-south-1%2Fdynamodb%2Faws4_request&X-Amz-Signature=s&X-Amz-SignedHeaders=host&X-Amz-Date=20240101T000000Z";
        let headers = headers(None, false);
        let scope = authenticate(&headers, Some(query)).unwrap();
        assert_eq!(scope.access_key_id, "AKID");
        assert_eq!(scope.region, "ap-south-1");
    }

    #[test]
    fn percent_decoding_never_panics() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
