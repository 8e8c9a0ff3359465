//! Resource-based policies: PutResourcePolicy, GetResourcePolicy and
//! DeleteResourcePolicy on tables and streams, revision ids and
//! `ExpectedRevisionId`, CreateTable's `ResourcePolicy`, DeleteTable, the
//! document checks and every ARN shape, with DynamoDB's messages; and the
//! policy text authorization reads (`Database::resource_policy`).

#[macro_use]
mod common;

use common::*;
use openddb_core::ErrorKind;
use openddb_engine::{Database, StorageConfig};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/books";

fn doc(action: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": action,
            "Resource": ARN
        }]
    })
    .to_string()
}

async fn put_policy(
    db: &Database,
    arn: &str,
    policy: &str,
    expected: Option<&str>,
) -> Result<String, openddb_core::DynamoError> {
    let mut body = json!({"ResourceArn": arn, "Policy": policy});
    if let Some(e) = expected {
        body["ExpectedRevisionId"] = json!(e);
    }
    let out = wire(db, "PutResourcePolicy", body).await?;
    Ok(out["RevisionId"].as_str().expect("RevisionId").to_string())
}

async fn get_policy(db: &Database, arn: &str) -> Result<Value, openddb_core::DynamoError> {
    wire(db, "GetResourcePolicy", json!({"ResourceArn": arn})).await
}

fn not_found_message(detail: &str) -> String {
    format!("Resource-based policy not found for the provided ResourceArn: {detail}")
}

both_modes! {
    async fn put_get_delete_round_trip(db) {
        create_hash_table(db, "books").await;
        assert_error(
            get_policy(db, ARN).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message(ARN),
        );
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&doc("dynamodb:GetItem")).unwrap()).unwrap();
        let rev = put_policy(db, ARN, &pretty, None).await.expect("put");
        assert_eq!(rev.len(), 13, "epoch milliseconds: {rev}");
        let got = get_policy(db, ARN).await.expect("get");
        assert_eq!(got["RevisionId"], json!(rev));
        // Given back without the whitespace it was written with.
        let text = got["Policy"].as_str().unwrap();
        assert!(!text.contains(['\n', ' ']), "{text}");
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), serde_json::from_str::<Value>(&pretty).unwrap());
        // The same document in another layout keeps its revision.
        let same = json!({"Statement": {"Resource": [ARN], "Action": ["dynamodb:GetItem"], "Principal": {"AWS": "222222222222"}, "Effect": "Allow"}, "Version": "2012-10-17"}).to_string();
        assert_eq!(put_policy(db, ARN, &same, None).await.unwrap(), rev);
        // Another document gets a later revision.
        let rev2 = put_policy(db, ARN, &doc("dynamodb:PutItem"), Some(&rev)).await.expect("conditional put");
        assert!(rev2.parse::<u64>().unwrap() > rev.parse::<u64>().unwrap());
        // DescribeTable does not show it.
        let described = wire(db, "DescribeTable", json!({"TableName": "books"})).await.unwrap();
        assert!(!described.to_string().contains("PutItem"));
        let out = wire(db, "DeleteResourcePolicy", json!({"ResourceArn": ARN, "ExpectedRevisionId": rev2})).await.unwrap();
        assert_eq!(out["RevisionId"], json!(rev2));
        assert_error(get_policy(db, ARN).await, ErrorKind::PolicyNotFoundException, &not_found_message(ARN));
        // Deleting again is no error, and answers no revision.
        let out = wire(db, "DeleteResourcePolicy", json!({"ResourceArn": ARN})).await.unwrap();
        assert_eq!(out, json!({}));
    }

    async fn expected_revision_ids_are_checked(db) {
        create_hash_table(db, "books").await;
        assert_error(
            put_policy(db, ARN, &doc("dynamodb:GetItem"), Some("123456789")).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message("Requested update for policy with revision id 123456789, but table books has no associated policy."),
        );
        assert_error(
            wire(db, "DeleteResourcePolicy", json!({"ResourceArn": ARN, "ExpectedRevisionId": "123456789"})).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message("Requested update for policy with revision id 123456789, but table books has no associated policy."),
        );
        let rev = put_policy(db, ARN, &doc("dynamodb:GetItem"), Some("NO_POLICY")).await.expect("NO_POLICY put");
        assert_error(
            put_policy(db, ARN, &doc("dynamodb:Query"), Some("NO_POLICY")).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message(&format!("Requested policy update expecting none to be present for table books, but a policy exists with revision id {rev}.")),
        );
        let rev2 = put_policy(db, ARN, &doc("dynamodb:PutItem"), None).await.unwrap();
        assert_error(
            put_policy(db, ARN, &doc("dynamodb:Query"), Some(&rev)).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message(&format!("Requested update for policy with revision id {rev}, but the policy associated to target table books has revision id {rev2}.")),
        );
        assert_error(
            wire(db, "DeleteResourcePolicy", json!({"ResourceArn": ARN, "ExpectedRevisionId": rev})).await,
            ErrorKind::PolicyNotFoundException,
            &not_found_message(&format!("Requested update for policy with revision id {rev}, but the policy associated to target table books has revision id {rev2}.")),
        );
        // A refused change leaves the policy as it was.
        assert_eq!(get_policy(db, ARN).await.unwrap()["RevisionId"], json!(rev2));
    }

    async fn documents_are_checked_as_dynamodb_does(db) {
        create_hash_table(db, "books").await;
        let invalid = |m: &str| format!("One or more parameter values were invalid: {m}");
        let cases: Vec<(String, String)> = vec![
            ("{not json".into(), invalid("Invalid policy document: This policy contains invalid Json")),
            ("".into(), invalid("Invalid policy document: This policy contains invalid Json")),
            (json!({"Version": "2012-10-17", "Statement": []}).to_string(), invalid("Invalid policy document: Could not parse the policy: Statement is empty!")),
            (json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "dynamodb:GetItem"}}).to_string(), invalid("Invalid policy document: Missing required field Resource")),
            (json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}}).to_string(), invalid("Invalid policy document: Missing required field Principal")),
            (json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "dynamodb:GetItem", "Resource": "*"},
                {"Sid": "a", "Effect": "Deny", "Principal": {"AWS": "222222222222"}, "Action": "dynamodb:PutItem", "Resource": "*"}]}).to_string(),
             invalid("Invalid policy document: The Statement Ids in the policy are not unique")),
            (json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "not-a-principal"}, "Action": "dynamodb:GetItem", "Resource": "*"}}).to_string(), invalid("Invalid principal in policy document.")),
            (doc("dynamodb:GetRecords"), invalid("Invalid policy document: The following action names are invalid: \"dynamodb:GetRecords\"")),
            (json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"}}).to_string(),
             "Resource-based policy grants unbounded access in one or more elements. Please revise the policy to ensure least-privilege form of access".into()),
        ];
        for (policy, message) in cases {
            assert_error(put_policy(db, ARN, &policy, None).await, ErrorKind::ValidationException, &message);
        }
        // 20 KB, whitespace included.
        let padded = format!("{}{}", doc("dynamodb:GetItem"), " ".repeat(20 * 1024));
        assert_error(put_policy(db, ARN, &padded, None).await, ErrorKind::ValidationException, &invalid("Maximum policy size of 20480 bytes exceeded"));
        let fits = format!("{}{}", doc("dynamodb:GetItem"), " ".repeat(19 * 1024));
        put_policy(db, ARN, &fits, None).await.expect("19 KB with padding");
        // A wildcard principal is fine with a condition, or in a Deny.
        let conditioned = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteItem", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "dynamodb:GetItem", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": "222222222222"}}}]}).to_string();
        put_policy(db, ARN, &conditioned, None).await.expect("conditioned wildcard");
        // Members.
        assert_error(
            wire(db, "PutResourcePolicy", json!({"ResourceArn": ARN})).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null",
        );
        assert_error(
            wire(db, "GetResourcePolicy", json!({})).await,
            ErrorKind::ValidationException,
            "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null",
        );
    }

    async fn every_arn_shape_gets_its_error(db) {
        create_hash_table(db, "books").await;
        let invalid = |m: &str| format!("One or more parameter values were invalid: {m}");
        let cases: Vec<(&str, ErrorKind, String)> = vec![
            ("books", ErrorKind::ValidationException, invalid("ARNs must start with 'arn:': books")),
            ("arn:aws:dynamodb:us-east-1:000000000000:table/missing", ErrorKind::ResourceNotFoundException, "Requested resource not found: Table: missing not found".into()),
            ("arn:aws:dynamodb:us-east-1:000000000000:table/BOOKS", ErrorKind::ResourceNotFoundException, "Requested resource not found: Table: BOOKS not found".into()),
            ("arn:aws:dynamodb:us-east-1:999999999999:table/books", ErrorKind::ValidationException, "This action is only supported by accounts that match the resource owner\u{2019}s account.".into()),
            ("arn:aws:dynamodb:eu-west-1:000000000000:table/books", ErrorKind::ValidationException, invalid("Invalid resource Arn: arn:aws:dynamodb:eu-west-1:000000000000:table/books")),
            ("arn:aws-cn:dynamodb:us-east-1:000000000000:table/books", ErrorKind::ValidationException, invalid("Invalid resource Arn: arn:aws-cn:dynamodb:us-east-1:000000000000:table/books")),
            ("arn:aws:dynamodb:us-east-1:000000000000:table/books/index/byAuthor", ErrorKind::ValidationException, invalid("Invalid resource arn provided, only table or stream is accepted. Provided resource arn: arn:aws:dynamodb:us-east-1:000000000000:table/books/index/byAuthor")),
            ("arn:aws:dynamodb:us-east-1:000000000000:table/books/backup/0170", ErrorKind::ValidationException, invalid("Provided Arn is not a DynamoDB resource arn: arn:aws:dynamodb:us-east-1:000000000000:table/books/backup/0170")),
            ("arn:aws:s3:::bucket", ErrorKind::ValidationException, invalid("Provided Arn is not a DynamoDB resource arn: arn:aws:s3:::bucket")),
            ("arn:aws:dynamodb:us-east-1:000000000000:table/books/stream/2000-01-01T00:00:00.000", ErrorKind::ResourceNotFoundException, "Requested resource not found: Stream: 2000-01-01T00:00:00.000 not found for Table: books".into()),
        ];
        for (arn, kind, message) in cases {
            assert_error(get_policy(db, arn).await, kind, &message);
            assert_error(put_policy(db, arn, &doc("dynamodb:GetItem"), None).await, kind, &message);
            assert_error(wire(db, "DeleteResourcePolicy", json!({"ResourceArn": arn})).await, kind, &message);
        }
    }

    async fn a_stream_has_its_own_policy(db) {
        let mut input = hash_table_input("books");
        input.stream_specification = Some(openddb_core::api::StreamSpecification {
            stream_enabled: Some(true),
            stream_view_type: Some("KEYS_ONLY".into()),
        });
        let stream_arn = db.create_table(input).await.unwrap().table_description.unwrap().latest_stream_arn.unwrap();
        let stream_doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": "222222222222"}, "Action": ["dynamodb:GetRecords", "dynamodb:DescribeStream"], "Resource": stream_arn}}).to_string();
        assert_error(
            put_policy(db, &stream_arn, &doc("dynamodb:GetItem"), None).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Invalid policy document: The following action names are invalid: \"dynamodb:GetItem\"",
        );
        let rev = put_policy(db, &stream_arn, &stream_doc, None).await.expect("stream policy");
        assert_eq!(get_policy(db, &stream_arn).await.unwrap()["RevisionId"], json!(rev));
        // The table's slot is separate.
        assert_error(get_policy(db, ARN).await, ErrorKind::PolicyNotFoundException, &not_found_message(ARN));
        let table_rev = put_policy(db, ARN, &doc("dynamodb:GetItem"), None).await.unwrap();
        assert_eq!(db.resource_policy("000000000000", &stream_arn).await.unwrap().as_deref(), get_policy(db, &stream_arn).await.unwrap()["Policy"].as_str());
        assert_eq!(get_policy(db, ARN).await.unwrap()["RevisionId"], json!(table_rev));
        // Once the table is gone its stream's policy is not found.
        wire(db, "DeleteTable", json!({"TableName": "books"})).await.unwrap();
        assert_error(get_policy(db, &stream_arn).await, ErrorKind::PolicyNotFoundException, &not_found_message(&stream_arn));
    }

    async fn create_table_takes_a_policy_and_delete_table_removes_it(db) {
        let mut input = hash_table_input("books");
        input.resource_policy = Some(doc("dynamodb:GetItem"));
        db.create_table(input).await.expect("CreateTable with ResourcePolicy");
        let got = get_policy(db, ARN).await.expect("policy from CreateTable");
        assert!(got["Policy"].as_str().unwrap().contains("dynamodb:GetItem"));
        // What authorization reads, for the table and its indexes.
        let text = db.resource_policy("000000000000", ARN).await.unwrap().expect("policy text");
        assert_eq!(Some(text.as_str()), got["Policy"].as_str());
        let index = format!("{ARN}/index/byAuthor");
        assert_eq!(db.resource_policy("000000000000", &index).await.unwrap(), Some(text));
        assert_eq!(db.resource_policy("000000000000", "arn:aws:dynamodb:us-east-1:000000000000:table/other").await.unwrap(), None);
        wire(db, "DeleteTable", json!({"TableName": "books"})).await.unwrap();
        assert_error(get_policy(db, ARN).await, ErrorKind::ResourceNotFoundException, "Requested resource not found: Table: books not found");
        create_hash_table(db, "books").await;
        assert_error(get_policy(db, ARN).await, ErrorKind::PolicyNotFoundException, &not_found_message(ARN));
        // A bad policy fails the CreateTable.
        let mut input = hash_table_input("other");
        input.resource_policy = Some("{".into());
        assert_error(
            db.create_table(input).await,
            ErrorKind::ValidationException,
            "One or more parameter values were invalid: Invalid policy document: This policy contains invalid Json",
        );
        assert_error(describe_err(db, "other").await, ErrorKind::ResourceNotFoundException, "Requested resource not found: Table: other not found");
    }
}

async fn describe_err(db: &Database, name: &str) -> Result<Value, openddb_core::DynamoError> {
    wire(db, "DescribeTable", json!({"TableName": name})).await
}

#[tokio::test]
async fn a_policy_survives_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let rev = {
        let db = Database::open(StorageConfig::Directory(dir.path().into())).unwrap();
        create_hash_table(&db, "books").await;
        put_policy(&db, ARN, &doc("dynamodb:GetItem"), None)
            .await
            .unwrap()
    };
    let db = Database::open(StorageConfig::Directory(dir.path().into())).unwrap();
    let got = get_policy(&db, ARN).await.unwrap();
    assert_eq!(got["RevisionId"], json!(rev));
}
