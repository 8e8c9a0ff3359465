//! AWS's evaluation logic for one request: which statements apply, and how
//! identity and resource policies combine.

use std::collections::HashMap;
use std::sync::Arc;

use super::document::{Clause, Effect, PrincipalId, Statement};
use super::pattern::{arn_match, wildcard_match};
use super::{ContextKeys, Decision, Policy, Request};

/// What one policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    NotApplicable,
    /// An Allow statement applies. `direct`: it names the caller (by ARN
    /// or `*`); a statement naming only the caller's account delegates to
    /// that account's identity policies.
    Allow {
        direct: bool,
    },
    Deny,
}

/// The request's context keys with the ones the evaluator knows itself:
/// the caller's identity (never taken from the caller's context) and the
/// time (taken from the context when a test fixes it).
pub(crate) struct Keys<'a> {
    context: &'a ContextKeys,
    own: HashMap<String, Vec<String>>,
}

impl<'a> Keys<'a> {
    fn new(request: &Request<'a>) -> Keys<'a> {
        let p = request.principal;
        let mut own: HashMap<String, Vec<String>> = HashMap::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                own.insert(k.to_string(), vec![v.to_string()]);
            }
        };
        put("aws:username", &p.user_name);
        put("aws:userid", &p.user_id);
        put("aws:principalarn", &p.arn);
        put("aws:principalaccount", &p.account_id);
        let root = p.arn.ends_with(":root");
        put("aws:principaltype", if root { "Account" } else { "User" });
        for (k, v) in &p.tags {
            own.insert(
                format!("aws:principaltag/{}", k.to_lowercase()),
                vec![v.clone()],
            );
        }
        if request.context.get("aws:CurrentTime").is_none()
            || request.context.get("aws:EpochTime").is_none()
        {
            let (iso, epoch) = super::time::now();
            if request.context.get("aws:CurrentTime").is_none() {
                own.insert("aws:currenttime".into(), vec![iso]);
            }
            if request.context.get("aws:EpochTime").is_none() {
                own.insert("aws:epochtime".into(), vec![epoch]);
            }
        }
        Keys {
            context: request.context,
            own,
        }
    }

    /// The values of lower-cased `key`.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if let Some(v) = self.own.get(key) {
            return Some(v.as_slice());
        }
        // The principal's keys come from the principal only: a context key
        // of the same name (from a request body, say) cannot stand in.
        if key.starts_with("aws:principal") || key == "aws:username" || key == "aws:userid" {
            return None;
        }
        self.context.get_lower(key)
    }
}

/// Evaluates one request against the caller's identity policies and the
/// resource's policy.
pub fn evaluate(
    identity: &[Arc<Policy>],
    resource_policy: Option<&Policy>,
    resource_account: &str,
    request: &Request,
) -> Decision {
    let keys = Keys::new(request);
    let mut identity_allows = false;
    for policy in identity {
        match policy.verdict(request, &keys, false) {
            Verdict::Deny => return Decision::ExplicitDeny,
            Verdict::Allow { .. } => identity_allows = true,
            Verdict::NotApplicable => {}
        }
    }
    let mut resource_allows = None;
    if let Some(policy) = resource_policy {
        match policy.verdict(request, &keys, true) {
            Verdict::Deny => return Decision::ExplicitDeny,
            Verdict::Allow { direct } => resource_allows = Some(direct),
            Verdict::NotApplicable => {}
        }
    }
    let allowed = if request.principal.account_id == resource_account {
        // Same account: either kind of policy suffices, except that a
        // resource policy naming only the account leaves it to the
        // identity policies.
        identity_allows || resource_allows == Some(true)
    } else {
        // Across accounts both sides must agree.
        identity_allows && resource_allows.is_some()
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

impl Policy {
    fn verdict(&self, request: &Request, keys: &Keys, resource_policy: bool) -> Verdict {
        let lookup = |k: &str| keys.get(k);
        let action: Vec<char> = request.action.to_lowercase().chars().collect();
        let mut verdict = Verdict::NotApplicable;
        for s in &self.statements {
            let principal = match (&s.principal, resource_policy) {
                // A statement without a principal applies, in an identity
                // policy, to the user it is attached to; in a resource
                // policy to nobody.
                (None, false) => Some(true),
                (None, true) => None,
                (Some(p), _) => principal_matches(p, request.principal),
            };
            let Some(direct) = principal else { continue };
            if !action_matches(s, &action)
                || !resource_matches(s, request.resource, &lookup)
                || !s.conditions.iter().all(|c| c.holds(&lookup))
            {
                continue;
            }
            match s.effect {
                Effect::Deny => return Verdict::Deny,
                Effect::Allow => {
                    let direct = direct || matches!(verdict, Verdict::Allow { direct: true });
                    verdict = Verdict::Allow { direct };
                }
            }
        }
        verdict
    }
}

fn action_matches(s: &Statement, action: &[char]) -> bool {
    let any = s
        .action
        .items()
        .iter()
        .any(|a| wildcard_match(&a.pattern, action, false));
    any != s.action.negated()
}

fn resource_matches<'a>(
    s: &Statement,
    resource: &str,
    lookup: &impl Fn(&str) -> Option<&'a [String]>,
) -> bool {
    let any = s.resource.items().iter().any(|t| {
        t.expand(lookup, true)
            .is_some_and(|p| arn_match(&p, resource))
    });
    any != s.resource.negated()
}

/// Whether a statement's principal clause covers the caller: `None` if
/// not, `Some(direct)` if it does, `direct` being false when only the
/// caller's account is named.
fn principal_matches(clause: &Clause<PrincipalId>, caller: &crate::Principal) -> Option<bool> {
    let names = |id: &PrincipalId| -> Option<bool> {
        match id {
            PrincipalId::Everyone => Some(true),
            PrincipalId::Account(a) => (*a == caller.account_id).then_some(false),
            PrincipalId::Arn(arn) => (*arn == caller.arn).then_some(true),
            PrincipalId::Other(..) => None,
        }
    };
    let mut best: Option<bool> = None;
    for id in clause.items() {
        if let Some(direct) = names(id) {
            best = Some(best.unwrap_or(false) || direct);
        }
    }
    match clause {
        Clause::Is(_) => best,
        // NotPrincipal: everyone the list does not name, directly.
        Clause::Not(_) => best.is_none().then_some(true),
    }
}
