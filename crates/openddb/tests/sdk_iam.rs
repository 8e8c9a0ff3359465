//! `--auth iam` end to end: the real `openddb` binary verifying SigV4
//! against keys `openddb admin` made (or a keys file), then deciding every
//! request by IAM policies — the identity policies attached to the key's
//! user and the table's resource-based policy — asserted on what a user of
//! the AWS SDK sees: DynamoDB's `AccessDeniedException` messages, nothing
//! written by a refused batch or transaction, another account's table
//! reached through its ARN.

mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::PathBuf;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use common::admin::{cli, cli_json};
use common::{client_with_credentials, create_table, item, put_request, s, ServerProcess};
use serde_json::{json, Value};

const A: &str = "111111111111";
const B: &str = "222222222222";
const REGION: &str = "us-east-1";

fn table_arn(account: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{account}:table/{table}")
}

fn user_arn(account: &str, user: &str) -> String {
    format!("arn:aws:iam::{account}:user/{user}")
}

// --- the credential store, through the CLI ------------------------------------

/// A data directory whose credential store the tests fill with
/// `openddb admin`, as an operator would.
struct Store {
    _dir: tempfile::TempDir,
    data: PathBuf,
}

/// An access key the CLI made, and whose it is.
struct Key {
    id: String,
    secret: String,
    account: String,
    user: String,
}

impl Key {
    fn arn(&self) -> String {
        user_arn(&self.account, &self.user)
    }

    fn client(&self, server: &ServerProcess) -> Client {
        client_with_credentials(server.addr, &self.id, &self.secret, None)
    }
}

impl Store {
    fn new() -> Store {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        Store { _dir: dir, data }
    }

    fn account(&self, id: &str) {
        cli_json(&self.data, &["accounts", "create", "--id", id]);
    }

    /// A user of `account` with one access key.
    fn user(&self, account: &str, name: &str) -> Key {
        cli_json(&self.data, &["users", "create", "--account", account, name]);
        let out = cli_json(
            &self.data,
            &["keys", "create", "--account", account, "--user", name],
        );
        let field = |f: &str| {
            out["AccessKey"][f]
                .as_str()
                .unwrap_or_else(|| panic!("{f} in {out}"))
                .to_owned()
        };
        Key {
            id: field("AccessKeyId"),
            secret: field("SecretAccessKey"),
            account: account.to_owned(),
            user: name.to_owned(),
        }
    }

    /// Creates the policy `name` in the key's account and attaches it to
    /// the key's user.
    fn grant(&self, key: &Key, name: &str, document: &Value) {
        let text = document.to_string();
        cli_json(
            &self.data,
            &[
                "policies",
                "put",
                "--account",
                &key.account,
                name,
                "--document",
                &text,
            ],
        );
        self.attach(key, name);
    }

    fn attach(&self, key: &Key, name: &str) {
        self.run(&[
            "policies",
            "attach",
            "--account",
            &key.account,
            "--user",
            &key.user,
            name,
        ]);
    }

    fn detach(&self, key: &Key, name: &str) {
        self.run(&[
            "policies",
            "detach",
            "--account",
            &key.account,
            "--user",
            &key.user,
            name,
        ]);
    }

    fn run(&self, args: &[&str]) {
        let out = cli(&self.data, args);
        assert!(
            out.status.success(),
            "openddb admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn serve(&self) -> ServerProcess {
        ServerProcess::start_with(&self.data, &["--auth", "iam"])
    }
}

// --- policies -------------------------------------------------------------------

/// An identity policy of one statement.
fn allow(actions: &[&str], resource: &str) -> Value {
    statement("Allow", actions, resource)
}

fn statement(effect: &str, actions: &[&str], resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": actions, "Resource": resource}
    ]})
}

/// Everything, everywhere: the account's administrator.
fn administrator() -> Value {
    allow(&["dynamodb:*"], "*")
}

// --- what a refused user sees ---------------------------------------------------

/// Why DynamoDB says a request was refused.
#[derive(Clone, Copy)]
enum Why {
    NoIdentityAllow,
    IdentityDeny,
    NoResourceAllow,
    ResourceDeny,
}

fn denial(principal: &str, action: &str, resource: &str, why: Why) -> String {
    let head =
        format!("User: {principal} is not authorized to perform: {action} on resource: {resource}");
    match why {
        Why::NoIdentityAllow => {
            format!("{head} because no identity-based policy allows the {action} action")
        }
        Why::IdentityDeny => format!("{head} with an explicit deny in an identity-based policy"),
        Why::NoResourceAllow => {
            format!("{head} because no resource-based policy allows the {action} action")
        }
        Why::ResourceDeny => format!("{head} with an explicit deny in a resource-based policy"),
    }
}

/// The error code and message of a request that must fail.
fn failure<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(
    what: &str,
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let err = match result {
        Ok(out) => panic!("{what} was served: {out:?}"),
        Err(err) => err,
    };
    let code = err.code().unwrap_or_else(|| panic!("{what}: {err:?}"));
    (
        code.to_owned(),
        common::message(&err).unwrap_or_default().to_owned(),
    )
}

/// Asserts `result` is DynamoDB's `AccessDeniedException` for `key`'s
/// `action` on `resource`.
fn assert_denied<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(
    result: Result<T, SdkError<E, R>>,
    key: &Key,
    action: &str,
    resource: &str,
    why: Why,
) {
    let got = failure(action, result);
    assert_eq!(
        got,
        (
            "AccessDeniedException".to_owned(),
            denial(&key.arn(), action, resource, why)
        ),
        "{action} on {resource}"
    );
}

// --- items ----------------------------------------------------------------------

type Item = HashMap<String, AttributeValue>;

fn key(pk: &str, sk: &str) -> Item {
    item([("pk", s(pk)), ("sk", s(sk))])
}

/// The item at `pk`/`sk` of `table`, read consistently.
async fn read(client: &Client, table: &str, pk: &str, sk: &str) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .set_key(Some(key(pk, sk)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

/// Every item of `table`'s partition `pk`, by sort key.
async fn partition(client: &Client, table: &str, pk: &str) -> Vec<Item> {
    client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s(pk))
        .consistent_read(true)
        .send()
        .await
        .expect("Query")
        .items
        .unwrap_or_default()
}

fn sort_keys(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .map(|i| match i.get("sk") {
            Some(AttributeValue::S(v)) => v.as_str(),
            other => panic!("sk of {i:?}: {other:?}"),
        })
        .collect()
}

fn put_entry(pk: &str, sk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name("Tab")
                .set_item(Some(key(pk, sk)))
                .build()
                .expect("Put"),
        )
        .build()
}

// --- the tests ------------------------------------------------------------------

#[tokio::test]
async fn a_user_without_policies_is_refused_everything() {
    let store = Store::new();
    store.account(A);
    let admin = store.user(A, "admin");
    store.grant(&admin, "admin", &administrator());
    let nobody = store.user(A, "nobody");
    let server = store.serve();
    let root = admin.client(&server);
    create_table(&root, "Tab", true).await;
    root.put_item()
        .table_name("Tab")
        .set_item(Some(key("p", "1")))
        .send()
        .await
        .expect("the administrator writes");

    let c = nobody.client(&server);
    let tab = table_arn(A, "Tab");
    let why = Why::NoIdentityAllow;
    assert_denied(
        c.list_tables().send().await,
        &nobody,
        "dynamodb:ListTables",
        "*",
        why,
    );
    assert_denied(
        c.describe_table().table_name("Tab").send().await,
        &nobody,
        "dynamodb:DescribeTable",
        &tab,
        why,
    );
    assert_denied(
        c.get_item()
            .table_name("Tab")
            .set_key(Some(key("p", "1")))
            .send()
            .await,
        &nobody,
        "dynamodb:GetItem",
        &tab,
        why,
    );
    assert_denied(
        c.put_item()
            .table_name("Tab")
            .set_item(Some(key("p", "2")))
            .send()
            .await,
        &nobody,
        "dynamodb:PutItem",
        &tab,
        why,
    );
    assert_denied(
        c.scan().table_name("Tab").send().await,
        &nobody,
        "dynamodb:Scan",
        &tab,
        why,
    );
    assert_denied(
        c.execute_statement()
            .statement(r#"SELECT * FROM "Tab" WHERE pk = 'p'"#)
            .send()
            .await,
        &nobody,
        "dynamodb:PartiQLSelect",
        &tab,
        why,
    );
    // A table that does not exist is not revealed: the refusal comes first.
    create_table_refused(&c, &nobody, "Other").await;
    assert_denied(
        c.delete_table().table_name("Nope").send().await,
        &nobody,
        "dynamodb:DeleteTable",
        &table_arn(A, "Nope"),
        why,
    );
    // Nothing was written.
    assert!(read(&root, "Tab", "p", "2").await.is_none());
    let tables = root.list_tables().send().await.expect("ListTables");
    assert_eq!(tables.table_names(), ["Tab"]);
    server.kill();
}

async fn create_table_refused(c: &Client, key: &Key, name: &str) {
    use aws_sdk_dynamodb::types::{BillingMode, KeyType, ScalarAttributeType};
    let result = c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(common::attr_def("pk", ScalarAttributeType::S))
        .key_schema(common::key_elem("pk", KeyType::Hash))
        .send()
        .await;
    assert_denied(
        result,
        key,
        "dynamodb:CreateTable",
        &table_arn(&key.account, name),
        Why::NoIdentityAllow,
    );
}

/// The item actions Alice's policy grants on `Tab`, only where every
/// partition key the request reaches is her user name.
fn own_partition_only() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OwnPartition",
        "Effect": "Allow",
        "Action": [
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
            "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query",
            "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
            "dynamodb:PartiQLSelect"
        ],
        "Resource": table_arn(A, "Tab"),
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}
    }]})
}

#[tokio::test]
async fn a_leading_keys_policy_confines_a_user_to_her_partition() {
    let store = Store::new();
    store.account(A);
    let admin = store.user(A, "admin");
    store.grant(&admin, "admin", &administrator());
    let alice = store.user(A, "alice");
    store.grant(&alice, "own-partition", &own_partition_only());
    let server = store.serve();
    let root = admin.client(&server);
    create_table(&root, "Tab", true).await;
    for pk in ["alice", "bob"] {
        let mut it = key(pk, "1");
        it.insert("v".into(), s(&format!("{pk}'s")));
        root.put_item()
            .table_name("Tab")
            .set_item(Some(it))
            .send()
            .await
            .expect("PutItem");
    }
    let c = alice.client(&server);
    let tab = table_arn(A, "Tab");

    // Her partition, through each operation.
    let got = c
        .get_item()
        .table_name("Tab")
        .set_key(Some(key("alice", "1")))
        .send()
        .await
        .expect("GetItem of her partition");
    assert_eq!(got.item().and_then(|i| i.get("v")), Some(&s("alice's")));
    c.put_item()
        .table_name("Tab")
        .set_item(Some(key("alice", "2")))
        .send()
        .await
        .expect("PutItem in her partition");
    c.update_item()
        .table_name("Tab")
        .set_key(Some(key("alice", "1")))
        .update_expression("SET n = :n")
        .expression_attribute_values(":n", common::n("1"))
        .send()
        .await
        .expect("UpdateItem in her partition");
    c.delete_item()
        .table_name("Tab")
        .set_key(Some(key("alice", "2")))
        .send()
        .await
        .expect("DeleteItem in her partition");
    c.batch_write_item()
        .request_items(
            "Tab",
            vec![
                put_request(key("alice", "3")),
                put_request(key("alice", "4")),
            ],
        )
        .send()
        .await
        .expect("BatchWriteItem in her partition");
    c.transact_write_items()
        .transact_items(put_entry("alice", "5"))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("Tab")
                        .set_key(Some(key("alice", "1")))
                        .update_expression("SET n = n + :one")
                        .expression_attribute_values(":one", common::n("1"))
                        .build()
                        .expect("Update"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("Tab")
                        .set_key(Some(key("alice", "3")))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .expect("ConditionCheck"),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactWriteItems in her partition");
    let queried = c
        .query()
        .table_name("Tab")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("alice"))
        .send()
        .await
        .expect("Query of her partition");
    assert_eq!(sort_keys(queried.items()), ["1", "3", "4", "5"]);
    let selected = c
        .execute_statement()
        .statement(r#"SELECT * FROM "Tab" WHERE pk = 'alice'"#)
        .send()
        .await
        .expect("a SELECT of her partition");
    assert_eq!(sort_keys(selected.items()), ["1", "3", "4", "5"]);
    let one = read(&root, "Tab", "alice", "1").await.expect("alice/1");
    assert_eq!(one.get("n"), Some(&common::n("2")));

    // Bob's partition, through each operation.
    let why = Why::NoIdentityAllow;
    assert_denied(
        c.get_item()
            .table_name("Tab")
            .set_key(Some(key("bob", "1")))
            .send()
            .await,
        &alice,
        "dynamodb:GetItem",
        &tab,
        why,
    );
    assert_denied(
        c.put_item()
            .table_name("Tab")
            .set_item(Some(key("bob", "2")))
            .send()
            .await,
        &alice,
        "dynamodb:PutItem",
        &tab,
        why,
    );
    assert_denied(
        c.update_item()
            .table_name("Tab")
            .set_key(Some(key("bob", "1")))
            .update_expression("SET n = :n")
            .expression_attribute_values(":n", common::n("1"))
            .send()
            .await,
        &alice,
        "dynamodb:UpdateItem",
        &tab,
        why,
    );
    assert_denied(
        c.delete_item()
            .table_name("Tab")
            .set_key(Some(key("bob", "1")))
            .send()
            .await,
        &alice,
        "dynamodb:DeleteItem",
        &tab,
        why,
    );
    assert_denied(
        c.query()
            .table_name("Tab")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("bob"))
            .send()
            .await,
        &alice,
        "dynamodb:Query",
        &tab,
        why,
    );
    assert_denied(
        c.execute_statement()
            .statement(r#"SELECT * FROM "Tab" WHERE pk = 'bob'"#)
            .send()
            .await,
        &alice,
        "dynamodb:PartiQLSelect",
        &tab,
        why,
    );
    // Mixing her partition and Bob's refuses the whole batch or
    // transaction.
    assert_denied(
        c.batch_write_item()
            .request_items(
                "Tab",
                vec![put_request(key("alice", "6")), put_request(key("bob", "6"))],
            )
            .send()
            .await,
        &alice,
        "dynamodb:BatchWriteItem",
        &tab,
        why,
    );
    assert_denied(
        c.transact_write_items()
            .transact_items(put_entry("alice", "7"))
            .transact_items(put_entry("bob", "7"))
            .send()
            .await,
        &alice,
        "dynamodb:PutItem",
        &tab,
        why,
    );

    // Reads of every partition: a Scan, a Query without a partition-key
    // equality, a SELECT without one. `ForAllValues` over no values would
    // be true; these must not pass for a grant of her partition.
    assert_denied(
        c.scan().table_name("Tab").send().await,
        &alice,
        "dynamodb:Scan",
        &tab,
        why,
    );
    assert_denied(
        c.query()
            .table_name("Tab")
            .key_condition_expression("sk = :s")
            .expression_attribute_values(":s", s("1"))
            .send()
            .await,
        &alice,
        "dynamodb:Query",
        &tab,
        why,
    );
    for statement in [
        r#"SELECT * FROM "Tab""#,
        r#"SELECT * FROM "Tab" WHERE sk = '1'"#,
        r#"SELECT * FROM "Tab" WHERE pk = 'alice' OR sk = '1'"#,
    ] {
        assert_denied(
            c.execute_statement().statement(statement).send().await,
            &alice,
            "dynamodb:PartiQLSelect",
            &tab,
            why,
        );
    }

    // Nothing the refused requests asked for was written.
    assert_eq!(
        sort_keys(&partition(&root, "Tab", "alice").await),
        ["1", "3", "4", "5"]
    );
    let bobs = partition(&root, "Tab", "bob").await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0], {
        let mut it = key("bob", "1");
        it.insert("v".into(), s("bob's"));
        it
    });
    server.kill();
}

#[tokio::test]
async fn an_explicit_deny_wins_and_detaching_a_policy_applies_at_once() {
    let store = Store::new();
    store.account(A);
    let admin = store.user(A, "admin");
    store.grant(&admin, "admin", &administrator());
    let erin = store.user(A, "erin");
    let tab = table_arn(A, "Tab");
    store.grant(
        &erin,
        "items",
        &allow(
            &[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ],
            &tab,
        ),
    );
    store.grant(
        &erin,
        "no-deletes",
        &statement("Deny", &["dynamodb:DeleteItem"], "*"),
    );
    let server = store.serve();
    create_table(&admin.client(&server), "Tab", true).await;
    let c = erin.client(&server);
    let get = || {
        c.get_item()
            .table_name("Tab")
            .set_key(Some(key("e", "1")))
            .send()
    };
    let delete = || {
        c.delete_item()
            .table_name("Tab")
            .set_key(Some(key("e", "1")))
            .send()
    };
    c.put_item()
        .table_name("Tab")
        .set_item(Some(key("e", "1")))
        .send()
        .await
        .expect("PutItem");
    assert!(get().await.expect("GetItem").item.is_some());
    assert_denied(
        delete().await,
        &erin,
        "dynamodb:DeleteItem",
        &tab,
        Why::IdentityDeny,
    );
    assert!(get().await.expect("GetItem").item.is_some());

    // The store acknowledges a change only once every server's next key
    // lookup sees it: the very next request is decided by the new set.
    store.detach(&erin, "no-deletes");
    delete()
        .await
        .expect("DeleteItem once the deny is detached");
    assert!(get().await.expect("GetItem").item.is_none());

    store.detach(&erin, "items");
    assert_denied(
        get().await,
        &erin,
        "dynamodb:GetItem",
        &tab,
        Why::NoIdentityAllow,
    );
    store.attach(&erin, "items");
    assert!(get().await.expect("GetItem again").item.is_none());
    server.kill();
}

#[tokio::test]
async fn another_accounts_table_is_reached_through_its_arn_when_both_policies_allow() {
    let store = Store::new();
    store.account(A);
    store.account(B);
    let admin = store.user(A, "admin");
    store.grant(&admin, "admin", &administrator());
    let bob = store.user(B, "bob");
    // Bob's own account's tables, and reads and writes of A's.
    store.grant(
        &bob,
        "own-tables",
        &allow(&["dynamodb:*"], &format!("arn:aws:dynamodb:*:{B}:table/*")),
    );
    store.grant(
        &bob,
        "reach-a",
        &allow(
            &["dynamodb:GetItem", "dynamodb:PutItem"],
            &format!("arn:aws:dynamodb:*:{A}:table/*"),
        ),
    );
    let server = store.serve();
    let root = admin.client(&server);
    let c = bob.client(&server);
    let shared = table_arn(A, "Shared");
    for (client, owner) in [(&root, "a"), (&c, "b")] {
        create_table(client, "Shared", false).await;
        client
            .put_item()
            .table_name("Shared")
            .item("pk", s("x"))
            .item("owner", s(owner))
            .send()
            .await
            .expect("PutItem in one's own table");
    }
    let get_by_arn = || c.get_item().table_name(&shared).key("pk", s("x")).send();
    let owner = |out: Option<&Item>| out.and_then(|i| i.get("owner")).cloned();

    // No resource policy: across accounts, the identity policy alone is
    // not enough.
    assert_denied(
        get_by_arn().await,
        &bob,
        "dynamodb:GetItem",
        &shared,
        Why::NoResourceAllow,
    );

    let resource_policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "BobReads",
        "Effect": "Allow",
        "Principal": {"AWS": user_arn(B, "bob")},
        "Action": "dynamodb:GetItem",
        "Resource": shared
    }]});
    root.put_resource_policy()
        .resource_arn(&shared)
        .policy(resource_policy.to_string())
        .send()
        .await
        .expect("PutResourcePolicy");

    let got = get_by_arn().await.expect("GetItem through A's ARN");
    assert_eq!(owner(got.item()), Some(s("a")));
    // The plain name is still his own table.
    let own = c
        .get_item()
        .table_name("Shared")
        .key("pk", s("x"))
        .send()
        .await
        .expect("GetItem of his own table");
    assert_eq!(owner(own.item()), Some(s("b")));

    // PutItem: his identity policy allows it, A's resource policy does not.
    assert_denied(
        c.put_item()
            .table_name(&shared)
            .item("pk", s("x"))
            .item("owner", s("bob was here"))
            .send()
            .await,
        &bob,
        "dynamodb:PutItem",
        &shared,
        Why::NoResourceAllow,
    );

    // One request reaches one account's tables.
    let keys = || {
        KeysAndAttributes::builder()
            .keys(item([("pk", s("x"))]))
            .build()
            .expect("KeysAndAttributes")
    };
    let (code, message) = failure(
        "BatchGetItem",
        c.batch_get_item()
            .request_items("Shared", keys())
            .request_items(&shared, keys())
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException", "{message}");
    assert_eq!(
        message,
        "One request can reach the tables of one account only; this BatchGetItem names \
         tables of 2 accounts"
    );

    // The resource policy alone is not enough either.
    store.detach(&bob, "reach-a");
    assert_denied(
        get_by_arn().await,
        &bob,
        "dynamodb:GetItem",
        &shared,
        Why::NoIdentityAllow,
    );

    // Both tables as their owners left them.
    let a_item = root
        .get_item()
        .table_name("Shared")
        .key("pk", s("x"))
        .consistent_read(true)
        .send()
        .await
        .expect("A's item");
    assert_eq!(owner(a_item.item()), Some(s("a")));
    let b_items = c
        .scan()
        .table_name("Shared")
        .consistent_read(true)
        .send()
        .await
        .expect("Bob scans his own table");
    assert_eq!(b_items.items(), [item([("pk", s("x")), ("owner", s("b"))])]);
    let b_tables = c.list_tables().send().await;
    // ListTables is on `*`, which Bob's policies do not name.
    assert_denied(
        b_tables,
        &bob,
        "dynamodb:ListTables",
        "*",
        Why::NoIdentityAllow,
    );
    let a_tables = root.list_tables().send().await.expect("ListTables");
    assert_eq!(a_tables.table_names(), ["Shared"]);
    server.kill();
}

/// DynamoDB's answer to a PutResourcePolicy whose new document would deny
/// its caller PutResourcePolicy, without ConfirmRemoveSelfResourceAccess.
const LOCKOUT: &str =
    "The new resource policy will not allow you to update the resource policy in the future.";

#[tokio::test]
async fn a_resource_policy_that_locks_its_author_out_needs_confirmation() {
    let store = Store::new();
    store.account(A);
    let carol = store.user(A, "carol");
    store.grant(&carol, "admin", &administrator());
    let server = store.serve();
    let c = carol.client(&server);
    create_table(&c, "Locked", false).await;
    let locked = table_arn(A, "Locked");
    let deny = |who: &str, action: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Deny",
            "Effect": "Deny",
            "Principal": {"AWS": user_arn(A, who)},
            "Action": action,
            "Resource": locked
        }]})
        .to_string()
    };
    let put = |policy: String| c.put_resource_policy().resource_arn(&locked).policy(policy);

    // A policy that leaves her PutResourcePolicy needs no confirmation.
    put(deny("dave", "dynamodb:PutResourcePolicy"))
        .send()
        .await
        .expect("a policy about someone else");
    put(deny("carol", "dynamodb:GetItem"))
        .send()
        .await
        .expect("a policy denying her something else");

    let (code, message) = failure(
        "PutResourcePolicy denying its author",
        put(deny("carol", "dynamodb:PutResourcePolicy"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDeniedException", LOCKOUT)
    );
    // The refused policy was not stored.
    let current = c
        .get_resource_policy()
        .resource_arn(&locked)
        .send()
        .await
        .expect("GetResourcePolicy");
    assert!(
        current.policy().unwrap_or_default().contains("GetItem"),
        "{current:?}"
    );
    let (code, message) = failure(
        "PutResourcePolicy with ConfirmRemoveSelfResourceAccess false",
        put(deny("carol", "dynamodb:PutResourcePolicy"))
            .confirm_remove_self_resource_access(false)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDeniedException", LOCKOUT)
    );

    put(deny("carol", "dynamodb:PutResourcePolicy"))
        .confirm_remove_self_resource_access(true)
        .send()
        .await
        .expect("PutResourcePolicy, confirmed");
    assert_denied(
        put(deny("dave", "dynamodb:GetItem")).send().await,
        &carol,
        "dynamodb:PutResourcePolicy",
        &locked,
        Why::ResourceDeny,
    );
    // The policy denies nothing else: she may still delete it, and then
    // change the table's policy again.
    c.delete_resource_policy()
        .resource_arn(&locked)
        .send()
        .await
        .expect("DeleteResourcePolicy");
    put(deny("dave", "dynamodb:GetItem"))
        .send()
        .await
        .expect("PutResourcePolicy once the deny is gone");
    server.kill();
}

#[tokio::test]
async fn a_keys_file_gives_keys_their_policies_and_tags() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keys = dir.path().join("keys.json");
    let admin = Key {
        id: "AKIAKEYSFILEADMIN001".into(),
        secret: "admin/secret/admin/secret/admin/secret/0".into(),
        account: A.into(),
        user: "admin".into(),
    };
    let dave = Key {
        id: "AKIAKEYSFILEDAVE0002".into(),
        secret: "dave+secret+dave+secret+dave+secret+000".into(),
        account: A.into(),
        user: "dave".into(),
    };
    let eve = Key {
        id: "AKIAKEYSFILEEVE00003".into(),
        secret: "eve/secret/eve/secret/eve/secret/eve/00".into(),
        account: A.into(),
        user: "eve".into(),
    };
    let entry = |k: &Key| {
        json!({"accessKeyId": k.id, "secretAccessKey": k.secret,
               "accountId": k.account, "userName": k.user})
    };
    let mut admin_entry = entry(&admin);
    admin_entry["policies"] = json!([administrator()]);
    let mut dave_entry = entry(&dave);
    dave_entry["tags"] = json!({"team": "red"});
    dave_entry["policies"] = json!([
        allow(
            &["dynamodb:GetItem", "dynamodb:PutItem"],
            "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*",
        ),
        statement("Deny", &["dynamodb:PutItem"], &table_arn(A, "red-archive")),
    ]);
    let file = json!([admin_entry, dave_entry, entry(&eve)]);
    std::fs::write(&keys, file.to_string()).expect("write the keys file");
    let server = ServerProcess::start_with(
        &dir.path().join("data"),
        &[
            "--auth",
            "iam",
            "--auth-keys-file",
            keys.to_str().expect("a UTF-8 path"),
        ],
    );
    let root = admin.client(&server);
    for table in ["red-orders", "red-archive", "blue-orders"] {
        create_table(&root, table, false).await;
    }
    let c = dave.client(&server);
    c.put_item()
        .table_name("red-orders")
        .item("pk", s("o1"))
        .send()
        .await
        .expect("PutItem in his team's table");
    let got = c
        .get_item()
        .table_name("red-orders")
        .key("pk", s("o1"))
        .send()
        .await
        .expect("GetItem in his team's table");
    assert!(got.item().is_some());
    assert_denied(
        c.put_item()
            .table_name("blue-orders")
            .item("pk", s("o1"))
            .send()
            .await,
        &dave,
        "dynamodb:PutItem",
        &table_arn(A, "blue-orders"),
        Why::NoIdentityAllow,
    );
    assert_denied(
        c.put_item()
            .table_name("red-archive")
            .item("pk", s("o1"))
            .send()
            .await,
        &dave,
        "dynamodb:PutItem",
        &table_arn(A, "red-archive"),
        Why::IdentityDeny,
    );
    assert_denied(
        eve.client(&server)
            .get_item()
            .table_name("red-orders")
            .key("pk", s("o1"))
            .send()
            .await,
        &eve,
        "dynamodb:GetItem",
        &table_arn(A, "red-orders"),
        Why::NoIdentityAllow,
    );
    let blue = root
        .scan()
        .table_name("blue-orders")
        .send()
        .await
        .expect("Scan");
    assert_eq!(blue.count(), 0);
    server.kill();
}
