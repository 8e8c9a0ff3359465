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

mod auth;
mod body;
mod handler;
mod response;
mod target;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use openddb_engine::Database;
use tokio::net::TcpListener;

pub use body::MAX_REQUEST_BYTES;

/// How long a connection may sit without sending a complete request head
/// before it is closed. Longer than the idle timeout of SDK connection pools
/// (90 s in the Rust SDK), so a pooled connection is not closed under a client
/// just as it reuses it.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Host name or address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// TCP port; 0 picks a free one (see [`TcpListener::local_addr`]).
    pub port: u16,
}

impl Default for ServerConfig {
    /// `127.0.0.1:8000`, DynamoDB Local's customary port.
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 8000,
        }
    }
}

/// Binds a listener for `config`.
pub async fn bind(config: &ServerConfig) -> io::Result<TcpListener> {
    TcpListener::bind((config.host.as_str(), config.port)).await
}

/// Serves the DynamoDB API for `db` on `listener` until `shutdown` resolves;
/// then stops accepting, lets requests in flight finish, closes idle
/// keep-alive connections and returns.
pub async fn serve(
    db: Arc<Database>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
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
        let db = Arc::clone(&db);
        let service = service_fn(move |request| {
            let db = Arc::clone(&db);
            async move { Ok::<_, Infallible>(handler::handle(db, request).await) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::debug!(connections = graceful.count(), "shutting down");
    graceful.shutdown().await;
    Ok(())
}

/// Accept errors are about one connection or a passing shortage (too many
/// open files); neither should stop the server. Back off on shortages so a
/// full descriptor table does not spin the loop.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::*;
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
