//! BatchExecuteStatement: up to 25 PartiQL statements, all reads or all
//! writes, each answered on its own (a failing statement is an `Error` in
//! its place, not a failed request). Reads must name one item by its full
//! primary key; writes run one by one through the single-statement path.

use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};
use openddb_core::api::{
    BatchExecuteStatementInput, BatchExecuteStatementOutput, BatchStatementError,
    BatchStatementResponse, ConsumedCapacity,
};
use openddb_core::partiql::Statement;
use openddb_core::size::item_size;
use openddb_core::{DynamoError, ErrorKind};

use super::execute_statement::check_statement_list;
use crate::capacity::{read_units, ReturnCapacity};
use crate::keys;
use crate::partiql::{multi_attribute_refusal, select, write, Prepared};
use crate::tenant::Tenant;
use crate::write::read_item;
use crate::RequestContext;

/// Most statements in one batch.
pub const MAX_STATEMENTS: usize = 25;

/// The code a statement's failure is reported with.
pub fn error_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ConditionalCheckFailedException => "ConditionalCheckFailed",
        ErrorKind::DuplicateItemException => "DuplicateItem",
        ErrorKind::ResourceNotFoundException => "ResourceNotFound",
        ErrorKind::TransactionConflictException => "TransactionConflict",
        ErrorKind::ItemCollectionSizeLimitExceededException => "ItemCollectionSizeLimitExceeded",
        ErrorKind::ProvisionedThroughputExceededException => "ProvisionedThroughputExceeded",
        ErrorKind::RequestLimitExceeded => "RequestLimitExceeded",
        ErrorKind::ThrottlingException => "ThrottlingError",
        ErrorKind::InternalServerError => "InternalServerError",
        ErrorKind::AccessDeniedException => "AccessDenied",
        _ => "ValidationError",
    }
}

fn failed(e: DynamoError, table: Option<String>) -> BatchStatementResponse {
    BatchStatementResponse {
        error: Some(BatchStatementError {
            code: Some(error_code(e.kind).to_string()),
            message: Some(e.message),
            item: None,
        }),
        table_name: table,
        item: None,
    }
}

/// Adds one statement's capacity to its table's entry, tables in the order
/// they first appear.
fn charge(per_table: &mut Vec<ConsumedCapacity>, report: Option<ConsumedCapacity>) {
    let Some(report) = report else {
        return;
    };
    match per_table
        .iter_mut()
        .find(|c| c.table_name == report.table_name)
    {
        Some(c) => {
            let mut total = Some(std::mem::take(c));
            select::add_capacity(&mut total, Some(report));
            *c = total.unwrap_or_default();
        }
        None => per_table.push(report),
    }
}

fn must_name_key() -> DynamoError {
    DynamoError::validation(
        "Select statements within BatchExecuteStatement must specify the primary key in the where clause.",
    )
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: BatchExecuteStatementInput,
) -> Result<BatchExecuteStatementOutput, DynamoError> {
    let mut v = Violations::new();
    check_statement_list(
        &mut v,
        input
            .statements
            .as_ref()
            .map(|s| s.iter().map(|st| st.statement.as_deref()).collect()),
        "statements",
        MAX_STATEMENTS,
        true,
    );
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    v.into_result()?;
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let statements = input.statements.unwrap_or_default();
    let consistent: Vec<bool> = statements
        .iter()
        .map(|s| s.consistent_read.unwrap_or(false))
        .collect();
    let prepared: Vec<Result<Prepared, DynamoError>> = statements
        .into_iter()
        .map(|s| match s.parameter_error {
            // Read before the statement, as ExecuteStatement reads them.
            Some(e) => Err(e),
            None => Prepared::new(
                tenant,
                ctx,
                s.statement.unwrap_or_default(),
                s.parameters.unwrap_or_default(),
            ),
        })
        .collect();
    let reads = prepared.iter().flatten().filter(|p| p.is_read()).count();
    let writes = prepared.iter().flatten().count() - reads;
    if reads > 0 && writes > 0 {
        return Err(DynamoError::validation(
            "Read and write requests together in the same batch is not supported.",
        ));
    }

    // Each statement is authorized on its own, before any runs; one the
    // caller may not make fails with `AccessDenied` in its place.
    let prepared: Vec<Result<Prepared, DynamoError>> = prepared
        .into_iter()
        .zip(&consistent)
        .map(|(p, consistent)| {
            let p = p?;
            crate::authz::authorize(ctx, tenant, || vec![p.access(tenant, *consistent, None)])?;
            Ok(p)
        })
        .collect();

    let mut responses = Vec::with_capacity(prepared.len());
    let mut consumed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if writes > 0 {
        // Plan every statement first: two on one item refuse the batch.
        let mut planned = Vec::with_capacity(prepared.len());
        for p in prepared {
            let name = p.as_ref().ok().map(|p| p.table_name().to_string());
            let p = p.and_then(|p| {
                if matches!(p.statement, Statement::Exists(_)) {
                    return Err(DynamoError::validation(
                        "EXISTS can only be used in ExecuteTransaction write requests.",
                    ));
                }
                write::plan(tenant, &p)
            });
            if let Ok(w) = &p {
                if !seen.insert(w.write.key.clone()) {
                    return Err(DynamoError::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
            }
            planned.push((name, p));
        }
        for (name, p) in planned {
            let w = match p {
                Ok(w) => w,
                Err(e) => {
                    // Only a missing table is named in the answer.
                    let table = name.filter(|_| e.kind == ErrorKind::ResourceNotFoundException);
                    responses.push(failed(e, table));
                    continue;
                }
            };
            let table = w.write.meta.name().to_string();
            // ReturnValuesOnConditionCheckFailure has no effect here: a
            // failed condition comes back without the item.
            match write::run(tenant, w).await {
                Ok(outcome) => {
                    charge(&mut consumed, write::report(capacity, &table, &outcome));
                    responses.push(BatchStatementResponse {
                        error: None,
                        table_name: Some(table),
                        item: outcome.item,
                    });
                }
                Err(e) => responses.push(failed(e, Some(table))),
            }
        }
    } else {
        for (p, consistent) in prepared.into_iter().zip(consistent) {
            let name = p.as_ref().ok().map(|p| p.table_name().to_string());
            let planned = p.and_then(|p| {
                let Statement::Select(s) = &p.statement else {
                    return Err(must_name_key());
                };
                if s.from.index.is_some() {
                    return Err(
                        multi_attribute_refusal(tenant, &s.from).unwrap_or_else(must_name_key)
                    );
                }
                let plan = select::plan(tenant, &p, s, consistent)?;
                let key = plan
                    .single_item_key(s, p.params())
                    .ok_or_else(must_name_key)?;
                Ok((plan, key))
            });
            let (plan, key) = match planned {
                Ok(x) => x,
                Err(e) => {
                    let table = name.filter(|_| e.kind == ErrorKind::ResourceNotFoundException);
                    responses.push(failed(e, table));
                    continue;
                }
            };
            let meta = plan.meta().clone();
            let (pk, sk) = match meta.key_from_key_param(&key) {
                Ok(k) => k,
                Err(e) => {
                    responses.push(failed(e, None));
                    continue;
                }
            };
            let storage_key = keys::item_key(meta.id, pk, sk);
            if !seen.insert(storage_key.clone()) {
                return Err(DynamoError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
            match read_item(tenant, &meta, storage_key).await {
                Ok(item) => {
                    let size = item.as_ref().map_or(0, item_size);
                    charge(
                        &mut consumed,
                        capacity.report(meta.name(), read_units(size, consistent)),
                    );
                    responses.push(BatchStatementResponse {
                        error: None,
                        table_name: Some(meta.name().to_string()),
                        item: item.map(|i| plan.columns_of(&i)),
                    });
                }
                Err(e) => responses.push(failed(e, Some(meta.name().to_string()))),
            }
        }
    }
    Ok(BatchExecuteStatementOutput {
        responses: Some(responses),
        consumed_capacity: (capacity != ReturnCapacity::None && !consumed.is_empty())
            .then_some(consumed),
    })
}
