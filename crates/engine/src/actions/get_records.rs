//! GetRecords: up to 1 000 records (and 1 MB) of one shard from an
//! iterator's position, with the iterator for the next call — none once a
//! closed shard has been read to its end.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{
    GetRecordsInput, GetRecordsOutput, Identity, Record as WireRecord, StreamRecord,
};
use openddb_core::{DynamoError, ErrorKind};

use crate::run::{self, storage_error};
use crate::streams::{
    self, decode_iterator, encode_iterator, show_sequence, IteratorPosition, ITERATOR_LIFETIME_MS,
};
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most records one call returns.
pub const MAX_LIMIT: i64 = 1000;

/// Most bytes (as DynamoDB sizes records) one call returns.
const MAX_BYTES: u64 = 1024 * 1024;

pub fn trimmed() -> DynamoError {
    DynamoError::new(
        ErrorKind::TrimmedDataAccessException,
        "The data you are trying to access has been trimmed",
    )
}

fn invalid_iterator() -> DynamoError {
    DynamoError::validation("Invalid ShardIterator")
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: GetRecordsInput,
) -> Result<GetRecordsOutput, DynamoError> {
    let mut v = Violations::new();
    v.require(&input.shard_iterator, "shardIterator");
    if let Some(it) = &input.shard_iterator {
        let len = it.chars().count();
        if !(1..=2048).contains(&len) {
            v.push(
                &format!("'{it}'"),
                "shardIterator",
                if len < 1 {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 2048"
                },
            );
        }
    }
    v.at_least(input.limit, "limit", 1);
    v.into_result()?;
    if input.limit.is_some_and(|l| l > MAX_LIMIT) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Limit should be less than or equal to {MAX_LIMIT}"
        )));
    }
    let limit = input.limit.unwrap_or(MAX_LIMIT) as usize;
    let (arn, pos) = decode_iterator(
        &tenant.sealer,
        input.shard_iterator.as_deref().unwrap_or_default(),
    )
    .ok_or_else(invalid_iterator)?;
    let arn = arn.to_string();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:GetRecords",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    // Sealed by this server for this tenant; what it names is checked
    // against the stream as it is now (gone, replaced, trimmed) below.
    let pos = pos.into_inner();
    let now = streams::now_ms();
    if now.saturating_sub(pos.issued_ms) > ITERATOR_LIFETIME_MS {
        return Err(DynamoError::new(
            ErrorKind::ExpiredIteratorException,
            "The provided iterator exceeds the maximum age allowed.",
        ));
    }

    let (stream, shard, trimmed_below, records) = run::read(tenant, move |txn| {
        let stream = streams::get(txn, pos.stream).map_err(storage_error)?;
        let shard = streams::shards(txn, pos.stream)
            .map_err(storage_error)?
            .into_iter()
            .find(|s| s.index == pos.shard);
        let trimmed = streams::trimmed_below(txn, pos.stream).map_err(storage_error)?;
        let records = streams::read(txn, pos.stream, pos.shard, pos.from, limit, MAX_BYTES)
            .map_err(storage_error)?;
        Ok((stream, shard, trimmed, records))
    })
    .await?;
    let (Some(stream), Some(shard)) = (stream, shard) else {
        return Err(DynamoError::resource_not_found(
            "Invalid ShardId in ShardIterator",
        ));
    };
    // The iterator names the stream as it was asked for; one asked for
    // through another region is not one this region issued.
    let same_region = crate::arn::Arn::parse(&arn).is_some_and(|a| a.region == ctx.region);
    if !same_region || crate::arn::resource(&stream.arn) != crate::arn::resource(&arn) {
        return Err(invalid_iterator());
    }
    if pos.from < trimmed_below && shard.first_seq < trimmed_below {
        return Err(trimmed());
    }

    let mut out = Vec::with_capacity(records.len());
    let mut bytes = 0u64;
    let mut next_from = pos.from;
    for r in records {
        let total = bytes.saturating_add(r.size_bytes);
        if !out.is_empty() && total > MAX_BYTES {
            break;
        }
        bytes = total;
        next_from = r.seq.saturating_add(1);
        out.push(WireRecord {
            event_id: format!("{:016x}{:016x}", stream.id, r.seq),
            event_name: r.event.wire().into(),
            event_version: "1.1".into(),
            event_source: "aws:dynamodb".into(),
            // The region that answers the GetRecords call.
            aws_region: ctx.region.clone(),
            dynamodb: StreamRecord {
                approximate_creation_date_time: Some((r.created_ms / 1000) as f64),
                keys: Some(r.keys),
                new_image: r.new,
                old_image: r.old,
                sequence_number: Some(show_sequence(r.seq)),
                size_bytes: Some(r.size_bytes as i64),
                stream_view_type: Some(stream.view_type.clone()),
            },
            user_identity: r.by_ttl.then(|| Identity {
                principal_id: Some("dynamodb.amazonaws.com".into()),
                r#type: Some("Service".into()),
            }),
        });
    }
    let exhausted = shard.closed && shard.last_seq.is_none_or(|last| next_from > last);
    Ok(GetRecordsOutput {
        records: out,
        next_shard_iterator: (!exhausted).then(|| {
            encode_iterator(
                &tenant.sealer,
                &arn,
                &IteratorPosition {
                    from: next_from,
                    issued_ms: now,
                    ..pos
                },
            )
        }),
    })
}
