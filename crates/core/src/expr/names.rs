//! Expression attribute names (`#n`) and values (`:v`): resolving them,
//! recording which ones a request used, and the request-level checks on the
//! two maps (empty maps, malformed keys, unused entries).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::DynamoError;
use crate::value::AttributeValue;

/// A read-only map from placeholder to its definition; implemented for the
/// usual map types so the engine can pass whatever it decoded.
pub trait PlaceholderMap<V> {
    fn lookup(&self, key: &str) -> Option<&V>;
    fn placeholder_keys(&self) -> Vec<&str>;
}

impl<V> PlaceholderMap<V> for BTreeMap<String, V> {
    fn lookup(&self, key: &str) -> Option<&V> {
        self.get(key)
    }
    fn placeholder_keys(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }
}

impl<V, S: std::hash::BuildHasher> PlaceholderMap<V> for HashMap<String, V, S> {
    fn lookup(&self, key: &str) -> Option<&V> {
        self.get(key)
    }
    fn placeholder_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }
}

/// Bytes of expression attribute values the expressions of one request may
/// reference in all, each reference counted. Every reference is a copy of
/// its value in the parsed expression (and a SET's is copied again into the
/// item before the item's size is checked), so without a bound an 8 MB
/// value named 150 times in one UpdateExpression took 3.6 GB. DynamoDB
/// documents 2 MB for the maps themselves; this bound, the largest body,
/// is chosen without direct evidence and refuses only values referenced
/// many times over.
pub const MAX_REFERENCED_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// The placeholders of one request, shared by all of its expressions, with
/// a record of which were used.
pub struct Placeholders<'a> {
    names: Option<&'a dyn PlaceholderMap<String>>,
    values: Option<&'a dyn PlaceholderMap<AttributeValue>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
    /// The size of each value referenced so far, and of every reference.
    value_sizes: BTreeMap<String, usize>,
    referenced: usize,
}

impl<'a> Placeholders<'a> {
    pub fn new(
        names: Option<&'a dyn PlaceholderMap<String>>,
        values: Option<&'a dyn PlaceholderMap<AttributeValue>>,
    ) -> Self {
        Placeholders {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
            value_sizes: BTreeMap::new(),
            referenced: 0,
        }
    }

    /// Counts `bytes` already referenced by other expression sets of the
    /// same request (a transaction's earlier entries) against the bound.
    pub fn with_referenced(mut self, bytes: usize) -> Self {
        self.referenced = bytes;
        self
    }

    /// Bytes of values referenced so far, those given to
    /// [`Placeholders::with_referenced`] included.
    pub fn referenced(&self) -> usize {
        self.referenced
    }

    /// No names and no values.
    pub fn empty() -> Self {
        Placeholders::new(None, None)
    }

    /// The attribute name `#n` stands for, or DynamoDB's message (without
    /// the `Invalid <Expression>: ` prefix) when it is not defined.
    pub fn resolve_name(&mut self, placeholder: &str) -> Result<String, String> {
        match self.names.and_then(|m| m.lookup(placeholder)) {
            Some(name) => {
                self.used_names.insert(placeholder.to_string());
                Ok(name.clone())
            }
            None => Err(format!(
                "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
            )),
        }
    }

    /// The value `:v` stands for, or DynamoDB's message when it is not
    /// defined, or the refusal once the request's references pass
    /// [`MAX_REFERENCED_VALUE_BYTES`] (checked before the value is copied).
    pub fn resolve_value(&mut self, placeholder: &str) -> Result<AttributeValue, String> {
        match self.values.and_then(|m| m.lookup(placeholder)) {
            Some(v) => {
                self.used_values.insert(placeholder.to_string());
                let size = *self
                    .value_sizes
                    .entry(placeholder.to_string())
                    .or_insert_with(|| crate::size::value_size(v));
                self.referenced = self.referenced.saturating_add(size);
                if self.referenced > MAX_REFERENCED_VALUE_BYTES {
                    return Err(format!(
                        "Expression attribute values referenced in the expressions have exceeded the maximum allowed size; referenced size: {}",
                        self.referenced
                    ));
                }
                Ok(v.clone())
            }
            None => Err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            )),
        }
    }

    /// After every expression of the request has been parsed: names, then
    /// values, that no expression used.
    pub fn check_unused(&self) -> Result<(), DynamoError> {
        if let Some(names) = self.names {
            let unused: Vec<&str> = names
                .placeholder_keys()
                .into_iter()
                .filter(|k| !self.used_names.contains(*k))
                .collect();
            if !unused.is_empty() {
                return Err(DynamoError::validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            let unused: Vec<&str> = values
                .placeholder_keys()
                .into_iter()
                .filter(|k| !self.used_values.contains(*k))
                .collect();
            if !unused.is_empty() {
                return Err(DynamoError::validation(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        Ok(())
    }
}

fn valid_key(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil)
        && key.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The checks DynamoDB makes on the two maps themselves, before parsing any
/// expression: neither may be empty, and every key must be `#name`/`:name`.
pub fn validate_placeholder_maps(
    names: Option<&dyn PlaceholderMap<String>>,
    values: Option<&dyn PlaceholderMap<AttributeValue>>,
) -> Result<(), DynamoError> {
    if let Some(names) = names {
        let keys = names.placeholder_keys();
        if keys.is_empty() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if let Some(bad) = keys.iter().find(|k| !valid_key(k, '#')) {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
    }
    if let Some(values) = values {
        let keys = values.placeholder_keys();
        if keys.is_empty() {
            return Err(DynamoError::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        if let Some(bad) = keys.iter().find(|k| !valid_key(k, ':')) {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
    }
    Ok(())
}

/// ExpressionAttributeNames/Values given to a request that has no
/// expression to use them: names need any expression, values one that can
/// hold values (every expression but ProjectionExpression). Since June 2026
/// DynamoDB no longer names the missing expression in the message.
pub fn check_placeholders_without_expressions(
    any_expression: bool,
    any_value_expression: bool,
    has_names: bool,
    has_values: bool,
) -> Result<(), DynamoError> {
    if has_names && !any_expression {
        return Err(DynamoError::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    if has_values && !any_value_expression {
        return Err(DynamoError::validation(
            "ExpressionAttributeValues can only be specified when using expressions",
        ));
    }
    Ok(())
}
