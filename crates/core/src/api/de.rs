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

/// Deepest nesting of objects and arrays a request body may have. serde_json
/// stops at 128, about 63 attribute-value levels; DynamoDB reads a PartiQL
/// parameter 100 levels deep and refuses it for its nesting (32 levels at
/// most; the newer conformance suite shows it), and items go through the
/// same JSON front end. A body past 128 is read again up to this bound, so
/// the nesting error is what users see. The bound keeps the recursive passes over a value inside
/// a 2 MiB stack in an unoptimised build.
pub const MAX_BODY_DEPTH: usize = 264;

/// Decodes a request body into its typed request.
pub fn from_json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, DynamoError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        // An empty body is an empty request: every member missing.
        &b"{}"[..]
    } else {
        body
    };
    let decoded = match serde_json::from_slice(body) {
        // Past serde_json's own depth limit, and only then, read again
        // without it (after counting the depth): no cost to other bodies.
        Err(e)
            if e.to_string().starts_with("recursion limit exceeded")
                && json_depth(body) <= MAX_BODY_DEPTH =>
        {
            let mut de = serde_json::Deserializer::from_slice(body);
            de.disable_recursion_limit();
            T::deserialize(&mut de).and_then(|v| de.end().map(|()| v))
        }
        other => other,
    };
    decoded.map_err(|e| {
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

/// The deepest nesting of objects and arrays in JSON text (strings skipped).
pub(crate) fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut bytes = text.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                while let Some(&c) = bytes.next() {
                    match c {
                        b'\\' => {
                            bytes.next();
                        }
                        b'"' => break,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    deepest
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PutItemInput;
    use crate::value::MSG_NESTING;

    /// `{"TableName":"t","Item":{"a":{"M":{"n": … {"S":"x"} …}}}}`.
    fn put_nested(levels: usize) -> String {
        let mut v = r#"{"S":"x"}"#.to_string();
        for _ in 0..levels {
            v = format!(r#"{{"M":{{"n":{v}}}}}"#);
        }
        format!(r#"{{"TableName":"t","Item":{{"a":{v}}}}}"#)
    }

    #[test]
    fn a_value_too_deep_for_serde_json_is_still_refused_for_its_nesting() {
        for levels in [31, 32, 70, 130] {
            let e = from_json_body::<PutItemInput>(put_nested(levels).as_bytes());
            if levels < 32 {
                assert!(e.is_ok(), "{levels}: {e:?}");
            } else {
                let e = e.unwrap_err();
                assert_eq!(
                    (e.kind, e.message.as_str()),
                    (ErrorKind::ValidationException, MSG_NESTING),
                    "{levels}"
                );
            }
        }
        // Past the bound: not read at all.
        let e = from_json_body::<PutItemInput>(put_nested(140).as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SerializationException);
        // Read again, an unknown member is still ignored, and trailing
        // garbage still refused.
        let body = format!(
            r#"{{"TableName":"t","Other":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let input = from_json_body::<PutItemInput>(body.as_bytes()).unwrap();
        assert_eq!(input.table_name.as_deref(), Some("t"));
        let e = from_json_body::<PutItemInput>(format!("{body} x").as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SerializationException);
    }

    #[test]
    fn json_depth_skips_strings() {
        assert_eq!(json_depth(br#"{"a":"[[[{{","b":[[1]],"c":"\"["}"#), 3);
        assert_eq!(json_depth(b"1"), 0);
    }

    /// The deepest body read fits the 2 MiB stack of a Tokio worker or a
    /// spawned thread, unoptimised.
    #[test]
    fn the_deepest_body_fits_a_small_stack() {
        // {"TableName","Item":{"a": …}} puts the value two levels down.
        let levels = (MAX_BODY_DEPTH - 3) / 2;
        let body = put_nested(levels);
        assert_eq!(json_depth(body.as_bytes()), levels * 2 + 3);
        let e = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || from_json_body::<PutItemInput>(body.as_bytes()).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(e.message, MSG_NESTING);
    }
}
