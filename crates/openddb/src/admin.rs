//! `openddb admin …`: manages the credential store of a data directory —
//! accounts, users, access keys, temporary credentials, policies — with
//! the same operations as the admin HTTP API (`openddb_auth::store::admin`).
//!
//! Output is a table (default) or JSON (`--output json`, the admin API's
//! shapes). Errors go to standard error as `error: <Code>: <message>` (or
//! `{"__type", "message"}` in JSON) and the exit code says which kind:
//! 1 the store cannot be used, 2 invalid input, 3 no such entity, 4 it
//! already exists, 5 something still depends on it, 6 a quota.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use openddb::auth::store::{admin, ErrorCode, Store, StoreError};
use openddb::{Database, StorageConfig};
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The server's data directory (made if missing).
    #[arg(long, default_value = "./openddb-data")]
    data_dir: PathBuf,
    /// The key the store's secrets are encrypted with, as the server was
    /// given it; by default the data directory's credentials-key.
    #[arg(long, value_name = "FILE")]
    credentials_key_file: Option<PathBuf>,
    /// How results are printed.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Accounts: each one an isolated DynamoDB.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Users of an account.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Access keys and temporary credentials of users.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Identity policies of an account, attached to users.
    #[command(subcommand)]
    Policies(PoliciesCommand),
}

#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Creates an account (a random 12-digit id unless --id is given).
    Create {
        #[arg(long)]
        id: Option<String>,
        /// A name to refer to it by (3-63 of a-z, 0-9, -).
        #[arg(long)]
        alias: Option<String>,
    },
    /// Lists the accounts.
    List,
    /// Deletes an account's credentials (its tables stay on disk).
    Delete {
        /// The account's id or alias.
        account: String,
        /// Also delete its users, keys and policies.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Creates a user.
    Create {
        #[arg(long)]
        account: String,
        name: String,
        /// IAM path, e.g. /engineering/ (default /).
        #[arg(long)]
        path: Option<String>,
        /// A tag, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
    },
    /// Lists an account's users.
    List {
        #[arg(long)]
        account: String,
    },
    /// Deletes a user.
    Delete {
        #[arg(long)]
        account: String,
        name: String,
        /// Also delete its keys and detach its policies.
        #[arg(long)]
        force: bool,
    },
    /// Adds or replaces tags on a user.
    Tag {
        #[arg(long)]
        account: String,
        name: String,
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag, required = true)]
        tags: Vec<(String, String)>,
    },
    /// Removes tags from a user.
    Untag {
        #[arg(long)]
        account: String,
        name: String,
        #[arg(long = "key", value_name = "KEY", required = true)]
        keys: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Creates an access key (AKIA…); its secret is printed this once.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: String,
    },
    /// Issues temporary credentials (ASIA… with a session token).
    CreateSession {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: String,
        /// How long they work: 900s to 36h (e.g. 3600, 90m, 1h); 12h by default.
        #[arg(long)]
        duration: Option<String>,
    },
    /// Lists an account's keys, or one user's.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: Option<String>,
    },
    /// Makes a key stop working (from the next request on).
    Deactivate { access_key_id: String },
    /// Makes a deactivated key work again.
    Activate { access_key_id: String },
    /// Deletes a key for good.
    Delete { access_key_id: String },
}

#[derive(Debug, Subcommand)]
enum PoliciesCommand {
    /// Creates a policy or replaces its document.
    Put {
        #[arg(long)]
        account: String,
        name: String,
        /// The policy document (JSON).
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        document: Option<String>,
        /// A file holding the policy document ("-" reads standard input).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Prints a policy and its document.
    Get {
        #[arg(long)]
        account: String,
        name: String,
    },
    /// Lists an account's policies.
    List {
        #[arg(long)]
        account: String,
    },
    /// Deletes a policy.
    Delete {
        #[arg(long)]
        account: String,
        name: String,
        /// Detach it from its users first.
        #[arg(long)]
        force: bool,
    },
    /// Attaches a policy to a user.
    Attach {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: String,
        name: String,
    },
    /// Detaches a policy from a user.
    Detach {
        #[arg(long)]
        account: String,
        #[arg(long)]
        user: String,
        name: String,
    },
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
        None => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn tag_list(tags: Vec<(String, String)>) -> Value {
    Value::Array(
        tags.into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// The operation and its JSON input for a command.
fn request(command: AdminCommand) -> Result<(&'static str, Value), StoreError> {
    use AccountsCommand as A;
    use KeysCommand as K;
    use PoliciesCommand as P;
    use UsersCommand as U;
    Ok(match command {
        AdminCommand::Accounts(A::Create { id, alias }) => {
            ("CreateAccount", json!({"AccountId": id, "Alias": alias}))
        }
        AdminCommand::Accounts(A::List) => ("ListAccounts", json!({})),
        AdminCommand::Accounts(A::Delete { account, force }) => (
            "DeleteAccount",
            json!({"AccountId": account, "Force": force}),
        ),
        AdminCommand::Users(U::Create {
            account,
            name,
            path,
            tags,
        }) => (
            "CreateUser",
            json!({"AccountId": account, "UserName": name, "Path": path, "Tags": tag_list(tags)}),
        ),
        AdminCommand::Users(U::List { account }) => ("ListUsers", json!({"AccountId": account})),
        AdminCommand::Users(U::Delete {
            account,
            name,
            force,
        }) => (
            "DeleteUser",
            json!({"AccountId": account, "UserName": name, "Force": force}),
        ),
        AdminCommand::Users(U::Tag {
            account,
            name,
            tags,
        }) => (
            "TagUser",
            json!({"AccountId": account, "UserName": name, "Tags": tag_list(tags)}),
        ),
        AdminCommand::Users(U::Untag {
            account,
            name,
            keys,
        }) => (
            "UntagUser",
            json!({"AccountId": account, "UserName": name, "TagKeys": keys}),
        ),
        AdminCommand::Keys(K::Create { account, user }) => (
            "CreateAccessKey",
            json!({"AccountId": account, "UserName": user}),
        ),
        AdminCommand::Keys(K::CreateSession {
            account,
            user,
            duration,
        }) => {
            let seconds = duration
                .as_deref()
                .map(openddb::auth::store::validate::session_duration)
                .transpose()?;
            (
                "CreateSessionCredentials",
                json!({"AccountId": account, "UserName": user, "DurationSeconds": seconds}),
            )
        }
        AdminCommand::Keys(K::List { account, user }) => (
            "ListAccessKeys",
            json!({"AccountId": account, "UserName": user}),
        ),
        AdminCommand::Keys(K::Deactivate { access_key_id }) => (
            "UpdateAccessKey",
            json!({"AccessKeyId": access_key_id, "Status": "Inactive"}),
        ),
        AdminCommand::Keys(K::Activate { access_key_id }) => (
            "UpdateAccessKey",
            json!({"AccessKeyId": access_key_id, "Status": "Active"}),
        ),
        AdminCommand::Keys(K::Delete { access_key_id }) => {
            ("DeleteAccessKey", json!({"AccessKeyId": access_key_id}))
        }
        AdminCommand::Policies(P::Put {
            account,
            name,
            document,
            file,
        }) => {
            let document = match (document, file) {
                (Some(d), _) => d,
                (None, Some(file)) => read_document(&file)?,
                (None, None) => return Err(StoreError::invalid("give --document or --file")),
            };
            (
                "PutPolicy",
                json!({"AccountId": account, "PolicyName": name, "PolicyDocument": document}),
            )
        }
        AdminCommand::Policies(P::Get { account, name }) => (
            "GetPolicy",
            json!({"AccountId": account, "PolicyName": name}),
        ),
        AdminCommand::Policies(P::List { account }) => {
            ("ListPolicies", json!({"AccountId": account}))
        }
        AdminCommand::Policies(P::Delete {
            account,
            name,
            force,
        }) => (
            "DeletePolicy",
            json!({"AccountId": account, "PolicyName": name, "Force": force}),
        ),
        AdminCommand::Policies(P::Attach {
            account,
            user,
            name,
        }) => (
            "AttachUserPolicy",
            json!({"AccountId": account, "UserName": user, "PolicyName": name}),
        ),
        AdminCommand::Policies(P::Detach {
            account,
            user,
            name,
        }) => (
            "DetachUserPolicy",
            json!({"AccountId": account, "UserName": user, "PolicyName": name}),
        ),
    })
}

fn read_document(file: &Path) -> Result<String, StoreError> {
    let read = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    };
    read.map_err(|e| StoreError::invalid(format!("cannot read {}: {e}", file.display())))
}

/// Drops `null` members: the operations read an absent member and a null
/// one alike, but `deny_unknown_fields` inputs are clearer without them.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

/// Runs `openddb admin …`.
pub fn run(args: AdminArgs) -> ExitCode {
    let output = args.output;
    match execute(args) {
        Ok(value) => {
            print_value(output, &value);
            ExitCode::SUCCESS
        }
        Err(err) => {
            match output {
                Output::Json => eprintln!("{}", admin::error_body(&err)),
                Output::Table => eprintln!("error: {}: {}", err.code, err.message),
            }
            ExitCode::from(err.code.exit_code())
        }
    }
}

fn execute(args: AdminArgs) -> Result<Value, StoreError> {
    let (operation, input) = request(args.command)?;
    // The data directory is made (or checked) exactly as the server makes
    // it, so the store is only ever created in an openddb data directory.
    Database::open(StorageConfig::Directory(args.data_dir.clone()))
        .map_err(|e| StoreError::new(ErrorCode::ServiceFailure, e.message.clone()))?;
    let store = Store::open_with_key_file(&args.data_dir, args.credentials_key_file.as_deref())?;
    let body = serde_json::to_vec(&without_nulls(input))
        .map_err(|e| StoreError::failure(e.to_string()))?;
    admin::execute(&store, operation, &body)
}

fn print_value(output: Output, value: &Value) {
    if output == Output::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        return;
    }
    let Some((name, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return;
    };
    match inner {
        Value::Array(rows) => print_table(columns(name), rows),
        Value::Object(fields) => {
            let width = fields.keys().map(String::len).max().unwrap_or(0);
            for (key, v) in fields {
                println!("{key:<width$}  {}", cell(v));
            }
            if fields.contains_key("SecretAccessKey") {
                eprintln!("Save the secret now: it is not shown again.");
            }
        }
        other => println!("{}", cell(other)),
    }
}

fn columns(list: &str) -> &'static [&'static str] {
    match list {
        "Accounts" => &["AccountId", "Alias", "CreateDate"],
        "Users" => &[
            "UserName",
            "UserId",
            "Arn",
            "CreateDate",
            "Tags",
            "AttachedPolicies",
        ],
        "AccessKeys" => &[
            "AccessKeyId",
            "UserName",
            "Type",
            "Status",
            "CreateDate",
            "Expiration",
        ],
        "Policies" => &["PolicyName", "Arn", "AttachmentCount", "UpdateDate"],
        _ => &[],
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match (item.get("Key"), item.get("Value")) {
                (Some(k), Some(v)) => format!("{}={}", cell(k), cell(v)),
                _ => cell(item),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

fn print_table(columns: &[&str], rows: &[Value]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| row.get(*c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |values: Vec<&str>| {
        let text: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(columns.to_vec());
    for row in &cells {
        line(row.iter().map(String::as_str).collect());
    }
}
