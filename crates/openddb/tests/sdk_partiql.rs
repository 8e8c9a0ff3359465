//! PartiQL through the official `aws-sdk-dynamodb` client: ExecuteStatement
//! (INSERT, SELECT, UPDATE, DELETE, their errors, paging with NextToken and
//! consumed capacity), BatchExecuteStatement with its per-statement errors,
//! ExecuteTransaction (atomicity, cancellation reasons, ClientRequestToken
//! replays) and concurrent transactional increments on a durable server.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::execute_statement::{
    ExecuteStatementError, ExecuteStatementOutput,
};
use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, ParameterizedStatement,
    ReturnConsumedCapacity,
};
use aws_sdk_dynamodb::Client;
use common::{create_table, item, message, n, num, put, s, Rng, Server};

type Item = HashMap<String, AttributeValue>;

const CONDITION_FAILED: &str = "The conditional request failed";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Runs `statement` with `params` bound to its `?` placeholders; panics on
/// an error, naming the statement.
async fn execute(
    client: &Client,
    statement: &str,
    params: &[AttributeValue],
) -> ExecuteStatementOutput {
    client
        .execute_statement()
        .statement(statement)
        .set_parameters(parameters(params))
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteStatement {statement}: {:?}", e.into_service_error()))
}

/// The error `statement` is refused with.
async fn execute_err(client: &Client, statement: &str) -> ExecuteStatementError {
    client
        .execute_statement()
        .statement(statement)
        .send()
        .await
        .expect_err(statement)
        .into_service_error()
}

/// `Parameters` as the SDK takes them: absent rather than empty, since
/// DynamoDB refuses an empty list.
fn parameters(params: &[AttributeValue]) -> Option<Vec<AttributeValue>> {
    (!params.is_empty()).then(|| params.to_vec())
}

fn statement(text: &str) -> ParameterizedStatement {
    ParameterizedStatement::builder()
        .statement(text)
        .build()
        .expect("ParameterizedStatement")
}

fn batch_statement(text: &str) -> BatchStatementRequest {
    BatchStatementRequest::builder()
        .statement(text)
        .build()
        .expect("BatchStatementRequest")
}

async fn get(client: &Client, table: &str, key: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("pk", s(key))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

/// The string in `item[name]`.
fn string<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(v)) => v,
        other => panic!("{name} is not a string in {item:?}: {other:?}"),
    }
}

/// The cancellation reason codes of a TransactionCanceledException, in
/// statement order.
fn reason_codes(e: &aws_sdk_dynamodb::types::error::TransactionCanceledException) -> Vec<&str> {
    e.cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("<no code>"))
        .collect()
}

/// Keeps the raw body of the response an operation deserialized, so a test
/// can tell `"Items": []` on the wire from a missing member (the SDK's
/// accessors show both as an empty slice).
#[derive(Debug, Clone, Default)]
struct WireBody(Arc<Mutex<Option<Vec<u8>>>>);

impl WireBody {
    fn json(&self) -> serde_json::Value {
        let body = self.0.lock().unwrap().clone().expect("a response body");
        serde_json::from_slice(&body).expect("a JSON response body")
    }
}

impl Intercept for WireBody {
    fn name(&self) -> &'static str {
        "WireBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        *self.0.lock().unwrap() = context.response().body().bytes().map(<[u8]>::to_vec);
        Ok(())
    }
}

/// The raw JSON response of `statement`.
async fn execute_on_the_wire(client: &Client, statement: &str) -> serde_json::Value {
    let wire = WireBody::default();
    client
        .execute_statement()
        .statement(statement)
        .customize()
        .interceptor(wire.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("ExecuteStatement {statement}: {:?}", e.into_service_error()));
    wire.json()
}

/// Every page of a SELECT, following `NextToken` with `limit` per request.
async fn select_pages(
    client: &Client,
    statement: &str,
    params: &[AttributeValue],
    limit: i32,
) -> Vec<Vec<Item>> {
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        assert!(pages.len() < 1_000, "{statement}: NextToken never ran out");
        let out = client
            .execute_statement()
            .statement(statement)
            .set_parameters(parameters(params))
            .limit(limit)
            .set_next_token(token.take())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("ExecuteStatement {statement}: {:?}", e.into_service_error())
            });
        pages.push(out.items.expect("Items on every page"));
        token = out.next_token;
        if token.is_none() {
            return pages;
        }
    }
}

// ---------------------------------------------------------------------------
// 1. ExecuteStatement
// ---------------------------------------------------------------------------

#[tokio::test]
async fn insert_with_parameters_then_select_by_key() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;

    execute(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': ?, 'data': ?, 'age': ?}"#,
        &[s("param-1"), s("param-inserted"), n("30")],
    )
    .await;
    execute(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': 'literal-1', 'data': 'inserted'}"#,
        &[],
    )
    .await;
    assert_eq!(
        get(&client, "Pql", "param-1").await,
        Some(item([
            ("pk", s("param-1")),
            ("data", s("param-inserted")),
            ("age", n("30")),
        ]))
    );

    let by_param = execute(
        &client,
        r#"SELECT * FROM "Pql" WHERE pk = ?"#,
        &[s("param-1")],
    )
    .await;
    assert_eq!(
        by_param.items(),
        [item([
            ("pk", s("param-1")),
            ("data", s("param-inserted")),
            ("age", n("30")),
        ])]
    );
    assert_eq!(by_param.next_token(), None);

    let by_literal = execute(
        &client,
        r#"SELECT * FROM "Pql" WHERE pk = 'literal-1'"#,
        &[],
    )
    .await;
    assert_eq!(
        by_literal.items(),
        [item([("pk", s("literal-1")), ("data", s("inserted"))])]
    );

    let compared = execute(
        &client,
        r#"SELECT * FROM "Pql" WHERE pk = 'param-1' AND age > 20"#,
        &[],
    )
    .await;
    assert_eq!(compared.items().len(), 1);
    assert_eq!(num(&compared.items()[0], "age"), 30);
    let filtered_out = execute(
        &client,
        r#"SELECT * FROM "Pql" WHERE pk = 'param-1' AND age > 40"#,
        &[],
    )
    .await;
    assert_eq!(filtered_out.items, Some(Vec::new()));

    // No match is an empty `Items`, present.
    let none = execute(
        &client,
        r#"SELECT * FROM "Pql" WHERE pk = 'nothing-here'"#,
        &[],
    )
    .await;
    assert_eq!(none.items, Some(Vec::new()));

    server.shutdown().await;
}

#[tokio::test]
async fn select_names_a_nested_path_by_its_last_component() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let mymap = AttributeValue::M(item([("nested", s("deep")), ("other", s("x"))]));
    put(
        &client,
        "Pql",
        item([
            ("pk", s("nested")),
            ("mymap", mymap.clone()),
            ("extra", s("e")),
        ]),
    )
    .await;

    let nested = execute(
        &client,
        r#"SELECT mymap.nested FROM "Pql" WHERE pk = 'nested'"#,
        &[],
    )
    .await;
    assert_eq!(nested.items(), [item([("nested", s("deep"))])]);

    let columns = execute(
        &client,
        r#"SELECT pk, mymap FROM "Pql" WHERE pk = 'nested'"#,
        &[],
    )
    .await;
    assert_eq!(
        columns.items(),
        [item([("pk", s("nested")), ("mymap", mymap)])]
    );

    server.shutdown().await;
}

#[tokio::test]
async fn update_sets_and_removes_attributes() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    put(
        &client,
        "Pql",
        item([
            ("pk", s("u")),
            ("data", s("before")),
            ("myattr", s("old")),
            ("keep", s("stay")),
            ("n", n("1")),
        ]),
    )
    .await;

    execute(
        &client,
        r#"UPDATE "Pql" SET data = ? WHERE pk = ?"#,
        &[s("after"), s("u")],
    )
    .await;
    execute(&client, r#"UPDATE "Pql" REMOVE myattr WHERE pk = 'u'"#, &[]).await;
    execute(&client, r#"UPDATE "Pql" SET n = n + 1 WHERE pk = 'u'"#, &[]).await;
    execute(
        &client,
        r#"UPDATE "Pql" SET added = 'new' SET n = n + 10 WHERE pk = 'u'"#,
        &[],
    )
    .await;

    assert_eq!(
        get(&client, "Pql", "u").await,
        Some(item([
            ("pk", s("u")),
            ("data", s("after")),
            ("keep", s("stay")),
            ("n", n("12")),
            ("added", s("new")),
        ]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn delete_removes_the_item_and_insert_may_reuse_its_key() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;

    execute(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': 'd', 'data': 'original'}"#,
        &[],
    )
    .await;
    execute(&client, r#"DELETE FROM "Pql" WHERE pk = 'd'"#, &[]).await;
    assert_eq!(get(&client, "Pql", "d").await, None);

    // Deleting what is not there succeeds and changes nothing.
    execute(&client, r#"DELETE FROM "Pql" WHERE pk = 'd'"#, &[]).await;
    execute(&client, r#"DELETE FROM "Pql" WHERE pk = ?"#, &[s("never")]).await;

    execute(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': 'd', 'data': 'reinserted'}"#,
        &[],
    )
    .await;
    assert_eq!(
        get(&client, "Pql", "d").await,
        Some(item([("pk", s("d")), ("data", s("reinserted"))]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn insert_of_an_existing_key_is_a_duplicate_item() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    execute(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': 'dup', 'data': 'first'}"#,
        &[],
    )
    .await;

    let err = execute_err(
        &client,
        r#"INSERT INTO "Pql" VALUE {'pk': 'dup', 'data': 'second'}"#,
    )
    .await;
    assert!(err.is_duplicate_item_exception(), "{err:?}");
    assert_eq!(err.code(), Some("DuplicateItemException"));
    assert_eq!(message(&err), Some("Duplicate primary key exists in table"));
    // INSERT is not an upsert: the first item stays as it was.
    assert_eq!(
        get(&client, "Pql", "dup").await,
        Some(item([("pk", s("dup")), ("data", s("first"))]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn update_of_a_missing_key_fails_its_condition() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    put(&client, "Pql", item([("pk", s("here")), ("n", n("5"))])).await;

    // UPDATE is not an upsert either.
    let err = execute_err(
        &client,
        r#"UPDATE "Pql" SET data = 'x' WHERE pk = 'absent'"#,
    )
    .await;
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    assert_eq!(message(&err), Some(CONDITION_FAILED));
    assert_eq!(get(&client, "Pql", "absent").await, None);

    // A non-key predicate in the WHERE clause is a condition on the write.
    let err = execute_err(
        &client,
        r#"UPDATE "Pql" SET n = 6 WHERE pk = 'here' AND n > 10"#,
    )
    .await;
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    let err = execute_err(&client, r#"DELETE FROM "Pql" WHERE pk = 'here' AND n = 4"#).await;
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    assert_eq!(
        get(&client, "Pql", "here").await,
        Some(item([("pk", s("here")), ("n", n("5"))]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn malformed_statements_and_missing_tables_are_refused() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;

    let err = execute_err(&client, r#"SELECTT * FROMM "Pql""#).await;
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        message(&err)
            .is_some_and(|m| m.starts_with("Statement wasn't well formed, can't be processed")),
        "{err:?}"
    );

    for statement in [
        r#"SELECT * FROM "Missing" WHERE pk = 'x'"#,
        r#"INSERT INTO "Missing" VALUE {'pk': 'x'}"#,
        r#"UPDATE "Missing" SET a = 1 WHERE pk = 'x'"#,
        r#"DELETE FROM "Missing" WHERE pk = 'x'"#,
    ] {
        let err = execute_err(&client, statement).await;
        assert!(
            err.is_resource_not_found_exception(),
            "{statement}: {err:?}"
        );
        assert_eq!(
            message(&err),
            Some("Requested resource not found"),
            "{statement}"
        );
    }

    server.shutdown().await;
}

#[tokio::test]
async fn write_responses_carry_an_empty_items_list() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;

    for statement in [
        r#"INSERT INTO "Pql" VALUE {'pk': 'w', 'data': 'a'}"#,
        r#"UPDATE "Pql" SET data = 'b' WHERE pk = 'w'"#,
        r#"DELETE FROM "Pql" WHERE pk = 'w'"#,
    ] {
        let out = execute(&client, statement, &[]).await;
        assert_eq!(out.items, Some(Vec::new()), "{statement}");
        assert_eq!(out.next_token(), None, "{statement}");
    }
    for statement in [
        r#"INSERT INTO "Pql" VALUE {'pk': 'w', 'data': 'a'}"#,
        r#"UPDATE "Pql" SET data = 'b' WHERE pk = 'w'"#,
        r#"DELETE FROM "Pql" WHERE pk = 'w'"#,
    ] {
        let body = execute_on_the_wire(&client, statement).await;
        assert_eq!(
            body.get("Items"),
            Some(&serde_json::json!([])),
            "{statement}"
        );
        assert_eq!(body.get("NextToken"), None, "{statement}");
    }

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 2. Paging
// ---------------------------------------------------------------------------

#[tokio::test]
async fn select_pages_follow_next_token() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Sorted", true).await;
    // Written out of order, read back in sort-key order.
    let mut sort_keys: Vec<String> = (0..25).map(|i| format!("{:02}", (i * 7) % 25)).collect();
    for sk in &sort_keys {
        execute(
            &client,
            r#"INSERT INTO "Sorted" VALUE {'pk': 'p', 'sk': ?, 'n': ?}"#,
            &[s(sk), n(sk)],
        )
        .await;
    }
    for sk in ["a", "b", "c"] {
        put(&client, "Sorted", item([("pk", s("q")), ("sk", s(sk))])).await;
    }
    sort_keys.sort();

    let pages = select_pages(&client, r#"SELECT * FROM "Sorted" WHERE pk = 'p'"#, &[], 4).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 4, 4, 4, 4, 4, 1]);
    let read: Vec<&str> = pages.iter().flatten().map(|it| string(it, "sk")).collect();
    assert_eq!(read, sort_keys);
    assert!(pages.iter().flatten().all(|it| string(it, "pk") == "p"));

    // The same with the key as a parameter.
    let pages = select_pages(
        &client,
        r#"SELECT sk FROM "Sorted" WHERE pk = ?"#,
        &[s("p")],
        4,
    )
    .await;
    let read: Vec<&str> = pages.iter().flatten().map(|it| string(it, "sk")).collect();
    assert_eq!(read, sort_keys);

    // A whole-table SELECT is a Scan: every item exactly once.
    let pages = select_pages(&client, r#"SELECT * FROM "Sorted""#, &[], 4).await;
    assert!(pages.iter().all(|p| p.len() <= 4), "{pages:?}");
    let mut all: Vec<(String, String)> = pages
        .iter()
        .flatten()
        .map(|it| (string(it, "pk").to_owned(), string(it, "sk").to_owned()))
        .collect();
    all.sort();
    let mut expected: Vec<(String, String)> = sort_keys
        .iter()
        .map(|sk| ("p".to_owned(), sk.clone()))
        .chain(["a", "b", "c"].map(|sk| ("q".to_owned(), sk.to_owned())))
        .collect();
    expected.sort();
    assert_eq!(all, expected);

    server.shutdown().await;
}

#[tokio::test]
async fn next_token_belongs_to_its_statement() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Sorted", true).await;
    for sk in ["1", "2", "3"] {
        put(&client, "Sorted", item([("pk", s("p")), ("sk", s(sk))])).await;
        put(&client, "Sorted", item([("pk", s("q")), ("sk", s(sk))])).await;
    }
    let first = client
        .execute_statement()
        .statement(r#"SELECT * FROM "Sorted" WHERE pk = ?"#)
        .parameters(s("p"))
        .limit(1)
        .send()
        .await
        .expect("first page");
    let token = first.next_token.expect("NextToken after a page of one");

    for (statement, param) in [
        (r#"SELECT * FROM "Sorted" WHERE pk = ?"#, "q"),
        (r#"SELECT sk FROM "Sorted" WHERE pk = ?"#, "p"),
    ] {
        let err = client
            .execute_statement()
            .statement(statement)
            .parameters(s(param))
            .limit(1)
            .next_token(&token)
            .send()
            .await
            .expect_err("a token for another request")
            .into_service_error();
        assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
        assert_eq!(message(&err), Some("NextToken does not match request"));
    }

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 3. Consumed capacity
// ---------------------------------------------------------------------------

#[tokio::test]
async fn statements_report_consumed_capacity() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Cap", false).await;

    let insert = client
        .execute_statement()
        .statement(r#"INSERT INTO "Cap" VALUE {'pk': 'c', 'data': 'small'}"#)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("INSERT");
    let used = insert.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(used.table_name(), Some("Cap"));
    assert_eq!(used.capacity_units(), Some(1.0));
    assert_eq!(insert.items, Some(Vec::new()));

    let select = client
        .execute_statement()
        .statement(r#"SELECT * FROM "Cap" WHERE pk = 'c'"#)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("SELECT");
    assert_eq!(select.items().len(), 1);
    let used = select.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(used.table_name(), Some("Cap"));
    assert!(used.capacity_units().is_some_and(|u| u > 0.0), "{used:?}");

    // Without ReturnConsumedCapacity there is none.
    let plain = execute(&client, r#"SELECT * FROM "Cap" WHERE pk = 'c'"#, &[]).await;
    assert_eq!(plain.consumed_capacity(), None);

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 4. BatchExecuteStatement
// ---------------------------------------------------------------------------

#[tokio::test]
async fn batch_selects_answer_in_statement_order() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let one = item([("pk", s("batch-1")), ("data", s("one"))]);
    let two = item([("pk", s("batch-2")), ("data", s("two"))]);
    put(&client, "Pql", one.clone()).await;
    put(&client, "Pql", two.clone()).await;

    let out = client
        .batch_execute_statement()
        .statements(batch_statement(
            r#"SELECT * FROM "Pql" WHERE pk = 'batch-2'"#,
        ))
        .statements(batch_statement(
            r#"SELECT * FROM "Pql" WHERE pk = 'batch-1'"#,
        ))
        .send()
        .await
        .expect("BatchExecuteStatement");
    let responses = out.responses();
    assert_eq!(responses.len(), 2, "{responses:?}");
    for (response, expected) in responses.iter().zip([&two, &one]) {
        assert_eq!(response.error(), None, "{response:?}");
        assert_eq!(response.item(), Some(expected));
        assert_eq!(response.table_name(), Some("Pql"));
    }

    server.shutdown().await;
}

#[tokio::test]
async fn batch_insert_and_update_both_apply() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    put(
        &client,
        "Pql",
        item([("pk", s("upd")), ("data", s("before"))]),
    )
    .await;

    let out = client
        .batch_execute_statement()
        .statements(batch_statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'ins', 'data': 'new'}"#,
        ))
        .statements(
            BatchStatementRequest::builder()
                .statement(r#"UPDATE "Pql" SET data = ? WHERE pk = ?"#)
                .parameters(s("after"))
                .parameters(s("upd"))
                .build()
                .expect("BatchStatementRequest"),
        )
        .send()
        .await
        .expect("BatchExecuteStatement");
    let responses = out.responses();
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert!(
        responses.iter().all(|r| r.error().is_none()),
        "{responses:?}"
    );

    assert_eq!(
        get(&client, "Pql", "ins").await,
        Some(item([("pk", s("ins")), ("data", s("new"))]))
    );
    assert_eq!(
        get(&client, "Pql", "upd").await,
        Some(item([("pk", s("upd")), ("data", s("after"))]))
    );

    server.shutdown().await;
}

#[tokio::test]
async fn batch_failures_stay_with_their_statement() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let kept = item([("pk", s("kept")), ("data", s("exists"))]);
    put(&client, "Pql", kept.clone()).await;

    let out = client
        .batch_execute_statement()
        .statements(batch_statement(r#"SELECT * FROM "Pql" WHERE pk = 'kept'"#))
        .statements(batch_statement(r#"SELECT * FROM "Missing" WHERE pk = 'x'"#))
        .send()
        .await
        .expect("a batch with a failed statement still answers");
    let responses = out.responses();
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert_eq!(responses[0].error(), None);
    assert_eq!(responses[0].item(), Some(&kept));
    let error = responses[1]
        .error()
        .expect("an Error for the missing table");
    assert_eq!(
        error.code(),
        Some(&BatchStatementErrorCodeEnum::ResourceNotFound)
    );
    assert_eq!(responses[1].item(), None);

    // Write failures come back per statement, with the table they hit.
    let out = client
        .batch_execute_statement()
        .statements(batch_statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'kept', 'data': 'again'}"#,
        ))
        .statements(batch_statement(
            r#"UPDATE "Pql" SET data = 'x' WHERE pk = 'absent'"#,
        ))
        .statements(batch_statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'fresh'}"#,
        ))
        .send()
        .await
        .expect("BatchExecuteStatement");
    let responses = out.responses();
    assert_eq!(responses.len(), 3, "{responses:?}");
    let codes: Vec<Option<&BatchStatementErrorCodeEnum>> = responses
        .iter()
        .map(|r| r.error().and_then(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        [
            Some(&BatchStatementErrorCodeEnum::DuplicateItem),
            Some(&BatchStatementErrorCodeEnum::ConditionalCheckFailed),
            None,
        ]
    );
    assert_eq!(responses[0].table_name(), Some("Pql"));
    assert_eq!(responses[1].table_name(), Some("Pql"));
    assert_eq!(get(&client, "Pql", "kept").await, Some(kept));
    assert_eq!(get(&client, "Pql", "absent").await, None);
    assert_eq!(
        get(&client, "Pql", "fresh").await,
        Some(item([("pk", s("fresh"))]))
    );

    server.shutdown().await;
}

/// A parameter that cannot be read fails its own statement only, and the
/// first problem in the order sent is the one reported.
#[tokio::test]
async fn batch_parameter_problems_stay_with_their_statement() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let mut deep = s("leaf");
    for _ in 0..40 {
        deep = AttributeValue::M([("n".to_string(), deep)].into());
    }
    let with = |text: &str, params: Vec<AttributeValue>| {
        BatchStatementRequest::builder()
            .statement(text)
            .set_parameters(Some(params))
            .build()
            .expect("BatchStatementRequest")
    };
    let out = client
        .batch_execute_statement()
        .statements(with(
            r#"INSERT INTO "Pql" VALUE {'pk': ?, 'x': ?, 'y': ?}"#,
            vec![s("deep"), deep, AttributeValue::N("abc".into())],
        ))
        .statements(with(
            r#"INSERT INTO "Pql" VALUE {'pk': ?}"#,
            vec![s("fine")],
        ))
        .statements(with(
            r#"INSERT INTO "Pql" VALUE {'pk': ?, 'n': ?}"#,
            vec![s("huge"), AttributeValue::N("1e99999999999".into())],
        ))
        .send()
        .await
        .expect("a batch with unreadable parameters still answers");
    let responses = out.responses();
    assert_eq!(responses.len(), 3, "{responses:?}");
    let errors: Vec<Option<(&BatchStatementErrorCodeEnum, &str)>> = responses
        .iter()
        .map(|r| r.error().map(|e| (e.code().unwrap(), e.message().unwrap())))
        .collect();
    assert_eq!(
        errors,
        [
            Some((
                &BatchStatementErrorCodeEnum::ValidationError,
                "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
            )),
            None,
            Some((
                &BatchStatementErrorCodeEnum::ValidationError,
                "The parameter cannot be converted to a numeric value: 1e99999999999"
            )),
        ]
    );
    assert_eq!(
        get(&client, "Pql", "fine").await,
        Some(item([("pk", s("fine"))]))
    );
    assert_eq!(get(&client, "Pql", "deep").await, None);
    assert_eq!(get(&client, "Pql", "huge").await, None);

    server.shutdown().await;
}

#[tokio::test]
async fn batch_without_statements_is_refused() {
    let server = Server::in_memory().await;
    let client = server.client();

    let err = client
        .batch_execute_statement()
        .set_statements(Some(Vec::new()))
        .send()
        .await
        .expect_err("an empty batch")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        message(&err)
            .is_some_and(|m| m.contains("Member must have length greater than or equal to 1")),
        "{err:?}"
    );

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 5. ExecuteTransaction
// ---------------------------------------------------------------------------

#[tokio::test]
async fn transaction_inserts_and_updates_together() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    put(
        &client,
        "Pql",
        item([("pk", s("tx-upd")), ("data", s("before"))]),
    )
    .await;

    let wire = WireBody::default();
    let out = client
        .execute_transaction()
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'tx-ins', 'data': 'tx-new'}"#,
        ))
        .transact_statements(statement(
            r#"UPDATE "Pql" SET data = 'tx-after' WHERE pk = 'tx-upd'"#,
        ))
        .customize()
        .interceptor(wire.clone())
        .send()
        .await
        .expect("ExecuteTransaction");
    // A write transaction answers an empty Responses list, not one entry
    // per statement.
    assert_eq!(out.responses, Some(Vec::new()));
    assert_eq!(wire.json().get("Responses"), Some(&serde_json::json!([])));

    assert_eq!(
        get(&client, "Pql", "tx-ins").await,
        Some(item([("pk", s("tx-ins")), ("data", s("tx-new"))]))
    );
    assert_eq!(
        get(&client, "Pql", "tx-upd").await,
        Some(item([("pk", s("tx-upd")), ("data", s("tx-after"))]))
    );

    // Three INSERTs at once.
    client
        .execute_transaction()
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'm1', 'data': 'a'}"#,
        ))
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'm2', 'data': 'b'}"#,
        ))
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'm3', 'data': 'c'}"#,
        ))
        .send()
        .await
        .expect("three INSERTs");
    for (key, data) in [("m1", "a"), ("m2", "b"), ("m3", "c")] {
        assert_eq!(
            get(&client, "Pql", key).await,
            Some(item([("pk", s(key)), ("data", s(data))]))
        );
    }

    server.shutdown().await;
}

#[tokio::test]
async fn duplicate_insert_cancels_the_whole_transaction() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let existing = item([("pk", s("tx-dup")), ("data", s("existing"))]);
    put(&client, "Pql", existing.clone()).await;

    let err = client
        .execute_transaction()
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'tx-dup', 'data': 'should-fail'}"#,
        ))
        .transact_statements(statement(
            r#"INSERT INTO "Pql" VALUE {'pk': 'tx-new', 'data': 'should-roll-back'}"#,
        ))
        .send()
        .await
        .expect_err("a duplicate INSERT")
        .into_service_error();
    let ExecuteTransactionError::TransactionCanceledException(cancelled) = &err else {
        panic!("expected TransactionCanceledException, got {err:?}");
    };
    assert_eq!(reason_codes(cancelled), ["DuplicateItem", "None"]);
    assert_eq!(cancelled.cancellation_reasons()[1].message(), None);
    assert_eq!(
        cancelled.message(),
        Some(
            "Transaction cancelled, please refer cancellation reasons for specific reasons \
             [DuplicateItem, None]"
        )
    );
    assert_eq!(get(&client, "Pql", "tx-new").await, None);
    assert_eq!(get(&client, "Pql", "tx-dup").await, Some(existing));

    // A failed UPDATE condition cancels likewise, in its own place.
    let err = client
        .execute_transaction()
        .transact_statements(statement(r#"INSERT INTO "Pql" VALUE {'pk': 'tx-new'}"#))
        .transact_statements(statement(
            r#"UPDATE "Pql" SET data = 'x' WHERE pk = 'tx-absent'"#,
        ))
        .send()
        .await
        .expect_err("an UPDATE of a missing item")
        .into_service_error();
    let ExecuteTransactionError::TransactionCanceledException(cancelled) = &err else {
        panic!("expected TransactionCanceledException, got {err:?}");
    };
    assert_eq!(reason_codes(cancelled), ["None", "ConditionalCheckFailed"]);
    assert_eq!(
        cancelled.cancellation_reasons()[1].message(),
        Some(CONDITION_FAILED)
    );
    assert_eq!(get(&client, "Pql", "tx-new").await, None);

    server.shutdown().await;
}

#[tokio::test]
async fn transaction_token_replay_applies_once() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    put(&client, "Pql", item([("pk", s("tok")), ("n", n("0"))])).await;

    let increment = || {
        client
            .execute_transaction()
            .client_request_token("partiql-token-1")
            .transact_statements(statement(r#"UPDATE "Pql" SET n = n + 1 WHERE pk = 'tok'"#))
    };
    increment().send().await.expect("first send");
    increment()
        .send()
        .await
        .expect("the replay answers like the first");
    assert_eq!(num(&get(&client, "Pql", "tok").await.unwrap(), "n"), 1);

    // The same token for other statements is a mismatch.
    let err = client
        .execute_transaction()
        .client_request_token("partiql-token-1")
        .transact_statements(statement(r#"UPDATE "Pql" SET n = n + 2 WHERE pk = 'tok'"#))
        .send()
        .await
        .expect_err("another payload under the token")
        .into_service_error();
    assert!(err.is_idempotent_parameter_mismatch_exception(), "{err:?}");
    assert_eq!(num(&get(&client, "Pql", "tok").await.unwrap(), "n"), 1);

    // A new token applies again.
    client
        .execute_transaction()
        .client_request_token("partiql-token-2")
        .transact_statements(statement(r#"UPDATE "Pql" SET n = n + 1 WHERE pk = 'tok'"#))
        .send()
        .await
        .expect("a new token");
    assert_eq!(num(&get(&client, "Pql", "tok").await.unwrap(), "n"), 2);

    server.shutdown().await;
}

#[tokio::test]
async fn read_transaction_returns_one_response_per_select() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Pql", false).await;
    let one = item([("pk", s("r1")), ("data", s("one"))]);
    let two = item([("pk", s("r2")), ("data", s("two"))]);
    put(&client, "Pql", one.clone()).await;
    put(&client, "Pql", two.clone()).await;

    let out = client
        .execute_transaction()
        .transact_statements(statement(r#"SELECT * FROM "Pql" WHERE pk = 'r2'"#))
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(r#"SELECT * FROM "Pql" WHERE pk = ?"#)
                .parameters(s("r1"))
                .build()
                .expect("ParameterizedStatement"),
        )
        .transact_statements(statement(r#"SELECT * FROM "Pql" WHERE pk = 'r-none'"#))
        .send()
        .await
        .expect("ExecuteTransaction");
    let items: Vec<Option<&Item>> = out.responses().iter().map(|r| r.item()).collect();
    assert_eq!(items, [Some(&two), Some(&one), None]);

    server.shutdown().await;
}

#[tokio::test]
async fn transaction_without_statements_is_refused() {
    let server = Server::in_memory().await;
    let client = server.client();

    let err = client
        .execute_transaction()
        .set_transact_statements(Some(Vec::new()))
        .send()
        .await
        .expect_err("an empty transaction")
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");

    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// 6. Concurrency
// ---------------------------------------------------------------------------

/// Eight clients each add one to a counter fifty times through
/// ExecuteTransaction, retrying what a conflict cancels: no increment may
/// be lost or applied twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transactional_increments_lose_nothing() {
    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 50;

    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::durable(dir.path()).await;
    let admin = server.client();
    create_table(&admin, "Pql", false).await;
    execute(
        &admin,
        r#"INSERT INTO "Pql" VALUE {'pk': 'c', 'n': 0}"#,
        &[],
    )
    .await;

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let client = server.client();
        let mut rng = Rng::new(0xC0DE + t);
        tasks.push(tokio::spawn(async move {
            let mut retries = 0u64;
            for _ in 0..INCREMENTS {
                for attempt in 0.. {
                    assert!(attempt < 10_000, "an increment never got through");
                    let result = client
                        .execute_transaction()
                        .transact_statements(statement(
                            r#"UPDATE "Pql" SET n = n + 1 WHERE pk = 'c'"#,
                        ))
                        .send()
                        .await;
                    let err = match result {
                        Ok(_) => break,
                        Err(e) => e.into_service_error(),
                    };
                    let conflict = match &err {
                        ExecuteTransactionError::TransactionCanceledException(c) => {
                            reason_codes(c).contains(&"TransactionConflict")
                        }
                        other => other.code() == Some("TransactionConflictException"),
                    };
                    assert!(conflict, "unexpected ExecuteTransaction error: {err:?}");
                    retries += 1;
                    rng.backoff().await;
                }
            }
            retries
        }));
    }
    let mut retries = 0;
    for task in tasks {
        retries += task.await.expect("an incrementing task panicked");
    }

    let counter = get(&admin, "Pql", "c").await.expect("the counter");
    assert_eq!(num(&counter, "n"), (TASKS * INCREMENTS) as i64);
    let read = execute(&admin, r#"SELECT n FROM "Pql" WHERE pk = 'c'"#, &[]).await;
    assert_eq!(read.items(), [item([("n", n("400"))])]);
    println!("[partiql counter] conflict retries {retries}");

    server.shutdown().await;
    // The increments survive a restart of the durable database.
    let server = Server::durable(dir.path()).await;
    let counter = get(&server.client(), "Pql", "c")
        .await
        .expect("the counter");
    assert_eq!(num(&counter, "n"), (TASKS * INCREMENTS) as i64);
    server.shutdown().await;
}
