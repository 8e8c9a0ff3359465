//! `--auth iam`: the [`Authorizer`] that decides by IAM policies — the
//! caller's identity-based policies (attached to its user in the
//! credential store) and the resource's policy — with AWS's evaluation
//! logic (`openddb_auth::policy`).

use std::sync::Arc;

use openddb_auth::policy::{
    evaluate, ContextKeys, Decision, Policy, PolicyCache, PolicyError, Request,
};

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
        denied_if_damaged(self.cache.get(text))
    }

    /// As [`Self::parsed`], for a principal's document: found by the
    /// address of its shared text.
    fn parsed_shared(&self, text: &Arc<str>) -> Option<Arc<Policy>> {
        denied_if_damaged(self.cache.get_shared(text))
    }
}

fn denied_if_damaged(parsed: Result<Arc<Policy>, PolicyError>) -> Option<Arc<Policy>> {
    match parsed {
        Ok(policy) => Some(policy),
        Err(e) => {
            tracing::error!(error = %e, "a stored policy document does not parse; denying");
            None
        }
    }
}

impl Authorizer for PolicyAuthorizer {
    fn decide(&self, q: &Question<'_>) -> Result<(), Denial> {
        // A document that cannot be read fails closed: the request is
        // refused as if it denied. Most users have one policy: it is
        // evaluated from where it lies, without a list to hold it.
        let one: Arc<Policy>;
        let several: Vec<Arc<Policy>>;
        let identity: &[Arc<Policy>] = match q.principal.policies.as_slice() {
            [] => &[],
            [text] => {
                one = self.parsed_shared(text).ok_or(Denial::IdentityDeny)?;
                std::slice::from_ref(&one)
            }
            texts => {
                several = texts
                    .iter()
                    .map(|text| self.parsed_shared(text))
                    .collect::<Option<_>>()
                    .ok_or(Denial::IdentityDeny)?;
                &several
            }
        };
        let resource_policy = match q.resource_policy {
            Some(text) => Some(self.parsed(text).ok_or(Denial::ResourceDeny)?),
            None => None,
        };
        let context = ContextKeys::lent(q.context);
        let request = Request {
            principal: q.principal,
            action: q.action,
            resource: q.resource,
            context: &context,
        };
        let decision = evaluate(
            identity,
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
        let identity_alone = evaluate(identity, None, &q.principal.account_id, &request);
        Err(match (decision, identity_alone) {
            (Decision::ExplicitDeny, Decision::ExplicitDeny) => Denial::IdentityDeny,
            (Decision::ExplicitDeny, _) => Denial::ResourceDeny,
            (_, Decision::Allow) => Denial::NoResourceAllow,
            _ => Denial::NoIdentityAllow,
        })
    }
}
