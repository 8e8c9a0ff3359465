//! Values built in Rust skip the wire decoder, so the embedded API must
//! refuse what DynamoDB refuses on the wire: empty and duplicate sets and
//! over-deep nesting, with the same messages.

#[macro_use]
mod common;

use common::*;
use openddb_core::api::{PutItemInput, UpdateItemInput};
use openddb_core::{AttributeValue, ErrorKind, Item};

fn with(attr: AttributeValue) -> Item {
    item(&[("pk", s("k")), ("a", attr)])
}

fn nested(levels: usize) -> AttributeValue {
    let mut v = s("leaf");
    for _ in 0..levels {
        v = m(&[("a", v)]);
    }
    v
}

fn cases() -> Vec<(AttributeValue, &'static str)> {
    vec![
        (AttributeValue::SS(vec![]), "An string set  may not be empty"),
        (AttributeValue::NS(vec![]), "An number set  may not be empty"),
        (AttributeValue::BS(vec![]), "Binary sets should not be empty"),
        (ss(&["a", "a"]), "contains duplicates."),
        (m(&[("inner", AttributeValue::SS(vec![]))]), "An string set  may not be empty"),
        (l(vec![AttributeValue::BS(vec![])]), "Binary sets should not be empty"),
        (nested(32), "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"),
    ]
}

both_modes! {
    async fn embedded_writes_refuse_invalid_values(db) {
        create_hash_table(db, "vals").await;
        let mut stored = Vec::new();
        for (attr, ending) in cases() {
            let put = db
                .put_item(PutItemInput {
                    table_name: Some("vals".into()),
                    item: Some(with(attr.clone())),
                    ..Default::default()
                })
                .await;
            let update = db
                .update_item(UpdateItemInput {
                    table_name: Some("vals".into()),
                    key: Some(item(&[("pk", s("k"))])),
                    update_expression: Some("SET a = :v".into()),
                    expression_attribute_values: Some(values(&[(":v", attr.clone())])),
                    ..Default::default()
                })
                .await;
            for (action, result) in [("PutItem", put.map(|_| ())), ("UpdateItem", update.map(|_| ()))] {
                match result {
                    Ok(()) => stored.push(format!("{action} stored {attr:?}")),
                    Err(e) => {
                        assert_eq!(e.kind, ErrorKind::ValidationException, "{action} {attr:?}");
                        assert!(e.message.ends_with(ending), "{action} {attr:?}: {}", e.message);
                    }
                }
            }
            db.delete_item(openddb_core::api::DeleteItemInput {
                table_name: Some("vals".into()),
                key: Some(item(&[("pk", s("k"))])),
                ..Default::default()
            })
            .await
            .expect("clean up");
        }
        assert!(stored.is_empty(), "{}", stored.join("\n"));
        assert_eq!(stats(db, "vals").await, (0, 0));
    }

    async fn embedded_keys_of_the_wrong_shape_are_refused(db) {
        create_hash_table(db, "vals").await;
        let bad_keys: Vec<Item> = vec![
            item(&[("pk", n("1"))]),
            item(&[("pk", l(vec![]))]),
            item(&[("pk", s("k")), ("extra", s("x"))]),
            item(&[("other", s("k"))]),
            Item::new(),
        ];
        for key in bad_keys {
            assert_error(
                db.get_item(openddb_core::api::GetItemInput {
                    table_name: Some("vals".into()),
                    key: Some(key.clone()),
                    ..Default::default()
                })
                .await,
                ErrorKind::ValidationException,
                "The provided key element does not match the schema",
            );
        }
    }
}
