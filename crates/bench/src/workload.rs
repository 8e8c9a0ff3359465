//! The workloads and the request bodies they send. Every target receives
//! byte-for-byte the same kinds of requests over the same key space.

use std::fmt::Write as _;
use std::str::FromStr;

use bytes::Bytes;

/// Name of the table every workload uses.
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
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::CondPut => "cond-put",
        }
    }

    /// The DynamoDB operation this workload calls.
    pub fn operation(self) -> &'static str {
        match self {
            Workload::Put | Workload::CondPut => "PutItem",
            Workload::Get => "GetItem",
            Workload::Update => "UpdateItem",
        }
    }

    /// The body of one request on item number `key`; `seq` varies the
    /// written values from request to request.
    pub fn body(self, key: u64, seq: u64) -> Bytes {
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
            _ => Err(format!(
                "unknown workload `{s}` (expected put, get, update, cond-put)"
            )),
        }
    }
}

fn push_key(s: &mut String, key: u64) {
    let _ = write!(s, "k{key:09}");
}

/// A ~200-byte item: `pk`, a counter `c`, a version `v` (always 1, below
/// the conditional put's `:v`), a timestamp-like string `t` and filler.
fn push_item(s: &mut String, key: u64, seq: u64) {
    s.push_str(r#"{"pk":{"S":""#);
    push_key(s, key);
    let _ = write!(
        s,
        r#""}},"c":{{"N":"0"}},"v":{{"N":"1"}},"t":{{"S":"p{seq:016}"}},"data":{{"S":"{FILLER}"}}}}"#
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

    #[test]
    fn bodies_are_json() {
        for w in [
            Workload::Put,
            Workload::Get,
            Workload::Update,
            Workload::CondPut,
        ] {
            let body = w.body(42, 7);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["TableName"], TABLE);
        }
        let v: serde_json::Value = serde_json::from_slice(&Workload::Put.body(1, 0)).unwrap();
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

    #[test]
    fn rng_stays_in_bounds() {
        let mut r = Rng::new(0);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }
}
