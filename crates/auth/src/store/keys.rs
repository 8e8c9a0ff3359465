//! Access keys (`AKIA…`) and temporary credentials (`ASIA…` with a session
//! token) of users. Secrets are sealed before they reach SQLite.

use rusqlite::{params, OptionalExtension, Transaction};

use super::accounts::resolve;
use super::error::{ErrorCode, StoreError};
use super::model::{AccessKey, KeyKind, KeyStatus, NewAccessKey, Timestamp};
use super::users::canonical_name;
use super::{ids, secret_context, token_context, validate, Store};

fn no_such_key(id: &str) -> StoreError {
    StoreError::not_found(format!("The Access Key with id {id} cannot be found."))
}

const KEY_COLUMNS: &str =
    "access_key_id, account_id, user_name, status, created, expires, last_used, session_token IS NOT NULL";

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKey> {
    let status: String = r.get(3)?;
    let temporary: bool = r.get(7)?;
    Ok(AccessKey {
        access_key_id: r.get(0)?,
        account_id: r.get(1)?,
        user_name: r.get(2)?,
        // Only this module writes the column, with one of the two.
        status: KeyStatus::parse(&status).unwrap_or(KeyStatus::Inactive),
        kind: if temporary {
            KeyKind::Temporary
        } else {
            KeyKind::Permanent
        },
        create_date: Timestamp(r.get(4)?),
        expiration: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        last_used_date: r.get::<_, Option<i64>>(6)?.map(Timestamp),
    })
}

/// Stores a new key for a user whose name is canonical.
fn insert_key(
    txn: &Transaction<'_>,
    store: &Store,
    account_id: &str,
    user_name: &str,
    prefix: &str,
    expires: Option<Timestamp>,
) -> Result<NewAccessKey, StoreError> {
    let id = loop {
        let id = ids::access_key_id(prefix)?;
        let taken: bool = txn.query_row(
            "SELECT EXISTS (SELECT 1 FROM access_keys WHERE access_key_id = ?1)",
            [&id],
            |r| r.get(0),
        )?;
        if !taken {
            break id;
        }
    };
    let secret = ids::secret_access_key()?;
    let token = match expires {
        Some(_) => Some(ids::session_token()?),
        None => None,
    };
    let sealed_secret = store.key.seal(&secret_context(&id), secret.as_bytes())?;
    let sealed_token = match &token {
        Some(t) => Some(store.key.seal(&token_context(&id), t.as_bytes())?),
        None => None,
    };
    let now = Timestamp::now();
    txn.execute(
        "INSERT INTO access_keys (access_key_id, account_id, user_name, secret, session_token, \
         status, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, 'Active', ?6, ?7)",
        params![
            id,
            account_id,
            user_name,
            sealed_secret,
            sealed_token,
            now.0,
            expires.map(|e| e.0)
        ],
    )?;
    Ok(NewAccessKey {
        key: AccessKey {
            access_key_id: id,
            account_id: account_id.to_owned(),
            user_name: user_name.to_owned(),
            status: KeyStatus::Active,
            kind: if expires.is_some() {
                KeyKind::Temporary
            } else {
                KeyKind::Permanent
            },
            create_date: now,
            expiration: expires,
            last_used_date: None,
        },
        secret_access_key: secret,
        session_token: token,
    })
}

impl Store {
    /// Creates an access key for a user: at most two per user, as IAM.
    /// The answer is the only place its secret is ever shown.
    pub fn create_access_key(
        &self,
        account: &str,
        user_name: &str,
    ) -> Result<NewAccessKey, StoreError> {
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let name = canonical_name(txn, &account_id, user_name)?;
            let count: i64 = txn.query_row(
                "SELECT count(*) FROM access_keys \
                 WHERE account_id = ?1 AND user_name = ?2 AND session_token IS NULL",
                [&account_id, &name],
                |r| r.get(0),
            )?;
            if count as usize >= validate::MAX_KEYS_PER_USER {
                return Err(StoreError::new(
                    ErrorCode::LimitExceeded,
                    format!(
                        "Cannot exceed quota for AccessKeysPerUser: {}",
                        validate::MAX_KEYS_PER_USER
                    ),
                ));
            }
            insert_key(txn, self, &account_id, &name, ids::ACCESS_KEY_PREFIX, None)
        })
    }

    /// Issues temporary credentials for a user, valid for `seconds` (900 to
    /// 129,600, as GetSessionToken), with the user's own permissions.
    /// Expired ones are cleared out on the way.
    pub fn create_session_credentials(
        &self,
        account: &str,
        user_name: &str,
        seconds: u64,
    ) -> Result<NewAccessKey, StoreError> {
        let seconds = validate::session_seconds(seconds)?;
        self.write(|txn| {
            let account_id = resolve(txn, account)?;
            let name = canonical_name(txn, &account_id, user_name)?;
            let now = Timestamp::now();
            txn.execute(
                "DELETE FROM access_keys WHERE expires IS NOT NULL AND expires <= ?1",
                [now.0],
            )?;
            let expires = Timestamp(now.0 + seconds as i64);
            insert_key(
                txn,
                self,
                &account_id,
                &name,
                ids::SESSION_KEY_PREFIX,
                Some(expires),
            )
        })
    }

    /// The keys of an account, or of one of its users, by user then id.
    pub fn list_access_keys(
        &self,
        account: &str,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.read(|txn| {
            let account_id = resolve(txn, account)?;
            let keys = match user_name {
                Some(user) => {
                    let name = canonical_name(txn, &account_id, user)?;
                    let mut stmt = txn.prepare(&format!(
                        "SELECT {KEY_COLUMNS} FROM access_keys WHERE account_id = ?1 \
                         AND user_name = ?2 ORDER BY access_key_id"
                    ))?;
                    let rows = stmt.query_map([&account_id, &name], key_row)?;
                    rows.collect::<Result<Vec<_>, _>>()?
                }
                None => {
                    let mut stmt = txn.prepare(&format!(
                        "SELECT {KEY_COLUMNS} FROM access_keys WHERE account_id = ?1 \
                         ORDER BY user_name, access_key_id"
                    ))?;
                    let rows = stmt.query_map([&account_id], key_row)?;
                    rows.collect::<Result<Vec<_>, _>>()?
                }
            };
            Ok(keys)
        })
    }

    /// One key, without its secret.
    pub fn get_access_key(&self, access_key_id: &str) -> Result<AccessKey, StoreError> {
        self.read(|txn| {
            txn.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1"),
                [access_key_id],
                key_row,
            )
            .optional()?
            .ok_or_else(|| no_such_key(access_key_id))
        })
    }

    /// Activates or deactivates a key; a deactivated key fails from the
    /// next request on.
    pub fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: KeyStatus,
    ) -> Result<AccessKey, StoreError> {
        self.write(|txn| {
            let changed = txn.execute(
                "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1",
                [access_key_id, status.as_str()],
            )?;
            if changed == 0 {
                return Err(no_such_key(access_key_id));
            }
            Ok(txn.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1"),
                [access_key_id],
                key_row,
            )?)
        })
    }

    /// Deletes a key for good.
    pub fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError> {
        self.write(|txn| {
            let changed = txn.execute(
                "DELETE FROM access_keys WHERE access_key_id = ?1",
                [access_key_id],
            )?;
            if changed == 0 {
                return Err(no_such_key(access_key_id));
            }
            Ok(())
        })
    }
}
