//! Which database a request runs in (`--tenancy`): its account's, one per
//! access key id and region (DynamoDB Local without `-sharedDb`), or one
//! shared by every client (DynamoDB Local's `-sharedDb`).

use std::collections::HashSet;

use openddb_core::{DynamoError, ErrorKind};
use parking_lot::Mutex;

/// The database every client shares under [`Tenancy::Shared`]: the name of
/// DynamoDB Local's shared file, without its extension.
pub const SHARED_DATABASE: &str = "shared-local-instance";

/// The longest database name `<access key id>_<region>` (the storage's
/// longest tenant id).
const MAX_DATABASE_NAME: usize = 160;

/// How requests map to databases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tenancy {
    /// Each account is its own database (the account comes from the key:
    /// the verified key's, or with `--auth off` a 12-digit access key id).
    #[default]
    Account,
    /// One database per access key id and region, named
    /// `<AccessKeyId>_<region>` as DynamoDB Local names its files; access
    /// key ids must be letters and digits.
    KeyRegion,
    /// One database for every client, whatever its key and region.
    Shared,
}

impl Tenancy {
    /// The database a request signed by `access_key_id` in `region` runs
    /// in; `None` for the account's own. An access key id DynamoDB Local
    /// would refuse is refused as it does.
    pub(crate) fn database(
        self,
        access_key_id: &str,
        region: &str,
    ) -> Result<Option<String>, DynamoError> {
        match self {
            Tenancy::Account => Ok(None),
            Tenancy::Shared => Ok(Some(SHARED_DATABASE.to_owned())),
            Tenancy::KeyRegion => {
                let key_ok = !access_key_id.is_empty()
                    && access_key_id.bytes().all(|b| b.is_ascii_alphanumeric());
                let region_ok = !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
                let fits = access_key_id.len() + 1 + region.len() <= MAX_DATABASE_NAME;
                if key_ok && region_ok && fits {
                    Ok(Some(format!("{access_key_id}_{region}")))
                } else {
                    Err(DynamoError::new(
                        ErrorKind::UnrecognizedClientException,
                        "The Access Key ID or security token is invalid.",
                    ))
                }
            }
        }
    }
}

/// How many databases are announced in the log on first use; past it the
/// set would grow without bound on a server with many tenants.
const ANNOUNCED_AT_MOST: usize = 1_000;

/// Announces each database the first time a request uses it (per-key
/// databases only: the "where did my table go" question), so the log says
/// which database a client's tables are in.
#[derive(Default)]
pub(crate) struct Announcer {
    seen: Mutex<HashSet<String>>,
}

impl Announcer {
    pub fn first_use(&self, database: &str, access_key_id: &str, region: &str) {
        let mut seen = self.seen.lock();
        if seen.len() > ANNOUNCED_AT_MOST || seen.contains(database) {
            return;
        }
        seen.insert(database.to_owned());
        if seen.len() > ANNOUNCED_AT_MOST {
            tracing::info!(
                "more than {ANNOUNCED_AT_MOST} databases in use; no longer announcing new ones"
            );
            return;
        }
        tracing::info!(
            database,
            access_key_id,
            region,
            "first request for this database (one per access key id and region; \
             clients with another key or region see other tables)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_by_tenancy() {
        assert_eq!(
            Tenancy::Account.database("AKID", "us-east-1").unwrap(),
            None
        );
        assert_eq!(
            Tenancy::Shared
                .database("any_thing!", "x")
                .unwrap()
                .as_deref(),
            Some(SHARED_DATABASE)
        );
        assert_eq!(
            Tenancy::KeyRegion
                .database("AKIDEXAMPLE", "eu-west-2")
                .unwrap()
                .as_deref(),
            Some("AKIDEXAMPLE_eu-west-2")
        );
        for (key, region) in [
            ("akid_x", "us-east-1"),
            ("", "us-east-1"),
            ("AKID", "us_east_1"),
            ("AKID", ""),
            (&"A".repeat(151), "us-east-1"),
        ] {
            let err = Tenancy::KeyRegion.database(key, region).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnrecognizedClientException, "{key:?}");
        }
    }
}
