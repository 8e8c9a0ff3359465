//! DynamoDB's PartiQL dialect: text → tokens (`lexer`) → statement tree
//! (`parser`, `ast`) → values bound from `Parameters` and checked (`bind`).
//!
//! Hand-written rather than generated or taken from a crate: no maintained
//! Rust crate parses DynamoDB's dialect (its ion literals, `<<bags>>`,
//! `"table"."index"` sources, RETURNING, FROM-first updates), and DynamoDB's
//! answers to malformed statements name the token and position at fault in
//! its own words, which only a parser we control can reproduce.

pub mod ast;
pub mod bind;
pub mod lexer;
pub mod parser;

pub use ast::*;
pub use parser::{parse, parse_detailed, Parsed, Refused};

#[cfg(test)]
mod limits_tests;
