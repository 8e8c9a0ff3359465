//! One module per DynamoDB action: validate → one kv transaction → response.

pub mod batch_get_item;
pub mod batch_write_item;
pub mod create_table;
pub mod delete_item;
pub mod delete_table;
pub(crate) mod describe_table;
pub mod get_item;
pub mod list_tables;
pub(crate) mod multi_read;
pub mod put_item;
pub mod query;
pub mod scan;
pub mod transact_get_items;
pub mod transact_write_items;
pub mod update_item;
pub mod update_table;

pub(crate) mod common;
#[cfg(test)]
mod conflict_tests;
