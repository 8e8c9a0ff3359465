//! GetItem: read one item by key, optionally projected.

use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};
use openddb_core::api::{GetItemInput, GetItemOutput};
use openddb_core::size::item_size;
use openddb_core::DynamoError;

use super::common::check_item_table_name;
use crate::authz::{self, facts};
use crate::capacity::{read_units, ReturnCapacity};
use crate::expressions::{project, RequestExpressions};
use crate::keys;
use crate::tenant::Tenant;
use crate::write::read_item;
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: GetItemInput,
) -> Result<GetItemOutput, DynamoError> {
    let mut v = Violations::new();
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    check_item_table_name(&mut v, &input.table_name);
    if let Some(a) = &input.attributes_to_get {
        if a.is_empty() {
            v.push(
                "'[]'",
                "attributesToGet",
                "Member must have length greater than or equal to 1",
            );
        }
    }
    v.require(&input.key, "key");
    v.into_result()?;

    let prepared = RequestExpressions {
        projection_expression: input.projection_expression.as_deref(),
        names: input.expression_attribute_names.as_ref(),
        attributes_to_get: input.attributes_to_get.as_deref(),
        ..Default::default()
    }
    .prepare()?;

    let table_name = input.table_name.unwrap_or_default();
    authz::authorize(ctx, tenant, || {
        facts::get_item(
            &table_name,
            tenant.table(&table_name).as_deref(),
            input.key.as_ref(),
            &prepared,
            input.return_consumed_capacity.as_deref(),
        )
    })?;
    let meta = tenant.table_or_not_found(&table_name)?;
    let key_item = input.key.unwrap_or_default();
    let (pk, sk) = meta.key_from_key_param(&key_item)?;
    let key = keys::item_key(meta.id, pk, sk);
    let consistent = input.consistent_read.unwrap_or(false);

    let item = read_item(tenant, &meta, key).await?;
    let size = item.as_ref().map_or(0, item_size);
    let item = match (&prepared.projection, item) {
        (Some(paths), Some(item)) => Some(project(paths, &item)),
        (_, item) => item,
    };
    Ok(GetItemOutput {
        item,
        consumed_capacity: ReturnCapacity::parse(input.return_consumed_capacity.as_deref())
            .report(&table_name, read_units(size, consistent)),
    })
}
