//! The writes in flight in one tenant, by item: what DynamoDB's transaction
//! conflicts are made of.
//!
//! A request holds its items from the moment it is accepted (validated,
//! about to be queued for the writer) until it is answered. DynamoDB
//! refuses, while a TransactWriteItems holds an item:
//!
//! - a PutItem, UpdateItem or DeleteItem of it (`TransactionConflictException`);
//! - another TransactWriteItems including it (cancelled, `TransactionConflict`);
//!
//! and a TransactGetItems of an item any write holds is cancelled. A
//! transaction does not conflict with a plain write already in flight: the
//! two are serialised by the writer. Requests that do not overlap in time
//! never conflict, and nothing here can lose an update (the store
//! serialises every write); it only decides who is refused.
//!
//! The registry is per process. Servers sharing one database see each
//! other's transactions through the store instead (`Txn::lock`,
//! `KvError::Conflict`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

#[derive(Debug, Default, Clone, Copy)]
struct Holders {
    transactions: u32,
    writes: u32,
}

/// Who holds which item, and which client request tokens are running.
#[derive(Default)]
pub struct InFlight {
    items: Mutex<HashMap<Vec<u8>, Holders>>,
    tokens: Mutex<HashSet<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transaction,
    Write,
}

/// Items held by one request; released when dropped (the request was
/// answered, or abandoned).
#[must_use = "the items are released when the claim is dropped"]
pub struct Claim {
    owner: Arc<InFlight>,
    kind: Kind,
    keys: Vec<Vec<u8>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut items = self.owner.items.lock();
        for key in &self.keys {
            if let Some(h) = items.get_mut(key) {
                match self.kind {
                    Kind::Transaction => h.transactions -= 1,
                    Kind::Write => h.writes -= 1,
                }
                if h.transactions == 0 && h.writes == 0 {
                    items.remove(key);
                }
            }
        }
    }
}

/// A running client request token; released when dropped.
pub struct TokenClaim {
    owner: Arc<InFlight>,
    token: String,
}

impl Drop for TokenClaim {
    fn drop(&mut self) {
        self.owner.tokens.lock().remove(&self.token);
    }
}

impl InFlight {
    pub fn new() -> Arc<InFlight> {
        Arc::new(InFlight::default())
    }

    /// Holds `key` for a plain write, unless a transaction holds it.
    pub fn write(self: &Arc<Self>, key: &[u8]) -> Option<Claim> {
        let mut items = self.items.lock();
        let h = items.entry(key.to_vec()).or_default();
        if h.transactions > 0 {
            return None;
        }
        h.writes += 1;
        Some(Claim {
            owner: self.clone(),
            kind: Kind::Write,
            keys: vec![key.to_vec()],
        })
    }

    /// Holds, as plain writes, each of `keys` no transaction holds; the
    /// others are returned refused (`true` at their positions).
    pub fn writes(self: &Arc<Self>, keys: &[Vec<u8>]) -> (Claim, Vec<bool>) {
        let mut items = self.items.lock();
        let mut held = Vec::with_capacity(keys.len());
        let mut refused = Vec::with_capacity(keys.len());
        for key in keys {
            let h = items.entry(key.clone()).or_default();
            if h.transactions > 0 {
                refused.push(true);
            } else {
                h.writes += 1;
                held.push(key.clone());
                refused.push(false);
            }
        }
        (
            Claim {
                owner: self.clone(),
                kind: Kind::Write,
                keys: held,
            },
            refused,
        )
    }

    /// Holds every one of `keys` for a transaction, or none of them when
    /// another transaction holds any: then the positions held by others
    /// are `true`.
    pub fn transaction(self: &Arc<Self>, keys: &[Vec<u8>]) -> Result<Claim, Vec<bool>> {
        let mut items = self.items.lock();
        let taken: Vec<bool> = keys
            .iter()
            .map(|k| items.get(k).is_some_and(|h| h.transactions > 0))
            .collect();
        if taken.iter().any(|t| *t) {
            return Err(taken);
        }
        for key in keys {
            items.entry(key.clone()).or_default().transactions += 1;
        }
        Ok(Claim {
            owner: self.clone(),
            kind: Kind::Transaction,
            keys: keys.to_vec(),
        })
    }

    /// Which of `keys` some write (plain or transactional) holds now.
    pub fn busy(&self, keys: &[Vec<u8>]) -> Vec<bool> {
        let items = self.items.lock();
        keys.iter().map(|k| items.contains_key(k)).collect()
    }

    /// Marks a client request token as running; `None` when it already is.
    pub fn token(self: &Arc<Self>, token: &str) -> Option<TokenClaim> {
        if !self.tokens.lock().insert(token.to_string()) {
            return None;
        }
        Some(TokenClaim {
            owner: self.clone(),
            token: token.to_string(),
        })
    }

    /// How many items are held.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.items.lock().len()
    }
}

/// The fault-injection setting: the share of transactions (TransactWriteItems
/// and TransactGetItems) cancelled as if they had met a conflict, so that
/// retry paths can be tested on demand. The choice is deterministic: of any
/// `n` consecutive transactions, `floor(n × share)` or one more conflict.
#[derive(Debug, Default)]
pub struct ConflictFaults {
    /// Parts per million of transactions to cancel.
    per_million: u64,
    seen: AtomicU64,
}

impl ConflictFaults {
    /// `share` is clamped to 0..=1.
    pub fn new(share: f64) -> ConflictFaults {
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ConflictFaults {
            per_million: (share * 1_000_000.0).round() as u64,
            seen: AtomicU64::new(0),
        }
    }

    /// Whether the next transaction should be cancelled.
    pub fn strike(&self) -> bool {
        if self.per_million == 0 {
            return false;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        let before = n * self.per_million / 1_000_000;
        let after = (n + 1) * self.per_million / 1_000_000;
        after > before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn a_transaction_refuses_plain_writes_and_other_transactions() {
        let f = InFlight::new();
        let tx = f.transaction(&[k("a"), k("b")]).unwrap();
        assert!(f.write(b"a").is_none());
        assert!(f.write(b"c").is_some());
        assert_eq!(
            f.transaction(&[k("c"), k("b")]).err(),
            Some(vec![false, true])
        );
        let (claim, refused) = f.writes(&[k("a"), k("d")]);
        assert_eq!(refused, vec![true, false]);
        assert_eq!(f.busy(&[k("a"), k("d"), k("e")]), vec![true, true, false]);
        drop(claim);
        drop(tx);
        assert_eq!(f.held(), 0);
        assert!(f.write(b"a").is_some());
    }

    #[test]
    fn plain_writes_never_refuse_each_other_nor_a_transaction() {
        let f = InFlight::new();
        let w1 = f.write(b"a").unwrap();
        let w2 = f.write(b"a").unwrap();
        let tx = f.transaction(&[k("a")]).unwrap();
        assert!(f.write(b"a").is_none());
        drop((w1, w2, tx));
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn a_refused_transaction_holds_nothing() {
        let f = InFlight::new();
        let tx = f.transaction(&[k("b")]).unwrap();
        assert!(f.transaction(&[k("a"), k("b")]).is_err());
        drop(tx);
        assert_eq!(f.held(), 0);
    }

    #[test]
    fn tokens_run_once_at_a_time() {
        let f = InFlight::new();
        let t = f.token("x").unwrap();
        assert!(f.token("x").is_none());
        drop(t);
        assert!(f.token("x").is_some());
    }

    #[test]
    fn faults_strike_the_chosen_share() {
        let quarter = ConflictFaults::new(0.25);
        let hits = (0..1000).filter(|_| quarter.strike()).count();
        assert_eq!(hits, 250);
        let none = ConflictFaults::new(0.0);
        assert!(!(0..100).any(|_| none.strike()));
        let all = ConflictFaults::new(7.0);
        assert!((0..100).all(|_| all.strike()));
        assert!(!ConflictFaults::new(f64::NAN).strike());
    }
}
