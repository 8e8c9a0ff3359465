//! An account that only reads costs no file: loading its catalog and
//! listing its tables create nothing on disk; its first write creates its
//! file in the hashed layout.

use openddb_engine::{Database, RequestContext, StorageConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_only_reads_has_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(StorageConfig::Directory(dir.path().to_path_buf())).unwrap();
    let ctx = RequestContext {
        account_id: "123456789012".into(),
        ..RequestContext::default()
    };
    let file = openddb_kv_sqlite::tenant_file(&dir.path().join("tenants"), "123456789012");

    let listed = db.dispatch(&ctx, "ListTables", b"{}").await.unwrap();
    assert_eq!(listed, br#"{"TableNames":[]}"#);
    let missing = db
        .dispatch(&ctx, "DescribeTable", br#"{"TableName":"nope"}"#)
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("ResourceNotFoundException"),
        "{missing}"
    );
    assert!(!file.exists());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tenants"))
            .unwrap()
            .count(),
        0,
        "no file and no directory for a reading account"
    );

    let create = br#"{"TableName":"tbl1","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
        "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;
    db.dispatch(&ctx, "CreateTable", create).await.unwrap();
    assert!(file.is_file(), "the first write creates {}", file.display());
}
