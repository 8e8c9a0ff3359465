//! PartiQL through the embedded API in both storage modes: ExecuteStatement
//! (SELECT by key, by scan and on indexes, paging, INSERT, UPDATE, DELETE,
//! RETURNING), BatchExecuteStatement (per-statement answers and errors) and
//! ExecuteTransaction (all or nothing, reads, EXISTS, idempotency).
//!
//! Expected behaviour follows real DynamoDB as recorded in the research
//! digest (notes/partiql-digest.md, sections 1-6).

#[macro_use]
mod common;

use common::*;
use openddb_core::api::{
    BatchExecuteStatementInput, BatchExecuteStatementOutput, BatchStatementRequest,
    BatchStatementResponse, ConsumedCapacity, CreateTableInput, ExecuteStatementInput,
    ExecuteStatementOutput, ExecuteTransactionInput, ExecuteTransactionOutput,
    ParameterizedStatement,
};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item};
use openddb_engine::Database;
use serde_json::json;

/// A hash table (`pk` S, PROVISIONED).
const H: &str = "hhh";
/// A composite table (`pk`/`sk` S, PAY_PER_REQUEST).
const C: &str = "ccc";
/// A composite table with GSI `gsi` (`gpk` S, ALL) and LSI `lsi` (`lsk` S, ALL).
const X: &str = "idx";

const CCF: &str = "The conditional request failed";
const NOT_FOUND: &str = "Requested resource not found";
const MALFORMED: &str = "Statement wasn't well formed, can't be processed";
const DUPLICATE: &str = "Duplicate primary key exists in table";
const NO_FULL_KEY: &str =
    "Where clause does not contain a mandatory equality on all key attributes";
const BATCH_KEY_ONLY: &str =
    "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";
const TX_KEY_ONLY: &str = "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause.";

// ---------------------------------------------------------------------
// Requests.

fn statement(text: &str) -> ExecuteStatementInput {
    ExecuteStatementInput {
        statement: Some(text.into()),
        ..Default::default()
    }
}

fn with_params(text: &str, params: Vec<AttributeValue>) -> ExecuteStatementInput {
    ExecuteStatementInput {
        parameters: Some(params),
        ..statement(text)
    }
}

async fn exec(db: &Database, text: &str) -> Result<ExecuteStatementOutput, DynamoError> {
    db.execute_statement(statement(text)).await
}

/// Runs a statement that must succeed and returns its Items.
async fn ok(db: &Database, text: &str) -> Vec<Item> {
    match exec(db, text).await {
        Ok(out) => out.items.expect("Items is always present"),
        Err(e) => panic!("{text}: {:?} {}", e.kind, e.message),
    }
}

/// Runs a write that must succeed without returning anything.
async fn write(db: &Database, text: &str) {
    assert_eq!(ok(db, text).await, Vec::<Item>::new(), "Items of {text}");
}

/// Every item of a SELECT, following NextToken until it is absent.
async fn all_pages(db: &Database, input: ExecuteStatementInput) -> Vec<Item> {
    let mut input = input;
    let mut items = Vec::new();
    for _ in 0..1000 {
        let page = db
            .execute_statement(input.clone())
            .await
            .unwrap_or_else(|e| panic!("{:?}: {:?} {}", input.statement, e.kind, e.message));
        items.extend(page.items.expect("Items"));
        match page.next_token {
            Some(t) => input.next_token = Some(t),
            None => return items,
        }
    }
    panic!("{:?} does not end", input.statement);
}

fn batch_of(texts: &[&str]) -> BatchExecuteStatementInput {
    BatchExecuteStatementInput {
        statements: Some(
            texts
                .iter()
                .map(|t| BatchStatementRequest {
                    statement: Some(t.to_string()),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

async fn batch(db: &Database, texts: &[&str]) -> Vec<BatchStatementResponse> {
    let out: BatchExecuteStatementOutput = db
        .batch_execute_statement(batch_of(texts))
        .await
        .expect("batch");
    let responses = out.responses.expect("Responses");
    assert_eq!(responses.len(), texts.len(), "one response per statement");
    responses
}

fn tx_of(texts: &[&str]) -> ExecuteTransactionInput {
    ExecuteTransactionInput {
        transact_statements: Some(
            texts
                .iter()
                .map(|t| ParameterizedStatement {
                    statement: Some(t.to_string()),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

async fn tx(db: &Database, texts: &[&str]) -> Result<ExecuteTransactionOutput, DynamoError> {
    db.execute_transaction(tx_of(texts)).await
}

// ---------------------------------------------------------------------
// Assertions.

/// Asserts a ValidationException whose message starts with `prefix`.
#[track_caller]
fn assert_validation_prefix(result: Result<impl std::fmt::Debug, DynamoError>, prefix: &str) {
    match result {
        Ok(v) => panic!("expected a ValidationException {prefix:?}, got success {v:?}"),
        Err(e) => {
            assert_eq!(
                e.kind,
                ErrorKind::ValidationException,
                "kind of {:?}",
                e.message
            );
            assert!(e.message.starts_with(prefix), "message {:?}", e.message);
        }
    }
}

/// Asserts a ValidationException whose message contains `part`.
#[track_caller]
fn assert_validation_contains(result: Result<impl std::fmt::Debug, DynamoError>, part: &str) {
    match result {
        Ok(v) => panic!("expected a ValidationException with {part:?}, got success {v:?}"),
        Err(e) => {
            assert_eq!(
                e.kind,
                ErrorKind::ValidationException,
                "kind of {:?}",
                e.message
            );
            assert!(e.message.contains(part), "message {:?}", e.message);
        }
    }
}

/// A batch member's error code and message.
#[track_caller]
fn batch_error(r: &BatchStatementResponse) -> (&str, &str) {
    let e = r
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("no Error in {r:?}"));
    (
        e.code.as_deref().expect("Code"),
        e.message.as_deref().expect("Message"),
    )
}

/// The `pk`/`sk` pairs of items, sorted (for reads without an order).
fn keys(items: &[Item]) -> Vec<(String, String)> {
    let mut k: Vec<(String, String)> = items.iter().map(key_pair).collect();
    k.sort();
    k
}

fn key_pair(it: &Item) -> (String, String) {
    let text = |name: &str| match it.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("{name} of {it:?} is {other:?}"),
    };
    (text("pk"), text("sk"))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, k)| (p.to_string(), k.to_string()))
        .collect()
}

/// The sort keys of items, in order.
fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|it| key_pair(it).1).collect()
}

/// A string set's members, sorted.
fn members(v: Option<&AttributeValue>) -> Vec<String> {
    match v {
        Some(AttributeValue::SS(m)) => {
            let mut m = m.clone();
            m.sort();
            m
        }
        other => panic!("not a string set: {other:?}"),
    }
}

// ---------------------------------------------------------------------
// Tables and data.

fn hk(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn ck(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", s(sk))])
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

async fn tables(db: &Database) {
    create_hash_table(db, H).await;
    create_composite_table(db, C).await;
}

/// Partition `p` (five rows with assorted attributes), `q` (three) and `r`
/// (one) of the composite table.
async fn seed(db: &Database) {
    tables(db).await;
    let rows = [
        item(&[
            ("pk", s("p")),
            ("sk", s("1")),
            ("n", n("1")),
            ("tag", s("alpha")),
            ("tags", ss(&["x", "y"])),
            ("flag", AttributeValue::Bool(true)),
            ("opt", s("o")),
            ("m", m(&[("k", s("v"))])),
        ]),
        item(&[
            ("pk", s("p")),
            ("sk", s("2")),
            ("n", n("2")),
            ("tag", s("alpine")),
            ("tags", ss(&["y"])),
            ("nul", AttributeValue::Null),
        ]),
        item(&[
            ("pk", s("p")),
            ("sk", s("3")),
            ("n", n("3")),
            ("tag", s("beta")),
            ("tags", ss(&["x"])),
            ("opt", s("o3")),
        ]),
        item(&[
            ("pk", s("p")),
            ("sk", s("4")),
            ("n", n("4")),
            ("tag", s("gamma long")),
            ("l", l(vec![n("1"), n("2"), n("3")])),
        ]),
        item(&[
            ("pk", s("p")),
            ("sk", s("5")),
            ("tag", s("b")),
            ("flag", AttributeValue::Bool(false)),
        ]),
        item(&[("pk", s("q")), ("sk", s("1")), ("n", n("10"))]),
        item(&[("pk", s("q")), ("sk", s("2")), ("n", n("20"))]),
        item(&[("pk", s("q")), ("sk", s("3")), ("n", n("30"))]),
        item(&[("pk", s("r")), ("sk", s("1")), ("n", n("100"))]),
    ];
    for row in rows {
        put(db, C, row).await;
    }
}

/// The indexed table with five rows; `b/2` has no `gpk` (absent from the GSI).
async fn seed_indexed(db: &Database) {
    db.create_table(indexed_input(X))
        .await
        .expect("create indexed table");
    wait_until_active(db, X).await;
    let rows = [
        item(&[
            ("pk", s("a")),
            ("sk", s("1")),
            ("gpk", s("g1")),
            ("lsk", s("c")),
        ]),
        item(&[
            ("pk", s("a")),
            ("sk", s("2")),
            ("gpk", s("g2")),
            ("lsk", s("b")),
        ]),
        item(&[
            ("pk", s("b")),
            ("sk", s("1")),
            ("gpk", s("g1")),
            ("lsk", s("a")),
        ]),
        item(&[("pk", s("b")), ("sk", s("2")), ("lsk", s("z"))]),
        item(&[
            ("pk", s("c")),
            ("sk", s("1")),
            ("gpk", s("g1")),
            ("x", n("5")),
        ]),
    ];
    for row in rows {
        put(db, X, row).await;
    }
}

both_modes! {
    // -----------------------------------------------------------------
    // SELECT: projections.

    async fn select_star_by_partition_key(db) {
        tables(db).await;
        let a = item(&[("pk", s("a")), ("data", s("selectme")), ("n", n("7"))]);
        put(db, H, a.clone()).await;
        assert_eq!(ok(db, r#"SELECT * FROM "hhh" WHERE pk = 'a'"#).await, vec![a.clone()]);
        // Keywords in any case; the table name unquoted.
        assert_eq!(ok(db, "select * from hhh where pk = 'a'").await, vec![a]);
        // No match: an empty Items, present.
        assert_eq!(ok(db, r#"SELECT * FROM "hhh" WHERE pk = 'none'"#).await, Vec::<Item>::new());
    }

    async fn select_lists_attributes(db) {
        tables(db).await;
        put(db, H, item(&[
            ("pk", s("a")),
            ("mymap", m(&[("nested", s("deep")), ("other", n("1"))])),
            ("extra", s("x")),
        ]))
        .await;
        assert_eq!(
            ok(db, r#"SELECT pk, mymap FROM "hhh" WHERE pk = 'a'"#).await,
            vec![item(&[("pk", s("a")), ("mymap", m(&[("nested", s("deep")), ("other", n("1"))]))])]
        );
        // A missing attribute is simply left out.
        assert_eq!(
            ok(db, r#"SELECT extra, nope FROM "hhh" WHERE pk = 'a'"#).await,
            vec![item(&[("extra", s("x"))])]
        );
    }

    async fn select_nested_path_names_the_column_by_its_last_component(db) {
        tables(db).await;
        put(db, H, item(&[
            ("pk", s("a")),
            ("mymap", m(&[("nested", s("deep"))])),
            ("l", l(vec![s("first"), s("second")])),
        ]))
        .await;
        assert_eq!(
            ok(db, r#"SELECT mymap.nested FROM "hhh" WHERE pk = 'a'"#).await,
            vec![item(&[("nested", s("deep"))])]
        );
        assert_eq!(
            ok(db, r#"SELECT l[1] FROM "hhh" WHERE pk = 'a'"#).await,
            vec![item(&[("l[1]", s("second"))])]
        );
    }

    // -----------------------------------------------------------------
    // SELECT: WHERE on the partition key (the Query path).

    async fn select_where_conditions_on_one_partition(db) {
        seed(db).await;
        let cases: &[(&str, &[&str])] = &[
            ("sk > '2'", &["3", "4", "5"]),
            ("sk >= '2' AND sk < '4'", &["2", "3"]),
            ("sk BETWEEN '2' AND '4'", &["2", "3", "4"]),
            ("sk IN ['1', '3', '9']", &["1", "3"]),
            ("sk <> '1'", &["2", "3", "4", "5"]),
            ("begins_with(sk, '4')", &["4"]),
            ("n = 2", &["2"]),
            ("n > 2", &["3", "4"]),
            ("n <= 2", &["1", "2"]),
            ("n BETWEEN 2 AND 3", &["2", "3"]),
            ("n IN [1, 4, 7]", &["1", "4"]),
            ("n = 1 OR n = 3", &["1", "3"]),
            ("(n = 1 OR tag = 'b') AND flag = false", &["5"]),
            ("flag = true", &["1"]),
            ("NOT n = 1", &["2", "3", "4", "5"]),
            ("NOT (n > 1 AND n < 4)", &["1", "4", "5"]),
            ("tag = 'beta' AND n = 3", &["3"]),
            ("tag >= 'b'", &["3", "4", "5"]),
            ("tag != 'b'", &["1", "2", "3", "4"]),
            ("opt IS MISSING", &["2", "4", "5"]),
            ("opt IS NOT MISSING", &["1", "3"]),
            ("nul IS NULL", &["2"]),
            ("begins_with(tag, 'al')", &["1", "2"]),
            ("contains(tags, 'x')", &["1", "3"]),
            ("contains(tag, 'eta')", &["3"]),
            ("attribute_type(tags, 'SS')", &["1", "2", "3"]),
            ("attribute_type(nul, 'NULL')", &["2"]),
            ("size(tag) > 5", &["2", "4"]),
            ("size(l) = 3", &["4"]),
            ("attribute_exists(opt)", &["1", "3"]),
            ("attribute_not_exists(n)", &["5"]),
            ("l[0] = 1", &["4"]),
            ("m.k = 'v'", &["1"]),
            ("\"tag\" = 'alpine'", &["2"]),
        ];
        for (condition, want) in cases {
            let text = format!(r#"SELECT * FROM "ccc" WHERE pk = 'p' AND ({condition})"#);
            let items = ok(db, &text).await;
            // A keyed read returns the sort key ascending.
            assert_eq!(sks(&items), *want, "{text}");
            assert!(items.iter().all(|i| key_pair(i).0 == "p"), "{text}");
        }
    }

    async fn select_with_parameters(db) {
        seed(db).await;
        let out = db
            .execute_statement(with_params(
                r#"SELECT * FROM "ccc" WHERE pk = ? AND n > ?"#,
                vec![s("q"), n("15")],
            ))
            .await
            .expect("parameterised SELECT");
        assert_eq!(sks(&out.items.expect("Items")), ["2", "3"]);
        let out = db
            .execute_statement(with_params(
                r#"SELECT sk FROM "ccc" WHERE pk = 'q' AND sk IN [?, ?]"#,
                vec![s("1"), s("3")],
            ))
            .await
            .expect("parameters in IN");
        assert_eq!(
            out.items,
            Some(vec![item(&[("sk", s("1"))]), item(&[("sk", s("3"))])])
        );
    }

    // -----------------------------------------------------------------
    // SELECT: several partitions and scans.

    async fn select_over_several_partitions(db) {
        seed(db).await;
        let q_and_r = pairs(&[("q", "1"), ("q", "2"), ("q", "3"), ("r", "1")]);
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk IN ['q', 'r']"#).await;
        assert_eq!(keys(&items), q_and_r);
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'q' OR pk = 'r'"#).await;
        assert_eq!(keys(&items), q_and_r);
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk IN ['p', 'r', 'zz'] AND sk = '1'"#).await;
        assert_eq!(keys(&items), pairs(&[("p", "1"), ("r", "1")]));
    }

    async fn select_without_the_partition_key_scans(db) {
        seed(db).await;
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE n >= 20"#).await;
        assert_eq!(keys(&items), pairs(&[("q", "2"), ("q", "3"), ("r", "1")]));
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE tag = 'alpha' OR n = 100"#).await;
        assert_eq!(keys(&items), pairs(&[("p", "1"), ("r", "1")]));
        // An OR branch without the partition key makes the whole read a scan.
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'q' OR n = 100"#).await;
        assert_eq!(keys(&items), pairs(&[("q", "1"), ("q", "2"), ("q", "3"), ("r", "1")]));
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE sk = '3'"#).await;
        assert_eq!(keys(&items), pairs(&[("p", "3"), ("q", "3")]));
        // A range on the partition key: a scan, which finds nothing for a number.
        assert_eq!(ok(db, r#"SELECT * FROM "ccc" WHERE pk > 1"#).await, Vec::<Item>::new());
        // No WHERE: every item.
        assert_eq!(ok(db, r#"SELECT * FROM "ccc""#).await.len(), 9);
    }

    async fn select_order_by_sort_key(db) {
        seed(db).await;
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'p' ORDER BY sk DESC"#).await;
        assert_eq!(sks(&items), ["5", "4", "3", "2", "1"]);
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'p' ORDER BY sk ASC"#).await;
        assert_eq!(sks(&items), ["1", "2", "3", "4", "5"]);
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'p' AND n > 1 ORDER BY sk"#).await;
        assert_eq!(sks(&items), ["2", "3", "4"]);
        let items = ok(
            db,
            r#"SELECT * FROM "ccc" WHERE pk IN ['q', 'r'] ORDER BY pk DESC, sk ASC"#,
        )
        .await;
        let order: Vec<(String, String)> = items.iter().map(key_pair).collect();
        assert_eq!(order, pairs(&[("r", "1"), ("q", "1"), ("q", "2"), ("q", "3")]));
    }

    // -----------------------------------------------------------------
    // SELECT: paging.

    async fn limit_and_next_token_visit_every_item_once(db) {
        seed(db).await;
        for i in 0..12 {
            put(db, C, item(&[("pk", s("big")), ("sk", s(&format!("{i:02}"))), ("n", n(&i.to_string()))])).await;
        }
        let everything: Vec<String> = (0..12).map(|i| format!("{i:02}")).collect();

        // A keyed read, ascending and descending, for several page sizes.
        for limit in [1, 2, 5, 12, 13] {
            let input = ExecuteStatementInput {
                limit: Some(limit),
                ..statement(r#"SELECT * FROM "ccc" WHERE pk = 'big'"#)
            };
            let first = db.execute_statement(input.clone()).await.expect("first page");
            let first_len = first.items.as_ref().expect("Items").len() as i64;
            assert_eq!(first_len, limit.min(12), "first page with Limit {limit}");
            // A page that stops at Limit carries NextToken (even when
            // nothing is left); one that reads past the end does not.
            if limit != 12 {
                assert_eq!(first.next_token.is_some(), limit < 12, "NextToken with Limit {limit}");
            }
            assert_eq!(sks(&all_pages(db, input).await), everything, "Limit {limit}");

            let input = ExecuteStatementInput {
                limit: Some(limit),
                ..statement(r#"SELECT * FROM "ccc" WHERE pk = 'big' ORDER BY sk DESC"#)
            };
            let mut reversed = everything.clone();
            reversed.reverse();
            assert_eq!(sks(&all_pages(db, input).await), reversed, "DESC, Limit {limit}");
        }

        // Limit counts items read, so filtered pages may be short.
        let input = ExecuteStatementInput {
            limit: Some(4),
            ..statement(r#"SELECT * FROM "ccc" WHERE pk = 'big' AND n >= 6"#)
        };
        let first = db.execute_statement(input.clone()).await.expect("first page");
        assert_eq!(first.items, Some(vec![]));
        assert!(first.next_token.is_some());
        assert_eq!(sks(&all_pages(db, input).await), everything[6..]);

        // A scan, with and without a filter.
        for limit in [1, 3, 7, 40] {
            let input = ExecuteStatementInput {
                limit: Some(limit),
                ..statement(r#"SELECT * FROM "ccc""#)
            };
            let items = all_pages(db, input).await;
            assert_eq!(items.len(), 21, "scan with Limit {limit}");
            let mut all = keys(&items);
            all.dedup();
            assert_eq!(all.len(), 21, "each item once with Limit {limit}");

            let input = ExecuteStatementInput {
                limit: Some(limit),
                ..statement(r#"SELECT * FROM "ccc" WHERE n >= 10"#)
            };
            let items = all_pages(db, input).await;
            assert_eq!(
                keys(&items),
                pairs(&[("big", "10"), ("big", "11"), ("q", "1"), ("q", "2"), ("q", "3"), ("r", "1")]),
                "filtered scan with Limit {limit}"
            );
        }

        // Several partitions.
        let input = ExecuteStatementInput {
            limit: Some(2),
            ..statement(r#"SELECT * FROM "ccc" WHERE pk IN ['p', 'q', 'r']"#)
        };
        assert_eq!(all_pages(db, input).await.len(), 9);
    }

    async fn next_token_belongs_to_its_request(db) {
        seed(db).await;
        let first = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(1),
                ..statement(r#"SELECT * FROM "ccc" WHERE pk = 'p'"#)
            })
            .await
            .expect("first page");
        let token = first.next_token.expect("NextToken");
        let other = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(1),
                next_token: Some(token.clone()),
                ..statement(r#"SELECT * FROM "ccc" WHERE pk = 'q'"#)
            })
            .await;
        assert_error(other, ErrorKind::ValidationException, "NextToken does not match request");

        // The same text with other parameters is another request too.
        let first = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(1),
                ..with_params(r#"SELECT * FROM "ccc" WHERE pk = ?"#, vec![s("p")])
            })
            .await
            .expect("first page");
        let other = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(1),
                next_token: first.next_token.clone(),
                ..with_params(r#"SELECT * FROM "ccc" WHERE pk = ?"#, vec![s("q")])
            })
            .await;
        assert_error(other, ErrorKind::ValidationException, "NextToken does not match request");

        // The right request continues.
        let next = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(1),
                next_token: first.next_token,
                ..with_params(r#"SELECT * FROM "ccc" WHERE pk = ?"#, vec![s("p")])
            })
            .await
            .expect("second page");
        assert_eq!(sks(&next.items.expect("Items")), ["2"]);
    }

    // -----------------------------------------------------------------
    // SELECT: ConsistentRead and capacity.

    async fn consistent_read_and_consumed_capacity(db) {
        tables(db).await;
        let a = item(&[("pk", s("a")), ("data", s("x"))]);
        put(db, H, a.clone()).await;
        let select = r#"SELECT * FROM "hhh" WHERE pk = 'a'"#;
        let out = db
            .execute_statement(ExecuteStatementInput {
                consistent_read: Some(true),
                ..statement(select)
            })
            .await
            .expect("consistent read");
        assert_eq!(out.items, Some(vec![a.clone()]));
        assert_eq!(out.consumed_capacity, None);

        for (consistent, units) in [(false, 0.5), (true, 1.0)] {
            let out = db
                .execute_statement(ExecuteStatementInput {
                    consistent_read: Some(consistent),
                    return_consumed_capacity: Some("TOTAL".into()),
                    ..statement(select)
                })
                .await
                .expect("read with capacity");
            assert_eq!(out.items, Some(vec![a.clone()]));
            let c = out.consumed_capacity.expect("ConsumedCapacity");
            assert_eq!(c.table_name, H);
            assert!(c.capacity_units > 0.0);
            assert_eq!(c.capacity_units, units, "ConsistentRead {consistent}");
        }

        // A write reports its capacity too.
        let out = db
            .execute_statement(ExecuteStatementInput {
                return_consumed_capacity: Some("TOTAL".into()),
                ..statement(r#"INSERT INTO "hhh" VALUE {'pk': 'b'}"#)
            })
            .await
            .expect("insert with capacity");
        assert_eq!(out.items, Some(vec![]));
        let c = out.consumed_capacity.expect("ConsumedCapacity");
        assert_eq!(c.table_name, H);
        assert_eq!(c.capacity_units, 1.0);
    }

    // -----------------------------------------------------------------
    // SELECT: secondary indexes.

    async fn select_from_a_global_index(db) {
        seed_indexed(db).await;
        // Keyed on the index partition key: only the index's members.
        let items = ok(db, r#"SELECT * FROM "idx"."gsi" WHERE gpk = 'g1'"#).await;
        assert_eq!(keys(&items), pairs(&[("a", "1"), ("b", "1"), ("c", "1")]));
        let items = ok(db, r#"SELECT pk, sk FROM "idx"."gsi" WHERE gpk = 'g1' AND x = 5"#).await;
        assert_eq!(items, vec![ck("c", "1")]);
        // Not keyed on the index: a scan of the index (b/2 is not in it).
        let items = ok(db, r#"SELECT * FROM "idx"."gsi""#).await;
        assert_eq!(keys(&items), pairs(&[("a", "1"), ("a", "2"), ("b", "1"), ("c", "1")]));
        let items = ok(db, r#"SELECT * FROM "idx"."gsi" WHERE pk = 'b'"#).await;
        assert_eq!(keys(&items), pairs(&[("b", "1")]));
        // ConsistentRead is refused on a global index.
        let cr = db
            .execute_statement(ExecuteStatementInput {
                consistent_read: Some(true),
                ..statement(r#"SELECT * FROM "idx"."gsi" WHERE gpk = 'g1'"#)
            })
            .await;
        assert_error(
            cr,
            ErrorKind::ValidationException,
            "Strongly consistent read is not supported on Global Secondary Indexes",
        );
    }

    async fn select_from_a_local_index(db) {
        seed_indexed(db).await;
        // Index order: by lsk within the partition.
        let out = db
            .execute_statement(ExecuteStatementInput {
                consistent_read: Some(true),
                ..statement(r#"SELECT * FROM "idx"."lsi" WHERE pk = 'a'"#)
            })
            .await
            .expect("consistent read on a local index");
        assert_eq!(sks(&out.items.expect("Items")), ["2", "1"]);
        let items = ok(db, r#"SELECT * FROM "idx"."lsi" WHERE pk = 'b' AND lsk > 'b'"#).await;
        assert_eq!(sks(&items), ["2"]);
    }

    async fn select_from_an_unknown_index(db) {
        seed_indexed(db).await;
        let missing = "The table does not have the specified index";
        assert_error(
            exec(db, r#"SELECT * FROM "idx"."nope" WHERE gpk = 'g1'"#).await,
            ErrorKind::ValidationException,
            missing,
        );
        // The unknown index is reported before ConsistentRead.
        let cr = db
            .execute_statement(ExecuteStatementInput {
                consistent_read: Some(true),
                ..statement(r#"SELECT * FROM "idx"."nope""#)
            })
            .await;
        assert_error(cr, ErrorKind::ValidationException, missing);
    }

    async fn indexes_with_multi_attribute_keys_are_refused_first(db) {
        let table = |name: &str, hash: &[&str], range: &[&str]| {
            let mut names = vec!["id"];
            names.extend(hash.iter().chain(range));
            let keys: Vec<_> = hash
                .iter()
                .map(|a| json!({"AttributeName": a, "KeyType": "HASH"}))
                .chain(range.iter().map(|a| json!({"AttributeName": a, "KeyType": "RANGE"})))
                .collect();
            serde_json::from_value::<CreateTableInput>(json!({
                "TableName": name,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": names
                    .iter()
                    .map(|a| json!({"AttributeName": a, "AttributeType": "S"}))
                    .collect::<Vec<_>>(),
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "gsi",
                    "KeySchema": keys,
                    "Projection": {"ProjectionType": "ALL"},
                }],
            }))
            .expect("table")
        };
        db.create_table(table("multi", &["h1", "h2"], &["r1"])).await.expect("multi");
        db.create_table(table("single", &["h1"], &["r1"])).await.expect("single");
        let row = item(&[("id", s("i1")), ("h1", s("a")), ("h2", s("x")), ("r1", s("m"))]);
        put(db, "multi", row.clone()).await;
        put(db, "single", row.clone()).await;

        let refused = "PartiQL statements cannot be executed on tables with multi-attribute HASH keys or multi-attribute RANGE keys.";
        // Ahead of a key type mismatch, a non-key WHERE, no WHERE, and the
        // projection DynamoDB refuses.
        for text in [
            r#"SELECT * FROM "multi"."gsi" WHERE h1 = 'a'"#,
            r#"SELECT * FROM "multi"."gsi" WHERE h1 = 5"#,
            r#"SELECT * FROM "multi"."gsi" WHERE id = 'i1'"#,
            r#"SELECT * FROM "multi"."gsi""#,
            r#"SELECT COUNT(*) FROM "multi"."gsi""#,
            r#"SELECT id, size(h1) FROM "multi"."gsi""#,
        ] {
            assert_error(exec(db, text).await, ErrorKind::ValidationException, refused);
        }
        // Behind syntax errors, and not for the table itself.
        assert_validation_prefix(exec(db, r#"SELECT * FROM "multi"."gsi" WHERE"#).await, MALFORMED);
        assert_eq!(ok(db, r#"SELECT * FROM "multi" WHERE id = 'i1'"#).await, vec![row.clone()]);
        // An index with one attribute per key: the projection is refused.
        assert_error(
            exec(db, r#"SELECT COUNT(*) FROM "single"."gsi""#).await,
            ErrorKind::ValidationException,
            "Unexpected path component at 1:8:5",
        );
        // A missing table: the projection first, still.
        assert_error(
            exec(db, r#"SELECT COUNT(*) FROM "nope"."gsi""#).await,
            ErrorKind::ValidationException,
            "Unexpected path component at 1:8:5",
        );

        // In a batch, only the statement on that index fails, with the
        // refusal rather than the key-only rule.
        let responses = batch(db, &[
            r#"SELECT * FROM "single"."gsi" WHERE h1 = 'a' AND r1 = 'm'"#,
            r#"SELECT * FROM "multi"."gsi" WHERE h1 = 'a' AND h2 = 'x' AND r1 = 'm'"#,
            r#"SELECT * FROM "multi" WHERE id = 'i1'"#,
        ])
        .await;
        assert_eq!(batch_error(&responses[0]), ("ValidationError", BATCH_KEY_ONLY));
        assert_eq!(batch_error(&responses[1]), ("ValidationError", refused));
        assert_eq!(responses[2].error, None);
        assert_eq!(responses[2].item, Some(row));
    }

    // -----------------------------------------------------------------
    // Errors common to every statement.

    async fn a_missing_table_is_resource_not_found(db) {
        tables(db).await;
        for text in [
            r#"SELECT * FROM "nope" WHERE pk = 'x'"#,
            r#"INSERT INTO "nope" VALUE {'pk': 'x'}"#,
            r#"UPDATE "nope" SET a = 1 WHERE pk = 'x'"#,
            r#"DELETE FROM "nope" WHERE pk = 'x'"#,
        ] {
            assert_error(exec(db, text).await, ErrorKind::ResourceNotFoundException, NOT_FOUND);
        }
    }

    async fn syntax_errors_are_validation_errors(db) {
        tables(db).await;
        for text in [
            r#"SELECTT * FROMM "hhh""#,
            r#"SELECT * FROM "hhh" WHERE pk = "#,
            r#"SELECT * FROM "hhh" WHERE pk = 'a' AND n > 1 AND"#,
            r#"INSERT INTO "hhh" VALUE {'pk': 'a'"#,
            r#"UPDATE "hhh" SET WHERE pk = 'a'"#,
        ] {
            assert_validation_prefix(exec(db, text).await, MALFORMED);
        }
        // The wording DynamoDB gives for a few of them.
        let cases = [
            (r#"SELECT * FROM "hhh" WHERE"#, "Unexpected term"),
            (r#"SELECT * FROM "hhh" WHERE pk = 'a' AND"#, "Missing right-hand side expression of infix operator"),
            (r#"SELECT * FROM "hhh" WHERE pk = 'a' foo"#, "Unexpected token after expression"),
            (r#"SLECT * FROM "hhh" WHERE pk = 'a'"#, "Expected data manipulation"),
        ];
        for (text, detail) in cases {
            assert_error(
                exec(db, text).await,
                ErrorKind::ValidationException,
                &format!("{MALFORMED}: {detail}"),
            );
        }
        // Nothing was written by the broken INSERT.
        assert_eq!(get(db, H, hk("a")).await, None);
    }

    async fn select_refusals(db) {
        seed(db).await;
        let cases = [
            (
                r#"SELECT * FROM "ccc" WHERE pk = 1 OR pk = 'p'"#,
                "Key attribute's data type should match its data type in table's schema: Key pk",
            ),
            (
                r#"SELECT * FROM "ccc" ORDER BY sk"#,
                "Must have WHERE clause in the statement when using ORDER BY clause.",
            ),
            (
                r#"SELECT * FROM "ccc" WHERE pk = 'p' AND flag < true"#,
                "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL",
            ),
            (r#"SELECT * FROM "ccc" AS t WHERE pk = 'p'"#, "Aliasing is not supported"),
            (
                r#"SELECT * FROM "ccc" WHERE pk = 'p' AND sk = '1' /* open"#,
                "Statement wasn't well formed, can't be processed: ",
            ),
        ];
        for (text, message) in cases {
            assert_error(exec(db, text).await, ErrorKind::ValidationException, message);
        }
        // Disjoint sort-key branches are fine.
        let items = ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'p' AND (sk < '2' OR sk > '4' OR sk = '3')"#).await;
        assert_eq!(sks(&items), ["1", "3", "5"]);
        // Limit is checked before the statement is read.
        let zero = db
            .execute_statement(ExecuteStatementInput {
                limit: Some(0),
                ..statement("SELECT nonsense")
            })
            .await;
        assert_error(
            zero,
            ErrorKind::ValidationException,
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        );
    }

    // Captured from DynamoDB (eu-west-2): OR branches or IN values reading
    // one partition over overlapping sort-key ranges are refused.
    async fn select_refuses_overlapping_key_conditions(db) {
        seed(db).await;
        for text in [
            r#"SELECT * FROM "ccc" WHERE pk IN ['p', 'p']"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'p' OR pk = 'p'"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'p' AND (sk > '0' OR sk < '5')"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'p' AND (sk = '1' OR tag = 'b')"#,
            r#"SELECT * FROM "ccc" WHERE (pk = 'p' AND tag = 'b') OR (pk = 'p' AND n = 1)"#,
        ] {
            assert_error(
                exec(db, text).await,
                ErrorKind::ValidationException,
                "Overlapping conditions with range keys are not supported in where clause",
            );
        }
    }

    async fn select_checks_the_type_of_every_key_value(db) {
        seed(db).await;
        assert_error(
            exec(db, r#"SELECT * FROM "ccc" WHERE pk = 'p' AND sk IN ['1', 2]"#).await,
            ErrorKind::ValidationException,
            "Key attribute's data type should match its data type in table's schema: Key sk",
        );
    }

    async fn writes_on_an_index_are_refused(db) {
        seed_indexed(db).await;
        assert_validation_contains(
            exec(db, r#"INSERT INTO "idx"."gsi" VALUE {'pk': 'n', 'sk': '1', 'gpk': 'g1'}"#).await,
            "FROM clause may only contain a single table name in data manipulation statements",
        );
        for text in [
            r#"UPDATE "idx"."gsi" SET a = 1 WHERE pk = 'a' AND sk = '1'"#,
            r#"DELETE FROM "idx"."gsi" WHERE pk = 'a' AND sk = '1'"#,
        ] {
            assert_validation_contains(exec(db, text).await, "This operation is not supported on an index");
        }
        assert_eq!(get(db, X, ck("n", "1")).await, None);
        assert!(get(db, X, ck("a", "1")).await.is_some_and(|i| !i.contains_key("a")));
    }

    // -----------------------------------------------------------------
    // INSERT.

    async fn insert_stores_a_new_item(db) {
        tables(db).await;
        write(db, r#"INSERT INTO "hhh" VALUE {'pk': 'a', 'data': 'inserted'}"#).await;
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("data", s("inserted"))])));
        write(db, r#"INSERT INTO "ccc" VALUE {'pk': 'a', 'sk': 'b', 'n': 1}"#).await;
        assert_eq!(
            get(db, C, ck("a", "b")).await,
            Some(item(&[("pk", s("a")), ("sk", s("b")), ("n", n("1"))]))
        );
    }

    async fn insert_with_parameters(db) {
        tables(db).await;
        let out = db
            .execute_statement(with_params(
                r#"INSERT INTO "hhh" VALUE {'pk': ?, 'data': ?, 'bin': ?, 'num': ?}"#,
                vec![s("p"), s("param-inserted"), b(&[1, 2, 3]), n("42")],
            ))
            .await
            .expect("parameterised INSERT");
        assert_eq!(out.items, Some(vec![]));
        assert_eq!(
            get(db, H, hk("p")).await,
            Some(item(&[
                ("pk", s("p")),
                ("data", s("param-inserted")),
                ("bin", b(&[1, 2, 3])),
                ("num", n("42")),
            ]))
        );
    }

    async fn insert_of_an_existing_key_is_a_duplicate(db) {
        tables(db).await;
        write(db, r#"INSERT INTO "hhh" VALUE {'pk': 'a', 'data': 'first'}"#).await;
        assert_error(
            exec(db, r#"INSERT INTO "hhh" VALUE {'pk': 'a', 'data': 'second'}"#).await,
            ErrorKind::DuplicateItemException,
            DUPLICATE,
        );
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("data", s("first"))])));
        // An item put through the item API counts too.
        put(db, C, item(&[("pk", s("x")), ("sk", s("y"))])).await;
        assert_error(
            exec(db, r#"INSERT INTO "ccc" VALUE {'pk': 'x', 'sk': 'y', 'v': 1}"#).await,
            ErrorKind::DuplicateItemException,
            DUPLICATE,
        );
        assert_eq!(get(db, C, ck("x", "y")).await, Some(ck("x", "y")));
    }

    async fn insert_after_delete(db) {
        tables(db).await;
        write(db, r#"INSERT INTO "hhh" VALUE {'pk': 'a', 'data': 'inserted'}"#).await;
        write(db, r#"DELETE FROM "hhh" WHERE pk = 'a'"#).await;
        assert_eq!(get(db, H, hk("a")).await, None);
        write(db, r#"INSERT INTO "hhh" VALUE {'pk': 'a', 'data': 'reinserted'}"#).await;
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("data", s("reinserted"))])));
    }

    async fn insert_without_a_key_attribute(db) {
        tables(db).await;
        assert_error(
            exec(db, r#"INSERT INTO "ccc" VALUE {'pk': 'a', 'n': 1}"#).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Missing the key sk in the item",
        );
        let no_pk = exec(db, r#"INSERT INTO "hhh" VALUE {'data': 'x'}"#).await;
        assert_eq!(no_pk.expect_err("INSERT without pk").kind, ErrorKind::ValidationException);
        assert_eq!(stats(db, C).await.0, 0);
        assert_eq!(stats(db, H).await.0, 0);
    }

    async fn insert_literals_of_every_type(db) {
        tables(db).await;
        write(db, concat!(
            r#"INSERT INTO "hhh" VALUE {'pk': 'lit', 'ss': <<'a', 'b'>>, 'ns': <<1, 2>>, "#,
            r#"'m': {'k': 'v', 'n': 1}, 'l': [1, 'two', true, null, [3]], 'e': 1e3, "#,
            r#"'neg': -1.5e-3, 'dec': 2.50, 'flag': false, 'nul': NULL, 'q': 'it''s'}"#,
        ))
        .await;
        let it = get(db, H, hk("lit")).await.expect("inserted");
        assert_eq!(members(it.get("ss")), ["a", "b"]);
        match it.get("ns") {
            Some(AttributeValue::NS(v)) => {
                let mut v: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                v.sort();
                assert_eq!(v, ["1", "2"]);
            }
            other => panic!("ns is {other:?}"),
        }
        assert_eq!(it["m"], m(&[("k", s("v")), ("n", n("1"))]));
        assert_eq!(
            it["l"],
            l(vec![n("1"), s("two"), AttributeValue::Bool(true), AttributeValue::Null, l(vec![n("3")])])
        );
        assert_eq!(it["e"], n("1000"));
        assert_eq!(it["neg"], n("-0.0015"));
        assert_eq!(it["dec"], n("2.5"));
        assert_eq!(it["flag"], AttributeValue::Bool(false));
        assert_eq!(it["nul"], AttributeValue::Null);
        assert_eq!(it["q"], s("it's"));
        assert_eq!(it.len(), 11);
    }

    // -----------------------------------------------------------------
    // UPDATE.

    async fn update_sets_and_removes(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("u")), ("a", s("old")), ("b", s("gone")), ("keep", s("stay"))])).await;
        write(db, r#"UPDATE "hhh" SET a = 'new' SET c = 3 REMOVE b WHERE pk = 'u'"#).await;
        assert_eq!(
            get(db, H, hk("u")).await,
            Some(item(&[("pk", s("u")), ("a", s("new")), ("c", n("3")), ("keep", s("stay"))]))
        );
        write(db, r#"UPDATE "hhh" SET m = {'x': 1}, d = 'dd' WHERE pk = 'u'"#).await;
        write(db, r#"UPDATE "hhh" SET m.y = 2 REMOVE keep WHERE pk = 'u'"#).await;
        let it = get(db, H, hk("u")).await.expect("item");
        assert_eq!(it["m"], m(&[("x", n("1")), ("y", n("2"))]));
        assert_eq!(it["d"], s("dd"));
        assert!(!it.contains_key("keep"));
    }

    async fn update_arithmetic_and_list_append(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("u")), ("n", n("5")), ("l", l(vec![n("1"), n("2")]))])).await;
        write(db, r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 'u'"#).await;
        write(db, r#"UPDATE "hhh" SET n = n - 10 WHERE pk = 'u'"#).await;
        assert_eq!(get(db, H, hk("u")).await.expect("item")["n"], n("-4"));
        write(db, r#"UPDATE "hhh" SET l = list_append(l, [3, 'x']) WHERE pk = 'u'"#).await;
        write(db, r#"UPDATE "hhh" SET l = list_append([0], l) WHERE pk = 'u'"#).await;
        assert_eq!(
            get(db, H, hk("u")).await.expect("item")["l"],
            l(vec![n("0"), n("1"), n("2"), n("3"), s("x")])
        );
        let out = db
            .execute_statement(with_params(
                r#"UPDATE "hhh" SET n = n + ? WHERE pk = ?"#,
                vec![n("0.5"), s("u")],
            ))
            .await
            .expect("parameterised UPDATE");
        assert_eq!(out.items, Some(vec![]));
        assert_eq!(get(db, H, hk("u")).await.expect("item")["n"], n("-3.5"));
    }

    async fn update_set_add_and_set_delete(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("u")), ("tags", ss(&["a", "b"]))])).await;
        write(db, r#"UPDATE "hhh" SET tags = set_add(tags, <<'c', 'd'>>) WHERE pk = 'u'"#).await;
        assert_eq!(members(get(db, H, hk("u")).await.expect("item").get("tags")), ["a", "b", "c", "d"]);
        write(db, r#"UPDATE "hhh" SET tags = SET_DELETE(tags, <<'a', 'zz'>>) WHERE pk = 'u'"#).await;
        assert_eq!(members(get(db, H, hk("u")).await.expect("item").get("tags")), ["b", "c", "d"]);
        // Adding to a missing attribute creates the set.
        write(db, r#"UPDATE "hhh" SET fresh = set_add(fresh, <<'x'>>) WHERE pk = 'u'"#).await;
        assert_eq!(members(get(db, H, hk("u")).await.expect("item").get("fresh")), ["x"]);
        // Deleting every member removes the attribute.
        write(db, r#"UPDATE "hhh" SET fresh = set_delete(fresh, <<'x'>>) WHERE pk = 'u'"#).await;
        assert!(!get(db, H, hk("u")).await.expect("item").contains_key("fresh"));
        // Number sets.
        write(db, r#"UPDATE "hhh" SET nums = set_add(nums, <<1, 2>>) WHERE pk = 'u'"#).await;
        write(db, r#"UPDATE "hhh" SET nums = set_delete(nums, <<1>>) WHERE pk = 'u'"#).await;
        assert_eq!(get(db, H, hk("u")).await.expect("item")["nums"], AttributeValue::NS(vec![
            openddb_core::Number::parse("2").expect("number"),
        ]));
    }

    async fn update_of_a_missing_item_fails_and_creates_nothing(db) {
        tables(db).await;
        assert_error(
            exec(db, r#"UPDATE "hhh" SET a = 1 WHERE pk = 'ghost'"#).await,
            ErrorKind::ConditionalCheckFailedException,
            CCF,
        );
        assert_error(
            exec(db, r#"UPDATE "ccc" SET a = 1 WHERE pk = 'ghost' AND sk = 's'"#).await,
            ErrorKind::ConditionalCheckFailedException,
            CCF,
        );
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_eq!(get(db, C, ck("ghost", "s")).await, None);
        assert_eq!(stats(db, H).await.0, 0);
    }

    async fn update_predicates_are_conditions(db) {
        tables(db).await;
        let before = item(&[("pk", s("u")), ("n", n("1")), ("tag", s("red"))]);
        put(db, H, before.clone()).await;
        for condition in ["n = 2", "tag = 'blue'", "attribute_exists(nope)", "(n > 1 OR tag <> 'red')"] {
            let text = format!(r#"UPDATE "hhh" SET a = 'x' WHERE pk = 'u' AND {condition}"#);
            assert_error(exec(db, &text).await, ErrorKind::ConditionalCheckFailedException, CCF);
            assert_eq!(get(db, H, hk("u")).await, Some(before.clone()), "{text}");
        }
        write(db, r#"UPDATE "hhh" SET a = 'x' WHERE pk = 'u' AND n = 1 AND begins_with(tag, 'r')"#).await;
        assert_eq!(get(db, H, hk("u")).await.expect("item")["a"], s("x"));
    }

    async fn update_and_delete_need_the_full_key(db) {
        seed(db).await;
        for text in [
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'p'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE sk = '1'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'p' AND sk > '1'"#,
            r#"DELETE FROM "ccc" WHERE pk = 'p'"#,
            r#"DELETE FROM "hhh" WHERE data = 'x'"#,
        ] {
            assert_error(exec(db, text).await, ErrorKind::ValidationException, NO_FULL_KEY);
        }
        assert_eq!(ok(db, r#"SELECT * FROM "ccc" WHERE pk = 'p'"#).await.len(), 5);
        assert!(ok(db, r#"SELECT * FROM "ccc" WHERE attribute_exists(a)"#).await.is_empty());
    }

    async fn writes_refuse_two_values_for_one_key(db) {
        seed(db).await;
        let multiple = "Multiple conditions on same key pk. Only single item Update/Insert/Delete are supported";
        for text in [
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'p' AND sk = '1' AND pk = 'q'"#,
            r#"DELETE FROM "ccc" WHERE pk = 'p' AND sk = '1' AND pk = 'q'"#,
        ] {
            assert_error(exec(db, text).await, ErrorKind::ValidationException, multiple);
        }
        assert!(get(db, C, ck("p", "1")).await.is_some_and(|i| !i.contains_key("a")));
        // The same value twice, and grouping, are fine.
        write(db, r#"UPDATE "ccc" SET a = 2 WHERE pk = 'p' AND sk = '1' AND pk = 'p'"#).await;
        write(db, r#"UPDATE "ccc" SET b = 3 WHERE (pk = 'p' AND sk = '1') AND tag = 'alpha'"#).await;
        let it = get(db, C, ck("p", "1")).await.expect("p/1");
        assert_eq!((&it["a"], &it["b"]), (&n("2"), &n("3")));
    }

    async fn update_returning_shapes(db) {
        tables(db).await;
        let original = item(&[("pk", s("r")), ("data", s("v0")), ("keep", s("k")), ("gone", s("g"))]);
        put(db, H, original.clone()).await;

        let items = ok(db, r#"UPDATE "hhh" SET data = 'v1' WHERE pk = 'r' RETURNING ALL OLD *"#).await;
        assert_eq!(items, vec![original.clone()]);
        let items = ok(db, r#"UPDATE "hhh" SET data = 'v2' WHERE pk = 'r' RETURNING ALL NEW *"#).await;
        assert_eq!(
            items,
            vec![item(&[("pk", s("r")), ("data", s("v2")), ("keep", s("k")), ("gone", s("g"))])]
        );
        let items = ok(db, r#"UPDATE "hhh" SET data = 'v3' WHERE pk = 'r' RETURNING MODIFIED NEW *"#).await;
        assert_eq!(items, vec![item(&[("data", s("v3"))])]);
        let items = ok(db, r#"UPDATE "hhh" SET data = 'v4' WHERE pk = 'r' RETURNING MODIFIED OLD *"#).await;
        assert_eq!(items, vec![item(&[("data", s("v3"))])]);
        // A removed attribute: nothing new, the old value.
        let items = ok(db, r#"UPDATE "hhh" REMOVE gone WHERE pk = 'r' RETURNING MODIFIED NEW *"#).await;
        assert_eq!(items, Vec::<Item>::new());
        let items = ok(db, r#"UPDATE "hhh" SET gone = 'g2' WHERE pk = 'r' RETURNING MODIFIED OLD *"#).await;
        assert_eq!(items, Vec::<Item>::new());
        let items = ok(db, r#"UPDATE "hhh" REMOVE gone WHERE pk = 'r' RETURNING MODIFIED OLD *"#).await;
        assert_eq!(items, vec![item(&[("gone", s("g2"))])]);
        // A nested SET returns only the changed leaf, in its map.
        let items = ok(db, r#"UPDATE "hhh" SET profile = {'a': 1, 'b': 2} WHERE pk = 'r' RETURNING MODIFIED NEW *"#).await;
        assert_eq!(items, vec![item(&[("profile", m(&[("a", n("1")), ("b", n("2"))]))])]);
        let items = ok(db, r#"UPDATE "hhh" SET profile.b = 3 WHERE pk = 'r' RETURNING MODIFIED NEW *"#).await;
        assert_eq!(items, vec![item(&[("profile", m(&[("b", n("3"))]))])]);

        assert_eq!(
            get(db, H, hk("r")).await,
            Some(item(&[
                ("pk", s("r")),
                ("data", s("v4")),
                ("keep", s("k")),
                ("profile", m(&[("a", n("1")), ("b", n("3"))])),
            ]))
        );
    }

    async fn update_from_first_form(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("f")), ("a", n("0")), ("b", s("x"))])).await;
        write(db, r#"FROM "hhh" WHERE pk = 'f' SET a = 1"#).await;
        assert_eq!(get(db, H, hk("f")).await.expect("item")["a"], n("1"));
        write(db, r#"FROM "hhh" WHERE pk = 'f' SET c = 2 REMOVE b"#).await;
        assert_eq!(get(db, H, hk("f")).await, Some(item(&[("pk", s("f")), ("a", n("1")), ("c", n("2"))])));
        write(db, r#"from "hhh" where pk = 'f' set e = 4"#).await;
        let items = ok(db, r#"FROM "hhh" WHERE pk = 'f' AND a = 1 SET a = a + 1 RETURNING ALL NEW *"#).await;
        assert_eq!(items, vec![item(&[("pk", s("f")), ("a", n("2")), ("c", n("2")), ("e", n("4"))])]);
        assert_error(
            exec(db, r#"FROM "hhh" WHERE pk = 'ghost' SET a = 1"#).await,
            ErrorKind::ConditionalCheckFailedException,
            CCF,
        );
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_error(
            exec(db, r#"FROM "hhh" WHERE a = 2 SET a = 1"#).await,
            ErrorKind::ValidationException,
            NO_FULL_KEY,
        );
    }

    // -----------------------------------------------------------------
    // DELETE.

    async fn delete_removes_the_item(db) {
        seed(db).await;
        write(db, r#"DELETE FROM "ccc" WHERE pk = 'p' AND sk = '1'"#).await;
        assert_eq!(get(db, C, ck("p", "1")).await, None);
        // A missing item: success, nothing deleted (also with a predicate).
        write(db, r#"DELETE FROM "ccc" WHERE pk = 'p' AND sk = '1'"#).await;
        write(db, r#"DELETE FROM "ccc" WHERE pk = 'nope' AND sk = '1' AND n = 5"#).await;
        assert_eq!(stats(db, C).await.0, 8);
    }

    async fn delete_predicates_are_conditions(db) {
        seed(db).await;
        let before = get(db, C, ck("q", "1")).await.expect("q/1");
        assert_error(
            exec(db, r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '1' AND n = 11"#).await,
            ErrorKind::ConditionalCheckFailedException,
            CCF,
        );
        assert_error(
            exec(db, r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '1' AND attribute_exists(tag)"#).await,
            ErrorKind::ConditionalCheckFailedException,
            CCF,
        );
        assert_eq!(get(db, C, ck("q", "1")).await, Some(before));
        write(db, r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '1' AND n = 10"#).await;
        assert_eq!(get(db, C, ck("q", "1")).await, None);
    }

    async fn delete_returning_all_old(db) {
        seed(db).await;
        let before = get(db, C, ck("q", "2")).await.expect("q/2");
        let items = ok(db, r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '2' RETURNING ALL OLD *"#).await;
        assert_eq!(items, vec![before]);
        assert_eq!(get(db, C, ck("q", "2")).await, None);
        let items = ok(db, r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '2' RETURNING ALL OLD *"#).await;
        assert_eq!(items, Vec::<Item>::new());
    }

    async fn delete_allows_only_returning_all_old(db) {
        seed(db).await;
        for variant in ["ALL NEW", "MODIFIED OLD", "MODIFIED NEW"] {
            let text = format!(r#"DELETE FROM "ccc" WHERE pk = 'q' AND sk = '3' RETURNING {variant} *"#);
            assert_error(
                exec(db, &text).await,
                ErrorKind::ValidationException,
                &format!(
                    "Invalid returning clause: RETURNING {variant} *. Only RETURNING ALL OLD * is allowed in DELETE statements."
                ),
            );
        }
        assert!(get(db, C, ck("q", "3")).await.is_some());
    }

    // -----------------------------------------------------------------
    // BatchExecuteStatement.

    async fn batch_selects_answer_in_order(db) {
        seed(db).await;
        let a = item(&[("pk", s("a")), ("data", s("one"))]);
        put(db, H, a.clone()).await;
        put(db, H, item(&[("pk", s("b")), ("data", s("two")), ("n", n("2"))])).await;
        let r = batch(db, &[
            r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
            r#"SELECT * FROM "hhh" WHERE pk = 'missing'"#,
            r#"SELECT data FROM "hhh" WHERE pk = 'b'"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'q' AND sk = '2'"#,
            r#"SELECT n FROM "ccc" WHERE sk = '1' AND pk = 'r'"#,
        ])
        .await;
        assert_eq!(r[0], BatchStatementResponse {
            error: None,
            table_name: Some(H.into()),
            item: Some(a),
        });
        assert_eq!(r[1].error, None);
        assert_eq!(r[1].item, None);
        assert_eq!(r[2].item, Some(item(&[("data", s("two"))])));
        assert_eq!(r[3].item, Some(item(&[("pk", s("q")), ("sk", s("2")), ("n", n("20"))])));
        assert_eq!(r[3].table_name.as_deref(), Some(C));
        assert_eq!(r[4].item, Some(item(&[("n", n("100"))])));
    }

    async fn batch_reads_rate_each_member_on_its_own(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("a")), ("v", s("a"))])).await;
        put(db, H, item(&[("pk", s("b")), ("v", s("b"))])).await;
        let member = |key: &str, consistent: Option<bool>| BatchStatementRequest {
            statement: Some(r#"SELECT * FROM "hhh" WHERE pk = ?"#.into()),
            parameters: Some(vec![s(key)]),
            consistent_read: consistent,
            ..Default::default()
        };
        for (members, units) in [
            (vec![member("a", None)], 0.5),
            (vec![member("a", Some(false))], 0.5),
            (vec![member("a", Some(true))], 1.0),
            (vec![member("a", Some(true)), member("b", None)], 1.5),
        ] {
            let out = db
                .batch_execute_statement(BatchExecuteStatementInput {
                    statements: Some(members.clone()),
                    return_consumed_capacity: Some("TOTAL".into()),
                })
                .await
                .expect("batch");
            let responses = out.responses.expect("Responses");
            assert!(responses.iter().all(|r| r.item.is_some()), "{members:?}");
            let total: f64 = out
                .consumed_capacity
                .expect("ConsumedCapacity")
                .iter()
                .map(|c| c.capacity_units)
                .sum();
            assert_eq!(total, units, "{members:?}");
        }
    }

    async fn batch_insert_and_update(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("upd")), ("data", s("before"))])).await;
        let r = batch(db, &[
            r#"INSERT INTO "hhh" VALUE {'pk': 'ins', 'data': 'new'}"#,
            r#"UPDATE "hhh" SET data = 'after' WHERE pk = 'upd'"#,
            r#"DELETE FROM "hhh" WHERE pk = 'nothing'"#,
        ])
        .await;
        for (i, response) in r.iter().enumerate() {
            assert_eq!(response.error, None, "response {i}");
            assert_eq!(response.item, None, "response {i}");
        }
        assert_eq!(get(db, H, hk("ins")).await, Some(item(&[("pk", s("ins")), ("data", s("new"))])));
        assert_eq!(get(db, H, hk("upd")).await, Some(item(&[("pk", s("upd")), ("data", s("after"))])));
    }

    async fn batch_honours_returning(db) {
        tables(db).await;
        let old = item(&[("pk", s("d")), ("data", s("x"))]);
        put(db, H, old.clone()).await;
        put(db, H, item(&[("pk", s("u")), ("data", s("y"))])).await;
        let r = batch(db, &[
            r#"DELETE FROM "hhh" WHERE pk = 'd' RETURNING ALL OLD *"#,
            r#"UPDATE "hhh" SET data = 'z' WHERE pk = 'u' RETURNING MODIFIED NEW *"#,
        ])
        .await;
        assert_eq!(r[0].error, None);
        assert_eq!(r[0].item, Some(old));
        assert_eq!(r[1].item, Some(item(&[("data", s("z"))])));
        assert_eq!(get(db, H, hk("d")).await, None);
    }

    async fn batch_read_errors_are_per_statement(db) {
        seed(db).await;
        put(db, H, item(&[("pk", s("a")), ("data", s("one"))])).await;
        seed_indexed(db).await;
        let r = batch(db, &[
            r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
            r#"SELECT * FROM "nope" WHERE pk = 'a'"#,
            r#"SLECT * FROM "hhh" WHERE pk = 'a'"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'q'"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'q' AND sk = '1' AND n = 10"#,
            r#"SELECT * FROM "hhh" WHERE data = 'one'"#,
            r#"SELECT * FROM "idx"."gsi" WHERE gpk = 'g1'"#,
        ])
        .await;
        assert_eq!(r[0].error, None);
        assert_eq!(r[0].item, Some(item(&[("pk", s("a")), ("data", s("one"))])));
        assert_eq!(batch_error(&r[1]), ("ResourceNotFound", NOT_FOUND));
        assert_eq!(
            batch_error(&r[2]),
            ("ValidationError", "Statement wasn't well formed, can't be processed: Expected data manipulation")
        );
        for (i, response) in r.iter().enumerate().skip(3) {
            assert_eq!(batch_error(response), ("ValidationError", BATCH_KEY_ONLY), "response {i}");
            assert_eq!(response.table_name, None, "response {i}");
            assert_eq!(response.item, None, "response {i}");
        }
        assert_eq!(r[2].table_name, None);
    }

    async fn batch_write_errors_are_per_statement(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("dup")), ("data", s("existing"))])).await;
        put(db, H, item(&[("pk", s("cond")), ("n", n("1"))])).await;
        let r = batch(db, &[
            r#"INSERT INTO "hhh" VALUE {'pk': 'dup', 'data': 'again'}"#,
            r#"UPDATE "hhh" SET data = 'x' WHERE pk = 'ghost'"#,
            r#"UPDATE "hhh" SET data = 'x' WHERE pk = 'cond' AND n = 2"#,
            r#"INSERT INTO "hhh" VALUE {'pk': 'fresh'}"#,
            r#"DELETE FROM "hhh" WHERE pk = 'cond' RETURNING ALL NEW *"#,
        ])
        .await;
        assert_eq!(batch_error(&r[0]), ("DuplicateItem", DUPLICATE));
        assert_eq!(r[0].table_name.as_deref(), Some(H));
        assert_eq!(batch_error(&r[1]), ("ConditionalCheckFailed", CCF));
        assert_eq!(r[1].table_name.as_deref(), Some(H));
        assert_eq!(batch_error(&r[2]), ("ConditionalCheckFailed", CCF));
        assert_eq!(r[2].item, None);
        assert_eq!(r[3].error, None);
        assert_eq!(
            batch_error(&r[4]),
            (
                "ValidationError",
                "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."
            )
        );
        assert_eq!(r[4].table_name, None);
        // The failures changed nothing; the good statement applied.
        assert_eq!(get(db, H, hk("dup")).await, Some(item(&[("pk", s("dup")), ("data", s("existing"))])));
        assert_eq!(get(db, H, hk("cond")).await, Some(item(&[("pk", s("cond")), ("n", n("1"))])));
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_eq!(get(db, H, hk("fresh")).await, Some(hk("fresh")));
    }

    async fn batch_request_errors(db) {
        tables(db).await;
        assert_error(
            db.batch_execute_statement(batch_of(&[])).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value '[]' at 'statements' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
        let mixed = db
            .batch_execute_statement(batch_of(&[
                r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
                r#"INSERT INTO "hhh" VALUE {'pk': 'b'}"#,
            ]))
            .await;
        assert_error(
            mixed,
            ErrorKind::ValidationException,
            "Read and write requests together in the same batch is not supported.",
        );
        assert_eq!(get(db, H, hk("b")).await, None);
    }

    async fn batch_refuses_two_statements_on_one_item(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("a")), ("n", n("1"))])).await;
        let duplicates = "Provided list of item keys contains duplicates";
        let reads = db
            .batch_execute_statement(batch_of(&[
                r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
                r#"SELECT n FROM "hhh" WHERE pk = 'a'"#,
            ]))
            .await;
        assert_error(reads, ErrorKind::ValidationException, duplicates);
        let writes = db
            .batch_execute_statement(batch_of(&[
                r#"UPDATE "hhh" SET n = 2 WHERE pk = 'a'"#,
                r#"DELETE FROM "hhh" WHERE pk = 'a'"#,
            ]))
            .await;
        assert_error(writes, ErrorKind::ValidationException, duplicates);
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("n", n("1"))])));
    }

    // -----------------------------------------------------------------
    // ExecuteTransaction: writes.

    async fn transaction_applies_insert_and_update(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("upd")), ("data", s("before"))])).await;
        let out = tx(db, &[
            r#"INSERT INTO "hhh" VALUE {'pk': 'ins', 'data': 'txn-new'}"#,
            r#"UPDATE "hhh" SET data = 'txn-after' WHERE pk = 'upd'"#,
            r#"INSERT INTO "ccc" VALUE {'pk': 'c', 'sk': '1'}"#,
            r#"DELETE FROM "hhh" WHERE pk = 'nothing'"#,
        ])
        .await
        .expect("transaction");
        // A write transaction answers with an empty Responses.
        assert_eq!(out.responses, Some(vec![]));
        assert_eq!(out.consumed_capacity, None);
        assert_eq!(get(db, H, hk("ins")).await, Some(item(&[("pk", s("ins")), ("data", s("txn-new"))])));
        assert_eq!(get(db, H, hk("upd")).await, Some(item(&[("pk", s("upd")), ("data", s("txn-after"))])));
        assert_eq!(get(db, C, ck("c", "1")).await, Some(ck("c", "1")));
    }

    async fn transaction_duplicate_insert_cancels_everything(db) {
        tables(db).await;
        let existing = item(&[("pk", s("dup")), ("data", s("existing"))]);
        put(db, H, existing.clone()).await;
        let result = tx(db, &[
            r#"INSERT INTO "hhh" VALUE {'pk': 'dup', 'data': 'should-fail'}"#,
            r#"INSERT INTO "hhh" VALUE {'pk': 'new', 'data': 'should-rollback'}"#,
        ])
        .await;
        let reasons = cancelled(result, &["DuplicateItem", "None"]);
        assert_eq!(reasons[1], json!({"Code": "None"}));
        assert_eq!(get(db, H, hk("new")).await, None);
        assert_eq!(get(db, H, hk("dup")).await, Some(existing));
    }

    async fn transaction_condition_failures_cancel(db) {
        tables(db).await;
        let before = item(&[("pk", s("c")), ("n", n("1"))]);
        let other = item(&[("pk", s("d")), ("n", n("1"))]);
        put(db, H, before.clone()).await;
        put(db, H, other.clone()).await;
        let result = tx(db, &[
            r#"INSERT INTO "hhh" VALUE {'pk': 'new'}"#,
            r#"UPDATE "hhh" SET n = 5 WHERE pk = 'c' AND n = 2"#,
            r#"UPDATE "hhh" SET n = 5 WHERE pk = 'ghost'"#,
            r#"DELETE FROM "hhh" WHERE pk = 'd' AND attribute_exists(nope)"#,
        ])
        .await;
        let reasons = cancelled(result, &["None", "ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"]);
        let ccf = json!({"Code": "ConditionalCheckFailed", "Message": CCF});
        assert_eq!(reasons, vec![json!({"Code": "None"}), ccf.clone(), ccf.clone(), ccf]);
        assert_eq!(get(db, H, hk("new")).await, None);
        assert_eq!(get(db, H, hk("ghost")).await, None);
        assert_eq!(get(db, H, hk("c")).await, Some(before));
        assert_eq!(get(db, H, hk("d")).await, Some(other));
    }

    async fn transaction_exists_checks(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("e")), ("attr", n("1"))])).await;
        put(db, H, item(&[("pk", s("target")), ("n", n("0"))])).await;
        tx(db, &[
            r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'e' AND attr = 1)"#,
            r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 'target'"#,
        ])
        .await
        .expect("passing EXISTS");
        assert_eq!(get(db, H, hk("target")).await.expect("target")["n"], n("1"));
        tx(db, &[
            r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'e' AND Awards IS MISSING)"#,
            r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 'target'"#,
        ])
        .await
        .expect("passing EXISTS with IS MISSING");
        assert_eq!(get(db, H, hk("target")).await.expect("target")["n"], n("2"));

        for failing in [
            r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'e' AND attr = 2)"#,
            r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'ghost' AND attr = 1)"#,
        ] {
            let result = tx(db, &[failing, r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 'target'"#]).await;
            let reasons = cancelled(result, &["ConditionalCheckFailed", "None"]);
            assert_eq!(reasons[0], json!({"Code": "ConditionalCheckFailed", "Message": CCF}), "{failing}");
        }
        assert_eq!(get(db, H, hk("target")).await.expect("target")["n"], n("2"));

        // EXISTS belongs to transactions.
        assert_error(
            exec(db, r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'e' AND attr = 1)"#).await,
            ErrorKind::ValidationException,
            "EXISTS can only be used in ExecuteTransaction write requests.",
        );
    }

    // DynamoDB answers a statement on a missing table with a cancellation
    // reason (captured eu-west-2); openddb throws ResourceNotFoundException.
    async fn transaction_on_a_missing_table_cancels(db) {
        tables(db).await;
        let result = tx(db, &[
            r#"UPDATE "nope" SET a = 1 WHERE pk = 'x'"#,
            r#"DELETE FROM "nope" WHERE pk = 'x'"#,
        ])
        .await;
        let reasons = cancelled(result, &["ResourceNotFound", "ResourceNotFound"]);
        assert_eq!(reasons[0]["Message"], json!(NOT_FOUND));
    }

    async fn transaction_refuses_two_operations_on_one_item(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("a")), ("n", n("1"))])).await;
        let message = "Transaction request cannot include multiple operations on one item";
        assert_error(
            tx(db, &[r#"UPDATE "hhh" SET n = 2 WHERE pk = 'a'"#, r#"DELETE FROM "hhh" WHERE pk = 'a'"#]).await,
            ErrorKind::ValidationException,
            message,
        );
        assert_error(
            tx(db, &[r#"SELECT * FROM "hhh" WHERE pk = 'a'"#, r#"SELECT n FROM "hhh" WHERE pk = 'a'"#]).await,
            ErrorKind::ValidationException,
            message,
        );
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("n", n("1"))])));
    }

    async fn transaction_writes_must_name_one_item(db) {
        seed(db).await;
        let mismatch = "The provided key element does not match the schema";
        let result = tx(db, &[
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'q'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk IN ['q'] AND sk = '2'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'q' AND sk = '3' AND pk = 'other'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'r' AND sk = 1"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'p' AND sk = '1'"#,
        ])
        .await;
        let reasons = cancelled(result, &["ValidationError", "ValidationError", "ValidationError", "ValidationError", "None"]);
        assert_eq!(reasons[3]["Message"], json!(mismatch));
        let result = tx(db, &[
            r#"INSERT INTO "ccc" VALUE {'pk': 'new'}"#,
            r#"DELETE FROM "ccc" WHERE sk = '1'"#,
        ])
        .await;
        let reasons = cancelled(result, &["ValidationError", "ValidationError"]);
        assert_eq!(reasons[0]["Message"], json!("One or more parameter values were invalid: Missing the key sk in the item"));
        assert!(ok(db, r#"SELECT * FROM "ccc" WHERE attribute_exists(a)"#).await.is_empty());
        assert_eq!(stats(db, C).await.0, 9);
    }

    // Captured from DynamoDB (eu-west-2): inside a transaction a write
    // without the full key is a schema mismatch reason, not the
    // ExecuteStatement wording.
    async fn transaction_partial_keys_read_as_a_schema_mismatch(db) {
        seed(db).await;
        let mismatch = "The provided key element does not match the schema";
        let result = tx(db, &[
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'q'"#,
            r#"DELETE FROM "ccc" WHERE sk = '1'"#,
            r#"UPDATE "ccc" SET a = 1 WHERE pk = 'p' AND sk = '1'"#,
        ])
        .await;
        let reasons = cancelled(result, &["ValidationError", "ValidationError", "None"]);
        assert_eq!(reasons[0]["Message"], json!(mismatch));
        assert_eq!(reasons[1]["Message"], json!(mismatch));
    }

    // Captured from DynamoDB: refused as a whole, before the UPDATE's
    // own (failing) condition is looked at.
    async fn transaction_exists_needs_a_condition(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("e"))])).await;
        assert_error(
            tx(db, &[
                r#"EXISTS(SELECT * FROM "hhh" WHERE pk = 'e')"#,
                r#"UPDATE "hhh" SET n = 1 WHERE pk = 'e2'"#,
            ])
            .await,
            ErrorKind::ValidationException,
            "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read with additional condition",
        );
    }

    async fn transaction_token_replay_applies_once(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("t")), ("n", n("0"))])).await;
        let request = || ExecuteTransactionInput {
            client_request_token: Some("token-1".into()),
            return_consumed_capacity: Some("TOTAL".into()),
            ..tx_of(&[r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 't'"#])
        };
        let first = db.execute_transaction(request()).await.expect("first");
        assert_eq!(first.responses, Some(vec![]));
        assert_eq!(
            first.consumed_capacity,
            Some(vec![ConsumedCapacity {
                table_name: H.into(),
                capacity_units: 2.0,
                write_capacity_units: Some(2.0),
                ..Default::default()
            }])
        );
        let replay = db.execute_transaction(request()).await.expect("replay");
        assert_eq!(replay.responses, Some(vec![]));
        assert_eq!(
            replay.consumed_capacity,
            Some(vec![ConsumedCapacity {
                table_name: H.into(),
                capacity_units: 2.0,
                read_capacity_units: Some(2.0),
                ..Default::default()
            }])
        );
        assert_eq!(get(db, H, hk("t")).await.expect("t")["n"], n("1"));

        // The same token with other statements is a mismatch.
        let other = ExecuteTransactionInput {
            client_request_token: Some("token-1".into()),
            ..tx_of(&[r#"UPDATE "hhh" SET n = n + 2 WHERE pk = 't'"#])
        };
        let err = db.execute_transaction(other).await.expect_err("mismatch");
        assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatchException, "{}", err.message);
        assert_eq!(get(db, H, hk("t")).await.expect("t")["n"], n("1"));

        // Without a token, every call applies.
        tx(db, &[r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 't'"#]).await.expect("untokened");
        tx(db, &[r#"UPDATE "hhh" SET n = n + 1 WHERE pk = 't'"#]).await.expect("untokened");
        assert_eq!(get(db, H, hk("t")).await.expect("t")["n"], n("3"));
    }

    // -----------------------------------------------------------------
    // ExecuteTransaction: reads.

    async fn transaction_reads_answer_per_statement(db) {
        seed(db).await;
        let a = item(&[("pk", s("a")), ("data", s("x"))]);
        put(db, H, a.clone()).await;
        put(db, H, item(&[("pk", s("b")), ("data", s("y"))])).await;
        let out = tx(db, &[
            r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
            r#"SELECT * FROM "hhh" WHERE pk = 'missing'"#,
            // An item without the projected attributes: an empty Item.
            r#"SELECT nope FROM "hhh" WHERE pk = 'b'"#,
            r#"SELECT n, sk FROM "ccc" WHERE pk = 'q' AND sk = '3'"#,
        ])
        .await
        .expect("read transaction");
        let responses = out.responses.expect("Responses");
        let got: Vec<Option<Item>> = responses.into_iter().map(|r| r.item).collect();
        assert_eq!(got, vec![
            Some(a),
            None,
            Some(Item::new()),
            Some(item(&[("n", n("30")), ("sk", s("3"))])),
        ]);
    }

    async fn transaction_reads_must_name_one_item(db) {
        seed(db).await;
        seed_indexed(db).await;
        for text in [
            r#"SELECT * FROM "ccc" WHERE pk = 'q'"#,
            r#"SELECT * FROM "ccc" WHERE pk = 'q' AND sk = '1' AND n = 10"#,
        ] {
            assert_error(tx(db, &[text]).await, ErrorKind::ValidationException, TX_KEY_ONLY);
        }
        assert_error(
            tx(db, &[r#"SELECT * FROM "idx"."gsi" WHERE gpk = 'g1'"#]).await,
            ErrorKind::ValidationException,
            "Validation failed in TransactStatements[0]: Reads on indices are not supported within transactions.",
        );
    }

    async fn transaction_request_errors(db) {
        tables(db).await;
        put(db, H, item(&[("pk", s("a")), ("n", n("1"))])).await;
        let empty = db.execute_transaction(tx_of(&[])).await;
        assert_eq!(empty.expect_err("empty").kind, ErrorKind::ValidationException);
        assert_error(
            tx(db, &[
                r#"SELECT * FROM "hhh" WHERE pk = 'a'"#,
                r#"UPDATE "hhh" SET n = 2 WHERE pk = 'a'"#,
            ])
            .await,
            ErrorKind::ValidationException,
            "ExecuteTransaction API does not support both read and write operations in the same request.",
        );
        assert_error(
            tx(db, &[r#"UPDATE "hhh" SET n = 2 WHERE pk = 'a' RETURNING ALL NEW *"#]).await,
            ErrorKind::ValidationException,
            "Validation failed in TransactStatements[0]: RETURNING clause is not supported in ExecuteTransaction.",
        );
        assert_error(
            tx(db, &[
                r#"INSERT INTO "hhh" VALUE {'pk': 'b'}"#,
                r#"DELETE FROM "hhh" WHERE pk = 'a' RETURNING ALL OLD *"#,
            ])
            .await,
            ErrorKind::ValidationException,
            "Validation failed in TransactStatements[1]: RETURNING clause is not supported in ExecuteTransaction.",
        );
        // Nothing was applied by the refused requests.
        assert_eq!(get(db, H, hk("a")).await, Some(item(&[("pk", s("a")), ("n", n("1"))])));
        assert_eq!(get(db, H, hk("b")).await, None);
    }
}
