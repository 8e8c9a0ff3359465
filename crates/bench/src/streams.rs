//! The Streams API side of the benchmark: finding a table's stream and its
//! shards, the `get-records` reader that follows shard iterators, and the
//! read-through that checks how many records a loaded stream holds.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::client::{Conn, Reply};
use crate::dataset::PrepareError;
use crate::target::Target;
use crate::wire;
use crate::workload::Outcome;

/// The stream every streamed table of the benchmark is created with.
pub const STREAM_SPECIFICATION: &str =
    r#""StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}"#;

/// A member every record has once, at its top level, and that the items of
/// this tool never contain: counting it counts the records of an answer
/// without parsing half a megabyte of JSON.
const RECORD_MARK: &[u8] = b"\"eventID\":";

/// Longest the read-through of a loaded stream may take.
const READ_THROUGH_LIMIT: Duration = Duration::from_secs(300);

/// What one GetRecords answer held.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub records: u64,
    /// `None` once a closed shard has been read to its end.
    pub next: Option<String>,
}

impl Page {
    /// Whether the shard has nothing more to give now: an empty page (the
    /// tip of an open shard) or no next iterator (the end of a closed one).
    pub fn exhausted(&self) -> bool {
        self.records == 0 || self.next.is_none()
    }
}

/// Reads a GetRecords answer, or says why it is not one.
pub fn read_page(reply: &Reply) -> Result<Page, Outcome> {
    if !reply.ok() {
        return Err(Outcome::error(reply.error_kind(), reply));
    }
    if wire::find(&reply.body, b"\"Records\":").is_none() {
        return Err(Outcome::error("200 GetRecords without Records", reply));
    }
    Ok(Page {
        records: wire::occurrences(&reply.body, RECORD_MARK),
        next: wire::string_member(&reply.body, "NextShardIterator"),
    })
}

fn get_records_body(iterator: &str) -> Bytes {
    let quoted = serde_json::Value::from(iterator).to_string();
    Bytes::from(format!(r#"{{"ShardIterator":{quoted}}}"#))
}

fn trim_horizon_body(arn: &str, shard: &str) -> Bytes {
    let body = serde_json::json!({
        "StreamArn": arn,
        "ShardId": shard,
        "ShardIteratorType": "TRIM_HORIZON",
    });
    Bytes::from(body.to_string())
}

/// A failed answer to a set-up call: a server that does not know the
/// operation does not support streams; anything else is a failure.
fn refused(target: &Target, op: &str, reply: &Reply) -> PrepareError {
    let text = format!("{op} answered {}", wire::reply_text(reply));
    if reply.error_kind().contains("UnknownOperationException") {
        PrepareError::Unsupported(text)
    } else {
        PrepareError::Failed(format!("{}: {text}", target.name))
    }
}

/// The ARN of `table`'s stream (DescribeTable's `LatestStreamArn`).
pub async fn stream_arn(
    conn: &mut Conn,
    target: &Target,
    table: &str,
) -> Result<String, PrepareError> {
    let body = format!(r#"{{"TableName":"{table}"}}"#);
    let reply = conn.call("DescribeTable", Bytes::from(body)).await?;
    if !reply.ok() {
        return Err(refused(target, "DescribeTable", &reply));
    }
    match reply.json()["Table"]["LatestStreamArn"].as_str() {
        Some(arn) if !arn.is_empty() => Ok(arn.to_owned()),
        _ => Err(PrepareError::Unsupported(format!(
            "DescribeTable of {table}, created with a StreamSpecification, shows no LatestStreamArn"
        ))),
    }
}

/// The ids of every shard of the stream, oldest first as DescribeStream
/// lists them, following `LastEvaluatedShardId` to the last page.
pub async fn shards(
    conn: &mut Conn,
    target: &Target,
    arn: &str,
) -> Result<Vec<String>, PrepareError> {
    let mut ids = Vec::new();
    let mut start: Option<String> = None;
    for _ in 0..10_000 {
        let mut body = serde_json::json!({ "StreamArn": arn });
        if let Some(s) = &start {
            body["ExclusiveStartShardId"] = s.clone().into();
        }
        let reply = conn
            .call("DescribeStream", Bytes::from(body.to_string()))
            .await?;
        if !reply.ok() {
            return Err(refused(target, "DescribeStream", &reply));
        }
        let v = reply.json();
        let description = &v["StreamDescription"];
        for shard in description["Shards"].as_array().into_iter().flatten() {
            if let Some(id) = shard["ShardId"].as_str() {
                ids.push(id.to_owned());
            }
        }
        start = description["LastEvaluatedShardId"]
            .as_str()
            .map(str::to_owned);
        if start.is_none() {
            return Ok(ids);
        }
    }
    Err(PrepareError::Failed(format!(
        "{}: DescribeStream kept answering LastEvaluatedShardId",
        target.name
    )))
}

/// A TRIM_HORIZON iterator of one shard.
async fn trim_horizon(
    conn: &mut Conn,
    target: &Target,
    arn: &str,
    shard: &str,
) -> Result<String, PrepareError> {
    let reply = conn
        .call("GetShardIterator", trim_horizon_body(arn, shard))
        .await?;
    if !reply.ok() {
        return Err(refused(target, "GetShardIterator", &reply));
    }
    match wire::string_member(&reply.body, "ShardIterator") {
        Some(it) => Ok(it),
        None => Err(PrepareError::Failed(format!(
            "{}: GetShardIterator answered {} without ShardIterator",
            target.name,
            wire::reply_text(&reply)
        ))),
    }
}

/// What a loaded stream holds, as a consumer reading it from the start
/// sees it.
pub struct Contents {
    pub records: u64,
    pub shards: usize,
}

/// Reads every shard of `table`'s stream from TRIM_HORIZON until it is
/// exhausted and counts the records: the check that the stream the
/// `get-records` cells will read holds what was written.
pub async fn read_through(
    conn: &mut Conn,
    target: &Target,
    table: &str,
) -> Result<Contents, PrepareError> {
    let arn = stream_arn(conn, target, table).await?;
    let shards = shards(conn, target, &arn).await?;
    let deadline = Instant::now() + READ_THROUGH_LIMIT;
    let mut records = 0;
    for shard in &shards {
        let mut iterator = trim_horizon(conn, target, &arn, shard).await?;
        loop {
            if Instant::now() > deadline {
                return Err(PrepareError::Failed(format!(
                    "{}: reading the stream of {table} took over {READ_THROUGH_LIMIT:?}",
                    target.name
                )));
            }
            let reply = conn.call("GetRecords", get_records_body(&iterator)).await?;
            if !reply.ok() {
                return Err(refused(target, "GetRecords", &reply));
            }
            let page = read_page(&reply).map_err(|_| {
                PrepareError::Failed(format!(
                    "{}: GetRecords answered {}",
                    target.name,
                    wire::reply_text(&reply)
                ))
            })?;
            records += page.records;
            match page.next {
                Some(next) if page.records > 0 => iterator = next,
                _ => break,
            }
        }
    }
    Ok(Contents {
        records,
        shards: shards.len(),
    })
}

/// One shard and the iterator its next GetRecords will use.
struct Shard {
    id: String,
    /// `None` when the shard needs a fresh TRIM_HORIZON iterator.
    iterator: Option<String>,
}

/// The request a [`Reader`] handed out last, which its answer is judged
/// against.
#[derive(Clone, Copy)]
enum Pending {
    Records(usize),
    Iterator(usize),
}

/// One `get-records` worker: it reads a shard with GetRecords, each call
/// on the previous answer's `NextShardIterator`; once the shard is
/// exhausted it moves to the next shard (round robin) and takes a fresh
/// TRIM_HORIZON iterator when it comes back, so it keeps reading the
/// stream from the start.
pub struct Reader {
    arn: String,
    shards: Vec<Shard>,
    at: usize,
    pending: Pending,
}

impl Reader {
    /// Finds `table`'s stream (DescribeTable, then DescribeStream through
    /// all its pages) and takes a TRIM_HORIZON iterator for every shard;
    /// worker `worker` starts on shard `worker mod shards`.
    pub async fn open(
        conn: &mut Conn,
        target: &Target,
        table: &str,
        worker: usize,
    ) -> Result<Reader, PrepareError> {
        let arn = stream_arn(conn, target, table).await?;
        let ids = shards(conn, target, &arn).await?;
        if ids.is_empty() {
            return Err(PrepareError::Failed(format!(
                "{}: the stream of {table} has no shard",
                target.name
            )));
        }
        let mut shards = Vec::with_capacity(ids.len());
        for id in ids {
            let iterator = trim_horizon(conn, target, &arn, &id).await?;
            shards.push(Shard {
                id,
                iterator: Some(iterator),
            });
        }
        let at = worker % shards.len();
        Ok(Reader {
            arn,
            shards,
            at,
            pending: Pending::Records(at),
        })
    }

    /// The next request: the operation, its body, and whether it is a
    /// measured GetRecords (`true`) or a GetShardIterator made on the way.
    pub fn next_request(&mut self) -> (&'static str, Bytes, bool) {
        let shard = &self.shards[self.at];
        match &shard.iterator {
            Some(it) => {
                self.pending = Pending::Records(self.at);
                ("GetRecords", get_records_body(it), true)
            }
            None => {
                self.pending = Pending::Iterator(self.at);
                (
                    "GetShardIterator",
                    trim_horizon_body(&self.arn, &shard.id),
                    false,
                )
            }
        }
    }

    /// Judges the answer to the last request and moves on: the next
    /// iterator of the shard, or, once it is exhausted or after an error,
    /// the next shard. A GetRecords answer is `Ok` with the records it
    /// returned as items.
    pub fn take(&mut self, reply: &Reply) -> Outcome {
        match self.pending {
            Pending::Records(i) => match read_page(reply) {
                Ok(page) => {
                    if page.exhausted() {
                        self.retire(i);
                    } else {
                        self.shards[i].iterator = page.next;
                    }
                    Outcome::Ok {
                        items: page.records,
                    }
                }
                Err(outcome) => {
                    self.retire(i);
                    outcome
                }
            },
            Pending::Iterator(i) => {
                match wire::string_member(&reply.body, "ShardIterator").filter(|_| reply.ok()) {
                    Some(it) => {
                        self.shards[i].iterator = Some(it);
                        Outcome::Ok { items: 0 }
                    }
                    None => {
                        self.at = (i + 1) % self.shards.len();
                        Outcome::error(format!("GetShardIterator {}", reply.error_kind()), reply)
                    }
                }
            }
        }
    }

    /// Drops shard `i`'s iterator and moves to the next shard.
    fn retire(&mut self, i: usize) {
        self.shards[i].iterator = None;
        self.at = (i + 1) % self.shards.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;

    fn reader(shards: &[&str]) -> Reader {
        Reader {
            arn: "arn:aws:dynamodb:r:0:table/t/stream/l".into(),
            shards: shards
                .iter()
                .map(|id| Shard {
                    id: (*id).into(),
                    iterator: Some(format!("it-{id}-0")),
                })
                .collect(),
            at: 0,
            pending: Pending::Records(0),
        }
    }

    fn body_json(body: &Bytes) -> serde_json::Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn pages() {
        let full = reply(
            200,
            r#"{"Records":[{"eventID":"a","eventName":"INSERT"},{"eventID":"b","eventName":"MODIFY"}],"NextShardIterator":"n1"}"#,
        );
        assert_eq!(
            read_page(&full).unwrap(),
            Page {
                records: 2,
                next: Some("n1".into())
            }
        );
        let tip = read_page(&reply(200, r#"{"Records":[],"NextShardIterator":"n2"}"#)).unwrap();
        assert!(tip.exhausted());
        let closed = read_page(&reply(200, r#"{"Records":[{"eventID":"c"}]}"#)).unwrap();
        assert!(closed.exhausted());
        assert!(read_page(&reply(200, "{}")).is_err());
        assert!(read_page(&reply(400, r#"{"__type":"x#TrimmedDataAccessException"}"#)).is_err());
    }

    /// A reader follows one shard's iterators, then moves to the next shard
    /// and takes a fresh TRIM_HORIZON iterator for the one it left when it
    /// comes back to it.
    #[test]
    fn reader_follows_iterators_round_robin() {
        let mut r = reader(&["s0", "s1"]);
        let (op, body, measured) = r.next_request();
        assert_eq!((op, measured), ("GetRecords", true));
        assert_eq!(body_json(&body)["ShardIterator"], "it-s0-0");
        let page = r#"{"Records":[{"eventID":"a"}],"NextShardIterator":"it-s0-1"}"#;
        assert_eq!(r.take(&reply(200, page)), Outcome::Ok { items: 1 });
        let (_, body, _) = r.next_request();
        assert_eq!(body_json(&body)["ShardIterator"], "it-s0-1");
        // s0's tip: on to s1, whose first iterator is still there.
        let tip = r#"{"Records":[],"NextShardIterator":"it-s0-2"}"#;
        assert_eq!(r.take(&reply(200, tip)), Outcome::Ok { items: 0 });
        let (op, body, _) = r.next_request();
        assert_eq!(op, "GetRecords");
        assert_eq!(body_json(&body)["ShardIterator"], "it-s1-0");
        // s1 is closed and read to its end: back to s0, with a fresh iterator.
        let last = r#"{"Records":[{"eventID":"b"},{"eventID":"c"}]}"#;
        assert_eq!(r.take(&reply(200, last)), Outcome::Ok { items: 2 });
        let (op, body, measured) = r.next_request();
        assert_eq!((op, measured), ("GetShardIterator", false));
        let v = body_json(&body);
        assert_eq!(v["ShardId"], "s0");
        assert_eq!(v["ShardIteratorType"], "TRIM_HORIZON");
        assert_eq!(v["StreamArn"], "arn:aws:dynamodb:r:0:table/t/stream/l");
        assert_eq!(
            r.take(&reply(200, r#"{"ShardIterator":"it-s0-again"}"#)),
            Outcome::Ok { items: 0 }
        );
        let (op, body, _) = r.next_request();
        assert_eq!(op, "GetRecords");
        assert_eq!(body_json(&body)["ShardIterator"], "it-s0-again");
    }

    #[test]
    fn errors_retire_the_iterator() {
        let mut r = reader(&["s0"]);
        let _ = r.next_request();
        let expired = reply(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ExpiredIteratorException"}"#,
        );
        match r.take(&expired) {
            Outcome::Error { kind, .. } => assert_eq!(kind, "400 ExpiredIteratorException"),
            other => panic!("{other:?}"),
        }
        let (op, _, _) = r.next_request();
        assert_eq!(op, "GetShardIterator");
        match r.take(&reply(400, r#"{"__type":"x#ResourceNotFoundException"}"#)) {
            Outcome::Error { kind, .. } => {
                assert_eq!(kind, "GetShardIterator 400 ResourceNotFoundException")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.next_request().0, "GetShardIterator");
    }
}
