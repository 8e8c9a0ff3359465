//! Condition evaluation, update application and projection against items.

use std::collections::BTreeMap;

use openddb_core::expr::*;
use openddb_core::{AttributeValue, Item, Number};

fn n(s: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(s).unwrap())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn item() -> Item {
    let mut inner = Item::new();
    inner.insert("c".into(), n("5"));
    inner.insert(
        "tags".into(),
        AttributeValue::SS(vec!["x".into(), "y".into()]),
    );
    let mut it = Item::new();
    it.insert("pk".into(), s("k"));
    it.insert("name".into(), s("hello world"));
    it.insert("age".into(), n("30"));
    it.insert("bin".into(), AttributeValue::B(vec![1, 2, 3]));
    it.insert("flag".into(), AttributeValue::Bool(true));
    it.insert("nothing".into(), AttributeValue::Null);
    it.insert("m".into(), AttributeValue::M(inner));
    it.insert(
        "l".into(),
        AttributeValue::L(vec![s("a"), n("2"), AttributeValue::L(vec![s("deep")])]),
    );
    it.insert(
        "ns".into(),
        AttributeValue::NS(vec![
            Number::parse("1").unwrap(),
            Number::parse("2").unwrap(),
        ]),
    );
    it.insert(
        "ss".into(),
        AttributeValue::SS(vec!["a".into(), "b".into()]),
    );
    it
}

fn values() -> BTreeMap<String, AttributeValue> {
    let mut v = BTreeMap::new();
    v.insert(":hello".into(), s("hello"));
    v.insert(":world".into(), s("world"));
    v.insert(":hw".into(), s("hello world"));
    v.insert(":30".into(), n("30"));
    v.insert(":30s".into(), s("30"));
    v.insert(":30e0".into(), n("3.0E1"));
    v.insert(":1".into(), n("1"));
    v.insert(":2".into(), n("2"));
    v.insert(":3".into(), n("3"));
    v.insert(":5".into(), n("5"));
    v.insert(":11".into(), n("11"));
    v.insert(":100".into(), n("100"));
    v.insert(":a".into(), s("a"));
    v.insert(":x".into(), s("x"));
    v.insert(":b12".into(), AttributeValue::B(vec![1, 2]));
    v.insert(":b23".into(), AttributeValue::B(vec![2, 3]));
    v.insert(":tS".into(), s("S"));
    v.insert(":tN".into(), s("N"));
    v.insert(":tM".into(), s("M"));
    v.insert(":tNULL".into(), s("NULL"));
    v.insert(":tBOOL".into(), s("BOOL"));
    v.insert(
        ":ssba".into(),
        AttributeValue::SS(vec!["b".into(), "a".into()]),
    );
    v.insert(":true".into(), AttributeValue::Bool(true));
    v.insert(":ldeep".into(), AttributeValue::L(vec![s("deep")]));
    v
}

fn holds(src: &str, item: Option<&Item>) -> bool {
    let vals = values();
    let mut names = BTreeMap::new();
    names.insert("#n".to_string(), "name".to_string());
    names.insert("#dot".to_string(), "a.b".to_string());
    let mut ph = Placeholders::new(Some(&names), Some(&vals));
    let c = parse_condition(ExpressionKind::Condition, src, Some(&mut ph))
        .unwrap_or_else(|e| panic!("{src}: {e}"));
    evaluate(&c, item)
}

#[test]
fn conditions_against_an_item() {
    let it = item();
    let cases: &[(&str, bool)] = &[
        ("pk = :a", false),
        ("age = :30", true),
        ("age = :30e0", true),
        ("age = :30s", false),
        ("age <> :30s", true),
        ("absent = :30", false),
        ("absent <> :30", true),
        ("absent = absent2", false),
        ("age < :100", true),
        ("age > :100", false),
        ("age >= :30 AND age <= :30", true),
        ("#n > :hello", true),
        ("#n < :30", false),
        ("flag < :true", false),
        ("bin > :b12", true),
        ("age BETWEEN :1 AND :100", true),
        ("age BETWEEN :1 AND :2", false),
        ("#n BETWEEN :1 AND :100", false),
        ("age IN (:1, :30)", true),
        ("age IN (:1, :2)", false),
        ("absent IN (:1)", false),
        ("ss = :ssba", true),
        ("l[2] = :ldeep", true),
        ("l[1] = :2", true),
        ("l[9] = :2", false),
        ("m.c = :5", true),
        ("m.c.d = :5", false),
        ("attribute_exists(m.tags)", true),
        ("attribute_exists(m.nope)", false),
        ("attribute_not_exists(nope)", true),
        ("attribute_exists(#dot)", false),
        ("attribute_type(age, :tN)", true),
        ("attribute_type(m, :tM)", true),
        ("attribute_type(nothing, :tNULL)", true),
        ("attribute_type(flag, :tBOOL)", true),
        ("attribute_type(age, :tS)", false),
        ("attribute_type(absent, :tS)", false),
        ("begins_with(#n, :hello)", true),
        ("begins_with(#n, :world)", false),
        ("begins_with(bin, :b12)", true),
        ("begins_with(age, :hello)", false),
        ("contains(#n, :world)", true),
        ("contains(bin, :b23)", true),
        ("contains(ss, :a)", true),
        ("contains(ss, :x)", false),
        ("contains(ns, :2)", true),
        ("contains(l, :a)", true),
        ("contains(l, :ldeep)", true),
        ("contains(l, :x)", false),
        ("contains(m.tags, :x)", true),
        ("size(#n) = :11", true),
        ("size(bin) = :3", true),
        ("size(l) = :3", true),
        ("size(m) = :2", true),
        ("size(ss) = :2", true),
        ("size(age) = :2", false),
        ("size(absent) = :1", false),
        ("size(ss) < size(l)", true),
        ("NOT age = :30", false),
        ("age = :1 OR age = :30", true),
        ("age = :1 AND age = :30", false),
        ("NOT (age = :1 OR age = :2)", true),
    ];
    for (src, want) in cases {
        assert_eq!(holds(src, Some(&it)), *want, "{src}");
    }
}

#[test]
fn missing_item_is_empty() {
    assert!(holds("attribute_not_exists(pk)", None));
    assert!(!holds("attribute_exists(pk)", None));
    assert!(holds("pk <> :a", None));
}

fn update(src: &str, it: &mut Item) -> Result<UpdatedPaths, String> {
    let mut vals = values();
    vals.insert(":l".into(), AttributeValue::L(vec![s("z")]));
    vals.insert(
        ":ssxy".into(),
        AttributeValue::SS(vec!["x".into(), "z".into()]),
    );
    vals.insert(
        ":nsone".into(),
        AttributeValue::NS(vec![Number::parse("1").unwrap()]),
    );
    vals.insert(
        ":ssab".into(),
        AttributeValue::SS(vec!["a".into(), "b".into()]),
    );
    vals.insert(
        ":big".into(),
        n("9.9999999999999999999999999999999999999E+125"),
    );
    let mut ph = Placeholders::new(None, Some(&vals));
    let u = parse_update(src, Some(&mut ph)).map_err(|e| e.message)?;
    apply_update(&u, it).map_err(|e| e.message)
}

#[test]
fn set_and_arithmetic() {
    let mut it = item();
    update("SET age = age + :1, newattr = :a, m.d = :x", &mut it).unwrap();
    assert_eq!(it["age"], n("31"));
    assert_eq!(it["newattr"], s("a"));
    let AttributeValue::M(m) = &it["m"] else {
        panic!()
    };
    assert_eq!(m["d"], s("x"));

    update("SET age = :100 - age", &mut it).unwrap();
    assert_eq!(it["age"], n("69"));

    // Right-hand sides read the item before the update.
    let mut it = item();
    update("SET age = :1, copied = age", &mut it).unwrap();
    assert_eq!(it["copied"], n("30"));

    let mut it = item();
    update(
        "SET a = if_not_exists(age, :1), b = if_not_exists(nope, :1)",
        &mut it,
    )
    .unwrap();
    assert_eq!(it["a"], n("30"));
    assert_eq!(it["b"], n("1"));

    update("SET l = list_append(l, :l)", &mut it).unwrap();
    let AttributeValue::L(l) = &it["l"] else {
        panic!()
    };
    assert_eq!(l.len(), 4);
    assert_eq!(l[3], s("z"));

    update(
        "SET fresh = list_append(if_not_exists(fresh, :l), :l)",
        &mut it,
    )
    .unwrap();
    assert_eq!(it["fresh"], AttributeValue::L(vec![s("z"), s("z")]));
}

#[test]
fn set_path_rules() {
    let mut it = item();
    assert_eq!(
        update("SET absent.child = :a", &mut it).unwrap_err(),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        update("SET age.child = :a", &mut it).unwrap_err(),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        update("SET age[0] = :a", &mut it).unwrap_err(),
        "The document path provided in the update expression is invalid for update"
    );
    let done = update("SET l[9] = :a", &mut it).unwrap();
    let AttributeValue::L(l) = &it["l"] else {
        panic!()
    };
    assert_eq!(l.len(), 4);
    assert_eq!(l[3], s("a"));
    assert_eq!(done.paths[0].to_string(), "l[3]");
    update("SET l[0] = :x", &mut it).unwrap();
    let AttributeValue::L(l) = &it["l"] else {
        panic!()
    };
    assert_eq!(l[0], s("x"));
}

#[test]
fn update_operand_errors() {
    let mut it = item();
    assert_eq!(
        update("SET x = #n", &mut it).unwrap_err(),
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #n"
    );
    assert_eq!(
        update("SET x = nope", &mut it).unwrap_err(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        update("SET x = pk + :1", &mut it).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("SET x = list_append(pk, :l)", &mut it).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("ADD pk :1", &mut it).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("ADD ss :nsone", &mut it).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("DELETE age :ssab", &mut it).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("SET age = :big + :big", &mut it).unwrap_err(),
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    );
}

#[test]
fn remove_add_delete() {
    let mut it = item();
    update("REMOVE l[0], l[2], m.c, nope, m.nope", &mut it).unwrap();
    assert_eq!(it["l"], AttributeValue::L(vec![n("2")]));
    let AttributeValue::M(m) = &it["m"] else {
        panic!()
    };
    assert!(!m.contains_key("c"));

    let mut it = item();
    update("ADD age :5, tally :1, ss :ssxy, fresh :nsone", &mut it).unwrap();
    assert_eq!(it["age"], n("35"));
    assert_eq!(it["tally"], n("1"));
    assert_eq!(
        it["ss"],
        AttributeValue::SS(vec!["a".into(), "b".into(), "x".into(), "z".into()])
    );
    assert_eq!(
        it["fresh"],
        AttributeValue::NS(vec![Number::parse("1").unwrap()])
    );

    update("DELETE ss :ssab, nope :ssab, ns :nsone", &mut it).unwrap();
    assert_eq!(it["ss"], AttributeValue::SS(vec!["x".into(), "z".into()]));
    assert_eq!(
        it["ns"],
        AttributeValue::NS(vec![Number::parse("2").unwrap()])
    );
    update("DELETE ss :ssxy", &mut it).unwrap();
    assert!(!it.contains_key("ss"));
}

#[test]
fn updated_paths_project_old_and_new() {
    let old = item();
    let mut new = old.clone();
    let done = update("SET m.c = :1, age = :2 REMOVE pk", &mut new).unwrap();
    let before = project(&done.paths, &old);
    let after = project(&done.paths, &new);
    assert_eq!(before.keys().collect::<Vec<_>>(), ["age", "m", "pk"]);
    let AttributeValue::M(m) = &before["m"] else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m["c"], n("5"));
    assert_eq!(after.keys().collect::<Vec<_>>(), ["age", "m"]);
}

#[test]
fn projection_keeps_structure() {
    let it = item();
    let mut names = BTreeMap::new();
    names.insert("#n".to_string(), "name".to_string());
    let mut ph = Placeholders::new(Some(&names), None);
    let p = parse_projection("#n, m.tags, l[2][0], l[0], absent, m.nope", Some(&mut ph)).unwrap();
    let out = project(&p.paths, &it);
    assert_eq!(out.keys().collect::<Vec<_>>(), ["l", "m", "name"]);
    assert_eq!(
        out["l"],
        AttributeValue::L(vec![s("a"), AttributeValue::L(vec![s("deep")])])
    );
    let AttributeValue::M(m) = &out["m"] else {
        panic!()
    };
    assert_eq!(m.keys().collect::<Vec<_>>(), ["tags"]);
    // A path into a non-map yields nothing.
    let p = parse_projection("age.x", None).unwrap();
    assert!(project(&p.paths, &it).is_empty());
}
