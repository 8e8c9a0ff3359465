//! ListTables: table names in order, paginated by name.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{ListTablesInput, ListTablesOutput};
use openddb_core::DynamoError;

use crate::tenant::Tenant;
use crate::RequestContext;

const MAX_LIMIT: i64 = 100;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: ListTablesInput,
) -> Result<ListTablesOutput, DynamoError> {
    let mut v = Violations::new();
    if let Some(start) = &input.exclusive_start_table_name {
        v.name_constraints(start, "exclusiveStartTableName", 3, 255);
    }
    v.at_least(input.limit, "limit", 1);
    v.at_most(input.limit, "limit", MAX_LIMIT);
    v.into_result()?;
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:ListTables",
            crate::authz::Resource::Any,
        )]
    })?;
    let limit = input.limit.unwrap_or(MAX_LIMIT) as usize;
    let (names, more) =
        tenant.table_names_after(input.exclusive_start_table_name.as_deref(), limit);
    let last = if more { names.last().cloned() } else { None };
    Ok(ListTablesOutput {
        table_names: names,
        last_evaluated_table_name: last,
    })
}
