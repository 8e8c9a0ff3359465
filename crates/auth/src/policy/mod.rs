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

use std::collections::HashMap;

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
#[derive(Default, Clone, Debug)]
pub struct ContextKeys {
    keys: HashMap<String, Vec<String>>,
}

impl ContextKeys {
    pub fn new() -> ContextKeys {
        ContextKeys::default()
    }

    /// Sets a key's values, replacing earlier ones.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_lowercase(), values);
    }

    /// Sets a single-valued key.
    pub fn set_single(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, vec![value.into()]);
    }

    /// The values of `key`, matched without regard to case.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lower(&key.to_lowercase())
    }

    pub(crate) fn get_lower(&self, key: &str) -> Option<&[String]> {
        self.keys.get(key).map(Vec::as_slice)
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
    pub context: &'a ContextKeys,
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
