//! Tokens are bound to the account they were handed to: the same data
//! directory (one secret) serves several accounts, and a NextToken or a
//! shard iterator of one is refused by another with the error a forged one
//! gets, even where the other account has the same table, statement and
//! stream position.

use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{Database, RequestContext, StorageConfig};
use serde_json::{json, Value};

fn account(id: &str) -> RequestContext {
    RequestContext {
        account_id: id.into(),
        ..RequestContext::default()
    }
}

async fn call(
    db: &Database,
    ctx: &RequestContext,
    op: &str,
    body: Value,
) -> Result<Value, DynamoError> {
    let out = db.dispatch(ctx, op, body.to_string().as_bytes()).await?;
    Ok(serde_json::from_slice(&out).expect("a JSON answer"))
}

/// The same table, items and stream in `ctx`'s account; returns its first
/// SELECT page's NextToken and its shard's TRIM_HORIZON iterator.
async fn setup(db: &Database, ctx: &RequestContext) -> (String, String) {
    let created = call(
        db,
        ctx,
        "CreateTable",
        json!({
            "TableName": "ttt",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"}
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}
        }),
    )
    .await
    .expect("CreateTable");
    let arn = created["TableDescription"]["LatestStreamArn"]
        .as_str()
        .expect("LatestStreamArn")
        .to_owned();
    for sk in ["1", "2", "3"] {
        call(
            db,
            ctx,
            "PutItem",
            json!({"TableName": "ttt", "Item": {"pk": {"S": "p"}, "sk": {"S": sk}}}),
        )
        .await
        .expect("PutItem");
    }
    let page = call(
        db,
        ctx,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM ttt WHERE pk = 'p'", "Limit": 1}),
    )
    .await
    .expect("ExecuteStatement");
    let token = page["NextToken"].as_str().expect("NextToken").to_owned();
    let described = call(db, ctx, "DescribeStream", json!({"StreamArn": arn}))
        .await
        .expect("DescribeStream");
    let shard = described["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .expect("ShardId");
    let it = call(
        db,
        ctx,
        "GetShardIterator",
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await
    .expect("GetShardIterator");
    (
        token,
        it["ShardIterator"]
            .as_str()
            .expect("ShardIterator")
            .to_owned(),
    )
}

async fn next_page(db: &Database, ctx: &RequestContext, token: &str) -> Result<Value, DynamoError> {
    call(
        db,
        ctx,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM ttt WHERE pk = 'p'", "Limit": 1, "NextToken": token}),
    )
    .await
}

async fn get_records(db: &Database, ctx: &RequestContext, it: &str) -> Result<Value, DynamoError> {
    call(db, ctx, "GetRecords", json!({"ShardIterator": it})).await
}

#[track_caller]
fn refused(result: Result<Value, DynamoError>, message: &str) {
    let err = result.expect_err("refused");
    assert_eq!(err.kind, ErrorKind::ValidationException, "{}", err.message);
    assert_eq!(err.message, message);
}

async fn check(db: Database) {
    let (a, b) = (account("111111111111"), account("222222222222"));
    let (token_a, it_a) = setup(&db, &a).await;
    let (token_b, it_b) = setup(&db, &b).await;
    // Each account's tokens work where they were handed out.
    assert_eq!(
        next_page(&db, &a, &token_a).await.expect("a's token")["Items"][0]["sk"]["S"],
        "2"
    );
    assert_eq!(
        get_records(&db, &b, &it_b).await.expect("b's iterator")["Records"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    // And nowhere else.
    refused(next_page(&db, &b, &token_a).await, "Invalid NextToken");
    refused(next_page(&db, &a, &token_b).await, "Invalid NextToken");
    refused(get_records(&db, &b, &it_a).await, "Invalid ShardIterator");
    refused(get_records(&db, &a, &it_b).await, "Invalid ShardIterator");
}

#[tokio::test]
async fn tokens_are_bound_to_their_account_in_memory() {
    check(Database::open(StorageConfig::InMemory).expect("open")).await;
}

#[tokio::test]
async fn tokens_are_bound_to_their_account_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    check(Database::open(StorageConfig::Directory(dir.path().to_path_buf())).expect("open")).await;
}
