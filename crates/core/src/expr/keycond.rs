//! Query key conditions: a KeyConditionExpression tree or the legacy
//! `KeyConditions` map, checked against the key schema queried with
//! DynamoDB's messages in DynamoDB's order, and reduced to the key range to
//! read. Also the rule that a `QueryFilter` may not name a key attribute.
//!
//! Checks happen in three stages, as DynamoDB makes them:
//! 1. while parsing (`parser`): operand types of `<`-style operators,
//!    BETWEEN bounds, undefined placeholders — reported as
//!    `Invalid KeyConditionExpression: ...`;
//! 2. the shape of the condition, independent of any schema: only AND,
//!    only `= < <= > >= BETWEEN begins_with`, one top-level attribute and
//!    values in each clause, one clause per attribute;
//! 3. against the key schema of the table or index queried: how many
//!    conditions, which attributes, equality where it is required, value
//!    types and empty values.

use super::ast::*;
use super::legacy::{check_comparison_operator, comparison_condition, ExpectedAttributeValue};
use crate::error::DynamoError;
use crate::value::AttributeValue;

pub use super::legacy::filter_to_condition;

/// A key attribute of the table or index being queried: name and scalar
/// type `"S"`, `"N"` or `"B"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr<'a> {
    pub name: &'a str,
    pub attr_type: &'a str,
}

/// The key schema queried: 1..=4 partition attributes and 0..=4 sort
/// attributes, each in KeySchema order. Tables and local secondary indexes
/// have one and zero or one; a global secondary index may have more
/// (multi-attribute keys).
///
/// The caller passes the schema of what is queried: the index's own key
/// attributes when `IndexName` is given (for a local index, the table's
/// partition key and the index's sort key), the table's otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySchema<'a> {
    pub partition: Vec<KeyAttr<'a>>,
    pub sort: Vec<KeyAttr<'a>>,
    /// `IndexName` when an index is queried: DynamoDB names it when a key
    /// value is empty.
    pub index_name: Option<&'a str>,
}

/// A range condition on one sort attribute (equality is in
/// [`KeyQuery::sort_equal`]).
#[derive(Debug, Clone, PartialEq)]
pub enum SortRange {
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// What a valid key condition selects.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyQuery {
    /// One value per partition attribute, in schema order.
    pub partition: Vec<AttributeValue>,
    /// Values fixed by `=` on the leading sort attributes, in schema order.
    pub sort_equal: Vec<AttributeValue>,
    /// A range condition on the sort attribute after those (None if none).
    pub sort_range: Option<SortRange>,
}

/// The operator of one key condition clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Between,
    BeginsWith,
    /// A legacy operator no key range can express (NE, IN, CONTAINS, ...).
    NotIndexable,
}

impl KeyOp {
    /// The operator seen from the other side, for `:v < key`.
    fn flipped(self) -> KeyOp {
        match self {
            KeyOp::Lt => KeyOp::Gt,
            KeyOp::Le => KeyOp::Ge,
            KeyOp::Gt => KeyOp::Lt,
            KeyOp::Ge => KeyOp::Le,
            other => other,
        }
    }
}

/// One clause: an attribute, an operator and its values.
#[derive(Debug)]
struct KeyTerm {
    name: String,
    op: KeyOp,
    values: Vec<AttributeValue>,
}

const INVALID_KCE: &str = "Invalid KeyConditionExpression: ";

fn invalid_kce(msg: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!("{INVALID_KCE}{msg}"))
}

fn invalid_operator(op: &str) -> DynamoError {
    invalid_kce(format!(
        "Invalid operator used in KeyConditionExpression: {op}"
    ))
}

fn invalid_condition(detail: &str) -> DynamoError {
    invalid_kce(format!(
        "Invalid condition in KeyConditionExpression: {detail}"
    ))
}

// ------------------------------------------------------------ expression --

/// Checks a parsed, placeholder-resolved KeyConditionExpression against the
/// key schema queried and returns the key range it selects.
///
/// Call it once the table and index are known, after the placeholder
/// unused-check (DynamoDB reports an unused placeholder before anything
/// wrong with the condition's shape). DynamoDB's table-wide rule that no
/// expression may reach inside a key attribute ("Key attributes must be
/// scalars; ...", naming table keys as `Key` and any index's keys as
/// `IndexKey`) comes before this and is the caller's; without it a nested
/// path on a key attribute is reported here as a nested-attribute condition.
pub fn analyze_key_condition(
    cond: &Condition,
    schema: &QuerySchema,
) -> Result<KeyQuery, DynamoError> {
    let terms = expression_terms(cond)?;
    against_schema(&terms, schema)
}

/// The schema-independent part of [`analyze_key_condition`]: the shape of
/// the condition.
pub fn check_key_condition_shape(cond: &Condition) -> Result<(), DynamoError> {
    expression_terms(cond).map(|_| ())
}

/// Walks the clauses in the order written, reporting the first problem;
/// AND chains are followed with a heap stack, not recursion.
fn expression_terms(cond: &Condition) -> Result<Vec<KeyTerm>, DynamoError> {
    let mut terms = Vec::new();
    let mut todo = vec![cond];
    while let Some(c) = todo.pop() {
        match c {
            Condition::And(a, b) => {
                todo.push(b);
                todo.push(a);
            }
            clause => collect_term(clause, &mut terms)?,
        }
    }
    Ok(terms)
}

/// One clause (not an AND) of the condition.
fn collect_term(cond: &Condition, terms: &mut Vec<KeyTerm>) -> Result<(), DynamoError> {
    let (mut op, operands): (KeyOp, Vec<&Operand>) = match cond {
        Condition::And(..) => return Err(invalid_operator("AND")),
        Condition::Or(..) => return Err(invalid_operator("OR")),
        Condition::Not(_) => return Err(invalid_operator("NOT")),
        Condition::In(..) => return Err(invalid_operator("IN")),
        Condition::Compare(_, Comparator::Ne, _) => return Err(invalid_operator("<>")),
        Condition::AttributeExists(_) => return Err(invalid_operator("attribute_exists")),
        Condition::AttributeNotExists(_) => return Err(invalid_operator("attribute_not_exists")),
        Condition::AttributeType(..) => return Err(invalid_operator("attribute_type")),
        Condition::Contains(..) => return Err(invalid_operator("contains")),
        Condition::Compare(a, c, b) => {
            let op = match c {
                Comparator::Lt => KeyOp::Lt,
                Comparator::Le => KeyOp::Le,
                Comparator::Gt => KeyOp::Gt,
                Comparator::Ge => KeyOp::Ge,
                _ => KeyOp::Eq,
            };
            (op, vec![a, b])
        }
        Condition::Between(a, lo, hi) => (KeyOp::Between, vec![a, lo, hi]),
        Condition::BeginsWith(a, b) => (KeyOp::BeginsWith, vec![a, b]),
    };
    let mut name: Option<&str> = None;
    let mut values = Vec::new();
    for operand in operands {
        match operand {
            Operand::Path(path) => {
                if name.is_some() {
                    return Err(invalid_condition(
                        "Multiple attribute names used in one condition",
                    ));
                }
                if path.elements.len() > 1 {
                    return Err(invalid_kce(
                        "KeyConditionExpressions cannot have conditions on nested attributes",
                    ));
                }
                name = Some(path.top_name().ok_or_else(unresolved)?);
            }
            Operand::Value(v) => {
                if name.is_none() {
                    match op {
                        KeyOp::Between => {
                            return Err(invalid_condition(
                                "BETWEEN operator must have the key attribute as its first operand",
                            ))
                        }
                        KeyOp::BeginsWith => return Err(invalid_condition(
                            "begins_with operator must have the key attribute as its first operand",
                        )),
                        _ => op = op.flipped(),
                    }
                }
                match v {
                    ValueRef::Literal(v) => values.push(v.clone()),
                    ValueRef::Placeholder(_) => return Err(unresolved()),
                }
            }
            Operand::Size(_) => {
                return Err(invalid_kce(
                    "KeyConditionExpressions cannot contain nested operations",
                ))
            }
        }
    }
    let Some(name) = name else {
        return Err(invalid_condition("No key attribute specified"));
    };
    if terms.iter().any(|t| t.name == name) {
        return Err(invalid_kce(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    terms.push(KeyTerm {
        name: name.to_string(),
        op,
        values,
    });
    Ok(())
}

fn unresolved() -> DynamoError {
    DynamoError::internal("KeyConditionExpression analysed before its placeholders were resolved")
}

// ---------------------------------------------------------------- legacy --

/// The checks on `KeyConditions` that need no schema: each entry's
/// ComparisonOperator, argument count and types (the same rules as
/// `Expected`; `Value` and `Exists` are not part of a key condition and are
/// ignored), and at least one entry. DynamoDB makes them before looking the
/// table up, so a caller may run this first; [`key_conditions_to_query`]
/// runs it again.
pub fn check_key_conditions(
    entries: &[(String, ExpectedAttributeValue)],
) -> Result<(), DynamoError> {
    for (name, entry) in entries {
        let op =
            check_comparison_operator("keyConditions", name, entry.comparison_operator.as_deref())?;
        comparison_condition(
            name,
            op,
            entry.attribute_value_list.as_deref().unwrap_or_default(),
        )?;
    }
    if entries.is_empty() {
        return Err(DynamoError::validation(
            "Conditions must be at least length 1",
        ));
    }
    Ok(())
}

/// The legacy `KeyConditions` map (attribute name → ComparisonOperator and
/// AttributeValueList, in request order) checked against the key schema
/// queried, as [`analyze_key_condition`] does for an expression.
pub fn key_conditions_to_query(
    entries: &[(String, ExpectedAttributeValue)],
    schema: &QuerySchema,
) -> Result<KeyQuery, DynamoError> {
    check_key_conditions(entries)?;
    let terms: Vec<KeyTerm> = entries
        .iter()
        .map(|(name, entry)| {
            let op = match entry.comparison_operator.as_deref() {
                Some("EQ") => KeyOp::Eq,
                Some("LT") => KeyOp::Lt,
                Some("LE") => KeyOp::Le,
                Some("GT") => KeyOp::Gt,
                Some("GE") => KeyOp::Ge,
                Some("BETWEEN") => KeyOp::Between,
                Some("BEGINS_WITH") => KeyOp::BeginsWith,
                _ => KeyOp::NotIndexable,
            };
            KeyTerm {
                name: name.clone(),
                op,
                values: entry.attribute_value_list.clone().unwrap_or_default(),
            }
        })
        .collect();
    against_schema(&terms, schema)
}

// ---------------------------------------------------------------- schema --

fn missed(name: &str) -> DynamoError {
    DynamoError::validation(format!("Query condition missed key schema element: {name}"))
}

fn not_supported() -> DynamoError {
    DynamoError::validation("Query key condition not supported")
}

fn not_indexable() -> DynamoError {
    DynamoError::validation("Attempted conditional constraint is not an indexable operation")
}

fn term<'t>(terms: &'t [KeyTerm], attr: &KeyAttr) -> Option<&'t KeyTerm> {
    terms.iter().find(|t| t.name == attr.name)
}

fn is_key(schema: &QuerySchema, name: &str) -> bool {
    schema
        .partition
        .iter()
        .chain(&schema.sort)
        .any(|a| a.name == name)
}

fn check_types(term: &KeyTerm, attr: &KeyAttr) -> Result<(), DynamoError> {
    if term.values.iter().any(|v| v.type_name() != attr.attr_type) {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ));
    }
    Ok(())
}

/// The value types of a clause against its attribute's, then empty values.
fn check_values(term: &KeyTerm, attr: &KeyAttr, schema: &QuerySchema) -> Result<(), DynamoError> {
    check_types(term, attr)?;
    check_not_empty(term, attr, schema)
}

fn check_not_empty(
    term: &KeyTerm,
    attr: &KeyAttr,
    schema: &QuerySchema,
) -> Result<(), DynamoError> {
    let kind = term.values.iter().find_map(|v| match v {
        AttributeValue::S(s) if s.is_empty() => Some("string"),
        AttributeValue::B(b) if b.is_empty() => Some("binary"),
        _ => None,
    });
    let Some(kind) = kind else { return Ok(()) };
    Err(DynamoError::validation(match schema.index_name {
        None => format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {}",
            attr.name
        ),
        Some(index) => format!(
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {index}, IndexKey: {}",
            attr.name
        ),
    }))
}

fn check_indexable(terms: &[KeyTerm], schema: &QuerySchema) -> Result<(), DynamoError> {
    if terms
        .iter()
        .any(|t| t.op == KeyOp::NotIndexable && is_key(schema, &t.name))
    {
        return Err(not_indexable());
    }
    Ok(())
}

fn names(attrs: &[&KeyAttr]) -> String {
    attrs.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

fn against_schema(terms: &[KeyTerm], schema: &QuerySchema) -> Result<KeyQuery, DynamoError> {
    let key_count = schema.partition.len() + schema.sort.len();
    if terms.len() > key_count {
        return Err(DynamoError::validation(format!(
            "The number of query conditions ({}) exceeds the number of key attributes defined in the schema ({key_count})",
            terms.len()
        )));
    }
    if schema.partition.len() == 1 && schema.sort.len() <= 1 {
        single_attribute_keys(terms, schema)
    } else {
        multi_attribute_keys(terms, schema)
    }
}

/// A table or an index with one partition and at most one sort attribute:
/// the partition clause in full (presence, type, equality, empty value),
/// then the sort clause.
fn single_attribute_keys(terms: &[KeyTerm], schema: &QuerySchema) -> Result<KeyQuery, DynamoError> {
    let pk = &schema.partition[0];
    let Some(hash) = term(terms, pk) else {
        return Err(missed(pk.name));
    };
    check_indexable(terms, schema)?;
    check_types(hash, pk)?;
    if hash.op != KeyOp::Eq {
        return Err(not_supported());
    }
    check_not_empty(hash, pk, schema)?;
    let mut query = KeyQuery {
        partition: hash.values.clone(),
        sort_equal: Vec::new(),
        sort_range: None,
    };
    let Some(other) = terms.iter().find(|t| t.name != pk.name) else {
        return Ok(query);
    };
    let Some(sk) = schema.sort.first().filter(|sk| sk.name == other.name) else {
        // With no sort attribute a second clause was already too many.
        return Err(schema
            .sort
            .first()
            .map_or_else(not_supported, |sk| missed(sk.name)));
    };
    check_values(other, sk, schema)?;
    place_sort(&mut query, other);
    Ok(query)
}

/// A multi-attribute key: every partition attribute with `=`, then a prefix
/// of the sort attributes with `=` on all but possibly the last.
fn multi_attribute_keys(terms: &[KeyTerm], schema: &QuerySchema) -> Result<KeyQuery, DynamoError> {
    let hash_problem = |attrs: Vec<&KeyAttr>| {
        DynamoError::validation(format!(
            "HASH key attributes {} must have equality conditions specified in the query",
            names(&attrs)
        ))
    };
    let missing: Vec<&KeyAttr> = schema
        .partition
        .iter()
        .filter(|a| term(terms, a).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(hash_problem(missing));
    }
    let unequal: Vec<&KeyAttr> = schema
        .partition
        .iter()
        .filter(|a| term(terms, a).is_some_and(|t| t.op != KeyOp::Eq))
        .collect();
    if !unequal.is_empty() {
        return Err(hash_problem(unequal));
    }
    check_indexable(terms, schema)?;
    let mut query = KeyQuery {
        partition: Vec::with_capacity(schema.partition.len()),
        sort_equal: Vec::new(),
        sort_range: None,
    };
    for a in &schema.partition {
        let t = term(terms, a).ok_or_else(|| missed(a.name))?;
        check_values(t, a, schema)?;
        query.partition.extend(t.values.first().cloned());
    }

    let range_problem = |before: Vec<&KeyAttr>, at: &KeyAttr| {
        DynamoError::validation(format!(
            "RANGE key attributes {} must have equality conditions specified in the query because a condition is present on key attribute {}",
            names(&before),
            at.name
        ))
    };
    // No gap: an unconstrained sort attribute before a constrained one.
    let mut gap: Vec<&KeyAttr> = Vec::new();
    for a in &schema.sort {
        if term(terms, a).is_none() {
            gap.push(a);
        } else if !gap.is_empty() {
            return Err(range_problem(gap, a));
        }
    }
    // Then only the last constrained one may be a range.
    let constrained: Vec<(&KeyAttr, &KeyTerm)> = schema
        .sort
        .iter()
        .filter_map(|a| term(terms, a).map(|t| (a, t)))
        .collect();
    if let Some(((last, _), before)) = constrained.split_last() {
        let unequal: Vec<&KeyAttr> = before
            .iter()
            .filter(|(_, t)| t.op != KeyOp::Eq)
            .map(|(a, _)| *a)
            .collect();
        if !unequal.is_empty() {
            return Err(range_problem(unequal, last));
        }
    }
    for (a, t) in &constrained {
        check_values(t, a, schema)?;
    }
    if terms.iter().any(|t| !is_key(schema, &t.name)) {
        let first_free = schema.sort.iter().find(|a| term(terms, a).is_none());
        return Err(first_free.map_or_else(not_supported, |a| missed(a.name)));
    }
    for (_, t) in &constrained {
        place_sort(&mut query, t);
    }
    Ok(query)
}

/// Adds a sort clause: `=` fixes a leading value, anything else is the range.
fn place_sort(query: &mut KeyQuery, t: &KeyTerm) {
    let first = || t.values.first().cloned().unwrap_or(AttributeValue::Null);
    let range = match t.op {
        KeyOp::Eq => {
            query.sort_equal.push(first());
            return;
        }
        KeyOp::Lt => SortRange::Lt(first()),
        KeyOp::Le => SortRange::Le(first()),
        KeyOp::Gt => SortRange::Gt(first()),
        KeyOp::Ge => SortRange::Ge(first()),
        KeyOp::BeginsWith => SortRange::BeginsWith(first()),
        KeyOp::Between => SortRange::Between(
            first(),
            t.values.get(1).cloned().unwrap_or(AttributeValue::Null),
        ),
        // Refused by `check_indexable` before any clause is placed.
        KeyOp::NotIndexable => return,
    };
    query.sort_range = Some(range);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::expr::legacy::ConditionalOperator;
    use crate::expr::{parse_condition, ExpressionKind, Placeholders};
    use crate::Number;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_string())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(v).unwrap())
    }

    fn b(v: &[u8]) -> AttributeValue {
        AttributeValue::B(v.to_vec())
    }

    fn values() -> BTreeMap<String, AttributeValue> {
        let mut m = BTreeMap::new();
        for (k, v) in [
            (":s", s("x")),
            (":t", s("y")),
            (":a", s("T")),
            (":b", s("live")),
            (":c", s("a")),
            (":d", s("r")),
            (":n", n("1")),
            (":m", n("2")),
            (":bin", b(&[1, 2])),
            (":bool", AttributeValue::Bool(true)),
            (":false", AttributeValue::Bool(false)),
            (":null", AttributeValue::Null),
            (":l", AttributeValue::L(vec![])),
            (":ss", AttributeValue::SS(vec!["x".into()])),
            (":e", s("")),
            (":eb", b(&[])),
            (":ty", s("S")),
        ] {
            m.insert(k.to_string(), v);
        }
        m
    }

    fn names() -> BTreeMap<String, String> {
        [("#pk", "pk"), ("#sk", "sk"), ("#hk", "h")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(src: &str) -> Result<Condition, DynamoError> {
        let (names, values) = (names(), values());
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        parse_condition(ExpressionKind::KeyCondition, src, Some(&mut ph))
    }

    fn attr<'a>(name: &'a str, attr_type: &'a str) -> KeyAttr<'a> {
        KeyAttr { name, attr_type }
    }

    /// `pk` S and, when given, `sk` of that type.
    fn table(sort: Option<&str>) -> QuerySchema<'_> {
        QuerySchema {
            partition: vec![attr("pk", "S")],
            sort: sort.map(|t| attr("sk", t)).into_iter().collect(),
            index_name: None,
        }
    }

    /// The conformance suite's GSI: `h` then four RANGE attributes a..d.
    fn gsi_1h4r() -> QuerySchema<'static> {
        QuerySchema {
            partition: vec![attr("h", "S")],
            sort: vec![
                attr("a", "S"),
                attr("b", "S"),
                attr("c", "S"),
                attr("d", "S"),
            ],
            index_name: Some("gsi"),
        }
    }

    /// Two HASH attributes (h1 S, h2 N) and three RANGE (a S, b S, c N).
    fn gsi_2h3r() -> QuerySchema<'static> {
        QuerySchema {
            partition: vec![attr("h1", "S"), attr("h2", "N")],
            sort: vec![attr("a", "S"), attr("b", "S"), attr("c", "N")],
            index_name: Some("gsi"),
        }
    }

    fn query(src: &str, schema: &QuerySchema) -> KeyQuery {
        let cond = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        analyze_key_condition(&cond, schema).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    /// The message of the first error, from parsing or from analysis.
    fn error(src: &str, schema: &QuerySchema) -> String {
        let result = parse(src).and_then(|c| analyze_key_condition(&c, schema));
        match result {
            Ok(q) => panic!("{src}: accepted as {q:?}"),
            Err(e) => {
                assert_eq!(e.kind, crate::ErrorKind::ValidationException, "{src}");
                e.message
            }
        }
    }

    fn kq(
        partition: Vec<AttributeValue>,
        sort_equal: Vec<AttributeValue>,
        sort_range: Option<SortRange>,
    ) -> KeyQuery {
        KeyQuery {
            partition,
            sort_equal,
            sort_range,
        }
    }

    const SCHEMA_TYPE: &str =
        "One or more parameter values were invalid: Condition parameter type does not match schema type";

    fn operand(op: &str, ty: &str) -> String {
        format!("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: {op}, operand type: {ty}")
    }

    // ------------------------------------------------------ accepted forms --

    #[test]
    fn partition_and_single_sort_forms() {
        let t = table(Some("S"));
        let x = || vec![s("x")];
        let cases = [
            ("pk = :s", kq(x(), vec![], None)),
            (":s = pk", kq(x(), vec![], None)),
            ("#pk = :s", kq(x(), vec![], None)),
            ("pk = :s AND sk = :t", kq(x(), vec![s("y")], None)),
            ("sk = :t AND pk = :s", kq(x(), vec![s("y")], None)),
            ("pk = :s AND :t = sk", kq(x(), vec![s("y")], None)),
            (
                "pk = :s AND sk < :t",
                kq(x(), vec![], Some(SortRange::Lt(s("y")))),
            ),
            (
                "pk = :s AND sk <= :t",
                kq(x(), vec![], Some(SortRange::Le(s("y")))),
            ),
            (
                "pk = :s AND sk > :t",
                kq(x(), vec![], Some(SortRange::Gt(s("y")))),
            ),
            (
                "pk = :s AND sk >= :t",
                kq(x(), vec![], Some(SortRange::Ge(s("y")))),
            ),
            // Value first: the operator reads from the attribute's side.
            (
                "pk = :s AND :t > sk",
                kq(x(), vec![], Some(SortRange::Lt(s("y")))),
            ),
            (
                "pk = :s AND :t >= sk",
                kq(x(), vec![], Some(SortRange::Le(s("y")))),
            ),
            (
                "pk = :s AND :t < sk",
                kq(x(), vec![], Some(SortRange::Gt(s("y")))),
            ),
            (
                "pk = :s AND :t <= sk",
                kq(x(), vec![], Some(SortRange::Ge(s("y")))),
            ),
            (
                "pk = :s AND sk BETWEEN :s AND :t",
                kq(x(), vec![], Some(SortRange::Between(s("x"), s("y")))),
            ),
            (
                "pk = :s AND sk BETWEEN :s AND :s",
                kq(x(), vec![], Some(SortRange::Between(s("x"), s("x")))),
            ),
            (
                "pk = :s AND begins_with(sk, :t)",
                kq(x(), vec![], Some(SortRange::BeginsWith(s("y")))),
            ),
            // Parentheses (tests/tier1/query/keyConditionParens.test.ts).
            ("(#pk = :s) AND (#sk = :t)", kq(x(), vec![s("y")], None)),
            ("(#pk = :s AND #sk = :t)", kq(x(), vec![s("y")], None)),
            ("(#pk = :s AND (#sk = :t))", kq(x(), vec![s("y")], None)),
            (
                "pk = :s AND (begins_with(sk, :t))",
                kq(x(), vec![], Some(SortRange::BeginsWith(s("y")))),
            ),
            ("pk = :s and sk = :t", kq(x(), vec![s("y")], None)),
        ];
        for (src, want) in cases {
            assert_eq!(query(src, &t), want, "{src}");
        }
        // A table without a sort key.
        assert_eq!(query("pk = :s", &table(None)), kq(x(), vec![], None));
    }

    #[test]
    fn number_and_binary_keys() {
        let sn = table(Some("N"));
        assert_eq!(
            query("pk = :s AND sk BETWEEN :n AND :m", &sn),
            kq(
                vec![s("x")],
                vec![],
                Some(SortRange::Between(n("1"), n("2")))
            )
        );
        assert_eq!(
            query("pk = :s AND sk > :n", &sn),
            kq(vec![s("x")], vec![], Some(SortRange::Gt(n("1"))))
        );
        let nb = QuerySchema {
            partition: vec![attr("pk", "N")],
            sort: vec![attr("sk", "B")],
            index_name: None,
        };
        assert_eq!(
            query("pk = :n AND begins_with(sk, :bin)", &nb),
            kq(
                vec![n("1")],
                vec![],
                Some(SortRange::BeginsWith(b(&[1, 2])))
            )
        );
        assert_eq!(
            query("pk = :n AND sk = :bin", &nb),
            kq(vec![n("1")], vec![b(&[1, 2])], None)
        );
    }

    #[test]
    fn multi_attribute_forms() {
        // tests/tier1/query/multiAttributeGsiKey.test.ts (v3).
        let g = gsi_1h4r();
        let h = || vec![s("o1")];
        let mut vals = values();
        vals.insert(":h".into(), s("o1"));
        vals.insert(":x".into(), s("r1"));
        let q = |src: &str| {
            let names = names();
            let mut ph = Placeholders::new(Some(&names), Some(&vals));
            let c = parse_condition(ExpressionKind::KeyCondition, src, Some(&mut ph)).unwrap();
            analyze_key_condition(&c, &g).unwrap_or_else(|e| panic!("{src}: {e}"))
        };
        assert_eq!(q("h = :h"), kq(h(), vec![], None));
        assert_eq!(q("h = :h AND a = :a"), kq(h(), vec![s("T")], None));
        assert_eq!(
            q("h = :h AND a = :a AND b = :b"),
            kq(h(), vec![s("T"), s("live")], None)
        );
        assert_eq!(
            q("h = :h AND a = :a AND b = :b AND c = :c"),
            kq(h(), vec![s("T"), s("live"), s("a")], None)
        );
        assert_eq!(
            q("h = :h AND a = :a AND b = :b AND c > :c"),
            kq(h(), vec![s("T"), s("live")], Some(SortRange::Gt(s("a"))))
        );
        assert_eq!(
            q("h = :h AND a = :a AND b = :b AND c = :c AND begins_with(d, :d)"),
            kq(
                h(),
                vec![s("T"), s("live"), s("a")],
                Some(SortRange::BeginsWith(s("r")))
            )
        );
        assert_eq!(
            q("h = :h AND a = :a AND b = :b AND c = :c AND d BETWEEN :x AND :x"),
            kq(
                h(),
                vec![s("T"), s("live"), s("a")],
                Some(SortRange::Between(s("r1"), s("r1")))
            )
        );
        assert_eq!(
            q("h = :h AND a = :a AND b < :b"),
            kq(h(), vec![s("T")], Some(SortRange::Lt(s("live"))))
        );
        assert_eq!(
            q("b = :b AND #hk = :h AND a = :a"),
            kq(h(), vec![s("T"), s("live")], None)
        );
        assert_eq!(
            q("h = :h AND a = :a AND b = :b AND c = :c AND d = :d"),
            kq(h(), vec![s("T"), s("live"), s("a"), s("r")], None)
        );

        // Two partition attributes, in schema order whatever the clause order.
        let g2 = gsi_2h3r();
        assert_eq!(
            query("h2 = :n AND h1 = :s", &g2),
            kq(vec![s("x"), n("1")], vec![], None)
        );
        assert_eq!(
            query("h1 = :s AND h2 = :n AND a = :s AND b = :t AND c >= :m", &g2),
            kq(
                vec![s("x"), n("1")],
                vec![s("x"), s("y")],
                Some(SortRange::Ge(n("2")))
            )
        );
        let g20 = QuerySchema {
            partition: vec![attr("h1", "S"), attr("h2", "S")],
            sort: vec![],
            index_name: Some("gsi"),
        };
        assert_eq!(
            query("h1 = :s AND h2 = :t", &g20),
            kq(vec![s("x"), s("y")], vec![], None)
        );
    }

    // ----------------------------------------------- errors while parsing --

    #[test]
    fn operand_types_while_parsing() {
        // tests/tier3/error-messages/queryKeyConditionOperands.test.ts (v3).
        let ss = table(Some("S"));
        let sn = table(Some("N"));
        let cases = [
            ("pk = :s AND begins_with(sk, :n)", &ss, operand("begins_with", "N")),
            ("pk = :s AND begins_with(sk, :bool)", &ss, operand("begins_with", "BOOL")),
            ("pk = :s AND begins_with(sk, :n)", &sn, operand("begins_with", "N")),
            ("pk = :s AND sk < :bool", &sn, operand("<", "BOOL")),
            ("pk = :s AND :bool >= sk", &sn, operand(">=", "BOOL")),
            ("pk = :s AND sk BETWEEN :false AND :bool", &sn, operand("BETWEEN", "BOOL")),
            // DDB Local: the other non-key types, and BETWEEN checks types
            // ahead of the bounds' order and kinds.
            ("pk = :s AND sk <= :ss", &ss, operand("<=", "SS")),
            ("pk = :s AND sk > :null", &ss, operand(">", "NULL")),
            ("pk = :s AND sk > :l", &ss, operand(">", "L")),
            ("pk = :s AND sk BETWEEN :s AND :bool", &ss, operand("BETWEEN", "BOOL")),
            ("pk = :s AND :bool BETWEEN sk AND :s", &ss, operand("BETWEEN", "BOOL")),
            ("pk = :bool AND sk < :bool", &ss, operand("<", "BOOL")),
            ("pk = :s AND size(sk) < :bool", &ss, operand("<", "BOOL")),
            // Generic checks still apply.
            (
                "pk = :s AND sk BETWEEN :t AND :s",
                &ss,
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:y}, upper bound operand: AttributeValue: {S:x}".to_string(),
            ),
            (
                "pk = :s AND sk BETWEEN :n AND :s",
                &ss,
                "Invalid KeyConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}".to_string(),
            ),
            (
                "pk = :s AND sk = sk",
                &ss,
                "Invalid KeyConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [sk]".to_string(),
            ),
            ("", &ss, "Invalid KeyConditionExpression: The expression can not be empty;".to_string()),
        ];
        for (src, schema, want) in cases {
            assert_eq!(error(src, schema), want, "{src}");
        }
    }

    #[test]
    fn first_problem_met_while_parsing_wins() {
        // tests/tier3/validation-ordering/queryKeyCondition.test.ts (v3).
        let t = table(Some("S"));
        let undefined = "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing";
        let bad = operand("begins_with", "N");
        assert_eq!(
            error("pk = :missing AND begins_with(sk, :n)", &t),
            undefined
        );
        assert_eq!(error("begins_with(sk, :n) AND pk = :missing", &t), bad);
        assert_eq!(
            error("pk = :s AND begins_with(sk, :n) AND sk = :missing", &t),
            bad
        );
        assert_eq!(
            error("pk = :s AND begins_with(sk, :n) AND sk > :t", &t),
            bad
        );
        // DDB Local: operand counts and repeated operands take their turn too.
        assert_eq!(
            error("pk = :s AND sk < :bool AND sk = sk", &t),
            operand("<", "BOOL")
        );
        assert_eq!(
            error("pk = :s AND sk = sk AND sk < :bool", &t),
            "Invalid KeyConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [sk]"
        );
        assert_eq!(
            error("pk = :s AND sk < :bool AND begins_with(sk)", &t),
            operand("<", "BOOL")
        );
        assert_eq!(
            error("pk = :s AND sk < :bool AND #zz = :s", &t),
            operand("<", "BOOL")
        );
        // ... but not ahead of the kinds DynamoDB ranks first.
        assert_eq!(
            error("pk = :s AND sk < :bool AND ((sk = :s))", &t),
            "Invalid KeyConditionExpression: The expression has redundant parentheses;"
        );
        assert_eq!(
            error("pk = :s AND sk < :bool AND foo(sk)", &t),
            "Invalid KeyConditionExpression: Invalid function name; function: foo"
        );
        assert_eq!(
            error("pk = :s AND sk < :bool AND size(sk)", &t),
            "Invalid KeyConditionExpression: The function is not allowed to be used this way in an expression; function: size"
        );
        // A parse problem is reported ahead of any shape or schema problem.
        assert_eq!(
            error("pk = :s AND sk < :bool OR pk = :s", &t),
            operand("<", "BOOL")
        );
        assert_eq!(
            error("pk = :s AND sk < :bool AND pk = :s", &t),
            operand("<", "BOOL")
        );
    }

    #[test]
    fn other_expressions_keep_their_precedence() {
        // Outside a KeyConditionExpression an undefined value still ranks
        // ahead of an operand type, and `<` takes any operand.
        let (names, values) = (names(), values());
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        let e = parse_condition(
            ExpressionKind::Condition,
            "begins_with(a, :n) AND b = :missing",
            Some(&mut ph),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing"
        );
    }

    // ------------------------------------------------------- shape errors --

    #[test]
    fn shape_errors() {
        let t = table(Some("S"));
        let op = |o: &str| {
            format!("Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: {o}")
        };
        let cond = |d: &str| {
            format!(
                "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: {d}"
            )
        };
        let nested_ops = "Invalid KeyConditionExpression: KeyConditionExpressions cannot contain nested operations".to_string();
        let nested_attrs = "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes".to_string();
        let once = "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key".to_string();
        let cases = [
            ("pk = :s OR sk = :t", op("OR")),
            ("NOT pk = :s", op("NOT")),
            ("pk IN (:s)", op("IN")),
            ("pk = :s AND sk IN (:s, :t)", op("IN")),
            ("pk <> :s", op("<>")),
            ("pk = :s AND sk <> :t", op("<>")),
            ("pk = :s AND attribute_exists(sk)", op("attribute_exists")),
            (
                "pk = :s AND attribute_not_exists(sk)",
                op("attribute_not_exists"),
            ),
            ("pk = :s AND attribute_type(sk, :ty)", op("attribute_type")),
            ("pk = :s AND contains(sk, :t)", op("contains")),
            ("pk = :s AND size(sk) = :n", nested_ops.clone()),
            ("pk = :s AND sk BETWEEN :s AND size(sk)", nested_ops.clone()),
            (
                "pk = :s AND :s BETWEEN sk AND :t",
                cond("BETWEEN operator must have the key attribute as its first operand"),
            ),
            (
                "pk = :s AND begins_with(:s, sk)",
                cond("begins_with operator must have the key attribute as its first operand"),
            ),
            (
                "pk = :s AND begins_with(:s, :t)",
                cond("begins_with operator must have the key attribute as its first operand"),
            ),
            (
                "pk = sk AND sk = :s",
                cond("Multiple attribute names used in one condition"),
            ),
            (
                "pk = :s AND sk BETWEEN :s AND pk",
                cond("Multiple attribute names used in one condition"),
            ),
            ("x.y = :s", nested_attrs.clone()),
            ("pk = :s AND x[0] = :s", nested_attrs.clone()),
            ("pk = :s AND sk.a BETWEEN :s AND :t", nested_attrs.clone()),
            (":s = :s AND pk = :s", cond("No key attribute specified")),
            ("pk = :s AND :s < :t", cond("No key attribute specified")),
            // tests/tier3/error-messages/queryKeyConditionOperands.test.ts (v3).
            ("pk = :s AND sk > :s AND sk < :t", once.clone()),
            ("pk = :s AND pk = :s", once.clone()),
            ("pk = :s AND sk = :s AND sk = :s", once.clone()),
            // The first problem walking the clauses in order.
            ("pk = :s AND (sk = :s OR size(sk) = :s)", op("OR")),
            ("pk = :s AND size(sk) = :s AND sk <> :s", nested_ops.clone()),
            (
                "pk = :s AND x.y = :s AND sk = :s AND sk = :s",
                nested_attrs.clone(),
            ),
            ("pk = :s AND sk = :s AND pk <> :s", op("<>")),
        ];
        for (src, want) in cases {
            assert_eq!(error(src, &t), want, "{src}");
            // Shape problems come before any schema problem.
            let c = parse(src).unwrap();
            assert_eq!(
                check_key_condition_shape(&c).unwrap_err().message,
                want,
                "{src}"
            );
        }
    }

    // ---------------------------------------------- single-attribute keys --

    #[test]
    fn single_attribute_schema_errors() {
        let ss = table(Some("S"));
        let sn = table(Some("N"));
        let hash = table(None);
        let cases: Vec<(&str, &QuerySchema, String)> = vec![
            // tests/tier3/error-messages/query.test.ts.
            ("sk = :s", &ss, "Query condition missed key schema element: pk".into()),
            ("attr1 = :s", &ss, "Query condition missed key schema element: pk".into()),
            ("sk = :s AND x = :s", &ss, "Query condition missed key schema element: pk".into()),
            // A second clause on a non-key attribute misses the sort key.
            ("pk = :s AND extra = :s", &ss, "Query condition missed key schema element: sk".into()),
            ("extra = :s AND pk = :s", &ss, "Query condition missed key schema element: sk".into()),
            // v3: more clauses than key attributes.
            (
                "pk = :s AND sk > :n AND extra = :m",
                &sn,
                "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)".into(),
            ),
            ("a = :s AND b = :s AND c = :s", &ss, "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)".into()),
            ("pk = :s AND sk = :s", &hash, "The number of query conditions (2) exceeds the number of key attributes defined in the schema (1)".into()),
            // The partition key takes `=` only.
            ("pk < :s", &ss, "Query key condition not supported".into()),
            ("begins_with(pk, :s)", &ss, "Query key condition not supported".into()),
            ("pk BETWEEN :s AND :t", &ss, "Query key condition not supported".into()),
            ("pk > :s AND sk = :s", &ss, "Query key condition not supported".into()),
            // Value types (v3 for the sort key cases).
            ("pk = :s AND begins_with(sk, :s)", &sn, SCHEMA_TYPE.into()),
            ("pk = :s AND sk = :bool", &sn, SCHEMA_TYPE.into()),
            ("pk = :s AND sk = :s", &sn, SCHEMA_TYPE.into()),
            ("pk = :s AND sk < :s", &sn, SCHEMA_TYPE.into()),
            ("pk = :s AND sk BETWEEN :s AND :t", &sn, SCHEMA_TYPE.into()),
            ("pk = :n", &ss, SCHEMA_TYPE.into()),
            ("pk = :ss", &ss, SCHEMA_TYPE.into()),
            ("pk = :s AND begins_with(sk, :bin)", &ss, SCHEMA_TYPE.into()),
            // DDB Local's order: the partition clause in full (type before
            // equality), then the sort clause.
            ("pk > :n", &ss, SCHEMA_TYPE.into()),
            ("pk = :n AND x = :s", &ss, SCHEMA_TYPE.into()),
            ("pk > :s AND x = :s", &ss, "Query key condition not supported".into()),
            ("sk = :n AND pk = :s", &ss, SCHEMA_TYPE.into()),
            // Empty values.
            ("pk = :e", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("pk = :e AND x = :s", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("pk = :e AND sk = :n", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
            ("pk = :s AND sk = :e", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk".into()),
            ("pk = :s AND begins_with(sk, :e)", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk".into()),
            ("pk = :s AND sk BETWEEN :e AND :s", &ss, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk".into()),
            ("pk > :e", &ss, "Query key condition not supported".into()),
            ("pk = :s AND sk = :e", &sn, SCHEMA_TYPE.into()),
        ];
        for (src, schema, want) in cases {
            assert_eq!(error(src, schema), want, "{src}");
        }
        let binary = QuerySchema {
            partition: vec![attr("pk", "N")],
            sort: vec![attr("sk", "B")],
            index_name: None,
        };
        assert_eq!(
            error("pk = :n AND sk = :eb", &binary),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: sk"
        );
        let index = QuerySchema {
            partition: vec![attr("g1", "S")],
            sort: vec![attr("g2", "N")],
            index_name: Some("gsi"),
        };
        assert_eq!(
            error("g1 = :e", &index),
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi, IndexKey: g1"
        );
        assert_eq!(
            error("pk = :s", &index),
            "Query condition missed key schema element: g1"
        );
        assert_eq!(
            error("g1 = :s AND sk = :n", &index),
            "Query condition missed key schema element: g2"
        );
        assert_eq!(error("g1 = :s AND g2 = :s", &index), SCHEMA_TYPE);
    }

    // ----------------------------------------------- multi-attribute keys --

    #[test]
    fn multi_attribute_schema_errors() {
        let g = gsi_1h4r();
        let range = |before: &str, at: &str| {
            format!("RANGE key attributes {before} must have equality conditions specified in the query because a condition is present on key attribute {at}")
        };
        let hash = |attrs: &str| {
            format!(
                "HASH key attributes {attrs} must have equality conditions specified in the query"
            )
        };
        // tests/tier1/query/multiAttributeGsiKey.test.ts (v3).
        assert_eq!(error("h = :s AND a = :a AND c = :c", &g), range("b", "c"));
        assert_eq!(
            error("h = :s AND a = :a AND b > :b AND c = :c", &g),
            range("b", "c")
        );
        assert_eq!(error("h = :s AND b = :b", &g), range("a", "b"));
        // DDB Local: every gap before the first attribute named after one,
        // else every non-equality before the last attribute named.
        let cases = [
            ("h = :s AND c = :c", range("a, b", "c")),
            ("h = :s AND a > :a AND b > :b AND c = :c", range("a, b", "c")),
            ("h = :s AND a > :a AND b = :b AND c = :c", range("a", "c")),
            ("h = :s AND a = :a AND b > :b AND c > :c", range("b", "c")),
            ("h = :s AND b > :b AND c = :c", range("a", "b")),
            ("h = :s AND c = :c AND b > :b", range("a", "b")),
            ("h = :s AND a > :a AND c = :c", range("b", "c")),
            ("h = :s AND a > :a AND b > :b", range("a", "b")),
            ("h = :s AND begins_with(a, :a) AND b = :b", range("a", "b")),
            ("h = :s AND x = :s AND b = :b", range("a", "b")),
            ("a = :a", hash("h")),
            ("h > :s", hash("h")),
            ("h > :n", hash("h")),
            ("h > :s AND b = :b", hash("h")),
            // A clause on a non-key attribute misses the first sort
            // attribute left free.
            ("h = :s AND x = :s", "Query condition missed key schema element: a".to_string()),
            ("h = :s AND a = :a AND x = :s", "Query condition missed key schema element: b".to_string()),
            (
                "h = :s AND a = :a AND b = :b AND c = :c AND d = :d AND x = :s",
                "The number of query conditions (6) exceeds the number of key attributes defined in the schema (5)".to_string(),
            ),
            ("h = :n", SCHEMA_TYPE.to_string()),
            ("h = :n AND b = :b", SCHEMA_TYPE.to_string()),
            ("h = :s AND a = :n AND x = :s", SCHEMA_TYPE.to_string()),
            ("h = :s AND a = :a AND b = :b AND c = :c AND d = :n", SCHEMA_TYPE.to_string()),
            ("h = :s AND c = :n", range("a, b", "c")),
        ];
        for (src, want) in cases {
            assert_eq!(error(src, &g), want, "{src}");
        }

        let g2 = gsi_2h3r();
        let empty = |key: &str| {
            format!("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi, IndexKey: {key}")
        };
        let cases = [
            ("h1 = :s", hash("h2")),
            ("h2 = :n", hash("h1")),
            ("a = :s", hash("h1, h2")),
            ("a = :s AND b = :s", hash("h1, h2")),
            ("h1 = :s AND h2 > :n", hash("h2")),
            ("h1 > :s AND h2 = :n", hash("h1")),
            ("begins_with(h1, :s) AND h2 = :n", hash("h1")),
            ("h1 > :s AND h2 > :n", hash("h1, h2")),
            // Missing ones are named before unequal ones.
            ("h1 > :s", hash("h2")),
            ("h1 > :s AND c = :n", hash("h2")),
            // Equality on the partition is checked before its types.
            ("h1 = :n AND h2 > :s", hash("h2")),
            ("h1 = :s AND h2 = :s", SCHEMA_TYPE.to_string()),
            ("h1 = :n AND h2 = :n AND c = :s", SCHEMA_TYPE.to_string()),
            ("h1 = :s AND h2 = :n AND c = :s", range("a, b", "c")),
            ("h1 = :s AND h2 = :n AND a = :s AND b = :s AND c = :s", SCHEMA_TYPE.to_string()),
            ("h1 = :s AND h2 = :n AND a > :s AND a < :s", "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key".to_string()),
            // Empty values: the partition's before the sort's problems.
            ("h1 = :e AND h2 = :n", empty("h1")),
            ("h1 = :e AND h2 = :n AND c = :n", empty("h1")),
            ("h1 = :s AND h2 = :n AND a = :e AND b = :n", empty("a")),
            ("h1 = :s AND h2 = :n AND b = :e", range("a", "b")),
        ];
        for (src, want) in cases {
            assert_eq!(error(src, &g2), want, "{src}");
        }
        let g12 = QuerySchema {
            partition: vec![attr("h", "S")],
            sort: vec![attr("a", "S"), attr("b", "N")],
            index_name: Some("gsi"),
        };
        assert_eq!(error("h = :s AND a = :e AND b = :s", &g12), empty("a"));
        assert_eq!(error("h = :s AND x = :s AND a = :e", &g12), empty("a"));
        assert_eq!(
            error("h = :s AND a = :s AND x = :s", &g12),
            "Query condition missed key schema element: b"
        );
    }

    // ---------------------------------------------------------- KeyConditions --

    fn entry(op: Option<&str>, list: Option<Vec<AttributeValue>>) -> ExpectedAttributeValue {
        ExpectedAttributeValue {
            comparison_operator: op.map(str::to_string),
            attribute_value_list: list,
            ..Default::default()
        }
    }

    /// An entry as written in a test: name, ComparisonOperator, AttributeValueList.
    type Written<'a> = (&'a str, Option<&'a str>, Option<Vec<AttributeValue>>);

    fn kc(entries: &[Written]) -> Vec<(String, ExpectedAttributeValue)> {
        entries
            .iter()
            .map(|(name, op, list)| (name.to_string(), entry(*op, list.clone())))
            .collect()
    }

    #[test]
    fn key_conditions_accepted() {
        // tests/tier3/legacy-api/queryFilter.test.ts.
        let t = table(Some("S"));
        let eq = ("pk", Some("EQ"), Some(vec![s("p")]));
        let cases = [
            (
                kc(std::slice::from_ref(&eq)),
                kq(vec![s("p")], vec![], None),
            ),
            (
                kc(&[eq.clone(), ("sk", Some("BEGINS_WITH"), Some(vec![s("al")]))]),
                kq(vec![s("p")], vec![], Some(SortRange::BeginsWith(s("al")))),
            ),
            (
                kc(&[
                    eq.clone(),
                    ("sk", Some("BETWEEN"), Some(vec![s("beta"), s("epsilon")])),
                ]),
                kq(
                    vec![s("p")],
                    vec![],
                    Some(SortRange::Between(s("beta"), s("epsilon"))),
                ),
            ),
            (
                kc(&[("sk", Some("GT"), Some(vec![s("delta")])), eq.clone()]),
                kq(vec![s("p")], vec![], Some(SortRange::Gt(s("delta")))),
            ),
            (
                kc(&[eq.clone(), ("sk", Some("EQ"), Some(vec![s("a")]))]),
                kq(vec![s("p")], vec![s("a")], None),
            ),
            (
                kc(&[eq.clone(), ("sk", Some("LT"), Some(vec![s("a")]))]),
                kq(vec![s("p")], vec![], Some(SortRange::Lt(s("a")))),
            ),
            (
                kc(&[eq.clone(), ("sk", Some("LE"), Some(vec![s("a")]))]),
                kq(vec![s("p")], vec![], Some(SortRange::Le(s("a")))),
            ),
            (
                kc(&[eq.clone(), ("sk", Some("GE"), Some(vec![s("a")]))]),
                kq(vec![s("p")], vec![], Some(SortRange::Ge(s("a")))),
            ),
        ];
        for (entries, want) in cases {
            assert_eq!(
                key_conditions_to_query(&entries, &t).unwrap(),
                want,
                "{entries:?}"
            );
        }
        // `Value` is not part of a key condition.
        let mut with_value = kc(std::slice::from_ref(&eq));
        with_value[0].1.value = Some(s("ignored"));
        assert_eq!(
            key_conditions_to_query(&with_value, &t).unwrap(),
            kq(vec![s("p")], vec![], None)
        );
        // Multi-attribute keys take the same rules.
        let g = gsi_2h3r();
        let entries = kc(&[
            ("a", Some("EQ"), Some(vec![s("x")])),
            ("h2", Some("EQ"), Some(vec![n("1")])),
            ("h1", Some("EQ"), Some(vec![s("y")])),
            ("b", Some("BEGINS_WITH"), Some(vec![s("z")])),
        ]);
        assert_eq!(
            key_conditions_to_query(&entries, &g).unwrap(),
            kq(
                vec![s("y"), n("1")],
                vec![s("x")],
                Some(SortRange::BeginsWith(s("z")))
            )
        );
    }

    #[test]
    fn key_conditions_errors() {
        let t = table(Some("S"));
        let eq = ("pk", Some("EQ"), Some(vec![s("p")]));
        let invalid = |m: &str| format!("One or more parameter values were invalid: {m}");
        let cases: Vec<(Vec<(String, ExpectedAttributeValue)>, String)> = vec![
            // Member checks, in the form a lone one takes.
            (
                kc(&[("pk", None, Some(vec![s("p")]))]),
                "1 validation error detected: Value null at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: Member must not be null".into(),
            ),
            (
                kc(&[("pk", Some("FOO"), Some(vec![s("p")]))]),
                "1 validation error detected: Value 'FOO' at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]".into(),
            ),
            // Entry checks: the rules of Expected (dynalite, DDB Local).
            (kc(&[("pk", Some("EQ"), None)]), invalid("Invalid number of argument(s) for the EQ ComparisonOperator")),
            (kc(&[("pk", Some("EQ"), Some(vec![s("a"), s("b")]))]), invalid("Invalid number of argument(s) for the EQ ComparisonOperator")),
            (kc(&[("pk", Some("NULL"), Some(vec![s("a")]))]), invalid("Invalid number of argument(s) for the NULL ComparisonOperator")),
            (kc(&[eq.clone(), ("sk", Some("BETWEEN"), Some(vec![s("a")]))]), invalid("Invalid number of argument(s) for the BETWEEN ComparisonOperator")),
            (kc(&[eq.clone(), ("sk", Some("LT"), Some(vec![AttributeValue::Bool(true)]))]), invalid("ComparisonOperator LT is not valid for BOOL AttributeValue type")),
            (kc(&[eq.clone(), ("sk", Some("BEGINS_WITH"), Some(vec![n("1")]))]), invalid("ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type")),
            (kc(&[eq.clone(), ("sk", Some("BETWEEN"), Some(vec![s("a"), n("1")]))]), invalid("AttributeValues inside AttributeValueList must be of same type")),
            (
                kc(&[eq.clone(), ("sk", Some("BETWEEN"), Some(vec![s("b"), s("a")]))]),
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".into(),
            ),
            // Entries are checked in request order.
            (
                kc(&[("sk", Some("BETWEEN"), Some(vec![s("b"), s("a")])), ("pk", Some("EQ"), None)]),
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".into(),
            ),
            (vec![], "Conditions must be at least length 1".into()),
            // Against the schema.
            (kc(&[("x", Some("EQ"), Some(vec![s("a")]))]), "Query condition missed key schema element: pk".into()),
            (kc(&[eq.clone(), ("x", Some("EQ"), Some(vec![s("a")]))]), "Query condition missed key schema element: sk".into()),
            (kc(&[eq.clone(), ("x", Some("NULL"), None)]), "Query condition missed key schema element: sk".into()),
            (
                kc(&[eq.clone(), ("sk", Some("EQ"), Some(vec![s("a")])), ("x", Some("EQ"), Some(vec![s("a")]))]),
                "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)".into(),
            ),
            (kc(&[("pk", Some("GT"), Some(vec![s("a")]))]), "Query key condition not supported".into()),
            (kc(&[("pk", Some("EQ"), Some(vec![n("1")]))]), SCHEMA_TYPE.into()),
            (kc(&[("pk", Some("EQ"), Some(vec![AttributeValue::Bool(true)]))]), SCHEMA_TYPE.into()),
            (kc(&[eq.clone(), ("sk", Some("BEGINS_WITH"), Some(vec![b(&[1])]))]), SCHEMA_TYPE.into()),
            (kc(&[eq.clone(), ("sk", Some("IN"), Some(vec![s("a")]))]), "Attempted conditional constraint is not an indexable operation".into()),
            (kc(&[eq.clone(), ("sk", Some("CONTAINS"), Some(vec![s("a")]))]), "Attempted conditional constraint is not an indexable operation".into()),
            (kc(&[eq.clone(), ("sk", Some("NOT_NULL"), None)]), "Attempted conditional constraint is not an indexable operation".into()),
            (kc(&[("pk", Some("NE"), Some(vec![s("a")]))]), "Attempted conditional constraint is not an indexable operation".into()),
            (kc(&[("pk", Some("NULL"), None)]), "Attempted conditional constraint is not an indexable operation".into()),
            (kc(&[("pk", Some("EQ"), Some(vec![s("")]))]), "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
        ];
        for (entries, want) in cases {
            assert_eq!(
                key_conditions_to_query(&entries, &t).unwrap_err().message,
                want,
                "{entries:?}"
            );
        }
        // The schema-free part alone.
        assert!(check_key_conditions(&kc(&[("x", Some("EQ"), Some(vec![s("a")]))])).is_ok());
        assert_eq!(
            check_key_conditions(&kc(&[("x", Some("GT"), None)]))
                .unwrap_err()
                .message,
            invalid("Invalid number of argument(s) for the GT ComparisonOperator")
        );

        let g = gsi_2h3r();
        let hash_eq = || {
            vec![
                ("h1", Some("EQ"), Some(vec![s("x")])),
                ("h2", Some("EQ"), Some(vec![n("1")])),
            ]
        };
        let mut gap = hash_eq();
        gap.push(("c", Some("EQ"), Some(vec![n("1")])));
        assert_eq!(
            key_conditions_to_query(&kc(&gap), &g).unwrap_err().message,
            "RANGE key attributes a, b must have equality conditions specified in the query because a condition is present on key attribute c"
        );
        let unequal = kc(&[
            ("h1", Some("EQ"), Some(vec![s("x")])),
            ("h2", Some("GT"), Some(vec![n("1")])),
        ]);
        assert_eq!(
            key_conditions_to_query(&unequal, &g).unwrap_err().message,
            "HASH key attributes h2 must have equality conditions specified in the query"
        );
        let mut not_indexable = hash_eq();
        not_indexable.push(("a", Some("NE"), Some(vec![s("x")])));
        assert_eq!(
            key_conditions_to_query(&kc(&not_indexable), &g)
                .unwrap_err()
                .message,
            "Attempted conditional constraint is not an indexable operation"
        );
    }

    // ------------------------------------------------- QueryFilter/ScanFilter --

    #[test]
    fn filters_convert() {
        let path = |a: &str| Operand::Path(DocumentPath::attribute(a));
        let lit = |v: AttributeValue| Operand::Value(ValueRef::Literal(v));
        assert_eq!(
            filter_to_condition("ScanFilter", &[], ConditionalOperator::And).unwrap(),
            None
        );
        let entries = kc(&[
            ("val", Some("EQ"), Some(vec![n("3")])),
            ("tag", Some("CONTAINS"), Some(vec![s("hello")])),
            ("gone", Some("NULL"), None),
        ]);
        let eq = Condition::Compare(path("val"), Comparator::Eq, lit(n("3")));
        let contains = Condition::Contains(path("tag"), lit(s("hello")));
        let gone = Condition::AttributeNotExists(DocumentPath::attribute("gone"));
        assert_eq!(
            filter_to_condition("QueryFilter", &entries, ConditionalOperator::And).unwrap(),
            Some(Condition::and(
                Condition::and(eq.clone(), contains.clone()),
                gone.clone()
            ))
        );
        assert_eq!(
            filter_to_condition("ScanFilter", &entries, ConditionalOperator::Or).unwrap(),
            Some(Condition::or(Condition::or(eq, contains), gone))
        );
        let between = kc(&[("v", Some("BETWEEN"), Some(vec![n("1"), n("2")]))]);
        assert_eq!(
            filter_to_condition("ScanFilter", &between, ConditionalOperator::And).unwrap(),
            Some(Condition::Between(path("v"), lit(n("1")), lit(n("2"))))
        );
    }

    #[test]
    fn filter_errors() {
        let invalid = |m: &str| format!("One or more parameter values were invalid: {m}");
        let err = |p: &str, entries: Vec<(String, ExpectedAttributeValue)>| {
            filter_to_condition(p, &entries, ConditionalOperator::And)
                .unwrap_err()
                .message
        };
        assert_eq!(
            err("ScanFilter", kc(&[("a", None, None)])),
            "1 validation error detected: Value null at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(
            err("QueryFilter", kc(&[("b", Some(""), None)])),
            "1 validation error detected: Value '' at 'queryFilter.b.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        );
        assert_eq!(
            err("ScanFilter", kc(&[("x", Some("EQ"), None)])),
            invalid("Invalid number of argument(s) for the EQ ComparisonOperator")
        );
        // `Value` is not a member of a filter entry (DDB Local).
        let mut with_value = kc(&[("x", Some("EQ"), None)]);
        with_value[0].1.value = Some(s("a"));
        with_value[0].1.exists = Some(true);
        assert_eq!(
            err("QueryFilter", with_value),
            invalid("Invalid number of argument(s) for the EQ ComparisonOperator")
        );
        assert_eq!(
            err("ScanFilter", kc(&[("x", Some("NULL"), Some(vec![s("a")]))])),
            invalid("Invalid number of argument(s) for the NULL ComparisonOperator")
        );
        assert_eq!(
            err(
                "ScanFilter",
                kc(&[("x", Some("LT"), Some(vec![AttributeValue::Bool(true)]))])
            ),
            invalid("ComparisonOperator LT is not valid for BOOL AttributeValue type")
        );
        assert_eq!(
            err(
                "ScanFilter",
                kc(&[("x", Some("IN"), Some(vec![s("a"), n("1")]))])
            ),
            invalid("AttributeValues inside AttributeValueList must be of same type")
        );
        assert_eq!(
            err("ScanFilter", kc(&[("x", Some("BETWEEN"), Some(vec![n("2"), n("1")]))])),
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
        );
    }
}
