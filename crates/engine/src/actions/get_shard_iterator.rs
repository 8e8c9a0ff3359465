//! GetShardIterator: a position in one shard — its oldest record still
//! kept (TRIM_HORIZON), just after its newest (LATEST), or at / after a
//! sequence number — valid for 15 minutes.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{GetShardIteratorInput, GetShardIteratorOutput};
use openddb_core::DynamoError;

use super::common::check_stream_arn;
use super::describe_stream::lookup;
use crate::run::{self, storage_error};
use crate::streams::{self, encode_iterator, parse_sequence, IteratorPosition};
use crate::tenant::Tenant;
use crate::RequestContext;

const ITERATOR_TYPES: &[&str] = &[
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
];

pub fn shard_not_found(shard: &str, arn: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Shard does not exist: {shard} in stream {arn}"
    ))
}

pub async fn run(
    tenant: &Arc<Tenant>,
    _ctx: &RequestContext,
    input: GetShardIteratorInput,
) -> Result<GetShardIteratorOutput, DynamoError> {
    let mut v = Violations::new();
    v.require(&input.stream_arn, "streamArn");
    check_stream_arn(&mut v, input.stream_arn.as_deref(), "streamArn");
    v.require(&input.shard_id, "shardId");
    v.require(&input.shard_iterator_type, "shardIteratorType");
    v.one_of(
        input.shard_iterator_type.as_deref(),
        "shardIteratorType",
        ITERATOR_TYPES,
    );
    v.into_result()?;
    let arn = input.stream_arn.unwrap_or_default();
    let shard_id = input.shard_id.unwrap_or_default();
    let kind = input.shard_iterator_type.unwrap_or_default();

    let at = match kind.as_str() {
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
            let Some(given) = input.sequence_number.as_deref() else {
                return Err(DynamoError::validation(format!(
                    "Must specify SequenceNumber when ShardIteratorType is {kind}"
                )));
            };
            let Some(seq) = parse_sequence(given) else {
                return Err(DynamoError::validation(format!(
                    "Invalid SequenceNumber for ShardIteratorType {kind}: {given}"
                )));
            };
            Some(if kind == "AT_SEQUENCE_NUMBER" {
                seq
            } else {
                seq + 1
            })
        }
        _ => None,
    };

    let stream = lookup(tenant, &arn).await?;
    let id = stream.id;
    let (shards, trimmed, next) = run::read(&tenant.kv, move |txn| {
        Ok((
            streams::shards(txn, id).map_err(storage_error)?,
            streams::trimmed_below(txn, id).map_err(storage_error)?,
            streams::next_sequence(txn, id).map_err(storage_error)?,
        ))
    })
    .await?;
    let Some(shard) = shards.iter().find(|s| s.shard_id == shard_id) else {
        return Err(shard_not_found(&shard_id, &arn));
    };
    let end = if shard.closed {
        shard.last_seq.map_or(shard.first_seq, |l| l + 1)
    } else {
        next
    };
    let from = match (kind.as_str(), at) {
        ("TRIM_HORIZON", _) => shard.first_seq.max(trimmed),
        ("LATEST", _) => end,
        (_, Some(seq)) => {
            let given = input.sequence_number.unwrap_or_default();
            if seq < shard.first_seq || seq > end {
                return Err(DynamoError::validation(format!(
                    "Invalid SequenceNumber {given} for shard {shard_id}: it is outside the shard's range"
                )));
            }
            if seq < trimmed {
                return Err(super::get_records::trimmed(&arn));
            }
            seq
        }
        _ => end,
    };
    Ok(GetShardIteratorOutput {
        shard_iterator: Some(encode_iterator(
            &arn,
            &IteratorPosition {
                stream: id,
                shard: shard.index,
                from,
                issued_ms: streams::now_ms(),
            },
        )),
    })
}
