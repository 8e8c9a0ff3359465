//! DescribeStream: a stream's status, view type, key schema and shards
//! (oldest first, with their parents and sequence-number ranges), paged
//! by shard id.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{
    DescribeStreamInput, DescribeStreamOutput, SequenceNumberRange, Shard, StreamDescription,
};
use openddb_core::DynamoError;

use super::common::check_stream_arn;
use crate::run::{self, storage_error};
use crate::streams::{self, show_sequence, StreamMeta};
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most shards one page may list.
pub const MAX_LIMIT: i64 = 100;

/// The answer for an ARN the tenant has no stream for.
pub fn stream_not_found(arn: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

/// The stream an ARN names, from a snapshot, with its ARN as the caller
/// names it. Only the caller's own streams are found: another account's
/// ARN is refused for `action`, and one of another region names none.
pub async fn lookup(
    tenant: &Tenant,
    ctx: &RequestContext,
    action: &str,
    arn: &str,
) -> Result<StreamMeta, DynamoError> {
    let parsed = match crate::arn::Arn::parse(arn) {
        Some(parsed) if super::common::is_stream_arn(arn) => parsed,
        _ => return Err(super::common::invalid_stream_arn()),
    };
    if crate::arn::owner(ctx, action, &parsed, arn)? != crate::arn::Owner::Caller {
        return Err(stream_not_found(arn));
    }
    let arn_w = arn.to_string();
    let mut stream = run::read(tenant, move |txn| {
        streams::by_arn(txn, &arn_w).map_err(storage_error)
    })
    .await?
    .ok_or_else(|| stream_not_found(arn))?;
    stream.arn = arn.to_string();
    Ok(stream)
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DescribeStreamInput,
) -> Result<DescribeStreamOutput, DynamoError> {
    let mut v = Violations::new();
    v.require(&input.stream_arn, "streamArn");
    check_stream_arn(&mut v, input.stream_arn.as_deref(), "streamArn");
    v.at_least(input.limit, "limit", 1);
    if let Some(id) = &input.exclusive_start_shard_id {
        let len = id.chars().count();
        if !(28..=65).contains(&len) {
            v.push(
                &format!("'{id}'"),
                "exclusiveStartShardId",
                if len < 28 {
                    "Member must have length greater than or equal to 28"
                } else {
                    "Member must have length less than or equal to 65"
                },
            );
        }
    }
    v.into_result()?;
    if input.limit.is_some_and(|l| l > MAX_LIMIT) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Limit cannot be greater than the maximum: {MAX_LIMIT}"
        )));
    }
    let arn = input.stream_arn.unwrap_or_default();
    let limit = input.limit.unwrap_or(MAX_LIMIT) as usize;

    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:DescribeStream",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    let stream = lookup(tenant, ctx, "DescribeStream", &arn).await?;
    let id = stream.id;
    let shards = run::read(tenant, move |txn| {
        streams::shards(txn, id).map_err(storage_error)
    })
    .await?;
    let start = match &input.exclusive_start_shard_id {
        // An unknown shard id ends the listing rather than failing.
        Some(after) => shards
            .iter()
            .position(|s| &s.shard_id == after)
            .map_or(shards.len(), |p| p + 1),
        None => 0,
    };
    let page: Vec<&streams::ShardMeta> = shards.iter().skip(start).take(limit).collect();
    let more = start + page.len() < shards.len();
    let shown = page
        .iter()
        .map(|s| Shard {
            shard_id: Some(s.shard_id.clone()),
            sequence_number_range: Some(SequenceNumberRange {
                starting_sequence_number: Some(show_sequence(s.first_seq)),
                ending_sequence_number: s
                    .closed
                    .then(|| show_sequence(s.last_seq.unwrap_or(s.first_seq))),
            }),
            parent_shard_id: s.parent.and_then(|p| {
                shards
                    .iter()
                    .find(|x| x.index == p)
                    .map(|x| x.shard_id.clone())
            }),
        })
        .collect();
    Ok(DescribeStreamOutput {
        stream_description: Some(StreamDescription {
            stream_arn: Some(stream.arn.clone()),
            stream_label: Some(stream.label.clone()),
            stream_status: Some(
                if stream.disabled_ms.is_some() {
                    "DISABLED"
                } else {
                    "ENABLED"
                }
                .into(),
            ),
            stream_view_type: Some(stream.view_type.clone()),
            creation_request_date_time: Some((stream.created_ms / 1000) as f64),
            table_name: Some(stream.table_name.clone()),
            key_schema: Some(stream.key_schema.clone()),
            shards: Some(shown),
            last_evaluated_shard_id: more
                .then(|| page.last().map(|s| s.shard_id.clone()))
                .flatten(),
        }),
    })
}
