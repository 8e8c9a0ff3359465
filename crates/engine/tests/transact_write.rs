//! TransactWriteItems in both storage modes: atomic Puts, Updates, Deletes
//! and ConditionChecks over several tables, ordered cancellation reasons,
//! key faults (cancellation or top-level, as DynamoDB routes them), request
//! errors in DynamoDB's order and words, ClientRequestToken idempotency
//! (also across reopening a durable database), transactional capacity and
//! ItemCollectionMetrics.
//!
//! Expected behaviour follows real DynamoDB as recorded in the research
//! digest (notes/transact-digest.md, sections 2-5).

#[macro_use]
mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use openddb_core::api::{
    Capacity, ConditionCheck, ConsumedCapacity, CreateTableInput, Delete, ItemCollectionMetrics,
    Put, QueryInput, TableDescription, TransactWriteItem, TransactWriteItemsInput,
    TransactWriteItemsOutput, Update,
};
use openddb_core::size::item_size;
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item};
use openddb_engine::Database;
use serde_json::{json, Value};

/// A hash table (`pk` S, PROVISIONED).
const H: &str = "hhh";
/// A composite table (`pk`/`sk` S, PAY_PER_REQUEST).
const C: &str = "ccc";
/// A composite table with GSI `gsi` (`gpk` S, ALL) and LSI `lsi` (`lsk` S, ALL).
const X: &str = "idx";

const CCF_MESSAGE: &str = "The conditional request failed";
const WRONG_KEY: &str = "The provided key element does not match the schema";
const EMPTY_KEY: &str = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk";

// ---------------------------------------------------------------------
// Entry builders.

fn hk(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn ck(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", s(sk))])
}

fn put_e(table: &str, it: Item) -> TransactWriteItem {
    TransactWriteItem {
        put: Some(Put {
            table_name: Some(table.into()),
            item: Some(it),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn update_e(
    table: &str,
    key: Item,
    expression: &str,
    vals: &[(&str, AttributeValue)],
) -> TransactWriteItem {
    TransactWriteItem {
        update: Some(Update {
            table_name: Some(table.into()),
            key: Some(key),
            update_expression: Some(expression.into()),
            expression_attribute_values: (!vals.is_empty()).then(|| values(vals)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn delete_e(table: &str, key: Item) -> TransactWriteItem {
    TransactWriteItem {
        delete: Some(Delete {
            table_name: Some(table.into()),
            key: Some(key),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn check_e(
    table: &str,
    key: Item,
    condition: &str,
    vals: &[(&str, AttributeValue)],
) -> TransactWriteItem {
    TransactWriteItem {
        condition_check: Some(ConditionCheck {
            table_name: Some(table.into()),
            key: Some(key),
            condition_expression: Some(condition.into()),
            expression_attribute_values: (!vals.is_empty()).then(|| values(vals)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The members every entry kind shares, mutably, for whichever it is.
struct Common<'a> {
    condition: &'a mut Option<String>,
    names: &'a mut Option<openddb_core::api::AttributeNames>,
    values: &'a mut Option<openddb_core::api::AttributeValues>,
    return_values: &'a mut Option<String>,
}

fn common_of(e: &mut TransactWriteItem) -> Common<'_> {
    if let Some(p) = e.put.as_mut() {
        return Common {
            condition: &mut p.condition_expression,
            names: &mut p.expression_attribute_names,
            values: &mut p.expression_attribute_values,
            return_values: &mut p.return_values_on_condition_check_failure,
        };
    }
    if let Some(u) = e.update.as_mut() {
        return Common {
            condition: &mut u.condition_expression,
            names: &mut u.expression_attribute_names,
            values: &mut u.expression_attribute_values,
            return_values: &mut u.return_values_on_condition_check_failure,
        };
    }
    if let Some(d) = e.delete.as_mut() {
        return Common {
            condition: &mut d.condition_expression,
            names: &mut d.expression_attribute_names,
            values: &mut d.expression_attribute_values,
            return_values: &mut d.return_values_on_condition_check_failure,
        };
    }
    let c = e.condition_check.as_mut().expect("an entry with an action");
    Common {
        condition: &mut c.condition_expression,
        names: &mut c.expression_attribute_names,
        values: &mut c.expression_attribute_values,
        return_values: &mut c.return_values_on_condition_check_failure,
    }
}

/// Adds a ConditionExpression (and its values) to an entry.
fn when(
    mut e: TransactWriteItem,
    condition: &str,
    vals: &[(&str, AttributeValue)],
) -> TransactWriteItem {
    let c = common_of(&mut e);
    *c.condition = Some(condition.into());
    if !vals.is_empty() {
        c.values
            .get_or_insert_with(HashMap::new)
            .extend(values(vals));
    }
    e
}

/// Adds ExpressionAttributeNames to an entry.
fn named(mut e: TransactWriteItem, pairs: &[(&str, &str)]) -> TransactWriteItem {
    *common_of(&mut e).names = Some(names(pairs));
    e
}

/// Sets ReturnValuesOnConditionCheckFailure.
fn on_failure(mut e: TransactWriteItem, v: &str) -> TransactWriteItem {
    *common_of(&mut e).return_values = Some(v.into());
    e
}

fn tx(items: Vec<TransactWriteItem>) -> TransactWriteItemsInput {
    TransactWriteItemsInput {
        transact_items: Some(items),
        ..Default::default()
    }
}

fn with_token(items: Vec<TransactWriteItem>, token: &str) -> TransactWriteItemsInput {
    TransactWriteItemsInput {
        client_request_token: Some(token.into()),
        ..tx(items)
    }
}

fn with_capacity(items: Vec<TransactWriteItem>, mode: &str) -> TransactWriteItemsInput {
    TransactWriteItemsInput {
        return_consumed_capacity: Some(mode.into()),
        ..tx(items)
    }
}

async fn write(
    db: &Database,
    items: Vec<TransactWriteItem>,
) -> Result<TransactWriteItemsOutput, DynamoError> {
    db.transact_write_items(tx(items)).await
}

// ---------------------------------------------------------------------
// Cancellation helpers.

fn none() -> Value {
    json!({"Code": "None"})
}

fn ccf() -> Value {
    json!({"Code": "ConditionalCheckFailed", "Message": CCF_MESSAGE})
}

fn ccf_item(it: &Item) -> Value {
    json!({
        "Code": "ConditionalCheckFailed",
        "Message": CCF_MESSAGE,
        "Item": serde_json::to_value(it).expect("item as JSON"),
    })
}

fn invalid(message: &str) -> Value {
    json!({"Code": "ValidationError", "Message": message})
}

// ---------------------------------------------------------------------
// Tables.

async fn tables(db: &Database) {
    create_hash_table(db, H).await;
    create_composite_table(db, C).await;
}

fn indexed_input(name: &str) -> CreateTableInput {
    let mut t = table_input(name, Some("S"));
    t.attribute_definitions
        .as_mut()
        .expect("definitions")
        .extend([attribute("gpk", "S"), attribute("lsk", "S")]);
    t.global_secondary_indexes = Some(vec![global_index(
        "gsi",
        "gpk",
        None,
        projection("ALL", &[]),
    )]);
    t.local_secondary_indexes = Some(vec![local_index("lsi", "lsk", projection("ALL", &[]))]);
    t
}

async fn create_indexed(db: &Database) {
    db.create_table(indexed_input(X))
        .await
        .expect("create indexed table");
}

/// ItemCount and IndexSizeBytes of one index.
fn index_stats(d: &TableDescription, index: &str) -> (i64, i64) {
    if let Some(g) = d
        .global_secondary_indexes
        .iter()
        .flatten()
        .find(|g| g.index_name.as_deref() == Some(index))
    {
        return (
            g.item_count.expect("ItemCount"),
            g.index_size_bytes.expect("IndexSizeBytes"),
        );
    }
    let l = d
        .local_secondary_indexes
        .iter()
        .flatten()
        .find(|l| l.index_name.as_deref() == Some(index))
        .unwrap_or_else(|| panic!("no index {index}"));
    (
        l.item_count.expect("ItemCount"),
        l.index_size_bytes.expect("IndexSizeBytes"),
    )
}

/// Every item a Query of `index` finds for `attr = value`.
async fn on_index(
    db: &Database,
    table: &str,
    index: &str,
    attr: &str,
    value: AttributeValue,
) -> Vec<Item> {
    let input = QueryInput {
        table_name: Some(table.into()),
        index_name: Some(index.into()),
        key_condition_expression: Some(format!("{attr} = :v")),
        expression_attribute_values: Some(values(&[(":v", value)])),
        ..Default::default()
    };
    items_of(&query_pages(db, input).await)
}

/// A transactional write report: `CapacityUnits` and `WriteCapacityUnits`.
fn written(units: f64) -> Capacity {
    Capacity {
        capacity_units: units,
        read_capacity_units: None,
        write_capacity_units: Some(units),
    }
}

fn total_written(table: &str, units: f64) -> ConsumedCapacity {
    ConsumedCapacity {
        table_name: table.into(),
        capacity_units: units,
        write_capacity_units: Some(units),
        ..Default::default()
    }
}

fn indexes_written(table: &str, units: f64) -> ConsumedCapacity {
    ConsumedCapacity {
        table: Some(written(units)),
        ..total_written(table, units)
    }
}

/// A map nested `levels` deep around a string.
fn nested(levels: usize) -> AttributeValue {
    let mut v = s("leaf");
    for _ in 0..levels {
        v = m(&[("a", v)]);
    }
    v
}

/// The value of numeric attribute `attr` of `it`.
fn number(it: &Item, attr: &str) -> String {
    match &it[attr] {
        AttributeValue::N(v) => v.to_string(),
        other => panic!("{attr} is not a number: {other:?}"),
    }
}

both_modes! {
    // -----------------------------------------------------------------
    // Atomic application.

    async fn applies_put_update_delete_and_check_across_two_tables(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("upd")), ("txt", s("before")), ("hits", n("1"))])).await;
        put(db, H, item(&[("pk", s("del")), ("txt", s("gone soon"))])).await;
        put(db, C, item(&[("pk", s("p")), ("sk", s("chk")), ("phase", s("active"))])).await;
        let out = write(db, vec![
            put_e(H, item(&[("pk", s("new")), ("txt", s("created"))])),
            named(
                update_e(H, hk("upd"), "SET #t = :v ADD hits :one", &[(":v", s("after")), (":one", n("1"))]),
                &[("#t", "txt")],
            ),
            delete_e(H, hk("del")),
            named(
                check_e(C, ck("p", "chk"), "#s = :a", &[(":a", s("active"))]),
                &[("#s", "phase")],
            ),
            put_e(C, item(&[("pk", s("p")), ("sk", s("new")), ("txt", s("c"))])),
        ])
        .await
        .expect("transaction");
        // Nothing asked for, nothing returned.
        assert_eq!(out, TransactWriteItemsOutput::default());

        let new = get(db, H, hk("new")).await.expect("put item");
        assert_eq!(new, item(&[("pk", s("new")), ("txt", s("created"))]));
        let upd = get(db, H, hk("upd")).await.expect("updated item");
        assert_eq!(upd, item(&[("pk", s("upd")), ("txt", s("after")), ("hits", n("2"))]));
        assert_eq!(get(db, H, hk("del")).await, None);
        let checked = get(db, C, ck("p", "chk")).await.expect("checked item");
        assert_eq!(checked, item(&[("pk", s("p")), ("sk", s("chk")), ("phase", s("active"))]));
        let c_new = get(db, C, ck("p", "new")).await.expect("composite put");

        // DescribeTable is up to date right away.
        assert_eq!(stats(db, H).await, (2, (item_size(&new) + item_size(&upd)) as i64));
        assert_eq!(stats(db, C).await, (2, (item_size(&checked) + item_size(&c_new)) as i64));
    }

    async fn several_entries_on_one_table_keep_statistics_exact(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("a")), ("txt", s("0123456789"))])).await;
        put(db, H, item(&[("pk", s("b")), ("txt", s("x"))])).await;
        write(db, vec![
            put_e(H, item(&[("pk", s("c")), ("txt", s("cc"))])),
            put_e(H, item(&[("pk", s("d")), ("txt", s("ddd"))])),
            delete_e(H, hk("a")),
            update_e(H, hk("b"), "SET txt = :v", &[(":v", s("bbbb"))]),
            update_e(H, hk("e"), "SET txt = :v", &[(":v", s("e"))]),
            delete_e(H, hk("missing")),
        ])
        .await
        .expect("transaction");
        let mut size = 0;
        for k in ["b", "c", "d", "e"] {
            size += item_size(&get(db, H, hk(k)).await.expect("item"));
        }
        assert_eq!(get(db, H, hk("a")).await, None);
        assert_eq!(stats(db, H).await, (4, size as i64));
    }

    // -----------------------------------------------------------------
    // Cancellation.

    async fn cancellation_reports_every_reason_in_request_order(db) {
        tables(db).await;
        let a = item(&[("pk", s("a")), ("txt", s("original"))]);
        let b = item(&[("pk", s("b")), ("txt", s("keep"))]);
        let c = item(&[("pk", s("p")), ("sk", s("c")), ("phase", s("active"))]);
        let d = item(&[("pk", s("p")), ("sk", s("d")), ("hits", n("5"))]);
        put(db, H, a.clone()).await;
        put(db, H, b.clone()).await;
        put(db, C, c.clone()).await;
        put(db, C, d.clone()).await;
        let before = (stats(db, H).await, stats(db, C).await);

        let result = write(db, vec![
            // Passes.
            when(put_e(H, item(&[("pk", s("fresh"))])), "attribute_not_exists(pk)", &[]),
            // Fails on an existing item: the old item comes back.
            on_failure(
                when(put_e(H, item(&[("pk", s("a")), ("txt", s("new"))])), "attribute_not_exists(pk)", &[]),
                "ALL_OLD",
            ),
            // Fails on a missing item: nothing to return.
            on_failure(
                when(update_e(H, hk("ghost"), "ADD hits :one", &[(":one", n("1"))]), "attribute_exists(pk)", &[]),
                "ALL_OLD",
            ),
            // Fails, NONE: no item.
            on_failure(when(delete_e(H, hk("b")), "txt = :x", &[(":x", s("other"))]), "NONE"),
            // Fails, ALL_OLD on a ConditionCheck.
            on_failure(check_e(C, ck("p", "c"), "attribute_not_exists(pk)", &[]), "ALL_OLD"),
            // Passes.
            when(
                update_e(C, ck("p", "d"), "SET hits = hits + :one", &[(":one", n("1"))]),
                "hits = :five",
                &[(":five", n("5"))],
            ),
            // Fails without ReturnValuesOnConditionCheckFailure.
            when(delete_e(C, ck("p", "d2")), "attribute_exists(pk)", &[]),
        ])
        .await;
        let reasons = cancelled(result, &[
            "None",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "None",
            "ConditionalCheckFailed",
        ]);
        assert_eq!(reasons, vec![none(), ccf_item(&a), ccf(), ccf(), ccf_item(&c), none(), ccf()]);

        // Nothing was written.
        assert_eq!(get(db, H, hk("fresh")).await, None);
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_eq!(get(db, H, hk("a")).await, Some(a));
        assert_eq!(get(db, H, hk("b")).await, Some(b));
        assert_eq!(get(db, C, ck("p", "c")).await, Some(c));
        assert_eq!(get(db, C, ck("p", "d")).await, Some(d));
        assert_eq!((stats(db, H).await, stats(db, C).await), before);
    }

    async fn single_failing_entries_give_single_code_messages(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("x")), ("txt", s("existing"))])).await;
        let reasons = cancelled(
            write(db, vec![when(put_e(H, hk("x")), "attribute_not_exists(pk)", &[])]).await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf()]);
        let reasons = cancelled(
            write(db, vec![
                when(put_e(H, hk("x")), "attribute_not_exists(pk)", &[]),
                when(put_e(C, ck("p", "q")), "attribute_exists(pk)", &[]),
            ])
            .await,
            &["ConditionalCheckFailed", "ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf(), ccf()]);
        assert_eq!(
            get(db, H, hk("x")).await,
            Some(item(&[("pk", s("x")), ("txt", s("existing"))]))
        );
        assert_eq!(get(db, C, ck("p", "q")).await, None);
        // ALL_OLD on a failing Update and Delete of existing items.
        let x = item(&[("pk", s("x")), ("txt", s("existing"))]);
        let reasons = cancelled(
            write(db, vec![
                on_failure(
                    when(update_e(H, hk("x"), "SET txt = :v", &[(":v", s("new"))]), "txt = :w", &[(":w", s("other"))]),
                    "ALL_OLD",
                ),
            ])
            .await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf_item(&x)]);
        let reasons = cancelled(
            write(db, vec![on_failure(
                when(delete_e(H, hk("x")), "attribute_not_exists(txt)", &[]),
                "ALL_OLD",
            )])
            .await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf_item(&x)]);
        assert_eq!(get(db, H, hk("x")).await, Some(x));
    }

    async fn cancelled_transactions_leave_indexes_alone(db) {
        create_indexed(db).await;
        let seed = item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("A")), ("lsk", s("x"))]);
        put(db, X, seed.clone()).await;
        let before = describe(db, X).await;
        let result = write(db, vec![
            put_e(X, item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s("A")), ("lsk", s("y"))])),
            update_e(X, ck("p", "1"), "SET gpk = :b, lsk = :z", &[(":b", s("B")), (":z", s("z"))]),
            put_e(X, item(&[("pk", s("q")), ("sk", s("1")), ("gpk", s("B"))])),
            check_e(X, ck("p", "3"), "attribute_exists(pk)", &[]),
        ])
        .await;
        cancelled(result, &["None", "None", "None", "ConditionalCheckFailed"]);

        assert_eq!(on_index(db, X, "gsi", "gpk", s("A")).await, vec![seed.clone()]);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("B")).await, Vec::<Item>::new());
        assert_eq!(on_index(db, X, "lsi", "pk", s("p")).await, vec![seed.clone()]);
        assert_eq!(on_index(db, X, "lsi", "pk", s("q")).await, Vec::<Item>::new());
        let after = describe(db, X).await;
        assert_eq!((after.item_count, after.table_size_bytes), (before.item_count, before.table_size_bytes));
        assert_eq!(index_stats(&after, "gsi"), index_stats(&before, "gsi"));
        assert_eq!(index_stats(&after, "lsi"), index_stats(&before, "lsi"));
        assert_eq!(index_stats(&after, "gsi"), (1, item_size(&seed) as i64));
    }

    async fn successful_transactions_maintain_indexes(db) {
        create_indexed(db).await;
        put(db, X, item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("A")), ("lsk", s("x"))])).await;
        write(db, vec![
            put_e(X, item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s("A")), ("lsk", s("y"))])),
            update_e(X, ck("p", "1"), "SET gpk = :b REMOVE lsk", &[(":b", s("B"))]),
        ])
        .await
        .expect("transaction");
        let two = item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s("A")), ("lsk", s("y"))]);
        let one = item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("B"))]);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("A")).await, vec![two.clone()]);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("B")).await, vec![one.clone()]);
        assert_eq!(on_index(db, X, "lsi", "pk", s("p")).await, vec![two.clone()]);
        let d = describe(db, X).await;
        assert_eq!(index_stats(&d, "gsi"), (2, (item_size(&one) + item_size(&two)) as i64));
        assert_eq!(index_stats(&d, "lsi"), (1, item_size(&two) as i64));
    }

    async fn conditions_on_missing_items_create_nothing_unless_they_pass(db) {
        tables(db).await;
        // attribute_exists on a missing key: cancelled, no ghost item.
        let reasons = cancelled(
            write(db, vec![when(
                update_e(H, hk("ghost"), "ADD hits :one", &[(":one", n("1"))]),
                "attribute_exists(pk)",
                &[],
            )])
            .await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf()]);
        assert_eq!(get(db, H, hk("ghost")).await, None);
        // A comparison with a missing attribute is false.
        cancelled(
            write(db, vec![when(
                update_e(H, hk("ghost"), "SET phase = :v", &[(":v", s("x"))]),
                "hits > :min",
                &[(":min", n("0"))],
            )])
            .await,
            &["ConditionalCheckFailed"],
        );
        cancelled(
            write(db, vec![when(
                update_e(H, hk("ghost"), "SET phase = :v", &[(":v", s("x"))]),
                "attribute_exists(pk) AND phase = :v",
                &[],
            )])
            .await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_eq!(stats(db, H).await, (0, 0));

        // attribute_not_exists upserts, starting from the key.
        write(db, vec![when(
            update_e(H, hk("up"), "SET phase = :new", &[(":new", s("created"))]),
            "attribute_not_exists(pk)",
            &[],
        )])
        .await
        .expect("upsert");
        let up = item(&[("pk", s("up")), ("phase", s("created"))]);
        assert_eq!(get(db, H, hk("up")).await, Some(up.clone()));
        assert_eq!(stats(db, H).await, (1, item_size(&up) as i64));
    }

    // -----------------------------------------------------------------
    // Key faults.

    async fn put_with_a_wrong_typed_key_is_a_validation_error_reason(db) {
        tables(db).await;
        let reasons = cancelled(
            write(db, vec![
                put_e(H, item(&[("pk", s("ok"))])),
                put_e(H, item(&[("pk", n("5"))])),
            ])
            .await,
            &["None", "ValidationError"],
        );
        assert_eq!(reasons, vec![
            none(),
            invalid("One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
        ]);
        let reasons = cancelled(
            write(db, vec![put_e(H, item(&[("pk", l(vec![s("a")]))]))]).await,
            &["ValidationError"],
        );
        assert_eq!(reasons, vec![invalid(
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: L",
        )]);
        let reasons = cancelled(
            write(db, vec![put_e(C, item(&[("pk", s("p")), ("sk", n("1"))]))]).await,
            &["ValidationError"],
        );
        assert_eq!(reasons, vec![invalid(
            "One or more parameter values were invalid: Type mismatch for key sk expected: S actual: N",
        )]);
        assert_eq!(get(db, H, hk("ok")).await, None);
        assert_eq!(stats(db, H).await, (0, 0));
        assert_eq!(stats(db, C).await, (0, 0));
    }

    async fn lookup_keys_of_the_wrong_type_are_validation_error_reasons(db) {
        tables(db).await;
        put(db, H, hk("ok")).await;
        let result = write(db, vec![
            update_e(H, item(&[("pk", n("1"))]), "SET txt = :v", &[(":v", s("x"))]),
            delete_e(H, item(&[("pk", n("2"))])),
            check_e(H, item(&[("pk", n("3"))]), "attribute_exists(pk)", &[]),
            check_e(C, item(&[("pk", s("p")), ("sk", l(vec![]))]), "attribute_exists(pk)", &[]),
            delete_e(H, hk("ok")),
        ])
        .await;
        let reasons = cancelled(result, &[
            "ValidationError",
            "ValidationError",
            "ValidationError",
            "ValidationError",
            "None",
        ]);
        assert_eq!(reasons, vec![
            invalid(WRONG_KEY),
            invalid(WRONG_KEY),
            invalid(WRONG_KEY),
            invalid(WRONG_KEY),
            none(),
        ]);
        assert_eq!(get(db, H, hk("ok")).await, Some(hk("ok")));
    }

    async fn empty_string_keys_are_refused_outright(db) {
        tables(db).await;
        put(db, H, hk("existing")).await;
        let entries = [
            put_e(H, item(&[("pk", s(""))])),
            update_e(H, item(&[("pk", s(""))]), "SET txt = :v", &[(":v", s("x"))]),
            delete_e(H, item(&[("pk", s(""))])),
            check_e(H, item(&[("pk", s(""))]), "attribute_exists(pk)", &[]),
        ];
        for e in entries {
            // Also ahead of another entry's failing condition.
            let result = write(db, vec![
                when(put_e(H, hk("existing")), "attribute_not_exists(pk)", &[]),
                put_e(H, hk("fresh")),
                e,
            ])
            .await;
            assert_error(result, ErrorKind::ValidationException, EMPTY_KEY);
        }
        assert_eq!(get(db, H, hk("fresh")).await, None);
        assert_eq!(stats(db, H).await.0, 1);
    }

    async fn updating_a_key_attribute_is_a_validation_error_reason(db) {
        // No real capture; DynamoDB Local cancels with UpdateItem's words.
        tables(db).await;
        put(db, H, hk("a")).await;
        put(db, C, ck("p", "1")).await;
        let reasons = cancelled(
            write(db, vec![
                update_e(H, hk("a"), "SET pk = :v", &[(":v", s("b"))]),
                update_e(C, ck("p", "1"), "SET txt = :t, sk = :v", &[(":v", s("2")), (":t", s("t"))]),
            ])
            .await,
            &["ValidationError", "ValidationError"],
        );
        assert_eq!(reasons, vec![
            invalid("One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
            invalid("One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"),
        ]);
        assert_eq!(get(db, H, hk("a")).await, Some(hk("a")));
        assert_eq!(get(db, H, hk("b")).await, None);
        assert_eq!(get(db, C, ck("p", "1")).await, Some(ck("p", "1")));
    }

    async fn index_keys_of_the_wrong_type_are_validation_error_reasons(db) {
        create_indexed(db).await;
        put(db, X, item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("A"))])).await;
        let mismatch = "One or more parameter values were invalid: Type mismatch for Index Key gpk Expected: S Actual: N IndexName: gsi";
        let reasons = cancelled(
            write(db, vec![
                put_e(X, item(&[("pk", s("p")), ("sk", s("2")), ("gpk", n("7"))])),
                update_e(X, ck("p", "1"), "SET gpk = :n", &[(":n", n("8"))]),
                put_e(X, item(&[("pk", s("p")), ("sk", s("3")), ("gpk", s("ok"))])),
            ])
            .await,
            &["ValidationError", "ValidationError", "None"],
        );
        assert_eq!(reasons, vec![invalid(mismatch), invalid(mismatch), none()]);
        assert_eq!(get(db, X, ck("p", "2")).await, None);
        assert_eq!(get(db, X, ck("p", "3")).await, None);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("A")).await.len(), 1);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("ok")).await.len(), 0);
    }

    async fn empty_index_keys_are_refused_outright(db) {
        create_indexed(db).await;
        put(db, X, item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("A"))])).await;
        let empty = "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi, IndexKey: gpk";
        assert_error(
            write(db, vec![
                put_e(X, item(&[("pk", s("p")), ("sk", s("3"))])),
                put_e(X, item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s(""))])),
            ])
            .await,
            ErrorKind::ValidationException,
            empty,
        );
        assert_error(
            write(db, vec![update_e(X, ck("p", "1"), "SET gpk = :e", &[(":e", s(""))])]).await,
            ErrorKind::ValidationException,
            empty,
        );
        assert_eq!(get(db, X, ck("p", "3")).await, None);
        assert_eq!(on_index(db, X, "gsi", "gpk", s("A")).await.len(), 1);
    }

    async fn run_time_update_errors_are_validation_error_reasons(db) {
        tables(db).await;
        let seed = item(&[("pk", s("a")), ("txt", s("text"))]);
        put(db, H, seed.clone()).await;
        let operand = "An operand in the update expression has an incorrect data type";
        let reasons = cancelled(
            write(db, vec![
                put_e(H, hk("b")),
                update_e(H, hk("a"), "ADD txt :one", &[(":one", n("1"))]),
            ])
            .await,
            &["None", "ValidationError"],
        );
        assert_eq!(reasons, vec![none(), invalid(operand)]);
        let reasons = cancelled(
            write(db, vec![update_e(H, hk("a"), "SET txt = txt + :one", &[(":one", n("1"))])]).await,
            &["ValidationError"],
        );
        assert_eq!(reasons, vec![invalid(operand)]);
        // Other run-time faults DynamoDB documents as ValidationError reasons.
        let reasons = cancelled(
            write(db, vec![
                update_e(H, hk("a"), "SET n = absent + :one", &[(":one", n("1"))]),
                update_e(H, hk("c"), "SET m.x = :one", &[(":one", n("1"))]),
            ])
            .await,
            &["ValidationError", "ValidationError"],
        );
        assert_eq!(reasons, vec![
            invalid("The provided expression refers to an attribute that does not exist in the item"),
            invalid("The document path provided in the update expression is invalid for update"),
        ]);
        assert_eq!(get(db, H, hk("c")).await, None);
        // A failing condition is reported ahead of the run-time error.
        let reasons = cancelled(
            write(db, vec![on_failure(
                when(
                    update_e(H, hk("a"), "ADD txt :one", &[(":one", n("1"))]),
                    "attribute_not_exists(pk)",
                    &[],
                ),
                "ALL_OLD",
            )])
            .await,
            &["ConditionalCheckFailed"],
        );
        assert_eq!(reasons, vec![ccf_item(&seed)]);
        assert_eq!(get(db, H, hk("a")).await, Some(seed));
        assert_eq!(get(db, H, hk("b")).await, None);
    }

    async fn item_size_limits(db) {
        tables(db).await;
        // pk "a" (2 + 1) and "d" (1 + len): exactly 409,600 bytes is stored.
        let exact = item(&[("pk", s("a")), ("d", s(&"x".repeat(409_596)))]);
        assert_eq!(item_size(&exact), 409_600);
        write(db, vec![put_e(H, exact.clone())]).await.expect("409,600-byte put");
        assert_eq!(get(db, H, hk("a")).await, Some(exact));

        // One more byte: refused outright, even beside a failing condition.
        let over = item(&[("pk", s("b")), ("d", s(&"x".repeat(409_597)))]);
        assert_error(
            write(db, vec![
                when(put_e(H, hk("a")), "attribute_not_exists(pk)", &[]),
                put_e(H, hk("c")),
                put_e(H, over),
            ])
            .await,
            ErrorKind::ValidationException,
            "Item size has exceeded the maximum allowed size",
        );
        assert_eq!(get(db, H, hk("c")).await, None);

        // An Update finishing at exactly 409,600 bytes is stored ...
        write(db, vec![update_e(H, hk("u"), "SET d = :v", &[(":v", s(&"y".repeat(409_596)))])])
            .await
            .expect("409,600-byte update");
        assert_eq!(item_size(&get(db, H, hk("u")).await.expect("updated")), 409_600);
        // ... one past it cancels, on an existing row and on a fresh key.
        put(db, H, item(&[("pk", s("v")), ("d", s(&"z".repeat(300_000)))])).await;
        let result = write(db, vec![
            put_e(H, hk("w")),
            update_e(H, hk("v"), "SET e = :v", &[(":v", s(&"z".repeat(200_000)))]),
            update_e(H, hk("fresh"), "SET d = :v", &[(":v", s(&"y".repeat(409_597)))]),
        ])
        .await;
        let reasons = cancelled(result, &["None", "ValidationError", "ValidationError"]);
        for r in &reasons[1..] {
            let message = r["Message"].as_str().expect("Message");
            assert!(
                message.contains("Item size to update has exceeded the maximum allowed size"),
                "{message}"
            );
            assert!(r.get("Item").is_none());
        }
        assert_eq!(get(db, H, hk("w")).await, None);
        assert_eq!(get(db, H, hk("fresh")).await, None);
        assert_eq!(item_size(&get(db, H, hk("v")).await.expect("v")), 300_004);
    }

    // -----------------------------------------------------------------
    // Request errors.

    async fn empty_and_oversized_lists(db) {
        tables(db).await;
        assert_error(
            write(db, vec![]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
        let many: Vec<TransactWriteItem> =
            (0..101).map(|i| put_e(H, hk(&format!("k{i:03}")))).collect();
        let err = write(db, many).await.expect_err("101 entries");
        assert_eq!(err.kind, ErrorKind::ValidationException);
        assert!(
            err.message.starts_with("1 validation error detected: Value '[")
                && err.message.ends_with(
                    "]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
                ),
            "{}",
            err.message
        );
        assert_eq!(stats(db, H).await, (0, 0));

        let hundred: Vec<TransactWriteItem> =
            (0..100).map(|i| put_e(H, hk(&format!("k{i:03}")))).collect();
        write(db, hundred).await.expect("100 entries");
        assert_eq!(stats(db, H).await.0, 100);
    }

    async fn entries_need_exactly_one_action(db) {
        tables(db).await;
        assert_error(
            write(db, vec![put_e(H, hk("a")), TransactWriteItem::default()]).await,
            ErrorKind::ValidationException,
            "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
        );
        let mut two = put_e(H, hk("b"));
        two.delete = Some(Delete {
            table_name: Some(H.into()),
            key: Some(hk("c")),
            ..Default::default()
        });
        // No real capture of two actions in one entry; DynamoDB Local's words.
        assert_error(
            write(db, vec![put_e(H, hk("a")), two]).await,
            ErrorKind::ValidationException,
            "TransactItems can only contain one of Check, Put, Update or Delete",
        );
        assert_eq!(stats(db, H).await, (0, 0));
    }

    async fn several_operations_on_one_item_are_refused(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("d")), ("hits", n("1"))])).await;
        let dup = "Transaction request cannot include multiple operations on one item";
        assert_error(
            write(db, vec![
                put_e(H, item(&[("pk", s("d")), ("v", s("1"))])),
                put_e(H, item(&[("pk", s("d")), ("v", s("2"))])),
            ])
            .await,
            ErrorKind::ValidationException,
            dup,
        );
        assert_error(
            write(db, vec![
                check_e(H, hk("d"), "attribute_exists(pk)", &[]),
                put_e(H, hk("other")),
                update_e(H, hk("d"), "ADD hits :one", &[(":one", n("1"))]),
            ])
            .await,
            ErrorKind::ValidationException,
            dup,
        );
        assert_error(
            write(db, vec![delete_e(C, ck("p", "1")), put_e(C, ck("p", "1"))]).await,
            ErrorKind::ValidationException,
            dup,
        );
        assert_eq!(get(db, H, hk("other")).await, None);
        assert_eq!(get(db, H, hk("d")).await, Some(item(&[("pk", s("d")), ("hits", n("1"))])));

        // Same partition key, other sort key; same key, other table: distinct.
        write(db, vec![
            put_e(C, ck("d", "1")),
            put_e(C, ck("d", "2")),
            update_e(H, hk("d"), "ADD hits :one", &[(":one", n("1"))]),
        ])
        .await
        .expect("distinct items");
        assert_eq!(stats(db, C).await.0, 2);
        assert_eq!(number(&get(db, H, hk("d")).await.expect("d"), "hits"), "2");
    }

    async fn unknown_tables_are_not_found(db) {
        tables(db).await;
        for e in [
            put_e("nope", hk("a")),
            update_e("nope", hk("a"), "SET txt = :v", &[(":v", s("x"))]),
            delete_e("nope", hk("a")),
            check_e("nope", hk("a"), "attribute_exists(pk)", &[]),
        ] {
            assert_error(
                write(db, vec![put_e(H, hk("ok")), e]).await,
                ErrorKind::ResourceNotFoundException,
                "Requested resource not found",
            );
        }
        // Ahead of a duplicate target.
        assert_error(
            write(db, vec![put_e(H, hk("x")), put_e(H, hk("x")), put_e("nope", hk("a"))]).await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
        assert_eq!(get(db, H, hk("ok")).await, None);
    }

    async fn requests_over_four_megabytes_are_refused(db) {
        tables(db).await;
        let body = "x".repeat(350_000);
        let big = |i: usize| put_e(H, item(&[("pk", s(&format!("big{i:02}"))), ("body", s(&body))]));
        let err = write(db, (0..12).map(big).collect()).await.expect_err("4.2 MB");
        assert_eq!(err.kind, ErrorKind::ValidationException);
        // The suite checks the name only; the words are DynamoDB Local's.
        assert!(
            err.message.starts_with("Transaction payload size cannot exceed 4MB"),
            "{}",
            err.message
        );
        assert_eq!(stats(db, H).await, (0, 0));
        // The values Updates write count as well.
        let set = |i: usize| {
            update_e(H, hk(&format!("upd{i:02}")), "SET body = :b", &[(":b", s(&body))])
        };
        let err = write(db, (0..12).map(set).collect()).await.expect_err("4.2 MB of updates");
        assert_eq!(err.kind, ErrorKind::ValidationException);
        assert_eq!(stats(db, H).await, (0, 0));
        write(db, (0..10).map(big).collect()).await.expect("3.5 MB");
        assert_eq!(stats(db, H).await.0, 10);
    }

    async fn member_errors_are_reported_together_first(db) {
        tables(db).await;
        let token = "t".repeat(37);
        // A missing table and a duplicate target are not reached.
        let mut input = tx(vec![put_e(H, hk("a")), put_e(H, hk("a")), put_e("nope", hk("b"))]);
        input.client_request_token = Some(token.clone());
        input.return_consumed_capacity = Some("BOGUS".into());
        input.return_item_collection_metrics = Some("BOGUS2".into());
        assert_error(
            db.transact_write_items(input).await,
            ErrorKind::ValidationException,
            &format!(
                "3 validation errors detected: \
                 Value '{token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36; \
                 Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; \
                 Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]"
            ),
        );
        let mut input = tx(vec![put_e(H, hk("a")), put_e("nope", hk("b"))]);
        input.return_consumed_capacity = Some("BOGUS".into());
        assert_error(
            db.transact_write_items(input).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
        );
        let mut input = tx(vec![put_e(H, hk("a"))]);
        input.return_consumed_capacity = Some("BOGUS".into());
        input.return_item_collection_metrics = Some("BOGUS2".into());
        assert_error(
            db.transact_write_items(input).await,
            ErrorKind::ValidationException,
            "2 validation errors detected: \
             Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; \
             Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]",
        );
        // A 36-character token is fine.
        db.transact_write_items(with_token(vec![put_e(H, hk("a"))], &"t".repeat(36)))
            .await
            .expect("36-character token");
        assert_eq!(stats(db, H).await.0, 1);
    }

    async fn token_and_list_members(db) {
        tables(db).await;
        let long = "x".repeat(37);
        assert_error(
            db.transact_write_items(with_token(vec![put_e(H, hk("a"))], &long)).await,
            ErrorKind::ValidationException,
            &format!("1 validation error detected: Value '{long}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36"),
        );
        // No real capture; the model's minimum is 1.
        assert_error(
            db.transact_write_items(with_token(vec![put_e(H, hk("a"))], "")).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value '' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
        assert_error(
            db.transact_write_items(TransactWriteItemsInput::default()).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
        );
        let mut no_table = put_e(H, hk("a"));
        no_table.put.as_mut().expect("put").table_name = None;
        let mut no_item = put_e(H, hk("a"));
        no_item.put.as_mut().expect("put").item = None;
        let mut no_key = delete_e(H, hk("a"));
        no_key.delete.as_mut().expect("delete").key = None;
        assert_error(
            write(db, vec![no_table, no_item, no_key]).await,
            ErrorKind::ValidationException,
            "3 validation errors detected: \
             Value null at 'transactItems.1.member.put.tableName' failed to satisfy constraint: Member must not be null; \
             Value null at 'transactItems.2.member.put.item' failed to satisfy constraint: Member must not be null; \
             Value null at 'transactItems.3.member.delete.key' failed to satisfy constraint: Member must not be null",
        );
        assert_eq!(stats(db, H).await, (0, 0));
    }

    async fn malformed_table_names_name_their_entry(db) {
        tables(db).await;
        assert_error(
            write(db, vec![put_e("bad!name", hk("a"))]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value 'bad!name' at 'transactItems.1.member.put.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        );
        assert_error(
            write(db, vec![
                put_e(H, hk("a")),
                update_e("bad!name", hk("a"), "SET txt = :v", &[(":v", s("x"))]),
            ])
            .await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value 'bad!name' at 'transactItems.2.member.update.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        );
        assert_error(
            write(db, vec![check_e("bad!name", hk("a"), "attribute_exists(pk)", &[])]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value 'bad!name' at 'transactItems.1.member.conditionCheck.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        );
    }

    async fn required_members_must_be_present(db) {
        tables(db).await;
        let mut check = check_e(H, hk("a"), "attribute_exists(pk)", &[]);
        check.condition_check.as_mut().expect("check").condition_expression = None;
        assert_error(
            write(db, vec![check]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
        );
        let mut update = update_e(H, hk("a"), "SET txt = :v", &[]);
        update.update.as_mut().expect("update").update_expression = None;
        assert_error(
            write(db, vec![put_e(H, hk("b")), update]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'transactItems.2.member.update.updateExpression' failed to satisfy constraint: Member must not be null",
        );
        assert_eq!(get(db, H, hk("a")).await, None);
        assert_eq!(get(db, H, hk("b")).await, None);
    }

    async fn expression_member_errors(db) {
        tables(db).await;
        for e in [
            when(put_e(H, hk("a")), "", &[]),
            when(delete_e(H, hk("a")), "", &[]),
            check_e(H, hk("a"), "", &[]),
        ] {
            assert_error(
                write(db, vec![e]).await,
                ErrorKind::ValidationException,
                "Invalid ConditionExpression: The expression can not be empty;",
            );
        }
        assert_error(
            write(db, vec![named(
                check_e(H, hk("a"), "attribute_exists(pk)", &[]),
                &[("#n", "txt")],
            )])
            .await,
            ErrorKind::ValidationException,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
        );
        assert_error(
            write(db, vec![update_e(H, hk("a"), "SET txt = :v", &[])]).await,
            ErrorKind::ValidationException,
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v",
        );
        assert_error(
            write(db, vec![update_e(H, hk("a"), "SET #x = :v", &[(":v", s("x"))])]).await,
            ErrorKind::ValidationException,
            "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #x",
        );
        assert_error(
            write(db, vec![update_e(H, hk("a"), "", &[])]).await,
            ErrorKind::ValidationException,
            "Invalid UpdateExpression: The expression can not be empty;",
        );
        let mut empty = check_e(H, hk("a"), "attribute_exists(pk)", &[]);
        empty.condition_check.as_mut().expect("check").expression_attribute_values =
            Some(HashMap::new());
        assert_error(
            write(db, vec![empty]).await,
            ErrorKind::ValidationException,
            "ExpressionAttributeValues must not be empty",
        );
        assert_eq!(stats(db, H).await, (0, 0));
    }

    async fn nesting_limits(db) {
        tables(db).await;
        let nesting = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
        write(db, vec![put_e(H, item(&[("pk", s("ok")), ("a", nested(31))]))])
            .await
            .expect("31 levels");
        assert_eq!(get(db, H, hk("ok")).await, Some(item(&[("pk", s("ok")), ("a", nested(31))])));
        let deep = item(&[("pk", s("deep")), ("a", nested(32))]);
        assert_error(
            write(db, vec![put_e(H, hk("x")), put_e(H, deep.clone())]).await,
            ErrorKind::ValidationException,
            nesting,
        );
        // Request order decides between a deep item and a syntax error.
        assert_error(
            write(db, vec![
                put_e(H, deep.clone()),
                check_e(H, hk("ok"), "attribute_not_exists(", &[]),
            ])
            .await,
            ErrorKind::ValidationException,
            nesting,
        );
        assert_error(
            write(db, vec![
                check_e(H, hk("ok"), "attribute_not_exists(", &[]),
                put_e(H, deep),
            ])
            .await,
            ErrorKind::ValidationException,
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"(\"",
        );
        // An Update writing a 32-deep value: a ValidationError reason in
        // most regions, refused outright in the newest.
        match write(db, vec![update_e(H, hk("u"), "SET a = :v", &[(":v", nested(32))])]).await {
            Ok(v) => panic!("a 32-deep update was stored: {v:?}"),
            Err(e) if e.kind == ErrorKind::ValidationException => assert_eq!(e.message, nesting),
            Err(e) => {
                let reasons = cancelled(Err::<(), _>(e), &["ValidationError"]);
                let message = reasons[0]["Message"].as_str().expect("Message");
                assert!(message.contains("Nesting Levels have exceeded supported limits"), "{message}");
            }
        }
        // A ConditionCheck comparing with a 32-deep value: the condition is
        // false in most regions, refused outright in the newest.
        match write(db, vec![check_e(H, hk("ok"), "a = :v", &[(":v", nested(32))])]).await {
            Ok(v) => panic!("a 32-deep comparison passed: {v:?}"),
            Err(e) if e.kind == ErrorKind::ValidationException => assert_eq!(e.message, nesting),
            Err(e) => {
                cancelled(Err::<(), _>(e), &["ConditionalCheckFailed"]);
            }
        }
        assert_eq!(get(db, H, hk("u")).await, None);
        assert_eq!(get(db, H, hk("x")).await, None);
        assert_eq!(stats(db, H).await.0, 1);
    }

    async fn empty_binary_keys_are_refused_outright(db) {
        db.create_table(binary_table_input("bin")).await.expect("create");
        let key = || item(&[("pk", b(b""))]);
        for e in [
            put_e("bin", key()),
            update_e("bin", key(), "SET txt = :v", &[(":v", s("x"))]),
            delete_e("bin", key()),
            check_e("bin", key(), "attribute_exists(pk)", &[]),
        ] {
            assert_error(
                write(db, vec![put_e("bin", item(&[("pk", b(b"ok"))])), e]).await,
                ErrorKind::ValidationException,
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk",
            );
        }
        assert_eq!(stats(db, "bin").await, (0, 0));
    }

    async fn numerically_equal_keys_name_one_item(db) {
        let mut t = table_input("nums", None);
        t.attribute_definitions = Some(vec![attribute("pk", "N")]);
        t.key_schema = Some(vec![key_element("pk", "HASH")]);
        db.create_table(t).await.expect("create");
        assert_error(
            write(db, vec![
                put_e("nums", item(&[("pk", n("1"))])),
                update_e("nums", item(&[("pk", n("1.0"))]), "SET txt = :v", &[(":v", s("x"))]),
            ])
            .await,
            ErrorKind::ValidationException,
            "Transaction request cannot include multiple operations on one item",
        );
        write(db, vec![
            put_e("nums", item(&[("pk", n("10")), ("txt", s("ten"))])),
            update_e("nums", item(&[("pk", n("1E1"))]), "SET more = :v", &[(":v", s("y"))]),
        ])
        .await
        .expect_err("10 and 1E1 are one item");
        assert_eq!(stats(db, "nums").await, (0, 0));
    }

    async fn bad_return_values_on_condition_check_failure(db) {
        tables(db).await;
        // No real capture; the model's enumeration is ALL_OLD | NONE.
        assert_error(
            write(db, vec![on_failure(put_e(H, hk("a")), "BOGUS")]).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value 'BOGUS' at 'transactItems.1.member.put.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]",
        );
    }

    async fn expression_errors_come_before_tables_in_request_order(db) {
        tables(db).await;
        // A syntax error on entry 2 beats a missing table on entry 1.
        assert_error(
            write(db, vec![
                put_e("nope", hk("a")),
                check_e(H, hk("a"), "attribute_not_exists(", &[]),
            ])
            .await,
            ErrorKind::ValidationException,
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"(\"",
        );
        assert_error(
            write(db, vec![when(put_e(H, hk("a")), "", &[])]).await,
            ErrorKind::ValidationException,
            "Invalid ConditionExpression: The expression can not be empty;",
        );
        // An unused value on entry 2: nothing of entry 1 is written.
        let unused = "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}";
        let second = when(
            put_e(H, hk("b")),
            "attribute_not_exists(pk)",
            &[(":v", s("x"))],
        );
        assert_error(
            write(db, vec![put_e(H, hk("a")), second]).await,
            ErrorKind::ValidationException,
            unused,
        );
        // Values without any expression are refused in their own words.
        let mut bare = put_e(H, hk("b"));
        bare.put.as_mut().expect("put").expression_attribute_values =
            Some(values(&[(":v", s("x"))]));
        assert_error(
            write(db, vec![put_e(H, hk("a")), bare]).await,
            ErrorKind::ValidationException,
            "ExpressionAttributeValues can only be specified when using expressions",
        );
        // ... also ahead of a missing table (earlier) and a duplicate target.
        assert_error(
            write(db, vec![
                put_e("nope", hk("x")),
                put_e(H, hk("a")),
                put_e(H, hk("a")),
                when(delete_e(H, hk("c")), "attribute_exists(pk)", &[(":v", s("x"))]),
            ])
            .await,
            ErrorKind::ValidationException,
            unused,
        );
        assert_error(
            write(db, vec![update_e(H, hk("a"), "SET txt = :w", &[(":w", s("w")), (":v", s("x"))])]).await,
            ErrorKind::ValidationException,
            unused,
        );
        assert_eq!(get(db, H, hk("a")).await, None);
        assert_eq!(stats(db, H).await, (0, 0));
    }

    // -----------------------------------------------------------------
    // Idempotency.

    async fn a_token_replay_does_not_apply_again(db) {
        tables(db).await;
        let request = || {
            with_token(
                vec![
                    update_e(H, hk("n"), "ADD hits :one", &[(":one", n("1"))]),
                    when(put_e(C, ck("p", "once")), "attribute_not_exists(pk)", &[]),
                ],
                "token-same-items",
            )
        };
        let first = db.transact_write_items(request()).await.expect("first");
        assert_eq!(first, TransactWriteItemsOutput::default());
        // The Put's condition would now fail: the replay is answered from
        // the record instead.
        let second = db.transact_write_items(request()).await.expect("replay");
        assert_eq!(second, TransactWriteItemsOutput::default());
        assert_eq!(number(&get(db, H, hk("n")).await.expect("n"), "hits"), "1");
        assert_eq!(stats(db, C).await.0, 1);

        // Without a token, the same request applies twice.
        let plain = || tx(vec![update_e(H, hk("m"), "ADD hits :one", &[(":one", n("1"))])]);
        db.transact_write_items(plain()).await.expect("first");
        db.transact_write_items(plain()).await.expect("second");
        assert_eq!(number(&get(db, H, hk("m")).await.expect("m"), "hits"), "2");
    }

    async fn a_replay_reports_read_capacity(db) {
        tables(db).await;
        // ~1.5 KB: 3 + 3 + 1,536 bytes.
        let big = item(&[("pk", s("r")), ("big", s(&"b".repeat(1536)))]);
        assert_eq!(item_size(&big), 1542);
        let request = || TransactWriteItemsInput {
            client_request_token: Some("token-capacity".into()),
            ..with_capacity(vec![put_e(H, big.clone())], "INDEXES")
        };
        let first = db.transact_write_items(request()).await.expect("first");
        assert_eq!(first.consumed_capacity, Some(vec![indexes_written(H, 4.0)]));
        assert_eq!(first.item_collection_metrics, None);
        let replay = db.transact_write_items(request()).await.expect("replay");
        let read = Capacity {
            capacity_units: 2.0,
            read_capacity_units: Some(2.0),
            write_capacity_units: None,
        };
        assert_eq!(
            replay.consumed_capacity,
            Some(vec![ConsumedCapacity {
                table_name: H.into(),
                capacity_units: 2.0,
                read_capacity_units: Some(2.0),
                write_capacity_units: None,
                table: Some(read),
                ..Default::default()
            }])
        );
        // A replay that only changes ReturnConsumedCapacity or
        // ReturnItemCollectionMetrics is still the same request.
        let mut total = request();
        total.return_consumed_capacity = Some("TOTAL".into());
        let out = db.transact_write_items(total).await.expect("TOTAL replay");
        assert_eq!(
            out.consumed_capacity,
            Some(vec![ConsumedCapacity {
                table_name: H.into(),
                capacity_units: 2.0,
                read_capacity_units: Some(2.0),
                ..Default::default()
            }])
        );
        let mut quiet = request();
        quiet.return_consumed_capacity = None;
        quiet.return_item_collection_metrics = Some("SIZE".into());
        let out = db.transact_write_items(quiet).await.expect("quiet replay");
        assert_eq!(out.consumed_capacity, None);
        assert_eq!(stats(db, H).await, (1, 1542));
    }

    async fn a_token_with_other_items_is_a_mismatch(db) {
        tables(db).await;
        let token = "token-mismatch";
        db.transact_write_items(with_token(vec![put_e(H, item(&[("pk", s("a")), ("v", s("1"))]))], token))
            .await
            .expect("first");
        for items in [
            vec![put_e(H, item(&[("pk", s("a")), ("v", s("2"))]))],
            vec![put_e(H, item(&[("pk", s("a")), ("v", s("1"))])), put_e(H, hk("b"))],
            vec![put_e(C, item(&[("pk", s("a")), ("sk", s("1"))]))],
        ] {
            let err = db
                .transact_write_items(with_token(items, token))
                .await
                .expect_err("same token, other items");
            assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatchException, "{}", err.message);
        }
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("v", s("1"))])));
        assert_eq!(get(db, H, hk("b")).await, None);
        assert_eq!(stats(db, C).await, (0, 0));
        // Other tokens are independent.
        db.transact_write_items(with_token(vec![put_e(H, item(&[("pk", s("a")), ("v", s("3"))]))], "token-other"))
            .await
            .expect("other token");
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("v", s("3"))])));
    }

    async fn a_cancelled_transaction_does_not_keep_its_token(db) {
        tables(db).await;
        let request = || {
            with_token(
                vec![
                    check_e(H, hk("gate"), "attribute_exists(pk)", &[]),
                    update_e(H, hk("n"), "ADD hits :one", &[(":one", n("1"))]),
                ],
                "token-cancelled",
            )
        };
        cancelled(db.transact_write_items(request()).await, &["ConditionalCheckFailed", "None"]);
        assert_eq!(get(db, H, hk("n")).await, None);
        put(db, H, hk("gate")).await;
        db.transact_write_items(request()).await.expect("retry after the fix");
        assert_eq!(number(&get(db, H, hk("n")).await.expect("n"), "hits"), "1");
        // Now it is remembered.
        db.transact_write_items(request()).await.expect("replay");
        assert_eq!(number(&get(db, H, hk("n")).await.expect("n"), "hits"), "1");
        let err = db
            .transact_write_items(with_token(vec![put_e(H, hk("z"))], "token-cancelled"))
            .await
            .expect_err("other items");
        assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatchException);
    }

    async fn a_token_refused_by_validation_is_not_kept(db) {
        tables(db).await;
        let token = "token-invalid";
        assert_error(
            db.transact_write_items(with_token(vec![put_e("nope", hk("a"))], token)).await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
        db.transact_write_items(with_token(vec![put_e(H, hk("a"))], token))
            .await
            .expect("the token is still free");
        assert_eq!(get(db, H, hk("a")).await, Some(hk("a")));
    }

    // -----------------------------------------------------------------
    // Capacity and metrics.

    async fn two_small_puts_cost_four_write_units(db) {
        tables(db).await;
        let out = db
            .transact_write_items(with_capacity(
                vec![put_e(H, hk("a")), when(put_e(H, hk("b")), "attribute_not_exists(pk)", &[])],
                "TOTAL",
            ))
            .await
            .expect("transaction");
        assert_eq!(out.consumed_capacity, Some(vec![total_written(H, 4.0)]));
        // NONE (and absent) report nothing.
        let out = db
            .transact_write_items(with_capacity(vec![put_e(H, hk("c"))], "NONE"))
            .await
            .expect("transaction");
        assert_eq!(out.consumed_capacity, None);
    }

    async fn a_condition_check_costs_two_write_units(db) {
        tables(db).await;
        put(db, C, ck("p", "1")).await;
        let out = db
            .transact_write_items(with_capacity(
                vec![put_e(H, hk("a")), check_e(C, ck("p", "1"), "attribute_exists(pk)", &[])],
                "INDEXES",
            ))
            .await
            .expect("transaction");
        assert_eq!(
            out.consumed_capacity,
            Some(vec![indexes_written(H, 2.0), indexes_written(C, 2.0)])
        );
    }

    async fn capacity_follows_item_sizes_and_table_order(db) {
        create_hash_table(db, "zeta").await;
        create_hash_table(db, "alpha").await;
        // 2.5 KB: 3 units, and a 3 KB item deleted.
        put(db, "alpha", item(&[("pk", s("old")), ("d", s(&"o".repeat(3000)))])).await;
        let out = db
            .transact_write_items(with_capacity(
                vec![
                    put_e("zeta", hk("a")),
                    put_e("alpha", item(&[("pk", s("b")), ("d", s(&"x".repeat(2500)))])),
                    put_e("zeta", hk("c")),
                    delete_e("alpha", hk("old")),
                ],
                "TOTAL",
            ))
            .await
            .expect("transaction");
        // zeta: 2 × 1 + 2 × 1; alpha: 2 × 3 + 2 × 3.
        assert_eq!(
            out.consumed_capacity,
            Some(vec![total_written("zeta", 4.0), total_written("alpha", 12.0)])
        );
        // A Put over a larger item is charged on the larger.
        put(db, "zeta", item(&[("pk", s("big")), ("d", s(&"o".repeat(3000)))])).await;
        let out = db
            .transact_write_items(with_capacity(vec![put_e("zeta", hk("big"))], "TOTAL"))
            .await
            .expect("transaction");
        assert_eq!(out.consumed_capacity, Some(vec![total_written("zeta", 6.0)]));
    }

    async fn index_arms_are_not_doubled(db) {
        let mut t = table_input("gidx", None);
        t.attribute_definitions.as_mut().expect("definitions").push(attribute("gpk", "S"));
        t.global_secondary_indexes =
            Some(vec![global_index("gsi", "gpk", None, projection("KEYS_ONLY", &[]))]);
        db.create_table(t).await.expect("create");
        let run = |items: Vec<TransactWriteItem>, mode: &str| {
            db.transact_write_items(with_capacity(items, mode))
        };
        let with_gsi = |total: f64, table: f64, index: f64| ConsumedCapacity {
            table_name: "gidx".into(),
            capacity_units: total,
            write_capacity_units: Some(total),
            table: Some(written(table)),
            global_secondary_indexes: Some(HashMap::from([("gsi".to_string(), written(index))])),
            ..Default::default()
        };
        // A new entry: table 2 × 1, index 1.
        let out = run(vec![put_e("gidx", item(&[("pk", s("a")), ("gpk", s("A"))]))], "INDEXES")
            .await
            .expect("put");
        assert_eq!(out.consumed_capacity, Some(vec![with_gsi(3.0, 2.0, 1.0)]));
        // A moved entry: delete + insert.
        let out = run(
            vec![update_e("gidx", hk("a"), "SET gpk = :b", &[(":b", s("B"))])],
            "INDEXES",
        )
        .await
        .expect("move");
        assert_eq!(out.consumed_capacity, Some(vec![with_gsi(4.0, 2.0, 2.0)]));
        // A change the index does not store: no arm at all.
        let out = run(
            vec![update_e("gidx", hk("a"), "SET txt = :t", &[(":t", s("t"))])],
            "INDEXES",
        )
        .await
        .expect("untouched index");
        assert_eq!(out.consumed_capacity, Some(vec![indexes_written("gidx", 2.0)]));
        // TOTAL folds the index into the one number.
        let out = run(vec![put_e("gidx", item(&[("pk", s("c")), ("gpk", s("C"))]))], "TOTAL")
            .await
            .expect("put");
        assert_eq!(out.consumed_capacity, Some(vec![total_written("gidx", 3.0)]));
    }

    async fn local_index_arms_are_reported_too(db) {
        create_indexed(db).await;
        let out = db
            .transact_write_items(with_capacity(
                vec![put_e(X, item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s("A")), ("lsk", s("x"))]))],
                "INDEXES",
            ))
            .await
            .expect("put");
        // Table 2 × 1, each index 1 (not doubled).
        assert_eq!(
            out.consumed_capacity,
            Some(vec![ConsumedCapacity {
                global_secondary_indexes: Some(HashMap::from([("gsi".to_string(), written(1.0))])),
                local_secondary_indexes: Some(HashMap::from([("lsi".to_string(), written(1.0))])),
                table: Some(written(2.0)),
                ..total_written(X, 4.0)
            }])
        );
    }

    async fn a_replay_reports_reads_per_table(db) {
        tables(db).await;
        put(db, C, item(&[("pk", s("p")), ("sk", s("chk")), ("txt", s(&"c".repeat(5000)))])).await;
        // 5,006 bytes: 2 read units; 9,006 bytes: 3.
        let request = || TransactWriteItemsInput {
            client_request_token: Some("token-per-table".into()),
            ..with_capacity(
                vec![
                    put_e(H, item(&[("pk", s("a")), ("d", s(&"a".repeat(5000)))])),
                    check_e(C, ck("p", "chk"), "attribute_exists(pk)", &[]),
                    update_e(H, hk("b"), "SET d = :v", &[(":v", s(&"b".repeat(9000)))]),
                ],
                "TOTAL",
            )
        };
        let first = db.transact_write_items(request()).await.expect("first");
        // H: 2 × 5 + 2 × 9; C: 2 × 5.
        assert_eq!(
            first.consumed_capacity,
            Some(vec![total_written(H, 28.0), total_written(C, 10.0)])
        );
        let replay = db.transact_write_items(request()).await.expect("replay");
        let read = |table: &str, units: f64| ConsumedCapacity {
            table_name: table.into(),
            capacity_units: units,
            read_capacity_units: Some(units),
            ..Default::default()
        };
        // H: 2 × 2 + 2 × 3; C: 2 × 2.
        assert_eq!(replay.consumed_capacity, Some(vec![read(H, 10.0), read(C, 4.0)]));
    }

    async fn concurrent_same_token_requests_apply_once(db) {
        tables(db).await;
        let request = || {
            with_token(
                vec![update_e(H, hk("n"), "ADD hits :one", &[(":one", n("1"))])],
                "token-concurrent",
            )
        };
        let (a, b, c) = tokio::join!(
            db.transact_write_items(request()),
            db.transact_write_items(request()),
            db.transact_write_items(request()),
        );
        let mut ok = 0;
        for r in [a, b, c] {
            match r {
                Ok(out) => {
                    assert_eq!(out, TransactWriteItemsOutput::default());
                    ok += 1;
                }
                Err(e) => assert_eq!(
                    e.kind,
                    ErrorKind::TransactionInProgressException,
                    "{}",
                    e.message
                ),
            }
        }
        assert!(ok >= 1);
        assert_eq!(number(&get(db, H, hk("n")).await.expect("n"), "hits"), "1");
        db.transact_write_items(request()).await.expect("replay");
        assert_eq!(number(&get(db, H, hk("n")).await.expect("n"), "hits"), "1");
    }

    async fn overlapping_transactions_conflict_or_apply_whole(db) {
        tables(db).await;
        let request = |i: usize| {
            tx(vec![
                put_e(H, hk(&format!("own{i}"))),
                update_e(H, hk("hot"), "ADD hits :one", &[(":one", n("1"))]),
            ])
        };
        let (a, b, c, d) = tokio::join!(
            db.transact_write_items(request(0)),
            db.transact_write_items(request(1)),
            db.transact_write_items(request(2)),
            db.transact_write_items(request(3)),
        );
        let mut applied = 0;
        for (i, r) in [a, b, c, d].into_iter().enumerate() {
            let own = get(db, H, hk(&format!("own{i}"))).await;
            match r {
                Ok(_) => {
                    applied += 1;
                    assert!(own.is_some());
                }
                Err(e) => {
                    let reasons = cancelled(Err::<(), _>(e), &["None", "TransactionConflict"]);
                    assert_eq!(reasons[1]["Message"], "Transaction is ongoing for the item");
                    assert_eq!(own, None);
                }
            }
        }
        assert!(applied >= 1);
        let hot = get(db, H, hk("hot")).await.expect("hot");
        assert_eq!(number(&hot, "hits"), applied.to_string());
        assert_eq!(stats(db, H).await.0, applied as i64 + 1);
    }

    async fn plain_writes_beside_a_transaction_conflict_or_serialize(db) {
        use openddb_core::api::UpdateItemInput;
        tables(db).await;
        let plain = || {
            db.update_item(UpdateItemInput {
                table_name: Some(H.into()),
                key: Some(hk("hot")),
                update_expression: Some("ADD hits :one".into()),
                expression_attribute_values: Some(values(&[(":one", n("1"))])),
                ..Default::default()
            })
        };
        let (t, p1, p2) = tokio::join!(
            write(db, vec![update_e(H, hk("hot"), "ADD hits :one", &[(":one", n("1"))])]),
            plain(),
            plain(),
        );
        t.expect("the transaction came first");
        let mut applied = 1;
        for r in [p1, p2] {
            match r {
                Ok(_) => applied += 1,
                Err(e) => {
                    assert_eq!(e.kind, ErrorKind::TransactionConflictException, "{}", e.message);
                    assert_eq!(e.message, "Transaction is ongoing for the item");
                }
            }
        }
        let hot = get(db, H, hk("hot")).await.expect("hot");
        assert_eq!(number(&hot, "hits"), applied.to_string());
    }

    async fn item_collection_metrics_for_tables_with_local_indexes(db) {
        create_indexed(db).await;
        create_hash_table(db, H).await;
        put(db, X, ck("q", "1")).await;
        put(db, X, ck("p", "3")).await;
        let mut input = tx(vec![
            put_e(X, item(&[("pk", s("p")), ("sk", s("1")), ("lsk", s("x"))])),
            update_e(X, ck("p", "2"), "SET txt = :t", &[(":t", s("t"))]),
            delete_e(X, ck("q", "1")),
            check_e(X, ck("p", "3"), "attribute_exists(pk)", &[]),
            put_e(H, hk("z")),
        ]);
        input.return_item_collection_metrics = Some("SIZE".into());
        let out = db.transact_write_items(input).await.expect("transaction");
        let metrics = |pk: &str| ItemCollectionMetrics {
            item_collection_key: Some(hk(pk)),
            size_estimate_range_g_b: Some(vec![0.0, 1.0]),
        };
        let got = out.item_collection_metrics.expect("ItemCollectionMetrics");
        assert_eq!(
            got,
            BTreeMap::from([(X.to_string(), vec![metrics("p"), metrics("p"), metrics("q")])])
        );
        assert_eq!(out.consumed_capacity, None);

        let mut input = tx(vec![put_e(X, ck("p", "9"))]);
        input.return_item_collection_metrics = Some("NONE".into());
        let out = db.transact_write_items(input).await.expect("transaction");
        assert_eq!(out.item_collection_metrics, None);
    }

    async fn wire_responses(db) {
        tables(db).await;
        let out = wire(db, "TransactWriteItems", json!({
            "TransactItems": [{"Put": {"TableName": H, "Item": {"pk": {"S": "a"}}}}],
        }))
        .await
        .expect("plain");
        assert_eq!(out, json!({}));
        let out = wire(db, "TransactWriteItems", json!({
            "TransactItems": [
                {"Put": {"TableName": H, "Item": {"pk": {"S": "b"}}}},
                {"ConditionCheck": {"TableName": H, "Key": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_exists(pk)"}},
            ],
            "ReturnConsumedCapacity": "TOTAL",
            "ReturnItemCollectionMetrics": "SIZE",
        }))
        .await
        .expect("with capacity");
        assert_eq!(
            out["ConsumedCapacity"],
            json!([{"TableName": H, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}])
        );
    }

    async fn cancelled_transactions_report_no_capacity(db) {
        tables(db).await;
        put(db, H, hk("a")).await;
        let mut input = with_capacity(
            vec![put_e(C, ck("p", "1")), when(put_e(H, hk("a")), "attribute_not_exists(pk)", &[])],
            "INDEXES",
        );
        input.return_item_collection_metrics = Some("SIZE".into());
        let body = serde_json::to_value(&input).expect("request as JSON");
        // Through the wire path: the error carries only its reasons.
        let err = wire(db, "TransactWriteItems", body).await.expect_err("cancelled");
        assert_eq!(err.kind, ErrorKind::TransactionCanceledException);
        assert_eq!(
            err.cancellation_reasons,
            Some(json!([{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": CCF_MESSAGE}]))
        );
        assert_eq!(err.item, None);
        assert_eq!(get(db, C, ck("p", "1")).await, None);
    }
}

/// A ClientRequestToken's record is written with the transaction, so a
/// durable database still knows it after reopening.
#[tokio::test]
async fn tokens_survive_reopening_a_directory_database() {
    use openddb_engine::StorageConfig;
    let dir = tempfile::tempdir().expect("temporary directory");
    let open = || {
        Database::open(StorageConfig::Directory(dir.path().to_path_buf())).expect("open database")
    };
    let request = || {
        with_token(
            vec![update_e(H, hk("n"), "ADD hits :one", &[(":one", n("1"))])],
            "durable-token",
        )
    };
    {
        let db = open();
        create_hash_table(&db, H).await;
        db.transact_write_items(request()).await.expect("first");
        assert_eq!(number(&get(&db, H, hk("n")).await.expect("n"), "hits"), "1");
    }
    let db = open();
    db.transact_write_items(request())
        .await
        .expect("replay after reopening");
    assert_eq!(number(&get(&db, H, hk("n")).await.expect("n"), "hits"), "1");
    let err = db
        .transact_write_items(with_token(vec![put_e(H, hk("other"))], "durable-token"))
        .await
        .expect_err("other items");
    assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatchException);
    assert_eq!(get(&db, H, hk("other")).await, None);
}
