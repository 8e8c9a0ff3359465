//! Single-item operations through the official `aws-sdk-dynamodb` client:
//! every attribute type round-tripping, conditions, update expressions,
//! ReturnValues, projections, consumed capacity and the legacy parameters.

mod common;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeValue, AttributeValueUpdate, BillingMode, ComparisonOperator,
    ExpectedAttributeValue, KeyType, ReturnConsumedCapacity, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use common::{attr_def, create_table, item, key_elem, n, put, s, Server};

type Item = HashMap<String, AttributeValue>;

/// Sets come back in no particular order in DynamoDB: compare them sorted.
fn normalise(value: &AttributeValue) -> AttributeValue {
    match value {
        AttributeValue::Ss(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ss(v)
        }
        AttributeValue::Ns(v) => {
            let mut v = v.clone();
            v.sort();
            AttributeValue::Ns(v)
        }
        AttributeValue::Bs(v) => {
            let mut v = v.clone();
            v.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
            AttributeValue::Bs(v)
        }
        AttributeValue::M(m) => AttributeValue::M(normalise_item(m)),
        AttributeValue::L(l) => AttributeValue::L(l.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn normalise_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), normalise(v)))
        .collect()
}

fn b(bytes: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes.to_vec()))
}

fn ss(values: &[&str]) -> AttributeValue {
    AttributeValue::Ss(values.iter().map(|v| v.to_string()).collect())
}

fn ns(values: &[&str]) -> AttributeValue {
    AttributeValue::Ns(values.iter().map(|v| v.to_string()).collect())
}

fn m<const N: usize>(pairs: [(&str, AttributeValue); N]) -> AttributeValue {
    AttributeValue::M(item(pairs))
}

fn l(values: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(values)
}

async fn setup(table: &str) -> (Server, Client) {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, table, false).await;
    (server, client)
}

async fn get(client: &Client, table: &str, pk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(item([("pk", s(pk))])))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

#[tokio::test]
async fn every_attribute_type_round_trips() {
    let (_server, client) = setup("Types").await;
    let original = item([
        ("pk", s("all-types")),
        ("str", s("héllo wörld ✓")),
        ("empty_str", s("")),
        ("num", n("42")),
        ("neg", n("-3.25")),
        ("big", n("12345678901234567890123456789012345678")),
        ("bin", b(&[0, 1, 2, 254, 255])),
        ("empty_bin", b(&[])),
        ("yes", AttributeValue::Bool(true)),
        ("no", AttributeValue::Bool(false)),
        ("nothing", AttributeValue::Null(true)),
        ("strs", ss(&["b", "a", "c"])),
        ("nums", ns(&["3", "1", "2.5"])),
        (
            "bins",
            AttributeValue::Bs(vec![Blob::new(vec![1]), Blob::new(vec![0, 9])]),
        ),
        (
            "map",
            m([
                ("inner", s("x")),
                ("deeper", m([("lst", l(vec![n("1"), s("two")]))])),
                ("empty_map", m([])),
            ]),
        ),
        (
            "list",
            l(vec![
                s("a"),
                n("1"),
                AttributeValue::Bool(true),
                AttributeValue::Null(true),
                l(vec![]),
                m([("k", b(b"v"))]),
                ss(&["only"]),
            ]),
        ),
    ]);
    put(&client, "Types", original.clone()).await;
    let got = get(&client, "Types", "all-types").await.expect("item");
    assert_eq!(normalise_item(&got), normalise_item(&original));
}

#[tokio::test]
async fn numbers_are_normalised() {
    let (_server, client) = setup("Nums").await;
    put(
        &client,
        "Nums",
        item([
            ("pk", s("n")),
            ("a", n("1.50")),
            ("b", n("0100")),
            ("c", n("-0")),
            ("d", n("1E+2")),
            ("e", n("0.00100")),
            ("f", n("+7")),
            ("set", ns(&["1.0", "2.50"])),
        ]),
    )
    .await;
    let got = get(&client, "Nums", "n").await.expect("item");
    assert_eq!(got["a"], n("1.5"));
    assert_eq!(got["b"], n("100"));
    assert_eq!(got["c"], n("0"));
    assert_eq!(got["d"], n("100"));
    assert_eq!(got["e"], n("0.001"));
    assert_eq!(got["f"], n("7"));
    assert_eq!(normalise(&got["set"]), ns(&["1", "2.5"]));

    // "1.0" and "1" are the same number, hence a duplicate in a set.
    let err = client
        .put_item()
        .table_name("Nums")
        .set_item(Some(item([("pk", s("dup")), ("set", ns(&["1", "1.0"]))])))
        .send()
        .await
        .expect_err("duplicate numbers in a set");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        common::message(&err).is_some_and(|m| m.contains("contains duplicates")),
        "{err:?}"
    );
}

#[tokio::test]
async fn numeric_and_binary_keys_work() {
    let server = Server::in_memory().await;
    let client = server.client();
    client
        .create_table()
        .table_name("NumBin")
        .attribute_definitions(attr_def("id", ScalarAttributeType::N))
        .attribute_definitions(attr_def("blob", ScalarAttributeType::B))
        .key_schema(key_elem("id", KeyType::Hash))
        .key_schema(key_elem("blob", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    client
        .put_item()
        .table_name("NumBin")
        .set_item(Some(item([
            ("id", n("10.0")),
            ("blob", b(&[7, 7])),
            ("v", s("x")),
        ])))
        .send()
        .await
        .expect("PutItem");
    // The same number written differently names the same item.
    let got = client
        .get_item()
        .table_name("NumBin")
        .set_key(Some(item([("id", n("1E1")), ("blob", b(&[7, 7]))])))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("item found by an equal number");
    assert_eq!(got["id"], n("10"));
    assert_eq!(got["v"], s("x"));
}

#[tokio::test]
async fn put_replaces_and_delete_removes() {
    let (_server, client) = setup("Crud").await;
    put(
        &client,
        "Crud",
        item([("pk", s("k")), ("a", s("1")), ("b", s("2"))]),
    )
    .await;
    put(&client, "Crud", item([("pk", s("k")), ("c", s("3"))])).await;
    assert_eq!(
        get(&client, "Crud", "k").await,
        Some(item([("pk", s("k")), ("c", s("3"))]))
    );
    assert_eq!(get(&client, "Crud", "missing").await, None);

    let deleted = client
        .delete_item()
        .table_name("Crud")
        .set_key(Some(item([("pk", s("k"))])))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem");
    assert_eq!(
        deleted.attributes(),
        Some(&item([("pk", s("k")), ("c", s("3"))]))
    );
    assert_eq!(get(&client, "Crud", "k").await, None);

    // Deleting what is not there succeeds and returns nothing.
    let deleted = client
        .delete_item()
        .table_name("Crud")
        .set_key(Some(item([("pk", s("k"))])))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem of a missing item");
    assert_eq!(deleted.attributes(), None);
}

#[tokio::test]
async fn condition_expression_success_and_failure() {
    let (_server, client) = setup("Cond").await;

    // attribute_not_exists on a new key succeeds.
    client
        .put_item()
        .table_name("Cond")
        .set_item(Some(item([
            ("pk", s("c")),
            ("ver", n("1")),
            ("tag", s("a")),
        ])))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .expect("conditional create");

    // ... and fails once the item exists, returning the old item on request.
    let err = client
        .put_item()
        .table_name("Cond")
        .set_item(Some(item([("pk", s("c")), ("ver", n("2"))])))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("the item exists");
    assert_eq!(
        err.code(),
        Some("ConditionalCheckFailedException"),
        "{err:?}"
    );
    assert_eq!(
        common::message(&err),
        Some("The conditional request failed"),
        "{err:?}"
    );
    match err.into_service_error() {
        PutItemError::ConditionalCheckFailedException(e) => assert_eq!(
            e.item(),
            Some(&item([("pk", s("c")), ("ver", n("1")), ("tag", s("a"))]))
        ),
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }

    // Without ReturnValuesOnConditionCheckFailure no item comes back.
    let err = client
        .delete_item()
        .table_name("Cond")
        .set_key(Some(item([("pk", s("c"))])))
        .condition_expression("ver = :v")
        .expression_attribute_values(":v", n("9"))
        .send()
        .await
        .expect_err("version mismatch");
    match err.into_service_error() {
        DeleteItemError::ConditionalCheckFailedException(e) => {
            assert_eq!(e.item(), None)
        }
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }

    // A failed condition changes nothing.
    assert_eq!(
        get(&client, "Cond", "c").await,
        Some(item([("pk", s("c")), ("ver", n("1")), ("tag", s("a"))]))
    );

    // Optimistic locking with names, values, functions and boolean logic.
    client
        .update_item()
        .table_name("Cond")
        .set_key(Some(item([("pk", s("c"))])))
        .update_expression("SET ver = ver + :one")
        .condition_expression(
            "#v = :cur AND begins_with(tag, :p) AND size(tag) < :three AND NOT attribute_exists(gone) \
             AND (attribute_type(ver, :nt) OR contains(tag, :x)) AND ver BETWEEN :lo AND :hi AND tag IN (:p, :x)",
        )
        .expression_attribute_names("#v", "ver")
        .expression_attribute_values(":cur", n("1"))
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":three", n("3"))
        .expression_attribute_values(":nt", s("N"))
        .expression_attribute_values(":x", s("zz"))
        .expression_attribute_values(":lo", n("0"))
        .expression_attribute_values(":hi", n("5"))
        .send()
        .await
        .expect("every clause holds");
    assert_eq!(get(&client, "Cond", "c").await.unwrap()["ver"], n("2"));

    // UpdateItem with a failing condition and ALL_OLD on failure.
    let err = client
        .update_item()
        .table_name("Cond")
        .set_key(Some(item([("pk", s("c"))])))
        .update_expression("SET ver = :v")
        .condition_expression("ver = :old")
        .expression_attribute_values(":v", n("100"))
        .expression_attribute_values(":old", n("1"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("stale version");
    match err.into_service_error() {
        UpdateItemError::ConditionalCheckFailedException(e) => {
            assert_eq!(e.item().map(|i| &i["ver"]), Some(&n("2")))
        }
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }

    // A condition on a missing item sees no attributes.
    let err = client
        .update_item()
        .table_name("Cond")
        .set_key(Some(item([("pk", s("absent"))])))
        .update_expression("SET a = :v")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":v", n("1"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect_err("no such item");
    match err.into_service_error() {
        UpdateItemError::ConditionalCheckFailedException(e) => assert_eq!(e.item(), None),
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }
    assert_eq!(get(&client, "Cond", "absent").await, None);
}

#[tokio::test]
async fn update_expression_set_remove_add_delete() {
    let (_server, client) = setup("Upd").await;
    put(
        &client,
        "Upd",
        item([
            ("pk", s("u")),
            ("count", n("5")),
            (
                "doc",
                m([("a", m([("b", l(vec![n("0"), m([("c", s("old"))])]))]))]),
            ),
            ("lst", l(vec![s("x"), s("y"), s("z")])),
            ("tags", ss(&["red", "green", "blue"])),
            ("nums", ns(&["1", "2"])),
            ("drop_me", s("bye")),
        ]),
    )
    .await;

    let out = client
        .update_item()
        .table_name("Upd")
        .set_key(Some(item([("pk", s("u"))])))
        .update_expression(
            "SET doc.a.b[1].c = :new, #cnt = #cnt - :two, lst[1] = :why, lst[10] = :end, \
                 fresh = if_not_exists(fresh, :zero), count2 = if_not_exists(#cnt, :zero), \
                 pre = list_append(:head, lst) \
             REMOVE drop_me \
             ADD nums :three, added :five, tags :purple",
        )
        .expression_attribute_names("#cnt", "count")
        .expression_attribute_values(":new", s("new"))
        .expression_attribute_values(":two", n("2"))
        .expression_attribute_values(":why", s("Y"))
        .expression_attribute_values(":end", s("END"))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":head", l(vec![s("h")]))
        .expression_attribute_values(":three", ns(&["3"]))
        .expression_attribute_values(":five", n("5"))
        .expression_attribute_values(":purple", ss(&["purple"]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("UpdateItem");
    let expected = item([
        ("pk", s("u")),
        ("count", n("3")),
        (
            "doc",
            m([("a", m([("b", l(vec![n("0"), m([("c", s("new"))])]))]))]),
        ),
        // An index past the end appends.
        ("lst", l(vec![s("x"), s("Y"), s("z"), s("END")])),
        ("tags", ss(&["red", "green", "blue", "purple"])),
        ("nums", ns(&["1", "2", "3"])),
        ("added", n("5")),
        ("fresh", n("0")),
        // Operands read the item as it was before the update ...
        ("count2", n("5")),
        // ... list_append included.
        ("pre", l(vec![s("h"), s("x"), s("y"), s("z")])),
    ]);
    assert_eq!(
        out.attributes().map(normalise_item),
        Some(normalise_item(&expected))
    );

    // REMOVE of a list element shifts the rest; DELETE takes from a set.
    let out = client
        .update_item()
        .table_name("Upd")
        .set_key(Some(item([("pk", s("u"))])))
        .update_expression("REMOVE doc.a.b[0], lst[0] DELETE tags :red_green")
        .expression_attribute_values(":red_green", ss(&["red", "green"]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("REMOVE and DELETE");
    let mut expected = expected;
    expected.insert(
        "doc".into(),
        m([("a", m([("b", l(vec![m([("c", s("new"))])]))]))]),
    );
    expected.insert("lst".into(), l(vec![s("Y"), s("z"), s("END")]));
    expected.insert("tags".into(), ss(&["blue", "purple"]));
    assert_eq!(
        out.attributes().map(normalise_item),
        Some(normalise_item(&expected))
    );
    let stored = get(&client, "Upd", "u").await.expect("item");
    assert_eq!(stored["count"], n("3"));
    assert!(!stored.contains_key("drop_me"));
    assert_eq!(stored["lst"], l(vec![s("Y"), s("z"), s("END")]));

    // Deleting every element of a set removes the attribute.
    let out = client
        .update_item()
        .table_name("Upd")
        .set_key(Some(item([("pk", s("u"))])))
        .update_expression("DELETE tags :all")
        .expression_attribute_values(":all", ss(&["blue", "purple"]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("DELETE whole set");
    assert!(!out.attributes().unwrap().contains_key("tags"));

    // UpdateItem on a missing key creates the item (upsert).
    let out = client
        .update_item()
        .table_name("Upd")
        .set_key(Some(item([("pk", s("new"))])))
        .update_expression("ADD hits :one SET since = if_not_exists(since, :now)")
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":now", s("t0"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("upsert");
    assert_eq!(
        out.attributes(),
        Some(&item([
            ("pk", s("new")),
            ("hits", n("1")),
            ("since", s("t0"))
        ]))
    );
}

#[tokio::test]
async fn update_expression_errors_a_user_hits() {
    let (_server, client) = setup("UpdErr").await;
    put(
        &client,
        "UpdErr",
        item([("pk", s("e")), ("str", s("text"))]),
    )
    .await;

    // Arithmetic on a string.
    let err = client
        .update_item()
        .table_name("UpdErr")
        .set_key(Some(item([("pk", s("e"))])))
        .update_expression("SET str = str + :one")
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect_err("string + number");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some("An operand in the update expression has an incorrect data type"),
        "{err:?}"
    );

    // Updating the key.
    let err = client
        .update_item()
        .table_name("UpdErr")
        .set_key(Some(item([("pk", s("e"))])))
        .update_expression("SET pk = :v")
        .expression_attribute_values(":v", s("other"))
        .send()
        .await
        .expect_err("key update");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some(
            "One or more parameter values were invalid: Cannot update attribute pk. \
             This attribute is part of the key"
        ),
        "{err:?}"
    );

    // Two clauses on overlapping paths.
    let err = client
        .update_item()
        .table_name("UpdErr")
        .set_key(Some(item([("pk", s("e"))])))
        .update_expression("SET a = :v REMOVE a")
        .expression_attribute_values(":v", s("x"))
        .send()
        .await
        .expect_err("overlapping paths");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert!(
        common::message(&err).is_some_and(|m| m
            .starts_with("Invalid UpdateExpression: Two document paths overlap with each other")),
        "{err:?}"
    );

    // A nested path under a missing parent.
    let err = client
        .update_item()
        .table_name("UpdErr")
        .set_key(Some(item([("pk", s("e"))])))
        .update_expression("SET nope.deeper = :v")
        .expression_attribute_values(":v", s("x"))
        .send()
        .await
        .expect_err("missing parent");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some("The document path provided in the update expression is invalid for update"),
        "{err:?}"
    );
    assert_eq!(
        get(&client, "UpdErr", "e").await,
        Some(item([("pk", s("e")), ("str", s("text"))]))
    );
}

#[tokio::test]
async fn every_return_values_variant() {
    let (_server, client) = setup("RetVals").await;
    let original = item([("pk", s("r")), ("a", n("1")), ("b", s("keep"))]);
    put(&client, "RetVals", original.clone()).await;

    // PutItem: NONE and ALL_OLD.
    let out = client
        .put_item()
        .table_name("RetVals")
        .set_item(Some(original.clone()))
        .return_values(ReturnValue::None)
        .send()
        .await
        .expect("PutItem NONE");
    assert_eq!(out.attributes(), None);
    let replacement = item([("pk", s("r")), ("a", n("1")), ("b", s("keep"))]);
    let out = client
        .put_item()
        .table_name("RetVals")
        .set_item(Some(replacement))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("PutItem ALL_OLD");
    assert_eq!(out.attributes(), Some(&original));
    let out = client
        .put_item()
        .table_name("RetVals")
        .set_item(Some(item([("pk", s("brand-new"))])))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("PutItem ALL_OLD of a new item");
    assert_eq!(out.attributes(), None);

    // PutItem refuses the UpdateItem-only variants.
    let err = client
        .put_item()
        .table_name("RetVals")
        .set_item(Some(item([("pk", s("r"))])))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect_err("PutItem ALL_NEW");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some("ReturnValues can only be ALL_OLD or NONE"),
        "{err:?}"
    );

    // UpdateItem: each variant on the same change (a := a + 1, c := "new")
    // of the same item.
    let cases = [
        (ReturnValue::None, None),
        (ReturnValue::AllOld, Some(original.clone())),
        // Only updated attributes that existed before: c did not.
        (ReturnValue::UpdatedOld, Some(item([("a", n("1"))]))),
        (
            ReturnValue::AllNew,
            Some(item([
                ("pk", s("r")),
                ("a", n("2")),
                ("b", s("keep")),
                ("c", s("new")),
            ])),
        ),
        (
            ReturnValue::UpdatedNew,
            Some(item([("a", n("2")), ("c", s("new"))])),
        ),
    ];
    for (variant, expected) in cases {
        put(&client, "RetVals", original.clone()).await;
        let out = client
            .update_item()
            .table_name("RetVals")
            .set_key(Some(item([("pk", s("r"))])))
            .update_expression("SET a = a + :one, c = :c")
            .expression_attribute_values(":one", n("1"))
            .expression_attribute_values(":c", s("new"))
            .return_values(variant.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateItem {variant:?}: {e:?}"));
        assert_eq!(out.attributes().cloned(), expected, "{variant:?}");
    }

    // UPDATED_OLD / UPDATED_NEW of a nested change return only the changed leaf.
    put(
        &client,
        "RetVals",
        item([
            ("pk", s("nested")),
            ("m", m([("x", n("1")), ("y", n("2"))])),
        ]),
    )
    .await;
    let out = client
        .update_item()
        .table_name("RetVals")
        .set_key(Some(item([("pk", s("nested"))])))
        .update_expression("SET m.x = :v")
        .expression_attribute_values(":v", n("10"))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await
        .expect("nested UPDATED_OLD");
    assert_eq!(out.attributes(), Some(&item([("m", m([("x", n("1"))]))])));

    // DeleteItem: NONE and ALL_OLD.
    let out = client
        .delete_item()
        .table_name("RetVals")
        .set_key(Some(item([("pk", s("brand-new"))])))
        .return_values(ReturnValue::None)
        .send()
        .await
        .expect("DeleteItem NONE");
    assert_eq!(out.attributes(), None);
    let out = client
        .delete_item()
        .table_name("RetVals")
        .set_key(Some(item([("pk", s("nested"))])))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem ALL_OLD");
    assert_eq!(
        out.attributes(),
        Some(&item([
            ("pk", s("nested")),
            ("m", m([("x", n("10")), ("y", n("2"))]))
        ]))
    );
}

#[tokio::test]
async fn projection_expression_selects_nested_paths() {
    let (_server, client) = setup("Proj").await;
    put(
        &client,
        "Proj",
        item([
            ("pk", s("p")),
            ("name", s("reserved word as an attribute")),
            ("top", s("t")),
            (
                "doc",
                m([("a", n("1")), ("b", m([("c", s("deep")), ("d", s("no"))]))]),
            ),
            (
                "lst",
                l(vec![
                    s("l0"),
                    m([("x", s("l1x")), ("y", s("l1y"))]),
                    s("l2"),
                ]),
            ),
            ("other", s("excluded")),
        ]),
    )
    .await;
    let got = client
        .get_item()
        .table_name("Proj")
        .set_key(Some(item([("pk", s("p"))])))
        .projection_expression("#n, top, doc.b.c, lst[1].x, lst[2], absent")
        .expression_attribute_names("#n", "name")
        .send()
        .await
        .expect("GetItem with projection")
        .item
        .expect("item");
    assert_eq!(
        got,
        item([
            ("name", s("reserved word as an attribute")),
            ("top", s("t")),
            ("doc", m([("b", m([("c", s("deep"))]))])),
            // List elements keep their order but not their positions.
            ("lst", l(vec![m([("x", s("l1x"))]), s("l2")])),
        ])
    );

    // A projection that matches nothing leaves an empty item.
    let out = client
        .get_item()
        .table_name("Proj")
        .set_key(Some(item([("pk", s("p"))])))
        .projection_expression("nothing_here")
        .send()
        .await
        .expect("GetItem with empty projection");
    assert_eq!(out.item(), Some(&HashMap::new()));
}

#[tokio::test]
async fn consumed_capacity_total_and_indexes() {
    let (_server, client) = setup("Cap").await;
    let out = client
        .put_item()
        .table_name("Cap")
        .set_item(Some(item([("pk", s("c")), ("v", s("small"))])))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("PutItem TOTAL");
    let cc = out.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(cc.table_name(), Some("Cap"));
    assert_eq!(cc.capacity_units(), Some(1.0));
    assert!(cc.table().is_none(), "TOTAL has no per-table breakdown");

    // A 2.5 KB item costs 3 write units.
    let out = client
        .put_item()
        .table_name("Cap")
        .set_item(Some(item([("pk", s("big")), ("v", s(&"x".repeat(2500)))])))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .expect("PutItem INDEXES");
    let cc = out.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(cc.table_name(), Some("Cap"));
    assert_eq!(cc.capacity_units(), Some(3.0));
    assert_eq!(cc.table().and_then(|t| t.capacity_units()), Some(3.0));

    // Reads: eventually consistent costs half of a strongly consistent read.
    let eventual = client
        .get_item()
        .table_name("Cap")
        .set_key(Some(item([("pk", s("big"))])))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("GetItem TOTAL");
    assert_eq!(
        eventual
            .consumed_capacity()
            .and_then(|c| c.capacity_units()),
        Some(0.5)
    );
    let strong = client
        .get_item()
        .table_name("Cap")
        .set_key(Some(item([("pk", s("big"))])))
        .consistent_read(true)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("GetItem TOTAL consistent");
    assert_eq!(
        strong.consumed_capacity().and_then(|c| c.capacity_units()),
        Some(1.0)
    );

    // Update and delete report too; NONE (the default) reports nothing.
    let out = client
        .update_item()
        .table_name("Cap")
        .set_key(Some(item([("pk", s("c"))])))
        .update_expression("SET w = :w")
        .expression_attribute_values(":w", n("1"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("UpdateItem TOTAL");
    assert_eq!(
        out.consumed_capacity().and_then(|c| c.capacity_units()),
        Some(1.0)
    );
    let out = client
        .delete_item()
        .table_name("Cap")
        .set_key(Some(item([("pk", s("c"))])))
        .send()
        .await
        .expect("DeleteItem");
    assert!(out.consumed_capacity().is_none());
}

#[tokio::test]
async fn legacy_expected_attribute_updates_and_attributes_to_get() {
    let (_server, client) = setup("Legacy").await;

    // Expected: Exists = false guards a create.
    client
        .put_item()
        .table_name("Legacy")
        .set_item(Some(item([("pk", s("l")), ("n", n("1")), ("s", s("a"))])))
        .expected(
            "pk",
            ExpectedAttributeValue::builder().exists(false).build(),
        )
        .send()
        .await
        .expect("create with Expected");
    let err = client
        .put_item()
        .table_name("Legacy")
        .set_item(Some(item([("pk", s("l"))])))
        .expected(
            "pk",
            ExpectedAttributeValue::builder().exists(false).build(),
        )
        .send()
        .await
        .expect_err("Expected Exists=false on an existing item");
    assert_eq!(
        err.code(),
        Some("ConditionalCheckFailedException"),
        "{err:?}"
    );

    // Expected with Value, and with a ComparisonOperator.
    client
        .update_item()
        .table_name("Legacy")
        .set_key(Some(item([("pk", s("l"))])))
        .expected("s", ExpectedAttributeValue::builder().value(s("a")).build())
        .expected(
            "n",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Lt)
                .attribute_value_list(n("5"))
                .build(),
        )
        .attribute_updates(
            "n",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Add)
                .value(n("10"))
                .build(),
        )
        .attribute_updates(
            "s",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Put)
                .value(s("b"))
                .build(),
        )
        .attribute_updates(
            "set",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Add)
                .value(ss(&["x", "y"]))
                .build(),
        )
        .send()
        .await
        .expect("AttributeUpdates under Expected");
    let err = client
        .delete_item()
        .table_name("Legacy")
        .set_key(Some(item([("pk", s("l"))])))
        .expected(
            "n",
            ExpectedAttributeValue::builder()
                .comparison_operator(ComparisonOperator::Lt)
                .attribute_value_list(n("5"))
                .build(),
        )
        .send()
        .await
        .expect_err("n is 11 now");
    assert_eq!(
        err.code(),
        Some("ConditionalCheckFailedException"),
        "{err:?}"
    );

    client
        .update_item()
        .table_name("Legacy")
        .set_key(Some(item([("pk", s("l"))])))
        .attribute_updates(
            "set",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Delete)
                .value(ss(&["x"]))
                .build(),
        )
        .attribute_updates(
            "s",
            AttributeValueUpdate::builder()
                .action(AttributeAction::Delete)
                .build(),
        )
        .send()
        .await
        .expect("AttributeUpdates DELETE");

    // AttributesToGet.
    let got = client
        .get_item()
        .table_name("Legacy")
        .set_key(Some(item([("pk", s("l"))])))
        .attributes_to_get("n")
        .attributes_to_get("set")
        .attributes_to_get("missing")
        .send()
        .await
        .expect("GetItem AttributesToGet")
        .item
        .expect("item");
    assert_eq!(got, item([("n", n("11")), ("set", ss(&["y"]))]));
    assert_eq!(
        get(&client, "Legacy", "l").await,
        Some(item([("pk", s("l")), ("n", n("11")), ("set", ss(&["y"]))]))
    );

    // Mixing legacy and expression parameters is refused.
    let err = client
        .put_item()
        .table_name("Legacy")
        .set_item(Some(item([("pk", s("l"))])))
        .expected(
            "pk",
            ExpectedAttributeValue::builder()
                .exists(true)
                .value(s("l"))
                .build(),
        )
        .condition_expression("attribute_exists(pk)")
        .send()
        .await
        .expect_err("both kinds");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some(
            "Can not use both expression and non-expression parameters in the same request: \
             Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
        ),
        "{err:?}"
    );
}
