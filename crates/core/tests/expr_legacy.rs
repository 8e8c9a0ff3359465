//! Legacy parameters: Expected, AttributeUpdates, AttributesToGet, and the
//! rule against mixing them with expressions.

use std::collections::BTreeMap;

use openddb_core::expr::legacy::*;
use openddb_core::expr::{evaluate, project};
use openddb_core::{AttributeValue, Item, Number};

fn n(s: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(s).unwrap())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn exp(
    value: Option<AttributeValue>,
    exists: Option<bool>,
    op: Option<&str>,
    list: Option<Vec<AttributeValue>>,
) -> ExpectedAttributeValue {
    ExpectedAttributeValue {
        value,
        exists,
        comparison_operator: op.map(str::to_string),
        attribute_value_list: list,
    }
}

fn item() -> Item {
    let mut it = Item::new();
    it.insert("a".into(), n("5"));
    it.insert("s".into(), s("hello"));
    it
}

fn check(
    entries: Vec<(&str, ExpectedAttributeValue)>,
    op: ConditionalOperator,
) -> Result<bool, String> {
    let entries: Vec<(String, ExpectedAttributeValue)> = entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let c = expected_to_condition(&entries, op).map_err(|e| e.message)?;
    let it = item();
    Ok(c.is_none_or(|c| evaluate(&c, Some(&it))))
}

#[test]
fn expected_forms() {
    use ConditionalOperator::*;
    assert_eq!(
        check(vec![("a", exp(Some(n("5")), None, None, None))], And),
        Ok(true)
    );
    assert_eq!(
        check(vec![("a", exp(Some(n("5")), Some(true), None, None))], And),
        Ok(true)
    );
    assert_eq!(
        check(vec![("zz", exp(None, Some(false), None, None))], And),
        Ok(true)
    );
    assert_eq!(
        check(vec![("a", exp(None, Some(false), None, None))], And),
        Ok(false)
    );
    assert_eq!(
        check(
            vec![("a", exp(None, None, Some("GT"), Some(vec![n("4")])))],
            And
        ),
        Ok(true)
    );
    assert_eq!(
        check(vec![("a", exp(Some(n("6")), None, Some("LT"), None))], And),
        Ok(true)
    );
    assert_eq!(
        check(
            vec![(
                "a",
                exp(None, None, Some("BETWEEN"), Some(vec![n("1"), n("9")]))
            )],
            And
        ),
        Ok(true)
    );
    assert_eq!(
        check(
            vec![("a", exp(None, None, Some("IN"), Some(vec![n("1"), n("5")])))],
            And
        ),
        Ok(true)
    );
    assert_eq!(
        check(
            vec![(
                "s",
                exp(None, None, Some("BEGINS_WITH"), Some(vec![s("he")]))
            )],
            And
        ),
        Ok(true)
    );
    assert_eq!(
        check(
            vec![(
                "s",
                exp(None, None, Some("NOT_CONTAINS"), Some(vec![s("z")]))
            )],
            And
        ),
        Ok(true)
    );
    assert_eq!(
        check(vec![("s", exp(None, None, Some("NOT_NULL"), None))], And),
        Ok(true)
    );
    assert_eq!(
        check(vec![("q", exp(None, None, Some("NULL"), None))], And),
        Ok(true)
    );
    assert_eq!(
        check(
            vec![("a", exp(None, None, Some("NE"), Some(vec![n("5")])))],
            And
        ),
        Ok(false)
    );
    let two = || {
        vec![
            ("a", exp(Some(n("1")), None, None, None)),
            ("s", exp(Some(s("hello")), None, None, None)),
        ]
    };
    assert_eq!(check(two(), And), Ok(false));
    assert_eq!(check(two(), Or), Ok(true));
    assert_eq!(check(vec![], And), Ok(true));
}

#[test]
fn expected_messages() {
    use ConditionalOperator::And;
    let p = "One or more parameter values were invalid: ";
    let cases = vec![
        (exp(Some(n("1")), None, Some("EQ"), Some(vec![n("1")])), format!("{p}Value and AttributeValueList cannot be used together for Attribute: a")),
        (exp(None, Some(true), Some("EQ"), Some(vec![n("1")])), format!("{p}Exists and ComparisonOperator cannot be used together for Attribute: a")),
        (exp(None, None, Some("EQ"), None), format!("{p}Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a")),
        (exp(None, None, Some("EQ"), Some(vec![])), format!("{p}Invalid number of argument(s) for the EQ ComparisonOperator")),
        (exp(None, None, Some("NULL"), Some(vec![n("1")])), format!("{p}Invalid number of argument(s) for the NULL ComparisonOperator")),
        (exp(None, None, Some("BETWEEN"), Some(vec![n("1")])), format!("{p}Invalid number of argument(s) for the BETWEEN ComparisonOperator")),
        (exp(None, None, Some("IN"), Some(vec![n("1"), s("x")])), format!("{p}AttributeValues inside AttributeValueList must be of same type")),
        (exp(None, None, Some("GT"), Some(vec![AttributeValue::Bool(true)])), format!("{p}ComparisonOperator GT is not valid for BOOL AttributeValue type")),
        (exp(None, None, Some("BETWEEN"), Some(vec![n("9"), n("1")])), "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".to_string()),
        (exp(None, None, None, Some(vec![n("1")])), format!("{p}AttributeValueList can only be used with a ComparisonOperator for Attribute: a")),
        (exp(None, None, None, None), format!("{p}Value must be provided when Exists is null for Attribute: a")),
        (exp(None, Some(true), None, None), format!("{p}Value must be provided when Exists is true for Attribute: a")),
        (exp(Some(n("1")), Some(false), None, None), format!("{p}Value cannot be used when Exists is false for Attribute: a")),
    ];
    for (entry, want) in cases {
        assert_eq!(
            check(vec![("a", entry.clone())], And),
            Err(want),
            "{entry:?}"
        );
    }
}

#[test]
fn mixing_rule() {
    assert!(check_no_mixing(&[], &["ConditionExpression"]).is_ok());
    assert_eq!(
        check_no_mixing(&["Expected"], &["ConditionExpression"]).unwrap_err().message,
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    );
    assert_eq!(
        check_no_mixing(&["AttributeUpdates"], &["UpdateExpression"]).unwrap_err().message,
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"
    );
}

fn upd(action: Option<&str>, value: Option<AttributeValue>) -> AttributeValueUpdate {
    AttributeValueUpdate {
        action: action.map(str::to_string),
        value,
    }
}

#[test]
fn attribute_updates() {
    let mut updates = BTreeMap::new();
    updates.insert("a".to_string(), upd(Some("ADD"), Some(n("2"))));
    updates.insert("s".to_string(), upd(Some("DELETE"), None));
    updates.insert("t".to_string(), upd(None, Some(s("new"))));
    updates.insert(
        "l".to_string(),
        upd(Some("ADD"), Some(AttributeValue::L(vec![s("x")]))),
    );
    let u = attribute_updates_to_update(&updates).unwrap();
    let mut it = item();
    it.insert("l".into(), AttributeValue::L(vec![s("w")]));
    apply_attribute_updates(&u, &mut it).unwrap();
    assert_eq!(it["a"], n("7"));
    assert!(!it.contains_key("s"));
    assert_eq!(it["t"], s("new"));
    assert_eq!(it["l"], AttributeValue::L(vec![s("w"), s("x")]));

    let mut bad = BTreeMap::new();
    bad.insert("a".to_string(), upd(Some("ADD"), Some(n("2"))));
    let u = attribute_updates_to_update(&bad).unwrap();
    let mut it = item();
    it.insert("a".into(), s("text"));
    assert_eq!(
        apply_attribute_updates(&u, &mut it).unwrap_err().message,
        "Type mismatch for attribute to update"
    );

    let p = "One or more parameter values were invalid: ";
    for (u, want) in [
        (
            upd(Some("PUT"), None),
            format!("{p}Only DELETE action is allowed when no attribute value is specified"),
        ),
        (
            upd(Some("ADD"), Some(s("x"))),
            format!("{p}ADD action is not supported for the type S"),
        ),
        (
            upd(Some("DELETE"), Some(n("1"))),
            format!("{p}DELETE action with value is not supported for the type N"),
        ),
    ] {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), u);
        assert_eq!(attribute_updates_to_update(&m).unwrap_err().message, want);
    }
}

#[test]
fn attributes_to_get() {
    let paths = attributes_to_get_paths(&["s".to_string(), "name".to_string(), "zz".to_string()]);
    let out = project(&paths, &item());
    assert_eq!(out.keys().collect::<Vec<_>>(), ["s"]);
}
