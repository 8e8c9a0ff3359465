//! PutResourcePolicy: attaches a resource-based policy to a table or to
//! its stream, or replaces it (conditionally, with `ExpectedRevisionId`).
//! A document that means the same as the one in place keeps its revision.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{PutResourcePolicyInput, PutResourcePolicyOutput};
use openddb_core::{DynamoError, ErrorKind};

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
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:PutResourcePolicy",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    let target = rp::resolve(tenant, ctx, &arn, Lookup::Change)?;
    let attached = match target {
        Target::Table(_) => Attached::Table,
        Target::Stream { .. } => Attached::Stream,
    };
    let policy = rp::check_document(&text, attached)?;
    if input.confirm_remove_self_resource_access != Some(true) {
        keeps_caller_in(ctx, &arn, &text)?;
    }
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

/// Without `ConfirmRemoveSelfResourceAccess`, a policy under which the
/// caller could no longer change it is refused: its own
/// `PutResourcePolicy` on the resource is evaluated against the new
/// document. Only where policies decide (`--auth iam`).
fn keeps_caller_in(ctx: &RequestContext, arn: &str, document: &str) -> Result<(), DynamoError> {
    let (Some(authorizer), Some(principal)) = (&ctx.authorizer, &ctx.principal) else {
        return Ok(());
    };
    let access = crate::authz::Access::plain(
        "dynamodb:PutResourcePolicy",
        crate::authz::Resource::Arn(arn.to_string()),
    );
    let context = access.context(ctx);
    let question = crate::authz::Question {
        principal,
        action: access.action,
        resource: arn,
        resource_account: &ctx.account_id,
        resource_policy: Some(document),
        context: &context,
    };
    authorizer.decide(&question).map_err(|_| {
        DynamoError::new(
            ErrorKind::AccessDeniedException,
            "The new resource policy will not allow you to update the resource policy in the future.",
        )
    })
}
