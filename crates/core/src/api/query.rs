//! Multi-item reads: Query and Scan.

use serde::{Deserialize, Serialize};

use super::table::wire_struct;
use super::{AttributeNames, AttributeValues, ConsumedCapacity};
use crate::value::Item;

wire_struct! {
    pub struct QueryInput {
        pub table_name: String,
        pub index_name: String,
        pub select: String,
        pub attributes_to_get: Vec<String>,
        pub limit: i64,
        pub consistent_read: bool,
        /// Legacy `KeyConditions`, decoded by the legacy-parameter converter.
        pub key_conditions: serde_json::Value,
        /// Legacy `QueryFilter`.
        pub query_filter: serde_json::Value,
        pub conditional_operator: String,
        pub scan_index_forward: bool,
        pub exclusive_start_key: Item,
        pub return_consumed_capacity: String,
        pub projection_expression: String,
        pub filter_expression: String,
        pub key_condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
    }
}

wire_struct! {
    pub struct ScanInput {
        pub table_name: String,
        pub index_name: String,
        pub attributes_to_get: Vec<String>,
        pub limit: i64,
        pub select: String,
        /// Legacy `ScanFilter`.
        pub scan_filter: serde_json::Value,
        pub conditional_operator: String,
        pub exclusive_start_key: Item,
        pub return_consumed_capacity: String,
        pub total_segments: i64,
        pub segment: i64,
        pub projection_expression: String,
        pub filter_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub consistent_read: bool,
    }
}

/// The response of Query and Scan: `Count` and `ScannedCount` always,
/// `Items` unless only counting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
    pub count: i64,
    pub scanned_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_key: Option<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

pub type ScanOutput = QueryOutput;
