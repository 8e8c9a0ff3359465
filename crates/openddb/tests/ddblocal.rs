//! openddb started as DynamoDB Local: its documented command lines, its
//! databases per access key id and region (or one shared), CORS, the
//! health subcommand, -help and its mistakes, transient statuses and
//! -optimizeDbBeforeStartup — all through the real binary.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, GlobalSecondaryIndexUpdate, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use common::{attr_def, client_as, create_table, key_elem, ServerProcess};

const BINARY: &str = env!("CARGO_BIN_EXE_openddb");

/// Starts the binary with exactly `args` (in `dir`), as `program` (argv[0]).
fn start_as(program: &Path, dir: &Path, args: &[&str]) -> ServerProcess {
    let mut command = Command::new(program);
    command.current_dir(dir).args(args);
    let mut server = ServerProcess::spawn(command);
    // DynamoDB Local listens on every interface; talk to it over loopback.
    server.addr = SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
    server
}

fn start(dir: &Path, args: &[&str]) -> ServerProcess {
    start_as(Path::new(BINARY), dir, args)
}

async fn tables(server: &ServerProcess, key: &str, region: &str) -> Vec<String> {
    client_as(server.addr, key, region)
        .list_tables()
        .send()
        .await
        .expect("ListTables")
        .table_names
        .unwrap_or_default()
}

/// The documented command lines start unchanged: DynamoDB Local's docs
/// (`java -Djava.library.path=… -jar DynamoDBLocal.jar -sharedDb`), its
/// Docker image's default (`-jar DynamoDBLocal.jar -inMemory`), the compose
/// files that persist (`-jar DynamoDBLocal.jar -sharedDb -dbPath ./data`),
/// and the binary run under DynamoDB Local's name.
#[tokio::test]
async fn documented_invocations_start_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    // A project directory holding other files (DynamoDB Local writes next
    // to them; openddb keeps to its own subdirectory).
    std::fs::write(dir.path().join("package.json"), "{}").unwrap();
    let lines: [&[&str]; 3] = [
        &[
            "java",
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            "-sharedDb",
            "-port",
            "0",
        ],
        &["-jar", "DynamoDBLocal.jar", "-inMemory", "-port", "0"],
        &[
            "-jar",
            "DynamoDBLocal.jar",
            "-sharedDb",
            "-dbPath",
            "./data",
            "-port",
            "0",
        ],
    ];
    for (i, args) in lines.iter().enumerate() {
        let server = start(dir.path(), args);
        let log = server.log().join("\n");
        assert!(
            log.contains("Initializing DynamoDB Local with the following configuration:"),
            "{log}"
        );
        assert!(
            log.contains(&format!("Port:\t{}", server.addr.port())),
            "{log}"
        );
        let table = format!("table{i}");
        create_table(&client_as(server.addr, "AKID1", "us-east-1"), &table, false).await;
        assert!(tables(&server, "AKID1", "us-east-1").await.contains(&table));
        server.kill();
    }
    // Where the data went: the docs' line into the current directory, the
    // compose line into ./data, each in its openddb-data subdirectory.
    assert!(dir.path().join("openddb-data/FORMAT").exists());
    assert!(dir.path().join("data/openddb-data/FORMAT").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("package.json")).unwrap(),
        "{}"
    );

    // The same binary, named DynamoDBLocal.
    let bin = tempfile::tempdir().unwrap();
    let link = bin.path().join("DynamoDBLocal");
    std::os::unix::fs::symlink(BINARY, &link).unwrap();
    let server = start_as(&link, dir.path(), &["-inMemory", "-port", "0"]);
    assert!(server
        .log()
        .iter()
        .any(|l| l.starts_with("Initializing DynamoDB Local")));
    assert!(tables(&server, "AKID1", "us-east-1").await.is_empty());
}

/// Without -sharedDb each access key id and region has its own database,
/// as in DynamoDB Local; with it, every client sees the same tables; and
/// `--tenancy` chooses either way whichever command line started it.
#[tokio::test]
async fn databases_per_key_and_region_or_shared() {
    let dir = tempfile::tempdir().unwrap();
    let clients = [
        ("AKIDONE", "us-east-1"),
        ("AKIDONE", "eu-west-1"),
        ("AKIDTWO", "us-east-1"),
        ("AKIDTWO", "eu-west-1"),
    ];

    let server = start(
        dir.path(),
        &["-inMemory", "-port", "0", "--log-level", "info"],
    );
    for (key, region) in clients {
        let name = format!("{key}-{region}");
        create_table(&client_as(server.addr, key, region), &name, false).await;
    }
    for (key, region) in clients {
        assert_eq!(
            tables(&server, key, region).await,
            vec![format!("{key}-{region}")],
            "{key} {region}"
        );
    }
    // DynamoDB Local's rule: access key ids of letters and digits only.
    let err = client_as(server.addr, "AKID_ONE", "us-east-1")
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The Access Key ID or security token is invalid.")
    );
    // The log names each database as it is first used.
    let log = server.log().join("\n");
    for (key, region) in clients {
        assert!(
            log.contains(&format!("database=\"{key}_{region}\"")),
            "{log}"
        );
    }
    server.kill();

    for args in [
        &["-inMemory", "-sharedDb", "-port", "0"][..],
        &["-inMemory", "-port", "0", "--tenancy", "shared"][..],
        &["--in-memory", "--port", "0", "--tenancy", "shared"][..],
    ] {
        let server = start(dir.path(), args);
        create_table(
            &client_as(server.addr, "AKIDONE", "us-east-1"),
            "shared",
            false,
        )
        .await;
        for (key, region) in clients {
            assert_eq!(
                tables(&server, key, region).await,
                vec!["shared"],
                "{args:?}"
            );
        }
        // Any access key id works with one shared database.
        assert_eq!(
            tables(&server, "AKID_ONE", "us-east-1").await,
            vec!["shared"]
        );
        server.kill();
    }

    // openddb's own command line with DynamoDB Local's tenancy, and
    // DynamoDB Local's with openddb's (accounts from the access key).
    let server = start(
        dir.path(),
        &["--in-memory", "--port", "0", "--tenancy", "key-region"],
    );
    create_table(
        &client_as(server.addr, "AKIDONE", "us-east-1"),
        "mine",
        false,
    )
    .await;
    assert!(tables(&server, "AKIDONE", "eu-west-1").await.is_empty());
    server.kill();
    let server = start(
        dir.path(),
        &["-inMemory", "-port", "0", "--tenancy", "account"],
    );
    create_table(
        &client_as(server.addr, "AKIDONE", "us-east-1"),
        "all",
        false,
    )
    .await;
    assert_eq!(tables(&server, "AKIDTWO", "eu-west-1").await, vec!["all"]);
    assert!(tables(&server, "111122223333", "us-east-1")
        .await
        .is_empty());
}

/// A raw HTTP exchange: the status line and the headers (names lowercase).
fn http(addr: SocketAddr, request: &str) -> (String, Vec<(String, String)>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn preflight(addr: SocketAddr, origin: &str) -> (String, Vec<(String, String)>) {
    http(
        addr,
        &format!(
            "OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type,x-amz-target,authorization\r\n\
             Connection: close\r\n\r\n"
        ),
    )
}

fn list_tables_from(addr: SocketAddr, origin: &str) -> (String, Vec<(String, String)>) {
    let body = "{}";
    http(
        addr,
        &format!(
            "POST / HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20261208T000000Z\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261208/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// -cors: `*` (the default) lets every origin read answers; a list lets
/// only its origins, for preflights and answers alike.
#[tokio::test]
async fn cors_allow_lists() {
    let dir = tempfile::tempdir().unwrap();
    let any = start(dir.path(), &["-inMemory", "-port", "0"]);
    let (status, headers) = preflight(any.addr, "http://localhost:3000");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("POST")
    );
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some("content-type,x-amz-target,authorization")
    );
    assert_eq!(header(&headers, "access-control-max-age"), Some("1728000"));
    let (status, headers) = list_tables_from(any.addr, "http://localhost:3000");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        Some("x-amzn-RequestId,x-amz-crc32")
    );
    any.kill();

    let listed = start(
        dir.path(),
        &[
            "-inMemory",
            "-port",
            "0",
            "-cors",
            "http://a.test,https://b.test",
        ],
    );
    for origin in ["http://a.test", "https://b.test"] {
        let (_, headers) = preflight(listed.addr, origin);
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some(origin)
        );
        let (status, headers) = list_tables_from(listed.addr, origin);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some(origin)
        );
    }
    // Another origin is answered (as DynamoDB Local does) but not allowed
    // to read: no Allow-Origin, so the browser refuses.
    let (status, headers) = preflight(listed.addr, "http://evil.test");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    let (_, headers) = list_tables_from(listed.addr, "http://evil.test");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    // GET / answers as DynamoDB does, CORS or not.
    let (status, headers) = http(
        listed.addr,
        "GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://a.test")
    );
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("run openddb")
}

#[test]
fn health_help_version_and_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with(dir.path(), &[]);
    let port = server.addr.port().to_string();
    let up = run(&["health", "--port", &port]);
    assert!(up.status.success(), "{up:?}");
    server.kill();
    let down = run(&["health", "--port", &port, "--timeout", "1"]);
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("cannot connect"));

    let help = run(&["-jar", "DynamoDBLocal.jar", "-help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "-port",
        "-inMemory",
        "-dbPath",
        "-sharedDb",
        "-cors",
        "-delayTransientStatuses",
        "-optimizeDbBeforeStartup",
        "-disableTelemetry",
    ] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
    let version = run(&["-version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("openddb "));

    for (args, message) in [
        (
            &["-inMemory", "-dbPath", "x"][..],
            "dbPath and inMemory cannot be set at the same time.",
        ),
        (
            &["-jar", "DynamoDBLocal.jar", "-bogus"][..],
            "Error while parsing options. Unrecognized option: -bogus",
        ),
        (
            &["-sharedDb", "-port", "65536"][..],
            "Invalid Port. Port number must lie between 1 and 65535.",
        ),
        (
            &["-optimizeDbBeforeStartup"][..],
            "optimizeDbBeforeStartup option must be used with dbPath",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{args:?}: {out:?}"
        );
    }
    // --auth iam decides by account.
    let out = run(&["--in-memory", "--auth", "iam", "--tenancy", "shared"]);
    assert_eq!(out.status.code(), Some(1));
}

/// -delayTransientStatuses: a table is CREATING, then ACTIVE; UPDATING with
/// its new index CREATING; DELETING, then gone — each for the delay, with
/// DynamoDB's answers to requests that come too early.
#[tokio::test]
async fn transient_statuses_last_the_delay() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            "-inMemory",
            "-sharedDb",
            "-delayTransientStatuses",
            "-port",
            "0",
            "--transient-status-seconds",
            "1.5",
        ],
    );
    let client = client_as(server.addr, "AKID", "us-east-1");
    let status = |name: &'static str| {
        let client = client.clone();
        async move {
            let table = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map(|d| d.table.unwrap());
            table.map(|t| {
                (
                    t.table_status.unwrap().as_str().to_owned(),
                    t.global_secondary_indexes
                        .unwrap_or_default()
                        .into_iter()
                        .map(|g| g.index_status.unwrap().as_str().to_owned())
                        .collect::<Vec<_>>(),
                )
            })
        }
    };
    let created = create_slow(&client).await.unwrap();
    assert_eq!(
        created
            .table_description
            .unwrap()
            .table_status
            .unwrap()
            .as_str(),
        "CREATING"
    );
    assert_eq!(status("slow").await.unwrap().0, "CREATING");
    let put = |v: &'static str| {
        client
            .put_item()
            .table_name("slow")
            .item("pk", AttributeValue::S(v.into()))
            .item("g", AttributeValue::S("x".into()))
            .send()
    };
    let err = put("a").await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = client
        .delete_table()
        .table_name("slow")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceInUseException"));
    assert_eq!(
        err.message(),
        Some("Attempt to change a resource which is still in use: Table is being created: slow")
    );
    assert!(tables(&server, "AKID", "us-east-1")
        .await
        .contains(&"slow".to_owned()));

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(status("slow").await.unwrap().0, "ACTIVE");
    put("a").await.expect("PutItem once ACTIVE");

    client
        .update_table()
        .table_name("slow")
        .attribute_definitions(attr_def("g", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                        .index_name("byG")
                        .key_schema(key_elem("g", KeyType::Hash))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // The backfill of one item is done at once; the index stays CREATING.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status("slow").await.unwrap(),
        ("UPDATING".to_owned(), vec!["CREATING".to_owned()])
    );
    let err = client
        .update_table()
        .table_name("slow")
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceInUseException"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        status("slow").await.unwrap(),
        ("ACTIVE".to_owned(), vec!["ACTIVE".to_owned()])
    );

    let deleted = client
        .delete_table()
        .table_name("slow")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted
            .table_description
            .unwrap()
            .table_status
            .unwrap()
            .as_str(),
        "DELETING"
    );
    assert_eq!(status("slow").await.unwrap().0, "DELETING");
    assert_eq!(
        put("b").await.unwrap_err().code(),
        Some("ResourceNotFoundException")
    );
    let again = create_slow(&client).await.unwrap_err();
    assert_eq!(again.code(), Some("ResourceInUseException"));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let gone = status("slow").await.unwrap_err();
    assert_eq!(
        gone.into_service_error().meta().code(),
        Some("ResourceNotFoundException")
    );
}

/// CreateTable of the on-demand table `slow`, keyed by `pk`.
async fn create_slow(
    client: &aws_sdk_dynamodb::Client,
) -> Result<
    aws_sdk_dynamodb::operation::create_table::CreateTableOutput,
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::create_table::CreateTableError>,
> {
    client
        .create_table()
        .table_name("slow")
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .send()
        .await
}

/// -optimizeDbBeforeStartup compacts the files of -dbPath before serving,
/// and every item is still there.
#[tokio::test]
async fn optimize_before_startup_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["-sharedDb", "-dbPath", ".", "-port", "0"]);
    let client = client_as(server.addr, "AKID", "us-east-1");
    create_table(&client, "kept", false).await;
    let blob = "x".repeat(8_000);
    for i in 0..300 {
        client
            .put_item()
            .table_name("kept")
            .item("pk", AttributeValue::S(format!("k{i}")))
            .item("blob", AttributeValue::S(blob.clone()))
            .send()
            .await
            .unwrap();
    }
    for i in 0..290 {
        client
            .delete_item()
            .table_name("kept")
            .key("pk", AttributeValue::S(format!("k{i}")))
            .send()
            .await
            .unwrap();
    }
    server.terminate();
    let file = openddb_kv_sqlite::tenant_file(
        &dir.path().join("openddb-data/tenants"),
        "shared-local-instance",
    );
    let before = std::fs::metadata(&file).unwrap().len();

    let server = start(
        dir.path(),
        &[
            "-sharedDb",
            "-dbPath",
            ".",
            "-optimizeDbBeforeStartup",
            "-port",
            "0",
            "--log-level",
            "info",
        ],
    );
    assert!(server
        .log()
        .iter()
        .any(|l| l.contains("optimized the database files") && l.contains("files=1")));
    let after = std::fs::metadata(&file).unwrap().len();
    assert!(after < before / 2, "{before} -> {after}");
    let client = client_as(server.addr, "AKID", "us-east-1");
    let count = client.scan().table_name("kept").send().await.unwrap().count;
    assert_eq!(count, 10);
}
