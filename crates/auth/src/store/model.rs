//! What the store holds, as the CLI and the admin API show it (IAM's
//! field names). Secrets appear only in [`NewAccessKey`], once.

use std::collections::BTreeMap;

use serde::Serialize;

/// An account: one tenant, its own isolated DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub create_date: Timestamp,
}

/// An IAM-style user of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub account_id: String,
    pub user_name: String,
    pub path: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: Timestamp,
    #[serde(serialize_with = "tag_list")]
    pub tags: BTreeMap<String, String>,
    pub attached_policies: Vec<String>,
}

/// `arn:aws:iam::<account>:user<path><name>`.
pub fn user_arn(account_id: &str, path: &str, user_name: &str) -> String {
    format!("arn:aws:iam::{account_id}:user{path}{user_name}")
}

/// `arn:aws:iam::<account>:policy/<name>`.
pub fn policy_arn(account_id: &str, policy_name: &str) -> String {
    format!("arn:aws:iam::{account_id}:policy/{policy_name}")
}

fn tag_list<S: serde::Serializer>(
    tags: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Tag<'a> {
        key: &'a str,
        value: &'a str,
    }
    s.collect_seq(tags.iter().map(|(key, value)| Tag { key, value }))
}

/// Whether a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(s: &str) -> Option<KeyStatus> {
        match s {
            "Active" => Some(KeyStatus::Active),
            "Inactive" => Some(KeyStatus::Inactive),
            _ => None,
        }
    }
}

/// An access key without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKey {
    pub access_key_id: String,
    pub account_id: String,
    pub user_name: String,
    pub status: KeyStatus,
    /// `Permanent` (`AKIA…`) or `Temporary` (`ASIA…`, with a session token).
    #[serde(rename = "Type")]
    pub kind: KeyKind,
    pub create_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyKind {
    Permanent,
    Temporary,
}

/// A key just made: the only time its secret (and session token) is shown.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKey {
    #[serde(flatten)]
    pub key: AccessKey,
    pub secret_access_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A named identity policy of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub account_id: String,
    pub policy_name: String,
    pub arn: String,
    pub create_date: Timestamp,
    pub update_date: Timestamp,
    pub attachment_count: u64,
    /// The document as put; left out of listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
}

/// Seconds since the Unix epoch, shown as ISO 8601 UTC
/// (`2026-12-07T19:40:00Z`), as IAM shows dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        )
    }

    pub fn to_system_time(self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.0.max(0) as u64)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        // Howard Hinnant's days-to-civil conversion.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_iso_8601() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(Timestamp(1_796_672_405).to_string(), "2026-12-07T19:40:05Z");
    }

    #[test]
    fn arns() {
        assert_eq!(
            user_arn("123456789012", "/division/", "Bob"),
            "arn:aws:iam::123456789012:user/division/Bob"
        );
        assert_eq!(
            user_arn("123456789012", "/", "Bob"),
            "arn:aws:iam::123456789012:user/Bob"
        );
    }
}
