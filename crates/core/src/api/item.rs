//! Single-item requests and responses: PutItem, GetItem, UpdateItem, DeleteItem.

use serde::{Deserialize, Serialize};

use super::table::wire_struct;
use super::{AttributeNames, AttributeValues, ConsumedCapacity};
use crate::value::Item;

wire_struct! {
    pub struct PutItemInput {
        pub table_name: String,
        pub item: Item,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values: String,
        pub return_consumed_capacity: String,
        pub return_item_collection_metrics: String,
        pub return_values_on_condition_check_failure: String,
        /// Legacy `Expected`, decoded by the legacy-parameter converter.
        pub expected: serde_json::Value,
        pub conditional_operator: String,
    }
}

wire_struct! {
    pub struct GetItemInput {
        pub table_name: String,
        pub key: Item,
        pub projection_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub consistent_read: bool,
        pub return_consumed_capacity: String,
        pub attributes_to_get: Vec<String>,
    }
}

wire_struct! {
    pub struct UpdateItemInput {
        pub table_name: String,
        pub key: Item,
        pub update_expression: String,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values: String,
        pub return_consumed_capacity: String,
        pub return_item_collection_metrics: String,
        pub return_values_on_condition_check_failure: String,
        /// Legacy `AttributeUpdates`.
        pub attribute_updates: serde_json::Value,
        /// Legacy `Expected`.
        pub expected: serde_json::Value,
        pub conditional_operator: String,
    }
}

wire_struct! {
    pub struct DeleteItemInput {
        pub table_name: String,
        pub key: Item,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values: String,
        pub return_consumed_capacity: String,
        pub return_item_collection_metrics: String,
        pub return_values_on_condition_check_failure: String,
        /// Legacy `Expected`.
        pub expected: serde_json::Value,
        pub conditional_operator: String,
    }
}

wire_struct! {
    pub struct ItemCollectionMetrics {
        pub item_collection_key: Item,
        pub size_estimate_range_g_b: Vec<f64>,
    }
}

wire_struct! {
    /// The response of PutItem, UpdateItem and DeleteItem.
    pub struct WriteItemOutput {
        pub attributes: Item,
        pub consumed_capacity: ConsumedCapacity,
        pub item_collection_metrics: ItemCollectionMetrics,
    }
}

pub type PutItemOutput = WriteItemOutput;
pub type UpdateItemOutput = WriteItemOutput;
pub type DeleteItemOutput = WriteItemOutput;

wire_struct! {
    pub struct GetItemOutput {
        pub item: Item,
        pub consumed_capacity: ConsumedCapacity,
    }
}

wire_struct! {
    /// The keys to read from one table in a BatchGetItem, and how.
    pub struct KeysAndAttributes {
        pub keys: Vec<Item>,
        pub attributes_to_get: Vec<String>,
        pub consistent_read: bool,
        pub projection_expression: String,
        pub expression_attribute_names: AttributeNames,
    }
}

wire_struct! {
    pub struct BatchGetItemInput {
        pub request_items: std::collections::BTreeMap<String, KeysAndAttributes>,
        pub return_consumed_capacity: String,
    }
}

/// BatchGetItem's answer: `Responses` and `UnprocessedKeys` always.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemOutput {
    pub responses: std::collections::BTreeMap<String, Vec<Item>>,
    pub unprocessed_keys: std::collections::BTreeMap<String, KeysAndAttributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

wire_struct! {
    pub struct PutRequest {
        pub item: Item,
    }
}

wire_struct! {
    pub struct DeleteRequest {
        pub key: Item,
    }
}

wire_struct! {
    /// One write of a BatchWriteItem: exactly one of the two.
    pub struct WriteRequest {
        pub put_request: PutRequest,
        pub delete_request: DeleteRequest,
    }
}

wire_struct! {
    pub struct BatchWriteItemInput {
        pub request_items: std::collections::BTreeMap<String, Vec<WriteRequest>>,
        pub return_consumed_capacity: String,
        pub return_item_collection_metrics: String,
    }
}

/// BatchWriteItem's answer: `UnprocessedItems` always.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemOutput {
    pub unprocessed_items: std::collections::BTreeMap<String, Vec<WriteRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics:
        Option<std::collections::BTreeMap<String, Vec<ItemCollectionMetrics>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

wire_struct! {
    /// The Get of a TransactGetItems entry.
    pub struct Get {
        pub table_name: String,
        pub key: Item,
        pub projection_expression: String,
        pub expression_attribute_names: AttributeNames,
    }
}

wire_struct! {
    pub struct TransactGetItem {
        pub get: Get,
    }
}

wire_struct! {
    pub struct TransactGetItemsInput {
        pub transact_items: Vec<TransactGetItem>,
        pub return_consumed_capacity: String,
    }
}

/// One entry of TransactGetItems' `Responses`: `{}` when there is no item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

wire_struct! {
    pub struct TransactGetItemsOutput {
        pub responses: Vec<ItemResponse>,
        pub consumed_capacity: Vec<ConsumedCapacity>,
    }
}

wire_struct! {
    /// A TransactWriteItems entry that only checks a condition.
    pub struct ConditionCheck {
        pub key: Item,
        pub table_name: String,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    /// The Put of a TransactWriteItems entry.
    pub struct Put {
        pub item: Item,
        pub table_name: String,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    /// The Delete of a TransactWriteItems entry.
    pub struct Delete {
        pub key: Item,
        pub table_name: String,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    /// The Update of a TransactWriteItems entry.
    pub struct Update {
        pub key: Item,
        pub update_expression: String,
        pub table_name: String,
        pub condition_expression: String,
        pub expression_attribute_names: AttributeNames,
        pub expression_attribute_values: AttributeValues,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    /// One entry of TransactWriteItems: exactly one of the four.
    pub struct TransactWriteItem {
        pub condition_check: ConditionCheck,
        pub put: Put,
        pub delete: Delete,
        pub update: Update,
    }
}

wire_struct! {
    pub struct TransactWriteItemsInput {
        pub transact_items: Vec<TransactWriteItem>,
        pub return_consumed_capacity: String,
        pub return_item_collection_metrics: String,
        pub client_request_token: String,
    }
}

wire_struct! {
    pub struct TransactWriteItemsOutput {
        pub consumed_capacity: Vec<ConsumedCapacity>,
        pub item_collection_metrics:
            std::collections::BTreeMap<String, Vec<ItemCollectionMetrics>>,
    }
}
