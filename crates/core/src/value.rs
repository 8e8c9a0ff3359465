//! DynamoDB attribute values and items.
//!
//! The wire form (`{"S": "x"}`, base64 binaries, numbers as strings) is
//! implemented in `value/wire.rs`; the compact storage form in `value/codec.rs`.

use std::collections::BTreeMap;

use crate::number::Number;

/// An item: attribute name → value. Ordered so output is deterministic.
pub type Item = BTreeMap<String, AttributeValue>;

/// One DynamoDB attribute value. Sets keep the order they were written in
/// and never hold duplicates or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttributeValue>),
    SS(Vec<String>),
    NS(Vec<Number>),
    BS(Vec<Vec<u8>>),
}

impl AttributeValue {
    /// DynamoDB's type descriptor: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::SS(_) => "SS",
            AttributeValue::NS(_) => "NS",
            AttributeValue::BS(_) => "BS",
        }
    }
}

/// Puts every set of `item` (at any depth) in the order DynamoDB returns
/// sets in: strings and binaries by unsigned bytes, numbers by value.
pub fn normalize_sets(item: &mut Item) {
    for v in item.values_mut() {
        normalize_value(v);
    }
}

fn normalize_value(v: &mut AttributeValue) {
    match v {
        AttributeValue::SS(s) => s.sort_unstable(),
        AttributeValue::NS(n) => n.sort_unstable(),
        AttributeValue::BS(b) => b.sort_unstable(),
        AttributeValue::M(m) => normalize_sets(m),
        AttributeValue::L(l) => l.iter_mut().for_each(normalize_value),
        _ => {}
    }
}

mod codec;
mod wire;

pub use codec::{
    decode_item, decode_value, encode_item, encode_item_into, encode_value_into, CodecError,
    CODEC_VERSION,
};
pub use wire::{
    check_item, check_value, check_wire_shape, item_from_wire, item_from_wire_value, item_to_wire,
    MAX_NESTING_DEPTH, MSG_NESTING,
};

/// Proptest strategies shared by the value, size and key-encoding tests.
#[cfg(test)]
pub(crate) mod test_support {
    use proptest::prelude::*;

    use super::{AttributeValue, Item};
    use crate::number::Number;

    /// Numbers across the whole range, with many near-collisions.
    pub fn arb_number() -> impl Strategy<Value = Number> {
        let wide = (
            any::<bool>(),
            proptest::collection::vec(0u8..10, 1..=38),
            -167i32..=125,
        );
        let narrow = (
            any::<bool>(),
            proptest::collection::vec(0u8..3, 1..=4),
            -3i32..=3,
        );
        prop_oneof![wide, narrow].prop_filter_map("out of range", |(neg, digits, exp)| {
            let mut text = String::from(if neg { "-" } else { "" });
            text.extend(digits.iter().map(|d| char::from(b'0' + d)));
            text.push_str(&format!("e{exp}"));
            Number::parse(&text).ok()
        })
    }

    pub fn arb_string_key() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec!['\0', '\u{1}', 'a', 'b', 'é', '\u{FFFF}', '😀']);
        proptest::collection::vec(chars, 0..6).prop_map(|c| c.into_iter().collect())
    }

    pub fn arb_binary_key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop::sample::select(vec![0u8, 1, 0x7F, 0xFE, 0xFF]), 0..6)
    }

    pub fn arb_value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            ".{0,8}".prop_map(AttributeValue::S),
            arb_number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::btree_set(".{0,4}", 1..4)
                .prop_map(|s| AttributeValue::SS(s.into_iter().collect())),
            proptest::collection::btree_set(arb_number(), 1..4)
                .prop_map(|s| AttributeValue::NS(s.into_iter().collect())),
            proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(|s| AttributeValue::BS(s.into_iter().collect())),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
            ]
        })
    }

    pub fn arb_item() -> impl Strategy<Value = Item> {
        proptest::collection::btree_map("[a-z]{1,6}", arb_value(), 0..6)
    }
}
