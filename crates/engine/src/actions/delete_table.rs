//! DeleteTable: removes the catalog entry and the table's statistics
//! record, and leaves a purge record, in one short transaction; the items,
//! index entries and the rest go in bounded background steps
//! (`background::purge`). The table is gone for every request from the
//! commit on (writes find no statistics record, reads no catalog entry),
//! its name is free at once, and the table id is never reused, so nothing
//! of it can resurface while the purge runs.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{DeleteTableInput, DeleteTableOutput};
use openddb_core::DynamoError;

use super::common::{check_table_name, describe_with_stats, read_all_stats};
use super::describe_table::not_found;
use crate::catalog::{IndexStatus, TableMeta};
use crate::indexing::load_meta;
use crate::keys;
use crate::run;
use crate::tenant::Tenant;
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DeleteTableInput,
) -> Result<DeleteTableOutput, DynamoError> {
    let mut v = Violations::new();
    check_table_name(&mut v, &input.table_name);
    v.into_result()?;
    let name = input.table_name.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:DeleteTable",
            crate::authz::Resource::table(&name),
        )]
    })?;
    let Some(meta) = tenant.catalog_table(&name) else {
        tenant.check_not_transient(&name, None)?;
        return Err(not_found(&name));
    };
    if let Some(refused) = refusal(&meta) {
        return Err(refused);
    }
    if let Some(transient) = &tenant.transient {
        if transient.is_creating(&name, meta.id) {
            tenant.check_not_transient(&name, Some(meta.id))?;
        }
        if transient.indexes_changing(&name, meta.id) {
            return Err(indexes_changing());
        }
    }
    let id = meta.id;
    let catalog_key = keys::catalog_key(&name);
    let name_w = name.clone();
    // Checked again against the stored entry: an UpdateTable may have
    // landed since the cached one was read.
    // The purge that follows must be found even if the process stops first.
    let _ahead = crate::tenancy::work_ahead(tenant).await?;
    let (meta, stats) = run::write(&tenant.kv, move |txn| {
        let Some(stored) = load_meta(txn, &name_w, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        if let Some(refused) = refusal(&stored) {
            return Ok(Err(refused));
        }
        let Some(stats) = read_all_stats(txn, id)? else {
            return Ok(Err(not_found(&name_w)));
        };
        // The table's stream stays readable for a day after the table goes.
        if let Some(stream) = &stored.stream {
            crate::streams::disable(txn, stream.id, crate::streams::now_ms())?;
        }
        // Every write checks this record in its transaction: from here on
        // one prepared against the cached entry answers that the table is
        // not found instead of writing under the old id.
        txn.delete(&keys::stats_key(id))?;
        txn.delete(&catalog_key)?;
        crate::background::purge::record(txn, id, &name_w)?;
        Ok(Ok((stored, stats)))
    })
    .await?;
    tenant.remove_table(&name, id);
    crate::background::purge::ensure(tenant);
    if meta.stream.is_some() {
        tenant.set_stream_history(true);
        crate::trimmer::ensure(tenant);
    }
    let mut description = describe_with_stats(&meta, &stats);
    description.table_status = Some("DELETING".into());
    if let Some(transient) = &tenant.transient {
        transient.deleted(&name, description.clone());
    }
    Ok(DeleteTableOutput {
        table_description: Some(super::common::localize_description(description, ctx)),
    })
}

/// Why the table cannot be deleted now, if it cannot: deletion protection,
/// or an index being created or deleted.
fn refusal(meta: &TableMeta) -> Option<DynamoError> {
    if meta.deletion_protection() {
        return Some(DynamoError::validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        ));
    }
    if meta.indexes.iter().any(|i| i.status != IndexStatus::Active) {
        return Some(indexes_changing());
    }
    None
}

fn indexes_changing() -> DynamoError {
    DynamoError::new(
        openddb_core::ErrorKind::ResourceInUseException,
        "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.",
    )
}
