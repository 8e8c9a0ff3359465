//! The pre-expression request parameters — `Expected` (with
//! `ConditionalOperator`), `QueryFilter`/`ScanFilter`, `AttributeUpdates`
//! and `AttributesToGet` — validated with DynamoDB's messages and turned
//! into the same trees the expression parsers produce. Also the rule that
//! the two styles can't mix. (`KeyConditions` is in `keycond`.)

use std::collections::BTreeMap;

use super::ast::*;
use super::eval::compare_scalars;
use super::update::{apply_update, UpdatedPaths};
use crate::error::DynamoError;
use crate::value::{AttributeValue, Item};

const INVALID: &str = "One or more parameter values were invalid: ";

/// Rejects a request that carries both styles. Each slice lists the
/// parameters present, in the order DynamoDB names them (e.g.
/// `["Expected"]`, `["ConditionExpression"]`).
pub fn check_no_mixing(non_expression: &[&str], expression: &[&str]) -> Result<(), DynamoError> {
    if non_expression.is_empty() || expression.is_empty() {
        return Ok(());
    }
    Err(DynamoError::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
        non_expression.join(", "),
        expression.join(", ")
    )))
}

/// One entry of `Expected` (also the shape of a QueryFilter/ScanFilter
/// entry, which has only `comparison_operator` and `attribute_value_list`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpectedAttributeValue {
    pub value: Option<AttributeValue>,
    pub exists: Option<bool>,
    pub comparison_operator: Option<String>,
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

/// `ConditionalOperator`: how the entries of `Expected` combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionalOperator {
    #[default]
    And,
    Or,
}

/// The ComparisonOperator values, in the order DynamoDB lists them.
pub const COMPARISON_OPERATORS: &[&str] = &[
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
];

/// The member check on the ComparisonOperator of one entry of a legacy
/// condition map, `member` being the parameter as DynamoDB spells it in
/// messages (`keyConditions`, `queryFilter`, `scanFilter`). DynamoDB lists
/// this among a request's other member errors ("N validation errors
/// detected"); a caller that collects those should check there first with
/// [`COMPARISON_OPERATORS`], and this reports it alone.
pub fn check_comparison_operator<'e>(
    member: &str,
    name: &str,
    op: Option<&'e str>,
) -> Result<&'e str, DynamoError> {
    let path = format!("{member}.{name}.member.comparisonOperator");
    match op {
        None => Err(DynamoError::validation(format!(
            "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ))),
        Some(op) if !COMPARISON_OPERATORS.contains(&op) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{op}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            COMPARISON_OPERATORS.join(", ")
        ))),
        Some(op) => Ok(op),
    }
}

fn invalid(msg: String) -> DynamoError {
    DynamoError::validation(format!("{INVALID}{msg}"))
}

/// The value types each ComparisonOperator accepts in its AttributeValueList.
fn allowed_types(op: &str) -> Option<&'static [&'static str]> {
    Some(match op {
        "EQ" | "NE" => &["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"],
        "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "IN" | "BETWEEN" => {
            &["S", "N", "B"]
        }
        "BEGINS_WITH" => &["S", "B"],
        "NULL" | "NOT_NULL" => &[],
        _ => return None,
    })
}

/// One condition on `name` from a ComparisonOperator and its arguments,
/// checking the argument count, types and BETWEEN bounds.
pub fn comparison_condition(
    name: &str,
    op: &str,
    args: &[AttributeValue],
) -> Result<Condition, DynamoError> {
    let path = || Operand::Path(DocumentPath::attribute(name));
    let lit = |v: &AttributeValue| Operand::Value(ValueRef::Literal(v.clone()));
    let arity_ok = match op {
        "NULL" | "NOT_NULL" => args.is_empty(),
        "IN" => !args.is_empty(),
        "BETWEEN" => args.len() == 2,
        _ => args.len() == 1,
    };
    let Some(types) = allowed_types(op) else {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{op}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )));
    };
    if !arity_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    if let Some(first) = args.first() {
        if args.iter().any(|a| a.type_name() != first.type_name()) {
            return Err(invalid(
                "AttributeValues inside AttributeValueList must be of same type".to_string(),
            ));
        }
        if let Some(bad) = args.iter().find(|a| !types.contains(&a.type_name())) {
            return Err(invalid(format!(
                "ComparisonOperator {op} is not valid for {} AttributeValue type",
                bad.type_name()
            )));
        }
    }
    let cmp = |c| Condition::Compare(path(), c, lit(&args[0]));
    Ok(match op {
        "EQ" => cmp(Comparator::Eq),
        "NE" => cmp(Comparator::Ne),
        "LE" => cmp(Comparator::Le),
        "LT" => cmp(Comparator::Lt),
        "GE" => cmp(Comparator::Ge),
        "GT" => cmp(Comparator::Gt),
        "NOT_NULL" => Condition::AttributeExists(DocumentPath::attribute(name)),
        "NULL" => Condition::AttributeNotExists(DocumentPath::attribute(name)),
        "CONTAINS" => Condition::Contains(path(), lit(&args[0])),
        "NOT_CONTAINS" => Condition::not(Condition::Contains(path(), lit(&args[0]))),
        "BEGINS_WITH" => Condition::BeginsWith(path(), lit(&args[0])),
        "IN" => Condition::In(path(), args.iter().map(lit).collect()),
        _ => {
            if compare_scalars(&args[0], &args[1]) == Some(std::cmp::Ordering::Greater) {
                return Err(DynamoError::validation(
                    "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
                ));
            }
            Condition::Between(path(), lit(&args[0]), lit(&args[1]))
        }
    })
}

fn expected_entry(name: &str, e: &ExpectedAttributeValue) -> Result<Condition, DynamoError> {
    if e.value.is_some() && e.attribute_value_list.is_some() {
        return Err(invalid(format!(
            "Value and AttributeValueList cannot be used together for Attribute: {name}"
        )));
    }
    if let Some(op) = &e.comparison_operator {
        if e.exists.is_some() {
            return Err(invalid(format!(
                "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
            )));
        }
        if op != "NULL" && op != "NOT_NULL" && e.value.is_none() && e.attribute_value_list.is_none()
        {
            return Err(invalid(format!(
                "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {name}"
            )));
        }
        let args: Vec<AttributeValue> = match (&e.attribute_value_list, &e.value) {
            (Some(list), _) => list.clone(),
            (None, Some(v)) => vec![v.clone()],
            (None, None) => Vec::new(),
        };
        return comparison_condition(name, op, &args);
    }
    if e.attribute_value_list.is_some() {
        return Err(invalid(format!(
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
        )));
    }
    match (e.exists, &e.value) {
        (Some(false), Some(_)) => Err(invalid(format!(
            "Value cannot be used when Exists is false for Attribute: {name}"
        ))),
        (Some(false), None) => Ok(Condition::AttributeNotExists(DocumentPath::attribute(name))),
        (exists, None) => Err(invalid(format!(
            "Value must be provided when Exists is {} for Attribute: {name}",
            if exists.is_some() { "true" } else { "null" }
        ))),
        (_, Some(v)) => Ok(Condition::Compare(
            Operand::Path(DocumentPath::attribute(name)),
            Comparator::Eq,
            Operand::Value(ValueRef::Literal(v.clone())),
        )),
    }
}

/// `Expected` (entries in request order) as one condition; `None` when empty.
pub fn expected_to_condition(
    expected: &[(String, ExpectedAttributeValue)],
    operator: ConditionalOperator,
) -> Result<Option<Condition>, DynamoError> {
    let conditions = expected
        .iter()
        .map(|(name, entry)| expected_entry(name, entry))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(combine(conditions, operator))
}

/// The entries joined by `operator` in a balanced tree: DynamoDB sets no
/// limit on the number of entries (thousands are accepted), and a tree
/// as deep as it is long would make every walk over it that deep.
fn combine(mut conditions: Vec<Condition>, operator: ConditionalOperator) -> Option<Condition> {
    let join = match operator {
        ConditionalOperator::And => Condition::and,
        ConditionalOperator::Or => Condition::or,
    };
    // Pairs neighbours level by level, so the order written is kept.
    while conditions.len() > 1 {
        let mut next = Vec::with_capacity(conditions.len().div_ceil(2));
        let mut it = conditions.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => join(a, b),
                None => a,
            });
        }
        conditions = next;
    }
    conditions.pop()
}

/// `QueryFilter` or `ScanFilter` (entries in request order; `parameter`
/// names it) as one condition; `None` when empty. A filter entry is a
/// `Condition` (ComparisonOperator and AttributeValueList only): `Value`
/// and `Exists` are not part of it and are ignored, as DynamoDB does.
///
/// The caller checks beforehand that `ConditionalOperator` comes with two or
/// more entries, and for a Query afterwards that no entry names a key
/// attribute of what is queried.
pub fn filter_to_condition(
    parameter: &str,
    entries: &[(String, ExpectedAttributeValue)],
    operator: ConditionalOperator,
) -> Result<Option<Condition>, DynamoError> {
    let member = lower_first(parameter);
    let mut conditions = Vec::with_capacity(entries.len());
    for (name, entry) in entries {
        let op = check_comparison_operator(&member, name, entry.comparison_operator.as_deref())?;
        let args = entry.attribute_value_list.as_deref().unwrap_or_default();
        conditions.push(comparison_condition(name, op, args)?);
    }
    Ok(combine(conditions, operator))
}

/// `QueryFilter` → `queryFilter`: a parameter as member paths spell it.
fn lower_first(parameter: &str) -> String {
    let mut chars = parameter.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// One entry of `AttributeUpdates`; `action` is `PUT` when absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeValueUpdate {
    pub action: Option<String>,
    pub value: Option<AttributeValue>,
}

/// `AttributeUpdates` as an update tree, after DynamoDB's checks on each entry.
pub fn attribute_updates_to_update(
    updates: &BTreeMap<String, AttributeValueUpdate>,
) -> Result<UpdateExpression, DynamoError> {
    let (mut set, mut remove, mut add, mut delete) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (name, u) in updates {
        let action = u.action.as_deref().unwrap_or("PUT");
        let path = DocumentPath::attribute(name.clone());
        match (action, &u.value) {
            ("DELETE", None) => remove.push(path),
            (_, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified"
                        .to_string(),
                ))
            }
            ("DELETE", Some(v)) => {
                if !matches!(
                    v,
                    AttributeValue::SS(_) | AttributeValue::NS(_) | AttributeValue::BS(_)
                ) {
                    return Err(invalid(format!(
                        "DELETE action with value is not supported for the type {}",
                        v.type_name()
                    )));
                }
                delete.push((path, ValueRef::Literal(v.clone())));
            }
            ("ADD", Some(v)) => {
                if !matches!(
                    v,
                    AttributeValue::N(_)
                        | AttributeValue::SS(_)
                        | AttributeValue::NS(_)
                        | AttributeValue::BS(_)
                        | AttributeValue::L(_)
                ) {
                    return Err(invalid(format!(
                        "ADD action is not supported for the type {}",
                        v.type_name()
                    )));
                }
                add.push((path, ValueRef::Literal(v.clone())));
            }
            (_, Some(v)) => set.push((
                path,
                SetValue::Operand(UpdateOperand::Value(ValueRef::Literal(v.clone()))),
            )),
        }
    }
    let mut clauses = Vec::new();
    if !set.is_empty() {
        clauses.push(UpdateClause::Set(set));
    }
    if !remove.is_empty() {
        clauses.push(UpdateClause::Remove(remove));
    }
    if !add.is_empty() {
        clauses.push(UpdateClause::Add(add));
    }
    if !delete.is_empty() {
        clauses.push(UpdateClause::Delete(delete));
    }
    Ok(UpdateExpression { clauses })
}

/// Applies converted `AttributeUpdates`, with the legacy API's wording for a
/// type mismatch.
pub fn apply_attribute_updates(
    update: &UpdateExpression,
    item: &mut Item,
) -> Result<UpdatedPaths, DynamoError> {
    apply_update(update, item).map_err(|mut e| {
        if e.message == "An operand in the update expression has an incorrect data type" {
            e.message = "Type mismatch for attribute to update".to_string();
        }
        e
    })
}

/// `AttributesToGet` as projection paths (top-level names, taken literally).
pub fn attributes_to_get_paths(names: &[String]) -> Vec<DocumentPath> {
    names.iter().cloned().map(DocumentPath::attribute).collect()
}
