//! One HTTP request to one DynamoDB answer, in DynamoDB's order of checks:
//! method → body size → content type → target → signature → body → engine.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ORIGIN,
};
use hyper::{Method, Request, Response, StatusCode};
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{Database, RequestContext};

use crate::auth;
use crate::body::{self, BodyError, MAX_REQUEST_BYTES};
use crate::response::{self, Body, JsonType, Meta};
use crate::target::{self, Target};

const X_AMZ_TARGET: &str = "x-amz-target";

/// Every request lives in this one account until tenants arrive.
const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// What `GET /` answers: DynamoDB's load-balancer health text.
const HEALTH_TEXT: &str = "healthy: dynamodb.us-east-1.amazonaws.com ";

/// Serves one request; never fails, every problem becomes a DynamoDB answer.
pub(crate) async fn handle(db: Arc<Database>, request: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let meta = Meta {
        cors: parts.headers.contains_key(ORIGIN),
    };
    let (response, operation) = match parts.method {
        Method::POST => {
            let uri_query = parts.uri.query();
            post(&db, &parts.headers, uri_query, body, meta).await
        }
        Method::GET => (health(meta), ""),
        Method::OPTIONS if meta.cors => (preflight(&parts.headers, meta), ""),
        _ => (response::not_found(meta), ""),
    };
    tracing::debug!(
        method = %parts.method,
        operation,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// `POST` is the API. Returns the answer and, for the log, the operation.
async fn post<'h>(
    db: &Database,
    headers: &'h HeaderMap,
    query: Option<&'h str>,
    body: Incoming,
    meta: Meta,
) -> (Response<Body>, &'h str) {
    let content_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = match body::read(body, content_length, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(err) => return (body_error(err, meta, JsonType::Json), ""),
    };

    // Any body must be JSON by content type; an empty one may say anything.
    let json_type = JsonType::from_request(headers.get(CONTENT_TYPE));
    let json_type = match json_type {
        Some(json_type) => json_type,
        None if body.is_empty() => JsonType::Json,
        None => return (response::not_found(meta), ""),
    };

    let body = if is_gzip(headers.get(CONTENT_ENCODING)) {
        match body::gunzip(body, MAX_REQUEST_BYTES).await {
            Ok(body) => body,
            Err(err) => return (body_error(err, meta, json_type), ""),
        }
    } else {
        body
    };

    let fail = |err: DynamoError| response::error(meta, json_type, &err);
    let target = target::parse(
        headers
            .get(X_AMZ_TARGET)
            .map_or(&[][..], HeaderValue::as_bytes),
    );
    // DynamoDB Streams shares the port; its operation names are distinct
    // from DynamoDB's, so the engine dispatches both by name.
    let operation = match target {
        Some(Target::DynamoDb(operation)) | Some(Target::Streams(operation)) => operation,
        None => {
            let err = protocol_error(&body, ErrorKind::UnknownOperationException);
            return (fail(err), "");
        }
    };

    let scope = match auth::authenticate(headers, query) {
        Ok(scope) => scope,
        Err(err) => {
            let err = if is_json(&body) { err } else { serialization() };
            return (fail(err), operation);
        }
    };
    if body.is_empty() {
        return (fail(serialization()), operation);
    }

    let ctx = RequestContext {
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        access_key_id: scope.access_key_id.into_owned(),
        region: scope.region.into_owned(),
    };
    let response = match db.dispatch(&ctx, operation, &body).await {
        Ok(json) => response::build(meta, StatusCode::OK, Some(json_type), Bytes::from(json)),
        Err(err) => fail(err),
    };
    (response, operation)
}

/// DynamoDB parses the body before it checks the target or the signature,
/// so a request that is wrong in both ways is a `SerializationException`.
/// Checked only on those error paths; on the happy path the engine's own
/// parse reports bad JSON.
fn protocol_error(body: &[u8], kind: ErrorKind) -> DynamoError {
    if is_json(body) {
        DynamoError::new(kind, "")
    } else {
        serialization()
    }
}

fn is_json(body: &[u8]) -> bool {
    body.is_empty() || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// DynamoDB's answer to a body that is not JSON: no message at all.
fn serialization() -> DynamoError {
    DynamoError::new(ErrorKind::SerializationException, "")
}

fn body_error(err: BodyError, meta: Meta, json_type: JsonType) -> Response<Body> {
    match err {
        BodyError::TooLarge => response::too_large(meta),
        BodyError::Corrupt => response::error(meta, json_type, &serialization()),
        BodyError::Io => {
            let mut response = response::build(meta, StatusCode::BAD_REQUEST, None, Bytes::new());
            response
                .headers_mut()
                .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn is_gzip(encoding: Option<&HeaderValue>) -> bool {
    encoding.is_some_and(|v| {
        let v = v.as_bytes().trim_ascii();
        v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip")
    })
}

fn health(meta: Meta) -> Response<Body> {
    response::build(
        meta,
        StatusCode::OK,
        None,
        Bytes::from_static(HEALTH_TEXT.as_bytes()),
    )
}

/// A CORS preflight (`OPTIONS` with `Origin`): allow whatever is asked.
fn preflight(headers: &HeaderMap, meta: Meta) -> Response<Body> {
    let mut response = response::build(meta, StatusCode::OK, None, Bytes::new());
    let out = response.headers_mut();
    if let Some(requested) = headers.get(ACCESS_CONTROL_REQUEST_HEADERS) {
        out.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    if let Some(requested) = headers.get(ACCESS_CONTROL_REQUEST_METHOD) {
        out.insert(ACCESS_CONTROL_ALLOW_METHODS, requested.clone());
    }
    out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("172800"));
    response
}
