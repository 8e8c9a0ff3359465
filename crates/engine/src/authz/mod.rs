//! Authorization (`--auth iam`): what each request asks for, and the check
//! every action makes before it reads or writes anything.
//!
//! An action describes its request as a list of [`Access`]es — an IAM
//! action (`dynamodb:GetItem`), the resource it acts on, and the condition
//! keys DynamoDB supplies for it (`facts.rs` computes them from the same
//! parsed request the action then executes, so what is authorized is what
//! runs). [`authorize`] asks the context's [`Authorizer`] about each, and
//! refuses the whole request with DynamoDB's `AccessDeniedException` at the
//! first denial: batches and transactions are all or nothing.

pub mod facts;
mod iam;

pub use iam::PolicyAuthorizer;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use openddb_auth::Principal;
use openddb_core::{DynamoError, ErrorKind};

use crate::tenant::Tenant;
use crate::RequestContext;

/// What an IAM action is done to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A table, or one of its indexes (reads through an index are
    /// authorized on the index's ARN).
    Table { name: String, index: Option<String> },
    /// A table's stream.
    Stream { table: String, label: String },
    /// A resource named by the ARN the request gives (a stream ARN, or
    /// the one sealed in a shard iterator).
    Arn(String),
    /// Account-level actions (`ListTables`, `ListStreams`): `*`.
    Any,
}

impl Resource {
    pub fn table(name: &str) -> Resource {
        Resource::Table {
            name: name.to_string(),
            index: None,
        }
    }

    /// The resource's ARN in `account` and `region`.
    pub fn arn(&self, region: &str, account: &str) -> String {
        match self {
            Resource::Table { name, index: None } => {
                format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
            }
            Resource::Table {
                name,
                index: Some(index),
            } => format!("arn:aws:dynamodb:{region}:{account}:table/{name}/index/{index}"),
            Resource::Stream { table, label } => {
                format!("arn:aws:dynamodb:{region}:{account}:table/{table}/stream/{label}")
            }
            Resource::Arn(arn) => arn.clone(),
            Resource::Any => "*".to_string(),
        }
    }
}

/// `dynamodb:LeadingKeys`: the partition-key values a request reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadingKeys {
    /// These partitions and no other.
    Known(BTreeSet<String>),
    /// Any partition: a Scan, a PartiQL SELECT without a partition-key
    /// equality, or a request whose keys could not be worked out. Given to
    /// policies as one value no condition names (see [`every_partition`]),
    /// so `ForAllValues` cannot be vacuously true for it.
    Every,
}

/// One authorization a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `dynamodb:GetItem`, `dynamodb:PartiQLSelect`, …
    pub action: &'static str,
    pub resource: Resource,
    pub leading_keys: Option<LeadingKeys>,
    /// `dynamodb:Attributes`: the top-level attribute names the request
    /// names (key, item, projection, expression and update attributes).
    pub attributes: Option<BTreeSet<String>>,
    pub select: Option<String>,
    pub return_values: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub enclosing_operation: Option<&'static str>,
    pub full_table_scan: Option<bool>,
}

impl Access {
    /// An access with no condition keys beyond the global ones.
    pub fn plain(action: &'static str, resource: Resource) -> Access {
        Access {
            action,
            resource,
            leading_keys: None,
            attributes: None,
            select: None,
            return_values: None,
            return_consumed_capacity: None,
            enclosing_operation: None,
            full_table_scan: None,
        }
    }

    /// The condition keys of this access as policies see them, the global
    /// ones (`aws:RequestedRegion`, `aws:SecureTransport`) included.
    /// Multivalued keys keep their values sorted; a key that does not
    /// apply is absent.
    pub fn context(&self, ctx: &RequestContext) -> Vec<(&'static str, Vec<String>)> {
        // At most nine keys: one allocation for the list.
        let mut out = Vec::with_capacity(9);
        out.push(("aws:RequestedRegion", vec![ctx.region.clone()]));
        out.push((
            "aws:SecureTransport",
            vec![ctx.secure_transport.to_string()],
        ));
        if let Some(keys) = &self.leading_keys {
            let values: Vec<String> = match keys {
                LeadingKeys::Known(set) => set.iter().cloned().collect(),
                LeadingKeys::Every => vec![every_partition().to_string()],
            };
            // DynamoDB's newer name for the first partition-key attribute's
            // values (multi-attribute keys) carries the same values.
            out.push(("dynamodb:FirstPartitionKeyValues", values.clone()));
            out.push(("dynamodb:LeadingKeys", values));
        }
        if let Some(a) = &self.attributes {
            out.push(("dynamodb:Attributes", a.iter().cloned().collect()));
        }
        let mut single = |key: &'static str, value: Option<&str>| {
            if let Some(v) = value {
                out.push((key, vec![v.to_string()]));
            }
        };
        single("dynamodb:Select", self.select.as_deref());
        single("dynamodb:ReturnValues", self.return_values.as_deref());
        single(
            "dynamodb:ReturnConsumedCapacity",
            self.return_consumed_capacity.as_deref(),
        );
        single("dynamodb:EnclosingOperation", self.enclosing_operation);
        single(
            "dynamodb:FullTableScan",
            self.full_table_scan
                .map(|b| if b { "true" } else { "false" }),
        );
        out
    }
}

/// The value `dynamodb:LeadingKeys` carries for "any partition". It is
/// random per process, so neither a policy nor a principal tag a policy
/// variable expands to can name it: only a condition that admits every
/// value (`StringLike "*"`) admits it, which is what a policy allowing
/// every partition means.
pub fn every_partition() -> &'static str {
    static VALUE: OnceLock<String> = OnceLock::new();
    VALUE.get_or_init(|| {
        let mut bytes = [0u8; 16];
        // Without randomness the value is still unlike any key a policy
        // names; it only becomes guessable.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            bytes = nanos.to_le_bytes();
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("openddb:every-partition:{hex}")
    })
}

/// One question put to the [`Authorizer`].
#[derive(Debug)]
pub struct Question<'a> {
    pub principal: &'a Principal,
    pub action: &'a str,
    /// The resource's ARN (or `*`).
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// The resource's policy document (JSON), if it has one.
    pub resource_policy: Option<&'a str>,
    pub context: &'a [(&'static str, Vec<String>)],
}

/// Why a request was refused: which kind of policy, and how. DynamoDB
/// words its `AccessDeniedException` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No identity-based policy allows the action.
    NoIdentityAllow,
    /// An identity-based policy denies it.
    IdentityDeny,
    /// Cross-account: the resource's policy does not allow it.
    NoResourceAllow,
    /// The resource's policy denies it.
    ResourceDeny,
}

/// Decides questions: the IAM policy evaluator over the principal's
/// identity policies and the resource's policy.
pub trait Authorizer: Send + Sync {
    fn decide(&self, question: &Question<'_>) -> Result<(), Denial>;
}

/// DynamoDB's `AccessDeniedException` for a refused access.
pub fn access_denied(
    principal_arn: &str,
    action: &str,
    resource: &str,
    why: Denial,
) -> DynamoError {
    let head = format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    );
    let message = match why {
        Denial::NoIdentityAllow => {
            format!("{head} because no identity-based policy allows the {action} action")
        }
        Denial::IdentityDeny => format!("{head} with an explicit deny in an identity-based policy"),
        Denial::NoResourceAllow => {
            format!("{head} because no resource-based policy allows the {action} action")
        }
        Denial::ResourceDeny => format!("{head} with an explicit deny in a resource-based policy"),
    };
    DynamoError::new(ErrorKind::AccessDeniedException, message)
}

/// Asks about every access, in order; the first refusal refuses the
/// request. Without an authorizer in the context nothing is checked (and
/// `accesses` is never computed). Each access is evaluated with the
/// resource-based policy that governs its resource in `tenant`, if any.
pub fn authorize(
    ctx: &RequestContext,
    tenant: &Tenant,
    accesses: impl FnOnce() -> Vec<Access>,
) -> Result<(), DynamoError> {
    let Some(authorizer) = &ctx.authorizer else {
        return Ok(());
    };
    // Policies apply but nobody was verified: nothing is allowed.
    let Some(principal) = &ctx.principal else {
        return Err(DynamoError::new(
            ErrorKind::AccessDeniedException,
            "Request is missing a verified principal",
        ));
    };
    for access in accesses() {
        let resource = access.resource.arn(&ctx.region, &ctx.account_id);
        let context = access.context(ctx);
        let policy = governing_policy(tenant, &access.resource);
        let question = Question {
            principal,
            action: access.action,
            resource: &resource,
            resource_account: &ctx.account_id,
            resource_policy: policy.as_deref(),
            context: &context,
        };
        if let Err(why) = authorizer.decide(&question) {
            return Err(access_denied(&principal.arn, access.action, &resource, why));
        }
    }
    Ok(())
}

/// The resource-based policy that governs `resource` (whose ARN is `arn`):
/// a table's own, which also governs its indexes, or its current stream's.
/// Copied out of the catalog: a policy is rare and small, and the copy
/// lets the catalog change while the request is evaluated.
pub(crate) fn governing_policy(tenant: &Tenant, resource: &Resource) -> Option<String> {
    let (table, stream_label) = match resource {
        Resource::Table { name, .. } => (name.as_str(), None),
        Resource::Stream { table, label } => (table.as_str(), Some(label.as_str())),
        Resource::Arn(text) => {
            let arn = crate::arn::Arn::parse(text).filter(|a| a.service == "dynamodb")?;
            let rest = arn.resource.strip_prefix("table/")?;
            let mut parts = rest.split('/');
            let table = parts.next()?;
            match (parts.next(), parts.next()) {
                (Some("stream"), Some(label)) => (table, Some(label)),
                _ => (table, None),
            }
        }
        Resource::Any => return None,
    };
    let meta = tenant.catalog_table(table)?;
    match stream_label {
        None => meta.resource_policy_document().map(str::to_string),
        Some(label) => {
            let current = meta.stream.as_ref()?;
            let policy = meta.stream_policy(&current.arn)?;
            // The stream named is the table's current one: the same label
            // (stored ARNs keep the region they were made in).
            (current.arn.rsplit('/').next() == Some(label)).then(|| policy.document.clone())
        }
    }
}
