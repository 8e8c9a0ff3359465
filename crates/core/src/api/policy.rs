//! Resource-based policies of tables and streams: PutResourcePolicy,
//! GetResourcePolicy and DeleteResourcePolicy.

use serde::{Deserialize, Serialize};

use super::table::wire_struct;

wire_struct! {
    pub struct PutResourcePolicyInput {
        pub resource_arn: String,
        pub policy: String,
        pub expected_revision_id: String,
        pub confirm_remove_self_resource_access: bool,
    }
}

wire_struct! {
    pub struct PutResourcePolicyOutput {
        pub revision_id: String,
    }
}

wire_struct! {
    pub struct GetResourcePolicyInput {
        pub resource_arn: String,
    }
}

wire_struct! {
    pub struct GetResourcePolicyOutput {
        pub policy: String,
        pub revision_id: String,
    }
}

wire_struct! {
    pub struct DeleteResourcePolicyInput {
        pub resource_arn: String,
        pub expected_revision_id: String,
    }
}

wire_struct! {
    /// `RevisionId` is that of the policy removed; absent when there was
    /// none.
    pub struct DeleteResourcePolicyOutput {
        pub revision_id: String,
    }
}
