//! UpdateItem: edit (or create) an item with an UpdateExpression or the
//! legacy AttributeUpdates, optionally under a condition.

use std::sync::Arc;

use openddb_core::api::{UpdateItemInput, UpdateItemOutput};
use openddb_core::{DynamoError, Item};

use super::common::{
    check_item_size, condition_failed, envelope, item_collection_metrics, non_empty, WriteAction,
    WriteMembers,
};
use crate::authz::{self, facts};
use crate::capacity::{write_units, ReturnCapacity};
use crate::expressions::{apply_update, condition_holds, project, RequestExpressions};
use crate::keys;
use crate::tenant::Tenant;
use crate::write::{write_item, Change};
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: UpdateItemInput,
) -> Result<UpdateItemOutput, DynamoError> {
    WriteMembers {
        action: WriteAction::Update,
        table_name: &input.table_name,
        return_consumed_capacity: input.return_consumed_capacity.as_deref(),
        return_item_collection_metrics: input.return_item_collection_metrics.as_deref(),
        conditional_operator: input.conditional_operator.as_deref(),
        return_values: input.return_values.as_deref(),
        return_values_on_ccf: input.return_values_on_condition_check_failure.as_deref(),
        target_present: input.key.is_some(),
    }
    .check()?;

    let prepared = RequestExpressions {
        condition_expression: input.condition_expression.as_deref(),
        update_expression: input.update_expression.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        values: input.expression_attribute_values.as_ref(),
        expected: input.expected.as_ref(),
        conditional_operator: input.conditional_operator.as_deref(),
        attribute_updates: input.attribute_updates.as_ref(),
        ..Default::default()
    }
    .prepare()
    .map_err(envelope)?;

    let table_name = input.table_name.unwrap_or_default();
    authz::authorize(ctx, tenant, || {
        facts::write_item(
            "dynamodb:UpdateItem",
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
    if let Some(update) = &prepared.update {
        for name in meta.key_names() {
            if update.touches_attribute(name) {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
                )));
            }
        }
    }

    let return_old_on_failure =
        input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    let condition = prepared.condition;
    let update = prepared.update;
    let key_attrs: Item = key_item.clone();
    let written = write_item(tenant, &meta, key, move |old| {
        if let Some(c) = &condition {
            if !condition_holds(c, old)? {
                return Err(condition_failed(old, return_old_on_failure));
            }
        }
        let mut item = old.cloned().unwrap_or_else(|| key_attrs.clone());
        let paths = match &update {
            Some(u) => apply_update(u, &mut item)?,
            None => Vec::new(),
        };
        check_item_size(&item, true)?;
        Ok((Change::Put(item), paths))
    })
    .await?;

    let units = write_units(written.old_size.max(written.new_size));
    let paths = written.extra;
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => written.old,
        Some("ALL_NEW") => written.new,
        Some("UPDATED_OLD") => written.old.map(|o| project(&paths, &o)),
        Some("UPDATED_NEW") => written.new.map(|n| project(&paths, &n)),
        _ => None,
    };
    Ok(UpdateItemOutput {
        attributes: non_empty(attributes),
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
