//! `--auth sigv4` end to end: requests signed by the AWS SDK (and, for what
//! the SDK will not do — a skewed clock, a presigned URL, a body changed
//! after signing — by `aws-sigv4`, the SDK's own signer) against a server
//! that verifies them, and what a user sees when a signature is wrong.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_smithy_runtime_api::client::identity::Identity;
use common::{client_with_credentials, create_table, s, Server};
use openddb::auth::{KeyRecord, Principal, StaticKeys};
use openddb::server::Authentication;
use openddb::{Database, StorageConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ALICE: &str = "AKIAALICE00000000001";
const ALICE_SECRET: &str = "alice/secret/alice/secret/alice/secret00";
const BOB: &str = "AKIABOB0000000000002";
const BOB_SECRET: &str = "bob+secret+bob+secret+bob+secret+bob+000";
const TEMP: &str = "ASIATEMP000000000003";
const TEMP_SECRET: &str = "temp/secret/temp/secret/temp/secret/0000";
const TEMP_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessionTOKEN/with+slash=";
const GONE: &str = "ASIAGONE000000000004";

fn key(id: &str, secret: &str, account: &str, user: &str) -> KeyRecord {
    KeyRecord {
        access_key_id: id.into(),
        secret: secret.into(),
        session_token: None,
        expires: None,
        principal: Arc::new(Principal {
            account_id: account.into(),
            arn: format!("arn:aws:iam::{account}:user/{user}"),
            user_name: user.into(),
            user_id: format!("AIDA{}", user.to_uppercase()),
            tags: BTreeMap::new(),
            policies: Vec::new(),
        }),
    }
}

fn keys() -> StaticKeys {
    let mut temp = key(TEMP, TEMP_SECRET, "111111111111", "ci");
    temp.session_token = Some(TEMP_TOKEN.into());
    temp.expires = Some(SystemTime::now() + Duration::from_secs(3_600));
    let mut gone = key(GONE, TEMP_SECRET, "111111111111", "old");
    gone.session_token = Some(TEMP_TOKEN.into());
    gone.expires = Some(SystemTime::now() - Duration::from_secs(1));
    StaticKeys(vec![
        key(ALICE, ALICE_SECRET, "111111111111", "alice"),
        key(BOB, BOB_SECRET, "222222222222", "bob"),
        temp,
        gone,
    ])
}

async fn server() -> Server {
    let db = Database::open(StorageConfig::InMemory).expect("open");
    Server::with_auth(db, Authentication::Sigv4(Arc::new(keys()))).await
}

fn error<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[tokio::test]
async fn signed_requests_are_served_and_bad_signatures_refused() {
    let server = server().await;
    let alice = client_with_credentials(server.addr, ALICE, ALICE_SECRET, None);
    create_table(&alice, "things", false).await;
    alice
        .put_item()
        .table_name("things")
        .item("pk", s("a"))
        .send()
        .await
        .unwrap();
    let got = alice
        .get_item()
        .table_name("things")
        .key("pk", s("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap().get("pk"), Some(&s("a")));

    let wrong_secret = client_with_credentials(server.addr, ALICE, BOB_SECRET, None);
    let err = wrong_secret.list_tables().send().await.unwrap_err();
    assert_eq!(
        error(&err),
        ("InvalidSignatureException".into(), MISMATCH.into())
    );

    let unknown = client_with_credentials(server.addr, "AKIANOBODY0000000000", "x", None);
    let err = unknown.list_tables().send().await.unwrap_err();
    assert_eq!(
        error(&err),
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn temporary_credentials_need_their_session_token() {
    let server = server().await;
    let with = |token| client_with_credentials(server.addr, TEMP, TEMP_SECRET, token);
    with(Some(TEMP_TOKEN)).list_tables().send().await.unwrap();
    let invalid = (
        "UnrecognizedClientException".to_owned(),
        "The security token included in the request is invalid".to_owned(),
    );
    for token in [None, Some("FwoGZXIvYXdzEXAMPLEotherTOKEN")] {
        let err = with(token).list_tables().send().await.unwrap_err();
        assert_eq!(error(&err), invalid, "{token:?}");
    }
    // A long-term key with a token it does not have.
    let err = client_with_credentials(server.addr, ALICE, ALICE_SECRET, Some(TEMP_TOKEN))
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error(&err), invalid);
    let expired = client_with_credentials(server.addr, GONE, TEMP_SECRET, Some(TEMP_TOKEN));
    let err = expired.list_tables().send().await.unwrap_err();
    assert_eq!(
        error(&err),
        (
            "ExpiredTokenException".into(),
            "The security token included in the request is expired".into()
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn two_keys_are_two_isolated_accounts() {
    let server = server().await;
    let alice = client_with_credentials(server.addr, ALICE, ALICE_SECRET, None);
    let bob = client_with_credentials(server.addr, BOB, BOB_SECRET, None);
    create_table(&alice, "secrets", false).await;
    alice
        .put_item()
        .table_name("secrets")
        .item("pk", s("alice's"))
        .send()
        .await
        .unwrap();
    assert!(bob
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names()
        .is_empty());
    let err = bob
        .get_item()
        .table_name("secrets")
        .key("pk", s("alice's"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error(&err).0, "ResourceNotFoundException");
    // Bob's own table of the same name is his.
    create_table(&bob, "secrets", false).await;
    let got = bob
        .get_item()
        .table_name("secrets")
        .key("pk", s("alice's"))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_none());
    // The ARNs carry the key's account.
    let described = alice
        .describe_table()
        .table_name("secrets")
        .send()
        .await
        .unwrap();
    let arn = described.table().unwrap().table_arn().unwrap().to_owned();
    assert!(
        arn.starts_with("arn:aws:dynamodb:us-east-1:111111111111:table/"),
        "{arn}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn streams_requests_verify_too() {
    let server = server().await;
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", server.addr))
        .region(aws_sdk_dynamodbstreams::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            ALICE,
            ALICE_SECRET,
            None,
            None,
            "static",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(config);
    let listed = streams.list_streams().send().await.unwrap();
    assert!(listed.streams().is_empty());
    server.shutdown().await;
}

// --- signed by hand -----------------------------------------------------------

const BODY: &str = r#"{"TableName":"things","Key":{"pk":{"S":"a"}}}"#;

/// An HTTP/1.1 request signed by `aws-sigv4` as of `at`.
struct Signed {
    target: String,
    headers: Vec<(String, String)>,
}

fn sign_get_item(addr: SocketAddr, at: SystemTime, location: SignatureLocation) -> Signed {
    let host = addr.to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let identity: Identity = Credentials::new(ALICE, ALICE_SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    settings.expires_in = Some(Duration::from_secs(300));
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("dynamodb")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let url = format!("http://{host}/");
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    for (name, value) in instructions.headers() {
        out.push((name.to_owned(), value.to_owned()));
    }
    let query: Vec<String> = instructions
        .params()
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    let target = if query.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{}", query.join("&"))
    };
    Signed {
        target,
        headers: out,
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends `signed` with `body`; the answer's status and JSON body.
async fn send(addr: SocketAddr, signed: &Signed, body: &str) -> (u16, Value) {
    let mut request = format!("POST {} HTTP/1.1\r\n", signed.target);
    for (name, value) in &signed.headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn kind_and_message(answer: &Value) -> (String, String) {
    let kind = answer["__type"].as_str().unwrap_or_default();
    (
        kind.rsplit('#').next().unwrap_or_default().to_owned(),
        answer["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn clocks_more_than_fifteen_minutes_apart_are_refused() {
    let server = server().await;
    let alice = client_with_credentials(server.addr, ALICE, ALICE_SECRET, None);
    create_table(&alice, "things", false).await;
    let now = SystemTime::now();

    let fresh = sign_get_item(server.addr, now, SignatureLocation::Headers);
    let (status, answer) = send(server.addr, &fresh, BODY).await;
    assert_eq!(status, 200, "{answer}");

    let twenty_minutes = Duration::from_secs(20 * 60);
    let old = sign_get_item(
        server.addr,
        now - twenty_minutes,
        SignatureLocation::Headers,
    );
    let (status, answer) = send(server.addr, &old, BODY).await;
    assert_eq!(status, 400);
    let (kind, message) = kind_and_message(&answer);
    assert_eq!(kind, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert!(message.ends_with(" - 15 min.)"), "{message}");

    let future = sign_get_item(
        server.addr,
        now + twenty_minutes,
        SignatureLocation::Headers,
    );
    let (_, answer) = send(server.addr, &future, BODY).await;
    let (kind, message) = kind_and_message(&answer);
    assert_eq!(kind, "InvalidSignatureException");
    assert!(
        message.starts_with("Signature not yet current: "),
        "{message}"
    );
    assert!(message.ends_with(" + 15 min.)"), "{message}");
    server.shutdown().await;
}

#[tokio::test]
async fn presigned_requests_and_bodies_changed_after_signing() {
    let server = server().await;
    let alice = client_with_credentials(server.addr, ALICE, ALICE_SECRET, None);
    create_table(&alice, "things", false).await;
    alice
        .put_item()
        .table_name("things")
        .item("pk", s("a"))
        .send()
        .await
        .unwrap();
    let now = SystemTime::now();

    let presigned = sign_get_item(server.addr, now, SignatureLocation::QueryParams);
    assert!(presigned.target.contains("X-Amz-Signature="));
    assert!(!presigned.headers.iter().any(|(n, _)| n == "authorization"));
    let (status, answer) = send(server.addr, &presigned, BODY).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["Item"]["pk"]["S"], "a");

    // Same length, another key: the signature no longer covers it.
    let tampered = BODY.replace(r#""S":"a""#, r#""S":"b""#);
    assert_eq!(tampered.len(), BODY.len());
    for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
        let signed = sign_get_item(server.addr, now, location);
        let (status, answer) = send(server.addr, &signed, &tampered).await;
        assert_eq!(status, 400);
        assert_eq!(
            kind_and_message(&answer),
            ("InvalidSignatureException".into(), MISMATCH.into())
        );
    }
    server.shutdown().await;
}

// --- the binary -----------------------------------------------------------------

#[tokio::test]
async fn the_binary_verifies_with_a_keys_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(
        &keys,
        format!(
            r#"[{{"accessKeyId": "{ALICE}", "secretAccessKey": "{ALICE_SECRET}",
                 "accountId": "333333333333", "userName": "alice"}}]"#
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let keys_arg = keys.to_str().unwrap();
    let server = common::ServerProcess::start_with(
        &data,
        &["--auth", "sigv4", "--auth-keys-file", keys_arg],
    );
    let alice = client_with_credentials(server.addr, ALICE, ALICE_SECRET, None);
    create_table(&alice, "things", false).await;
    let described = alice
        .describe_table()
        .table_name("things")
        .send()
        .await
        .unwrap();
    let arn = described.table().unwrap().table_arn().unwrap().to_owned();
    assert!(arn.contains(":333333333333:table/things"), "{arn}");
    let err = client_with_credentials(server.addr, BOB, BOB_SECRET, None)
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error(&err).0, "UnrecognizedClientException");
    server.kill();
}

/// The production path: `--auth sigv4` with no keys file verifies against
/// the credential store, where `openddb admin` made the key; a key the CLI
/// deactivates while the server runs fails on the next request.
#[tokio::test]
async fn the_binary_verifies_against_the_credential_store() {
    use common::admin::{cli, cli_json};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli_json(&data, &["accounts", "create", "--id", "444444444444"]);
    cli_json(
        &data,
        &["users", "create", "--account", "444444444444", "carol"],
    );
    let key = cli_json(
        &data,
        &[
            "keys",
            "create",
            "--account",
            "444444444444",
            "--user",
            "carol",
        ],
    );
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();

    let server = common::ServerProcess::start_with(&data, &["--auth", "sigv4"]);
    let carol = client_with_credentials(server.addr, &id, &secret, None);
    create_table(&carol, "things", false).await;
    let described = carol
        .describe_table()
        .table_name("things")
        .send()
        .await
        .unwrap();
    let arn = described.table().unwrap().table_arn().unwrap().to_owned();
    assert!(arn.contains(":444444444444:table/things"), "{arn}");

    let wrong = client_with_credentials(server.addr, &id, ALICE_SECRET, None)
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error(&wrong).0, "InvalidSignatureException");

    let out = cli(&data, &["keys", "deactivate", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked = carol.list_tables().send().await.unwrap_err();
    assert_eq!(error(&revoked).0, "UnrecognizedClientException");
    server.kill();
}

/// Runs the binary with `args` and expects it to refuse to start with
/// `message`.
fn refuses_to_start(args: &[&str], message: &str) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_openddb"))
        .args(["--in-memory", "--port", "0"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} started: {stderr}");
    assert!(stderr.contains(message), "{args:?}: {stderr}");
    assert!(!stderr.contains("listening"), "{args:?}: {stderr}");
}

#[test]
fn auth_modes_that_cannot_be_served_refuse_to_start() {
    refuses_to_start(
        &["--auth-keys-file", "/nonexistent/keys.json"],
        "--auth-keys-file is only read with --auth sigv4",
    );
    refuses_to_start(
        &[
            "--auth",
            "sigv4",
            "--auth-keys-file",
            "/nonexistent/keys.json",
        ],
        "cannot read /nonexistent/keys.json",
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("keys.json");
    std::fs::write(&bad, r#"[{"accessKeyId": "A"}]"#).unwrap();
    refuses_to_start(
        &["--auth", "sigv4", "--auth-keys-file", bad.to_str().unwrap()],
        "missing field",
    );
}
