//! Time to Live requests and responses: UpdateTimeToLive and
//! DescribeTimeToLive.

use serde::{Deserialize, Serialize};

use super::table::wire_struct;

wire_struct! {
    /// Whether Time to Live is to be on, and which attribute holds each
    /// item's expiry (epoch seconds).
    pub struct TimeToLiveSpecification {
        pub enabled: bool,
        pub attribute_name: String,
    }
}

wire_struct! {
    pub struct UpdateTimeToLiveInput {
        pub table_name: String,
        pub time_to_live_specification: TimeToLiveSpecification,
    }
}

wire_struct! {
    /// UpdateTimeToLive echoes the accepted specification.
    pub struct UpdateTimeToLiveOutput {
        pub time_to_live_specification: TimeToLiveSpecification,
    }
}

wire_struct! {
    pub struct DescribeTimeToLiveInput {
        pub table_name: String,
    }
}

wire_struct! {
    /// `TimeToLiveStatus` is `ENABLING`, `DISABLING`, `ENABLED` or
    /// `DISABLED`; `AttributeName` is absent while disabled.
    pub struct TimeToLiveDescription {
        pub time_to_live_status: String,
        pub attribute_name: String,
    }
}

wire_struct! {
    pub struct DescribeTimeToLiveOutput {
        pub time_to_live_description: TimeToLiveDescription,
    }
}
