//! The store's own tests: the lifecycle of accounts, users, keys and
//! policies, what the lookup answers, encryption at rest and keys.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

/// A directory as `SqliteTenants::open` leaves it.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("FORMAT"),
        format!("{}\n", openddb_kv_sqlite::FORMAT_LINE),
    )
    .unwrap();
    dir
}

fn open(dir: &Path) -> Arc<Store> {
    Store::open_with_key_file(dir, None).unwrap()
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_key_is_looked_up_with_its_principal_until_it_is_revoked() {
    let dir = data_dir();
    let store = open(dir.path());
    let account = store
        .create_account(Some("123456789012"), Some("team-a"))
        .unwrap();
    assert_eq!(account.account_id, "123456789012");
    let user = store
        .create_user("team-a", "alice", Some("/eng/"), &tags(&[("team", "blue")]))
        .unwrap();
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/eng/alice");
    assert!(user.user_id.starts_with("AIDA"));
    store.put_policy("123456789012", "read", POLICY).unwrap();
    store
        .attach_user_policy("123456789012", "alice", "read")
        .unwrap();
    let key = store.create_access_key("123456789012", "alice").unwrap();
    assert!(key.key.access_key_id.starts_with("AKIA"));
    assert_eq!(key.key.access_key_id.len(), 20);
    assert_eq!(key.secret_access_key.len(), 40);

    let record = store.lookup(&key.key.access_key_id).unwrap().unwrap();
    assert_eq!(record.secret, key.secret_access_key);
    assert_eq!(record.session_token, None);
    assert_eq!(record.principal.account_id, "123456789012");
    assert_eq!(record.principal.arn, user.arn);
    assert_eq!(record.principal.user_name, "alice");
    assert_eq!(record.principal.user_id, user.user_id);
    assert_eq!(record.principal.tags, tags(&[("team", "blue")]));
    assert_eq!(record.principal.policies, vec![Arc::<str>::from(POLICY)]);

    // Tag and policy changes reach the principal at once.
    store
        .tag_user("123456789012", "ALICE", &tags(&[("TEAM", "red")]))
        .unwrap();
    store
        .detach_user_policy("123456789012", "alice", "read")
        .unwrap();
    let record = store.lookup(&key.key.access_key_id).unwrap().unwrap();
    assert_eq!(record.principal.tags, tags(&[("TEAM", "red")]));
    assert!(record.principal.policies.is_empty());

    let id = &key.key.access_key_id;
    store
        .set_access_key_status(id, KeyStatus::Inactive)
        .unwrap();
    assert!(store.lookup(id).unwrap().is_none());
    store.set_access_key_status(id, KeyStatus::Active).unwrap();
    assert!(store.lookup(id).unwrap().is_some());
    store.delete_access_key(id).unwrap();
    assert!(store.lookup(id).unwrap().is_none());
    assert!(store.lookup("AKIAUNKNOWN000000000").unwrap().is_none());
    assert_eq!(
        store.delete_access_key(id).unwrap_err().code,
        ErrorCode::NoSuchEntity
    );
}

#[test]
fn a_change_made_through_another_connection_applies_on_the_next_lookup() {
    // Two stores on one file stand for the server and the admin CLI.
    let dir = data_dir();
    let server = open(dir.path());
    let cli = open(dir.path());
    cli.create_account(Some("111111111111"), None).unwrap();
    cli.create_user("111111111111", "bob", None, &BTreeMap::new())
        .unwrap();
    let key = cli.create_access_key("111111111111", "bob").unwrap();
    let id = &key.key.access_key_id;
    assert!(server.lookup(id).unwrap().is_some());
    cli.set_access_key_status(id, KeyStatus::Inactive).unwrap();
    assert!(server.lookup(id).unwrap().is_none());
    cli.set_access_key_status(id, KeyStatus::Active).unwrap();
    assert!(server.lookup(id).unwrap().is_some());
    cli.delete_user("111111111111", "bob", true).unwrap();
    assert!(server.lookup(id).unwrap().is_none());
}

#[test]
fn temporary_credentials_carry_a_token_and_expire() {
    let dir = data_dir();
    let store = open(dir.path());
    store.create_account(Some("222222222222"), None).unwrap();
    store
        .create_user("222222222222", "carol", None, &BTreeMap::new())
        .unwrap();
    let session = store
        .create_session_credentials("222222222222", "carol", 3600)
        .unwrap();
    let id = &session.key.access_key_id;
    assert!(id.starts_with("ASIA"));
    assert_eq!(session.key.kind, KeyKind::Temporary);
    let record = store.lookup(id).unwrap().unwrap();
    assert_eq!(record.session_token, session.session_token);
    assert!(record.expires.unwrap() > std::time::SystemTime::now());
    // Sessions do not count towards the two keys per user.
    store.create_access_key("222222222222", "carol").unwrap();
    store.create_access_key("222222222222", "carol").unwrap();
    assert_eq!(
        store
            .create_access_key("222222222222", "carol")
            .unwrap_err()
            .code,
        ErrorCode::LimitExceeded
    );
    for bad in [899, 129_601] {
        assert_eq!(
            store
                .create_session_credentials("222222222222", "carol", bad)
                .unwrap_err()
                .code,
            ErrorCode::ValidationError
        );
    }
    // Age the session past its expiry behind the store's back.
    let conn = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    conn.execute(
        "UPDATE access_keys SET expires = 1 WHERE access_key_id = ?1",
        [id],
    )
    .unwrap();
    assert!(store.lookup(id).unwrap().is_none());
}

#[test]
fn secrets_never_reach_the_disk_in_clear() {
    let dir = data_dir();
    let store = open(dir.path());
    store.create_account(Some("333333333333"), None).unwrap();
    store
        .create_user("333333333333", "dave", None, &BTreeMap::new())
        .unwrap();
    let key = store.create_access_key("333333333333", "dave").unwrap();
    let session = store
        .create_session_credentials("333333333333", "dave", 900)
        .unwrap();
    let needles = [
        key.secret_access_key.clone(),
        session.secret_access_key.clone(),
        session.session_token.clone().unwrap(),
    ];
    let check = |when: &str| {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for needle in &needles {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{when}: {} holds a secret in clear",
                    path.display()
                );
            }
        }
    };
    check("in the log");
    let conn = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    check("after a checkpoint");
    // The access key id itself is not secret: it is there.
    let main = std::fs::read(dir.path().join(STORE_FILE)).unwrap();
    let id = key.key.access_key_id.as_bytes();
    assert!(main.windows(id.len()).any(|w| w == id));
}

#[test]
fn another_key_is_refused_at_open() {
    let dir = data_dir();
    let key_file = dir.path().join("operator-key");
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    let store = Store::open_with_key_file(dir.path(), Some(&key_file)).unwrap();
    store.create_account(None, None).unwrap();
    drop(store);
    let other = dir.path().join("other-key");
    std::fs::write(&other, [7u8; 32]).unwrap();
    let err = Store::open_with_key_file(dir.path(), Some(&other)).unwrap_err();
    assert!(err.message.contains("does not open"), "{err}");
    // Nor does the data directory's own key, made now, open it.
    let err = Store::open_with_key_file(dir.path(), None).unwrap_err();
    assert!(err.message.contains("credentials-key"), "{err}");
    assert!(!dir.path().join(KEY_FILE).exists());
    // The right key still does.
    let store = Store::open_with_key_file(dir.path(), Some(&key_file)).unwrap();
    assert_eq!(store.list_accounts().unwrap().len(), 1);
}

#[test]
fn the_generated_key_is_private_and_reused() {
    let dir = data_dir();
    let store = open(dir.path());
    store.create_account(Some("444444444444"), None).unwrap();
    drop(store);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap().len(), 32);
    let store = open(dir.path());
    assert_eq!(store.list_accounts().unwrap()[0].account_id, "444444444444");
}

#[test]
fn only_an_openddb_data_directory_gets_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open_with_key_file(dir.path(), None).unwrap_err();
    assert!(
        err.message.contains("not an openddb data directory"),
        "{err}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    std::fs::write(dir.path().join("FORMAT"), "something else 9\n").unwrap();
    assert!(Store::open_with_key_file(dir.path(), None).is_err());
}

#[test]
fn deletions_are_refused_while_something_depends_on_them() {
    let store = Store::in_memory().unwrap();
    let account = store.create_account(None, None).unwrap().account_id;
    assert!(crate::is_account_id(&account));
    store
        .create_user(&account, "erin", None, &BTreeMap::new())
        .unwrap();
    store.put_policy(&account, "p", POLICY).unwrap();
    store.attach_user_policy(&account, "erin", "p").unwrap();
    // Attaching again changes nothing.
    store.attach_user_policy(&account, "erin", "P").unwrap();
    assert_eq!(store.get_policy(&account, "p").unwrap().attachment_count, 1);
    let conflict =
        |r: Result<(), StoreError>| assert_eq!(r.unwrap_err().code, ErrorCode::DeleteConflict);
    conflict(store.delete_policy(&account, "p", false));
    conflict(store.delete_user(&account, "erin", false));
    conflict(store.delete_account(&account, false));
    store.create_access_key(&account, "erin").unwrap();
    let err = store.delete_user(&account, "erin", false).unwrap_err();
    assert_eq!(
        err.message,
        "Cannot delete entity, must delete access keys first."
    );
    store.delete_policy(&account, "p", true).unwrap();
    assert!(store
        .get_user(&account, "erin")
        .unwrap()
        .attached_policies
        .is_empty());
    store.delete_account(&account, true).unwrap();
    assert!(store.list_accounts().unwrap().is_empty());
    assert_eq!(
        store.list_users(&account).unwrap_err().code,
        ErrorCode::NoSuchEntity
    );
}

#[test]
fn names_are_unique_without_regard_to_case() {
    let store = Store::in_memory().unwrap();
    store
        .create_account(Some("555555555555"), Some("dup"))
        .unwrap();
    assert_eq!(
        store
            .create_account(Some("555555555555"), None)
            .unwrap_err()
            .code,
        ErrorCode::EntityAlreadyExists
    );
    assert_eq!(
        store.create_account(None, Some("dup")).unwrap_err().code,
        ErrorCode::EntityAlreadyExists
    );
    store
        .create_user("dup", "Frank", None, &BTreeMap::new())
        .unwrap();
    let err = store
        .create_user("dup", "FRANK", None, &BTreeMap::new())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::EntityAlreadyExists);
    assert_eq!(err.message, "User with name FRANK already exists.");
    // Keys made through another spelling belong to the stored name.
    let key = store.create_access_key("dup", "frank").unwrap();
    assert_eq!(key.key.user_name, "Frank");
    assert_eq!(
        store.get_user("dup", "nobody").unwrap_err().message,
        "The user with name nobody cannot be found."
    );
}

#[test]
fn quotas_hold() {
    let store = Store::in_memory().unwrap();
    let a = store.create_account(None, None).unwrap().account_id;
    store.create_user(&a, "g", None, &BTreeMap::new()).unwrap();
    for i in 0..validate::MAX_POLICIES_PER_USER {
        store.put_policy(&a, &format!("p{i}"), POLICY).unwrap();
        store.attach_user_policy(&a, "g", &format!("p{i}")).unwrap();
    }
    store.put_policy(&a, "extra", POLICY).unwrap();
    assert_eq!(
        store
            .attach_user_policy(&a, "g", "extra")
            .unwrap_err()
            .message,
        "Cannot exceed quota for PoliciesPerUser: 10"
    );
    let many: BTreeMap<_, _> = (0..50)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    store.tag_user(&a, "g", &many).unwrap();
    assert_eq!(
        store
            .tag_user(&a, "g", &tags(&[("one-more", "")]))
            .unwrap_err()
            .code,
        ErrorCode::LimitExceeded
    );
    // Replacing an existing key's value is not one more.
    store.tag_user(&a, "g", &tags(&[("K0", "new")])).unwrap();
    let user = store
        .untag_user(&a, "g", &["k1".to_string(), "absent".to_string()])
        .unwrap();
    assert_eq!(user.tags.len(), 49);
    assert_eq!(user.tags.get("K0").map(String::as_str), Some("new"));
}

#[test]
fn the_admin_operations_speak_json() {
    let store = Store::in_memory().unwrap();
    let out = admin::execute(&store, "CreateAccount", br#"{"AccountId":"666666666666"}"#).unwrap();
    assert_eq!(out["Account"]["AccountId"], "666666666666");
    let out = admin::execute(
        &store,
        "CreateUser",
        br#"{"AccountId":"666666666666","UserName":"hal","Tags":[{"Key":"k","Value":"v"}]}"#,
    )
    .unwrap();
    assert_eq!(out["User"]["Tags"][0]["Key"], "k");
    let out = admin::execute(
        &store,
        "CreateAccessKey",
        br#"{"AccountId":"666666666666","UserName":"hal"}"#,
    )
    .unwrap();
    let id = out["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    assert_eq!(
        out["AccessKey"]["SecretAccessKey"].as_str().unwrap().len(),
        40
    );
    let out = admin::execute(&store, "ListAccessKeys", br#"{"AccountId":"666666666666"}"#).unwrap();
    assert_eq!(out["AccessKeys"][0]["AccessKeyId"], id.as_str());
    assert!(out["AccessKeys"][0].get("SecretAccessKey").is_none());
    let err = admin::execute(&store, "ListAccounts", br#"{"Bogus":1}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationError);
    let err = admin::execute(&store, "DropEverything", b"").unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownOperation);
    let err = admin::execute(
        &store,
        "UpdateAccessKey",
        format!(r#"{{"AccessKeyId":"{id}","Status":"Paused"}}"#).as_bytes(),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationError);
}
