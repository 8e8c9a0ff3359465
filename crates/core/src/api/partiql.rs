//! PartiQL requests and responses: ExecuteStatement, BatchExecuteStatement,
//! ExecuteTransaction.

use serde::{Deserialize, Deserializer, Serialize};

use super::item::ItemResponse;
use super::table::wire_struct;
use super::ConsumedCapacity;
use crate::error::DynamoError;
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

/// One statement of a BatchExecuteStatement. A parameter that cannot be
/// read fails only its own statement, so the decoder keeps its error here
/// instead of refusing the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", from = "BatchStatementWire")]
pub struct BatchStatementRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<AttributeValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_values_on_condition_check_failure: Option<String>,
    /// Why `Parameters` could not be read, when they could not.
    #[serde(skip)]
    pub parameter_error: Option<DynamoError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchStatementWire {
    #[serde(default)]
    statement: Option<String>,
    #[serde(default, deserialize_with = "super::parameters::read")]
    parameters: Option<Result<Vec<AttributeValue>, DynamoError>>,
    #[serde(default)]
    consistent_read: Option<bool>,
    #[serde(default)]
    return_values_on_condition_check_failure: Option<String>,
}

impl From<BatchStatementWire> for BatchStatementRequest {
    fn from(w: BatchStatementWire) -> Self {
        let (parameters, parameter_error) = match w.parameters {
            None => (None, None),
            Some(Ok(values)) => (Some(values), None),
            Some(Err(e)) => (None, Some(e)),
        };
        BatchStatementRequest {
            statement: w.statement,
            parameters,
            consistent_read: w.consistent_read,
            return_values_on_condition_check_failure: w.return_values_on_condition_check_failure,
            parameter_error,
        }
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

/// `Parameters` of a statement whose parameter problems fail the request.
fn parameters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<AttributeValue>>, D::Error> {
    use serde::de::Error as _;
    match super::parameters::read(d)? {
        None => Ok(None),
        Some(Ok(values)) => Ok(Some(values)),
        Some(Err(e)) => Err(D::Error::custom(format!(
            "{}{}",
            super::ATTRIBUTE_VALIDATION_MARKER,
            e.message
        ))),
    }
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

    const NEST: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";

    /// `{"M":{"n": … {"S":"leaf"} …}}`, `depth` maps deep.
    fn deep(depth: usize, leaf: &str) -> String {
        let mut v = leaf.to_string();
        for _ in 0..depth {
            v = format!(r#"{{"M":{{"n":{v}}}}}"#);
        }
        v
    }

    fn params(list: &[String]) -> String {
        format!(r#"{{"Statement":"x","Parameters":[{}]}}"#, list.join(","))
    }

    #[test]
    fn the_first_parameter_problem_in_the_order_sent_wins() {
        let leaf = r#"{"S":"leaf"}"#;
        let bad = r#"{"N":"abc"}"#.to_string();
        for depth in [40, 100, 120] {
            assert_eq!(message(&params(&[deep(depth, leaf), bad.clone()])), NEST);
            assert_eq!(
                message(&params(&[bad.clone(), deep(depth, leaf)])),
                "The parameter cannot be converted to a numeric value: abc"
            );
            // Map members in the order written, not sorted by name.
            let d = deep(depth, leaf);
            assert_eq!(
                message(&params(&[format!(r#"{{"M":{{"d":{d},"bad":{bad}}}}}"#)])),
                NEST
            );
            assert_eq!(
                message(&params(&[format!(r#"{{"M":{{"bad":{bad},"d":{d}}}}}"#)])),
                "The parameter cannot be converted to a numeric value: abc"
            );
            // Too deep is met on the way down, before the number at the bottom.
            assert_eq!(message(&params(&[deep(depth, &bad)])), NEST);
            // Before a number that reads but is out of range.
            assert_eq!(
                message(&params(&[deep(depth, leaf), r#"{"N":"1e126"}"#.into()])),
                NEST
            );
        }
        // 31 maps under the parameter is 32 levels: allowed.
        let ok = crate::api::from_json_body::<ExecuteStatementInput>(
            params(&[deep(31, leaf)]).as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.parameters.unwrap().len(), 1);
        assert_eq!(message(&params(&[deep(32, leaf)])), NEST);
    }

    #[test]
    fn a_badly_shaped_parameter_fails_the_request_before_any_content() {
        let e = crate::api::from_json_body::<ExecuteStatementInput>(
            params(&[r#"{"N":"abc"}"#.into(), r#"{"S":5}"#.into()]).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::SerializationException);
        let e = crate::api::from_json_body::<BatchExecuteStatementInput>(
            br#"{"Statements":[{"Statement":"x","Parameters":[{"S":5}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::SerializationException);
    }

    #[test]
    fn parameters_deeper_than_the_json_limit_are_not_read() {
        let too_deep = format!(
            r#"{{"Statement":"x","Parameters":[{}{}]}}"#,
            "[".repeat(super::super::parameters::MAX_JSON_DEPTH + 1),
            "]".repeat(super::super::parameters::MAX_JSON_DEPTH + 1)
        );
        let e =
            crate::api::from_json_body::<ExecuteStatementInput>(too_deep.as_bytes()).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::SerializationException);
    }

    /// The deepest parameter read (every pass recurses once per level) fits
    /// in the 2 MiB stack of a Tokio worker or a spawned thread, unoptimised.
    #[test]
    fn the_deepest_parameter_fits_a_small_stack() {
        let depth = (super::super::parameters::MAX_JSON_DEPTH - 1) / 2;
        let body = params(&[deep(depth, r#"{"S":"leaf"}"#)]);
        let answer = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                crate::api::from_json_body::<ExecuteStatementInput>(body.as_bytes())
                    .unwrap_err()
                    .message
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(answer, NEST);
    }

    #[test]
    fn a_batch_keeps_each_statements_parameter_problem() {
        let input = crate::api::from_json_body::<BatchExecuteStatementInput>(
            format!(
                r#"{{"Statements":[{{"Statement":"a","Parameters":[{}]}},{{"Statement":"b","Parameters":[{{"N":"1"}}]}},{{"Statement":"c","Parameters":[{{"N":"1e99999999999"}}]}}]}}"#,
                deep(40, r#"{"N":"abc"}"#)
            )
            .as_bytes(),
        )
        .unwrap();
        let statements = input.statements.unwrap();
        let errors: Vec<Option<String>> = statements
            .iter()
            .map(|s| s.parameter_error.as_ref().map(|e| e.message.clone()))
            .collect();
        assert_eq!(
            errors,
            [
                Some(NEST.to_string()),
                None,
                Some(
                    "The parameter cannot be converted to a numeric value: 1e99999999999"
                        .to_string()
                )
            ]
        );
        assert_eq!(statements[1].parameters.as_ref().map(Vec::len), Some(1));
        assert_eq!(statements[0].parameters, None);
    }
}
