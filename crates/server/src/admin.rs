//! The admin HTTP API: the credential store's operations as
//! `POST /_openddb/admin/v1/<Operation>` with a JSON body, on the
//! DynamoDB port. DynamoDB's API is `POST /` with `X-Amz-Target`, and no
//! SDK sends a request to this path, so the two cannot collide.
//!
//! Every request must carry `Authorization: Bearer <admin token>`; the
//! token is compared in constant time. Without one the answer is `401
//! MissingAuthenticationToken`, with a wrong one `403 AccessDenied`, both
//! before the body is read. A server started without an admin token has
//! no admin API: the path answers `404 AdminApiDisabled`.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_LENGTH, WWW_AUTHENTICATE};
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use openddb_auth::store::{admin, AdminToken, Store};
use serde_json::json;

use crate::body::{self, BodyError};
use crate::handler::State;
use crate::response::{self, Body, JsonType, Meta};

/// Where the admin API lives.
pub(crate) const PREFIX: &str = "/_openddb/admin/";

/// The current version's prefix.
const V1: &str = "/_openddb/admin/v1/";

/// The largest admin request body: a policy document is at most 131,072
/// characters, each at most six bytes as a JSON escape.
const MAX_ADMIN_BODY: usize = 1 << 20;

/// What the admin API needs: the store it manages and the token that
/// opens it.
#[derive(Debug, Clone)]
pub struct AdminApi {
    pub store: Arc<Store>,
    pub token: AdminToken,
}

fn answer(meta: Meta, status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    response::build(meta, status, Some(JsonType::Json), Bytes::from(body))
}

fn refusal(meta: Meta, status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    answer(meta, status, &json!({ "__type": kind, "message": message }))
}

/// Serves one request under [`PREFIX`].
pub(crate) async fn handle(
    state: &State,
    parts: &Parts,
    body: Incoming,
    meta: Meta,
    arrived: Instant,
) -> Response<Body> {
    let Some(api) = &state.admin else {
        return refusal(
            meta,
            StatusCode::NOT_FOUND,
            "AdminApiDisabled",
            "This server has no admin API: start it with a data directory (its admin-token \
             file is made on first start) or with --admin-token-file.",
        );
    };
    // Authentication comes first: nothing about the API is told to a
    // client without the token.
    let presented = parts
        .headers
        .get(AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .and_then(|v| {
            let (scheme, token) = v.split_at(v.iter().position(|&b| b == b' ')?);
            scheme
                .eq_ignore_ascii_case(b"Bearer")
                .then(|| token.trim_ascii())
        });
    match presented {
        None => {
            let mut response = refusal(
                meta,
                StatusCode::UNAUTHORIZED,
                "MissingAuthenticationToken",
                "The admin API needs an 'Authorization: Bearer <admin token>' header.",
            );
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"openddb-admin\""),
            );
            return response;
        }
        Some(token) if !api.token.verify(token) => {
            return refusal(
                meta,
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "The admin token is not valid.",
            );
        }
        Some(_) => {}
    }
    let path = parts.uri.path();
    let Some(operation) = path.strip_prefix(V1).filter(|op| !op.is_empty()) else {
        return refusal(
            meta,
            StatusCode::NOT_FOUND,
            "UnknownOperation",
            &format!("No admin API at {path}: operations are POST {V1}<Operation>."),
        );
    };
    if parts.method != Method::POST {
        let mut response = refusal(
            meta,
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Admin operations are POST requests.",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let Some(slot) = state.admission.request() else {
        return response::throttled(meta, JsonType::Json);
    };
    let deadline =
        tokio::time::Instant::from_std(arrived + state.admission.limits.body_read_timeout);
    let content_length = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let held = match body::read(
        body,
        content_length,
        MAX_ADMIN_BODY,
        &state.admission,
        deadline,
    )
    .await
    {
        Ok(held) => held,
        Err(BodyError::TooLarge) => {
            return response::closing(refusal(
                meta,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLarge",
                &format!("Admin request bodies are at most {MAX_ADMIN_BODY} bytes."),
            ))
        }
        Err(BodyError::Throttled) => return response::throttled(meta, JsonType::Json),
        Err(BodyError::TimedOut) => return response::timed_out(meta),
        Err(BodyError::Io | BodyError::Corrupt) => {
            return response::closing(refusal(
                meta,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "The request body could not be read.",
            ))
        }
    };
    // Writes fsync: off the async workers.
    let store = api.store.clone();
    let operation_name = operation.to_owned();
    let result =
        tokio::task::spawn_blocking(move || admin::execute(&store, &operation_name, &held.bytes))
            .await;
    drop(slot);
    match result {
        Ok(Ok(value)) => {
            tracing::info!(operation, request_id = %meta.request_id, "admin operation");
            answer(meta, StatusCode::OK, &value)
        }
        Ok(Err(err)) => {
            let status = StatusCode::from_u16(err.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_server_error() {
                tracing::error!(operation, request_id = %meta.request_id, error = %err, "admin operation failed");
            }
            answer(meta, status, &admin::error_body(&err))
        }
        Err(join) => {
            tracing::error!(operation, request_id = %meta.request_id, error = %join, "admin operation panicked");
            refusal(
                meta,
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceFailure",
                "Internal server error",
            )
        }
    }
}
