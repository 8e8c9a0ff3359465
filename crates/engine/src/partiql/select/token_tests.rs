//! NextTokens behind the seal: a token this server sealed for the tenant
//! is still checked before it is used (a table re-created with other key
//! types, a partition the plan does not read, a key outside it), and a
//! token it did not seal is never decoded.

use base64::Engine as _;
use openddb_core::api::{CreateTableInput, ExecuteStatementInput, PutItemInput};
use openddb_core::keyenc::{encode_key_value, KeyValue};
use openddb_core::{AttributeValue, DynamoError, ErrorKind, Item, Number};

use super::{Resume, FINGERPRINT_BYTES};
use crate::sealed::Verified;
use crate::{Database, StorageConfig};

const TABLE: &str = "tok";
const SELECT: &str = "SELECT * FROM tok WHERE pk = 'a'";

async fn setup() -> Database {
    let db = Database::open(StorageConfig::InMemory).expect("open");
    let table: CreateTableInput = serde_json::from_value(serde_json::json!({
        "TableName": TABLE,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"}
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"}
        ],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("table input");
    db.create_table(table).await.expect("create table");
    for pk in ["a", "b"] {
        for sk in 1..=5 {
            let item = Item::from([
                ("pk".to_string(), AttributeValue::S(pk.into())),
                ("sk".to_string(), num(sk)),
            ]);
            db.put_item(PutItemInput {
                table_name: Some(TABLE.into()),
                item: Some(item),
                ..Default::default()
            })
            .await
            .expect("put");
        }
    }
    db
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(Number::parse(&n.to_string()).expect("number"))
}

async fn page(
    db: &Database,
    token: Option<String>,
) -> Result<(Vec<Item>, Option<String>), DynamoError> {
    let out = db
        .execute_statement(ExecuteStatementInput {
            statement: Some(SELECT.into()),
            limit: Some(2),
            next_token: token,
            ..Default::default()
        })
        .await?;
    Ok((out.items.unwrap_or_default(), out.next_token))
}

fn sealer(db: &Database) -> crate::sealed::Sealer {
    let tenant = db.tenant(&db.default_context().account_id).expect("tenant");
    tenant.sealer.clone()
}

/// The first page's token, opened the way the server opens it.
async fn first_token(db: &Database) -> (String, Resume) {
    let (items, token) = page(db, None).await.expect("first page");
    assert_eq!(items.len(), 2);
    let token = token.expect("a NextToken");
    let resume = sealer(db)
        .open_text::<Resume>(&token, &[], 32768)
        .map(Verified::into_inner)
        .expect("the server's own token opens");
    (token, resume)
}

fn encoded(values: &[AttributeValue]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode_key_value(KeyValue::try_from(v).expect("key type"), &mut out);
    }
    out
}

fn assert_refused(result: Result<(Vec<Item>, Option<String>), DynamoError>, message: &str) {
    match result {
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::ValidationException, "{}", e.message);
            assert_eq!(e.message, message);
        }
        Ok(page) => panic!("accepted: {page:?}"),
    }
}

#[tokio::test]
async fn a_resealed_copy_of_a_real_token_reads_on() {
    let db = setup().await;
    let (_, resume) = first_token(&db).await;
    assert_eq!(resume.partition, 0);
    assert_eq!(
        resume.key.as_deref(),
        Some(&encoded(&[AttributeValue::S("a".into()), num(2)])[..])
    );
    let again = sealer(&db).seal_text(&resume, &[]);
    let (items, _) = page(&db, Some(again)).await.expect("second page");
    let sks: Vec<_> = items.iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, [num(3), num(4)]);
}

#[tokio::test]
async fn sealed_tokens_with_wrong_contents_are_invalid() {
    let db = setup().await;
    let (_, resume) = first_token(&db).await;
    let sealer = sealer(&db);
    let with_key = |key: Option<Vec<u8>>| {
        sealer.seal_text(
            &Resume {
                key,
                ..resume.clone()
            },
            &[],
        )
    };
    let invalid = "Invalid NextToken";
    // Key values of the wrong types (pk N instead of S, sk S instead of N).
    for values in [
        vec![num(1), num(2)],
        vec![AttributeValue::S("a".into()), AttributeValue::S("2".into())],
        vec![AttributeValue::B(vec![1]), num(2)],
    ] {
        assert_refused(
            page(&db, Some(with_key(Some(encoded(&values))))).await,
            invalid,
        );
    }
    // Too few key values, one too many, bytes that are no encoding, a
    // trailing byte.
    let good = encoded(&[AttributeValue::S("a".into()), num(2)]);
    let mut trailing = good.clone();
    trailing.push(0);
    for key in [
        encoded(&[AttributeValue::S("a".into())]),
        encoded(&[AttributeValue::S("a".into()), num(2), num(3)]),
        vec![b'X', 1, 2, 3],
        vec![0xFF; 40],
        trailing,
    ] {
        assert_refused(page(&db, Some(with_key(Some(key)))).await, invalid);
    }
    // A key of another partition than the one the statement reads.
    let other = encoded(&[AttributeValue::S("b".into()), num(2)]);
    assert_refused(page(&db, Some(with_key(Some(other)))).await, invalid);
    // A partition the plan does not have (it reads one).
    let beyond = sealer.seal_text(
        &Resume {
            partition: 1,
            ..resume.clone()
        },
        &[],
    );
    assert_refused(page(&db, Some(beyond)).await, invalid);
    // Another statement's token.
    let foreign = sealer.seal_text(
        &Resume {
            fingerprint: [7; FINGERPRINT_BYTES],
            ..resume.clone()
        },
        &[],
    );
    assert_refused(
        page(&db, Some(foreign)).await,
        "NextToken does not match request",
    );
}

#[tokio::test]
async fn unsealed_and_edited_tokens_are_never_decoded() {
    let db = setup().await;
    let (token, _) = first_token(&db).await;
    let invalid = "Invalid NextToken";
    // The unsealed token of earlier builds, carrying a BOOL key: it once
    // reached the key encoder's panic.
    let old = base64::engine::general_purpose::STANDARD.encode(
        serde_json::json!({"h": "x", "p": 0, "k": {"pk": {"BOOL": true}, "sk": {"N": "2"}}})
            .to_string(),
    );
    assert_refused(page(&db, Some(old)).await, invalid);
    // Every single-byte edit of the real token's bytes, and truncations.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .expect("base64");
    for i in 0..bytes.len() {
        let mut edited = bytes.clone();
        edited[i] ^= 0x01;
        let edited = base64::engine::general_purpose::STANDARD.encode(edited);
        assert_refused(page(&db, Some(edited)).await, invalid);
        let cut = base64::engine::general_purpose::STANDARD.encode(&bytes[..i]);
        if !cut.is_empty() {
            assert_refused(page(&db, Some(cut)).await, invalid);
        }
    }
    // Not base64 at all.
    assert_refused(page(&db, Some("%%%".into())).await, invalid);
    // The token still works after all that.
    assert!(page(&db, Some(token)).await.is_ok());
}

#[tokio::test]
async fn another_databases_token_is_invalid() {
    let db = setup().await;
    let other = setup().await;
    let (token, _) = first_token(&other).await;
    assert_refused(page(&db, Some(token)).await, "Invalid NextToken");
}
