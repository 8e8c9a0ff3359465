//! The table name members of each request, read once before the action
//! runs: a table ARN of the caller's own becomes the table's name, another
//! account's is refused, and one of the caller's account in another region
//! names no table here. Actions then only ever see names, which can only
//! reach the caller's own tenant.

use std::collections::BTreeMap;

use openddb_core::api;
use openddb_core::DynamoError;

use crate::actions::describe_table::{not_found, not_found_item};
use crate::arn::{table_ref, TableRef};
use crate::RequestContext;

/// A request whose table name members may be ARNs.
pub trait NamesTables {
    /// Replaces each table ARN by its table's name, or refuses the request.
    fn resolve_tables(&mut self, _ctx: &RequestContext) -> Result<(), DynamoError> {
        Ok(())
    }

    /// The table name members as sent (names or ARNs), for requests that
    /// may reach another account's tables (`cross_account`).
    fn table_members(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// The operations DynamoDB lets reach another account's table through its
/// ARN, when the table's resource-based policy allows it: the item
/// operations, batches and transactions, and DescribeTable, UpdateTable
/// and DeleteTable ("DynamoDB API operations supported by resource-based
/// policies").
const CROSS_ACCOUNT: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "DescribeTable",
    "UpdateTable",
    "DeleteTable",
];

/// The context a request runs in: the caller's own, or — where policies
/// decide (`--auth iam`) and the request names another account's tables
/// by ARN — that account's, with the caller still the principal. Policies
/// then ask of each access both the caller's identity policies and the
/// table's resource policy, as IAM does across accounts. One request
/// reaches one account's tables: a table name without an ARN is the
/// caller's, so a request mixing them with another account's ARNs, or
/// naming two other accounts, is refused.
///
/// `None`: the request runs in the caller's own context.
pub fn cross_account<I: NamesTables>(
    ctx: &RequestContext,
    operation: &str,
    input: &I,
) -> Result<Option<RequestContext>, DynamoError> {
    if ctx.authorizer.is_none() || !CROSS_ACCOUNT.contains(&operation) {
        return Ok(None);
    }
    let mut accounts: Vec<&str> = Vec::new();
    for member in input.table_members() {
        let account = match crate::arn::Arn::parse(member) {
            Some(arn) if arn.service == "dynamodb" && arn.resource.starts_with("table/") => {
                arn.account
            }
            _ => ctx.account_id.as_str(),
        };
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }
    match accounts.as_slice() {
        [one] if *one != ctx.account_id && openddb_auth::is_account_id(one) => {
            let mut owner = ctx.clone();
            owner.account_id = one.to_string();
            Ok(Some(owner))
        }
        [_, _, ..] => Err(DynamoError::validation(format!(
            "One request can reach the tables of one account only; this {operation} names \
             tables of {} accounts",
            accounts.len()
        ))),
        _ => Ok(None),
    }
}

/// Resolves one optional member; `missing` is the action's answer for a
/// table it does not have.
fn resolve(
    member: &mut Option<String>,
    ctx: &RequestContext,
    action: &str,
    missing: impl FnOnce(&str) -> DynamoError,
) -> Result<(), DynamoError> {
    if let Some(text) = member.as_mut() {
        match table_ref(ctx, action, text)? {
            TableRef::Name(name) => *text = name,
            TableRef::OtherRegion => return Err(missing(text)),
        }
    }
    Ok(())
}

fn item_missing(_: &str) -> DynamoError {
    not_found_item()
}

/// The keys of a batch's `RequestItems` resolved. A table named twice (by
/// name and by ARN) would merge two entries DynamoDB keeps apart, so it is
/// refused.
fn resolve_keys<V>(
    items: &mut Option<BTreeMap<String, V>>,
    ctx: &RequestContext,
    action: &str,
) -> Result<(), DynamoError> {
    let Some(map) = items.take() else {
        return Ok(());
    };
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let name = match table_ref(ctx, action, &key)? {
            TableRef::Name(name) => name,
            TableRef::OtherRegion => return Err(not_found_item()),
        };
        if out.contains_key(&name) {
            return Err(DynamoError::validation(format!(
                "Table {name} is named more than once in RequestItems"
            )));
        }
        out.insert(name, value);
    }
    *items = Some(out);
    Ok(())
}

macro_rules! single_table {
    ($($input:ty => $action:literal, $missing:expr;)*) => {
        $(impl NamesTables for $input {
            fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
                resolve(&mut self.table_name, ctx, $action, $missing)
            }

            fn table_members(&self) -> Vec<&str> {
                self.table_name.as_deref().into_iter().collect()
            }
        })*
    };
}

single_table! {
    api::GetItemInput => "GetItem", item_missing;
    api::PutItemInput => "PutItem", item_missing;
    api::UpdateItemInput => "UpdateItem", item_missing;
    api::DeleteItemInput => "DeleteItem", item_missing;
    api::QueryInput => "Query", item_missing;
    api::ScanInput => "Scan", item_missing;
    api::DescribeTableInput => "DescribeTable", not_found;
    api::DeleteTableInput => "DeleteTable", not_found;
    api::UpdateTableInput => "UpdateTable", not_found;
    api::DescribeTimeToLiveInput => "DescribeTimeToLive", not_found;
    api::UpdateTimeToLiveInput => "UpdateTimeToLive", not_found;
}

impl NamesTables for api::CreateTableInput {
    fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
        // A table can only be made where the request is answered.
        resolve(&mut self.table_name, ctx, "CreateTable", |arn| {
            DynamoError::validation(format!(
                "Table {arn} is not in the region of the request ({})",
                ctx.region
            ))
        })
    }
}

impl NamesTables for api::BatchGetItemInput {
    fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
        resolve_keys(&mut self.request_items, ctx, "BatchGetItem")
    }

    fn table_members(&self) -> Vec<&str> {
        self.request_items
            .iter()
            .flat_map(|m| m.keys())
            .map(String::as_str)
            .collect()
    }
}

impl NamesTables for api::BatchWriteItemInput {
    fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
        resolve_keys(&mut self.request_items, ctx, "BatchWriteItem")
    }

    fn table_members(&self) -> Vec<&str> {
        self.request_items
            .iter()
            .flat_map(|m| m.keys())
            .map(String::as_str)
            .collect()
    }
}

/// Each entry is authorized as the single-item action it performs, as IAM
/// evaluates transactions.
impl NamesTables for api::TransactGetItemsInput {
    fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
        for entry in self.transact_items.iter_mut().flatten() {
            if let Some(get) = entry.get.as_mut() {
                resolve(&mut get.table_name, ctx, "GetItem", item_missing)?;
            }
        }
        Ok(())
    }

    fn table_members(&self) -> Vec<&str> {
        self.transact_items
            .iter()
            .flatten()
            .filter_map(|e| e.get.as_ref()?.table_name.as_deref())
            .collect()
    }
}

impl NamesTables for api::TransactWriteItemsInput {
    fn resolve_tables(&mut self, ctx: &RequestContext) -> Result<(), DynamoError> {
        for entry in self.transact_items.iter_mut().flatten() {
            if let Some(c) = entry.condition_check.as_mut() {
                resolve(&mut c.table_name, ctx, "ConditionCheckItem", item_missing)?;
            }
            if let Some(p) = entry.put.as_mut() {
                resolve(&mut p.table_name, ctx, "PutItem", item_missing)?;
            }
            if let Some(d) = entry.delete.as_mut() {
                resolve(&mut d.table_name, ctx, "DeleteItem", item_missing)?;
            }
            if let Some(u) = entry.update.as_mut() {
                resolve(&mut u.table_name, ctx, "UpdateItem", item_missing)?;
            }
        }
        Ok(())
    }

    fn table_members(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for e in self.transact_items.iter().flatten() {
            let names = [
                e.condition_check
                    .as_ref()
                    .and_then(|c| c.table_name.as_deref()),
                e.put.as_ref().and_then(|p| p.table_name.as_deref()),
                e.delete.as_ref().and_then(|d| d.table_name.as_deref()),
                e.update.as_ref().and_then(|u| u.table_name.as_deref()),
            ];
            out.extend(names.into_iter().flatten());
        }
        out
    }
}

// Requests that name no table by a member (PartiQL statements name theirs
// in the statement, see `partiql::Prepared`; the Streams API names streams,
// see `actions::describe_stream::lookup`). ListTables' and ListStreams'
// members are plain table names.
impl NamesTables for api::ListTablesInput {}
impl NamesTables for api::ListStreamsInput {}
impl NamesTables for api::DescribeStreamInput {}
impl NamesTables for api::GetShardIteratorInput {}
impl NamesTables for api::GetRecordsInput {}
impl NamesTables for api::ExecuteStatementInput {}
impl NamesTables for api::BatchExecuteStatementInput {}
impl NamesTables for api::ExecuteTransactionInput {}
// The resource-policy actions name their table or stream by `ResourceArn`,
// which `resource_policy::resolve` reads itself.
impl NamesTables for api::PutResourcePolicyInput {}
impl NamesTables for api::GetResourcePolicyInput {}
impl NamesTables for api::DeleteResourcePolicyInput {}
