//! Query: the items of one partition of a table or index, in sort-key
//! order, narrowed by a sort-key condition and a filter.

use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};

use openddb_core::api::{QueryInput, QueryOutput};
use openddb_core::expr::keycond::{
    analyze_key_condition, check_key_condition_shape, check_key_conditions,
    key_conditions_to_query, KeyAttr, KeyQuery, QuerySchema,
};
use openddb_core::DynamoError;

use super::common::check_table_name;
use super::multi_read::{
    check_select, exclusive_start, execute, parse_select, shape, ReadPlan, Reader, StartCheck,
    Target,
};
use crate::authz::{self, facts, LeadingKeys};
use crate::capacity::ReturnCapacity;
use crate::expressions::RequestExpressions;
use crate::pages::{key_condition_range, resume_after, target_prefix};
use crate::tenant::Tenant;
use crate::RequestContext;

pub const SELECT: &[&str] = &[
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];

/// The member checks Query and Scan share. An invalid ConditionalOperator
/// is reported alone, in DynamoDB's bare form (with its `ALL` typo), before
/// everything else.
#[allow(clippy::too_many_arguments)]
pub fn check_read_members(
    reader: Reader,
    table_name: &Option<String>,
    index_name: Option<&str>,
    select: Option<&str>,
    limit: Option<i64>,
    return_consumed_capacity: Option<&str>,
    conditional_operator: Option<&str>,
    attributes_to_get: Option<&[String]>,
) -> Violations {
    let mut v = Violations::new();
    if conditional_operator.is_some_and(|o| o != "AND" && o != "OR") {
        v.push_unnamed("Member must satisfy enum value set: [ALL, OR]");
        return v;
    }
    check_table_name(&mut v, table_name);
    if let Some(name) = index_name {
        v.name_constraints(name, "indexName", 3, 255);
    }
    v.one_of(
        return_consumed_capacity,
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    v.one_of(select, "select", SELECT);
    match (reader, limit) {
        (Reader::Query, Some(l)) if l < 1 => {
            v.push_unnamed_value("Limit", "Member must have value greater than or equal to 1")
        }
        _ => v.at_least(limit, "limit", 1),
    }
    if attributes_to_get.is_some_and(|a| a.is_empty()) {
        v.push(
            "'[]'",
            "attributesToGet",
            "Member must have length greater than or equal to 1",
        );
    }
    v
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: QueryInput,
) -> Result<QueryOutput, DynamoError> {
    check_read_members(
        Reader::Query,
        &input.table_name,
        input.index_name.as_deref(),
        input.select.as_deref(),
        input.limit,
        input.return_consumed_capacity.as_deref(),
        input.conditional_operator.as_deref(),
        input.attributes_to_get.as_deref(),
    )
    .into_result()?;

    let select = parse_select(input.select.as_deref());
    check_select(
        Reader::Query,
        select,
        input.index_name.is_some(),
        input.projection_expression.is_some(),
        input.attributes_to_get.is_some(),
    )?;
    let prepared = RequestExpressions {
        projection_expression: input.projection_expression.as_deref(),
        filter_expression: input.filter_expression.as_deref(),
        key_condition_expression: input.key_condition_expression.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        attributes_to_get: input.attributes_to_get.as_deref(),
        key_conditions: input.key_conditions.as_ref(),
        filter: input.query_filter.as_ref().map(|f| ("QueryFilter", f)),
        conditional_operator: input.conditional_operator.as_deref(),
        ..Default::default()
    }
    .prepare()?;
    match (&prepared.key_condition, &prepared.key_conditions) {
        (Some(c), _) => check_key_condition_shape(c)?,
        (None, Some(entries)) => check_key_conditions(entries)?,
        (None, None) => return Err(no_key_condition()),
    }

    let consistent = input.consistent_read.unwrap_or(false);
    authz::authorize(ctx, tenant, || {
        // The partition the key condition names, as the query will read
        // it; every partition when it cannot be told (the query then fails).
        let leading = Target::open(
            tenant,
            input.table_name.as_deref(),
            input.index_name.as_deref(),
            consistent,
        )
        .and_then(|t| analyze(&t, &prepared.key_condition, &prepared.key_conditions))
        .ok()
        .and_then(|q| q.partition.first().and_then(facts::key_string))
        .map_or(LeadingKeys::Every, |v| LeadingKeys::Known([v].into()));
        facts::read(
            "dynamodb:Query",
            input.table_name.as_deref().unwrap_or_default(),
            input.index_name.as_deref(),
            leading,
            &prepared,
            input.select.as_deref(),
            input.return_consumed_capacity.as_deref(),
        )
    })?;
    let target = Target::open(
        tenant,
        input.table_name.as_deref(),
        input.index_name.as_deref(),
        consistent,
    )?;

    let key_query = analyze(&target, &prepared.key_condition, &prepared.key_conditions)?;
    if let Some(filter) = &prepared.filter {
        check_filter_keys(&target, filter, input.query_filter.is_some())?;
    }
    let shape = shape(
        &target,
        Reader::Query,
        select,
        prepared.projection,
        prepared.filter.as_ref(),
    )?;
    let prefix = target_prefix(&target.meta, target.index.as_ref());
    // The key-condition analysis checked every value against the schema's
    // types; a value no key can hold still gets that check's answer.
    let mut range = key_condition_range(
        &prefix,
        &key_query.partition,
        &key_query.sort_equal,
        key_query.sort_range.as_ref(),
    )
    .map_err(|_| {
        DynamoError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    })?;
    let reverse = input.scan_index_forward == Some(false);
    if let Some(esk) = &input.exclusive_start_key {
        let schema = schema_of(&target);
        let start = exclusive_start(
            &target,
            esk,
            StartCheck::Query {
                partition_names: schema.partition.iter().map(|a| a.name).collect(),
                partition: &key_query.partition,
            },
        )?;
        range = resume_after(range, start, reverse);
    }
    execute(
        tenant,
        &target,
        ReadPlan {
            reader: Reader::Query,
            range,
            reverse,
            limit: input.limit,
            segment: None,
            filter: prepared.filter,
            shape,
            consistent,
            capacity: ReturnCapacity::parse(input.return_consumed_capacity.as_deref()),
        },
    )
    .await
}

/// The key schema of what is queried, as the key-condition analysis sees it.
fn schema_of(target: &Target) -> QuerySchema<'_> {
    fn attr(a: &crate::catalog::KeyAttribute) -> KeyAttr<'_> {
        KeyAttr {
            name: a.name.as_str(),
            attr_type: a.attr_type.as_str(),
        }
    }
    match &target.index {
        Some(i) => QuerySchema {
            partition: i.partition.iter().map(attr).collect(),
            sort: i.sort.iter().map(attr).collect(),
            index_name: Some(i.name.as_str()),
        },
        None => QuerySchema {
            partition: vec![attr(&target.meta.key_schema.partition_key)],
            sort: target.meta.key_schema.sort_key.iter().map(attr).collect(),
            index_name: None,
        },
    }
}

fn analyze(
    target: &Target,
    expression: &Option<openddb_core::expr::Condition>,
    legacy: &Option<Vec<(String, openddb_core::expr::legacy::ExpectedAttributeValue)>>,
) -> Result<KeyQuery, DynamoError> {
    let schema = schema_of(target);
    match (expression, legacy) {
        (Some(c), _) => analyze_key_condition(c, &schema),
        (None, Some(entries)) => key_conditions_to_query(entries, &schema),
        (None, None) => Err(no_key_condition()),
    }
}

fn no_key_condition() -> DynamoError {
    DynamoError::validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
    )
}

/// A Query's filter may not name the key attributes of what is queried
/// (a Scan's may).
fn check_filter_keys(
    target: &Target,
    filter: &openddb_core::expr::Condition,
    legacy: bool,
) -> Result<(), DynamoError> {
    let schema = schema_of(target);
    let mut names = std::collections::HashSet::new();
    super::multi_read::condition_names(filter, &mut names);
    for a in schema.partition.iter().chain(schema.sort.iter()) {
        if names.contains(a.name) {
            return Err(DynamoError::validation(format!(
                "{} can only contain non-primary key attributes: Primary key attribute: {}",
                if legacy {
                    "QueryFilter"
                } else {
                    "Filter Expression"
                },
                a.name
            )));
        }
    }
    Ok(())
}
