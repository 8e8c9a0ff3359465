//! PartiQL statements as long and as deep as DynamoDB's 8,192 characters
//! allow, through the wire path (ExecuteStatement, BatchExecuteStatement,
//! ExecuteTransaction) by tasks on runtime workers with half the stack the
//! server gives its workers (2 MiB), in the unoptimised test build. Each
//! long statement is answered exactly as the short statement of the same
//! meaning is (the same items, the same refusal, the same write), and the
//! database answers normally afterwards.

#[macro_use]
mod common;

use common::*;
use openddb_core::ErrorKind;
use openddb_engine::Database;
use serde_json::{json, Value};

/// DynamoDB's longest statement.
const MAX_STATEMENT: usize = 8192;

const MALFORMED: &str = "Statement wasn't well formed, can't be processed: ";

/// A statement: `head`, then `unit` as many times as fits before `tail` in
/// 8,192 characters (`long`) or once (`short`), then `tail`.
fn long(head: &str, unit: &str, tail: &str) -> String {
    let n = (MAX_STATEMENT - head.len() - tail.len()) / unit.len();
    let text = format!("{head}{}{tail}", unit.repeat(n));
    assert!(text.len() <= MAX_STATEMENT && n > 100, "{n} units");
    text
}

fn short(head: &str, unit: &str, tail: &str) -> String {
    format!("{head}{unit}{tail}")
}

type Answer = Result<Value, (ErrorKind, String)>;

async fn call(db: &Database, operation: &str, body: Value) -> Answer {
    wire(db, operation, body)
        .await
        .map_err(|e| (e.kind, e.message))
}

async fn statement(db: &Database, text: &str) -> Answer {
    call(db, "ExecuteStatement", json!({ "Statement": text })).await
}

async fn batch(db: &Database, texts: &[&str]) -> Answer {
    let statements: Vec<Value> = texts.iter().map(|t| json!({ "Statement": t })).collect();
    call(
        db,
        "BatchExecuteStatement",
        json!({ "Statements": statements }),
    )
    .await
}

async fn transaction(db: &Database, texts: &[&str]) -> Answer {
    let statements: Vec<Value> = texts.iter().map(|t| json!({ "Statement": t })).collect();
    call(
        db,
        "ExecuteTransaction",
        json!({ "TransactStatements": statements }),
    )
    .await
}

fn refusal(kind: ErrorKind, message: &str) -> Answer {
    Err((kind, message.to_string()))
}

fn keys(answer: &Answer) -> Vec<(String, String)> {
    let items = answer.as_ref().expect("answered")["Items"]
        .as_array()
        .expect("Items")
        .clone();
    items
        .iter()
        .map(|i| {
            (
                i["pk"]["S"].as_str().unwrap_or_default().to_string(),
                i["sk"]["S"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn read(db: &Database, pk: &str, sk: &str) -> Value {
    let got = call(
        db,
        "GetItem",
        json!({"TableName": "limits", "Key": {"pk": {"S": pk}, "sk": {"S": sk}}, "ConsistentRead": true}),
    )
    .await
    .expect("get");
    got["Item"].clone()
}

/// `limits` (pk/sk S): p/1 a=1, p/2 a=2, q/1 a=1; `idx` (pk/sk S) with a
/// keys-only GSI `gsi` on `gpk`.
async fn setup(db: &Database) {
    create_composite_table(db, "limits").await;
    for (pk, sk, a) in [("p", "1", "1"), ("p", "2", "2"), ("q", "1", "1")] {
        call(
            db,
            "PutItem",
            json!({"TableName": "limits", "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "a": {"N": a}}}),
        )
        .await
        .expect("put");
    }
    let mut input = table_input("idx", Some("S"));
    input
        .attribute_definitions
        .as_mut()
        .expect("definitions")
        .push(attribute("gpk", "S"));
    input.global_secondary_indexes = Some(vec![global_index(
        "gsi",
        "gpk",
        None,
        projection("KEYS_ONLY", &[]),
    )]);
    db.create_table(input).await.expect("create idx");
    wait_until_active(db, "idx").await;
}

async fn still_works(db: &Database) {
    let q = call(
        db,
        "Query",
        json!({"TableName": "limits", "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "p"}}}),
    )
    .await
    .expect("query after");
    assert!(q["Count"].as_u64().is_some());
    let r = statement(db, "SELECT * FROM \"limits\" WHERE pk = 'p' AND sk = '1'").await;
    assert_eq!(keys(&r), pairs(&[("p", "1")]));
}

const FROM: &str = "SELECT * FROM \"limits\" WHERE ";

/// SELECTs whose long and short forms mean the same: (head, unit, tail).
fn selects() -> Vec<(String, String, String)> {
    let s = |h: &str, u: &str, t: &str| (h.to_string(), u.to_string(), t.to_string());
    let index = "SELECT * FROM \"idx\".\"gsi\" WHERE ";
    vec![
        // Scans.
        s(FROM, "a = 1 AND ", "a = 1"),
        s(FROM, "a = 7 OR ", "a = 1"),
        s(FROM, "NOT a = 2 AND ", "sk = '1'"),
        s(FROM, "a = 1 AND sk = '1' OR ", "a = 2"),
        // Keyed reads: partitions pinned, sort ranges, overlap refusals,
        // too many partitions.
        s(FROM, "a = 1 AND ", "pk = 'p'"),
        s(FROM, "pk = 'p' AND sk >= '1' AND ", "a = 1"),
        s(FROM, "pk = 'p' OR ", "pk = 'p'"),
        // 2^n branches: past the limit the overlap check is not made.
        s(FROM, "(pk = 'p' OR pk = 'q') AND ", "a = 1"),
        s(FROM, "pk = 'p' AND ", "(sk = '1' OR a = 3)"),
        s(FROM, "sk = 1 AND ", "pk = 'p'"),
        s(FROM, "pk = 'p' AND sk IN ['1', 2] AND ", "a = 1"),
        // A keyed index read walks the filter's attribute names.
        s(index, "a = 1 AND ", "gpk = 'g'"),
        // Runs of other operators: the nesting budget.
        s(FROM, "1 = ", "a"),
    ]
}

/// `levels` parenthesised chains of `per_level` `a = 1` operands and the
/// next level, ANDs and ORs alternating.
fn nested(levels: usize, per_level: usize) -> String {
    let mut text = FROM.to_string();
    for level in 0..levels {
        let op = if level % 2 == 0 { " AND " } else { " OR " };
        text.push_str(&format!("a = 1{op}").repeat(per_level));
        text.push('(');
    }
    text.push_str("a = 1");
    text.push_str(&")".repeat(levels));
    text
}

#[test]
fn long_selects_answer_as_short_ones_on_small_stacks() {
    on_small_workers(|db| async move {
        setup(&db).await;
        for (head, unit, tail) in selects() {
            let expected = if unit == "1 = " {
                refusal(ErrorKind::ValidationException, MALFORMED)
            } else {
                statement(&db, &short(&head, &unit, &tail)).await
            };
            let text = long(&head, &unit, &tail);
            assert_eq!(statement(&db, &text).await, expected, "{}…", &text[..80]);
        }
        // Chains in chains, the operators alternating, as deep as the
        // parser goes and 8 KB long.
        let per_level = (1..)
            .take_while(|&n| nested(99, n).len() <= MAX_STATEMENT)
            .last()
            .expect("fits");
        let deep = statement(&db, &nested(99, per_level)).await;
        assert_eq!(deep, statement(&db, &nested(1, 1)).await);
        assert_eq!(keys(&deep), pairs(&[("p", "1"), ("q", "1")]));
        assert_eq!(
            statement(&db, &nested(100, 1)).await,
            refusal(ErrorKind::ValidationException, MALFORMED)
        );
        // What the answers are.
        let scan = statement(&db, &long(FROM, "a = 1 AND ", "a = 1")).await;
        assert_eq!(keys(&scan), pairs(&[("p", "1"), ("q", "1")]));
        let or = statement(&db, &long(FROM, "a = 7 OR ", "a = 2")).await;
        assert_eq!(keys(&or), pairs(&[("p", "2")]));
        let keyed = statement(&db, &long(FROM, "a = 1 AND ", "pk = 'p'")).await;
        assert_eq!(keys(&keyed), pairs(&[("p", "1")]));
        assert_eq!(
            statement(&db, &long(FROM, "pk = 'p' OR ", "pk = 'p'")).await,
            refusal(
                ErrorKind::ValidationException,
                "Overlapping conditions with range keys are not supported in where clause"
            )
        );
        let partitions: Vec<String> = (0..60).map(|i| format!("pk = 'k{i}'")).collect();
        let mut text = format!("{FROM}{}", partitions.join(" OR "));
        while text.len() < MAX_STATEMENT - 20 {
            text.push_str(" OR pk = 'k0'");
        }
        assert_eq!(
            statement(&db, &text).await,
            refusal(
                ErrorKind::ValidationException,
                "Too many decomposed read operations for a given query."
            )
        );
        assert_eq!(
            statement(&db, &long("SELECT * FROM \"idx\".\"gsi\" WHERE ", "a = 1 AND ", "gpk = 'g'")).await,
            refusal(
                ErrorKind::ValidationException,
                "One or more parameter values were invalid: Secondary index gsi does not project one or more filter attributes: [a]"
            )
        );
        still_works(&db).await;
    });
}

#[test]
fn long_writes_are_conditions_on_their_item() {
    on_small_workers(|db| async move {
        setup(&db).await;
        let ccf = refusal(
            ErrorKind::ConditionalCheckFailedException,
            "The conditional request failed",
        );
        let update = |cond: &str| {
            long(
                "UPDATE \"limits\" SET b = 1 WHERE pk = 'p' AND sk = '1' AND ",
                &format!("{cond} AND "),
                cond,
            )
        };
        // A condition that fails anywhere in the chain fails the write.
        let mut failing = update("a = 1");
        failing.replace_range(failing.len() - 5.., "a = 2");
        assert_eq!(statement(&db, &failing).await, ccf);
        assert_eq!(read(&db, "p", "1").await["b"], Value::Null);
        assert_eq!(
            statement(&db, &update("a = 1")).await,
            Ok(json!({"Items": []}))
        );
        assert_eq!(read(&db, "p", "1").await["b"], json!({"N": "1"}));
        // OR chains as conditions.
        let or = long(
            "UPDATE \"limits\" SET c = 1 WHERE pk = 'p' AND sk = '2' AND (",
            "a = 9 OR ",
            "a = 2)",
        );
        assert_eq!(statement(&db, &or).await, Ok(json!({"Items": []})));
        assert_eq!(read(&db, "p", "2").await["c"], json!({"N": "1"}));
        // DELETE: refused while the chain fails, done once it holds.
        let delete = |a: &str| {
            long(
                "DELETE FROM \"limits\" WHERE pk = 'q' AND sk = '1' AND ",
                "attribute_exists(a) AND ",
                &format!("a = {a}"),
            )
        };
        assert_eq!(statement(&db, &delete("5")).await, ccf);
        assert!(read(&db, "q", "1").await.is_object());
        assert_eq!(statement(&db, &delete("1")).await, Ok(json!({"Items": []})));
        assert_eq!(read(&db, "q", "1").await, Value::Null);
        // Key equalities repeated: one item, named once.
        let repeated = long(
            "UPDATE \"limits\" SET d = 1 WHERE ",
            "pk = 'p' AND sk = '2' AND ",
            "pk = 'p'",
        );
        assert_eq!(statement(&db, &repeated).await, Ok(json!({"Items": []})));
        let two_values = format!("{repeated} AND pk = 'x'");
        let two_values = two_values.replacen("pk = 'p' AND ", "", 2);
        assert_eq!(
            statement(&db, &two_values).await,
            refusal(
                ErrorKind::ValidationException,
                "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported"
            )
        );
        still_works(&db).await;
    });
}

#[test]
fn long_statements_in_batches_and_transactions() {
    on_small_workers(|db| async move {
        setup(&db).await;
        // A batch SELECT naming one item by repeated key equalities reads
        // it; with any other condition it is refused, as a short one is.
        let point = long(FROM, "pk = 'p' AND sk = '1' AND ", "pk = 'p'");
        let filtered = long(FROM, "pk = 'p' AND sk = '1' AND ", "a = 1");
        let got = batch(&db, &[&point, &filtered]).await.expect("batch");
        let short_filtered = short(FROM, "pk = 'p' AND sk = '1' AND ", "a = 1");
        let expected = batch(
            &db,
            &[
                &short(FROM, "pk = 'p' AND sk = '1' AND ", "pk = 'p'"),
                &short_filtered,
            ],
        )
        .await
        .expect("batch");
        assert_eq!(got, expected);
        assert_eq!(got["Responses"][0]["Item"]["a"], json!({"N": "1"}));
        assert!(got["Responses"][1]["Error"].is_object(), "{got}");
        // Batch writes with long conditions: one holds, one fails.
        let holds = long(
            "UPDATE \"limits\" SET e = 1 WHERE pk = 'p' AND sk = '1' AND ",
            "a = 1 AND ",
            "a = 1",
        );
        let fails = long(
            "UPDATE \"limits\" SET e = 1 WHERE pk = 'p' AND sk = '2' AND (",
            "a = 1 OR ",
            "a = 3)",
        );
        let got = batch(&db, &[&holds, &fails]).await.expect("batch");
        assert!(got["Responses"][0].get("Error").is_none(), "{got}");
        assert_eq!(
            got["Responses"][1]["Error"]["Code"],
            json!("ConditionalCheckFailed"),
            "{got}"
        );
        assert_eq!(read(&db, "p", "1").await["e"], json!({"N": "1"}));
        assert_eq!(read(&db, "p", "2").await["e"], Value::Null);

        // A transaction of long statements: EXISTS, UPDATE, DELETE.
        let exists = |a: &str| {
            long(
                "EXISTS(SELECT * FROM \"limits\" WHERE pk = 'p' AND sk = '2' AND ",
                "a = 2 AND ",
                &format!("a = {a})"),
            )
        };
        let update = long(
            "UPDATE \"limits\" SET f = 1 WHERE pk = 'p' AND sk = '1' AND ",
            "e = 1 AND ",
            "a = 1",
        );
        let delete = long(
            "DELETE FROM \"limits\" WHERE pk = 'q' AND sk = '1' AND ",
            "a = 1 AND ",
            "a = 1",
        );
        let cancelled = transaction(&db, &[&exists("3"), &update, &delete]).await;
        let Err((kind, message)) = cancelled else {
            panic!("{cancelled:?}");
        };
        assert_eq!(kind, ErrorKind::TransactionCanceledException);
        assert!(
            message.contains("[ConditionalCheckFailed, None, None]"),
            "{message}"
        );
        assert_eq!(read(&db, "p", "1").await["f"], Value::Null);
        assert!(read(&db, "q", "1").await.is_object());
        assert_eq!(
            transaction(&db, &[&exists("2"), &update, &delete]).await,
            Ok(json!({"Responses": []}))
        );
        assert_eq!(read(&db, "p", "1").await["f"], json!({"N": "1"}));
        assert_eq!(read(&db, "q", "1").await, Value::Null);
        // A transaction of long SELECTs naming one item each.
        let got = transaction(&db, &[&point]).await.expect("read transaction");
        assert_eq!(got["Responses"][0]["Item"]["f"], json!({"N": "1"}));
        // The nesting budget refuses a run of operators in any statement.
        let run = long(FROM, "1 = ", "a");
        let refused = transaction(&db, &[&run]).await;
        assert!(
            matches!(&refused, Err((ErrorKind::ValidationException, m)) if m.ends_with(MALFORMED)),
            "{refused:?}"
        );
        still_works(&db).await;
    });
}

/// Every kind of nesting, as deep as the parser follows it, answered (most
/// are refused, by binding, for what they hold); one level deeper is a
/// syntax error.
#[test]
fn the_deepest_statement_of_every_shape_is_answered() {
    on_small_workers(|db| async move {
        setup(&db).await;
        let shapes: [(&str, &str, &str, &str); 10] = [
            (FROM, "(", "a = 1", ")"),
            (FROM, "a = 1 AND (a = 1 OR ", "a = 1", ")"),
            ("SELECT * FROM \"limits\" WHERE a = ", "(a = ", "1", ")"),
            (FROM, "a BETWEEN 1 AND (", "1", ")"),
            (FROM, "a IN (", "1", ")"),
            ("SELECT * FROM \"limits\" WHERE a = ", "f(", "1", ")"),
            ("SELECT * FROM \"limits\" WHERE a = ", "<<", "1", ">>"),
            ("SELECT * FROM \"limits\" WHERE a", "[a", "", "]"),
            (
                "INSERT INTO \"limits\" VALUE {'pk': 'x', 'sk': 'y', 'v': ",
                "{'a': ",
                "1",
                "}",
            ),
            ("UPDATE \"limits\" SET v = ", "list_append(", "b", ", [1])"),
        ];
        for (head, open, inner, close) in shapes {
            let text = |n: usize| {
                let tail = if head.starts_with("UPDATE") {
                    " WHERE pk = 'p' AND sk = '1'"
                } else if head.starts_with("INSERT") {
                    "}"
                } else {
                    ""
                };
                format!("{head}{}{inner}{}{tail}", open.repeat(n), close.repeat(n))
            };
            // Read to the end, though perhaps refused for what it holds.
            let read = |n: usize| {
                openddb_core::partiql::parse(&text(n))
                    .map_or_else(|e| e.message != MALFORMED, |_| true)
            };
            let deepest = (1..150)
                .take_while(|&n| read(n))
                .last()
                .unwrap_or_else(|| panic!("{open} parses"));
            assert!(deepest >= 98, "{open}: {deepest}");
            let answer = statement(&db, &text(deepest)).await;
            assert!(
                !matches!(&answer, Err((_, m)) if m.starts_with(MALFORMED)),
                "{open}: {answer:?}"
            );
            assert_eq!(
                statement(&db, &text(deepest + 1)).await,
                refusal(ErrorKind::ValidationException, MALFORMED),
                "{open}"
            );
        }
        still_works(&db).await;
    });
}
