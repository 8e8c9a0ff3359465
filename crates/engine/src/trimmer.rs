//! Stream retention: one background task per open tenant, running only
//! while the tenant has a stream (enabled, or disabled and not yet gone).
//! Every interval it removes the records older than the retention period
//! (24 hours), closed shards left empty, and disabled streams with nothing
//! left, in bounded, paced transactions.

use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::run::{self, storage_error};
use crate::streams::{self, StreamMeta};
use crate::tenant::Tenant;

/// Records removed per kv transaction, at most.
const TRIM_BATCH: usize = 1000;

/// Whether the tenant's trimmer task is running.
#[derive(Default)]
pub struct Trimmer {
    running: Mutex<bool>,
}

fn has_streams(tenant: &Tenant) -> bool {
    tenant.tables().iter().any(|t| t.stream.is_some()) || tenant.has_stream_history()
}

/// Starts the tenant's trimmer unless it runs already or the tenant has no
/// stream. Called when a tenant opens and after a stream is enabled.
pub fn ensure(tenant: &Arc<Tenant>) {
    if !has_streams(tenant) {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let mut running = tenant.trimmer.running.lock();
    if *running {
        return;
    }
    *running = true;
    handle.spawn(trim_forever(Arc::downgrade(tenant)));
}

async fn trim_forever(tenant: Weak<Tenant>) {
    loop {
        let Some(interval) = tenant
            .upgrade()
            .map(|t| Duration::from_millis(t.stream_settings.trim_interval_ms))
        else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(tenant) = tenant.upgrade() else {
            return;
        };
        match trim_once(&tenant).await {
            Ok(0) => {
                let mut running = tenant.trimmer.running.lock();
                if !has_streams(&tenant) {
                    *running = false;
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e.message, "stream trim failed"),
        }
    }
}

/// Trims every stream of the tenant once; returns how many streams are
/// left.
pub async fn trim_once(tenant: &Arc<Tenant>) -> Result<usize, openddb_core::DynamoError> {
    let all: Vec<StreamMeta> =
        run::read(&tenant.kv, |txn| streams::list(txn).map_err(storage_error)).await?;
    let cutoff = streams::now_ms().saturating_sub(tenant.stream_settings.retention_ms);
    for stream in &all {
        loop {
            let started = std::time::Instant::now();
            let s = stream.clone();
            let removed = run::write(&tenant.kv, move |txn| {
                Ok(Ok(streams::trim(txn, &s, cutoff, TRIM_BATCH)?))
            })
            .await?;
            if removed < TRIM_BATCH {
                break;
            }
            tokio::time::sleep(started.elapsed()).await;
        }
    }
    let left = run::read(&tenant.kv, |txn| streams::list(txn).map_err(storage_error)).await?;
    tenant.set_stream_history(left.iter().any(|s| s.disabled_ms.is_some()));
    Ok(left.len())
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
                        .map(|sh| streams::read(&*snap, s.id, sh.index, 0, 100).unwrap().len())
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
