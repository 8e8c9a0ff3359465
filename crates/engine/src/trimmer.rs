//! Stream retention: one background job per open tenant, running only
//! while the tenant has a stream (enabled, or disabled and not yet gone).
//! A round removes the records older than the retention period (24
//! hours), closed shards left empty, and disabled streams with nothing
//! left, in bounded, paced transactions. The next round is due when the
//! oldest record left (or an empty closed shard, or a disabled stream)
//! passes retention, and no sooner than an interval after this one; with
//! nothing left to age the trimmer sleeps until a write appends a record
//! (`background::wakeups`), so an idle tenant is not visited at all. A
//! stream whose trim keeps failing is left until the next round (and
//! reported) so the others are trimmed.

use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{KvError, Outcome, ReadTxn};
use tokio::time::Instant;

use crate::background::problems::Problem;
use crate::background::{self, Attempt, Job, JobKey, Step, StepFuture, Timed};
use crate::streams::{self, StreamMeta};
use crate::tenancy::scheduler::ms_to_instant;
use crate::tenant::Tenant;

/// Records removed per kv transaction, at most.
const TRIM_BATCH: usize = 1000;

fn has_streams(tenant: &Tenant) -> bool {
    tenant.tables().iter().any(|t| t.stream.is_some()) || tenant.has_stream_history()
}

/// Starts the tenant's trimmer unless it runs already or the tenant has no
/// stream. Called when a tenant opens and after a stream is enabled.
pub fn ensure(tenant: &Arc<Tenant>) {
    background::start(
        tenant,
        Trim {
            interval: Duration::from_millis(tenant.stream_settings.trim_interval_ms),
            retention_ms: tenant.stream_settings.retention_ms,
            phase: Phase::Start,
            streams: Vec::new(),
            cutoff: 0,
            started: Instant::now(),
        },
    );
}

enum Phase {
    /// A round starts with the next step.
    Start,
    /// Trimming `streams`' last stream.
    Trim,
}

struct Trim {
    interval: Duration,
    retention_ms: u64,
    phase: Phase,
    /// Streams left in this round, the current one last.
    streams: Vec<StreamMeta>,
    /// Records older than this (ms) go this round.
    cutoff: u64,
    /// When this round started.
    started: Instant,
}

impl Job for Trim {
    fn key(&self) -> JobKey {
        JobKey::StreamTrim
    }

    fn wanted(&self, tenant: &Tenant) -> bool {
        has_streams(tenant)
    }

    fn step<'a>(&'a mut self, tenant: &'a Arc<Tenant>, attempt: &'a Attempt) -> StepFuture<'a> {
        Box::pin(async move {
            match self.phase {
                Phase::Start => {
                    let mut all = background::read(&tenant.kv, |txn| streams::list(txn)).await?;
                    all.reverse();
                    self.streams = all;
                    let now = streams::now_ms();
                    self.cutoff = now.saturating_sub(self.retention_ms);
                    self.started = Instant::now();
                    self.phase = Phase::Trim;
                    // Records appended during the round bring the next one
                    // forward, but not before an interval has passed.
                    let interval_ms = self.interval.as_millis() as u64;
                    tenant
                        .background
                        .wakeups
                        .hold_off(Timed::Trim, now.saturating_add(interval_ms));
                }
                Phase::Trim => {}
            }
            let Some(stream) = self.streams.last().cloned() else {
                let retention_ms = self.retention_ms;
                let (history, next) = background::read(&tenant.kv, move |txn| {
                    let left = streams::list(txn)?;
                    let history = left.iter().any(|s| s.disabled_ms.is_some());
                    Ok((history, next_trim(txn, &left, retention_ms)?))
                })
                .await?;
                tenant.set_stream_history(history);
                self.phase = Phase::Start;
                let next = next.map(|ms| ms_to_instant(ms).max(self.started + self.interval));
                return Ok(Step::Wait(next));
            };
            if attempt.give_up() {
                tracing::warn!(stream = %stream.arn, error = ?attempt.last_error,
                    "stream trim keeps failing: left until the next round");
                tenant.background.problems.add(Problem::StreamSkipped, 1);
                self.streams.pop();
                return Ok(Step::More);
            }
            let cutoff = self.cutoff;
            let (_, more) = trim_batch(tenant, stream, cutoff).await?;
            if !more {
                self.streams.pop();
            }
            Ok(Step::More)
        })
    }
}

/// When (epoch ms) something of `left` is next past retention and due to
/// go: the first record of a shard (records are trimmed oldest first, and
/// a shard's are in the order they were written), a closed shard with no
/// record, a disabled stream. `None` when nothing will be (enabled streams
/// without records). Reads one record per shard.
fn next_trim(
    txn: &dyn ReadTxn,
    left: &[StreamMeta],
    retention_ms: u64,
) -> Result<Option<u64>, KvError> {
    let mut oldest: Option<u64> = None;
    let mut consider = |ms: u64| oldest = Some(oldest.map_or(ms, |o| o.min(ms)));
    for stream in left {
        if let Some(disabled) = stream.disabled_ms {
            consider(disabled);
        }
        for shard in streams::shards(txn, stream.id)? {
            match streams::read(txn, stream.id, shard.index, 0, 1, u64::MAX)?.first() {
                Some(record) => consider(record.created_ms),
                None if shard.closed => consider(shard.opened_ms),
                None => {}
            }
        }
    }
    // Past retention once a whole millisecond older (`streams::trim`
    // keeps what is exactly at the cutoff).
    Ok(oldest.map(|ms| ms.saturating_add(retention_ms).saturating_add(1)))
}

/// One bounded trim step of `stream`: records removed, and whether more
/// may be past retention.
async fn trim_batch(
    tenant: &Tenant,
    stream: StreamMeta,
    cutoff: u64,
) -> Result<(usize, bool), KvError> {
    background::write(&tenant.kv, move |txn| {
        Ok((
            Outcome::Commit,
            streams::trim(txn, &stream, cutoff, TRIM_BATCH)?,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use openddb_core::api::{CreateTableInput, PutItemInput, UpdateTableInput};
    use openddb_core::{AttributeValue, Item};

    use crate::streams::{self, StreamSettings};
    use crate::{Database, StorageConfig};

    #[tokio::test]
    async fn records_past_retention_go_and_disabled_streams_with_them() {
        let db = Database::open(StorageConfig::InMemory)
            .unwrap()
            .with_stream_settings(StreamSettings {
                retention_ms: 0,
                trim_interval_ms: 20,
                ..Default::default()
            });
        let table: CreateTableInput = serde_json::from_value(serde_json::json!({
            "TableName": "ttt",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}
        }))
        .unwrap();
        db.create_table(table).await.unwrap();
        for i in 0..5 {
            db.put_item(PutItemInput {
                table_name: Some("ttt".into()),
                item: Some(Item::from([(
                    "pk".to_string(),
                    AttributeValue::S(format!("k{i}")),
                )])),
                ..Default::default()
            })
            .await
            .unwrap();
        }
        let tenant = db.tenant("000000000000").unwrap();
        let count = |tenant: &crate::tenant::Tenant| {
            let snap = tenant.kv.read().unwrap();
            let all = streams::list(&*snap).unwrap();
            let records: usize = all
                .iter()
                .map(|s| {
                    streams::shards(&*snap, s.id)
                        .unwrap()
                        .iter()
                        .map(|sh| {
                            streams::read(&*snap, s.id, sh.index, 0, 100, u64::MAX)
                                .unwrap()
                                .len()
                        })
                        .sum::<usize>()
                })
                .sum();
            (all.len(), records)
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(count(&tenant), (1, 0), "records trimmed, stream kept");

        let disable: UpdateTableInput = serde_json::from_value(serde_json::json!({
            "TableName": "ttt",
            "StreamSpecification": {"StreamEnabled": false}
        }))
        .unwrap();
        db.update_table(disable).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(count(&tenant), (0, 0), "the disabled stream is gone");
        assert!(!tenant.has_stream_history());
    }
}
