//! PartiQL `Parameters`, read as DynamoDB reads them.
//!
//! The request's JSON shape is checked while the body is decoded (a badly
//! shaped parameter is a `SerializationException` for the whole request),
//! but a parameter's contents are read per statement, one parameter after
//! another in the order sent, each in document order (map members in the
//! order they were written, not sorted): the first problem met wins. So a
//! value nested too deep beats an unreadable number written after it, or
//! at its bottom. DynamoDB reads a parameter's numbers as Java's BigDecimal
//! first: an exponent or scale beyond 32 bits cannot be converted, and a
//! precision minus scale that wraps reads as underflow.
//!
//! Parameters are taken from the body as raw JSON, which serde_json skips
//! without recursion, so a parameter may nest deeper than the rest of a
//! request; [`MAX_JSON_DEPTH`] bounds it before anything recurses into it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::DynamoError;
use crate::value::{AttributeValue, MAX_NESTING_DEPTH, MSG_NESTING};

/// Deepest JSON nesting of one parameter (objects and arrays): 127 maps or
/// lists under the parameter, well past the 32 levels an attribute value
/// may have, so DynamoDB's nesting error is what a user sees; deeper is a
/// `SerializationException`, as any body too deep to read. The bound keeps
/// the shape check's recursion inside a 2 MiB stack in an unoptimised build.
pub const MAX_JSON_DEPTH: usize = 256;

const CANNOT: &str = "The parameter cannot be converted to a numeric value";
const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

/// Reads a `Parameters` member. A shape problem is the decoder's error (a
/// `SerializationException`); a content problem is returned inside, for the
/// caller to report where DynamoDB reports it.
pub(crate) fn read<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Result<Vec<AttributeValue>, DynamoError>>, D::Error> {
    use serde::de::Error as _;
    let Some(raw): Option<Vec<Box<RawValue>>> = Option::deserialize(d)? else {
        return Ok(None);
    };
    let mut values = Vec::with_capacity(raw.len());
    for r in &raw {
        let value = parse(r.get()).map_err(|e| D::Error::custom(e.message))?;
        crate::value::check_wire_shape(&value).map_err(|e| D::Error::custom(e.message))?;
        values.push(value);
    }
    Ok(Some(
        raw.iter()
            .zip(&values)
            .map(|(r, v)| {
                walk(r.get())?;
                AttributeValue::from_wire(v)
            })
            .collect(),
    ))
}

/// A parameter's JSON, once its depth is known to be within bounds.
fn parse(text: &str) -> Result<serde_json::Value, DynamoError> {
    if super::de::json_depth(text.as_bytes()) > MAX_JSON_DEPTH {
        return Err(DynamoError::serialization(""));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde_json::Value::deserialize(&mut de).map_err(|_| DynamoError::serialization(""))
}

/// The document-order pass over one shape-checked parameter: nesting and
/// numbers, the first problem met.
fn walk(text: &str) -> Result<(), DynamoError> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    Walk { depth: 1 }
        .deserialize(&mut de)
        .map_err(|e| DynamoError::validation(strip_position(&e.to_string())))
}

fn strip_position(text: &str) -> &str {
    text.rfind(" at line ").map_or(text, |cut| &text[..cut])
}

/// One attribute value at `depth` (the parameter itself is 1).
#[derive(Clone, Copy)]
struct Walk {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        if self.depth > MAX_NESTING_DEPTH {
            return Err(A::Error::custom(MSG_NESTING));
        }
        let inner = Walk {
            depth: self.depth + 1,
        };
        while let Some(tag) = map.next_key::<String>()? {
            match tag.as_str() {
                "N" => {
                    if let Some(n) = map.next_value::<Option<String>>()? {
                        check_number(&n).map_err(A::Error::custom)?;
                    }
                }
                "NS" => {
                    for n in map.next_value::<Option<Vec<String>>>()?.unwrap_or_default() {
                        check_number(&n).map_err(A::Error::custom)?;
                    }
                }
                "L" => map.next_value_seed(Elements(inner))?,
                "M" => map.next_value_seed(Members(inner))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    // Anything else is a member set to null or a shape already refused.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The elements of an `L`, in order.
struct Elements(Walk);

impl<'de> DeserializeSeed<'de> for Elements {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.0)?.is_some() {}
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The members of an `M`, in the order written.
struct Members(Walk);

impl<'de> DeserializeSeed<'de> for Members {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Members {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(self.0)?;
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Whether a parameter's number can be read as DynamoDB reads it.
fn check_number(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(CANNOT.to_owned());
    }
    let cannot = || format!("{CANNOT}: {text}");
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
        return Err(cannot());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits_ok(digits) {
                return Err(cannot());
            }
            match e.parse::<i64>() {
                Ok(x) if i32::try_from(x).is_ok() => x,
                _ => return Err(cannot()),
            }
        }
    };
    let scale = frac.len() as i64 - exponent;
    if i32::try_from(scale).is_err() {
        return Err(cannot());
    }
    let all = format!("{int}{frac}");
    let precision = all.trim_start_matches('0').len().max(1) as i64;
    if precision - scale > i32::MAX as i64 {
        return Err(UNDERFLOW.to_owned());
    }
    Ok(())
}
