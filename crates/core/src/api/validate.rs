//! The framework-level constraint checks DynamoDB runs before an action
//! sees a request (lengths, patterns, enums, ranges, required members),
//! reported together as "N validation error(s) detected: ...".

use crate::error::DynamoError;

/// Collects constraint violations in the order DynamoDB reports them.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<String>,
}

/// The table-name constraint shared by every action.
pub const TABLE_NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a violation with the value shown as DynamoDB shows it
    /// (`'x'` for present values, `null` for missing ones).
    pub fn push(&mut self, shown_value: &str, member: &str, constraint: &str) {
        self.items.push(format!(
            "Value {shown_value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A violation in today's form that names the member but shows no value:
    /// `Value at 'Member' failed to satisfy constraint: ...`.
    pub fn push_unnamed_value(&mut self, member: &str, constraint: &str) {
        self.items.push(format!(
            "Value at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A violation in today's form that names neither value nor member:
    /// `Failed to satisfy constraint: ...`.
    pub fn push_unnamed(&mut self, constraint: &str) {
        self.items
            .push(format!("Failed to satisfy constraint: {constraint}"));
    }

    /// `Member must not be null`.
    pub fn require<T>(&mut self, value: &Option<T>, member: &str) {
        if value.is_none() {
            self.push("null", member, "Member must not be null");
        }
    }

    /// A required table name of `[a-zA-Z0-9_.-]`: CreateTable wants 3–255
    /// characters, the other actions (which also take ARNs) 1–255.
    pub fn table_name(&mut self, name: Option<&str>, member: &str, min_len: usize) {
        match name {
            None => self.push("null", member, "Member must not be null"),
            Some(n) => self.name_constraints(n, member, min_len, 255),
        }
    }

    /// Length and pattern checks of a name, each reported separately.
    pub fn name_constraints(&mut self, n: &str, member: &str, min: usize, max: usize) {
        let valid_chars = n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        let len = n.chars().count();
        if valid_chars && (min..=max).contains(&len) {
            return;
        }
        let shown = format!("'{n}'");
        if !valid_chars {
            self.push(
                &shown,
                member,
                &format!("Member must satisfy regular expression pattern: {TABLE_NAME_PATTERN}"),
            );
        }
        if len < min {
            self.push(
                &shown,
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                &shown,
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Checks an enumerated string against its allowed values.
    pub fn one_of(&mut self, value: Option<&str>, member: &str, allowed: &[&str]) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.push(
                    &format!("'{v}'"),
                    member,
                    &format!(
                        "Member must satisfy enum value set: [{}]",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    /// A numeric lower bound.
    pub fn at_least(&mut self, value: Option<i64>, member: &str, min: i64) {
        if let Some(v) = value {
            if v < min {
                self.push(
                    &format!("'{v}'"),
                    member,
                    &format!("Member must have value greater than or equal to {min}"),
                );
            }
        }
    }

    /// A numeric upper bound.
    pub fn at_most(&mut self, value: Option<i64>, member: &str, max: i64) {
        if let Some(v) = value {
            if v > max {
                self.push(
                    &format!("'{v}'"),
                    member,
                    &format!("Member must have value less than or equal to {max}"),
                );
            }
        }
    }

    /// The collected error, if any.
    pub fn into_result(self) -> Result<(), DynamoError> {
        match self.items.len() {
            0 => Ok(()),
            1 => Err(DynamoError::validation(format!(
                "1 validation error detected: {}",
                self.items[0]
            ))),
            n => Err(DynamoError::validation(format!(
                "{n} validation errors detected: {}",
                self.items.join("; ")
            ))),
        }
    }
}

/// Enumerations in the order DynamoDB lists them in its messages.
/// `ReturnConsumedCapacity` values.
pub const RETURN_CONSUMED_CAPACITY: &[&str] = &["INDEXES", "TOTAL", "NONE"];
/// `ReturnValues` values.
pub const RETURN_VALUES: &[&str] = &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];
/// `ReturnItemCollectionMetrics` values.
pub const RETURN_ITEM_COLLECTION_METRICS: &[&str] = &["SIZE", "NONE"];
/// `ReturnValuesOnConditionCheckFailure` values.
pub const RETURN_VALUES_ON_CCF: &[&str] = &["ALL_OLD", "NONE"];
/// `ConditionalOperator` values.
pub const CONDITIONAL_OPERATOR: &[&str] = &["OR", "AND"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multiple_violations() {
        let mut v = Violations::new();
        v.table_name(Some("ab"), "tableName", 3);
        let e = v.into_result().unwrap_err();
        assert_eq!(e.message, "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3");

        let mut v = Violations::new();
        v.table_name(Some("a!"), "tableName", 3);
        let e = v.into_result().unwrap_err();
        assert!(e.message.starts_with("2 validation errors detected: "));
        assert!(e
            .message
            .contains("regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!'"));
    }

    #[test]
    fn missing_required_member() {
        let mut v = Violations::new();
        v.table_name(None, "tableName", 3);
        assert_eq!(
            v.into_result().unwrap_err().message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
    }
}
