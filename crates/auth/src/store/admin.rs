//! The administrative operations, by name, with JSON input and output: the
//! one implementation behind both `openddb admin` and the admin HTTP API,
//! so the two cannot drift apart.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ErrorCode, StoreError};
use super::model::KeyStatus;
use super::{validate, Store};

/// Every operation [`execute`] knows.
pub const OPERATIONS: &[&str] = &[
    "CreateAccount",
    "ListAccounts",
    "DeleteAccount",
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "TagUser",
    "UntagUser",
    "CreateAccessKey",
    "CreateSessionCredentials",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "PutPolicy",
    "GetPolicy",
    "ListPolicies",
    "DeletePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
];

/// IAM's tag shape.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

fn tag_map(tags: Vec<Tag>) -> Result<BTreeMap<String, String>, StoreError> {
    let mut map = BTreeMap::new();
    for tag in tags {
        if map.insert(tag.key.clone(), tag.value).is_some() {
            return Err(StoreError::invalid(format!(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive. \
                 ('{}')",
                tag.key
            )));
        }
    }
    Ok(map)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateAccount {
    account_id: Option<String>,
    alias: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Nothing {}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DeleteAccount {
    account_id: String,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InAccount {
    account_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateUser {
    account_id: String,
    user_name: String,
    path: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UserRef {
    account_id: String,
    user_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DeleteUser {
    account_id: String,
    user_name: String,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct TagUser {
    account_id: String,
    user_name: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UntagUser {
    account_id: String,
    user_name: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateSession {
    account_id: String,
    user_name: String,
    duration_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ListAccessKeys {
    account_id: String,
    user_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UpdateAccessKey {
    access_key_id: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct KeyRef {
    access_key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PutPolicy {
    account_id: String,
    policy_name: String,
    policy_document: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PolicyRef {
    account_id: String,
    policy_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DeletePolicy {
    account_id: String,
    policy_name: String,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Attachment {
    account_id: String,
    user_name: String,
    policy_name: String,
}

fn input<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, StoreError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| StoreError::invalid(format!("Invalid input for {operation}: {e}")))
}

fn to_value<T: serde::Serialize>(name: &str, value: T) -> Result<Value, StoreError> {
    let value = serde_json::to_value(value).map_err(|e| StoreError::failure(e.to_string()))?;
    Ok(json!({ name: value }))
}

/// Runs one administrative operation: `body` is its JSON input (an empty
/// body is `{}`), the answer its JSON output. Blocking: writes fsync.
pub fn execute(store: &Store, operation: &str, body: &[u8]) -> Result<Value, StoreError> {
    let done = || Ok(json!({}));
    match operation {
        "CreateAccount" => {
            let i: CreateAccount = input(operation, body)?;
            to_value(
                "Account",
                store.create_account(i.account_id.as_deref(), i.alias.as_deref())?,
            )
        }
        "ListAccounts" => {
            let _: Nothing = input(operation, body)?;
            to_value("Accounts", store.list_accounts()?)
        }
        "DeleteAccount" => {
            let i: DeleteAccount = input(operation, body)?;
            store.delete_account(&i.account_id, i.force)?;
            done()
        }
        "CreateUser" => {
            let i: CreateUser = input(operation, body)?;
            let tags = tag_map(i.tags)?;
            to_value(
                "User",
                store.create_user(&i.account_id, &i.user_name, i.path.as_deref(), &tags)?,
            )
        }
        "GetUser" => {
            let i: UserRef = input(operation, body)?;
            to_value("User", store.get_user(&i.account_id, &i.user_name)?)
        }
        "ListUsers" => {
            let i: InAccount = input(operation, body)?;
            to_value("Users", store.list_users(&i.account_id)?)
        }
        "DeleteUser" => {
            let i: DeleteUser = input(operation, body)?;
            store.delete_user(&i.account_id, &i.user_name, i.force)?;
            done()
        }
        "TagUser" => {
            let i: TagUser = input(operation, body)?;
            let tags = tag_map(i.tags)?;
            to_value("User", store.tag_user(&i.account_id, &i.user_name, &tags)?)
        }
        "UntagUser" => {
            let i: UntagUser = input(operation, body)?;
            to_value(
                "User",
                store.untag_user(&i.account_id, &i.user_name, &i.tag_keys)?,
            )
        }
        "CreateAccessKey" => {
            let i: UserRef = input(operation, body)?;
            to_value(
                "AccessKey",
                store.create_access_key(&i.account_id, &i.user_name)?,
            )
        }
        "CreateSessionCredentials" => {
            let i: CreateSession = input(operation, body)?;
            let seconds = i
                .duration_seconds
                .unwrap_or(validate::DEFAULT_SESSION_SECONDS);
            to_value(
                "Credentials",
                store.create_session_credentials(&i.account_id, &i.user_name, seconds)?,
            )
        }
        "ListAccessKeys" => {
            let i: ListAccessKeys = input(operation, body)?;
            to_value(
                "AccessKeys",
                store.list_access_keys(&i.account_id, i.user_name.as_deref())?,
            )
        }
        "UpdateAccessKey" => {
            let i: UpdateAccessKey = input(operation, body)?;
            let status = KeyStatus::parse(&i.status).ok_or_else(|| {
                StoreError::invalid(format!(
                    "1 validation error detected: Value '{}' at 'status' failed to satisfy \
                     constraint: Member must satisfy enum value set: [Active, Inactive]",
                    i.status
                ))
            })?;
            to_value(
                "AccessKey",
                store.set_access_key_status(&i.access_key_id, status)?,
            )
        }
        "DeleteAccessKey" => {
            let i: KeyRef = input(operation, body)?;
            store.delete_access_key(&i.access_key_id)?;
            done()
        }
        "PutPolicy" => {
            let i: PutPolicy = input(operation, body)?;
            to_value(
                "Policy",
                store.put_policy(&i.account_id, &i.policy_name, &i.policy_document)?,
            )
        }
        "GetPolicy" => {
            let i: PolicyRef = input(operation, body)?;
            to_value("Policy", store.get_policy(&i.account_id, &i.policy_name)?)
        }
        "ListPolicies" => {
            let i: InAccount = input(operation, body)?;
            to_value("Policies", store.list_policies(&i.account_id)?)
        }
        "DeletePolicy" => {
            let i: DeletePolicy = input(operation, body)?;
            store.delete_policy(&i.account_id, &i.policy_name, i.force)?;
            done()
        }
        "AttachUserPolicy" => {
            let i: Attachment = input(operation, body)?;
            store.attach_user_policy(&i.account_id, &i.user_name, &i.policy_name)?;
            done()
        }
        "DetachUserPolicy" => {
            let i: Attachment = input(operation, body)?;
            store.detach_user_policy(&i.account_id, &i.user_name, &i.policy_name)?;
            done()
        }
        _ => Err(StoreError::new(
            ErrorCode::UnknownOperation,
            format!("Unknown operation {operation:?}"),
        )),
    }
}

/// The JSON an error is answered with: `{"__type": code, "message": …}`.
pub fn error_body(err: &StoreError) -> Value {
    json!({ "__type": err.code.as_str(), "message": err.message })
}
