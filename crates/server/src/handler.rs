//! One HTTP request to one DynamoDB answer, in DynamoDB's order of checks:
//! method → body size → content type → target → signature (all but the
//! signature itself) → body → signature → engine.
//!
//! The server's limits come first where they can refuse without the body
//! (requests in flight: the server's on arrival, the account's once the
//! request is known to reach the engine), but a request takes its slots
//! only once its body has arrived, so that a body on its way holds none.
//! The body is held in memory, against the body budget, only when the
//! answer needs it: a body with the wrong content type is answered from
//! its length alone.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{Database, RequestContext};

use crate::auth::{self, Authenticated, Authenticator};
use crate::body::{self, BodyError, Held, MAX_REQUEST_BYTES};
use crate::limits::Admission;
use crate::response::{self, Body, JsonType, Meta};
use crate::target::{self, Target};
use crate::DispatchHook;

const X_AMZ_TARGET: &str = "x-amz-target";

/// What `GET /` answers: DynamoDB's load-balancer health text.
const HEALTH_TEXT: &str = "healthy: dynamodb.us-east-1.amazonaws.com ";

/// What every request handler shares.
pub(crate) struct State {
    pub db: Arc<Database>,
    pub admission: Admission,
    pub auth: Authenticator,
    /// Which database each request runs in.
    pub tenancy: crate::Tenancy,
    /// Says in the log which database a new key and region landed in.
    pub announcer: crate::tenancy::Announcer,
    /// Which browser origins may read answers.
    pub cors: crate::Cors,
    /// Test-only: called with the operation just before the engine runs it.
    pub hook: Option<DispatchHook>,
    /// The admin API, when the server has an admin token.
    pub admin: Option<crate::admin::AdminApi>,
}

/// Serves one request; never fails, every problem becomes a DynamoDB answer.
pub(crate) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
    meta: Meta,
    secure: bool,
) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    if parts.uri.path().starts_with(crate::admin::PREFIX) {
        return crate::admin::handle(&state, &parts, body, meta, started).await;
    }
    let (response, (operation, database)) = match parts.method {
        Method::POST if state.admission.request_free() => {
            let (path, query) = (parts.uri.path(), parts.uri.query());
            post(
                &state,
                &parts.headers,
                path,
                query,
                body,
                meta,
                started,
                secure,
            )
            .await
        }
        Method::POST => (
            response::throttled(meta, answer_type(&parts.headers)),
            NOT_RUN,
        ),
        Method::GET => (health(meta), NOT_RUN),
        Method::OPTIONS if meta.cors => (preflight(&parts.headers, meta), NOT_RUN),
        _ => (response::not_found(meta), NOT_RUN),
    };
    tracing::debug!(
        method = %parts.method,
        operation,
        database = database.as_deref().unwrap_or(""),
        request_id = %meta.request_id,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// The media type of a JSON answer to a request with these headers.
pub(crate) fn answer_type(headers: &HeaderMap) -> JsonType {
    JsonType::from_request(headers.get(CONTENT_TYPE)).unwrap_or(JsonType::Json)
}

/// For the log: the operation a request named, and the database it ran in
/// (`None` if it reached no database).
type Ran<'h> = (&'h str, Option<String>);

/// What the log says of a request that named no operation.
const NOT_RUN: Ran<'static> = ("", None);

/// `POST` is the API. Returns the answer and, for the log, what ran where.
// The request's parts as hyper hands them over; bundling them would only
// rename them.
#[allow(clippy::too_many_arguments)]
async fn post<'h>(
    state: &State,
    headers: &'h HeaderMap,
    path: &'h str,
    query: Option<&'h str>,
    body: Incoming,
    meta: Meta,
    arrived: Instant,
    secure: bool,
) -> (Response<Body>, Ran<'h>) {
    let admission = &state.admission;
    let deadline = tokio::time::Instant::from_std(arrived + admission.limits.body_read_timeout);
    let content_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if content_length.is_some_and(|len| len > MAX_REQUEST_BYTES as u64) {
        return (response::too_large(meta), NOT_RUN);
    }

    // Any body must be JSON by content type; an empty one may say anything.
    // Which it is is all that matters here, so the body is counted, not kept.
    let (json_type, body) = match JsonType::from_request(headers.get(CONTENT_TYPE)) {
        Some(json_type) => (json_type, Some(body)),
        None => match body::drain(body, content_length, MAX_REQUEST_BYTES, deadline).await {
            Ok(0) => (JsonType::Json, None),
            Ok(_) => return (response::not_found(meta), NOT_RUN),
            Err(err) => return (body_error(err, meta, JsonType::Json), NOT_RUN),
        },
    };

    // DynamoDB Streams shares the port; its operation names are distinct
    // from DynamoDB's, so the engine dispatches both by name.
    let operation = match target::parse(
        headers
            .get(X_AMZ_TARGET)
            .map_or(&[][..], HeaderValue::as_bytes),
    ) {
        Some(Target::DynamoDb(operation)) | Some(Target::Streams(operation)) => Some(operation),
        None => None,
    };
    let header_list = auth::header_list(headers);
    let request = openddb_auth::sigv4::Request {
        method: "POST",
        path,
        query,
        headers: &header_list,
    };
    let caller = state.auth.begin(&request);

    // A request that will reach the engine counts against its account; one
    // refused for its target or signature does not. Refused now if the
    // account is at its limit, it takes its slot once its body is here.
    // The account is the one the key belongs to (its signature is checked
    // once the body is here), or with `--auth off` the access key id when
    // it is a 12-digit account id (LocalStack's convention), otherwise the
    // default account.
    let account_id = match &caller {
        Ok(caller) => caller.account_id().to_owned(),
        Err(_) => openddb_auth::DEFAULT_ACCOUNT_ID.to_owned(),
    };
    if operation.is_some() && caller.is_ok() && !admission.account_free(&account_id) {
        return (
            response::throttled(meta, json_type),
            (operation.unwrap_or(""), None),
        );
    }

    let held = match body {
        Some(body) => {
            match body::read(body, content_length, MAX_REQUEST_BYTES, admission, deadline).await {
                Ok(held) => held,
                Err(err) => return (body_error(err, meta, json_type), NOT_RUN),
            }
        }
        None => match admission.body(0) {
            Some(reservation) => Held {
                bytes: Bytes::new(),
                reservation,
            },
            None => return (response::throttled(meta, json_type), NOT_RUN),
        },
    };
    // The signature covers the bytes as sent, before any gzip is inflated.
    let caller = caller.and_then(|caller| state.auth.finish(caller, &held.bytes));
    let reaches_engine = operation.is_some() && caller.is_ok();

    // The body is here: from now on the request is in flight.
    let Some(slot) = admission.request() else {
        return (response::throttled(meta, json_type), NOT_RUN);
    };
    let account = if reaches_engine {
        match admission.account(&account_id) {
            Some(slot) => Some(slot),
            None => {
                return (
                    response::throttled(meta, json_type),
                    (operation.unwrap_or(""), None),
                )
            }
        }
    } else {
        None
    };
    let held = if is_gzip(headers.get(CONTENT_ENCODING)) {
        match body::gunzip(held, MAX_REQUEST_BYTES).await {
            Ok(held) => held,
            Err(err) => return (body_error(err, meta, json_type), NOT_RUN),
        }
    } else {
        held
    };
    let body = &held.bytes;

    let fail = |err: DynamoError| response::error(meta, json_type, &err);
    let Some(operation) = operation else {
        let err = protocol_error(body, ErrorKind::UnknownOperationException);
        return (fail(err), NOT_RUN);
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(err) => {
            let err = if is_json(body) { err } else { serialization() };
            return (fail(err), (operation, None));
        }
    };
    if body.is_empty() {
        return (fail(serialization()), (operation, None));
    }

    let mut ctx = match caller {
        Authenticated::Unverified(caller) => RequestContext {
            account_id: caller.account_id,
            database: None,
            access_key_id: caller.access_key_id,
            region: caller.region,
            principal: None,
            secure_transport: secure,
            authorizer: None,
        },
        Authenticated::Verified(verified) => RequestContext {
            account_id: verified.principal.account_id.clone(),
            database: None,
            access_key_id: verified.access_key_id,
            region: verified.region,
            principal: Some(verified.principal),
            secure_transport: secure,
            authorizer: state.auth.authorizer().cloned(),
        },
    };
    match state.tenancy.database(&ctx.access_key_id, &ctx.region) {
        Ok(None) => {}
        Ok(Some(database)) => {
            if state.tenancy == crate::Tenancy::KeyRegion {
                state
                    .announcer
                    .first_use(&database, &ctx.access_key_id, &ctx.region);
            }
            ctx.database = Some(database);
        }
        Err(err) => return (fail(err), (operation, None)),
    }
    if let Some(hook) = &state.hook {
        hook(operation).await;
    }
    let response = match state.db.dispatch(&ctx, operation, body).await {
        Ok(json) => response::build(meta, StatusCode::OK, Some(json_type), Bytes::from(json)),
        Err(err) => {
            if err.kind.http_status() >= 500 {
                // The engine logged the cause; this ties it to the request
                // id the client can quote.
                tracing::error!(
                    request_id = %meta.request_id,
                    operation,
                    error = %err,
                    "answered with a server error"
                );
            }
            fail(err)
        }
    };
    drop((held, account, slot));
    let database = ctx.database.unwrap_or(ctx.account_id);
    (response, (operation, Some(database)))
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
        // Hyper drains what is left of the body if it has arrived, and
        // closes the connection otherwise.
        BodyError::Throttled => response::throttled(meta, json_type),
        BodyError::TimedOut => response::timed_out(meta),
        BodyError::Io => response::closing(response::build(
            meta,
            StatusCode::BAD_REQUEST,
            None,
            Bytes::new(),
        )),
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

/// A CORS preflight (`OPTIONS` with `Origin`): whatever method and headers
/// are asked for are allowed; whether the origin is, is added around the
/// handler (`cors`), as for every answer.
fn preflight(headers: &HeaderMap, meta: Meta) -> Response<Body> {
    let mut response = response::build(meta, StatusCode::OK, None, Bytes::new());
    crate::cors::preflight_headers(headers, response.headers_mut());
    response
}
