//! Durable storage through the official SDK: what was acknowledged before a
//! clean shutdown is there after a restart on the same directory, tables,
//! items and all.

mod common;

use aws_sdk_dynamodb::types::{BillingMode, ReturnValue};
use common::{create_table, item, n, s, Server};

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");

    let server = Server::durable(dir.path()).await;
    let client = server.client();
    create_table(&client, "Kept", true).await;
    create_table(&client, "Dropped", false).await;
    client
        .update_table()
        .table_name("Kept")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable");
    for i in 0..20 {
        client
            .put_item()
            .table_name("Kept")
            .set_item(Some(item([
                ("pk", s("p")),
                ("sk", s(&format!("{i:02}"))),
                ("n", n(&i.to_string())),
            ])))
            .send()
            .await
            .expect("PutItem");
    }
    client
        .update_item()
        .table_name("Kept")
        .set_key(Some(item([("pk", s("p")), ("sk", s("00"))])))
        .update_expression("ADD hits :one")
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .expect("UpdateItem");
    client
        .delete_item()
        .table_name("Kept")
        .set_key(Some(item([("pk", s("p")), ("sk", s("19"))])))
        .send()
        .await
        .expect("DeleteItem");
    client
        .delete_table()
        .table_name("Dropped")
        .send()
        .await
        .expect("DeleteTable");
    server.shutdown().await;

    let server = Server::durable(dir.path()).await;
    let client = server.client();
    let tables = client.list_tables().send().await.expect("ListTables");
    assert_eq!(tables.table_names(), ["Kept"]);
    let table = client
        .describe_table()
        .table_name("Kept")
        .send()
        .await
        .expect("DescribeTable")
        .table
        .expect("Table");
    assert_eq!(table.item_count(), Some(19));
    assert_eq!(table.deletion_protection_enabled(), Some(true));
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    for i in 0..19 {
        let got = client
            .get_item()
            .table_name("Kept")
            .set_key(Some(item([("pk", s("p")), ("sk", s(&format!("{i:02}")))])))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem")
            .item
            .unwrap_or_else(|| panic!("item {i} lost in the restart"));
        assert_eq!(got["n"], n(&i.to_string()));
    }
    let gone = client
        .get_item()
        .table_name("Kept")
        .set_key(Some(item([("pk", s("p")), ("sk", s("19"))])))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    assert_eq!(gone.item(), None, "a deleted item came back");

    // The restarted server keeps writing on top of the old state.
    let out = client
        .update_item()
        .table_name("Kept")
        .set_key(Some(item([("pk", s("p")), ("sk", s("00"))])))
        .update_expression("ADD hits :one")
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .expect("UpdateItem after restart");
    assert_eq!(out.attributes(), Some(&item([("hits", n("2"))])));
    server.shutdown().await;
}
