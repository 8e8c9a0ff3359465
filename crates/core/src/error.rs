//! The one error catalogue: every DynamoDB error type with its wire `__type`
//! and HTTP status. Messages are built by the code that detects the problem,
//! in DynamoDB's current wording.

use crate::value::Item;

/// Why one entry of a transaction was cancelled (`Code` `None` for the
/// entries that were not the cause).
#[derive(Debug, Clone, PartialEq)]
pub struct CancellationReason {
    pub code: String,
    pub message: Option<String>,
    /// The item as it was, for a failed condition that asked for it.
    pub item: Option<Item>,
}

impl CancellationReason {
    /// An entry that did not cause the cancellation.
    pub fn none() -> CancellationReason {
        CancellationReason {
            code: "None".into(),
            message: None,
            item: None,
        }
    }

    pub fn new(code: &str, message: impl Into<String>) -> CancellationReason {
        CancellationReason {
            code: code.into(),
            message: Some(message.into()),
            item: None,
        }
    }
}

/// Every error type openddb can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    ValidationException,
    SerializationException,
    UnknownOperationException,
    MissingAuthenticationTokenException,
    IncompleteSignatureException,
    UnrecognizedClientException,
    InvalidSignatureException,
    /// Temporary credentials past their expiry.
    ExpiredTokenException,
    AccessDeniedException,
    ResourceNotFoundException,
    ResourceInUseException,
    /// No resource-based policy, or not the revision a request expected.
    PolicyNotFoundException,
    ConditionalCheckFailedException,
    /// A PartiQL INSERT of a key that exists.
    DuplicateItemException,
    LimitExceededException,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ThrottlingException,
    TransactionConflictException,
    TransactionCanceledException,
    TransactionInProgressException,
    ExpiredIteratorException,
    TrimmedDataAccessException,
    IdempotentParameterMismatchException,
    RequestEntityTooLarge,
    InternalServerError,
    ServiceUnavailable,
}

impl ErrorKind {
    /// The name after `#` in `__type`.
    pub fn name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            ValidationException => "ValidationException",
            SerializationException => "SerializationException",
            UnknownOperationException => "UnknownOperationException",
            MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            IncompleteSignatureException => "IncompleteSignatureException",
            UnrecognizedClientException => "UnrecognizedClientException",
            InvalidSignatureException => "InvalidSignatureException",
            ExpiredTokenException => "ExpiredTokenException",
            AccessDeniedException => "AccessDeniedException",
            ResourceNotFoundException => "ResourceNotFoundException",
            ResourceInUseException => "ResourceInUseException",
            PolicyNotFoundException => "PolicyNotFoundException",
            ConditionalCheckFailedException => "ConditionalCheckFailedException",
            DuplicateItemException => "DuplicateItemException",
            LimitExceededException => "LimitExceededException",
            ItemCollectionSizeLimitExceededException => "ItemCollectionSizeLimitExceededException",
            ProvisionedThroughputExceededException => "ProvisionedThroughputExceededException",
            RequestLimitExceeded => "RequestLimitExceeded",
            ThrottlingException => "ThrottlingException",
            TransactionConflictException => "TransactionConflictException",
            TransactionCanceledException => "TransactionCanceledException",
            TransactionInProgressException => "TransactionInProgressException",
            ExpiredIteratorException => "ExpiredIteratorException",
            TrimmedDataAccessException => "TrimmedDataAccessException",
            IdempotentParameterMismatchException => "IdempotentParameterMismatchException",
            RequestEntityTooLarge => "RequestEntityTooLarge",
            InternalServerError => "InternalServerError",
            ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The namespace DynamoDB puts before `#` in `__type`: protocol-level
    /// errors come from the Coral framework, the rest from the service.
    pub fn namespace(self) -> &'static str {
        use ErrorKind::*;
        match self {
            ValidationException => "com.amazon.coral.validate",
            SerializationException
            | UnknownOperationException
            | MissingAuthenticationTokenException
            | IncompleteSignatureException
            | UnrecognizedClientException
            | InvalidSignatureException
            // guregu/dynamo#68 quotes DynamoDB's answer:
            // `com.amazon.coral.service#ExpiredTokenException`.
            | ExpiredTokenException
            | AccessDeniedException
            | ServiceUnavailable => "com.amazon.coral.service",
            // Coral's throttling layer (dynalite's tests against DynamoDB
            // retry on `com.amazon.coral.availability#ThrottlingException`).
            ThrottlingException => "com.amazon.coral.availability",
            _ => "com.amazonaws.dynamodb.v20120810",
        }
    }

    /// `namespace#Name`.
    pub fn wire_type(self) -> String {
        format!("{}#{}", self.namespace(), self.name())
    }

    pub fn http_status(self) -> u16 {
        use ErrorKind::*;
        match self {
            InternalServerError => 500,
            ServiceUnavailable => 503,
            RequestEntityTooLarge => 413,
            // DynamoDB answers every other error, authentication included, with 400.
            _ => 400,
        }
    }
}

/// A DynamoDB error as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoError {
    pub kind: ErrorKind,
    pub message: String,
    /// The item returned with `ConditionalCheckFailedException` when
    /// `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    pub item: Option<Item>,
    /// `CancellationReasons` of a `TransactionCanceledException`, as JSON.
    pub cancellation_reasons: Option<serde_json::Value>,
}

impl DynamoError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DynamoError {
            kind,
            message: message.into(),
            item: None,
            cancellation_reasons: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValidationException, message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SerializationException, message)
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourceNotFoundException, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalServerError, message)
    }

    /// `TransactionCanceledException` with one reason per action, in
    /// request order: `(Code, Message)`, `("None", None)` for actions that
    /// were fine.
    pub fn transaction_canceled(reasons: &[CancellationReason]) -> Self {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        let json = reasons
            .iter()
            .map(|reason| {
                let mut r = serde_json::Map::new();
                if let Some(item) = &reason.item {
                    r.insert(
                        "Item".into(),
                        serde_json::to_value(item).unwrap_or(serde_json::Value::Null),
                    );
                }
                r.insert(
                    "Code".into(),
                    serde_json::Value::String(reason.code.clone()),
                );
                if let Some(m) = &reason.message {
                    r.insert("Message".into(), serde_json::Value::String(m.clone()));
                }
                serde_json::Value::Object(r)
            })
            .collect();
        DynamoError {
            kind: ErrorKind::TransactionCanceledException,
            message: format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
            item: None,
            cancellation_reasons: Some(serde_json::Value::Array(json)),
        }
    }

    /// The standard `ConditionalCheckFailedException`.
    pub fn conditional_check_failed(item: Option<Item>) -> Self {
        DynamoError {
            kind: ErrorKind::ConditionalCheckFailedException,
            message: "The conditional request failed".into(),
            item,
            cancellation_reasons: None,
        }
    }
}

impl std::fmt::Display for DynamoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for DynamoError {}

pub type Result<T, E = DynamoError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn wire_types_carry_dynamodbs_namespaces() {
        let cases = [
            (
                ErrorKind::ValidationException,
                "com.amazon.coral.validate#ValidationException",
            ),
            (
                ErrorKind::SerializationException,
                "com.amazon.coral.service#SerializationException",
            ),
            (
                ErrorKind::ThrottlingException,
                "com.amazon.coral.availability#ThrottlingException",
            ),
            (
                ErrorKind::RequestLimitExceeded,
                "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
            ),
            (
                ErrorKind::InternalServerError,
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(kind.wire_type(), want);
        }
    }
}
