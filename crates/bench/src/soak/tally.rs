//! What the soak's workers and stream readers count: per operation, the
//! answers by class and a latency histogram; per answer other than
//! success, its kind with a sample; what the stream readers saw. Each
//! task fills its own tally; the reporter takes them every interval.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::mix::{Class, Judged, Op, OPS};

/// Latency histogram, 1 µs to 60 s. Two significant digits (1 %) are
/// plenty for a soak and keep each histogram at ~20 KiB, where three would
/// take ~140 KiB for each of 14 operations in each of 34 tasks.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid histogram bounds")
}

/// One operation's answers.
#[derive(Clone)]
pub struct OpTally {
    /// Latency of every answered request (whatever the answer), in µs.
    pub latency: Histogram<u64>,
    pub ok: u64,
    pub cond_failed: u64,
    pub conflicts: u64,
    pub throttled: u64,
    /// Wrong answers and 5xx (answered), and transport failures.
    pub errors: u64,
    /// Of `errors`, requests that got no answer at all.
    pub transport: u64,
    /// Items or keys left unprocessed by batch operations.
    pub unprocessed: u64,
}

impl OpTally {
    fn new() -> OpTally {
        OpTally {
            latency: new_histogram(),
            ok: 0,
            cond_failed: 0,
            conflicts: 0,
            throttled: 0,
            errors: 0,
            transport: 0,
            unprocessed: 0,
        }
    }

    /// Requests sent (answered or not).
    pub fn requests(&self) -> u64 {
        self.ok + self.cond_failed + self.conflicts + self.throttled + self.errors
    }

    fn merge(&mut self, other: &OpTally) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.ok += other.ok;
        self.cond_failed += other.cond_failed;
        self.conflicts += other.conflicts;
        self.throttled += other.throttled;
        self.errors += other.errors;
        self.transport += other.transport;
        self.unprocessed += other.unprocessed;
    }
}

/// How many answers of one kind, and the first one's text.
#[derive(Debug, Clone)]
pub struct KindCount {
    pub class: Class,
    pub count: u64,
    pub sample: String,
}

/// What the stream readers saw.
#[derive(Debug, Clone, Default)]
pub struct StreamTally {
    pub records: u64,
    pub inserts: u64,
    pub modifies: u64,
    pub removes: u64,
    /// REMOVE records made by Time to Live (the service's identity).
    pub ttl_removes: u64,
    /// Sequence numbers compared with the one before on their shard.
    pub seq_checked: u64,
    /// ... of which did not grow.
    pub seq_violations: u64,
    /// Shards read to their end (closed and exhausted).
    pub shards_finished: u64,
    /// Most shards one reader knew of at once.
    pub shards_known: u64,
    /// Largest lag seen: now minus the creation time of the last record of
    /// a page, in ms.
    pub max_lag_ms: Option<u64>,
    /// DescribeStream and GetShardIterator calls (not in the latency).
    pub side_calls: u64,
}

impl StreamTally {
    fn merge(&mut self, other: &StreamTally) {
        self.records += other.records;
        self.inserts += other.inserts;
        self.modifies += other.modifies;
        self.removes += other.removes;
        self.ttl_removes += other.ttl_removes;
        self.seq_checked += other.seq_checked;
        self.seq_violations += other.seq_violations;
        self.shards_finished += other.shards_finished;
        self.shards_known = self.shards_known.max(other.shards_known);
        self.max_lag_ms = self.max_lag_ms.max(other.max_lag_ms);
        self.side_calls += other.side_calls;
    }
}

/// Everything one task (or, merged, the whole run) counted.
#[derive(Clone)]
pub struct Tally {
    pub ops: Vec<OpTally>,
    pub kinds: BTreeMap<(Op, String), KindCount>,
    pub streams: StreamTally,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            ops: OPS.iter().map(|_| OpTally::new()).collect(),
            kinds: BTreeMap::new(),
            streams: StreamTally::default(),
        }
    }
}

/// Longest sample kept of an answer.
const SAMPLE_CHARS: usize = 300;

impl Tally {
    pub fn op(&self, op: Op) -> &OpTally {
        &self.ops[op.index()]
    }

    /// Counts one judged answer and its latency.
    pub fn answer(&mut self, op: Op, micros: u64, judged: Judged, sample: impl FnOnce() -> String) {
        let t = &mut self.ops[op.index()];
        t.latency.saturating_record(micros.clamp(1, 60_000_000));
        t.unprocessed += judged.unprocessed;
        match judged.class {
            Class::Ok => t.ok += 1,
            Class::CondFailed => t.cond_failed += 1,
            Class::Conflict => t.conflicts += 1,
            Class::Throttled => t.throttled += 1,
            Class::Error => t.errors += 1,
        }
        if let Some(kind) = judged.kind {
            self.kind(op, judged.class, kind, sample);
        }
    }

    /// Counts a request that got no answer (or a problem found without a
    /// request, such as a sequence number that went backwards).
    pub fn failure(&mut self, op: Op, kind: String, sample: impl FnOnce() -> String) {
        let t = &mut self.ops[op.index()];
        t.errors += 1;
        if kind.starts_with("transport") {
            t.transport += 1;
        }
        self.kind(op, Class::Error, kind, sample);
    }

    fn kind(&mut self, op: Op, class: Class, kind: String, sample: impl FnOnce() -> String) {
        self.kinds
            .entry((op, kind))
            .or_insert_with(|| KindCount {
                class,
                count: 0,
                sample: sample().chars().take(SAMPLE_CHARS).collect(),
            })
            .count += 1;
    }

    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Tally) {
        for (mine, theirs) in self.ops.iter_mut().zip(&other.ops) {
            mine.merge(theirs);
        }
        for (key, k) in &other.kinds {
            self.kinds
                .entry(key.clone())
                .and_modify(|mine| mine.count += k.count)
                .or_insert_with(|| k.clone());
        }
        self.streams.merge(&other.streams);
    }

    /// All operations together.
    pub fn all(&self) -> OpTally {
        let mut sum = OpTally::new();
        for t in &self.ops {
            sum.merge(t);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(class: Class, kind: Option<&str>, unprocessed: u64) -> Judged {
        Judged {
            class,
            kind: kind.map(str::to_owned),
            unprocessed,
            scan_next: None,
        }
    }

    #[test]
    fn counts_and_merges() {
        let mut a = Tally::default();
        a.answer(Op::GetItem, 120, judged(Class::Ok, None, 0), String::new);
        a.answer(
            Op::UpdateItem,
            300,
            judged(
                Class::CondFailed,
                Some("400 ConditionalCheckFailedException"),
                0,
            ),
            || "first".to_owned(),
        );
        a.answer(Op::BatchWrite, 900, judged(Class::Ok, None, 3), String::new);
        let mut b = Tally::default();
        b.answer(
            Op::UpdateItem,
            200,
            judged(
                Class::CondFailed,
                Some("400 ConditionalCheckFailedException"),
                0,
            ),
            || "second".to_owned(),
        );
        b.failure(
            Op::GetItem,
            "transport: no answer within 30s".to_owned(),
            || "x".repeat(1000),
        );
        b.streams.records = 7;
        b.streams.max_lag_ms = Some(40);
        a.merge(&b);
        assert_eq!(a.op(Op::GetItem).ok, 1);
        assert_eq!(a.op(Op::GetItem).errors, 1);
        assert_eq!(a.op(Op::GetItem).transport, 1);
        // A request without an answer has no latency.
        assert_eq!(a.op(Op::GetItem).latency.len(), 1);
        assert_eq!(a.op(Op::UpdateItem).cond_failed, 2);
        assert_eq!(a.op(Op::BatchWrite).unprocessed, 3);
        let ccf = &a.kinds[&(
            Op::UpdateItem,
            "400 ConditionalCheckFailedException".to_owned(),
        )];
        assert_eq!((ccf.count, ccf.sample.as_str()), (2, "first"));
        let transport = &a.kinds[&(Op::GetItem, "transport: no answer within 30s".to_owned())];
        assert_eq!(transport.sample.len(), SAMPLE_CHARS);
        assert_eq!(a.streams.records, 7);
        assert_eq!(a.streams.max_lag_ms, Some(40));
        let all = a.all();
        assert_eq!(all.requests(), 5);
        assert_eq!(all.cond_failed, 2);
        assert_eq!(all.latency.len(), 4);
    }
}
