//! Property tests of `Number` against an arbitrary-precision reference
//! (num-bigint): ordering, exact addition and subtraction with DynamoDB's
//! limits, canonical text round trips, and conversions.

use std::cmp::Ordering;

use num_bigint::BigInt;
use openddb_core::number::NumberError;
use openddb_core::Number;
use proptest::prelude::*;

/// The exact value as `integer × 10^exponent`.
fn reference(n: &Number) -> (BigInt, i64) {
    let c = BigInt::from(n.coefficient());
    (if n.is_negative() { -c } else { c }, n.exponent() as i64)
}

fn pow10(k: i64) -> BigInt {
    BigInt::from(10u8).pow(k as u32)
}

/// Both values scaled to a common exponent.
fn aligned(a: (BigInt, i64), b: (BigInt, i64)) -> (BigInt, BigInt, i64) {
    let m = a.1.min(b.1);
    (a.0 * pow10(a.1 - m), b.0 * pow10(b.1 - m), m)
}

/// What DynamoDB makes of the exact value `v × 10^e` as a stored number.
fn expected(v: BigInt, mut e: i64) -> Result<String, NumberError> {
    if v == BigInt::from(0) {
        return Ok("0".into());
    }
    let ten = BigInt::from(10);
    let mut v = v;
    while &v % &ten == BigInt::from(0) {
        v /= &ten;
        e += 1;
    }
    let digits = v.magnitude().to_string().len() as i64;
    let adjusted = e + digits - 1;
    if adjusted > 125 {
        return Err(NumberError::Overflow);
    }
    if adjusted < -130 {
        return Err(NumberError::Underflow);
    }
    if digits > 38 {
        return Err(NumberError::Overflow);
    }
    Ok(Number::parse(&format!("{v}e{e}")).unwrap().to_string())
}

/// Reads plain decimal text back into the reference form.
fn reference_of_text(s: &str) -> (BigInt, i64) {
    assert!(!s.contains(['e', 'E', '+']), "not plain notation: {s}");
    match s.split_once('.') {
        Some((int, frac)) => {
            assert!(
                !frac.is_empty() && !frac.ends_with('0'),
                "trailing zeros: {s}"
            );
            (
                format!("{int}{frac}").parse().unwrap(),
                -(frac.len() as i64),
            )
        }
        None => (s.parse().unwrap(), 0),
    }
}

fn arb_number() -> impl Strategy<Value = Number> {
    let wide = (
        any::<bool>(),
        proptest::collection::vec(0u8..10, 1..=38),
        -170i32..=130,
    );
    let near = (
        any::<bool>(),
        proptest::collection::vec(0u8..10, 1..=38),
        -3i32..=3,
    );
    let small = (
        any::<bool>(),
        proptest::collection::vec(0u8..3, 1..=3),
        -2i32..=2,
    );
    prop_oneof![wide, near, small].prop_filter_map("out of range", |(neg, digits, exp)| {
        let mut text = String::from(if neg { "-" } else { "+" });
        text.extend(digits.iter().map(|d| char::from(b'0' + d)));
        text.push_str(&format!("E{exp}"));
        Number::parse(&text).ok()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn order_matches_reference(a in arb_number(), b in arb_number()) {
        let (x, y, _) = aligned(reference(&a), reference(&b));
        prop_assert_eq!(a.cmp(&b), x.cmp(&y));
        prop_assert_eq!(a == b, x == y);
    }

    #[test]
    fn addition_is_exact(a in arb_number(), b in arb_number()) {
        let (x, y, m) = aligned(reference(&a), reference(&b));
        let sum = a.checked_add(&b).map(|n| n.to_string());
        prop_assert_eq!(sum, expected(x.clone() + y.clone(), m));
        let diff = a.checked_sub(&b).map(|n| n.to_string());
        prop_assert_eq!(diff, expected(x - y, m));
    }

    #[test]
    fn text_round_trip(a in arb_number()) {
        let text = a.to_string();
        prop_assert_eq!(Number::parse(&text), Ok(a));
        let (v, e) = reference_of_text(&text);
        let (x, y, _) = aligned((v, e), reference(&a));
        prop_assert_eq!(x, y);
        let body = text.strip_prefix('-').unwrap_or(&text);
        prop_assert!(!body.starts_with('0') || body == "0" || body.starts_with("0."));
        prop_assert_eq!(a.is_zero(), text == "0");
    }

    #[test]
    fn conversions(a in arb_number(), i in any::<i64>()) {
        prop_assert_eq!(a.to_f64(), a.to_string().parse::<f64>().unwrap());
        let n = Number::from_i64(i);
        prop_assert_eq!(n.as_i64(), Some(i));
        prop_assert_eq!(n.to_string(), i.to_string());
        let (v, e) = reference(&a);
        let exact = if e >= 0 { i64::try_from(v * pow10(e)).ok() } else { None };
        prop_assert_eq!(a.as_i64(), exact);
    }

    #[test]
    fn parse_accepts_any_spelling(a in arb_number(), zeros in 0usize..4, k in 0i64..4) {
        // The same value with leading zeros, trailing zeros and moved exponents.
        let (v, e) = reference(&a);
        let digits = v.magnitude().to_string();
        let sign = if v < BigInt::from(0) { "-" } else { "" };
        let spellings = [
            format!("{sign}{}{digits}.0e{e}", "0".repeat(zeros)),
            format!("{sign}{digits}{}E{}", "0".repeat(k as usize), e - k),
            format!("{sign}0.{digits}e{}", e + digits.len() as i64),
            format!("{sign}.{digits}e{:+}", e + digits.len() as i64),
        ];
        for text in spellings {
            prop_assert_eq!(Number::parse(&text), Ok(a), "{}", text);
        }
    }
}

#[test]
fn zero_compares_equal_to_negative_zero() {
    assert_eq!(
        Number::parse("-0.00").unwrap().cmp(&Number::ZERO),
        Ordering::Equal
    );
}
