//! One adversarial scenario: a durable server (the real binary), a table with
//! a global secondary index and a stream, a ledger of every write the server
//! acknowledged, and the closing checks every scenario ends with: the server
//! is still up and serving, it logged no panic or stack overflow, and every
//! acknowledged write is there — before and after a SIGKILL and restart.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{json, Value};

use super::process::ServerProcess;
use super::wire::{call, Reply};

pub const TABLE: &str = "hostile";
pub const GSI: &str = "by_g";

/// What an error answer must say.
#[derive(Debug, Clone, Copy)]
pub enum Msg<'a> {
    Exact(&'a str),
    Prefix(&'a str),
    Contains(&'a str),
    /// Any message (or none): only the type and status are pinned.
    Any,
}

/// Asserts that `reply` is the error `error_type` with HTTP `status` and a
/// message as `msg` says.
#[track_caller]
pub fn assert_error(what: &str, reply: &Reply, status: u16, error_type: &str, msg: Msg<'_>) {
    assert_eq!(reply.status, status, "{what}: {}", reply.brief());
    assert!(
        reply
            .header("x-amzn-RequestId")
            .is_some_and(|id| !id.is_empty()),
        "{what}: an error answer without a request id"
    );
    assert_eq!(
        reply.error_type().as_deref(),
        Some(error_type),
        "{what}: {}",
        reply.brief()
    );
    let message = reply.message();
    let ok = match msg {
        Msg::Exact(m) => message == m,
        Msg::Prefix(p) => message.starts_with(p),
        Msg::Contains(c) => message.contains(c),
        Msg::Any => true,
    };
    assert!(ok, "{what}: message {message:?} is not {msg:?}");
}

#[track_caller]
pub fn assert_ok(what: &str, reply: &Reply) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.brief());
}

pub struct Scenario {
    dir: tempfile::TempDir,
    args: Vec<String>,
    pub server: ServerProcess,
    /// Every item the server acknowledged, by (pk, sk), as last written.
    ledger: BTreeMap<(String, String), Value>,
    pub stream_arn: String,
}

impl Scenario {
    pub fn start() -> Scenario {
        Scenario::start_with(&[])
    }

    /// A fresh durable server started with `args`, its table, and 40
    /// acknowledged items.
    pub fn start_with(args: &[&str]) -> Scenario {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = ServerProcess::start_with(dir.path(), args);
        let mut scenario = Scenario {
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
            server,
            ledger: BTreeMap::new(),
            stream_arn: String::new(),
        };
        let created = scenario.call(
            "CreateTable",
            json!({
                "TableName": TABLE,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "g", "AttributeType": "S"}
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"}
                ],
                "GlobalSecondaryIndexes": [{
                    "IndexName": GSI,
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            }),
        );
        assert_ok("CreateTable", &created);
        scenario.stream_arn = created.json()["TableDescription"]["LatestStreamArn"]
            .as_str()
            .expect("a stream ARN")
            .to_owned();
        for i in 0..40 {
            let reply = scenario.put(json!({
                "pk": {"S": format!("seed-{}", i % 4)},
                "sk": {"N": i.to_string()},
                "g": {"S": format!("g{}", i % 3)},
                "n": {"N": "1"},
                "doc": {"M": {"a": {"L": [{"S": "x"}, {"N": "2"}]}}}
            }));
            assert_ok("seed PutItem", &reply);
        }
        scenario
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Sends an API request with a JSON body.
    pub fn call(&self, operation: &str, body: Value) -> Reply {
        call(self.addr(), operation, body.to_string().as_bytes())
    }

    /// PutItem of `item` into the table, recorded in the ledger if the
    /// server acknowledges it.
    pub fn put(&mut self, item: Value) -> Reply {
        let reply = self.call("PutItem", json!({"TableName": TABLE, "Item": item}));
        if reply.status == 200 {
            self.record(item);
        }
        reply
    }

    /// Records an item the server acknowledged.
    pub fn record(&mut self, item: Value) {
        let key = (
            item["pk"]["S"].as_str().unwrap_or_default().to_owned(),
            item["sk"]["N"].as_str().unwrap_or_default().to_owned(),
        );
        self.ledger.insert(key, item);
    }

    /// The closing checks: still up, no panic logged, every acknowledged
    /// write readable; then the same after SIGKILL and a restart.
    pub fn finish(mut self) {
        self.check_alive("at the end");
        self.check_ledger("before the restart");
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.server.sigkill();
        self.server = ServerProcess::start_with(self.dir.path(), &args);
        self.check_alive("after the restart");
        self.check_ledger("after the restart");
    }

    pub fn check_alive(&mut self, when: &str) {
        assert!(
            self.server.is_running(),
            "the server died {when}; its log:\n{}",
            self.server.log().join("\n")
        );
        let log = self.server.log();
        let bad: Vec<&String> = log
            .iter()
            .filter(|l| l.contains("overflowed its stack") || l.contains("panicked at"))
            .collect();
        assert!(bad.is_empty(), "the server logged {when}: {bad:?}");
        let reply = self.call("ListTables", json!({}));
        assert_ok(&format!("ListTables {when}"), &reply);
    }

    fn check_ledger(&self, when: &str) {
        for ((pk, sk), item) in &self.ledger {
            let reply = self.call(
                "GetItem",
                json!({
                    "TableName": TABLE,
                    "Key": {"pk": {"S": pk}, "sk": {"N": sk}},
                    "ConsistentRead": true
                }),
            );
            assert_ok(&format!("GetItem {pk}/{sk} {when}"), &reply);
            let stored = reply.json()["Item"].clone();
            assert!(
                same_value(&stored, item),
                "acknowledged item {pk}/{sk} {when}: stored {stored}, written {item}"
            );
        }
    }
}

/// Whether two wire-form items or values are equal, numbers compared by
/// value (DynamoDB answers a number in its own canonical spelling).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.get(k).is_some_and(|w| match (k.as_str(), v, w) {
                        ("N", Value::String(p), Value::String(q)) => decimal(p) == decimal(q),
                        ("NS", Value::Array(p), Value::Array(q)) => {
                            let mut p: Vec<_> = p
                                .iter()
                                .map(|n| decimal(n.as_str().unwrap_or("")))
                                .collect();
                            let mut q: Vec<_> = q
                                .iter()
                                .map(|n| decimal(n.as_str().unwrap_or("")))
                                .collect();
                            p.sort();
                            q.sort();
                            p == q
                        }
                        _ => same_value(v, w),
                    })
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w))
        }
        _ => a == b,
    }
}

/// A decimal string as (negative, significant digits, exponent of the last
/// digit): equal numbers give equal triples.
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let mut exponent = exponent - frac.len() as i64;
    let trimmed = digits.trim_start_matches('0');
    let kept = trimmed.trim_end_matches('0');
    exponent += (trimmed.len() - kept.len()) as i64;
    if kept.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, kept.to_owned(), exponent)
}
