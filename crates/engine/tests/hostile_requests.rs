//! Hostile requests: random bodies for every action, built from the fields
//! each action reads and from values chosen to hit edges (wrong types, key
//! types no key can have, empty and huge strings, extreme numbers, forged
//! tokens), sent through `Database::dispatch` against tables that exist
//! (hash, composite with N sort key, indexes, a stream). None may panic,
//! and none may be answered as an internal error: a client's mistake is a
//! 400 with DynamoDB's error, never a server fault.

use std::sync::Arc;

use openddb_core::ErrorKind;
use openddb_engine::{Database, RequestContext, StorageConfig};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
    "DescribeTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "ListStreams",
    "DescribeStream",
    "GetShardIterator",
    "GetRecords",
];

/// Values where a scalar goes: strings, numbers, and other JSON types.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("a")),
        Just(json!("p")),
        Just(json!("\u{0}")),
        Just(json!("é")),
        Just(json!("x".repeat(3000))),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(4294967296u64)),
        Just(json!(1.5e300)),
        Just(json!(true)),
        Just(Value::Null),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// An attribute value, well-formed or not.
fn attribute() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        scalar().prop_map(|v| json!({ "S": v })),
        prop_oneof![
            Just("0"),
            Just("1"),
            Just("-1"),
            Just("1e125"),
            Just("9.9999999999999999999999999999999999999E+125"),
            Just("1e-130"),
            Just("1e126"),
            Just("abc"),
            Just(""),
            Just("18446744073709551616"),
        ]
        .prop_map(|n| json!({ "N": n })),
        prop_oneof![Just("AAAA"), Just(""), Just("!!"), Just("AA==")]
            .prop_map(|b| json!({ "B": b })),
        any::<bool>().prop_map(|b| json!({ "BOOL": b })),
        Just(json!({"NULL": true})),
        Just(json!({"SS": ["a", "a"]})),
        Just(json!({"NS": ["1", "2"]})),
        Just(json!({"BS": []})),
        Just(json!({"S": "a", "N": "1"})),
        Just(json!({})),
        scalar(),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|l| json!({ "L": l })),
            prop::collection::vec(inner, 0..3).prop_map(|l| {
                let m: Map<String, Value> = l
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("m{i}"), v))
                    .collect();
                json!({ "M": m })
            }),
        ]
    })
}

fn expression() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just("pk = :v"),
        Just("pk = :v AND sk > :w"),
        Just("pk = :v AND begins_with(sk, :w)"),
        Just("pk = :v AND sk BETWEEN :v AND :w"),
        Just("g = :v"),
        Just("#n = :v"),
        Just("SET v = :v"),
        Just("SET v = v + :w"),
        Just("ADD v :w"),
        Just("REMOVE v[4294967296]"),
        Just("attribute_exists(pk)"),
        Just("size(v) > :w"),
        Just("v"),
        Just("pk, sk, v.m0[0]"),
        Just(""),
        Just("(((((((("),
    ]
    .prop_map(|s| json!(s))
}

fn statement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just("SELECT * FROM ccc WHERE pk = ?"),
        Just("SELECT * FROM ccc WHERE pk = ? AND sk > ?"),
        Just("SELECT * FROM ccc WHERE pk IN [?, ?]"),
        Just(r#"SELECT * FROM "idx"."gsi" WHERE g = ?"#),
        Just("SELECT * FROM hhh WHERE pk = ?"),
        Just("SELECT * FROM hhh"),
        Just("INSERT INTO ccc VALUE {'pk': ?, 'sk': ?}"),
        Just("UPDATE ccc SET v = ? WHERE pk = ? AND sk = ?"),
        Just("DELETE FROM hhh WHERE pk = ?"),
        Just("SELECT * FROM ccc WHERE pk = ? ORDER BY sk DESC"),
    ]
    .prop_map(|s| json!(s))
}

fn token() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("AAAA")),
        Just(json!(
            "eyJoIjoiMCIsInAiOjAsImsiOnsicGsiOnsiQk9PTCI6dHJ1ZX19fQ=="
        )),
        Just(json!("A".repeat(40000))),
        Just(json!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/idx/stream/x|1|AAAA"
        )),
        Just(json!("||||")),
        scalar(),
    ]
}

/// A key value: mostly of a key type (and a value that exists), sometimes
/// of a type no key can have, empty, too long or a number at the edge.
fn key_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!({"S": "p"})),
        2 => (0..6i32).prop_map(|i| json!({"N": i.to_string()})),
        2 => (0..6i32).prop_map(|i| json!({"S": i.to_string()})),
        1 => Just(json!({"B": "AAAA"})),
        3 => attribute(),
    ]
}

/// A key of `table`, usually with the right attribute names.
fn key_of(table: &'static str) -> impl Strategy<Value = Value> {
    (key_value(), key_value(), any::<u8>()).prop_map(move |(pk, sk, shape)| {
        let mut m = Map::new();
        m.insert("pk".into(), pk);
        if table != "hhh" && shape % 5 != 0 {
            m.insert("sk".into(), sk.clone());
        }
        if shape % 7 == 0 {
            m.insert("g".into(), sk);
        }
        Value::Object(m)
    })
}

fn values() -> impl Strategy<Value = Value> {
    (key_value(), key_value()).prop_map(|(v, w)| json!({":v": v, ":w": w}))
}

fn limit() -> impl Strategy<Value = Value> {
    prop_oneof![4 => (1..8i64).prop_map(|n| json!(n)), 1 => scalar()]
}

fn table() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just("ccc"),
        3 => Just("idx"),
        2 => Just("hhh"),
        1 => Just("nope"),
        1 => Just(""),
        1 => Just("x"),
    ]
}

/// A request for `op`, mostly well-formed so that it reaches the engine's
/// deeper checks, with values from the strategies above.
fn template(op: &'static str) -> BoxedStrategy<Value> {
    let t = table();
    match op {
        "GetItem" | "DeleteItem" => t
            .prop_flat_map(|t| key_of(t).prop_map(move |k| json!({"TableName": t, "Key": k})))
            .boxed(),
        "PutItem" => t
            .prop_flat_map(|t| {
                (key_of(t), attribute()).prop_map(move |(k, v)| {
                    let mut item = k;
                    item["v"] = v;
                    json!({"TableName": t, "Item": item, "ReturnValues": "ALL_OLD"})
                })
            })
            .boxed(),
        "UpdateItem" => (t, expression(), values())
            .prop_flat_map(|(t, e, vals)| {
                key_of(t).prop_map(move |k| {
                    json!({"TableName": t, "Key": k, "UpdateExpression": e.clone(),
                           "ExpressionAttributeValues": vals.clone(), "ReturnValues": "ALL_NEW"})
                })
            })
            .boxed(),
        "Query" => (
            t,
            expression(),
            values(),
            limit(),
            prop_oneof![Just(None), Just(Some("gsi")), Just(Some("lsi"))],
            any::<bool>(),
        )
            .prop_flat_map(|(t, e, vals, limit, index, forward)| {
                prop::option::of(key_of(t)).prop_map(move |start| {
                    let mut body = json!({"TableName": t, "KeyConditionExpression": e.clone(),
                        "ExpressionAttributeValues": vals.clone(), "Limit": limit.clone(),
                        "ScanIndexForward": forward});
                    if let Some(i) = index {
                        body["IndexName"] = json!(i);
                    }
                    if let Some(s) = start {
                        body["ExclusiveStartKey"] = s;
                    }
                    body
                })
            })
            .boxed(),
        "Scan" => (t, limit(), scalar(), scalar(), any::<bool>())
            .prop_flat_map(|(t, limit, segment, total, segmented)| {
                prop::option::of(key_of(t)).prop_map(move |start| {
                    let mut body = json!({"TableName": t, "Limit": limit.clone()});
                    if segmented {
                        body["Segment"] = segment.clone();
                        body["TotalSegments"] = total.clone();
                    }
                    if let Some(s) = start {
                        body["ExclusiveStartKey"] = s;
                    }
                    body
                })
            })
            .boxed(),
        "BatchGetItem" => t
            .prop_flat_map(|t| {
                prop::collection::vec(key_of(t), 0..4)
                    .prop_map(move |keys| json!({"RequestItems": {t: {"Keys": keys}}}))
            })
            .boxed(),
        "BatchWriteItem" => t
            .prop_flat_map(|t| {
                (key_of(t), key_of(t)).prop_map(move |(a, b)| {
                    json!({"RequestItems": {t: [{"PutRequest": {"Item": a}}, {"DeleteRequest": {"Key": b}}]}})
                })
            })
            .boxed(),
        "TransactGetItems" => t
            .prop_flat_map(|t| {
                (key_of(t), key_of(t)).prop_map(move |(a, b)| {
                    json!({"TransactItems": [{"Get": {"TableName": t, "Key": a}},
                                             {"Get": {"TableName": t, "Key": b}}]})
                })
            })
            .boxed(),
        "TransactWriteItems" => (t, expression(), values())
            .prop_flat_map(|(t, e, vals)| {
                (key_of(t), key_of(t)).prop_map(move |(a, b)| {
                    json!({"TransactItems": [
                        {"Put": {"TableName": t, "Item": a}},
                        {"Update": {"TableName": t, "Key": b, "UpdateExpression": e.clone(),
                                    "ExpressionAttributeValues": vals.clone()}}]})
                })
            })
            .boxed(),
        "ExecuteStatement" => (statement(), prop::collection::vec(key_value(), 0..4), limit(), prop::option::of(token()))
            .prop_map(|(st, params, limit, token)| {
                let mut body = json!({"Statement": st, "Limit": limit});
                if !params.is_empty() {
                    body["Parameters"] = json!(params);
                }
                if let Some(t) = token {
                    body["NextToken"] = t;
                }
                body
            })
            .boxed(),
        "BatchExecuteStatement" | "ExecuteTransaction" => {
            let member = if op == "BatchExecuteStatement" { "Statements" } else { "TransactStatements" };
            prop::collection::vec((statement(), prop::collection::vec(key_value(), 1..4)), 1..3)
                .prop_map(move |list| {
                    let list: Vec<Value> = list
                        .into_iter()
                        .map(|(s, p)| json!({"Statement": s, "Parameters": p}))
                        .collect();
                    json!({ member: list })
                })
                .boxed()
        }
        "GetShardIterator" => (
            prop_oneof![Just("TRIM_HORIZON"), Just("LATEST"), Just("AT_SEQUENCE_NUMBER"), Just("AFTER_SEQUENCE_NUMBER")],
            prop::option::of(prop_oneof![
                Just("100000000000000000000"),
                Just("100000000000000000003"),
                Just("118446744073709551615"),
                Just("999999999999999999999999999999999999999"),
                Just("099999999999999999999"),
            ]),
        )
            .prop_map(|(kind, seq)| {
                let mut body = json!({"StreamArn": "", "ShardId": "", "ShardIteratorType": kind});
                if let Some(s) = seq {
                    body["SequenceNumber"] = json!(s);
                }
                body
            })
            .boxed(),
        "GetRecords" => (token(), limit())
            .prop_map(|(t, limit)| json!({"ShardIterator": t, "Limit": limit}))
            .boxed(),
        "DescribeStream" => (limit(), prop::option::of(token()))
            .prop_map(|(limit, start)| {
                let mut body = json!({"StreamArn": "", "Limit": limit});
                if let Some(s) = start {
                    body["ExclusiveStartShardId"] = s;
                }
                body
            })
            .boxed(),
        _ => t.prop_map(|t| json!({"TableName": t})).boxed(),
    }
}

/// Replaces or removes one member somewhere in `body` (the `pick`th).
fn mutate(body: &mut Value, pick: usize, with: Value) {
    fn walk(v: &mut Value, pick: &mut usize, with: &mut Option<Value>) {
        match v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    if with.is_none() {
                        return;
                    }
                    if *pick == 0 {
                        match with.take() {
                            Some(Value::Null) => {
                                m.remove(&k);
                            }
                            Some(w) => {
                                m.insert(k, w);
                            }
                            None => {}
                        }
                        return;
                    }
                    *pick -= 1;
                    if let Some(child) = m.get_mut(&k) {
                        walk(child, pick, with);
                    }
                }
            }
            Value::Array(a) => {
                for child in a {
                    walk(child, pick, with);
                }
            }
            _ => {}
        }
    }
    let mut with = Some(with);
    let mut pick = pick;
    walk(body, &mut pick, &mut with);
}

fn request() -> impl Strategy<Value = (&'static str, Value)> {
    prop::sample::select(OPERATIONS)
        .prop_flat_map(|op| {
            (
                Just(op),
                template(op),
                prop::collection::vec(
                    (0..12usize, prop_oneof![scalar(), attribute(), token()]),
                    0..3,
                ),
            )
        })
        .prop_map(|(op, mut body, mutations)| {
            for (pick, with) in mutations {
                mutate(&mut body, pick, with);
            }
            (op, body)
        })
}

fn setup(rt: &tokio::runtime::Runtime, db: &Database) -> (String, String) {
    let ctx = RequestContext::default();
    let call = |op: &str, body: Value| {
        rt.block_on(db.dispatch(&ctx, op, body.to_string().as_bytes()))
            .unwrap_or_else(|e| panic!("{op}: {e:?}"))
    };
    let def = |n: &str, t: &str| json!({"AttributeName": n, "AttributeType": t});
    let key = |n: &str, t: &str| json!({"AttributeName": n, "KeyType": t});
    call(
        "CreateTable",
        json!({"TableName": "hhh", "AttributeDefinitions": [def("pk", "S")],
               "KeySchema": [key("pk", "HASH")], "BillingMode": "PAY_PER_REQUEST"}),
    );
    call(
        "CreateTable",
        json!({"TableName": "ccc", "AttributeDefinitions": [def("pk", "S"), def("sk", "N")],
               "KeySchema": [key("pk", "HASH"), key("sk", "RANGE")], "BillingMode": "PAY_PER_REQUEST"}),
    );
    let created = call(
        "CreateTable",
        json!({"TableName": "idx",
               "AttributeDefinitions": [def("pk", "S"), def("sk", "S"), def("g", "B"), def("l", "N")],
               "KeySchema": [key("pk", "HASH"), key("sk", "RANGE")],
               "GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": [key("g", "HASH")],
                                           "Projection": {"ProjectionType": "KEYS_ONLY"}}],
               "LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": [key("pk", "HASH"), key("l", "RANGE")],
                                          "Projection": {"ProjectionType": "ALL"}}],
               "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
               "BillingMode": "PAY_PER_REQUEST"}),
    );
    let created: Value = serde_json::from_slice(&created).expect("json");
    for i in 0..5 {
        call(
            "PutItem",
            json!({"TableName": "ccc", "Item": {"pk": {"S": "p"}, "sk": {"N": i.to_string()}}}),
        );
        call(
            "PutItem",
            json!({"TableName": "idx", "Item": {"pk": {"S": "p"}, "sk": {"S": i.to_string()},
                   "g": {"B": "AAAA"}, "l": {"N": i.to_string()}}}),
        );
    }
    let arn = created["TableDescription"]["LatestStreamArn"]
        .as_str()
        .expect("stream ARN")
        .to_string();
    let described = call("DescribeStream", json!({"StreamArn": arn}));
    let described: Value = serde_json::from_slice(&described).expect("json");
    let shard = described["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .expect("shard id")
        .to_string();
    (arn, shard)
}

fn check(storage: StorageConfig, cases: u32) {
    // A longer hunt on demand: HOSTILE_CASES=100000 cargo test ...
    let cases = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = Arc::new(Database::open(storage).expect("open"));
    let (arn, shard) = setup(&rt, &db);
    let ctx = RequestContext::default();
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((op, body) in request())| {
        let mut body = body;
        // Templates leave the stream and shard to fill in.
        if body.get("StreamArn").is_some_and(|v| v.as_str() == Some("")) {
            body["StreamArn"] = json!(arn);
        }
        if body.get("ShardId").is_some_and(|v| v.as_str() == Some("")) {
            body["ShardId"] = json!(shard);
        }
        let text = body.to_string();
        if let Err(e) = rt.block_on(db.dispatch(&ctx, op, text.as_bytes())) {
            prop_assert!(
                e.kind != ErrorKind::InternalServerError,
                "{op} {text}: {:?} {}", e.kind, e.message
            );
        }
    });
}

#[test]
fn hostile_requests_get_client_errors_in_memory() {
    check(StorageConfig::InMemory, 3000);
}

#[test]
fn hostile_requests_get_client_errors_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    check(StorageConfig::Directory(dir.path().to_path_buf()), 500);
}
