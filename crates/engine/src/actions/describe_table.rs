//! DescribeTable: the stored description with live item count and size.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{DescribeTableInput, DescribeTableOutput};
use openddb_core::DynamoError;

use super::common::{check_table_name, describe_with_stats, localize_description, read_all_stats};
use crate::run::{self, storage_error};
use crate::tenant::Tenant;
use crate::RequestContext;

pub fn not_found(name: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// The ResourceNotFoundException of item actions.
pub fn not_found_item() -> DynamoError {
    DynamoError::resource_not_found("Requested resource not found")
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DescribeTableInput,
) -> Result<DescribeTableOutput, DynamoError> {
    let mut v = Violations::new();
    check_table_name(&mut v, &input.table_name);
    v.into_result()?;
    let name = input.table_name.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:DescribeTable",
            crate::authz::Resource::table(&name),
        )]
    })?;
    let Some(meta) = tenant.catalog_table(&name) else {
        // A table being deleted is still described, DELETING, for a while.
        let deleting = tenant.transient.as_ref().and_then(|t| t.deleting(&name));
        return match deleting {
            Some(description) => Ok(DescribeTableOutput {
                table: Some(localize_description(description, ctx)),
            }),
            None => Err(not_found(&name)),
        };
    };
    let id = meta.id;
    let stats = run::read(tenant, move |txn| {
        read_all_stats(txn, id).map_err(storage_error)
    })
    .await?;
    let stats = stats.ok_or_else(|| not_found(&name))?;
    let mut description = describe_with_stats(&meta, &stats);
    tenant.overlay(id, &mut description);
    Ok(DescribeTableOutput {
        table: Some(localize_description(description, ctx)),
    })
}
