//! Scan: every item of a table or index (or of one segment of a parallel
//! scan), page by page, narrowed by a filter.

use std::sync::Arc;

use openddb_core::api::{ScanInput, ScanOutput};
use openddb_core::DynamoError;

use super::multi_read::{
    check_select, exclusive_start, execute, parse_select, shape, whole, ReadPlan, Reader,
    StartCheck, Target,
};
use super::query::check_read_members;
use crate::authz::{self, facts, LeadingKeys};
use crate::capacity::ReturnCapacity;
use crate::expressions::RequestExpressions;
use crate::pages::resume_after;
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most segments a parallel scan may have.
pub const MAX_TOTAL_SEGMENTS: i64 = 1_000_000;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: ScanInput,
) -> Result<ScanOutput, DynamoError> {
    let mut v = check_read_members(
        Reader::Scan,
        &input.table_name,
        input.index_name.as_deref(),
        input.select.as_deref(),
        input.limit,
        input.return_consumed_capacity.as_deref(),
        input.conditional_operator.as_deref(),
        input.attributes_to_get.as_deref(),
    );
    if v.is_empty() {
        v.at_least(input.segment, "segment", 0);
        v.at_most(input.segment, "segment", MAX_TOTAL_SEGMENTS - 1);
        v.at_least(input.total_segments, "totalSegments", 1);
        v.at_most(input.total_segments, "totalSegments", MAX_TOTAL_SEGMENTS);
    }
    v.into_result()?;

    let segment = match (input.segment, input.total_segments) {
        (None, None) => None,
        (Some(s), Some(t)) if s < t => Some((s as u32, t as u32)),
        (Some(s), Some(t)) => {
            return Err(DynamoError::validation(format!(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
            )))
        }
        (Some(_), None) => {
            return Err(DynamoError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ))
        }
        (None, Some(_)) => {
            return Err(DynamoError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ))
        }
    };

    let select = parse_select(input.select.as_deref());
    check_select(
        Reader::Scan,
        select,
        input.index_name.is_some(),
        input.projection_expression.is_some(),
        input.attributes_to_get.is_some(),
    )?;
    let prepared = RequestExpressions {
        projection_expression: input.projection_expression.as_deref(),
        filter_expression: input.filter_expression.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        attributes_to_get: input.attributes_to_get.as_deref(),
        filter: input.scan_filter.as_ref().map(|f| ("ScanFilter", f)),
        conditional_operator: input.conditional_operator.as_deref(),
        ..Default::default()
    }
    .prepare()?;

    // A Scan reads every partition: a grant restricted by
    // `dynamodb:LeadingKeys` does not cover it.
    authz::authorize(ctx, tenant, || {
        facts::read(
            "dynamodb:Scan",
            input.table_name.as_deref().unwrap_or_default(),
            input.index_name.as_deref(),
            LeadingKeys::Every,
            &prepared,
            input.select.as_deref(),
            input.return_consumed_capacity.as_deref(),
        )
    })?;
    let consistent = input.consistent_read.unwrap_or(false);
    let target = Target::open(
        tenant,
        input.table_name.as_deref(),
        input.index_name.as_deref(),
        consistent,
    )?;
    let shape = shape(
        &target,
        Reader::Scan,
        select,
        prepared.projection,
        prepared.filter.as_ref(),
    )?;
    let mut range = whole(&target);
    if let Some(esk) = &input.exclusive_start_key {
        let start = exclusive_start(&target, esk, StartCheck::Scan { segment })?;
        range = resume_after(range, start, false);
    }
    execute(
        tenant,
        &target,
        ReadPlan {
            reader: Reader::Scan,
            range,
            reverse: false,
            limit: input.limit,
            segment,
            filter: prepared.filter,
            shape,
            consistent,
            capacity: ReturnCapacity::parse(input.return_consumed_capacity.as_deref()),
        },
    )
    .await
}
