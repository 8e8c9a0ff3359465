//! openddb, a DynamoDB-compatible database.
//!
//! Embed it in-process, with no socket, through [`Database`]: open one with a
//! [`StorageConfig`] and call [`Database::dispatch`] with a DynamoDB operation
//! name and its JSON request, exactly as the wire protocol would. Or serve it
//! over HTTP to any AWS SDK with [`server::serve`], as the `openddb` binary does.
//! [`Database::account`] gives a handle whose operations run in one account
//! (tenant); [`auth::store::Store`] is the credential store the server and
//! `openddb admin` manage.
#![forbid(unsafe_code)]

pub use openddb_auth as auth;
pub use openddb_core as core;
pub use openddb_engine::streams::StreamSettings;
pub use openddb_engine::{Account, Database, RequestContext, StorageConfig, StorageLimits};
pub use openddb_server as server;
