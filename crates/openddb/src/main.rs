//! The `openddb` command: serves the DynamoDB API over HTTP until SIGINT or
//! SIGTERM, then finishes the requests in flight and exits.
#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use openddb::server::{self, ServerConfig};
use openddb::{Database, StorageConfig};
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
    Serve(ServeArgs),
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
    /// Worker threads serving requests.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
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
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    init_logging(&args.log_level);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.threads))
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
    let storage = if args.in_memory {
        StorageConfig::InMemory
    } else {
        std::fs::create_dir_all(&args.data_dir)
            .map_err(|err| format!("cannot create {}: {err}", args.data_dir.display()))?;
        StorageConfig::Directory(args.data_dir.clone())
    };
    let db = Database::open(storage)
        .map_err(|err| format!("cannot open the database: {err}"))?
        .with_transaction_conflicts(args.fault_transaction_conflicts)
        .with_ttl_sweep_interval(std::time::Duration::from_secs_f64(args.ttl_sweep_interval));
    if args.fault_transaction_conflicts > 0.0 {
        tracing::warn!(
            share = args.fault_transaction_conflicts,
            "fault injection: cancelling this share of transactions with TransactionConflict"
        );
    }

    let config = ServerConfig {
        host: args.host,
        port: args.port,
    };
    let listener = server::bind(&config)
        .await
        .map_err(|err| format!("cannot listen on {}:{}: {err}", config.host, config.port))?;
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    // Printed whatever the log filter: scripts and tests read the port here.
    eprintln!("openddb listening on {address}");
    let where_ = if args.in_memory {
        "in memory".to_owned()
    } else {
        args.data_dir.display().to_string()
    };
    tracing::info!(%address, data = %where_, "serving the DynamoDB API");

    server::serve(Arc::new(db), listener, shutdown_signal())
        .await
        .map_err(|err| format!("server failed: {err}"))?;
    tracing::info!("stopped");
    Ok(())
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
