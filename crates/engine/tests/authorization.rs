//! Authorization (`--auth iam`) through the engine's dispatch: for every
//! operation, the IAM actions, resources and condition keys it asks about
//! (recorded by an authorizer that allows everything), and what principals
//! with real IAM policies — evaluated by [`PolicyAuthorizer`], the server's
//! authorizer — can and cannot do: `dynamodb:LeadingKeys` grants through
//! every operation, explicit denies, resource-based policies, access to
//! another account's table by its ARN, and DynamoDB's exact denial
//! messages.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use openddb_auth::Principal;
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::{
    every_partition, Authorizer, Database, Denial, PolicyAuthorizer, Question, RequestContext,
};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Tab";

fn alice() -> Arc<Principal> {
    Arc::new(Principal {
        account_id: ACCOUNT.into(),
        arn: ALICE.into(),
        user_name: "alice".into(),
        user_id: "AIDAALICE".into(),
        tags: Default::default(),
        policies: Vec::new(),
    })
}

/// One question as the authorizer saw it.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    action: String,
    resource: String,
    context: BTreeMap<String, Vec<String>>,
}

/// Allows everything and writes down what it was asked.
#[derive(Default)]
struct Recorder(Mutex<Vec<Asked>>);

impl Authorizer for Recorder {
    fn decide(&self, q: &Question<'_>) -> Result<(), Denial> {
        self.0.lock().unwrap().push(Asked {
            action: q.action.into(),
            resource: q.resource.into(),
            context: q
                .context
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        });
        Ok(())
    }
}

fn ctx(authorizer: Arc<dyn Authorizer>) -> RequestContext {
    RequestContext {
        account_id: ACCOUNT.into(),
        principal: Some(alice()),
        authorizer: Some(authorizer),
        ..RequestContext::default()
    }
}

fn admin() -> RequestContext {
    RequestContext {
        account_id: ACCOUNT.into(),
        ..RequestContext::default()
    }
}

async fn call(
    db: &Database,
    ctx: &RequestContext,
    op: &str,
    body: Value,
) -> Result<Value, DynamoError> {
    db.dispatch(ctx, op, body.to_string().as_bytes())
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
}

/// Table `Tab` (`pk` S, `sk` S) with index `byOwner` (`owner` S), a stream,
/// and one item in the partitions `alice` and `bob`.
async fn setup() -> Database {
    let db = Database::in_memory();
    call(
        &db,
        &admin(),
        "CreateTable",
        json!({
            "TableName": "Tab",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "owner", "AttributeType": "S"}
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": "byOwner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}
        }),
    )
    .await
    .unwrap();
    for who in ["alice", "bob"] {
        call(
            &db,
            &admin(),
            "PutItem",
            json!({"TableName": "Tab", "Item": {
                "pk": {"S": who}, "sk": {"S": "1"}, "owner": {"S": who}, "secret": {"S": "x"}
            }}),
        )
        .await
        .unwrap();
    }
    db
}

/// What `op` asks about, with an authorizer that allows everything.
async fn asked(db: &Database, op: &str, body: Value) -> Vec<Asked> {
    let recorder = Arc::new(Recorder::default());
    let out = call(db, &ctx(recorder.clone()), op, body).await;
    assert!(out.is_ok(), "{op}: {out:?}");
    let asked = recorder.0.lock().unwrap().clone();
    asked
}

fn key(pk: &str) -> Value {
    json!({"pk": {"S": pk}, "sk": {"S": "1"}})
}

/// The facts of one question, as expected.
fn expect(action: &str, resource: &str, keys: &[(&str, &[&str])]) -> Asked {
    let mut context: BTreeMap<String, Vec<String>> = BTreeMap::new();
    context.insert("aws:RequestedRegion".into(), vec!["us-east-1".into()]);
    context.insert("aws:SecureTransport".into(), vec!["false".into()]);
    for (k, v) in keys {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        if *k == "dynamodb:LeadingKeys" {
            context.insert("dynamodb:FirstPartitionKeyValues".into(), v.clone());
        }
        context.insert(k.to_string(), v);
    }
    Asked {
        action: action.into(),
        resource: resource.into(),
        context,
    }
}

#[tokio::test]
async fn every_operation_asks_for_its_actions_resources_and_condition_keys() {
    let db = setup().await;
    let every = every_partition();
    let index_arn = format!("{TABLE_ARN}/index/byOwner");
    let cases: Vec<(&str, Value, Vec<Asked>)> = vec![
        (
            "GetItem",
            json!({"TableName": "Tab", "Key": key("alice"), "ProjectionExpression": "#s, pk",
                   "ExpressionAttributeNames": {"#s": "secret"}}),
            vec![expect(
                "dynamodb:GetItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["pk", "secret", "sk"]),
                    ("dynamodb:Select", &["SPECIFIC_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "PutItem",
            json!({"TableName": "Tab", "Item": {"pk": {"S": "alice"}, "sk": {"S": "2"}, "a": {"N": "1"}},
                   "ConditionExpression": "attribute_not_exists(b)", "ReturnValues": "ALL_OLD",
                   "ReturnConsumedCapacity": "TOTAL"}),
            vec![expect(
                "dynamodb:PutItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["a", "b", "pk", "sk"]),
                    ("dynamodb:ReturnValues", &["ALL_OLD"]),
                    ("dynamodb:ReturnConsumedCapacity", &["TOTAL"]),
                ],
            )],
        ),
        (
            "UpdateItem",
            json!({"TableName": "Tab", "Key": key("alice"), "UpdateExpression": "SET a = if_not_exists(c, :one) REMOVE d",
                   "ExpressionAttributeValues": {":one": {"N": "1"}}}),
            vec![expect(
                "dynamodb:UpdateItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["a", "c", "d", "pk", "sk"]),
                    ("dynamodb:ReturnValues", &["NONE"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "DeleteItem",
            json!({"TableName": "Tab", "Key": key("alice"),
                   "Expected": {"gone": {"Exists": false}}}),
            vec![expect(
                "dynamodb:DeleteItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["gone", "pk", "sk"]),
                    ("dynamodb:ReturnValues", &["NONE"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "Query",
            json!({"TableName": "Tab", "KeyConditionExpression": "pk = :p AND sk > :s",
                   "FilterExpression": "secret = :s",
                   "ExpressionAttributeValues": {":p": {"S": "alice"}, ":s": {"S": "0"}}}),
            vec![expect(
                "dynamodb:Query",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["pk", "secret", "sk"]),
                    ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "Query",
            json!({"TableName": "Tab", "IndexName": "byOwner",
                   "KeyConditions": {"owner": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "bob"}]}}}),
            vec![expect(
                "dynamodb:Query",
                &index_arn,
                &[
                    ("dynamodb:LeadingKeys", &["bob"]),
                    ("dynamodb:Attributes", &["owner"]),
                    ("dynamodb:Select", &["ALL_PROJECTED_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "Scan",
            json!({"TableName": "Tab", "AttributesToGet": ["pk"], "Select": "SPECIFIC_ATTRIBUTES"}),
            vec![expect(
                "dynamodb:Scan",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &[every]),
                    ("dynamodb:Attributes", &["pk"]),
                    ("dynamodb:Select", &["SPECIFIC_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "BatchGetItem",
            json!({"RequestItems": {"Tab": {"Keys": [key("alice"), key("bob")]}}}),
            vec![expect(
                "dynamodb:BatchGetItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice", "bob"]),
                    ("dynamodb:Attributes", &["pk", "sk"]),
                    ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "BatchWriteItem",
            json!({"RequestItems": {"Tab": [
                {"PutRequest": {"Item": {"pk": {"S": "carol"}, "sk": {"S": "1"}, "n": {"N": "1.50"}}}},
                {"DeleteRequest": {"Key": key("bob")}}
            ]}}),
            vec![expect(
                "dynamodb:BatchWriteItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["bob", "carol"]),
                    ("dynamodb:Attributes", &["n", "pk", "sk"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                ],
            )],
        ),
        (
            "TransactGetItems",
            json!({"TransactItems": [{"Get": {"TableName": "Tab", "Key": key("alice")}}]}),
            vec![expect(
                "dynamodb:GetItem",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["pk", "sk"]),
                    ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
                    ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                    ("dynamodb:EnclosingOperation", &["TransactGetItems"]),
                ],
            )],
        ),
        (
            "TransactWriteItems",
            json!({"TransactItems": [
                {"ConditionCheck": {"TableName": "Tab", "Key": key("alice"), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"TableName": "Tab", "Key": key("bob"), "UpdateExpression": "SET x = :v",
                            "ExpressionAttributeValues": {":v": {"N": "7"}}}}
            ]}),
            vec![
                expect(
                    "dynamodb:ConditionCheckItem",
                    TABLE_ARN,
                    &[
                        ("dynamodb:LeadingKeys", &["alice"]),
                        ("dynamodb:Attributes", &["pk", "sk"]),
                        ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                        ("dynamodb:EnclosingOperation", &["TransactWriteItems"]),
                    ],
                ),
                expect(
                    "dynamodb:UpdateItem",
                    TABLE_ARN,
                    &[
                        ("dynamodb:LeadingKeys", &["bob"]),
                        ("dynamodb:Attributes", &["pk", "sk", "x"]),
                        ("dynamodb:ReturnConsumedCapacity", &["NONE"]),
                        ("dynamodb:EnclosingOperation", &["TransactWriteItems"]),
                    ],
                ),
            ],
        ),
        (
            "ExecuteStatement",
            json!({"Statement": "SELECT secret FROM Tab WHERE pk = ?", "Parameters": [{"S": "alice"}]}),
            vec![expect(
                "dynamodb:PartiQLSelect",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["pk", "secret"]),
                    ("dynamodb:Select", &["SPECIFIC_ATTRIBUTES"]),
                    ("dynamodb:FullTableScan", &["false"]),
                ],
            )],
        ),
        (
            "ExecuteStatement",
            json!({"Statement": "SELECT * FROM \"Tab\".\"byOwner\" WHERE secret = 'x'"}),
            vec![expect(
                "dynamodb:PartiQLSelect",
                &index_arn,
                &[
                    ("dynamodb:LeadingKeys", &[every]),
                    ("dynamodb:Attributes", &["secret"]),
                    ("dynamodb:Select", &["ALL_PROJECTED_ATTRIBUTES"]),
                    ("dynamodb:FullTableScan", &["true"]),
                ],
            )],
        ),
        (
            "ExecuteStatement",
            json!({"Statement": "UPDATE Tab SET z = 1 WHERE pk = 'carol' AND sk = '1'"}),
            vec![expect(
                "dynamodb:PartiQLUpdate",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["carol"]),
                    ("dynamodb:Attributes", &["pk", "sk", "z"]),
                ],
            )],
        ),
        (
            "BatchExecuteStatement",
            json!({"Statements": [
                {"Statement": "INSERT INTO Tab VALUE {'pk': 'dave', 'sk': '1', 'q': 2}"},
                {"Statement": "DELETE FROM Tab WHERE pk = 'bob' AND sk = '1'"}
            ]}),
            vec![
                expect(
                    "dynamodb:PartiQLInsert",
                    TABLE_ARN,
                    &[
                        ("dynamodb:LeadingKeys", &["dave"]),
                        ("dynamodb:Attributes", &["pk", "q", "sk"]),
                    ],
                ),
                expect(
                    "dynamodb:PartiQLDelete",
                    TABLE_ARN,
                    &[
                        ("dynamodb:LeadingKeys", &["bob"]),
                        ("dynamodb:Attributes", &["pk", "sk"]),
                    ],
                ),
            ],
        ),
        (
            "ExecuteTransaction",
            json!({"TransactStatements": [
                {"Statement": "SELECT * FROM Tab WHERE pk = 'alice' AND sk = '1'"}
            ]}),
            vec![expect(
                "dynamodb:PartiQLSelect",
                TABLE_ARN,
                &[
                    ("dynamodb:LeadingKeys", &["alice"]),
                    ("dynamodb:Attributes", &["pk", "sk"]),
                    ("dynamodb:Select", &["ALL_ATTRIBUTES"]),
                    ("dynamodb:FullTableScan", &["false"]),
                    ("dynamodb:EnclosingOperation", &["ExecuteTransaction"]),
                ],
            )],
        ),
        (
            "DescribeTable",
            json!({"TableName": "Tab"}),
            vec![expect("dynamodb:DescribeTable", TABLE_ARN, &[])],
        ),
        (
            "DescribeTimeToLive",
            json!({"TableName": "Tab"}),
            vec![expect("dynamodb:DescribeTimeToLive", TABLE_ARN, &[])],
        ),
        (
            "ListTables",
            json!({}),
            vec![expect("dynamodb:ListTables", "*", &[])],
        ),
        (
            "ListStreams",
            json!({}),
            vec![expect("dynamodb:ListStreams", "*", &[])],
        ),
    ];
    for (op, body, expected) in cases {
        assert_eq!(asked(&db, op, body.clone()).await, expected, "{op} {body}");
    }
}

#[tokio::test]
async fn numbers_and_binary_partition_keys_are_given_as_dynamodb_gives_them() {
    let db = Database::in_memory();
    for (name, ty) in [("Num", "N"), ("Bin", "B")] {
        call(
            &db,
            &admin(),
            "CreateTable",
            json!({"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": ty}],
                   "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}),
        )
        .await
        .unwrap();
    }
    let n = asked(
        &db,
        "GetItem",
        json!({"TableName": "Num", "Key": {"k": {"N": "0012.50"}}}),
    )
    .await;
    assert_eq!(
        n[0].context["dynamodb:LeadingKeys"],
        vec!["12.5".to_string()]
    );
    let b = asked(
        &db,
        "GetItem",
        json!({"TableName": "Bin", "Key": {"k": {"B": "AAEC"}}}),
    )
    .await;
    assert_eq!(
        b[0].context["dynamodb:LeadingKeys"],
        vec!["AAEC".to_string()]
    );
}

#[tokio::test]
async fn control_plane_and_streams_ask_on_their_resources() {
    let db = setup().await;
    let described = call(&db, &admin(), "DescribeTable", json!({"TableName": "Tab"}))
        .await
        .unwrap();
    let stream = described["Table"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string();
    let got = asked(&db, "DescribeStream", json!({"StreamArn": stream})).await;
    assert_eq!(got, vec![expect("dynamodb:DescribeStream", &stream, &[])]);
    let shard = call(
        &db,
        &admin(),
        "DescribeStream",
        json!({"StreamArn": stream}),
    )
    .await
    .unwrap()["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let got = asked(
        &db,
        "GetShardIterator",
        json!({"StreamArn": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await;
    assert_eq!(got, vec![expect("dynamodb:GetShardIterator", &stream, &[])]);
    let iterator = call(
        &db,
        &admin(),
        "GetShardIterator",
        json!({"StreamArn": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await
    .unwrap()["ShardIterator"]
        .as_str()
        .unwrap()
        .to_string();
    let got = asked(&db, "GetRecords", json!({"ShardIterator": iterator})).await;
    assert_eq!(got, vec![expect("dynamodb:GetRecords", &stream, &[])]);
    let got = asked(
        &db,
        "UpdateTable",
        json!({"TableName": "Tab", "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    assert_eq!(got, vec![expect("dynamodb:UpdateTable", TABLE_ARN, &[])]);
    let got = asked(
        &db,
        "CreateTable",
        json!({"TableName": "Unu", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}),
    )
    .await;
    let u = "arn:aws:dynamodb:us-east-1:123456789012:table/Unu";
    assert_eq!(got, vec![expect("dynamodb:CreateTable", u, &[])]);
    let got = asked(&db, "DeleteTable", json!({"TableName": "Unu"})).await;
    assert_eq!(got, vec![expect("dynamodb:DeleteTable", u, &[])]);
}

/// Alice with these identity policies (JSON documents), decided by the
/// server's policy evaluator.
fn alice_with(policies: &[Value]) -> RequestContext {
    principal_with(ACCOUNT, "alice", policies, &[])
}

/// A user of `account` with identity policies and tags, decided by the
/// policy evaluator.
fn principal_with(
    account: &str,
    user: &str,
    policies: &[Value],
    tags: &[(&str, &str)],
) -> RequestContext {
    let principal = Principal {
        account_id: account.into(),
        arn: format!("arn:aws:iam::{account}:user/{user}"),
        user_name: user.into(),
        user_id: format!("AIDA{}", user.to_uppercase()),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        policies: policies.iter().map(|p| p.to_string().into()).collect(),
    };
    RequestContext {
        account_id: account.into(),
        principal: Some(Arc::new(principal)),
        authorizer: Some(Arc::new(PolicyAuthorizer::new())),
        ..RequestContext::default()
    }
}

/// Alice may do everything on her own partition of `Tab` and nothing
/// else: IAM's fine-grained access policy, keyed on her user name.
fn alice_everything() -> RequestContext {
    alice_with(&[json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query",
                "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                "dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                "dynamodb:PartiQLDelete"
            ],
            "Resource": [
                "arn:aws:dynamodb:*:123456789012:table/Tab",
                "arn:aws:dynamodb:*:123456789012:table/Tab/index/*"
            ],
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}
            }
        }]
    })])
}

fn denied_message(action: &str, resource: &str) -> String {
    format!(
        "User: {ALICE} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
    )
}

/// Every operation, once on Alice's partition and once reaching Bob's.
fn operations(pk: &str) -> Vec<(&'static str, &'static str, Value)> {
    let q = format!("SELECT * FROM Tab WHERE pk = '{pk}'");
    vec![
        (
            "GetItem",
            "dynamodb:GetItem",
            json!({"TableName": "Tab", "Key": key(pk)}),
        ),
        (
            "PutItem",
            "dynamodb:PutItem",
            json!({"TableName": "Tab", "Item": key(pk)}),
        ),
        (
            "UpdateItem",
            "dynamodb:UpdateItem",
            json!({"TableName": "Tab", "Key": key(pk), "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        ),
        (
            "DeleteItem",
            "dynamodb:DeleteItem",
            json!({"TableName": "Tab", "Key": json!({"pk": {"S": pk}, "sk": {"S": "nothing"}})}),
        ),
        (
            "Query",
            "dynamodb:Query",
            json!({"TableName": "Tab", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": pk}}}),
        ),
        (
            "BatchGetItem",
            "dynamodb:BatchGetItem",
            json!({"RequestItems": {"Tab": {"Keys": [key("alice"), json!({"pk": {"S": pk}, "sk": {"S": "2"}})]}}}),
        ),
        (
            "BatchWriteItem",
            "dynamodb:BatchWriteItem",
            json!({"RequestItems": {"Tab": [{"PutRequest": {"Item": {"pk": {"S": "alice"}, "sk": {"S": "b"}}}}, {"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": "c"}}}}]}}),
        ),
        (
            "TransactGetItems",
            "dynamodb:GetItem",
            json!({"TransactItems": [{"Get": {"TableName": "Tab", "Key": key(pk)}}]}),
        ),
        (
            "TransactWriteItems",
            "dynamodb:PutItem",
            json!({"TransactItems": [{"Put": {"TableName": "Tab", "Item": {"pk": {"S": pk}, "sk": {"S": "t"}}}}]}),
        ),
        (
            "ExecuteStatement",
            "dynamodb:PartiQLSelect",
            json!({"Statement": q}),
        ),
        (
            "ExecuteTransaction",
            "dynamodb:PartiQLUpdate",
            json!({"TransactStatements": [{"Statement": format!("UPDATE Tab SET w = 1 WHERE pk = '{pk}' AND sk = '1'")}]}),
        ),
    ]
}

#[tokio::test]
async fn a_leading_keys_grant_reaches_its_own_partition_through_every_operation() {
    let db = setup().await;
    let alice = alice_everything();
    for (op, _, body) in operations("alice") {
        let out = call(&db, &alice, op, body.clone()).await;
        assert!(out.is_ok(), "{op}: {out:?}");
    }
    let out = call(
        &db,
        &alice,
        "BatchExecuteStatement",
        json!({"Statements": [{"Statement": "SELECT * FROM Tab WHERE pk = 'alice' AND sk = '1'"}]}),
    )
    .await
    .unwrap();
    assert_eq!(out["Responses"][0]["Item"]["pk"]["S"], "alice");
}

#[tokio::test]
async fn a_leading_keys_grant_reaches_no_other_partition_and_nothing_is_written() {
    let db = setup().await;
    let alice = alice_everything();
    for (op, action, body) in operations("bob") {
        let err = call(&db, &alice, op, body.clone()).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDeniedException, "{op}");
        assert_eq!(err.message, denied_message(action, TABLE_ARN), "{op}");
    }
    // The batch put for Alice's partition did not happen either.
    let got = call(
        &db,
        &admin(),
        "GetItem",
        json!({"TableName": "Tab", "Key": {"pk": {"S": "alice"}, "sk": {"S": "b"}}}),
    )
    .await
    .unwrap();
    assert!(got.get("Item").is_none(), "{got}");
    // Nor did anything in Bob's.
    let bob = call(&db, &admin(), "Query", json!({"TableName": "Tab", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "bob"}}})).await.unwrap();
    assert_eq!(bob["Count"], 1, "{bob}");
    assert!(bob["Items"][0].get("w").is_none() && bob["Items"][0].get("v").is_none());
}

#[tokio::test]
async fn reads_of_every_partition_do_not_pass_for_a_leading_keys_grant() {
    let db = setup().await;
    let alice = alice_everything();
    let scans = [
        (
            "Scan",
            "dynamodb:Scan",
            json!({"TableName": "Tab"}),
            TABLE_ARN.to_string(),
        ),
        (
            "Scan",
            "dynamodb:Scan",
            json!({"TableName": "Tab", "IndexName": "byOwner"}),
            format!("{TABLE_ARN}/index/byOwner"),
        ),
        (
            "ExecuteStatement",
            "dynamodb:PartiQLSelect",
            json!({"Statement": "SELECT * FROM Tab"}),
            TABLE_ARN.to_string(),
        ),
        (
            "ExecuteStatement",
            "dynamodb:PartiQLSelect",
            json!({"Statement": "SELECT * FROM Tab WHERE pk = 'alice' OR sk = '1'"}),
            TABLE_ARN.to_string(),
        ),
    ];
    for (op, action, body, resource) in scans {
        let err = call(&db, &alice, op, body.clone()).await.unwrap_err();
        assert_eq!(err.message, denied_message(action, &resource), "{body}");
    }
    // A SELECT pinning Alice's partition with IN passes.
    call(
        &db,
        &alice,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM Tab WHERE pk IN ['alice']"}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_batch_of_statements_refuses_only_the_statements_not_allowed() {
    let db = setup().await;
    let out = call(
        &db,
        &alice_everything(),
        "BatchExecuteStatement",
        json!({"Statements": [
            {"Statement": "UPDATE Tab SET m = 1 WHERE pk = 'alice' AND sk = '1'"},
            {"Statement": "UPDATE Tab SET m = 1 WHERE pk = 'bob' AND sk = '1'"}
        ]}),
    )
    .await
    .unwrap();
    assert!(out["Responses"][0].get("Error").is_none(), "{out}");
    assert_eq!(out["Responses"][1]["Error"]["Code"], "AccessDenied");
    assert_eq!(
        out["Responses"][1]["Error"]["Message"],
        denied_message("dynamodb:PartiQLUpdate", TABLE_ARN)
    );
}

#[tokio::test]
async fn a_missing_table_is_not_revealed_to_a_caller_who_may_not_use_it() {
    let db = setup().await;
    let alice = alice_everything();
    let err = call(
        &db,
        &alice,
        "GetItem",
        json!({"TableName": "Nope", "Key": key("alice")}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        denied_message(
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Nope"
        )
    );
    // One who may reaches DynamoDB's answer.
    let err = call(
        &db,
        &ctx(Arc::new(Recorder::default())),
        "GetItem",
        json!({"TableName": "Nope", "Key": key("alice")}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ResourceNotFoundException);
}

#[tokio::test]
async fn an_explicit_deny_wins_and_says_so() {
    let db = setup().await;
    let alice = alice_with(&[
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"],
            "Resource": TABLE_ARN
        }]}),
        json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"
        }}),
    ]);
    call(
        &db,
        &alice,
        "GetItem",
        json!({"TableName": "Tab", "Key": key("alice")}),
    )
    .await
    .unwrap();
    let err = call(
        &db,
        &alice,
        "DeleteItem",
        json!({"TableName": "Tab", "Key": key("alice")}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        format!("User: {ALICE} is not authorized to perform: dynamodb:DeleteItem on resource: {TABLE_ARN} with an explicit deny in an identity-based policy")
    );
    // Not granted at all: ListTables.
    let err = call(&db, &alice, "ListTables", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.message, denied_message("dynamodb:ListTables", "*"));
}

#[tokio::test]
async fn policies_without_a_verified_principal_allow_nothing() {
    let db = setup().await;
    let ctx = RequestContext {
        account_id: ACCOUNT.into(),
        authorizer: Some(Arc::new(Recorder::default())),
        ..RequestContext::default()
    };
    let err = call(&db, &ctx, "ListTables", json!({})).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDeniedException);
}

#[test]
fn the_every_partition_value_is_random_and_stable() {
    let v = every_partition();
    assert!(v.starts_with("openddb:every-partition:"));
    assert_eq!(v.len(), "openddb:every-partition:".len() + 32);
    assert_eq!(v, every_partition());
}

#[test]
fn denial_messages_are_dynamodbs() {
    let r = "arn:aws:dynamodb:us-east-1:123456789012:table/Tab";
    let cases = [
        (
            Denial::NoIdentityAllow,
            "because no identity-based policy allows the dynamodb:GetItem action",
        ),
        (
            Denial::IdentityDeny,
            "with an explicit deny in an identity-based policy",
        ),
        (
            Denial::NoResourceAllow,
            "because no resource-based policy allows the dynamodb:GetItem action",
        ),
        (
            Denial::ResourceDeny,
            "with an explicit deny in a resource-based policy",
        ),
    ];
    for (why, tail) in cases {
        let e = openddb_engine::access_denied(ALICE, "dynamodb:GetItem", r, why);
        assert_eq!(e.kind, ErrorKind::AccessDeniedException);
        assert_eq!(
            e.message,
            format!("User: {ALICE} is not authorized to perform: dynamodb:GetItem on resource: {r} {tail}")
        );
    }
}

const OTHER: &str = "222222222222";

/// Attaches `policy` to table `Tab` as its owner would.
async fn put_table_policy(db: &Database, policy: Value) {
    call(
        db,
        &admin(),
        "PutResourcePolicy",
        json!({"ResourceArn": TABLE_ARN, "Policy": policy.to_string()}),
    )
    .await
    .unwrap();
}

fn get_alice_by_arn() -> Value {
    json!({"TableName": TABLE_ARN, "Key": key("alice")})
}

#[tokio::test]
async fn a_tables_resource_policy_grants_and_denies_within_its_account() {
    let db = setup().await;
    // Carol has no identity policy: the table's policy, naming her, is
    // enough within the account.
    let carol = principal_with(ACCOUNT, "carol", &[], &[]);
    let carol_arn = "arn:aws:iam::123456789012:user/carol";
    let get = || json!({"TableName": "Tab", "Key": key("bob")});
    let err = call(&db, &carol, "GetItem", get()).await.unwrap_err();
    assert!(
        err.message
            .ends_with("because no identity-based policy allows the dynamodb:GetItem action"),
        "{}",
        err.message
    );
    put_table_policy(
        &db,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": carol_arn},
            "Action": "dynamodb:GetItem", "Resource": TABLE_ARN
        }]}),
    )
    .await;
    let got = call(&db, &carol, "GetItem", get()).await.unwrap();
    assert_eq!(got["Item"]["pk"]["S"], "bob");
    // Its deny beats Alice's identity grant.
    put_table_policy(
        &db,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": {"AWS": ALICE},
            "Action": "dynamodb:GetItem", "Resource": TABLE_ARN
        }]}),
    )
    .await;
    let err = call(
        &db,
        &alice_everything(),
        "GetItem",
        json!({"TableName": "Tab", "Key": key("alice")}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message,
        format!("User: {ALICE} is not authorized to perform: dynamodb:GetItem on resource: {TABLE_ARN} with an explicit deny in a resource-based policy")
    );
    // Carol lost her grant with the old document.
    call(&db, &carol, "GetItem", get()).await.unwrap_err();
}

/// Bob of account 222222222222, whose own policy allows reading any table
/// of account 123456789012.
fn foreign_bob() -> RequestContext {
    principal_with(
        OTHER,
        "bob",
        &[json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable",
                       "dynamodb:BatchGetItem", "dynamodb:ListTables"],
            "Resource": "arn:aws:dynamodb:*:123456789012:table/*"
        }]})],
        &[],
    )
}

#[tokio::test]
async fn another_accounts_table_is_reached_by_its_arn_when_both_policies_allow() {
    let db = setup().await;
    let bob = foreign_bob();
    let bob_arn = "arn:aws:iam::222222222222:user/bob";
    let refused = |action: &str, why: &str| {
        format!("User: {bob_arn} is not authorized to perform: dynamodb:{action} on resource: {TABLE_ARN} because no {why}-based policy allows the dynamodb:{action} action")
    };
    // His own policy is not enough: the table's owner has not agreed.
    let err = call(&db, &bob, "GetItem", get_alice_by_arn())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDeniedException);
    assert_eq!(err.message, refused("GetItem", "resource"));

    put_table_policy(
        &db,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": bob_arn},
            "Action": ["dynamodb:GetItem", "dynamodb:DescribeTable"], "Resource": TABLE_ARN
        }]}),
    )
    .await;
    let got = call(&db, &bob, "GetItem", get_alice_by_arn())
        .await
        .unwrap();
    assert_eq!(got["Item"]["pk"]["S"], "alice");
    let described = call(&db, &bob, "DescribeTable", json!({"TableName": TABLE_ARN}))
        .await
        .unwrap();
    assert_eq!(described["Table"]["TableArn"], TABLE_ARN);
    // The owner granted reads only.
    let err = call(
        &db,
        &bob,
        "PutItem",
        json!({"TableName": TABLE_ARN, "Item": key("bob")}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.message, refused("PutItem", "resource"));

    // The table's grant without his own: refused too.
    let bare = principal_with(OTHER, "bob", &[], &[]);
    let err = call(&db, &bare, "GetItem", get_alice_by_arn())
        .await
        .unwrap_err();
    assert_eq!(err.message, refused("GetItem", "identity"));

    // A name is his own account's table: he has none.
    let own = call(&db, &bob, "ListTables", json!({})).await;
    assert!(
        own.is_err(),
        "his policy names only the other account's tables"
    );
    let err = call(
        &db,
        &bob,
        "GetItem",
        json!({"TableName": "Tab", "Key": key("alice")}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::AccessDeniedException,
        "{}",
        err.message
    );

    // One request reaches one account's tables.
    let err = call(
        &db,
        &bob,
        "BatchGetItem",
        json!({"RequestItems": {
            TABLE_ARN: {"Keys": [key("alice")]},
            "Mine": {"Keys": [key("alice")]}
        }}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ValidationException, "{}", err.message);

    // Where policies do not decide (`--auth sigv4`), another account's
    // ARN stays refused whatever its table's policy says.
    let unauthorized = RequestContext {
        account_id: OTHER.into(),
        ..RequestContext::default()
    };
    let err = call(&db, &unauthorized, "GetItem", get_alice_by_arn())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDeniedException);
}

#[tokio::test]
async fn partiql_and_policy_actions_do_not_cross_accounts() {
    let db = setup().await;
    put_table_policy(
        &db,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:user/bob"},
            "Action": "dynamodb:*", "Resource": TABLE_ARN
        }]}),
    )
    .await;
    let bob = principal_with(
        OTHER,
        "bob",
        &[json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"
        }]})],
        &[],
    );
    let err = call(
        &db,
        &bob,
        "GetResourcePolicy",
        json!({"ResourceArn": TABLE_ARN}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ValidationException, "{}", err.message);
    let err = call(
        &db,
        &bob,
        "ExecuteStatement",
        json!({"Statement": format!("SELECT * FROM \"{TABLE_ARN}\"")}),
    )
    .await
    .unwrap_err();
    // PartiQL does not reach across accounts in DynamoDB either.
    assert_eq!(
        err.kind,
        ErrorKind::AccessDeniedException,
        "{}",
        err.message
    );
    // Nothing of account 123456789012 was shown or changed.
    let policy = call(
        &db,
        &admin(),
        "GetResourcePolicy",
        json!({"ResourceArn": TABLE_ARN}),
    )
    .await
    .unwrap();
    assert!(policy["Policy"].as_str().unwrap().contains("user/bob"));
}

#[tokio::test]
async fn a_policy_that_would_lock_its_author_out_needs_confirming() {
    let db = setup().await;
    let dana = principal_with(
        ACCOUNT,
        "dana",
        &[json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["dynamodb:*ResourcePolicy"], "Resource": "*"
        }]})],
        &[],
    );
    let lockout = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:user/dana"},
        "Action": "dynamodb:PutResourcePolicy", "Resource": TABLE_ARN
    }]})
    .to_string();
    let err = call(
        &db,
        &dana,
        "PutResourcePolicy",
        json!({"ResourceArn": TABLE_ARN, "Policy": lockout}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDeniedException);
    assert_eq!(
        err.message,
        "The new resource policy will not allow you to update the resource policy in the future."
    );
    let none = call(
        &db,
        &admin(),
        "GetResourcePolicy",
        json!({"ResourceArn": TABLE_ARN}),
    )
    .await;
    assert_eq!(none.unwrap_err().kind, ErrorKind::PolicyNotFoundException);

    call(
        &db,
        &dana,
        "PutResourcePolicy",
        json!({"ResourceArn": TABLE_ARN, "Policy": lockout, "ConfirmRemoveSelfResourceAccess": true}),
    )
    .await
    .unwrap();
    let err = call(
        &db,
        &dana,
        "PutResourcePolicy",
        json!({"ResourceArn": TABLE_ARN, "Policy": lockout, "ConfirmRemoveSelfResourceAccess": true}),
    )
    .await
    .unwrap_err();
    assert!(
        err.message
            .ends_with("with an explicit deny in a resource-based policy"),
        "{}",
        err.message
    );
    // She can still read it: only changing it was given up.
    call(
        &db,
        &dana,
        "GetResourcePolicy",
        json!({"ResourceArn": TABLE_ARN}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn policy_variables_name_the_callers_own_resources() {
    let db = setup().await;
    // Tables named after the caller's team tag.
    let team_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:DescribeTable",
        "Resource": "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}"
    }]});
    let tabbers = principal_with(
        ACCOUNT,
        "erin",
        std::slice::from_ref(&team_policy),
        &[("team", "Tab")],
    );
    call(&db, &tabbers, "DescribeTable", json!({"TableName": "Tab"}))
        .await
        .unwrap();
    let others = principal_with(
        ACCOUNT,
        "finn",
        std::slice::from_ref(&team_policy),
        &[("team", "Other")],
    );
    let err = call(&db, &others, "DescribeTable", json!({"TableName": "Tab"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDeniedException);
    // No tag: the variable cannot be resolved and the statement names
    // nothing.
    let untagged = principal_with(ACCOUNT, "gail", &[team_policy], &[]);
    call(&db, &untagged, "DescribeTable", json!({"TableName": "Tab"}))
        .await
        .unwrap_err();
}
