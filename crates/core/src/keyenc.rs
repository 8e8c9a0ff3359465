//! Order-preserving, self-delimiting byte encoding of key values (S, N, B),
//! so that comparing encodings with `memcmp` gives DynamoDB's key order,
//! also for concatenated composite keys; and DynamoDB's ordering of scalars.
//!
//! Layout, after a type tag byte:
//! - S and B: the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x00.
//! - N: a class byte (negative < zero < positive); for non-zero numbers the
//!   leading digit's exponent in one byte, then the significant digits as
//!   base-100 pairs from the leading digit (byte = pair + 1), then 0x00.
//!   Negative numbers complement exponent and pairs and end in 0xFF, so a
//!   larger magnitude sorts first.

use std::cmp::Ordering;

use crate::number::{Number, MAX_SIGNIFICANT_DIGITS, MIN_ADJUSTED_EXPONENT};
use crate::value::AttributeValue;

pub const TAG_B: u8 = b'B';
pub const TAG_N: u8 = b'N';
pub const TAG_S: u8 = b'S';

const NEGATIVE: u8 = 0x01;
const ZERO: u8 = 0x02;
const POSITIVE: u8 = 0x03;

/// A value a key can hold: only S, N or B. Built from an `AttributeValue`
/// by a conversion that refuses every other type, so the key encoder can
/// never be handed a BOOL or a map, whatever checks a caller forgot.
/// Borrowed: converting costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyValue<'a> {
    S(&'a str),
    N(&'a Number),
    B(&'a [u8]),
}

/// A value of a type no key can have; carries the type's descriptor
/// (`BOOL`, `M`, ...) for the caller's error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAKeyType(pub &'static str);

impl<'a> TryFrom<&'a AttributeValue> for KeyValue<'a> {
    type Error = NotAKeyType;

    fn try_from(v: &'a AttributeValue) -> Result<KeyValue<'a>, NotAKeyType> {
        match v {
            AttributeValue::S(s) => Ok(KeyValue::S(s)),
            AttributeValue::N(n) => Ok(KeyValue::N(n)),
            AttributeValue::B(b) => Ok(KeyValue::B(b)),
            other => Err(NotAKeyType(other.type_name())),
        }
    }
}

impl KeyValue<'_> {
    /// DynamoDB's type descriptor: `S`, `N` or `B`.
    pub fn type_name(&self) -> &'static str {
        match self {
            KeyValue::S(_) => "S",
            KeyValue::N(_) => "N",
            KeyValue::B(_) => "B",
        }
    }

    /// The value as an attribute value (a copy).
    pub fn to_attribute_value(&self) -> AttributeValue {
        match *self {
            KeyValue::S(s) => AttributeValue::S(s.to_string()),
            KeyValue::N(n) => AttributeValue::N(*n),
            KeyValue::B(b) => AttributeValue::B(b.to_vec()),
        }
    }
}

/// Appends the encoding of a key value.
pub fn encode_key_value(v: KeyValue<'_>, out: &mut Vec<u8>) {
    match v {
        KeyValue::S(s) => {
            out.push(TAG_S);
            encode_bytes(s.as_bytes(), out);
        }
        KeyValue::B(b) => {
            out.push(TAG_B);
            encode_bytes(b, out);
        }
        KeyValue::N(n) => {
            out.push(TAG_N);
            encode_number(n, out);
        }
    }
}

/// Appends the encoding of an S or B value without its terminator: the
/// common prefix of the encodings of every value that begins with `v`
/// (for `begins_with` key conditions). Numbers have no such prefix and
/// are encoded whole.
pub fn encode_key_prefix(v: KeyValue<'_>, out: &mut Vec<u8>) {
    let (tag, bytes) = match v {
        KeyValue::S(s) => (TAG_S, s.as_bytes()),
        KeyValue::B(b) => (TAG_B, b),
        KeyValue::N(_) => return encode_key_value(v, out),
    };
    out.push(tag);
    encode_bytes(bytes, out);
    // Drop the two-byte terminator encode_bytes just wrote.
    out.truncate(out.len().saturating_sub(2));
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.reserve(b.len() + 2);
    for &byte in b {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(ZERO);
        return;
    }
    let negative = n.is_negative();
    let exp = (n.adjusted_exponent() - MIN_ADJUSTED_EXPONENT) as u8;
    out.push(if negative { NEGATIVE } else { POSITIVE });
    out.push(if negative { !exp } else { exp });
    let text = n.coefficient().to_string();
    let digits = text.as_bytes();
    for pair in digits.chunks(2) {
        let hi = pair[0] - b'0';
        let lo = pair.get(1).map_or(0, |d| d - b'0');
        let byte = hi * 10 + lo + 1;
        out.push(if negative { !byte } else { byte });
    }
    out.push(if negative { 0xFF } else { 0x00 });
}

/// Decodes one key value from the front of `bytes`, returning it and the
/// number of bytes it used; `None` if the bytes are not a canonical encoding.
pub fn decode_key_value(bytes: &[u8]) -> Option<(AttributeValue, usize)> {
    let (&tag, rest) = bytes.split_first()?;
    match tag {
        TAG_S => {
            let (b, used) = decode_bytes(rest)?;
            Some((AttributeValue::S(String::from_utf8(b).ok()?), used + 1))
        }
        TAG_B => {
            let (b, used) = decode_bytes(rest)?;
            Some((AttributeValue::B(b), used + 1))
        }
        TAG_N => {
            let (n, used) = decode_number(rest)?;
            Some((AttributeValue::N(n), used + 1))
        }
        _ => None,
    }
}

fn decode_bytes(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let b = *bytes.get(i)?;
        if b != 0 {
            out.push(b);
            i += 1;
            continue;
        }
        match *bytes.get(i + 1)? {
            0xFF => out.push(0),
            0x00 => return Some((out, i + 2)),
            _ => return None,
        }
        i += 2;
    }
}

fn decode_number(bytes: &[u8]) -> Option<(Number, usize)> {
    let class = *bytes.first()?;
    if class == ZERO {
        return Some((Number::ZERO, 1));
    }
    let negative = match class {
        NEGATIVE => true,
        POSITIVE => false,
        _ => return None,
    };
    let flip = |b: u8| if negative { !b } else { b };
    let adjusted = flip(*bytes.get(1)?) as i32 + MIN_ADJUSTED_EXPONENT;
    let mut coefficient: u128 = 0;
    let mut digits = 0usize;
    let mut last_pair = None;
    let mut i = 2;
    loop {
        let b = flip(*bytes.get(i)?);
        i += 1;
        if b == 0 {
            break;
        }
        if b > 100 || digits >= MAX_SIGNIFICANT_DIGITS {
            return None;
        }
        let pair = b - 1;
        if digits == 0 && pair < 10 {
            // The leading digit is never zero.
            return None;
        }
        coefficient = coefficient * 100 + pair as u128;
        digits += 2;
        last_pair = Some(pair);
    }
    let last_pair = last_pair?;
    if last_pair == 0 {
        return None;
    }
    if last_pair / 10 * 10 == last_pair {
        // An odd digit count: the final pair was padded with a zero.
        coefficient /= 10;
        digits -= 1;
    }
    let exponent = adjusted - (digits as i32 - 1);
    let n = Number::from_parts(negative, coefficient, exponent).ok()?;
    // from_parts normalises; insist the bytes were already canonical.
    (n.coefficient() == coefficient).then_some((n, i))
}

/// DynamoDB's ordering of two scalars of the same key type: numbers by
/// value, strings by the unsigned bytes of their UTF-8, binaries by unsigned
/// bytes. `None` for differing types or non-scalar types.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.as_slice().cmp(b.as_slice())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::test_support::{arb_binary_key, arb_number, arb_string_key};

    fn key(v: &AttributeValue) -> KeyValue<'_> {
        KeyValue::try_from(v).expect("a key type")
    }

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key_value(key(v), &mut out);
        out
    }

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    fn arb_key() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            arb_string_key().prop_map(AttributeValue::S),
            arb_number().prop_map(AttributeValue::N),
            arb_binary_key().prop_map(AttributeValue::B),
        ]
    }

    fn check_round_trip(v: &AttributeValue) {
        let e = enc(v);
        let mut padded = e.clone();
        padded.extend_from_slice(b"\x42tail");
        assert_eq!(
            decode_key_value(&padded),
            Some((v.clone(), e.len())),
            "{v:?}"
        );
    }

    #[test]
    fn fixed_orders() {
        let numbers = [
            "-9.9999999999999999999999999999999999999E+125",
            "-1e10",
            "-100",
            "-99.5",
            "-10",
            "-1.05",
            "-1",
            "-0.5",
            "-1e-130",
            "0",
            "1e-130",
            "0.5",
            "1",
            "1.05",
            "1.5",
            "10",
            "99.5",
            "100",
            "1e10",
            "9.9999999999999999999999999999999999999E+125",
        ];
        for w in numbers.windows(2) {
            assert!(enc(&num(w[0])) < enc(&num(w[1])), "{} < {}", w[0], w[1]);
        }
        for s in numbers {
            check_round_trip(&num(s));
        }
        let strings = [
            "", "\0", "\0\0", "\0a", "a", "a\0", "a\0b", "a\x01", "ab", "b", "é",
        ];
        for w in strings.windows(2) {
            let (a, b) = (
                AttributeValue::S(w[0].into()),
                AttributeValue::S(w[1].into()),
            );
            assert!(enc(&a) < enc(&b), "{:?} < {:?}", w[0], w[1]);
            check_round_trip(&a);
        }
        check_round_trip(&AttributeValue::B(vec![0, 0xFF, 0, 0]));
        assert_eq!(
            compare_values(&num("1.0"), &num("1")),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_values(&num("1"), &AttributeValue::S("1".into())),
            None
        );
        assert_eq!(
            compare_values(
                &AttributeValue::S("Z".into()),
                &AttributeValue::S("a".into())
            ),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn only_scalars_convert_to_key_values() {
        let n = Number::parse("-1.5").unwrap();
        assert_eq!(
            KeyValue::try_from(&AttributeValue::N(n)),
            Ok(KeyValue::N(&n))
        );
        for (v, name) in [
            (AttributeValue::Bool(true), "BOOL"),
            (AttributeValue::Null, "NULL"),
            (AttributeValue::M(Default::default()), "M"),
            (AttributeValue::L(vec![AttributeValue::S("a".into())]), "L"),
            (AttributeValue::SS(vec!["a".into()]), "SS"),
            (AttributeValue::NS(vec![n]), "NS"),
            (AttributeValue::BS(vec![vec![1]]), "BS"),
        ] {
            assert_eq!(KeyValue::try_from(&v), Err(NotAKeyType(name)));
        }
        for v in [
            AttributeValue::S("é\0".into()),
            AttributeValue::N(n),
            AttributeValue::B(vec![0, 255]),
        ] {
            let k = key(&v);
            assert_eq!(k.type_name(), v.type_name());
            assert_eq!(k.to_attribute_value(), v);
        }
    }

    #[test]
    fn rejects_non_canonical() {
        assert_eq!(decode_key_value(&[]), None);
        assert_eq!(decode_key_value(b"X"), None);
        assert_eq!(decode_key_value(&[TAG_S, b'a', 0]), None);
        assert_eq!(decode_key_value(&[TAG_S, b'a', 0, 1]), None);
        assert_eq!(decode_key_value(&[TAG_S, 0xC3, 0, 0]), None);
        // Positive number, exponent 130 (i.e. 10^0), pairs "05" (leading zero).
        assert_eq!(decode_key_value(&[TAG_N, POSITIVE, 130, 6, 0]), None);
        // Trailing zero pair.
        assert_eq!(decode_key_value(&[TAG_N, POSITIVE, 130, 11, 1, 0]), None);
        // No pairs.
        assert_eq!(decode_key_value(&[TAG_N, POSITIVE, 130, 0]), None);
        // Pair byte out of range.
        assert_eq!(decode_key_value(&[TAG_N, POSITIVE, 130, 150, 0]), None);
        assert_eq!(decode_key_value(&[TAG_N, 9]), None);
    }

    proptest! {
        #[test]
        fn prefix_encoding_selects_exactly_the_values_that_begin_with_it(
            s in "[a\\x00\\u{e9}]{0,6}", t in "[a\\x00\\u{e9}]{0,6}"
        ) {
            let mut p = Vec::new();
            encode_key_prefix(KeyValue::S(&s), &mut p);
            let full = enc(&AttributeValue::S(t.clone()));
            prop_assert_eq!(full.starts_with(&p), t.starts_with(&s));
            let mut pb = Vec::new();
            encode_key_prefix(KeyValue::B(s.as_bytes()), &mut pb);
            let fb = enc(&AttributeValue::B(t.clone().into_bytes()));
            prop_assert_eq!(fb.starts_with(&pb), t.as_bytes().starts_with(s.as_bytes()));
        }

        #[test]
        fn order_matches_dynamodb(a in arb_key(), b in arb_key()) {
            if let Some(want) = compare_values(&a, &b) {
                prop_assert_eq!(enc(&a).cmp(&enc(&b)), want);
            }
        }

        #[test]
        fn same_type_order(a in arb_number(), b in arb_number(), s in arb_string_key(), t in arb_string_key()) {
            let (a, b) = (AttributeValue::N(a), AttributeValue::N(b));
            prop_assert_eq!(enc(&a).cmp(&enc(&b)), compare_values(&a, &b).unwrap());
            let (s, t) = (AttributeValue::S(s), AttributeValue::S(t));
            prop_assert_eq!(enc(&s).cmp(&enc(&t)), compare_values(&s, &t).unwrap());
        }

        #[test]
        fn composite_order(
            a1 in arb_string_key(), a2 in arb_number(),
            b1 in arb_string_key(), b2 in arb_number(),
        ) {
            let (a1, a2) = (AttributeValue::S(a1), AttributeValue::N(a2));
            let (b1, b2) = (AttributeValue::S(b1), AttributeValue::N(b2));
            let want = compare_values(&a1, &b1).unwrap().then(compare_values(&a2, &b2).unwrap());
            let mut ea = enc(&a1);
            encode_key_value(key(&a2), &mut ea);
            let mut eb = enc(&b1);
            encode_key_value(key(&b2), &mut eb);
            prop_assert_eq!(ea.cmp(&eb), want);
        }

        #[test]
        fn composite_binary_order(
            a1 in arb_binary_key(), a2 in arb_binary_key(),
            b1 in arb_binary_key(), b2 in arb_binary_key(),
        ) {
            let (a1, a2) = (AttributeValue::B(a1), AttributeValue::B(a2));
            let (b1, b2) = (AttributeValue::B(b1), AttributeValue::B(b2));
            let want = compare_values(&a1, &b1).unwrap().then(compare_values(&a2, &b2).unwrap());
            let mut ea = enc(&a1);
            encode_key_value(key(&a2), &mut ea);
            let mut eb = enc(&b1);
            encode_key_value(key(&b2), &mut eb);
            prop_assert_eq!(ea.cmp(&eb), want);
        }

        #[test]
        fn round_trip(v in arb_key()) {
            check_round_trip(&v);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some((v, used)) = decode_key_value(&bytes) {
                // Whatever decodes re-encodes to the same bytes.
                prop_assert_eq!(&enc(&v)[..], &bytes[..used]);
            }
        }
    }
}
