//! Pieces several actions share: time, ARNs, table descriptions with live
//! statistics, and the member checks every item action starts with.

use std::time::{SystemTime, UNIX_EPOCH};

use openddb_core::api::validate::Violations;
use openddb_core::api::TableDescription;
use openddb_core::DynamoError;
use std::collections::HashMap;

use openddb_kv::{KeyRange, KvError, ReadTxn};

use crate::catalog::{IndexStatus, TableMeta};
use crate::keys::{self, TableStats};

/// Seconds since the epoch with millisecond precision, as DynamoDB reports times.
pub fn now_epoch_seconds() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

pub fn table_arn(region: &str, account: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{table}")
}

/// Reads a table's statistics in `txn`; `None` when the table is gone.
pub fn read_stats(txn: &dyn ReadTxn, table_id: u64) -> Result<Option<TableStats>, KvError> {
    let raw = txn.get(&keys::stats_key(table_id))?;
    Ok(raw.and_then(|b| TableStats::decode(&b)))
}

/// A table's statistics and those of its indexes, by index id.
#[derive(Debug, Clone, Default)]
pub struct AllStats {
    pub table: TableStats,
    pub indexes: HashMap<u32, TableStats>,
}

/// Reads the statistics of a table and all its indexes; `None` when the
/// table is gone.
pub fn read_all_stats(txn: &dyn ReadTxn, table_id: u64) -> Result<Option<AllStats>, KvError> {
    let prefix = keys::index_stats_prefix(table_id);
    let rows = txn.scan(&KeyRange::prefix(&prefix), false, usize::MAX)?;
    let mut out: Option<AllStats> = None;
    let mut indexes = HashMap::new();
    for (k, v) in rows {
        let Some(stats) = TableStats::decode(&v) else {
            continue;
        };
        match k.len() - prefix.len() {
            0 => {
                out = Some(AllStats {
                    table: stats,
                    indexes: HashMap::new(),
                })
            }
            4 => {
                let id = u32::from_be_bytes(k[prefix.len()..].try_into().unwrap_or_default());
                indexes.insert(id, stats);
            }
            _ => {}
        }
    }
    Ok(out.map(|mut s| {
        s.indexes = indexes;
        s
    }))
}

/// The table's description with live statistics for it and its indexes,
/// and each index's current status.
pub fn describe_with_stats(meta: &TableMeta, stats: &AllStats) -> TableDescription {
    let mut d = meta.description.clone();
    if meta.indexes.iter().any(|i| i.status != IndexStatus::Active) {
        d.table_status = Some("UPDATING".into());
    }
    d.item_count = Some(stats.table.item_count);
    d.table_size_bytes = Some(stats.table.size_bytes);
    let index_stats = |name: &str| {
        meta.index(name)
            .and_then(|i| stats.indexes.get(&i.id).copied())
            .unwrap_or_default()
    };
    if let Some(lsis) = d.local_secondary_indexes.as_mut() {
        for lsi in lsis {
            let s = index_stats(lsi.index_name.as_deref().unwrap_or_default());
            lsi.item_count = Some(s.item_count);
            lsi.index_size_bytes = Some(s.size_bytes);
        }
    }
    if let Some(gsis) = d.global_secondary_indexes.as_mut() {
        for gsi in gsis {
            let name = gsi.index_name.clone().unwrap_or_default();
            let s = index_stats(&name);
            gsi.item_count = Some(s.item_count);
            gsi.index_size_bytes = Some(s.size_bytes);
            if let Some(index) = meta.index(&name) {
                gsi.index_status = Some(index.status.wire().into());
                gsi.backfilling = (index.status == IndexStatus::Creating).then_some(true);
            }
        }
    }
    d
}

/// A table's description as `ctx` sees it: the ARNs stored when the table
/// was made (in its creator's region) named in the caller's account and
/// region. The encryption key's ARN is left as stored: it may be a key the
/// user named.
pub fn localize_description(
    mut d: TableDescription,
    ctx: &crate::RequestContext,
) -> TableDescription {
    let localize = |arn: &mut Option<String>| {
        if let Some(a) = arn.as_mut() {
            *a = crate::arn::localize(a, ctx);
        }
    };
    localize(&mut d.table_arn);
    localize(&mut d.latest_stream_arn);
    for lsi in d.local_secondary_indexes.iter_mut().flatten() {
        localize(&mut lsi.index_arn);
    }
    for gsi in d.global_secondary_indexes.iter_mut().flatten() {
        localize(&mut gsi.index_arn);
    }
    d
}

/// The `TableName` member check of every action but CreateTable.
pub fn check_table_name(v: &mut Violations, name: &Option<String>) {
    v.table_name(name.as_deref(), "tableName", 1);
}

/// The `TableName` check of the item actions: today DynamoDB reports an
/// empty name without echoing it, and capitalises the member.
pub fn check_item_table_name(v: &mut Violations, name: &Option<String>) {
    match name.as_deref() {
        Some("") => v.push_unnamed_value(
            "TableName",
            "Member must have length greater than or equal to 1",
        ),
        other => v.table_name(other, "tableName", 1),
    }
}

/// PutItem, UpdateItem and DeleteItem report request-level problems inside
/// DynamoDB's validation envelope (June 2026 wording).
pub fn envelope(e: DynamoError) -> DynamoError {
    if e.kind != openddb_core::ErrorKind::ValidationException
        || e.message.contains("validation error")
    {
        return e;
    }
    DynamoError::validation(format!("1 validation error detected: {}", e.message))
}

/// The `ConditionalCheckFailedException` of a write, carrying the old item
/// when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
pub fn condition_failed(old: Option<&openddb_core::Item>, return_old: bool) -> DynamoError {
    DynamoError::conditional_check_failed(if return_old { old.cloned() } else { None })
}

/// `ItemCollectionMetrics` for a write to a table with local secondary
/// indexes, when asked for with `SIZE`: the partition key and DynamoDB's
/// estimate of the collection's size as a range of whole gigabytes.
pub fn item_collection_metrics(
    meta: &TableMeta,
    item_key: &openddb_core::Item,
    asked: Option<&str>,
    collection_size: Option<i64>,
) -> Option<openddb_core::api::ItemCollectionMetrics> {
    let has_lsi = meta.indexes.iter().any(|i| !i.global);
    if asked != Some("SIZE") || !has_lsi {
        return None;
    }
    let mut key = openddb_core::Item::new();
    if let Some(v) = item_key.get(&meta.key_schema.partition_key.name) {
        key.insert(meta.key_schema.partition_key.name.clone(), v.clone());
    }
    let gb = collection_size.unwrap_or(0) as f64 / (1024.0 * 1024.0 * 1024.0);
    let lower = gb.floor();
    Some(openddb_core::api::ItemCollectionMetrics {
        item_collection_key: Some(key),
        size_estimate_range_g_b: Some(vec![lower, lower + 1.0]),
    })
}

/// Fails with DynamoDB's message when an item is over 400 KB.
pub fn check_item_size(item: &openddb_core::Item, update: bool) -> Result<(), DynamoError> {
    if openddb_core::size::item_size(item) > openddb_core::size::MAX_ITEM_SIZE {
        return Err(DynamoError::validation(if update {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        }));
    }
    Ok(())
}

/// `Attributes` is left out of a response rather than sent empty.
pub fn non_empty(item: Option<openddb_core::Item>) -> Option<openddb_core::Item> {
    item.filter(|i| !i.is_empty())
}

/// The member checks of PutItem, UpdateItem and DeleteItem, in the two
/// layers DynamoDB has had since June 2026:
///
/// - when the item/key member is missing, the older framework layer
///   reports every violation together, each as `Value 'x' at 'member'`;
/// - otherwise an invalid table name is reported alone (an empty one as
///   `Value at 'TableName'`), then the enumerations, where `ReturnValues`
///   has its own unnamed form (and UpdateItem reports only that one).
pub struct WriteMembers<'a> {
    pub action: WriteAction,
    pub table_name: &'a Option<String>,
    pub return_consumed_capacity: Option<&'a str>,
    pub return_item_collection_metrics: Option<&'a str>,
    pub conditional_operator: Option<&'a str>,
    pub return_values: Option<&'a str>,
    pub return_values_on_ccf: Option<&'a str>,
    /// Whether `Item` (PutItem) or `Key` is present.
    pub target_present: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAction {
    Put,
    Update,
    Delete,
}

/// ReturnValues as today's DynamoDB lists it in its unnamed message (sic).
const RETURN_VALUES_NEW_FORM: &str = "[ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATE_NEW, NONE]";

impl WriteMembers<'_> {
    pub fn check(&self) -> Result<(), DynamoError> {
        use openddb_core::api::validate::{
            CONDITIONAL_OPERATOR, RETURN_CONSUMED_CAPACITY, RETURN_ITEM_COLLECTION_METRICS,
            RETURN_VALUES, RETURN_VALUES_ON_CCF,
        };
        let target = if self.action == WriteAction::Put {
            "item"
        } else {
            "key"
        };
        if !self.target_present {
            let mut v = Violations::new();
            v.one_of(
                self.return_consumed_capacity,
                "returnConsumedCapacity",
                RETURN_CONSUMED_CAPACITY,
            );
            v.one_of(
                self.return_item_collection_metrics,
                "returnItemCollectionMetrics",
                RETURN_ITEM_COLLECTION_METRICS,
            );
            v.one_of(
                self.conditional_operator,
                "conditionalOperator",
                CONDITIONAL_OPERATOR,
            );
            v.table_name(self.table_name.as_deref(), "tableName", 1);
            v.one_of(self.return_values, "returnValues", RETURN_VALUES);
            v.one_of(
                self.return_values_on_ccf,
                "returnValuesOnConditionCheckFailure",
                RETURN_VALUES_ON_CCF,
            );
            v.push("null", target, "Member must not be null");
            return v.into_result();
        }
        let mut v = Violations::new();
        check_item_table_name(&mut v, self.table_name);
        if !v.is_empty() {
            return v.into_result();
        }
        let bad_return_values = self
            .return_values
            .is_some_and(|r| !RETURN_VALUES.contains(&r));
        if self.action == WriteAction::Update && bad_return_values {
            v.push_unnamed(&format!(
                "Member must satisfy enum value set: {RETURN_VALUES_NEW_FORM}"
            ));
            return v.into_result();
        }
        v.one_of(
            self.conditional_operator,
            "conditionalOperator",
            CONDITIONAL_OPERATOR,
        );
        v.one_of(
            self.return_consumed_capacity,
            "returnConsumedCapacity",
            RETURN_CONSUMED_CAPACITY,
        );
        if bad_return_values {
            v.push_unnamed(&format!(
                "Member must satisfy enum value set: {RETURN_VALUES_NEW_FORM}"
            ));
        }
        v.one_of(
            self.return_item_collection_metrics,
            "returnItemCollectionMetrics",
            RETURN_ITEM_COLLECTION_METRICS,
        );
        v.one_of(
            self.return_values_on_ccf,
            "returnValuesOnConditionCheckFailure",
            RETURN_VALUES_ON_CCF,
        );
        v.into_result()
    }
}

/// The request-level checks of PutItem and DeleteItem, which both accept
/// only `NONE` and `ALL_OLD` as ReturnValues.
pub fn prepare_conditional_write(
    expressions: crate::expressions::RequestExpressions<'_>,
    return_values: Option<&str>,
) -> Result<crate::expressions::Prepared, DynamoError> {
    let prepared = expressions.prepare()?;
    if !matches!(return_values, None | Some("NONE" | "ALL_OLD")) {
        return Err(DynamoError::validation(
            "ReturnValues can only be ALL_OLD or NONE",
        ));
    }
    Ok(prepared)
}

/// The SSEDescription of KMS encryption as requested: DynamoDB reports a
/// customer key by the id given, and makes up an AWS-managed key otherwise.
pub fn sse_description(
    sse: &openddb_core::api::SseSpecification,
    ctx: &crate::RequestContext,
) -> openddb_core::api::SseDescription {
    openddb_core::api::SseDescription {
        status: Some("ENABLED".into()),
        sse_type: Some("KMS".into()),
        kms_master_key_arn: Some(sse.kms_master_key_id.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:kms:{}:{}:key/{}",
                ctx.region,
                ctx.account_id,
                uuid::Uuid::new_v4()
            )
        })),
    }
}

/// An item as DynamoDB echoes request lists in its length messages
/// (`{pk={S:a}}`; `null` when absent).
pub fn show_item_java(item: Option<&openddb_core::Item>) -> String {
    let Some(item) = item else {
        return "null".into();
    };
    let pairs: Vec<String> = item
        .iter()
        .map(|(k, v)| format!("{k}={}", openddb_core::expr::print::value_brief(v)))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The `TransactItems` member of both transaction actions: present, and
/// 1 to `max` entries (DynamoDB echoes an over-long list in its Java form).
pub fn check_transact_items<T>(
    v: &mut Violations,
    items: &Option<Vec<T>>,
    max: usize,
    show: impl Fn(&[T]) -> String,
) {
    v.require(items, "transactItems");
    match items.as_deref() {
        Some([]) => v.push(
            "'[]'",
            "transactItems",
            "Member must have length greater than or equal to 1",
        ),
        Some(list) if list.len() > max => v.push(
            &format!("'{}'", show(list)),
            "transactItems",
            &format!("Member must have length less than or equal to {max}"),
        ),
        _ => {}
    }
}

/// DynamoDB echoes a TransactWriteItems list in its Java form in the
/// length message.
pub fn show_transact_write_items(items: &[openddb_core::api::TransactWriteItem]) -> String {
    use openddb_core::api::{AttributeNames, AttributeValues};
    fn opt(s: &Option<String>) -> &str {
        s.as_deref().unwrap_or("null")
    }
    fn map<V: std::fmt::Debug>(m: Option<&std::collections::HashMap<String, V>>) -> String {
        m.map_or("null".into(), |m| {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let shown: Vec<String> = keys.iter().map(|k| format!("{k}={:?}", m[*k])).collect();
            format!("{{{}}}", shown.join(", "))
        })
    }
    /// One action: its leading members, then those every kind shares.
    fn action(
        kind: &str,
        leading: String,
        table: &Option<String>,
        condition: &Option<String>,
        names: &Option<AttributeNames>,
        values: &Option<AttributeValues>,
        on_failure: &Option<String>,
    ) -> String {
        format!(
            "{kind}({leading}, TableName={}, ConditionExpression={}, ExpressionAttributeNames={}, ExpressionAttributeValues={}, ReturnValuesOnConditionCheckFailure={})",
            opt(table),
            opt(condition),
            map(names.as_ref()),
            map(values.as_ref()),
            opt(on_failure),
        )
    }
    let shown: Vec<String> = items
        .iter()
        .map(|e| {
            let check = e.condition_check.as_ref().map_or("null".into(), |c| {
                let leading = format!("Key={}", show_item_java(c.key.as_ref()));
                action("ConditionCheck", leading, &c.table_name, &c.condition_expression,
                    &c.expression_attribute_names, &c.expression_attribute_values,
                    &c.return_values_on_condition_check_failure)
            });
            let put = e.put.as_ref().map_or("null".into(), |p| {
                let leading = format!("Item={}", show_item_java(p.item.as_ref()));
                action("Put", leading, &p.table_name, &p.condition_expression,
                    &p.expression_attribute_names, &p.expression_attribute_values,
                    &p.return_values_on_condition_check_failure)
            });
            let delete = e.delete.as_ref().map_or("null".into(), |d| {
                let leading = format!("Key={}", show_item_java(d.key.as_ref()));
                action("Delete", leading, &d.table_name, &d.condition_expression,
                    &d.expression_attribute_names, &d.expression_attribute_values,
                    &d.return_values_on_condition_check_failure)
            });
            let update = e.update.as_ref().map_or("null".into(), |u| {
                let leading = format!(
                    "Key={}, UpdateExpression={}",
                    show_item_java(u.key.as_ref()),
                    opt(&u.update_expression)
                );
                action("Update", leading, &u.table_name, &u.condition_expression,
                    &u.expression_attribute_names, &u.expression_attribute_values,
                    &u.return_values_on_condition_check_failure)
            });
            format!("TransactWriteItem(ConditionCheck={check}, Put={put}, Delete={delete}, Update={update})")
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Whether `arn` has the shape of a stream ARN
/// (`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`);
/// DynamoDB refuses other text with a ValidationException before it looks
/// for the stream.
pub fn is_stream_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "dynamodb" {
        return false;
    }
    let resource: Vec<&str> = parts[5].split('/').collect();
    resource.len() == 4
        && resource[0] == "table"
        && !resource[1].is_empty()
        && resource[2] == "stream"
        && !resource[3].is_empty()
}

/// The ValidationException for text that is not a stream ARN.
pub fn invalid_stream_arn() -> DynamoError {
    DynamoError::validation("Invalid StreamArn")
}

/// The length constraint of the Streams API's ARN members (37 to 1024).
pub fn check_stream_arn(v: &mut Violations, arn: Option<&str>, member: &str) {
    let Some(arn) = arn else {
        return;
    };
    let len = arn.chars().count();
    if len < 37 {
        v.push(
            &format!("'{arn}'"),
            member,
            "Member must have length greater than or equal to 37",
        );
    } else if len > 1024 {
        v.push(
            &format!("'{arn}'"),
            member,
            "Member must have length less than or equal to 1024",
        );
    }
}
