//! Authentication and authorization for openddb.
//!
//! - [`credentials`]: what the rest of the server knows about an access
//!   key (its secret, account and principal), and the lookup the SigV4
//!   verifier asks. The credential store implements it.
//! - [`sigv4`]: AWS Signature Version 4 verification, with DynamoDB's
//!   errors in DynamoDB's order, and a cache of derived signing keys.
//! - [`keys_file`]: a fixed set of keys read from a JSON file.
//! - [`store`]: the credential store (accounts, users, keys, policies,
//!   tags), its `KeyLookup`, and the administrative operations.
//! - [`policy`]: IAM-style JSON policies and AWS's evaluation logic.
//! - [`AuthMode`]: how much a server checks.
#![forbid(unsafe_code)]

mod calendar;
pub mod credentials;
pub mod keys_file;
pub mod policy;
pub mod sigv4;
pub mod store;

pub use credentials::{KeyLookup, KeyRecord, LookupError, Principal, StaticKeys};

/// How much the server checks before a request reaches the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Signatures are not verified. The account is `000000000000`, or the
    /// access key id itself when it is 12 digits (LocalStack's convention).
    #[default]
    Off,
    /// Every request's SigV4 signature is verified against the credential
    /// store; the account is the key's.
    Sigv4,
    /// As `Sigv4`, and IAM-style policies decide what the caller may do.
    Iam,
}

/// The account of a request whose signature is not checked.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// The account an unverified request lands in: the access key id when it
/// is a 12-digit account id, `000000000000` otherwise.
pub fn unverified_account(access_key_id: &str) -> &str {
    if is_account_id(access_key_id) {
        access_key_id
    } else {
        DEFAULT_ACCOUNT_ID
    }
}

/// Whether `id` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twelve_digit_key_selects_its_account() {
        assert_eq!(unverified_account("123456789012"), "123456789012");
        assert_eq!(unverified_account("000000000042"), "000000000042");
    }

    #[test]
    fn any_other_key_lands_in_the_default_account() {
        for key in [
            "",
            "AKIDEXAMPLE",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "１２３４５６７８９０１２",
        ] {
            assert_eq!(unverified_account(key), DEFAULT_ACCOUNT_ID, "{key:?}");
        }
    }
}
