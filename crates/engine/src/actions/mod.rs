//! One module per DynamoDB action: validate → one kv transaction → response.

pub mod batch_execute_statement;
pub mod batch_get_item;
pub mod batch_write_item;
pub mod create_table;
pub mod delete_item;
pub mod delete_resource_policy;
pub mod delete_table;
pub mod describe_stream;
pub(crate) mod describe_table;
pub mod describe_time_to_live;
pub mod execute_statement;
pub mod execute_transaction;
pub mod get_item;
pub mod get_records;
pub mod get_resource_policy;
pub mod get_shard_iterator;
pub mod list_streams;
pub mod list_tables;
pub(crate) mod multi_read;
pub mod put_item;
pub mod put_resource_policy;
pub mod query;
pub mod scan;
pub mod transact_get_items;
pub mod transact_write_items;
pub mod update_item;
pub mod update_table;
pub mod update_time_to_live;

pub(crate) mod common;
#[cfg(test)]
mod conflict_tests;
#[cfg(test)]
mod read_bounds_tests;
