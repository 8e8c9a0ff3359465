//! PutResourcePolicy: attaches a resource-based policy to a table or to
//! its stream, or replaces it (conditionally, with `ExpectedRevisionId`).
//! A document that means the same as the one in place keeps its revision.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{PutResourcePolicyInput, PutResourcePolicyOutput};
use openddb_core::DynamoError;

use crate::indexing::{load_meta, store_meta};
use crate::resource_policy::{self as rp, Attached, Lookup, Target};
use crate::run;
use crate::tenant::Tenant;
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: PutResourcePolicyInput,
) -> Result<PutResourcePolicyOutput, DynamoError> {
    let mut v = Violations::new();
    rp::check_arn_member(&mut v, &input.resource_arn);
    v.require(&input.policy, "policy");
    v.into_result()?;
    let arn = input.resource_arn.unwrap_or_default();
    let text = input.policy.unwrap_or_default();
    let target = rp::resolve(tenant, ctx, &arn, Lookup::Change)?;
    let attached = match target {
        Target::Table(_) => Attached::Table,
        Target::Stream { .. } => Attached::Stream,
    };
    let policy = rp::check_document(&text, attached)?;
    // `ConfirmRemoveSelfResourceAccess` guards against a policy that locks
    // its caller out; that check needs the caller's identity policies and
    // belongs to authorization (docs/security.md).
    let expected = input.expected_revision_id;
    let (name, id) = (target.table().name().to_string(), target.table().id);
    let (changed, revision) = run::write(&tenant.kv, move |txn| {
        let Some(mut meta) = load_meta(txn, &name, id)? else {
            return Ok(Err(crate::actions::describe_table::not_found(&name)));
        };
        let current = target.policy_in(&meta).cloned();
        if let Err(e) = rp::check_expected_revision(expected.as_deref(), current.as_ref(), &name) {
            return Ok(Err(e));
        }
        if let Some(c) = &current {
            if rp::same_document(&c.document, &policy) {
                return Ok(Ok((None, c.revision_id.clone())));
            }
        }
        let stored = rp::new_revision(&text, current.as_ref());
        let revision = stored.revision_id.clone();
        target.set_policy_in(&mut meta, Some(stored));
        store_meta(txn, &mut meta)?;
        Ok(Ok((Some(meta), revision)))
    })
    .await?;
    if let Some(meta) = changed {
        tenant.put_table(Arc::new(meta));
    }
    Ok(PutResourcePolicyOutput {
        revision_id: Some(revision),
    })
}
