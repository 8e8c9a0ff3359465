//! Query and Scan on tables through the embedded API, in both storage
//! modes: sort-key conditions on S, N and B keys in both directions, the
//! legacy KeyConditions/QueryFilter/ScanFilter, Limit counted before the
//! filter, pagination, the 1 MB page, Select and projections, consumed
//! capacity, parallel scans, and the messages of refused requests.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::*;
use openddb_core::api::{Capacity, ConsumedCapacity, QueryInput, QueryOutput, ScanInput};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item};
use openddb_engine::Database;

/// A sort-key condition (or none), its values, and the sort keys it selects.
type ConditionCase<'a> = (
    Option<&'a str>,
    Vec<(&'a str, AttributeValue)>,
    Vec<AttributeValue>,
);

fn query(table: &str, kce: &str, vals: &[(&str, AttributeValue)]) -> QueryInput {
    QueryInput {
        table_name: Some(table.into()),
        key_condition_expression: Some(kce.into()),
        expression_attribute_values: Some(values(vals)),
        ..Default::default()
    }
}

fn scan(table: &str) -> ScanInput {
    ScanInput {
        table_name: Some(table.into()),
        ..Default::default()
    }
}

fn sort_keys(items: &[Item]) -> Vec<AttributeValue> {
    items.iter().map(|i| i["sk"].clone()).collect()
}

/// A stable text form of an item's key, to compare results as sets.
fn key_text(it: &Item) -> String {
    format!("{:?}", key_of(it, &["pk", "sk"]))
}

fn key_set(items: &[Item]) -> BTreeSet<String> {
    items.iter().map(key_text).collect()
}

/// Runs a Query and expects it to be refused with `message`.
async fn query_error(db: &Database, input: QueryInput, message: &str) {
    assert_error(
        db.query(input).await,
        ErrorKind::ValidationException,
        message,
    );
}

async fn scan_error(db: &Database, input: ScanInput, message: &str) {
    assert_error(
        db.scan(input).await,
        ErrorKind::ValidationException,
        message,
    );
}

/// Writes `sorted` (already in DynamoDB's order) as the sort keys of
/// partition `p`, out of order, with decoy partitions `o` and `q` around
/// it holding the same sort keys.
async fn load_sorted(db: &Database, table: &str, sorted: &[AttributeValue]) {
    let mut order: Vec<usize> = (0..sorted.len()).collect();
    order.reverse();
    order.rotate_left(sorted.len() / 3);
    for i in order {
        for pk in ["o", "p", "q"] {
            put(
                db,
                table,
                item(&[
                    ("pk", s(pk)),
                    ("sk", sorted[i].clone()),
                    ("v", n(&i.to_string())),
                ]),
            )
            .await;
        }
    }
}

/// Checks one key condition on partition `p`: the whole result in both
/// directions, and the same result when read two items per page.
async fn check_condition(
    db: &Database,
    table: &str,
    sort_condition: Option<&str>,
    vals: &[(&str, AttributeValue)],
    expected: &[AttributeValue],
) {
    let kce = match sort_condition {
        Some(c) => format!("pk = :p AND {c}"),
        None => "pk = :p".to_string(),
    };
    let mut all_vals = vec![(":p", s("p"))];
    all_vals.extend(vals.iter().cloned());
    for forward in [true, false] {
        let mut want = expected.to_vec();
        if !forward {
            want.reverse();
        }
        let mut input = query(table, &kce, &all_vals);
        input.scan_index_forward = Some(forward);
        let out = db.query(input.clone()).await.expect("query");
        let items = out.items.clone().expect("Items");
        assert_eq!(sort_keys(&items), want, "{kce} forward={forward}");
        assert!(
            items.iter().all(|i| i["pk"] == s("p")),
            "{kce}: other partitions"
        );
        assert_eq!(out.count, want.len() as i64, "{kce}");
        assert_eq!(out.scanned_count, want.len() as i64, "{kce}");
        assert_eq!(out.last_evaluated_key, None, "{kce}");

        input.limit = Some(2);
        let pages = query_pages(db, input).await;
        assert_eq!(
            sort_keys(&items_of(&pages)),
            want,
            "{kce} paged forward={forward}"
        );
        assert!(pages.iter().all(|p| p.scanned_count <= 2));
    }
}

async fn key_condition_error(
    db: &Database,
    table: &str,
    sort_condition: &str,
    value: AttributeValue,
    message: &str,
) {
    query_error(
        db,
        query(
            table,
            &format!("pk = :p AND {sort_condition}"),
            &[(":p", s("p")), (":v", value)],
        ),
        message,
    )
    .await;
}

fn strs(v: &[&str]) -> Vec<AttributeValue> {
    v.iter().map(|x| s(x)).collect()
}

fn nums(v: &[&str]) -> Vec<AttributeValue> {
    v.iter().map(|x| n(x)).collect()
}

fn bins(v: &[&[u8]]) -> Vec<AttributeValue> {
    v.iter().map(|x| b(x)).collect()
}

/// Ten items `sk` 000..009 in partition `p`, `cat` even or odd.
async fn load_ten(db: &Database, table: &str) {
    db.create_table(table_input(table, Some("S")))
        .await
        .expect("create");
    for i in 0..10 {
        put(
            db,
            table,
            item(&[
                ("pk", s("p")),
                ("sk", s(&format!("{i:03}"))),
                ("cat", s(if i % 2 == 0 { "even" } else { "odd" })),
            ]),
        )
        .await;
    }
}

fn even_filter(mut input: QueryInput) -> QueryInput {
    input.filter_expression = Some("cat = :c".into());
    input
        .expression_attribute_values
        .get_or_insert_with(Default::default)
        .insert(":c".into(), s("even"));
    input
}

fn sk_key(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", s(sk))])
}

fn total(table: &str, units: f64) -> Option<ConsumedCapacity> {
    Some(ConsumedCapacity {
        table_name: table.into(),
        capacity_units: units,
        ..Default::default()
    })
}

fn capacity(units: f64) -> Capacity {
    Capacity {
        capacity_units: units,
        ..Default::default()
    }
}

/// The 20 items of ~60 KB each of the 1 MB tests: `pk`(2) + "big"(3) +
/// `sk`(2) + "sk-0NN"(6) + `payload`(7) + 60 000 = 60 020 bytes.
async fn load_big(db: &Database) {
    db.create_table(table_input("big", Some("S")))
        .await
        .expect("create");
    let payload = "x".repeat(60_000);
    for i in 0..20 {
        put(
            db,
            "big",
            item(&[
                ("pk", s("big")),
                ("sk", s(&format!("sk-{i:03}"))),
                ("payload", s(&payload)),
            ]),
        )
        .await;
    }
}

const BIG_ITEM: usize = 60_020;

fn ceil_units(bytes: usize) -> f64 {
    bytes.div_ceil(4096) as f64
}

both_modes! {
    /// Pages of many small items are read in several storage chunks (and,
    /// on SQLite, continued in a second snapshot off the worker): nothing
    /// may be lost, repeated or reordered at the chunk boundaries.
    async fn long_pages_cross_storage_chunks(db) {
        create_composite_table(db, "long").await;
        for i in 0..1500 {
            put(
                db,
                "long",
                item(&[
                    ("pk", s("p")),
                    ("sk", s(&format!("{i:05}"))),
                    ("even", AttributeValue::Bool(i % 2 == 0)),
                ]),
            )
            .await;
        }
        let want: Vec<AttributeValue> = (0..1500).map(|i| s(&format!("{i:05}"))).collect();
        for reverse in [false, true] {
            let mut input = query("long", "pk = :p", &[(":p", s("p"))]);
            input.scan_index_forward = Some(!reverse);
            let out = db.query(input.clone()).await.expect("one page");
            assert_eq!((out.count, out.scanned_count), (1500, 1500));
            assert_eq!(out.last_evaluated_key, None);
            let mut expected = want.clone();
            if reverse {
                expected.reverse();
            }
            assert_eq!(sort_keys(out.items.as_ref().expect("Items")), expected);

            input.filter_expression = Some("even = :t".into());
            input
                .expression_attribute_values
                .as_mut()
                .expect("values")
                .insert(":t".into(), AttributeValue::Bool(true));
            input.limit = Some(1001);
            let out = db.query(input).await.expect("filtered page");
            // Forward reads 00000..=01000 (501 even), backward 01499..=00499 (500).
            let evens = if reverse { 500 } else { 501 };
            assert_eq!((out.count, out.scanned_count), (evens, 1001));
            let last = if reverse { "00499" } else { "01000" };
            assert_eq!(out.last_evaluated_key, Some(sk_key("p", last)));
        }
        let scanned = db
            .scan(ScanInput {
                table_name: Some("long".into()),
                ..Default::default()
            })
            .await
            .expect("scan");
        assert_eq!(scanned.count, 1500);
        assert_eq!(sort_keys(scanned.items.as_ref().expect("Items")), want);
    }

    async fn string_sort_key_conditions(db) {
        db.create_table(table_input("q_s", Some("S")))
            .await
            .expect("create");
        // Byte order: upper case before lower case, a prefix before its
        // extensions, multi-byte UTF-8 last.
        let sorted = strs(&["A", "B", "a", "ab", "abc", "abd", "b", "ba", "z", "é"]);
        load_sorted(db, "q_s", &sorted).await;
        let cases: Vec<ConditionCase> = vec![
            (None, vec![], sorted.clone()),
            (Some("sk = :v"), vec![(":v", s("ab"))], strs(&["ab"])),
            (Some("sk = :v"), vec![(":v", s("aa"))], vec![]),
            (
                Some("sk < :v"),
                vec![(":v", s("ab"))],
                strs(&["A", "B", "a"]),
            ),
            (
                Some("sk <= :v"),
                vec![(":v", s("ab"))],
                strs(&["A", "B", "a", "ab"]),
            ),
            (
                Some("sk > :v"),
                vec![(":v", s("b"))],
                strs(&["ba", "z", "é"]),
            ),
            (
                Some("sk > :v"),
                vec![(":v", s("aa"))],
                strs(&["ab", "abc", "abd", "b", "ba", "z", "é"]),
            ),
            (
                Some("sk >= :v"),
                vec![(":v", s("b"))],
                strs(&["b", "ba", "z", "é"]),
            ),
            (
                Some(":v <= sk"),
                vec![(":v", s("b"))],
                strs(&["b", "ba", "z", "é"]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", s("ab")), (":w", s("b"))],
                strs(&["ab", "abc", "abd", "b"]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", s("aa")), (":w", s("az"))],
                strs(&["ab", "abc", "abd"]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", s("b")), (":w", s("b"))],
                strs(&["b"]),
            ),
            (
                Some("begins_with(sk, :v)"),
                vec![(":v", s("ab"))],
                strs(&["ab", "abc", "abd"]),
            ),
            (
                Some("begins_with(sk, :v)"),
                vec![(":v", s("a"))],
                strs(&["a", "ab", "abc", "abd"]),
            ),
            (
                Some("begins_with(sk, :v)"),
                vec![(":v", s("é"))],
                strs(&["é"]),
            ),
            (Some("begins_with(sk, :v)"), vec![(":v", s("x"))], vec![]),
            (Some("(sk > :v)"), vec![(":v", s("z"))], strs(&["é"])),
        ];
        for (condition, vals, expected) in cases {
            check_condition(db, "q_s", condition, &vals, &expected).await;
        }
        key_condition_error(
            db,
            "q_s",
            "begins_with(sk, :v)",
            n("1"),
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        )
        .await;
        key_condition_error(
            db,
            "q_s",
            "sk > :v",
            n("1"),
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
        .await;
    }

    async fn number_sort_key_conditions(db) {
        db.create_table(table_input("q_n", Some("N")))
            .await
            .expect("create");
        // Numeric order, not text order, down to 38 digits and 1E-130.
        let sorted = nums(&[
            "-100",
            "-5.5",
            "-1",
            "0",
            "1E-130",
            "0.5",
            "1",
            "5",
            "10",
            "100",
            "99999999999999999999999999999999999999",
        ]);
        load_sorted(db, "q_n", &sorted).await;
        let cases: Vec<ConditionCase> = vec![
            (None, vec![], sorted.clone()),
            (Some("sk = :v"), vec![(":v", n("10"))], nums(&["10"])),
            (Some("sk = :v"), vec![(":v", n("10.00"))], nums(&["10"])),
            (Some("sk = :v"), vec![(":v", n("1E2"))], nums(&["100"])),
            (
                Some("sk < :v"),
                vec![(":v", n("0"))],
                nums(&["-100", "-5.5", "-1"]),
            ),
            (
                Some("sk <= :v"),
                vec![(":v", n("0"))],
                nums(&["-100", "-5.5", "-1", "0"]),
            ),
            (
                Some("sk > :v"),
                vec![(":v", n("1"))],
                nums(&["5", "10", "100", "99999999999999999999999999999999999999"]),
            ),
            (
                Some("sk >= :v"),
                vec![(":v", n("100"))],
                nums(&["100", "99999999999999999999999999999999999999"]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", n("-5.5")), (":w", n("1"))],
                nums(&["-5.5", "-1", "0", "1E-130", "0.5", "1"]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", n("-6")), (":w", n("-2"))],
                nums(&["-5.5"]),
            ),
            (
                Some("sk > :v"),
                vec![(":v", n("0"))],
                nums(&[
                    "1E-130",
                    "0.5",
                    "1",
                    "5",
                    "10",
                    "100",
                    "99999999999999999999999999999999999999",
                ]),
            ),
        ];
        for (condition, vals, expected) in cases {
            check_condition(db, "q_n", condition, &vals, &expected).await;
        }
        key_condition_error(
            db,
            "q_n",
            "begins_with(sk, :v)",
            n("1"),
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        )
        .await;
        key_condition_error(
            db,
            "q_n",
            "begins_with(sk, :v)",
            s("1"),
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
        .await;
    }

    async fn binary_sort_key_conditions(db) {
        db.create_table(table_input("q_b", Some("B")))
            .await
            .expect("create");
        // Unsigned byte order; a prefix sorts before its extensions.
        let sorted = bins(&[
            &[0x00],
            &[0x01],
            &[0x01, 0x02],
            &[0x01, 0xFF],
            &[0x02],
            &[0x7F, 0x80],
            &[0xFF],
        ]);
        load_sorted(db, "q_b", &sorted).await;
        let cases: Vec<ConditionCase> = vec![
            (None, vec![], sorted.clone()),
            (
                Some("sk = :v"),
                vec![(":v", b(&[0x7F, 0x80]))],
                bins(&[&[0x7F, 0x80]]),
            ),
            (
                Some("sk < :v"),
                vec![(":v", b(&[0x01, 0x02]))],
                bins(&[&[0x00], &[0x01]]),
            ),
            (
                Some("sk <= :v"),
                vec![(":v", b(&[0x01, 0x02]))],
                bins(&[&[0x00], &[0x01], &[0x01, 0x02]]),
            ),
            (
                Some("sk > :v"),
                vec![(":v", b(&[0x01]))],
                bins(&[
                    &[0x01, 0x02],
                    &[0x01, 0xFF],
                    &[0x02],
                    &[0x7F, 0x80],
                    &[0xFF],
                ]),
            ),
            (
                Some("sk >= :v"),
                vec![(":v", b(&[0x02]))],
                bins(&[&[0x02], &[0x7F, 0x80], &[0xFF]]),
            ),
            (
                Some("sk BETWEEN :v AND :w"),
                vec![(":v", b(&[0x01, 0x05])), (":w", b(&[0x7F]))],
                bins(&[&[0x01, 0xFF], &[0x02]]),
            ),
            (
                Some("begins_with(sk, :v)"),
                vec![(":v", b(&[0x01]))],
                bins(&[&[0x01], &[0x01, 0x02], &[0x01, 0xFF]]),
            ),
            (
                Some("begins_with(sk, :v)"),
                vec![(":v", b(&[0xFF]))],
                bins(&[&[0xFF]]),
            ),
        ];
        for (condition, vals, expected) in cases {
            check_condition(db, "q_b", condition, &vals, &expected).await;
        }
    }

    async fn legacy_key_conditions_and_query_filter(db) {
        db.create_table(table_input("legacy", Some("S")))
            .await
            .expect("create");
        let rows = [
            ("alpha", 1, "hello world"),
            ("beta", 2, "goodbye"),
            ("gamma", 3, "hello there"),
            ("delta", 4, "say hello"),
            ("epsilon", 5, "nothing"),
        ];
        for (sk, val, tag) in rows {
            put(
                db,
                "legacy",
                item(&[
                    ("pk", s("p")),
                    ("sk", s(sk)),
                    ("val", n(&val.to_string())),
                    ("tag", s(tag)),
                ]),
            )
            .await;
        }
        put(
            db,
            "legacy",
            item(&[("pk", s("other")), ("sk", s("alpha")), ("val", n("3"))]),
        )
        .await;
        let legacy = |sk_condition: serde_json::Value| QueryInput {
            table_name: Some("legacy".into()),
            key_conditions: Some(if sk_condition.is_null() {
                serde_json::json!({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}})
            } else {
                serde_json::json!({
                    "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                    "sk": sk_condition,
                })
            }),
            ..Default::default()
        };
        let cond = |op: &str, vals: &[&str]| {
            serde_json::json!({
                "ComparisonOperator": op,
                "AttributeValueList": vals.iter().map(|v| serde_json::json!({"S": v})).collect::<Vec<_>>(),
            })
        };
        let cases = [
            (
                serde_json::Value::Null,
                vec!["alpha", "beta", "delta", "epsilon", "gamma"],
            ),
            (cond("EQ", &["beta"]), vec!["beta"]),
            (cond("BEGINS_WITH", &["al"]), vec!["alpha"]),
            (
                cond("BETWEEN", &["beta", "epsilon"]),
                vec!["beta", "delta", "epsilon"],
            ),
            (cond("GT", &["delta"]), vec!["epsilon", "gamma"]),
            (cond("GE", &["delta"]), vec!["delta", "epsilon", "gamma"]),
            (cond("LT", &["beta"]), vec!["alpha"]),
            (cond("LE", &["beta"]), vec!["alpha", "beta"]),
        ];
        for (condition, expected) in cases {
            for forward in [true, false] {
                let mut input = legacy(condition.clone());
                input.scan_index_forward = Some(forward);
                let out = db.query(input).await.expect("legacy query");
                let mut want = strs(&expected);
                if !forward {
                    want.reverse();
                }
                assert_eq!(sort_keys(&out.items.expect("Items")), want, "{condition}");
            }
        }

        // QueryFilter: ScannedCount counts every item of the key range.
        let mut input = legacy(serde_json::Value::Null);
        input.query_filter = Some(
            serde_json::json!({"val": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "3"}]}}),
        );
        let out = db.query(input).await.expect("QueryFilter EQ");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["gamma"])
        );
        assert_eq!((out.count, out.scanned_count), (1, 5));

        let mut input = legacy(serde_json::Value::Null);
        input.query_filter = Some(
            serde_json::json!({"tag": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "hello"}]}}),
        );
        let out = db.query(input).await.expect("QueryFilter CONTAINS");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["alpha", "delta", "gamma"])
        );
        assert_eq!((out.count, out.scanned_count), (3, 5));

        let two = serde_json::json!({
            "val": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "4"}]},
            "tag": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "hello"}]},
        });
        for (operator, expected) in [
            (None, vec![]),
            (Some("AND"), vec![]),
            (Some("OR"), vec!["alpha", "delta", "epsilon", "gamma"]),
        ] {
            let mut input = legacy(serde_json::Value::Null);
            input.query_filter = Some(two.clone());
            input.conditional_operator = operator.map(str::to_string);
            let out = db.query(input).await.expect("QueryFilter two conditions");
            assert_eq!(
                sort_keys(out.items.as_ref().expect("Items")),
                strs(&expected),
                "{operator:?}"
            );
            assert_eq!(out.scanned_count, 5);
        }

        // Legacy AttributesToGet: only the named attributes, keys not added.
        let mut input = legacy(cond("EQ", &["alpha"]));
        input.attributes_to_get = Some(vec!["sk".into(), "val".into()]);
        let out = db.query(input).await.expect("AttributesToGet");
        assert_eq!(
            out.items,
            Some(vec![item(&[("sk", s("alpha")), ("val", n("1"))])])
        );
    }

    async fn legacy_scan_filter(db) {
        db.create_table(table_input("s_f", None))
            .await
            .expect("create");
        for (pk, val, name) in [
            ("a", 10, "alpha one"),
            ("b", 20, "alpha two"),
            ("c", 30, "beta"),
            ("d", 40, "alpha four"),
            ("e", 50, "gamma"),
        ] {
            put(
                db,
                "s_f",
                item(&[
                    ("pk", s(pk)),
                    ("val", n(&val.to_string())),
                    ("name", s(name)),
                ]),
            )
            .await;
        }
        let filtered = |filter: serde_json::Value, operator: Option<&str>| ScanInput {
            scan_filter: Some(filter),
            conditional_operator: operator.map(str::to_string),
            limit: Some(2),
            ..scan("s_f")
        };
        let cases = [
            (
                serde_json::json!({"val": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "20"}]}}),
                None,
                vec!["b"],
            ),
            (
                serde_json::json!({"val": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "30"}]}}),
                None,
                vec!["d", "e"],
            ),
            (
                serde_json::json!({"name": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "alpha"}]}}),
                None,
                vec!["a", "b", "d"],
            ),
            (
                serde_json::json!({"name": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "two"}]}}),
                None,
                vec!["b"],
            ),
            (
                serde_json::json!({"val": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "20"}, {"N": "40"}]}}),
                None,
                vec!["b", "c", "d"],
            ),
            (
                serde_json::json!({
                    "val": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "45"}]},
                    "name": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "alpha"}]},
                }),
                Some("AND"),
                vec!["a", "b", "d"],
            ),
            (
                serde_json::json!({
                    "val": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "45"}]},
                    "name": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "beta"}]},
                }),
                Some("OR"),
                vec!["c", "e"],
            ),
        ];
        for (filter, operator, expected) in cases {
            let pages = scan_pages(db, filtered(filter.clone(), operator)).await;
            let mut pks: Vec<String> = items_of(&pages)
                .iter()
                .map(|i| match &i["pk"] {
                    AttributeValue::S(v) => v.clone(),
                    other => panic!("pk {other:?}"),
                })
                .collect();
            pks.sort();
            assert_eq!(pks, expected, "{filter}");
            assert_eq!(
                pages.iter().map(|p| p.scanned_count).sum::<i64>(),
                5,
                "{filter}"
            );
        }
        // Expression and legacy filter parameters do not mix.
        let mut input = filtered(
            serde_json::json!({"val": {"ComparisonOperator": "NOT_NULL"}}),
            None,
        );
        input.filter_expression = Some("attribute_exists(val)".into());
        scan_error(
            db,
            input,
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}",
        )
        .await;
    }

    async fn filter_counts_and_scanned_counts(db) {
        db.create_table(table_input("filt", Some("S")))
            .await
            .expect("create");
        for (sk, status) in [("1", "active"), ("2", "inactive"), ("3", "active")] {
            put(
                db,
                "filt",
                item(&[("pk", s("p")), ("sk", s(sk)), ("status", s(status))]),
            )
            .await;
        }
        let mut input = query("filt", "pk = :p", &[(":p", s("p")), (":s", s("active"))]);
        input.filter_expression = Some("#s = :s".into());
        input.expression_attribute_names = Some(names(&[("#s", "status")]));
        let out = db.query(input.clone()).await.expect("query with filter");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["1", "3"])
        );
        assert_eq!((out.count, out.scanned_count), (2, 3));
        assert_eq!(out.last_evaluated_key, None);

        input.select = Some("COUNT".into());
        let out = db.query(input).await.expect("count with filter");
        assert_eq!(out.items, None);
        assert_eq!((out.count, out.scanned_count), (2, 3));

        // A filter that rejects everything still reports what it read.
        let out = db
            .scan(ScanInput {
                filter_expression: Some("#s = :s".into()),
                expression_attribute_names: Some(names(&[("#s", "status")])),
                expression_attribute_values: Some(values(&[(":s", s("gone"))])),
                ..scan("filt")
            })
            .await
            .expect("scan with filter");
        assert_eq!(out.items, Some(vec![]));
        assert_eq!((out.count, out.scanned_count), (0, 3));

        // An empty partition: Items present and empty.
        let out = db
            .query(query("filt", "pk = :p", &[(":p", s("nobody"))]))
            .await
            .expect("empty query");
        assert_eq!(out.items, Some(vec![]));
        assert_eq!(
            (out.count, out.scanned_count, out.last_evaluated_key),
            (0, 0, None)
        );
    }

    async fn limit_counts_items_before_the_filter(db) {
        load_ten(db, "lim").await;
        let base = query("lim", "pk = :p", &[(":p", s("p"))]);

        let out = db
            .query(QueryInput {
                limit: Some(3),
                ..even_filter(base.clone())
            })
            .await
            .expect("limit 3");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["000", "002"])
        );
        assert_eq!((out.count, out.scanned_count), (2, 3));
        assert_eq!(out.last_evaluated_key, Some(sk_key("p", "002")));

        // The last evaluated item is the key even when the filter dropped it.
        let out = db
            .query(QueryInput {
                limit: Some(2),
                ..even_filter(base.clone())
            })
            .await
            .expect("limit 2");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["000"])
        );
        assert_eq!((out.count, out.scanned_count), (1, 2));
        assert_eq!(out.last_evaluated_key, Some(sk_key("p", "001")));
        let next = db
            .query(QueryInput {
                limit: Some(2),
                exclusive_start_key: out.last_evaluated_key,
                ..even_filter(base.clone())
            })
            .await
            .expect("next page");
        assert_eq!(
            sort_keys(next.items.as_ref().expect("Items")),
            strs(&["002"])
        );
        assert_eq!(next.last_evaluated_key, Some(sk_key("p", "003")));

        // Reaching Limit returns a LastEvaluatedKey even with nothing left;
        // the page after it is empty and final.
        let out = db
            .query(QueryInput {
                limit: Some(10),
                ..base.clone()
            })
            .await
            .expect("limit 10");
        assert_eq!(out.count, 10);
        assert_eq!(out.last_evaluated_key, Some(sk_key("p", "009")));
        let last = db
            .query(QueryInput {
                limit: Some(10),
                exclusive_start_key: out.last_evaluated_key,
                ..base.clone()
            })
            .await
            .expect("after the end");
        assert_eq!(last.items, Some(vec![]));
        assert_eq!(
            (last.count, last.scanned_count, last.last_evaluated_key),
            (0, 0, None)
        );

        let out = db
            .query(QueryInput {
                limit: Some(11),
                ..base.clone()
            })
            .await
            .expect("limit 11");
        assert_eq!((out.count, out.last_evaluated_key), (10, None));

        let out = db
            .query(QueryInput {
                limit: Some(3),
                scan_index_forward: Some(false),
                ..base.clone()
            })
            .await
            .expect("limit 3 backwards");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["009", "008", "007"])
        );
        assert_eq!(out.last_evaluated_key, Some(sk_key("p", "007")));

        // COUNT obeys Limit the same way.
        let out = db
            .query(QueryInput {
                limit: Some(4),
                select: Some("COUNT".into()),
                ..even_filter(base.clone())
            })
            .await
            .expect("count limit 4");
        assert_eq!((out.items, out.count, out.scanned_count), (None, 2, 4));
        assert_eq!(out.last_evaluated_key, Some(sk_key("p", "003")));

        // Scan: the same rule.
        let out = db
            .scan(ScanInput {
                limit: Some(3),
                filter_expression: Some("cat = :c".into()),
                expression_attribute_values: Some(values(&[(":c", s("odd"))])),
                ..scan("lim")
            })
            .await
            .expect("scan limit 3");
        assert_eq!(out.scanned_count, 3);
        assert!(out.count <= 3);
        assert!(out.last_evaluated_key.is_some());
    }

    async fn pagination_never_repeats_or_skips(db) {
        db.create_table(table_input("pages", Some("N")))
            .await
            .expect("create");
        for p in 0..3 {
            for i in 0..23 {
                put(
                    db,
                    "pages",
                    item(&[
                        ("pk", s(&format!("p{p}"))),
                        ("sk", n(&(i * 7 % 23).to_string())),
                        ("v", n(&(i % 4).to_string())),
                    ]),
                )
                .await;
            }
        }
        let all: Vec<AttributeValue> = (0..23).map(|i| n(&i.to_string())).collect();
        let with_filter: Vec<AttributeValue> = (0..23)
            .filter(|i| (0..23).any(|j| j * 7 % 23 == *i && j % 4 != 0))
            .map(|i| n(&i.to_string()))
            .collect();
        for limit in 1..=7 {
            for forward in [true, false] {
                let mut input = query("pages", "pk = :p", &[(":p", s("p1"))]);
                input.limit = Some(limit);
                input.scan_index_forward = Some(forward);
                let pages = query_pages(db, input.clone()).await;
                let mut want = all.clone();
                if !forward {
                    want.reverse();
                }
                assert_eq!(
                    sort_keys(&items_of(&pages)),
                    want,
                    "limit {limit} forward {forward}"
                );
                assert!(pages.len() as i64 >= 23 / limit && pages.len() as i64 <= 23 / limit + 1);
                for (i, page) in pages.iter().enumerate() {
                    if i + 1 < pages.len() {
                        assert_eq!(page.scanned_count, limit, "full pages read Limit items");
                        let items = page.items.as_ref().expect("Items");
                        assert_eq!(
                            page.last_evaluated_key.as_ref(),
                            items.last().map(|l| key_of(l, &["pk", "sk"])).as_ref()
                        );
                    }
                }

                input.filter_expression = Some("v <> :zero".into());
                input
                    .expression_attribute_values
                    .as_mut()
                    .expect("values")
                    .insert(":zero".into(), n("0"));
                let pages = query_pages(db, input).await;
                let mut want = with_filter.clone();
                if !forward {
                    want.reverse();
                }
                assert_eq!(
                    sort_keys(&items_of(&pages)),
                    want,
                    "filtered, limit {limit} forward {forward}"
                );
                assert_eq!(pages.iter().map(|p| p.scanned_count).sum::<i64>(), 23);
            }
            let pages = scan_pages(
                db,
                ScanInput {
                    limit: Some(limit),
                    ..scan("pages")
                },
            )
            .await;
            let items = items_of(&pages);
            assert_eq!(items.len(), 69, "scan limit {limit}");
            assert_eq!(
                key_set(&items).len(),
                69,
                "scan limit {limit} repeats an item"
            );
        }
    }

    async fn exclusive_start_key_is_exclusive_and_may_name_a_missing_item(db) {
        db.create_table(table_input("esk", Some("S")))
            .await
            .expect("create");
        for sk in ["a", "b", "c", "d"] {
            put(db, "esk", item(&[("pk", s("p")), ("sk", s(sk))])).await;
        }
        let from = |esk: &str, forward: bool| QueryInput {
            exclusive_start_key: Some(sk_key("p", esk)),
            scan_index_forward: Some(forward),
            ..query("esk", "pk = :p", &[(":p", s("p"))])
        };
        let cases = [
            ("b", true, vec!["c", "d"]),
            ("b", false, vec!["a"]),
            ("bb", true, vec!["c", "d"]),
            ("bb", false, vec!["b", "a"]),
            ("0", true, vec!["a", "b", "c", "d"]),
            ("z", false, vec!["d", "c", "b", "a"]),
            ("d", true, vec![]),
        ];
        for (esk, forward, expected) in cases {
            let out = db.query(from(esk, forward)).await.expect("query from key");
            assert_eq!(
                sort_keys(out.items.as_ref().expect("Items")),
                strs(&expected),
                "from {esk} forward {forward}"
            );
        }
        // With a sort condition the start key only narrows the range.
        let mut input = from("a", true);
        input.key_condition_expression = Some("pk = :p AND sk <= :v".into());
        input
            .expression_attribute_values
            .as_mut()
            .expect("values")
            .insert(":v".into(), s("c"));
        let out = db.query(input).await.expect("bounded query from key");
        assert_eq!(
            sort_keys(out.items.as_ref().expect("Items")),
            strs(&["b", "c"])
        );

        // Scan resumes after the key too.
        let first = db
            .scan(ScanInput {
                limit: Some(1),
                ..scan("esk")
            })
            .await
            .expect("scan one");
        let rest = scan_pages(
            db,
            ScanInput {
                exclusive_start_key: first.last_evaluated_key.clone(),
                ..scan("esk")
            },
        )
        .await;
        let rest = items_of(&rest);
        assert_eq!(rest.len(), 3);
        assert!(!key_set(&rest).contains(&key_text(&first.items.expect("Items")[0])));
    }

    async fn one_megabyte_pages_include_the_crossing_item(db) {
        load_big(db).await;
        let base = QueryInput {
            consistent_read: Some(true),
            return_consumed_capacity: Some("TOTAL".into()),
            ..query("big", "pk = :p", &[(":p", s("big"))])
        };
        // 17 items are 1 020 340 bytes (< 1 MiB); the 18th crosses and is kept.
        let first = db.query(base.clone()).await.expect("first page");
        let items = first.items.clone().expect("Items");
        assert_eq!(items.len(), 18);
        assert_eq!((first.count, first.scanned_count), (18, 18));
        assert_eq!(first.last_evaluated_key, Some(sk_key("big", "sk-017")));
        assert_eq!(
            first.consumed_capacity,
            total("big", ceil_units(18 * BIG_ITEM))
        );
        let second = db
            .query(QueryInput {
                exclusive_start_key: first.last_evaluated_key.clone(),
                ..base.clone()
            })
            .await
            .expect("second page");
        assert_eq!(
            sort_keys(second.items.as_ref().expect("Items")),
            strs(&["sk-018", "sk-019"])
        );
        assert_eq!(second.last_evaluated_key, None);
        assert_eq!(
            second.consumed_capacity,
            total("big", ceil_units(2 * BIG_ITEM))
        );

        // Backwards, the same cut from the other end.
        let back = db
            .query(QueryInput {
                scan_index_forward: Some(false),
                ..base.clone()
            })
            .await
            .expect("backwards");
        assert_eq!(back.count, 18);
        assert_eq!(back.last_evaluated_key, Some(sk_key("big", "sk-002")));

        // Limit wins when it comes first.
        let five = db
            .query(QueryInput {
                limit: Some(5),
                ..base.clone()
            })
            .await
            .expect("limit 5");
        assert_eq!(five.count, 5);
        assert_eq!(five.last_evaluated_key, Some(sk_key("big", "sk-004")));

        // Filtered-out, counted-only and projected items weigh the same.
        let filtered = db
            .query(QueryInput {
                filter_expression: Some("attribute_not_exists(payload)".into()),
                ..base.clone()
            })
            .await
            .expect("filtered big page");
        assert_eq!((filtered.count, filtered.scanned_count), (0, 18));
        assert_eq!(filtered.items, Some(vec![]));
        assert_eq!(filtered.last_evaluated_key, Some(sk_key("big", "sk-017")));
        let counted = db
            .query(QueryInput {
                select: Some("COUNT".into()),
                ..base.clone()
            })
            .await
            .expect("count");
        assert_eq!(
            (counted.count, counted.last_evaluated_key.is_some()),
            (18, true)
        );
        let projected = db
            .query(QueryInput {
                projection_expression: Some("sk".into()),
                ..base.clone()
            })
            .await
            .expect("projected");
        assert_eq!(projected.count, 18);
        assert_eq!(
            projected.consumed_capacity,
            total("big", ceil_units(18 * BIG_ITEM))
        );

        // Scan pages the same way; every item exactly once.
        let pages = scan_pages(db, scan("big")).await;
        assert_eq!(
            pages.iter().map(|p| p.count).collect::<Vec<_>>(),
            vec![18, 2]
        );
        assert_eq!(key_set(&items_of(&pages)).len(), 20);
    }

    async fn select_and_projection_rules(db) {
        db.create_table(table_input("sel", Some("S")))
            .await
            .expect("create");
        for i in 1..=3 {
            put(
                db,
                "sel",
                item(&[
                    ("pk", s("p")),
                    ("sk", s(&i.to_string())),
                    ("name", s(&format!("n{i}"))),
                    ("a", n(&i.to_string())),
                    ("m", m(&[("nested", s("x")), ("other", s("y"))])),
                    ("l", l(vec![s("zero"), s("one"), s("two")])),
                ]),
            )
            .await;
        }
        put(db, "sel", item(&[("pk", s("p")), ("sk", s("4"))])).await;
        let base = query("sel", "pk = :p", &[(":p", s("p"))]);

        let out = db
            .query(QueryInput {
                select: Some("COUNT".into()),
                ..base.clone()
            })
            .await
            .expect("COUNT");
        assert_eq!((out.items, out.count, out.scanned_count), (None, 4, 4));
        let out = db
            .scan(ScanInput {
                select: Some("COUNT".into()),
                ..scan("sel")
            })
            .await
            .expect("scan COUNT");
        assert_eq!((out.items, out.count, out.scanned_count), (None, 4, 4));

        let out = db
            .query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..base.clone()
            })
            .await
            .expect("ALL");
        assert_eq!(out.items.expect("Items")[0].len(), 6);

        // Only the named paths come back, the key not added; an item with
        // none of them comes back empty.
        let out = db
            .query(QueryInput {
                select: Some("SPECIFIC_ATTRIBUTES".into()),
                projection_expression: Some("a".into()),
                ..base.clone()
            })
            .await
            .expect("SPECIFIC");
        assert_eq!(
            out.items,
            Some(vec![
                item(&[("a", n("1"))]),
                item(&[("a", n("2"))]),
                item(&[("a", n("3"))]),
                item(&[])
            ])
        );
        let out = db
            .query(QueryInput {
                projection_expression: Some("#m.#n, #l[1], sk".into()),
                expression_attribute_names: Some(names(&[
                    ("#m", "m"),
                    ("#n", "nested"),
                    ("#l", "l"),
                ])),
                limit: Some(1),
                ..base.clone()
            })
            .await
            .expect("nested projection");
        assert_eq!(
            out.items,
            Some(vec![item(&[
                ("m", m(&[("nested", s("x"))])),
                ("l", l(vec![s("one")])),
                ("sk", s("1"))
            ])])
        );
        // The filter sees the whole item, whatever is projected.
        let mut input = QueryInput {
            projection_expression: Some("sk".into()),
            filter_expression: Some("a >= :two".into()),
            ..base.clone()
        };
        input
            .expression_attribute_values
            .as_mut()
            .expect("values")
            .insert(":two".into(), n("2"));
        let out = db.query(input).await.expect("projection with filter");
        assert_eq!(
            out.items,
            Some(vec![item(&[("sk", s("2"))]), item(&[("sk", s("3"))])])
        );
        let out = db
            .scan(ScanInput {
                attributes_to_get: Some(vec!["pk".into(), "name".into()]),
                limit: Some(1),
                ..scan("sel")
            })
            .await
            .expect("scan AttributesToGet");
        assert_eq!(
            out.items,
            Some(vec![item(&[("pk", s("p")), ("name", s("n1"))])])
        );

        let select = |sel: &str| QueryInput {
            select: Some(sel.into()),
            ..base.clone()
        };
        let with_pe = |sel: &str| QueryInput {
            projection_expression: Some("a".into()),
            ..select(sel)
        };
        query_error(
            db,
            select("INVALID_VALUE"),
            "1 validation error detected: Value 'INVALID_VALUE' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
        )
        .await;
        query_error(
            db,
            select("SPECIFIC_ATTRIBUTES"),
            "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )
        .await;
        scan_error(
            db,
            ScanInput { select: Some("SPECIFIC_ATTRIBUTES".into()), ..scan("sel") },
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )
        .await;
        query_error(
            db,
            with_pe("COUNT"),
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        )
        .await;
        query_error(
            db,
            with_pe("ALL_ATTRIBUTES"),
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
        )
        .await;
        query_error(
            db,
            with_pe("ALL_PROJECTED_ATTRIBUTES"),
            "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES",
        )
        .await;
        query_error(
            db,
            select("ALL_PROJECTED_ATTRIBUTES"),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )
        .await;
        scan_error(
            db,
            ScanInput {
                select: Some("ALL_PROJECTED_ATTRIBUTES".into()),
                ..scan("sel")
            },
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )
        .await;
        scan_error(
            db,
            ScanInput {
                select: Some("COUNT".into()),
                attributes_to_get: Some(vec!["a".into()]),
                ..scan("sel")
            },
            "Cannot specify the AttributesToGet when choosing to get only the Count",
        )
        .await;
        query_error(
            db,
            QueryInput { projection_expression: Some("a, a".into()), ..base.clone() },
            "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]",
        )
        .await;
    }

    async fn consumed_capacity_is_sized_before_filter_and_projection(db) {
        db.create_table(table_input("cap", Some("S")))
            .await
            .expect("create");
        // pk(2) + "c"(1) + sk(2) + "N"(1) + payload(7) + 5 000 = 5 013 bytes.
        let data = "d".repeat(5000);
        for sk in ["1", "2", "3"] {
            put(
                db,
                "cap",
                item(&[("pk", s("c")), ("sk", s(sk)), ("payload", s(&data))]),
            )
            .await;
        }
        // Three items: ceil(15 039 / 4096) = 4 units, halved for eventual reads.
        let base = QueryInput {
            return_consumed_capacity: Some("TOTAL".into()),
            ..query("cap", "pk = :p", &[(":p", s("c"))])
        };
        let out = db.query(base.clone()).await.expect("TOTAL");
        assert_eq!(out.consumed_capacity, total("cap", 2.0));
        let out = db
            .query(QueryInput {
                consistent_read: Some(true),
                ..base.clone()
            })
            .await
            .expect("TOTAL CR");
        assert_eq!(out.consumed_capacity, total("cap", 4.0));
        let out = db
            .query(QueryInput {
                filter_expression: Some("attribute_not_exists(payload)".into()),
                ..base.clone()
            })
            .await
            .expect("filtered");
        assert_eq!(out.count, 0);
        assert_eq!(out.consumed_capacity, total("cap", 2.0));
        let out = db
            .query(QueryInput {
                projection_expression: Some("sk".into()),
                ..base.clone()
            })
            .await
            .expect("projected");
        assert_eq!(out.consumed_capacity, total("cap", 2.0));
        let out = db
            .query(QueryInput {
                select: Some("COUNT".into()),
                ..base.clone()
            })
            .await
            .expect("count");
        assert_eq!(out.consumed_capacity, total("cap", 2.0));
        // One item: 5 013 bytes = 2 units.
        let out = db
            .query(QueryInput {
                limit: Some(1),
                ..base.clone()
            })
            .await
            .expect("limit 1");
        assert_eq!(out.consumed_capacity, total("cap", 1.0));

        let out = db
            .query(QueryInput {
                return_consumed_capacity: Some("INDEXES".into()),
                ..base.clone()
            })
            .await
            .expect("INDEXES");
        assert_eq!(
            out.consumed_capacity,
            Some(ConsumedCapacity {
                table: Some(capacity(2.0)),
                ..total("cap", 2.0).expect("capacity")
            })
        );
        let out = db
            .query(QueryInput {
                return_consumed_capacity: Some("NONE".into()),
                ..base.clone()
            })
            .await
            .expect("NONE");
        assert_eq!(out.consumed_capacity, None);

        let out = db
            .scan(ScanInput {
                return_consumed_capacity: Some("TOTAL".into()),
                ..scan("cap")
            })
            .await
            .expect("scan");
        assert_eq!(out.consumed_capacity, total("cap", 2.0));
        let out = db
            .scan(ScanInput {
                return_consumed_capacity: Some("INDEXES".into()),
                consistent_read: Some(true),
                ..scan("cap")
            })
            .await
            .expect("scan INDEXES CR");
        assert_eq!(
            out.consumed_capacity,
            Some(ConsumedCapacity {
                table: Some(capacity(4.0)),
                ..total("cap", 4.0).expect("capacity")
            })
        );
    }

    async fn parallel_scan_puts_every_item_in_exactly_one_segment(db) {
        db.create_table(table_input("par", Some("S")))
            .await
            .expect("create");
        let (mut all, mut even) = (BTreeSet::new(), BTreeSet::new());
        for p in 0..15 {
            for i in 0..4 {
                let it = item(&[
                    ("pk", s(&format!("p{p:02}"))),
                    ("sk", s(&format!("s{i}"))),
                    ("even", AttributeValue::Bool(i % 2 == 0)),
                ]);
                all.insert(key_text(&it));
                if i % 2 == 0 {
                    even.insert(key_text(&it));
                }
                put(db, "par", it).await;
            }
        }
        for total_segments in 1..=7 {
            let mut seen: Vec<String> = Vec::new();
            let mut seen_even: Vec<String> = Vec::new();
            for segment in 0..total_segments {
                let input = ScanInput {
                    segment: Some(segment),
                    total_segments: Some(total_segments),
                    limit: Some(3),
                    ..scan("par")
                };
                let pages = scan_pages(db, input.clone()).await;
                for page in &pages {
                    assert!(page.scanned_count <= 3);
                    assert!(page.items.is_some(), "an empty segment still has Items");
                }
                seen.extend(items_of(&pages).iter().map(key_text));
                let pages = scan_pages(
                    db,
                    ScanInput {
                        filter_expression: Some("even = :t".into()),
                        expression_attribute_values: Some(values(&[(
                            ":t",
                            AttributeValue::Bool(true),
                        )])),
                        ..input
                    },
                )
                .await;
                seen_even.extend(items_of(&pages).iter().map(key_text));
            }
            assert_eq!(
                seen.len(),
                all.len(),
                "{total_segments} segments: an item repeated or missing"
            );
            assert_eq!(
                seen.into_iter().collect::<BTreeSet<_>>(),
                all,
                "{total_segments} segments"
            );
            assert_eq!(
                seen_even.len(),
                even.len(),
                "{total_segments} segments, filtered"
            );
            assert_eq!(
                seen_even.into_iter().collect::<BTreeSet<_>>(),
                even,
                "{total_segments} segments, filtered"
            );
        }
    }

    async fn segment_parameters_are_checked(db) {
        create_hash_table(db, "seg").await;
        let seg = |segment: Option<i64>, total: Option<i64>| ScanInput {
            segment,
            total_segments: total,
            ..scan("seg")
        };
        scan_error(
            db,
            seg(Some(0), None),
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )
        .await;
        scan_error(
            db,
            seg(None, Some(4)),
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )
        .await;
        scan_error(
            db,
            seg(Some(5), Some(5)),
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 5 is not less than TotalSegments: 5",
        )
        .await;
        scan_error(
            db,
            seg(Some(-1), Some(2)),
            "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0",
        )
        .await;
        scan_error(
            db,
            seg(Some(0), Some(0)),
            "1 validation error detected: Value '0' at 'totalSegments' failed to satisfy constraint: Member must have value greater than or equal to 1",
        )
        .await;
        scan_error(
            db,
            seg(Some(0), Some(1_000_001)),
            "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000",
        )
        .await;
        // The segment checks come before the table lookup.
        scan_error(
            db,
            ScanInput { segment: Some(3), total_segments: Some(2), ..scan("absent") },
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 2",
        )
        .await;
        // The largest segment of the largest scan is valid.
        let out = db
            .scan(seg(Some(999_999), Some(1_000_000)))
            .await
            .expect("last segment");
        assert_eq!(out.count, 0);
    }

    async fn exclusive_start_key_errors(db) {
        db.create_table(table_input("eskerr", Some("S")))
            .await
            .expect("create");
        put(db, "eskerr", sk_key("p", "a")).await;
        let from = |esk: Item| QueryInput {
            exclusive_start_key: Some(esk),
            ..query("eskerr", "pk = :p", &[(":p", s("p"))])
        };
        for bad in [
            item(&[("pk", s("p"))]),
            item(&[("pk", s("p")), ("sk", s("a")), ("extra", s("x"))]),
            item(&[("pk", s("p")), ("other", s("a"))]),
        ] {
            query_error(
                db,
                from(bad.clone()),
                "The provided starting key is invalid",
            )
            .await;
            scan_error(
                db,
                ScanInput { exclusive_start_key: Some(bad), ..scan("eskerr") },
                "The provided starting key is invalid: The provided key element does not match the schema",
            )
            .await;
        }
    }

    // Real DynamoDB, as observed by ScyllaDB's Alternator test suite
    // (test_query.py, test_gsi.py, test_scan.py: issue #26988, PR #9270).
    async fn exclusive_start_key_of_the_wrong_type(db) {
        db.create_table(table_input("esktype", Some("S")))
            .await
            .expect("create");
        for bad in [
            item(&[("pk", s("p")), ("sk", n("1"))]),
            item(&[("pk", n("7")), ("sk", s("a"))]),
        ] {
            query_error(
                db,
                QueryInput {
                    exclusive_start_key: Some(bad),
                    ..query("esktype", "pk = :p", &[(":p", s("p"))])
                },
                "The provided key element does not match the schema",
            )
            .await;
        }
    }

    async fn exclusive_start_key_outside_the_queried_partition(db) {
        db.create_table(table_input("eskpart", Some("S")))
            .await
            .expect("create");
        for pk in ["a", "p", "z"] {
            put(db, "eskpart", sk_key(pk, "m")).await;
        }
        for (other, forward) in [("a", true), ("z", true), ("a", false), ("z", false)] {
            query_error(
                db,
                QueryInput {
                    exclusive_start_key: Some(sk_key(other, "m")),
                    scan_index_forward: Some(forward),
                    ..query("eskpart", "pk = :p", &[(":p", s("p"))])
                },
                "The provided starting key is outside query boundaries based on provided conditions",
            )
            .await;
        }
    }

    async fn exclusive_start_key_on_a_hash_only_query(db) {
        create_hash_table(db, "eskhash").await;
        put(db, "eskhash", item(&[("pk", s("p"))])).await;
        query_error(
            db,
            QueryInput {
                exclusive_start_key: Some(item(&[("pk", s("p"))])),
                ..query("eskhash", "pk = :p", &[(":p", s("p"))])
            },
            "The provided exclusive start key is invalid: ExclusiveStartKey: {pk=AttributeValue: {S:p}}",
        )
        .await;
    }

    async fn exclusive_start_key_outside_the_scanned_segment(db) {
        db.create_table(table_input("eskseg", Some("S")))
            .await
            .expect("create");
        scan_error(
            db,
            ScanInput {
                segment: Some(0),
                total_segments: Some(1_000_000),
                exclusive_start_key: Some(sk_key("0", "0")),
                ..scan("eskseg")
            },
            "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: 1000000 Segment: 0",
        )
        .await;
    }

    async fn refused_queries(db) {
        db.create_table(table_input("refuse", Some("S")))
            .await
            .expect("create");
        query_error(
            db,
            QueryInput { table_name: Some("refuse".into()), ..Default::default() },
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
        .await;
        query_error(
            db,
            QueryInput { limit: Some(0), ..query("refuse", "pk = :p", &[(":p", s("p"))]) },
            "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        )
        .await;
        scan_error(
            db,
            ScanInput { limit: Some(0), ..scan("refuse") },
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        )
        .await;
        query_error(
            db,
            query("refuse", "sk = :p", &[(":p", s("p"))]),
            "Query condition missed key schema element: pk",
        )
        .await;
        query_error(
            db,
            query("refuse", "pk = :p AND sk > :a AND sk < :b", &[(":p", s("p")), (":a", s("a")), (":b", s("b"))]),
            "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key",
        )
        .await;
        query_error(
            db,
            QueryInput { filter_expression: Some("sk = :a".into()), ..query("refuse", "pk = :p", &[(":p", s("p")), (":a", s("a"))]) },
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk",
        )
        .await;
        // The legacy QueryFilter names the first key attribute in schema
        // order, whatever the order of its entries.
        let not_null = serde_json::json!({"ComparisonOperator": "NOT_NULL"});
        query_error(
            db,
            QueryInput {
                table_name: Some("refuse".into()),
                key_conditions: Some(serde_json::json!(
                    {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}}
                )),
                query_filter: Some(serde_json::json!({"sk": not_null, "pk": not_null, "x": not_null})),
                ..Default::default()
            },
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: pk",
        )
        .await;
        let absent: Result<QueryOutput, DynamoError> = db
            .query(query("absent", "pk = :p", &[(":p", s("p"))]))
            .await;
        assert_error(
            absent,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
        assert_error(
            db.scan(scan("absent")).await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found",
        );
    }
}
