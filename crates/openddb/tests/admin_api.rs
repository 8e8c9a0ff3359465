//! The admin HTTP API of the real `openddb` binary: it needs the admin
//! token (401 without, 403 with a wrong one, before anything else), serves
//! every credential-store operation, leaves DynamoDB's `POST /` alone, and
//! what it acknowledged survives SIGKILL. A revocation made through it
//! applies on the next lookup of a store another process holds.

mod common;

use std::path::Path;

use common::admin::{admin_call, admin_token, http};
use common::ServerProcess;
use openddb::auth::store::Store;
use openddb::auth::KeyLookup;
use serde_json::{json, Value};

fn ok(reply: common::admin::HttpReply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn error_type(reply: &common::admin::HttpReply) -> String {
    reply.json()["__type"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_admin_api_answers_only_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path());
    let token = admin_token(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("admin-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let path = "/_openddb/admin/v1/ListAccounts";

    let none = http(server.addr, "POST", path, &[], b"{}");
    assert_eq!(none.status, 401);
    assert_eq!(error_type(&none), "MissingAuthenticationToken");
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"openddb-admin\"")
    );
    let basic = http(
        server.addr,
        "POST",
        path,
        &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
        b"{}",
    );
    assert_eq!(basic.status, 401);
    for wrong in [
        "Bearer nope".to_owned(),
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
    ] {
        let reply = http(
            server.addr,
            "POST",
            path,
            &[("Authorization", &wrong)],
            b"{}",
        );
        assert_eq!(reply.status, 403, "{wrong}");
        assert_eq!(error_type(&reply), "AccessDenied");
        assert_eq!(reply.json()["message"], "The admin token is not valid.");
    }
    // A scheme with no token is no token.
    let empty = http(
        server.addr,
        "POST",
        path,
        &[("Authorization", "Bearer ")],
        b"{}",
    );
    assert_eq!(empty.status, 401);
    // Without the token nothing else is told: not even whether the
    // operation exists.
    let unknown = http(server.addr, "POST", "/_openddb/admin/v1/Nope", &[], b"");
    assert_eq!(unknown.status, 401);

    let auth = format!("Bearer {token}");
    let listed = http(server.addr, "POST", path, &[("Authorization", &auth)], b"");
    assert_eq!(ok(listed), json!({"Accounts": []}));
    let unknown = admin_call(server.addr, &token, "DropEverything", "{}");
    assert_eq!(unknown.status, 400);
    assert_eq!(error_type(&unknown), "UnknownOperation");
    let get = http(server.addr, "GET", path, &[("Authorization", &auth)], b"");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    let other = http(
        server.addr,
        "POST",
        "/_openddb/admin/v2/ListAccounts",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(other.status, 404);
    let bad_json = admin_call(server.addr, &token, "CreateAccount", "{not json");
    assert_eq!(bad_json.status, 400);
    assert_eq!(error_type(&bad_json), "ValidationError");
    let huge = admin_call(
        server.addr,
        &token,
        "PutPolicy",
        &format!(
            r#"{{"AccountId":"1","PolicyName":"p","PolicyDocument":"{}"}}"#,
            " ".repeat(2 << 20)
        ),
    );
    assert_eq!(huge.status, 413);

    // DynamoDB's API on the same port is untouched.
    let tables = http(
        server.addr,
        "POST",
        "/",
        &[
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Date", "20261207T000000Z"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"),
        ],
        b"{}",
    );
    assert_eq!(
        tables.status,
        200,
        "{}",
        String::from_utf8_lossy(&tables.body)
    );
    assert_eq!(tables.json(), json!({"TableNames": []}));
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;

#[test]
fn every_operation_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path());
    let token = admin_token(dir.path());
    let call = |op: &str, body: Value| admin_call(server.addr, &token, op, &body.to_string());

    let account = ok(call("CreateAccount", json!({"Alias": "team-a"})));
    let id = account["Account"]["AccountId"].as_str().unwrap().to_owned();
    assert!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()));
    let again = call("CreateAccount", json!({"AccountId": id}));
    assert_eq!(
        (again.status, error_type(&again).as_str()),
        (409, "EntityAlreadyExists")
    );
    assert_eq!(
        ok(call("ListAccounts", json!({})))["Accounts"][0]["Alias"],
        "team-a"
    );

    let user = ok(call(
        "CreateUser",
        json!({"AccountId": "team-a", "UserName": "alice", "Path": "/eng/", "Tags": [{"Key": "team", "Value": "blue"}]}),
    ));
    assert_eq!(
        user["User"]["Arn"],
        format!("arn:aws:iam::{id}:user/eng/alice")
    );
    let bad = call(
        "CreateUser",
        json!({"AccountId": id, "UserName": "bad name"}),
    );
    assert_eq!(
        (bad.status, error_type(&bad).as_str()),
        (400, "ValidationError")
    );
    let missing = call("GetUser", json!({"AccountId": id, "UserName": "bob"}));
    assert_eq!(
        (missing.status, error_type(&missing).as_str()),
        (404, "NoSuchEntity")
    );
    assert_eq!(
        missing.json()["message"],
        "The user with name bob cannot be found."
    );
    assert_eq!(
        ok(call(
            "GetUser",
            json!({"AccountId": id, "UserName": "ALICE"})
        ))["User"]["UserName"],
        "alice"
    );
    let tagged = ok(call(
        "TagUser",
        json!({"AccountId": id, "UserName": "alice", "Tags": [{"Key": "level", "Value": "3"}]}),
    ));
    assert_eq!(tagged["User"]["Tags"].as_array().unwrap().len(), 2);
    let untagged = ok(call(
        "UntagUser",
        json!({"AccountId": id, "UserName": "alice", "TagKeys": ["team"]}),
    ));
    assert_eq!(
        untagged["User"]["Tags"],
        json!([{"Key": "level", "Value": "3"}])
    );
    assert_eq!(
        ok(call("ListUsers", json!({"AccountId": id})))["Users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let malformed = call(
        "PutPolicy",
        json!({"AccountId": id, "PolicyName": "p", "PolicyDocument": "{}"}),
    );
    assert_eq!(
        (malformed.status, error_type(&malformed).as_str()),
        (400, "MalformedPolicyDocument")
    );
    let policy = ok(call(
        "PutPolicy",
        json!({"AccountId": id, "PolicyName": "all", "PolicyDocument": POLICY}),
    ));
    assert_eq!(
        policy["Policy"]["Arn"],
        format!("arn:aws:iam::{id}:policy/all")
    );
    assert_eq!(
        ok(call(
            "GetPolicy",
            json!({"AccountId": id, "PolicyName": "all"})
        ))["Policy"]["PolicyDocument"],
        POLICY
    );
    ok(call(
        "AttachUserPolicy",
        json!({"AccountId": id, "UserName": "alice", "PolicyName": "all"}),
    ));
    let listed = ok(call("ListPolicies", json!({"AccountId": id})));
    assert_eq!(listed["Policies"][0]["AttachmentCount"], 1);
    assert!(listed["Policies"][0].get("PolicyDocument").is_none());
    let conflict = call(
        "DeletePolicy",
        json!({"AccountId": id, "PolicyName": "all"}),
    );
    assert_eq!(
        (conflict.status, error_type(&conflict).as_str()),
        (409, "DeleteConflict")
    );

    let key = ok(call(
        "CreateAccessKey",
        json!({"AccountId": id, "UserName": "alice"}),
    ));
    let key_id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    assert_eq!(
        key["AccessKey"]["SecretAccessKey"].as_str().unwrap().len(),
        40
    );
    assert_eq!(key["AccessKey"]["Status"], "Active");
    let session = ok(call(
        "CreateSessionCredentials",
        json!({"AccountId": id, "UserName": "alice", "DurationSeconds": 900}),
    ));
    assert!(session["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    assert!(session["Credentials"]["SessionToken"].is_string());
    assert!(session["Credentials"]["Expiration"].is_string());
    let too_short = call(
        "CreateSessionCredentials",
        json!({"AccountId": id, "UserName": "alice", "DurationSeconds": 60}),
    );
    assert_eq!(too_short.status, 400);
    let keys = ok(call(
        "ListAccessKeys",
        json!({"AccountId": id, "UserName": "alice"}),
    ));
    assert_eq!(keys["AccessKeys"].as_array().unwrap().len(), 2);
    assert!(keys["AccessKeys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k.get("SecretAccessKey").is_none()));
    let updated = ok(call(
        "UpdateAccessKey",
        json!({"AccessKeyId": key_id, "Status": "Inactive"}),
    ));
    assert_eq!(updated["AccessKey"]["Status"], "Inactive");
    let in_use = call("DeleteUser", json!({"AccountId": id, "UserName": "alice"}));
    assert_eq!(
        (in_use.status, error_type(&in_use).as_str()),
        (409, "DeleteConflict")
    );
    assert_eq!(
        in_use.json()["message"],
        "Cannot delete entity, must delete access keys first."
    );

    ok(call("DeleteAccessKey", json!({"AccessKeyId": key_id})));
    let gone = call("DeleteAccessKey", json!({"AccessKeyId": key_id}));
    assert_eq!(gone.status, 404);
    ok(call(
        "DetachUserPolicy",
        json!({"AccountId": id, "UserName": "alice", "PolicyName": "all"}),
    ));
    ok(call(
        "DeletePolicy",
        json!({"AccountId": id, "PolicyName": "all"}),
    ));
    ok(call(
        "DeleteUser",
        json!({"AccountId": id, "UserName": "alice", "Force": true}),
    ));
    ok(call("DeleteAccount", json!({"AccountId": "team-a"})));
    assert_eq!(ok(call("ListAccounts", json!({}))), json!({"Accounts": []}));
}

fn store_of(dir: &Path) -> std::sync::Arc<Store> {
    Store::open_with_key_file(dir, None).expect("open the data directory's store")
}

#[test]
fn what_the_admin_api_acknowledged_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path());
    let token = admin_token(dir.path());
    let call = |op: &str, body: Value| ok(admin_call(server.addr, &token, op, &body.to_string()));
    call("CreateAccount", json!({"AccountId": "123456789012"}));
    call(
        "CreateUser",
        json!({"AccountId": "123456789012", "UserName": "kim"}),
    );
    let key = call(
        "CreateAccessKey",
        json!({"AccountId": "123456789012", "UserName": "kim"}),
    );
    server.kill();
    let store = store_of(dir.path());
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let record = store.lookup(id).unwrap().expect("the acknowledged key");
    assert_eq!(
        record.secret,
        key["AccessKey"]["SecretAccessKey"].as_str().unwrap()
    );
    assert_eq!(record.principal.arn, "arn:aws:iam::123456789012:user/kim");
}

#[test]
fn a_revocation_over_http_applies_on_the_next_lookup_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path());
    let token = admin_token(dir.path());
    let call = |op: &str, body: Value| ok(admin_call(server.addr, &token, op, &body.to_string()));
    call("CreateAccount", json!({"AccountId": "210987654321"}));
    call(
        "CreateUser",
        json!({"AccountId": "210987654321", "UserName": "lee"}),
    );
    let key = call(
        "CreateAccessKey",
        json!({"AccountId": "210987654321", "UserName": "lee"}),
    );
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let store = store_of(dir.path());
    assert!(store.lookup(&id).unwrap().is_some());
    call(
        "UpdateAccessKey",
        json!({"AccessKeyId": id, "Status": "Inactive"}),
    );
    assert!(store.lookup(&id).unwrap().is_none());
    call(
        "UpdateAccessKey",
        json!({"AccessKeyId": id, "Status": "Active"}),
    );
    assert!(store.lookup(&id).unwrap().is_some());
}

#[test]
fn an_in_memory_server_has_an_admin_api_only_with_a_token_file() {
    let binary = env!("CARGO_BIN_EXE_openddb");
    let mut plain = std::process::Command::new(binary);
    plain.args(["--in-memory", "--port", "0", "--log-level", "warn"]);
    let server = ServerProcess::spawn(plain);
    let reply = http(
        server.addr,
        "POST",
        "/_openddb/admin/v1/ListAccounts",
        &[],
        b"{}",
    );
    assert_eq!(reply.status, 404);
    assert_eq!(error_type(&reply), "AdminApiDisabled");
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "an-operator-chosen-token\n").unwrap();
    let mut with_token = std::process::Command::new(binary);
    with_token
        .args([
            "--in-memory",
            "--port",
            "0",
            "--log-level",
            "warn",
            "--admin-token-file",
        ])
        .arg(&token_file);
    let server = ServerProcess::spawn(with_token);
    let created = admin_call(
        server.addr,
        "an-operator-chosen-token",
        "CreateAccount",
        "{}",
    );
    assert_eq!(created.status, 200);
    let listed = ok(admin_call(
        server.addr,
        "an-operator-chosen-token",
        "ListAccounts",
        "",
    ));
    assert_eq!(listed["Accounts"].as_array().unwrap().len(), 1);
    drop(server);

    // --no-admin-api turns it off on a durable server too.
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with(data.path(), &["--no-admin-api"]);
    let reply = http(
        server.addr,
        "POST",
        "/_openddb/admin/v1/ListAccounts",
        &[],
        b"{}",
    );
    assert_eq!(reply.status, 404);
    assert!(!data.path().join("admin-token").exists());
}
