//! Local and global secondary indexes through the embedded API, in both
//! storage modes: maintenance on every write (sparse indexes), projections,
//! non-unique keys, LastEvaluatedKey shapes, statistics, index key checks,
//! and global indexes added and removed by UpdateTable while writes go on.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use openddb_core::api::{
    Capacity, ConsumedCapacity, CreateTableInput, DeleteGlobalSecondaryIndexAction,
    DeleteItemInput, GlobalSecondaryIndexUpdate, QueryInput, ScanInput, UpdateItemInput,
    UpdateTableInput, UpdateTableOutput,
};
use openddb_core::size::item_size;
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item};
use openddb_engine::{Database, StorageConfig};

const T: &str = "indexed";

/// `pk`/`sk` strings; three local and three global indexes:
/// `lsi_all` (lsk S, ALL), `lsi_keys` (lnum N, KEYS_ONLY), `lsi_inc`
/// (lsk S, INCLUDE data); `gsi_all` (gpk S + gsk N, ALL), `gsi_keys`
/// (gpk S, KEYS_ONLY), `gsi_inc` (gpk S + gsk N, INCLUDE data).
fn indexed_table(name: &str) -> CreateTableInput {
    let mut t = table_input(name, Some("S"));
    t.attribute_definitions
        .as_mut()
        .expect("definitions")
        .extend([
            attribute("lsk", "S"),
            attribute("lnum", "N"),
            attribute("gpk", "S"),
            attribute("gsk", "N"),
        ]);
    t.local_secondary_indexes = Some(vec![
        local_index("lsi_all", "lsk", projection("ALL", &[])),
        local_index("lsi_keys", "lnum", projection("KEYS_ONLY", &[])),
        local_index("lsi_inc", "lsk", projection("INCLUDE", &["data"])),
    ]);
    t.global_secondary_indexes = Some(vec![
        global_index("gsi_all", "gpk", Some("gsk"), projection("ALL", &[])),
        global_index("gsi_keys", "gpk", None, projection("KEYS_ONLY", &[])),
        global_index(
            "gsi_inc",
            "gpk",
            Some("gsk"),
            projection("INCLUDE", &["data"]),
        ),
    ]);
    t
}

async fn create_indexed(db: &Database) {
    db.create_table(indexed_table(T))
        .await
        .expect("create indexed table");
}

/// An item of the indexed table with every index attribute.
fn full(pk: &str, sk: &str, lsk: &str, lnum: i64, gpk: &str, gsk: i64) -> Item {
    item(&[
        ("pk", s(pk)),
        ("sk", s(sk)),
        ("lsk", s(lsk)),
        ("lnum", n(&lnum.to_string())),
        ("gpk", s(gpk)),
        ("gsk", n(&gsk.to_string())),
        ("data", s(&format!("data-{pk}-{sk}"))),
        ("extra", s(&format!("extra-{pk}-{sk}"))),
    ])
}

fn only(it: &Item, names: &[&str]) -> Item {
    key_of(it, names)
}

fn on_index(table: &str, index: &str, kce: &str, vals: &[(&str, AttributeValue)]) -> QueryInput {
    QueryInput {
        table_name: Some(table.into()),
        index_name: Some(index.into()),
        key_condition_expression: Some(kce.into()),
        expression_attribute_values: Some(values(vals)),
        ..Default::default()
    }
}

/// Every item of a Query on `index` for partition `value` of `attr`.
async fn index_items(
    db: &Database,
    table: &str,
    index: &str,
    attr: &str,
    value: AttributeValue,
) -> Vec<Item> {
    let input = on_index(table, index, &format!("{attr} = :v"), &[(":v", value)]);
    items_of(&query_pages(db, input).await)
}

fn scan_of(table: &str, index: Option<&str>) -> ScanInput {
    ScanInput {
        table_name: Some(table.into()),
        index_name: index.map(str::to_string),
        ..Default::default()
    }
}

async fn index_scan(db: &Database, table: &str, index: &str) -> Vec<Item> {
    items_of(&scan_pages(db, scan_of(table, Some(index))).await)
}

async fn update(
    db: &Database,
    table: &str,
    key: Item,
    expression: &str,
    vals: &[(&str, AttributeValue)],
) -> Result<(), DynamoError> {
    db.update_item(UpdateItemInput {
        table_name: Some(table.into()),
        key: Some(key),
        update_expression: Some(expression.into()),
        expression_attribute_values: (!vals.is_empty()).then(|| values(vals)),
        ..Default::default()
    })
    .await
    .map(|_| ())
}

async fn delete(db: &Database, table: &str, key: Item) {
    db.delete_item(DeleteItemInput {
        table_name: Some(table.into()),
        key: Some(key),
        ..Default::default()
    })
    .await
    .expect("delete item");
}

fn pk_sk(pk: &str, sk: &str) -> Item {
    item(&[("pk", s(pk)), ("sk", s(sk))])
}

fn text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// Items keyed by their table key, to compare results as sets.
fn by_key(items: &[Item]) -> BTreeMap<(String, String), Item> {
    let mut out = BTreeMap::new();
    for it in items {
        let k = (text(&it["pk"]), it.get("sk").map(text).unwrap_or_default());
        assert!(
            out.insert(k.clone(), it.clone()).is_none(),
            "{k:?} returned twice"
        );
    }
    out
}

fn index_description(d: &openddb_core::api::TableDescription, index: &str) -> (i64, i64) {
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

fn create_gsi(
    table: &str,
    defs: &[(&str, &str)],
    index: openddb_core::api::GlobalSecondaryIndex,
) -> UpdateTableInput {
    UpdateTableInput {
        table_name: Some(table.into()),
        attribute_definitions: Some(defs.iter().map(|(n, t)| attribute(n, t)).collect()),
        global_secondary_index_updates: Some(vec![GlobalSecondaryIndexUpdate {
            create: Some(index),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn delete_gsi(table: &str, index: &str) -> UpdateTableInput {
    UpdateTableInput {
        table_name: Some(table.into()),
        global_secondary_index_updates: Some(vec![GlobalSecondaryIndexUpdate {
            delete: Some(DeleteGlobalSecondaryIndexAction {
                index_name: Some(index.into()),
            }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn gsi_status(out: &UpdateTableOutput, index: &str) -> Option<String> {
    out.table_description
        .as_ref()
        .and_then(|d| d.global_secondary_indexes.as_ref())
        .and_then(|g| g.iter().find(|g| g.index_name.as_deref() == Some(index)))
        .and_then(|g| g.index_status.clone())
}

/// What a global index on `g` (S, ALL projection) must hold: the items of
/// a full table Scan that have `g` as a string.
async fn naive_index(db: &Database, table: &str, attr: &str) -> BTreeMap<(String, String), Item> {
    let table_items = items_of(&scan_pages(db, scan_of(table, None)).await);
    by_key(
        &table_items
            .into_iter()
            .filter(|i| matches!(i.get(attr), Some(AttributeValue::S(_))))
            .collect::<Vec<_>>(),
    )
}

/// A table `grow` (pk, sk strings) with `count` items: `g` is one of
/// `g0`..`g4` for most, missing for every seventh, and a number (not
/// indexable as S) for every eleventh.
async fn load_grow(db: &Database, table: &str, count: usize) {
    db.create_table(table_input(table, Some("S")))
        .await
        .expect("create");
    for i in 0..count {
        put(db, table, grow_item(i, 0)).await;
    }
}

fn grow_item(i: usize, version: usize) -> Item {
    let mut it = item(&[
        ("pk", s(&format!("p{:03}", i % 97))),
        ("sk", s(&format!("s{i:05}"))),
        ("v", n(&version.to_string())),
    ]);
    match (i % 11, i % 7) {
        (0, _) => {
            it.insert("g".into(), n("1"));
        }
        (_, 0) => {}
        _ => {
            it.insert("g".into(), s(&format!("g{}", (i + version) % 5)));
        }
    }
    it
}

fn gsi_on_g() -> openddb_core::api::GlobalSecondaryIndex {
    global_index("g_idx", "g", None, projection("ALL", &[]))
}

both_modes! {
    async fn indexes_follow_puts_updates_and_deletes(db) {
        create_indexed(db).await;
        let x = full("p", "1", "m", 5, "A", 1);
        put(db, T, x.clone()).await;
        put(db, T, full("p", "2", "k", 7, "Z", 2)).await;

        assert_eq!(
            index_items(db, T, "gsi_all", "gpk", s("A")).await,
            vec![x.clone()]
        );
        assert_eq!(
            index_items(db, T, "gsi_keys", "gpk", s("A")).await,
            vec![only(&x, &["pk", "sk", "gpk"])]
        );
        assert_eq!(
            index_items(db, T, "gsi_inc", "gpk", s("A")).await,
            vec![only(&x, &["pk", "sk", "gpk", "gsk", "data"])]
        );
        let lsk_order = |items: Vec<Item>| items.iter().map(|i| text(&i["sk"])).collect::<Vec<_>>();
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_all", "pk", s("p")).await),
            ["2", "1"]
        );
        assert_eq!(
            index_items(db, T, "lsi_keys", "pk", s("p")).await,
            vec![
                only(&x, &["pk", "sk", "lnum"]),
                only(&full("p", "2", "k", 7, "Z", 2), &["pk", "sk", "lnum"])
            ]
        );

        // A new index key moves the entry; a new projected value follows.
        db.update_item(UpdateItemInput {
            table_name: Some(T.into()),
            key: Some(pk_sk("p", "1")),
            update_expression: Some("SET gpk = :b, #d = :d".into()),
            expression_attribute_names: Some(names(&[("#d", "data")])),
            expression_attribute_values: Some(values(&[(":b", s("B")), (":d", s("d2"))])),
            ..Default::default()
        })
        .await
        .expect("move to B");
        assert_eq!(index_items(db, T, "gsi_all", "gpk", s("A")).await, vec![]);
        assert_eq!(index_items(db, T, "gsi_keys", "gpk", s("A")).await, vec![]);
        let moved = index_items(db, T, "gsi_inc", "gpk", s("B")).await;
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0]["data"], s("d2"));
        assert_eq!(
            index_items(db, T, "lsi_inc", "pk", s("p")).await[1]["data"],
            s("d2")
        );

        // A new LSI sort value reorders the partition.
        update(db, T, pk_sk("p", "1"), "SET lsk = :a", &[(":a", s("a"))])
            .await
            .expect("set lsk");
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_all", "pk", s("p")).await),
            ["1", "2"]
        );

        // Removing the hash key of a global index takes the item out of it.
        update(db, T, pk_sk("p", "1"), "REMOVE gpk", &[])
            .await
            .expect("remove gpk");
        for index in ["gsi_all", "gsi_keys", "gsi_inc"] {
            let scanned = index_scan(db, T, index).await;
            assert_eq!(scanned.len(), 1, "{index}");
            assert_eq!(scanned[0]["sk"], s("2"), "{index}");
        }
        assert_eq!(index_items(db, T, "lsi_all", "pk", s("p")).await.len(), 2);

        // Without its range key an item leaves gsi_all and gsi_inc but stays
        // in the hash-only gsi_keys.
        update(
            db,
            T,
            pk_sk("p", "1"),
            "SET gpk = :c REMOVE gsk",
            &[(":c", s("C"))],
        )
        .await
        .expect("gpk without gsk");
        assert_eq!(index_items(db, T, "gsi_keys", "gpk", s("C")).await.len(), 1);
        assert_eq!(index_items(db, T, "gsi_all", "gpk", s("C")).await, vec![]);
        assert_eq!(index_items(db, T, "gsi_inc", "gpk", s("C")).await, vec![]);

        // Removing the LSI sort key: out of lsi_all and lsi_inc, still in lsi_keys.
        update(db, T, pk_sk("p", "1"), "REMOVE lsk", &[])
            .await
            .expect("remove lsk");
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_all", "pk", s("p")).await),
            ["2"]
        );
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_inc", "pk", s("p")).await),
            ["2"]
        );
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_keys", "pk", s("p")).await),
            ["1", "2"]
        );
        assert!(
            get(db, T, pk_sk("p", "1")).await.is_some(),
            "the item stays in the table"
        );

        // A replacing put drops every entry the new item has no key for.
        put(
            db,
            T,
            item(&[("pk", s("p")), ("sk", s("1")), ("lnum", n("1"))]),
        )
        .await;
        assert_eq!(index_items(db, T, "gsi_keys", "gpk", s("C")).await, vec![]);
        assert_eq!(
            lsk_order(index_items(db, T, "lsi_keys", "pk", s("p")).await),
            ["1", "2"]
        );

        delete(db, T, pk_sk("p", "1")).await;
        for index in [
            "lsi_all", "lsi_keys", "lsi_inc", "gsi_all", "gsi_keys", "gsi_inc",
        ] {
            let scanned = index_scan(db, T, index).await;
            assert_eq!(lsk_order(scanned), ["2"], "{index} after the delete");
        }
    }

    async fn projections_shape_query_and_scan_results(db) {
        create_indexed(db).await;
        let items: Vec<Item> = (0..3)
            .map(|i| full("p", &i.to_string(), &format!("l{i}"), i, "G", i))
            .collect();
        for it in &items {
            put(db, T, it.clone()).await;
        }
        let cases: [(&str, &str, AttributeValue, &[&str]); 6] = [
            (
                "lsi_all",
                "pk",
                s("p"),
                &["pk", "sk", "lsk", "lnum", "gpk", "gsk", "data", "extra"],
            ),
            ("lsi_keys", "pk", s("p"), &["pk", "sk", "lnum"]),
            ("lsi_inc", "pk", s("p"), &["pk", "sk", "lsk", "data"]),
            (
                "gsi_all",
                "gpk",
                s("G"),
                &["pk", "sk", "lsk", "lnum", "gpk", "gsk", "data", "extra"],
            ),
            ("gsi_keys", "gpk", s("G"), &["pk", "sk", "gpk"]),
            (
                "gsi_inc",
                "gpk",
                s("G"),
                &["pk", "sk", "gpk", "gsk", "data"],
            ),
        ];
        for (index, attr, value, projected) in cases {
            let expected: BTreeMap<_, _> =
                by_key(&items.iter().map(|i| only(i, projected)).collect::<Vec<_>>());
            assert_eq!(
                by_key(&index_items(db, T, index, attr, value.clone()).await),
                expected,
                "query {index}"
            );
            assert_eq!(
                by_key(&index_scan(db, T, index).await),
                expected,
                "scan {index}"
            );
            let mut input = on_index(T, index, &format!("{attr} = :v"), &[(":v", value.clone())]);
            input.select = Some("ALL_PROJECTED_ATTRIBUTES".into());
            let out = db.query(input).await.expect("ALL_PROJECTED_ATTRIBUTES");
            assert_eq!(
                by_key(&out.items.expect("Items")),
                expected,
                "ALL_PROJECTED_ATTRIBUTES {index}"
            );
            let out = db
                .scan(ScanInput {
                    select: Some("COUNT".into()),
                    ..scan_of(T, Some(index))
                })
                .await
                .expect("count");
            assert_eq!((out.items, out.count), (None, 3), "COUNT {index}");
        }

        // A local index fetches what it does not project from the table.
        let mut input = on_index(T, "lsi_keys", "pk = :v", &[(":v", s("p"))]);
        input.select = Some("ALL_ATTRIBUTES".into());
        let out = db
            .query(input.clone())
            .await
            .expect("ALL_ATTRIBUTES on lsi_keys");
        assert_eq!(out.items, Some(items.clone()));
        let out = db
            .scan(ScanInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..scan_of(T, Some("lsi_keys"))
            })
            .await
            .expect("scan ALL_ATTRIBUTES on lsi_keys");
        assert_eq!(by_key(&out.items.expect("Items")), by_key(&items));
        input.select = None;
        input.projection_expression = Some("extra, lnum".into());
        let out = db
            .query(input.clone())
            .await
            .expect("unprojected attribute of lsi_keys");
        assert_eq!(
            out.items,
            Some(items.iter().map(|i| only(i, &["extra", "lnum"])).collect())
        );

        // Global indexes refuse instead.
        let mut gsi = on_index(T, "gsi_keys", "gpk = :v", &[(":v", s("G"))]);
        gsi.select = Some("ALL_ATTRIBUTES".into());
        assert_error(
            db.query(gsi.clone()).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index gsi_keys because its projection type is not ALL",
        );
        let out = db
            .query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..on_index(T, "gsi_all", "gpk = :v", &[(":v", s("G"))])
            })
            .await
            .expect("ALL_ATTRIBUTES on gsi_all");
        assert_eq!(by_key(&out.items.expect("Items")), by_key(&items));
        gsi.select = None;
        gsi.projection_expression = Some("extra".into());
        assert_error(
            db.query(gsi.clone()).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Global secondary index gsi_keys does not project [extra]",
        );
        assert_error(
            db.scan(ScanInput { projection_expression: Some("extra".into()), ..scan_of(T, Some("gsi_keys")) }).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Global secondary index gsi_keys does not project [extra]",
        );
        // AttributesToGet goes with the legacy KeyConditions.
        let mut specific = QueryInput {
            table_name: Some(T.into()),
            index_name: Some("gsi_inc".into()),
            key_conditions: Some(serde_json::json!({
                "gpk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "G"}]}
            })),
            ..Default::default()
        };
        specific.select = Some("SPECIFIC_ATTRIBUTES".into());
        specific.attributes_to_get = Some(vec!["data".into()]);
        let out = db
            .query(specific.clone())
            .await
            .expect("projected AttributesToGet");
        assert_eq!(
            out.items,
            Some(items.iter().map(|i| only(i, &["data"])).collect())
        );
        specific.attributes_to_get = Some(vec!["data".into(), "extra".into()]);
        assert_error(
            db.query(specific).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Global secondary index gsi_inc does not project [extra]",
        );
        let mut filtered = on_index(T, "gsi_inc", "gpk = :v", &[(":v", s("G")), (":e", s("x"))]);
        filtered.filter_expression = Some("extra = :e".into());
        assert_error(
            db.query(filtered).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Secondary index gsi_inc does not project one or more filter attributes: [extra]",
        );
        // Table keys may be filtered on in a global index query; its own keys may not.
        let mut filtered = on_index(T, "gsi_all", "gpk = :v", &[(":v", s("G")), (":p", s("1"))]);
        filtered.filter_expression = Some("sk = :p".into());
        let out = db
            .query(filtered.clone())
            .await
            .expect("filter on the table key");
        assert_eq!((out.count, out.scanned_count), (1, 3));
        filtered.filter_expression = Some("gsk = :n".into());
        filtered.expression_attribute_values = Some(values(&[(":v", s("G")), (":n", n("1"))]));
        assert_error(
            db.query(filtered).await,
            ErrorKind::ValidationException,
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: gsk",
        );
    }

    /// A filter on attributes an index does not project: Query refuses it
    /// on global and local indexes alike; Scan evaluates it against the
    /// index entry, where those attributes are missing, and reads the
    /// table only when the answer asks for what the index lacks. Evidence
    /// (docs/real-suites.md): DynamoDB Local's QueryFunction refuses and its
    /// ScanFunction has no such check; real DynamoDB's PartiQL, measured,
    /// refuses a keyed index read and serves an unkeyed one matching
    /// nothing; a global index holds only what it projects.
    async fn filter_on_unprojected_attributes_query_refuses_scan_sees_them_missing(db) {
        create_indexed(db).await;
        let items: Vec<Item> = (0..3)
            .map(|i| full("p", &i.to_string(), &format!("l{i}"), i, "G", i))
            .collect();
        for it in &items {
            put(db, T, it.clone()).await;
        }
        let refused = |index: &str, names: &str| {
            format!("One or more parameter values were invalid: Secondary index {index} does not project one or more filter attributes: [{names}]")
        };
        let scan = |index: &str, filter: &str, vals: &[(&str, AttributeValue)]| ScanInput {
            filter_expression: Some(filter.into()),
            expression_attribute_values: (!vals.is_empty()).then(|| values(vals)),
            ..scan_of(T, Some(index))
        };
        let extra1 = [(":e", s("extra-p-1"))];

        // Scan, global indexes: accepted, and nothing the index lacks matches.
        for (index, kept) in [
            ("gsi_keys", &["pk", "sk", "gpk"][..]),
            ("gsi_inc", &["pk", "sk", "gpk", "gsk", "data"][..]),
        ] {
            let out = db
                .scan(scan(index, "extra = :e", &extra1))
                .await
                .expect("scan filter on an unprojected attribute");
            assert_eq!(
                (out.count, out.scanned_count, out.items),
                (0, 3, Some(vec![])),
                "{index}"
            );
            let out = db
                .scan(scan(index, "attribute_not_exists(extra)", &[]))
                .await
                .expect("attribute_not_exists on an unprojected attribute");
            assert_eq!(
                by_key(&out.items.expect("Items")),
                by_key(&items.iter().map(|i| only(i, kept)).collect::<Vec<_>>()),
                "{index}"
            );
            let out = db
                .scan(ScanInput {
                    select: Some("COUNT".into()),
                    ..scan(index, "extra = :e OR gpk = :g", &[(":e", s("extra-p-1")), (":g", s("G"))])
                })
                .await
                .expect("count with an unprojected filter attribute");
            assert_eq!((out.count, out.items), (3, None), "{index}");
        }
        let out = db
            .scan(ScanInput {
                scan_filter: Some(serde_json::json!({
                    "extra": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "extra-p-1"}]}
                })),
                ..scan_of(T, Some("gsi_keys"))
            })
            .await
            .expect("legacy ScanFilter on an unprojected attribute");
        assert_eq!((out.count, out.scanned_count), (0, 3));
        let out = db
            .scan(ScanInput {
                expression_attribute_names: Some(names(&[("#d", "data")])),
                ..scan("gsi_inc", "#d = :d", &[(":d", s("data-p-1"))])
            })
            .await
            .expect("filter on a projected attribute");
        assert_eq!(out.items, Some(vec![only(&items[1], &["pk", "sk", "gpk", "gsk", "data"])]));
        // What a global index cannot return is still refused, before the filter.
        assert_error(
            db.scan(ScanInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..scan("gsi_keys", "extra = :e", &extra1)
            })
            .await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index gsi_keys because its projection type is not ALL",
        );
        assert_error(
            db.scan(ScanInput {
                projection_expression: Some("extra".into()),
                ..scan("gsi_keys", "extra = :e", &extra1)
            })
            .await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Global secondary index gsi_keys does not project [extra]",
        );

        // Scan, local indexes: the entry alone unless the answer needs the item.
        let out = db
            .scan(scan("lsi_keys", "extra = :e", &extra1))
            .await
            .expect("scan filter on an unprojected attribute of a local index");
        assert_eq!((out.count, out.scanned_count), (0, 3));
        let out = db
            .scan(scan("lsi_inc", "attribute_not_exists(extra)", &[]))
            .await
            .expect("attribute_not_exists on a local index");
        assert_eq!(
            by_key(&out.items.expect("Items")),
            by_key(&items.iter().map(|i| only(i, &["pk", "sk", "lsk", "data"])).collect::<Vec<_>>())
        );
        let out = db
            .scan(ScanInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..scan("lsi_keys", "extra = :e", &extra1)
            })
            .await
            .expect("ALL_ATTRIBUTES reads the table's items, and filters them");
        assert_eq!((out.count, out.items), (1, Some(vec![items[1].clone()])));
        let out = db
            .scan(ScanInput {
                projection_expression: Some("extra".into()),
                ..scan("lsi_inc", "extra = :e", &extra1)
            })
            .await
            .expect("a projection the index lacks reads the table's items");
        assert_eq!(out.items, Some(vec![only(&items[1], &["extra"])]));

        // Query refuses, global and local, whatever Select asks; the filter
        // is reported before a projection the index lacks.
        let query = |index: &str, kce: &str, key: AttributeValue| {
            let mut q = on_index(T, index, kce, &[(":k", key), (":e", s("extra-p-1"))]);
            q.filter_expression = Some("extra = :e".into());
            q
        };
        for (index, kce, key) in [
            ("gsi_keys", "gpk = :k", s("G")),
            ("gsi_inc", "gpk = :k", s("G")),
            ("lsi_keys", "pk = :k", s("p")),
            ("lsi_inc", "pk = :k", s("p")),
        ] {
            assert_error(
                db.query(query(index, kce, key.clone())).await,
                ErrorKind::ValidationException,
                &refused(index, "extra"),
            );
            assert_error(
                db.query(QueryInput {
                    projection_expression: Some("extra".into()),
                    ..query(index, kce, key.clone())
                })
                .await,
                ErrorKind::ValidationException,
                &refused(index, "extra"),
            );
        }
        assert_error(
            db.query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..query("lsi_keys", "pk = :k", s("p"))
            })
            .await,
            ErrorKind::ValidationException,
            &refused("lsi_keys", "extra"),
        );
        let mut legacy = on_index(T, "lsi_keys", "pk = :k", &[(":k", s("p"))]);
        legacy.key_condition_expression = None;
        legacy.expression_attribute_values = None;
        legacy.key_conditions = Some(serde_json::json!({
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}
        }));
        legacy.query_filter = Some(serde_json::json!({
            "extra": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "extra-p-1"}]},
            "data": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "data-p-1"}]}
        }));
        assert_error(
            db.query(legacy).await,
            ErrorKind::ValidationException,
            &refused("lsi_keys", "data, extra"),
        );
        // A filter the index does project, and a projection a local index
        // lacks (read from the table), are served.
        let mut q = on_index(T, "lsi_inc", "pk = :k", &[(":k", s("p")), (":d", s("data-p-2"))]);
        q.filter_expression = Some("#d = :d".into());
        q.expression_attribute_names = Some(names(&[("#d", "data")]));
        let out = db.query(q).await.expect("filter on a projected attribute");
        assert_eq!(out.items, Some(vec![only(&items[2], &["pk", "sk", "lsk", "data"])]));
        let mut q = on_index(T, "lsi_keys", "pk = :k", &[(":k", s("p"))]);
        q.projection_expression = Some("extra".into());
        let out = db.query(q).await.expect("projection a local index lacks");
        assert_eq!(
            out.items,
            Some(items.iter().map(|i| only(i, &["extra"])).collect())
        );
    }

    async fn consistent_reads_and_unknown_indexes(db) {
        create_indexed(db).await;
        put(db, T, full("p", "1", "l", 1, "G", 1)).await;
        let mut q = on_index(T, "gsi_all", "gpk = :v", &[(":v", s("G"))]);
        q.consistent_read = Some(true);
        assert_error(
            db.query(q).await,
            ErrorKind::ValidationException,
            "Consistent reads are not supported on global secondary indexes",
        );
        assert_error(
            db.scan(ScanInput {
                consistent_read: Some(true),
                ..scan_of(T, Some("gsi_keys"))
            })
            .await,
            ErrorKind::ValidationException,
            "Consistent reads are not supported on global secondary indexes",
        );
        let mut q = on_index(T, "lsi_all", "pk = :v", &[(":v", s("p"))]);
        q.consistent_read = Some(true);
        assert_eq!(db.query(q).await.expect("consistent LSI query").count, 1);
        let out = db
            .scan(ScanInput {
                consistent_read: Some(true),
                ..scan_of(T, Some("lsi_inc"))
            })
            .await
            .expect("consistent LSI scan");
        assert_eq!(out.count, 1);
        assert_error(
            db.query(on_index(T, "nope", "pk = :v", &[(":v", s("p"))]))
                .await,
            ErrorKind::ValidationException,
            "The table does not have the specified index: nope",
        );
        assert_error(
            db.scan(scan_of(T, Some("nope"))).await,
            ErrorKind::ValidationException,
            "The table does not have the specified index: nope",
        );
        // A global index query names the index's keys, not the table's.
        assert_error(
            db.query(on_index(T, "gsi_all", "pk = :v", &[(":v", s("p"))]))
                .await,
            ErrorKind::ValidationException,
            "Query condition missed key schema element: gpk",
        );
    }

    async fn non_unique_global_keys_page_through_every_item(db) {
        create_indexed(db).await;
        let mut expected = BTreeSet::new();
        for i in 0..50 {
            let pk = format!("i{i:02}");
            put(db, T, full(&pk, "s", "l", i, "same", i % 5)).await;
            expected.insert((pk, "s".to_string()));
        }
        put(db, T, full("other", "s", "l", 1, "different", 1)).await;
        for (index, has_range) in [("gsi_all", true), ("gsi_keys", false), ("gsi_inc", true)] {
            for forward in [true, false] {
                let mut input = on_index(T, index, "gpk = :v", &[(":v", s("same"))]);
                input.limit = Some(7);
                input.scan_index_forward = Some(forward);
                let pages = query_pages(db, input).await;
                let items = items_of(&pages);
                assert_eq!(
                    by_key(&items).into_keys().collect::<BTreeSet<_>>(),
                    expected,
                    "{index} forward {forward}"
                );
                assert_eq!(pages.iter().map(|p| p.count).sum::<i64>(), 50);
                assert!(pages.len() <= 9, "{index}: {} pages", pages.len());
                if has_range {
                    let ranks: Vec<String> = items.iter().map(|i| text(&i["gsk"])).collect();
                    let mut sorted = ranks.clone();
                    sorted.sort();
                    if !forward {
                        sorted.reverse();
                    }
                    assert_eq!(ranks, sorted, "{index} in gsk order");
                }
            }
        }
        let mut input = on_index(
            T,
            "gsi_all",
            "gpk = :v AND gsk BETWEEN :a AND :b",
            &[(":v", s("same")), (":a", n("1")), (":b", n("3"))],
        );
        input.limit = Some(4);
        let items = items_of(&query_pages(db, input).await);
        assert_eq!(items.len(), 30);

        // Ties on a local index sort key: 50 items of one partition, 5 values.
        for i in 0..50 {
            put(
                db,
                T,
                full(
                    "one",
                    &format!("s{i:02}"),
                    &format!("t{}", i % 5),
                    i,
                    "x",
                    i,
                ),
            )
            .await;
        }
        let mut input = on_index(T, "lsi_all", "pk = :v", &[(":v", s("one"))]);
        input.limit = Some(10);
        let items = items_of(&query_pages(db, input).await);
        assert_eq!(by_key(&items).len(), 50);
        let lsks: Vec<String> = items.iter().map(|i| text(&i["lsk"])).collect();
        let mut sorted = lsks.clone();
        sorted.sort();
        assert_eq!(lsks, sorted);

        // A parallel scan of a global index covers it exactly once.
        for total in 1..=4 {
            let mut seen = Vec::new();
            for segment in 0..total {
                let pages = scan_pages(
                    db,
                    ScanInput {
                        segment: Some(segment),
                        total_segments: Some(total),
                        limit: Some(6),
                        ..scan_of(T, Some("gsi_keys"))
                    },
                )
                .await;
                seen.extend(items_of(&pages));
            }
            assert_eq!(by_key(&seen).len(), 101, "{total} segments");
        }
    }

    async fn last_evaluated_key_shapes(db) {
        create_indexed(db).await;
        for i in 0..3 {
            put(
                db,
                T,
                full("p", &i.to_string(), &format!("l{i}"), i, "G", i),
            )
            .await;
        }
        let cases: [(Option<&str>, &str, AttributeValue, &[&str]); 6] = [
            (None, "pk", s("p"), &["pk", "sk"]),
            (Some("lsi_all"), "pk", s("p"), &["pk", "sk", "lsk"]),
            (Some("lsi_keys"), "pk", s("p"), &["pk", "sk", "lnum"]),
            (Some("gsi_all"), "gpk", s("G"), &["pk", "sk", "gpk", "gsk"]),
            (Some("gsi_keys"), "gpk", s("G"), &["pk", "sk", "gpk"]),
            (Some("gsi_inc"), "gpk", s("G"), &["pk", "sk", "gpk", "gsk"]),
        ];
        for (index, attr, value, key_names) in cases {
            let input = QueryInput {
                table_name: Some(T.into()),
                index_name: index.map(str::to_string),
                key_condition_expression: Some(format!("{attr} = :v")),
                expression_attribute_values: Some(values(&[(":v", value.clone())])),
                limit: Some(2),
                ..Default::default()
            };
            let out = db.query(input.clone()).await.expect("query page");
            let items = out.items.expect("Items");
            let last = items.last().expect("two items");
            let lek = out.last_evaluated_key.expect("LastEvaluatedKey");
            assert_eq!(
                lek.keys().map(String::as_str).collect::<BTreeSet<_>>(),
                key_names.iter().copied().collect(),
                "{index:?}"
            );
            let full_item = get(db, T, key_of(last, &["pk", "sk"])).await.expect("item");
            assert_eq!(lek, key_of(&full_item, key_names), "{index:?}");
            // The key resumes the query after that item.
            let rest = db
                .query(QueryInput {
                    exclusive_start_key: Some(lek.clone()),
                    ..input.clone()
                })
                .await
                .expect("next page");
            assert_eq!(rest.count, 1, "{index:?}");

            let out = db
                .scan(ScanInput {
                    limit: Some(1),
                    ..scan_of(T, index)
                })
                .await
                .expect("scan page");
            let lek = out.last_evaluated_key.expect("scan LastEvaluatedKey");
            assert_eq!(
                lek.keys().map(String::as_str).collect::<BTreeSet<_>>(),
                key_names.iter().copied().collect(),
                "scan {index:?}"
            );

            // Index queries need the whole key back.
            if let Some(index) = index {
                let mut short = lek.clone();
                short.remove(*key_names.last().expect("a key"));
                assert_error(
                    db.query(QueryInput {
                        exclusive_start_key: Some(short.clone()),
                        ..input.clone()
                    })
                    .await,
                    ErrorKind::ValidationException,
                    "The provided starting key is invalid",
                );
                assert_error(
                    db.scan(ScanInput {
                        exclusive_start_key: Some(short),
                        ..scan_of(T, Some(index))
                    })
                    .await,
                    ErrorKind::ValidationException,
                    "The provided starting key is invalid",
                );
            }
        }
    }

    async fn describe_reports_index_counts_and_sizes(db) {
        let mut t = table_input("stats", Some("S"));
        t.attribute_definitions
            .as_mut()
            .expect("definitions")
            .extend([attribute("gpk", "S"), attribute("lsk", "S")]);
        t.global_secondary_indexes = Some(vec![
            global_index("g_all", "gpk", None, projection("ALL", &[])),
            global_index("g_keys", "gpk", None, projection("KEYS_ONLY", &[])),
        ]);
        t.local_secondary_indexes = Some(vec![local_index(
            "l_inc",
            "lsk",
            projection("INCLUDE", &["data"]),
        )]);
        db.create_table(t).await.expect("create");
        let counts = |d: &openddb_core::api::TableDescription| {
            ["g_all", "g_keys", "l_inc"].map(|i| index_description(d, i))
        };
        assert_eq!(counts(&describe(db, "stats").await), [(0, 0); 3]);

        // a: pk 3 + sk 3 + gpk 4 + lsk 4 + data 7 + extra 10 = 31 bytes;
        // in g_keys pk+sk+gpk = 10, in l_inc pk+sk+lsk+data = 17.
        put(
            db,
            "stats",
            item(&[
                ("pk", s("p")),
                ("sk", s("1")),
                ("gpk", s("A")),
                ("lsk", s("x")),
                ("data", s("xyz")),
                ("extra", s("12345")),
            ]),
        )
        .await;
        // b: 10 bytes, no lsk.  c: 10 bytes, no gpk.
        put(
            db,
            "stats",
            item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s("B"))]),
        )
        .await;
        put(
            db,
            "stats",
            item(&[("pk", s("q")), ("sk", s("3")), ("lsk", s("y"))]),
        )
        .await;
        let d = describe(db, "stats").await;
        assert_eq!((d.item_count, d.table_size_bytes), (Some(3), Some(51)));
        assert_eq!(counts(&d), [(2, 41), (2, 20), (2, 27)]);

        update(db, "stats", pk_sk("p", "1"), "REMOVE gpk", &[])
            .await
            .expect("remove gpk");
        assert_eq!(
            counts(&describe(db, "stats").await),
            [(1, 10), (1, 10), (2, 27)]
        );
        db.update_item(UpdateItemInput {
            table_name: Some("stats".into()),
            key: Some(pk_sk("p", "1")),
            update_expression: Some("SET #d = :d".into()),
            expression_attribute_names: Some(names(&[("#d", "data")])),
            expression_attribute_values: Some(values(&[(":d", s("xy"))])),
            ..Default::default()
        })
        .await
        .expect("shrink data");
        assert_eq!(
            counts(&describe(db, "stats").await),
            [(1, 10), (1, 10), (2, 26)]
        );
        // Rewriting an item unchanged changes nothing.
        put(
            db,
            "stats",
            item(&[("pk", s("p")), ("sk", s("2")), ("gpk", s("B"))]),
        )
        .await;
        assert_eq!(
            counts(&describe(db, "stats").await),
            [(1, 10), (1, 10), (2, 26)]
        );
        delete(db, "stats", pk_sk("p", "2")).await;
        assert_eq!(
            counts(&describe(db, "stats").await),
            [(0, 0), (0, 0), (2, 26)]
        );
        delete(db, "stats", pk_sk("q", "3")).await;
        delete(db, "stats", pk_sk("p", "1")).await;
        let d = describe(db, "stats").await;
        assert_eq!((d.item_count, d.table_size_bytes), (Some(0), Some(0)));
        assert_eq!(counts(&d), [(0, 0); 3]);
    }

    async fn index_keys_of_the_wrong_type_or_empty_are_refused(db) {
        let mut t = table_input("typed", Some("S"));
        t.attribute_definitions
            .as_mut()
            .expect("definitions")
            .extend([attribute("gpk", "S"), attribute("lnum", "N")]);
        t.global_secondary_indexes = Some(vec![global_index(
            "g_idx",
            "gpk",
            None,
            projection("ALL", &[]),
        )]);
        t.local_secondary_indexes = Some(vec![local_index(
            "l_idx",
            "lnum",
            projection("KEYS_ONLY", &[]),
        )]);
        db.create_table(t).await.expect("create");
        let put_result = |it: Item| async move {
            db.put_item(openddb_core::api::PutItemInput {
                table_name: Some("typed".into()),
                item: Some(it),
                ..Default::default()
            })
            .await
            .map(|_| ())
        };
        assert_error(
            put_result(item(&[("pk", s("p")), ("sk", s("1")), ("gpk", n("5"))])).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Type mismatch for Index Key gpk Expected: S Actual: N IndexName: g_idx",
        );
        assert_error(
            put_result(item(&[("pk", s("p")), ("sk", s("1")), ("lnum", s("5"))])).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Type mismatch for Index Key lnum Expected: N Actual: S IndexName: l_idx",
        );
        assert_error(
            put_result(item(&[("pk", s("p")), ("sk", s("1")), ("gpk", s(""))])).await,
            ErrorKind::ValidationException,
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: g_idx, IndexKey: gpk",
        );
        assert_eq!(get(db, "typed", pk_sk("p", "1")).await, None);

        put(
            db,
            "typed",
            item(&[
                ("pk", s("p")),
                ("sk", s("1")),
                ("gpk", s("ok")),
                ("lnum", n("1")),
            ]),
        )
        .await;
        assert_error(
            update(db, "typed", pk_sk("p", "1"), "SET gpk = :v", &[(":v", n("5"))]).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Type mismatch for Index Key gpk Expected: S Actual: N IndexName: g_idx",
        );
        assert_error(
            update(db, "typed", pk_sk("p", "1"), "SET lnum = :v", &[(":v", s("x"))]).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Type mismatch for Index Key lnum Expected: N Actual: S IndexName: l_idx",
        );
        // Nothing changed: the item, the indexes and their statistics.
        assert_eq!(
            get(db, "typed", pk_sk("p", "1")).await,
            Some(item(&[
                ("pk", s("p")),
                ("sk", s("1")),
                ("gpk", s("ok")),
                ("lnum", n("1"))
            ]))
        );
        assert_eq!(
            index_items(db, "typed", "g_idx", "gpk", s("ok"))
                .await
                .len(),
            1
        );
        let d = describe(db, "typed").await;
        assert_eq!(index_description(&d, "g_idx").0, 1);
        assert_eq!(index_description(&d, "l_idx").0, 1);
        assert_eq!(d.item_count, Some(1));
    }

    async fn update_table_backfills_a_new_global_index(db) {
        load_grow(db, "grow", 120).await;
        let out = db
            .update_table(create_gsi("grow", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create index");
        assert_eq!(
            out.table_description
                .as_ref()
                .and_then(|d| d.table_status.clone())
                .as_deref(),
            Some("UPDATING")
        );
        assert_eq!(gsi_status(&out, "g_idx").as_deref(), Some("CREATING"));

        let d = wait_until_active(db, "grow").await;
        let g = &d.global_secondary_indexes.as_ref().expect("GSIs")[0];
        assert_eq!(g.backfilling, None);
        let defs: BTreeSet<String> = d
            .attribute_definitions
            .iter()
            .flatten()
            .filter_map(|a| a.attribute_name.clone())
            .collect();
        assert_eq!(
            defs,
            ["g", "pk", "sk"].map(String::from).into_iter().collect()
        );

        let expected = naive_index(db, "grow", "g").await;
        let indexed: usize = (0..120).filter(|i| i % 11 != 0 && i % 7 != 0).count();
        assert_eq!(expected.len(), indexed);
        assert_eq!(by_key(&index_scan(db, "grow", "g_idx").await), expected);
        for group in 0..5 {
            let value = format!("g{group}");
            let want: BTreeMap<_, _> = expected
                .iter()
                .filter(|(_, i)| i["g"] == s(&value))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                by_key(&index_items(db, "grow", "g_idx", "g", s(&value)).await),
                want,
                "{value}"
            );
        }
        let (count, size) = index_description(&d, "g_idx");
        assert_eq!(count, indexed as i64);
        assert_eq!(size, expected.values().map(item_size).sum::<usize>() as i64);

        // A second index, declared with only its own attribute: the
        // definitions merge, and its entries hold the keys alone.
        db.update_table(create_gsi(
            "grow",
            &[("v", "N")],
            global_index("v_keys", "v", None, projection("KEYS_ONLY", &[])),
        ))
        .await
        .expect("create a second index");
        let d = wait_until_active(db, "grow").await;
        let defs: BTreeSet<String> = d
            .attribute_definitions
            .iter()
            .flatten()
            .filter_map(|a| a.attribute_name.clone())
            .collect();
        assert_eq!(
            defs,
            ["g", "pk", "sk", "v"]
                .map(String::from)
                .into_iter()
                .collect()
        );
        assert_eq!(d.global_secondary_indexes.as_ref().map(Vec::len), Some(2));
        let keys_only = index_items(db, "grow", "v_keys", "v", n("0")).await;
        assert_eq!(keys_only.len(), 120);
        assert!(keys_only
            .iter()
            .all(|i| i.len() == 3 && i.contains_key("v")));

        // Writes after the build keep the index in step.
        put(
            db,
            "grow",
            item(&[("pk", s("new")), ("sk", s("1")), ("g", s("g0"))]),
        )
        .await;
        assert!(index_items(db, "grow", "g_idx", "g", s("g0"))
            .await
            .iter()
            .any(|i| i["pk"] == s("new")));
    }

    async fn deleted_global_index_disappears(db) {
        load_grow(db, "shrink", 40).await;
        db.update_table(create_gsi("shrink", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create index");
        wait_until_active(db, "shrink").await;
        assert!(!index_scan(db, "shrink", "g_idx").await.is_empty());

        let out = db
            .update_table(delete_gsi("shrink", "g_idx"))
            .await
            .expect("delete index");
        assert_eq!(gsi_status(&out, "g_idx").as_deref(), Some("DELETING"));
        let d = wait_until_active(db, "shrink").await;
        assert!(d.global_secondary_indexes.unwrap_or_default().is_empty());
        let defs: BTreeSet<String> = d
            .attribute_definitions
            .iter()
            .flatten()
            .filter_map(|a| a.attribute_name.clone())
            .collect();
        assert_eq!(
            defs,
            ["pk", "sk"].map(String::from).into_iter().collect(),
            "g's definition goes with the index"
        );
        assert_error(
            db.query(on_index("shrink", "g_idx", "g = :v", &[(":v", s("g1"))]))
                .await,
            ErrorKind::ValidationException,
            "The table does not have the specified index: g_idx",
        );
        assert_error(
            db.scan(scan_of("shrink", Some("g_idx"))).await,
            ErrorKind::ValidationException,
            "The table does not have the specified index: g_idx",
        );
        // The table goes on, and the name can be used again.
        put(
            db,
            "shrink",
            item(&[("pk", s("after")), ("sk", s("1")), ("g", s("g1"))]),
        )
        .await;
        db.update_table(create_gsi("shrink", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create again");
        wait_until_active(db, "shrink").await;
        assert_eq!(
            by_key(&index_scan(db, "shrink", "g_idx").await),
            naive_index(db, "shrink", "g").await
        );
    }

    async fn update_table_index_errors(db) {
        let mut t = table_input("errs", Some("S"));
        t.attribute_definitions
            .as_mut()
            .expect("definitions")
            .push(attribute("gsiPk", "S"));
        t.global_secondary_indexes = Some(vec![global_index(
            "existingGsi",
            "gsiPk",
            None,
            projection("ALL", &[]),
        )]);
        db.create_table(t).await.expect("create");

        assert_error(
            db.update_table(create_gsi(
                "errs",
                &[("gsiPk", "S")],
                global_index("existingGsi", "gsiPk", None, projection("ALL", &[])),
            ))
            .await,
            ErrorKind::ValidationException,
            "Attempting to create an index which already exists",
        );
        assert_error(
            db.update_table(UpdateTableInput {
                attribute_definitions: None,
                ..create_gsi("errs", &[], global_index("gsiBadAttr", "unknownAttr", None, projection("ALL", &[])))
            })
            .await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: AttributeDefinitions is not specified for index: gsiBadAttr",
        );
        assert_error(
            db.update_table(delete_gsi("errs", "doesNotExist")).await,
            ErrorKind::ResourceNotFoundException,
            "Requested resource not found: Index doesNotExist for table errs",
        );
        let limit = "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table";
        let two_creates = UpdateTableInput {
            table_name: Some("errs".into()),
            attribute_definitions: Some(vec![attribute("a", "S"), attribute("b", "S")]),
            global_secondary_index_updates: Some(vec![
                GlobalSecondaryIndexUpdate {
                    create: Some(global_index("gsi_a", "a", None, projection("ALL", &[]))),
                    ..Default::default()
                },
                GlobalSecondaryIndexUpdate {
                    create: Some(global_index("gsi_b", "b", None, projection("ALL", &[]))),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert_error(
            db.update_table(two_creates).await,
            ErrorKind::LimitExceededException,
            limit,
        );
        let create_and_delete = UpdateTableInput {
            table_name: Some("errs".into()),
            attribute_definitions: Some(vec![attribute("a", "S")]),
            global_secondary_index_updates: Some(vec![
                GlobalSecondaryIndexUpdate {
                    create: Some(global_index("gsi_a", "a", None, projection("ALL", &[]))),
                    ..Default::default()
                },
                GlobalSecondaryIndexUpdate {
                    delete: Some(DeleteGlobalSecondaryIndexAction {
                        index_name: Some("existingGsi".into()),
                    }),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        assert_error(
            db.update_table(create_and_delete).await,
            ErrorKind::LimitExceededException,
            limit,
        );
        // Nothing of the refused requests stuck.
        let d = describe(db, "errs").await;
        let gsis: Vec<String> = d
            .global_secondary_indexes
            .iter()
            .flatten()
            .filter_map(|g| g.index_name.clone())
            .collect();
        assert_eq!(gsis, ["existingGsi"]);
        assert_eq!(d.table_status.as_deref(), Some("ACTIVE"));

        // While one index is being built, another change waits its turn.
        db.update_table(create_gsi(
            "errs",
            &[("a", "S")],
            global_index("gsi_a", "a", None, projection("ALL", &[])),
        ))
        .await
        .expect("create gsi_a");
        let second = db
            .update_table(create_gsi(
                "errs",
                &[("b", "S")],
                global_index("gsi_b", "b", None, projection("ALL", &[])),
            ))
            .await;
        let d = wait_until_active(db, "errs").await;
        match second {
            Err(e) => {
                assert_eq!(
                    (e.kind, e.message.as_str()),
                    (ErrorKind::LimitExceededException, limit)
                );
                assert_eq!(d.global_secondary_indexes.map(|g| g.len()), Some(2));
            }
            // The first build may already be over on a fast backend.
            Ok(_) => assert_eq!(d.global_secondary_indexes.map(|g| g.len()), Some(3)),
        }
    }

    async fn global_indexes_on_table_key_attributes(db) {
        // The inverted index (sk HASH, pk RANGE) and one sharing the table's
        // partition key: LastEvaluatedKey holds each attribute once.
        let mut t = table_input("inverted", Some("S"));
        t.attribute_definitions
            .as_mut()
            .expect("definitions")
            .push(attribute("rank", "N"));
        t.global_secondary_indexes = Some(vec![
            global_index("by_sk", "sk", Some("pk"), projection("KEYS_ONLY", &[])),
            global_index("by_pk_rank", "pk", Some("rank"), projection("ALL", &[])),
        ]);
        db.create_table(t).await.expect("create");
        for p in 0..4 {
            for k in 0..3 {
                put(
                    db,
                    "inverted",
                    item(&[
                        ("pk", s(&format!("p{p}"))),
                        ("sk", s(&format!("k{k}"))),
                        ("rank", n(&((p + k) % 3).to_string())),
                        ("other", s("x")),
                    ]),
                )
                .await;
            }
        }
        let mut input = on_index(
            "inverted",
            "by_sk",
            "sk = :k AND pk >= :p",
            &[(":k", s("k1")), (":p", s("p1"))],
        );
        input.limit = Some(1);
        input.scan_index_forward = Some(false);
        let pages = query_pages(db, input).await;
        let pks: Vec<String> = items_of(&pages).iter().map(|i| text(&i["pk"])).collect();
        assert_eq!(pks, ["p3", "p2", "p1"]);
        let lek = pages[0]
            .last_evaluated_key
            .clone()
            .expect("LastEvaluatedKey");
        assert_eq!(lek, pk_sk("p3", "k1"));
        assert_eq!(
            items_of(&pages)[0],
            pk_sk("p3", "k1"),
            "KEYS_ONLY holds just the table key"
        );

        let mut input = on_index("inverted", "by_pk_rank", "pk = :p", &[(":p", s("p1"))]);
        input.limit = Some(2);
        let pages = query_pages(db, input).await;
        let ranks: Vec<String> = items_of(&pages).iter().map(|i| text(&i["rank"])).collect();
        assert_eq!(ranks, ["0", "1", "2"]);
        let lek = pages[0]
            .last_evaluated_key
            .clone()
            .expect("LastEvaluatedKey");
        assert_eq!(
            lek.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            BTreeSet::from(["pk", "rank", "sk"])
        );
        let scanned = scan_pages(
            db,
            ScanInput {
                limit: Some(5),
                ..scan_of("inverted", Some("by_sk"))
            },
        )
        .await;
        assert_eq!(by_key(&items_of(&scanned)).len(), 12);

        // Legacy KeyConditions on an index.
        let legacy = QueryInput {
            table_name: Some("inverted".into()),
            index_name: Some("by_sk".into()),
            key_conditions: Some(serde_json::json!({
                "sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k2"}]},
                "pk": {"ComparisonOperator": "LT", "AttributeValueList": [{"S": "p2"}]},
            })),
            ..Default::default()
        };
        let out = db.query(legacy).await.expect("legacy index query");
        assert_eq!(out.items, Some(vec![pk_sk("p0", "k2"), pk_sk("p1", "k2")]));
    }

    async fn delete_table_waits_for_index_builds(db) {
        load_grow(db, "busy", 30).await;
        db.update_table(create_gsi("busy", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create index");
        // The build has not run yet: this runtime has one thread.
        assert_error(
            db.delete_table(openddb_core::api::DeleteTableInput { table_name: Some("busy".into()) }).await,
            ErrorKind::ResourceInUseException,
            "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, updated, or deleted.",
        );
        wait_until_active(db, "busy").await;
        db.delete_table(openddb_core::api::DeleteTableInput {
            table_name: Some("busy".into()),
        })
        .await
        .expect("delete once the index is built");
    }

    async fn global_index_keys_of_every_scalar_type(db) {
        let mut t = table_input("scalars", None);
        t.attribute_definitions
            .as_mut()
            .expect("definitions")
            .extend([attribute("bin", "B"), attribute("num", "N")]);
        t.global_secondary_indexes = Some(vec![global_index(
            "by_bin",
            "bin",
            Some("num"),
            projection("KEYS_ONLY", &[]),
        )]);
        db.create_table(t).await.expect("create");
        let nums = ["-10", "-1.5", "0", "2", "10", "1E+3"];
        for (i, num) in nums.iter().enumerate() {
            put(
                db,
                "scalars",
                item(&[
                    ("pk", s(&format!("k{i}"))),
                    ("bin", b(&[0xFF, 0x00])),
                    ("num", n(num)),
                ]),
            )
            .await;
        }
        put(
            db,
            "scalars",
            item(&[("pk", s("other")), ("bin", b(&[0x00])), ("num", n("1"))]),
        )
        .await;
        let mut input = on_index(
            "scalars",
            "by_bin",
            "bin = :b AND num > :n",
            &[(":b", b(&[0xFF, 0x00])), (":n", n("-2"))],
        );
        input.limit = Some(2);
        input.scan_index_forward = Some(false);
        let items = items_of(&query_pages(db, input).await);
        let got: Vec<AttributeValue> = items.iter().map(|i| i["num"].clone()).collect();
        assert_eq!(got, vec![n("1000"), n("10"), n("2"), n("0"), n("-1.5")]);
        assert!(items.iter().all(|i| i.len() == 3));
    }

    async fn index_capacity_breakdown(db) {
        create_indexed(db).await;
        for i in 0..3 {
            put(db, T, full("p", &i.to_string(), "l", i, "G", i)).await;
        }
        let indexes = |index: &str, attr: &str, value: AttributeValue| QueryInput {
            return_consumed_capacity: Some("INDEXES".into()),
            ..on_index(T, index, &format!("{attr} = :v"), &[(":v", value)])
        };
        // Tiny entries: one 4 KB unit, halved for an eventual read.
        let out = db
            .query(indexes("gsi_all", "gpk", s("G")))
            .await
            .expect("GSI INDEXES");
        assert_eq!(
            out.consumed_capacity,
            Some(ConsumedCapacity {
                table_name: T.into(),
                capacity_units: 0.5,
                table: Some(Capacity {
                    capacity_units: 0.0,
                    ..Default::default()
                }),
                global_secondary_indexes: Some(
                    [(
                        "gsi_all".to_string(),
                        Capacity {
                            capacity_units: 0.5,
                            ..Default::default()
                        }
                    )]
                    .into()
                ),
                ..Default::default()
            })
        );
        let out = db
            .query(QueryInput {
                consistent_read: Some(true),
                ..indexes("lsi_keys", "pk", s("p"))
            })
            .await
            .expect("LSI INDEXES");
        assert_eq!(
            out.consumed_capacity,
            Some(ConsumedCapacity {
                table_name: T.into(),
                capacity_units: 1.0,
                table: Some(Capacity {
                    capacity_units: 0.0,
                    ..Default::default()
                }),
                local_secondary_indexes: Some(
                    [(
                        "lsi_keys".to_string(),
                        Capacity {
                            capacity_units: 1.0,
                            ..Default::default()
                        }
                    )]
                    .into()
                ),
                ..Default::default()
            })
        );
        // Fetching unprojected attributes from the table is charged to the table.
        let out = db
            .query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                ..indexes("lsi_keys", "pk", s("p"))
            })
            .await
            .expect("LSI fetch");
        let c = out.consumed_capacity.expect("ConsumedCapacity");
        let table_units = c.table.as_ref().expect("Table").capacity_units;
        let index_units = c
            .local_secondary_indexes
            .as_ref()
            .expect("LocalSecondaryIndexes")["lsi_keys"]
            .capacity_units;
        // Each item fetched is its own read: three tiny items are three
        // halves, where the index entries are read as one page.
        assert_eq!(table_units, 1.5);
        assert_eq!(index_units, 0.5);
        assert_eq!(c.capacity_units, table_units + index_units);
        assert_eq!(
            (c.read_capacity_units, c.write_capacity_units),
            (None, None)
        );
        // Fewer items walked, less fetched.
        let out = db
            .query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                limit: Some(1),
                ..indexes("lsi_keys", "pk", s("p"))
            })
            .await
            .expect("LSI fetch with Limit");
        let c = out.consumed_capacity.expect("ConsumedCapacity");
        assert_eq!(c.table.expect("Table").capacity_units, 0.5);
        // An item over 4 KB is two blocks of its own; a consistent read
        // doubles every fetch.
        let mut big = full("p", "9", "l", 9, "G", 9);
        big.insert("blob".into(), s(&"x".repeat(5000)));
        put(db, T, big).await;
        let out = db
            .query(QueryInput {
                select: Some("ALL_ATTRIBUTES".into()),
                consistent_read: Some(true),
                ..indexes("lsi_keys", "pk", s("p"))
            })
            .await
            .expect("LSI fetch, consistent");
        let c = out.consumed_capacity.expect("ConsumedCapacity");
        assert_eq!(c.table.expect("Table").capacity_units, 5.0);
        let out = db
            .scan(ScanInput {
                return_consumed_capacity: Some("TOTAL".into()),
                ..scan_of(T, Some("gsi_keys"))
            })
            .await
            .expect("GSI scan TOTAL");
        assert_eq!(
            out.consumed_capacity,
            Some(ConsumedCapacity {
                table_name: T.into(),
                capacity_units: 0.5,
                ..Default::default()
            })
        );
    }
}

// ---------------------------------------------------------------------
// Writes racing the backfill (multi-threaded runtime, so the build runs
// truly alongside the writers) and restarts.

fn open_shared(mode: Mode) -> (Arc<Database>, Option<tempfile::TempDir>) {
    let h = Harness::new(mode);
    (Arc::new(h.db), h.dir)
}

/// One of the writes racing the backfill: creates, moves between index
/// keys, removes the key, deletes.
async fn racing_write(db: &Database, table: &str, step: usize) {
    let i = step * 37 % 1500;
    // Once the index exists a numeric `g` is refused: leave it out.
    let writable = |mut it: Item| {
        if matches!(it.get("g"), Some(AttributeValue::N(_))) {
            it.remove("g");
        }
        it
    };
    match step % 5 {
        0 => put(db, table, writable(grow_item(10_000 + step, 1))).await,
        1 => put(db, table, writable(grow_item(i, step))).await,
        2 => update(
            db,
            table,
            key_of(&grow_item(i, 0), &["pk", "sk"]),
            "REMOVE g",
            &[],
        )
        .await
        .expect("remove g"),
        3 => delete(db, table, key_of(&grow_item(i, 0), &["pk", "sk"])).await,
        _ => update(
            db,
            table,
            key_of(&grow_item(i, 0), &["pk", "sk"]),
            "SET g = :g",
            &[(":g", s(&format!("g{}", step % 5)))],
        )
        .await
        .expect("set g"),
    }
}

async fn writes_during_backfill_end_up_exactly_in_the_index(mode: Mode) {
    let (db, _dir) = open_shared(mode);
    db.create_table(table_input("race", Some("S")))
        .await
        .expect("create");
    // 1 500 items, written by a few concurrent writers.
    let mut loaders = Vec::new();
    for w in 0..6 {
        let db = db.clone();
        loaders.push(tokio::spawn(async move {
            for i in (w..1500).step_by(6) {
                put(&db, "race", grow_item(i, 0)).await;
            }
        }));
    }
    for l in loaders {
        l.await.expect("loader");
    }

    db.update_table(create_gsi("race", &[("g", "S")], gsi_on_g()))
        .await
        .expect("create index");
    let mut writers = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            let mut while_creating = 0;
            for step in (w..600).step_by(4) {
                racing_write(&db, "race", step).await;
                let d = describe(&db, "race").await;
                if d.global_secondary_indexes
                    .iter()
                    .flatten()
                    .any(|g| g.index_status.as_deref() == Some("CREATING"))
                {
                    while_creating += 1;
                }
            }
            while_creating
        }));
    }
    let mut while_creating = 0;
    for w in writers {
        while_creating += w.await.expect("writer");
    }
    assert!(
        while_creating > 0,
        "no write landed while the index was CREATING"
    );

    let d = wait_until_active(&db, "race").await;
    let expected = naive_index(&db, "race", "g").await;
    let actual = by_key(&index_scan(&db, "race", "g_idx").await);
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .take(5)
        .collect();
    let stale: Vec<_> = actual
        .iter()
        .filter(|(k, v)| expected.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "missing {missing:?}, stale or extra {stale:?}"
    );
    assert_eq!(actual.len(), expected.len());
    let (count, size) = index_description(&d, "g_idx");
    assert_eq!(count, expected.len() as i64, "ItemCount");
    assert_eq!(
        size,
        expected.values().map(item_size).sum::<usize>() as i64,
        "IndexSizeBytes"
    );
}

mod writes_during_backfill {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn in_memory() {
        writes_during_backfill_end_up_exactly_in_the_index(Mode::Memory).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        writes_during_backfill_end_up_exactly_in_the_index(Mode::Sqlite).await;
    }
}

fn open_dir(dir: &std::path::Path) -> Database {
    Database::open(StorageConfig::Directory(dir.to_path_buf())).expect("open database")
}

#[test]
fn indexes_survive_reopening_the_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    let before = rt().block_on(async {
        let db = open_dir(dir.path());
        create_indexed(&db).await;
        for i in 0..20 {
            put(
                &db,
                T,
                full(
                    &format!("p{}", i % 3),
                    &format!("{i:02}"),
                    &format!("l{}", i % 4),
                    i,
                    &format!("G{}", i % 2),
                    i,
                ),
            )
            .await;
        }
        load_grow(&db, "grow", 200).await;
        db.update_table(create_gsi("grow", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create index");
        wait_until_active(&db, "grow").await;
        (
            index_items(&db, T, "gsi_inc", "gpk", s("G1")).await,
            index_items(&db, T, "lsi_all", "pk", s("p2")).await,
            index_scan(&db, "grow", "g_idx").await,
            describe(&db, T).await,
        )
    });
    assert_eq!(before.0.len(), 10);
    assert_eq!(before.1.len(), 6);

    rt().block_on(async {
        let db = open_dir(dir.path());
        assert_eq!(
            index_items(&db, T, "gsi_inc", "gpk", s("G1")).await,
            before.0
        );
        assert_eq!(
            index_items(&db, T, "lsi_all", "pk", s("p2")).await,
            before.1
        );
        assert_eq!(
            by_key(&index_scan(&db, "grow", "g_idx").await),
            by_key(&before.2)
        );
        let d = describe(&db, T).await;
        for index in [
            "lsi_all", "lsi_keys", "lsi_inc", "gsi_all", "gsi_keys", "gsi_inc",
        ] {
            assert_eq!(
                index_description(&d, index),
                index_description(&before.3, index),
                "{index}"
            );
        }
        // And the indexes are still maintained.
        delete(&db, T, pk_sk("p1", "19")).await;
        assert_eq!(
            index_items(&db, T, "gsi_inc", "gpk", s("G1")).await.len(),
            9
        );
    });
}

#[test]
fn a_backfill_interrupted_by_closing_resumes_on_reopening() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    // On a current-thread runtime the build task spawned by UpdateTable
    // cannot run before `block_on` returns: the database closes with the
    // whole backfill still to do.
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = first.block_on(async {
        let db = open_dir(dir.path());
        load_grow(&db, "grow", 3000).await;
        let out = db
            .update_table(create_gsi("grow", &[("g", "S")], gsi_on_g()))
            .await
            .expect("create index");
        gsi_status(&out, "g_idx")
    });
    drop(first);
    assert_eq!(status.as_deref(), Some("CREATING"));

    rt().block_on(async {
        let db = open_dir(dir.path());
        let d = wait_until_active(&db, "grow").await;
        let expected = naive_index(&db, "grow", "g").await;
        assert_eq!(by_key(&index_scan(&db, "grow", "g_idx").await), expected);
        assert_eq!(index_description(&d, "g_idx").0, expected.len() as i64);
    });
}
