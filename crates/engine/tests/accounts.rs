//! The embedded API's account handle: `Database::account(id)` runs each
//! operation in that account's tenant, isolated from every other account,
//! with the account in the ARNs it hands out.

#[macro_use]
mod common;

use common::*;
use openddb_core::api::{GetItemInput, ListTablesInput, PutItemInput};
use openddb_core::ErrorKind;

both_modes! {
    async fn accounts_are_isolated_from_each_other(db) {
        let a = db.account("111111111111").unwrap();
        let b = db.account("222222222222").unwrap().in_region("eu-west-1");
        let created_a = a.create_table(hash_table_input("things")).await.unwrap();
        let created_b = b.create_table(hash_table_input("things")).await.unwrap();
        let arn_a = created_a.table_description.unwrap().table_arn.unwrap();
        let arn_b = created_b.table_description.unwrap().table_arn.unwrap();
        assert_eq!(arn_a, "arn:aws:dynamodb:us-east-1:111111111111:table/things");
        assert_eq!(arn_b, "arn:aws:dynamodb:eu-west-1:222222222222:table/things");

        a.put_item(PutItemInput {
            table_name: Some("things".into()),
            item: Some(item(&[("pk", s("k")), ("owner", s("a"))])),
            ..Default::default()
        })
        .await
        .unwrap();
        let key = || GetItemInput {
            table_name: Some("things".into()),
            key: Some(item(&[("pk", s("k"))])),
            ..Default::default()
        };
        let got = a.get_item(key()).await.unwrap().item.unwrap();
        assert_eq!(got.get("owner"), Some(&s("a")));
        assert!(b.get_item(key()).await.unwrap().item.is_none());

        // The database's own calls run in the default account, which has
        // no tables.
        let listed = db.list_tables(ListTablesInput::default()).await.unwrap();
        assert!(listed.table_names.is_empty());
        let listed = a.list_tables(ListTablesInput::default()).await.unwrap();
        assert_eq!(listed.table_names, vec!["things".to_string()]);

        // The wire path through the handle lands in the same tenant.
        let answer = b.dispatch("ListTables", b"{}").await.unwrap();
        assert_eq!(
            String::from_utf8(answer).unwrap(),
            r#"{"TableNames":["things"]}"#
        );
        assert_eq!(b.context().account_id, "222222222222");
    }

    async fn only_twelve_digit_accounts_are_accepted(db) {
        for bad in ["", "12345678901", "1234567890123", "12345678901a", "../etc/passw"] {
            let err = db.account(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::ValidationException, "{bad:?}");
        }
    }
}
