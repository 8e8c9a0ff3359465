//! Accounts: create, list, delete.

use rusqlite::{params, OptionalExtension, Transaction};

use super::error::{ErrorCode, StoreError};
use super::model::{Account, Timestamp};
use super::{ids, validate, Store};

/// The account named by its 12-digit id or its alias.
pub(super) fn resolve(txn: &Transaction<'_>, id_or_alias: &str) -> Result<String, StoreError> {
    let found: Option<String> = txn
        .query_row(
            "SELECT account_id FROM accounts WHERE account_id = ?1 OR alias = ?1",
            [id_or_alias],
            |r| r.get(0),
        )
        .optional()?;
    found
        .ok_or_else(|| StoreError::not_found(format!("The account {id_or_alias} cannot be found.")))
}

fn count(txn: &Transaction<'_>, sql: &str, account_id: &str) -> Result<i64, StoreError> {
    Ok(txn.query_row(sql, [account_id], |r| r.get(0))?)
}

impl Store {
    /// Creates an account with the given 12-digit id, or a random one, and
    /// an optional alias.
    pub fn create_account(
        &self,
        account_id: Option<&str>,
        alias: Option<&str>,
    ) -> Result<Account, StoreError> {
        if let Some(id) = account_id {
            validate::account_id(id)?;
        }
        if let Some(alias) = alias {
            validate::alias(alias)?;
        }
        self.write(|txn| {
            let id = match account_id {
                Some(id) => {
                    let exists: bool = txn.query_row(
                        "SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = ?1)",
                        [id],
                        |r| r.get(0),
                    )?;
                    if exists {
                        return Err(StoreError::exists(format!("Account {id} already exists.")));
                    }
                    id.to_owned()
                }
                None => loop {
                    let id = ids::account_id()?;
                    let taken: bool = txn.query_row(
                        "SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = ?1)",
                        [&id],
                        |r| r.get(0),
                    )?;
                    if !taken {
                        break id;
                    }
                },
            };
            if let Some(alias) = alias {
                let taken: bool = txn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM accounts WHERE alias = ?1)",
                    [alias],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(StoreError::exists(format!(
                        "The account alias {alias} already exists."
                    )));
                }
            }
            let now = Timestamp::now();
            txn.execute(
                "INSERT INTO accounts (account_id, alias, created) VALUES (?1, ?2, ?3)",
                params![id, alias, now.0],
            )?;
            Ok(Account {
                account_id: id,
                alias: alias.map(str::to_owned),
                create_date: now,
            })
        })
    }

    /// Every account, by id.
    pub fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.read(|txn| {
            let mut stmt =
                txn.prepare("SELECT account_id, alias, created FROM accounts ORDER BY account_id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Account {
                    account_id: r.get(0)?,
                    alias: r.get(1)?,
                    create_date: Timestamp(r.get(2)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Deletes an account's credentials: refused while it has users or
    /// policies, unless `force`, which deletes them (and their keys) too.
    /// The account's tables are not touched.
    pub fn delete_account(&self, id_or_alias: &str, force: bool) -> Result<(), StoreError> {
        self.write(|txn| {
            let id = resolve(txn, id_or_alias)?;
            let users = count(txn, "SELECT count(*) FROM users WHERE account_id = ?1", &id)?;
            let policies = count(
                txn,
                "SELECT count(*) FROM policies WHERE account_id = ?1",
                &id,
            )?;
            if !force && (users > 0 || policies > 0) {
                return Err(StoreError::new(
                    ErrorCode::DeleteConflict,
                    format!(
                        "Cannot delete account {id}: it has {users} user(s) and {policies} \
                         policy(ies); delete them first, or force the deletion."
                    ),
                ));
            }
            for sql in [
                "DELETE FROM attachments WHERE account_id = ?1",
                "DELETE FROM access_keys WHERE account_id = ?1",
                "DELETE FROM user_tags WHERE account_id = ?1",
                "DELETE FROM users WHERE account_id = ?1",
                "DELETE FROM policies WHERE account_id = ?1",
                "DELETE FROM accounts WHERE account_id = ?1",
            ] {
                txn.execute(sql, [&id])?;
            }
            Ok(())
        })
    }
}
