//! What can go wrong managing credentials, in IAM's own error codes, so a
//! script (CLI exit code) or an HTTP client (status, `__type`) can tell a
//! missing entity from a conflict from bad input.

/// An error of the credential store or of an administrative operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StoreError {
    pub code: ErrorCode,
    pub message: String,
}

/// The kinds of failure, named as IAM names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The account, user, key or policy named does not exist.
    NoSuchEntity,
    /// Creating something that already exists (a name is taken).
    EntityAlreadyExists,
    /// Deleting something others still depend on.
    DeleteConflict,
    /// A per-user or per-document quota would be passed.
    LimitExceeded,
    /// A policy document that is not a policy.
    MalformedPolicyDocument,
    /// A parameter out of its pattern or length.
    ValidationError,
    /// An administrative operation this build does not have.
    UnknownOperation,
    /// The store cannot be read or written (disk, corruption, wrong key).
    ServiceFailure,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::UnknownOperation => "UnknownOperation",
            ErrorCode::ServiceFailure => "ServiceFailure",
        }
    }

    /// The HTTP status the admin API answers with (IAM's).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NoSuchEntity => 404,
            ErrorCode::EntityAlreadyExists | ErrorCode::DeleteConflict => 409,
            ErrorCode::LimitExceeded
            | ErrorCode::MalformedPolicyDocument
            | ErrorCode::ValidationError
            | ErrorCode::UnknownOperation => 400,
            ErrorCode::ServiceFailure => 500,
        }
    }

    /// The exit code of `openddb admin` (2 is also clap's usage error).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorCode::ServiceFailure => 1,
            ErrorCode::ValidationError
            | ErrorCode::MalformedPolicyDocument
            | ErrorCode::UnknownOperation => 2,
            ErrorCode::NoSuchEntity => 3,
            ErrorCode::EntityAlreadyExists => 4,
            ErrorCode::DeleteConflict => 5,
            ErrorCode::LimitExceeded => 6,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl StoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> StoreError {
        StoreError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::NoSuchEntity, message)
    }

    pub fn exists(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::EntityAlreadyExists, message)
    }

    pub fn invalid(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::ValidationError, message)
    }

    pub fn failure(message: impl Into<String>) -> StoreError {
        StoreError::new(ErrorCode::ServiceFailure, message)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::failure(format!("credential store: {e}"))
    }
}
