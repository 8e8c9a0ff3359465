//! Expression attribute values referenced many times: every reference is a
//! copy of the value, so a request's references are bounded in all (16 MiB,
//! each reference counted). An 8 MB value named 150 times in one
//! UpdateExpression took 3.6 GB of memory to be refused for the item's size.

use openddb_core::expr::MAX_REFERENCED_VALUE_BYTES;
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{Database, RequestContext, StorageConfig};
use serde_json::{json, Value};

async fn call(db: &Database, op: &str, body: Value) -> Result<Value, DynamoError> {
    let out = db
        .dispatch(&RequestContext::default(), op, body.to_string().as_bytes())
        .await?;
    Ok(serde_json::from_slice(&out).expect("a JSON answer"))
}

async fn table() -> Database {
    let db = Database::open(StorageConfig::InMemory).expect("open");
    call(
        &db,
        "CreateTable",
        json!({
            "TableName": "ttt",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    )
    .await
    .expect("CreateTable");
    db
}

/// A value of exactly `MAX_REFERENCED_VALUE_BYTES / 8` bytes.
fn eighth() -> Value {
    json!({"S": "x".repeat(MAX_REFERENCED_VALUE_BYTES / 8)})
}

fn assert_refused(result: Result<Value, DynamoError>, expression: &str, size: usize) {
    let err = result.expect_err("refused");
    assert_eq!(err.kind, ErrorKind::ValidationException, "{err:?}");
    // After the prefix the action gives its expression errors.
    let expected = format!(
        "Invalid {expression}: Expression attribute values referenced in the expressions have exceeded the maximum allowed size; referenced size: {size}"
    );
    assert!(err.message.ends_with(&expected), "{}", err.message);
}

#[tokio::test]
async fn references_past_the_bound_are_refused_before_they_are_copied() {
    let db = table().await;
    let sets = |n: usize| {
        (0..n)
            .map(|i| format!("a{i} = :v"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let update = |n: usize| {
        json!({
            "TableName": "ttt",
            "Key": {"pk": {"S": "k"}},
            "UpdateExpression": format!("SET {}", sets(n)),
            "ExpressionAttributeValues": {":v": eighth()}
        })
    };
    // At the bound: copied, and refused for the item's size as before.
    let err = call(&db, "UpdateItem", update(8))
        .await
        .expect_err("too large");
    assert_eq!(
        err.message,
        "Item size to update has exceeded the maximum allowed size"
    );
    // Past it: refused while the expression is read.
    assert_refused(
        call(&db, "UpdateItem", update(9)).await,
        "UpdateExpression",
        MAX_REFERENCED_VALUE_BYTES / 8 * 9,
    );

    // The same in a filter, whose references are never written anywhere.
    let ors = |n: usize| {
        (0..n)
            .map(|i| format!("a{i} = :v"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let scan = |n: usize| {
        json!({
            "TableName": "ttt",
            "FilterExpression": ors(n),
            "ExpressionAttributeValues": {":v": eighth()}
        })
    };
    let page = call(&db, "Scan", scan(8)).await.expect("at the bound");
    assert_eq!(page["Count"], 0);
    assert_refused(
        call(&db, "Scan", scan(9)).await,
        "FilterExpression",
        MAX_REFERENCED_VALUE_BYTES / 8 * 9,
    );

    // References count across the request's expressions.
    let both = json!({
        "TableName": "ttt",
        "Key": {"pk": {"S": "k"}},
        "UpdateExpression": format!("SET {}", sets(4)),
        "ConditionExpression": ors(5),
        "ExpressionAttributeValues": {":v": eighth()}
    });
    assert_refused(
        call(&db, "UpdateItem", both).await,
        "ConditionExpression",
        MAX_REFERENCED_VALUE_BYTES / 8 * 9,
    );

    // The case that took 3.6 GB: an 8 MB value named 150 times.
    let many = json!({
        "TableName": "ttt",
        "Key": {"pk": {"S": "k"}},
        "UpdateExpression": format!("SET {}", sets(150)),
        "ExpressionAttributeValues": {":v": {"S": "x".repeat(8 << 20)}}
    });
    assert_refused(
        call(&db, "UpdateItem", many).await,
        "UpdateExpression",
        3 * (8 << 20),
    );
}

/// A transaction's entries each have their own placeholders, but their
/// references share the request's bound: 100 entries each within it would
/// otherwise make 100 times as many copies before the 4 MB payload check.
#[tokio::test]
async fn a_transactions_entries_share_the_bound() {
    let db = table().await;
    // Each entry references its 150 KB value 100 times (15 MB), within the
    // bound alone; two entries pass it together.
    let value = json!({"S": "x".repeat(150 * 1024)});
    let sets = (0..100)
        .map(|i| format!("a{i} = :v"))
        .collect::<Vec<_>>()
        .join(", ");
    let entry = |pk: &str| {
        json!({"Update": {
            "TableName": "ttt",
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": format!("SET {sets}"),
            "ExpressionAttributeValues": {":v": value}
        }})
    };
    let one = json!({"TransactItems": [entry("a")]});
    let err = call(&db, "TransactWriteItems", one)
        .await
        .expect_err("too large");
    assert!(
        !err.message.contains("referenced"),
        "one entry is within the bound: {}",
        err.message
    );
    let two = json!({"TransactItems": [entry("a"), entry("b")]});
    // Refused at the first reference past the bound, in the second entry.
    let per = 150 * 1024;
    assert_refused(
        call(&db, "TransactWriteItems", two).await,
        "UpdateExpression",
        (MAX_REFERENCED_VALUE_BYTES / per + 1) * per,
    );
}
