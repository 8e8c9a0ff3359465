//! DescribeTimeToLive: the table's TTL status and attribute.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{DescribeTimeToLiveInput, DescribeTimeToLiveOutput, TimeToLiveDescription};
use openddb_core::DynamoError;

use super::common::check_table_name;
use super::describe_table::not_found;
use crate::catalog::TableMeta;
use crate::tenant::Tenant;
use crate::RequestContext;

/// `DISABLED` (no attribute), `ENABLING` while the items that were there
/// before TTL was enabled are being indexed, `ENABLED` after. Disabling
/// takes effect in its own transaction, so `DISABLING` is never shown.
pub fn description(meta: &TableMeta) -> TimeToLiveDescription {
    match &meta.ttl {
        None => TimeToLiveDescription {
            time_to_live_status: Some("DISABLED".into()),
            attribute_name: None,
        },
        Some(ttl) => TimeToLiveDescription {
            time_to_live_status: Some(
                if ttl.backfilled {
                    "ENABLED"
                } else {
                    "ENABLING"
                }
                .into(),
            ),
            attribute_name: Some(ttl.attribute_name.clone()),
        },
    }
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DescribeTimeToLiveInput,
) -> Result<DescribeTimeToLiveOutput, DynamoError> {
    let mut v = Violations::new();
    check_table_name(&mut v, &input.table_name);
    v.into_result()?;
    let name = input.table_name.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:DescribeTimeToLive",
            crate::authz::Resource::table(&name),
        )]
    })?;
    let meta = tenant
        .catalog_table(&name)
        .ok_or_else(|| not_found(&name))?;
    Ok(DescribeTimeToLiveOutput {
        time_to_live_description: Some(description(&meta)),
    })
}
