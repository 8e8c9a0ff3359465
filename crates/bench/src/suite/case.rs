//! One test of the synthetic suite, shaped like a project's integration
//! test against DynamoDB Local: create a table of its own (hash and range
//! key, one GSI), wait for it with DescribeTable, write and read a few
//! items, delete the table. Every answer is checked; a wrong one is an
//! error naming the step.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::client::{Conn, Reply};
use crate::dataset;
use crate::target::Target;
use crate::wire;

/// The GSI every test table has (partition key `g`, sort key `sk`).
const GSI: &str = "by_g";
/// Items written one by one with PutItem.
const PUTS: usize = 10;
/// Puts in the BatchWriteItem.
const BATCH: usize = 5;
/// The one partition every item of a test lives in.
const PARTITION: &str = "p";
/// The first item of the key Query (`sk >= s05`).
const QUERY_FROM: usize = 5;
/// The item read back with GetItem.
const GET: usize = 3;

/// The `j`-th item put with PutItem: sort key `sNN`, GSI partition `g0` or
/// `g1` by parity.
pub fn put_item(table: &str, j: usize) -> Value {
    json!({
        "pk": {"S": PARTITION},
        "sk": {"S": format!("s{j:02}")},
        "g": {"S": format!("g{}", j % 2)},
        "n": {"N": j.to_string()},
        "data": {"S": format!("item {j} of {table}")},
    })
}

/// The `k`-th item of the BatchWriteItem (GSI partition `g2`, which no
/// Query reads).
fn batch_item(table: &str, k: usize) -> Value {
    json!({
        "pk": {"S": PARTITION},
        "sk": {"S": format!("b{k}")},
        "g": {"S": "g2"},
        "n": {"N": k.to_string()},
        "data": {"S": format!("batch item {k} of {table}")},
    })
}

fn key(sk: &str) -> Value {
    json!({"pk": {"S": PARTITION}, "sk": {"S": sk}})
}

pub fn create_table(table: &str) -> Value {
    json!({
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [{
            "IndexName": GSI,
            "KeySchema": [
                {"AttributeName": "g", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        "BillingMode": "PAY_PER_REQUEST",
    })
}

fn key_query(table: &str) -> Value {
    json!({
        "TableName": table,
        "KeyConditionExpression": "pk = :p AND sk >= :from",
        "ExpressionAttributeValues": {
            ":p": {"S": PARTITION},
            ":from": {"S": format!("s{QUERY_FROM:02}")},
        },
    })
}

fn gsi_query(table: &str) -> Value {
    json!({
        "TableName": table,
        "IndexName": GSI,
        "KeyConditionExpression": "g = :g",
        "ExpressionAttributeValues": {":g": {"S": "g1"}},
    })
}

/// Adds one to `n` of item `s00` and sets `st`, if `n` is still 0.
fn conditional_update(table: &str) -> Value {
    json!({
        "TableName": table,
        "Key": key("s00"),
        "UpdateExpression": "SET #n = #n + :one, #st = :done",
        "ConditionExpression": "attribute_exists(pk) AND #n = :zero",
        "ExpressionAttributeNames": {"#n": "n", "#st": "st"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":done": {"S": "done"},
        },
        "ReturnValues": "ALL_NEW",
    })
}

/// What the conditional update leaves in item `s00`.
pub fn updated_item(table: &str) -> Value {
    let mut item = put_item(table, 0);
    item["n"] = json!({"N": "1"});
    item["st"] = json!({"S": "done"});
    item
}

fn batch_write(table: &str) -> Value {
    let puts: Vec<Value> = (0..BATCH)
        .map(|k| json!({"PutRequest": {"Item": batch_item(table, k)}}))
        .collect();
    json!({"RequestItems": {table: puts}})
}

/// A put of a new item and an increment of `s01`, both conditional.
fn transact_write(table: &str) -> Value {
    json!({
        "TransactItems": [
            {"Put": {
                "TableName": table,
                "Item": {
                    "pk": {"S": PARTITION},
                    "sk": {"S": "t0"},
                    "g": {"S": "g2"},
                    "data": {"S": format!("transaction item of {table}")},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }},
            {"Update": {
                "TableName": table,
                "Key": key("s01"),
                "UpdateExpression": "SET #n = #n + :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#n": "n"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }},
        ],
    })
}

/// The items the key Query must return, in order.
pub fn key_query_items(table: &str) -> Vec<Value> {
    (QUERY_FROM..PUTS).map(|j| put_item(table, j)).collect()
}

/// The items the GSI Query must return, in order (the odd ones, by `sk`).
pub fn gsi_query_items(table: &str) -> Vec<Value> {
    (0..PUTS)
        .filter(|j| j % 2 == 1)
        .map(|j| put_item(table, j))
        .collect()
}

fn body(v: &Value) -> Bytes {
    Bytes::from(v.to_string())
}

/// An HTTP 200 answer parsed as a JSON object, or what was wrong with it.
pub fn ok_json(op: &str, reply: &Reply) -> Result<Value, String> {
    if !reply.ok() {
        return Err(format!("{op} answered {}", wire::reply_text(reply)));
    }
    let v = reply.json();
    if !v.is_object() {
        return Err(format!(
            "{op} answered 200 without a JSON object: {}",
            wire::reply_text(reply)
        ));
    }
    Ok(v)
}

/// `field` of `answer` must equal `expected`.
pub fn expect_eq(op: &str, answer: &Value, field: &str, expected: &Value) -> Result<(), String> {
    let got = &answer[field];
    if got == expected {
        Ok(())
    } else {
        Err(format!("{op}: expected {field} {expected}, got {got}"))
    }
}

/// A Query answer must hold exactly `expected`, in that order, with a
/// matching `Count` and no further page.
pub fn expect_items(op: &str, answer: &Value, expected: &[Value]) -> Result<(), String> {
    expect_eq(op, answer, "Items", &Value::Array(expected.to_vec()))?;
    expect_eq(op, answer, "Count", &json!(expected.len()))?;
    if answer.get("LastEvaluatedKey").is_some() {
        return Err(format!(
            "{op}: a LastEvaluatedKey after {} items",
            expected.len()
        ));
    }
    Ok(())
}

/// Runs one test on table `table` over `conn`; returns how many
/// DescribeTable requests waiting for the table took.
pub async fn run(target: &Target, conn: &mut Conn, table: &str) -> Result<u32, String> {
    let name = json!(table);
    let created = ok_json(
        "CreateTable",
        &conn.call("CreateTable", body(&create_table(table))).await?,
    )?;
    expect_eq(
        "CreateTable",
        &created["TableDescription"],
        "TableName",
        &name,
    )?;
    let polls = dataset::wait_for(
        target,
        conn,
        table,
        dataset::all_active,
        "the table and its GSI to become ACTIVE",
    )
    .await?;

    for j in 0..PUTS {
        let put = json!({"TableName": table, "Item": put_item(table, j)});
        ok_json("PutItem", &conn.call("PutItem", body(&put)).await?)?;
    }

    let get =
        json!({"TableName": table, "Key": key(&format!("s{GET:02}")), "ConsistentRead": true});
    let got = ok_json("GetItem", &conn.call("GetItem", body(&get)).await?)?;
    expect_eq("GetItem", &got, "Item", &put_item(table, GET))?;

    let answer = ok_json("Query", &conn.call("Query", body(&key_query(table))).await?)?;
    expect_items("Query", &answer, &key_query_items(table))?;

    let answer = ok_json(
        "Query (GSI)",
        &conn.call("Query", body(&gsi_query(table))).await?,
    )?;
    expect_items("Query (GSI)", &answer, &gsi_query_items(table))?;

    let answer = ok_json(
        "UpdateItem",
        &conn
            .call("UpdateItem", body(&conditional_update(table)))
            .await?,
    )?;
    expect_eq("UpdateItem", &answer, "Attributes", &updated_item(table))?;

    // Resends UnprocessedItems, as SDK helpers do; any other answer than
    // 200 fails.
    dataset::write_batch(target, conn, body(&batch_write(table))).await?;

    ok_json(
        "TransactWriteItems",
        &conn
            .call("TransactWriteItems", body(&transact_write(table)))
            .await?,
    )?;

    let deleted = ok_json(
        "DeleteTable",
        &conn
            .call("DeleteTable", body(&json!({"TableName": table})))
            .await?,
    )?;
    expect_eq(
        "DeleteTable",
        &deleted["TableDescription"],
        "TableName",
        &name,
    )?;
    Ok(polls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;

    #[test]
    fn queries_expect_the_right_items() {
        let t = "suite-1";
        let keys: Vec<String> = key_query_items(t)
            .iter()
            .map(|i| i["sk"]["S"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, ["s05", "s06", "s07", "s08", "s09"]);
        let gsi: Vec<(String, String)> = gsi_query_items(t)
            .iter()
            .map(|i| (i["g"]["S"].to_string(), i["sk"]["S"].to_string()))
            .collect();
        let odd: Vec<(String, String)> = ["s01", "s03", "s05", "s07", "s09"]
            .iter()
            .map(|sk| ("\"g1\"".to_owned(), format!("\"{sk}\"")))
            .collect();
        assert_eq!(gsi, odd);
        let u = updated_item(t);
        assert_eq!(u["n"]["N"], "1");
        assert_eq!(u["sk"]["S"], "s00");
    }

    #[test]
    fn request_bodies_name_the_table() {
        let t = "suite-2";
        assert_eq!(create_table(t)["TableName"], t);
        assert_eq!(
            create_table(t)["GlobalSecondaryIndexes"][0]["IndexName"],
            GSI
        );
        let batch = batch_write(t);
        assert_eq!(batch["RequestItems"][t].as_array().unwrap().len(), BATCH);
        let tx = transact_write(t);
        assert_eq!(tx["TransactItems"].as_array().unwrap().len(), 2);
        assert_eq!(tx["TransactItems"][1]["Update"]["TableName"], t);
        assert_eq!(gsi_query(t)["IndexName"], GSI);
    }

    #[test]
    fn answers_are_checked() {
        let err = ok_json(
            "PutItem",
            &reply(
                400,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"}"#,
            ),
        )
        .unwrap_err();
        assert!(err.contains("HTTP 400"), "{err}");
        assert!(ok_json("PutItem", &reply(200, "not json")).is_err());
        assert!(ok_json("PutItem", &reply(200, "{}")).is_ok());

        let t = "suite-3";
        let right = json!({"Items": key_query_items(t), "Count": 5, "ScannedCount": 5});
        expect_items("Query", &right, &key_query_items(t)).unwrap();
        let mut reversed = key_query_items(t);
        reversed.reverse();
        let wrong_order = json!({"Items": reversed, "Count": 5});
        assert!(expect_items("Query", &wrong_order, &key_query_items(t)).is_err());
        let wrong_count = json!({"Items": key_query_items(t), "Count": 4});
        assert!(expect_items("Query", &wrong_count, &key_query_items(t)).is_err());
        let paged =
            json!({"Items": key_query_items(t), "Count": 5, "LastEvaluatedKey": key("s09")});
        assert!(expect_items("Query", &paged, &key_query_items(t)).is_err());

        // Attribute order in a map does not matter; values do.
        let got = json!({"Item": {"sk": {"S": "s03"}, "pk": {"S": "p"}, "data": {"S": "item 3 of suite-3"}, "n": {"N": "3"}, "g": {"S": "g1"}}});
        expect_eq("GetItem", &got, "Item", &put_item(t, 3)).unwrap();
        let stale = json!({"Item": put_item(t, 4)});
        assert!(expect_eq("GetItem", &stale, "Item", &put_item(t, 3)).is_err());
        assert!(expect_eq("GetItem", &json!({}), "Item", &put_item(t, 3)).is_err());
    }
}
