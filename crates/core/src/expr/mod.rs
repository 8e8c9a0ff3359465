//! DynamoDB's expression language: parse (`parser`) → tree (`ast`) →
//! resolve placeholders (`names`) → evaluate (`eval`), apply (`update`) or
//! project (`projection`); `keycond` checks a Query's key condition against
//! the key schema; `legacy` turns the pre-expression parameters (Expected,
//! QueryFilter/ScanFilter, AttributeUpdates, AttributesToGet) into the same
//! trees.

pub mod ast;
pub mod eval;
pub mod keycond;
pub mod legacy;
pub mod lexer;
pub mod names;
pub mod parser;
pub mod print;
pub mod projection;
pub mod reserved;
mod syntax;
pub mod update;

pub use ast::*;
pub use eval::{evaluate, get_path, values_equal};
pub use keycond::{
    analyze_key_condition, check_key_condition_shape, check_key_conditions,
    key_conditions_to_query, KeyAttr, KeyQuery, QuerySchema, SortRange,
};
pub use names::{
    check_placeholders_without_expressions, validate_placeholder_maps, PlaceholderMap,
    Placeholders, MAX_REFERENCED_VALUE_BYTES,
};
pub use parser::{parse_condition, parse_projection, parse_update};
pub use projection::project;
pub use update::{apply_update, UpdatedPaths};

/// Which request parameter an expression came from; it names the expression
/// in every message (`Invalid ConditionExpression: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExpressionKind {
    /// The request parameter's name.
    pub fn parameter_name(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }
}
