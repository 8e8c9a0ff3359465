//! Table-level requests and responses: CreateTable, DescribeTable,
//! ListTables, DeleteTable, UpdateTable, and the TableDescription they share.

use serde::{Deserialize, Serialize};

macro_rules! wire_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}
pub(crate) use wire_struct;

wire_struct! {
    pub struct AttributeDefinition {
        pub attribute_name: String,
        pub attribute_type: String,
    }
}

wire_struct! {
    pub struct KeySchemaElement {
        pub attribute_name: String,
        pub key_type: String,
    }
}

wire_struct! {
    pub struct Projection {
        pub projection_type: String,
        pub non_key_attributes: Vec<String>,
    }
}

wire_struct! {
    pub struct ProvisionedThroughput {
        pub read_capacity_units: i64,
        pub write_capacity_units: i64,
    }
}

wire_struct! {
    pub struct OnDemandThroughput {
        pub max_read_request_units: i64,
        pub max_write_request_units: i64,
    }
}

wire_struct! {
    pub struct WarmThroughput {
        pub read_units_per_second: i64,
        pub write_units_per_second: i64,
    }
}

wire_struct! {
    pub struct LocalSecondaryIndex {
        pub index_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub projection: Projection,
    }
}

wire_struct! {
    pub struct GlobalSecondaryIndex {
        pub index_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub projection: Projection,
        pub provisioned_throughput: ProvisionedThroughput,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughput,
    }
}

wire_struct! {
    pub struct StreamSpecification {
        pub stream_enabled: bool,
        pub stream_view_type: String,
    }
}

wire_struct! {
    pub struct SseSpecification {
        pub enabled: bool,
        #[serde(rename = "SSEType")]
        pub sse_type: String,
        #[serde(rename = "KMSMasterKeyId")]
        pub kms_master_key_id: String,
    }
}

wire_struct! {
    pub struct Tag {
        pub key: String,
        pub value: String,
    }
}

wire_struct! {
    pub struct CreateTableInput {
        pub attribute_definitions: Vec<AttributeDefinition>,
        pub table_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub local_secondary_indexes: Vec<LocalSecondaryIndex>,
        pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
        pub billing_mode: String,
        pub provisioned_throughput: ProvisionedThroughput,
        pub stream_specification: StreamSpecification,
        #[serde(rename = "SSESpecification")]
        pub sse_specification: SseSpecification,
        pub tags: Vec<Tag>,
        pub table_class: String,
        pub deletion_protection_enabled: bool,
        pub resource_policy: String,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughput,
    }
}

wire_struct! {
    pub struct ProvisionedThroughputDescription {
        pub last_increase_date_time: f64,
        pub last_decrease_date_time: f64,
        pub number_of_decreases_today: i64,
        pub read_capacity_units: i64,
        pub write_capacity_units: i64,
    }
}

wire_struct! {
    pub struct BillingModeSummary {
        pub billing_mode: String,
        pub last_update_to_pay_per_request_date_time: f64,
    }
}

wire_struct! {
    pub struct SseDescription {
        pub status: String,
        #[serde(rename = "SSEType")]
        pub sse_type: String,
        #[serde(rename = "KMSMasterKeyArn")]
        pub kms_master_key_arn: String,
    }
}

wire_struct! {
    pub struct TableClassSummary {
        pub table_class: String,
        pub last_update_date_time: f64,
    }
}

wire_struct! {
    pub struct WarmThroughputDescription {
        pub read_units_per_second: i64,
        pub write_units_per_second: i64,
        pub status: String,
    }
}

wire_struct! {
    pub struct LocalSecondaryIndexDescription {
        pub index_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub projection: Projection,
        pub index_size_bytes: i64,
        pub item_count: i64,
        pub index_arn: String,
    }
}

wire_struct! {
    pub struct GlobalSecondaryIndexDescription {
        pub index_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub projection: Projection,
        pub index_status: String,
        pub backfilling: bool,
        pub provisioned_throughput: ProvisionedThroughputDescription,
        pub index_size_bytes: i64,
        pub item_count: i64,
        pub index_arn: String,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughputDescription,
    }
}

wire_struct! {
    pub struct TableDescription {
        pub attribute_definitions: Vec<AttributeDefinition>,
        pub table_name: String,
        pub key_schema: Vec<KeySchemaElement>,
        pub table_status: String,
        pub creation_date_time: f64,
        pub provisioned_throughput: ProvisionedThroughputDescription,
        pub table_size_bytes: i64,
        pub item_count: i64,
        pub table_arn: String,
        pub table_id: String,
        pub billing_mode_summary: BillingModeSummary,
        pub local_secondary_indexes: Vec<LocalSecondaryIndexDescription>,
        pub global_secondary_indexes: Vec<GlobalSecondaryIndexDescription>,
        pub stream_specification: StreamSpecification,
        pub latest_stream_label: String,
        pub latest_stream_arn: String,
        #[serde(rename = "SSEDescription")]
        pub sse_description: SseDescription,
        pub table_class_summary: TableClassSummary,
        pub deletion_protection_enabled: bool,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughputDescription,
    }
}

wire_struct! {
    pub struct CreateTableOutput {
        pub table_description: TableDescription,
    }
}

wire_struct! {
    pub struct DescribeTableInput {
        pub table_name: String,
    }
}

wire_struct! {
    pub struct DescribeTableOutput {
        pub table: TableDescription,
    }
}

wire_struct! {
    pub struct DeleteTableInput {
        pub table_name: String,
    }
}

wire_struct! {
    pub struct DeleteTableOutput {
        pub table_description: TableDescription,
    }
}

wire_struct! {
    pub struct ListTablesInput {
        pub exclusive_start_table_name: String,
        pub limit: i64,
    }
}

/// `ListTables` always returns `TableNames`, even when empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesOutput {
    pub table_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_table_name: Option<String>,
}

wire_struct! {
    pub struct UpdateTableInput {
        pub table_name: String,
        pub attribute_definitions: Vec<AttributeDefinition>,
        pub billing_mode: String,
        pub provisioned_throughput: ProvisionedThroughput,
        pub global_secondary_index_updates: Vec<GlobalSecondaryIndexUpdate>,
        pub stream_specification: StreamSpecification,
        #[serde(rename = "SSESpecification")]
        pub sse_specification: SseSpecification,
        pub replica_updates: Vec<serde_json::Value>,
        pub table_class: String,
        pub deletion_protection_enabled: bool,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughput,
        pub multi_region_consistency: String,
        pub global_table_witness_updates: Vec<serde_json::Value>,
    }
}

wire_struct! {
    /// One entry of UpdateTable's `GlobalSecondaryIndexUpdates`.
    pub struct GlobalSecondaryIndexUpdate {
        pub create: GlobalSecondaryIndex,
        pub update: UpdateGlobalSecondaryIndexAction,
        pub delete: DeleteGlobalSecondaryIndexAction,
    }
}

wire_struct! {
    pub struct UpdateGlobalSecondaryIndexAction {
        pub index_name: String,
        pub provisioned_throughput: ProvisionedThroughput,
        pub on_demand_throughput: OnDemandThroughput,
        pub warm_throughput: WarmThroughput,
    }
}

wire_struct! {
    pub struct DeleteGlobalSecondaryIndexAction {
        pub index_name: String,
    }
}

wire_struct! {
    pub struct UpdateTableOutput {
        pub table_description: TableDescription,
    }
}
