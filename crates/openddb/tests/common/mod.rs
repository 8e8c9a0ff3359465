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

pub mod admin;
pub mod faults;
pub mod load;
mod process;
pub use process::ServerProcess;

/// An SDK client for the server at `addr`, with static credentials and
/// retries off: a test sees every answer exactly as the server gave it.
pub fn client(addr: SocketAddr) -> Client {
    client_with_key(addr, "AKIDOPENDDBTEST")
}

/// Like [`client`], signing with `access_key_id` (openddb keeps one isolated
/// database per account behind an access key).
pub fn client_with_key(addr: SocketAddr, access_key_id: &str) -> Client {
    client_as(addr, access_key_id, "us-east-1")
}

/// Like [`client`], signing with `access_key_id` for `region` (the region
/// the server names resources in).
pub fn client_as(addr: SocketAddr, access_key_id: &str, region: &str) -> Client {
    client_signed(addr, access_key_id, "secret", None, region)
}

/// Like [`client`], signing with these credentials (for servers that
/// verify signatures).
pub fn client_with_credentials(
    addr: SocketAddr,
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> Client {
    client_signed(addr, access_key_id, secret, session_token, "us-east-1")
}

fn client_signed(
    addr: SocketAddr,
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
    region: &str,
) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(
            access_key_id,
            secret,
            session_token.map(str::to_owned),
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
        Server::with_auth(db, openddb::server::Authentication::Off).await
    }

    /// Serves a database the test keeps a handle on (to read its counters).
    pub async fn with_shared_database(db: Arc<Database>) -> Server {
        Server::with_shared_auth(db, openddb::server::Authentication::Off).await
    }

    /// Serves `db` on 127.0.0.1 with a free port, authenticating requests
    /// as `auth` says.
    pub async fn with_auth(db: Database, auth: openddb::server::Authentication) -> Server {
        Server::with_shared_auth(Arc::new(db), auth).await
    }

    /// [`Server::with_auth`] for a database the test keeps a handle on.
    pub async fn with_shared_auth(
        db: Arc<Database>,
        auth: openddb::server::Authentication,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(openddb::server::serve_with_auth(
            db,
            listener,
            openddb::server::Limits::default(),
            auth,
            async {
                let _ = stopped.await;
            },
        ));
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

/// Creates an on-demand table keyed by `pk` (and `sk` when `with_sort_key`)
/// with a stream of `view_type`; returns the stream ARN CreateTable gave.
pub async fn create_stream_table(
    client: &Client,
    name: &str,
    view_type: &str,
    with_sort_key: bool,
) -> String {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view_type))
                .build()
                .expect("stream specification"),
        );
    if with_sort_key {
        request = request
            .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
            .key_schema(key_elem("sk", KeyType::Range));
    }
    let out = request.send().await.expect("CreateTable with a stream");
    out.table_description
        .expect("TableDescription")
        .latest_stream_arn
        .expect("CreateTable returns LatestStreamArn")
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

/// An `aws-sdk-dynamodbstreams` client for the server at `addr`, set up
/// like [`client`] (same credentials, so the same account's streams).
pub fn streams_client(addr: SocketAddr) -> aws_sdk_dynamodbstreams::Client {
    streams_client_as(addr, "AKIDOPENDDBTEST", "us-east-1")
}

/// Like [`streams_client`], signing with `access_key_id` (its account's
/// streams).
pub fn streams_client_with_key(
    addr: SocketAddr,
    access_key_id: &str,
) -> aws_sdk_dynamodbstreams::Client {
    streams_client_as(addr, access_key_id, "us-east-1")
}

/// Like [`streams_client`], signing with `access_key_id` for `region`.
pub fn streams_client_as(
    addr: SocketAddr,
    access_key_id: &str,
    region: &str,
) -> aws_sdk_dynamodbstreams::Client {
    use aws_sdk_dynamodbstreams::config as sc;
    let config = sc::Config::builder()
        .behavior_version(sc::BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(sc::Region::new(region.to_owned()))
        .credentials_provider(sc::Credentials::new(
            access_key_id.to_owned(),
            "secret",
            None,
            None,
            "static",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(sc::retry::RetryConfig::disabled())
        .timeout_config(
            sc::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

impl Server {
    /// Serves a database whose streams cut their shards by `settings`
    /// (tiny shards, say), in memory or in `storage`'s directory.
    pub async fn with_stream_settings(
        storage: StorageConfig,
        settings: openddb::StreamSettings,
    ) -> Server {
        let db = Database::open(storage)
            .expect("open the database")
            .with_stream_settings(settings);
        Server::with_database(db).await
    }

    pub fn streams(&self) -> aws_sdk_dynamodbstreams::Client {
        streams_client(self.addr)
    }
}

/// A Streams attribute value as the DynamoDB client's type (the two SDKs
/// model the same shape twice).
pub fn from_stream_value(v: &aws_sdk_dynamodbstreams::types::AttributeValue) -> AttributeValue {
    use aws_sdk_dynamodbstreams::types::AttributeValue as S;
    match v {
        S::B(b) => AttributeValue::B(b.clone()),
        S::Bool(b) => AttributeValue::Bool(*b),
        S::Bs(bs) => AttributeValue::Bs(bs.clone()),
        S::L(l) => AttributeValue::L(l.iter().map(from_stream_value).collect()),
        S::M(m) => AttributeValue::M(from_stream_item(m)),
        S::N(n) => AttributeValue::N(n.clone()),
        S::Ns(ns) => AttributeValue::Ns(ns.clone()),
        S::Null(b) => AttributeValue::Null(*b),
        S::S(s) => AttributeValue::S(s.clone()),
        S::Ss(ss) => AttributeValue::Ss(ss.clone()),
        other => panic!("unknown stream attribute value {other:?}"),
    }
}

/// A Streams image (`Keys`, `NewImage`, `OldImage`) as a DynamoDB item.
pub fn from_stream_item(
    m: &HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
) -> HashMap<String, AttributeValue> {
    m.iter()
        .map(|(k, v)| (k.clone(), from_stream_value(v)))
        .collect()
}

/// A sequence number as a number (they are decimal strings that compare
/// as numbers, not always as text).
pub fn seq_number(seq: &str) -> u128 {
    seq.parse()
        .unwrap_or_else(|_| panic!("sequence number {seq:?} is not a decimal number"))
}

/// Every shard of a stream, following `LastEvaluatedShardId` pages, with
/// the stream's description (of the first page).
pub async fn describe_all_shards(
    streams: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
) -> (
    aws_sdk_dynamodbstreams::types::StreamDescription,
    Vec<aws_sdk_dynamodbstreams::types::Shard>,
) {
    let mut shards = Vec::new();
    let mut first = None;
    let mut start: Option<String> = None;
    loop {
        let out = streams
            .describe_stream()
            .stream_arn(arn)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeStream {arn}: {e:?}"));
        let d = out.stream_description.expect("StreamDescription");
        shards.extend(d.shards.clone().unwrap_or_default());
        start = d.last_evaluated_shard_id.clone();
        first.get_or_insert(d);
        if start.is_none() {
            break;
        }
    }
    (first.expect("one page"), shards)
}

/// Orders shards so that each comes after its parent (a parent no longer
/// listed counts as done), keeping the listed order otherwise.
pub fn lineage_order(
    shards: &[aws_sdk_dynamodbstreams::types::Shard],
) -> Vec<aws_sdk_dynamodbstreams::types::Shard> {
    let listed: std::collections::HashSet<&str> =
        shards.iter().filter_map(|s| s.shard_id()).collect();
    let mut done: std::collections::HashSet<String> = Default::default();
    let mut out = Vec::with_capacity(shards.len());
    while out.len() < shards.len() {
        let before = out.len();
        for s in shards {
            let id = s.shard_id().expect("ShardId");
            if done.contains(id) {
                continue;
            }
            let ready = match s.parent_shard_id() {
                Some(p) => done.contains(p) || !listed.contains(p),
                None => true,
            };
            if ready {
                done.insert(id.to_owned());
                out.push(s.clone());
            }
        }
        assert!(out.len() > before, "shard lineage has a cycle: {shards:?}");
    }
    out
}

/// One shard read from `TRIM_HORIZON` until a read returns nothing (an
/// open shard) or no next iterator (a closed shard read to its end).
pub struct ShardRead {
    pub shard: aws_sdk_dynamodbstreams::types::Shard,
    pub records: Vec<aws_sdk_dynamodbstreams::types::Record>,
    /// The last read returned no `NextShardIterator`.
    pub exhausted: bool,
}

/// Reads every record of every shard of a stream, parents before children.
pub async fn read_stream(streams: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Vec<ShardRead> {
    read_stream_with(streams, arn, false).await
}

/// [`read_stream`] while a trim may be running: a shard whose records are
/// trimmed under the reader (`TrimmedDataAccessException`, as a consumer
/// meets it) is read again from its new `TRIM_HORIZON`.
#[allow(dead_code)]
pub async fn read_stream_during_trim(
    streams: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
) -> Vec<ShardRead> {
    read_stream_with(streams, arn, true).await
}

async fn read_stream_with(
    streams: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
    reread_trimmed: bool,
) -> Vec<ShardRead> {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let (_, shards) = describe_all_shards(streams, arn).await;
    let mut out = Vec::new();
    for shard in lineage_order(&shards) {
        let id = shard.shard_id().expect("ShardId").to_owned();
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(&id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetShardIterator {id}: {e:?}"))
            .shard_iterator;
        let mut records = Vec::new();
        let mut exhausted = false;
        while let Some(it) = iterator.take() {
            let page = match streams.get_records().shard_iterator(it).send().await {
                Ok(page) => page,
                Err(aws_sdk_dynamodbstreams::error::SdkError::ServiceError(e))
                    if reread_trimmed && e.err().is_trimmed_data_access_exception() =>
                {
                    records.clear();
                    iterator = streams
                        .get_shard_iterator()
                        .stream_arn(arn)
                        .shard_id(&id)
                        .shard_iterator_type(ShardIteratorType::TrimHorizon)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("GetShardIterator {id}: {e:?}"))
                        .shard_iterator;
                    continue;
                }
                Err(e) => panic!("GetRecords {id}: {e:?}"),
            };
            let got = page.records.unwrap_or_default();
            let empty = got.is_empty();
            records.extend(got);
            match page.next_shard_iterator {
                None => exhausted = true,
                Some(next) if !empty => iterator = Some(next),
                Some(_) => {}
            }
        }
        out.push(ShardRead {
            shard,
            records,
            exhausted,
        });
    }
    out
}

impl ServerProcess {
    pub fn client(&self) -> Client {
        client(self.addr)
    }

    pub fn streams(&self) -> aws_sdk_dynamodbstreams::Client {
        streams_client(self.addr)
    }
}

/// Enables a stream of `view` on `table`; returns its ARN.
pub async fn enable_stream(
    client: &Client,
    table: &str,
    view: aws_sdk_dynamodb::types::StreamViewType,
) -> String {
    client
        .update_table()
        .table_name(table)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .expect("stream specification"),
        )
        .send()
        .await
        .expect("enable the stream")
        .table_description
        .and_then(|t| t.latest_stream_arn)
        .expect("LatestStreamArn")
}

/// Stores `it` in `table` (PutItem), expecting success.
pub async fn put(client: &Client, table: &str, it: HashMap<String, AttributeValue>) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(it))
        .send()
        .await
        .expect("PutItem");
}

/// The item of `table` with `pk`, read consistently.
pub async fn get_consistent(
    client: &Client,
    table: &str,
    pk: &str,
) -> Result<
    Option<HashMap<String, AttributeValue>>,
    aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::get_item::GetItemError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
> {
    Ok(client
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .consistent_read(true)
        .send()
        .await?
        .item)
}

/// A BatchWriteItem request putting `it`.
pub fn put_request(it: HashMap<String, AttributeValue>) -> aws_sdk_dynamodb::types::WriteRequest {
    aws_sdk_dynamodb::types::WriteRequest::builder()
        .put_request(
            aws_sdk_dynamodb::types::PutRequest::builder()
                .set_item(Some(it))
                .build()
                .expect("put request"),
        )
        .build()
}

/// The integer in `item[name]`.
pub fn num(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().expect("an integer"),
        other => panic!("{name} is not a number in {item:?}: {other:?}"),
    }
}

/// A small deterministic PRNG (xorshift64*): the tests need no `rand`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A short random pause before a retry, so that contenders spread out.
    pub async fn backoff(&mut self) {
        tokio::time::sleep(Duration::from_micros(200 + self.below(1800))).await;
    }
}
