//! AWS's evaluation logic for one request: which statements apply, and how
//! identity and resource policies combine.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::{Arc, LazyLock};

use super::document::{Clause, Effect, PrincipalId, Statement};
use super::pattern::{arn_match, wildcard_match};
use super::{lowercases_to, ContextKeys, Decision, Policy, Request};

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
/// time (taken from the context when a test fixes it). Read in place from
/// the principal, and the time is only formatted if a policy reads it:
/// most requests ask for neither.
pub(crate) struct Keys<'a> {
    principal: &'a crate::Principal,
    context: &'a ContextKeys<'a>,
    /// `aws:CurrentTime` and `aws:EpochTime`, made on first read.
    now: OnceCell<[[String; 1]; 2]>,
}

static ACCOUNT: LazyLock<[String; 1]> = LazyLock::new(|| ["Account".to_string()]);
static USER: LazyLock<[String; 1]> = LazyLock::new(|| ["User".to_string()]);

const TAG_PREFIX: &str = "aws:principaltag/";

impl<'a> Keys<'a> {
    fn new(request: &Request<'a>) -> Keys<'a> {
        Keys {
            principal: request.principal,
            context: request.context,
            now: OnceCell::new(),
        }
    }

    /// The values of lower-cased `key`.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        let p = self.principal;
        // An identity key with an empty value (a principal without a user
        // id, say) is absent.
        let field = |v: &'a String| (!v.is_empty()).then(|| std::slice::from_ref(v));
        match key {
            "aws:username" => field(&p.user_name),
            "aws:userid" => field(&p.user_id),
            "aws:principalarn" => field(&p.arn),
            "aws:principalaccount" => field(&p.account_id),
            "aws:principaltype" => Some(if p.arn.ends_with(":root") {
                &*ACCOUNT
            } else {
                &*USER
            }),
            "aws:currenttime" | "aws:epochtime" => self.context.get_lower(key).or_else(|| {
                let now = self.now.get_or_init(|| {
                    let (iso, epoch) = super::time::now();
                    [[iso], [epoch]]
                });
                Some(&now[usize::from(key == "aws:epochtime")][..])
            }),
            // The principal's keys come from the principal only: a context
            // key of the same name (from a request body, say) cannot stand
            // in. Tag names match without regard to case; of two that
            // differ only in case, the later (in the tags' order) answers.
            _ if key.starts_with("aws:principal") => {
                let name = key.strip_prefix(TAG_PREFIX)?;
                p.tags
                    .iter()
                    .rev()
                    .find(|(k, _)| lowercases_to(k, name))
                    .map(|(_, v)| std::slice::from_ref(v))
            }
            _ => self.context.get_lower(key),
        }
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
    let action = Action::new(request.action);
    let mut identity_allows = false;
    for policy in identity {
        match policy.verdict(request, &action, &keys, false) {
            Verdict::Deny => return Decision::ExplicitDeny,
            Verdict::Allow { .. } => identity_allows = true,
            Verdict::NotApplicable => {}
        }
    }
    let mut resource_allows = None;
    if let Some(policy) = resource_policy {
        match policy.verdict(request, &action, &keys, true) {
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
    fn verdict(
        &self,
        request: &Request,
        action: &Action,
        keys: &Keys,
        resource_policy: bool,
    ) -> Verdict {
        let lookup = |k: &str| keys.get(k);
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
            if !action_matches(s, action)
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

/// The request's action as action patterns match it: lower-cased. An
/// ASCII action (every real one) is lower-cased as it is matched, not
/// copied.
struct Action<'r> {
    text: Cow<'r, str>,
    fold_ascii: bool,
}

impl<'r> Action<'r> {
    fn new(action: &'r str) -> Action<'r> {
        if action.is_ascii() {
            Action {
                text: Cow::Borrowed(action),
                fold_ascii: true,
            }
        } else {
            Action {
                text: Cow::Owned(action.to_lowercase()),
                fold_ascii: false,
            }
        }
    }
}

fn action_matches(s: &Statement, action: &Action) -> bool {
    let any = s
        .action
        .items()
        .iter()
        .any(|a| wildcard_match(&a.pattern, &action.text, action.fold_ascii));
    any != s.action.negated()
}

fn resource_matches<'a>(
    s: &Statement,
    resource: &str,
    lookup: &impl Fn(&str) -> Option<&'a [String]>,
) -> bool {
    let any = s
        .resource
        .items()
        .iter()
        .any(|t| t.pattern(lookup).is_some_and(|p| arn_match(&p, resource)));
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;

    use super::*;
    use crate::Principal;

    fn principal(arn: &str, tags: &[(&str, &str)]) -> Principal {
        Principal {
            account_id: "111111111111".into(),
            arn: arn.into(),
            user_name: "alice".into(),
            user_id: String::new(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            policies: vec![],
        }
    }

    fn keys<'a>(principal: &'a Principal, context: &'a ContextKeys<'a>) -> Keys<'a> {
        Keys::new(&Request {
            principal,
            action: "dynamodb:GetItem",
            resource: "*",
            context,
        })
    }

    #[test]
    fn the_time_is_made_only_when_read_and_the_context_can_fix_it() {
        let p = principal("arn:aws:iam::111111111111:user/alice", &[]);
        let context = ContextKeys::new();
        let k = keys(&p, &context);
        assert!(k.get("aws:username").is_some());
        assert!(k.now.get().is_none());
        let iso = k.get("aws:currenttime").unwrap()[0].clone();
        let epoch: i64 = k.get("aws:epochtime").unwrap()[0].parse().unwrap();
        assert_eq!(super::super::time::iso8601(epoch), iso);
        assert!(epoch > 1_700_000_000);

        // A fixed CurrentTime answers; EpochTime, not fixed, is now's.
        let pairs = [("AWS:CurrentTime", vec!["2019-06-01T00:00:00Z".to_string()])];
        let context = ContextKeys::lent(&pairs);
        let k = keys(&p, &context);
        assert_eq!(k.get("aws:currenttime").unwrap(), ["2019-06-01T00:00:00Z"]);
        assert!(k.now.get().is_none());
        assert!(k.get("aws:epochtime").unwrap()[0].parse::<i64>().unwrap() > 1_700_000_000);

        // A fixed key with no values is absent, not now.
        let pairs = [("aws:EpochTime", vec![])];
        let context = ContextKeys::lent(&pairs);
        assert_eq!(keys(&p, &context).get("aws:epochtime"), Some(&[][..]));
    }

    #[test]
    fn a_lazy_current_time_still_decides_date_conditions() {
        let p = principal("arn:aws:iam::111111111111:user/alice", &[]);
        let policy = |op: &str| {
            Arc::new(
                Policy::parse(&format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"{op}":{{"aws:CurrentTime":"2020-01-01T00:00:00Z","aws:EpochTime":"1577836800"}}}}}}}}"#
                ))
                .unwrap(),
            )
        };
        let context = ContextKeys::new();
        let request = Request {
            principal: &p,
            action: "dynamodb:GetItem",
            resource: "*",
            context: &context,
        };
        let decide = |op| evaluate(&[policy(op)], None, "111111111111", &request);
        assert_eq!(decide("DateGreaterThan"), Decision::Allow);
        assert_eq!(decide("DateLessThan"), Decision::ImplicitDeny);
    }

    /// The principal's keys as they were computed before: every one, into
    /// a map, for each request.
    /// `context` is the request's keys as the former `ContextKeys` held
    /// them: a map by lower-cased name.
    fn reference(
        p: &Principal,
        context: &HashMap<String, Vec<String>>,
        key: &str,
    ) -> Option<Vec<String>> {
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
        put(
            "aws:principaltype",
            if p.arn.ends_with(":root") {
                "Account"
            } else {
                "User"
            },
        );
        for (k, v) in &p.tags {
            own.insert(
                format!("aws:principaltag/{}", k.to_lowercase()),
                vec![v.clone()],
            );
        }
        if let Some(v) = own.get(key) {
            return Some(v.clone());
        }
        if key.starts_with("aws:principal") || key == "aws:username" || key == "aws:userid" {
            return None;
        }
        context.get(key).cloned()
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("aws:username".to_string()),
            Just("aws:userid".to_string()),
            Just("aws:principalarn".to_string()),
            Just("aws:principalaccount".to_string()),
            Just("aws:principaltype".to_string()),
            Just("aws:principal".to_string()),
            Just("aws:principaltag/".to_string()),
            "aws:principaltag/[tTéÉ]{0,2}",
            "[ak]:[aAéÉ]{1,2}",
        ]
    }

    proptest! {
        #[test]
        fn keys_answer_as_the_map_of_every_key_did(
            root in any::<bool>(),
            user_id in "[A]{0,1}",
            tags in prop::collection::btree_map("[tTéÉ]{0,2}", "[a-c]{0,1}", 0..4),
            pairs in prop::collection::vec(
                (name(), prop::collection::vec("[a-c]{1,2}", 0..3)), 0..5),
            set in prop::collection::vec(
                (name(), prop::collection::vec("[a-c]{1,2}", 0..3)), 0..3),
            asked in prop::collection::vec(name(), 1..6),
        ) {
            let mut p = principal(
                if root { "arn:aws:iam::111111111111:root" } else { "arn:aws:iam::111111111111:user/alice" },
                &[],
            );
            p.user_id = user_id;
            p.tags = tags.into_iter().collect::<BTreeMap<_, _>>();
            let lent: Vec<(&str, Vec<String>)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let mut context = ContextKeys::lent(&lent);
            let mut map = HashMap::new();
            for (k, v) in &pairs {
                map.insert(k.to_lowercase(), v.clone());
            }
            for (k, v) in set {
                map.insert(k.to_lowercase(), v.clone());
                context.set(&k, v);
            }
            let k = keys(&p, &context);
            for key in asked {
                // As policies name keys: ASCII lower-cased.
                let key = key.to_ascii_lowercase();
                prop_assert_eq!(k.get(&key).map(<[String]>::to_vec), reference(&p, &map, &key), "{}", key);
            }
        }
    }
}
