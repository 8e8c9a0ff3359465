//! `--auth iam`: the [`Authorizer`] that decides by IAM policies — the
//! caller's identity-based policies (attached to its user in the
//! credential store) and the resource's policy — with AWS's evaluation
//! logic (`openddb_auth::policy`).

use std::sync::Arc;

use openddb_auth::policy::{evaluate, ContextKeys, Decision, Policy, PolicyCache, Request};

use super::{Authorizer, Denial, Question};

/// How many parsed documents the authorizer keeps: identity policies are
/// shared by many users, resource policies are one per table at most.
const CACHED_POLICIES: usize = 4096;

/// Decides every request by the policies that apply to it. One per server:
/// documents are parsed once and shared by every tenant.
pub struct PolicyAuthorizer {
    cache: PolicyCache,
}

impl Default for PolicyAuthorizer {
    fn default() -> Self {
        PolicyAuthorizer::new()
    }
}

impl PolicyAuthorizer {
    pub fn new() -> PolicyAuthorizer {
        PolicyAuthorizer {
            cache: PolicyCache::new(CACHED_POLICIES),
        }
    }

    /// The parsed policy `text`; `None` if it does not parse. Stored
    /// documents were checked when stored, so this is a damaged store.
    fn parsed(&self, text: &str) -> Option<Arc<Policy>> {
        match self.cache.get(text) {
            Ok(policy) => Some(policy),
            Err(e) => {
                tracing::error!(error = %e, "a stored policy document does not parse; denying");
                None
            }
        }
    }
}

impl Authorizer for PolicyAuthorizer {
    fn decide(&self, q: &Question<'_>) -> Result<(), Denial> {
        // A document that cannot be read fails closed: the request is
        // refused as if it denied.
        let mut identity = Vec::with_capacity(q.principal.policies.len());
        for text in &q.principal.policies {
            identity.push(self.parsed(text).ok_or(Denial::IdentityDeny)?);
        }
        let resource_policy = match q.resource_policy {
            Some(text) => Some(self.parsed(text).ok_or(Denial::ResourceDeny)?),
            None => None,
        };
        let mut context = ContextKeys::new();
        for (key, values) in q.context {
            context.set(key, values.clone());
        }
        let request = Request {
            principal: q.principal,
            action: q.action,
            resource: q.resource,
            context: &context,
        };
        let decision = evaluate(
            &identity,
            resource_policy.as_deref(),
            q.resource_account,
            &request,
        );
        if decision == Decision::Allow {
            return Ok(());
        }
        // Which policy refused, for DynamoDB's wording: the identity
        // policies on their own tell a deny of theirs, and whether they
        // allow at all.
        let identity_alone = evaluate(&identity, None, &q.principal.account_id, &request);
        Err(match (decision, identity_alone) {
            (Decision::ExplicitDeny, Decision::ExplicitDeny) => Denial::IdentityDeny,
            (Decision::ExplicitDeny, _) => Denial::ResourceDeny,
            (_, Decision::Allow) => Denial::NoResourceAllow,
            _ => Denial::NoIdentityAllow,
        })
    }
}
