//! The DynamoDB wire protocol (AWS JSON 1.0 over HTTP/1.1) in front of the
//! engine: one `POST /` route whose `X-Amz-Target` names the operation.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use openddb_engine::{Database, StorageConfig};
//! use openddb_server::{bind, serve, ServerConfig};
//!
//! let db = Arc::new(Database::open(StorageConfig::InMemory).expect("open"));
//! let listener = bind(&ServerConfig::default()).await?;
//! serve(db, listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
#![forbid(unsafe_code)]

mod admin;
mod auth;
mod body;
mod cors;
mod handler;
mod io;
mod limits;
mod response;
mod target;
mod tenancy;
mod tls;
mod unwind;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::ORIGIN;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use openddb_engine::Database;
use tokio::net::TcpListener;

pub use admin::AdminApi;
pub use auth::Authentication;
pub use body::MAX_REQUEST_BYTES;
pub use cors::Cors;
pub use limits::Limits;
pub use tenancy::{Tenancy, SHARED_DATABASE};
pub use tls::{Tls, TlsError, SELF_SIGNED_NAMES};

use auth::Authenticator;
use handler::State;
use limits::{Accepted, Admission, Slot};
use response::{Meta, RequestId};

/// A connection over the connection limit gets this long at most to send
/// the request it is refused with.
const REFUSAL_HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Test-only: called with each operation just before the engine runs it
/// (after the request's limits are taken and its body read), and awaited;
/// tests use it to hold requests in flight or to inject a panic. Not
/// reachable from the `openddb` binary.
#[doc(hidden)]
pub type DispatchHook =
    Arc<dyn Fn(&str) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Where the server listens, what it holds at once, and how it
/// authenticates requests.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Host name or address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// TCP port; 0 picks a free one (see [`TcpListener::local_addr`]).
    pub port: u16,
    /// Resource bounds and timeouts (see [`serve_with`]).
    pub limits: Limits,
    /// Whether signatures are verified (see [`serve_with_auth`]).
    pub auth: Authentication,
}

impl Default for ServerConfig {
    /// `127.0.0.1:8000`, DynamoDB Local's customary port, default limits,
    /// signatures not verified.
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8000,
            limits: Limits::default(),
            auth: Authentication::Off,
        }
    }
}

/// Binds a listener for `config`.
pub async fn bind(config: &ServerConfig) -> std::io::Result<TcpListener> {
    TcpListener::bind((config.host.as_str(), config.port)).await
}

/// Serves the DynamoDB API for `db` on `listener` with the default
/// [`Limits`] until `shutdown` resolves; then stops accepting, lets requests
/// in flight finish, closes idle keep-alive connections and returns.
pub async fn serve(
    db: Arc<Database>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(db, listener, Limits::default(), shutdown).await
}

/// [`serve`] within `limits`: past a bound on connections, requests in
/// flight or buffered bodies, a request is answered at once with DynamoDB's
/// `RequestLimitExceeded` (which the AWS SDKs retry with backoff), never
/// queued; clients that send or read too slowly are disconnected.
pub async fn serve_with(
    db: Arc<Database>,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(
        db,
        listener,
        Options {
            limits,
            ..Options::default()
        },
        shutdown,
    )
    .await
}

/// [`serve_with`] over TLS: every connection must complete a TLS handshake
/// (within the limits' header-read timeout) before it is read as HTTP/1.1;
/// plain HTTP on this listener gets no answer.
pub async fn serve_tls(
    db: Arc<Database>,
    listener: TcpListener,
    limits: Limits,
    tls: Tls,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(
        db,
        listener,
        Options {
            limits,
            tls: Some(tls),
            ..Options::default()
        },
        shutdown,
    )
    .await
}

/// [`serve_with`], authenticating requests as `auth` says: with
/// [`Authentication::Sigv4`] every request's signature is verified and the
/// request runs in the account of the key that signed it.
pub async fn serve_with_auth(
    db: Arc<Database>,
    listener: TcpListener,
    limits: Limits,
    auth: Authentication,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(
        db,
        listener,
        Options {
            limits,
            auth,
            ..Options::default()
        },
        shutdown,
    )
    .await
}

/// The general form: every [`ServeOptions`] choice.
pub async fn serve_configured(
    db: Arc<Database>,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(db, listener, options, shutdown).await
}

/// [`serve_with`], with the admin HTTP API (`/_openddb/admin/v1/…`) when
/// `admin` is given; without it that path answers 404.
pub async fn serve_with_admin(
    db: Arc<Database>,
    listener: TcpListener,
    limits: Limits,
    admin: Option<AdminApi>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(
        db,
        listener,
        Options {
            limits,
            admin,
            ..Options::default()
        },
        shutdown,
    )
    .await
}

/// [`serve_with`] with a [`DispatchHook`]; for tests only.
#[doc(hidden)]
pub async fn serve_with_hook(
    db: Arc<Database>,
    listener: TcpListener,
    limits: Limits,
    hook: DispatchHook,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run(
        db,
        listener,
        Options {
            limits,
            hook: Some(hook),
            ..Options::default()
        },
        shutdown,
    )
    .await
}

/// What a server is made of besides its database and listener; every
/// `serve*` form fills in some of it.
#[derive(Default)]
pub struct ServeOptions {
    /// Resource bounds and timeouts.
    pub limits: Limits,
    /// HTTPS instead of HTTP.
    pub tls: Option<Tls>,
    /// How requests are authenticated (and, with `iam`, authorized).
    pub auth: Authentication,
    /// Which database each request runs in.
    pub tenancy: Tenancy,
    /// Which browser origins may read answers.
    pub cors: Cors,
    /// The admin API (`/_openddb/admin/v1/…`); without it that path
    /// answers 404.
    pub admin: Option<AdminApi>,
    #[doc(hidden)]
    pub hook: Option<DispatchHook>,
}

use ServeOptions as Options;

async fn run(
    db: Arc<Database>,
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let Options {
        limits,
        tls,
        auth,
        tenancy,
        cors,
        hook,
        admin,
    } = options;
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut refusing = http1::Builder::new();
    refusing
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout.min(REFUSAL_HEAD_TIMEOUT));
    let write_stall = limits.write_stall_timeout;
    let handshake_timeout = limits.header_read_timeout;
    let state = Arc::new(State {
        db,
        admission: Admission::new(limits),
        auth: Authenticator::new(auth),
        tenancy,
        announcer: tenancy::Announcer::default(),
        cors,
        hook,
        admin,
    });
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        // Requests and answers are small and latency-bound.
        let _ = stream.set_nodelay(true);
        let (builder, slot, refuse) = match state.admission.connection() {
            Accepted::Serve(slot) => (&http, slot, false),
            Accepted::Refuse(slot) => {
                tracing::debug!(%peer, "over the connection limit: refusing its request");
                (&refusing, slot, true)
            }
            Accepted::Close => {
                tracing::debug!(%peer, "over the connection limit: closed at once");
                continue;
            }
        };
        let socket = io::StallGuarded::new(stream, write_stall);
        let state = state.clone();
        let secure = tls.is_some();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(answer(state, request, refuse, secure).await) }
        });
        match &tls {
            None => {
                let connection =
                    graceful.watch(builder.serve_connection(TokioIo::new(socket), service));
                tokio::spawn(watch_connection(connection, slot, peer));
            }
            Some(tls) => {
                // The handshake runs on the connection's own task, bounded
                // like a request head: a client that opens TCP and never
                // finishes it does not hold its slot for long.
                let acceptor = tls.acceptor().clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(socket));
                    let stream = match handshake.await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(err)) => {
                            tracing::debug!(%peer, error = %err, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake not finished in time");
                            return;
                        }
                    };
                    let connection =
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                    watch_connection(connection, slot, peer).await;
                });
            }
        }
    }

    drop(listener);
    tracing::debug!(connections = graceful.count(), "shutting down");
    graceful.shutdown().await;
    Ok(())
}

/// Runs a connection to its end, holding its connection slot till then.
async fn watch_connection<E: std::fmt::Display>(
    connection: impl Future<Output = Result<(), E>>,
    slot: Slot,
    peer: std::net::SocketAddr,
) {
    if let Err(err) = connection.await {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
    drop(slot);
}

/// One request's answer. A panic anywhere in its handling is answered
/// `InternalServerError` and logged with the request id the client sees;
/// the connection and the server go on.
async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
    refuse: bool,
    secure: bool,
) -> hyper::Response<response::Body> {
    let meta = Meta {
        cors: request.headers().contains_key(ORIGIN),
        request_id: RequestId::new(),
    };
    let json_type = handler::answer_type(request.headers());
    let allowed_origin = state.cors.allowed_origin(request.headers());
    let mut response = if refuse {
        response::closing(response::throttled(meta, json_type))
    } else {
        match unwind::catch(handler::handle(state, request, meta, secure)).await {
            Ok(response) => response,
            Err(panic) => {
                tracing::error!(
                    request_id = %meta.request_id,
                    panic = unwind::message(&panic),
                    "request handler panicked; answered InternalServerError"
                );
                response::internal_error(meta, json_type)
            }
        }
    };
    if let Some(allowed) = allowed_origin {
        cors::decorate(response.headers_mut(), allowed);
    }
    response
}

/// Accept errors are about one connection or a passing shortage (too many
/// open files); neither should stop the server. Back off on shortages so a
/// full descriptor table does not spin the loop.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::*;
    match err.kind() {
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock => {
            tracing::debug!(error = %err, "accept failed");
        }
        _ => {
            tracing::warn!(error = %err, "accept failed; retrying shortly");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
