//! Resource-based policies of tables and streams, as DynamoDB keeps them:
//! which resource a `ResourceArn` names, the checks a document must pass,
//! revision ids, and the conditional-update rules of `ExpectedRevisionId`.
//! The policies themselves live in the table's catalog entry, so they go
//! with DeleteTable; authorization (`openddb_auth::policy`) reads them from
//! there.

use std::sync::Arc;

use openddb_auth::policy::{Policy, PolicyError, PolicyKind};
use openddb_core::api::validate::Violations;
use openddb_core::{DynamoError, ErrorKind};

use crate::catalog::{ResourcePolicy, StreamPolicy, TableMeta};
use crate::tenant::Tenant;
use crate::RequestContext;

/// DynamoDB's limit on a policy document, whitespace included.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;
/// The `ExpectedRevisionId` that asks for no policy to exist yet.
pub const NO_POLICY: &str = "NO_POLICY";
/// The longest ARN DynamoDB accepts as `ResourceArn`.
const MAX_ARN_LENGTH: usize = 1283;

/// Actions that exist for streams only; the rest of DynamoDB's actions
/// are about tables.
const STREAM_ACTIONS: &[&str] = &[
    "dynamodb:describestream",
    "dynamodb:getrecords",
    "dynamodb:getsharditerator",
];

/// The resource a `ResourceArn` names.
pub enum Target {
    Table(Arc<TableMeta>),
    Stream { table: Arc<TableMeta>, arn: String },
}

impl Target {
    pub fn table(&self) -> &Arc<TableMeta> {
        match self {
            Target::Table(t) | Target::Stream { table: t, .. } => t,
        }
    }

    /// The target's policy in `meta` (the table's entry, possibly newer
    /// than the one the target was resolved from).
    pub fn policy_in<'a>(&self, meta: &'a TableMeta) -> Option<&'a ResourcePolicy> {
        match self {
            Target::Table(_) => meta.resource_policy.as_ref(),
            Target::Stream { arn, .. } => meta.stream_policy(arn),
        }
    }

    /// Sets (or removes) the target's policy in `meta`.
    pub fn set_policy_in(&self, meta: &mut TableMeta, policy: Option<ResourcePolicy>) {
        match self {
            Target::Table(_) => meta.resource_policy = policy,
            Target::Stream { arn, .. } => {
                meta.stream_policy = policy.map(|policy| StreamPolicy {
                    stream_arn: arn.clone(),
                    policy,
                })
            }
        }
    }
}

/// Whether a missing table is reported as such, or (GetResourcePolicy on
/// the stream of a table that is gone) as a missing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Read,
    Change,
}

/// The `ResourceArn` member check.
pub fn check_arn_member(v: &mut Violations, arn: &Option<String>) {
    v.require(arn, "resourceArn");
    if let Some(a) = arn {
        let len = a.chars().count();
        if len < 1 {
            v.push(
                &format!("'{a}'"),
                "resourceArn",
                "Member must have length greater than or equal to 1",
            );
        }
        if len > MAX_ARN_LENGTH {
            v.push(
                &format!("'{a}'"),
                "resourceArn",
                &format!("Member must have length less than or equal to {MAX_ARN_LENGTH}"),
            );
        }
    }
}

fn invalid(message: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!(
        "One or more parameter values were invalid: {message}"
    ))
}

/// The table or stream `arn` names in the caller's account, with
/// DynamoDB's errors for every other shape of ARN.
pub fn resolve(
    tenant: &Tenant,
    ctx: &RequestContext,
    arn: &str,
    lookup: Lookup,
) -> Result<Target, DynamoError> {
    if !arn.starts_with("arn:") {
        return Err(invalid(format!("ARNs must start with 'arn:': {arn}")));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 {
        return Err(invalid(format!("Invalid resource Arn: {arn}")));
    }
    let (partition, service, region, account, resource) =
        (parts[1], parts[2], parts[3], parts[4], parts[5]);
    if service != "dynamodb" {
        return Err(invalid(format!(
            "Provided Arn is not a DynamoDB resource arn: {arn}"
        )));
    }
    if partition != "aws" || region != ctx.region {
        return Err(invalid(format!("Invalid resource Arn: {arn}")));
    }
    if account != ctx.account_id {
        return Err(DynamoError::validation(
            "This action is only supported by accounts that match the resource owner\u{2019}s account.",
        ));
    }
    let Some(rest) = resource.strip_prefix("table/") else {
        return Err(invalid(format!(
            "Provided Arn is not a DynamoDB resource arn: {arn}"
        )));
    };
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        [name] if !name.is_empty() => tenant
            .catalog_table(name)
            .map(Target::Table)
            .ok_or_else(|| crate::actions::describe_table::not_found(name)),
        [name, "stream", label] if !name.is_empty() && !label.is_empty() => {
            let Some(table) = tenant.catalog_table(name) else {
                return Err(match lookup {
                    Lookup::Read => policy_not_found(arn),
                    Lookup::Change => crate::actions::describe_table::not_found(name),
                });
            };
            if table.stream.as_ref().map(|s| s.arn.as_str()) != Some(arn) {
                return Err(DynamoError::resource_not_found(format!(
                    "Requested resource not found: Stream: {label} not found for Table: {name}"
                )));
            }
            Ok(Target::Stream {
                table,
                arn: arn.to_string(),
            })
        }
        [name, "index", index] if !name.is_empty() && !index.is_empty() => Err(invalid(format!(
            "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: {arn}"
        ))),
        _ => Err(invalid(format!(
            "Provided Arn is not a DynamoDB resource arn: {arn}"
        ))),
    }
}

/// GetResourcePolicy's answer when there is no policy.
pub fn policy_not_found(arn: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::PolicyNotFoundException,
        format!("Resource-based policy not found for the provided ResourceArn: {arn}"),
    )
}

fn revision_problem(detail: String) -> DynamoError {
    DynamoError::new(
        ErrorKind::PolicyNotFoundException,
        format!("Resource-based policy not found for the provided ResourceArn: {detail}"),
    )
}

/// Checks `ExpectedRevisionId` against the policy in place (`NO_POLICY`:
/// there must be none; any other value: it must be the current revision).
pub fn check_expected_revision(
    expected: Option<&str>,
    current: Option<&ResourcePolicy>,
    table: &str,
) -> Result<(), DynamoError> {
    match (expected, current) {
        (None, _) | (Some(NO_POLICY), None) => Ok(()),
        (Some(NO_POLICY), Some(c)) => Err(revision_problem(format!(
            "Requested policy update expecting none to be present for table {table}, but a policy exists with revision id {}.",
            c.revision_id
        ))),
        (Some(e), None) => Err(revision_problem(format!(
            "Requested update for policy with revision id {e}, but table {table} has no associated policy."
        ))),
        (Some(e), Some(c)) if c.revision_id != e => Err(revision_problem(format!(
            "Requested update for policy with revision id {e}, but the policy associated to target table {table} has revision id {}.",
            c.revision_id
        ))),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// Which resource a document is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    Table,
    Stream,
}

/// A document checked the way DynamoDB checks a resource policy, parsed.
pub fn check_document(text: &str, attached: Attached) -> Result<Policy, DynamoError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "Maximum policy size of {MAX_POLICY_BYTES} bytes exceeded"
        )));
    }
    let policy = Policy::parse_kind(text, PolicyKind::Resource).map_err(|e| match e {
        PolicyError::InvalidPrincipal => invalid("Invalid principal in policy document."),
        e => invalid(format!("Invalid policy document: {e}")),
    })?;
    let wrong: Vec<String> = policy
        .named_actions()
        .filter(|a| {
            let a = a.to_ascii_lowercase();
            a.starts_with("dynamodb:")
                && (STREAM_ACTIONS.contains(&a.as_str()) != (attached == Attached::Stream))
        })
        .map(|a| format!("\"{a}\""))
        .collect();
    if !wrong.is_empty() {
        return Err(invalid(format!(
            "Invalid policy document: The following action names are invalid: {}",
            wrong.join(", ")
        )));
    }
    if policy.allows_everyone_unconditionally() {
        return Err(DynamoError::validation(
            "Resource-based policy grants unbounded access in one or more elements. Please revise the policy to ensure least-privilege form of access",
        ));
    }
    Ok(policy)
}

/// The stored form of a new policy: the document without the whitespace
/// between its tokens, and a revision id after `previous`.
pub fn new_revision(text: &str, previous: Option<&ResourcePolicy>) -> ResourcePolicy {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let after = previous
        .and_then(|p| p.revision_id.parse::<u64>().ok())
        .map_or(0, |r| r + 1);
    ResourcePolicy {
        document: strip_whitespace(text),
        revision_id: now.max(after).to_string(),
    }
}

/// Whether two documents mean the same (DynamoDB keeps the revision of a
/// policy put again in another layout).
pub fn same_document(stored: &str, new: &Policy) -> bool {
    Policy::parse(stored).is_ok_and(|p| p.to_canonical_json() == new.to_canonical_json())
}

/// JSON text without whitespace outside its strings.
fn strip_whitespace(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_goes_only_outside_strings() {
        assert_eq!(
            strip_whitespace("{ \"a b\" :\n [ \"c\\\" d\" , 1 ] }"),
            "{\"a b\":[\"c\\\" d\",1]}"
        );
    }

    #[test]
    fn revisions_increase() {
        let first = new_revision("{}", None);
        let second = new_revision("{}", Some(&first));
        let (a, b): (u64, u64) = (
            first.revision_id.parse().unwrap(),
            second.revision_id.parse().unwrap(),
        );
        assert!(b > a);
        let future = ResourcePolicy {
            document: "{}".into(),
            revision_id: "99999999999999".into(),
        };
        assert_eq!(
            new_revision("{}", Some(&future)).revision_id,
            "100000000000000"
        );
    }

    #[test]
    fn stream_actions_belong_to_stream_policies() {
        let doc = |action: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"111111111111"}},"Action":["{action}","dynamodb:DescribeStream"],"Resource":"*"}}}}"#
            )
        };
        let e = check_document(&doc("dynamodb:GetRecords"), Attached::Table).unwrap_err();
        assert_eq!(
            e.message,
            "One or more parameter values were invalid: Invalid policy document: The following action names are invalid: \"dynamodb:GetRecords\", \"dynamodb:DescribeStream\""
        );
        assert!(check_document(&doc("dynamodb:GetRecords"), Attached::Stream).is_ok());
        let e = check_document(&doc("dynamodb:GetItem"), Attached::Stream).unwrap_err();
        assert!(
            e.message.ends_with("invalid: \"dynamodb:GetItem\""),
            "{}",
            e.message
        );
        assert!(check_document(&doc("dynamodb:Get*"), Attached::Stream).is_ok());
    }
}
