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

pub fn shard_not_found() -> DynamoError {
    DynamoError::resource_not_found("Requested resource not found: Shard does not exist")
}

fn invalid_sequence() -> DynamoError {
    DynamoError::validation("One or more parameter values were invalid: Invalid SequenceNumber")
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
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
    if let Some(id) = &input.shard_id {
        let len = id.chars().count();
        if len < 28 {
            v.push(
                &format!("'{id}'"),
                "shardId",
                "Member must have length greater than or equal to 28",
            );
        } else if len > 65 {
            v.push(
                &format!("'{id}'"),
                "shardId",
                "Member must have length less than or equal to 65",
            );
        }
    }
    if let Some(seq) = &input.sequence_number {
        let len = seq.chars().count();
        if len < 21 {
            v.push(
                &format!("'{seq}'"),
                "sequenceNumber",
                "Member must have length greater than or equal to 21",
            );
        } else if len > 40 {
            v.push(
                &format!("'{seq}'"),
                "sequenceNumber",
                "Member must have length less than or equal to 40",
            );
        }
    }
    v.into_result()?;
    let arn = input.stream_arn.unwrap_or_default();
    let shard_id = input.shard_id.unwrap_or_default();
    let kind = input.shard_iterator_type.unwrap_or_default();

    let at = match kind.as_str() {
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
            let Some(given) = input.sequence_number.as_deref() else {
                return Err(invalid_sequence());
            };
            let Some(seq) = parse_sequence(given) else {
                return Err(invalid_sequence());
            };
            Some(if kind == "AT_SEQUENCE_NUMBER" {
                seq
            } else {
                // After the largest number there is: none of ours.
                seq.checked_add(1).ok_or_else(invalid_sequence)?
            })
        }
        _ => {
            if input.sequence_number.is_some() {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: SequenceNumber should not be passed for this iterator type",
                ));
            }
            None
        }
    };

    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:GetShardIterator",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    let stream = lookup(tenant, ctx, "GetShardIterator", &arn).await?;
    let id = stream.id;
    let (shards, trimmed, next) = run::read(tenant, move |txn| {
        Ok((
            streams::shards(txn, id).map_err(storage_error)?,
            streams::trimmed_below(txn, id).map_err(storage_error)?,
            streams::next_sequence(txn, id).map_err(storage_error)?,
        ))
    })
    .await?;
    let Some(shard) = shards.iter().find(|s| s.shard_id == shard_id) else {
        return Err(shard_not_found());
    };
    let end = if shard.closed {
        shard
            .last_seq
            .map_or(shard.first_seq, |l| l.saturating_add(1))
    } else {
        next
    };
    let from = match (kind.as_str(), at) {
        ("TRIM_HORIZON", _) => shard.first_seq.max(trimmed),
        ("LATEST", _) => end,
        (_, Some(seq)) => {
            // A closed shard ends with its last record: AT a number past
            // it names a child's record; AFTER the last one is its end.
            let past_end = if shard.closed && kind == "AT_SEQUENCE_NUMBER" {
                seq >= end
            } else {
                seq > end
            };
            if seq < shard.first_seq || past_end {
                return Err(invalid_sequence());
            }
            if seq < trimmed {
                return Err(super::get_records::trimmed());
            }
            seq
        }
        _ => end,
    };
    Ok(GetShardIteratorOutput {
        shard_iterator: Some(encode_iterator(
            &tenant.sealer,
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
