//! Decoding request bodies. JSON of the wrong shape is a
//! `SerializationException`; an attribute value that is well-formed JSON but
//! not a valid DynamoDB value is a `ValidationException`. serde can only
//! carry a message, so the attribute-value decoder marks its messages.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::{DynamoError, ErrorKind};
use crate::value::AttributeValue;

/// Prefix on a serde error message that stands for a ValidationException.
pub const ATTRIBUTE_VALIDATION_MARKER: &str = "\u{1}validation\u{1}";

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = serde_json::Value::deserialize(deserializer)?;
        AttributeValue::from_wire(&raw).map_err(|e| match e.kind {
            ErrorKind::ValidationException => {
                D::Error::custom(format!("{ATTRIBUTE_VALIDATION_MARKER}{}", e.message))
            }
            _ => D::Error::custom(e.message),
        })
    }
}

/// Decodes a request body into its typed request.
pub fn from_json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        // An empty body is an empty request: every member missing.
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        if let Some(pos) = text.find(ATTRIBUTE_VALIDATION_MARKER) {
            let rest = &text[pos + ATTRIBUTE_VALIDATION_MARKER.len()..];
            let message = match rest.rfind(" at line ") {
                Some(cut) => &rest[..cut],
                None => rest,
            };
            DynamoError::validation(message)
        } else {
            serialization_error(&e)
        }
    })
}

fn serialization_error(e: &serde_json::Error) -> DynamoError {
    use serde_json::error::Category;
    match e.classify() {
        // DynamoDB sends no message for a body that is not JSON at all.
        Category::Syntax | Category::Eof | Category::Io => DynamoError::serialization(""),
        Category::Data => {
            let text = e.to_string();
            let message = match text.rfind(" at line ") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            };
            DynamoError::serialization(message)
        }
    }
}
