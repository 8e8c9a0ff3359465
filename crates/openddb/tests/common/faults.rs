//! What the fault tests (power loss, disk full) share: a table whose items
//! are indexed by group, the write actions of their load, the reads that
//! check it afterwards, SQLite's integrity check, and the private mount
//! namespace their filesystem lives in.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, GlobalSecondaryIndex, KeyType, KeysAndAttributes, Projection,
    ProjectionType, ScalarAttributeType, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use super::{attr_def, item, key_elem, n, s, ServerProcess};

type Item = HashMap<String, AttributeValue>;

/// The global index over every item's group `g` (sorted by `pk`).
pub const INDEX: &str = "ByGroup";

/// The group of `key`, one of `groups`: the index's partition key.
pub fn group_of(key: &str, groups: usize) -> String {
    let sum: usize = key.bytes().map(usize::from).sum();
    format!("g{}", sum % groups)
}

/// Creates `table`, keyed by `pk` (a string), with the global index
/// [`INDEX`] on `g` projecting everything.
pub async fn create_grouped_table(client: &Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr_def("pk", ScalarAttributeType::S))
        .attribute_definitions(attr_def("g", ScalarAttributeType::S))
        .key_schema(key_elem("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(INDEX)
                .key_schema(key_elem("g", KeyType::Hash))
                .key_schema(key_elem("pk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("global secondary index"),
        )
        .send()
        .await
        .expect("CreateTable");
}

/// A TransactWriteItems action putting `it` in `table`.
pub fn put_action(table: &str, it: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            aws_sdk_dynamodb::types::Put::builder()
                .table_name(table)
                .set_item(Some(it))
                .build()
                .expect("put"),
        )
        .build()
}

/// A TransactWriteItems action adding one to the `c` of item `counter`.
pub fn increment_action(table: &str, counter: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .key("pk", s(counter))
                .update_expression("ADD c :one")
                .expression_attribute_values(":one", n("1"))
                .build()
                .expect("update"),
        )
        .build()
}

/// Per counter: increments acknowledged, and increments sent whose outcome
/// is unknown (unanswered, or refused by a fault).
#[derive(Debug, Default, Clone)]
pub struct Counters(pub BTreeMap<String, (i64, i64)>);

impl Counters {
    /// An increment of `counter` is about to be sent.
    pub fn begin(&mut self, counter: &str) {
        self.0.entry(counter.to_owned()).or_default().1 += 1;
    }

    /// The increment begun on `counter` was acknowledged.
    pub fn acknowledge(&mut self, counter: &str) {
        let entry = self.0.get_mut(counter).expect("begun");
        entry.0 += 1;
        entry.1 -= 1;
    }
}

/// Every item of `table` with one of `keys` as its `pk`: consistent
/// BatchGetItems of 100 keys, unprocessed keys asked for again.
pub async fn batch_get_all<K: AsRef<str>>(
    client: &Client,
    table: &str,
    keys: &[K],
) -> Result<Vec<Item>, SdkError<BatchGetItemError, HttpResponse>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(100) {
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(
                    chunk
                        .iter()
                        .map(|k| item([("pk", s(k.as_ref()))]))
                        .collect(),
                ))
                .consistent_read(true)
                .build()
                .expect("keys and attributes"),
        );
        while let Some(keys) = request.take() {
            let out = client
                .batch_get_item()
                .request_items(table, keys)
                .send()
                .await?;
            found.extend(
                out.responses()
                    .and_then(|r| r.get(table))
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            request = out
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
    }
    Ok(found)
}

/// Every entry of `group` in `table`'s index [`INDEX`], page after page.
pub async fn index_group(
    client: &Client,
    table: &str,
    group: &str,
) -> Result<Vec<Item>, SdkError<QueryError, HttpResponse>> {
    let mut entries = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .index_name(INDEX)
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", s(group))
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        entries.extend(out.items().iter().cloned());
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(entries);
        }
    }
}

/// The keys among `found` that belong in `group` of the index.
pub fn expected_in_group(
    found: &HashMap<String, Item>,
    group: &str,
    groups: usize,
) -> BTreeSet<String> {
    found
        .keys()
        .filter(|k| group_of(k, groups) == group)
        .cloned()
        .collect()
}

/// Whether some but not all of the items of one transaction are `found`.
pub fn half_there(group: &[String], found: &HashMap<String, Item>) -> bool {
    let present = group.iter().filter(|k| found.contains_key(*k)).count();
    present != 0 && present != group.len()
}

/// `PRAGMA integrity_check` of an open database: `["ok"]` when it is sound.
pub fn integrity_report(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("PRAGMA integrity_check").and_then(|mut stmt| {
        stmt.query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<_, _>>()
    })
}

/// `unshare` into a mount namespace of its own, with private propagation
/// (so that no mount made in it outlives it); the program and its
/// arguments are to be appended.
pub fn unshare_mount() -> Command {
    let mut command = Command::new("unshare");
    command.args(["--mount", "--propagation", "private", "--"]);
    command
}

/// `path` in the mount namespace of process `pid`, as this process sees it.
pub fn in_namespace(pid: u32, path: &Path) -> PathBuf {
    Path::new(&format!("/proc/{pid}/root")).join(path.strip_prefix("/").expect("an absolute path"))
}

/// Starts the server in the mount namespace of process `pid`, over
/// `data_dir` as it is seen there.
pub fn start_in_namespace(pid: u32, data_dir: &Path) -> ServerProcess {
    let pid = pid.to_string();
    let wrapper = ["nsenter", "--target", &pid, "--mount", "--"];
    ServerProcess::start_wrapped(&wrapper, data_dir, &[])
}
