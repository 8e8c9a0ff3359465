//! Building responses: the headers every DynamoDB answer carries (request id,
//! CRC32 of the body), and the one place errors become wire JSON.

use std::cell::Cell;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use openddb_core::{DynamoError, ErrorKind};

pub(crate) type Body = Full<Bytes>;

pub(crate) const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
pub(crate) const X_AMZ_CRC32: HeaderName = HeaderName::from_static("x-amz-crc32");

/// The JSON media type of the answer: DynamoDB echoes the request's
/// `application/x-amz-json-1.0` and answers `application/json` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    AmzJson10,
    AmzJson11,
    Json,
}

impl JsonType {
    /// Classifies a request `Content-Type` (parameters after `;` ignored);
    /// `None` when it is not one of the JSON types DynamoDB takes.
    pub(crate) fn from_request(content_type: Option<&HeaderValue>) -> Option<JsonType> {
        let raw = content_type.map_or(&b""[..], HeaderValue::as_bytes);
        let essence = raw.split(|&b| b == b';').next().unwrap_or_default();
        let essence = essence.trim_ascii();
        if essence.eq_ignore_ascii_case(b"application/x-amz-json-1.0") {
            Some(JsonType::AmzJson10)
        } else if essence.eq_ignore_ascii_case(b"application/x-amz-json-1.1") {
            Some(JsonType::AmzJson11)
        } else if essence.eq_ignore_ascii_case(b"application/json") {
            Some(JsonType::Json)
        } else {
            None
        }
    }

    fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            JsonType::AmzJson10 => "application/x-amz-json-1.0",
            JsonType::AmzJson11 => "application/x-amz-json-1.1",
            JsonType::Json => "application/json",
        })
    }
}

/// Per-response facts known before the answer is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    /// The request carried `Origin` (a browser's: an `OPTIONS` is then a
    /// CORS preflight; the CORS headers are added around the handler).
    pub cors: bool,
    /// The `x-amzn-RequestId` of the answer, chosen when the request
    /// arrives so that logs can name it whatever becomes of the request.
    pub request_id: RequestId,
}

/// A response with DynamoDB's standard headers around `body`.
pub(crate) fn build(
    meta: Meta,
    status: StatusCode,
    content_type: Option<JsonType>,
    body: Bytes,
) -> Response<Body> {
    let crc = crc32fast::hash(&body);
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(6);
    headers.insert(X_AMZN_REQUEST_ID, meta.request_id.header_value());
    headers.insert(X_AMZ_CRC32, HeaderValue::from(crc));
    if let Some(content_type) = content_type {
        headers.insert(CONTENT_TYPE, content_type.header_value());
    }
    response
}

/// A JSON error answer for `err`, with its status.
pub(crate) fn error(meta: Meta, content_type: JsonType, err: &DynamoError) -> Response<Body> {
    let status =
        StatusCode::from_u16(err.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    build(
        meta,
        status,
        Some(content_type),
        Bytes::from(error_body(err)),
    )
}

/// What DynamoDB answers for anything that is not a POST of JSON (other
/// methods, other content types): a bare 404 with an XML-ish body.
pub(crate) fn not_found(meta: Meta) -> Response<Body> {
    build(
        meta,
        StatusCode::NOT_FOUND,
        None,
        Bytes::from_static(b"<UnknownOperationException/>\n"),
    )
}

/// DynamoDB's answer to a body over the limit: 413 with no body. The rest of
/// the body is unread, so the connection cannot be reused.
pub(crate) fn too_large(meta: Meta) -> Response<Body> {
    closing(build(
        meta,
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        Bytes::new(),
    ))
}

/// The answer to a request over one of the server's limits: DynamoDB's
/// `RequestLimitExceeded`, which the AWS SDKs retry with backoff.
pub(crate) fn throttled(meta: Meta, content_type: JsonType) -> Response<Body> {
    error(
        meta,
        content_type,
        &openddb_engine::request_limit_exceeded(),
    )
}

/// The answer to a request whose handler failed unexpectedly (a panic):
/// DynamoDB's `InternalServerError`, as DynamoDB words it.
pub(crate) fn internal_error(meta: Meta, content_type: JsonType) -> Response<Body> {
    error(
        meta,
        content_type,
        &DynamoError::internal("Internal server error"),
    )
}

/// The answer to a body that did not arrive in time: `408 Request Timeout`
/// with no body, and the connection closed (its framing is unfinished).
pub(crate) fn timed_out(meta: Meta) -> Response<Body> {
    closing(build(meta, StatusCode::REQUEST_TIMEOUT, None, Bytes::new()))
}

/// `response`, telling the client the connection ends with it.
pub(crate) fn closing(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `{"__type": …, "message": …}` plus the extra members some errors carry.
/// Coral's protocol errors carry no message when DynamoDB sends none, so an
/// empty message is left out; `TransactionCanceledException` spells its
/// member `Message`, as DynamoDB does.
pub(crate) fn error_body(err: &DynamoError) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + err.message.len());
    out.extend_from_slice(b"{\"__type\":");
    push_json_str(&mut out, &err.kind.wire_type());
    if let Some(reasons) = &err.cancellation_reasons {
        out.extend_from_slice(b",\"CancellationReasons\":");
        // Writing a `Value` into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, reasons);
    }
    if let Some(item) = &err.item {
        out.extend_from_slice(b",\"Item\":");
        // An item serialises to its wire form; into a Vec this cannot fail.
        let _ = serde_json::to_writer(&mut out, item);
    }
    if !err.message.is_empty() {
        out.extend_from_slice(if err.kind == ErrorKind::TransactionCanceledException {
            b",\"Message\":"
        } else {
            b",\"message\":"
        });
        push_json_str(&mut out, &err.message);
    }
    out.push(b'}');
    out
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Serialising a `str` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A 52-character request id in DynamoDB's alphabet (`0-9A-V`, five bits
/// per character).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestId([u8; 52]);

impl RequestId {
    /// A fresh id. Ids only need to be unique, not unpredictable, so they
    /// come from a per-thread SplitMix64 stream seeded once from the OS.
    pub(crate) fn new() -> RequestId {
        RequestId(fresh_request_id())
    }

    pub(crate) fn as_str(&self) -> &str {
        // Built from an ASCII alphabet only.
        std::str::from_utf8(&self.0).unwrap_or("0")
    }

    fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or_else(|_| HeaderValue::from_static("0"))
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn fresh_request_id() -> [u8; 52] {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    let mut id = [0u8; 52];
    STATE.with(|state| {
        let mut s = state.get();
        for chunk in id.chunks_mut(12) {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            for c in chunk {
                *c = ALPHABET[(z & 31) as usize];
                z >>= 5;
            }
        }
        state.set(s);
    });
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_core::{AttributeValue, Item};

    #[test]
    fn request_ids_look_like_dynamodb_ones() {
        let a = RequestId::new();
        let b = RequestId::new();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 52);
        assert_eq!(a.header_value().as_bytes(), a.as_str().as_bytes());
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'V').contains(&c)));
    }

    #[test]
    fn error_bodies() {
        let body = error_body(&DynamoError::new(
            ErrorKind::MissingAuthenticationTokenException,
            "Request is missing Authentication Token",
        ));
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}"#
        );
        let body = error_body(&DynamoError::new(ErrorKind::UnknownOperationException, ""));
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
        );
        let mut err = DynamoError::new(
            ErrorKind::TransactionCanceledException,
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None]",
        );
        err.cancellation_reasons = Some(serde_json::json!([{"Code": "None"}]));
        let body: serde_json::Value = serde_json::from_slice(&error_body(&err)).unwrap();
        assert_eq!(body["CancellationReasons"][0]["Code"], "None");
        assert!(body["Message"]
            .as_str()
            .unwrap()
            .starts_with("Transaction cancelled"));
        let item = Item::from([("pk".to_owned(), AttributeValue::S("a".into()))]);
        let body = error_body(&DynamoError::conditional_check_failed(Some(item)));
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","Item":{"pk":{"S":"a"}},"message":"The conditional request failed"}"#
        );
        let body = error_body(&DynamoError::validation("quote \" and \n newline"));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["message"], "quote \" and \n newline");
    }

    #[test]
    fn content_types() {
        let ct = |s: &'static str| JsonType::from_request(Some(&HeaderValue::from_static(s)));
        assert_eq!(ct("application/x-amz-json-1.0"), Some(JsonType::AmzJson10));
        assert_eq!(
            ct("application/x-amz-json-1.0;blahblah"),
            Some(JsonType::AmzJson10)
        );
        assert_eq!(ct("  application/json  ;   asfd"), Some(JsonType::Json));
        assert_eq!(ct("application/json;charset=asfdsaf"), Some(JsonType::Json));
        assert_eq!(ct("application/x-amz-json-1.1"), Some(JsonType::AmzJson11));
        assert_eq!(ct("application/jsonasdf"), None);
        assert_eq!(ct("whatever"), None);
        assert_eq!(JsonType::from_request(None), None);
    }
}
