//! The `openddb` command: serves the DynamoDB API over HTTP until SIGINT or
//! SIGTERM, then finishes the requests in flight and exits; `openddb admin`
//! manages the credential store; `openddb health` asks a running server
//! whether it is up. DynamoDB Local's command line is taken too
//! (`ddblocal.rs`).
#![forbid(unsafe_code)]

mod admin;
mod ddblocal;
mod health;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use openddb::auth::store::{AdminToken, Store, ADMIN_TOKEN_FILE};
use openddb::auth::{keys_file, AuthMode, KeyLookup};
use openddb::server::{self, AdminApi, Authentication, Cors, Limits, ServerConfig, Tenancy};
use openddb::{Database, StorageConfig, StorageLimits};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "openddb", version, about = "A DynamoDB-compatible database")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Options for serving when no subcommand is given.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the DynamoDB API over HTTP (the default).
    Serve(Box<ServeArgs>),
    /// Manage the credential store: accounts, users, keys, policies.
    Admin(admin::AdminArgs),
    /// Exit 0 if a server answers `GET /` with 200 (a container's health
    /// check), 1 otherwise.
    Health(health::HealthArgs),
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free port (printed at start-up).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Directory for the database files.
    #[arg(long, default_value = "./openddb-data", conflicts_with = "in_memory")]
    data_dir: PathBuf,
    /// Keep everything in memory; nothing survives the process.
    #[arg(long)]
    in_memory: bool,
    /// Log filter (e.g. info, debug, openddb_server=debug); RUST_LOG overrides it.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Fault injection: the share (0 to 1) of TransactWriteItems and
    /// TransactGetItems requests to cancel with a TransactionConflict, to
    /// exercise clients' retry paths. 0 (the default) injects nothing.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, value_parser = parse_share)]
    fault_transaction_conflicts: f64,
    /// How often (seconds, fractions allowed) each account's Time to Live
    /// sweeper deletes expired items; the default deletes an item within a
    /// minute of its expiry.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_interval)]
    ttl_sweep_interval: f64,
    /// The key the credential store's secrets are encrypted with (32 bytes,
    /// or 64 hex digits); by default <data-dir>/credentials-key, made on
    /// first start. In memory, a random key.
    #[arg(long, value_name = "FILE")]
    credentials_key_file: Option<PathBuf>,
    /// The admin API's bearer token (16+ characters); by default
    /// <data-dir>/admin-token, made on first start. In memory, the admin
    /// API exists only with this flag.
    #[arg(long, value_name = "FILE", conflicts_with = "no_admin_api")]
    admin_token_file: Option<PathBuf>,
    /// Serve no admin API (/_openddb/admin/ answers 404).
    #[arg(long)]
    no_admin_api: bool,
    /// Worker threads serving requests.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// How requests are authenticated: `off` checks a signature's shape
    /// only (a 12-digit access key id selects its account, any other key
    /// account 000000000000); `sigv4` verifies every signature against the
    /// credential store's keys (`openddb admin keys create`), or those of
    /// --auth-keys-file, and runs the request in the key's account; `iam`
    /// also authorizes every request by IAM policies: those attached to
    /// the key's user (`openddb admin policies attach`) and the resources'
    /// own (PutResourcePolicy). With `iam` nothing is allowed that no
    /// policy allows.
    #[arg(long, value_enum, default_value_t = Auth::Off)]
    auth: Auth,
    /// With --auth sigv4 or iam: a JSON file listing the access keys, each
    /// {"accessKeyId", "secretAccessKey", "accountId", "userName", and
    /// optionally "sessionToken", "tags" and "policies" (identity policy
    /// documents)}; read once at start (see docs/security.md).
    #[arg(long, value_name = "FILE")]
    auth_keys_file: Option<PathBuf>,
    /// Which database a request runs in: `account`, its account's (the
    /// verified key's, or with --auth off a 12-digit access key id, else
    /// 000000000000); `key-region`, one per access key id and region, as
    /// DynamoDB Local without -sharedDb (access key ids must be letters
    /// and digits); `shared`, one for every client, as DynamoDB Local's
    /// -sharedDb. DynamoDB Local's command line defaults to key-region.
    #[arg(long, value_enum, default_value_t = TenancyArg::Account)]
    tenancy: TenancyArg,
    /// Browser origins allowed to read answers: `*` for any, or a
    /// comma-separated list (e.g. http://localhost:3000).
    #[arg(long, value_name = "ORIGINS", default_value = "*", value_parser = Cors::parse)]
    cors: Cors,
    /// Tables and global secondary indexes pass through CREATING,
    /// UPDATING and DELETING for --transient-status-seconds, as in
    /// DynamoDB, instead of changing at once (DynamoDB Local's
    /// -delayTransientStatuses).
    #[arg(long)]
    delay_transient_statuses: bool,
    /// With --delay-transient-statuses: how long each transient status
    /// lasts.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_interval, requires = "delay_transient_statuses")]
    transient_status_seconds: f64,
    /// Compact and optimize every database file of --data-dir before
    /// serving (DynamoDB Local's -optimizeDbBeforeStartup).
    #[arg(long, conflicts_with = "in_memory")]
    optimize_db_before_startup: bool,
    /// Started with DynamoDB Local's command line (set by it).
    #[arg(long, hide = true)]
    ddblocal_banner: bool,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TenancyArg {
    Account,
    KeyRegion,
    Shared,
}

impl From<TenancyArg> for Tenancy {
    fn from(t: TenancyArg) -> Tenancy {
        match t {
            TenancyArg::Account => Tenancy::Account,
            TenancyArg::KeyRegion => Tenancy::KeyRegion,
            TenancyArg::Shared => Tenancy::Shared,
        }
    }
}

/// HTTPS instead of plain HTTP (the default). A TLS server answers only
/// TLS on its port.
#[derive(Debug, Clone, Args)]
struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs
    /// --tls-key.
    #[arg(
        long,
        value_name = "PEM",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made at start for localhost,
    /// 127.0.0.1 and ::1; its SHA-256 fingerprint is printed at start-up.
    #[arg(long)]
    tls_self_signed: bool,
    /// With --tls-self-signed: also write the certificate (PEM) here, for
    /// clients to trust.
    #[arg(long, value_name = "PATH", requires = "tls_self_signed")]
    tls_self_signed_cert_out: Option<PathBuf>,
}

impl TlsArgs {
    /// The TLS identity asked for, if any; a file that cannot be used is a
    /// start-up error naming it.
    fn load(&self) -> Result<Option<server::Tls>, String> {
        let tls = if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            server::Tls::from_pem_files(cert, key)
        } else if self.tls_self_signed {
            server::Tls::self_signed()
        } else {
            return Ok(None);
        };
        let tls = tls.map_err(|err| format!("cannot set up TLS: {err}"))?;
        if let Some(out) = &self.tls_self_signed_cert_out {
            std::fs::write(out, tls.certificate_pem()).map_err(|err| {
                format!("cannot write the certificate to {}: {err}", out.display())
            })?;
        }
        Ok(Some(tls))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Auth {
    Off,
    Sigv4,
    Iam,
}

impl From<Auth> for AuthMode {
    fn from(auth: Auth) -> AuthMode {
        match auth {
            Auth::Off => AuthMode::Off,
            Auth::Sigv4 => AuthMode::Sigv4,
            Auth::Iam => AuthMode::Iam,
        }
    }
}

/// The server's authentication from `--auth` and `--auth-keys-file`.
fn authentication(args: &ServeArgs, store: &Arc<Store>) -> Result<Authentication, String> {
    match (AuthMode::from(args.auth), &args.auth_keys_file) {
        (AuthMode::Off, None) => Ok(Authentication::Off),
        (AuthMode::Off, Some(_)) => {
            Err("--auth-keys-file is only read with --auth sigv4 or --auth iam".to_owned())
        }
        // The credential store's keys (`openddb admin keys create …`) and
        // the policies attached to their users.
        (mode, None) => {
            tracing::info!(auth = ?mode, "verifying SigV4 signatures against the credential store");
            let keys: Arc<dyn KeyLookup> = store.clone();
            Ok(with_mode(mode, keys))
        }
        (mode, Some(path)) => {
            let json = std::fs::read(path)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            let keys =
                keys_file::parse(&json).map_err(|err| format!("{}: {err}", path.display()))?;
            warn_if_readable_by_others(path);
            tracing::info!(
                keys = keys.0.len(),
                file = %path.display(),
                "verifying SigV4 signatures"
            );
            let keys: Arc<dyn KeyLookup> = Arc::new(keys);
            Ok(with_mode(mode, keys))
        }
    }
}

/// `sigv4` or `iam` over `keys`.
fn with_mode(mode: AuthMode, keys: Arc<dyn KeyLookup>) -> Authentication {
    if mode == AuthMode::Iam {
        Authentication::Iam(keys)
    } else {
        Authentication::Sigv4(keys)
    }
}

/// The keys file holds secrets in plain text.
fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the keys file can be read by other users; chmod 600 it"
                );
            }
        }
    }
}

/// Resource bounds: past one, a request is answered at once with
/// RequestLimitExceeded (retried by the AWS SDKs with backoff) instead of
/// queued.
#[derive(Debug, Clone, Args)]
struct LimitArgs {
    /// Most open connections; one more gets a RequestLimitExceeded answer to
    /// its first request and is closed.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections, value_parser = at_least_one)]
    max_connections: usize,
    /// Most requests served at once, over all accounts.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_in_flight, value_parser = at_least_one)]
    max_requests_in_flight: usize,
    /// Most requests served at once for one account.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_in_flight_per_account, value_parser = at_least_one)]
    max_requests_in_flight_per_account: usize,
    /// Most MiB of request bodies held in memory at once, over all requests
    /// (a 16 MiB body takes 16 of them, so at least 16).
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().body_budget >> 20, value_parser = at_least_16)]
    body_memory_mib: usize,
    /// Most writes waiting for one account's writer (durable storage).
    #[arg(long, value_name = "N", default_value_t = StorageLimits::default().write_queue, value_parser = at_least_one)]
    write_queue_depth: usize,
    /// Threads committing writes, shared by every account (durable
    /// storage). Default: the number of CPU cores.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    writer_threads: Option<usize>,
    /// Most account files open at once; the least recently used idle one is
    /// closed to open another. Default: (the open-file limit, RLIMIT_NOFILE,
    /// − --max-connections − 256) ÷ the descriptors one open file can hold
    /// (11), at least 16.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    max_open_tenants: Option<usize>,
    /// Most storage reads one account runs at once; its further reads wait
    /// their turn, so one account's flood of Scans cannot take every thread
    /// other accounts' reads need.
    #[arg(long, value_name = "N", default_value_t = StorageLimits::default().reads_per_tenant, value_parser = at_least_one)]
    max_storage_reads_per_account: usize,
    /// Seconds a connection may take to send a request's head, counted from
    /// when the server starts waiting for it: closes trickled headers and
    /// keep-alive connections idle this long.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().header_read_timeout.as_secs_f64(), value_parser = parse_timeout)]
    header_read_timeout: f64,
    /// Seconds a request's body may take to arrive after its head.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().body_read_timeout.as_secs_f64(), value_parser = parse_timeout)]
    body_read_timeout: f64,
    /// Seconds an answer may wait for a client that does not read it before
    /// the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().write_stall_timeout.as_secs_f64(), value_parser = parse_timeout)]
    write_stall_timeout: f64,
}

impl LimitArgs {
    fn server(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            max_in_flight: self.max_requests_in_flight,
            max_in_flight_per_account: self.max_requests_in_flight_per_account,
            body_budget: self.body_memory_mib.saturating_mul(1 << 20),
            header_read_timeout: Duration::from_secs_f64(self.header_read_timeout),
            body_read_timeout: Duration::from_secs_f64(self.body_read_timeout),
            write_stall_timeout: Duration::from_secs_f64(self.write_stall_timeout),
        }
    }

    fn storage(&self) -> StorageLimits {
        let defaults = StorageLimits::default();
        let reserved = self.max_connections.saturating_add(RESERVED_FDS);
        StorageLimits {
            write_queue: self.write_queue_depth,
            writer_threads: self.writer_threads.unwrap_or(defaults.writer_threads),
            max_open_tenants: self.max_open_tenants.unwrap_or_else(|| {
                let reads = openddb_kv_sqlite::SqliteOptions::default().read_connections;
                openddb_kv_sqlite::default_max_open_tenants(reserved, reads)
            }),
            reads_per_tenant: self.max_storage_reads_per_account,
        }
    }
}

/// Descriptors set aside beside client sockets: the listener, logs, the
/// data directory's own files, the runtime.
const RESERVED_FDS: usize = 256;

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// Below DynamoDB's largest body (16 MiB), some valid requests could never
/// be served: they would be throttled forever.
fn at_least_16(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 16 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a whole number of at least 16 (DynamoDB's largest request body)"
        )),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.001..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0.001 and 86400"
        )),
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share between 0 and 1")),
    }
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.01..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0.01 and 86400"
        )),
    }
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match ddblocal::parse(argv.clone()) {
        ddblocal::Parsed::Native => Cli::parse_from(argv),
        ddblocal::Parsed::Serve(args) => Cli::parse_from(args),
        ddblocal::Parsed::Help => {
            println!("{}", ddblocal::usage());
            return ExitCode::SUCCESS;
        }
        ddblocal::Parsed::Version => {
            println!("openddb {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        ddblocal::Parsed::Error {
            message,
            with_usage,
        } => {
            eprintln!("{message}");
            if with_usage {
                eprintln!("{}", ddblocal::usage());
            }
            return ExitCode::FAILURE;
        }
    };
    let args = match cli.command {
        Some(Command::Serve(args)) => *args,
        Some(Command::Admin(args)) => return admin::run(args),
        Some(Command::Health(args)) => return health::run(&args),
        None => cli.serve,
    };
    init_logging(&args.log_level);

    // Each request in flight holds at most one blocking thread at a time (a
    // read waiting for a connection, a tenant being opened, a gzip body
    // being inflated); the margin is for background work. So the blocking
    // pool cannot run out under requests the limits admit.
    let blocking_threads = args.limits.max_requests_in_flight.saturating_add(64);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.threads))
        .max_blocking_threads(blocking_threads)
        .thread_name("openddb-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(args: ServeArgs) -> Result<(), String> {
    // Before the database and the port: a bad certificate stops start-up.
    let tls = args.tls.load()?;
    let tenancy = Tenancy::from(args.tenancy);
    if args.auth == Auth::Iam && tenancy != Tenancy::Account {
        return Err(
            "--auth iam decides by account: it needs --tenancy account (policies name \
             accounts' resources, which per-key or shared databases are not)"
                .to_owned(),
        );
    }
    let storage = if args.in_memory {
        StorageConfig::InMemory
    } else {
        ensure_writable(&args.data_dir)?;
        StorageConfig::Directory(args.data_dir.clone())
    };
    if args.optimize_db_before_startup {
        optimize(&args.data_dir)?;
    }
    let mut db = Database::open_with_limits(storage, args.limits.storage())
        .map_err(|err| format!("cannot open the database: {err}"))?
        .with_transaction_conflicts(args.fault_transaction_conflicts)
        .with_ttl_sweep_interval(std::time::Duration::from_secs_f64(args.ttl_sweep_interval));
    if args.delay_transient_statuses {
        db = db.with_transient_status_delay(Duration::from_secs_f64(args.transient_status_seconds));
    }
    if args.fault_transaction_conflicts > 0.0 {
        tracing::warn!(
            share = args.fault_transaction_conflicts,
            "fault injection: cancelling this share of transactions with TransactionConflict"
        );
    }

    // After the database: it is the one that makes a new data directory.
    let store = open_store(&args)?;
    let auth = authentication(&args, &store)?;
    let admin = admin_api(&args, store)?;

    let config = ServerConfig {
        host: args.host.clone(),
        port: args.port,
        limits: args.limits.server(),
        auth,
    };
    let listener = server::bind(&config)
        .await
        .map_err(|err| format!("cannot listen on {}:{}: {err}", config.host, config.port))?;
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    banner(&args, address);
    // Printed whatever the log filter: scripts and tests read the port here.
    eprintln!("openddb listening on {address}");
    if let Some(tls) = &tls {
        eprintln!(
            "openddb serves HTTPS only; certificate SHA-256 fingerprint {}",
            tls.fingerprint()
        );
    }
    let where_ = if args.in_memory {
        "in memory".to_owned()
    } else {
        args.data_dir.display().to_string()
    };
    tracing::info!(%address, data = %where_, "serving the DynamoDB API");

    let options = server::ServeOptions {
        limits: config.limits,
        tls,
        auth: config.auth,
        tenancy,
        cors: args.cors.clone(),
        admin,
        hook: None,
    };
    server::serve_configured(Arc::new(db), listener, options, shutdown_signal())
        .await
        .map_err(|err| format!("server failed: {err}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Makes the data directory if it is missing and checks this process can
/// write into it, so that a volume owned by another user stops start-up at
/// once with what to do about it (DynamoDB Local hangs or fails deep
/// inside SQLite).
fn ensure_writable(dir: &std::path::Path) -> Result<(), String> {
    let probe = dir.join(format!(".openddb-write-check-{}", std::process::id()));
    let result = std::fs::create_dir_all(dir).and_then(|()| {
        std::fs::File::create(&probe)?;
        std::fs::remove_file(&probe)
    });
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(permission_hint(dir, &err))
        }
        Err(err) => Err(format!("cannot create {}: {err}", dir.display())),
    }
}

/// What to say when `dir` cannot be written: who owns it (or its nearest
/// existing ancestor), who we are, and the two ways out.
fn permission_hint(dir: &std::path::Path, err: &std::io::Error) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let existing = absolute
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(&absolute)
        .to_path_buf();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // The owner of /proc/self is this process's effective user.
        let me = std::fs::metadata("/proc/self")
            .map(|m| format!("{}:{}", m.uid(), m.gid()))
            .unwrap_or_else(|_| "this user".to_owned());
        let owner = std::fs::metadata(&existing)
            .map(|m| {
                format!(
                    "owner {}:{}, mode {:o}",
                    m.uid(),
                    m.gid(),
                    m.mode() & 0o7777
                )
            })
            .unwrap_or_default();
        let what = if existing == absolute {
            format!(
                "cannot write the data directory {} ({owner})",
                dir.display()
            )
        } else {
            format!(
                "cannot create the data directory {} in {} ({owner})",
                dir.display(),
                existing.display()
            )
        };
        format!(
            "{what} as user {me}: {err}; make it writable by {me} (for a bind mount: \
             chown {me} on the host directory) or run openddb as the directory's owner \
             (docker run --user, compose `user:`)"
        )
    }
    #[cfg(not(unix))]
    {
        format!(
            "cannot write the data directory {} (in {}): {err}",
            dir.display(),
            existing.display()
        )
    }
}

/// DynamoDB Local's start-up banner, in its words where they apply: the
/// port, the mode, where data lives and which databases clients get.
fn banner(args: &ServeArgs, address: std::net::SocketAddr) {
    let db_path = if args.in_memory {
        "null".to_owned()
    } else {
        std::fs::canonicalize(&args.data_dir)
            .unwrap_or_else(|_| args.data_dir.clone())
            .display()
            .to_string()
    };
    let tenancy = match args.tenancy {
        TenancyArg::Account => "account (one database per account)",
        TenancyArg::KeyRegion => {
            "key-region (one database per access key id and region; use the same \
             credentials and region in every client, or -sharedDb)"
        }
        TenancyArg::Shared => "shared (one database for every client)",
    };
    let cors = match &args.cors {
        Cors::Any => "*".to_owned(),
        Cors::Only(list) => list.join(","),
    };
    // Started with DynamoDB Local's command line, its first line word for
    // word: scripts and test containers wait for it.
    let title = if args.ddblocal_banner {
        "DynamoDB Local"
    } else {
        "openddb"
    };
    eprintln!(
        "Initializing {title} with the following configuration:\n\
         Port:\t{port}\n\
         InMemory:\t{in_memory}\n\
         Version:\topenddb {version}\n\
         DbPath:\t{db_path}\n\
         SharedDb:\t{shared}\n\
         Tenancy:\t{tenancy}\n\
         shouldDelayTransientStatuses:\t{delay}\n\
         CorsParams:\t{cors}\n\
         Auth:\t{auth:?}",
        port = address.port(),
        in_memory = args.in_memory,
        version = env!("CARGO_PKG_VERSION"),
        shared = args.tenancy == TenancyArg::Shared,
        delay = args.delay_transient_statuses,
        auth = args.auth,
    );
}

/// `--optimize-db-before-startup`: every database file compacted and its
/// query planner statistics refreshed, before anything else opens them.
fn optimize(data_dir: &std::path::Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    let report = openddb_kv_sqlite::optimize_files(data_dir)
        .map_err(|err| format!("cannot optimize the database files: {err}"))?;
    tracing::info!(
        files = report.files,
        bytes_before = report.bytes_before,
        bytes_after = report.bytes_after,
        millis = started.elapsed().as_millis() as u64,
        "optimized the database files"
    );
    Ok(())
}

/// The credential store: the data directory's (opened after the database,
/// so the directory is already an openddb one), or one in memory.
fn open_store(args: &ServeArgs) -> Result<Arc<Store>, String> {
    if args.in_memory {
        Store::in_memory()
    } else {
        Store::open_with_key_file(&args.data_dir, args.credentials_key_file.as_deref())
    }
    .map_err(|e| format!("cannot open the credential store: {}", e.message))
}

/// The admin API over `store`, with its token; `None` when the server has
/// no admin API.
fn admin_api(args: &ServeArgs, store: Arc<Store>) -> Result<Option<AdminApi>, String> {
    if args.no_admin_api {
        return Ok(None);
    }
    let token = match (&args.admin_token_file, args.in_memory) {
        (Some(file), _) => AdminToken::from_file(file),
        (None, false) => AdminToken::load_or_create(&args.data_dir),
        (None, true) => return Ok(None),
    }
    .map_err(|e| format!("cannot set up the admin API: {}", e.message))?;
    let where_ = args
        .admin_token_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join(ADMIN_TOKEN_FILE));
    tracing::info!(token = %where_.display(), "admin API at /_openddb/admin/v1/");
    Ok(Some(AdminApi { store, token }))
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received; finishing requests in flight"),
        () = terminate => tracing::info!("SIGTERM received; finishing requests in flight"),
    }
}
