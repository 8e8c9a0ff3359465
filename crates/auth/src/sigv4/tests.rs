//! The verifier against requests signed by the AWS SDK's own signer
//! (`aws-sigv4`), and DynamoDB's refusals in DynamoDB's order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_smithy_runtime_api::client::identity::Identity;
use proptest::prelude::*;

use super::*;
use crate::credentials::{KeyRecord, LookupError, Principal, StaticKeys};

const KEY: &str = "AKIAOPENDDBTEST00001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BODY: &[u8] = br#"{"TableName":"things","Key":{"pk":{"S":"a"}}}"#;

/// 2024-03-01T12:00:00Z.
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_294_400)
}

fn principal(account: &str) -> Arc<Principal> {
    Arc::new(Principal {
        account_id: account.into(),
        arn: format!("arn:aws:iam::{account}:user/tester"),
        user_name: "tester".into(),
        user_id: "AIDATESTER".into(),
        tags: BTreeMap::new(),
        policies: Vec::new(),
    })
}

fn record(id: &str, secret: &str) -> KeyRecord {
    KeyRecord {
        access_key_id: id.into(),
        secret: secret.into(),
        session_token: None,
        expires: None,
        principal: principal("111122223333"),
    }
}

fn keys() -> StaticKeys {
    StaticKeys(vec![record(KEY, SECRET)])
}

/// A request as the server hands it to the verifier, owning its parts.
#[derive(Debug, Clone)]
struct Owned {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Owned {
    fn with<T>(&self, f: impl FnOnce(&Request<'_>, &[u8]) -> T) -> T {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let request = Request {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &headers,
        };
        f(&request, &self.body)
    }

    fn verify(
        &self,
        verifier: &Verifier,
        now: SystemTime,
        keys: &dyn KeyLookup,
    ) -> Result<Verified, AuthError> {
        self.with(|request, body| verifier.verify(request, body, now, keys))
    }

    fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers
            .push((name.to_owned(), value.as_bytes().to_vec()));
    }
}

struct Signing<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    service: &'a str,
    at: SystemTime,
    location: SignatureLocation,
    expires: Option<Duration>,
}

impl Default for Signing<'_> {
    fn default() -> Self {
        Signing {
            key: KEY,
            secret: SECRET,
            token: None,
            region: "us-east-1",
            service: "dynamodb",
            at: t0(),
            location: SignatureLocation::Headers,
            expires: None,
        }
    }
}

/// A GetItem request signed by `aws-sigv4` as the SDK signs it.
fn signed(s: &Signing<'_>) -> Owned {
    let headers = vec![
        ("host".to_owned(), "localhost:8000".to_owned()),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.0".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            "DynamoDB_20120810.GetItem".to_owned(),
        ),
        ("content-length".to_owned(), BODY.len().to_string()),
    ];
    let identity: Identity =
        Credentials::new(s.key, s.secret, s.token.map(str::to_owned), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = s.location;
    settings.expires_in = s.expires;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(s.at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        "http://localhost:8000/",
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(BODY),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = Owned {
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: headers
            .into_iter()
            .map(|(n, v)| (n, v.into_bytes()))
            .collect(),
        body: BODY.to_vec(),
    };
    for (name, value) in instructions.headers() {
        request.set_header(name, value);
    }
    let params: Vec<String> = instructions
        .params()
        .iter()
        .map(|(name, value)| format!("{}={}", enc(name), enc(value)))
        .collect();
    if !params.is_empty() {
        request.query = Some(params.join("&"));
    }
    request
}

/// Query-string encoding as a presigned URL carries it.
fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn refusal(result: Result<Verified, AuthError>) -> (AuthErrorKind, String) {
    let err = result.expect_err("refused");
    (err.kind, err.message)
}

/// A hand-made request with these headers (date given as `x-amz-date`).
fn raw(authorization: Option<&str>, date: Option<&str>, query: Option<&str>) -> Owned {
    let mut headers = vec![("host".to_owned(), b"localhost".to_vec())];
    if let Some(auth) = authorization {
        headers.push(("Authorization".to_owned(), auth.as_bytes().to_vec()));
    }
    if let Some(date) = date {
        headers.push(("X-Amz-Date".to_owned(), date.as_bytes().to_vec()));
    }
    Owned {
        method: "POST".into(),
        path: "/".into(),
        query: query.map(str::to_owned),
        headers,
        body: b"{}".to_vec(),
    }
}

fn begin_refusal(
    request: &Owned,
    now: SystemTime,
    keys: &dyn KeyLookup,
) -> (AuthErrorKind, String) {
    request.with(|r, _| {
        let err = Verifier::dynamodb()
            .begin(r, now, keys)
            .expect_err("refused");
        (err.kind, err.message)
    })
}

fn shape(request: &Owned) -> Result<(String, String), (AuthErrorKind, String)> {
    request.with(|r, _| {
        check_shape(r, "dynamodb")
            .map(|s| (s.access_key_id.into_owned(), s.region.into_owned()))
            .map_err(|e| (e.kind, e.message))
    })
}

// --- shape checks (--auth off) --------------------------------------------

const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

#[test]
fn shape_accepts_a_well_formed_header() {
    let request = raw(Some(GOOD), Some("20240101T000000Z"), None);
    assert_eq!(shape(&request), Ok(("AKID".into(), "eu-west-1".into())));
    let auth =
        "AWS4-HMAC-SHA256 Credential=k/d/r/dynamodb/aws4_request/,SignedHeaders=host,Signature=s";
    let request = raw(Some(auth), Some("x"), None);
    assert_eq!(shape(&request), Ok(("k".into(), "r".into())));
}

#[test]
fn missing_token() {
    let expected = Err((
        AuthErrorKind::MissingAuthenticationToken,
        "Request is missing Authentication Token".to_string(),
    ));
    assert_eq!(shape(&raw(None, Some("x"), None)), expected);
    assert_eq!(shape(&raw(Some("AWS4"), Some("x"), None)), expected);
    assert_eq!(
        shape(&raw(Some("X"), Some("x"), Some("X-Amz-Algorith"))),
        expected
    );
    assert_eq!(
        shape(&raw(
            None,
            Some("x"),
            Some("X-Amz-Credential=a&X-Amz-Signature=b")
        )),
        expected
    );
    let mut binary = raw(None, Some("x"), None);
    binary.set_header("authorization", "");
    binary.headers.last_mut().unwrap().1 = b"AWS4-HMAC-SHA256 \xff".to_vec();
    assert_eq!(shape(&binary), expected);
}

#[test]
fn both_header_and_query() {
    assert_eq!(
        shape(&raw(Some("X"), Some("x"), Some("X-Amz-Algorithm"))),
        Err((
            AuthErrorKind::InvalidSignature,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".into()
        ))
    );
}

#[test]
fn incomplete_header() {
    assert_eq!(
        shape(&raw(Some("AWS4-"), None, None)),
        Err((
            AuthErrorKind::IncompleteSignature,
            "Authorization header requires 'Credential' parameter. \
             Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization=AWS4-"
                .into()
        ))
    );
    for auth in [
        "AWS4- Signature=b Credential=a",
        "AWS4- Signature=b,Credential=a",
        "AWS4- Signature=b, Credential=a",
    ] {
        assert_eq!(
            shape(&raw(Some(auth), Some("x"), None)),
            Err((
                AuthErrorKind::IncompleteSignature,
                format!(
                    "Authorization header requires 'SignedHeaders' parameter. Authorization={auth}"
                )
            ))
        );
    }
    // `Date` stands in for `X-Amz-Date`.
    let mut dated = raw(Some(GOOD), None, None);
    dated.set_header("Date", "20240101T000000Z");
    assert!(shape(&dated).is_ok());
}

#[test]
fn bad_algorithm_and_credential() {
    assert_eq!(
        shape(&raw(
            Some("AWS4-HMAC-SHA25 Credential=a, SignedHeaders=b, Signature=c"),
            Some("x"),
            None
        )),
        Err((
            AuthErrorKind::IncompleteSignature,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
                .into()
        ))
    );
    assert_eq!(
        shape(&raw(
            Some("AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=b, Signature=c"),
            Some("x"),
            None
        )),
        Err((
            AuthErrorKind::IncompleteSignature,
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'".into()
        ))
    );
    assert_eq!(
        shape(&raw(
            Some("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=b, Signature=c"),
            Some("x"),
            None
        )),
        Err((
            AuthErrorKind::InvalidSignature,
            "Credential should be scoped to correct service: 'dynamodb'. \
             Credential should be scoped with a valid terminator: 'aws4_request', not 'e'."
                .into()
        ))
    );
}

#[test]
fn query_string_shape() {
    assert_eq!(
        shape(&raw(None, None, Some("X-Amz-Algorithm"))),
        Err((
            AuthErrorKind::IncompleteSignature,
            "AWS query-string parameters must include 'X-Amz-Algorithm'. \
             AWS query-string parameters must include 'X-Amz-Credential'. \
             AWS query-string parameters must include 'X-Amz-Signature'. \
             AWS query-string parameters must include 'X-Amz-SignedHeaders'. \
             AWS query-string parameters must include 'X-Amz-Date'. \
             Re-examine the query-string parameters."
                .into()
        ))
    );
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240101%2Fap-south-1%2Fdynamodb%2Faws4_request&X-Amz-Signature=s&X-Amz-SignedHeaders=host&X-Amz-Date=20240101T000000Z";
    assert_eq!(
        shape(&raw(None, None, Some(query))),
        Ok(("AKID".into(), "ap-south-1".into()))
    );
}

#[test]
fn percent_decoding_never_panics() {
    assert_eq!(parse::percent_decode("a%2Fb"), "a/b");
    assert_eq!(parse::percent_decode("a%2"), "a%2");
    assert_eq!(parse::percent_decode("%zz%"), "%zz%");
    assert_eq!(parse::percent_decode("%ff"), "\u{fffd}");
}

// --- DynamoDB's order when verifying -------------------------------------

/// 2013-06-09T10:00:15Z, the moment of dynalite's recorded answers.
fn t2013() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_370_772_015)
}

#[test]
fn the_date_comes_first_and_must_be_basic_iso_8601() {
    let auth = "AWS4-HMAC-SHA256 Credential=cassandra/2/3/4/aws4_request SignedHeaders=x-amz-date;host Signature=123";
    assert_eq!(
        begin_refusal(&raw(Some(auth), Some("201"), None), t2013(), &keys()),
        (
            AuthErrorKind::IncompleteSignature,
            "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601".into()
        )
    );
    // Alternator's tests against DynamoDB: a bad scope, but the clock is
    // what is reported.
    assert_eq!(
        begin_refusal(&raw(Some(auth), Some("20130301T000000Z"), None), t2013(), &keys()),
        (
            AuthErrorKind::InvalidSignature,
            "Signature expired: 20130301T000000Z is now earlier than 20130609T094515Z (20130609T100015Z - 15 min.)".into()
        )
    );
    assert_eq!(
        begin_refusal(&raw(Some(auth), Some("30200101T010101Z"), None), t2013(), &keys()),
        (
            AuthErrorKind::InvalidSignature,
            "Signature not yet current: 30200101T010101Z is still later than 20130609T101515Z (20130609T100015Z + 15 min.)".into()
        )
    );
}

#[test]
fn exactly_fifteen_minutes_is_still_current() {
    let auth = "AWS4-HMAC-SHA256 Credential=UNKNOWN/20130609/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=1";
    for date in ["20130609T094515Z", "20130609T101515Z"] {
        let (kind, _) = begin_refusal(&raw(Some(auth), Some(date), None), t2013(), &keys());
        assert_eq!(kind, AuthErrorKind::UnrecognizedClient, "{date}");
    }
    for date in ["20130609T094514Z", "20130609T101516Z"] {
        let (kind, _) = begin_refusal(&raw(Some(auth), Some(date), None), t2013(), &keys());
        assert_eq!(kind, AuthErrorKind::InvalidSignature, "{date}");
    }
}

#[test]
fn then_host_then_algorithm_then_credential_then_scope() {
    let date = Some("20130609T095204Z");
    let now = t2013();
    assert_eq!(
        begin_refusal(
            &raw(
                Some("AWS4-HMAC-SHA25 Credential=a, SignedHeaders=x-amz-date, Signature=c"),
                date,
                None
            ),
            now,
            &keys()
        ),
        (
            AuthErrorKind::InvalidSignature,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into()
        )
    );
    assert_eq!(
        begin_refusal(
            &raw(
                Some("AWS4-HMAC-SHA25 Credential=a, SignedHeaders=Host, Signature=c"),
                date,
                None
            ),
            now,
            &keys()
        ),
        (
            AuthErrorKind::IncompleteSignature,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
                .into()
        )
    );
    assert_eq!(
        begin_refusal(
            &raw(Some("AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=c"), date, None),
            now,
            &keys()
        ),
        (
            AuthErrorKind::IncompleteSignature,
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'".into()
        )
    );
    // dynalite's recorded answer, with a region that is not one in shape.
    assert_eq!(
        begin_refusal(
            &raw(Some("AWS4-HMAC-SHA256 Credential=a/b/C/d/e, SignedHeaders=host, Signature=c"), date, None),
            now,
            &keys()
        ),
        (
            AuthErrorKind::InvalidSignature,
            "Credential should be scoped to a valid region, not 'C'. \
             Credential should be scoped to correct service: 'dynamodb'. \
             Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. \
             Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20130609', from '20130609T095204Z'."
                .into()
        )
    );
    assert_eq!(
        begin_refusal(
            &raw(Some("AWS4-HMAC-SHA256 Credential=a/20130609/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=c"), date, None),
            now,
            &keys()
        ),
        (
            AuthErrorKind::UnrecognizedClient,
            "The security token included in the request is invalid.".into()
        )
    );
}

#[test]
fn region_shapes() {
    for good in [
        "us-east-1",
        "us-gov-west-1",
        "cn-north-1",
        "localhost",
        "local",
        "eu-central-2",
    ] {
        assert!(is_region(good), "{good}");
    }
    for bad in [
        "",
        "US-EAST-1",
        "us_east_1",
        "us-east-1-",
        "-us",
        "us--east",
        "1us",
        "us:east",
        "a/b",
        &"a".repeat(33),
    ] {
        assert!(!is_region(bad), "{bad}");
    }
}

#[test]
fn a_failing_lookup_is_not_an_unknown_key() {
    struct Down;
    impl KeyLookup for Down {
        fn lookup(&self, _: &str) -> Result<Option<KeyRecord>, LookupError> {
            Err(LookupError::Unavailable("disk on fire".into()))
        }
    }
    let request = signed(&Signing::default());
    let (kind, message) = begin_refusal(&request, t0(), &Down);
    assert_eq!(kind, AuthErrorKind::Unavailable);
    assert!(message.contains("disk on fire"));
}

// --- signatures -----------------------------------------------------------

#[test]
fn verifies_what_the_sdk_signer_signs() {
    let verifier = Verifier::dynamodb();
    let request = signed(&Signing::default());
    let verified = request.verify(&verifier, t0(), &keys()).unwrap();
    assert_eq!(verified.access_key_id, KEY);
    assert_eq!(verified.region, "us-east-1");
    assert_eq!(verified.principal.account_id, "111122223333");
    // A signature is valid for 15 minutes either side of its date.
    for offset in [-899i64, 0, 899] {
        let now = if offset < 0 {
            t0() - Duration::from_secs(offset.unsigned_abs())
        } else {
            t0() + Duration::from_secs(offset as u64)
        };
        request.verify(&verifier, now, &keys()).unwrap();
    }
    // Comma-only separators (Alternator's issue 9568) verify too.
    let mut commas = request.clone();
    let auth = commas
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    let auth = String::from_utf8(auth).unwrap().replace(", ", ",");
    commas.set_header("authorization", &auth);
    commas.verify(&verifier, t0(), &keys()).unwrap();
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[test]
fn a_wrong_secret_or_a_changed_request_does_not_verify() {
    let verifier = Verifier::dynamodb();
    let wrong_secret = signed(&Signing {
        secret: "not the secret",
        ..Signing::default()
    });
    assert_eq!(
        refusal(wrong_secret.verify(&verifier, t0(), &keys())),
        (AuthErrorKind::InvalidSignature, MISMATCH.into())
    );
    let good = signed(&Signing::default());
    let mut body = good.clone();
    body.body = br#"{"TableName":"things","Key":{"pk":{"S":"b"}}}"#.to_vec();
    let mut target = good.clone();
    target.set_header("x-amz-target", "DynamoDB_20120810.DeleteItem");
    let mut path = good.clone();
    path.path = "/other".into();
    let mut query = good.clone();
    query.query = Some("a=b".into());
    let mut method = good.clone();
    method.method = "PUT".into();
    for (what, request) in [
        ("body", body),
        ("target", target),
        ("path", path),
        ("query", query),
        ("method", method),
    ] {
        assert_eq!(
            refusal(request.verify(&verifier, t0(), &keys())),
            (AuthErrorKind::InvalidSignature, MISMATCH.into()),
            "{what}"
        );
    }
    // The client's own body hash is not trusted: the bytes are hashed.
    let mut claimed = good.clone();
    claimed.set_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    claimed.verify(&verifier, t0(), &keys()).unwrap();
}

#[test]
fn signature_spelling() {
    assert_eq!(decode_signature(&"ab".repeat(32)), Some([0xab; 32]));
    assert_eq!(decode_signature(&"AB".repeat(32)), None);
    assert_eq!(decode_signature(&"ab".repeat(31)), None);
    assert_eq!(decode_signature(&"zz".repeat(32)), None);
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
}

#[test]
fn signed_for_another_service_or_day() {
    let verifier = Verifier::dynamodb();
    let s3 = signed(&Signing {
        service: "s3",
        ..Signing::default()
    });
    assert_eq!(
        refusal(s3.verify(&verifier, t0(), &keys())),
        (
            AuthErrorKind::InvalidSignature,
            "Credential should be scoped to correct service: 'dynamodb'.".into()
        )
    );
    let mut other_day = signed(&Signing::default());
    other_day.set_header("x-amz-date", "20240302T000000Z");
    assert_eq!(
        refusal(other_day.verify(&verifier, t0() + Duration::from_secs(43_200), &keys())),
        (
            AuthErrorKind::InvalidSignature,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240301' != '20240302', from '20240302T000000Z'.".into()
        )
    );
}

#[test]
fn session_tokens() {
    let verifier = Verifier::dynamodb();
    let mut temporary = record(KEY, SECRET);
    temporary.session_token = Some("the-token".into());
    temporary.expires = Some(t0() + Duration::from_secs(3_600));
    let keys = StaticKeys(vec![temporary]);
    let with = |token| {
        signed(&Signing {
            token,
            ..Signing::default()
        })
    };
    with(Some("the-token"))
        .verify(&verifier, t0(), &keys)
        .unwrap();
    let invalid = (
        AuthErrorKind::UnrecognizedClient,
        "The security token included in the request is invalid".to_string(),
    );
    assert_eq!(refusal(with(None).verify(&verifier, t0(), &keys)), invalid);
    assert_eq!(
        refusal(with(Some("another")).verify(&verifier, t0(), &keys)),
        invalid
    );
    // A long-term key takes no token.
    assert_eq!(
        refusal(with(Some("the-token")).verify(&verifier, t0(), &self::keys())),
        invalid
    );
    // Expired: a request signed at expiry time is refused (the server clock
    // decides, within the signature's own 15 minutes).
    let late = t0() + Duration::from_secs(3_600);
    let request = signed(&Signing {
        token: Some("the-token"),
        at: late,
        ..Signing::default()
    });
    assert_eq!(
        refusal(request.verify(&verifier, late, &keys)),
        (
            AuthErrorKind::ExpiredToken,
            "The security token included in the request is expired".into()
        )
    );
    // A wrong signature is reported before a token problem.
    let forged = signed(&Signing {
        secret: "x",
        ..Signing::default()
    });
    assert_eq!(refusal(forged.verify(&verifier, t0(), &keys)).1, MISMATCH);
}

#[test]
fn presigned_requests() {
    let verifier = Verifier::dynamodb();
    let presigned = signed(&Signing {
        location: SignatureLocation::QueryParams,
        expires: Some(Duration::from_secs(600)),
        ..Signing::default()
    });
    assert!(presigned
        .query
        .as_deref()
        .unwrap()
        .contains("X-Amz-Signature="));
    assert!(!presigned.headers.iter().any(|(n, _)| n == "authorization"));
    presigned.verify(&verifier, t0(), &keys()).unwrap();
    // Its X-Amz-Expires is honoured when shorter than 15 minutes.
    assert_eq!(
        refusal(presigned.verify(&verifier, t0() + Duration::from_secs(601), &keys())),
        (
            AuthErrorKind::InvalidSignature,
            "Signature expired: 20240301T120000Z is now earlier than 20240301T120001Z (20240301T121001Z - 600 sec.)".into()
        )
    );
    // The expiry is signed: a longer one does not verify.
    let mut longer = presigned.clone();
    longer.query = Some(
        longer
            .query
            .unwrap()
            .replace("X-Amz-Expires=600", "X-Amz-Expires=900"),
    );
    assert_eq!(refusal(longer.verify(&verifier, t0(), &keys())).1, MISMATCH);
    // A session token travels in the query.
    let mut temporary = record(KEY, SECRET);
    temporary.session_token = Some("tok/en+=".into());
    let keys = StaticKeys(vec![temporary]);
    let presigned = signed(&Signing {
        location: SignatureLocation::QueryParams,
        token: Some("tok/en+="),
        expires: Some(Duration::from_secs(300)),
        ..Signing::default()
    });
    presigned.verify(&verifier, t0(), &keys).unwrap();
}

#[test]
fn the_key_cache_never_outlives_a_secret() {
    let verifier = Verifier::dynamodb();
    let request = signed(&Signing::default());
    request.verify(&verifier, t0(), &keys()).unwrap();
    assert_eq!(verifier.keys.len(), 1);
    request.verify(&verifier, t0(), &keys()).unwrap();
    assert_eq!(verifier.keys.len(), 1);
    // The secret changed: the cached key no longer signs for it.
    let rotated = StaticKeys(vec![record(KEY, "a new secret")]);
    assert_eq!(
        refusal(request.verify(&verifier, t0(), &rotated)).1,
        MISMATCH
    );
    // Revoked: the key is gone.
    assert_eq!(
        refusal(request.verify(&verifier, t0(), &StaticKeys(vec![]))).0,
        AuthErrorKind::UnrecognizedClient
    );
    // Signatures that fail add nothing (a key-guessing flood cannot grow it).
    let verifier = Verifier::dynamodb();
    for region in ["eu-west-1", "eu-west-2", "eu-west-3"] {
        let forged = signed(&Signing {
            secret: "guess",
            region,
            ..Signing::default()
        });
        assert!(forged.verify(&verifier, t0(), &keys()).is_err());
    }
    assert_eq!(verifier.keys.len(), 0);
}

#[test]
fn two_keys_two_accounts() {
    let verifier = Verifier::dynamodb();
    let mut other = record("AKIAOTHERKEY00000002", "other secret");
    other.principal = principal("444455556666");
    let keys = StaticKeys(vec![record(KEY, SECRET), other]);
    let a = signed(&Signing::default());
    let b = signed(&Signing {
        key: "AKIAOTHERKEY00000002",
        secret: "other secret",
        ..Signing::default()
    });
    assert_eq!(
        a.verify(&verifier, t0(), &keys)
            .unwrap()
            .principal
            .account_id,
        "111122223333"
    );
    assert_eq!(
        b.verify(&verifier, t0(), &keys)
            .unwrap()
            .principal
            .account_id,
        "444455556666"
    );
    // One key's signature under the other's id does not verify.
    let mut swapped = b.clone();
    let auth = b
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    let auth = String::from_utf8(auth)
        .unwrap()
        .replace("AKIAOTHERKEY00000002", KEY);
    swapped.set_header("authorization", &auth);
    assert_eq!(refusal(swapped.verify(&verifier, t0(), &keys)).1, MISMATCH);
}

#[test]
fn our_signer_signs_as_the_sdk_does() {
    let sdk = signed(&Signing::default());
    let sdk_auth = sdk
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    let mut ours = sdk.clone();
    ours.headers.retain(|(n, _)| n != "authorization");
    let amz_date = Signer::amz_date(t0());
    assert_eq!(amz_date, "20240301T120000Z");
    let signer = Signer::new(KEY, SECRET, "us-east-1", "dynamodb");
    let signature = ours.with(|r, body| signer.sign(r, body, &amz_date));
    assert_eq!(signature.authorization.as_bytes(), sdk_auth.as_slice());
    ours.set_header("authorization", &signature.authorization);
    ours.verify(&Verifier::dynamodb(), t0(), &keys()).unwrap();
}

// --- mutations --------------------------------------------------------------

/// Which part of a signed request a mutation changes.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a byte of the body.
    Body(usize, u8),
    /// Replace a character of a signed header's value (or of the
    /// Authorization header) by a different non-space visible character.
    Header(usize, usize, u8),
    /// Replace a character of the path or query.
    Path(usize, u8),
    Query(usize, u8),
    /// Drop a header.
    Drop(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Body(i, x)),
        (any::<usize>(), any::<usize>(), 0x21u8..0x7f)
            .prop_map(|(h, i, c)| Mutation::Header(h, i, c)),
        (any::<usize>(), 0x21u8..0x7f).prop_map(|(i, c)| Mutation::Path(i, c)),
        (any::<usize>(), 0x21u8..0x7f).prop_map(|(i, c)| Mutation::Query(i, c)),
        any::<usize>().prop_map(Mutation::Drop),
    ]
}

/// Applies `m`; `false` when it would not change what was signed (so the
/// request may rightly still verify).
fn apply(request: &mut Owned, m: &Mutation) -> bool {
    match *m {
        Mutation::Body(i, x) => {
            let i = i % request.body.len();
            request.body[i] ^= x;
            true
        }
        Mutation::Header(h, i, c) => {
            let h = h % request.headers.len();
            let value = &mut request.headers[h].1;
            if value.is_empty() {
                return false;
            }
            let i = i % value.len();
            // Case is not significant in SignedHeaders; keep it simple and
            // count no case-only change as one.
            if value[i].eq_ignore_ascii_case(&c) || value[i] == b' ' {
                return false;
            }
            // Only signed headers and the signature's own count.
            let name = request.headers[h].0.clone();
            let value = &mut request.headers[h].1;
            value[i] = c;
            name != "content-length"
        }
        Mutation::Path(i, c) => {
            let mut path = request.path.clone().into_bytes();
            let i = i % (path.len() + 1);
            path.insert(i, c);
            // `.` and `/` may normalize away; `%` may form an escape.
            if matches!(c, b'.' | b'/' | b'%') {
                return false;
            }
            request.path = String::from_utf8(path).unwrap();
            true
        }
        Mutation::Query(i, c) => {
            let mut query = request.query.clone().unwrap_or_default().into_bytes();
            if query.is_empty() {
                return false;
            }
            let i = i % query.len();
            // An escape's hex digits may change case without changing it.
            let in_escape = query[i.saturating_sub(2)..i].contains(&b'%');
            if query[i] == c
                || in_escape
                || matches!(c, b'&' | b'=' | b'%' | b'+')
                || matches!(query[i], b'&' | b'=' | b'%')
            {
                return false;
            }
            query[i] = c;
            request.query = Some(String::from_utf8(query).unwrap());
            true
        }
        Mutation::Drop(h) => {
            let h = h % request.headers.len();
            let (name, _) = request.headers.remove(h);
            name != "content-length"
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_requests_never_verify(mutations in proptest::collection::vec(mutation(), 1..4), presign in any::<bool>()) {
        let verifier = Verifier::dynamodb();
        let mut request = signed(&Signing {
            location: if presign { SignatureLocation::QueryParams } else { SignatureLocation::Headers },
            expires: presign.then(|| Duration::from_secs(300)),
            ..Signing::default()
        });
        let mut changed = false;
        for m in &mutations {
            changed |= apply(&mut request, m);
        }
        let result = request.verify(&verifier, t0(), &keys());
        if changed {
            prop_assert!(result.is_err(), "{mutations:?} verified: {request:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        auth in proptest::collection::vec(any::<u8>(), 0..200),
        date in proptest::collection::vec(any::<u8>(), 0..20),
        query in "[ -~]{0,200}",
        path in "[ -~]{0,50}",
        signed_headers in "[a-zA-Z;:-]{0,40}",
    ) {
        let verifier = Verifier::dynamodb();
        let mut request = raw(None, None, Some(&query));
        request.path = path;
        request.headers.push(("authorization".into(), auth));
        request.headers.push(("x-amz-date".into(), date));
        let _ = request.verify(&verifier, t0(), &keys());
        let _ = request.with(|r, _| check_shape(r, "dynamodb").map(|_| ()));
        // A well-formed header with odd signed headers and a valid date.
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={KEY}/20240301/us-east-1/dynamodb/aws4_request, SignedHeaders={signed_headers}, Signature={}",
            "0".repeat(64)
        );
        let mut request = raw(Some(&auth), Some("20240301T120000Z"), Some(&query));
        request.path = "/".into();
        let _ = request.verify(&verifier, t0(), &keys());
    }
}
