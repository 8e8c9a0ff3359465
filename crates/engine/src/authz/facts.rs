//! The authorizations each operation needs, and their condition keys, as
//! DynamoDB supplies them (service authorization reference for DynamoDB;
//! developer guide, "Using IAM policy conditions for fine-grained access
//! control", "Using IAM with DynamoDB transactions", "IAM security policies
//! with PartiQL"):
//!
//! - item actions on the table's ARN; Query, Scan and PartiQL reads of an
//!   index on the index's ARN; BatchGetItem/BatchWriteItem once per table
//!   under their own action; TransactGetItems as `GetItem` and
//!   TransactWriteItems as `PutItem`/`UpdateItem`/`DeleteItem`/
//!   `ConditionCheckItem`, once per entry, with `dynamodb:EnclosingOperation`;
//!   PartiQL as `PartiQLSelect`/`Insert`/`Update`/`Delete` per statement.
//! - `dynamodb:LeadingKeys` on every operation that touches items: the
//!   partition-key values (S as is, N in canonical form, B in base64);
//!   "every partition" where the request reaches any (Scan, a PartiQL
//!   SELECT without a partition-key equality) or the keys cannot be told.
//! - `dynamodb:Attributes`: every top-level attribute the request names —
//!   key and item attributes, projections, `AttributesToGet`, and the
//!   attributes conditions, filters, key conditions and updates name.
//! - `dynamodb:Select` (its default where not given), `ReturnValues`
//!   (`NONE` by default on writes), `ReturnConsumedCapacity` (`NONE`).

use std::collections::BTreeSet;

use base64::Engine;
use openddb_core::{AttributeValue, Item};

use super::{Access, LeadingKeys, Resource};
use crate::actions::transact_write_items::{Op, Planned};
use crate::catalog::TableMeta;
use crate::expressions::Prepared;

/// The string a policy compares for a key value: S as is, N canonical, B
/// base64; `None` for a type no key can have.
pub fn key_string(v: &AttributeValue) -> Option<String> {
    match v {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.to_string()),
        AttributeValue::B(b) => Some(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => None,
    }
}

/// The partitions items (or keys) of `meta`'s table fall in: every
/// partition when the table is unknown or an item lacks a usable
/// partition key (the request then fails validation, if it is allowed).
pub fn leading_keys<'a>(
    meta: Option<&TableMeta>,
    items: impl IntoIterator<Item = &'a Item>,
) -> LeadingKeys {
    let Some(meta) = meta else {
        return LeadingKeys::Every;
    };
    let name = &meta.key_schema.partition_key.name;
    let mut out = BTreeSet::new();
    for item in items {
        match item.get(name).and_then(key_string) {
            Some(v) => {
                out.insert(v);
            }
            None => return LeadingKeys::Every,
        }
    }
    LeadingKeys::Known(out)
}

/// The attribute names `prepared` and `items` name.
fn attributes<'a>(
    prepared: Option<&Prepared>,
    items: impl IntoIterator<Item = &'a Item>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(p) = prepared {
        p.attribute_names(&mut out);
    }
    for item in items {
        out.extend(item.keys().cloned());
    }
    out
}

/// `Select` as DynamoDB applies it: as given, or `SPECIFIC_ATTRIBUTES`
/// with a projection, `ALL_PROJECTED_ATTRIBUTES` on an index, and
/// `ALL_ATTRIBUTES` otherwise.
pub fn select(given: Option<&str>, projected: bool, index: bool) -> String {
    match given {
        Some(s) => s.to_string(),
        None if projected => "SPECIFIC_ATTRIBUTES".into(),
        None if index => "ALL_PROJECTED_ATTRIBUTES".into(),
        None => "ALL_ATTRIBUTES".into(),
    }
}

fn or_none(v: Option<&str>) -> Option<String> {
    Some(v.unwrap_or("NONE").to_string())
}

/// GetItem.
pub fn get_item(
    table: &str,
    meta: Option<&TableMeta>,
    key: Option<&Item>,
    prepared: &Prepared,
    return_consumed_capacity: Option<&str>,
) -> Vec<Access> {
    let mut a = Access::plain("dynamodb:GetItem", Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, key));
    a.attributes = Some(attributes(Some(prepared), key));
    a.select = Some(select(None, prepared.projection.is_some(), false));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    vec![a]
}

/// PutItem, UpdateItem and DeleteItem: `item` is the item put, or the key.
pub fn write_item(
    action: &'static str,
    table: &str,
    meta: Option<&TableMeta>,
    item: Option<&Item>,
    prepared: &Prepared,
    return_values: Option<&str>,
    return_consumed_capacity: Option<&str>,
) -> Vec<Access> {
    let mut a = Access::plain(action, Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, item));
    a.attributes = Some(attributes(Some(prepared), item));
    a.return_values = or_none(return_values);
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    vec![a]
}

/// Query and Scan: the table or index read, the partitions reached (every
/// one for a Scan), and what is asked of the items.
#[allow(clippy::too_many_arguments)]
pub fn read(
    action: &'static str,
    table: &str,
    index: Option<&str>,
    leading: LeadingKeys,
    prepared: &Prepared,
    given_select: Option<&str>,
    return_consumed_capacity: Option<&str>,
) -> Vec<Access> {
    let mut a = Access::plain(
        action,
        Resource::Table {
            name: table.to_string(),
            index: index.map(str::to_string),
        },
    );
    a.leading_keys = Some(leading);
    a.attributes = Some(attributes(Some(prepared), None));
    a.select = Some(select(
        given_select,
        prepared.projection.is_some(),
        index.is_some(),
    ));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    vec![a]
}

/// One table's part of a BatchGetItem.
pub fn batch_get_table(
    table: &str,
    meta: Option<&TableMeta>,
    keys: &[Item],
    prepared: Option<&Prepared>,
    return_consumed_capacity: Option<&str>,
) -> Access {
    let mut a = Access::plain("dynamodb:BatchGetItem", Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, keys));
    a.attributes = Some(attributes(prepared, keys));
    a.select = Some(select(
        None,
        prepared.is_some_and(|p| p.projection.is_some()),
        false,
    ));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    a
}

/// One table's part of a BatchWriteItem: the items put and the keys
/// deleted.
pub fn batch_write_table<'a>(
    table: &str,
    meta: Option<&TableMeta>,
    items: impl IntoIterator<Item = &'a Item> + Clone,
    return_consumed_capacity: Option<&str>,
) -> Access {
    let mut a = Access::plain("dynamodb:BatchWriteItem", Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, items.clone()));
    a.attributes = Some(attributes(None, items));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    a
}

/// One Get of a TransactGetItems.
pub fn transact_get(
    table: &str,
    meta: Option<&TableMeta>,
    key: Option<&Item>,
    prepared: Option<&Prepared>,
    return_consumed_capacity: Option<&str>,
) -> Access {
    let mut a = Access::plain("dynamodb:GetItem", Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, key));
    a.attributes = Some(attributes(prepared, key));
    a.select = Some(select(
        None,
        prepared.is_some_and(|p| p.projection.is_some()),
        false,
    ));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    a.enclosing_operation = Some("TransactGetItems");
    a
}

/// One entry of a TransactWriteItems (`kind`: `put`, `update`, `delete`
/// or `conditionCheck`): `item` is the item put, or the key.
pub fn transact_write(
    kind: &str,
    table: &str,
    meta: Option<&TableMeta>,
    item: Option<&Item>,
    prepared: Option<&Prepared>,
    return_consumed_capacity: Option<&str>,
) -> Access {
    let action = match kind {
        "put" => "dynamodb:PutItem",
        "update" => "dynamodb:UpdateItem",
        "delete" => "dynamodb:DeleteItem",
        _ => "dynamodb:ConditionCheckItem",
    };
    let mut a = Access::plain(action, Resource::table(table));
    a.leading_keys = Some(leading_keys(meta, item));
    a.attributes = Some(attributes(prepared, item));
    a.return_consumed_capacity = or_none(return_consumed_capacity);
    a.enclosing_operation = Some("TransactWriteItems");
    a
}

/// A PartiQL write statement planned against its table (`action`:
/// `dynamodb:PartiQLInsert`, `…Update`, `…Delete`, or `…Select` for an
/// `EXISTS` check).
pub(crate) fn partiql_write(
    action: &'static str,
    planned: &Planned,
    enclosing: Option<&'static str>,
) -> Access {
    let meta = Some(planned.meta.as_ref());
    let mut names = BTreeSet::new();
    names.extend(planned.item_key.keys().cloned());
    let leading = match &planned.op {
        Op::Put(item) | Op::Insert(item) => {
            names.extend(item.keys().cloned());
            leading_keys(meta, [item])
        }
        _ => leading_keys(meta, [&planned.item_key]),
    };
    if let Op::Update(update) = &planned.op {
        update.attribute_names(&mut names);
    }
    if let Some(c) = &planned.condition {
        let mut read = std::collections::HashSet::new();
        crate::actions::multi_read::condition_names(c, &mut read);
        names.extend(read);
    }
    let mut a = Access::plain(action, Resource::table(planned.meta.name()));
    a.leading_keys = Some(leading);
    a.attributes = Some(names);
    a.enclosing_operation = enclosing;
    a
}

/// What is known of a request that could not be planned: its action on
/// its table, reaching every partition.
pub fn unplanned(action: &'static str, table: &str, enclosing: Option<&'static str>) -> Access {
    let mut a = Access::plain(action, Resource::table(table));
    a.leading_keys = Some(LeadingKeys::Every);
    a.enclosing_operation = enclosing;
    a
}

/// A PartiQL SELECT: the table or index read, the partitions its WHERE
/// pins (`None`: it scans), and the attributes it names.
pub fn partiql_select(
    table: &str,
    index: Option<&str>,
    partitions: Option<&[AttributeValue]>,
    attributes: BTreeSet<String>,
    projected: bool,
    enclosing: Option<&'static str>,
) -> Access {
    let mut a = Access::plain(
        "dynamodb:PartiQLSelect",
        Resource::Table {
            name: table.to_string(),
            index: index.map(str::to_string),
        },
    );
    a.leading_keys = Some(match partitions {
        None => LeadingKeys::Every,
        Some(values) => values
            .iter()
            .map(key_string)
            .collect::<Option<BTreeSet<_>>>()
            .map_or(LeadingKeys::Every, LeadingKeys::Known),
    });
    a.full_table_scan = Some(partitions.is_none());
    a.attributes = Some(attributes);
    a.select = Some(select(None, projected, index.is_some()));
    a.enclosing_operation = enclosing;
    a
}
