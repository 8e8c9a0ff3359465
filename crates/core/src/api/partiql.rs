//! PartiQL requests and responses: ExecuteStatement, BatchExecuteStatement,
//! ExecuteTransaction.

use serde::{Deserialize, Deserializer, Serialize};

use super::item::ItemResponse;
use super::table::wire_struct;
use super::ConsumedCapacity;
use crate::value::{AttributeValue, Item};

wire_struct! {
    pub struct ExecuteStatementInput {
        pub statement: String,
        #[serde(deserialize_with = "parameters")]
        pub parameters: Vec<AttributeValue>,
        pub consistent_read: bool,
        pub next_token: String,
        pub return_consumed_capacity: String,
        pub limit: i64,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct ExecuteStatementOutput {
        /// Always present, empty for a write without RETURNING.
        pub items: Vec<Item>,
        pub next_token: String,
        pub consumed_capacity: ConsumedCapacity,
        pub last_evaluated_key: Item,
    }
}

wire_struct! {
    pub struct BatchStatementRequest {
        pub statement: String,
        #[serde(deserialize_with = "parameters")]
        pub parameters: Vec<AttributeValue>,
        pub consistent_read: bool,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct BatchExecuteStatementInput {
        pub statements: Vec<BatchStatementRequest>,
        pub return_consumed_capacity: String,
    }
}

wire_struct! {
    pub struct BatchStatementError {
        pub code: String,
        pub message: String,
        pub item: Item,
    }
}

wire_struct! {
    pub struct BatchStatementResponse {
        pub error: BatchStatementError,
        pub table_name: String,
        pub item: Item,
    }
}

wire_struct! {
    pub struct BatchExecuteStatementOutput {
        pub responses: Vec<BatchStatementResponse>,
        pub consumed_capacity: Vec<ConsumedCapacity>,
    }
}

wire_struct! {
    pub struct ParameterizedStatement {
        pub statement: String,
        #[serde(deserialize_with = "parameters")]
        pub parameters: Vec<AttributeValue>,
        pub return_values_on_condition_check_failure: String,
    }
}

wire_struct! {
    pub struct ExecuteTransactionInput {
        pub transact_statements: Vec<ParameterizedStatement>,
        pub client_request_token: String,
        pub return_consumed_capacity: String,
    }
}

wire_struct! {
    pub struct ExecuteTransactionOutput {
        pub responses: Vec<ItemResponse>,
        pub consumed_capacity: Vec<ConsumedCapacity>,
    }
}

/// `Parameters`: attribute values, with PartiQL's words for numbers that
/// cannot be read at all (DynamoDB reads a parameter's number as Java's
/// BigDecimal first: an exponent or scale beyond 32 bits cannot be
/// converted, and a precision-minus-scale that wraps reads as underflow).
fn parameters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<AttributeValue>>, D::Error> {
    use serde::de::Error as _;
    let raw: Option<Vec<serde_json::Value>> = Option::deserialize(d)?;
    let Some(raw) = raw else {
        return Ok(None);
    };
    raw.iter()
        .map(|v| {
            check_numbers(v)
                .and_then(|_| AttributeValue::from_wire(v))
                .map_err(|e| {
                    D::Error::custom(format!(
                        "{}{}",
                        super::ATTRIBUTE_VALIDATION_MARKER,
                        e.message
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn check_numbers(v: &serde_json::Value) -> Result<(), crate::DynamoError> {
    let Some(obj) = v.as_object() else {
        return Ok(());
    };
    for (tag, inner) in obj {
        match (tag.as_str(), inner) {
            ("N", serde_json::Value::String(n)) => check_number(n)?,
            ("NS", serde_json::Value::Array(list)) => {
                for n in list.iter().filter_map(|n| n.as_str()) {
                    check_number(n)?;
                }
            }
            ("L", serde_json::Value::Array(list)) => list.iter().try_for_each(check_numbers)?,
            ("M", serde_json::Value::Object(map)) => map.values().try_for_each(check_numbers)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_number(text: &str) -> Result<(), crate::DynamoError> {
    const CANNOT: &str = "The parameter cannot be converted to a numeric value";
    if text.is_empty() {
        return Err(crate::DynamoError::validation(CANNOT));
    }
    let cannot = || crate::DynamoError::validation(format!("{CANNOT}: {text}"));
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
    let all: String = format!("{int}{frac}");
    let precision = all.trim_start_matches('0').len().max(1) as i64;
    if precision - scale > i32::MAX as i64 {
        return Err(crate::DynamoError::validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        crate::api::from_json_body::<ExecuteStatementInput>(body.as_bytes())
            .unwrap_err()
            .message
    }

    #[test]
    fn parameter_numbers_that_cannot_be_read() {
        for n in [
            "1e99999999999",
            "-1e99999999999",
            "1e-99999999999",
            "1e2147483648",
            "1e-2147483648",
        ] {
            assert_eq!(
                message(&format!(
                    r#"{{"Statement":"x","Parameters":[{{"N":"{n}"}}]}}"#
                )),
                format!("The parameter cannot be converted to a numeric value: {n}")
            );
        }
        assert_eq!(
            message(r#"{"Statement":"x","Parameters":[{"N":""}]}"#),
            "The parameter cannot be converted to a numeric value"
        );
        assert_eq!(
            message(
                r#"{"Statement":"x","Parameters":[{"L":[{"N":"1"},{"M":{"x":{"N":"abc"}}}]}]}"#
            ),
            "The parameter cannot be converted to a numeric value: abc"
        );
        assert_eq!(
            message(r#"{"Statement":"x","Parameters":[{"N":"1e2147483647"}]}"#),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        );
        let ok = crate::api::from_json_body::<ExecuteStatementInput>(
            br#"{"Statement":"x","Parameters":[{"N":"-1.5e3"},{"NS":["1","2"]}]}"#,
        )
        .unwrap();
        assert_eq!(ok.parameters.unwrap().len(), 2);
    }
}
