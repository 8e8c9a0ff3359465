//! DynamoDB Streams through the official clients: `aws-sdk-dynamodb` to
//! create, update and write tables, `aws-sdk-dynamodbstreams` for every
//! Streams operation (ListStreams, DescribeStream, GetShardIterator,
//! GetRecords) and the errors it surfaces. Records are checked field by
//! field for each view type; changes that change nothing leave no record;
//! batches and transactions leave one record per item (none when
//! cancelled); iterators of each type start where they should, and a closed
//! shard read to its end has no next iterator.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, DeleteRequest, Put, PutRequest, StreamSpecification,
    StreamViewType, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams as ds;
use common::{
    create_stream_table, create_table, describe_all_shards, from_stream_item, item, n, put,
    read_stream, s, seq_number, Server,
};
use ds::types::{OperationType, ShardIteratorType, StreamStatus};
use openddb::{StorageConfig, StreamSettings};

type Item = HashMap<String, AttributeValue>;

const VIEW_TYPES: [&str; 4] = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn spec(view_type: &str) -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(view_type))
        .build()
        .expect("stream specification")
}

fn disabled_spec() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(false)
        .build()
        .expect("stream specification")
}

async fn get(client: &Client, table: &str, key: Item) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

async fn delete(client: &Client, table: &str, key: Item) {
    client
        .delete_item()
        .table_name(table)
        .set_key(Some(key))
        .send()
        .await
        .expect("DeleteItem");
}

fn pk(v: &str) -> Item {
    item([("pk", s(v))])
}

/// The only shard of a stream that has one.
async fn only_shard(streams: &ds::Client, arn: &str) -> String {
    let (_, shards) = describe_all_shards(streams, arn).await;
    assert_eq!(shards.len(), 1, "one shard expected: {shards:?}");
    shards[0].shard_id().expect("ShardId").to_owned()
}

async fn iterator(
    streams: &ds::Client,
    arn: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    streams
        .get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shard)
        .shard_iterator_type(kind.clone())
        .set_sequence_number(seq.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetShardIterator {kind:?} {seq:?}: {e:?}"))
        .shard_iterator
        .expect("ShardIterator")
}

/// One GetRecords call: the records and the next iterator.
async fn get_records(
    streams: &ds::Client,
    it: &str,
    limit: Option<i32>,
) -> (Vec<ds::types::Record>, Option<String>) {
    let out = streams
        .get_records()
        .shard_iterator(it)
        .set_limit(limit)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetRecords: {e:?}"));
    (out.records.unwrap_or_default(), out.next_shard_iterator)
}

/// Every record of a stream, in lineage order.
async fn all_records(streams: &ds::Client, arn: &str) -> Vec<ds::types::Record> {
    read_stream(streams, arn)
        .await
        .into_iter()
        .flat_map(|r| r.records)
        .collect()
}

fn dynamodb(r: &ds::types::Record) -> &ds::types::StreamRecord {
    r.dynamodb().expect("dynamodb")
}

fn seq_of(r: &ds::types::Record) -> String {
    dynamodb(r)
        .sequence_number()
        .expect("SequenceNumber")
        .to_owned()
}

fn keys_of(r: &ds::types::Record) -> Item {
    from_stream_item(dynamodb(r).keys().expect("Keys"))
}

fn event_of(r: &ds::types::Record) -> &str {
    r.event_name().expect("eventName").as_str()
}

/// `(eventName, pk)` of a record.
fn summary(r: &ds::types::Record) -> (String, String) {
    let pk = match keys_of(r).get("pk") {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("Keys.pk is {other:?}"),
    };
    (event_of(r).to_owned(), pk)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// `YYYY-MM-DDTHH:MM:SS.mmm`, as DynamoDB labels streams.
fn is_stream_label(label: &str) -> bool {
    let b = label.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}

/// The error code of a failed call (the SDK models only some of them).
#[track_caller]
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    let err = result.expect_err("the call fails");
    let code = err.code().map(str::to_owned);
    assert!(
        err.message().is_some_and(|m| !m.is_empty()),
        "an error with a message: {err:?}"
    );
    code.unwrap_or_else(|| panic!("an error with a code: {err:?}"))
}

macro_rules! fails_with {
    ($call:expr, $code:expr) => {{
        let result = $call;
        assert_eq!(code(result), $code);
    }};
}

async fn list_streams(
    streams: &ds::Client,
    table: Option<&str>,
    limit: Option<i32>,
    start: Option<String>,
) -> (Vec<ds::types::Stream>, Option<String>) {
    let out = streams
        .list_streams()
        .set_table_name(table.map(str::to_owned))
        .set_limit(limit)
        .set_exclusive_start_stream_arn(start)
        .send()
        .await
        .expect("ListStreams");
    (
        out.streams.unwrap_or_default(),
        out.last_evaluated_stream_arn,
    )
}

fn arns(streams: &[ds::types::Stream]) -> Vec<String> {
    streams
        .iter()
        .map(|s| s.stream_arn.clone().expect("StreamArn"))
        .collect()
}

/// A server whose streams split after `split_after` records.
async fn small_shards(split_after: u64) -> Server {
    Server::with_stream_settings(
        StorageConfig::InMemory,
        StreamSettings {
            split_after,
            max_open_shards: 4,
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------
// CreateTable / UpdateTable / DeleteTable and the streams they make
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_table_with_each_view_type_shows_its_stream() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let before = now_secs();

    for (i, view_type) in VIEW_TYPES.iter().enumerate() {
        let table = format!("Created_{view_type}");
        let with_sort_key = i % 2 == 1;
        let arn = create_stream_table(&client, &table, view_type, with_sort_key).await;

        let t = client
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .expect("DescribeTable")
            .table
            .expect("Table");
        let label = t.latest_stream_label().expect("LatestStreamLabel");
        assert!(is_stream_label(label), "label {label:?}");
        assert_eq!(t.latest_stream_arn(), Some(arn.as_str()));
        assert_eq!(
            arn,
            format!("{}/stream/{label}", t.table_arn().expect("TableArn"))
        );
        assert!(
            arn.starts_with("arn:aws:dynamodb:us-east-1:"),
            "stream ARN {arn}"
        );
        let sp = t.stream_specification().expect("StreamSpecification");
        assert!(sp.stream_enabled());
        assert_eq!(sp.stream_view_type().map(|v| v.as_str()), Some(*view_type));

        let (d, shards) = describe_all_shards(&streams, &arn).await;
        assert_eq!(d.stream_arn(), Some(arn.as_str()));
        assert_eq!(d.stream_label(), Some(label));
        assert_eq!(d.stream_status(), Some(&StreamStatus::Enabled));
        assert_eq!(d.stream_view_type().map(|v| v.as_str()), Some(*view_type));
        assert_eq!(d.table_name(), Some(table.as_str()));
        let created = d
            .creation_request_date_time()
            .expect("CreationRequestDateTime")
            .secs();
        assert!(
            created >= before - 2 && created <= now_secs() + 2,
            "CreationRequestDateTime {created}, now {}",
            now_secs()
        );
        let key_schema: Vec<(&str, &str)> = d
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type().as_str()))
            .collect();
        if with_sort_key {
            assert_eq!(key_schema, [("pk", "HASH"), ("sk", "RANGE")]);
        } else {
            assert_eq!(key_schema, [("pk", "HASH")]);
        }
        // A new stream has one open shard, without parent.
        assert_eq!(shards.len(), 1, "{shards:?}");
        let shard = &shards[0];
        let id = shard.shard_id().expect("ShardId");
        assert!(
            id.starts_with("shardId-") && (28..=65).contains(&id.len()),
            "shard id {id}"
        );
        assert_eq!(shard.parent_shard_id(), None);
        let range = shard.sequence_number_range().expect("SequenceNumberRange");
        let start = range.starting_sequence_number().expect("Starting");
        assert!(
            (21..=40).contains(&start.len()) && start.bytes().all(|b| b.is_ascii_digit()),
            "starting sequence number {start}"
        );
        assert_eq!(range.ending_sequence_number(), None, "the shard is open");
    }

    // A table without a stream shows none, and lists none.
    create_table(&client, "NoStream", false).await;
    let t = client
        .describe_table()
        .table_name("NoStream")
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("Table");
    assert_eq!(t.latest_stream_arn(), None);
    assert_eq!(t.latest_stream_label(), None);
    assert!(t
        .stream_specification()
        .is_none_or(|sp| !sp.stream_enabled()));
    let (listed, _) = list_streams(&streams, Some("NoStream"), None, None).await;
    assert!(listed.is_empty(), "{listed:?}");
    let (listed, _) = list_streams(&streams, None, None, None).await;
    assert_eq!(listed.len(), VIEW_TYPES.len());
}

#[tokio::test]
async fn update_table_disables_and_reenables_a_stream_keeping_the_old_one() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    create_table(&client, "Toggle", false).await;

    // Enable.
    let out = client
        .update_table()
        .table_name("Toggle")
        .stream_specification(spec("NEW_IMAGE"))
        .send()
        .await
        .expect("UpdateTable enables the stream");
    let first = out
        .table_description
        .expect("TableDescription")
        .latest_stream_arn
        .expect("LatestStreamArn after enabling");
    let t = client
        .describe_table()
        .table_name("Toggle")
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("Table");
    assert_eq!(t.latest_stream_arn(), Some(first.as_str()));
    put(&client, "Toggle", item([("pk", s("a")), ("v", n("1"))])).await;

    // Enabling an enabled stream is refused.
    fails_with!(
        client
            .update_table()
            .table_name("Toggle")
            .stream_specification(spec("NEW_IMAGE"))
            .send()
            .await,
        "ValidationException"
    );

    // Disable: the table keeps the ARN of its latest stream, the stream is
    // DISABLED with every shard closed, and its records stay readable.
    client
        .update_table()
        .table_name("Toggle")
        .stream_specification(disabled_spec())
        .send()
        .await
        .expect("UpdateTable disables the stream");
    let t = client
        .describe_table()
        .table_name("Toggle")
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("Table");
    assert!(
        t.stream_specification()
            .is_none_or(|sp| !sp.stream_enabled()),
        "{:?}",
        t.stream_specification()
    );
    assert_eq!(t.latest_stream_arn(), Some(first.as_str()));
    let (d, shards) = describe_all_shards(&streams, &first).await;
    assert_eq!(d.stream_status(), Some(&StreamStatus::Disabled));
    assert!(!shards.is_empty());
    for shard in &shards {
        let range = shard.sequence_number_range().expect("SequenceNumberRange");
        assert!(
            range.ending_sequence_number().is_some(),
            "a disabled stream's shards are closed: {shard:?}"
        );
    }
    let reads = read_stream(&streams, &first).await;
    assert!(reads.iter().all(|r| r.exhausted), "closed shards end");
    let records: Vec<_> = reads.iter().flat_map(|r| &r.records).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(summary(records[0]), ("INSERT".into(), "a".into()));

    // Disabling a disabled stream is refused; writes leave no record.
    fails_with!(
        client
            .update_table()
            .table_name("Toggle")
            .stream_specification(disabled_spec())
            .send()
            .await,
        "ValidationException"
    );
    put(&client, "Toggle", item([("pk", s("b")), ("v", n("1"))])).await;

    // Re-enable, with another view type: a new stream, a new ARN.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let out = client
        .update_table()
        .table_name("Toggle")
        .stream_specification(spec("KEYS_ONLY"))
        .send()
        .await
        .expect("UpdateTable re-enables the stream");
    let second = out
        .table_description
        .expect("TableDescription")
        .latest_stream_arn
        .expect("LatestStreamArn after re-enabling");
    assert_ne!(first, second);
    put(&client, "Toggle", item([("pk", s("c")), ("v", n("1"))])).await;

    let (listed, _) = list_streams(&streams, Some("Toggle"), None, None).await;
    let listed: HashSet<String> = arns(&listed).into_iter().collect();
    assert_eq!(listed, HashSet::from([first.clone(), second.clone()]));
    let (d, _) = describe_all_shards(&streams, &second).await;
    assert_eq!(d.stream_status(), Some(&StreamStatus::Enabled));
    assert_eq!(d.stream_view_type().map(|v| v.as_str()), Some("KEYS_ONLY"));
    let (d, _) = describe_all_shards(&streams, &first).await;
    assert_eq!(d.stream_status(), Some(&StreamStatus::Disabled));
    assert_eq!(d.stream_view_type().map(|v| v.as_str()), Some("NEW_IMAGE"));

    // Each stream has exactly its own writes: `b` (written while disabled)
    // is in neither.
    let old: Vec<_> = all_records(&streams, &first)
        .await
        .iter()
        .map(summary)
        .collect();
    assert_eq!(old, [("INSERT".to_string(), "a".to_string())]);
    let new = all_records(&streams, &second).await;
    assert_eq!(
        new.iter().map(summary).collect::<Vec<_>>(),
        [("INSERT".to_string(), "c".to_string())]
    );
    assert_eq!(dynamodb(&new[0]).new_image(), None, "KEYS_ONLY");

    // Deleting the table disables its stream, which stays listed and readable.
    client
        .delete_table()
        .table_name("Toggle")
        .send()
        .await
        .expect("DeleteTable");
    let (d, shards) = describe_all_shards(&streams, &second).await;
    assert_eq!(d.stream_status(), Some(&StreamStatus::Disabled));
    assert!(shards.iter().all(|s| s
        .sequence_number_range()
        .and_then(|r| r.ending_sequence_number())
        .is_some()));
    let (listed, _) = list_streams(&streams, Some("Toggle"), None, None).await;
    assert_eq!(listed.len(), 2);
    let reads = read_stream(&streams, &second).await;
    assert!(reads.iter().all(|r| r.exhausted));
    assert_eq!(reads.iter().map(|r| r.records.len()).sum::<usize>(), 1);
}

// ---------------------------------------------------------------------------
// ListStreams
// ---------------------------------------------------------------------------

#[tokio::test]
async fn list_streams_filters_by_table_and_pages_by_arn() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let mut expected = Vec::new();
    for i in 0..5 {
        let table = format!("Listed{i}");
        let arn = create_stream_table(&client, &table, "NEW_IMAGE", false).await;
        expected.push((arn, table));
    }
    create_table(&client, "Unlisted", false).await;

    // All of them, each once, with table name and label.
    let (all, last) = list_streams(&streams, None, None, None).await;
    assert_eq!(last, None);
    assert_eq!(all.len(), 5, "{all:?}");
    for (arn, table) in &expected {
        let found: Vec<_> = all
            .iter()
            .filter(|s| s.stream_arn() == Some(arn.as_str()))
            .collect();
        assert_eq!(found.len(), 1, "{arn} listed once");
        assert_eq!(found[0].table_name(), Some(table.as_str()));
        let label = found[0].stream_label().expect("StreamLabel");
        assert!(arn.ends_with(&format!("/stream/{label}")), "{arn} {label}");
    }

    // By table.
    let (one, last) = list_streams(&streams, Some("Listed3"), None, None).await;
    assert_eq!(last, None);
    assert_eq!(arns(&one), [expected[3].0.clone()]);
    let (none, _) = list_streams(&streams, Some("Unlisted"), None, None).await;
    assert!(none.is_empty());
    let (none, _) = list_streams(&streams, Some("NoSuchTable"), None, None).await;
    assert!(none.is_empty());

    // Pages of two: 2 + 2 + 1, every stream once, in the unpaged order.
    let mut paged = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let (page, last) = list_streams(&streams, None, Some(2), start).await;
        pages += 1;
        assert!(page.len() <= 2);
        paged.extend(arns(&page));
        if let Some(last) = &last {
            assert_eq!(Some(last), paged.last(), "LastEvaluatedStreamArn");
        }
        start = last;
        if start.is_none() {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(paged, arns(&all));
    assert_eq!(pages, 3);

    // Bounds of Limit.
    for limit in [0, 101] {
        fails_with!(
            streams.list_streams().limit(limit).send().await,
            "ValidationException"
        );
    }
    let (page, _) = list_streams(&streams, None, Some(100), None).await;
    assert_eq!(page.len(), 5);
}

// ---------------------------------------------------------------------------
// DescribeStream
// ---------------------------------------------------------------------------

#[tokio::test]
async fn describe_stream_shows_shard_lineage_ranges_and_pages() {
    let server = small_shards(4).await;
    let client = server.client();
    let streams = server.streams();
    let arn = create_stream_table(&client, "Described", "NEW_AND_OLD_IMAGES", false).await;
    for i in 0..60 {
        put(
            &client,
            "Described",
            item([("pk", s(&format!("k{i}"))), ("v", n("1"))]),
        )
        .await;
    }

    let (d, shards) = describe_all_shards(&streams, &arn).await;
    assert_eq!(d.stream_status(), Some(&StreamStatus::Enabled));
    assert!(shards.len() > 4, "{} shards", shards.len());
    // Parents come before their children; closed shards have an end.
    let mut seen = HashSet::new();
    let mut children: HashMap<&str, usize> = HashMap::new();
    let mut open = 0;
    for (i, shard) in shards.iter().enumerate() {
        let id = shard.shard_id().expect("ShardId");
        match shard.parent_shard_id() {
            None => assert_eq!(i, 0, "only the first shard has no parent"),
            Some(p) => {
                assert!(seen.contains(p), "parent {p} of {id} listed before it");
                *children.entry(p).or_default() += 1;
            }
        }
        let range = shard.sequence_number_range().expect("SequenceNumberRange");
        let start = seq_number(range.starting_sequence_number().expect("Starting"));
        match range.ending_sequence_number() {
            Some(end) => assert!(seq_number(end) >= start, "{shard:?}"),
            None => open += 1,
        }
        assert!(seen.insert(id), "shard {id} listed once");
    }
    assert!((1..=4).contains(&open), "{open} open shards");
    assert!(
        children.values().any(|&c| c == 2),
        "a shard split into two children: {children:?}"
    );
    for parent in children.keys() {
        let p = shards
            .iter()
            .find(|s| s.shard_id() == Some(parent))
            .expect("the parent is listed");
        assert!(
            p.sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some(),
            "a parent is closed: {p:?}"
        );
    }

    // Every record lies in its shard's range; every write has one record.
    let reads = read_stream(&streams, &arn).await;
    let mut seqs = HashSet::new();
    for r in &reads {
        let range = r.shard.sequence_number_range().expect("range");
        let start = seq_number(range.starting_sequence_number().expect("Starting"));
        let end = range.ending_sequence_number().map(seq_number);
        assert_eq!(r.exhausted, end.is_some(), "closed shards end, open do not");
        for rec in &r.records {
            let seq = seq_number(&seq_of(rec));
            assert!(
                seq >= start && end.is_none_or(|e| seq <= e),
                "{seq} in {range:?}"
            );
            assert!(seqs.insert(seq), "sequence number {seq} once");
        }
        if let (Some(last), Some(end)) = (r.records.last(), end) {
            assert_eq!(
                seq_number(&seq_of(last)),
                end,
                "a closed shard ends at its last record"
            );
        }
    }
    assert_eq!(seqs.len(), 60);

    // Pages of one and of three give the same shards in the same order.
    for limit in [1, 3] {
        let mut paged = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = streams
                .describe_stream()
                .stream_arn(&arn)
                .limit(limit)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .expect("DescribeStream page");
            let d = out.stream_description.expect("StreamDescription");
            let page = d.shards();
            assert!(page.len() <= limit as usize);
            paged.extend(page.iter().map(|s| s.shard_id().unwrap().to_owned()));
            if let Some(last) = d.last_evaluated_shard_id() {
                assert_eq!(Some(last), page.last().and_then(|s| s.shard_id()));
            }
            start = d.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        let all: Vec<_> = shards
            .iter()
            .map(|s| s.shard_id().unwrap().to_owned())
            .collect();
        assert_eq!(paged, all, "pages of {limit}");
    }

    // Errors.
    let label = d.stream_label().expect("label");
    let unknown = arn.replace(label, "2020-01-01T00:00:00.000");
    fails_with!(
        streams.describe_stream().stream_arn(&unknown).send().await,
        "ResourceNotFoundException"
    );
    let other_table = arn.replace("table/Described/", "table/NoSuchTable/");
    fails_with!(
        streams
            .describe_stream()
            .stream_arn(&other_table)
            .send()
            .await,
        "ResourceNotFoundException"
    );
    for limit in [0, 101] {
        fails_with!(
            streams
                .describe_stream()
                .stream_arn(&arn)
                .limit(limit)
                .send()
                .await,
            "ValidationException"
        );
    }
}

// ---------------------------------------------------------------------------
// GetShardIterator
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_shard_iterator_of_each_type_and_its_errors() {
    let server = small_shards(5).await;
    let client = server.client();
    let streams = server.streams();
    let arn = create_stream_table(&client, "Iterated", "KEYS_ONLY", false).await;
    for i in 0..5 {
        put(&client, "Iterated", item([("pk", s(&format!("k{i}")))])).await;
    }
    // The first shard is full but still open until the next write closes it.
    let (_, shards) = describe_all_shards(&streams, &arn).await;
    assert_eq!(shards.len(), 1);
    let first = shards[0].shard_id().unwrap().to_owned();
    let it = iterator(&streams, &arn, &first, ShardIteratorType::TrimHorizon, None).await;
    let (records, _) = get_records(&streams, &it, None).await;
    assert_eq!(records.len(), 5);
    let seqs: Vec<String> = records.iter().map(seq_of).collect();

    // AT and AFTER a sequence number.
    let it = iterator(
        &streams,
        &arn,
        &first,
        ShardIteratorType::AtSequenceNumber,
        Some(&seqs[2]),
    )
    .await;
    let (got, _) = get_records(&streams, &it, None).await;
    assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), seqs[2..]);
    let it = iterator(
        &streams,
        &arn,
        &first,
        ShardIteratorType::AfterSequenceNumber,
        Some(&seqs[2]),
    )
    .await;
    let (got, _) = get_records(&streams, &it, None).await;
    assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), seqs[3..]);
    let it = iterator(
        &streams,
        &arn,
        &first,
        ShardIteratorType::AfterSequenceNumber,
        Some(&seqs[4]),
    )
    .await;
    let (got, next) = get_records(&streams, &it, None).await;
    assert!(got.is_empty());
    assert!(next.is_some(), "an open shard always has a next iterator");

    // LATEST: nothing written before it, everything written after.
    let latest = iterator(&streams, &arn, &first, ShardIteratorType::Latest, None).await;
    let (got, next) = get_records(&streams, &latest, None).await;
    assert!(got.is_empty(), "{got:?}");
    let next = next.expect("NextShardIterator");

    // Split the shard: the next write closes it.
    for i in 5..20 {
        put(&client, "Iterated", item([("pk", s(&format!("k{i}")))])).await;
    }
    let (_, shards) = describe_all_shards(&streams, &arn).await;
    assert!(shards.len() >= 3, "{shards:?}");
    let parent_range = shards[0].sequence_number_range().unwrap().clone();
    let parent_end = parent_range
        .ending_sequence_number()
        .expect("the first shard closed")
        .to_owned();
    assert_eq!(parent_end, seqs[4], "the parent ends at its last record");
    // The LATEST iterator taken on the then-open shard sees no later record
    // (they went to the children) and now ends.
    let (got, after) = get_records(&streams, &next, None).await;
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(after, None, "the closed parent is exhausted");
    let (got, after) = get_records(&streams, &latest, None).await;
    assert!(got.is_empty() && after.is_none());

    // A child: records of the parent are outside its range, and the other
    // way around.
    let mut child_seqs = Vec::new();
    let mut child_id = None;
    for child in shards
        .iter()
        .filter(|s| s.parent_shard_id() == Some(first.as_str()))
    {
        let id = child.shard_id().unwrap().to_owned();
        let it = iterator(&streams, &arn, &id, ShardIteratorType::TrimHorizon, None).await;
        let (records, _) = get_records(&streams, &it, None).await;
        if !records.is_empty() {
            child_id = Some(id);
        }
        child_seqs.extend(records.iter().map(|r| seq_number(&seq_of(r))));
    }
    let child_id = child_id.expect("a child of the first shard with records");
    // The first record after the split: the first sequence number past the
    // parent's range.
    let child_seq = child_seqs.iter().min().expect("child records").to_string();
    assert_eq!(seq_number(&child_seq), seq_number(&parent_end) + 1);
    for kind in [
        ShardIteratorType::AtSequenceNumber,
        ShardIteratorType::AfterSequenceNumber,
    ] {
        fails_with!(
            streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&child_id)
                .shard_iterator_type(kind.clone())
                .sequence_number(&seqs[0])
                .send()
                .await,
            "ValidationException"
        );
        // A child's sequence number is past the parent's end. (The first one
        // right past it is checked with AT_SEQUENCE_NUMBER in
        // `at_sequence_number_just_past_a_closed_shard_is_refused`.)
        let past_parent = (seq_number(&child_seq) + 1).to_string();
        fails_with!(
            streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&first)
                .shard_iterator_type(kind.clone())
                .sequence_number(&past_parent)
                .send()
                .await,
            "ValidationException"
        );
        // Sequence numbers far past anything written.
        for far in [
            (seq_number(&child_seq) + 1_000_000).to_string(),
            "900000000000000000000".to_string(),
        ] {
            fails_with!(
                streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(&child_id)
                    .shard_iterator_type(kind.clone())
                    .sequence_number(far)
                    .send()
                    .await,
                "ValidationException"
            );
        }
        // Missing, and not a number.
        fails_with!(
            streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&first)
                .shard_iterator_type(kind.clone())
                .send()
                .await,
            "ValidationException"
        );
        fails_with!(
            streams
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&first)
                .shard_iterator_type(kind.clone())
                .sequence_number("abc")
                .send()
                .await,
            "ValidationException"
        );
    }
    // TRIM_HORIZON of the closed parent still reads it whole, then ends.
    let it = iterator(&streams, &arn, &first, ShardIteratorType::TrimHorizon, None).await;
    let (got, next) = get_records(&streams, &it, None).await;
    assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), seqs);
    assert_eq!(next, None);
    // LATEST of a closed shard: nothing, and the end.
    let it = iterator(&streams, &arn, &first, ShardIteratorType::Latest, None).await;
    let (got, next) = get_records(&streams, &it, None).await;
    assert!(got.is_empty() && next.is_none());

    // Unknown shard, unknown stream, unknown type.
    fails_with!(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id("shardId-00000000000000000000-00000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException"
    );
    let label = arn.rsplit('/').next().unwrap();
    let unknown = arn.replace(label, "2020-01-01T00:00:00.000");
    fails_with!(
        streams
            .get_shard_iterator()
            .stream_arn(&unknown)
            .shard_id(&first)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException"
    );
    fails_with!(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(&first)
            .shard_iterator_type(ShardIteratorType::from("BOGUS"))
            .send()
            .await,
        "ValidationException"
    );
}

// AT_SEQUENCE_NUMBER on a closed shard refuses the number right after the
// shard's EndingSequenceNumber (outside its range; it belongs to a child),
// as every other number outside the range; AFTER the last one is accepted.
#[tokio::test]
async fn at_sequence_number_just_past_a_closed_shard_is_refused() {
    let server = small_shards(2).await;
    let client = server.client();
    let streams = server.streams();
    let arn = create_stream_table(&client, "PastEnd", "KEYS_ONLY", false).await;
    for i in 0..3 {
        put(&client, "PastEnd", item([("pk", s(&format!("k{i}")))])).await;
    }
    let (_, shards) = describe_all_shards(&streams, &arn).await;
    let parent = &shards[0];
    let end = parent
        .sequence_number_range()
        .and_then(|r| r.ending_sequence_number())
        .expect("the first shard closed after two records");
    let past = (seq_number(end) + 1).to_string();
    // AFTER the last record is fine: an iterator at the shard's end.
    let it = iterator(
        &streams,
        &arn,
        parent.shard_id().unwrap(),
        ShardIteratorType::AfterSequenceNumber,
        Some(end),
    )
    .await;
    let (got, next) = get_records(&streams, &it, None).await;
    assert!(got.is_empty() && next.is_none());
    // AT the next sequence number (the third record, in a child) is not.
    fails_with!(
        streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(parent.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&past)
            .send()
            .await,
        "ValidationException"
    );
}

// ---------------------------------------------------------------------------
// GetRecords: record shapes
// ---------------------------------------------------------------------------

/// What one write did: the event and the item before and after.
struct Change {
    event: &'static str,
    keys: Item,
    old: Option<Item>,
    new: Option<Item>,
}

#[tokio::test]
async fn get_records_shapes_for_each_view_type() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let before = now_secs();

    for view_type in VIEW_TYPES {
        let table = format!("Shapes_{view_type}");
        let arn = create_stream_table(&client, &table, view_type, true).await;
        let key = item([("pk", s("a")), ("sk", s("1"))]);
        let key2 = item([("pk", s("a")), ("sk", s("2"))]);
        let mut changes = Vec::new();

        // INSERT by PutItem, with every kind of attribute.
        let first = item([
            ("pk", s("a")),
            ("sk", s("1")),
            ("n", n("1.50")),
            ("s", s("x")),
            ("ss", AttributeValue::Ss(vec!["b".into(), "a".into()])),
            ("ns", AttributeValue::Ns(vec!["2".into(), "10".into()])),
            (
                "b",
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![1, 2, 3])),
            ),
            ("t", AttributeValue::Bool(true)),
            ("z", AttributeValue::Null(true)),
            ("l", AttributeValue::L(vec![n("1"), s("two")])),
            (
                "m",
                AttributeValue::M(item([
                    ("inner", s("v")),
                    ("deep", AttributeValue::M(item([("x", n("0"))]))),
                ])),
            ),
        ]);
        put(&client, &table, first).await;
        let stored1 = get(&client, &table, key.clone()).await.expect("stored");
        changes.push(Change {
            event: "INSERT",
            keys: key.clone(),
            old: None,
            new: Some(stored1.clone()),
        });
        // MODIFY by PutItem (replacing the whole item).
        put(
            &client,
            &table,
            item([("pk", s("a")), ("sk", s("1")), ("n", n("2"))]),
        )
        .await;
        let stored2 = get(&client, &table, key.clone()).await.expect("stored");
        changes.push(Change {
            event: "MODIFY",
            keys: key.clone(),
            old: Some(stored1),
            new: Some(stored2.clone()),
        });
        // MODIFY by UpdateItem.
        client
            .update_item()
            .table_name(&table)
            .set_key(Some(key.clone()))
            .update_expression("SET s = :s ADD n :one")
            .expression_attribute_values(":s", s("y"))
            .expression_attribute_values(":one", n("1"))
            .send()
            .await
            .expect("UpdateItem");
        let stored3 = get(&client, &table, key.clone()).await.expect("stored");
        assert_eq!(stored3.get("n"), Some(&n("3")));
        changes.push(Change {
            event: "MODIFY",
            keys: key.clone(),
            old: Some(stored2),
            new: Some(stored3.clone()),
        });
        // REMOVE by DeleteItem.
        delete(&client, &table, key.clone()).await;
        changes.push(Change {
            event: "REMOVE",
            keys: key.clone(),
            old: Some(stored3),
            new: None,
        });
        // INSERT by UpdateItem of a missing item.
        client
            .update_item()
            .table_name(&table)
            .set_key(Some(key2.clone()))
            .update_expression("SET n = :v")
            .expression_attribute_values(":v", n("7"))
            .send()
            .await
            .expect("UpdateItem (upsert)");
        let stored4 = get(&client, &table, key2.clone()).await.expect("stored");
        changes.push(Change {
            event: "INSERT",
            keys: key2.clone(),
            old: None,
            new: Some(stored4),
        });

        let shard = only_shard(&streams, &arn).await;
        let it = iterator(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
        let (records, next) = get_records(&streams, &it, None).await;
        assert!(next.is_some(), "the shard is open");
        assert_eq!(records.len(), changes.len(), "{view_type}: {records:?}");

        let mut last_seq = 0u128;
        let mut event_ids = HashSet::new();
        for (r, want) in records.iter().zip(&changes) {
            let ctx = format!("{view_type} {} {:?}", want.event, want.keys);
            assert_eq!(
                r.event_name(),
                Some(&OperationType::from(want.event)),
                "{ctx}"
            );
            assert_eq!(r.event_version(), Some("1.1"), "{ctx}");
            assert_eq!(r.event_source(), Some("aws:dynamodb"), "{ctx}");
            assert_eq!(r.aws_region(), Some("us-east-1"), "{ctx}");
            let id = r.event_id().expect("eventID");
            // Real records carry 32 hex digits.
            assert!(
                id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{ctx}: eventID {id}"
            );
            assert!(
                !id.is_empty() && event_ids.insert(id.to_owned()),
                "{ctx}: eventID {id}"
            );
            assert_eq!(r.user_identity(), None, "{ctx}");
            let d = dynamodb(r);
            assert_eq!(keys_of(r), want.keys, "{ctx}: Keys");
            let (new, old) = match view_type {
                "KEYS_ONLY" => (None, None),
                "NEW_IMAGE" => (want.new.clone(), None),
                "OLD_IMAGE" => (None, want.old.clone()),
                _ => (want.new.clone(), want.old.clone()),
            };
            assert_eq!(d.new_image().map(from_stream_item), new, "{ctx}: NewImage");
            assert_eq!(d.old_image().map(from_stream_item), old, "{ctx}: OldImage");
            let seq_text = d.sequence_number().expect("SequenceNumber");
            assert!(
                (21..=40).contains(&seq_text.len()) && seq_text.bytes().all(|b| b.is_ascii_digit()),
                "{ctx}: SequenceNumber {seq_text}"
            );
            let seq = seq_number(seq_text);
            assert!(seq > last_seq, "{ctx}: sequence numbers increase");
            last_seq = seq;
            assert!(d.size_bytes().is_some_and(|b| b > 0), "{ctx}: SizeBytes");
            if view_type == "KEYS_ONLY" {
                // Item size of the keys: "pk" + "a", "sk" + "1" (or "2").
                assert_eq!(d.size_bytes(), Some(6), "{ctx}: SizeBytes");
            }
            assert_eq!(
                d.stream_view_type().map(|v| v.as_str()),
                Some(view_type),
                "{ctx}"
            );
            let at = d
                .approximate_creation_date_time()
                .expect("ApproximateCreationDateTime")
                .secs();
            assert!(
                at >= before - 2 && at <= now_secs() + 2,
                "{ctx}: ApproximateCreationDateTime {at}, now {}",
                now_secs()
            );
        }
        // Images carry more bytes than keys alone.
        if view_type == "NEW_AND_OLD_IMAGES" {
            let sizes: Vec<i64> = records
                .iter()
                .map(|r| dynamodb(r).size_bytes().unwrap())
                .collect();
            assert!(sizes[1] > sizes[3], "MODIFY with two images {sizes:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// GetRecords: which writes leave records
// ---------------------------------------------------------------------------

#[tokio::test]
async fn records_only_for_changes_one_per_item_in_batches_and_transactions() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let table = "Changes";
    let arn = create_stream_table(&client, table, "NEW_AND_OLD_IMAGES", false).await;
    let shard = only_shard(&streams, &arn).await;
    let start = iterator(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;

    put(&client, table, item([("pk", s("a")), ("v", n("1"))])).await;
    // Changes that change nothing.
    put(&client, table, item([("pk", s("a")), ("v", n("1"))])).await;
    client
        .update_item()
        .table_name(table)
        .set_key(Some(pk("a")))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect("UpdateItem to the same value");
    client
        .update_item()
        .table_name(table)
        .set_key(Some(pk("a")))
        .update_expression("REMOVE zz")
        .send()
        .await
        .expect("UpdateItem removing a missing attribute");
    client
        .update_item()
        .table_name(table)
        .set_key(Some(pk("a")))
        .update_expression("ADD v :zero")
        .expression_attribute_values(":zero", n("0"))
        .send()
        .await
        .expect("UpdateItem adding zero");
    delete(&client, table, pk("missing")).await;
    let failed = client
        .put_item()
        .table_name(table)
        .set_item(Some(item([("pk", s("a")), ("v", n("2"))])))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    assert_eq!(
        failed.expect_err("condition fails").code(),
        Some("ConditionalCheckFailedException")
    );
    let (records, next) = get_records(&streams, &start, None).await;
    assert_eq!(
        records.iter().map(summary).collect::<Vec<_>>(),
        [("INSERT".to_string(), "a".to_string())],
        "only the first PutItem changed anything"
    );
    let next = next.expect("NextShardIterator");

    // BatchWriteItem: one record per item.
    let put_request = |key: &str| {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .set_item(Some(item([("pk", s(key)), ("v", n("1"))])))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let out = client
        .batch_write_item()
        .request_items(
            table,
            vec![
                put_request("b"),
                put_request("c"),
                put_request("d"),
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(pk("a")))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ],
        )
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    let (records, next) = get_records(&streams, &next, None).await;
    let got: HashSet<_> = records.iter().map(summary).collect();
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(
        got,
        HashSet::from([
            ("INSERT".to_string(), "b".to_string()),
            ("INSERT".to_string(), "c".to_string()),
            ("INSERT".to_string(), "d".to_string()),
            ("REMOVE".to_string(), "a".to_string()),
        ])
    );
    let next = next.expect("NextShardIterator");

    // TransactWriteItems: one record per written item, none for a check.
    client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item([("pk", s("e")), ("v", n("1"))])))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(table)
                        .set_key(Some(pk("b")))
                        .update_expression("SET v = :v")
                        .expression_attribute_values(":v", n("2"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(pk("c")))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(pk("d")))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactWriteItems");
    let (records, next) = get_records(&streams, &next, None).await;
    assert_eq!(records.len(), 3, "{records:?}");
    let got: HashSet<_> = records.iter().map(summary).collect();
    assert_eq!(
        got,
        HashSet::from([
            ("INSERT".to_string(), "e".to_string()),
            ("MODIFY".to_string(), "b".to_string()),
            ("REMOVE".to_string(), "c".to_string()),
        ])
    );
    let modify = records
        .iter()
        .find(|r| event_of(r) == "MODIFY")
        .expect("MODIFY");
    assert_eq!(
        dynamodb(modify).old_image().map(from_stream_item),
        Some(item([("pk", s("b")), ("v", n("1"))]))
    );
    assert_eq!(
        dynamodb(modify).new_image().map(from_stream_item),
        Some(item([("pk", s("b")), ("v", n("2"))]))
    );
    let next = next.expect("NextShardIterator");

    // A cancelled transaction leaves nothing.
    let cancelled = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item([("pk", s("f")), ("v", n("1"))])))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(table)
                        .set_key(Some(pk("b")))
                        .update_expression("SET v = :v")
                        .expression_attribute_values(":v", n("3"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(pk("d")))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        cancelled.expect_err("cancelled").code(),
        Some("TransactionCanceledException")
    );
    // And a batch that changes nothing leaves nothing either.
    client
        .batch_write_item()
        .request_items(
            table,
            vec![
                put_request("d"),
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(pk("never")))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ],
        )
        .send()
        .await
        .expect("BatchWriteItem of no change");
    let (records, next) = get_records(&streams, &next, None).await;
    assert!(records.is_empty(), "{records:?}");
    assert!(next.is_some());
    assert_eq!(get(&client, table, pk("f")).await, None);

    // Whole stream: 8 records, increasing sequence numbers.
    let all = all_records(&streams, &arn).await;
    assert_eq!(all.len(), 8);
    let seqs: Vec<u128> = all.iter().map(|r| seq_number(&seq_of(r))).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

// ---------------------------------------------------------------------------
// GetRecords: iteration, limits, ends, errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_records_pages_skips_ends_and_refuses_bad_input() {
    let server = Server::in_memory().await;
    let client = server.client();
    let streams = server.streams();
    let table = "Paged";
    let arn = create_stream_table(&client, table, "NEW_IMAGE", false).await;
    let shard = only_shard(&streams, &arn).await;
    let horizon = iterator(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;

    // An empty open shard: no records, a next iterator.
    let (got, next) = get_records(&streams, &horizon, None).await;
    assert!(got.is_empty());
    assert!(next.is_some());

    for i in 0..10 {
        put(
            &client,
            table,
            item([("pk", s(&format!("k{i}"))), ("v", n(&i.to_string()))]),
        )
        .await;
    }
    let (all, _) = get_records(&streams, &horizon, None).await;
    assert_eq!(all.len(), 10);
    let seqs: Vec<String> = all.iter().map(seq_of).collect();
    // Iterators can be used again: same answer.
    let (again, _) = get_records(&streams, &horizon, None).await;
    assert_eq!(again.iter().map(seq_of).collect::<Vec<_>>(), seqs);

    // Limit: pages of 3 (3 + 3 + 3 + 1, then nothing).
    let mut paged = Vec::new();
    let mut it = horizon.clone();
    let mut sizes = Vec::new();
    loop {
        let (page, next) = get_records(&streams, &it, Some(3)).await;
        sizes.push(page.len());
        if page.is_empty() {
            break;
        }
        paged.extend(page.iter().map(seq_of));
        it = next.expect("an open shard has a next iterator");
    }
    assert_eq!(sizes, [3, 3, 3, 1, 0]);
    assert_eq!(paged, seqs);
    let (page, _) = get_records(&streams, &horizon, Some(1)).await;
    assert_eq!(page.len(), 1);
    let (page, _) = get_records(&streams, &horizon, Some(1000)).await;
    assert_eq!(page.len(), 10);

    // LATEST sees only what is written after it.
    let latest = iterator(&streams, &arn, &shard, ShardIteratorType::Latest, None).await;
    put(&client, table, item([("pk", s("late")), ("v", n("1"))])).await;
    let (got, _) = get_records(&streams, &latest, None).await;
    assert_eq!(
        got.iter().map(summary).collect::<Vec<_>>(),
        [("INSERT".to_string(), "late".to_string())]
    );

    // AFTER_SEQUENCE_NUMBER skips that record; AT starts with it.
    let it = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AfterSequenceNumber,
        Some(&seqs[6]),
    )
    .await;
    let (got, _) = get_records(&streams, &it, Some(3)).await;
    assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), seqs[7..10]);
    let it = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AtSequenceNumber,
        Some(&seqs[6]),
    )
    .await;
    let (got, _) = get_records(&streams, &it, Some(3)).await;
    assert_eq!(got.iter().map(seq_of).collect::<Vec<_>>(), seqs[6..9]);

    // Bad input.
    for limit in [0, 1001] {
        fails_with!(
            streams
                .get_records()
                .shard_iterator(&horizon)
                .limit(limit)
                .send()
                .await,
            "ValidationException"
        );
    }
    fails_with!(
        streams.get_records().shard_iterator("garbage").send().await,
        "ValidationException"
    );
    // A well-shaped iterator whose payload was tampered with.
    let (head, payload) = horizon.rsplit_once('|').expect("arn|version|payload");
    let mut bytes: Vec<char> = payload.chars().collect();
    bytes[3] = if bytes[3] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{head}|{}", bytes.into_iter().collect::<String>());
    fails_with!(
        streams.get_records().shard_iterator(&tampered).send().await,
        "ValidationException"
    );

    // Disable: the shard closes; reading it to its end (pages of 4) gives
    // every record once and then no next iterator.
    client
        .update_table()
        .table_name(table)
        .stream_specification(disabled_spec())
        .send()
        .await
        .expect("UpdateTable disables the stream");
    let mut it = Some(horizon);
    let mut read = Vec::new();
    let mut calls = 0;
    while let Some(current) = it.take() {
        let (page, next) = get_records(&streams, &current, Some(4)).await;
        read.extend(page.iter().map(seq_of));
        it = next;
        calls += 1;
        assert!(calls < 10, "the closed shard never ends");
    }
    assert_eq!(read.len(), 11);
    assert_eq!(read[..10], seqs[..]);
    assert_eq!(calls, 3, "4 + 4 + 3, the last without a next iterator");
    // Reading the exhausted end again: nothing, still no next iterator.
    let end = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AfterSequenceNumber,
        Some(&read[10]),
    )
    .await;
    let (got, next) = get_records(&streams, &end, None).await;
    assert!(got.is_empty());
    assert_eq!(next, None);
}

// ---------------------------------------------------------------------------
// Errors as DynamoDB itself reports them
// ---------------------------------------------------------------------------
//
// The error codes below are those real DynamoDB gives (the ScyllaDB
// Alternator suite, written to pass against DynamoDB, asserts them:
// test_describe_nonexistent_stream, test_get_shard_iterator*,
// test_list_streams_with_nonexistent_last_stream,
// test_describe_stream_with_nonexistent_last_shard,
// test_streams_starting_sequence_number; see
// /work/notes/streams-digest.md §3). DynamoDB Local differs on several.

/// A table with a stream of 3 records in one shard: (server, ARN, shard).
async fn three_records() -> (Server, String, String) {
    let server = Server::in_memory().await;
    let client = server.client();
    let arn = create_stream_table(&client, "Errs", "KEYS_ONLY", false).await;
    for k in ["a", "b", "c"] {
        put(&client, "Errs", pk(k)).await;
    }
    let shard = only_shard(&server.streams(), &arn).await;
    (server, arn, shard)
}

#[tokio::test]
async fn at_sequence_number_of_the_starting_sequence_number_reads_everything() {
    let (server, arn, shard) = three_records().await;
    let streams = server.streams();
    let (_, shards) = describe_all_shards(&streams, &arn).await;
    let start = shards[0]
        .sequence_number_range()
        .and_then(|r| r.starting_sequence_number())
        .expect("StartingSequenceNumber")
        .to_owned();
    let it = iterator(
        &streams,
        &arn,
        &shard,
        ShardIteratorType::AtSequenceNumber,
        Some(&start),
    )
    .await;
    let (got, _) = get_records(&streams, &it, None).await;
    assert_eq!(got.len(), 3);
    // The shard's last sequence number so far, and the ExclusiveStartShardId
    // of the last shard: an empty page.
    let out = streams
        .describe_stream()
        .stream_arn(&arn)
        .exclusive_start_shard_id(&shard)
        .send()
        .await
        .expect("DescribeStream after the last shard");
    let d = out.stream_description.expect("StreamDescription");
    assert!(d.shards().is_empty(), "{:?}", d.shards());
    assert_eq!(d.last_evaluated_shard_id(), None);
}

// A malformed stream ARN (long enough, but not an ARN) is a
// ValidationException, as on DynamoDB, not ResourceNotFoundException.
#[tokio::test]
async fn malformed_stream_arns_are_validation_errors() {
    let (server, _arn, shard) = three_records().await;
    let streams = server.streams();
    let garbage = "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf";
    fails_with!(
        streams.describe_stream().stream_arn(garbage).send().await,
        "ValidationException"
    );
    fails_with!(
        streams
            .get_shard_iterator()
            .stream_arn(garbage)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ValidationException"
    );
    fails_with!(
        streams
            .list_streams()
            .exclusive_start_stream_arn("kossaapaaasdafsdaasdasdasdasasdasfadfadfasdasdas")
            .send()
            .await,
        "ValidationException"
    );
}

// DescribeStream with an ExclusiveStartShardId the stream does not have
// answers an empty page, as DynamoDB does (rather than starting over).
#[tokio::test]
async fn describe_stream_after_an_unknown_shard_is_an_empty_page() {
    let (server, arn, _shard) = three_records().await;
    let out = server
        .streams()
        .describe_stream()
        .stream_arn(&arn)
        .exclusive_start_shard_id("shardId-00000000000000000000-00000000")
        .send()
        .await
        .expect("DescribeStream after an unknown shard");
    let d = out.stream_description.expect("StreamDescription");
    assert!(d.shards().is_empty(), "{:?}", d.shards());
}

// A SequenceNumber with TRIM_HORIZON or LATEST is a ValidationException,
// as on DynamoDB.
#[tokio::test]
async fn sequence_number_with_trim_horizon_or_latest_is_refused() {
    let (server, arn, shard) = three_records().await;
    let streams = server.streams();
    let it = iterator(&streams, &arn, &shard, ShardIteratorType::TrimHorizon, None).await;
    let (got, _) = get_records(&streams, &it, None).await;
    let seq = seq_of(&got[0]);
    for kind in [ShardIteratorType::TrimHorizon, ShardIteratorType::Latest] {
        for given in [seq.as_str(), "garbage"] {
            fails_with!(
                streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(&shard)
                    .shard_iterator_type(kind.clone())
                    .sequence_number(given)
                    .send()
                    .await,
                "ValidationException"
            );
        }
    }
}
