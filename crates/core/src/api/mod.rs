//! Typed requests and responses of the DynamoDB API, shaped as on the wire
//! (PascalCase JSON). Enumerations are kept as strings so that an invalid
//! value is reported with DynamoDB's own constraint message, not a
//! deserialisation error.

mod de;
mod item;
mod parameters;
mod partiql;
mod policy;
mod query;
mod streams;
mod table;
mod ttl;
pub mod validate;

pub use de::{from_json_body, ATTRIBUTE_VALIDATION_MARKER};
pub use item::*;
pub use partiql::*;
pub use policy::*;
pub use query::*;
pub use streams::*;
pub use table::*;
pub use ttl::*;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::value::AttributeValue;

/// `ExpressionAttributeNames`.
pub type AttributeNames = HashMap<String, String>;
/// `ExpressionAttributeValues`.
pub type AttributeValues = HashMap<String, AttributeValue>;

/// `ConsumedCapacity` as reported with `ReturnConsumedCapacity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumedCapacity {
    pub table_name: String,
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Capacity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<HashMap<String, Capacity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<HashMap<String, Capacity>>,
}

/// Capacity of one table or index inside `ConsumedCapacity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Capacity {
    pub capacity_units: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
}
