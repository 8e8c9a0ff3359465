//! DeleteResourcePolicy: removes the resource-based policy of a table or
//! stream. Without `ExpectedRevisionId` it is idempotent: no policy, no
//! error (and no `RevisionId`).

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{DeleteResourcePolicyInput, DeleteResourcePolicyOutput};
use openddb_core::DynamoError;

use crate::indexing::{load_meta, store_meta};
use crate::resource_policy::{self as rp, Lookup};
use crate::run;
use crate::tenant::Tenant;
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: DeleteResourcePolicyInput,
) -> Result<DeleteResourcePolicyOutput, DynamoError> {
    let mut v = Violations::new();
    rp::check_arn_member(&mut v, &input.resource_arn);
    v.into_result()?;
    let arn = input.resource_arn.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:DeleteResourcePolicy",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    let target = rp::resolve(tenant, ctx, &arn, Lookup::Change)?;
    let expected = input.expected_revision_id;
    let (name, id) = (target.table().name().to_string(), target.table().id);
    let (changed, removed) = run::write(&tenant.kv, move |txn| {
        let Some(mut meta) = load_meta(txn, &name, id)? else {
            return Ok(Err(crate::actions::describe_table::not_found(&name)));
        };
        let current = target.policy_in(&meta).cloned();
        if let Err(e) = rp::check_expected_revision(expected.as_deref(), current.as_ref(), &name) {
            return Ok(Err(e));
        }
        let Some(current) = current else {
            return Ok(Ok((None, None)));
        };
        target.set_policy_in(&mut meta, None);
        store_meta(txn, &mut meta)?;
        Ok(Ok((Some(meta), Some(current.revision_id))))
    })
    .await?;
    if let Some(meta) = changed {
        tenant.put_table(Arc::new(meta));
    }
    Ok(DeleteResourcePolicyOutput {
        revision_id: removed,
    })
}
