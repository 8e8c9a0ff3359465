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
