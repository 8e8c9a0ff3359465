//! Requests and responses of the DynamoDB Streams API
//! (`DynamoDBStreams_20120810`).

use serde::{Deserialize, Serialize};

use super::table::wire_struct;
use super::KeySchemaElement;
use crate::value::Item;

wire_struct! {
    pub struct ListStreamsInput {
        pub table_name: String,
        pub limit: i64,
        pub exclusive_start_stream_arn: String,
    }
}

wire_struct! {
    /// One entry of ListStreams.
    pub struct StreamSummary {
        pub stream_arn: String,
        pub table_name: String,
        pub stream_label: String,
    }
}

/// ListStreams' answer: `Streams` always.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamsOutput {
    pub streams: Vec<StreamSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_stream_arn: Option<String>,
}

wire_struct! {
    pub struct DescribeStreamInput {
        pub stream_arn: String,
        pub limit: i64,
        pub exclusive_start_shard_id: String,
    }
}

wire_struct! {
    pub struct SequenceNumberRange {
        pub starting_sequence_number: String,
        pub ending_sequence_number: String,
    }
}

wire_struct! {
    pub struct Shard {
        pub shard_id: String,
        pub sequence_number_range: SequenceNumberRange,
        pub parent_shard_id: String,
    }
}

wire_struct! {
    pub struct StreamDescription {
        pub stream_arn: String,
        pub stream_label: String,
        pub stream_status: String,
        pub stream_view_type: String,
        pub creation_request_date_time: f64,
        pub table_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub shards: Vec<Shard>,
        pub last_evaluated_shard_id: String,
    }
}

wire_struct! {
    pub struct DescribeStreamOutput {
        pub stream_description: StreamDescription,
    }
}

wire_struct! {
    pub struct GetShardIteratorInput {
        pub stream_arn: String,
        pub shard_id: String,
        pub shard_iterator_type: String,
        pub sequence_number: String,
    }
}

wire_struct! {
    pub struct GetShardIteratorOutput {
        pub shard_iterator: String,
    }
}

wire_struct! {
    pub struct GetRecordsInput {
        pub shard_iterator: String,
        pub limit: i64,
    }
}

wire_struct! {
    /// The `dynamodb` part of a record.
    pub struct StreamRecord {
        pub approximate_creation_date_time: f64,
        pub keys: Item,
        pub new_image: Item,
        pub old_image: Item,
        pub sequence_number: String,
        pub size_bytes: i64,
        pub stream_view_type: String,
    }
}

wire_struct! {
    /// Who made a change: DynamoDB's service for Time to Live deletions.
    pub struct Identity {
        pub principal_id: String,
        pub r#type: String,
    }
}

/// One record, with the API's own lower-case member names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "eventName")]
    pub event_name: String,
    #[serde(rename = "eventVersion")]
    pub event_version: String,
    #[serde(rename = "eventSource")]
    pub event_source: String,
    #[serde(rename = "awsRegion")]
    pub aws_region: String,
    pub dynamodb: StreamRecord,
    #[serde(
        rename = "userIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_identity: Option<Identity>,
}

/// GetRecords' answer: `Records` always; `NextShardIterator` absent once a
/// closed shard is exhausted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRecordsOutput {
    pub records: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_shard_iterator: Option<String>,
}
