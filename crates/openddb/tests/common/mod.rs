//! Shared helpers for the end-to-end tests: an openddb server on a loopback
//! port (in-process, or the real binary) and an `aws-sdk-dynamodb` client
//! pointed at it over plain HTTP.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use openddb::{Database, StorageConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An SDK client for the server at `addr`, with static credentials and
/// retries off: a test sees every answer exactly as the server gave it.
pub fn client(addr: SocketAddr) -> Client {
    client_with_key(addr, "AKIDOPENDDBTEST")
}

/// Like [`client`], signing with `access_key_id` (openddb keeps one isolated
/// database per account behind an access key).
pub fn client_with_key(addr: SocketAddr, access_key_id: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key_id,
            "secret",
            None,
            None,
            "static",
        ))
        // Plain HTTP/1.1 over hyper 1, no TLS stack compiled in.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// The message of an error as a user reads it. Since June 2026 DynamoDB
/// wraps some validation messages in a `1 validation error detected: `
/// envelope and not others, and not alike in every region (see
/// shared/docs/conformance.md), so tests compare the message without it.
pub fn message<E: ProvideErrorMetadata>(err: &E) -> Option<&str> {
    err.message()
        .map(|m| m.strip_prefix("1 validation error detected: ").unwrap_or(m))
}

/// An openddb server running inside the test's tokio runtime.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves a fresh in-memory database on 127.0.0.1 with a free port.
    pub async fn in_memory() -> Server {
        Server::start(StorageConfig::InMemory).await
    }

    /// Serves the durable database in `dir`.
    pub async fn durable(dir: &Path) -> Server {
        Server::start(StorageConfig::Directory(dir.to_path_buf())).await
    }

    pub async fn start(storage: StorageConfig) -> Server {
        Server::with_database(Database::open(storage).expect("open the database")).await
    }

    /// Serves an already configured database (fault injection, say) on
    /// 127.0.0.1 with a free port.
    pub async fn with_database(db: Database) -> Server {
        let db = Arc::new(db);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(openddb::server::serve(db, listener, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            stop: Some(stop),
            task,
        }
    }

    pub fn client(&self) -> Client {
        client(self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and waits until the
    /// server (and with it the database) is gone.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("the server stops after shutdown")
            .expect("the server task does not panic")
            .expect("the server stops cleanly");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `AttributeValue::S`.
pub fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// `AttributeValue::N`.
pub fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

/// A map from `(name, value)` pairs, as items and keys are built.
pub fn item<const N: usize>(pairs: [(&str, AttributeValue); N]) -> HashMap<String, AttributeValue> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Creates an on-demand table keyed by `pk` (a string), plus `sk` (a string)
/// when `with_sort_key`.
pub async fn create_table(client: &Client, name: &str, with_sort_key: bool) {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash));
    if with_sort_key {
        request = request
            .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
            .key_schema(key_elem("sk", KeyType::Range));
    }
    request.send().await.expect("CreateTable");
}

pub fn attr_def(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .expect("attribute definition")
}

pub fn key_elem(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("key schema element")
}
