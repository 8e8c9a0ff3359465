//! The soak's request mix: which operations run how often on which keys,
//! the bodies they send, and how each answer is classed — a success, an
//! outcome DynamoDB allows under load (a failed condition, a transaction
//! conflict, throttling), or an error.

use std::fmt::Write as _;

use bytes::Bytes;

use crate::client::Reply;
use crate::wire;
use crate::workload::{Rng, FILLER};
use crate::writes;

/// The table the soak creates.
pub const TABLE: &str = "soak";
/// Its global secondary index, on `g` (hash) and `gs` (range).
pub const GSI: &str = "by_g";
/// The Time to Live attribute.
pub const TTL_ATTRIBUTE: &str = "exp";
/// Items per partition: what a partition Query returns when it is full.
pub const PARTITION_ITEMS: u64 = 100;
/// Distinct values of the GSI's hash key `g`.
pub const GSI_VALUES: u64 = 50;
/// The partition key of the hot items, outside the regular key space.
const HOT_PARTITION: &str = "hot";
/// Items per request of the batch operations.
const BATCH_KEYS: usize = 25;
/// Of a BatchWriteItem's requests, how many are deletes (the rest puts).
const BATCH_DELETES: usize = 5;
/// Page size of the Scan and of the GSI Query.
const PAGE: u64 = 100;
const GSI_PAGE: u64 = 50;
/// Items written by PutItem expire this many seconds from now, at random
/// in `TTL_MIN..TTL_MIN + TTL_SPREAD`: well inside the run, so that the
/// sweeper has work all along.
const TTL_MIN: u64 = 5;
const TTL_SPREAD: u64 = 56;

/// One kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    GetItem,
    PutItem,
    UpdateItem,
    DeleteItem,
    Query,
    GsiQuery,
    ScanPage,
    BatchWrite,
    BatchGet,
    TransactWrite,
    TransactGet,
    PqSelect,
    PqUpdate,
    /// Sent by the stream readers, not drawn by the workers.
    GetRecords,
}

/// Every operation, in report order.
pub const OPS: [Op; 14] = [
    Op::GetItem,
    Op::PutItem,
    Op::UpdateItem,
    Op::DeleteItem,
    Op::Query,
    Op::GsiQuery,
    Op::ScanPage,
    Op::BatchWrite,
    Op::BatchGet,
    Op::TransactWrite,
    Op::TransactGet,
    Op::PqSelect,
    Op::PqUpdate,
    Op::GetRecords,
];

impl Op {
    /// Position in [`OPS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::GetItem => "GetItem",
            Op::PutItem => "PutItem",
            Op::UpdateItem => "UpdateItem (cond.)",
            Op::DeleteItem => "DeleteItem",
            Op::Query => "Query (partition)",
            Op::GsiQuery => "Query (GSI)",
            Op::ScanPage => "Scan page",
            Op::BatchWrite => "BatchWriteItem",
            Op::BatchGet => "BatchGetItem",
            Op::TransactWrite => "TransactWriteItems",
            Op::TransactGet => "TransactGetItems",
            Op::PqSelect => "PartiQL SELECT",
            Op::PqUpdate => "PartiQL UPDATE",
            Op::GetRecords => "GetRecords",
        }
    }

    /// A column heading for wide tables.
    pub fn short(self) -> &'static str {
        match self {
            Op::GetItem => "get",
            Op::PutItem => "put",
            Op::UpdateItem => "update",
            Op::DeleteItem => "delete",
            Op::Query => "query",
            Op::GsiQuery => "gsi",
            Op::ScanPage => "scan",
            Op::BatchWrite => "b-write",
            Op::BatchGet => "b-get",
            Op::TransactWrite => "t-write",
            Op::TransactGet => "t-get",
            Op::PqSelect => "pq-sel",
            Op::PqUpdate => "pq-upd",
            Op::GetRecords => "records",
        }
    }

    /// The API operation sent.
    pub fn operation(self) -> &'static str {
        match self {
            Op::GetItem => "GetItem",
            Op::PutItem => "PutItem",
            Op::UpdateItem => "UpdateItem",
            Op::DeleteItem => "DeleteItem",
            Op::Query | Op::GsiQuery => "Query",
            Op::ScanPage => "Scan",
            Op::BatchWrite => "BatchWriteItem",
            Op::BatchGet => "BatchGetItem",
            Op::TransactWrite => "TransactWriteItems",
            Op::TransactGet => "TransactGetItems",
            Op::PqSelect | Op::PqUpdate => "ExecuteStatement",
            Op::GetRecords => "GetRecords",
        }
    }

    /// Relative frequency among the workers' requests. Reads dominate as
    /// in most applications; writes of every shape keep the stream, the
    /// index and the TTL sweeper busy. Per 91 requests about 75 regular
    /// items are put and 30 deleted, so about 70 % of the regular key space
    /// holds an item at any time; 3 expiring items are put, which live a
    /// minute at most.
    fn weight(self) -> u32 {
        match self {
            Op::GetItem => 20,
            Op::PutItem => 12,
            Op::UpdateItem => 10,
            Op::DeleteItem => 7,
            Op::Query => 6,
            Op::GsiQuery => 4,
            Op::ScanPage => 3,
            Op::BatchWrite => 3,
            Op::BatchGet => 5,
            Op::TransactWrite => 6,
            Op::TransactGet => 5,
            Op::PqSelect => 5,
            Op::PqUpdate => 5,
            Op::GetRecords => 0,
        }
    }

    /// Whether a `ConditionalCheckFailedException` is an expected answer:
    /// the request has a condition that a concurrent delete (or an expired
    /// item) can make false.
    fn conditional(self) -> bool {
        matches!(self, Op::UpdateItem | Op::DeleteItem | Op::PqUpdate)
    }

    /// Whether the request is a single-item write, which DynamoDB refuses
    /// with `TransactionConflictException` while a transaction holds the
    /// item.
    fn single_write(self) -> bool {
        matches!(
            self,
            Op::PutItem | Op::UpdateItem | Op::DeleteItem | Op::PqUpdate
        )
    }
}

/// Draws the next operation by [`Op::weight`].
pub fn draw(rng: &mut Rng) -> Op {
    let total: u32 = OPS.iter().map(|op| op.weight()).sum();
    let mut at = rng.below(u64::from(total)) as u32;
    for op in OPS {
        if at < op.weight() {
            return op;
        }
        at -= op.weight();
    }
    Op::GetItem
}

/// The key space: `keys` regular items in partitions of
/// [`PARTITION_ITEMS`], and `hot` items in a partition of their own that
/// only transactions and a share of the updates touch, so that
/// transactions meet each other there.
#[derive(Debug, Clone)]
pub struct Space {
    pub keys: u64,
    pub hot: u64,
}

impl Space {
    pub fn partitions(&self) -> u64 {
        self.keys / PARTITION_ITEMS
    }
}

/// What one worker keeps from request to request.
pub struct Ctx {
    pub rng: Rng,
    /// Varies the written values; unique per worker and request.
    pub seq: u64,
    /// Makes client request tokens unique across runs on one server.
    pub run: u32,
    pub worker: usize,
    /// The `LastEvaluatedKey` the worker's next Scan page starts after.
    pub scan_cursor: Option<String>,
    keys: Vec<u64>,
}

impl Ctx {
    pub fn new(seed: u64, run: u32, worker: usize) -> Ctx {
        Ctx {
            rng: Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(worker as u64)),
            seq: (worker as u64) << 40,
            run,
            worker,
            scan_cursor: None,
            keys: Vec::with_capacity(BATCH_KEYS),
        }
    }
}

/// One request of the mix.
pub struct Request {
    pub op: Op,
    pub body: Bytes,
    /// Increments of the hot counters the request makes if it succeeds.
    pub increments: u64,
    /// Most items a successful answer may hold (`Count`), for reads.
    pub limit: u64,
}

fn push_key(s: &mut String, key: u64) {
    let _ = write!(
        s,
        r#"{{"pk":{{"S":"p{:05}"}},"sk":{{"S":"s{:03}"}}}}"#,
        key / PARTITION_ITEMS,
        key % PARTITION_ITEMS
    );
}

fn push_hot_key(s: &mut String, n: u64) {
    let _ = write!(
        s,
        r#"{{"pk":{{"S":"{HOT_PARTITION}"}},"sk":{{"S":"h{n:03}"}}}}"#
    );
}

/// Item `key`: its keys, the GSI keys, a counter `c`, a version string
/// `t` and ~160 bytes of filler. With `expires`, it also has the TTL
/// attribute and lives in the expiring partitions (`e…` instead of `p…`),
/// which only these puts write: nothing overwrites or deletes those items
/// first, so most of them do expire and the sweeper deletes a steady
/// stream of them (regular items are written every few seconds each).
pub fn push_item(s: &mut String, key: u64, seq: u64, expires: Option<u64>) {
    let (partition, sort) = (key / PARTITION_ITEMS, key % PARTITION_ITEMS);
    let prefix = if expires.is_some() { 'e' } else { 'p' };
    let _ = write!(
        s,
        r#"{{"pk":{{"S":"{prefix}{partition:05}"}},"sk":{{"S":"s{sort:03}"}},"g":{{"S":"g{:02}"}},"gs":{{"S":"s{sort:03}{prefix}{partition:05}"}},"c":{{"N":"0"}},"t":{{"S":"w{seq:016}"}},"data":{{"S":"{FILLER}"}}"#,
        key % GSI_VALUES
    );
    if let Some(at) = expires {
        let _ = write!(s, r#","{TTL_ATTRIBUTE}":{{"N":"{at}"}}"#);
    }
    s.push('}');
}

/// Hot item `n`: a counter that only increments, never deleted, not in
/// the GSI.
pub fn push_hot_item(s: &mut String, n: u64) {
    let _ = write!(
        s,
        r#"{{"pk":{{"S":"{HOT_PARTITION}"}},"sk":{{"S":"h{n:03}"}},"c":{{"N":"0"}},"t":{{"S":"hot"}}}}"#
    );
}

/// The `BatchGetItem` body reading every hot item consistently.
pub fn hot_items_body(space: &Space) -> Bytes {
    let mut s = format!(r#"{{"RequestItems":{{"{TABLE}":{{"ConsistentRead":true,"Keys":["#);
    for n in 0..space.hot {
        if n > 0 {
            s.push(',');
        }
        push_hot_key(&mut s, n);
    }
    s.push_str("]}}}");
    Bytes::from(s)
}

/// Builds the next request of kind `op`; `now` is the Unix time in
/// seconds (for TTL values).
pub fn request(op: Op, ctx: &mut Ctx, space: &Space, now: u64) -> Request {
    ctx.seq += 1;
    let seq = ctx.seq;
    let mut s = String::with_capacity(512);
    let mut increments = 0;
    let mut limit = 1;
    // One die roll per request picks its variant.
    let roll = ctx.rng.below(4);
    match op {
        Op::GetItem => {
            let key = ctx.rng.below(space.keys);
            let _ = write!(s, r#"{{"TableName":"{TABLE}","Key":"#);
            push_key(&mut s, key);
            if roll == 0 {
                s.push_str(r#","ConsistentRead":true"#);
            }
            s.push('}');
        }
        Op::PutItem => {
            let key = ctx.rng.below(space.keys);
            // A quarter of the puts write an expiring item (see `push_item`).
            let expires = (roll == 0).then(|| now + TTL_MIN + ctx.rng.below(TTL_SPREAD));
            let _ = write!(s, r#"{{"TableName":"{TABLE}","Item":"#);
            push_item(&mut s, key, seq, expires);
            if roll == 1 {
                s.push_str(r#","ReturnValues":"ALL_OLD""#);
            }
            s.push('}');
        }
        Op::UpdateItem => {
            // One update in four goes to a hot item, where transactions
            // hold items: those meet TransactionConflictException.
            let _ = write!(s, r#"{{"TableName":"{TABLE}","Key":"#);
            if roll == 0 {
                push_hot_key(&mut s, ctx.rng.below(space.hot));
                increments = 1;
            } else {
                push_key(&mut s, ctx.rng.below(space.keys));
            }
            let _ = write!(
                s,
                r#","UpdateExpression":"SET c = c + :one, t = :t","ConditionExpression":"attribute_exists(pk)","ExpressionAttributeValues":{{":one":{{"N":"1"}},":t":{{"S":"u{seq:016}"}}}},"ReturnValues":"UPDATED_NEW"}}"#
            );
        }
        Op::DeleteItem => {
            let _ = write!(s, r#"{{"TableName":"{TABLE}","Key":"#);
            push_key(&mut s, ctx.rng.below(space.keys));
            match roll {
                0 => s.push_str(r#","ConditionExpression":"attribute_exists(pk)""#),
                1 => s.push_str(r#","ReturnValues":"ALL_OLD""#),
                _ => {}
            }
            s.push('}');
        }
        Op::Query => {
            let partition = ctx.rng.below(space.partitions());
            let _ = write!(
                s,
                r#"{{"TableName":"{TABLE}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"p{partition:05}"}}}}"#
            );
            if roll == 0 {
                // Newest sort keys first, half a partition.
                s.push_str(r#","ScanIndexForward":false,"Limit":50"#);
                limit = 50;
            } else {
                limit = PARTITION_ITEMS;
            }
            s.push('}');
        }
        Op::GsiQuery => {
            let value = ctx.rng.below(GSI_VALUES);
            let _ = write!(
                s,
                r#"{{"TableName":"{TABLE}","IndexName":"{GSI}","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{{":g":{{"S":"g{value:02}"}}}},"Limit":{GSI_PAGE}}}"#
            );
            limit = GSI_PAGE;
        }
        Op::ScanPage => {
            let _ = write!(s, r#"{{"TableName":"{TABLE}","Limit":{PAGE}"#);
            if let Some(key) = &ctx.scan_cursor {
                let _ = write!(s, r#","ExclusiveStartKey":{key}"#);
            }
            s.push('}');
            limit = PAGE;
        }
        Op::BatchWrite => {
            writes::draw_distinct(&mut ctx.rng, space.keys, BATCH_KEYS, &mut ctx.keys);
            let _ = write!(s, r#"{{"RequestItems":{{"{TABLE}":["#);
            for (i, &key) in ctx.keys.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                if i < BATCH_DELETES {
                    s.push_str(r#"{"DeleteRequest":{"Key":"#);
                    push_key(&mut s, key);
                } else {
                    s.push_str(r#"{"PutRequest":{"Item":"#);
                    push_item(&mut s, key, seq, None);
                }
                s.push_str("}}");
            }
            s.push_str("]}}");
        }
        Op::BatchGet => {
            writes::draw_distinct(&mut ctx.rng, space.keys, BATCH_KEYS, &mut ctx.keys);
            let _ = write!(s, r#"{{"RequestItems":{{"{TABLE}":{{"Keys":["#);
            for (i, &key) in ctx.keys.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_key(&mut s, key);
            }
            s.push_str("]}}}");
            limit = BATCH_KEYS as u64;
        }
        Op::TransactWrite => {
            // A put and a delete of regular items, an increment of one hot
            // item and a check of another: two transactions in flight at
            // once meet on a hot item now and then (TransactionConflict).
            // Half the puts insist on a new item, so some transactions are
            // cancelled by their condition; half carry a client request
            // token, so the idempotency records are written and expired
            // all along.
            writes::draw_distinct(&mut ctx.rng, space.keys, 2, &mut ctx.keys);
            let (put, delete) = (ctx.keys[0], ctx.keys[1]);
            let bumped = ctx.rng.below(space.hot);
            let checked = (bumped + 1 + ctx.rng.below(space.hot - 1)) % space.hot;
            s.push_str(r#"{"TransactItems":["#);
            let _ = write!(s, r#"{{"Put":{{"TableName":"{TABLE}","Item":"#);
            push_item(&mut s, put, seq, None);
            if roll < 2 {
                s.push_str(r#","ConditionExpression":"attribute_not_exists(pk)""#);
            }
            let _ = write!(s, r#"}}}},{{"Delete":{{"TableName":"{TABLE}","Key":"#);
            push_key(&mut s, delete);
            let _ = write!(s, r#"}}}},{{"Update":{{"TableName":"{TABLE}","Key":"#);
            push_hot_key(&mut s, bumped);
            let _ = write!(
                s,
                r#","UpdateExpression":"SET c = c + :one","ExpressionAttributeValues":{{":one":{{"N":"1"}}}}}}}},{{"ConditionCheck":{{"TableName":"{TABLE}","Key":"#
            );
            push_hot_key(&mut s, checked);
            s.push_str(r#","ConditionExpression":"attribute_exists(c)"}}]"#);
            if roll.is_multiple_of(2) {
                let _ = write!(
                    s,
                    r#","ClientRequestToken":"s{:08x}-{}-{:x}""#,
                    ctx.run, ctx.worker, seq
                );
            }
            s.push('}');
            increments = 1;
        }
        Op::TransactGet => {
            writes::draw_distinct(&mut ctx.rng, space.keys, 2, &mut ctx.keys);
            let first = ctx.rng.below(space.hot);
            let second = (first + 1 + ctx.rng.below(space.hot - 1)) % space.hot;
            s.push_str(r#"{"TransactItems":["#);
            for (i, &key) in ctx.keys.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(s, r#"{{"Get":{{"TableName":"{TABLE}","Key":"#);
                push_key(&mut s, key);
                s.push_str("}}");
            }
            for n in [first, second] {
                let _ = write!(s, r#",{{"Get":{{"TableName":"{TABLE}","Key":"#);
                push_hot_key(&mut s, n);
                s.push_str("}}");
            }
            s.push_str("]}");
            limit = 4;
        }
        Op::PqSelect => {
            let key = ctx.rng.below(space.keys);
            let (partition, sort) = (key / PARTITION_ITEMS, key % PARTITION_ITEMS);
            if roll == 0 {
                let _ = write!(
                    s,
                    r#"{{"Statement":"SELECT pk, sk, c FROM \"{TABLE}\" WHERE pk = ?","Parameters":[{{"S":"p{partition:05}"}}]}}"#
                );
                limit = PARTITION_ITEMS;
            } else {
                let _ = write!(
                    s,
                    r#"{{"Statement":"SELECT * FROM \"{TABLE}\" WHERE pk = ? AND sk = ?","Parameters":[{{"S":"p{partition:05}"}},{{"S":"s{sort:03}"}}]}}"#
                );
            }
        }
        Op::PqUpdate => {
            let key = ctx.rng.below(space.keys);
            let (partition, sort) = (key / PARTITION_ITEMS, key % PARTITION_ITEMS);
            let _ = write!(
                s,
                r#"{{"Statement":"UPDATE \"{TABLE}\" SET c = c + ? SET t = ? WHERE pk = ? AND sk = ?","Parameters":[{{"N":"1"}},{{"S":"q{seq:016}"}},{{"S":"p{partition:05}"}},{{"S":"s{sort:03}"}}]}}"#
            );
        }
        Op::GetRecords => s.push_str("{}"),
    }
    Request {
        op,
        body: Bytes::from(s),
        increments,
        limit,
    }
}

/// How an answer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// What was asked for.
    Ok,
    /// The request's condition was false (the item was deleted, expired
    /// or already there): a user outcome, not a failure.
    CondFailed,
    /// Refused because a transaction held an item, as DynamoDB does.
    Conflict,
    /// A throttling answer an SDK retries.
    Throttled,
    /// Anything else: a 500, a dropped connection, a wrong answer.
    Error,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::CondFailed => "condition failed (expected)",
            Class::Conflict => "conflict (expected)",
            Class::Throttled => "throttled (expected)",
            Class::Error => "ERROR",
        }
    }
}

/// The judgement of one answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Judged {
    pub class: Class,
    /// For anything but `Ok`: the status and `__type` (with a
    /// transaction's cancellation reasons), or what was wrong with a 200.
    pub kind: Option<String>,
    /// Items or keys left in `UnprocessedItems` / `UnprocessedKeys`.
    pub unprocessed: u64,
    /// For a Scan page: where the next page starts (`None`: from the top).
    pub scan_next: Option<Option<String>>,
}

impl Judged {
    fn ok() -> Judged {
        Judged {
            class: Class::Ok,
            kind: None,
            unprocessed: 0,
            scan_next: None,
        }
    }

    fn error(kind: String) -> Judged {
        Judged {
            class: Class::Error,
            kind: Some(kind),
            unprocessed: 0,
            scan_next: None,
        }
    }
}

/// The `__type`s an AWS SDK's standard retry mode treats as throttling
/// (botocore's list, the ones a DynamoDB endpoint can answer).
const THROTTLING: [&str; 5] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "LimitExceededException",
];

/// Cancellation reasons that say the transaction was throttled.
const THROTTLED_REASONS: [&str; 2] = ["ThrottlingError", "ProvisionedThroughputExceeded"];

/// Classes the answer to `request`.
pub fn judge(request: &Request, reply: &Reply) -> Judged {
    if !reply.ok() {
        return judge_refusal(request.op, reply);
    }
    let body = &reply.body;
    let within = |n: u64| n <= request.limit;
    match request.op {
        Op::Query | Op::GsiQuery | Op::ScanPage => match wire::count(body) {
            Some(n) if within(n) => Judged {
                scan_next: (request.op == Op::ScanPage).then(|| wire::last_evaluated_key(body)),
                ..Judged::ok()
            },
            Some(n) => Judged::error(format!(
                "200 with Count {n}, over the Limit {}",
                request.limit
            )),
            None => Judged::error("200 without Count".to_owned()),
        },
        Op::BatchWrite => match writes::unprocessed_items(body) {
            Some(n) if n <= BATCH_KEYS as u64 => Judged {
                unprocessed: n,
                ..Judged::ok()
            },
            Some(n) => Judged::error(format!("200 with {n} UnprocessedItems, more than sent")),
            None => Judged::error("200 without UnprocessedItems".to_owned()),
        },
        Op::BatchGet => {
            let v = reply.json();
            let returned = v["Responses"][TABLE].as_array().map(|a| a.len() as u64);
            let unprocessed = v["UnprocessedKeys"]
                .as_object()
                .map(|tables| {
                    tables
                        .values()
                        .filter_map(|t| t["Keys"].as_array())
                        .map(|k| k.len() as u64)
                        .sum::<u64>()
                })
                .unwrap_or(0);
            match returned {
                Some(n) if n + unprocessed <= request.limit => Judged {
                    unprocessed,
                    ..Judged::ok()
                },
                Some(n) => Judged::error(format!(
                    "200 with {n} items and {unprocessed} unprocessed keys for {} keys",
                    request.limit
                )),
                None => Judged::error("200 without Responses".to_owned()),
            }
        }
        Op::TransactGet => match reply.json()["Responses"].as_array().map(Vec::len) {
            Some(n) if n as u64 == request.limit => Judged::ok(),
            Some(n) => Judged::error(format!("200 with {n} Responses for {} Gets", request.limit)),
            None => Judged::error("200 without Responses".to_owned()),
        },
        Op::PqSelect if wire::find(body, b"\"Items\":").is_none() => {
            Judged::error("200 ExecuteStatement SELECT without Items".to_owned())
        }
        _ => Judged::ok(),
    }
}

fn judge_refusal(op: Op, reply: &Reply) -> Judged {
    let kind = reply.error_kind();
    let error_type = kind.split_once(' ').map_or("", |(_, t)| t);
    let class = |class: Class, kind: String| Judged {
        class,
        kind: Some(kind),
        unprocessed: 0,
        scan_next: None,
    };
    if reply.status.is_client_error() && THROTTLING.contains(&error_type) {
        return class(Class::Throttled, kind);
    }
    if reply.status.is_client_error() && error_type == "TransactionCanceledException" {
        let codes = writes::cancellation_codes(reply);
        let mut named: Vec<&str> = codes
            .iter()
            .map(String::as_str)
            .filter(|c| *c != "None")
            .collect();
        named.sort_unstable();
        named.dedup();
        let kind = format!("{kind} [{}]", named.join(", "));
        let only =
            |allowed: &[&str]| !named.is_empty() && named.iter().all(|c| allowed.contains(c));
        let transaction = matches!(op, Op::TransactWrite | Op::TransactGet);
        return if !transaction {
            class(Class::Error, kind)
        } else if only(&["TransactionConflict"]) {
            class(Class::Conflict, kind)
        } else if named.iter().any(|c| THROTTLED_REASONS.contains(c))
            && only(&[
                "TransactionConflict",
                THROTTLED_REASONS[0],
                THROTTLED_REASONS[1],
            ])
        {
            class(Class::Throttled, kind)
        } else if op == Op::TransactWrite
            && named.contains(&"ConditionalCheckFailed")
            && only(&["ConditionalCheckFailed", "TransactionConflict"])
        {
            class(Class::CondFailed, kind)
        } else {
            class(Class::Error, kind)
        };
    }
    if reply.status.is_client_error() {
        if error_type == "ConditionalCheckFailedException" && op.conditional() {
            return class(Class::CondFailed, kind);
        }
        if error_type == "TransactionConflictException" && op.single_write() {
            return class(Class::Conflict, kind);
        }
    }
    class(Class::Error, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;
    use crate::dataset::item_size;

    fn space() -> Space {
        Space {
            keys: 10_000,
            hot: 16,
        }
    }

    fn json(r: &Request) -> serde_json::Value {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{:?}: {e}: {}", r.op, String::from_utf8_lossy(&r.body)))
    }

    /// Every variant of every request is JSON of the shape its operation
    /// takes, on keys inside the key space.
    #[test]
    fn requests_are_well_formed() {
        let space = space();
        let mut ctx = Ctx::new(7, 0xabcd, 3);
        for op in OPS {
            for _ in 0..64 {
                let r = request(op, &mut ctx, &space, 1_800_000_000);
                let v = json(&r);
                match op {
                    Op::GetItem | Op::DeleteItem | Op::UpdateItem => {
                        assert_eq!(v["TableName"], TABLE);
                        let pk = v["Key"]["pk"]["S"].as_str().unwrap();
                        assert!(pk == "hot" || pk < "p00100", "{pk}");
                    }
                    Op::PutItem => {
                        let item = &v["Item"];
                        let pk = item["pk"]["S"].as_str().unwrap();
                        match item[TTL_ATTRIBUTE]["N"].as_str() {
                            Some(exp) => {
                                let exp: u64 = exp.parse().unwrap();
                                assert!((1_800_000_005..1_800_000_061).contains(&exp));
                                assert!(pk.starts_with('e') && pk < "e00100", "{pk}");
                            }
                            None => assert!(pk.starts_with('p') && pk < "p00100", "{pk}"),
                        }
                    }
                    Op::BatchWrite => {
                        let requests = v["RequestItems"][TABLE].as_array().unwrap();
                        assert_eq!(requests.len(), BATCH_KEYS);
                        let deletes = requests.iter().filter(|r| r["DeleteRequest"].is_object());
                        assert_eq!(deletes.count(), BATCH_DELETES);
                    }
                    Op::BatchGet => {
                        let keys = v["RequestItems"][TABLE]["Keys"].as_array().unwrap();
                        let mut distinct: Vec<String> =
                            keys.iter().map(|k| k.to_string()).collect();
                        distinct.sort();
                        distinct.dedup();
                        assert_eq!(distinct.len(), BATCH_KEYS);
                    }
                    Op::TransactWrite => {
                        let actions = v["TransactItems"].as_array().unwrap();
                        assert_eq!(actions.len(), 4);
                        assert_eq!(r.increments, 1);
                        let bumped = &actions[2]["Update"]["Key"];
                        let checked = &actions[3]["ConditionCheck"]["Key"];
                        assert_eq!(bumped["pk"]["S"], "hot");
                        assert_ne!(bumped, checked);
                        if let Some(token) = v["ClientRequestToken"].as_str() {
                            assert!((1..=36).contains(&token.len()), "{token}");
                        }
                    }
                    Op::TransactGet => {
                        let gets = v["TransactItems"].as_array().unwrap();
                        assert_eq!(gets.len(), 4);
                        assert_ne!(gets[2], gets[3]);
                    }
                    Op::PqSelect | Op::PqUpdate => {
                        let statement = v["Statement"].as_str().unwrap();
                        let marks = statement.matches('?').count();
                        assert_eq!(v["Parameters"].as_array().unwrap().len(), marks);
                    }
                    Op::Query | Op::GsiQuery | Op::ScanPage => {
                        assert_eq!(v["Limit"].as_u64().unwrap_or(r.limit), r.limit);
                    }
                    Op::GetRecords => {}
                }
            }
        }
        // The scan resumes where the last page ended.
        ctx.scan_cursor = Some(r#"{"pk":{"S":"p00001"},"sk":{"S":"s002"}}"#.to_owned());
        let v = json(&request(Op::ScanPage, &mut ctx, &space, 0));
        assert_eq!(v["ExclusiveStartKey"]["sk"]["S"], "s002");
    }

    #[test]
    fn items_carry_the_gsi_keys_and_about_220_bytes() {
        let mut s = String::new();
        push_item(&mut s, 4_217, 9, None);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["pk"]["S"], "p00042");
        assert_eq!(v["sk"]["S"], "s017");
        assert_eq!(v["g"]["S"], "g17");
        assert_eq!(v["gs"]["S"], "s017p00042");
        assert!(v.get(TTL_ATTRIBUTE).is_none());
        let size = item_size(&v);
        assert!((200..=240).contains(&size), "{size}");
        let mut s = String::new();
        push_item(&mut s, 4_217, 9, Some(1_700_000_000));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["pk"]["S"], "e00042");
        assert_eq!(v["gs"]["S"], "s017e00042");
        assert_eq!(v[TTL_ATTRIBUTE]["N"], "1700000000");
        let mut s = String::new();
        push_hot_item(&mut s, 3);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["sk"]["S"], "h003");
        assert!(v.get("g").is_none());
        let v: serde_json::Value = serde_json::from_slice(&hot_items_body(&space())).unwrap();
        assert_eq!(
            v["RequestItems"][TABLE]["Keys"].as_array().unwrap().len(),
            16
        );
    }

    #[test]
    fn the_mix_draws_every_worker_operation() {
        let mut rng = Rng::new(1);
        let mut seen = [0u32; OPS.len()];
        for _ in 0..10_000 {
            seen[draw(&mut rng).index()] += 1;
        }
        for op in OPS {
            assert_eq!(seen[op.index()] == 0, op == Op::GetRecords, "{op:?}");
        }
        assert!(seen[Op::GetItem.index()] > seen[Op::ScanPage.index()]);
    }

    fn judged(op: Op, status: u16, body: &str) -> Judged {
        let request = Request {
            op,
            body: Bytes::new(),
            increments: 0,
            limit: match op {
                Op::Query => 100,
                Op::BatchGet => 25,
                Op::TransactGet => 4,
                _ => 1,
            },
        };
        judge(&request, &reply(status, body))
    }

    #[test]
    fn expected_refusals_are_not_errors() {
        let ccf = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#;
        assert_eq!(judged(Op::UpdateItem, 400, ccf).class, Class::CondFailed);
        assert_eq!(judged(Op::PqUpdate, 400, ccf).class, Class::CondFailed);
        // GetItem has no condition: the same answer is an error.
        assert_eq!(judged(Op::GetItem, 400, ccf).class, Class::Error);
        let held = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"Transaction is ongoing for the item"}"#;
        assert_eq!(judged(Op::PutItem, 400, held).class, Class::Conflict);
        assert_eq!(judged(Op::Query, 400, held).class, Class::Error);
        let throttled = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
        let j = judged(Op::Query, 400, throttled);
        assert_eq!(j.class, Class::Throttled);
        assert_eq!(j.kind.as_deref(), Some("400 ThrottlingException"));
        let limit = r#"{"__type":"com.amazonaws.dynamodb.v20120810#RequestLimitExceeded"}"#;
        assert_eq!(judged(Op::GetItem, 400, limit).class, Class::Throttled);
        // A 500 is an error whatever it says.
        let internal = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#;
        let j = judged(Op::GetItem, 500, internal);
        assert_eq!(j.class, Class::Error);
        assert_eq!(j.kind.as_deref(), Some("500 InternalServerError"));
        assert_eq!(judged(Op::GetItem, 503, throttled).class, Class::Error);
    }

    #[test]
    fn transactions_are_classed_by_their_reasons() {
        let cancelled = |codes: &[&str]| {
            let reasons: Vec<String> = codes
                .iter()
                .map(|c| format!(r#"{{"Code":"{c}"}}"#))
                .collect();
            format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{}]}}"#,
                reasons.join(",")
            )
        };
        let class = |op, codes: &[&str]| judged(op, 400, &cancelled(codes)).class;
        use Op::{TransactGet, TransactWrite};
        assert_eq!(
            class(
                TransactWrite,
                &["None", "None", "TransactionConflict", "None"]
            ),
            Class::Conflict
        );
        assert_eq!(
            class(
                TransactGet,
                &["TransactionConflict", "None", "None", "None"]
            ),
            Class::Conflict
        );
        assert_eq!(
            class(
                TransactWrite,
                &["ConditionalCheckFailed", "None", "None", "None"]
            ),
            Class::CondFailed
        );
        assert_eq!(
            class(
                TransactGet,
                &["ConditionalCheckFailed", "None", "None", "None"]
            ),
            Class::Error
        );
        assert_eq!(
            class(TransactWrite, &["None", "ThrottlingError", "None", "None"]),
            Class::Throttled
        );
        assert_eq!(
            class(TransactWrite, &["ValidationError", "None", "None", "None"]),
            Class::Error
        );
        assert_eq!(class(TransactWrite, &["None", "None"]), Class::Error);
        let j = judged(
            TransactWrite,
            400,
            &cancelled(&[
                "ConditionalCheckFailed",
                "None",
                "TransactionConflict",
                "None",
            ]),
        );
        assert_eq!(
            j.kind.as_deref(),
            Some("400 TransactionCanceledException [ConditionalCheckFailed, TransactionConflict]")
        );
    }

    #[test]
    fn successful_answers_are_checked() {
        assert_eq!(judged(Op::GetItem, 200, "{}").class, Class::Ok);
        assert_eq!(
            judged(
                Op::Query,
                200,
                r#"{"Count":100,"ScannedCount":100,"Items":[]}"#
            )
            .class,
            Class::Ok
        );
        assert_eq!(
            judged(Op::Query, 200, r#"{"Count":101,"Items":[]}"#).class,
            Class::Error
        );
        let page = judged(
            Op::ScanPage,
            200,
            r#"{"Count":1,"Items":[],"LastEvaluatedKey":{"pk":{"S":"p00003"},"sk":{"S":"s004"}}}"#,
        );
        assert_eq!(
            page.scan_next,
            Some(Some(
                r#"{"pk":{"S":"p00003"},"sk":{"S":"s004"}}"#.to_owned()
            ))
        );
        assert_eq!(
            judged(Op::ScanPage, 200, r#"{"Count":0,"Items":[]}"#).scan_next,
            Some(None)
        );
        let j = judged(
            Op::BatchWrite,
            200,
            r#"{"UnprocessedItems":{"soak":[{"PutRequest":{}},{"DeleteRequest":{}}]}}"#,
        );
        assert_eq!((j.class, j.unprocessed), (Class::Ok, 2));
        let j = judged(
            Op::BatchGet,
            200,
            r#"{"Responses":{"soak":[{},{}]},"UnprocessedKeys":{"soak":{"Keys":[{},{},{}]}}}"#,
        );
        assert_eq!((j.class, j.unprocessed), (Class::Ok, 3));
        assert_eq!(
            judged(Op::BatchGet, 200, r#"{"UnprocessedKeys":{}}"#).class,
            Class::Error
        );
        assert_eq!(
            judged(Op::TransactGet, 200, r#"{"Responses":[{},{},{},{}]}"#).class,
            Class::Ok
        );
        assert_eq!(
            judged(Op::TransactGet, 200, r#"{"Responses":[{}]}"#).class,
            Class::Error
        );
        assert_eq!(
            judged(Op::PqSelect, 200, r#"{"Items":[]}"#).class,
            Class::Ok
        );
        assert_eq!(judged(Op::PqSelect, 200, "{}").class, Class::Error);
    }
}
