//! The database handle: storage, tenants, and dispatch by action name. The
//! HTTP server and embedded users call the same methods.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use openddb_core::api::{self, from_json_body};
use openddb_core::{DynamoError, ErrorKind};
use openddb_kv::Kv;
use openddb_kv_memory::MemoryKv;
use openddb_kv_sqlite::{SqliteOptions, SqliteTenants};
use parking_lot::RwLock;
use serde::Serialize;

use crate::actions;
use crate::inflight::ConflictFaults;
use crate::run::storage_error;
use crate::sealed::{sealer_for, TokenSecret};
use crate::tenant::Tenant;

/// Where a database keeps its data.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// Durable SQLite files under this directory (one per tenant).
    Directory(PathBuf),
    /// Throw-away memory; nothing survives the process.
    InMemory,
}

/// Who is asking and where: the account (tenant) behind the access key and
/// the region from the request's credential scope (used in ARNs).
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The tenant: every account is its own isolated DynamoDB.
    pub account_id: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    pub region: String,
}

impl Default for RequestContext {
    fn default() -> Self {
        RequestContext {
            account_id: "000000000000".into(),
            access_key_id: String::new(),
            region: "us-east-1".into(),
        }
    }
}

enum Storage {
    Memory,
    Sqlite(Arc<SqliteTenants>),
}

/// An openddb database: many isolated tenants, each its own DynamoDB.
pub struct Database {
    storage: Storage,
    tenants: RwLock<HashMap<String, Arc<Tenant>>>,
    default_context: RequestContext,
    faults: Arc<ConflictFaults>,
    stream_settings: crate::streams::StreamSettings,
    ttl_sweep_interval: std::time::Duration,
    /// Keys the tokens handed to clients: the data directory's, or one
    /// made up for an in-memory database (its tokens die with it).
    token_secret: Result<TokenSecret, String>,
}

/// Bounds on the work storage accepts at once, so that a burst is refused
/// (as DynamoDB's `RequestLimitExceeded`) instead of queued without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageLimits {
    /// Most writes waiting for one tenant file's writer (durable storage
    /// only); a write past it is answered `RequestLimitExceeded`.
    pub write_queue: usize,
    /// Threads committing writes, shared by every tenant (durable storage
    /// only).
    pub writer_threads: usize,
    /// Most tenant files open at once (durable storage only).
    pub max_open_tenants: usize,
}

impl Default for StorageLimits {
    fn default() -> Self {
        let sqlite = SqliteOptions::default();
        StorageLimits {
            write_queue: sqlite.write_queue,
            writer_threads: sqlite.writer_threads,
            max_open_tenants: sqlite.max_open_tenants,
        }
    }
}

impl Database {
    pub fn open(config: StorageConfig) -> Result<Database, DynamoError> {
        Database::open_with_limits(config, StorageLimits::default())
    }

    /// Opens a database whose storage refuses work past `limits`.
    pub fn open_with_limits(
        config: StorageConfig,
        limits: StorageLimits,
    ) -> Result<Database, DynamoError> {
        let (storage, token_secret) = match config {
            StorageConfig::InMemory => (
                Storage::Memory,
                Ok(TokenSecret::random().map_err(DynamoError::internal)?),
            ),
            StorageConfig::Directory(dir) => {
                let options = SqliteOptions {
                    write_queue: limits.write_queue,
                    writer_threads: limits.writer_threads,
                    max_open_tenants: limits.max_open_tenants,
                    ..SqliteOptions::default()
                };
                let tenants = SqliteTenants::open(&dir, options).map_err(|e| {
                    DynamoError::internal(format!("cannot open {}: {e}", dir.display()))
                })?;
                let secret = TokenSecret::new(*tenants.token_secret());
                (Storage::Sqlite(Arc::new(tenants)), Ok(secret))
            }
        };
        Ok(Database {
            storage,
            token_secret,
            tenants: RwLock::new(HashMap::new()),
            default_context: RequestContext::default(),
            faults: Arc::default(),
            stream_settings: Default::default(),
            ttl_sweep_interval: crate::ttl::sweeper::DEFAULT_INTERVAL,
        })
    }

    /// A database that lives in memory only.
    pub fn in_memory() -> Database {
        Database {
            storage: Storage::Memory,
            // Without a random source tokens cannot be made: every request
            // is then refused with an internal error instead of panicking.
            token_secret: TokenSecret::random(),
            tenants: RwLock::new(HashMap::new()),
            default_context: RequestContext::default(),
            faults: Arc::default(),
            stream_settings: Default::default(),
            ttl_sweep_interval: crate::ttl::sweeper::DEFAULT_INTERVAL,
        }
    }

    /// How streams enabled from now on cut their shards (tests use small
    /// shards to exercise consumers that follow shard lineage).
    pub fn with_stream_settings(mut self, settings: crate::streams::StreamSettings) -> Database {
        self.stream_settings = settings;
        self
    }

    /// How often each tenant's Time to Live sweeper looks for expired items
    /// (default 30 s, so an item goes within a minute of its expiry). Set
    /// before the first request.
    pub fn with_ttl_sweep_interval(mut self, interval: std::time::Duration) -> Database {
        self.ttl_sweep_interval = interval;
        self
    }

    /// Fault injection: cancel this share (0 to 1) of TransactWriteItems and
    /// TransactGetItems requests with a `TransactionConflict`, as DynamoDB
    /// does when another request holds one of their items, so that retry
    /// paths can be tested on demand. Set before the first request.
    pub fn with_transaction_conflicts(mut self, share: f64) -> Database {
        self.faults = Arc::new(ConflictFaults::new(share));
        self
    }

    /// The context embedded calls run with.
    pub fn default_context(&self) -> &RequestContext {
        &self.default_context
    }

    /// The tenant of `account_id`, opening its storage and loading its
    /// catalog on the calling thread if it is not loaded yet. For tests;
    /// requests use [`Database::tenant_async`].
    #[cfg(test)]
    pub(crate) fn tenant(&self, account_id: &str) -> Result<Arc<Tenant>, DynamoError> {
        if let Some(t) = self.tenants.read().get(account_id) {
            return Ok(t.clone());
        }
        let tenant = self.tenant_loader(account_id).load()?;
        Ok(self.install(account_id, tenant))
    }

    /// The tenant of `account_id`. A tenant not loaded yet is opened and
    /// loaded on a blocking thread: opening its file and reading its catalog
    /// is disk work that must not hold up the async workers.
    pub(crate) async fn tenant_async(&self, account_id: &str) -> Result<Arc<Tenant>, DynamoError> {
        if let Some(t) = self.tenants.read().get(account_id) {
            return Ok(t.clone());
        }
        let loader = self.tenant_loader(account_id);
        let tenant = crate::run::blocking(move || loader.load()).await?;
        Ok(self.install(account_id, tenant))
    }

    fn tenant_loader(&self, account_id: &str) -> TenantLoader {
        TenantLoader {
            account_id: account_id.to_owned(),
            storage: match &self.storage {
                Storage::Memory => None,
                Storage::Sqlite(tenants) => Some(tenants.clone()),
            },
            faults: self.faults.clone(),
            stream_settings: self.stream_settings,
            ttl_sweep_interval: self.ttl_sweep_interval,
            sealer: sealer_for(&self.token_secret, account_id),
        }
    }

    /// Publishes a freshly loaded tenant and starts its background work;
    /// when another request loaded the same tenant first, that one wins and
    /// this one is dropped unused.
    fn install(&self, account_id: &str, tenant: Tenant) -> Arc<Tenant> {
        let tenant = Arc::new(tenant);
        let mut tenants = self.tenants.write();
        if let Some(t) = tenants.get(account_id) {
            return t.clone();
        }
        tenants.insert(account_id.to_string(), tenant.clone());
        drop(tenants);
        crate::background::resume(&tenant);
        tenant
    }

    /// The storage of `account_id`'s tenant, loading it if needed. For
    /// tests that need to act on storage directly (e.g. hold its writer
    /// busy to fill the write queue); not part of the API.
    #[doc(hidden)]
    pub async fn tenant_storage(&self, account_id: &str) -> Result<Arc<dyn Kv>, DynamoError> {
        Ok(self.tenant_async(account_id).await?.kv.clone())
    }

    /// Runs one wire-protocol action: `operation` is the name after
    /// `DynamoDB_20120810.`, `body` the JSON request. Returns the JSON
    /// response body.
    pub async fn dispatch(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, DynamoError> {
        macro_rules! ops {
            ($($name:literal => $action:path,)*) => {
                match operation {
                    $($name => {
                        let input = from_json_body(body).map_err(|e| {
                            // Values are checked while decoding; the three
                            // conditional writes report them enveloped.
                            if matches!(operation, "PutItem" | "UpdateItem" | "DeleteItem") {
                                actions::common::envelope(e)
                            } else {
                                e
                            }
                        })?;
                        let tenant = self.tenant_async(&ctx.account_id).await?;
                        to_json(&$action(&tenant, ctx, input).await?)
                    })*
                    _ => Err(DynamoError::new(
                        ErrorKind::UnknownOperationException,
                        "",
                    )),
                }
            };
        }
        ops! {
            "CreateTable" => actions::create_table::run,
            "DescribeTable" => actions::describe_table::run,
            "ListTables" => actions::list_tables::run,
            "DeleteTable" => actions::delete_table::run,
            "UpdateTable" => actions::update_table::run,
            "PutItem" => actions::put_item::run,
            "GetItem" => actions::get_item::run,
            "UpdateItem" => actions::update_item::run,
            "DeleteItem" => actions::delete_item::run,
            "Query" => actions::query::run,
            "Scan" => actions::scan::run,
            "BatchGetItem" => actions::batch_get_item::run,
            "BatchWriteItem" => actions::batch_write_item::run,
            "TransactGetItems" => actions::transact_get_items::run,
            "TransactWriteItems" => actions::transact_write_items::run,
            "ExecuteStatement" => actions::execute_statement::run,
            "BatchExecuteStatement" => actions::batch_execute_statement::run,
            "ExecuteTransaction" => actions::execute_transaction::run,
            "UpdateTimeToLive" => actions::update_time_to_live::run,
            "DescribeTimeToLive" => actions::describe_time_to_live::run,
            // DynamoDB Streams (`DynamoDBStreams_20120810`).
            "ListStreams" => actions::list_streams::run,
            "DescribeStream" => actions::describe_stream::run,
            "GetShardIterator" => actions::get_shard_iterator::run,
            "GetRecords" => actions::get_records::run,
        }
    }
}

/// What loading a tenant needs, detached from the `Database` so the work
/// can move to a blocking thread.
struct TenantLoader {
    account_id: String,
    /// `None` for memory storage.
    storage: Option<Arc<SqliteTenants>>,
    faults: Arc<ConflictFaults>,
    stream_settings: crate::streams::StreamSettings,
    ttl_sweep_interval: std::time::Duration,
    sealer: Result<crate::sealed::Sealer, DynamoError>,
}

impl TenantLoader {
    fn load(self) -> Result<Tenant, DynamoError> {
        let kv: Arc<dyn Kv> = match &self.storage {
            None => Arc::new(MemoryKv::new()),
            Some(tenants) => tenants.tenant(&self.account_id).map_err(storage_error)?,
        };
        Tenant::load(
            kv,
            self.faults,
            self.stream_settings,
            self.ttl_sweep_interval,
            self.sealer?,
        )
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, DynamoError> {
    // Most answers are small; a page of items grows from here by doubling.
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(&mut out, value).map_err(|e| DynamoError::internal(e.to_string()))?;
    Ok(out)
}

macro_rules! embedded_api {
    ($($(#[$m:meta])* $method:ident: $action:ident($input:ty) -> $output:ty;)*) => {
        impl Database {
            $(
                $(#[$m])*
                pub async fn $method(&self, input: $input) -> Result<$output, DynamoError> {
                    let ctx = &self.default_context;
                    let tenant = self.tenant_async(&ctx.account_id).await?;
                    actions::$action::run(&tenant, ctx, input).await
                }
            )*
        }
    };
}

embedded_api! {
    /// CreateTable.
    create_table: create_table(api::CreateTableInput) -> api::CreateTableOutput;
    /// DescribeTable.
    describe_table: describe_table(api::DescribeTableInput) -> api::DescribeTableOutput;
    /// ListTables.
    list_tables: list_tables(api::ListTablesInput) -> api::ListTablesOutput;
    /// DeleteTable.
    delete_table: delete_table(api::DeleteTableInput) -> api::DeleteTableOutput;
    /// UpdateTable.
    update_table: update_table(api::UpdateTableInput) -> api::UpdateTableOutput;
    /// PutItem.
    put_item: put_item(api::PutItemInput) -> api::PutItemOutput;
    /// GetItem.
    get_item: get_item(api::GetItemInput) -> api::GetItemOutput;
    /// UpdateItem.
    update_item: update_item(api::UpdateItemInput) -> api::UpdateItemOutput;
    /// DeleteItem.
    delete_item: delete_item(api::DeleteItemInput) -> api::DeleteItemOutput;
    /// Query.
    query: query(api::QueryInput) -> api::QueryOutput;
    /// Scan.
    scan: scan(api::ScanInput) -> api::ScanOutput;
    /// BatchGetItem.
    batch_get_item: batch_get_item(api::BatchGetItemInput) -> api::BatchGetItemOutput;
    /// BatchWriteItem.
    batch_write_item: batch_write_item(api::BatchWriteItemInput) -> api::BatchWriteItemOutput;
    /// TransactGetItems.
    transact_get_items: transact_get_items(api::TransactGetItemsInput) -> api::TransactGetItemsOutput;
    /// TransactWriteItems.
    transact_write_items: transact_write_items(api::TransactWriteItemsInput) -> api::TransactWriteItemsOutput;
    /// ExecuteStatement (PartiQL).
    execute_statement: execute_statement(api::ExecuteStatementInput) -> api::ExecuteStatementOutput;
    /// BatchExecuteStatement (PartiQL).
    batch_execute_statement: batch_execute_statement(api::BatchExecuteStatementInput) -> api::BatchExecuteStatementOutput;
    /// ExecuteTransaction (PartiQL).
    execute_transaction: execute_transaction(api::ExecuteTransactionInput) -> api::ExecuteTransactionOutput;
    /// UpdateTimeToLive.
    update_time_to_live: update_time_to_live(api::UpdateTimeToLiveInput) -> api::UpdateTimeToLiveOutput;
    /// DescribeTimeToLive.
    describe_time_to_live: describe_time_to_live(api::DescribeTimeToLiveInput) -> api::DescribeTimeToLiveOutput;
    /// ListStreams (DynamoDB Streams).
    list_streams: list_streams(api::ListStreamsInput) -> api::ListStreamsOutput;
    /// DescribeStream (DynamoDB Streams).
    describe_stream: describe_stream(api::DescribeStreamInput) -> api::DescribeStreamOutput;
    /// GetShardIterator (DynamoDB Streams).
    get_shard_iterator: get_shard_iterator(api::GetShardIteratorInput) -> api::GetShardIteratorOutput;
    /// GetRecords (DynamoDB Streams).
    get_records: get_records(api::GetRecordsInput) -> api::GetRecordsOutput;
}
