//! Resource-based policies through the SDK: what a user of
//! PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy sees
//! (revision ids, the typed PolicyNotFoundException, validation), and
//! CreateTable's ResourcePolicy, each account with its own tables.

mod common;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{BillingMode, KeyType, ScalarAttributeType};
use common::{attr_def, client_with_key, create_stream_table, create_table, key_elem, Server};

fn policy(account: &str, action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Reader","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"{action}","Resource":"*"}}]}}"#
    )
}

#[tokio::test]
async fn policies_through_the_sdk() {
    let server = Server::in_memory().await;
    // A 12-digit access key selects its account.
    let client = client_with_key(server.addr, "111111111111");
    create_table(&client, "books", false).await;
    let arn = "arn:aws:dynamodb:us-east-1:111111111111:table/books";

    let err = client
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_policy_not_found_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            format!("Resource-based policy not found for the provided ResourceArn: {arn}").as_str()
        )
    );

    let put = client
        .put_resource_policy()
        .resource_arn(arn)
        .policy(policy("222222222222", "dynamodb:GetItem"))
        .expected_revision_id("NO_POLICY")
        .send()
        .await
        .expect("PutResourcePolicy");
    let revision = put.revision_id().expect("RevisionId").to_string();
    let got = client
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .expect("GetResourcePolicy");
    assert_eq!(got.revision_id(), Some(revision.as_str()));
    assert_eq!(
        got.policy(),
        Some(policy("222222222222", "dynamodb:GetItem").as_str())
    );

    // A stale revision is refused, the policy stays.
    let err = client
        .put_resource_policy()
        .resource_arn(arn)
        .policy(policy("222222222222", "dynamodb:Query"))
        .expected_revision_id("1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_policy_not_found_exception(), "{err:?}");

    // Malformed documents are a ValidationException.
    let err = client
        .put_resource_policy()
        .resource_arn(arn)
        .policy("{")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("One or more parameter values were invalid: Invalid policy document: This policy contains invalid Json")
    );

    // Another account's tables are not reachable by ARN.
    let other = client_with_key(server.addr, "222222222222");
    let err = other
        .get_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));

    let deleted = client
        .delete_resource_policy()
        .resource_arn(arn)
        .expected_revision_id(&revision)
        .send()
        .await
        .expect("DeleteResourcePolicy");
    assert_eq!(deleted.revision_id(), Some(revision.as_str()));
    let again = client
        .delete_resource_policy()
        .resource_arn(arn)
        .send()
        .await
        .expect("DeleteResourcePolicy without a policy");
    assert_eq!(again.revision_id(), None);
    server.shutdown().await;
}

#[tokio::test]
async fn create_table_with_a_policy_and_a_stream_policy() {
    let server = Server::in_memory().await;
    let client = server.client();
    client
        .create_table()
        .table_name("orders")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .resource_policy(policy("222222222222", "dynamodb:GetItem"))
        .send()
        .await
        .expect("CreateTable with ResourcePolicy");
    let got = client
        .get_resource_policy()
        .resource_arn("arn:aws:dynamodb:us-east-1:000000000000:table/orders")
        .send()
        .await
        .expect("policy given at creation");
    assert!(got.policy().unwrap().contains("dynamodb:GetItem"));

    let stream_arn = create_stream_table(&client, "events", "NEW_IMAGE", false).await;
    let rev = client
        .put_resource_policy()
        .resource_arn(&stream_arn)
        .policy(policy("222222222222", "dynamodb:GetRecords"))
        .send()
        .await
        .expect("stream policy")
        .revision_id
        .expect("RevisionId");
    let got = client
        .get_resource_policy()
        .resource_arn(&stream_arn)
        .send()
        .await
        .expect("GetResourcePolicy on the stream");
    assert_eq!(got.revision_id(), Some(rev.as_str()));

    let err = client
        .create_table()
        .table_name("open")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .resource_policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"dynamodb:*","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some("Resource-based policy grants unbounded access in one or more elements. Please revise the policy to ensure least-privilege form of access")
    );
    server.shutdown().await;
}
