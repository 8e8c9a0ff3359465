//! DynamoDB's item size, to the byte: what the 400 KB limit and consumed
//! capacity are measured in.
//!
//! Strings and names count their UTF-8 bytes, binaries their raw bytes,
//! BOOL and NULL one byte, sets the sum of their members. A list or map
//! costs 3 bytes plus 1 per element on top of its elements (and a map's
//! element names). A number costs 1 byte, plus 1 per base-100 digit pair of
//! its significant digits with pairs aligned on the decimal point (so `15`
//! is one pair, `1.5` two), plus 1 if negative; zero costs 1.

use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// The largest item DynamoDB stores: 409,600 bytes is accepted, one more is not.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// Bytes DynamoDB counts for a number.
pub fn number_size(n: &Number) -> usize {
    if n.is_zero() {
        return 1;
    }
    // Digits run from 10^adjusted down to 10^exponent; pair k holds the
    // digits for 10^(2k+1) and 10^(2k).
    let top = n.adjusted_exponent().div_euclid(2);
    let bottom = n.exponent().div_euclid(2);
    let pairs = (top - bottom + 1) as usize;
    1 + pairs + n.is_negative() as usize
}

/// Bytes DynamoDB counts for a value, without its attribute name. Lists
/// and maps are walked with a heap stack, so a value of any depth is sized
/// without recursion.
pub fn value_size(v: &AttributeValue) -> usize {
    let mut total = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        total += match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number_size(n),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(m) => {
                todo.extend(m.values());
                3 + m.keys().map(|k| 1 + k.len()).sum::<usize>()
            }
            AttributeValue::L(l) => {
                todo.extend(l);
                3 + l.len()
            }
            AttributeValue::SS(ss) => ss.iter().map(String::len).sum(),
            AttributeValue::NS(ns) => ns.iter().map(number_size).sum(),
            AttributeValue::BS(bs) => bs.iter().map(Vec::len).sum(),
        };
    }
    total
}

/// Bytes DynamoDB counts for an item: every attribute name plus its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    /// Literals measured against DynamoDB at the 400 KB gate, from the
    /// public conformance suite's capture (paritysuite/dynamodb-conformance,
    /// src/item-size.ts, eu-west-2, 2026-08-18).
    #[test]
    fn measured_number_sizes() {
        let cases = [
            ("0", 1),
            ("1", 2),
            ("12", 2),
            ("123", 3),
            ("1234", 3),
            ("12345678901234567890123456789012345678", 20),
            ("0042", 2),
            ("100", 2),
            ("1010", 3),
            ("0.0000001", 2),
            ("1E125", 2),
            ("1E-100", 2),
            ("1.5", 3),
            ("15", 2),
            ("1.2", 3),
            ("1.200", 3),
            ("1.234", 4),
            ("3.14159", 5),
            ("123456", 4),
            ("100.5", 4),
            ("0.15", 2),
            ("-42", 3),
            ("-0", 1),
        ];
        for (literal, bytes) in cases {
            assert_eq!(number_size(&n(literal)), bytes, "{literal}");
        }
    }

    #[test]
    fn pair_alignment() {
        // Unmeasured, but what the base-100 model predicts.
        assert_eq!(number_size(&n("12000")), 3);
        assert_eq!(number_size(&n("0.015")), 3);
        assert_eq!(number_size(&n("-1e-130")), 3);
    }

    #[test]
    fn documents_and_sets() {
        let mut m = Item::new();
        m.insert("ab".into(), AttributeValue::S("xyz".into()));
        m.insert("c".into(), AttributeValue::Null);
        // 3 + (1 + 2 + 3) + (1 + 1 + 1)
        assert_eq!(value_size(&AttributeValue::M(m)), 12);
        assert_eq!(value_size(&AttributeValue::M(Item::new())), 3);
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        // 3 + (1 + 1) + (1 + 2)
        assert_eq!(
            value_size(&AttributeValue::L(vec![
                AttributeValue::Bool(true),
                AttributeValue::N(n("1"))
            ])),
            8
        );
        assert_eq!(
            value_size(&AttributeValue::SS(vec!["ab".into(), "£".into()])),
            4
        );
        assert_eq!(
            value_size(&AttributeValue::NS(vec![n("1"), n("-1.5")])),
            2 + 4
        );
        assert_eq!(
            value_size(&AttributeValue::BS(vec![vec![1; 17], vec![]])),
            17
        );
    }

    #[test]
    fn items() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("k".into()));
        assert_eq!(item_size(&item), 3);
        item.insert("n".into(), AttributeValue::N(n("42")));
        assert_eq!(item_size(&item), 3 + 1 + 2);
        let mut item = Item::new();
        item.insert("£".into(), AttributeValue::S(String::new()));
        assert_eq!(item_size(&item), 2);
        // The AWS guide's example sizes: a string "is (length of name) + UTF-8 bytes".
        let mut item = Item::new();
        item.insert("Id".into(), AttributeValue::N(n("101")));
        item.insert("Title".into(), AttributeValue::S("Book 101 Title".into()));
        assert_eq!(item_size(&item), 2 + 3 + 5 + 14);
        assert_eq!(MAX_ITEM_SIZE, 409_600);
    }
}
