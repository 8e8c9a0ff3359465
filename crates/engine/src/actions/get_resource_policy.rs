//! GetResourcePolicy: the resource-based policy of a table or stream, and
//! its revision.

use std::sync::Arc;

use openddb_core::api::validate::Violations;
use openddb_core::api::{GetResourcePolicyInput, GetResourcePolicyOutput};
use openddb_core::DynamoError;

use crate::resource_policy::{self as rp, Lookup};
use crate::tenant::Tenant;
use crate::RequestContext;

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: GetResourcePolicyInput,
) -> Result<GetResourcePolicyOutput, DynamoError> {
    let mut v = Violations::new();
    rp::check_arn_member(&mut v, &input.resource_arn);
    v.into_result()?;
    let arn = input.resource_arn.unwrap_or_default();
    crate::authz::authorize(ctx, tenant, || {
        vec![crate::authz::Access::plain(
            "dynamodb:GetResourcePolicy",
            crate::authz::Resource::Arn(arn.clone()),
        )]
    })?;
    let target = rp::resolve(tenant, ctx, &arn, Lookup::Read)?;
    // The cached catalog entry is replaced once a change is durable, so it
    // holds the last acknowledged policy.
    let policy = target
        .policy_in(target.table())
        .ok_or_else(|| rp::policy_not_found(&arn))?;
    Ok(GetResourcePolicyOutput {
        policy: Some(policy.document.clone()),
        revision_id: Some(policy.revision_id.clone()),
    })
}
