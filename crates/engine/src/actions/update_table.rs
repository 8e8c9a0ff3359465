//! UpdateTable: billing mode, provisioned throughput, deletion protection,
//! stream specification, table class and SSE. Index changes arrive with
//! the secondary-index work and are refused until then.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{
    BillingModeSummary, ProvisionedThroughputDescription, TableClassSummary, UpdateTableInput,
    UpdateTableOutput,
};
use openddb_core::{DynamoError, ErrorKind};

use super::common::{
    check_table_name, describe_with_stats, now_epoch_seconds, read_stats, sse_description,
};
use super::create_table::enable_stream;
use super::describe_table::not_found;
use crate::catalog::TableMeta;
use crate::keys;
use crate::run;
use crate::tenant::Tenant;
use crate::RequestContext;

fn invalid(msg: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!("One or more parameter values were invalid: {msg}"))
}

fn check_members(input: &UpdateTableInput) -> Result<(), DynamoError> {
    let mut v = Violations::new();
    check_table_name(&mut v, &input.table_name);
    v.one_of(
        input.billing_mode.as_deref(),
        "billingMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    if let Some(pt) = &input.provisioned_throughput {
        v.require(
            &pt.read_capacity_units,
            "provisionedThroughput.readCapacityUnits",
        );
        v.at_least(
            pt.read_capacity_units,
            "provisionedThroughput.readCapacityUnits",
            1,
        );
        v.require(
            &pt.write_capacity_units,
            "provisionedThroughput.writeCapacityUnits",
        );
        v.at_least(
            pt.write_capacity_units,
            "provisionedThroughput.writeCapacityUnits",
            1,
        );
    }
    if let Some(s) = &input.stream_specification {
        v.require(&s.stream_enabled, "streamSpecification.streamEnabled");
        v.one_of(
            s.stream_view_type.as_deref(),
            "streamSpecification.streamViewType",
            &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"],
        );
    }
    v.one_of(
        input.table_class.as_deref(),
        "tableClass",
        &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
    );
    v.into_result()
}

/// Applies the requested changes to a copy of the table's metadata.
fn apply(
    meta: &TableMeta,
    input: &UpdateTableInput,
    ctx: &RequestContext,
    now: f64,
) -> Result<TableMeta, DynamoError> {
    let mut next = meta.clone();
    let d = &mut next.description;
    let current_on_demand = d
        .billing_mode_summary
        .as_ref()
        .and_then(|b| b.billing_mode.as_deref())
        == Some("PAY_PER_REQUEST");
    let on_demand = match input.billing_mode.as_deref() {
        Some(m) => m == "PAY_PER_REQUEST",
        None => current_on_demand,
    };

    if input.global_secondary_index_updates.is_some() || input.replica_updates.is_some() {
        return Err(DynamoError::new(
            ErrorKind::ValidationException,
            "openddb does not support GlobalSecondaryIndexUpdates or ReplicaUpdates yet",
        ));
    }

    let nothing = input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input.stream_specification.is_none()
        && input.sse_specification.is_none()
        && input.table_class.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.on_demand_throughput.is_none()
        && input.warm_throughput.is_none()
        && input.attribute_definitions.is_none();
    if nothing {
        return Err(DynamoError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }

    match (&input.provisioned_throughput, on_demand) {
        (Some(_), true) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (None, false) if current_on_demand => {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        _ => {}
    }

    if let Some(pt) = &input.provisioned_throughput {
        let cur = d.provisioned_throughput.clone().unwrap_or_default();
        let (r, w) = (
            pt.read_capacity_units.unwrap_or(0),
            pt.write_capacity_units.unwrap_or(0),
        );
        let (cr, cw) = (
            cur.read_capacity_units.unwrap_or(0),
            cur.write_capacity_units.unwrap_or(0),
        );
        if !current_on_demand && !on_demand && r == cr && w == cw {
            return Err(DynamoError::validation(format!(
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {cr}. Requested ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for the table: {cw}. Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
            )));
        }
        let mut desc = ProvisionedThroughputDescription {
            number_of_decreases_today: cur.number_of_decreases_today,
            read_capacity_units: Some(r),
            write_capacity_units: Some(w),
            last_increase_date_time: cur.last_increase_date_time,
            last_decrease_date_time: cur.last_decrease_date_time,
        };
        if r > cr || w > cw {
            desc.last_increase_date_time = Some(now);
        }
        if r < cr || w < cw {
            desc.last_decrease_date_time = Some(now);
            desc.number_of_decreases_today = Some(cur.number_of_decreases_today.unwrap_or(0) + 1);
        }
        d.provisioned_throughput = Some(desc);
    }

    if let Some(mode) = &input.billing_mode {
        if on_demand {
            if !current_on_demand {
                d.billing_mode_summary = Some(BillingModeSummary {
                    billing_mode: Some("PAY_PER_REQUEST".into()),
                    last_update_to_pay_per_request_date_time: Some(now),
                });
                d.provisioned_throughput = Some(ProvisionedThroughputDescription {
                    number_of_decreases_today: Some(0),
                    read_capacity_units: Some(0),
                    write_capacity_units: Some(0),
                    ..Default::default()
                });
            }
        } else {
            let last = d
                .billing_mode_summary
                .as_ref()
                .and_then(|b| b.last_update_to_pay_per_request_date_time);
            d.billing_mode_summary = Some(BillingModeSummary {
                billing_mode: Some(mode.clone()),
                last_update_to_pay_per_request_date_time: last,
            });
        }
    }

    if let Some(s) = &input.stream_specification {
        let enabled_now = d
            .stream_specification
            .as_ref()
            .and_then(|s| s.stream_enabled)
            == Some(true);
        match s.stream_enabled {
            Some(true) => {
                if enabled_now {
                    return Err(DynamoError::validation(format!(
                        "Table already has an enabled stream: {}",
                        d.latest_stream_arn.as_deref().unwrap_or_default()
                    )));
                }
                if s.stream_view_type.is_none() {
                    return Err(DynamoError::validation(
                        "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true",
                    ));
                }
                enable_stream(d, s.stream_view_type.clone(), now);
            }
            _ => {
                if !enabled_now {
                    return Err(DynamoError::validation("Table already has stream disabled"));
                }
                if s.stream_view_type.is_some() {
                    return Err(invalid(
                        "StreamViewType cannot be specified when StreamEnabled is false",
                    ));
                }
                d.stream_specification = None;
            }
        }
    }

    if let Some(sse) = &input.sse_specification {
        d.sse_description = match sse.enabled {
            Some(false) => None,
            _ => Some(sse_description(sse, ctx)),
        };
    }
    if let Some(class) = &input.table_class {
        d.table_class_summary = Some(TableClassSummary {
            table_class: Some(class.clone()),
            last_update_date_time: Some(now),
        });
    }
    if let Some(p) = input.deletion_protection_enabled {
        d.deletion_protection_enabled = Some(p);
    }
    if let Some(odt) = &input.on_demand_throughput {
        d.on_demand_throughput = Some(odt.clone());
    }
    Ok(next)
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: UpdateTableInput,
) -> Result<UpdateTableOutput, DynamoError> {
    check_members(&input)?;
    let name = input.table_name.clone().unwrap_or_default();
    let meta = tenant.table(&name).ok_or_else(|| not_found(&name))?;
    let next = apply(&meta, &input, ctx, now_epoch_seconds())?;
    let bytes = serde_json::to_vec(&next).map_err(|e| DynamoError::internal(e.to_string()))?;
    let id = meta.id;
    let catalog_key = keys::catalog_key(&name);
    let name_w = name.clone();
    let stats = run::write(&tenant.kv, move |txn| {
        let Some(stats) = read_stats(txn, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        txn.put(&catalog_key, &bytes)?;
        Ok(Ok(stats))
    })
    .await?;
    let description = describe_with_stats(&next, stats);
    tenant.put_table(Arc::new(next));
    Ok(UpdateTableOutput {
        table_description: Some(description),
    })
}
