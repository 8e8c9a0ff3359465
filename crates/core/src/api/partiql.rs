//! PartiQL requests and responses: ExecuteStatement, BatchExecuteStatement,
//! ExecuteTransaction.

use serde::{Deserialize, Serialize};

use super::item::ItemResponse;
use super::table::wire_struct;
use super::ConsumedCapacity;
use crate::value::{AttributeValue, Item};

wire_struct! {
    pub struct ExecuteStatementInput {
        pub statement: String,
        pub parameters: Vec<AttributeValue>,
        pub consistent_read: bool,
        pub next_token: String,
        pub return_consumed_capacity: String,
        pub limit: i64,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct ExecuteStatementOutput {
        /// Always present, empty for a write without RETURNING.
        pub items: Vec<Item>,
        pub next_token: String,
        pub consumed_capacity: ConsumedCapacity,
        pub last_evaluated_key: Item,
    }
}

wire_struct! {
    pub struct BatchStatementRequest {
        pub statement: String,
        pub parameters: Vec<AttributeValue>,
        pub consistent_read: bool,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct BatchExecuteStatementInput {
        pub statements: Vec<BatchStatementRequest>,
        pub return_consumed_capacity: String,
    }
}

wire_struct! {
    pub struct BatchStatementError {
        pub code: String,
        pub message: String,
        pub item: Item,
    }
}

wire_struct! {
    pub struct BatchStatementResponse {
        pub error: BatchStatementError,
        pub table_name: String,
        pub item: Item,
    }
}

wire_struct! {
    pub struct BatchExecuteStatementOutput {
        pub responses: Vec<BatchStatementResponse>,
        pub consumed_capacity: Vec<ConsumedCapacity>,
    }
}

wire_struct! {
    pub struct ParameterizedStatement {
        pub statement: String,
        pub parameters: Vec<AttributeValue>,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct ExecuteTransactionInput {
        pub transact_statements: Vec<ParameterizedStatement>,
        pub client_request_token: String,
        pub return_consumed_capacity: String,
    }
}

wire_struct! {
    pub struct ExecuteTransactionOutput {
        pub responses: Vec<ItemResponse>,
        pub consumed_capacity: Vec<ConsumedCapacity>,
    }
}
