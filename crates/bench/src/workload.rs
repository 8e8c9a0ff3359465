//! The workloads and the request bodies they send. Every target receives
//! byte-for-byte the same kinds of requests over the same key space.

use std::fmt::Write as _;
use std::str::FromStr;

use bytes::Bytes;

use crate::client::Reply;
use crate::dataset::{Dataset, Shape, GSI_NAME, WINDOW};
use crate::wire;

/// Name of the table the single-item workloads use.
pub const TABLE: &str = "bench";

/// 160 bytes of filler so that an item is about 200 bytes in DynamoDB's
/// size accounting (names + values).
const FILLER: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx";

/// One kind of request mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `PutItem` of a ~200-byte item at a random key.
    Put,
    /// `GetItem` of a random pre-loaded key.
    Get,
    /// `UpdateItem SET #c = #c + :one, #t = :t` on a random pre-loaded key.
    Update,
    /// `PutItem` with `attribute_not_exists(pk) OR #v < :v` (always true
    /// for the items this tool writes, so it evaluates against the stored
    /// item and succeeds).
    CondPut,
    /// `Query pk = :p AND sk BETWEEN :a AND :b` over a random window of
    /// 100 consecutive sort keys of a random partition (exactly 100 items).
    Query100,
    /// `Query` on the GSI, `g = :g AND gs BETWEEN :a AND :b` over a random
    /// window of 100 consecutive index sort keys (exactly 100 items).
    GsiQuery,
    /// A full `Scan`, page by page; measured by [`crate::scan`], not in
    /// closed-loop cells.
    Scan,
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::CondPut => "cond-put",
            Workload::Query100 => "query-100",
            Workload::GsiQuery => "gsi-query",
            Workload::Scan => "scan",
        }
    }

    /// The table this workload reads or writes.
    pub fn dataset(self) -> Dataset {
        match self {
            Workload::Put | Workload::Get | Workload::Update | Workload::CondPut => Dataset::Point,
            Workload::Query100 => Dataset::Query,
            Workload::GsiQuery => Dataset::Gsi,
            Workload::Scan => Dataset::Scan,
        }
    }

    /// Whether a request returns many items (reported as items/s).
    pub fn returns_items(self) -> bool {
        matches!(
            self,
            Workload::Query100 | Workload::GsiQuery | Workload::Scan
        )
    }

    /// How many distinct requests there are; [`Workload::body`] takes a
    /// number below this.
    pub fn request_space(self, shape: &Shape) -> u64 {
        match self {
            Workload::Query100 => {
                shape.query_partitions * (shape.query_partition_items - WINDOW + 1)
            }
            Workload::GsiQuery => shape.gsi_windows_per_value() * crate::dataset::GSI_VALUES,
            _ => shape.items,
        }
    }

    /// `None` when `reply` is the expected answer, else an error kind and a
    /// sample of the answer. Successful answers that lack what the workload
    /// asked for count as errors too.
    pub fn check(self, reply: &Reply) -> Option<(String, String)> {
        if !reply.ok() {
            return Some((reply.error_kind(), wire::reply_text(reply)));
        }
        match self {
            Workload::Get if wire::find(&reply.body, b"\"Item\"").is_none() => Some((
                "200 GetItem without Item".to_owned(),
                wire::reply_text(reply),
            )),
            Workload::Query100 | Workload::GsiQuery => match wire::count(&reply.body) {
                Some(n) if n == WINDOW => None,
                Some(n) => Some((
                    format!("200 Query with Count {n}, not {WINDOW}"),
                    wire::reply_text(reply),
                )),
                None => Some((
                    "200 Query without Count".to_owned(),
                    wire::reply_text(reply),
                )),
            },
            _ => None,
        }
    }

    /// The DynamoDB operation this workload calls.
    pub fn operation(self) -> &'static str {
        match self {
            Workload::Put | Workload::CondPut => "PutItem",
            Workload::Get => "GetItem",
            Workload::Update => "UpdateItem",
            Workload::Query100 | Workload::GsiQuery => "Query",
            Workload::Scan => "Scan",
        }
    }

    /// The body of request number `key` (below [`Workload::request_space`]:
    /// an item number for the single-item workloads, a partition and window
    /// for the queries); `seq` varies the written values from request to
    /// request.
    pub fn body(self, key: u64, seq: u64, shape: &Shape) -> Bytes {
        let mut s = String::with_capacity(400);
        match self {
            Workload::Put => {
                s.push_str(r#"{"TableName":"bench","Item":"#);
                push_item(&mut s, key, seq);
                s.push('}');
            }
            Workload::CondPut => {
                s.push_str(r#"{"TableName":"bench","Item":"#);
                push_item(&mut s, key, seq);
                s.push_str(
                    r##","ConditionExpression":"attribute_not_exists(pk) OR #v < :v","ExpressionAttributeNames":{"#v":"v"},"ExpressionAttributeValues":{":v":{"N":"1000000000"}}}"##,
                );
            }
            Workload::Get => {
                s.push_str(r#"{"TableName":"bench","Key":{"pk":{"S":""#);
                push_key(&mut s, key);
                s.push_str(r#""}}}"#);
            }
            Workload::Update => {
                s.push_str(r#"{"TableName":"bench","Key":{"pk":{"S":""#);
                push_key(&mut s, key);
                let _ = write!(
                    s,
                    r##""}}}},"UpdateExpression":"SET #c = #c + :one, #t = :t","ExpressionAttributeNames":{{"#c":"c","#t":"t"}},"ExpressionAttributeValues":{{":one":{{"N":"1"}},":t":{{"S":"u{seq:016}"}}}}}}"##
                );
            }
            Workload::Query100 => {
                let windows = shape.query_partition_items - WINDOW + 1;
                let (partition, start) = (key / windows, key % windows);
                let _ = write!(
                    s,
                    r#"{{"TableName":"{}","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{{":p":{{"S":"{}"}},":a":{{"S":"{}"}},":b":{{"S":"{}"}}}}}}"#,
                    Dataset::Query.table(),
                    Dataset::partition_key(partition),
                    Dataset::sort_key(start),
                    Dataset::sort_key(start + WINDOW - 1),
                );
            }
            Workload::GsiQuery => {
                let windows = shape.gsi_windows_per_value();
                let (value, start) = (key / windows, key % windows);
                let _ = write!(
                    s,
                    r#"{{"TableName":"{}","IndexName":"{GSI_NAME}","KeyConditionExpression":"g = :g AND gs BETWEEN :a AND :b","ExpressionAttributeValues":{{":g":{{"S":"{}"}},":a":{{"S":"{}"}},":b":{{"S":"{}"}}}}}}"#,
                    Dataset::Gsi.table(),
                    Dataset::gsi_value(value),
                    Dataset::sort_key(start),
                    Dataset::sort_key(start + WINDOW - 1),
                );
            }
            Workload::Scan => {
                let _ = write!(s, r#"{{"TableName":"{}"}}"#, Dataset::Scan.table());
            }
        }
        Bytes::from(s)
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "put" => Ok(Workload::Put),
            "get" => Ok(Workload::Get),
            "update" => Ok(Workload::Update),
            "cond-put" => Ok(Workload::CondPut),
            "query-100" => Ok(Workload::Query100),
            "gsi-query" => Ok(Workload::GsiQuery),
            "scan" | "scan-1m" => Ok(Workload::Scan),
            _ => Err(format!(
                "unknown workload `{s}` (expected put, get, update, cond-put, query-100, gsi-query, scan)"
            )),
        }
    }
}

pub(crate) fn push_key(s: &mut String, key: u64) {
    let _ = write!(s, "k{key:09}");
}

/// A ~200-byte item: `pk`, a counter `c`, a version `v` (always 1, below
/// the conditional put's `:v`), a timestamp-like string `t` and filler.
pub(crate) fn push_item(s: &mut String, key: u64, seq: u64) {
    s.push_str(r#"{"pk":{"S":""#);
    push_key(s, key);
    s.push('"');
    s.push('}');
    push_payload(s, seq);
    s.push('}');
}

/// The attributes every item carries besides its keys, each preceded by a
/// comma: `c`, `v`, `t` and the filler `data`.
pub(crate) fn push_payload(s: &mut String, seq: u64) {
    let _ = write!(
        s,
        r#","c":{{"N":"0"}},"v":{{"N":"1"}},"t":{{"S":"p{seq:016}"}},"data":{{"S":"{FILLER}"}}"#
    );
}

/// A small, fast pseudo-random generator (xorshift64*), seeded per worker
/// so runs are reproducible.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            items: 10_000,
            query_partitions: 3,
            query_partition_items: 10_000,
            gsi_items: 100_000,
            scan_items: 1_000,
        }
    }

    #[test]
    fn bodies_are_json() {
        let shape = shape();
        for w in [
            Workload::Put,
            Workload::Get,
            Workload::Update,
            Workload::CondPut,
            Workload::Query100,
            Workload::GsiQuery,
            Workload::Scan,
        ] {
            let body = w.body(42, 7, &shape);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["TableName"], w.dataset().table());
        }
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::Put.body(1, 0, &shape)).unwrap();
        let item = &v["Item"];
        assert_eq!(item["pk"]["S"], "k000000001");
        // Name lengths + value lengths, as DynamoDB counts item size.
        let size: usize = item
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                k.len()
                    + v.as_object()
                        .unwrap()
                        .values()
                        .next()
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .len()
            })
            .sum();
        assert!((190..=230).contains(&size), "item size {size}");
    }

    /// The last request of each query workload still asks for a full
    /// window inside the loaded data.
    #[test]
    fn query_windows_stay_inside_the_data() {
        let shape = shape();
        let last = Workload::Query100.request_space(&shape) - 1;
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::Query100.body(last, 0, &shape)).unwrap();
        let values = &v["ExpressionAttributeValues"];
        assert_eq!(values[":p"]["S"], "p00002");
        assert_eq!(values[":a"]["S"], "s000009900");
        assert_eq!(values[":b"]["S"], "s000009999");
        let last = Workload::GsiQuery.request_space(&shape) - 1;
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::GsiQuery.body(last, 0, &shape)).unwrap();
        let values = &v["ExpressionAttributeValues"];
        assert_eq!(v["IndexName"], GSI_NAME);
        assert_eq!(values[":g"]["S"], "g099");
        assert_eq!(values[":a"]["S"], "s000000900");
        assert_eq!(values[":b"]["S"], "s000000999");
    }

    #[test]
    fn rng_stays_in_bounds() {
        let mut r = Rng::new(0);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }
}
