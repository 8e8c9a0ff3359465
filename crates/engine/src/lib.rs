//! DynamoDB semantics over the kv contract. `Database` is the embedded API
//! and the thing the HTTP server calls; each API action lives in its own
//! module under `actions/`.
#![forbid(unsafe_code)]

mod actions;
mod arn;
mod authz;
mod background;
mod capacity;
mod catalog;
mod database;
mod expressions;
mod indexing;
mod inflight;
mod keys;
mod pages;
mod partiql;
mod resource_policy;
mod run;
mod sealed;
pub mod streams;
mod table_refs;
mod tenancy;
mod tenant;
mod tokens;
mod transient;
mod trimmer;
mod ttl;
mod write;

pub use authz::{
    access_denied, every_partition, Access, Authorizer, Denial, LeadingKeys, PolicyAuthorizer,
    Question, Resource,
};
pub use database::{Account, Database, RequestContext, StorageConfig, StorageLimits};
pub use run::request_limit_exceeded;
pub use tenancy::TenantStats;
