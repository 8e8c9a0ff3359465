//! The worst expressions that fit in DynamoDB's 4 KB, and legacy filters of
//! thousands of entries, sent through the wire path by tasks on runtime
//! worker threads with half the stack the server gives its workers (2 MiB):
//! each gets DynamoDB's ValidationException (or its answer), nothing is
//! written, and the database answers normally afterwards.

#[macro_use]
mod common;

use common::*;
use openddb_core::{DynamoError, ErrorKind};
use openddb_engine::Database;
use serde_json::{json, Value};

const V: ErrorKind = ErrorKind::ValidationException;

fn message(r: Result<Value, DynamoError>) -> (ErrorKind, String) {
    match r {
        Ok(v) => panic!("accepted: {v}"),
        Err(e) => (e.kind, e.message),
    }
}

fn key(pk: &str, sk: &str) -> Value {
    json!({"pk": {"S": pk}, "sk": {"S": sk}})
}

fn worst_conditions() -> Vec<(String, String)> {
    let parens_open = "(".repeat(4096);
    let parens_balanced = format!("{}a < :v{}", "(".repeat(2043), ")".repeat(2043));
    let nots = format!("{}a < :v", "NOT ".repeat(1000));
    let unknown = format!("a < {}:v{}", "f(".repeat(1355), ")".repeat(1355));
    let sizes = format!("a < {}:v{}", "size(".repeat(680), ")".repeat(680));
    let ors = vec!["a < :v"; 410].join(" OR ");
    vec![
        (
            parens_open,
            "Syntax error; token: \"<EOF>\", near: \"(\"".to_string(),
        ),
        (
            parens_balanced,
            "The expression has redundant parentheses;".to_string(),
        ),
        (
            nots,
            "The expression contains too many operators; operator count: 301".to_string(),
        ),
        (
            unknown,
            "Invalid function name; function: f".to_string(),
        ),
        (
            sizes,
            "Incorrect operand type for operator or function; operator or function: size, operand type: N"
                .to_string(),
        ),
        (
            ors,
            "The expression contains too many operators; operator count: 301".to_string(),
        ),
    ]
}

async fn setup(db: &Database) {
    create_composite_table(db, "limits").await;
    wire(
        db,
        "PutItem",
        json!({"TableName": "limits", "Item": {"pk": {"S": "p"}, "sk": {"S": "1"}, "a": {"N": "0"}}}),
    )
    .await
    .expect("put");
}

async fn still_works(db: &Database) {
    let item = json!({"pk": {"S": "p"}, "sk": {"S": "1"}, "a": {"N": "0"}});
    let got = wire(
        db,
        "GetItem",
        json!({"TableName": "limits", "Key": key("p", "1"), "ConsistentRead": true}),
    )
    .await
    .expect("get");
    assert_eq!(got["Item"], item, "nothing was written");
    wire(
        db,
        "PutItem",
        json!({"TableName": "limits", "Item": {"pk": {"S": "p"}, "sk": {"S": "2"}}}),
    )
    .await
    .expect("put after");
    let q = wire(
        db,
        "Query",
        json!({"TableName": "limits", "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "p"}}}),
    )
    .await
    .expect("query after");
    assert_eq!(q["Count"], 2);
}

#[test]
fn worst_condition_expressions_are_refused_on_small_stacks() {
    on_small_workers(|db| async move {
        setup(&db).await;
        let values = json!({":v": {"N": "1"}});
        for (expr, msg) in worst_conditions() {
            assert!(expr.len() <= 4096);
            // The single-item writes wrap request-level problems (June-2026
            // wording); the others do not.
            let condition = |m: &str| {
                (
                    V,
                    format!("1 validation error detected: Invalid ConditionExpression: {m}"),
                )
            };
            let r = wire(
                &db,
                "PutItem",
                json!({"TableName": "limits", "Item": {"pk": {"S": "p"}, "sk": {"S": "1"}, "a": {"N": "9"}},
                       "ConditionExpression": expr, "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(message(r), condition(&msg), "PutItem {}", &expr[..40]);
            let r = wire(
                &db,
                "UpdateItem",
                json!({"TableName": "limits", "Key": key("p", "1"), "UpdateExpression": "SET a = :v",
                       "ConditionExpression": expr, "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(message(r), condition(&msg), "UpdateItem");
            let r = wire(
                &db,
                "DeleteItem",
                json!({"TableName": "limits", "Key": key("p", "1"),
                       "ConditionExpression": expr, "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(message(r), condition(&msg), "DeleteItem");
            let r = wire(
                &db,
                "TransactWriteItems",
                json!({"TransactItems": [{"ConditionCheck": {"TableName": "limits", "Key": key("p", "1"),
                       "ConditionExpression": expr, "ExpressionAttributeValues": values}}]}),
            )
            .await;
            assert_eq!(
                message(r),
                (V, format!("Invalid ConditionExpression: {msg}")),
                "TransactWriteItems"
            );
            let r = wire(
                &db,
                "Scan",
                json!({"TableName": "limits", "FilterExpression": expr, "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(
                message(r),
                (V, format!("Invalid FilterExpression: {msg}")),
                "Scan"
            );
            let r = wire(
                &db,
                "Query",
                json!({"TableName": "limits", "KeyConditionExpression": expr, "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(
                message(r),
                (V, format!("Invalid KeyConditionExpression: {msg}")),
                "Query"
            );
        }
        still_works(&db).await;
    });
}

#[test]
fn worst_update_expressions_are_refused_on_small_stacks() {
    on_small_workers(|db| async move {
        setup(&db).await;
        let values = json!({":v": {"N": "1"}, ":l": {"L": []}});
        let plus: Vec<String> = (0..301).map(|i| format!("z{i}=a+:v")).collect();
        for (expr, msg) in [
            (
                format!("SET z = {}", "(".repeat(4088)),
                "Syntax error; token: \"<EOF>\", near: \"(\"",
            ),
            (
                format!("SET z = {}a{}", "(".repeat(2040), ")".repeat(2040)),
                "The expression has redundant parentheses;",
            ),
            (
                format!("SET z = {}:v{}", "f(".repeat(1000), ")".repeat(1000)),
                "Invalid function name; function: f",
            ),
            (
                format!("SET {}, q = :l", plus.join(",")),
                "The expression contains too many operators; operator count: 301",
            ),
        ] {
            let r = wire(
                &db,
                "UpdateItem",
                json!({"TableName": "limits", "Key": key("p", "1"), "UpdateExpression": expr,
                       "ExpressionAttributeValues": values}),
            )
            .await;
            assert_eq!(
                message(r),
                (
                    V,
                    format!("1 validation error detected: Invalid UpdateExpression: {msg}")
                ),
                "{}",
                &expr[..40]
            );
        }
        // The deepest update DynamoDB accepts: 240 nested if_not_exists.
        let deep = format!(
            "SET z = {}:v{}",
            "if_not_exists(q,".repeat(240),
            ")".repeat(240)
        );
        wire(
            &db,
            "UpdateItem",
            json!({"TableName": "limits", "Key": key("p", "3"), "UpdateExpression": deep,
                   "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        )
        .await
        .expect("240 nested if_not_exists are accepted");
        wire(
            &db,
            "DeleteItem",
            json!({"TableName": "limits", "Key": key("p", "3")}),
        )
        .await
        .expect("delete");
        still_works(&db).await;
    });
}

#[test]
fn deepest_accepted_conditions_and_long_legacy_filters_are_answered() {
    on_small_workers(|db| async move {
        setup(&db).await;
        // 299 NOTs, each in parentheses: 300 operators, accepted.
        let deep = format!("{}a < :v{}", "NOT (".repeat(299), ")".repeat(299));
        let r = wire(
            &db,
            "Scan",
            json!({"TableName": "limits", "FilterExpression": deep,
                   "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        )
        .await
        .expect("accepted");
        // An odd number of NOTs: a < 1 holds for the item, its negation not.
        assert_eq!(r["Count"], 0);
        assert_eq!(r["ScannedCount"], 1);
        // 20,000 ScanFilter entries: DynamoDB has no limit on their number.
        let mut filter = serde_json::Map::new();
        for i in 0..20_000 {
            filter.insert(format!("x{i}"), json!({"ComparisonOperator": "NULL"}));
        }
        let r = wire(
            &db,
            "Scan",
            json!({"TableName": "limits", "ScanFilter": filter}),
        )
        .await
        .expect("long ScanFilter");
        assert_eq!(r["Count"], 1);
        let mut expected = serde_json::Map::new();
        for i in 0..20_000 {
            expected.insert(format!("x{i}"), json!({"Exists": false}));
        }
        let r = wire(
            &db,
            "PutItem",
            json!({"TableName": "limits", "Item": {"pk": {"S": "p"}, "sk": {"S": "1"}, "a": {"N": "0"}},
                   "Expected": expected, "ConditionalOperator": "OR"}),
        )
        .await;
        r.expect("long Expected");
        still_works(&db).await;
    });
}
