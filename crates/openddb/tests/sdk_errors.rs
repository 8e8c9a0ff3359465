//! The errors a user sees through the official `aws-sdk-dynamodb` client for
//! typical mistakes: code and message, as DynamoDB words them.

mod common;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use common::{create_table, item, n, s, Server};

/// The error code and message (see [`common::message`]) of a failed call.
#[track_caller]
fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let err = result.expect_err("the request should fail");
    match (err.code(), common::message(&err)) {
        (Some(code), message) => (code.to_owned(), message.unwrap_or_default().to_owned()),
        (None, _) => panic!("not a service error: {err:?}"),
    }
}

fn validation(message: &str) -> (String, String) {
    ("ValidationException".to_owned(), message.to_owned())
}

async fn setup() -> (Server, Client) {
    let server = Server::in_memory().await;
    let client = server.client();
    create_table(&client, "Errs", false).await;
    create_table(&client, "Errs2", true).await;
    (server, client)
}

#[tokio::test]
async fn expression_mistakes() {
    let (_server, client) = setup().await;
    let key = || Some(item([("pk", s("k"))]));

    // A reserved word used as a bare attribute name.
    let got = failure(
        client
            .update_item()
            .table_name("Errs")
            .set_key(key())
            .update_expression("SET status = :v")
            .expression_attribute_values(":v", s("x"))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
        )
    );
    let got = failure(
        client
            .get_item()
            .table_name("Errs")
            .set_key(key())
            .projection_expression("pk, name")
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name"
        )
    );

    // Placeholders given but never used.
    let got = failure(
        client
            .update_item()
            .table_name("Errs")
            .set_key(key())
            .update_expression("SET a = :v")
            .expression_attribute_values(":v", s("x"))
            .expression_attribute_values(":unused", s("y"))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
        )
    );
    let got = failure(
        client
            .put_item()
            .table_name("Errs")
            .set_item(key())
            .condition_expression("attribute_not_exists(pk)")
            .expression_attribute_names("#unused", "x")
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
        )
    );

    // A placeholder used but not given.
    let got = failure(
        client
            .update_item()
            .table_name("Errs")
            .set_key(key())
            .update_expression("SET a = :missing")
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :missing"
        )
    );
    let got = failure(
        client
            .delete_item()
            .table_name("Errs")
            .set_key(key())
            .condition_expression("#nope = :v")
            .expression_attribute_values(":v", n("1"))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"
        )
    );

    // A syntax error.
    let got = failure(
        client
            .update_item()
            .table_name("Errs")
            .set_key(key())
            .update_expression("INVALID SYNTAX HERE")
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\""
        )
    );

    // None of these wrote anything.
    let got = client
        .get_item()
        .table_name("Errs")
        .set_key(key())
        .send()
        .await
        .expect("GetItem");
    assert_eq!(got.item(), None);
}

#[tokio::test]
async fn key_mistakes() {
    let (_server, client) = setup().await;

    // The item lacks the key attribute.
    let got = failure(
        client
            .put_item()
            .table_name("Errs")
            .set_item(Some(item([("other", s("x"))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation("One or more parameter values were invalid: Missing the key pk in the item")
    );

    // A key that does not match the schema: missing, partial, extra.
    for key in [
        item([("other", s("x"))]),
        item([("pk", s("x"))]), // Errs2 also needs sk
        item([("pk", s("x")), ("sk", s("y")), ("extra", s("z"))]),
    ] {
        let got = failure(
            client
                .get_item()
                .table_name("Errs2")
                .set_key(Some(key.clone()))
                .send()
                .await,
        );
        assert_eq!(
            got,
            validation("The provided key element does not match the schema"),
            "key {key:?}"
        );
    }

    // A key of the wrong type.
    let got = failure(
        client
            .put_item()
            .table_name("Errs")
            .set_item(Some(item([("pk", n("1"))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation("One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
    );
    let got = failure(
        client
            .get_item()
            .table_name("Errs")
            .set_key(Some(item([("pk", n("1"))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation("The provided key element does not match the schema")
    );

    // An empty string as a key value.
    let got = failure(
        client
            .put_item()
            .table_name("Errs")
            .set_item(Some(item([("pk", s(""))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        )
    );
    let got = failure(
        client
            .get_item()
            .table_name("Errs2")
            .set_key(Some(item([("pk", s("a")), ("sk", s(""))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk"
        )
    );
}

#[tokio::test]
async fn item_over_400_kb_is_refused() {
    let (_server, client) = setup().await;
    let big = "x".repeat(400 * 1024);
    let got = failure(
        client
            .put_item()
            .table_name("Errs")
            .set_item(Some(item([("pk", s("big")), ("payload", s(&big))])))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation("Item size has exceeded the maximum allowed size")
    );

    // Just under the limit is fine (400 KB counts names and values).
    let fits = "x".repeat(400 * 1024 - "pk".len() - "fit".len() - "payload".len());
    client
        .put_item()
        .table_name("Errs")
        .set_item(Some(item([("pk", s("fit")), ("payload", s(&fits))])))
        .send()
        .await
        .expect("an item of exactly 400 KB");

    // Growing an item past the limit with UpdateItem is refused too.
    let got = failure(
        client
            .update_item()
            .table_name("Errs")
            .set_key(Some(item([("pk", s("fit"))])))
            .update_expression("SET more = :v")
            .expression_attribute_values(":v", s("yy"))
            .send()
            .await,
    );
    assert_eq!(
        got,
        validation("Item size to update has exceeded the maximum allowed size")
    );

    let stored = client
        .get_item()
        .table_name("Errs")
        .set_key(Some(item([("pk", s("fit"))])))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the 400 KB item");
    assert_eq!(stored.get("payload"), Some(&AttributeValue::S(fits)));
    assert!(!stored.contains_key("more"));
}

#[tokio::test]
async fn missing_table_is_resource_not_found() {
    let server = Server::in_memory().await;
    let client = server.client();

    let err = client
        .get_item()
        .table_name("Nope")
        .set_key(Some(item([("pk", s("k"))])))
        .send()
        .await
        .expect_err("no such table");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(common::message(&err), Some("Requested resource not found"));
    assert!(
        matches!(
            err.into_service_error(),
            GetItemError::ResourceNotFoundException(_)
        ),
        "the SDK maps it to its typed variant"
    );

    for got in [
        failure(
            client
                .put_item()
                .table_name("Nope")
                .set_item(Some(item([("pk", s("k"))])))
                .send()
                .await,
        ),
        failure(
            client
                .update_item()
                .table_name("Nope")
                .set_key(Some(item([("pk", s("k"))])))
                .update_expression("SET a = :v")
                .expression_attribute_values(":v", n("1"))
                .send()
                .await,
        ),
        failure(
            client
                .delete_item()
                .table_name("Nope")
                .set_key(Some(item([("pk", s("k"))])))
                .send()
                .await,
        ),
    ] {
        assert_eq!(
            got,
            (
                "ResourceNotFoundException".to_owned(),
                "Requested resource not found".to_owned()
            )
        );
    }
    assert_eq!(
        failure(client.describe_table().table_name("Nope").send().await),
        (
            "ResourceNotFoundException".to_owned(),
            "Requested resource not found: Table: Nope not found".to_owned()
        )
    );
    assert_eq!(
        failure(client.delete_table().table_name("Nope").send().await).0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        failure(
            client
                .update_table()
                .table_name("Nope")
                .deletion_protection_enabled(true)
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn unimplemented_operations_are_unknown_operations() {
    let (_server, client) = setup().await;
    let tags = failure(
        client
            .list_tags_of_resource()
            .resource_arn("arn:aws:dynamodb:us-east-1:000000000000:table/Errs")
            .send()
            .await,
    );
    assert_eq!(tags.0, "UnknownOperationException");
}
