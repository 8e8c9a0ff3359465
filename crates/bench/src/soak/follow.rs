//! A stream consumer for the soak: it follows every shard of the table's
//! stream as an application would (parents read to their end before their
//! children, new shards found with DescribeStream as the old ones close),
//! reads each with GetRecords on the previous answer's iterator, and checks
//! that sequence numbers only grow within a shard.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::mix::Op;
use super::tally::Tally;
use crate::client::{Conn, Reply};
use crate::wire;

/// How long a shard whose tip was reached rests before it is polled again
/// (the pace of the Kinesis client library's idle reader).
const TIP_REST: Duration = Duration::from_millis(250);
/// How long a shard rests after a failed call.
const ERROR_REST: Duration = Duration::from_secs(1);
/// How often DescribeStream is asked for new shards, besides whenever a
/// shard has been read to its end.
const DESCRIBE_EVERY: Duration = Duration::from_secs(5);

/// One shard as the reader knows it.
struct Shard {
    parent: Option<String>,
    /// `None` until a GetShardIterator, and after a failed call.
    iterator: Option<String>,
    /// The last sequence number read from the shard.
    last: Option<String>,
    /// Closed and read to its end.
    finished: bool,
    rest_until: Instant,
}

/// What to do next.
pub enum Step {
    /// Send this request (GetRecords is measured; the others are side
    /// calls).
    Call { op: &'static str, body: Bytes },
    /// Nothing to read now.
    Wait(Duration),
}

/// The call in flight, which its answer is read against.
enum Pending {
    Describe,
    Iterator(String),
    Records(String),
}

/// One stream reader.
pub struct Follower {
    arn: String,
    shards: HashMap<String, Shard>,
    /// Shard ids in the order DescribeStream listed them (oldest first).
    order: Vec<String>,
    at: usize,
    next_describe: Instant,
    /// Collected over the pages of one DescribeStream walk.
    listed: Vec<(String, Option<String>)>,
    pending: Option<Pending>,
}

/// Whether sequence number `b` is greater than `a`: both are decimal
/// strings without leading zeros, which DynamoDB says to compare as
/// numbers and which may be longer than any integer type.
pub fn seq_greater(b: &str, a: &str) -> bool {
    (b.len(), b) > (a.len(), a)
}

/// The string values of every `"name":"…"` member of `body`, in order.
fn string_values<'a>(body: &'a [u8], name: &[u8]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = wire::find(&body[from..], name) {
        let start = from + i + name.len();
        let Some(len) = body[start..].iter().position(|&b| b == b'"') else {
            break;
        };
        if let Ok(s) = std::str::from_utf8(&body[start..start + len]) {
            out.push(s);
        }
        from = start + len;
    }
    out
}

/// The last `"ApproximateCreationDateTime":<number>` of a page, in seconds.
fn last_creation_time(body: &[u8]) -> Option<f64> {
    const NAME: &[u8] = b"\"ApproximateCreationDateTime\":";
    let mut at = None;
    let mut from = 0;
    while let Some(i) = wire::find(&body[from..], NAME) {
        at = Some(from + i + NAME.len());
        from += i + NAME.len();
    }
    let start = at?;
    let len = body[start..]
        .iter()
        .position(|b| !(b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')))
        .unwrap_or(body.len() - start);
    std::str::from_utf8(&body[start..start + len])
        .ok()?
        .parse()
        .ok()
}

impl Follower {
    pub fn new(arn: String) -> Follower {
        Follower {
            arn,
            shards: HashMap::new(),
            order: Vec::new(),
            at: 0,
            next_describe: Instant::now(),
            listed: Vec::new(),
            pending: None,
        }
    }

    /// Whether a shard may be read now: not finished, its parent (if the
    /// reader knows it) read to its end, not resting.
    fn readable(&self, id: &str, now: Instant) -> bool {
        let Some(s) = self.shards.get(id) else {
            return false;
        };
        let parent_done = s
            .parent
            .as_ref()
            .and_then(|p| self.shards.get(p))
            .is_none_or(|p| p.finished);
        !s.finished && parent_done && s.rest_until <= now
    }

    /// The next call to make.
    pub fn next(&mut self, now: Instant) -> Step {
        if now >= self.next_describe || self.order.is_empty() {
            return self.describe(None);
        }
        let n = self.order.len();
        for k in 0..n {
            let i = (self.at + k) % n;
            let id = self.order[i].clone();
            if !self.readable(&id, now) {
                continue;
            }
            self.at = i;
            let shard = &self.shards[&id];
            return match &shard.iterator {
                Some(it) => {
                    let body = serde_json::json!({ "ShardIterator": it, "Limit": 1000 });
                    self.pending = Some(Pending::Records(id));
                    Step::Call {
                        op: "GetRecords",
                        body: Bytes::from(body.to_string()),
                    }
                }
                None => {
                    let mut body = serde_json::json!({
                        "StreamArn": self.arn,
                        "ShardId": id,
                        "ShardIteratorType": "TRIM_HORIZON",
                    });
                    if let Some(seq) = &shard.last {
                        body["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER".into();
                        body["SequenceNumber"] = seq.clone().into();
                    }
                    self.pending = Some(Pending::Iterator(id));
                    Step::Call {
                        op: "GetShardIterator",
                        body: Bytes::from(body.to_string()),
                    }
                }
            };
        }
        let wake = self
            .shards
            .values()
            .filter(|s| !s.finished)
            .map(|s| s.rest_until)
            .chain([self.next_describe])
            .min()
            .unwrap_or(self.next_describe);
        Step::Wait(
            wake.saturating_duration_since(now)
                .max(Duration::from_millis(5)),
        )
    }

    /// Forgets the call in flight (its connection failed); the next
    /// [`Follower::next`] asks again.
    pub fn abandon(&mut self) {
        if matches!(self.pending.take(), Some(Pending::Describe)) {
            self.listed.clear();
        }
    }

    fn describe(&mut self, start: Option<String>) -> Step {
        let mut body = serde_json::json!({ "StreamArn": self.arn });
        if let Some(s) = &start {
            body["ExclusiveStartShardId"] = s.clone().into();
        }
        if start.is_none() {
            self.listed.clear();
        }
        self.pending = Some(Pending::Describe);
        Step::Call {
            op: "DescribeStream",
            body: Bytes::from(body.to_string()),
        }
    }

    /// Reads the answer to the last call into the reader's state and
    /// `tally`; `micros` is its latency. Returns a follow-up call that
    /// must be made at once (the next DescribeStream page), if any.
    pub fn take(&mut self, reply: &Reply, micros: u64, tally: &mut Tally) -> Option<Step> {
        let now = Instant::now();
        match self.pending.take()? {
            Pending::Describe => {
                tally.streams.side_calls += 1;
                if !reply.ok() {
                    self.next_describe = now + ERROR_REST;
                    let kind = format!("DescribeStream {}", reply.error_kind());
                    tally.failure(Op::GetRecords, kind, || wire::reply_text(reply));
                    return None;
                }
                let v = reply.json();
                let description = &v["StreamDescription"];
                for shard in description["Shards"].as_array().into_iter().flatten() {
                    if let Some(id) = shard["ShardId"].as_str() {
                        let parent = shard["ParentShardId"].as_str().map(str::to_owned);
                        self.listed.push((id.to_owned(), parent));
                    }
                }
                if let Some(next) = description["LastEvaluatedShardId"].as_str() {
                    return Some(self.describe(Some(next.to_owned())));
                }
                self.adopt_listing(now);
                tally.streams.shards_known =
                    tally.streams.shards_known.max(self.order.len() as u64);
                None
            }
            Pending::Iterator(id) => {
                tally.streams.side_calls += 1;
                let shard = self.shards.get_mut(&id)?;
                match wire::string_member(&reply.body, "ShardIterator").filter(|_| reply.ok()) {
                    Some(it) => shard.iterator = Some(it),
                    None => {
                        shard.rest_until = now + ERROR_REST;
                        let kind = format!("GetShardIterator {}", reply.error_kind());
                        tally.failure(Op::GetRecords, kind, || wire::reply_text(reply));
                    }
                }
                None
            }
            Pending::Records(id) => {
                self.take_records(&id, reply, micros, tally, now);
                None
            }
        }
    }

    /// Keeps the shards DescribeStream listed (new ones appended in its
    /// order) and forgets finished shards it no longer lists (trimmed).
    fn adopt_listing(&mut self, now: Instant) {
        let listed = std::mem::take(&mut self.listed);
        for (id, parent) in &listed {
            if !self.shards.contains_key(id) {
                self.shards.insert(
                    id.clone(),
                    Shard {
                        parent: parent.clone(),
                        iterator: None,
                        last: None,
                        finished: false,
                        rest_until: now,
                    },
                );
                self.order.push(id.clone());
            }
        }
        let shards = &mut self.shards;
        self.order.retain(|id| {
            let keep = listed.iter().any(|(l, _)| l == id) || !shards[id].finished;
            if !keep {
                shards.remove(id);
            }
            keep
        });
        self.at = self.at.min(self.order.len().saturating_sub(1));
        self.next_describe = now + DESCRIBE_EVERY;
    }

    fn take_records(
        &mut self,
        id: &str,
        reply: &Reply,
        micros: u64,
        tally: &mut Tally,
        now: Instant,
    ) {
        let Some(shard) = self.shards.get_mut(id) else {
            return;
        };
        if !reply.ok() {
            // The iterator may be spent: take a new one after the last
            // record read.
            shard.iterator = None;
            shard.rest_until = now + ERROR_REST;
            tally.answer(
                Op::GetRecords,
                micros,
                super::mix::Judged {
                    class: super::mix::Class::Error,
                    kind: Some(reply.error_kind()),
                    unprocessed: 0,
                    scan_next: None,
                },
                || wire::reply_text(reply),
            );
            return;
        }
        let body = &reply.body;
        if wire::find(body, b"\"Records\":").is_none() {
            shard.iterator = None;
            shard.rest_until = now + ERROR_REST;
            tally.failure(
                Op::GetRecords,
                "200 GetRecords without Records".to_owned(),
                || wire::reply_text(reply),
            );
            return;
        }
        let seqs = string_values(body, b"\"SequenceNumber\":\"");
        let records = seqs.len() as u64;
        let s = &mut tally.streams;
        s.records += records;
        s.inserts += wire::occurrences(body, b"\"eventName\":\"INSERT\"");
        s.modifies += wire::occurrences(body, b"\"eventName\":\"MODIFY\"");
        s.removes += wire::occurrences(body, b"\"eventName\":\"REMOVE\"");
        // The Streams API spells the member `PrincipalId` (Lambda's events
        // `principalId`); the value names the TTL service either way and
        // occurs nowhere else in a record.
        s.ttl_removes += wire::occurrences(body, b"\"dynamodb.amazonaws.com\"");
        let mut backwards = None;
        for seq in seqs {
            if let Some(last) = &shard.last {
                s.seq_checked += 1;
                if !seq_greater(seq, last) {
                    s.seq_violations += 1;
                    backwards.get_or_insert_with(|| format!("{last} then {seq}"));
                }
            }
            shard.last = Some(seq.to_owned());
        }
        if records > 0 {
            if let Some(created) = last_creation_time(body) {
                let now_secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64();
                let lag = ((now_secs - created).max(0.0) * 1000.0) as u64;
                s.max_lag_ms = s.max_lag_ms.max(Some(lag));
            }
        }
        match wire::string_member(body, "NextShardIterator") {
            Some(next) => {
                shard.iterator = Some(next);
                if records == 0 {
                    shard.rest_until = now + TIP_REST;
                }
            }
            None => {
                shard.iterator = None;
                shard.finished = true;
                s.shards_finished += 1;
                // Its children may be listed by now.
                self.next_describe = now;
            }
        }
        tally.answer(
            Op::GetRecords,
            micros,
            super::mix::Judged {
                class: super::mix::Class::Ok,
                kind: None,
                unprocessed: 0,
                scan_next: None,
            },
            String::new,
        );
        if let Some(what) = backwards {
            tally.failure(
                Op::GetRecords,
                "sequence number did not grow within a shard".to_owned(),
                || format!("shard {id}: {what}"),
            );
        }
    }
}

/// Finds the stream of `table` (DescribeTable's `LatestStreamArn`).
pub async fn stream_arn(conn: &mut Conn, table: &str) -> Result<String, String> {
    let reply = conn
        .call(
            "DescribeTable",
            Bytes::from(format!(r#"{{"TableName":"{table}"}}"#)),
        )
        .await?;
    match reply.json()["Table"]["LatestStreamArn"].as_str() {
        Some(arn) if reply.ok() && !arn.is_empty() => Ok(arn.to_owned()),
        _ => Err(format!(
            "DescribeTable of {table} shows no stream: {}",
            wire::reply_text(&reply)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::reply;

    fn call(step: Step) -> (&'static str, serde_json::Value) {
        match step {
            Step::Call { op, body, .. } => (op, serde_json::from_slice(&body).unwrap()),
            Step::Wait(d) => panic!("waits {d:?}"),
        }
    }

    fn record(seq: &str, event: &str) -> String {
        format!(
            r#"{{"eventID":"e{seq}","eventName":"{event}","dynamodb":{{"ApproximateCreationDateTime":1700000000.5,"Keys":{{}},"SequenceNumber":"{seq}","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"}}}}"#
        )
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(seq_greater(
            "100000000000000000010",
            "100000000000000000009"
        ));
        assert!(seq_greater("1000", "999"));
        assert!(!seq_greater("999", "1000"));
        assert!(!seq_greater("5", "5"));
    }

    #[test]
    fn scans_pages_without_parsing_them() {
        let body = format!(
            r#"{{"Records":[{},{}],"NextShardIterator":"x"}}"#,
            record("101", "INSERT"),
            record("102", "REMOVE")
        );
        assert_eq!(
            string_values(body.as_bytes(), b"\"SequenceNumber\":\""),
            ["101", "102"]
        );
        assert_eq!(last_creation_time(body.as_bytes()), Some(1_700_000_000.5));
        assert_eq!(last_creation_time(b"{}"), None);
    }

    /// The reader lists the shards, reads the parent to its end before the
    /// child, resumes after the last sequence number when an iterator
    /// fails, and reports a sequence number that did not grow.
    #[test]
    fn follows_shards_in_lineage_order() {
        let mut f = Follower::new("arn:s".into());
        let mut tally = Tally::default();
        let now = Instant::now();
        let (op, v) = call(f.next(now));
        assert_eq!(
            (op, v["StreamArn"].as_str()),
            ("DescribeStream", Some("arn:s"))
        );
        // Two pages: the parent on the first, its child on the second.
        let page1 =
            r#"{"StreamDescription":{"Shards":[{"ShardId":"a"}],"LastEvaluatedShardId":"a"}}"#;
        let (op, v) = call(f.take(&reply(200, page1), 10, &mut tally).unwrap());
        assert_eq!(
            (op, v["ExclusiveStartShardId"].as_str()),
            ("DescribeStream", Some("a"))
        );
        let page2 = r#"{"StreamDescription":{"Shards":[{"ShardId":"b","ParentShardId":"a"}]}}"#;
        assert!(f.take(&reply(200, page2), 10, &mut tally).is_none());
        assert_eq!(tally.streams.shards_known, 2);
        // The child waits for its parent: an iterator for `a` first.
        let (op, v) = call(f.next(Instant::now()));
        assert_eq!(op, "GetShardIterator");
        assert_eq!(
            (v["ShardId"].as_str(), v["ShardIteratorType"].as_str()),
            (Some("a"), Some("TRIM_HORIZON"))
        );
        f.take(&reply(200, r#"{"ShardIterator":"a0"}"#), 10, &mut tally);
        let (op, v) = call(f.next(Instant::now()));
        assert_eq!(
            (op, v["ShardIterator"].as_str()),
            ("GetRecords", Some("a0"))
        );
        let page = format!(
            r#"{{"Records":[{},{}],"NextShardIterator":"a1"}}"#,
            record("100000000000000000001", "INSERT"),
            record("100000000000000000002", "MODIFY")
        );
        f.take(&reply(200, &page), 500, &mut tally);
        assert_eq!(tally.streams.records, 2);
        assert_eq!(tally.streams.seq_checked, 1);
        // A failed GetRecords: a new iterator after the last record read.
        let (_, v) = call(f.next(Instant::now()));
        assert_eq!(v["ShardIterator"], "a1");
        f.take(
            &reply(400, r#"{"__type":"x#ExpiredIteratorException"}"#),
            5,
            &mut tally,
        );
        assert_eq!(tally.op(Op::GetRecords).errors, 1);
        let later = Instant::now() + ERROR_REST + Duration::from_millis(1);
        let (op, v) = call(f.next(later));
        assert_eq!(op, "GetShardIterator");
        assert_eq!(v["ShardIteratorType"], "AFTER_SEQUENCE_NUMBER");
        assert_eq!(v["SequenceNumber"], "100000000000000000002");
        f.take(&reply(200, r#"{"ShardIterator":"a2"}"#), 10, &mut tally);
        // The parent's last page has a sequence number that went back, and
        // no next iterator: it is closed and done.
        let (_, v) = call(f.next(later));
        assert_eq!(v["ShardIterator"], "a2");
        let removed = record("100000000000000000002", "REMOVE").replacen(
            "}}",
            r#"},"userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}}"#,
            1,
        );
        let last = format!(r#"{{"Records":[{removed}]}}"#);
        f.take(&reply(200, &last), 10, &mut tally);
        assert_eq!(tally.streams.seq_violations, 1);
        assert_eq!(tally.streams.shards_finished, 1);
        assert_eq!(tally.streams.removes, 1);
        assert_eq!(tally.streams.ttl_removes, 1);
        let problem = tally
            .kinds
            .get(&(
                Op::GetRecords,
                "sequence number did not grow within a shard".to_owned(),
            ))
            .unwrap();
        assert!(problem.sample.contains("shard a"), "{}", problem.sample);
        // A finished shard asks for a fresh listing, then the child is read.
        let (op, _) = call(f.next(later));
        assert_eq!(op, "DescribeStream");
        let listing = r#"{"StreamDescription":{"Shards":[{"ShardId":"a"},{"ShardId":"b","ParentShardId":"a"}]}}"#;
        f.take(&reply(200, listing), 10, &mut tally);
        let (op, v) = call(f.next(later));
        assert_eq!((op, v["ShardId"].as_str()), ("GetShardIterator", Some("b")));
        f.take(&reply(200, r#"{"ShardIterator":"b0"}"#), 10, &mut tally);
        let (_, v) = call(f.next(later));
        assert_eq!(v["ShardIterator"], "b0");
        // At the tip: the shard rests, and the reader waits.
        f.take(
            &reply(200, r#"{"Records":[],"NextShardIterator":"b1"}"#),
            10,
            &mut tally,
        );
        assert!(matches!(f.next(Instant::now()), Step::Wait(_)));
        assert_eq!(tally.op(Op::GetRecords).ok, 3);
        // Once `a` is trimmed away, the listing forgets it.
        let trimmed = r#"{"StreamDescription":{"Shards":[{"ShardId":"b","ParentShardId":"a"}]}}"#;
        let _ = f.describe(None);
        f.take(&reply(200, trimmed), 10, &mut tally);
        assert_eq!(f.order, ["b"]);
        let (_, v) = call(f.next(later + TIP_REST));
        assert_eq!(v["ShardIterator"], "b1");
    }
}
