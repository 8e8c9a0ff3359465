//! ExecuteStatement: one PartiQL statement — a SELECT page, or one write.

use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY, RETURN_VALUES_ON_CCF};
use openddb_core::api::{ExecuteStatementInput, ExecuteStatementOutput};
use openddb_core::partiql::Statement;
use openddb_core::DynamoError;

use crate::capacity::ReturnCapacity;
use crate::partiql::{self, select, write, Prepared};
use crate::tenant::Tenant;
use crate::RequestContext;

/// Longest NextToken (the API model's PartiQLNextToken).
pub const MAX_NEXT_TOKEN: usize = 32768;

/// The length constraint every PartiQL surface puts on a statement.
pub fn check_statement(v: &mut Violations, statement: Option<&str>, member: &str) {
    match statement {
        None => v.push("null", member, "Member must not be null"),
        Some(s) if s.is_empty() => v.push(
            &format!("'{s}'"),
            member,
            "Member must have length greater than or equal to 1",
        ),
        Some(s) if s.chars().count() > partiql::MAX_STATEMENT_LENGTH => {
            v.push_unnamed_value(member, "Member must have length less than or equal to 8192")
        }
        _ => {}
    }
}

/// The checks on a list of statements (`statements` of
/// BatchExecuteStatement, `transactStatements` of ExecuteTransaction):
/// present, 1 to `max` long, each statement of a valid length. An empty
/// BatchExecuteStatement list is shown as `'[]'`.
pub fn check_statement_list(
    v: &mut Violations,
    statements: Option<Vec<Option<&str>>>,
    member: &str,
    max: usize,
    show_empty: bool,
) {
    const TOO_SHORT: &str = "Member must have length greater than or equal to 1";
    match statements {
        None => v.push("null", member, "Member must not be null"),
        Some(s) if s.is_empty() && show_empty => v.push("'[]'", member, TOO_SHORT),
        Some(s) if s.is_empty() => v.push_unnamed_value(member, TOO_SHORT),
        Some(s) if s.len() > max => v.push_unnamed_value(
            member,
            &format!("Member must have length less than or equal to {max}"),
        ),
        Some(s) => {
            for (i, statement) in s.into_iter().enumerate() {
                check_statement(
                    v,
                    statement,
                    &format!("{member}.{}.member.statement", i + 1),
                );
            }
        }
    }
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: ExecuteStatementInput,
) -> Result<ExecuteStatementOutput, DynamoError> {
    let mut v = Violations::new();
    check_statement(&mut v, input.statement.as_deref(), "statement");
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    v.at_least(input.limit, "limit", 1);
    if input
        .next_token
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.chars().count() > MAX_NEXT_TOKEN)
    {
        v.push_unnamed_value("nextToken", "Member must have length between 1 and 32768");
    }
    v.one_of(
        input.return_values_on_condition_check_failure.as_deref(),
        "returnValuesOnConditionCheckFailure",
        RETURN_VALUES_ON_CCF,
    );
    if input.parameters.as_ref().is_some_and(|p| p.is_empty()) {
        v.push(
            "'[]'",
            "parameters",
            "Member must have length greater than or equal to 1",
        );
    }
    v.into_result()?;

    let prepared = Prepared::new(
        tenant,
        ctx,
        input.statement.unwrap_or_default(),
        input.parameters.unwrap_or_default(),
    )?;
    let consistent = input.consistent_read.unwrap_or(false);
    crate::authz::authorize(ctx, tenant, || {
        vec![prepared.access(tenant, consistent, None)]
    })?;
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    match &prepared.statement {
        Statement::Select(s) => {
            let plan = select::plan(tenant, &prepared, s, consistent)?;
            let out = select::run(
                tenant,
                &prepared,
                plan,
                select::Options {
                    limit: input.limit,
                    next_token: input.next_token.as_deref(),
                    capacity,
                },
            )
            .await?;
            Ok(ExecuteStatementOutput {
                items: Some(out.items),
                next_token: out.next_token,
                consumed_capacity: out.consumed,
                last_evaluated_key: None,
            })
        }
        Statement::Exists(_) => Err(DynamoError::validation(
            "EXISTS can only be used in ExecuteTransaction write requests.",
        )),
        _ => {
            let mut planned = write::plan(tenant, &prepared)?;
            let table = planned.write.meta.name().to_string();
            planned.write.return_old =
                input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
            let outcome = write::run(tenant, planned).await?;
            Ok(ExecuteStatementOutput {
                consumed_capacity: write::report(capacity, &table, &outcome),
                items: Some(outcome.item.into_iter().collect()),
                next_token: None,
                last_evaluated_key: None,
            })
        }
    }
}
