//! Query and Scan through the official `aws-sdk-dynamodb` client: the SDK's
//! paginators over key conditions and filters, parallel scan segments,
//! global secondary indexes (declared at CreateTable and added by
//! UpdateTable), Select COUNT, and the errors a user sees.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeyType, Projection, ProjectionType,
    ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use common::{attr_def, create_table, item, key_elem, n, put, s, Server};

type Item = HashMap<String, AttributeValue>;

fn text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.clone(),
        other => panic!("unexpected value {other:?}"),
    }
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| text(&i["sk"])).collect()
}

fn all_projection() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
}

/// A table keyed by `pk`/`sk` with a global index `by_group` on `grp`
/// (S) and `rank` (N), projecting everything.
async fn create_table_with_gsi(client: &Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("sk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("grp", ScalarAttributeType::S))
        .attribute_definitions(attr_def("rank", ScalarAttributeType::N))
        .key_schema(key_elem("pk", KeyType::Hash))
        .key_schema(key_elem("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_group")
                .key_schema(key_elem("grp", KeyType::Hash))
                .key_schema(key_elem("rank", KeyType::Range))
                .projection(all_projection())
                .build()
                .expect("global secondary index"),
        )
        .send()
        .await
        .expect("CreateTable");
}

#[tokio::test]
async fn query_paginator_walks_key_condition_and_filter() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Orders", true).await;
    for i in 0..25 {
        put(
            &client,
            "Orders",
            item([
                ("pk", s("customer")),
                ("sk", s(&format!("order-{i:03}"))),
                ("total", n(&i.to_string())),
                ("state", s(if i % 3 == 0 { "open" } else { "closed" })),
            ]),
        )
        .await;
    }
    put(
        &client,
        "Orders",
        item([
            ("pk", s("other")),
            ("sk", s("order-005")),
            ("state", s("open")),
        ]),
    )
    .await;

    let query = |forward: bool| {
        client
            .query()
            .table_name("Orders")
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .filter_expression("#st = :open")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":pk", s("customer"))
            .expression_attribute_values(":from", s("order-002"))
            .expression_attribute_values(":to", s("order-020"))
            .expression_attribute_values(":open", s("open"))
            .scan_index_forward(forward)
            .limit(4)
    };
    // orders 002..020 in range (19 items); open ones are multiples of 3.
    let open: Vec<String> = (2..=20)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("order-{i:03}"))
        .collect();

    let pages = query(true)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("query pages");
    assert!(
        pages.len() >= 5,
        "19 items at 4 per page: {} pages",
        pages.len()
    );
    for page in &pages {
        assert!(
            page.scanned_count() <= 4,
            "Limit counts items before the filter"
        );
        assert_eq!(page.count() as usize, page.items().len());
    }
    assert_eq!(pages.iter().map(|p| p.scanned_count()).sum::<i32>(), 19);
    let items: Vec<Item> = pages.iter().flat_map(|p| p.items().to_vec()).collect();
    assert_eq!(sort_keys(&items), open);

    let items = query(false)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("query items");
    let mut backwards = open.clone();
    backwards.reverse();
    assert_eq!(sort_keys(&items), backwards);
    assert!(items
        .iter()
        .all(|i| i["pk"] == s("customer") && i["state"] == s("open")));
}

#[tokio::test]
async fn parallel_scan_segments_cover_the_table_once() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Events", false).await;
    let mut all = BTreeSet::new();
    for i in 0..40 {
        let pk = format!("event-{i:02}");
        put(
            &client,
            "Events",
            item([("pk", s(&pk)), ("n", n(&i.to_string()))]),
        )
        .await;
        all.insert(pk);
    }
    for total in [1, 3, 4] {
        let mut seen = Vec::new();
        for segment in 0..total {
            let items = client
                .scan()
                .table_name("Events")
                .segment(segment)
                .total_segments(total)
                .limit(5)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .expect("scan segment");
            seen.extend(items.iter().map(|i| text(&i["pk"])));
        }
        assert_eq!(seen.len(), 40, "{total} segments: every item exactly once");
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);
    }

    let err = client
        .scan()
        .table_name("Events")
        .segment(4)
        .total_segments(4)
        .send()
        .await
        .expect_err("segment out of range");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
    );
}

#[tokio::test]
async fn global_index_query_pages_in_index_order() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table_with_gsi(&client, "Players").await;
    for i in 0..30 {
        let mut it = item([
            ("pk", s(&format!("player-{i:02}"))),
            ("sk", s("profile")),
            ("rank", n(&((i * 7) % 30).to_string())),
            ("score", n(&(i * 10).to_string())),
        ]);
        if i % 5 != 0 {
            it.insert("grp".into(), s(if i % 2 == 0 { "red" } else { "blue" }));
        }
        put(&client, "Players", it).await;
    }
    let query = || {
        client
            .query()
            .table_name("Players")
            .index_name("by_group")
            .key_condition_expression("grp = :g AND #r >= :min")
            .expression_attribute_names("#r", "rank")
            .expression_attribute_values(":g", s("red"))
            .expression_attribute_values(":min", n("5"))
    };
    let expected: Vec<u32> = {
        let mut v: Vec<u32> = (0..30u32)
            .filter(|i| i % 5 != 0 && i % 2 == 0)
            .map(|i| (i * 7) % 30)
            .filter(|r| *r >= 5)
            .collect();
        v.sort();
        v
    };
    let items = query()
        .limit(3)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("index query");
    let ranks: Vec<u32> = items
        .iter()
        .map(|i| text(&i["rank"]).parse().expect("rank"))
        .collect();
    assert_eq!(ranks, expected);
    assert!(
        items.iter().all(|i| i.contains_key("score")),
        "ALL projection"
    );

    let page = query().limit(2).send().await.expect("first page");
    let lek = page.last_evaluated_key().expect("LastEvaluatedKey");
    let names: BTreeSet<&str> = lek.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["grp", "pk", "rank", "sk"]));
    let next = query()
        .limit(2)
        .set_exclusive_start_key(Some(lek.clone()))
        .send()
        .await
        .expect("next page");
    assert_eq!(text(&next.items()[0]["rank"]), expected[2].to_string());

    // Items without `grp` are not in the index.
    let scanned = client
        .scan()
        .table_name("Players")
        .index_name("by_group")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("index scan");
    assert_eq!(scanned.len(), 24);
}

#[tokio::test]
async fn consistent_read_on_a_global_index_is_refused() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table_with_gsi(&client, "Strict").await;
    let err = client
        .query()
        .table_name("Strict")
        .index_name("by_group")
        .key_condition_expression("grp = :g")
        .expression_attribute_values(":g", s("red"))
        .consistent_read(true)
        .send()
        .await
        .expect_err("consistent GSI query");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Consistent reads are not supported on global secondary indexes")
    );

    let err = client
        .scan()
        .table_name("Strict")
        .index_name("by_group")
        .consistent_read(true)
        .send()
        .await
        .expect_err("consistent GSI scan");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Consistent reads are not supported on global secondary indexes")
    );

    // The same request without ConsistentRead is fine.
    let out = client
        .query()
        .table_name("Strict")
        .index_name("by_group")
        .key_condition_expression("grp = :g")
        .expression_attribute_values(":g", s("red"))
        .send()
        .await
        .expect("eventually consistent GSI query");
    assert_eq!(out.count(), 0);
}

#[tokio::test]
async fn select_count_returns_counts_without_items() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Counted", true).await;
    for (sk, state) in [("a", "on"), ("b", "off"), ("c", "on")] {
        put(
            &client,
            "Counted",
            item([("pk", s("p")), ("sk", s(sk)), ("state", s(state))]),
        )
        .await;
    }
    let out = client
        .query()
        .table_name("Counted")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .select(Select::Count)
        .send()
        .await
        .expect("COUNT");
    assert_eq!((out.count(), out.scanned_count()), (3, 3));
    assert!(out.items.is_none(), "no Items with COUNT");

    let out = client
        .query()
        .table_name("Counted")
        .key_condition_expression("pk = :p")
        .filter_expression("#s = :on")
        .expression_attribute_names("#s", "state")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":on", s("on"))
        .select(Select::Count)
        .send()
        .await
        .expect("COUNT with filter");
    assert_eq!((out.count(), out.scanned_count()), (2, 3));

    let out = client
        .scan()
        .table_name("Counted")
        .select(Select::Count)
        .send()
        .await
        .expect("scan COUNT");
    assert_eq!((out.count(), out.scanned_count()), (3, 3));
    assert!(out.items.is_none());

    let err = client
        .query()
        .table_name("Counted")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .select(Select::Count)
        .projection_expression("sk")
        .send()
        .await
        .expect_err("COUNT with a projection");
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Cannot specify the ProjectionExpression when choosing to get only the Count")
    );
}

#[tokio::test]
async fn global_index_added_by_update_table_is_backfilled() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::durable(dir.path()).await;
    let client = server.client();
    create_table(&client, "Late", true).await;
    for i in 0..30 {
        let mut it = item([("pk", s(&format!("item{i:02}"))), ("sk", s("x"))]);
        if i % 4 != 0 {
            it.insert(
                "color".into(),
                s(if i % 2 == 0 { "green" } else { "purple" }),
            );
        }
        put(&client, "Late", it).await;
    }
    client
        .update_table()
        .table_name("Late")
        .attribute_definitions(attr_def("color", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by_color")
                        .key_schema(key_elem("color", KeyType::Hash))
                        .projection(all_projection())
                        .build()
                        .expect("create action"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable");

    let mut active = false;
    for _ in 0..600 {
        let table = client
            .describe_table()
            .table_name("Late")
            .send()
            .await
            .expect("DescribeTable")
            .table
            .expect("Table");
        let status = table
            .global_secondary_indexes()
            .first()
            .and_then(|g| g.index_status().cloned());
        if status == Some(IndexStatus::Active) {
            active = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(active, "the index becomes ACTIVE");

    let purple = client
        .query()
        .table_name("Late")
        .index_name("by_color")
        .key_condition_expression("color = :c")
        .expression_attribute_values(":c", s("purple"))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("query the new index");
    let mut pks: Vec<String> = purple.iter().map(|i| text(&i["pk"])).collect();
    pks.sort();
    let want: Vec<String> = (0..30)
        .filter(|i| i % 4 != 0 && i % 2 == 1)
        .map(|i| format!("item{i:02}"))
        .collect();
    assert_eq!(pks, want);
}
