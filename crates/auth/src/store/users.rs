//! Users of an account, and their tags.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Transaction};

use super::accounts::resolve;
use super::error::{ErrorCode, StoreError};
use super::model::{user_arn, Timestamp, User};
use super::{ids, validate, Store};

fn no_such_user(name: &str) -> StoreError {
    StoreError::not_found(format!("The user with name {name} cannot be found."))
}

/// The user's name as stored (names are unique without regard to case).
pub(super) fn canonical_name(
    txn: &Transaction<'_>,
    account_id: &str,
    user_name: &str,
) -> Result<String, StoreError> {
    txn.query_row(
        "SELECT user_name FROM users WHERE account_id = ?1 AND user_name = ?2",
        [account_id, user_name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| no_such_user(user_name))
}

fn user_row(txn: &Transaction<'_>, account_id: &str, user_name: &str) -> Result<User, StoreError> {
    let (name, path, user_id, created): (String, String, String, i64) = txn
        .query_row(
            "SELECT user_name, path, user_id, created FROM users \
             WHERE account_id = ?1 AND user_name = ?2",
            [account_id, user_name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| no_such_user(user_name))?;
    let mut tags = BTreeMap::new();
    {
        let mut stmt = txn.prepare_cached(
            "SELECT tag_key, tag_value FROM user_tags WHERE account_id = ?1 AND user_name = ?2",
        )?;
        let mut rows = stmt.query([account_id, &name])?;
        while let Some(r) = rows.next()? {
            tags.insert(r.get(0)?, r.get(1)?);
        }
    }
    let mut attached_policies = Vec::new();
    {
        let mut stmt = txn.prepare_cached(
            "SELECT p.policy_name FROM attachments a JOIN policies p \
             ON p.account_id = a.account_id AND p.policy_name = a.policy_name \
             WHERE a.account_id = ?1 AND a.user_name = ?2 ORDER BY p.policy_name",
        )?;
        let mut rows = stmt.query([account_id, &name])?;
        while let Some(r) = rows.next()? {
            attached_policies.push(r.get(0)?);
        }
    }
    Ok(User {
        arn: user_arn(account_id, &path, &name),
        account_id: account_id.to_owned(),
        user_name: name,
        path,
        user_id,
        create_date: Timestamp(created),
        tags,
        attached_policies,
    })
}

/// Sets tags on a user, replacing the value (and the case of the key) of
/// a key it already has; at most 50 in all.
fn put_tags(
    txn: &Transaction<'_>,
    account_id: &str,
    user_name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    for (key, value) in tags {
        txn.execute(
            "DELETE FROM user_tags WHERE account_id = ?1 AND user_name = ?2 AND tag_key = ?3",
            params![account_id, user_name, key],
        )?;
        txn.execute(
            "INSERT INTO user_tags (account_id, user_name, tag_key, tag_value) \
             VALUES (?1, ?2, ?3, ?4)",
            params![account_id, user_name, key, value],
        )?;
    }
    let total: i64 = txn.query_row(
        "SELECT count(*) FROM user_tags WHERE account_id = ?1 AND user_name = ?2",
        [account_id, user_name],
        |r| r.get(0),
    )?;
    if total as usize > validate::MAX_TAGS_PER_USER {
        return Err(StoreError::new(
            ErrorCode::LimitExceeded,
            format!(
                "The number of tags has reached the maximum limit of {}.",
                validate::MAX_TAGS_PER_USER
            ),
        ));
    }
    Ok(())
}

impl Store {
    /// Creates a user in an account (given by id or alias), with a path
    /// (`/` by default) and tags.
    pub fn create_user(
        &self,
        account: &str,
        user_name: &str,
        path: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<User, StoreError> {
        validate::user_name(user_name)?;
        let path = path.unwrap_or("/");
        validate::path(path)?;
        validate::tags(tags)?;
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let exists: bool = txn.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE account_id = ?1 AND user_name = ?2)",
                [&account_id, user_name],
                |r| r.get(0),
            )?;
            if exists {
                return Err(StoreError::exists(format!(
                    "User with name {user_name} already exists."
                )));
            }
            txn.execute(
                "INSERT INTO users (account_id, user_name, path, user_id, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    account_id,
                    user_name,
                    path,
                    ids::user_id()?,
                    Timestamp::now().0
                ],
            )?;
            put_tags(txn, &account_id, user_name, tags)?;
            user_row(txn, &account_id, user_name)
        })
    }

    /// One user.
    pub fn get_user(&self, account: &str, user_name: &str) -> Result<User, StoreError> {
        self.read(|txn| {
            let account_id = resolve(txn, account)?;
            user_row(txn, &account_id, user_name)
        })
    }

    /// An account's users, by name.
    pub fn list_users(&self, account: &str) -> Result<Vec<User>, StoreError> {
        self.read(|txn| {
            let account_id = resolve(txn, account)?;
            let names: Vec<String> = {
                let mut stmt = txn.prepare(
                    "SELECT user_name FROM users WHERE account_id = ?1 ORDER BY user_name",
                )?;
                let rows = stmt.query_map([&account_id], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            names
                .iter()
                .map(|name| user_row(txn, &account_id, name))
                .collect()
        })
    }

    /// Deletes a user. As IAM, refused while the user has access keys or
    /// attached policies, unless `force`, which deletes and detaches them.
    pub fn delete_user(
        &self,
        account: &str,
        user_name: &str,
        force: bool,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let name = canonical_name(txn, &account_id, user_name)?;
            if !force {
                let keys: i64 = txn.query_row(
                    "SELECT count(*) FROM access_keys WHERE account_id = ?1 AND user_name = ?2",
                    [&account_id, &name],
                    |r| r.get(0),
                )?;
                if keys > 0 {
                    return Err(StoreError::new(
                        ErrorCode::DeleteConflict,
                        "Cannot delete entity, must delete access keys first.",
                    ));
                }
                let attached: i64 = txn.query_row(
                    "SELECT count(*) FROM attachments WHERE account_id = ?1 AND user_name = ?2",
                    [&account_id, &name],
                    |r| r.get(0),
                )?;
                if attached > 0 {
                    return Err(StoreError::new(
                        ErrorCode::DeleteConflict,
                        "Cannot delete entity, must detach all policies first.",
                    ));
                }
            }
            for sql in [
                "DELETE FROM access_keys WHERE account_id = ?1 AND user_name = ?2",
                "DELETE FROM attachments WHERE account_id = ?1 AND user_name = ?2",
                "DELETE FROM user_tags WHERE account_id = ?1 AND user_name = ?2",
                "DELETE FROM users WHERE account_id = ?1 AND user_name = ?2",
            ] {
                txn.execute(sql, [&account_id, &name])?;
            }
            Ok(())
        })
    }

    /// Adds or replaces tags on a user.
    pub fn tag_user(
        &self,
        account: &str,
        user_name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<User, StoreError> {
        validate::tags(tags)?;
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let name = canonical_name(txn, &account_id, user_name)?;
            put_tags(txn, &account_id, &name, tags)?;
            user_row(txn, &account_id, &name)
        })
    }

    /// Removes tags from a user; keys it does not have are ignored, as IAM
    /// ignores them.
    pub fn untag_user(
        &self,
        account: &str,
        user_name: &str,
        keys: &[String],
    ) -> Result<User, StoreError> {
        for key in keys {
            validate::tag_key(key)?;
        }
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let name = canonical_name(txn, &account_id, user_name)?;
            for key in keys {
                txn.execute(
                    "DELETE FROM user_tags WHERE account_id = ?1 AND user_name = ?2 AND tag_key = ?3",
                    params![account_id, name, key],
                )?;
            }
            user_row(txn, &account_id, &name)
        })
    }
}
