//! Time to Live through the SDK: a server with a short sweep cadence, items
//! that expire and disappear, each leaving a REMOVE stream record that
//! names DynamoDB's service; unexpired items and items without a usable
//! TTL value stay.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    BillingMode, KeyType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use common::{attr_def, item, key_elem, n, read_stream, s, Server};
use openddb::{Database, StorageConfig};

const TABLE: &str = "Sessions";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

async fn exists(client: &Client, pk: &str) -> bool {
    client
        .get_item()
        .table_name(TABLE)
        .key("pk", s(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .is_some()
}

async fn run(db: Database) {
    let server = Server::with_database(db).await;
    let client = server.client();
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("stream specification"),
        )
        .send()
        .await
        .expect("CreateTable");
    let ttl = client
        .update_time_to_live()
        .table_name(TABLE)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires")
                .build()
                .expect("TTL specification"),
        )
        .send()
        .await
        .expect("UpdateTimeToLive");
    assert_eq!(
        ttl.time_to_live_specification().map(|t| t.attribute_name()),
        Some("expires")
    );
    let described = client
        .describe_time_to_live()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTimeToLive");
    let d = described.time_to_live_description().expect("description");
    assert_eq!(d.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(d.attribute_name(), Some("expires"));

    let now = now_secs();
    let expired = ["gone-1", "gone-2", "gone-3"];
    for pk in expired {
        client
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item([
                ("pk", s(pk)),
                ("expires", n(&(now - 10).to_string())),
            ])))
            .send()
            .await
            .expect("PutItem expired");
    }
    let kept = [
        ("future", n(&(now + 3600).to_string())),
        ("not-a-number", s(&(now - 10).to_string())),
        // More than five years in the past: DynamoDB never deletes these.
        ("ancient", n(&(now - 6 * 365 * 86_400).to_string())),
    ];
    for (pk, v) in &kept {
        client
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item([("pk", s(pk)), ("expires", v.clone())])))
            .send()
            .await
            .expect("PutItem kept");
    }

    // Expired items are readable until the sweeper deletes them; then
    // they are gone within a few sweeps.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut left = 0;
        for pk in expired {
            left += usize::from(exists(&client, pk).await);
        }
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} expired items still there"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (pk, _) in &kept {
        assert!(exists(&client, pk).await, "{pk} must stay");
    }
    let count = client
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTable")
        .table
        .and_then(|t| t.item_count);
    assert_eq!(count, Some(kept.len() as i64));

    // Each deletion left a REMOVE record naming the TTL service, with the
    // old image; the user's writes carry no identity.
    let arn = client
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTable")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("LatestStreamArn");
    let records: Vec<_> = read_stream(&server.streams(), &arn)
        .await
        .into_iter()
        .flat_map(|shard| shard.records)
        .collect();
    let removes: Vec<_> = records
        .iter()
        .filter(|r| r.event_name() == Some(&aws_sdk_dynamodbstreams::types::OperationType::Remove))
        .collect();
    assert_eq!(removes.len(), expired.len());
    for r in &removes {
        let identity = r.user_identity().expect("userIdentity on a TTL deletion");
        assert_eq!(identity.r#type(), Some("Service"));
        assert_eq!(identity.principal_id(), Some("dynamodb.amazonaws.com"));
        let old = r
            .dynamodb()
            .and_then(|d| d.old_image())
            .expect("OldImage of the expired item");
        assert!(old.contains_key("expires"));
    }
    let inserts = records.len() - removes.len();
    assert_eq!(inserts, expired.len() + kept.len());
    assert!(records
        .iter()
        .filter(|r| r.event_name() != Some(&aws_sdk_dynamodbstreams::types::OperationType::Remove))
        .all(|r| r.user_identity().is_none()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_items_disappear_with_their_stream_records_in_memory() {
    run(Database::open(StorageConfig::InMemory)
        .expect("open")
        .with_ttl_sweep_interval(Duration::from_millis(100)))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_items_disappear_with_their_stream_records_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(
        Database::open(StorageConfig::Directory(dir.path().to_path_buf()))
            .expect("open")
            .with_ttl_sweep_interval(Duration::from_millis(100)),
    )
    .await;
}
