//! The persisted "next due" index: for every tenant that has background
//! work, the time (epoch milliseconds) by which the scheduler must look at
//! it. It lives in a keyspace of its own (`<data_dir>/schedule.sqlite3`,
//! or memory for an in-memory database), apart from every tenant's, so that
//! the due work of tenants that are not open is found without opening them.
//!
//! ```text
//! 'D' <due ms u64 BE> <account>   → (empty)   the index, in due order
//! 'A' <account>                   → due ms    the entry of an account
//! ```
//!
//! An entry is a promise kept in one direction only: a tenant with work
//! has an entry due no later than the work (entries that turn out to have
//! nothing behind them cost one visit and are removed). Entries are
//! lowered before the change that creates work commits (`lower`), and set
//! from the tenant's jobs after a visit and when the tenant is closed.

use std::sync::Arc;

use openddb_kv::{write_blocking, KeyRange, Kv, KvError, Outcome, Txn};

const BY_DUE: u8 = b'D';
const BY_ACCOUNT: u8 = b'A';

fn due_key(due_ms: u64, account: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + account.len());
    k.push(BY_DUE);
    k.extend_from_slice(&due_ms.to_be_bytes());
    k.extend_from_slice(account.as_bytes());
    k
}

fn account_key(account: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + account.len());
    k.push(BY_ACCOUNT);
    k.extend_from_slice(account.as_bytes());
    k
}

fn decode_ms(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// How an entry changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Set to this time, or removed.
    Set(Option<u64>),
    /// Moved to this time if that is earlier (or there was none).
    Lower(u64),
}

/// Applies `change` to `account`'s entry; returns the entry after it.
fn apply(txn: &mut dyn Txn, account: &str, change: Change) -> Result<Option<u64>, KvError> {
    let akey = account_key(account);
    let old = txn.get(&akey)?.as_deref().and_then(decode_ms);
    let new = match change {
        Change::Set(new) => new,
        Change::Lower(due) => Some(old.map_or(due, |o| o.min(due))),
    };
    if new == old {
        return Ok(old);
    }
    if let Some(old) = old {
        txn.delete(&due_key(old, account))?;
    }
    match new {
        Some(due) => {
            txn.put(&due_key(due, account), &[])?;
            txn.put(&akey, &due.to_be_bytes())?;
        }
        None => txn.delete(&akey)?,
    }
    Ok(new)
}

/// The index over its own store.
#[derive(Clone)]
pub struct DueIndex {
    kv: Arc<dyn Kv>,
}

impl DueIndex {
    pub fn new(kv: Arc<dyn Kv>) -> DueIndex {
        DueIndex { kv }
    }

    /// The entry of `account`.
    pub fn get(&self, account: &str) -> Result<Option<u64>, KvError> {
        let snapshot = self.kv.read()?;
        Ok(snapshot
            .get(&account_key(account))?
            .as_deref()
            .and_then(decode_ms))
    }

    /// Changes `account`'s entry and waits until that is durable.
    pub async fn change(&self, account: &str, change: Change) -> Result<Option<u64>, KvError> {
        let account = account.to_owned();
        crate::background::write(&self.kv, move |txn| {
            Ok((Outcome::Commit, apply(txn, &account, change)?))
        })
        .await
    }

    /// `change`, on a thread that may block (closing a tenant).
    pub fn change_blocking(&self, account: &str, change: Change) -> Result<Option<u64>, KvError> {
        let account = account.to_owned();
        write_blocking(&*self.kv, move |txn| {
            Ok((Outcome::Commit, apply(txn, &account, change)?))
        })
    }

    /// Up to `limit` entries due at `now_ms` or before, earliest first,
    /// starting after `after` (the last entry a previous call returned).
    pub fn due(
        &self,
        now_ms: u64,
        after: Option<&(u64, String)>,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, KvError> {
        let mut range = KeyRange::half_open(vec![BY_DUE], due_key(now_ms.saturating_add(1), ""));
        if let Some((ms, account)) = after {
            range.start = std::ops::Bound::Excluded(due_key(*ms, account));
        }
        let snapshot = self.kv.read()?;
        Ok(snapshot
            .scan(&range, false, limit)?
            .into_iter()
            .filter_map(|(k, _)| {
                let ms = decode_ms(k.get(1..9)?)?;
                let account = std::str::from_utf8(k.get(9..)?).ok()?.to_owned();
                Some((ms, account))
            })
            .collect())
    }

    /// The earliest entry's time, if any.
    #[cfg(test)]
    pub fn earliest(&self) -> Result<Option<u64>, KvError> {
        let snapshot = self.kv.read()?;
        let first = snapshot.scan(&KeyRange::prefix(&[BY_DUE]), false, 1)?;
        Ok(first.first().and_then(|(k, _)| decode_ms(k.get(1..9)?)))
    }

    /// How many tenants have an entry.
    pub fn len(&self) -> Result<usize, KvError> {
        let snapshot = self.kv.read()?;
        Ok(snapshot
            .scan(&KeyRange::prefix(&[BY_ACCOUNT]), false, usize::MAX)?
            .len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openddb_kv_memory::MemoryKv;

    #[tokio::test]
    async fn entries_are_set_lowered_removed_and_listed_by_due_time() {
        let index = DueIndex::new(Arc::new(MemoryKv::new()));
        assert_eq!(
            index.change("b", Change::Set(Some(50))).await.unwrap(),
            Some(50)
        );
        assert_eq!(
            index.change("a", Change::Lower(70)).await.unwrap(),
            Some(70)
        );
        // Lowering never raises.
        assert_eq!(
            index.change("a", Change::Lower(90)).await.unwrap(),
            Some(70)
        );
        assert_eq!(
            index.change("a", Change::Lower(20)).await.unwrap(),
            Some(20)
        );
        assert_eq!(
            index.change("c", Change::Set(Some(100))).await.unwrap(),
            Some(100)
        );
        assert_eq!(index.earliest().unwrap(), Some(20));
        let due = index.due(60, None, 10).unwrap();
        assert_eq!(due, [(20, "a".to_string()), (50, "b".to_string())]);
        let rest = index.due(60, Some(&due[0]), 10).unwrap();
        assert_eq!(rest, [(50, "b".to_string())]);
        // One entry per account, whatever its history.
        assert_eq!(index.len().unwrap(), 3);
        index.change_blocking("a", Change::Set(None)).unwrap();
        assert_eq!(index.get("a").unwrap(), None);
        assert_eq!(index.due(1000, None, 10).unwrap().len(), 2);
        assert_eq!(index.len().unwrap(), 2);
    }
}
