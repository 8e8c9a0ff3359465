//! UpdateTable: billing mode, provisioned throughput, deletion protection,
//! stream specification, table class and SSE. Index changes arrive with
//! the secondary-index work and are refused until then.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{
    BillingModeSummary, GlobalSecondaryIndexDescription, GlobalSecondaryIndexUpdate,
    ProvisionedThroughputDescription, TableClassSummary, UpdateTableInput, UpdateTableOutput,
};
use openddb_core::{DynamoError, ErrorKind};

use super::common::{
    check_table_name, describe_with_stats, now_epoch_seconds, read_all_stats, sse_description,
};
use super::create_table::enable_stream;
use super::create_table::{
    check_index_members, check_projection, parse_gsi_key_schema, throughput_description, MAX_GSIS,
};
use super::describe_table::not_found;
use crate::catalog::{IndexMeta, IndexStatus, TableMeta};
use crate::indexing::{self, load_meta, store_meta};
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
            super::create_table::STREAM_VIEW_TYPES,
        );
    }
    v.one_of(
        input.table_class.as_deref(),
        "tableClass",
        &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
    );
    for (i, u) in input
        .global_secondary_index_updates
        .iter()
        .flatten()
        .enumerate()
    {
        let member = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        if let Some(c) = &u.create {
            check_index_members(
                &mut v,
                &format!("{member}.create"),
                &c.index_name,
                &c.key_schema,
                &c.projection,
                true,
            );
        }
        if let Some(d) = &u.delete {
            v.require(&d.index_name, &format!("{member}.delete.indexName"));
        }
        if let Some(u) = &u.update {
            v.require(&u.index_name, &format!("{member}.update.indexName"));
        }
    }
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

    if input.replica_updates.is_some() {
        return Err(DynamoError::new(
            ErrorKind::ValidationException,
            "openddb does not support ReplicaUpdates (global tables) yet",
        ));
    }

    let nothing = input.billing_mode.is_none()
        && input.global_secondary_index_updates.is_none()
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

    if input.stream_specification.is_some() {
        if input.provisioned_throughput.is_some()
            || input.billing_mode.as_deref() == Some("PROVISIONED")
        {
            return Err(invalid(
                "You cannot modify stream status while updating table IOPS",
            ));
        }
        if input
            .global_secondary_index_updates
            .iter()
            .flatten()
            .any(|u| u.create.is_some() || u.delete.is_some())
        {
            return Err(invalid(
                "You cannot create or delete index while changing stream status",
            ));
        }
    }
    if let Some(s) = &input.stream_specification {
        let enabled_now = d
            .stream_specification
            .as_ref()
            .and_then(|s| s.stream_enabled)
            == Some(true);
        let table = d.table_name.clone().unwrap_or_default();
        match s.stream_enabled {
            Some(true) => {
                if s.stream_view_type.is_none() {
                    return Err(invalid(
                        "If stream is being enabled then UpdateViewType is required",
                    ));
                }
                if enabled_now {
                    return Err(DynamoError::validation(format!(
                        "Table already has an enabled stream: TableName: {table}"
                    )));
                }
                enable_stream(d, s.stream_view_type.clone(), now);
            }
            _ => {
                if s.stream_view_type.is_some() {
                    return Err(invalid(
                        "If stream is being disabled, then UpdateViewType must not be specified",
                    ));
                }
                if !enabled_now {
                    return Err(DynamoError::validation(format!(
                        "Table has no stream to disable: TableName: {table}"
                    )));
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
    if let Some(updates) = &input.global_secondary_index_updates {
        apply_index_updates(&mut next, input, updates, on_demand)?;
    }
    Ok(next)
}

/// What the background must do after an UpdateTable commits.
enum IndexJob {
    Build(u32),
    Remove(u32),
}

fn index_not_found(name: &str, table: &str) -> DynamoError {
    DynamoError::resource_not_found(format!(
        "Requested resource not found: Index {name} for table {table}"
    ))
}

fn one_index_at_a_time() -> DynamoError {
    DynamoError::new(
        ErrorKind::LimitExceededException,
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
    )
}

/// Applies GlobalSecondaryIndexUpdates: a new index is declared CREATING
/// (writes maintain it from the commit on; the backfill fills in the rest),
/// a deleted one becomes DELETING until its entries are gone.
fn apply_index_updates(
    next: &mut TableMeta,
    input: &UpdateTableInput,
    updates: &[GlobalSecondaryIndexUpdate],
    on_demand: bool,
) -> Result<(), DynamoError> {
    if updates.is_empty() {
        return Err(invalid("List of GlobalSecondaryIndexUpdates is empty"));
    }
    let mut seen = std::collections::HashSet::new();
    for u in updates {
        let actions = [u.create.is_some(), u.update.is_some(), u.delete.is_some()]
            .iter()
            .filter(|a| **a)
            .count();
        if actions == 0 {
            return Err(invalid("One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null"));
        }
        if actions > 1 {
            return Err(invalid(
                "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object",
            ));
        }
        let name = u
            .create
            .as_ref()
            .and_then(|c| c.index_name.clone())
            .or_else(|| u.update.as_ref().and_then(|c| c.index_name.clone()))
            .or_else(|| u.delete.as_ref().and_then(|c| c.index_name.clone()))
            .unwrap_or_default();
        if !seen.insert(name.clone()) {
            return Err(invalid(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
    }
    let table = next.name().to_string();
    let structural = updates
        .iter()
        .filter(|u| u.create.is_some() || u.delete.is_some())
        .count();
    if structural > 1 {
        return Err(one_index_at_a_time());
    }
    if structural == 1 && next.indexes.iter().any(|i| i.status != IndexStatus::Active) {
        return Err(one_index_at_a_time());
    }
    for update in updates {
        if let Some(create) = &update.create {
            let name = create.index_name.clone().unwrap_or_default();
            if next.index(&name).is_some() {
                return Err(DynamoError::validation(
                    "Attempting to create an index which already exists",
                ));
            }
            if next.indexes.iter().filter(|i| i.global).count() >= MAX_GSIS {
                return Err(DynamoError::new(
                    ErrorKind::LimitExceededException,
                    format!("Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit of {MAX_GSIS}"),
                ));
            }
            let ks = create.key_schema.clone().unwrap_or_default();
            // The new index's key attributes must be declared in this
            // request; a redeclared table attribute keeps its stored type.
            let Some(request_defs) = &input.attribute_definitions else {
                return Err(invalid(format!(
                    "AttributeDefinitions is not specified for index: {name}"
                )));
            };
            let request_pairs: Vec<(String, String)> = request_defs
                .iter()
                .map(|d| {
                    (
                        d.attribute_name.clone().unwrap_or_default(),
                        d.attribute_type.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let mut defs = next
                .description
                .attribute_definitions
                .clone()
                .unwrap_or_default();
            let key_names: Vec<&str> = ks
                .iter()
                .filter_map(|k| k.attribute_name.as_deref())
                .collect();
            for d in request_defs {
                let used = key_names.contains(&d.attribute_name.as_deref().unwrap_or_default());
                if used && !defs.iter().any(|e| e.attribute_name == d.attribute_name) {
                    defs.push(d.clone());
                }
            }
            let stored_pairs: Vec<(String, String)> = defs
                .iter()
                .filter(|d| {
                    request_pairs
                        .iter()
                        .any(|(n, _)| Some(n) == d.attribute_name.as_ref())
                })
                .map(|d| {
                    (
                        d.attribute_name.clone().unwrap_or_default(),
                        d.attribute_type.clone().unwrap_or_default(),
                    )
                })
                .collect();
            parse_gsi_key_schema(&ks, &stored_pairs).map_err(|e| {
                if e.message.contains("Some index key attributes are not defined") {
                    let keys: Vec<&str> = key_names.clone();
                    let declared: Vec<&str> =
                        request_pairs.iter().map(|(n, _)| n.as_str()).collect();
                    invalid(format!(
                        "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                        keys.join(", "),
                        declared.join(", ")
                    ))
                } else {
                    e
                }
            })?;
            if let Some(p) = &create.projection {
                check_projection(p, &name)?;
            }
            match (&create.provisioned_throughput, on_demand) {
                (None, false) => {
                    return Err(invalid(format!(
                        "Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: {name}"
                    )))
                }
                (Some(_), true) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )))
                }
                _ => {}
            }
            let id = next.next_index_id.max(next.indexes.len() as u32 + 1);
            next.next_index_id = id + 1;
            next.indexes.push(IndexMeta::declare(
                id,
                &name,
                true,
                &ks,
                create.projection.as_ref(),
                &defs,
                IndexStatus::Creating,
            ));
            next.description.attribute_definitions = Some(defs);
            let arn = next.description.table_arn.clone().unwrap_or_default();
            next.description
                .global_secondary_indexes
                .get_or_insert_with(Vec::new)
                .push(GlobalSecondaryIndexDescription {
                    index_name: Some(name.clone()),
                    key_schema: Some(ks),
                    projection: create.projection.clone(),
                    index_status: Some("CREATING".into()),
                    backfilling: Some(true),
                    provisioned_throughput: Some(throughput_description(
                        &create.provisioned_throughput,
                    )),
                    index_arn: Some(format!("{arn}/index/{name}")),
                    on_demand_throughput: create.on_demand_throughput.clone(),
                    ..Default::default()
                });
        }
        if let Some(delete) = &update.delete {
            let name = delete.index_name.clone().unwrap_or_default();
            let Some(index) = next.indexes.iter_mut().find(|i| i.global && i.name == name) else {
                return Err(index_not_found(&name, &table));
            };
            index.status = IndexStatus::Deleting;
        }
        if let Some(change) = &update.update {
            let name = change.index_name.clone().unwrap_or_default();
            if !next.indexes.iter().any(|i| i.global && i.name == name) {
                return Err(index_not_found(&name, &table));
            }
            if let Some(gsi) = next
                .description
                .global_secondary_indexes
                .iter_mut()
                .flatten()
                .find(|g| g.index_name.as_deref() == Some(name.as_str()))
            {
                if let Some(pt) = &change.provisioned_throughput {
                    gsi.provisioned_throughput = Some(throughput_description(&Some(pt.clone())));
                }
                if let Some(odt) = &change.on_demand_throughput {
                    gsi.on_demand_throughput = Some(odt.clone());
                }
            }
        }
    }
    Ok(())
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: UpdateTableInput,
) -> Result<UpdateTableOutput, DynamoError> {
    check_members(&input)?;
    let name = input.table_name.clone().unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:UpdateTable",
            crate::authz::Resource::table(&name),
        )]
    })?;
    let meta = tenant
        .catalog_table(&name)
        .ok_or_else(|| not_found(&name))?;
    tenant.check_not_transient(&name, Some(meta.id))?;
    // Checked against the cached entry first, then applied to the stored
    // one inside the transaction (a background index change may have
    // landed in between).
    let now = now_epoch_seconds();
    apply(&meta, &input, ctx, now)?;
    let id = meta.id;
    let name_w = name.clone();
    let ctx_w = ctx.clone();
    let stream_settings = tenant.stream_settings;
    // An index to build or remove, or a stream to trim: the work must be
    // found even if the process stops before it runs.
    let _ahead = crate::tenancy::work_ahead(tenant).await?;
    let (next, stats, jobs) = run::write(&tenant.kv, move |txn| {
        let Some(stored) = load_meta(txn, &name_w, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        let mut next = match apply(&stored, &input, &ctx_w, now) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let jobs: Vec<IndexJob> = next
            .indexes
            .iter()
            .filter_map(|i| {
                let before = stored.indexes.iter().find(|s| s.id == i.id);
                match (i.status, before.map(|b| b.status)) {
                    (IndexStatus::Creating, None) => Some(IndexJob::Build(i.id)),
                    (IndexStatus::Deleting, Some(IndexStatus::Active)) => {
                        Some(IndexJob::Remove(i.id))
                    }
                    _ => None,
                }
            })
            .collect();
        crate::streams::reconcile(txn, &mut next, &ctx_w.region, &stream_settings)?;
        store_meta(txn, &mut next)?;
        let Some(stats) = read_all_stats(txn, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        Ok(Ok((next, stats, jobs)))
    })
    .await?;
    let mut description = describe_with_stats(&next, &stats);
    // A just-declared index is still being allocated in DynamoDB's words:
    // CREATING without backfilling yet.
    for gsi in description.global_secondary_indexes.iter_mut().flatten() {
        let new = jobs.iter().any(|j| {
            matches!(j, IndexJob::Build(id) if next.indexes.iter().any(|i| i.id == *id && Some(&i.name) == gsi.index_name.as_ref()))
        });
        if new {
            gsi.backfilling = Some(false);
        }
    }
    if let Some(transient) = &tenant.transient {
        let created = |i: &crate::catalog::IndexMeta| {
            jobs.iter()
                .any(|j| matches!(j, IndexJob::Build(id) if *id == i.id))
        };
        let creating = next
            .indexes
            .iter()
            .filter(|i| created(i))
            .map(|i| i.name.clone());
        let removed = |g: &&openddb_core::api::GlobalSecondaryIndexDescription| {
            jobs.iter().any(|j| matches!(j, IndexJob::Remove(id) if next.indexes.iter().any(|i| i.id == *id && Some(&i.name) == g.index_name.as_ref())))
        };
        let deleting = description
            .global_secondary_indexes
            .iter()
            .flatten()
            .filter(removed)
            .cloned()
            .collect();
        transient.updated(&name, next.id, creating.collect(), deleting);
        tenant.overlay(next.id, &mut description);
    }
    let next = Arc::new(next);
    tenant.put_table(next.clone());
    if meta.stream.is_some() {
        // The disabled stream is kept, and trimmed, for a day.
        tenant.set_stream_history(true);
    }
    crate::trimmer::ensure(tenant);
    for job in jobs {
        match job {
            IndexJob::Build(index) => indexing::start_build(tenant, &next, index),
            IndexJob::Remove(index) => indexing::start_removal(tenant, &next, index),
        }
    }
    Ok(UpdateTableOutput {
        table_description: Some(super::common::localize_description(description, ctx)),
    })
}
