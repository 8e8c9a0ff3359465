//! `openddb admin` as a script uses it: the built binary on a data
//! directory, its tables and JSON, its exit codes and messages, a store
//! made with another key refused, and a key it revokes failing on the very
//! next lookup of a store another process (this test) holds open.

mod common;

use std::path::Path;

use common::admin::{cli, cli_json};
use openddb::auth::store::Store;
use openddb::auth::KeyLookup;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#;

#[test]
fn accounts_users_keys_and_policies_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let dir = dir.as_path();

    let created = cli_json(
        dir,
        &[
            "accounts",
            "create",
            "--id",
            "123456789012",
            "--alias",
            "team-a",
        ],
    );
    assert_eq!(created["Account"]["AccountId"], "123456789012");
    // The data directory is a whole one, usable by the server.
    assert!(dir.join("FORMAT").is_file());
    assert!(dir.join("credentials.sqlite3").is_file());
    assert!(dir.join("credentials-key").is_file());

    let out = cli(dir, &["accounts", "list"]);
    assert!(out.status.success());
    let table = stdout(&out);
    let mut lines = table.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("AccountId     Alias   CreateDate"));
    assert!(lines.next().unwrap().starts_with("123456789012  team-a  "));

    let user = cli_json(
        dir,
        &[
            "users",
            "create",
            "--account",
            "team-a",
            "alice",
            "--path",
            "/eng/",
            "--tag",
            "team=blue",
        ],
    );
    assert_eq!(
        user["User"]["Arn"],
        "arn:aws:iam::123456789012:user/eng/alice"
    );

    let key = cli_json(
        dir,
        &["keys", "create", "--account", "team-a", "--user", "alice"],
    );
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("AKIA") && id.len() == 20);
    assert_eq!(secret.len(), 40);
    // Listing never shows a secret.
    let listed = cli(dir, &["keys", "list", "--account", "123456789012"]);
    assert!(listed.status.success());
    assert!(stdout(&listed).contains(&id));
    assert!(!stdout(&listed).contains(&secret));
    // A table answer of a new key shows the secret once and says so.
    let table_key = cli(
        dir,
        &["keys", "create", "--account", "team-a", "--user", "alice"],
    );
    assert!(table_key.status.success());
    assert!(stdout(&table_key).contains("SecretAccessKey"));
    assert!(stderr(&table_key).contains("not shown again"));

    let session = cli_json(
        dir,
        &[
            "keys",
            "create-session",
            "--account",
            "team-a",
            "--user",
            "alice",
            "--duration",
            "1h",
        ],
    );
    assert!(session["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));

    let put = cli_json(
        dir,
        &[
            "policies",
            "put",
            "--account",
            "team-a",
            "read",
            "--document",
            POLICY,
        ],
    );
    assert_eq!(put["Policy"]["PolicyName"], "read");
    let policy_file = data.path().join("policy.json");
    std::fs::write(&policy_file, POLICY).unwrap();
    cli_json(
        dir,
        &[
            "policies",
            "put",
            "--account",
            "team-a",
            "read2",
            "--file",
            policy_file.to_str().unwrap(),
        ],
    );
    cli_json(
        dir,
        &[
            "policies",
            "attach",
            "--account",
            "team-a",
            "--user",
            "alice",
            "read",
        ],
    );
    let got = cli_json(dir, &["policies", "get", "--account", "team-a", "read"]);
    assert_eq!(got["Policy"]["PolicyDocument"], POLICY);
    assert_eq!(got["Policy"]["AttachmentCount"], 1);
    let users = cli_json(dir, &["users", "list", "--account", "team-a"]);
    assert_eq!(users["Users"][0]["AttachedPolicies"][0], "read");
    cli_json(
        dir,
        &[
            "users",
            "tag",
            "--account",
            "team-a",
            "alice",
            "--tag",
            "level=3",
        ],
    );
    let untagged = cli_json(
        dir,
        &[
            "users",
            "untag",
            "--account",
            "team-a",
            "alice",
            "--key",
            "team",
        ],
    );
    assert_eq!(untagged["User"]["Tags"][0]["Key"], "level");
    cli_json(dir, &["keys", "deactivate", &id]);
    let keys = cli_json(
        dir,
        &["keys", "list", "--account", "team-a", "--user", "alice"],
    );
    let status: Vec<_> = keys["AccessKeys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["AccessKeyId"] == id.as_str())
        .map(|k| k["Status"].clone())
        .collect();
    assert_eq!(status, vec![serde_json::json!("Inactive")]);
    cli_json(dir, &["keys", "activate", &id]);
    cli_json(
        dir,
        &[
            "policies",
            "detach",
            "--account",
            "team-a",
            "--user",
            "alice",
            "read",
        ],
    );
    cli_json(dir, &["policies", "delete", "--account", "team-a", "read"]);
    assert_eq!(
        cli_json(dir, &["policies", "list", "--account", "team-a"])["Policies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    cli_json(dir, &["keys", "delete", &id]);
    cli_json(
        dir,
        &["users", "delete", "--account", "team-a", "alice", "--force"],
    );
    cli_json(dir, &["accounts", "delete", "team-a", "--force"]);
    assert_eq!(
        cli_json(dir, &["accounts", "list"])["Accounts"],
        serde_json::json!([])
    );
}

/// Runs a failing command: its exit code and standard error.
fn fails(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = cli(dir, args);
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        stdout(&out)
    );
    (out.status.code().unwrap_or(-1), stderr(&out))
}

#[test]
fn failures_have_exit_codes_and_messages_a_script_can_rely_on() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    cli_json(dir, &["accounts", "create", "--id", "111111111111"]);
    cli_json(dir, &["users", "create", "--account", "111111111111", "u"]);

    let (code, err) = fails(dir, &["users", "create", "--account", "111111111111", "U"]);
    assert_eq!(code, 4);
    assert_eq!(
        err.trim(),
        "error: EntityAlreadyExists: User with name U already exists."
    );
    let (code, err) = fails(dir, &["users", "list", "--account", "999999999999"]);
    assert_eq!(code, 3);
    assert_eq!(
        err.trim(),
        "error: NoSuchEntity: The account 999999999999 cannot be found."
    );
    let (code, _) = fails(
        dir,
        &["users", "create", "--account", "111111111111", "has space"],
    );
    assert_eq!(code, 2);
    let (code, err) = fails(
        dir,
        &[
            "policies",
            "put",
            "--account",
            "111111111111",
            "p",
            "--document",
            "{",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("MalformedPolicyDocument: Syntax errors in policy."),
        "{err}"
    );
    let (code, _) = fails(
        dir,
        &[
            "keys",
            "create-session",
            "--account",
            "111111111111",
            "--user",
            "u",
            "--duration",
            "2d",
        ],
    );
    assert_eq!(code, 2);
    cli_json(
        dir,
        &["keys", "create", "--account", "111111111111", "--user", "u"],
    );
    cli_json(
        dir,
        &["keys", "create", "--account", "111111111111", "--user", "u"],
    );
    let (code, err) = fails(
        dir,
        &["keys", "create", "--account", "111111111111", "--user", "u"],
    );
    assert_eq!(code, 6);
    assert!(
        err.contains("Cannot exceed quota for AccessKeysPerUser: 2"),
        "{err}"
    );
    let (code, err) = fails(dir, &["users", "delete", "--account", "111111111111", "u"]);
    assert_eq!(code, 5);
    assert!(err.contains("must delete access keys first"), "{err}");
    let (code, _) = fails(dir, &["keys", "deactivate", "AKIAAAAAAAAAAAAAAAAA"]);
    assert_eq!(code, 3);
    // Usage errors are clap's (exit 2).
    let (code, _) = fails(dir, &["keys", "create", "--account", "111111111111"]);
    assert_eq!(code, 2);
    // JSON errors are JSON.
    let out = cli(
        dir,
        &[
            "--output",
            "json",
            "users",
            "list",
            "--account",
            "000000000001",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let body: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(body["__type"], "NoSuchEntity");
}

#[test]
fn the_store_opens_only_with_its_key_and_only_in_a_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    let key_file = data.path().join("operator.key");
    std::fs::write(&key_file, "ab".repeat(32)).unwrap();
    let key = key_file.to_str().unwrap();
    cli_json(&dir, &["--credentials-key-file", key, "accounts", "create"]);
    assert!(!dir.join("credentials-key").exists());
    // Without the key, or with another one, the store is refused at once.
    let (code, err) = fails(&dir, &["accounts", "list"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("its key") && err.contains("is missing"),
        "{err}"
    );
    let other = data.path().join("other.key");
    std::fs::write(&other, [9u8; 32]).unwrap();
    let (code, err) = fails(
        &dir,
        &[
            "--credentials-key-file",
            other.to_str().unwrap(),
            "accounts",
            "list",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("does not open"), "{err}");
    let listed = cli_json(&dir, &["--credentials-key-file", key, "accounts", "list"]);
    assert_eq!(listed["Accounts"].as_array().unwrap().len(), 1);

    // A directory of someone else's files is not turned into a data
    // directory.
    let foreign = data.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let (code, err) = fails(&foreign, &["accounts", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("not an openddb data directory"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&foreign)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")]);
}

#[test]
fn a_key_the_cli_revokes_fails_on_the_next_lookup_of_a_running_process() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    cli_json(dir, &["accounts", "create", "--id", "222222222222"]);
    cli_json(dir, &["users", "create", "--account", "222222222222", "v"]);
    let key = cli_json(
        dir,
        &["keys", "create", "--account", "222222222222", "--user", "v"],
    );
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    // This process holds the store open, as the server does, and keeps
    // looking the key up while the CLI (another process) changes it.
    let store = Store::open_with_key_file(dir, None).unwrap();
    let record = store.lookup(&id).unwrap().expect("the new key");
    assert_eq!(
        record.secret,
        key["AccessKey"]["SecretAccessKey"].as_str().unwrap()
    );
    cli_json(dir, &["keys", "deactivate", &id]);
    assert!(store.lookup(&id).unwrap().is_none(), "deactivated");
    cli_json(dir, &["keys", "activate", &id]);
    assert!(store.lookup(&id).unwrap().is_some(), "active again");
    cli_json(
        dir,
        &[
            "policies",
            "put",
            "--account",
            "222222222222",
            "p",
            "--document",
            POLICY,
        ],
    );
    cli_json(
        dir,
        &[
            "policies",
            "attach",
            "--account",
            "222222222222",
            "--user",
            "v",
            "p",
        ],
    );
    assert_eq!(
        store.lookup(&id).unwrap().unwrap().principal.policies.len(),
        1,
        "policy attached"
    );
    cli_json(dir, &["keys", "delete", &id]);
    assert!(store.lookup(&id).unwrap().is_none(), "deleted");
}
