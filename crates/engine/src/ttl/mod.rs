//! Time to Live: when an item expires, the index that finds expired items
//! without scanning tables (kept by the write path, backfilled when TTL is
//! enabled on a table that has items), and the per-tenant sweeper that
//! deletes them. See docs/adr/0005-time-to-live.md.

pub mod index;
pub mod sweeper;
#[cfg(test)]
mod tests;

use std::time::{SystemTime, UNIX_EPOCH};

use openddb_core::{AttributeValue, Item, Number};

/// DynamoDB never deletes an item whose expiry is more than five years in
/// the past (a guard against an attribute that was never meant as epoch
/// seconds).
pub const MAX_AGE_SECS: u64 = 5 * 365 * 24 * 3600;

/// Now, in whole epoch seconds.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The expiry an item's TTL attribute holds, in whole epoch seconds
/// (rounded down), or `None` when DynamoDB ignores the item: no such
/// attribute, not a Number (sets, strings and the rest are ignored), or a
/// negative one.
pub fn expiry_of(item: &Item, attribute: &str) -> Option<u64> {
    match item.get(attribute)? {
        AttributeValue::N(n) => whole_seconds(n),
        _ => None,
    }
}

/// A non-negative number rounded down to an integer, if it fits in 64 bits.
fn whole_seconds(n: &Number) -> Option<u64> {
    if n.is_negative() {
        return None;
    }
    let exponent = n.exponent();
    if exponent >= 0 {
        let scale = 10u128.checked_pow(exponent.unsigned_abs())?;
        u64::try_from(n.coefficient().checked_mul(scale)?).ok()
    } else {
        // More than 38 fractional digits leave nothing of the coefficient.
        let scale = 10u128
            .checked_pow(exponent.unsigned_abs())
            .unwrap_or(u128::MAX);
        u64::try_from(n.coefficient() / scale).ok()
    }
}

/// Whether an item expiring at `expiry` is due for deletion at `now`: its
/// time has passed (a whole second ago, so a fractional expiry is never
/// early), and not more than five years ago.
pub fn due(expiry: u64, now: u64) -> bool {
    expiry < now && expiry >= now.saturating_sub(MAX_AGE_SECS)
}

/// When (epoch ms) an item expiring at `expiry` becomes due for deletion:
/// the first whole second after it (`due`). `None` for an expiry more than
/// five years past, never due.
pub fn due_ms(expiry: u64) -> Option<u64> {
    if expiry < now_secs().saturating_sub(MAX_AGE_SECS) {
        return None;
    }
    Some(expiry.saturating_add(1).saturating_mul(1000))
}

#[cfg(test)]
mod expiry_tests {
    use super::*;

    fn with(v: AttributeValue) -> Item {
        Item::from([("exp".to_string(), v)])
    }

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn only_non_negative_numbers_are_expiries() {
        assert_eq!(
            expiry_of(&with(num("1700000000")), "exp"),
            Some(1_700_000_000)
        );
        assert_eq!(
            expiry_of(&with(num("1700000000.9")), "exp"),
            Some(1_700_000_000)
        );
        assert_eq!(expiry_of(&with(num("1.7E9")), "exp"), Some(1_700_000_000));
        assert_eq!(expiry_of(&with(num("0.5")), "exp"), Some(0));
        assert_eq!(expiry_of(&with(num("1E-130")), "exp"), Some(0));
        assert_eq!(expiry_of(&with(num("0")), "exp"), Some(0));
        assert_eq!(expiry_of(&with(num("-5")), "exp"), None);
        // Beyond 64 bits: never due anyway.
        assert_eq!(expiry_of(&with(num("1E30")), "exp"), None);
        assert_eq!(
            expiry_of(&with(AttributeValue::S("1700000000".into())), "exp"),
            None
        );
        assert_eq!(
            expiry_of(
                &with(AttributeValue::NS(vec![Number::parse("1").unwrap()])),
                "exp"
            ),
            None
        );
        assert_eq!(expiry_of(&with(num("1")), "other"), None);
    }

    #[test]
    fn due_times_agree_with_due() {
        let now = now_secs();
        let at = due_ms(now).expect("due");
        assert_eq!(at, (now + 1) * 1000);
        assert!(!due(now, at / 1000 - 1));
        assert!(due(now, at / 1000));
        assert_eq!(due_ms(now - MAX_AGE_SECS - 10), None);
        assert_eq!(due_ms(u64::MAX), Some(u64::MAX));
    }

    #[test]
    fn due_after_the_second_passes_and_within_five_years() {
        let now = 2_000_000_000;
        assert!(!due(now, now));
        assert!(!due(now + 10, now));
        assert!(due(now - 1, now));
        assert!(due(now - MAX_AGE_SECS, now));
        assert!(!due(now - MAX_AGE_SECS - 1, now));
        assert!(due(0, MAX_AGE_SECS));
    }
}
