//! The adversarial suite: every class of hostile input we can think of, sent
//! over raw sockets to the real `openddb` binary (durable), at and just past
//! each limit. Each input must get a well-formed answer with DynamoDB's error
//! for it; afterwards the server must still be up and serving, must have
//! logged no panic or stack overflow, and every write it acknowledged must
//! still be there — also after a SIGKILL and a restart (`Scenario::finish`).

#[path = "common/process.rs"]
mod process;

#[path = "hostile/scenario.rs"]
mod scenario;
#[path = "hostile/shapes.rs"]
mod shapes;
#[path = "hostile/wire.rs"]
mod wire;

use std::time::Duration;

use scenario::{assert_error, assert_ok, Msg, Scenario, GSI, TABLE};
use serde_json::{json, Value};
use shapes::{ExpressionParam, Shape};
use wire::{call, exchange, request, Conn, Reply};

const VALIDATION: &str = "ValidationException";
const SERIALIZATION: &str = "SerializationException";
const NESTING_MESSAGE: &str = "Nesting Levels have exceeded supported limits: \
    Attributes in the item have nested levels beyond supported limit";
const SIZE_MESSAGE: &str = "Expression size has exceeded the maximum allowed size";

/// The request that carries `expression` in `param`, with the placeholders
/// it uses defined (and no others, so an unused one is never the answer).
fn expression_request(param: ExpressionParam, expression: &str) -> (&'static str, Value) {
    let key = json!({"pk": {"S": "seed-0"}, "sk": {"N": "0"}});
    let mut body = match param {
        ExpressionParam::Condition => json!({
            "TableName": TABLE,
            "Item": {"pk": {"S": "never"}, "sk": {"N": "1"}},
            "ConditionExpression": expression,
        }),
        ExpressionParam::Filter => json!({"TableName": TABLE, "FilterExpression": expression}),
        ExpressionParam::KeyCondition => {
            json!({"TableName": TABLE, "KeyConditionExpression": expression})
        }
        ExpressionParam::Update => {
            json!({"TableName": TABLE, "Key": key, "UpdateExpression": expression})
        }
        ExpressionParam::Projection => {
            json!({"TableName": TABLE, "Key": key, "ProjectionExpression": expression})
        }
    };
    if expression.contains(":v") {
        body["ExpressionAttributeValues"] = json!({":v": {"S": "x"}});
    }
    if expression.contains("#n") {
        body["ExpressionAttributeNames"] = json!({"#n": "a"});
    }
    let operation = match param {
        ExpressionParam::Condition => "PutItem",
        ExpressionParam::Filter => "Scan",
        ExpressionParam::KeyCondition => "Query",
        ExpressionParam::Update => "UpdateItem",
        ExpressionParam::Projection => "GetItem",
    };
    (operation, body)
}

/// Every expression parameter, every nesting shape, at the 4 KB limit and
/// one byte past it: always a ValidationException naming the parameter
/// (past the limit, for its size), never a crash.
#[test]
fn expressions_of_every_shape_at_and_past_the_size_limit() {
    let s = Scenario::start();
    for param in ExpressionParam::ALL {
        for shape in Shape::ALL {
            for len in [4096, 4097] {
                let Some(expression) = shape.build(param, len) else {
                    continue;
                };
                assert_eq!(expression.len(), len, "{shape:?} for {param:?}");
                let (operation, body) = expression_request(param, &expression);
                let reply = s.call(operation, body);
                let what = format!("{operation} {param:?} {shape:?} {len} bytes");
                let prefix = format!("Invalid {}: ", param.name());
                assert_error(&what, &reply, 400, VALIDATION, Msg::Prefix(&prefix));
                if len > 4096 {
                    assert_error(&what, &reply, 400, VALIDATION, Msg::Contains(SIZE_MESSAGE));
                }
            }
        }
    }
    s.finish();
}

/// Expressions of exactly 4,096 bytes that DynamoDB accepts (verified
/// against real DynamoDB in four regions, per the newer conformance suite's
/// `tier3/limits/expressionSize`): every surface takes them and applies them.
#[test]
fn expressions_dynamodb_accepts_at_the_size_limit() {
    let mut s = Scenario::start();
    // A ~50-byte attribute name, unique per clause, stretched on the last
    // clause to land on exactly `len` bytes.
    let name = |i: usize, len: usize| format!("{}x{i}", "a".repeat(len - format!("x{i}").len()));
    let build = |prefix: &str, joiner: &str, clause: &dyn Fn(usize, usize) -> String| {
        let mut parts: Vec<String> = Vec::new();
        let mut total = prefix.len();
        loop {
            let c = clause(parts.len(), 50);
            let add = if parts.is_empty() { 0 } else { joiner.len() } + c.len();
            if total + add > 4096 {
                break;
            }
            total += add;
            parts.push(c);
        }
        let last = parts.len() - 1;
        parts[last] = clause(last, 50 + 4096 - total);
        let text = format!("{prefix}{}", parts.join(joiner));
        assert_eq!(text.len(), 4096);
        (text, parts.len())
    };
    let key = json!({"pk": {"S": "limit"}, "sk": {"N": "1"}});

    let (update, n) = build("SET ", ", ", &|i, len| format!("{} = :v{i}", name(i, len)));
    let values: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!(":v{i}"), json!({"S": "x"})))
        .collect();
    let reply = s.call("UpdateItem", json!({"TableName": TABLE, "Key": key,
        "UpdateExpression": update, "ExpressionAttributeValues": values, "ReturnValues": "ALL_NEW"}));
    assert_ok("UpdateExpression of 4,096 bytes", &reply);
    let written = reply.json()["Attributes"].clone();
    assert_eq!(written[name(0, 50)]["S"], "x");
    s.record(written);

    let (condition, _) = build("", " AND ", &|i, len| {
        format!("attribute_not_exists({})", name(i, len))
    });
    let item = json!({"pk": {"S": "limit"}, "sk": {"N": "2"}});
    let reply = s.call(
        "PutItem",
        json!({"TableName": TABLE, "Item": item, "ConditionExpression": condition}),
    );
    assert_ok("ConditionExpression of 4,096 bytes", &reply);
    s.record(item);
    let reply = s.call("TransactWriteItems", json!({"TransactItems": [{"ConditionCheck": {
        "TableName": TABLE, "Key": {"pk": {"S": "limit"}, "sk": {"N": "2"}}, "ConditionExpression": condition}}]}));
    assert_ok("a transaction's ConditionExpression of 4,096 bytes", &reply);

    let (filter, n) = build("", " OR ", &|i, len| format!("{} = :v{i}", name(i, len)));
    let mut values: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!(":v{i}"), json!({"S": "x"})))
        .collect();
    values.insert(":pk".into(), json!({"S": "limit"}));
    let reply = s.call(
        "Query",
        json!({"TableName": TABLE, "KeyConditionExpression": "pk = :pk",
        "FilterExpression": filter, "ExpressionAttributeValues": values, "ConsistentRead": true}),
    );
    assert_ok("FilterExpression of 4,096 bytes", &reply);
    assert_eq!(
        reply.json()["Count"],
        1,
        "the filter matched the updated item only"
    );

    let (projection, _) = build("", ", ", &|i, len| name(i, len));
    let reply = s.call(
        "GetItem",
        json!({"TableName": TABLE, "Key": key,
        "ProjectionExpression": projection, "ConsistentRead": true}),
    );
    assert_ok("ProjectionExpression of 4,096 bytes", &reply);
    assert_eq!(reply.json()["Item"][name(0, 50)]["S"], "x");

    // The limit counts the expression as sent, not with names substituted.
    let aliases: Vec<String> = (0..30).map(|i| format!("#a{i}")).collect();
    let names: serde_json::Map<String, Value> = aliases
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), json!(format!("{}q{i}", "n".repeat(246)))))
        .collect();
    let reply = s.call(
        "GetItem",
        json!({"TableName": TABLE, "Key": key,
        "ProjectionExpression": aliases.join(", "), "ExpressionAttributeNames": names}),
    );
    assert_ok("aliases expanding past 4,096 bytes", &reply);
    s.finish();
}

/// The crash that started this suite: 4,096 `(` in a ConditionExpression,
/// FilterExpression or KeyConditionExpression overflowed a worker's stack
/// and aborted the process. Also through a transaction, a GSI query and
/// DeleteItem.
#[test]
fn regression_4096_open_parentheses_in_every_expression() {
    let s = Scenario::start();
    let parens = "(".repeat(4096);
    let key = json!({"pk": {"S": "seed-0"}, "sk": {"N": "0"}});
    let requests = [
        (
            "PutItem",
            json!({"TableName": TABLE, "Item": key, "ConditionExpression": parens}),
            "ConditionExpression",
        ),
        (
            "DeleteItem",
            json!({"TableName": TABLE, "Key": key, "ConditionExpression": parens}),
            "ConditionExpression",
        ),
        (
            "Scan",
            json!({"TableName": TABLE, "FilterExpression": parens}),
            "FilterExpression",
        ),
        (
            "Query",
            json!({"TableName": TABLE, "KeyConditionExpression": parens}),
            "KeyConditionExpression",
        ),
        (
            "Query",
            json!({"TableName": TABLE, "IndexName": GSI, "KeyConditionExpression": parens}),
            "KeyConditionExpression",
        ),
        (
            "Query",
            json!({"TableName": TABLE, "KeyConditionExpression": "pk = :p", "FilterExpression": parens,
                         "ExpressionAttributeValues": {":p": {"S": "seed-0"}}}),
            "FilterExpression",
        ),
        (
            "UpdateItem",
            json!({"TableName": TABLE, "Key": key, "UpdateExpression": format!("SET a = {}", &parens[8..])}),
            "UpdateExpression",
        ),
        (
            "GetItem",
            json!({"TableName": TABLE, "Key": key, "ProjectionExpression": parens}),
            "ProjectionExpression",
        ),
        (
            "TransactWriteItems",
            json!({"TransactItems": [{"ConditionCheck": {
            "TableName": TABLE, "Key": key, "ConditionExpression": parens}}]}),
            "ConditionExpression",
        ),
    ];
    for (operation, body, param) in requests {
        let reply = s.call(operation, body);
        let prefix = format!("Invalid {param}: ");
        assert_error(operation, &reply, 400, VALIDATION, Msg::Prefix(&prefix));
    }
    s.finish();
}

/// PartiQL statements nested as deep as the statement size allows.
#[test]
fn partiql_statements_nested_to_the_size_limit() {
    let s = Scenario::start();
    let select = "SELECT * FROM \"hostile\" WHERE ";
    let deep_parens = format!("{select}{}", "(".repeat(8192 - select.len()));
    let balanced = {
        let inner = "pk = 'a'";
        let k = (8192 - select.len() - inner.len()) / 2;
        format!("{select}{}{inner}{}", "(".repeat(k), ")".repeat(k))
    };
    let nots = format!(
        "{select}{}pk = 'a'",
        "NOT ".repeat((8192 - select.len() - 8) / 4)
    );
    let list = format!(
        "INSERT INTO \"hostile\" VALUE {{'pk': 'p', 'sk': 1, 'x': {}1{}}}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let map = format!(
        "INSERT INTO \"hostile\" VALUE {{'pk': 'p', 'sk': 1, 'x': {}1{}}}",
        "{'a': ".repeat(1000),
        "}".repeat(1000)
    );
    let ins = format!("{select}{}1{}", "a IN (".repeat(1150), ")".repeat(1150));
    let equals = format!("{select}a{}", " = 1".repeat((8192 - select.len() - 1) / 4));
    for statement in [deep_parens, balanced, nots, list, map, ins, equals] {
        let reply = s.call("ExecuteStatement", json!({"Statement": statement}));
        assert_error(&statement[..60], &reply, 400, VALIDATION, Msg::Any);
    }
    s.finish();
}

/// PartiQL WHERE clauses chaining ANDs and ORs to the statement size limit:
/// answered like any other statement.
#[test]
fn partiql_and_or_chains_to_the_size_limit() {
    let s = Scenario::start();
    let select = "SELECT * FROM \"hostile\" WHERE ";
    let chain = |op: &str| {
        let unit = format!("a = 1 {op} ");
        format!(
            "{select}{}a = 1",
            unit.repeat((8192 - select.len() - 5) / unit.len())
        )
    };
    for statement in [chain("AND"), chain("OR")] {
        let reply = s.call("ExecuteStatement", json!({"Statement": statement}));
        assert_eq!(reply.status, 200, "{}", reply.brief());
    }
    let update_chain = format!(
        "UPDATE \"hostile\" SET x = 1 WHERE pk = 'seed-0' AND sk = 0{}",
        " AND x = 1".repeat((8192 - 60) / 10)
    );
    let reply = s.call("ExecuteStatement", json!({"Statement": update_chain}));
    assert!(
        reply.status == 200 || reply.status == 400,
        "{}",
        reply.brief()
    );
    s.finish();
}

fn nested(levels: usize, map: bool) -> Value {
    let mut v = json!({"S": "leaf"});
    for _ in 0..levels {
        v = if map {
            json!({"M": {"n": v}})
        } else {
            json!({"L": [v]})
        };
    }
    v
}

/// Attribute values as deep as DynamoDB allows are stored and read back;
/// deeper ones, up to far past what a JSON parser will follow, are refused
/// with DynamoDB's errors.
#[test]
fn attribute_values_at_and_past_the_nesting_limit() {
    let mut s = Scenario::start();
    for map in [true, false] {
        let item = json!({"pk": {"S": "deep"}, "sk": {"N": if map { "1" } else { "2" }}, "v": nested(31, map)});
        assert_ok("31 levels", &s.put(item));
        for levels in [32, 33, 64, 100, 129, 130, 200, 1000] {
            let item = json!({"pk": {"S": "deep"}, "sk": {"N": "3"}, "v": nested(levels, map)});
            let reply = s.put(item);
            assert_eq!(reply.status, 400, "{levels} levels: {}", reply.brief());
            let kind = reply.error_type().unwrap_or_default();
            assert!(
                kind == VALIDATION || kind == SERIALIZATION,
                "{levels}: {}",
                reply.brief()
            );
            if levels <= 100 {
                assert_error(
                    &format!("{levels} levels"),
                    &reply,
                    400,
                    VALIDATION,
                    Msg::Exact(NESTING_MESSAGE),
                );
            }
        }
    }
    // Raw JSON nesting far past any parser's recursion limit.
    for depth in [10_000, 1_000_000] {
        let body = format!(
            "{{\"TableName\":\"{TABLE}\",\"Item\":{{\"pk\":{{\"S\":\"x\"}},\"sk\":{{\"N\":\"1\"}},\"v\":{}{}}}}}",
            "{\"L\":[".repeat(depth),
            "]}".repeat(depth)
        );
        let reply = call(s.addr(), "PutItem", body.as_bytes());
        assert_error(
            &format!("{depth} JSON levels"),
            &reply,
            400,
            SERIALIZATION,
            Msg::Any,
        );
        let brackets = "[".repeat(depth);
        let reply = call(s.addr(), "Scan", brackets.as_bytes());
        assert_error("unclosed brackets", &reply, 400, SERIALIZATION, Msg::Any);
    }
    // Deep values in every other place a value can arrive.
    let deep = nested(40, true);
    let key = json!({"pk": {"S": "seed-0"}, "sk": {"N": "0"}});
    let places = [
        (
            "UpdateItem",
            json!({"TableName": TABLE, "Key": key, "UpdateExpression": "SET a = :v",
                              "ExpressionAttributeValues": {":v": deep}}),
        ),
        (
            "Scan",
            json!({"TableName": TABLE, "FilterExpression": "a = :v",
                        "ExpressionAttributeValues": {":v": deep}}),
        ),
        (
            "ExecuteStatement",
            json!({"Statement": "SELECT * FROM \"hostile\" WHERE a = ?",
                                    "Parameters": [deep]}),
        ),
        (
            "BatchWriteItem",
            json!({"RequestItems": {TABLE: [{"PutRequest": {"Item":
            {"pk": {"S": "b"}, "sk": {"N": "1"}, "v": deep}}}]}}),
        ),
        (
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": {"TableName": TABLE, "Item":
            {"pk": {"S": "t"}, "sk": {"N": "1"}, "v": deep}}}]}),
        ),
    ];
    for (operation, body) in places {
        let reply = s.call(operation, body);
        assert_error(
            operation,
            &reply,
            400,
            VALIDATION,
            Msg::Contains("Nesting Levels have exceeded supported limits"),
        );
    }
    s.finish();
}

/// Numbers at and just past DynamoDB's 38 digits and its exponent range,
/// and strings no number parser should take long over.
#[test]
fn numbers_at_and_past_their_limits() {
    let mut s = Scenario::start();
    let accepted = [
        "9".repeat(38),
        format!("-{}", "9".repeat(38)),
        format!("0.{}", "1".repeat(38)),
        "9.9999999999999999999999999999999999999E+125".to_owned(),
        "1E-130".to_owned(),
        format!("{}{}", "1".repeat(38), "0".repeat(87)),
    ];
    for (i, n) in accepted.iter().enumerate() {
        let item = json!({"pk": {"S": "num"}, "sk": {"N": i.to_string()}, "v": {"N": n}});
        assert_ok(n, &s.put(item));
    }
    let refused = [
        ("9".repeat(39), "Attempting to store more than 38 significant digits in a Number"),
        ("1E+126".to_owned(), "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1E-131".to_owned(), "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        (format!("1{}", "0".repeat(200)), "Number overflow"),
        ("1".repeat(1 << 20), ""),
        (format!("1e{}", "9".repeat(5000)), ""),
        ("NaN".to_owned(), ""),
        ("Infinity".to_owned(), ""),
        ("0x10".to_owned(), ""),
        ("".to_owned(), ""),
        ("--1".to_owned(), ""),
        ("1e".to_owned(), ""),
    ];
    for (n, message) in &refused {
        let item = json!({"pk": {"S": "num"}, "sk": {"N": "100"}, "v": {"N": n}});
        let reply = s.put(item);
        let what = format!("N of {} chars", n.len());
        let msg = if message.is_empty() {
            Msg::Any
        } else {
            Msg::Contains(message)
        };
        assert_error(&what, &reply, 400, VALIDATION, msg);
    }
    // A key number past the limits, and arithmetic that overflows.
    let reply = s.call(
        "GetItem",
        json!({"TableName": TABLE, "Key": {"pk": {"S": "x"}, "sk": {"N": "9".repeat(39)}}}),
    );
    assert_error("key of 39 digits", &reply, 400, VALIDATION, Msg::Any);
    let reply = s.call("UpdateItem", json!({"TableName": TABLE,
        "Key": {"pk": {"S": "num"}, "sk": {"N": "3"}},
        "UpdateExpression": "SET v = v + :big",
        "ExpressionAttributeValues": {":big": {"N": "9.9999999999999999999999999999999999999E+125"}}}));
    assert_error(
        "overflowing addition",
        &reply,
        400,
        VALIDATION,
        Msg::Contains("Number overflow"),
    );
    s.finish();
}

/// Bodies at DynamoDB's 16 MiB limit are read and answered; past it, a bare
/// 413 — whether the length is declared, undeclared (chunked) or reached by
/// inflating a small gzip body.
#[test]
fn bodies_at_and_past_16_mib() {
    let s = Scenario::start();
    let limit = 16 * 1024 * 1024;
    let body_of = |len: usize| {
        let head = format!("{{\"TableName\":\"{TABLE}\",\"Item\":{{\"pk\":{{\"S\":\"big\"}},\"sk\":{{\"N\":\"1\"}},\"v\":{{\"S\":\"");
        let tail = "\"}}}";
        let pad = len - head.len() - tail.len();
        format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
    };
    let at_limit = body_of(limit);
    assert_eq!(at_limit.len(), limit);
    let reply = exchange(s.addr(), &request("PutItem", &at_limit, &[])).expect("an answer");
    assert_error(
        "16 MiB item",
        &reply,
        400,
        VALIDATION,
        Msg::Contains("Item size has exceeded the maximum allowed size"),
    );

    // The server may answer and close before it has read everything, so a
    // write that fails is not a failure; the answer is what counts.
    let past = body_of(limit + 1);
    let mut conn = Conn::open(s.addr()).expect("connect");
    let _ = conn.write(&request("PutItem", &past, &[]));
    let reply = conn.read_reply().expect("an answer");
    assert_eq!(reply.status, 413, "{}", reply.brief());

    // A declared length past the limit is refused before the body is sent.
    let mut head = request("PutItem", b"", &[]);
    let text = String::from_utf8(head.clone()).unwrap();
    head = text
        .replace(
            "Content-Length: 0",
            &format!("Content-Length: {}", limit + 1),
        )
        .into_bytes();
    let reply = exchange(s.addr(), &head).expect("an answer without the body");
    assert_eq!(reply.status, 413, "{}", reply.brief());

    // Chunked, no declared length.
    let chunked = {
        let text = String::from_utf8(request("PutItem", b"", &[("Transfer-Encoding", "chunked")]))
            .unwrap();
        let mut bytes = text.replace("Content-Length: 0\r\n", "").into_bytes();
        for chunk in past.chunks(1 << 20) {
            bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
        bytes
    };
    let mut conn = Conn::open(s.addr()).expect("connect");
    // The server may answer and close before it has read everything.
    let _ = conn.write(&chunked);
    let reply = conn.read_reply().expect("an answer");
    assert_eq!(reply.status, 413, "{}", reply.brief());

    // A gzip bomb: 64 MiB of zeros in a few tens of KB.
    let bomb = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..64 {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap()
    };
    let mut conn = Conn::open(s.addr()).expect("connect");
    let _ = conn.write(&request("PutItem", &bomb, &[("Content-Encoding", "gzip")]));
    let reply = conn.read_reply().expect("an answer");
    assert_eq!(reply.status, 413, "{}", reply.brief());
    s.finish();
}

/// Bodies that are not JSON, not UTF-8, or JSON of the wrong shape.
#[test]
fn malformed_bodies() {
    let s = Scenario::start();
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"{{{{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"TableName\"".to_vec(),
        b"{\"TableName\": \"hostile\", \"Key\": {\"pk\": {\"S\": \"\xff\xfe\"}, \"sk\": {\"N\": \"1\"}}}".to_vec(),
        b"\xff\xfe\xfd".to_vec(),
        b"{\"TableName\": \"hostile\"}\x00".to_vec(),
        b"{\"TableName\": \"hostile\", \"Key\": {\"pk\": {\"S\": \"\\ud800\"}, \"sk\": {\"N\": \"1\"}}}".to_vec(),
        b"{\"TableName\": 1e999999}".to_vec(),
        b"{\"TableName\": \"hostile\", \"Key\": {\"pk\": {\"B\": \"!!!!\"}, \"sk\": {\"N\": \"1\"}}}".to_vec(),
        b"{\"TableName\": \"hostile\", \"Key\": {\"pk\": {\"S\": 1}, \"sk\": {\"N\": \"1\"}}}".to_vec(),
        b"{\"TableName\": \"hostile\", \"Key\": {\"pk\": {\"SS\": {}}, \"sk\": {\"N\": \"1\"}}}".to_vec(),
    ];
    for body in cases {
        let reply = call(s.addr(), "GetItem", &body);
        assert_eq!(
            reply.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            reply.brief()
        );
        let kind = reply.error_type().unwrap_or_default();
        assert!(
            kind == SERIALIZATION || kind == VALIDATION,
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            reply.brief()
        );
    }
    s.finish();
}

/// Key values of types that cannot be keys, wherever a key can arrive.
#[test]
fn key_values_of_the_wrong_type() {
    let s = Scenario::start();
    let bad_keys = [
        json!({"pk": {"BOOL": true}, "sk": {"N": "1"}}),
        json!({"pk": {"S": "a"}, "sk": {"BOOL": false}}),
        json!({"pk": {"NULL": true}, "sk": {"N": "1"}}),
        json!({"pk": {"L": []}, "sk": {"N": "1"}}),
        json!({"pk": {"M": {}}, "sk": {"N": "1"}}),
        json!({"pk": {"SS": ["a"]}, "sk": {"N": "1"}}),
        json!({"pk": {"S": "a"}, "sk": {"S": "1"}}),
    ];
    for key in bad_keys {
        let requests = [
            ("GetItem", json!({"TableName": TABLE, "Key": key})),
            ("DeleteItem", json!({"TableName": TABLE, "Key": key})),
            (
                "UpdateItem",
                json!({"TableName": TABLE, "Key": key, "UpdateExpression": "SET a = :v",
                                  "ExpressionAttributeValues": {":v": {"S": "x"}}}),
            ),
            (
                "Query",
                json!({"TableName": TABLE, "KeyConditionExpression": "pk = :v",
                             "ExpressionAttributeValues": {":v": key["pk"]}}),
            ),
            (
                "Scan",
                json!({"TableName": TABLE, "ExclusiveStartKey": key}),
            ),
            (
                "Query",
                json!({"TableName": TABLE, "KeyConditionExpression": "pk = :v",
                             "ExpressionAttributeValues": {":v": {"S": "seed-0"}}, "ExclusiveStartKey": key}),
            ),
            (
                "Query",
                json!({"TableName": TABLE, "IndexName": GSI, "KeyConditionExpression": "g = :v",
                             "ExpressionAttributeValues": {":v": {"S": "g0"}},
                             "ExclusiveStartKey": {"g": key["pk"], "pk": key["pk"], "sk": key["sk"]}}),
            ),
            (
                "BatchGetItem",
                json!({"RequestItems": {TABLE: {"Keys": [key]}}}),
            ),
            (
                "TransactGetItems",
                json!({"TransactItems": [{"Get": {"TableName": TABLE, "Key": key}}]}),
            ),
            ("PutItem", json!({"TableName": TABLE, "Item": key})),
            (
                "ExecuteStatement",
                json!({"Statement": "SELECT * FROM \"hostile\" WHERE pk = ? AND sk = ?",
                                        "Parameters": [key["pk"], key["sk"]]}),
            ),
        ];
        for (operation, body) in requests {
            let reply = s.call(operation, body.clone());
            if operation == "Query" && reply.status == 200 {
                // A wrong-typed partition key value in a key condition simply
                // matches nothing only if DynamoDB says so; it must not crash.
                continue;
            }
            assert_eq!(reply.status, 400, "{operation} {body}: {}", reply.brief());
            // A transaction reports a bad key as its entry's cancellation
            // reason, as DynamoDB does.
            let want = if operation == "TransactGetItems" {
                "TransactionCanceledException"
            } else {
                VALIDATION
            };
            assert_eq!(
                reply.error_type().as_deref(),
                Some(want),
                "{operation} {body}: {}",
                reply.brief()
            );
        }
    }
    s.finish();
}

/// Opaque tokens the server handed out, forged, edited, truncated or
/// oversized: DynamoDB's error for the parameter, never a dropped
/// connection. The PartiQL NextToken whose key was edited to a BOOL reached
/// a panic in the key encoder before tokens were authenticated.
/// `token` with its middle character changed: still base64, no longer what
/// the server sealed.
fn flip_middle(token: &str) -> String {
    let mut flipped = token.to_owned().into_bytes();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    String::from_utf8(flipped).unwrap()
}

/// Sends each of `forged` (a `what`) with `send`: each is a
/// ValidationException, the first `exact_count` of them with `exact` as
/// their message.
fn expect_refused<const N: usize>(
    what: &str,
    forged: [String; N],
    exact_count: usize,
    exact: &str,
    send: impl Fn(String) -> Reply,
) {
    for (n, bad) in forged.into_iter().enumerate() {
        let len = bad.len();
        let reply = send(bad);
        let msg = if n < exact_count {
            Msg::Exact(exact)
        } else {
            Msg::Any
        };
        assert_error(
            &format!("{what} of {len} chars"),
            &reply,
            400,
            VALIDATION,
            msg,
        );
    }
}

#[test]
fn regression_forged_partiql_next_token_with_a_bool_key() {
    use base64::Engine as _;
    let s = Scenario::start();
    let statement = "SELECT * FROM \"hostile\" WHERE pk = 'seed-0'";
    let first = s.call(
        "ExecuteStatement",
        json!({"Statement": statement, "Limit": 2}),
    );
    assert_ok("first page", &first);
    let token = first.json()["NextToken"]
        .as_str()
        .expect("a NextToken")
        .to_owned();

    // The edit that reached the panic: the resume key's values swapped for
    // BOOLs inside the token's own encoding, whatever else it carries.
    let b64 = base64::engine::general_purpose::STANDARD;
    let bool_key = b64.decode(&token).ok().map(|bytes| {
        let text = String::from_utf8_lossy(&bytes)
            .replace("{\"S\":\"seed-0\"}", "{\"BOOL\":true}")
            .replace("{\"N\":\"1\"}", "{\"BOOL\":true}");
        b64.encode(text)
    });
    let old_style = bool_key.unwrap_or_else(|| {
        b64.encode(
            json!({"h": "0", "p": 0, "k": {"pk": {"BOOL": true}, "sk": {"BOOL": true}}})
                .to_string(),
        )
    });
    let forged = [
        old_style,
        flip_middle(&token),
        token[..token.len() / 2].to_owned(),
        format!("{token}{token}"),
        "not base64 at all ~~~".to_owned(),
        String::new(),
        "A".repeat(100_000),
    ];
    // Edited, cut and made-up tokens are unreadable; the empty and the
    // oversized ones break the parameter's length constraint first.
    expect_refused("NextToken", forged, 5, "Invalid NextToken", |bad| {
        s.call(
            "ExecuteStatement",
            json!({"Statement": statement, "NextToken": bad}),
        )
    });
    // The genuine token still works.
    let second = s.call(
        "ExecuteStatement",
        json!({"Statement": statement, "NextToken": token}),
    );
    assert_ok("second page", &second);
    s.finish();
}

#[test]
fn forged_shard_iterators() {
    let s = Scenario::start();
    let described = s.call("DescribeStream", json!({"StreamArn": s.stream_arn}));
    assert_ok("DescribeStream", &described);
    let shard = described.json()["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .expect("a shard")
        .to_owned();
    let iterator = s.call(
        "GetShardIterator",
        json!({"StreamArn": s.stream_arn, "ShardId": shard,
                                                      "ShardIteratorType": "TRIM_HORIZON"}),
    );
    assert_ok("GetShardIterator", &iterator);
    let token = iterator.json()["ShardIterator"]
        .as_str()
        .expect("an iterator")
        .to_owned();
    let forged = [
        flip_middle(&token),
        token[..token.len() / 2].to_owned(),
        "garbage".to_owned(),
        "A".repeat(100_000),
    ];
    expect_refused("iterator", forged, 3, "Invalid ShardIterator", |bad| {
        s.call("GetRecords", json!({"ShardIterator": bad}))
    });
    let reply = s.call("GetRecords", json!({"ShardIterator": token}));
    assert_ok("the genuine iterator", &reply);
    for shard_id in [
        "shardId-",
        &"x".repeat(10_000),
        "shardId-00000000000000000000-\u{0}",
    ] {
        let reply = s.call(
            "GetShardIterator",
            json!({"StreamArn": s.stream_arn, "ShardId": shard_id,
                                                       "ShardIteratorType": "TRIM_HORIZON"}),
        );
        assert_eq!(
            reply.status,
            400,
            "shard id of {} chars: {}",
            shard_id.len(),
            reply.brief()
        );
    }
    s.finish();
}

/// HTTP-level abuse: wrong content types and targets, cut-off and
/// duplicated headers, oversized heads, garbage, pipelining.
#[test]
fn protocol_abuse() {
    let s = Scenario::start();
    let addr = s.addr();
    let body = json!({"TableName": TABLE}).to_string();

    let reply = exchange(addr, &request("DescribeTable", body.as_bytes(), &[])).unwrap();
    assert_ok("a plain request", &reply);

    // The wrong content type.
    let text = String::from_utf8(request("DescribeTable", body.as_bytes(), &[])).unwrap();
    let wrong = text.replace("application/x-amz-json-1.0", "text/plain");
    let reply = exchange(addr, wrong.as_bytes()).unwrap();
    assert!(
        reply.status >= 400 && reply.status < 500,
        "{}",
        reply.brief()
    );

    // Unknown and missing targets.
    let unknown = text.replace("DynamoDB_20120810.DescribeTable", "DynamoDB_20120810.Nope");
    let reply = exchange(addr, unknown.as_bytes()).unwrap();
    assert_error(
        "unknown target",
        &reply,
        400,
        "UnknownOperationException",
        Msg::Any,
    );
    let missing = text.replace("X-Amz-Target: DynamoDB_20120810.DescribeTable\r\n", "");
    let reply = exchange(addr, missing.as_bytes()).unwrap();
    assert_error(
        "missing target",
        &reply,
        400,
        "UnknownOperationException",
        Msg::Any,
    );

    // Duplicated headers: two lengths that disagree are a framing error.
    let two_lengths = text.replace("Content-Length:", "Content-Length: 3\r\nContent-Length:");
    let reply = exchange(addr, two_lengths.as_bytes());
    assert!(
        reply.map_or(true, |r| r.status == 400),
        "conflicting lengths"
    );
    for header in [
        "X-Amz-Target: DynamoDB_20120810.PutItem",
        "Authorization: AWS4-HMAC-SHA256 x",
        "Content-Type: text/plain",
        "Content-Encoding: gzip",
    ] {
        let twice = text.replace(
            "Host: localhost\r\n",
            &format!("Host: localhost\r\n{header}\r\n"),
        );
        let reply = exchange(addr, twice.as_bytes()).unwrap_or_else(|e| panic!("{header}: {e}"));
        assert!(
            reply.status >= 200 && reply.status < 500,
            "{header}: {}",
            reply.brief()
        );
    }

    // Oversized heads.
    let long_header = text.replace(
        "Host: localhost\r\n",
        &format!("Host: localhost\r\nX-Big: {}\r\n", "a".repeat(1 << 20)),
    );
    let reply = exchange(addr, long_header.as_bytes());
    assert!(
        reply.map_or(true, |r| r.status == 431 || r.status == 400),
        "a 1 MiB header"
    );
    let many: String = (0..5000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many_headers = text.replace("Host: localhost\r\n", &format!("Host: localhost\r\n{many}"));
    let reply = exchange(addr, many_headers.as_bytes());
    assert!(
        reply.map_or(true, |r| r.status == 431 || r.status == 400),
        "5000 headers"
    );

    // Cut off mid-head and mid-body, then gone.
    for cut in [10, text.find("\r\n\r\n").unwrap(), text.len() - 5] {
        let mut conn = Conn::open(addr).unwrap();
        conn.write(&text.as_bytes()[..cut]).unwrap();
        conn.shutdown_write().unwrap();
        let _ = conn.read_reply();
    }

    // Garbage and odd request lines.
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /../../etc/passwd HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"FOO * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\r\n\r\n\r\n\r\n",
        &[0u8; 4096],
    ] {
        // Whatever the server makes of it, the end of the stream ends it.
        let mut conn = Conn::open(addr).unwrap();
        let _ = conn.write(junk);
        let _ = conn.shutdown_write();
        let _ = conn.read_reply();
    }

    // Pipelining: 200 requests in one write, 200 answers in order.
    let mut conn = Conn::open(addr).unwrap();
    let one = request("DescribeTable", body.as_bytes(), &[]);
    let mut all = Vec::new();
    for _ in 0..200 {
        all.extend_from_slice(&one);
    }
    conn.write(&all).unwrap();
    for i in 0..200 {
        let reply = conn
            .read_reply()
            .unwrap_or_else(|e| panic!("pipelined answer {i}: {e}"));
        assert_ok("pipelined", &reply);
    }
    s.finish();
}

/// Many clients at once, each mixing acknowledged writes with hostile
/// requests on keep-alive connections: every request is answered, every
/// acknowledged write is kept.
#[test]
fn concurrent_flood_of_hostile_and_valid_requests() {
    let mut s = Scenario::start();
    let addr = s.addr();
    let workers: Vec<_> = (0..24)
        .map(|w| {
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr).expect("connect");
                let mut acked = Vec::new();
                for i in 0..120 {
                    let item = json!({"pk": {"S": format!("flood-{w}")}, "sk": {"N": i.to_string()},
                                      "g": {"S": "g1"}, "v": {"S": "x".repeat(i * 7)}});
                    let (operation, body) = match i % 6 {
                        0 | 1 => ("PutItem", json!({"TableName": TABLE, "Item": item.clone()}).to_string()),
                        2 => ("Scan", json!({"TableName": TABLE, "FilterExpression": "(".repeat(4096)}).to_string()),
                        3 => ("PutItem", json!({"TableName": TABLE, "Item": {"pk": {"S": "x"}, "sk": {"N": "1"},
                                                "v": nested(40, i % 2 == 0)}}).to_string()),
                        4 => ("Query", json!({"TableName": TABLE, "IndexName": GSI,
                                              "KeyConditionExpression": "g = :g",
                                              "ExpressionAttributeValues": {":g": {"S": "g1"}}, "Limit": 5}).to_string()),
                        _ => ("ExecuteStatement", "{\"Statement\": \u{1}".to_owned()),
                    };
                    let reply = conn.call(operation, body.as_bytes()).unwrap_or_else(|e| {
                        panic!("worker {w} request {i} ({operation}): no answer: {e}")
                    });
                    match i % 6 {
                        0 | 1 => {
                            assert_ok("flood PutItem", &reply);
                            acked.push(item);
                        }
                        4 => assert_ok("flood Query", &reply),
                        _ => assert_eq!(reply.status, 400, "{operation}: {}", reply.brief()),
                    }
                }
                acked
            })
        })
        .collect();
    for worker in workers {
        for item in worker.join().expect("a flood worker") {
            s.record(item);
        }
    }
    s.finish();
}

/// Hundreds of idle connections and half-sent requests do not stop the
/// server from answering a new client.
#[test]
fn idle_and_half_open_connections_do_not_starve_others() {
    let s = Scenario::start();
    let addr = s.addr();
    let mut idle = Vec::new();
    for i in 0..400 {
        let Ok(mut conn) = Conn::open(addr) else {
            break;
        };
        if i % 2 == 0 {
            // Half a request head, then silence.
            let _ = conn.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Len");
        } else {
            // A whole head promising a body that never comes.
            let head = String::from_utf8(request("PutItem", b"", &[])).unwrap();
            let _ = conn.write(
                head.replace("Content-Length: 0", "Content-Length: 100")
                    .as_bytes(),
            );
        }
        idle.push(conn);
    }
    let reply = exchange(
        addr,
        &request(
            "DescribeTable",
            json!({"TableName": TABLE}).to_string().as_bytes(),
            &[],
        ),
    )
    .expect("a new client is answered");
    assert_ok("DescribeTable beside 400 idle connections", &reply);
    drop(idle);
    std::thread::sleep(Duration::from_millis(100));
    s.finish();
}

/// Slow clients: a head or a body trickled a byte at a time is cut off once
/// the configured time is up, and the server meanwhile answers others.
#[test]
fn slow_clients_are_timed_out() {
    let s = Scenario::start_with(&["--header-read-timeout", "2", "--body-read-timeout", "2"]);
    let addr = s.addr();
    let text = String::from_utf8(request(
        "DescribeTable",
        json!({"TableName": TABLE}).to_string().as_bytes(),
        &[],
    ))
    .unwrap();
    let split = text.find("\r\n\r\n").unwrap() + 4;
    let (head, body) = text.as_bytes().split_at(split);
    for (label, prefix, trickle) in [("head", &b""[..], head), ("body", head, body)] {
        let mut conn = Conn::open(addr).unwrap();
        conn.write(prefix).unwrap();
        let started = std::time::Instant::now();
        let mut cut_off = false;
        for byte in trickle.iter().cycle().take(10_000) {
            if conn.write(std::slice::from_ref(byte)).is_err() {
                cut_off = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            if started.elapsed() > Duration::from_secs(30) {
                break;
            }
        }
        assert!(
            cut_off || conn.closed_by_server(Duration::from_secs(10)),
            "a trickled {label} was not cut off"
        );
        let reply = exchange(addr, text.as_bytes()).expect("others are still answered");
        assert_ok("DescribeTable after a slow client", &reply);
    }
    s.finish();
}

/// More connections and requests at once than the server is configured to
/// hold: the excess gets DynamoDB's throttling answer at once (or, for
/// connections, that answer and a close), never a hang or a crash, and
/// every write that was acknowledged is kept.
#[test]
fn floods_past_the_configured_limits_are_throttled() {
    let mut s = Scenario::start_with(&[
        "--max-connections",
        "16",
        "--max-requests-in-flight",
        "4",
        "--max-requests-in-flight-per-account",
        "3",
    ]);
    let addr = s.addr();

    // Connections: hold 16, each proven to hold a slot by an answered
    // request (a connection the server is still closing may hold one for a
    // moment, so a new connection can be refused even below the limit),
    // then 40 more each send one request.
    let mut held: Vec<Conn> = Vec::new();
    let mut tries = 0;
    while held.len() < 16 {
        tries += 1;
        assert!(tries < 1000, "could not hold 16 connections");
        let Ok(mut conn) = Conn::open(addr) else {
            continue;
        };
        match conn.call("ListTables", b"{}") {
            Ok(reply) if reply.status == 200 => held.push(conn),
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let mut throttled = 0;
    for _ in 0..40 {
        let Ok(mut conn) = Conn::open(addr) else {
            continue; // closed at accept once too many refusals are under way
        };
        // Closed without an answer is allowed past the refusal cap.
        if let Ok(reply) = conn.call("ListTables", b"{}") {
            assert_error(
                "a connection past the limit",
                &reply,
                400,
                "RequestLimitExceeded",
                Msg::Prefix("Throughput exceeds the current throughput limit for your account."),
            );
            throttled += 1;
        }
    }
    assert!(throttled > 0, "no connection past the limit was answered");
    drop(held);
    std::thread::sleep(Duration::from_millis(200));

    // Requests: 24 clients writing at once through at most 4 slots.
    let workers: Vec<_> = (0..24)
        .map(|w| {
            std::thread::spawn(move || {
                let mut outcome = (Vec::new(), 0usize);
                for i in 0..30 {
                    let Ok(mut conn) = Conn::open(addr) else { continue };
                    let item = json!({"pk": {"S": format!("limited-{w}")}, "sk": {"N": i.to_string()},
                                      "v": {"S": "x".repeat(2000)}});
                    let body = json!({"TableName": TABLE, "Item": item.clone()}).to_string();
                    let Ok(reply) = conn.call("PutItem", body.as_bytes()) else { continue };
                    match reply.status {
                        200 => outcome.0.push(item),
                        400 => {
                            assert_eq!(reply.error_type().as_deref(), Some("RequestLimitExceeded"), "{}", reply.brief());
                            outcome.1 += 1;
                        }
                        _ => panic!("unexpected answer under load: {}", reply.brief()),
                    }
                }
                outcome
            })
        })
        .collect();
    let mut acked = 0;
    for worker in workers {
        let (items, _throttled) = worker.join().expect("a worker");
        acked += items.len();
        for item in items {
            s.record(item);
        }
    }
    assert!(acked > 0, "nothing got through the limits");
    s.finish();
}
