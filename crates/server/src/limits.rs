//! Resource bounds: how many connections, requests in flight (per server and
//! per account) and bytes of request bodies the server holds at once, and
//! the slots and reservations that hold them. Every slot is released when
//! dropped, so a request that ends in any way — answered, failed, its
//! handler panicking — gives back what it held.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

/// Bounds on what the server holds at once, and how long it waits for slow
/// clients. Past a bound a request is refused at once with DynamoDB's
/// throttling answer (`RequestLimitExceeded`), never queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open connections. A connection past this gets one
    /// `RequestLimitExceeded` answer to its first request and is closed.
    pub max_connections: usize,
    /// Requests being served at once, over all accounts.
    pub max_in_flight: usize,
    /// Requests being served at once for one account (tenant).
    pub max_in_flight_per_account: usize,
    /// Bytes of request bodies held in memory at once, over all requests; a
    /// body counts as it arrives (what its buffer holds) until its answer is
    /// built (a 16 MiB body takes 16 MiB of it, an inflated gzip body its
    /// inflated size too).
    pub body_budget: usize,
    /// How long a connection may take to send a complete request head,
    /// counted from when the server starts waiting for it: this closes
    /// trickled headers and keep-alive connections left idle alike.
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive, from its head.
    pub body_read_timeout: Duration,
    /// How long an answer may sit unsent because the client is not reading
    /// it before the connection is closed.
    pub write_stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_in_flight: 512,
            max_in_flight_per_account: 256,
            body_budget: 256 * 1024 * 1024,
            // Longer than the idle timeout of SDK connection pools (90 s in
            // the Rust SDK), so a pooled connection is not closed under a
            // client just as it reuses it.
            header_read_timeout: Duration::from_secs(120),
            body_read_timeout: Duration::from_secs(60),
            write_stall_timeout: Duration::from_secs(60),
        }
    }
}

/// Connections refused with an answer at the same time, past
/// `max_connections`. Each holds a socket until its first request arrives
/// (or a short timeout), so they are bounded too; past this, a connection
/// over the limit is closed as soon as it is accepted.
const MAX_REFUSING: usize = 64;

/// The live counters behind [`Limits`].
pub(crate) struct Admission {
    pub(crate) limits: Limits,
    connections: Arc<AtomicUsize>,
    refusing: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    accounts: Arc<Accounts>,
    body: Arc<AtomicUsize>,
}

/// What to do with a newly accepted connection.
pub(crate) enum Accepted {
    Serve(Slot),
    /// Over the connection limit: answer one request with throttling.
    Refuse(Slot),
    /// Over the limit and too many refusals under way already.
    Close,
}

impl Admission {
    pub(crate) fn new(limits: Limits) -> Admission {
        Admission {
            limits,
            connections: Arc::default(),
            refusing: Arc::default(),
            in_flight: Arc::default(),
            accounts: Arc::new(Accounts::new()),
            body: Arc::default(),
        }
    }

    pub(crate) fn connection(&self) -> Accepted {
        if let Some(slot) = Slot::take(&self.connections, self.limits.max_connections) {
            Accepted::Serve(slot)
        } else if let Some(slot) = Slot::take(&self.refusing, MAX_REFUSING) {
            Accepted::Refuse(slot)
        } else {
            Accepted::Close
        }
    }

    /// A slot among the server's requests in flight.
    pub(crate) fn request(&self) -> Option<Slot> {
        Slot::take(&self.in_flight, self.limits.max_in_flight)
    }

    /// Whether a slot among the server's requests in flight is free now. A
    /// request is refused before its body is read when none is, but takes
    /// one only once its body has arrived: a body on its way (as slowly as
    /// its sender likes, up to the body read timeout) must not hold a slot
    /// the requests ready to run need.
    pub(crate) fn request_free(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) < self.limits.max_in_flight
    }

    /// A slot among `account`'s requests in flight.
    pub(crate) fn account(&self, account: &str) -> Option<AccountSlot> {
        self.accounts
            .take(account, self.limits.max_in_flight_per_account)
    }

    /// Whether a slot among `account`'s requests in flight is free now (see
    /// [`Admission::request_free`]).
    pub(crate) fn account_free(&self, account: &str) -> bool {
        self.accounts.count(account) < self.limits.max_in_flight_per_account
    }

    /// `bytes` of the body budget, if that much is free.
    pub(crate) fn body(&self, bytes: usize) -> Option<Reservation> {
        let mut reservation = Reservation {
            used: self.body.clone(),
            capacity: self.limits.body_budget,
            bytes: 0,
        };
        reservation.grow(bytes).then_some(reservation)
    }
}

/// One unit of a counted resource, given back on drop.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(counter: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(counter.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Bytes of the body budget held by one request; grows as its body does.
pub(crate) struct Reservation {
    used: Arc<AtomicUsize>,
    capacity: usize,
    bytes: usize,
}

impl Reservation {
    /// Takes `more` bytes, or nothing (and says so) if they are not free.
    pub(crate) fn grow(&mut self, more: usize) -> bool {
        let capacity = self.capacity;
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|&total| total <= capacity)
            })
            .is_ok();
        if taken {
            self.bytes += more;
        }
        taken
    }

    /// Holds `bytes` in all, taking what is missing; false (and nothing
    /// taken) if that much is not free.
    pub(crate) fn grow_to(&mut self, bytes: usize) -> bool {
        bytes <= self.bytes || self.grow(bytes - self.bytes)
    }

    /// Holds as much as is free up to `most` bytes in all, but at least
    /// `least` (`most` when it is smaller); what it holds then, or `None`
    /// (and nothing taken) if `least` is not free.
    pub(crate) fn grow_within(&mut self, least: usize, most: usize) -> Option<usize> {
        let least = least.min(most);
        if most <= self.bytes {
            return Some(self.bytes);
        }
        let (held, capacity) = (self.bytes, self.capacity);
        let mut taken = 0;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                let free = capacity.saturating_sub(used);
                taken = (most - held).min(free);
                (held + taken >= least).then_some(used + taken)
            })
            .ok()?;
        self.bytes += taken;
        Some(self.bytes)
    }

    /// Gives back what is held beyond `bytes`.
    pub(crate) fn shrink_to(&mut self, bytes: usize) {
        if bytes < self.bytes {
            self.used.fetch_sub(self.bytes - bytes, Ordering::AcqRel);
            self.bytes = bytes;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// Requests in flight per account. Sharded so that accounts rarely share a
/// lock, and an account's entry goes when its last request does, so idle
/// accounts cost nothing.
struct Accounts {
    hasher: RandomState,
    shards: [Mutex<HashMap<String, usize>>; 16],
}

impl Accounts {
    fn new() -> Accounts {
        Accounts {
            hasher: RandomState::new(),
            shards: Default::default(),
        }
    }

    fn shard(&self, account: &str) -> usize {
        (self.hasher.hash_one(account) % self.shards.len() as u64) as usize
    }

    fn count(&self, account: &str) -> usize {
        let counts = self.shards[self.shard(account)].lock();
        counts.get(account).copied().unwrap_or(0)
    }

    fn take(self: &Arc<Self>, account: &str, max: usize) -> Option<AccountSlot> {
        let shard = self.shard(account);
        let mut counts = self.shards[shard].lock();
        let count = counts.get(account).copied().unwrap_or(0);
        if count >= max {
            return None;
        }
        counts.insert(account.to_owned(), count + 1);
        Some(AccountSlot {
            accounts: self.clone(),
            shard,
            account: account.to_owned(),
        })
    }
}

/// One of an account's requests in flight, given back on drop.
pub(crate) struct AccountSlot {
    accounts: Arc<Accounts>,
    shard: usize,
    account: String,
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let mut counts = self.accounts.shards[self.shard].lock();
        if let Some(count) = counts.get_mut(&self.account) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(limits: Limits) -> Admission {
        Admission::new(limits)
    }

    #[test]
    fn accounts_are_limited_apart() {
        let a = admission(Limits {
            max_in_flight_per_account: 2,
            ..Limits::default()
        });
        let one = a.account("111111111111").expect("first");
        let two = a.account("111111111111").expect("second, at the limit");
        assert!(a.account("111111111111").is_none(), "past the limit");
        // Another account is not held up by the first one's requests.
        let other = a.account("222222222222").expect("another account");
        drop(one);
        let three = a.account("111111111111").expect("a slot came back");
        drop((two, three, other));
        // Nothing is left behind for accounts with nothing in flight.
        assert!(a.accounts.shards.iter().all(|s| s.lock().is_empty()));
    }

    #[test]
    fn server_slots_and_connections() {
        let a = admission(Limits {
            max_in_flight: 1,
            max_connections: 1,
            ..Limits::default()
        });
        let request = a.request().expect("at the limit");
        assert!(a.request().is_none());
        drop(request);
        assert!(a.request().is_some());

        let served = a.connection();
        assert!(matches!(served, Accepted::Serve(_)));
        let refused: Vec<_> = (0..MAX_REFUSING).map(|_| a.connection()).collect();
        assert!(refused.iter().all(|c| matches!(c, Accepted::Refuse(_))));
        assert!(matches!(a.connection(), Accepted::Close));
        drop(refused);
        assert!(matches!(a.connection(), Accepted::Refuse(_)));
        drop(served);
        assert!(matches!(a.connection(), Accepted::Serve(_)));
    }

    #[test]
    fn body_budget() {
        let a = admission(Limits {
            body_budget: 100,
            ..Limits::default()
        });
        let mut first = a.body(60).expect("fits");
        assert!(a.body(41).is_none(), "60 + 41 > 100");
        let second = a.body(40).expect("exactly fills the budget");
        assert!(!first.grow(1), "nothing left");
        first.shrink_to(10);
        assert!(first.grow(50));
        drop(second);
        drop(first);
        assert!(a.body(100).is_some(), "everything came back");
        assert!(a.body(101).is_none(), "never more than the budget");
        assert!(a.body(usize::MAX).is_none(), "no overflow");
    }

    #[test]
    fn growing_within_bounds() {
        let a = admission(Limits {
            body_budget: 100,
            ..Limits::default()
        });
        let mut r = a.body(10).expect("fits");
        assert!(r.grow_to(30), "to 30 in all");
        assert!(r.grow_to(20), "already held");
        assert_eq!(r.grow_within(40, 60), Some(60), "all it asked for");
        let other = a.body(30).expect("30 of the 40 left");
        assert_eq!(r.grow_within(65, 90), Some(70), "what is free");
        assert_eq!(r.grow_within(71, 90), None, "not even the least");
        assert_eq!(r.grow_within(10, 20), Some(70), "holds more already");
        drop(other);
        assert_eq!(r.grow_within(0, usize::MAX), Some(100), "the whole budget");
        assert!(!r.grow_to(101));
        drop(r);
        assert!(a.body(100).is_some(), "everything came back");
    }
}
