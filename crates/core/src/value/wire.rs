//! The DynamoDB JSON wire form of attribute values (`{"S": "x"}`, numbers as
//! strings, base64 binaries), read with DynamoDB's exact error precedence and
//! wording, and written through `serde::Serialize`.
//!
//! Reading is two passes, as DynamoDB's own front end does it: first the
//! JSON shape is checked (every problem there is a `SerializationException`),
//! then the values (every problem there is a `ValidationException`). So a
//! badly typed member anywhere beats an invalid number anywhere.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{AttributeValue, Item};
use crate::error::DynamoError;
use crate::number::Number;

/// Deepest nesting DynamoDB accepts; the attribute itself is level 1.
pub const MAX_NESTING_DEPTH: usize = 32;

/// How deep the shape pass follows a wire value before it stops with the
/// nesting error. A request body is read only up to 264 JSON levels (132
/// value levels), so a value from a request never gets here and its
/// deepest shape problem is still reported first; a deeper `Value` handed
/// in by an embedded caller is refused without recursing further.
const MAX_SHAPE_DEPTH: usize = 160;

pub const MSG_EMPTY_VALUE: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
pub const MSG_MANY_TYPES: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
pub const MSG_NULL_FALSE: &str =
    "One or more parameter values were invalid: Null attribute value types must have the value of true";
/// The double space is DynamoDB's.
pub const MSG_EMPTY_SS: &str =
    "One or more parameter values were invalid: An string set  may not be empty";
pub const MSG_EMPTY_NS: &str =
    "One or more parameter values were invalid: An number set  may not be empty";
pub const MSG_EMPTY_BS: &str =
    "One or more parameter values were invalid: Binary sets should not be empty";
pub const MSG_NS_DUPLICATES: &str =
    "One or more parameter values were invalid: Input collection contains duplicates.";
pub const MSG_NESTING: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";

const MSG_NOT_EXPECTED_OBJECT: &str = "Start of structure or map found where not expected";
const MSG_UNEXPECTED_FIELD: &str = "Unexpected field type";
const MSG_BAD_LAST_BASE64: &str = "Invalid last non-pad Base64 character dectected";

/// An attribute value whose JSON shape has been checked but whose contents
/// have not. Strings borrow from the request.
enum Raw<'a> {
    S(&'a str),
    N(&'a str),
    B(Vec<u8>),
    Bool(bool),
    Null(bool),
    SS(Vec<&'a str>),
    NS(Vec<&'a str>),
    BS(Vec<Vec<u8>>),
    L(Vec<RawValue<'a>>),
    M(Vec<(&'a str, RawValue<'a>)>),
}

/// The members of one `{"S": …}` object that name a known type; DynamoDB
/// ignores unknown members and members set to `null`.
struct RawValue<'a>(Vec<Raw<'a>>);

fn ser(msg: impl Into<String>) -> DynamoError {
    DynamoError::serialization(msg)
}

fn json_number_kind(n: &serde_json::Number) -> &'static str {
    if n.is_f64() {
        "DECIMAL_VALUE"
    } else {
        "NUMBER_VALUE"
    }
}

fn wire_string(v: &Value) -> Result<&str, DynamoError> {
    match v {
        Value::String(s) => Ok(s),
        Value::Bool(true) => Err(ser("TRUE_VALUE cannot be converted to String")),
        Value::Bool(false) => Err(ser("FALSE_VALUE cannot be converted to String")),
        Value::Number(n) => Err(ser(format!(
            "{} cannot be converted to String",
            json_number_kind(n)
        ))),
        Value::Array(_) => Err(ser("Unrecognized collection type class java.lang.String")),
        Value::Object(_) => Err(ser(MSG_NOT_EXPECTED_OBJECT)),
        Value::Null => Err(ser("Unexpected value type in payload")),
    }
}

/// DynamoDB's front end reads `"true"`, `"1"`, `"yes"` (any case) as true and
/// `"false"`, `"0"`, `"no"` as false.
fn wire_bool(v: &Value) -> Result<bool, DynamoError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_uppercase().as_str() {
            "TRUE" | "1" | "YES" => Ok(true),
            "FALSE" | "0" | "NO" => Ok(false),
            _ => Err(ser("Unexpected token received from parser")),
        },
        Value::Number(n) => Err(ser(format!(
            "{} cannot be converted to Boolean",
            json_number_kind(n)
        ))),
        Value::Array(_) => Err(ser("Unrecognized collection type class java.lang.Boolean")),
        Value::Object(_) => Err(ser(MSG_NOT_EXPECTED_OBJECT)),
        Value::Null => Err(ser("Unexpected value type in payload")),
    }
}

fn wire_blob(v: &Value) -> Result<Vec<u8>, DynamoError> {
    let s = match v {
        Value::String(s) => s,
        Value::Bool(_) | Value::Number(_) | Value::Null => {
            return Err(ser("only base-64-encoded strings are convertible to bytes"))
        }
        Value::Array(_) => {
            return Err(ser(
                "Unrecognized collection type class java.nio.ByteBuffer",
            ))
        }
        Value::Object(_) => return Err(ser(MSG_NOT_EXPECTED_OBJECT)),
    };
    // Java counts UTF-16 units.
    let len = s.encode_utf16().count();
    if len % 4 != 0 {
        return Err(ser(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {len}"
        )));
    }
    STANDARD.decode(s).map_err(|_| ser(MSG_BAD_LAST_BASE64))
}

fn wire_list(v: &Value) -> Result<impl Iterator<Item = &Value>, DynamoError> {
    match v {
        // DynamoDB's front end drops null list members.
        Value::Array(items) => Ok(items.iter().filter(|v| !v.is_null())),
        Value::Object(_) => Err(ser(MSG_NOT_EXPECTED_OBJECT)),
        _ => Err(ser(MSG_UNEXPECTED_FIELD)),
    }
}

fn raw_value(v: &Value, depth: usize) -> Result<RawValue<'_>, DynamoError> {
    if depth > MAX_SHAPE_DEPTH {
        return Err(DynamoError::validation(MSG_NESTING));
    }
    let obj = match v {
        Value::Object(obj) => obj,
        Value::Array(_) => return Err(ser(
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
        )),
        // A null value stands for a value with no members.
        Value::Null => return Ok(RawValue(Vec::new())),
        _ => return Err(ser("Unexpected value type in payload")),
    };
    let mut parts = Vec::with_capacity(1);
    for (key, member) in obj {
        if member.is_null() {
            continue;
        }
        if let Some(raw) = raw_member(key, member, depth)? {
            parts.push(raw);
        }
    }
    Ok(RawValue(parts))
}

/// One member of a wire value; `None` for a key that is not a type. The
/// documents and the scalars are read apart so the frames that recurse
/// stay small (a few hundred bytes a level in an unoptimised build).
fn raw_member<'v>(
    key: &str,
    member: &'v Value,
    depth: usize,
) -> Result<Option<Raw<'v>>, DynamoError> {
    Ok(Some(match key {
        "L" => raw_list(member, depth)?,
        "M" => Raw::M(raw_map(member, depth + 1)?),
        _ => match raw_scalar(key, member)? {
            Some(raw) => raw,
            None => return Ok(None),
        },
    }))
}

fn raw_list(member: &Value, depth: usize) -> Result<Raw<'_>, DynamoError> {
    let mut items = Vec::new();
    for v in wire_list(member)? {
        items.push(raw_value(v, depth + 1)?);
    }
    Ok(Raw::L(items))
}

#[inline(never)]
fn raw_scalar<'v>(key: &str, member: &'v Value) -> Result<Option<Raw<'v>>, DynamoError> {
    Ok(Some(match key {
        "S" => Raw::S(wire_string(member)?),
        "N" => Raw::N(wire_string(member)?),
        "B" => Raw::B(wire_blob(member)?),
        "BOOL" => Raw::Bool(wire_bool(member)?),
        "NULL" => Raw::Null(wire_bool(member)?),
        "SS" => Raw::SS(
            wire_list(member)?
                .map(wire_string)
                .collect::<Result<_, _>>()?,
        ),
        "NS" => Raw::NS(
            wire_list(member)?
                .map(wire_string)
                .collect::<Result<_, _>>()?,
        ),
        "BS" => Raw::BS(
            wire_list(member)?
                .map(wire_blob)
                .collect::<Result<_, _>>()?,
        ),
        _ => return Ok(None),
    }))
}

fn raw_map(v: &Value, depth: usize) -> Result<Vec<(&str, RawValue<'_>)>, DynamoError> {
    match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.as_str(), raw_value(v, depth)?)))
            .collect(),
        Value::Array(_) => Err(ser(
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
        )),
        _ => Err(ser(MSG_UNEXPECTED_FIELD)),
    }
}

fn parse_number(s: &str) -> Result<Number, DynamoError> {
    Number::parse(s).map_err(DynamoError::from)
}

/// DynamoDB names the members up to and including the first repeat in sorted
/// order, then the repeat, then the rest as sent.
fn duplicate_listing<T: Ord + Clone>(items: &[T]) -> Option<Vec<T>> {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match seen.binary_search(item) {
            Ok(_) => {
                seen.extend(items[i..].iter().cloned());
                return Some(seen);
            }
            Err(pos) => seen.insert(pos, item.clone()),
        }
    }
    None
}

fn check_string_set<S: AsRef<str> + Ord + Clone>(items: &[S]) -> Result<(), DynamoError> {
    if items.is_empty() {
        return Err(DynamoError::validation(MSG_EMPTY_SS));
    }
    if let Some(listing) = duplicate_listing(items) {
        let quoted: Vec<String> = listing
            .iter()
            .map(|s| format!("\"{}\"", s.as_ref()))
            .collect();
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
            quoted.join(", ")
        )));
    }
    Ok(())
}

fn check_number_set(numbers: &[Number]) -> Result<(), DynamoError> {
    if numbers.is_empty() {
        return Err(DynamoError::validation(MSG_EMPTY_NS));
    }
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(DynamoError::validation(MSG_NS_DUPLICATES));
    }
    Ok(())
}

fn check_binary_set(items: &[Vec<u8>]) -> Result<(), DynamoError> {
    if items.is_empty() {
        return Err(DynamoError::validation(MSG_EMPTY_BS));
    }
    if let Some(listing) = duplicate_listing(items) {
        let quoted: Vec<String> = listing
            .iter()
            .map(|b| format!("\"{}\"", STANDARD.encode(b)))
            .collect();
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Input collection [{}]of type BS contains duplicates.",
            quoted.join(",")
        )));
    }
    Ok(())
}

/// Checks a value built in Rust (not decoded from the wire) against the
/// rules the wire decoder enforces: non-empty, duplicate-free sets and at
/// most [`MAX_NESTING_DEPTH`] levels. `depth` is 1 for an attribute.
pub fn check_value(v: &AttributeValue, depth: usize) -> Result<(), DynamoError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(DynamoError::validation(MSG_NESTING));
    }
    match v {
        AttributeValue::SS(items) => check_string_set(items),
        AttributeValue::NS(items) => check_number_set(items),
        AttributeValue::BS(items) => check_binary_set(items),
        AttributeValue::L(items) => items.iter().try_for_each(|i| check_value(i, depth + 1)),
        AttributeValue::M(map) => map.values().try_for_each(|i| check_value(i, depth + 1)),
        _ => Ok(()),
    }
}

/// [`check_value`] for every attribute of an item.
pub fn check_item(item: &Item) -> Result<(), DynamoError> {
    item.values().try_for_each(|v| check_value(v, 1))
}

fn validate(raw: RawValue<'_>, depth: usize) -> Result<AttributeValue, DynamoError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(DynamoError::validation(MSG_NESTING));
    }
    let mut parts = raw.0;
    if parts.is_empty() {
        return Err(DynamoError::validation(MSG_EMPTY_VALUE));
    }
    let many = parts.len() > 1;
    let mut result = None;
    // Each member is checked before the count, as DynamoDB does.
    for part in parts.drain(..) {
        let value = match part {
            Raw::S(s) => AttributeValue::S(s.to_owned()),
            Raw::N(s) => AttributeValue::N(parse_number(s)?),
            Raw::B(b) => AttributeValue::B(b),
            Raw::Bool(b) => AttributeValue::Bool(b),
            Raw::Null(true) => AttributeValue::Null,
            Raw::Null(false) => return Err(DynamoError::validation(MSG_NULL_FALSE)),
            Raw::SS(items) => {
                check_string_set(&items)?;
                AttributeValue::SS(items.into_iter().map(str::to_owned).collect())
            }
            Raw::NS(items) => {
                if items.is_empty() {
                    return Err(DynamoError::validation(MSG_EMPTY_NS));
                }
                let numbers = items
                    .iter()
                    .map(|s| parse_number(s))
                    .collect::<Result<Vec<_>, _>>()?;
                check_number_set(&numbers)?;
                AttributeValue::NS(numbers)
            }
            Raw::BS(items) => {
                check_binary_set(&items)?;
                AttributeValue::BS(items)
            }
            Raw::L(items) => AttributeValue::L(
                items
                    .into_iter()
                    .map(|v| validate(v, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Raw::M(entries) => {
                let mut map = Item::new();
                for (name, v) in entries {
                    map.insert(name.to_owned(), validate(v, depth + 1)?);
                }
                AttributeValue::M(map)
            }
        };
        result = Some(value);
    }
    if many {
        return Err(DynamoError::validation(MSG_MANY_TYPES));
    }
    result.ok_or_else(|| DynamoError::validation(MSG_EMPTY_VALUE))
}

impl AttributeValue {
    /// Reads one attribute value in wire form. Shape problems (a type member
    /// of the wrong JSON type, bad base64, a value that is not an object) are
    /// `SerializationException`; content problems (no type or several, bad
    /// numbers, empty or duplicate sets, `NULL: false`, nesting deeper than
    /// 32 levels) are `ValidationException`, in DynamoDB's wording.
    pub fn from_wire(v: &Value) -> Result<AttributeValue, DynamoError> {
        let raw = raw_value(v, 1)?;
        validate(raw, 1)
    }

    /// The wire form as a JSON value.
    pub fn to_wire(&self) -> Value {
        let (key, value) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", Value::String(STANDARD.encode(b))),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::M(m) => ("M", item_to_wire(m)),
            AttributeValue::L(l) => (
                "L",
                Value::Array(l.iter().map(AttributeValue::to_wire).collect()),
            ),
            AttributeValue::SS(s) => (
                "SS",
                Value::Array(s.iter().cloned().map(Value::String).collect()),
            ),
            AttributeValue::NS(n) => (
                "NS",
                Value::Array(n.iter().map(|n| Value::String(n.to_string())).collect()),
            ),
            AttributeValue::BS(b) => (
                "BS",
                Value::Array(
                    b.iter()
                        .map(|b| Value::String(STANDARD.encode(b)))
                        .collect(),
                ),
            ),
        };
        let mut obj = Map::with_capacity(1);
        obj.insert(key.to_owned(), value);
        Value::Object(obj)
    }
}

/// Checks only the JSON shape of a wire attribute value, for a request
/// decoder that must report every `SerializationException` in a request
/// before any `ValidationException`.
pub fn check_wire_shape(v: &Value) -> Result<(), DynamoError> {
    raw_value(v, 1).map(|_| ())
}

/// Reads an item (attribute name → wire value): every value's shape is
/// checked before any value's contents.
pub fn item_from_wire(map: &Map<String, Value>) -> Result<Item, DynamoError> {
    let raws = map
        .iter()
        .map(|(k, v)| Ok((k, raw_value(v, 1)?)))
        .collect::<Result<Vec<_>, DynamoError>>()?;
    let mut item = Item::new();
    for (name, raw) in raws {
        item.insert(name.clone(), validate(raw, 1)?);
    }
    Ok(item)
}

/// Reads an item given as any JSON value, with DynamoDB's messages for a
/// value that is not a JSON object.
pub fn item_from_wire_value(v: &Value) -> Result<Item, DynamoError> {
    match v {
        Value::Object(map) => item_from_wire(map),
        Value::Array(_) => Err(ser(
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
        )),
        Value::Null => Ok(Item::new()),
        _ => Err(ser(MSG_UNEXPECTED_FIELD)),
    }
}

/// An item in wire form: `{"name": {"S": "x"}, …}`.
pub fn item_to_wire(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect())
}

struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(self.0))
    }
}

struct Base64Set<'a>(&'a [Vec<u8>]);

impl Serialize for Base64Set<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(&Base64(b))?;
        }
        seq.end()
    }
}

/// Writes the wire form directly: `{"S":"x"}`, `{"N":"1.5"}`, `{"B":"<base64>"}`, …
impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", n)?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::SS(s) => map.serialize_entry("SS", s)?,
            AttributeValue::NS(n) => map.serialize_entry("NS", n)?,
            AttributeValue::BS(b) => map.serialize_entry("BS", &Base64Set(b))?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;

    fn read(v: Value) -> Result<AttributeValue, DynamoError> {
        AttributeValue::from_wire(&v)
    }

    fn err(v: Value) -> (ErrorKind, String) {
        let e = read(v.clone()).expect_err(&v.to_string());
        (e.kind, e.message)
    }

    fn validation(msg: &str) -> (ErrorKind, String) {
        (ErrorKind::ValidationException, msg.to_string())
    }

    fn serialization(msg: &str) -> (ErrorKind, String) {
        (ErrorKind::SerializationException, msg.to_string())
    }

    #[test]
    fn reads_every_type() {
        let n = |s: &str| Number::parse(s).unwrap();
        assert_eq!(read(json!({"S": "x"})), Ok(AttributeValue::S("x".into())));
        assert_eq!(read(json!({"S": ""})), Ok(AttributeValue::S(String::new())));
        assert_eq!(read(json!({"N": "1.50"})), Ok(AttributeValue::N(n("1.5"))));
        assert_eq!(
            read(json!({"B": "AQI="})),
            Ok(AttributeValue::B(vec![1, 2]))
        );
        assert_eq!(read(json!({"B": ""})), Ok(AttributeValue::B(vec![])));
        assert_eq!(
            read(json!({"BOOL": false})),
            Ok(AttributeValue::Bool(false))
        );
        assert_eq!(read(json!({"BOOL": "yes"})), Ok(AttributeValue::Bool(true)));
        assert_eq!(read(json!({"NULL": true})), Ok(AttributeValue::Null));
        assert_eq!(
            read(json!({"SS": ["b", "a", ""]})),
            Ok(AttributeValue::SS(vec![
                "b".into(),
                "a".into(),
                String::new()
            ]))
        );
        assert_eq!(
            read(json!({"NS": ["2", "1"]})),
            Ok(AttributeValue::NS(vec![n("2"), n("1")]))
        );
        assert_eq!(
            read(json!({"BS": ["AA==", ""]})),
            Ok(AttributeValue::BS(vec![vec![0], vec![]]))
        );
        assert_eq!(
            read(json!({"L": [{"S": "a"}, null, {"N": "1"}]})),
            Ok(AttributeValue::L(vec![
                AttributeValue::S("a".into()),
                AttributeValue::N(n("1"))
            ]))
        );
        let mut m = Item::new();
        m.insert("k".into(), AttributeValue::Bool(true));
        assert_eq!(
            read(json!({"M": {"k": {"BOOL": true}}})),
            Ok(AttributeValue::M(m))
        );
        // Unknown members and null members are ignored.
        assert_eq!(
            read(json!({"S": "a", "X": 5, "N": null})),
            Ok(AttributeValue::S("a".into()))
        );
    }

    #[test]
    fn validation_messages() {
        assert_eq!(err(json!({})), validation(MSG_EMPTY_VALUE));
        assert_eq!(err(json!({"X": "a"})), validation(MSG_EMPTY_VALUE));
        assert_eq!(
            err(json!({"S": "a", "BOOL": true})),
            validation(MSG_MANY_TYPES)
        );
        // The number is checked before the count of types.
        assert_eq!(
            err(json!({"S": "a", "N": "b"})),
            validation("The parameter cannot be converted to a numeric value: b")
        );
        assert_eq!(err(json!({"NULL": false})), validation(MSG_NULL_FALSE));
        assert_eq!(err(json!({"SS": []})), validation(MSG_EMPTY_SS));
        assert_eq!(err(json!({"NS": []})), validation(MSG_EMPTY_NS));
        assert_eq!(err(json!({"BS": []})), validation(MSG_EMPTY_BS));
        assert_eq!(err(json!({"SS": [null]})), validation(MSG_EMPTY_SS));
        assert_eq!(
            err(json!({"SS": ["b", "a", "b"]})),
            validation("One or more parameter values were invalid: Input collection [\"a\", \"b\", \"b\"] contains duplicates.")
        );
        assert_eq!(
            err(json!({"SS": ["c", "a", "c", "b"]})),
            validation("One or more parameter values were invalid: Input collection [\"a\", \"c\", \"c\", \"b\"] contains duplicates.")
        );
        assert_eq!(
            err(json!({"BS": ["/w==", "AA==", "AA=="]})),
            validation("One or more parameter values were invalid: Input collection [\"AA==\",\"/w==\",\"AA==\"]of type BS contains duplicates.")
        );
        assert_eq!(
            err(json!({"NS": ["2", "1", "2.0"]})),
            validation(MSG_NS_DUPLICATES)
        );
        assert_eq!(
            err(json!({"NS": ["1", ""]})),
            validation("The parameter cannot be converted to a numeric value: ")
        );
        assert_eq!(
            err(json!({"N": "1e126"})),
            validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
        );
        assert_eq!(err(json!({"L": [{}]})), validation(MSG_EMPTY_VALUE));
        assert_eq!(
            err(json!({"M": {"a": {"NULL": false}}})),
            validation(MSG_NULL_FALSE)
        );
    }

    #[test]
    fn serialization_messages() {
        assert_eq!(
            err(json!({"S": 5})),
            serialization("NUMBER_VALUE cannot be converted to String")
        );
        assert_eq!(
            err(json!({"N": 1.5})),
            serialization("DECIMAL_VALUE cannot be converted to String")
        );
        assert_eq!(
            err(json!({"S": true})),
            serialization("TRUE_VALUE cannot be converted to String")
        );
        assert_eq!(
            err(json!({"S": []})),
            serialization("Unrecognized collection type class java.lang.String")
        );
        assert_eq!(
            err(json!({"S": {}})),
            serialization("Start of structure or map found where not expected")
        );
        assert_eq!(
            err(json!({"L": "x"})),
            serialization("Unexpected field type")
        );
        assert_eq!(
            err(json!({"SS": {}})),
            serialization("Start of structure or map found where not expected")
        );
        assert_eq!(
            err(json!({"M": []})),
            serialization("Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>")
        );
        assert_eq!(err(json!({"M": 1})), serialization("Unexpected field type"));
        assert_eq!(
            err(json!("x")),
            serialization("Unexpected value type in payload")
        );
        assert_eq!(
            err(json!([])),
            serialization("Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue")
        );
        assert_eq!(
            err(json!({"BOOL": 1})),
            serialization("NUMBER_VALUE cannot be converted to Boolean")
        );
        assert_eq!(
            err(json!({"BOOL": "maybe"})),
            serialization("Unexpected token received from parser")
        );
        assert_eq!(
            err(json!({"B": 5})),
            serialization("only base-64-encoded strings are convertible to bytes")
        );
        assert_eq!(
            err(json!({"B": "23456"})),
            serialization("Base64 encoded length is expected a multiple of 4 bytes but found: 5")
        );
        assert_eq!(
            err(json!({"B": "=+/="})),
            serialization(MSG_BAD_LAST_BASE64)
        );
        assert_eq!(
            err(json!({"B": "+/+="})),
            serialization(MSG_BAD_LAST_BASE64)
        );
        // Shape problems anywhere beat content problems anywhere.
        assert_eq!(
            err(json!({"L": [{"N": "bad"}, {"S": 1}]})),
            serialization("NUMBER_VALUE cannot be converted to String")
        );
        let item = json!({"a": {"N": "x"}, "b": {"B": "!"}});
        let e = item_from_wire(item.as_object().unwrap()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SerializationException);
    }

    #[test]
    fn nesting_limit() {
        let deep = |levels: usize| {
            let mut v = json!({"S": "leaf"});
            for _ in 0..levels {
                v = json!({"M": {"n": v}});
            }
            v
        };
        assert!(read(deep(31)).is_ok());
        assert_eq!(err(deep(32)), validation(MSG_NESTING));
        let mut l = json!({"N": "1"});
        for _ in 0..32 {
            l = json!({"L": [l]});
        }
        assert_eq!(err(l), validation(MSG_NESTING));
    }

    #[test]
    fn writes_wire_form() {
        let v = read(json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AQI="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"N": "1e2"}]}, "ss": {"SS": ["a"]},
            "ns": {"NS": ["-0.5"]}, "bs": {"BS": ["AA=="]}
        }}))
        .unwrap();
        let want = json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": "AQI="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"N": "100"}]}, "ss": {"SS": ["a"]},
            "ns": {"NS": ["-0.5"]}, "bs": {"BS": ["AA=="]}
        }});
        assert_eq!(serde_json::to_value(&v).unwrap(), want);
        assert_eq!(v.to_wire(), want);
        assert_eq!(
            serde_json::to_string(&AttributeValue::N(Number::parse("1e1").unwrap())).unwrap(),
            r#"{"N":"10"}"#
        );
        let item = item_from_wire(json!({"a": {"S": "x"}}).as_object().unwrap()).unwrap();
        assert_eq!(item_to_wire(&item), json!({"a": {"S": "x"}}));
    }
}
