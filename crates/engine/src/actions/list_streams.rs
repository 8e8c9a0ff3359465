//! ListStreams: the tenant's streams (enabled, or disabled and kept for a
//! day), optionally of one table, in creation order, paged by ARN.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{ListStreamsInput, ListStreamsOutput, StreamSummary};
use openddb_core::DynamoError;

use crate::run::{self, storage_error};
use crate::streams;
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most streams one page may list.
pub const MAX_LIMIT: i64 = 100;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: ListStreamsInput,
) -> Result<ListStreamsOutput, DynamoError> {
    let mut v = Violations::new();
    v.at_least(input.limit, "limit", 1);
    if let Some(t) = &input.table_name {
        v.table_name(Some(t), "tableName", 3);
    }
    if let Some(arn) = &input.exclusive_start_stream_arn {
        super::common::check_stream_arn(&mut v, Some(arn), "exclusiveStartStreamArn");
    }
    v.into_result()?;
    if input.limit.is_some_and(|l| l > MAX_LIMIT) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Limit cannot be greater than the maximum allowed size: {MAX_LIMIT}"
        )));
    }
    if input
        .exclusive_start_stream_arn
        .as_deref()
        .is_some_and(|a| !super::common::is_stream_arn(a))
    {
        return Err(super::common::invalid_stream_arn());
    }
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:ListStreams",
            crate::authz::Resource::Any,
        )]
    })?;
    let limit = input.limit.unwrap_or(MAX_LIMIT) as usize;

    let all = run::read(tenant, |txn| streams::list(txn).map_err(storage_error)).await?;
    // Streams are named in the caller's account and region; a start ARN
    // naming any other matches none of them.
    let mut matching = all
        .into_iter()
        .map(|mut s| {
            s.arn = crate::arn::localize(&s.arn, ctx);
            s
        })
        .filter(|s| input.table_name.as_ref().is_none_or(|t| *t == s.table_name))
        .collect::<Vec<_>>();
    matching.sort_by_key(|s| (s.created_ms, s.id));
    if let Some(start) = &input.exclusive_start_stream_arn {
        if let Some(pos) = matching.iter().position(|s| &s.arn == start) {
            matching.drain(..=pos);
        }
    }
    let more = matching.len() > limit;
    matching.truncate(limit);
    Ok(ListStreamsOutput {
        last_evaluated_stream_arn: more
            .then(|| matching.last().map(|s| s.arn.clone()))
            .flatten(),
        streams: matching
            .into_iter()
            .map(|s| StreamSummary {
                stream_arn: Some(s.arn),
                table_name: Some(s.table_name),
                stream_label: Some(s.label),
            })
            .collect(),
    })
}
