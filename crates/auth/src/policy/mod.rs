//! IAM-style JSON policies: the language (`document`), conditions
//! (`condition`), wildcard patterns and policy variables (`pattern`), and
//! AWS's evaluation logic (`evaluate`). Pure: no I/O, no clock but the
//! `aws:CurrentTime` default.
//!
//! Supported: identity and resource policies, Allow/Deny, `Action`/
//! `NotAction`, `Resource`/`NotResource`, `Principal`/`NotPrincipal`
//! (`AWS` principals), every String, Numeric, Date, Bool, Binary,
//! IpAddress, Arn and Null operator, `…IfExists`, `ForAllValues:`/
//! `ForAnyValue:`, policy variables with defaults. Not supported:
//! permission boundaries, SCPs, session policies (see docs/security.md).

mod cache;
mod condition;
mod document;
mod evaluate;
mod pattern;
mod time;

pub use cache::PolicyCache;
pub use document::{Effect, Policy, PolicyKind, Version, MAX_POLICY_BYTES};
pub use evaluate::evaluate;

/// Why a policy document was refused. `Display` is IAM's wording of the
/// problem (the part a DynamoDB error puts after "Invalid policy
/// document: ").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("This policy contains invalid Json")]
    InvalidJson,
    #[error("Policy document is too large")]
    TooLarge,
    #[error("Syntax errors in policy.")]
    Syntax,
    #[error("The policy must contain a valid version string")]
    InvalidVersion,
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    #[error("Could not parse the policy: Statement is empty!")]
    EmptyStatement,
    #[error("The Statement Ids in the policy are not unique")]
    DuplicateSid,
    #[error("Invalid effect: {0}")]
    InvalidEffect(String),
    #[error("Policy statement must contain actions.")]
    MissingActions,
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    MissingVendor,
    #[error("Resource {0} must be in ARN format or \"*\".")]
    InvalidResource(String),
    #[error("Invalid principal in policy")]
    InvalidPrincipal,
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    #[error("Invalid condition operator: {0}")]
    InvalidOperator(String),
}

/// The condition keys of one request: name (case-insensitive) → values.
/// Multivalued keys (`dynamodb:LeadingKeys`, `dynamodb:Attributes`) may
/// have any number of values; a key with none counts as absent.
///
/// A caller that already holds its keys lends them ([`ContextKeys::lent`])
/// instead of copying them in: a request has a handful of keys, so a
/// linear scan finds one faster than hashing would.
#[derive(Default, Clone, Debug)]
pub struct ContextKeys<'a> {
    /// Lent by the caller, names as the caller wrote them.
    lent: &'a [(&'a str, Vec<String>)],
    /// Set one by one, names lower-cased; they override lent ones.
    own: Vec<(String, Vec<String>)>,
}

impl<'a> ContextKeys<'a> {
    pub fn new() -> ContextKeys<'a> {
        ContextKeys::default()
    }

    /// The keys `pairs` holds, borrowed. A name given twice has its last
    /// values.
    pub fn lent(pairs: &'a [(&'a str, Vec<String>)]) -> ContextKeys<'a> {
        ContextKeys {
            lent: pairs,
            own: Vec::new(),
        }
    }

    /// Sets a key's values, replacing earlier ones.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_lowercase();
        match self.own.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = values,
            None => self.own.push((key, values)),
        }
    }

    /// Sets a single-valued key.
    pub fn set_single(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, vec![value.into()]);
    }

    /// The values of `key`, matched without regard to case.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lower(&key.to_lowercase())
    }

    /// The values of the key whose lower-cased name is `key`.
    pub(crate) fn get_lower(&self, key: &str) -> Option<&[String]> {
        if let Some((_, v)) = self.own.iter().find(|(k, _)| k == key) {
            return Some(v);
        }
        self.lent
            .iter()
            .rev()
            .find(|(k, _)| lowercases_to(k, key))
            .map(|(_, v)| v.as_slice())
    }
}

/// Whether `name` lower-cased (as `str::to_lowercase` does it) is `lower`,
/// without allocating for the ASCII names every real key has.
pub(crate) fn lowercases_to(name: &str, lower: &str) -> bool {
    if name.is_ascii() {
        name.len() == lower.len()
            && name
                .bytes()
                .zip(lower.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        name.to_lowercase() == lower
    }
}

/// One request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: &'a crate::Principal,
    /// `service:Action`, e.g. `dynamodb:GetItem`.
    pub action: &'a str,
    /// The full ARN of the resource acted on.
    pub resource: &'a str,
    pub context: &'a ContextKeys<'a>,
}

/// The outcome of evaluating a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows it.
    ImplicitDeny,
    /// A statement denies it.
    ExplicitDeny,
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod context_tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn lent_keys_match_without_regard_to_case_and_set_ones_win() {
        let pairs = [
            ("dynamodb:LeadingKeys", vec!["a".to_string()]),
            ("aws:RequestedRegion", vec!["us-east-1".to_string()]),
            ("DYNAMODB:leadingkeys", vec!["b".to_string()]),
        ];
        let mut c = ContextKeys::lent(&pairs);
        // A name given twice: the later values.
        assert_eq!(c.get("dynamodb:leadingKeys").unwrap(), ["b"]);
        assert_eq!(c.get_lower("aws:requestedregion").unwrap(), ["us-east-1"]);
        assert!(c.get_lower("aws:RequestedRegion").is_none());
        assert!(c.get("aws:requestedregio").is_none());
        c.set("AWS:RequestedRegion", vec!["eu-west-1".to_string()]);
        c.set_single("aws:requestedregion", "eu-west-2");
        assert_eq!(c.get("aws:RequestedRegion").unwrap(), ["eu-west-2"]);
        assert_eq!(c.own.len(), 1);
    }

    #[test]
    fn names_lower_case_as_str_to_lowercase_does() {
        assert!(lowercases_to("K:Ab", "k:ab"));
        assert!(!lowercases_to("K:Ab", "K:Ab"));
        assert!(!lowercases_to("K:Ab", "k:abc"));
        assert!(lowercases_to("k:Équipe", "k:équipe"));
        assert!(!lowercases_to("k:équipe", "k:Équipe"));
        // `İ` lower-cases to two characters.
        assert!(lowercases_to("k:İ", "k:i\u{307}"));
    }

    proptest! {
        #[test]
        fn lent_and_set_keys_answer_as_the_map_did(
            lent in prop::collection::vec(("[aAéÉİ]{1,3}", prop::collection::vec("[a-c]", 0..2)), 0..5),
            set in prop::collection::vec(("[aAéÉİ]{1,3}", prop::collection::vec("[a-c]", 0..2)), 0..3),
            asked in prop::collection::vec("[aAéÉİ\u{307}i]{1,4}", 1..6),
        ) {
            let pairs: Vec<(&str, Vec<String>)> =
                lent.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let mut c = ContextKeys::lent(&pairs);
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in &lent {
                map.insert(k.to_lowercase(), v.clone());
            }
            for (k, v) in set {
                map.insert(k.to_lowercase(), v.clone());
                c.set(&k, v);
            }
            for key in asked {
                prop_assert_eq!(c.get(&key), map.get(&key.to_lowercase()).map(Vec::as_slice));
                prop_assert_eq!(c.get_lower(&key), map.get(&key).map(Vec::as_slice));
            }
        }
    }
}
