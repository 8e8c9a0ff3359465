//! DeleteItem: remove an item by key, optionally under a condition.

use std::sync::Arc;

use openddb_core::api::{DeleteItemInput, DeleteItemOutput};
use openddb_core::DynamoError;

use super::common::{
    condition_failed, envelope, item_collection_metrics, non_empty, prepare_conditional_write,
    WriteAction, WriteMembers,
};
use crate::authz::{self, facts};
use crate::capacity::{write_units, ReturnCapacity};
use crate::expressions::{condition_holds, RequestExpressions};
use crate::keys;
use crate::tenant::Tenant;
use crate::write::{write_item, Change};
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DeleteItemInput,
) -> Result<DeleteItemOutput, DynamoError> {
    WriteMembers {
        action: WriteAction::Delete,
        table_name: &input.table_name,
        return_consumed_capacity: input.return_consumed_capacity.as_deref(),
        return_item_collection_metrics: input.return_item_collection_metrics.as_deref(),
        conditional_operator: input.conditional_operator.as_deref(),
        return_values: input.return_values.as_deref(),
        return_values_on_ccf: input.return_values_on_condition_check_failure.as_deref(),
        target_present: input.key.is_some(),
    }
    .check()?;

    let prepared = prepare_conditional_write(
        RequestExpressions {
            condition_expression: input.condition_expression.as_deref(),
            names: input.expression_attribute_names.as_ref(),
            values: input.expression_attribute_values.as_ref(),
            expected: input.expected.as_ref(),
            conditional_operator: input.conditional_operator.as_deref(),
            ..Default::default()
        },
        input.return_values.as_deref(),
    )
    .map_err(envelope)?;

    let table_name = input.table_name.unwrap_or_default();
    authz::authorize(ctx, tenant, || {
        facts::write_item(
            "dynamodb:DeleteItem",
            &table_name,
            tenant.table(&table_name).as_deref(),
            input.key.as_ref(),
            &prepared,
            input.return_values.as_deref(),
            input.return_consumed_capacity.as_deref(),
        )
    })?;
    let meta = tenant.table_or_not_found(&table_name)?;
    let key_item = input.key.unwrap_or_default();
    let (pk, sk) = meta.key_from_key_param(&key_item)?;
    let key = keys::item_key(meta.id, pk, sk);

    let return_old_on_failure =
        input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    let condition = prepared.condition;
    let written = write_item(tenant, &meta, key, move |old| {
        if let Some(c) = &condition {
            if !condition_holds(c, old)? {
                return Err(condition_failed(old, return_old_on_failure));
            }
        }
        Ok((Change::Delete, ()))
    })
    .await?;

    let units = write_units(written.old_size);
    Ok(DeleteItemOutput {
        attributes: match input.return_values.as_deref() {
            Some("ALL_OLD") => non_empty(written.old),
            _ => None,
        },
        consumed_capacity: ReturnCapacity::parse(input.return_consumed_capacity.as_deref())
            .report_write(&table_name, units, &written.indexes),
        item_collection_metrics: item_collection_metrics(
            &meta,
            &key_item,
            input.return_item_collection_metrics.as_deref(),
            written.collection_size,
        ),
    })
}
