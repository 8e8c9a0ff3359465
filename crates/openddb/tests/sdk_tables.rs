//! Table lifecycle through the official `aws-sdk-dynamodb` client against an
//! in-process server on a loopback port: create, describe, list (paginated),
//! update, delete, deletion protection.

mod common;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    BillingMode, KeyType, ProvisionedThroughput, ScalarAttributeType, TableStatus,
};
use common::{attr_def, create_table, item, key_elem, s, Server};

#[tokio::test]
async fn create_then_describe_shows_the_schema() {
    let server = Server::in_memory().await;
    let client = server.client();

    let created = client
        .create_table()
        .table_name("Music")
        .attribute_definitions(attr_def("Artist", ScalarAttributeType::S))
        .attribute_definitions(attr_def("Year", ScalarAttributeType::N))
        .key_schema(key_elem("Artist", KeyType::Hash))
        .key_schema(key_elem("Year", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    let desc = created.table_description().expect("TableDescription");
    assert_eq!(desc.table_name(), Some("Music"));
    assert_eq!(desc.item_count(), Some(0));

    let described = client
        .describe_table()
        .table_name("Music")
        .send()
        .await
        .expect("DescribeTable");
    let table = described.table().expect("Table");
    assert_eq!(table.table_name(), Some("Music"));
    assert_eq!(table.table_status(), Some(&TableStatus::Active));
    assert_eq!(table.item_count(), Some(0));
    assert_eq!(table.table_size_bytes(), Some(0));
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let keys: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(
        keys,
        vec![("Artist", &KeyType::Hash), ("Year", &KeyType::Range)]
    );
    let mut defs: Vec<(&str, &ScalarAttributeType)> = table
        .attribute_definitions()
        .iter()
        .map(|d| (d.attribute_name(), d.attribute_type()))
        .collect();
    defs.sort();
    assert_eq!(
        defs,
        vec![
            ("Artist", &ScalarAttributeType::S),
            ("Year", &ScalarAttributeType::N)
        ]
    );
    let arn = table.table_arn().expect("TableArn");
    assert!(
        arn.starts_with("arn:aws:dynamodb:us-east-1:") && arn.ends_with(":table/Music"),
        "unexpected ARN {arn}"
    );
    assert!(table.table_id().is_some_and(|id| !id.is_empty()));
    assert!(table.creation_date_time().is_some());
    // On-demand tables report zero provisioned throughput.
    let throughput = table
        .provisioned_throughput()
        .expect("ProvisionedThroughput");
    assert_eq!(throughput.read_capacity_units(), Some(0));
    assert_eq!(throughput.write_capacity_units(), Some(0));
    assert_eq!(table.deletion_protection_enabled(), Some(false));
}

#[tokio::test]
async fn creating_an_existing_table_is_refused() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Dup", false).await;

    let err = client
        .create_table()
        .table_name("Dup")
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("a second CreateTable of the same name fails");
    assert_eq!(err.code(), Some("ResourceInUseException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some("Table already exists: Dup"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_tables_pages_with_limit_and_exclusive_start() {
    let server = Server::in_memory().await;
    let client = server.client();
    // Created out of order: ListTables answers in name order.
    for name in ["t-c", "t-a", "t-e", "t-b", "t-d"] {
        create_table(&client, name, false).await;
    }

    let all = client.list_tables().send().await.expect("ListTables");
    assert_eq!(all.table_names(), ["t-a", "t-b", "t-c", "t-d", "t-e"]);
    assert_eq!(all.last_evaluated_table_name(), None);

    let mut pages = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = client
            .list_tables()
            .limit(2)
            .set_exclusive_start_table_name(start.clone())
            .send()
            .await
            .expect("ListTables page");
        pages.push(page.table_names().to_vec());
        match page.last_evaluated_table_name() {
            Some(last) => {
                assert_eq!(Some(last), page.table_names().last().map(String::as_str));
                start = Some(last.to_owned());
            }
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not end: {pages:?}");
    }
    assert_eq!(
        pages,
        vec![
            vec!["t-a".to_owned(), "t-b".to_owned()],
            vec!["t-c".to_owned(), "t-d".to_owned()],
            vec!["t-e".to_owned()],
        ]
    );

    // The SDK's own paginator walks the same pages.
    let names: Vec<String> = client
        .list_tables()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListTables");
    assert_eq!(names, ["t-a", "t-b", "t-c", "t-d", "t-e"]);

    // A start name that is not a table still starts after it.
    let after_b = client
        .list_tables()
        .exclusive_start_table_name("t-bb")
        .send()
        .await
        .expect("ListTables after t-bb");
    assert_eq!(after_b.table_names(), ["t-c", "t-d", "t-e"]);
}

#[tokio::test]
async fn update_table_billing_mode_throughput_and_deletion_protection() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Upd", false).await;

    // On-demand to provisioned.
    let updated = client
        .update_table()
        .table_name("Upd")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(throughput(5, 7))
        .send()
        .await
        .expect("UpdateTable to PROVISIONED");
    let desc = updated.table_description().expect("TableDescription");
    assert_eq!(
        desc.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    let table = describe(&client, "Upd").await;
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    let pt = table
        .provisioned_throughput()
        .expect("ProvisionedThroughput");
    assert_eq!(pt.read_capacity_units(), Some(5));
    assert_eq!(pt.write_capacity_units(), Some(7));

    // New throughput.
    client
        .update_table()
        .table_name("Upd")
        .provisioned_throughput(throughput(11, 13))
        .send()
        .await
        .expect("UpdateTable throughput");
    let pt = describe(&client, "Upd")
        .await
        .provisioned_throughput()
        .cloned()
        .expect("ProvisionedThroughput");
    assert_eq!(pt.read_capacity_units(), Some(11));
    assert_eq!(pt.write_capacity_units(), Some(13));

    // Deletion protection on, then DeleteTable is refused and the table stays.
    client
        .update_table()
        .table_name("Upd")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable deletion protection");
    assert_eq!(
        describe(&client, "Upd").await.deletion_protection_enabled(),
        Some(true)
    );
    let err = client
        .delete_table()
        .table_name("Upd")
        .send()
        .await
        .expect_err("DeleteTable of a protected table fails");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        common::message(&err),
        Some(
            "Resource cannot be deleted as it is currently protected against deletion. \
             Disable deletion protection first."
        ),
        "{err:?}"
    );
    assert_eq!(describe(&client, "Upd").await.table_name(), Some("Upd"));

    // Back to on-demand and unprotected: now it can go.
    client
        .update_table()
        .table_name("Upd")
        .billing_mode(BillingMode::PayPerRequest)
        .deletion_protection_enabled(false)
        .send()
        .await
        .expect("UpdateTable back to PAY_PER_REQUEST");
    let table = describe(&client, "Upd").await;
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(table.deletion_protection_enabled(), Some(false));
    client
        .delete_table()
        .table_name("Upd")
        .send()
        .await
        .expect("DeleteTable once unprotected");
}

#[tokio::test]
async fn create_table_with_deletion_protection_refuses_delete() {
    let server = Server::in_memory().await;
    let client = server.client();
    client
        .create_table()
        .table_name("Guarded")
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("CreateTable with deletion protection");
    let err = client
        .delete_table()
        .table_name("Guarded")
        .send()
        .await
        .expect_err("protected");
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    let listed = client.list_tables().send().await.expect("ListTables");
    assert_eq!(listed.table_names(), ["Guarded"]);
}

#[tokio::test]
async fn delete_table_then_recreate_sees_no_old_data() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Phoenix", false).await;
    client
        .put_item()
        .table_name("Phoenix")
        .set_item(Some(item([("pk", s("old")), ("v", s("stale"))])))
        .send()
        .await
        .expect("PutItem");

    let deleted = client
        .delete_table()
        .table_name("Phoenix")
        .send()
        .await
        .expect("DeleteTable");
    assert_eq!(
        deleted.table_description().and_then(|d| d.table_name()),
        Some("Phoenix")
    );

    // Gone at once for every table operation.
    let err = client
        .describe_table()
        .table_name("Phoenix")
        .send()
        .await
        .expect_err("described after delete");
    assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err:?}");
    let err = client
        .get_item()
        .table_name("Phoenix")
        .set_key(Some(item([("pk", s("old"))])))
        .send()
        .await
        .expect_err("read after delete");
    assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err:?}");
    assert!(client
        .list_tables()
        .send()
        .await
        .expect("ListTables")
        .table_names()
        .is_empty());
    let err = client
        .delete_table()
        .table_name("Phoenix")
        .send()
        .await
        .expect_err("deleted twice");
    assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err:?}");

    // Same name, new table: empty.
    create_table(&client, "Phoenix", false).await;
    let got = client
        .get_item()
        .table_name("Phoenix")
        .set_key(Some(item([("pk", s("old"))])))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on the new table");
    assert_eq!(got.item(), None);
    assert_eq!(describe(&client, "Phoenix").await.item_count(), Some(0));
}

#[tokio::test]
async fn item_count_follows_writes() {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Counted", false).await;
    for key in ["a", "b", "c"] {
        client
            .put_item()
            .table_name("Counted")
            .set_item(Some(item([("pk", s(key))])))
            .send()
            .await
            .expect("PutItem");
    }
    client
        .delete_item()
        .table_name("Counted")
        .set_key(Some(item([("pk", s("b"))])))
        .send()
        .await
        .expect("DeleteItem");
    let table = describe(&client, "Counted").await;
    assert_eq!(table.item_count(), Some(2));
    assert!(table.table_size_bytes().is_some_and(|size| size > 0));
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .expect("throughput")
}

async fn describe(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> aws_sdk_dynamodb::types::TableDescription {
    client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("Table")
}
