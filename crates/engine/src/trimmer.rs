//! Stream retention: one background job per open tenant, running only
//! while the tenant has a stream (enabled, or disabled and not yet gone).
//! Every interval it removes the records older than the retention period
//! (24 hours), closed shards left empty, and disabled streams with nothing
//! left, in bounded, paced transactions. A stream whose trim keeps failing
//! is left until the next round (and reported) so the others are trimmed.

use std::sync::Arc;
use std::time::Duration;

use openddb_kv::{KvError, Outcome};

use crate::background::problems::Problem;
use crate::background::{self, Attempt, Job, JobKey, Step, StepFuture};
use crate::streams::{self, StreamMeta};
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
                    self.cutoff = streams::now_ms().saturating_sub(self.retention_ms);
                    self.phase = Phase::Trim;
                }
                Phase::Trim => {}
            }
            let Some(stream) = self.streams.last().cloned() else {
                let left = background::read(&tenant.kv, |txn| streams::list(txn)).await?;
                tenant.set_stream_history(left.iter().any(|s| s.disabled_ms.is_some()));
                self.phase = Phase::Start;
                return Ok(Step::Idle(self.interval));
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
