//! Identity policies: named documents of an account, attached to users.
//! A document is checked for shape when put; what it means is the policy
//! evaluator's business.

use rusqlite::{params, OptionalExtension, Transaction};

use super::accounts::resolve;
use super::error::{ErrorCode, StoreError};
use super::model::{policy_arn, Policy, Timestamp};
use super::users::canonical_name;
use super::{validate, Store};

fn policy_row(
    txn: &Transaction<'_>,
    account_id: &str,
    policy_name: &str,
    with_document: bool,
) -> Result<Option<Policy>, StoreError> {
    let row: Option<(String, String, i64, i64)> = txn
        .query_row(
            "SELECT policy_name, document, created, updated FROM policies \
             WHERE account_id = ?1 AND policy_name = ?2",
            [account_id, policy_name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((name, document, created, updated)) = row else {
        return Ok(None);
    };
    let attachment_count: i64 = txn.query_row(
        "SELECT count(*) FROM attachments WHERE account_id = ?1 AND policy_name = ?2",
        [account_id, &name],
        |r| r.get(0),
    )?;
    Ok(Some(Policy {
        arn: policy_arn(account_id, &name),
        account_id: account_id.to_owned(),
        policy_name: name,
        create_date: Timestamp(created),
        update_date: Timestamp(updated),
        attachment_count: attachment_count as u64,
        policy_document: with_document.then_some(document),
    }))
}

fn no_such_policy(account_id: &str, name: &str) -> StoreError {
    StoreError::not_found(format!(
        "Policy {} was not found.",
        policy_arn(account_id, name)
    ))
}

impl Store {
    /// Creates a policy, or replaces the document of the one with that
    /// name (the users it is attached to get the new document from their
    /// next request on).
    pub fn put_policy(
        &self,
        account: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<Policy, StoreError> {
        validate::policy_name(policy_name)?;
        validate::policy_document(document)?;
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let now = Timestamp::now();
            let replaced = txn.execute(
                "UPDATE policies SET document = ?3, updated = ?4 \
                 WHERE account_id = ?1 AND policy_name = ?2",
                params![account_id, policy_name, document, now.0],
            )?;
            if replaced == 0 {
                txn.execute(
                    "INSERT INTO policies (account_id, policy_name, document, created, updated) \
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![account_id, policy_name, document, now.0],
                )?;
            }
            policy_row(txn, &account_id, policy_name, true)?
                .ok_or_else(|| no_such_policy(&account_id, policy_name))
        })
    }

    /// One policy with its document.
    pub fn get_policy(&self, account: &str, policy_name: &str) -> Result<Policy, StoreError> {
        self.read(|txn| {
            let account_id = resolve(txn, account)?;
            policy_row(txn, &account_id, policy_name, true)?
                .ok_or_else(|| no_such_policy(&account_id, policy_name))
        })
    }

    /// An account's policies, by name, without their documents.
    pub fn list_policies(&self, account: &str) -> Result<Vec<Policy>, StoreError> {
        self.read(|txn| {
            let account_id = resolve(txn, account)?;
            let names: Vec<String> = {
                let mut stmt = txn.prepare(
                    "SELECT policy_name FROM policies WHERE account_id = ?1 ORDER BY policy_name",
                )?;
                let rows = stmt.query_map([&account_id], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                if let Some(p) = policy_row(txn, &account_id, &name, false)? {
                    out.push(p);
                }
            }
            Ok(out)
        })
    }

    /// Deletes a policy: refused while attached (as IAM), unless `force`,
    /// which detaches it everywhere first.
    pub fn delete_policy(
        &self,
        account: &str,
        policy_name: &str,
        force: bool,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let policy = policy_row(txn, &account_id, policy_name, false)?
                .ok_or_else(|| no_such_policy(&account_id, policy_name))?;
            if policy.attachment_count > 0 && !force {
                return Err(StoreError::new(
                    ErrorCode::DeleteConflict,
                    "Cannot delete a policy attached to entities.",
                ));
            }
            txn.execute(
                "DELETE FROM attachments WHERE account_id = ?1 AND policy_name = ?2",
                [&account_id, &policy.policy_name],
            )?;
            txn.execute(
                "DELETE FROM policies WHERE account_id = ?1 AND policy_name = ?2",
                [&account_id, &policy.policy_name],
            )?;
            Ok(())
        })
    }

    /// Attaches a policy to a user (at most 10 per user; attaching one
    /// already attached changes nothing, as IAM).
    pub fn attach_user_policy(
        &self,
        account: &str,
        user_name: &str,
        policy_name: &str,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let user = canonical_name(txn, &account_id, user_name)?;
            let Some(policy) = policy_row(txn, &account_id, policy_name, false)? else {
                return Err(StoreError::not_found(format!(
                    "Policy {} does not exist or is not attachable.",
                    policy_arn(&account_id, policy_name)
                )));
            };
            let attached: bool = txn.query_row(
                "SELECT EXISTS (SELECT 1 FROM attachments \
                 WHERE account_id = ?1 AND user_name = ?2 AND policy_name = ?3)",
                [&account_id, &user, &policy.policy_name],
                |r| r.get(0),
            )?;
            if attached {
                return Ok(());
            }
            let count: i64 = txn.query_row(
                "SELECT count(*) FROM attachments WHERE account_id = ?1 AND user_name = ?2",
                [&account_id, &user],
                |r| r.get(0),
            )?;
            if count as usize >= validate::MAX_POLICIES_PER_USER {
                return Err(StoreError::new(
                    ErrorCode::LimitExceeded,
                    format!(
                        "Cannot exceed quota for PoliciesPerUser: {}",
                        validate::MAX_POLICIES_PER_USER
                    ),
                ));
            }
            txn.execute(
                "INSERT INTO attachments (account_id, user_name, policy_name) VALUES (?1, ?2, ?3)",
                [&account_id, &user, &policy.policy_name],
            )?;
            Ok(())
        })
    }

    /// Detaches a policy from a user.
    pub fn detach_user_policy(
        &self,
        account: &str,
        user_name: &str,
        policy_name: &str,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let user = canonical_name(txn, &account_id, user_name)?;
            let removed = txn.execute(
                "DELETE FROM attachments WHERE account_id = ?1 AND user_name = ?2 AND policy_name = ?3",
                [&account_id, &user, policy_name],
            )?;
            if removed == 0 {
                return Err(no_such_policy(&account_id, policy_name));
            }
            Ok(())
        })
    }
}
