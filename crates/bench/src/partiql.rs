//! The PartiQL workloads: `ExecuteStatement` requests asking what a plain
//! workload asks (GetItem, PutItem of a new item, UpdateItem, a 100-item
//! Query), their bodies, how their answers are judged, the fresh keys of
//! the inserts, and the probe that finds out whether a target runs them at
//! all.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::client::{Conn, Reply};
use crate::dataset::{Dataset, PrepareError, Shape, WINDOW};
use crate::target::Target;
use crate::wire;
use crate::workload::{push_key, Outcome, Rng, Workload, FILLER};

/// The statement each PartiQL workload sends, with `?` for its parameters.
/// The inserted item and the updated attributes are those of `put` and
/// `update`, so that each pair differs only in how the request is written.
pub fn statement(workload: Workload) -> &'static str {
    match workload {
        Workload::PqSelect => r#"SELECT * FROM "bench" WHERE pk = ?"#,
        Workload::PqInsert => {
            r#"INSERT INTO "bench" VALUE {'pk': ?, 'c': ?, 'v': ?, 't': ?, 'data': ?}"#
        }
        Workload::PqUpdate => r#"UPDATE "bench" SET c = c + ? SET t = ? WHERE pk = ?"#,
        Workload::PqQuery100 => {
            r#"SELECT * FROM "bench_query" WHERE pk = ? AND sk BETWEEN ? AND ?"#
        }
        _ => "",
    }
}

/// How many `pq-insert` and `put-fresh` requests the run has drawn a key
/// for: each key is
/// drawn once over the whole run (every cell, warm-ups and targets
/// included), since INSERT of an existing key is a
/// `DuplicateItemException`.
static FRESH_KEYS_DRAWN: AtomicU64 = AtomicU64::new(0);

/// First fresh key: above every pre-loaded key (`--items` is at most ten
/// million), and with as many digits.
const FRESH_BASE: u64 = 10_000_000;
/// Fresh keys are `FRESH_BASE + (n × FRESH_STRIDE mod FRESH_SPACE)` for the
/// n-th insert: multiplying by an odd number modulo a power of two is a
/// bijection, so no key repeats in 2^29 inserts; the stride is the odd
/// number nearest 2^29 ÷ φ, so successive keys land all over the key
/// order, as `put`'s random keys do, rather than each after the last (an
/// append, cheaper for a B-tree).
const FRESH_SPACE: u64 = 1 << 29;
const FRESH_STRIDE: u64 = 331_804_471;

/// A key no request of this run has inserted, outside the pre-loaded ones.
pub fn fresh_key() -> u64 {
    let n = FRESH_KEYS_DRAWN.fetch_add(1, Ordering::Relaxed);
    FRESH_BASE + n.wrapping_mul(FRESH_STRIDE) % FRESH_SPACE
}

/// The `ExecuteStatement` body of `workload` on `key` (an item number, or
/// for `pq-query-100` a partition and window numbered as `query-100`'s);
/// `seq` varies the written values as in the plain workloads.
pub fn body(workload: Workload, key: u64, seq: u64, shape: &Shape) -> Bytes {
    let mut s = String::with_capacity(400);
    s.push_str(r#"{"Statement":"#);
    s.push_str(&serde_json::Value::from(statement(workload)).to_string());
    s.push_str(r#","Parameters":["#);
    match workload {
        Workload::PqSelect => push_s(&mut s, |s| push_key(s, key)),
        Workload::PqInsert => {
            push_s(&mut s, |s| push_key(s, key));
            let _ = write!(
                s,
                r#",{{"N":"0"}},{{"N":"1"}},{{"S":"p{seq:016}"}},{{"S":"{FILLER}"}}"#
            );
        }
        Workload::PqUpdate => {
            let _ = write!(s, r#"{{"N":"1"}},{{"S":"u{seq:016}"}},"#);
            push_s(&mut s, |s| push_key(s, key));
        }
        Workload::PqQuery100 => {
            let windows = shape.query_partition_items - WINDOW + 1;
            let (partition, start) = (key / windows, key % windows);
            let _ = write!(
                s,
                r#"{{"S":"{}"}},{{"S":"{}"}},{{"S":"{}"}}"#,
                Dataset::partition_key(partition),
                Dataset::sort_key(start),
                Dataset::sort_key(start + WINDOW - 1),
            );
        }
        _ => {}
    }
    s.push_str("]}");
    Bytes::from(s)
}

/// `{"S":"…"}` with the string written by `value`.
fn push_s(s: &mut String, value: impl FnOnce(&mut String)) {
    s.push_str(r#"{"S":""#);
    value(s);
    s.push_str(r#""}"#);
}

/// Items in an `ExecuteStatement` answer: every item of the benchmark's
/// tables has exactly one attribute `pk`, and no other name or value
/// contains `pk":`. Counted, not parsed, like the other answers (see
/// `wire`); the needle starts with a byte rarer than `"` in these bodies,
/// which keeps the count of a 100-item answer to a few µs.
fn items(body: &[u8]) -> u64 {
    wire::occurrences(body, b"pk\":")
}

/// Judges a 200 answer: a SELECT must return exactly the items the plain
/// request would (1, or [`WINDOW`] for `pq-query-100`; a `NextToken` is
/// not looked for, as it would cost a scan of the whole answer); the
/// writes return nothing to check.
pub fn check(workload: Workload, reply: &Reply) -> Outcome {
    let expected = match workload {
        Workload::PqSelect => 1,
        Workload::PqQuery100 => WINDOW,
        _ => return Outcome::Ok { items: 1 },
    };
    if wire::find(&reply.body, b"\"Items\":").is_none() {
        return Outcome::error("200 ExecuteStatement without Items", reply);
    }
    match items(&reply.body) {
        n if n == expected => Outcome::Ok { items: n },
        n => Outcome::error(
            format!("200 ExecuteStatement with {n} items, not {expected}"),
            reply,
        ),
    }
}

/// Sends one request of `workload` and judges it: a target that does not
/// know `ExecuteStatement`, or answers anything but the expected result,
/// does not run the workload (its cells are reported as unsupported with
/// the answer); a transport failure is a failure.
pub async fn probe(target: &Target, workload: Workload, shape: &Shape) -> Result<(), PrepareError> {
    let mut conn = Conn::open(target).await?;
    let mut keys = Vec::with_capacity(1);
    workload.draw_keys(&mut Rng::new(0x5eed), shape, &mut keys);
    let reply = conn
        .call(workload.operation(), workload.body(&keys, 0, shape))
        .await?;
    match workload.check(&reply) {
        Outcome::Ok { .. } => Ok(()),
        _ => Err(PrepareError::Unsupported(format!(
            "ExecuteStatement `{}` answered {}",
            statement(workload),
            wire::reply_text(&reply)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;

    fn shape() -> Shape {
        Shape {
            items: 10_000,
            query_partitions: 3,
            query_partition_items: 10_000,
            gsi_items: 100_000,
            scan_items: 1_000,
            stream_records: 20_000,
        }
    }

    fn json(b: &Bytes) -> serde_json::Value {
        serde_json::from_slice(b).unwrap()
    }

    /// Each statement has one parameter per `?`, and asks what its plain
    /// counterpart asks.
    #[test]
    fn bodies() {
        let shape = shape();
        for w in [
            Workload::PqSelect,
            Workload::PqInsert,
            Workload::PqUpdate,
            Workload::PqQuery100,
        ] {
            let v = json(&body(w, 42, 7, &shape));
            let statement = v["Statement"].as_str().unwrap();
            assert_eq!(statement, super::statement(w));
            assert_eq!(
                v["Parameters"].as_array().unwrap().len(),
                statement.matches('?').count(),
                "{statement}"
            );
            assert_eq!(w.operation(), "ExecuteStatement");
        }
        let v = json(&body(Workload::PqSelect, 42, 7, &shape));
        assert_eq!(v["Statement"], r#"SELECT * FROM "bench" WHERE pk = ?"#);
        assert_eq!(v["Parameters"][0]["S"], "k000000042");

        // The inserted item is `put-fresh`'s item, attribute for attribute.
        let v = json(&body(Workload::PqInsert, 42, 7, &shape));
        let put = json(&Workload::PutFresh.body(&[42], 7, &shape));
        assert_eq!(put, json(&Workload::Put.body(&[42], 7, &shape)));
        let names = ["pk", "c", "v", "t", "data"];
        for (i, name) in names.iter().enumerate() {
            assert_eq!(v["Parameters"][i], put["Item"][name], "{name}");
        }
        assert_eq!(put["Item"].as_object().unwrap().len(), names.len());

        // The update sets what `update` sets.
        let v = json(&body(Workload::PqUpdate, 42, 7, &shape));
        let update = json(&Workload::Update.body(&[42], 7, &shape));
        let values = &update["ExpressionAttributeValues"];
        assert_eq!(v["Parameters"][0], values[":one"]);
        assert_eq!(v["Parameters"][1], values[":t"]);
        assert_eq!(v["Parameters"][2], update["Key"]["pk"]);

        // The query reads query-100's window.
        let last = Workload::PqQuery100.request_space(&shape) - 1;
        let v = json(&body(Workload::PqQuery100, last, 0, &shape));
        let query = json(&Workload::Query100.body(&[last], 0, &shape));
        let values = &query["ExpressionAttributeValues"];
        assert_eq!(v["Parameters"][0], values[":p"]);
        assert_eq!(v["Parameters"][1], values[":a"]);
        assert_eq!(v["Parameters"][2], values[":b"]);
    }

    #[test]
    fn fresh_keys_are_new_scattered_and_never_repeat() {
        let shape = shape();
        let mut rng = Rng::new(1);
        let mut keys = Vec::new();
        let mut seen = Vec::new();
        for i in 0..10_000 {
            let w = [Workload::PqInsert, Workload::PutFresh][i % 2];
            w.draw_keys(&mut rng, &shape, &mut keys);
            seen.push(keys[0]);
        }
        // Beyond the largest pre-loaded key, still written with 9 digits.
        assert!(seen
            .iter()
            .all(|&k| (FRESH_BASE..1_000_000_000).contains(&k)));
        // Not in increasing order: about half the keys come before the
        // previous one.
        let down = seen.windows(2).filter(|w| w[1] < w[0]).count();
        assert!((3_000..7_000).contains(&down), "{down}");
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn answers() {
        let one = reply(
            200,
            r#"{"Items":[{"pk":{"S":"k000000001"},"c":{"N":"0"},"data":{"S":"x"}}]}"#,
        );
        assert_eq!(check(Workload::PqSelect, &one), Outcome::Ok { items: 1 });
        for wrong in [
            r#"{"Items":[]}"#,
            r#"{}"#,
            r#"{"Items":[{"pk":{"S":"k000000001"}},{"pk":{"S":"k000000002"}}]}"#,
        ] {
            assert!(
                matches!(
                    check(Workload::PqSelect, &reply(200, wrong)),
                    Outcome::Error { .. }
                ),
                "{wrong}"
            );
        }
        let items: Vec<String> = (0..100)
            .map(|i| format!(r#"{{"pk":{{"S":"p00001"}},"sk":{{"S":"s{i:09}"}}}}"#))
            .collect();
        let hundred = reply(200, &format!(r#"{{"Items":[{}]}}"#, items.join(",")));
        assert_eq!(
            check(Workload::PqQuery100, &hundred),
            Outcome::Ok { items: 100 }
        );
        assert_eq!(
            Workload::PqInsert.check(&reply(200, "{}")),
            Outcome::Ok { items: 1 }
        );
        let duplicate = reply(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#DuplicateItemException","message":"Duplicate primary key exists in table"}"#,
        );
        match Workload::PqInsert.check(&duplicate) {
            Outcome::Error { kind, .. } => assert_eq!(kind, "400 DuplicateItemException"),
            other => panic!("{other:?}"),
        }
    }
}
