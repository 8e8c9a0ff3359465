//! Turns a request's expression parameters (and their legacy equivalents)
//! into resolved trees, with DynamoDB's request-level checks in its order:
//! mixing styles, the placeholder maps, placeholders without expressions,
//! each expression, unused placeholders.

use std::collections::BTreeMap;

use openddb_core::api::{AttributeNames, AttributeValues};
use openddb_core::expr::legacy::{
    self, AttributeValueUpdate, ConditionalOperator, ExpectedAttributeValue,
};
use openddb_core::expr::{
    self, check_placeholders_without_expressions, parse_condition, parse_projection, parse_update,
    validate_placeholder_maps, Condition, DocumentPath, ExpressionKind, PlaceholderMap,
    Placeholders, UpdateExpression,
};
use openddb_core::value::check_value;
use openddb_core::{AttributeValue, DynamoError, Item};
use serde_json::Value;

/// The expression-related parameters of one request.
#[derive(Default)]
pub struct RequestExpressions<'a> {
    pub condition_expression: Option<&'a str>,
    pub update_expression: Option<&'a str>,
    pub projection_expression: Option<&'a str>,
    pub names: Option<&'a AttributeNames>,
    pub values: Option<&'a AttributeValues>,
    pub expected: Option<&'a Value>,
    pub conditional_operator: Option<&'a str>,
    pub attribute_updates: Option<&'a Value>,
    pub attributes_to_get: Option<&'a [String]>,
    pub filter_expression: Option<&'a str>,
    pub key_condition_expression: Option<&'a str>,
    /// Legacy `KeyConditions`.
    pub key_conditions: Option<&'a Value>,
    /// Legacy `QueryFilter` or `ScanFilter`, with its parameter name.
    pub filter: Option<(&'static str, &'a Value)>,
    /// Bytes of expression attribute values the request's other expression
    /// sets referenced already (a transaction's earlier entries): they
    /// share one bound.
    pub referenced_before: usize,
}

/// A resolved update, from an UpdateExpression or from AttributeUpdates
/// (which reports type mismatches in its own words).
pub struct Update {
    expression: UpdateExpression,
    legacy: bool,
}

impl Update {
    /// An update built from a resolved tree (a PartiQL statement's SET and
    /// REMOVE clauses).
    pub fn from_expression(expression: UpdateExpression) -> Update {
        Update {
            expression,
            legacy: false,
        }
    }

    /// Whether any action writes or removes the top-level attribute `name`.
    pub fn touches_attribute(&self, name: &str) -> bool {
        self.expression
            .actions()
            .iter()
            .any(|a| a.path().top_name() == Some(name))
    }
}

/// What a request's expressions came to.
#[derive(Default)]
pub struct Prepared {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub projection: Option<Vec<DocumentPath>>,
    /// FilterExpression, or the legacy QueryFilter/ScanFilter.
    pub filter: Option<Condition>,
    /// The parsed KeyConditionExpression (checked against the key schema
    /// by the caller, who knows which index is queried).
    pub key_condition: Option<Condition>,
    /// The legacy KeyConditions entries.
    pub key_conditions: Option<Vec<(String, ExpectedAttributeValue)>>,
    /// Bytes of expression attribute values referenced, with
    /// `referenced_before`.
    pub referenced: usize,
}

impl RequestExpressions<'_> {
    pub fn prepare(&self) -> Result<Prepared, DynamoError> {
        // Values decoded from the wire were checked already; embedded
        // callers build them in Rust.
        if let Some(values) = self.values {
            values.values().try_for_each(|v| check_value(v, 1))?;
        }
        let mut non_expression = Vec::new();
        if self.attributes_to_get.is_some() {
            non_expression.push("AttributesToGet");
        }
        if let Some((name, _)) = self.filter {
            non_expression.push(name);
        }
        if self.key_conditions.is_some() {
            non_expression.push("KeyConditions");
        }
        if self.attribute_updates.is_some() {
            non_expression.push("AttributeUpdates");
        }
        if self.expected.is_some() {
            non_expression.push("Expected");
        }
        let mut present = Vec::new();
        if self.projection_expression.is_some() {
            present.push("ProjectionExpression");
        }
        if self.update_expression.is_some() {
            present.push("UpdateExpression");
        }
        if self.condition_expression.is_some() {
            present.push("ConditionExpression");
        }
        if self.filter_expression.is_some() {
            present.push("FilterExpression");
        }
        if self.key_condition_expression.is_some() {
            present.push("KeyConditionExpression");
        }
        legacy::check_no_mixing(&non_expression, &present)?;

        let names = self.names.map(|n| n as &dyn PlaceholderMap<String>);
        let values = self
            .values
            .map(|v| v as &dyn PlaceholderMap<AttributeValue>);
        validate_placeholder_maps(names, values)?;
        check_placeholders_without_expressions(
            !present.is_empty(),
            present.iter().any(|p| *p != "ProjectionExpression"),
            names.is_some(),
            values.is_some(),
        )?;

        let mut placeholders =
            Placeholders::new(names, values).with_referenced(self.referenced_before);
        let mut out = Prepared::default();
        if let Some(src) = self.update_expression {
            out.update = Some(Update {
                expression: parse_update(src, Some(&mut placeholders))?,
                legacy: false,
            });
        }
        if let Some(src) = self.condition_expression {
            out.condition = Some(parse_condition(
                ExpressionKind::Condition,
                src,
                Some(&mut placeholders),
            )?);
        }
        if let Some(src) = self.key_condition_expression {
            out.key_condition = Some(parse_condition(
                ExpressionKind::KeyCondition,
                src,
                Some(&mut placeholders),
            )?);
        }
        if let Some(src) = self.filter_expression {
            out.filter = Some(parse_condition(
                ExpressionKind::Filter,
                src,
                Some(&mut placeholders),
            )?);
        }
        if let Some(src) = self.projection_expression {
            out.projection = Some(parse_projection(src, Some(&mut placeholders))?.paths);
        }
        placeholders.check_unused()?;
        out.referenced = placeholders.referenced();

        if self.conditional_operator.is_some() && self.expected.is_none() && self.filter.is_none() {
            return Err(DynamoError::validation(
                "ConditionalOperator cannot be used without Filter or Expected",
            ));
        }
        if let Some(expected) = self.expected {
            let entries = decode_expected(expected)?;
            let operator = self.legacy_operator(entries.len())?;
            out.condition = legacy::expected_to_condition(&entries, operator)?;
        }
        if let Some((name, filter)) = self.filter {
            let entries = decode_expected(filter)?;
            let operator = self.legacy_operator(entries.len())?;
            out.filter = legacy::filter_to_condition(name, &entries, operator)?;
        }
        if let Some(conditions) = self.key_conditions {
            out.key_conditions = Some(decode_expected(conditions)?);
        }
        if let Some(updates) = self.attribute_updates {
            out.update = Some(Update {
                expression: legacy::attribute_updates_to_update(&decode_attribute_updates(
                    updates,
                )?)?,
                legacy: true,
            });
        }
        if let Some(names) = self.attributes_to_get {
            out.projection = Some(legacy::attributes_to_get_paths(names));
        }
        Ok(out)
    }
}

impl RequestExpressions<'_> {
    /// How the `entries` of Expected or a legacy filter combine; the
    /// operator needs two or more of them.
    fn legacy_operator(&self, entries: usize) -> Result<ConditionalOperator, DynamoError> {
        if self.conditional_operator.is_some() && entries < 2 {
            return Err(DynamoError::validation(
                "ConditionalOperator can only be used when Filter or Expected has two or more elements",
            ));
        }
        Ok(match self.conditional_operator {
            Some("OR") => ConditionalOperator::Or,
            _ => ConditionalOperator::And,
        })
    }
}

fn serialization(what: &str) -> DynamoError {
    DynamoError::serialization(format!("Unexpected value type in {what}"))
}

fn decode_value(v: &Value) -> Result<AttributeValue, DynamoError> {
    AttributeValue::from_wire(v)
}

fn decode_expected(v: &Value) -> Result<Vec<(String, ExpectedAttributeValue)>, DynamoError> {
    let map = v.as_object().ok_or_else(|| serialization("Expected"))?;
    let mut out = Vec::with_capacity(map.len());
    for (name, entry) in map {
        let entry = entry.as_object().ok_or_else(|| serialization("Expected"))?;
        let mut e = ExpectedAttributeValue::default();
        for (field, value) in entry {
            match field.as_str() {
                "Value" => e.value = Some(decode_value(value)?),
                "Exists" => {
                    e.exists = Some(value.as_bool().ok_or_else(|| serialization("Exists"))?)
                }
                "ComparisonOperator" => {
                    e.comparison_operator = Some(
                        value
                            .as_str()
                            .ok_or_else(|| serialization("ComparisonOperator"))?
                            .to_string(),
                    )
                }
                "AttributeValueList" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| serialization("AttributeValueList"))?;
                    e.attribute_value_list =
                        Some(list.iter().map(decode_value).collect::<Result<_, _>>()?);
                }
                _ => {}
            }
        }
        out.push((name.clone(), e));
    }
    Ok(out)
}

fn decode_attribute_updates(
    v: &Value,
) -> Result<BTreeMap<String, AttributeValueUpdate>, DynamoError> {
    let map = v
        .as_object()
        .ok_or_else(|| serialization("AttributeUpdates"))?;
    let mut out = BTreeMap::new();
    for (name, entry) in map {
        let entry = entry
            .as_object()
            .ok_or_else(|| serialization("AttributeUpdates"))?;
        let mut u = AttributeValueUpdate::default();
        for (field, value) in entry {
            match field.as_str() {
                "Value" => u.value = Some(decode_value(value)?),
                "Action" => {
                    let action = value.as_str().ok_or_else(|| serialization("Action"))?;
                    if !["ADD", "PUT", "DELETE"].contains(&action) {
                        return Err(DynamoError::validation(format!(
                            "1 validation error detected: Value '{action}' at 'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                        )));
                    }
                    u.action = Some(action.to_string());
                }
                _ => {}
            }
        }
        out.insert(name.clone(), u);
    }
    Ok(out)
}

/// Whether `condition` holds for `item` (a missing item has no attributes).
pub fn condition_holds(condition: &Condition, item: Option<&Item>) -> Result<bool, DynamoError> {
    Ok(expr::evaluate(condition, item))
}

/// Applies `update` to `item`; returns the paths it wrote, for UPDATED_*.
pub fn apply_update(update: &Update, item: &mut Item) -> Result<Vec<DocumentPath>, DynamoError> {
    let paths = if update.legacy {
        legacy::apply_attribute_updates(&update.expression, item)?
    } else {
        expr::apply_update(&update.expression, item)?
    };
    Ok(paths.paths)
}

/// The item cut down to `paths`.
pub fn project(paths: &[DocumentPath], item: &Item) -> Item {
    expr::project(paths, item)
}

impl Prepared {
    /// Every top-level attribute name the request's expressions (or their
    /// legacy forms) name: what it reads, writes, compares or projects.
    pub fn attribute_names(&self, out: &mut std::collections::BTreeSet<String>) {
        let mut names = std::collections::HashSet::new();
        for c in [&self.condition, &self.filter, &self.key_condition]
            .into_iter()
            .flatten()
        {
            crate::actions::multi_read::condition_names(c, &mut names);
        }
        out.extend(names);
        for p in self.projection.iter().flatten() {
            out.extend(p.top_name().map(str::to_string));
        }
        for (name, _) in self.key_conditions.iter().flatten() {
            out.insert(name.clone());
        }
        if let Some(update) = &self.update {
            update.attribute_names(out);
        }
    }
}

impl Update {
    /// The top-level names an update writes, removes, or reads a value
    /// from (`SET a = b` reads `b`).
    pub fn attribute_names(&self, out: &mut std::collections::BTreeSet<String>) {
        use openddb_core::expr::{SetValue, UpdateAction, UpdateOperand};
        fn operand(o: &UpdateOperand, out: &mut std::collections::BTreeSet<String>) {
            match o {
                UpdateOperand::Path(p) => out.extend(p.top_name().map(str::to_string)),
                UpdateOperand::Value(_) => {}
                UpdateOperand::IfNotExists(p, o) => {
                    out.extend(p.top_name().map(str::to_string));
                    operand(o, out);
                }
                UpdateOperand::ListAppend(a, b) => {
                    operand(a, out);
                    operand(b, out);
                }
            }
        }
        for action in self.expression.actions() {
            out.extend(action.path().top_name().map(str::to_string));
            if let UpdateAction::Set(_, value) = &action {
                match value {
                    SetValue::Operand(o) => operand(o, out),
                    SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                        operand(a, out);
                        operand(b, out);
                    }
                }
            }
        }
    }
}
