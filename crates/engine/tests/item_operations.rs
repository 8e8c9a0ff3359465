//! Single-item actions through the embedded API, in both storage modes:
//! conditions, update expressions, return values, projections and the
//! capacity units DynamoDB computes from item sizes.

#[macro_use]
mod common;

use common::*;
use openddb_core::api::{
    AttributeNames, AttributeValues, DeleteItemInput, GetItemInput, PutItemInput, UpdateItemInput,
};
use openddb_core::{AttributeValue, ErrorKind, Item};
use openddb_engine::Database;

const T: &str = "items";

/// The item the condition and update tables start from.
fn sample() -> Item {
    item(&[
        ("pk", s("k")),
        ("status", s("active")),
        ("count", n("5")),
        ("tags", ss(&["a", "b"])),
        ("m", m(&[("nested", s("x")), ("side", n("1"))])),
        ("l", l(vec![s("a"), s("b"), s("c")])),
        ("body", s("old")),
    ])
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

async fn setup(db: &Database) {
    create_hash_table(db, T).await;
}

async fn update(
    db: &Database,
    pk: &str,
    expression: Option<&str>,
    names: Option<AttributeNames>,
    vals: Option<AttributeValues>,
    return_values: Option<&str>,
) -> Result<Option<Item>, openddb_core::DynamoError> {
    db.update_item(UpdateItemInput {
        table_name: Some(T.into()),
        key: Some(key(pk)),
        update_expression: expression.map(str::to_string),
        expression_attribute_names: names,
        expression_attribute_values: vals,
        return_values: return_values.map(str::to_string),
        ..Default::default()
    })
    .await
    .map(|o| o.attributes)
}

/// Every value placeholder the condition table uses (each case names only
/// the ones its expression uses, as DynamoDB refuses unused ones).
fn value_pool() -> Vec<(&'static str, AttributeValue)> {
    vec![
        (":active", s("active")),
        (":inactive", s("inactive")),
        (":three", n("3")),
        (":ten", n("10")),
        (":five", n("5")),
        (":pre", s("act")),
        (":sub", s("tiv")),
        (":a", s("a")),
        (":z", s("z")),
        (":two", n("2")),
        (":N", s("N")),
        (":SS", s("SS")),
        (":x", s("x")),
    ]
}

fn pick(expr: &str) -> Option<AttributeValues> {
    let used: Vec<_> = value_pool()
        .into_iter()
        .filter(|(k, _)| {
            expr.match_indices(k)
                .any(|(i, _)| !expr[i + k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
        })
        .collect();
    (!used.is_empty()).then(|| values(&used))
}

fn pick_names(expr: &str) -> Option<AttributeNames> {
    let pool = [
        ("#s", "status"),
        ("#c", "count"),
        ("#m", "m"),
        ("#n", "nested"),
        ("#missing", "absent"),
    ];
    let used: Vec<_> = pool
        .into_iter()
        .filter(|(k, _)| {
            expr.match_indices(k)
                .any(|(i, _)| !expr[i + k.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
        })
        .collect();
    (!used.is_empty()).then(|| names(&used))
}

both_modes! {
    async fn conditions_on_an_existing_item(db) {
        setup(db).await;
        put(db, T, sample()).await;
        let cases: &[(&str, bool)] = &[
            ("attribute_exists(pk)", true),
            ("attribute_not_exists(pk)", false),
            ("attribute_exists(#missing)", false),
            ("NOT attribute_exists(#missing)", true),
            ("#s = :active", true),
            ("#s = :inactive", false),
            ("#s <> :inactive", true),
            ("#c > :three", true),
            ("#c > :ten", false),
            ("#c >= :five AND #c <= :five", true),
            ("#c < :five", false),
            ("#c BETWEEN :three AND :ten", true),
            ("#c BETWEEN :ten AND :ten", false),
            ("#s IN (:inactive, :active)", true),
            ("#s IN (:inactive, :a)", false),
            ("begins_with(#s, :pre)", true),
            ("begins_with(#s, :sub)", false),
            ("contains(#s, :sub)", true),
            ("contains(tags, :a)", true),
            ("contains(tags, :z)", false),
            ("size(tags) = :two", true),
            ("size(#s) > :ten", false),
            ("attribute_type(#c, :N)", true),
            ("attribute_type(tags, :SS)", true),
            ("attribute_type(#s, :N)", false),
            ("m.nested = :x", true),
            ("#m.#n = :x", true),
            ("attribute_exists(#m.#n)", true),
            ("attribute_not_exists(#m.#missing)", true),
            ("#missing <> :active", true),
            ("#missing = :active", false),
            ("#s = :inactive OR #c = :five", true),
            ("(#s = :active) AND (#c = :five)", true),
            ("(#s = :active AND (#c = :ten))", false),
            ("NOT (#s = :inactive AND #c = :five)", true),
            // A type mismatch is simply false.
            ("#s > :three", false),
        ];
        for &(condition, holds) in cases {
            let result = db
                .put_item(PutItemInput {
                    table_name: Some(T.into()),
                    item: Some(sample()),
                    condition_expression: Some(condition.into()),
                    expression_attribute_names: pick_names(condition),
                    expression_attribute_values: pick(condition),
                    ..Default::default()
                })
                .await;
            match (holds, result) {
                (true, Ok(_)) => {}
                (false, Err(e)) => {
                    assert_eq!(e.kind, ErrorKind::ConditionalCheckFailedException, "{condition}: {}", e.message);
                    assert_eq!(e.message, "The conditional request failed");
                    assert_eq!(e.item, None, "{condition}: no item without ALL_OLD");
                }
                (holds, r) => panic!("{condition}: expected holds={holds}, got {r:?}"),
            }
        }
        assert_eq!(get(db, T, key("k")).await, Some(sample()));
    }

    async fn conditions_on_a_missing_item(db) {
        setup(db).await;
        let cases: &[(&str, bool)] = &[
            ("attribute_not_exists(pk)", true),
            ("attribute_exists(pk)", false),
            ("#s <> :active", true),
            ("#s <> :active OR #c < :ten", true),
            ("#s = :active", false),
            ("#c > :three", false),
            ("attribute_exists(pk) AND #s = :active", false),
        ];
        for (i, &(condition, holds)) in cases.iter().enumerate() {
            let pk = format!("missing{i}");
            let result = db
                .update_item(UpdateItemInput {
                    table_name: Some(T.into()),
                    key: Some(key(&pk)),
                    update_expression: Some("SET touched = :a".into()),
                    condition_expression: Some(condition.into()),
                    expression_attribute_names: pick_names(condition),
                    expression_attribute_values: pick(&format!("{condition} :a")),
                    return_values_on_condition_check_failure: Some("ALL_OLD".into()),
                    ..Default::default()
                })
                .await;
            match (holds, result) {
                (true, Ok(_)) => assert_eq!(
                    get(db, T, key(&pk)).await,
                    Some(item(&[("pk", s(&pk)), ("touched", s("a"))])),
                    "{condition}"
                ),
                (false, Err(e)) => {
                    assert_eq!(e.kind, ErrorKind::ConditionalCheckFailedException, "{condition}");
                    // Nothing to return, and no ghost item left behind.
                    assert_eq!(e.item, None, "{condition}");
                    assert_eq!(get(db, T, key(&pk)).await, None, "{condition}");
                }
                (holds, r) => panic!("{condition}: expected holds={holds}, got {r:?}"),
            }
        }
    }

    async fn failed_condition_returns_old_item_when_asked(db) {
        setup(db).await;
        put(db, T, sample()).await;
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("PutItem", Some("ALL_OLD"), true),
            ("PutItem", Some("NONE"), false),
            ("PutItem", None, false),
            ("UpdateItem", Some("ALL_OLD"), true),
            ("DeleteItem", Some("ALL_OLD"), true),
            ("DeleteItem", None, false),
        ];
        for &(action, on_failure, returned) in cases {
            let condition = Some("attribute_not_exists(pk)".to_string());
            let on_failure = on_failure.map(str::to_string);
            let err = match action {
                "PutItem" => db.put_item(PutItemInput {
                    table_name: Some(T.into()),
                    item: Some(item(&[("pk", s("k"))])),
                    condition_expression: condition,
                    return_values_on_condition_check_failure: on_failure,
                    ..Default::default()
                }).await.map(|_| ()),
                "UpdateItem" => db.update_item(UpdateItemInput {
                    table_name: Some(T.into()),
                    key: Some(key("k")),
                    update_expression: Some("REMOVE body".into()),
                    condition_expression: condition,
                    return_values_on_condition_check_failure: on_failure,
                    ..Default::default()
                }).await.map(|_| ()),
                _ => db.delete_item(DeleteItemInput {
                    table_name: Some(T.into()),
                    key: Some(key("k")),
                    condition_expression: condition,
                    return_values_on_condition_check_failure: on_failure,
                    ..Default::default()
                }).await.map(|_| ()),
            }
            .expect_err("condition must fail");
            assert_eq!(err.kind, ErrorKind::ConditionalCheckFailedException);
            assert_eq!(err.item, returned.then(sample), "{action}");
        }
        assert_eq!(get(db, T, key("k")).await, Some(sample()));
    }

    async fn legacy_expected_conditions(db) {
        setup(db).await;
        put(db, T, sample()).await;
        let cases: &[(serde_json::Value, Option<&str>, bool)] = &[
            (serde_json::json!({"pk": {"Exists": false}}), None, false),
            (serde_json::json!({"nope": {"Exists": false}}), None, true),
            (serde_json::json!({"status": {"Exists": true, "Value": {"S": "active"}}}), None, true),
            (serde_json::json!({"status": {"Value": {"S": "active"}}}), None, true),
            (serde_json::json!({"status": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "gone"}]}}), None, false),
            (serde_json::json!({"status": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "act"}]}}), None, true),
            (serde_json::json!({
                "status": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "active"}]},
                "count": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]}}), Some("AND"), false),
            (serde_json::json!({
                "status": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "active"}]},
                "count": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]}}), Some("OR"), true),
            (serde_json::json!({
                "status": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "active"}]},
                "count": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]}}), None, false),
        ];
        for (expected, operator, holds) in cases {
            let mut body = serde_json::json!({
                "TableName": T,
                "Item": openddb_core::value::item_to_wire(&sample()),
                "Expected": expected,
            });
            if let Some(op) = operator {
                body["ConditionalOperator"] = serde_json::json!(op);
            }
            match (holds, wire(db, "PutItem", body).await) {
                (true, Ok(_)) => {}
                (false, Err(e)) => assert_eq!(e.kind, ErrorKind::ConditionalCheckFailedException, "{expected}"),
                (holds, r) => panic!("{expected} {operator:?}: expected holds={holds}, got {r:?}"),
            }
        }
    }

    async fn update_expressions(db) {
        setup(db).await;
        type Case = (&'static str, Vec<(&'static str, AttributeValue)>, Item);
        let with = |changes: &[(&str, Option<AttributeValue>)]| {
            let mut it = sample();
            for (k, v) in changes {
                match v {
                    Some(v) => it.insert(k.to_string(), v.clone()),
                    None => it.remove(*k),
                };
            }
            it
        };
        let cases: Vec<Case> = vec![
            ("SET extra = :v", vec![(":v", s("new"))], with(&[("extra", Some(s("new")))])),
            ("SET #c = #c + :n", vec![(":n", n("10"))], with(&[("count", Some(n("15")))])),
            ("SET #c = #c - :n", vec![(":n", n("7.5"))], with(&[("count", Some(n("-2.5")))])),
            ("SET #c = (#c - :n)", vec![(":n", n("1"))], with(&[("count", Some(n("4")))])),
            ("SET #c = if_not_exists(#c, :d), fresh = if_not_exists(fresh, :d)", vec![(":d", n("0"))],
             with(&[("fresh", Some(n("0")))])),
            ("SET dup = if_not_exists(dup, body)", vec![], with(&[("dup", Some(s("old")))])),
            ("SET l = list_append(l, :more)", vec![(":more", l(vec![s("d")]))],
             with(&[("l", Some(l(vec![s("a"), s("b"), s("c"), s("d")])))])),
            ("SET l = list_append(:more, l)", vec![(":more", l(vec![s("z")]))],
             with(&[("l", Some(l(vec![s("z"), s("a"), s("b"), s("c")])))])),
            ("SET fresh = list_append(if_not_exists(fresh, :empty), :more)",
             vec![(":empty", l(vec![])), (":more", l(vec![s("x")]))],
             with(&[("fresh", Some(l(vec![s("x")])))])),
            ("SET body = :v, dup = body", vec![(":v", s("new"))],
             with(&[("body", Some(s("new"))), ("dup", Some(s("old")))])),
            ("SET m.nested = :v", vec![(":v", s("y"))],
             with(&[("m", Some(m(&[("nested", s("y")), ("side", n("1"))])))])),
            ("SET m.added = :v", vec![(":v", s("y"))],
             with(&[("m", Some(m(&[("nested", s("x")), ("side", n("1")), ("added", s("y"))])))])),
            ("SET l[1] = :v", vec![(":v", s("B"))], with(&[("l", Some(l(vec![s("a"), s("B"), s("c")])))])),
            ("SET l[5] = :v", vec![(":v", s("end"))],
             with(&[("l", Some(l(vec![s("a"), s("b"), s("c"), s("end")])))])),
            ("SET #s = :v REMOVE body", vec![(":v", s("done"))],
             with(&[("status", Some(s("done"))), ("body", None)])),
            ("REMOVE body, m.side", vec![],
             with(&[("body", None), ("m", Some(m(&[("nested", s("x"))])))])),
            ("REMOVE l[1]", vec![], with(&[("l", Some(l(vec![s("a"), s("c")])))])),
            ("REMOVE nothing, m.nothing, l[10]", vec![], sample()),
            ("ADD #c :n", vec![(":n", n("3"))], with(&[("count", Some(n("8")))])),
            ("ADD fresh :n", vec![(":n", n("10"))], with(&[("fresh", Some(n("10")))])),
            ("ADD tags :t", vec![(":t", ss(&["c", "a"]))], with(&[("tags", Some(ss(&["a", "b", "c"])))])),
            ("ADD newset :t", vec![(":t", ss(&["q"]))], with(&[("newset", Some(ss(&["q"])))])),
            ("DELETE tags :t", vec![(":t", ss(&["a"]))], with(&[("tags", Some(ss(&["b"])))])),
            ("DELETE tags :t", vec![(":t", ss(&["a", "b"]))], with(&[("tags", None)])),
            ("DELETE tags :t", vec![(":t", ss(&["zz"]))], sample()),
        ];
        for (expression, vals, expected) in cases {
            put(db, T, sample()).await;
            let used_names = pick_names(expression);
            let vals = (!vals.is_empty()).then(|| values(&vals));
            update(db, "k", Some(expression), used_names, vals, None)
                .await
                .unwrap_or_else(|e| panic!("{expression}: {e}"));
            let mut got = get(db, T, key("k")).await.expect("item");
            openddb_core::value::normalize_sets(&mut got);
            assert_eq!(got, expected, "{expression}");
        }
    }

    async fn update_expression_refusals(db) {
        setup(db).await;
        create_composite_table(db, "composite").await;
        put(db, T, sample()).await;
        // (table, expression, values, message, exact): runtime refusals are
        // matched on their ending, as the envelope on them is not recorded.
        let cases: Vec<(&str, &str, Option<AttributeValues>, &str, bool)> = vec![
            (T, "SET pk = :v", Some(values(&[(":v", s("x"))])),
             "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key", true),
            ("composite", "SET sk = :v", Some(values(&[(":v", s("x"))])),
             "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key", true),
            (T, "SET #c = #c + :v", Some(values(&[(":v", s("x"))])),
             "1 validation error detected: Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S", true),
            (T, "SET #v = :a, #v = :b", None,
             "1 validation error detected: Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [val], path two: [val]", true),
            (T, "SET absent.deeper.leaf = :v", Some(values(&[(":v", s("x"))])),
             "The document path provided in the update expression is invalid for update", false),
            (T, "SET #s = #s + :v", Some(values(&[(":v", n("1"))])),
             "An operand in the update expression has an incorrect data type", false),
            (T, "ADD #s :v", Some(values(&[(":v", n("1"))])),
             "An operand in the update expression has an incorrect data type", false),
        ];
        for (table, expression, vals, message, exact) in cases {
            let key = if table == T { key("k") } else { item(&[("pk", s("k")), ("sk", s("s"))]) };
            let (names, vals) = if expression.contains("#v") {
                (Some(names(&[("#v", "val")])), Some(values(&[(":a", s("a")), (":b", s("b"))])))
            } else {
                (pick_names(expression), vals)
            };
            let e = db
                .update_item(UpdateItemInput {
                    table_name: Some(table.into()),
                    key: Some(key),
                    update_expression: Some(expression.into()),
                    expression_attribute_names: names,
                    expression_attribute_values: vals,
                    ..Default::default()
                })
                .await
                .expect_err(expression);
            assert_eq!(e.kind, ErrorKind::ValidationException, "{expression}: {}", e.message);
            if exact {
                assert_eq!(e.message, message, "{expression}");
            } else {
                assert!(e.message.ends_with(message), "{expression}: {}", e.message);
            }
        }
        assert_eq!(get(db, T, key("k")).await, Some(sample()));
    }

    async fn update_item_with_only_a_key_creates_a_key_only_item(db) {
        setup(db).await;
        let attrs = update(db, "bare", None, None, None, Some("ALL_NEW")).await.expect("update");
        assert_eq!(attrs, Some(key("bare")));
        assert_eq!(get(db, T, key("bare")).await, Some(key("bare")));
    }

    async fn update_return_values(db) {
        setup(db).await;
        let base = item(&[("pk", s("k")), ("x", n("1")), ("y", n("2"))]);
        let cases: &[(&str, Option<&str>, Option<Item>)] = &[
            ("SET x = :v", None, None),
            ("SET x = :v", Some("NONE"), None),
            ("SET x = :v", Some("ALL_OLD"), Some(base.clone())),
            ("SET x = :v", Some("ALL_NEW"), Some(item(&[("pk", s("k")), ("x", n("9")), ("y", n("2"))]))),
            ("SET x = :v", Some("UPDATED_OLD"), Some(item(&[("x", n("1"))]))),
            ("SET x = :v", Some("UPDATED_NEW"), Some(item(&[("x", n("9"))]))),
            ("SET z = :v", Some("UPDATED_OLD"), None),
            ("SET z = :v", Some("UPDATED_NEW"), Some(item(&[("z", n("9"))]))),
            ("REMOVE y SET z = :v", Some("UPDATED_OLD"), Some(item(&[("y", n("2"))]))),
            ("REMOVE y SET z = :v", Some("UPDATED_NEW"), Some(item(&[("z", n("9"))]))),
        ];
        for &(expression, rv, ref expected) in cases {
            put(db, T, base.clone()).await;
            let got = update(db, "k", Some(expression), None, Some(values(&[(":v", n("9"))])), rv)
                .await
                .unwrap_or_else(|e| panic!("{expression} {rv:?}: {e}"));
            assert_eq!(&got, expected, "{expression} {rv:?}");
        }

        // REMOVE alone with UPDATED_NEW has nothing to return.
        put(db, T, base.clone()).await;
        let got = update(db, "k", Some("REMOVE y"), None, None, Some("UPDATED_NEW")).await.unwrap();
        assert_eq!(got, None);

        // UPDATED_NEW on a nested SET returns only the changed fragment.
        put(db, T, item(&[("pk", s("k")), ("parent", m(&[("child", s("a")), ("sibling", s("b"))]))])).await;
        let got = update(db, "k", Some("SET parent.child = :v"), None, Some(values(&[(":v", s("z"))])), Some("UPDATED_NEW"))
            .await
            .unwrap();
        assert_eq!(got, Some(item(&[("parent", m(&[("child", s("z"))]))])));

        // An upsert with ALL_NEW returns the key and what was set.
        let got = update(db, "new", Some("SET a = :v"), None, Some(values(&[(":v", n("9"))])), Some("ALL_NEW"))
            .await
            .unwrap();
        assert_eq!(got, Some(item(&[("pk", s("new")), ("a", n("9"))])));
    }

    async fn put_and_delete_return_values(db) {
        setup(db).await;
        let first = item(&[("pk", s("k")), ("v", s("one"))]);
        let second = item(&[("pk", s("k")), ("v", s("two"))]);
        let put_rv = |it: Item, rv: Option<&str>| PutItemInput {
            table_name: Some(T.into()),
            item: Some(it),
            return_values: rv.map(str::to_string),
            ..Default::default()
        };
        let out = db.put_item(put_rv(first.clone(), Some("ALL_OLD"))).await.unwrap();
        assert_eq!(out.attributes, None, "nothing to return for a new item");
        let out = db.put_item(put_rv(second.clone(), Some("ALL_OLD"))).await.unwrap();
        assert_eq!(out.attributes, Some(first.clone()));
        let out = db.put_item(put_rv(second.clone(), Some("NONE"))).await.unwrap();
        assert_eq!(out.attributes, None);
        assert_eq!(get(db, T, key("k")).await, Some(second.clone()));

        let del_rv = |rv: Option<&str>| DeleteItemInput {
            table_name: Some(T.into()),
            key: Some(key("k")),
            return_values: rv.map(str::to_string),
            ..Default::default()
        };
        let out = db.delete_item(del_rv(Some("ALL_OLD"))).await.unwrap();
        assert_eq!(out.attributes, Some(second));
        let out = db.delete_item(del_rv(Some("ALL_OLD"))).await.unwrap();
        assert_eq!(out.attributes, None, "deleting a missing item returns nothing");
        assert_eq!(get(db, T, key("k")).await, None);

        for rv in ["ALL_NEW", "UPDATED_NEW", "UPDATED_OLD"] {
            assert_error(
                db.put_item(put_rv(first.clone(), Some(rv))).await,
                ErrorKind::ValidationException,
                "1 validation error detected: ReturnValues can only be ALL_OLD or NONE",
            );
            assert_error(
                db.delete_item(del_rv(Some(rv))).await,
                ErrorKind::ValidationException,
                "1 validation error detected: ReturnValues can only be ALL_OLD or NONE",
            );
        }
    }

    async fn projections(db) {
        setup(db).await;
        put(db, T, sample()).await;
        let get_with = |pe: Option<&str>, atg: Option<Vec<&str>>| GetItemInput {
            table_name: Some(T.into()),
            key: Some(key("k")),
            projection_expression: pe.map(str::to_string),
            expression_attribute_names: pe.and_then(pick_names),
            attributes_to_get: atg.map(|v| v.into_iter().map(str::to_string).collect()),
            ..Default::default()
        };
        // (ProjectionExpression, AttributesToGet, expected item)
        type Case<'a> = (Option<&'a str>, Option<Vec<&'a str>>, Item);
        let cases: Vec<Case> = vec![
            (None, None, sample()),
            (Some("body, #c"), None, item(&[("body", s("old")), ("count", n("5"))])),
            // The key is not added unless asked for.
            (Some("body"), None, item(&[("body", s("old"))])),
            (Some("#m.#n"), None, item(&[("m", m(&[("nested", s("x"))]))])),
            (Some("l[0]"), None, item(&[("l", l(vec![s("a")]))])),
            (Some("l[2], l[0]"), None, item(&[("l", l(vec![s("a"), s("c")]))])),
            (Some("m.nested, m.side"), None, item(&[("m", m(&[("nested", s("x")), ("side", n("1"))]))])),
            (Some("nothing, body"), None, item(&[("body", s("old"))])),
            (None, Some(vec!["body", "pk"]), item(&[("body", s("old")), ("pk", s("k"))])),
            (None, Some(vec!["body", "nothing"]), item(&[("body", s("old"))])),
        ];
        for (pe, atg, expected) in cases {
            let label = format!("{pe:?} {atg:?}");
            let got = db.get_item(get_with(pe, atg)).await.unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(got.item, Some(expected), "{label}");
        }
        // Only non-existent attributes: an empty item, not a missing one.
        let got = db.get_item(get_with(Some("nothing"), None)).await.unwrap();
        assert_eq!(got.item, Some(Item::new()));
        // A missing item stays missing whatever the projection.
        let got = db
            .get_item(GetItemInput {
                key: Some(key("nope")),
                ..get_with(Some("body"), None)
            })
            .await
            .unwrap();
        assert_eq!(got.item, None);
    }

    async fn capacity_units_follow_item_size(db) {
        setup(db).await;
        // pk(2) + "k"(1) + body(4) = 7 bytes before the payload.
        let sized = |total: usize| item(&[("pk", s("k")), ("body", s(&"x".repeat(total - 7)))]);
        let put_units = |it: Item| async move {
            db.put_item(PutItemInput {
                table_name: Some(T.into()),
                item: Some(it),
                return_consumed_capacity: Some("TOTAL".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .consumed_capacity
            .expect("ConsumedCapacity")
        };
        let get_units = |consistent: bool| async move {
            db.get_item(GetItemInput {
                table_name: Some(T.into()),
                key: Some(key("k")),
                consistent_read: Some(consistent),
                return_consumed_capacity: Some("TOTAL".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .consumed_capacity
            .expect("ConsumedCapacity")
        };
        // (item size, write units for a fresh put, strongly consistent read, eventually consistent read)
        let cases: &[(usize, f64, f64, f64)] = &[
            (8, 1.0, 1.0, 0.5),
            (1024, 1.0, 1.0, 0.5),
            (1025, 2.0, 1.0, 0.5),
            (4096, 4.0, 1.0, 0.5),
            (4097, 5.0, 2.0, 1.0),
            (8193, 9.0, 3.0, 1.5),
            (409_600, 400.0, 100.0, 50.0),
        ];
        for &(size, wcu, rcu, ecu) in cases {
            db.delete_item(DeleteItemInput {
                table_name: Some(T.into()),
                key: Some(key("k")),
                ..Default::default()
            })
            .await
            .unwrap();
            let c = put_units(sized(size)).await;
            assert_eq!(c.table_name, T);
            assert_eq!(c.capacity_units, wcu, "put of {size} bytes");
            assert_eq!(get_units(true).await.capacity_units, rcu, "consistent get of {size} bytes");
            assert_eq!(get_units(false).await.capacity_units, ecu, "eventual get of {size} bytes");
        }
        // Overwriting charges for the larger of the old and new item.
        put_units(sized(3000)).await;
        assert_eq!(put_units(sized(100)).await.capacity_units, 3.0);
        // UpdateItem too: growing 100 → 2100 bytes costs 3 units.
        let c = db
            .update_item(UpdateItemInput {
                table_name: Some(T.into()),
                key: Some(key("k")),
                update_expression: Some("SET more = :v".into()),
                expression_attribute_values: Some(values(&[(":v", s(&"y".repeat(1996)))])),
                return_consumed_capacity: Some("TOTAL".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .consumed_capacity
            .unwrap();
        assert_eq!(c.capacity_units, 3.0);
        // DeleteItem charges for the deleted item; a missing one costs one unit.
        let delete_units = || async {
            db.delete_item(DeleteItemInput {
                table_name: Some(T.into()),
                key: Some(key("k")),
                return_consumed_capacity: Some("TOTAL".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .consumed_capacity
            .unwrap()
            .capacity_units
        };
        assert_eq!(delete_units().await, 3.0);
        assert_eq!(delete_units().await, 1.0);
        // A missing item still costs the minimum read.
        assert_eq!(get_units(true).await.capacity_units, 1.0);
        assert_eq!(get_units(false).await.capacity_units, 0.5);
        // NONE (or nothing) reports nothing; INDEXES adds the table's share.
        let out = db.put_item(PutItemInput {
            table_name: Some(T.into()),
            item: Some(sized(10)),
            return_consumed_capacity: Some("NONE".into()),
            ..Default::default()
        }).await.unwrap();
        assert_eq!(out.consumed_capacity, None);
        let c = db.put_item(PutItemInput {
            table_name: Some(T.into()),
            item: Some(sized(10)),
            return_consumed_capacity: Some("INDEXES".into()),
            ..Default::default()
        }).await.unwrap().consumed_capacity.unwrap();
        assert_eq!(c.capacity_units, 1.0);
        assert_eq!(c.table.map(|t| t.capacity_units), Some(1.0));
    }

    async fn item_size_limit_is_exactly_400_kb(db) {
        setup(db).await;
        let sized = |total: usize| item(&[("pk", s("k")), ("body", s(&"x".repeat(total - 7)))]);
        put(db, T, sized(409_600)).await;
        let e = db
            .put_item(PutItemInput {
                table_name: Some(T.into()),
                item: Some(sized(409_601)),
                ..Default::default()
            })
            .await
            .expect_err("over 400 KB");
        assert_eq!(e.kind, ErrorKind::ValidationException);
        assert!(e.message.ends_with("Item size has exceeded the maximum allowed size"), "{}", e.message);
        // Growing an item past the limit with UpdateItem is refused too.
        let e = update(db, "k", Some("SET more = :v"), None, Some(values(&[(":v", s("yy"))])), None)
            .await
            .expect_err("update over 400 KB");
        assert_eq!(e.kind, ErrorKind::ValidationException);
        assert!(e.message.ends_with("Item size to update has exceeded the maximum allowed size"), "{}", e.message);
        assert_eq!(get(db, T, key("k")).await, Some(sized(409_600)));
    }

    async fn composite_keys_and_numbers_round_trip(db) {
        create_composite_table(db, "composite").await;
        let it = item(&[
            ("pk", s("p")),
            ("sk", s("s1")),
            ("num", n("00042.1200")),
            ("neg", n("-0")),
            ("big", n("1E125")),
            ("precise", n("12345678901234567890123456789012345678")),
            ("b", AttributeValue::B(vec![0, 1, 255])),
            ("t", AttributeValue::Bool(true)),
            ("nul", AttributeValue::Null),
            ("set", AttributeValue::NS(vec![openddb_core::Number::parse("3").unwrap(), openddb_core::Number::parse("-1").unwrap()])),
        ]);
        put(db, "composite", it.clone()).await;
        let got = get(db, "composite", item(&[("pk", s("p")), ("sk", s("s1"))])).await.expect("item");
        assert_eq!(got.get("num").map(|v| v.to_wire()), Some(serde_json::json!({"N": "42.12"})));
        assert_eq!(got.get("neg").map(|v| v.to_wire()), Some(serde_json::json!({"N": "0"})));
        assert_eq!(
            got.get("big").map(|v| v.to_wire()),
            Some(serde_json::json!({"N": format!("1{}", "0".repeat(125))}))
        );
        assert_eq!(got.get("precise"), it.get("precise"));
        assert_eq!(got.get("b"), it.get("b"));
        // Sets come back sorted.
        assert_eq!(got.get("set").map(|v| v.to_wire()), Some(serde_json::json!({"NS": ["-1", "3"]})));
        // Same partition key, other sort key: a different item.
        assert_eq!(get(db, "composite", item(&[("pk", s("p")), ("sk", s("s2"))])).await, None);
    }
}
