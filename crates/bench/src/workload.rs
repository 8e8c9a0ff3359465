//! The workloads, the request bodies they send and how their answers are
//! judged. Every target receives byte-for-byte the same kinds of requests
//! over the same key space.

use std::fmt::Write as _;
use std::str::FromStr;

use bytes::Bytes;

use crate::client::Reply;
use crate::dataset::{Dataset, Shape, GSI_NAME, WINDOW};
use crate::partiql;
use crate::streams;
use crate::wire;
use crate::writes::{self, BATCH_PUTS, TRANSACT_ACTIONS};

/// Name of the table the single-item workloads use.
pub const TABLE: &str = "bench";

/// 160 bytes of filler so that an item is about 200 bytes in DynamoDB's
/// size accounting (names + values).
pub(crate) const FILLER: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx";

/// One kind of request mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `PutItem` of a ~200-byte item at a random key.
    Put,
    /// `put` at a key never written before in the run, drawn as
    /// `pq-insert`'s are: its plain counterpart, since writing a new item
    /// and overwriting one do not cost the same.
    PutFresh,
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
    /// `BatchWriteItem` of 25 `put`-shaped items at 25 distinct random
    /// keys. Items returned in `UnprocessedItems` are counted, not retried.
    BatchWrite25,
    /// `TransactWriteItems` of 2 Puts, 1 counter Update and 1
    /// ConditionCheck on 4 distinct random pre-loaded keys (see
    /// [`writes::transact_body`]). Cancellations caused only by
    /// `TransactionConflict` are counted as conflicts, not errors.
    TransactWrite4,
    /// `put` on `bench_streamed`, the same table with a
    /// NEW_AND_OLD_IMAGES stream: each write also writes a stream record.
    PutStreamed,
    /// `update` on `bench_streamed`.
    UpdateStreamed,
    /// `GetRecords` (default `Limit`, i.e. up to 1 000 records) along the
    /// shards of `bench_records`'s stream, each call on the previous
    /// answer's `NextShardIterator` (see [`crate::streams::Reader`]).
    GetRecords,
    /// `ExecuteStatement SELECT * FROM "bench" WHERE pk = ?` on a random
    /// pre-loaded key: `get` in PartiQL (see [`crate::partiql`]).
    PqSelect,
    /// `ExecuteStatement INSERT INTO "bench" VALUE {...}` of `put`'s item
    /// at a key never written before in the run: `put-fresh` in PartiQL.
    PqInsert,
    /// `ExecuteStatement UPDATE "bench" SET c = c + ? SET t = ? WHERE pk = ?`
    /// on a random pre-loaded key: `update` in PartiQL.
    PqUpdate,
    /// `ExecuteStatement SELECT * FROM "bench_query" WHERE pk = ? AND sk
    /// BETWEEN ? AND ?` over `query-100`'s windows (exactly 100 items).
    PqQuery100,
}

/// What a variant of a plain workload adds to the request it repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The same write on a table with a stream.
    Streamed,
    /// The same request as a PartiQL statement.
    PartiQL,
}

/// How one answer was judged.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The expected answer; `items` read or written by the request.
    Ok { items: u64 },
    /// A `BatchWriteItem` answered 200 with some of its puts left in
    /// `UnprocessedItems`: the server shed them, which DynamoDB allows.
    Partial { written: u64, unprocessed: u64 },
    /// A `TransactWriteItems` cancelled only because another transaction
    /// held one of its items, which DynamoDB allows under concurrency.
    Conflict,
    /// Anything else: a kind (e.g. `400 ValidationException`) and a sample
    /// of the answer.
    Error { kind: String, sample: String },
}

impl Outcome {
    pub(crate) fn error(kind: impl Into<String>, reply: &Reply) -> Outcome {
        Outcome::Error {
            kind: kind.into(),
            sample: wire::reply_text(reply),
        }
    }
}

impl Workload {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::PutFresh => "put-fresh",
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::CondPut => "cond-put",
            Workload::Query100 => "query-100",
            Workload::GsiQuery => "gsi-query",
            Workload::Scan => "scan",
            Workload::BatchWrite25 => "batch-write-25",
            Workload::TransactWrite4 => "transact-write-4",
            Workload::PutStreamed => "put-streamed",
            Workload::UpdateStreamed => "update-streamed",
            Workload::GetRecords => "get-records",
            Workload::PqSelect => "pq-select",
            Workload::PqInsert => "pq-insert",
            Workload::PqUpdate => "pq-update",
            Workload::PqQuery100 => "pq-query-100",
        }
    }

    /// For a variant of a plain workload (a write on the streamed table, a
    /// PartiQL statement), the plain workload and the kind of variant: the
    /// pair whose throughput ratio is the cost of streams or of PartiQL.
    pub fn plain(self) -> Option<(Workload, Variant)> {
        match self {
            Workload::PutStreamed => Some((Workload::Put, Variant::Streamed)),
            Workload::UpdateStreamed => Some((Workload::Update, Variant::Streamed)),
            Workload::PqSelect => Some((Workload::Get, Variant::PartiQL)),
            Workload::PqInsert => Some((Workload::PutFresh, Variant::PartiQL)),
            Workload::PqUpdate => Some((Workload::Update, Variant::PartiQL)),
            Workload::PqQuery100 => Some((Workload::Query100, Variant::PartiQL)),
            _ => None,
        }
    }

    /// Whether the workload sends PartiQL statements (`ExecuteStatement`).
    pub fn partiql(self) -> bool {
        matches!(self.plain(), Some((_, Variant::PartiQL)))
    }

    /// The table this workload reads or writes.
    pub fn dataset(self) -> Dataset {
        match self {
            Workload::Put
            | Workload::PutFresh
            | Workload::Get
            | Workload::Update
            | Workload::CondPut
            | Workload::BatchWrite25
            | Workload::TransactWrite4
            | Workload::PqSelect
            | Workload::PqInsert
            | Workload::PqUpdate => Dataset::Point,
            Workload::Query100 | Workload::PqQuery100 => Dataset::Query,
            Workload::GsiQuery => Dataset::Gsi,
            Workload::Scan => Dataset::Scan,
            Workload::PutStreamed | Workload::UpdateStreamed => Dataset::Streamed,
            Workload::GetRecords => Dataset::Records,
        }
    }

    /// Whether a request returns many items (reported as items/s; records
    /// for `get-records`).
    pub fn returns_items(self) -> bool {
        matches!(
            self,
            Workload::Query100
                | Workload::GsiQuery
                | Workload::Scan
                | Workload::GetRecords
                | Workload::PqQuery100
        )
    }

    /// Whether a request writes several items (reported as items/s, with
    /// conflicts or unprocessed items).
    pub fn writes_items(self) -> bool {
        matches!(self, Workload::BatchWrite25 | Workload::TransactWrite4)
    }

    /// Distinct item keys one request touches.
    pub fn keys_per_request(self) -> usize {
        match self {
            Workload::BatchWrite25 => BATCH_PUTS,
            Workload::TransactWrite4 => TRANSACT_ACTIONS,
            _ => 1,
        }
    }

    /// Draws the keys of the next request into `keys`: one number below
    /// [`Workload::request_space`], or, for the multi-item writes,
    /// [`Workload::keys_per_request`] distinct item numbers; for
    /// `pq-insert` and `put-fresh`, a key not written before (see
    /// [`partiql::fresh_key`]).
    pub fn draw_keys(self, rng: &mut Rng, shape: &Shape, keys: &mut Vec<u64>) {
        match self.keys_per_request() {
            1 if matches!(self, Workload::PqInsert | Workload::PutFresh) => {
                keys.clear();
                keys.push(partiql::fresh_key());
            }
            1 => {
                keys.clear();
                keys.push(rng.below(self.request_space(shape)));
            }
            n => writes::draw_distinct(rng, shape.items, n, keys),
        }
    }

    /// How many distinct requests there are; [`Workload::body`] takes a
    /// number below this (for the multi-item writes, numbers below it).
    pub fn request_space(self, shape: &Shape) -> u64 {
        match self {
            Workload::Query100 | Workload::PqQuery100 => {
                shape.query_partitions * (shape.query_partition_items - WINDOW + 1)
            }
            Workload::GsiQuery => shape.gsi_windows_per_value() * crate::dataset::GSI_VALUES,
            _ => shape.items,
        }
    }

    /// Judges `reply`. Successful answers that lack what the workload asked
    /// for count as errors too.
    pub fn check(self, reply: &Reply) -> Outcome {
        if !reply.ok() {
            if self == Workload::TransactWrite4
                && reply
                    .error_kind()
                    .ends_with(" TransactionCanceledException")
            {
                let mut codes = writes::cancellation_codes(reply);
                if writes::only_conflicts(&codes) {
                    return Outcome::Conflict;
                }
                codes.retain(|c| c != "None");
                return Outcome::error(
                    format!("{} [{}]", reply.error_kind(), codes.join(", ")),
                    reply,
                );
            }
            return Outcome::error(reply.error_kind(), reply);
        }
        match self {
            Workload::Get if wire::find(&reply.body, b"\"Item\"").is_none() => {
                Outcome::error("200 GetItem without Item", reply)
            }
            Workload::Query100 | Workload::GsiQuery => match wire::count(&reply.body) {
                Some(n) if n == WINDOW => Outcome::Ok { items: n },
                Some(n) => Outcome::error(format!("200 Query with Count {n}, not {WINDOW}"), reply),
                None => Outcome::error("200 Query without Count", reply),
            },
            Workload::BatchWrite25 => match writes::unprocessed_items(&reply.body) {
                Some(0) => Outcome::Ok {
                    items: BATCH_PUTS as u64,
                },
                Some(n) if n <= BATCH_PUTS as u64 => Outcome::Partial {
                    written: BATCH_PUTS as u64 - n,
                    unprocessed: n,
                },
                Some(n) => Outcome::error(
                    format!("200 BatchWriteItem with {n} UnprocessedItems, more than sent"),
                    reply,
                ),
                None => Outcome::error("200 BatchWriteItem without UnprocessedItems", reply),
            },
            Workload::TransactWrite4 => Outcome::Ok {
                items: TRANSACT_ACTIONS as u64,
            },
            Workload::GetRecords => match streams::read_page(reply) {
                Ok(page) => Outcome::Ok {
                    items: page.records,
                },
                Err(outcome) => outcome,
            },
            w if w.partiql() => partiql::check(w, reply),
            _ => Outcome::Ok { items: 1 },
        }
    }

    /// The DynamoDB operation this workload calls.
    pub fn operation(self) -> &'static str {
        match self {
            Workload::Put | Workload::PutFresh | Workload::CondPut | Workload::PutStreamed => {
                "PutItem"
            }
            Workload::Get => "GetItem",
            Workload::Update | Workload::UpdateStreamed => "UpdateItem",
            Workload::Query100 | Workload::GsiQuery => "Query",
            Workload::Scan => "Scan",
            Workload::BatchWrite25 => "BatchWriteItem",
            Workload::TransactWrite4 => "TransactWriteItems",
            Workload::GetRecords => "GetRecords",
            Workload::PqSelect | Workload::PqInsert | Workload::PqUpdate | Workload::PqQuery100 => {
                "ExecuteStatement"
            }
        }
    }

    /// The body of the request on `keys` (drawn by [`Workload::draw_keys`]:
    /// an item number for the single-item workloads, a partition and window
    /// for the queries, distinct item numbers for the multi-item writes);
    /// `seq` varies the written values from request to request.
    /// `get-records` follows shard iterators instead (its requests come
    /// from [`crate::streams::Reader`]); its body here is `{}`.
    pub fn body(self, keys: &[u64], seq: u64, shape: &Shape) -> Bytes {
        let key = keys[0];
        let table = self.dataset().table();
        let mut s = String::with_capacity(400 * keys.len());
        match self {
            Workload::Put | Workload::PutFresh | Workload::PutStreamed => {
                let _ = write!(s, r#"{{"TableName":"{table}","Item":"#);
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
            Workload::Update | Workload::UpdateStreamed => {
                let _ = write!(s, r#"{{"TableName":"{table}","Key":{{"pk":{{"S":""#);
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
            Workload::BatchWrite25 => writes::batch_body(&mut s, keys, seq),
            Workload::TransactWrite4 => writes::transact_body(&mut s, keys, seq),
            Workload::GetRecords => s.push_str("{}"),
            Workload::PqSelect | Workload::PqInsert | Workload::PqUpdate | Workload::PqQuery100 => {
                return partiql::body(self, key, seq, shape)
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
            "put-fresh" => Ok(Workload::PutFresh),
            "get" => Ok(Workload::Get),
            "update" => Ok(Workload::Update),
            "cond-put" => Ok(Workload::CondPut),
            "query-100" => Ok(Workload::Query100),
            "gsi-query" => Ok(Workload::GsiQuery),
            "scan" | "scan-1m" => Ok(Workload::Scan),
            "batch-write-25" => Ok(Workload::BatchWrite25),
            "transact-write-4" => Ok(Workload::TransactWrite4),
            "put-streamed" => Ok(Workload::PutStreamed),
            "update-streamed" => Ok(Workload::UpdateStreamed),
            "get-records" => Ok(Workload::GetRecords),
            "pq-select" => Ok(Workload::PqSelect),
            "pq-insert" => Ok(Workload::PqInsert),
            "pq-update" => Ok(Workload::PqUpdate),
            "pq-query-100" => Ok(Workload::PqQuery100),
            _ => Err(format!(
                "unknown workload `{s}` (expected put, put-fresh, get, update, cond-put, query-100, gsi-query, scan, batch-write-25, transact-write-4, put-streamed, update-streamed, get-records, pq-select, pq-insert, pq-update, pq-query-100)"
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
    use crate::client::reply;
    use crate::dataset::item_size;

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

    #[test]
    fn bodies_are_json() {
        let shape = shape();
        for w in [
            Workload::Put,
            Workload::PutFresh,
            Workload::Get,
            Workload::Update,
            Workload::CondPut,
            Workload::Query100,
            Workload::GsiQuery,
            Workload::Scan,
            Workload::PutStreamed,
            Workload::UpdateStreamed,
        ] {
            let body = w.body(&[42], 7, &shape);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["TableName"], w.dataset().table());
        }
        let mut rng = Rng::new(1);
        let mut keys = Vec::new();
        for w in [Workload::BatchWrite25, Workload::TransactWrite4] {
            w.draw_keys(&mut rng, &shape, &mut keys);
            assert_eq!(keys.len(), w.keys_per_request());
            assert!(keys.iter().all(|&k| k < shape.items));
            let _: serde_json::Value = serde_json::from_slice(&w.body(&keys, 7, &shape)).unwrap();
            assert_eq!(w.name().parse::<Workload>().unwrap(), w);
        }
        for w in [
            Workload::PutStreamed,
            Workload::UpdateStreamed,
            Workload::GetRecords,
            Workload::PutFresh,
            Workload::PqSelect,
            Workload::PqInsert,
            Workload::PqUpdate,
            Workload::PqQuery100,
        ] {
            assert_eq!(w.name().parse::<Workload>().unwrap(), w);
        }
        // The streamed writes are the plain ones on another table.
        for (streamed, plain) in [
            (Workload::PutStreamed, Workload::Put),
            (Workload::UpdateStreamed, Workload::Update),
        ] {
            assert_eq!(streamed.plain(), Some((plain, Variant::Streamed)));
            assert_eq!(streamed.operation(), plain.operation());
            let a = String::from_utf8(streamed.body(&[42], 7, &shape).to_vec()).unwrap();
            let b = String::from_utf8(plain.body(&[42], 7, &shape).to_vec()).unwrap();
            assert_eq!(a.replace("bench_streamed", "bench"), b);
        }
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::Put.body(&[1], 0, &shape)).unwrap();
        let item = &v["Item"];
        assert_eq!(item["pk"]["S"], "k000000001");
        let size = item_size(item);
        assert!((190..=230).contains(&size), "item size {size}");
    }

    /// The last request of each query workload still asks for a full
    /// window inside the loaded data.
    #[test]
    fn query_windows_stay_inside_the_data() {
        let shape = shape();
        let last = Workload::Query100.request_space(&shape) - 1;
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::Query100.body(&[last], 0, &shape)).unwrap();
        let values = &v["ExpressionAttributeValues"];
        assert_eq!(values[":p"]["S"], "p00002");
        assert_eq!(values[":a"]["S"], "s000009900");
        assert_eq!(values[":b"]["S"], "s000009999");
        let last = Workload::GsiQuery.request_space(&shape) - 1;
        let v: serde_json::Value =
            serde_json::from_slice(&Workload::GsiQuery.body(&[last], 0, &shape)).unwrap();
        let values = &v["ExpressionAttributeValues"];
        assert_eq!(v["IndexName"], GSI_NAME);
        assert_eq!(values[":g"]["S"], "g099");
        assert_eq!(values[":a"]["S"], "s000000900");
        assert_eq!(values[":b"]["S"], "s000000999");
    }

    #[test]
    fn write_answers() {
        use Workload::{BatchWrite25, TransactWrite4};
        let ok = reply(200, r#"{"UnprocessedItems":{}}"#);
        assert_eq!(BatchWrite25.check(&ok), Outcome::Ok { items: 25 });
        let shed = reply(
            200,
            r#"{"UnprocessedItems":{"bench":[{"PutRequest":{}},{"PutRequest":{}}]}}"#,
        );
        assert_eq!(
            BatchWrite25.check(&shed),
            Outcome::Partial {
                written: 23,
                unprocessed: 2
            }
        );
        assert!(matches!(
            BatchWrite25.check(&reply(200, "{}")),
            Outcome::Error { .. }
        ));
        assert_eq!(
            TransactWrite4.check(&reply(200, "{}")),
            Outcome::Ok { items: 4 }
        );
        let conflict = reply(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict"},{"Code":"None"},{"Code":"None"}]}"#,
        );
        assert_eq!(TransactWrite4.check(&conflict), Outcome::Conflict);
        // The same answer to another workload is an error.
        assert!(matches!(
            BatchWrite25.check(&conflict),
            Outcome::Error { .. }
        ));
        let failed = reply(
            400,
            r#"{"__type":"TransactionCanceledException","CancellationReasons":[{"Code":"None"},{"Code":"None"},{"Code":"None"},{"Code":"ConditionalCheckFailed"}]}"#,
        );
        match TransactWrite4.check(&failed) {
            Outcome::Error { kind, .. } => assert_eq!(
                kind,
                "400 TransactionCanceledException [ConditionalCheckFailed]"
            ),
            other => panic!("{other:?}"),
        }
        let unknown = reply(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#UnknownOperationException"}"#,
        );
        assert!(matches!(
            TransactWrite4.check(&unknown),
            Outcome::Error { .. }
        ));
    }

    #[test]
    fn rng_stays_in_bounds() {
        let mut r = Rng::new(0);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }
}
