//! Pure DynamoDB semantics with no I/O and no async runtime: attribute
//! values, 38-digit numbers, item size, order-preserving key encoding,
//! expressions (parse → AST → evaluate) and the error catalogue.
#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod expr;
pub mod keyenc;
pub mod number;
pub mod partiql;
pub mod size;
pub mod value;

pub use error::{CancellationReason, DynamoError, ErrorKind};
pub use number::Number;
pub use value::{AttributeValue, Item};
