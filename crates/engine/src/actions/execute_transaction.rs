//! ExecuteTransaction: up to 100 PartiQL statements, all reads or all
//! writes, all or nothing. Reads run as a TransactGetItems of the items
//! they name; writes (and `EXISTS` checks) as a TransactWriteItems, with
//! the same in-flight claims, conflicts, cancellation reasons and
//! ClientRequestToken idempotency.

use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};
use openddb_core::api::{
    ExecuteTransactionInput, ExecuteTransactionOutput, Get, TransactGetItem, TransactGetItemsInput,
};
use openddb_core::partiql::Statement;
use openddb_core::{CancellationReason, DynamoError, ErrorKind, Item};

use super::execute_statement::check_statement_list;
use super::transact_write_items::{self as twi, Op, MAX_ACTIONS, MAX_TOKEN_LENGTH};
use crate::capacity::ReturnCapacity;
use crate::partiql::{select, write, Prepared};
use crate::tenant::Tenant;
use crate::tokens;
use crate::RequestContext;

fn in_statement(i: usize, e: DynamoError) -> DynamoError {
    if e.kind != ErrorKind::ValidationException {
        return e;
    }
    DynamoError::validation(format!(
        "Validation failed in TransactStatements[{i}]: {}",
        e.message
    ))
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: ExecuteTransactionInput,
) -> Result<ExecuteTransactionOutput, DynamoError> {
    let mut v = Violations::new();
    check_statement_list(
        &mut v,
        input
            .transact_statements
            .as_ref()
            .map(|s| s.iter().map(|st| st.statement.as_deref()).collect()),
        "transactStatements",
        MAX_ACTIONS,
        false,
    );
    if let Some(t) = &input.client_request_token {
        if t.is_empty() || t.chars().count() > MAX_TOKEN_LENGTH {
            v.push_unnamed_value(
                "clientRequestToken",
                "Member must have length less than or equal to 36",
            );
        }
    }
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    v.into_result()?;
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let fingerprint = tokens::fingerprint(&input.transact_statements);
    let statements = input.transact_statements.unwrap_or_default();
    let return_old: Vec<bool> = statements
        .iter()
        .map(|s| s.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"))
        .collect();
    let mut prepared = Vec::with_capacity(statements.len());
    for (i, s) in statements.into_iter().enumerate() {
        let p = Prepared::new(
            tenant,
            ctx,
            s.statement.unwrap_or_default(),
            s.parameters.unwrap_or_default(),
        )
        .map_err(|e| in_statement(i, e))?;
        prepared.push(p);
    }
    let reads = prepared.iter().filter(|p| p.is_read()).count();
    if reads > 0 && reads < prepared.len() {
        return Err(DynamoError::validation(
            "ExecuteTransaction API does not support both read and write operations in the same request.",
        ));
    }
    for (i, p) in prepared.iter().enumerate() {
        let returning = match &p.statement {
            Statement::Update(u) => u.returning.is_some(),
            Statement::Delete(d) => d.returning.is_some(),
            _ => false,
        };
        if returning {
            return Err(in_statement(
                i,
                DynamoError::validation("RETURNING clause is not supported in ExecuteTransaction."),
            ));
        }
        if let Statement::Select(s) = &p.statement {
            if s.from.index.is_some() {
                return Err(in_statement(
                    i,
                    DynamoError::validation(
                        "Reads on indices are not supported within transactions.",
                    ),
                ));
            }
        }
    }

    crate::authz::authorize(ctx, tenant, || {
        prepared
            .iter()
            .map(|p| p.access(tenant, false, Some("ExecuteTransaction")))
            .collect()
    })?;

    // Statements on missing tables cancel the transaction, each with its
    // reason, before anything runs.
    let missing: Vec<bool> = prepared
        .iter()
        .map(|p| tenant.table(p.table_name()).is_none())
        .collect();
    if missing.iter().any(|m| *m) {
        let reasons: Vec<CancellationReason> = missing
            .iter()
            .map(|m| {
                if *m {
                    CancellationReason::new("ResourceNotFound", "Requested resource not found")
                } else {
                    CancellationReason::none()
                }
            })
            .collect();
        return Err(DynamoError::transaction_canceled(&reasons));
    }
    if reads > 0 {
        return read(tenant, ctx, &prepared, capacity).await;
    }

    let mut planned = Vec::with_capacity(prepared.len());
    for (i, (p, return_old)) in prepared.iter().zip(return_old).enumerate() {
        planned.push(match write::plan(tenant, p) {
            Ok(w) => twi::Planned {
                return_old,
                ..w.write
            },
            // An EXISTS that is not a keyed read with a condition refuses
            // the request.
            Err(e) if matches!(p.statement, Statement::Exists(_)) => {
                return Err(in_statement(i, e))
            }
            // A statement that names no single item of its table cancels
            // the transaction with its reason.
            Err(e) => match tenant.table(p.table_name()) {
                Some(meta) => twi::Planned {
                    meta,
                    key: Vec::new(),
                    item_key: Item::new(),
                    op: Op::Refused(as_key_mismatch(e)),
                    condition: None,
                    return_old,
                },
                None => return Err(e),
            },
        });
    }
    let (output, _) = twi::commit(
        tenant,
        planned,
        input.client_request_token,
        fingerprint,
        capacity,
    )
    .await?;
    Ok(ExecuteTransactionOutput {
        responses: Some(Vec::new()),
        consumed_capacity: output.consumed_capacity,
    })
}

/// Inside a transaction, a write whose WHERE does not name exactly one item
/// is reported as a key that does not match the schema.
fn as_key_mismatch(e: DynamoError) -> DynamoError {
    let names_no_item = e.message.starts_with("Where clause does not contain")
        || e.message.starts_with("Multiple conditions on same key");
    if names_no_item {
        DynamoError::validation("The provided key element does not match the schema")
    } else {
        e
    }
}

/// A transaction of SELECTs, each naming one item by its primary key.
async fn read(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    prepared: &[Prepared],
    capacity: ReturnCapacity,
) -> Result<ExecuteTransactionOutput, DynamoError> {
    let must_name_key = || {
        DynamoError::validation(
            "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
        )
    };
    let mut plans = Vec::with_capacity(prepared.len());
    let mut gets = Vec::with_capacity(prepared.len());
    for (i, p) in prepared.iter().enumerate() {
        let Statement::Select(s) = &p.statement else {
            return Err(in_statement(i, must_name_key()));
        };
        let plan = select::plan(tenant, p, s, false).map_err(|e| in_statement(i, e))?;
        let key = plan
            .single_item_key(s, p.params())
            .ok_or_else(|| in_statement(i, must_name_key()))?;
        gets.push(TransactGetItem {
            get: Some(Get {
                table_name: Some(plan.table_name().to_string()),
                key: Some(key),
                projection_expression: None,
                expression_attribute_names: None,
            }),
        });
        plans.push(plan);
    }
    // Authorized as PartiQL reads already: the Gets they become are not
    // asked about again.
    let inner = RequestContext {
        authorizer: None,
        ..ctx.clone()
    };
    let out = super::transact_get_items::run(
        tenant,
        &inner,
        TransactGetItemsInput {
            transact_items: Some(gets),
            return_consumed_capacity: match capacity {
                ReturnCapacity::None => None,
                ReturnCapacity::Total => Some("TOTAL".into()),
                ReturnCapacity::Indexes => Some("INDEXES".into()),
            },
        },
    )
    .await?;
    let mut responses = out.responses.unwrap_or_default();
    for (r, plan) in responses.iter_mut().zip(&plans) {
        if let Some(item) = &r.item {
            r.item = Some(plan.columns_of(item));
        }
    }
    Ok(ExecuteTransactionOutput {
        responses: Some(responses),
        consumed_capacity: out.consumed_capacity,
    })
}
