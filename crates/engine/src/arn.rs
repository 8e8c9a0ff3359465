//! Amazon Resource Names as a tenant sees them. A tenant is an account; its
//! tables and streams are stored with the ARN of the request that created
//! them, but every answer names them in the caller's account and region,
//! and an ARN a caller sends reaches only the caller's own resources.

use openddb_core::{DynamoError, ErrorKind};

use crate::RequestContext;

/// The parts of `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN; `None` for text that does not have its six fields.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

/// Whose resource an ARN names, seen from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The caller's account, in the caller's region.
    Caller,
    /// The caller's account, in another region: a resource this endpoint
    /// does not hold.
    OtherRegion,
}

/// Checks that `arn` names a resource of the caller's account. Another
/// account's resource is refused as DynamoDB refuses it when no
/// resource-based policy grants access (openddb has none, so none ever
/// does): `AccessDeniedException` naming the action and the resource.
pub fn owner(
    ctx: &RequestContext,
    action: &str,
    arn: &Arn,
    text: &str,
) -> Result<Owner, DynamoError> {
    if arn.account != ctx.account_id {
        return Err(access_denied(ctx, action, text));
    }
    Ok(if arn.region == ctx.region {
        Owner::Caller
    } else {
        Owner::OtherRegion
    })
}

/// DynamoDB's answer to a request for another account's resource.
pub fn access_denied(ctx: &RequestContext, action: &str, resource: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::AccessDeniedException,
        format!(
            "User: {} is not authorized to perform: dynamodb:{action} on resource: {resource} \
             because no resource-based policy allows the dynamodb:{action} action",
            caller_arn(ctx)
        ),
    )
}

/// The caller as IAM names it: the verified user, or without verified
/// credentials the account's root, standing for whoever signed.
fn caller_arn(ctx: &RequestContext) -> String {
    match &ctx.principal {
        Some(p) => p.arn.clone(),
        None => format!("arn:aws:iam::{}:root", ctx.account_id),
    }
}

/// What a table name member names: a table of the caller's, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableRef {
    /// A table name (given as such, or taken from the caller's own ARN).
    Name(String),
    /// The ARN of a table of the caller's account in another region.
    OtherRegion,
}

/// Reads a `TableName` member, which may be a name or, as DynamoDB accepts
/// since resource-based policies, a table's ARN
/// (`arn:<partition>:dynamodb:<region>:<account>:table/<name>`). Text that
/// is not a table ARN is left for the name checks to refuse.
pub fn table_ref(
    ctx: &RequestContext,
    action: &str,
    member: &str,
) -> Result<TableRef, DynamoError> {
    let Some(arn) = Arn::parse(member).filter(|a| a.service == "dynamodb") else {
        return Ok(TableRef::Name(member.to_string()));
    };
    let Some(name) = arn
        .resource
        .strip_prefix("table/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
    else {
        return Ok(TableRef::Name(member.to_string()));
    };
    Ok(match owner(ctx, action, &arn, member)? {
        Owner::Caller => TableRef::Name(name.to_string()),
        Owner::OtherRegion => TableRef::OtherRegion,
    })
}

/// The same resource named in the caller's account and region: how every
/// ARN stored with a table or stream is shown. Text that is not an ARN is
/// returned as is.
pub fn localize(stored: &str, ctx: &RequestContext) -> String {
    match Arn::parse(stored) {
        Some(a) => format!(
            "arn:{}:{}:{}:{}:{}",
            a.partition, a.service, ctx.region, ctx.account_id, a.resource
        ),
        None => stored.to_string(),
    }
}

/// The resource part of an ARN (`table/t/stream/label`), which identifies
/// a table's resource within its tenant whatever region named it.
pub fn resource(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(account: &str, region: &str) -> RequestContext {
        RequestContext {
            account_id: account.into(),
            region: region.into(),
            ..RequestContext::default()
        }
    }

    #[test]
    fn table_arns_resolve_to_names_only_in_the_callers_account_and_region() {
        let me = ctx("111111111111", "eu-west-1");
        let own = "arn:aws:dynamodb:eu-west-1:111111111111:table/Music";
        assert_eq!(
            table_ref(&me, "GetItem", own),
            Ok(TableRef::Name("Music".into()))
        );
        assert_eq!(
            table_ref(&me, "GetItem", "Music"),
            Ok(TableRef::Name("Music".into()))
        );
        let elsewhere = "arn:aws:dynamodb:us-east-1:111111111111:table/Music";
        assert_eq!(
            table_ref(&me, "GetItem", elsewhere),
            Ok(TableRef::OtherRegion)
        );
        let foreign = "arn:aws:dynamodb:eu-west-1:222222222222:table/Music";
        let err = table_ref(&me, "GetItem", foreign).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDeniedException);
        assert_eq!(
            err.message,
            "User: arn:aws:iam::111111111111:root is not authorized to perform: dynamodb:GetItem \
             on resource: arn:aws:dynamodb:eu-west-1:222222222222:table/Music because no \
             resource-based policy allows the dynamodb:GetItem action"
        );
    }

    #[test]
    fn text_that_is_not_a_table_arn_stays_for_the_name_checks() {
        let me = ctx("111111111111", "us-east-1");
        for s in [
            "arn:aws:dynamodb:us-east-1:222222222222:table/",
            "arn:aws:dynamodb:us-east-1:222222222222:table/t/index/i",
            "arn:aws:dynamodb:us-east-1:222222222222:backup/x",
            "arn:aws:s3:us-east-1:222222222222:table/t",
            "arn:aws:dynamodb:us-east-1",
            "not-an-arn",
        ] {
            assert_eq!(
                table_ref(&me, "GetItem", s),
                Ok(TableRef::Name(s.into())),
                "{s}"
            );
        }
    }

    #[test]
    fn stored_arns_are_shown_in_the_callers_account_and_region() {
        let me = ctx("111111111111", "eu-west-1");
        let stored =
            "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2024-01-01T00:00:00.000";
        assert_eq!(
            localize(stored, &me),
            "arn:aws:dynamodb:eu-west-1:111111111111:table/t/stream/2024-01-01T00:00:00.000"
        );
        assert_eq!(
            resource(stored),
            Some("table/t/stream/2024-01-01T00:00:00.000")
        );
        assert_eq!(localize("x", &me), "x");
    }
}
