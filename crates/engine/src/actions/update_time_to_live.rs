//! UpdateTimeToLive: turns Time to Live on (with the attribute that holds
//! each item's expiry) or off. Enabling indexes the table's items by
//! expiry (the first chunk in this transaction, the rest in the
//! background); disabling removes that index in this transaction.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{TimeToLiveSpecification, UpdateTimeToLiveInput, UpdateTimeToLiveOutput};
use openddb_core::DynamoError;

use super::common::check_table_name;
use super::describe_table::not_found;
use crate::catalog::{TableMeta, TimeToLive};
use crate::indexing::{load_meta, store_meta};
use crate::run;
use crate::tenant::Tenant;
use crate::ttl;
use crate::RequestContext;

/// DynamoDB's limit on the TTL attribute's name.
const MAX_ATTRIBUTE_NAME: usize = 255;

fn check_members(input: &UpdateTimeToLiveInput) -> Result<(), DynamoError> {
    let mut v = Violations::new();
    check_table_name(&mut v, &input.table_name);
    match &input.time_to_live_specification {
        None => v.require(&input.time_to_live_specification, "timeToLiveSpecification"),
        Some(spec) => {
            v.require(&spec.enabled, "timeToLiveSpecification.enabled");
            let member = "timeToLiveSpecification.attributeName";
            match spec.attribute_name.as_deref() {
                None => v.require(&spec.attribute_name, member),
                Some(name) => {
                    let len = name.chars().count();
                    let shown = format!("'{name}'");
                    if len < 1 {
                        v.push(
                            &shown,
                            member,
                            "Member must have length greater than or equal to 1",
                        );
                    }
                    if len > MAX_ATTRIBUTE_NAME {
                        v.push(
                            &shown,
                            member,
                            &format!(
                                "Member must have length less than or equal to {MAX_ATTRIBUTE_NAME}"
                            ),
                        );
                    }
                }
            }
        }
    }
    v.into_result()
}

/// The table's TTL setting after the request, or DynamoDB's refusal: the
/// call is not idempotent, and the attribute changes only by disabling
/// first.
fn apply(meta: &TableMeta, enabled: bool, attribute: &str) -> Result<TableMeta, DynamoError> {
    let mut next = meta.clone();
    match (&meta.ttl, enabled) {
        (Some(current), _) if current.attribute_name != attribute => {
            return Err(DynamoError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                current.attribute_name
            )))
        }
        (Some(_), true) => return Err(DynamoError::validation("TimeToLive is already enabled")),
        (None, false) => return Err(DynamoError::validation("TimeToLive is already disabled")),
        (Some(_), false) => next.ttl = None,
        (None, true) => {
            next.ttl = Some(TimeToLive {
                attribute_name: attribute.to_string(),
                // `store_meta` gives the entry this generation.
                since: meta.generation + 1,
                backfilled: false,
            })
        }
    }
    Ok(next)
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: UpdateTimeToLiveInput,
) -> Result<UpdateTimeToLiveOutput, DynamoError> {
    check_members(&input)?;
    let name = input.table_name.clone().unwrap_or_default();
    let spec = input.time_to_live_specification.unwrap_or_default();
    let enabled = spec.enabled.unwrap_or_default();
    let attribute = spec.attribute_name.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:UpdateTimeToLive",
            crate::authz::Resource::table(&name),
        )]
    })?;
    let meta = tenant.table(&name).ok_or_else(|| not_found(&name))?;
    // Checked against the cached entry first, then applied to the stored
    // one inside the transaction (a background change may have landed).
    apply(&meta, enabled, &attribute)?;
    let id = meta.id;
    let (name_w, attribute_w) = (name.clone(), attribute.clone());
    // The backfill and the sweeps must be found even if the process stops
    // before they run.
    let _ahead = match enabled {
        true => Some(crate::tenancy::work_ahead(tenant).await?),
        false => None,
    };
    let (next, cursor) = run::write(&tenant.kv, move |txn| {
        let Some(stored) = load_meta(txn, &name_w, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        let mut next = match apply(&stored, enabled, &attribute_w) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let mut cursor = None;
        if enabled {
            cursor = ttl::index::fill(txn, &next, None)?;
            if cursor.is_none() {
                if let Some(t) = next.ttl.as_mut() {
                    t.backfilled = true;
                }
            }
        } else {
            ttl::index::remove_all(txn, id)?;
        }
        store_meta(txn, &mut next)?;
        Ok(Ok((next, cursor)))
    })
    .await?;
    let next = Arc::new(next);
    tenant.put_table(next.clone());
    if cursor.is_some() {
        // The rest of the table is indexed in the background, from where
        // this transaction's chunk left its progress record.
        ttl::index::start_backfill(tenant, &next);
    }
    ttl::sweeper::ensure(tenant);
    Ok(UpdateTimeToLiveOutput {
        time_to_live_specification: Some(TimeToLiveSpecification {
            enabled: Some(enabled),
            attribute_name: Some(attribute),
        }),
    })
}
