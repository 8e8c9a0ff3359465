//! The database handle: storage, tenants, and dispatch by action name. The
//! HTTP server and embedded users call the same methods.

use std::path::PathBuf;
use std::sync::Arc;

use openddb_core::api::{self, from_json_body};
use openddb_core::{DynamoError, ErrorKind};
use openddb_kv::Kv;
use openddb_kv_memory::MemoryKv;
use openddb_kv_sqlite::{SqliteKv, SqliteOptions, SqliteTenants};
use serde::Serialize;

use crate::actions;
use crate::authz::Authorizer;
use crate::sealed::TokenSecret;
use crate::table_refs::NamesTables;
use crate::tenancy::cache::{Settings, Storage, Use};
use crate::tenancy::due::DueIndex;
use crate::tenancy::{Lease, Scheduler, TenantCache, TenantStats};
#[cfg(test)]
use crate::tenant::Tenant;
use openddb_auth::Principal;

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
#[derive(Clone)]
pub struct RequestContext {
    /// The account: the one ARNs name, and the tenant unless `database`
    /// names another.
    pub account_id: String,
    /// The database (tenant keyspace) the request runs in when it is not
    /// the account's own: DynamoDB Local's per-access-key-and-region or
    /// shared databases (`--tenancy`). `None`: the account's.
    pub database: Option<String>,
    /// The access key the request was signed with.
    pub access_key_id: String,
    pub region: String,
    /// The verified caller (`--auth sigv4` and `--auth iam`); `None` when
    /// signatures are not checked.
    pub principal: Option<Arc<Principal>>,
    /// Set when policies decide (`--auth iam`): every action then asks it
    /// about everything it is going to read or write, before it does.
    pub authorizer: Option<Arc<dyn Authorizer>>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("account_id", &self.account_id)
            .field("database", &self.database)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("principal", &self.principal.as_ref().map(|p| &p.arn))
            .field("authorizer", &self.authorizer.is_some())
            .field("secure_transport", &self.secure_transport)
            .finish()
    }
}

impl RequestContext {
    /// The tenant the request runs in: `database`, or the account's own.
    pub fn tenant_id(&self) -> &str {
        self.database.as_deref().unwrap_or(&self.account_id)
    }
}

impl Default for RequestContext {
    fn default() -> Self {
        RequestContext {
            account_id: "000000000000".into(),
            database: None,
            access_key_id: String::new(),
            region: "us-east-1".into(),
            principal: None,
            authorizer: None,
            secure_transport: false,
        }
    }
}

/// An openddb database: many isolated tenants, each its own DynamoDB.
pub struct Database {
    pub(crate) tenants: Arc<TenantCache>,
    default_context: RequestContext,
}

/// Bounds on the work storage accepts at once, so that a burst is refused
/// (as DynamoDB's `RequestLimitExceeded`) instead of queued without bound,
/// and on what one tenant may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageLimits {
    /// Most writes waiting for one tenant file's writer (durable storage
    /// only); a write past it is answered `RequestLimitExceeded`.
    pub write_queue: usize,
    /// Most tenants open at once (`--max-open-tenants`): the engine's
    /// tenant cache and the storage's cache of open files share this cap.
    /// An idle tenant past it is closed; one in use is closed once let go.
    pub max_open_tenants: usize,
    /// Most storage reads one tenant runs at once
    /// (`--max-storage-reads-per-account`); further reads of that tenant
    /// wait their turn without holding a thread.
    pub reads_per_tenant: usize,
    /// Threads committing writes, shared by every tenant (durable storage
    /// only).
    pub writer_threads: usize,
}

impl Default for StorageLimits {
    fn default() -> Self {
        let sqlite = SqliteOptions::default();
        StorageLimits {
            write_queue: sqlite.write_queue,
            max_open_tenants: sqlite.max_open_tenants,
            reads_per_tenant: crate::tenant::DEFAULT_READS_PER_TENANT,
            writer_threads: sqlite.writer_threads,
        }
    }
}

/// The file of the persisted due index, in the data directory.
pub const SCHEDULE_FILE: &str = "schedule.sqlite3";

impl Database {
    pub fn open(config: StorageConfig) -> Result<Database, DynamoError> {
        Database::open_with_limits(config, StorageLimits::default())
    }

    /// Opens a database whose storage refuses work past `limits`.
    pub fn open_with_limits(
        config: StorageConfig,
        limits: StorageLimits,
    ) -> Result<Database, DynamoError> {
        let (storage, token_secret, index) = match config {
            StorageConfig::InMemory => (
                Storage::Memory(Default::default()),
                Ok(TokenSecret::random().map_err(DynamoError::internal)?),
                Arc::new(MemoryKv::new()) as Arc<dyn Kv>,
            ),
            StorageConfig::Directory(dir) => {
                let options = SqliteOptions {
                    write_queue: limits.write_queue,
                    writer_threads: limits.writer_threads,
                    max_open_tenants: limits.max_open_tenants,
                    ..SqliteOptions::default()
                };
                let tenants = SqliteTenants::open(&dir, options.clone()).map_err(|e| {
                    DynamoError::internal(format!("cannot open {}: {e}", dir.display()))
                })?;
                let secret = TokenSecret::new(*tenants.token_secret());
                let index = open_schedule(&dir, options)?;
                (Storage::Sqlite(Arc::new(tenants)), Ok(secret), index)
            }
        };
        Ok(Database::assemble(storage, token_secret, index, limits))
    }

    fn assemble(
        storage: Storage,
        token_secret: Result<TokenSecret, String>,
        index: Arc<dyn Kv>,
        limits: StorageLimits,
    ) -> Database {
        let settings = Settings {
            faults: Arc::default(),
            stream_settings: Default::default(),
            ttl_sweep_interval: crate::ttl::sweeper::DEFAULT_INTERVAL,
            token_secret,
            reads_per_tenant: limits.reads_per_tenant,
            transient_delay: None,
        };
        let scheduler = Scheduler::new(DueIndex::new(index));
        let tenants = TenantCache::new(storage, settings, limits.max_open_tenants, scheduler);
        // Tenants not open may have work due already (after a restart).
        tenants.scheduler().start_if_needed();
        Database {
            tenants,
            default_context: RequestContext::default(),
        }
    }

    /// A database that lives in memory only.
    pub fn in_memory() -> Database {
        Database::assemble(
            Storage::Memory(Default::default()),
            // Without a random source tokens cannot be made: every request
            // is then refused with an internal error instead of panicking.
            TokenSecret::random(),
            Arc::new(MemoryKv::new()),
            StorageLimits::default(),
        )
    }

    /// A database whose every tenant is over `kv` (tests that inject
    /// storage faults).
    #[cfg(test)]
    pub(crate) fn over(kv: Arc<dyn Kv>) -> Database {
        Database::assemble(
            Storage::Fixed(kv),
            TokenSecret::random(),
            Arc::new(MemoryKv::new()),
            StorageLimits::default(),
        )
    }

    /// How streams enabled from now on cut their shards (tests use small
    /// shards to exercise consumers that follow shard lineage).
    pub fn with_stream_settings(self, settings: crate::streams::StreamSettings) -> Database {
        self.tenants.settings.write().stream_settings = settings;
        self
    }

    /// How often each tenant's Time to Live sweeper looks for expired items
    /// (default 30 s, so an item goes within a minute of its expiry). Set
    /// before the first request.
    pub fn with_ttl_sweep_interval(self, interval: std::time::Duration) -> Database {
        self.tenants.settings.write().ttl_sweep_interval = interval;
        self
    }

    /// Tables and global secondary indexes stay CREATING, UPDATING or
    /// DELETING for `delay` after each change, as in DynamoDB, instead of
    /// changing at once (DynamoDB Local's `-delayTransientStatuses`; see
    /// `transient.rs`). Set before the first request.
    pub fn with_transient_status_delay(self, delay: std::time::Duration) -> Database {
        self.tenants.settings.write().transient_delay = Some(delay);
        self
    }

    /// Fault injection: cancel this share (0 to 1) of TransactWriteItems and
    /// TransactGetItems requests with a `TransactionConflict`, as DynamoDB
    /// does when another request holds one of their items, so that retry
    /// paths can be tested on demand. Set before the first request.
    pub fn with_transaction_conflicts(self, share: f64) -> Database {
        self.tenants.settings.write().faults =
            Arc::new(crate::inflight::ConflictFaults::new(share));
        self
    }

    /// Counts of the tenant cache's work: tenants open, `Tenant` values
    /// alive, duplicates (must be 0), opened and closed so far.
    pub fn tenant_stats(&self) -> TenantStats {
        self.tenants.stats()
    }

    /// Tenants with an entry in the persisted due index (tests and
    /// operators: how many tenants have background work on record).
    #[doc(hidden)]
    pub fn tenants_with_due_work(&self) -> Result<usize, DynamoError> {
        self.tenants
            .scheduler()
            .index()
            .len()
            .map_err(crate::run::storage_error)
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
        let lease = self.tenants.get_blocking(account_id)?;
        Ok(Arc::clone(&lease))
    }

    /// The tenant of `account_id`, held open while the lease lives. A
    /// tenant not open is opened and loaded on a blocking thread: opening
    /// its file and reading its catalog is disk work that must not hold up
    /// the async workers.
    pub(crate) async fn tenant_async(&self, account_id: &str) -> Result<Lease, DynamoError> {
        self.tenants.get(account_id, Use::Request).await
    }

    /// The storage of `account_id`'s tenant, loading it if needed. For
    /// tests that need to act on storage directly (e.g. hold its writer
    /// busy to fill the write queue); not part of the API.
    #[doc(hidden)]
    pub async fn tenant_storage(&self, account_id: &str) -> Result<Arc<dyn Kv>, DynamoError> {
        Ok(self.tenant_async(account_id).await?.kv.clone())
    }

    /// The resource-based policy document that governs `resource_arn` in
    /// `account_id`'s tenant, for authorization: a table's own (also for
    /// its indexes, as DynamoDB controls index access through the table's
    /// policy), or its current stream's. `None` when the resource has no
    /// policy or does not exist. Loads the tenant (opening its storage) if
    /// it is not loaded yet.
    pub async fn resource_policy(
        &self,
        account_id: &str,
        resource_arn: &str,
    ) -> Result<Option<String>, DynamoError> {
        let tenant = self.tenant_async(account_id).await?;
        let resource = crate::authz::Resource::Arn(resource_arn.to_string());
        Ok(crate::authz::governing_policy(&tenant, &resource))
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
        // Another account's context, when the request runs there: one slot
        // for every operation (a variable per arm would be kept in the
        // future once per operation, doubling its size).
        let routed: Option<RequestContext>;
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
                        routed = crate::table_refs::cross_account(ctx, operation, &input)?;
                        let ctx = routed.as_ref().unwrap_or(ctx);
                        let input = resolved(input, ctx)?;
                        let tenant = self.tenant_async(ctx.tenant_id()).await?;
                        // Each action's future on the heap: stored inline,
                        // the largest of them sized this one, and deep
                        // requests ran out of stack in debug builds.
                        to_json(&Box::pin($action(&tenant, ctx, input)).await?)
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
            "PutResourcePolicy" => actions::put_resource_policy::run,
            "GetResourcePolicy" => actions::get_resource_policy::run,
            "DeleteResourcePolicy" => actions::delete_resource_policy::run,
            // DynamoDB Streams (`DynamoDBStreams_20120810`).
            "ListStreams" => actions::list_streams::run,
            "DescribeStream" => actions::describe_stream::run,
            "GetShardIterator" => actions::get_shard_iterator::run,
            "GetRecords" => actions::get_records::run,
        }
    }
}

/// Opens the persisted due index of a data directory, and makes its file's
/// directory entry durable the first time.
fn open_schedule(
    dir: &std::path::Path,
    options: SqliteOptions,
) -> Result<Arc<dyn Kv>, DynamoError> {
    let path = dir.join(SCHEDULE_FILE);
    let created = !path.exists();
    let kv = SqliteKv::open(&path, options)
        .map_err(|e| DynamoError::internal(format!("cannot open {}: {e}", path.display())))?;
    if created {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DynamoError::internal(format!("cannot sync {}: {e}", dir.display())))?;
    }
    Ok(Arc::new(kv))
}

/// The request with its table ARNs read (see `table_refs`).
fn resolved<I: NamesTables>(mut input: I, ctx: &RequestContext) -> Result<I, DynamoError> {
    input.resolve_tables(ctx)?;
    Ok(input)
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
                    let input = resolved(input, ctx)?;
                    let tenant = self.tenant_async(ctx.tenant_id()).await?;
                    actions::$action::run(&tenant, ctx, input).await
                }
            )*
        }

        impl Account<'_> {
            $(
                $(#[$m])*
                pub async fn $method(&self, input: $input) -> Result<$output, DynamoError> {
                    let tenant = self.db.tenant_async(self.ctx.tenant_id()).await?;
                    actions::$action::run(&tenant, &self.ctx, input).await
                }
            )*
        }
    };
}

/// One account of a [`Database`]: its operations run in that account's
/// tenant, isolated from every other account's tables, streams and
/// tokens, exactly as requests signed with one of the account's keys do.
/// A thin handle (the database and a [`RequestContext`]); make one with
/// [`Database::account`].
#[derive(Clone)]
pub struct Account<'db> {
    db: &'db Database,
    ctx: RequestContext,
}

impl std::fmt::Debug for Account<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("ctx", &self.ctx).finish()
    }
}

impl Database {
    /// The account `account_id` (12 digits), in `us-east-1`. Its tenant is
    /// opened on its first operation. Embedded calls are trusted: no
    /// credential is checked.
    pub fn account(&self, account_id: &str) -> Result<Account<'_>, DynamoError> {
        if !(account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit())) {
            return Err(DynamoError::validation(format!(
                "Invalid account id {account_id:?}: an account id is 12 digits"
            )));
        }
        Ok(Account {
            db: self,
            ctx: RequestContext {
                account_id: account_id.to_owned(),
                ..self.default_context.clone()
            },
        })
    }
}

impl<'db> Account<'db> {
    /// The same account in another region: ARNs the account's operations
    /// hand out name this region.
    pub fn in_region(mut self, region: &str) -> Account<'db> {
        self.ctx.region = region.to_owned();
        self
    }

    /// The context its operations run with.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// [`Database::dispatch`] in this account.
    pub async fn dispatch(&self, operation: &str, body: &[u8]) -> Result<Vec<u8>, DynamoError> {
        self.db.dispatch(&self.ctx, operation, body).await
    }
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
    /// PutResourcePolicy.
    put_resource_policy: put_resource_policy(api::PutResourcePolicyInput) -> api::PutResourcePolicyOutput;
    /// GetResourcePolicy.
    get_resource_policy: get_resource_policy(api::GetResourcePolicyInput) -> api::GetResourcePolicyOutput;
    /// DeleteResourcePolicy.
    delete_resource_policy: delete_resource_policy(api::DeleteResourcePolicyInput) -> api::DeleteResourcePolicyOutput;
    /// ListStreams (DynamoDB Streams).
    list_streams: list_streams(api::ListStreamsInput) -> api::ListStreamsOutput;
    /// DescribeStream (DynamoDB Streams).
    describe_stream: describe_stream(api::DescribeStreamInput) -> api::DescribeStreamOutput;
    /// GetShardIterator (DynamoDB Streams).
    get_shard_iterator: get_shard_iterator(api::GetShardIteratorInput) -> api::GetShardIteratorOutput;
    /// GetRecords (DynamoDB Streams).
    get_records: get_records(api::GetRecordsInput) -> api::GetRecordsOutput;
}
