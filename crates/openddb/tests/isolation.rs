//! Tenant isolation through the wire: every account is its own DynamoDB,
//! so no action — by table name, by table or stream ARN, with a token
//! another account was handed — reaches another account's tables, items,
//! streams or metadata, and every ARN answered names the caller's account
//! and region. Accounts come from 12-digit access key ids (`--auth off`);
//! any other key is account 000000000000.

mod common;

use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, ConditionCheck, Delete, Get, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, LocalSecondaryIndex, ParameterizedStatement,
    Projection, ProjectionType, Put, PutRequest, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification, TransactGetItem, TransactWriteItem, Update,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams as ds;
use common::{
    attr_def, client_as, create_stream_table, create_table, item, key_elem, put, s,
    streams_client_as, Server,
};

const A: &str = "111111111111";
const B: &str = "222222222222";
/// Not an account id: lands in the default account.
const OTHER_KEY: &str = "AKIDNOTANACCOUNT";
const DEFAULT_ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

type Item = HashMap<String, AttributeValue>;

fn client(server: &Server, key: &str) -> Client {
    client_as(server.addr, key, REGION)
}

fn table_arn(account: &str, region: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{table}")
}

/// The error code and message of a refused request.
fn refused<T: Debug, E: ProvideErrorMetadata + Debug>(r: Result<T, E>) -> (String, String) {
    let e = r.expect_err("the request is refused");
    (
        e.code().unwrap_or("(no code)").to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

/// The AccessDeniedException DynamoDB gives a caller of account `caller`
/// for `action` on another account's `resource` with no resource-based
/// policy allowing it.
fn denied(caller: &str, action: &str, resource: &str) -> (String, String) {
    (
        "AccessDeniedException".into(),
        format!(
            "User: arn:aws:iam::{caller}:root is not authorized to perform: dynamodb:{action} \
             on resource: {resource} because no resource-based policy allows the \
             dynamodb:{action} action"
        ),
    )
}

fn key(pk: &str) -> Item {
    item([("pk", s(pk))])
}

/// Every item of `table`, sorted by `pk`, as `(pk, origin_acct)`.
async fn contents(client: &Client, table: &str) -> Vec<(String, String)> {
    let out = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("Scan");
    let mut rows: Vec<(String, String)> = out
        .items()
        .iter()
        .map(|it| {
            let field = |name: &str| match it.get(name) {
                Some(AttributeValue::S(v)) => v.clone(),
                _ => String::new(),
            };
            (field("pk"), field("origin_acct"))
        })
        .collect();
    rows.sort();
    rows
}

/// Account B's world: table `Shared` (a name A uses too) and `OnlyB`, each
/// with items owned by "b", `OnlyB` with a stream.
async fn b_tables(b: &Client) -> String {
    create_table(b, "Shared", false).await;
    let stream = create_stream_table(b, "OnlyB", "NEW_AND_OLD_IMAGES", false).await;
    for (table, pk) in [
        ("Shared", "x"),
        ("Shared", "y"),
        ("OnlyB", "x"),
        ("OnlyB", "y"),
    ] {
        put(b, table, item([("pk", s(pk)), ("origin_acct", s("b"))])).await;
    }
    stream
}

fn b_rows() -> Vec<(String, String)> {
    vec![("x".into(), "b".into()), ("y".into(), "b".into())]
}

/// B's tables are exactly as `b_tables` left them: nothing A did reached
/// them (items, stream records, settings, existence).
async fn b_untouched(b: &Client, streams_b: &ds::Client, stream: &str) {
    assert_eq!(contents(b, "Shared").await, b_rows());
    assert_eq!(contents(b, "OnlyB").await, b_rows());
    let ttl = b
        .describe_time_to_live()
        .table_name("OnlyB")
        .send()
        .await
        .expect("DescribeTimeToLive");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let d = b.describe_table().table_name("OnlyB").send().await.unwrap();
    assert_eq!(
        d.table().and_then(|t| t.deletion_protection_enabled()),
        Some(false)
    );
    // Two inserts, nothing else.
    let records = common::read_stream(streams_b, stream).await;
    let n: usize = records.iter().map(|r| r.records.len()).sum();
    assert_eq!(n, 2, "B's stream has only B's writes");
}

#[tokio::test]
async fn list_tables_shows_only_the_callers_tables() {
    let server = Server::in_memory().await;
    let (a, b, d) = (
        client(&server, A),
        client(&server, B),
        client(&server, OTHER_KEY),
    );
    create_table(&a, "aaa1", false).await;
    create_table(&a, "aaa2", false).await;
    create_table(&b, "bbb1", false).await;
    create_table(&d, "ddd1", false).await;
    let names = |c: Client, start: Option<&'static str>| async move {
        c.list_tables()
            .set_exclusive_start_table_name(start.map(str::to_owned))
            .send()
            .await
            .expect("ListTables")
            .table_names()
            .to_vec()
    };
    assert_eq!(names(a.clone(), None).await, ["aaa1", "aaa2"]);
    assert_eq!(names(b.clone(), None).await, ["bbb1"]);
    assert_eq!(names(d.clone(), None).await, ["ddd1"]);
    // Another account's names as a start only move within the caller's.
    assert_eq!(names(a.clone(), Some("aaa1")).await, ["aaa2"]);
    assert_eq!(names(b.clone(), Some("aaa1")).await, ["bbb1"]);
    assert!(names(a.clone(), Some("bbb1")).await.is_empty());
    // A limit of 1 pages through the caller's tables only.
    let page = a.list_tables().limit(1).send().await.unwrap();
    assert_eq!(page.table_names(), ["aaa1"]);
    assert_eq!(page.last_evaluated_table_name(), Some("aaa1"));
    // A key that is not an account id is the default account, which is
    // not account 000000000000's twin but that very account.
    let zero = client(&server, DEFAULT_ACCOUNT);
    assert_eq!(names(zero, None).await, ["ddd1"]);
}

/// Each table-addressed action, by name, on a table only B has: not found
/// for A; and on `Shared`, which both have, only A's own.
#[tokio::test]
async fn a_table_name_reaches_only_the_callers_table() {
    let server = Server::in_memory().await;
    let (a, b) = (client(&server, A), client(&server, B));
    let streams_b = streams_client_as(server.addr, B, REGION);
    let stream = b_tables(&b).await;
    create_table(&a, "Shared", false).await;
    put(
        &a,
        "Shared",
        item([("pk", s("x")), ("origin_acct", s("a"))]),
    )
    .await;

    let not_found = |r: (String, String)| {
        assert_eq!(r.0, "ResourceNotFoundException", "{r:?}");
    };
    let t = "OnlyB";
    not_found(refused(a.describe_table().table_name(t).send().await));
    not_found(refused(
        a.get_item()
            .table_name(t)
            .set_key(Some(key("x")))
            .send()
            .await,
    ));
    not_found(refused(
        a.put_item()
            .table_name(t)
            .set_item(Some(key("z")))
            .send()
            .await,
    ));
    not_found(refused(
        a.update_item()
            .table_name(t)
            .set_key(Some(key("x")))
            .update_expression("SET origin_acct = :a")
            .expression_attribute_values(":a", s("a"))
            .send()
            .await,
    ));
    not_found(refused(
        a.delete_item()
            .table_name(t)
            .set_key(Some(key("x")))
            .send()
            .await,
    ));
    not_found(refused(
        a.query()
            .table_name(t)
            .key_condition_expression("pk = :x")
            .expression_attribute_values(":x", s("x"))
            .send()
            .await,
    ));
    not_found(refused(a.scan().table_name(t).send().await));
    not_found(refused(
        a.batch_get_item()
            .request_items(
                t,
                KeysAndAttributes::builder().keys(key("x")).build().unwrap(),
            )
            .send()
            .await,
    ));
    not_found(refused(
        a.batch_write_item()
            .request_items(t, vec![put_request(key("z"))])
            .send()
            .await,
    ));
    not_found(refused(
        a.transact_get_items()
            .transact_items(transact_get(t, "x"))
            .send()
            .await,
    ));
    let (code, _) = refused(
        a.transact_write_items()
            .transact_items(transact_put(t, "z"))
            .send()
            .await,
    );
    assert!(
        code == "ResourceNotFoundException" || code == "TransactionCanceledException",
        "{code}"
    );
    not_found(refused(
        a.update_table()
            .table_name(t)
            .deletion_protection_enabled(true)
            .send()
            .await,
    ));
    not_found(refused(
        a.describe_time_to_live().table_name(t).send().await,
    ));
    not_found(refused(
        a.update_time_to_live()
            .table_name(t)
            .time_to_live_specification(ttl_on())
            .send()
            .await,
    ));
    not_found(refused(a.delete_table().table_name(t).send().await));
    let (code, _) = refused(
        a.execute_statement()
            .statement(format!(r#"SELECT * FROM "{t}""#))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    // The name both accounts use is each one's own table.
    assert_eq!(
        contents(&a, "Shared").await,
        [("x".to_owned(), "a".to_owned())]
    );
    a.delete_item()
        .table_name("Shared")
        .set_key(Some(key("y")))
        .send()
        .await
        .unwrap();
    a.delete_table().table_name("Shared").send().await.unwrap();
    b_untouched(&b, &streams_b, &stream).await;
}

fn put_request(it: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(it)).build().unwrap())
        .build()
}

fn transact_get(table: &str, pk: &str) -> TransactGetItem {
    TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .build()
                .unwrap(),
        )
        .build()
}

fn transact_put(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item([("pk", s(pk)), ("origin_acct", s("a"))])))
                .build()
                .unwrap(),
        )
        .build()
}

fn transact_update(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .update_expression("SET origin_acct = :a")
                .expression_attribute_values(":a", s("a"))
                .build()
                .unwrap(),
        )
        .build()
}

fn transact_delete(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .build()
                .unwrap(),
        )
        .build()
}

fn transact_check(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .condition_expression("attribute_exists(pk)")
                .build()
                .unwrap(),
        )
        .build()
}

fn ttl_on() -> TimeToLiveSpecification {
    TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expires")
        .build()
        .unwrap()
}

/// Every table-addressed action naming B's table by its ARN, from A: an
/// AccessDeniedException naming the action and the ARN (DynamoDB's answer
/// when no resource-based policy grants cross-account access, as the
/// conformance suite recorded for ListTagsOfResource on a foreign ARN;
/// openddb has no resource-based policies, so none ever grants it), and
/// nothing of B's changes.
#[tokio::test]
async fn another_accounts_table_arn_is_refused() {
    let server = Server::in_memory().await;
    let (a, b) = (client(&server, A), client(&server, B));
    let streams_b = streams_client_as(server.addr, B, REGION);
    let stream = b_tables(&b).await;
    create_table(&a, "OnlyB", false).await; // A's own table of that name
    put(&a, "OnlyB", item([("pk", s("x")), ("origin_acct", s("a"))])).await;
    let arn = table_arn(B, REGION, "OnlyB");
    let expect = |action: &str, r: (String, String)| assert_eq!(r, denied(A, action, &arn));

    expect(
        "DescribeTable",
        refused(a.describe_table().table_name(&arn).send().await),
    );
    expect(
        "GetItem",
        refused(
            a.get_item()
                .table_name(&arn)
                .set_key(Some(key("x")))
                .send()
                .await,
        ),
    );
    expect(
        "PutItem",
        refused(
            a.put_item()
                .table_name(&arn)
                .set_item(Some(key("z")))
                .send()
                .await,
        ),
    );
    expect(
        "UpdateItem",
        refused(
            a.update_item()
                .table_name(&arn)
                .set_key(Some(key("x")))
                .update_expression("SET origin_acct = :a")
                .expression_attribute_values(":a", s("a"))
                .send()
                .await,
        ),
    );
    expect(
        "DeleteItem",
        refused(
            a.delete_item()
                .table_name(&arn)
                .set_key(Some(key("x")))
                .send()
                .await,
        ),
    );
    expect(
        "Query",
        refused(
            a.query()
                .table_name(&arn)
                .key_condition_expression("pk = :x")
                .expression_attribute_values(":x", s("x"))
                .send()
                .await,
        ),
    );
    expect("Scan", refused(a.scan().table_name(&arn).send().await));
    expect(
        "BatchGetItem",
        refused(
            a.batch_get_item()
                .request_items(
                    &arn,
                    KeysAndAttributes::builder().keys(key("x")).build().unwrap(),
                )
                .send()
                .await,
        ),
    );
    expect(
        "BatchWriteItem",
        refused(
            a.batch_write_item()
                .request_items("OnlyB", vec![put_request(key("mine"))])
                .request_items(&arn, vec![put_request(key("z"))])
                .send()
                .await,
        ),
    );
    expect(
        "GetItem",
        refused(
            a.transact_get_items()
                .transact_items(transact_get("OnlyB", "x"))
                .transact_items(transact_get(&arn, "x"))
                .send()
                .await,
        ),
    );
    // Transactions mixing A's own table with B's: refused whole, so A's
    // own entry is not written either.
    for (action, entry) in [
        ("PutItem", transact_put(&arn, "z")),
        ("UpdateItem", transact_update(&arn, "x")),
        ("DeleteItem", transact_delete(&arn, "x")),
        ("ConditionCheckItem", transact_check(&arn, "x")),
    ] {
        expect(
            action,
            refused(
                a.transact_write_items()
                    .transact_items(transact_put("OnlyB", "mine"))
                    .transact_items(entry)
                    .send()
                    .await,
            ),
        );
    }
    expect(
        "UpdateTable",
        refused(
            a.update_table()
                .table_name(&arn)
                .deletion_protection_enabled(true)
                .send()
                .await,
        ),
    );
    expect(
        "DescribeTimeToLive",
        refused(a.describe_time_to_live().table_name(&arn).send().await),
    );
    expect(
        "UpdateTimeToLive",
        refused(
            a.update_time_to_live()
                .table_name(&arn)
                .time_to_live_specification(ttl_on())
                .send()
                .await,
        ),
    );
    expect(
        "DeleteTable",
        refused(a.delete_table().table_name(&arn).send().await),
    );
    expect(
        "CreateTable",
        refused(
            a.create_table()
                .table_name(&arn)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
                .key_schema(key_elem("pk", KeyType::Hash))
                .send()
                .await,
        ),
    );

    // PartiQL names its table in the statement; each statement is
    // authorized as IAM names it.
    let statements = [
        (
            "PartiQLSelect",
            format!(r#"SELECT * FROM "{arn}" WHERE pk = 'x'"#),
        ),
        (
            "PartiQLInsert",
            format!(r#"INSERT INTO "{arn}" VALUE {{'pk': 'z'}}"#),
        ),
        (
            "PartiQLUpdate",
            format!(r#"UPDATE "{arn}" SET origin_acct = 'a' WHERE pk = 'x'"#),
        ),
        (
            "PartiQLDelete",
            format!(r#"DELETE FROM "{arn}" WHERE pk = 'x'"#),
        ),
    ];
    for (action, statement) in &statements {
        expect(
            action,
            refused(a.execute_statement().statement(statement).send().await),
        );
        let batch = a
            .batch_execute_statement()
            .statements(
                aws_sdk_dynamodb::types::BatchStatementRequest::builder()
                    .statement(statement)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("BatchExecuteStatement answers per statement");
        let error = batch.responses()[0]
            .error()
            .expect("the statement is refused");
        assert_eq!(error.code().map(|c| c.as_str()), Some("AccessDenied"));
        assert_eq!(error.message(), Some(denied(A, action, &arn).1.as_str()));
    }
    for (action, statement) in &statements[1..] {
        expect(
            action,
            refused(
                a.execute_transaction()
                    .transact_statements(
                        ParameterizedStatement::builder()
                            .statement(r#"INSERT INTO "OnlyB" VALUE {'pk': 'mine'}"#)
                            .build()
                            .unwrap(),
                    )
                    .transact_statements(
                        ParameterizedStatement::builder()
                            .statement(statement)
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await,
            ),
        );
    }

    // A's own `OnlyB` never got "mine"; B's is as it was.
    assert_eq!(
        contents(&a, "OnlyB").await,
        [("x".to_owned(), "a".to_owned())]
    );
    b_untouched(&b, &streams_b, &stream).await;
}

/// A's own table ARN works wherever a name does; one of A's account in
/// another region names no table this region holds.
#[tokio::test]
async fn the_callers_own_arn_names_its_table_in_its_region_only() {
    let server = Server::in_memory().await;
    let a = client(&server, A);
    create_table(&a, "Mine", false).await;
    let arn = table_arn(A, REGION, "Mine");
    a.put_item()
        .table_name(&arn)
        .set_item(Some(item([("pk", s("x")), ("origin_acct", s("a"))])))
        .send()
        .await
        .expect("PutItem by ARN");
    let got = a
        .get_item()
        .table_name(&arn)
        .set_key(Some(key("x")))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().and_then(|i| i.get("origin_acct")), Some(&s("a")));
    let described = a.describe_table().table_name(&arn).send().await.unwrap();
    assert_eq!(
        described.table().and_then(|t| t.table_arn()),
        Some(arn.as_str())
    );
    assert_eq!(contents(&a, &arn).await, [("x".to_owned(), "a".to_owned())]);
    let batch = a
        .batch_get_item()
        .request_items(
            &arn,
            KeysAndAttributes::builder().keys(key("x")).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        batch
            .responses()
            .map(|r| r.values().map(Vec::len).sum::<usize>()),
        Some(1)
    );
    a.transact_write_items()
        .transact_items(transact_update(&arn, "x"))
        .transact_items(transact_put("Mine", "y"))
        .send()
        .await
        .expect("TransactWriteItems by ARN and by name");
    let selected = a
        .execute_statement()
        .statement(format!(r#"SELECT * FROM "{arn}" WHERE pk = 'y'"#))
        .send()
        .await
        .expect("PartiQL by ARN");
    assert_eq!(selected.items().len(), 1);
    // The same table by name and by ARN in one batch would be one table
    // twice: refused rather than merged.
    let (code, _) = refused(
        a.batch_write_item()
            .request_items("Mine", vec![put_request(key("p"))])
            .request_items(&arn, vec![put_request(key("q"))])
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");

    let elsewhere = table_arn(A, "eu-west-1", "Mine");
    assert_eq!(
        refused(a.describe_table().table_name(&elsewhere).send().await),
        (
            "ResourceNotFoundException".to_owned(),
            format!("Requested resource not found: Table: {elsewhere} not found")
        )
    );
    assert_eq!(
        refused(
            a.get_item()
                .table_name(&elsewhere)
                .set_key(Some(key("x")))
                .send()
                .await
        ),
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found".to_owned()
        )
    );
    let (code, _) = refused(
        a.execute_statement()
            .statement(format!(r#"SELECT * FROM "{elsewhere}" WHERE pk = 'x'"#))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

/// B's stream from A: its ARN is refused, it is not listed, and B's shard
/// iterators do not open for A.
#[tokio::test]
async fn another_accounts_stream_is_out_of_reach() {
    let server = Server::in_memory().await;
    let (a, b) = (client(&server, A), client(&server, B));
    let (sa, sb) = (
        streams_client_as(server.addr, A, REGION),
        streams_client_as(server.addr, B, REGION),
    );
    let stream = b_tables(&b).await;
    // A has a table of the same name with a stream of its own.
    let own = create_stream_table(&a, "OnlyB", "KEYS_ONLY", false).await;
    assert_ne!(own, stream);

    let expect = |action: &str, r: (String, String)| assert_eq!(r, denied(A, action, &stream));
    expect(
        "DescribeStream",
        refused(sa.describe_stream().stream_arn(&stream).send().await),
    );
    let shard = sb
        .describe_stream()
        .stream_arn(&stream)
        .send()
        .await
        .unwrap()
        .stream_description()
        .unwrap()
        .shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    expect(
        "GetShardIterator",
        refused(
            sa.get_shard_iterator()
                .stream_arn(&stream)
                .shard_id(&shard)
                .shard_iterator_type(ds::types::ShardIteratorType::TrimHorizon)
                .send()
                .await,
        ),
    );
    // B's stream named in A's account: A has no such stream (its own
    // table of that name has a stream of another label).
    let forged = stream.replace(B, A);
    let (code, _) = refused(sa.describe_stream().stream_arn(&forged).send().await);
    assert_eq!(code, "ResourceNotFoundException");

    // ListStreams: only A's own, and B's ARN as a start moves nowhere.
    let listed = sa.list_streams().send().await.unwrap();
    let arns: Vec<&str> = listed
        .streams()
        .iter()
        .filter_map(|s| s.stream_arn())
        .collect();
    assert_eq!(arns, [own.as_str()]);
    let after_b = sa
        .list_streams()
        .exclusive_start_stream_arn(&stream)
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = after_b
        .streams()
        .iter()
        .filter_map(|s| s.stream_arn())
        .collect();
    assert_eq!(arns, [own.as_str()]);

    // A shard iterator B was given, replayed by A: sealed for B's tenant.
    let iterator = sb
        .get_shard_iterator()
        .stream_arn(&stream)
        .shard_id(&shard)
        .shard_iterator_type(ds::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_owned();
    let (code, message) = refused(sa.get_records().shard_iterator(&iterator).send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Invalid ShardIterator")
    );
    // The same iterator still works for B.
    let records = sb
        .get_records()
        .shard_iterator(&iterator)
        .send()
        .await
        .unwrap();
    assert_eq!(records.records().len(), 2);
}

/// Tokens and keys one account was handed, replayed by another: a PartiQL
/// NextToken does not open, a Scan's ExclusiveStartKey (a key, not a
/// token) only addresses the caller's own table, and the same
/// ClientRequestToken in two accounts is two transactions.
#[tokio::test]
async fn tokens_replayed_from_another_account_reach_nothing_of_it() {
    let server = Server::in_memory().await;
    let (a, b) = (client(&server, A), client(&server, B));
    for (c, origin_acct) in [(&a, "a"), (&b, "b")] {
        create_table(c, "Paged", true).await;
        for sk in ["1", "2", "3", "4"] {
            put(
                c,
                "Paged",
                item([
                    ("pk", s("p")),
                    ("sk", s(sk)),
                    ("origin_acct", s(origin_acct)),
                ]),
            )
            .await;
        }
    }

    // PartiQL NextToken: the same statement on the same-named table.
    let select = r#"SELECT * FROM "Paged" WHERE pk = 'p'"#;
    let first = b
        .execute_statement()
        .statement(select)
        .limit(2)
        .send()
        .await
        .unwrap();
    let token = first.next_token().expect("a second page").to_owned();
    let (code, message) = refused(
        a.execute_statement()
            .statement(select)
            .limit(2)
            .next_token(&token)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Invalid NextToken")
    );
    let second = b
        .execute_statement()
        .statement(select)
        .limit(2)
        .next_token(&token)
        .send()
        .await
        .expect("B's token still works for B");
    assert_eq!(second.items().len(), 2);

    // Scan's LastEvaluatedKey from B, given to A: A's items after it.
    let page = b.scan().table_name("Paged").limit(2).send().await.unwrap();
    let start = page.last_evaluated_key().expect("more to scan").clone();
    let rest = a
        .scan()
        .table_name("Paged")
        .set_exclusive_start_key(Some(start.clone()))
        .send()
        .await
        .unwrap();
    let owners: Vec<&AttributeValue> = rest
        .items()
        .iter()
        .filter_map(|i| i.get("origin_acct"))
        .collect();
    assert_eq!(owners, [&s("a"), &s("a")]);
    let rest = a
        .query()
        .table_name("Paged")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .set_exclusive_start_key(Some(start))
        .send()
        .await
        .unwrap();
    let owners: Vec<&AttributeValue> = rest
        .items()
        .iter()
        .filter_map(|i| i.get("origin_acct"))
        .collect();
    assert_eq!(owners, [&s("a"), &s("a")]);

    // ClientRequestToken: idempotency is per account. The same token in A
    // and B writes in each; a second use in A with other content is A's
    // mismatch alone, and B's repeat of its own is B's replay.
    let token = "shared-request-token-0001";
    let write = |c: &Client, sk: &str| {
        c.transact_write_items()
            .client_request_token(token)
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name("Paged")
                            .set_item(Some(item([("pk", s("t")), ("sk", s(sk))])))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
    };
    write(&a, "a").send().await.expect("A's transaction");
    write(&b, "b")
        .send()
        .await
        .expect("B's transaction, same token");
    let (code, _) = refused(write(&a, "other").send().await);
    assert_eq!(code, "IdempotentParameterMismatchException");
    write(&b, "b").send().await.expect("B's replay is B's own");
    let t_items = |c: Client| async move {
        c.query()
            .table_name("Paged")
            .key_condition_expression("pk = :t")
            .expression_attribute_values(":t", s("t"))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .filter_map(|i| i.get("sk").cloned())
            .collect::<Vec<_>>()
    };
    assert_eq!(t_items(a.clone()).await, [s("a")]);
    assert_eq!(t_items(b.clone()).await, [s("b")]);
}

/// Every ARN in an answer is in the caller's account and region: tables
/// are per account, and a table made through one region is named in the
/// region each caller signs for.
#[tokio::test]
async fn every_arn_answered_names_the_callers_account_and_region() {
    let server = Server::in_memory().await;
    let east = client_as(server.addr, A, "us-east-1");
    let west = client_as(server.addr, A, "eu-west-1");
    let created = east
        .create_table()
        .table_name("Indexed")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("g", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .key_schema(key_elem("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
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
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("byGLocal")
                .key_schema(key_elem("pk", KeyType::Hash))
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("g")
                        .key_type(KeyType::Range)
                        .build()
                        .unwrap(),
                )
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap();
    assert_arns(&created, A, "us-east-1");

    let described = west
        .describe_table()
        .table_name("Indexed")
        .send()
        .await
        .unwrap();
    let described = described.table().unwrap();
    assert_arns(described, A, "eu-west-1");
    let west_stream = described.latest_stream_arn().unwrap().to_owned();

    // The Streams API through the west: listed, described and read under
    // west ARNs; an east ARN names nothing the west region holds.
    let streams_west = streams_client_as(server.addr, A, "eu-west-1");
    let listed = streams_west.list_streams().send().await.unwrap();
    let arns: Vec<&str> = listed
        .streams()
        .iter()
        .filter_map(|s| s.stream_arn())
        .collect();
    assert_eq!(arns, [west_stream.as_str()]);
    let d = streams_west
        .describe_stream()
        .stream_arn(&west_stream)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.stream_description().unwrap().stream_arn(),
        Some(west_stream.as_str())
    );
    let east_stream = created.latest_stream_arn().unwrap();
    let (code, _) = refused(
        streams_west
            .describe_stream()
            .stream_arn(east_stream)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    let updated = west
        .update_table()
        .table_name("Indexed")
        .deletion_protection_enabled(false)
        .send()
        .await
        .unwrap();
    assert_arns(updated.table_description().unwrap(), A, "eu-west-1");

    // The default account, for a key that is not an account id.
    let d = client_as(server.addr, OTHER_KEY, "ap-south-1");
    create_table(&d, "Plain", false).await;
    let plain = d.describe_table().table_name("Plain").send().await.unwrap();
    assert_eq!(
        plain.table().unwrap().table_arn(),
        Some(table_arn(DEFAULT_ACCOUNT, "ap-south-1", "Plain").as_str())
    );
    let deleted = west
        .delete_table()
        .table_name("Indexed")
        .send()
        .await
        .unwrap();
    assert_arns(deleted.table_description().unwrap(), A, "eu-west-1");
}

fn assert_arns(t: &aws_sdk_dynamodb::types::TableDescription, account: &str, region: &str) {
    let table = table_arn(account, region, "Indexed");
    assert_eq!(t.table_arn(), Some(table.as_str()));
    let gsi = &t.global_secondary_indexes()[0];
    assert_eq!(gsi.index_arn(), Some(format!("{table}/index/byG").as_str()));
    let lsi = &t.local_secondary_indexes()[0];
    assert_eq!(
        lsi.index_arn(),
        Some(format!("{table}/index/byGLocal").as_str())
    );
    let stream = t.latest_stream_arn().expect("LatestStreamArn");
    assert_eq!(
        stream,
        format!("{table}/stream/{}", t.latest_stream_label().unwrap())
    );
}
