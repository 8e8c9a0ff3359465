//! INSERT, UPDATE and DELETE of one item, planned from a statement and run
//! through the per-item write path (indexes, streams, statistics and
//! conflicts with transactions as for the item operations).
//!
//! - INSERT writes a new item and fails with `DuplicateItemException` when
//!   the key exists.
//! - UPDATE needs the item to exist; the WHERE's other predicates are a
//!   condition on it.
//! - DELETE of a missing item succeeds; of an existing one, only when the
//!   WHERE's other predicates hold.

use std::sync::Arc;

use openddb_core::expr::{Condition, DocumentPath, UpdateClause, UpdateExpression};
use openddb_core::partiql::bind;
use openddb_core::partiql::{Returning, Statement};
use openddb_core::value::check_item;
use openddb_core::{DynamoError, ErrorKind, Item};

use super::{write_table, write_target, Prepared};
use crate::actions::common::check_item_size;
use crate::actions::transact_write_items::{self as twi, Op};
use crate::capacity::{write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::expressions::{project, Update};
use crate::keys;
use crate::tenant::Tenant;
use crate::write::{write_item, IndexWrite};

/// A write statement planned against its table: the entry a transaction
/// would run (INSERT, UPDATE, DELETE, or an `EXISTS` check; its condition
/// holds everything the item must satisfy, the item's existence included
/// where the statement requires it), and what the statement returns.
pub struct Planned {
    pub write: twi::Planned,
    pub returning: Option<Returning>,
    /// The paths an UPDATE names, as written: `RETURNING MODIFIED ...`
    /// projects them on the old or new item (a list index resolves
    /// against that item's list, wherever the value actually landed).
    pub modified: Vec<DocumentPath>,
}

pub fn duplicate_item() -> DynamoError {
    DynamoError::new(
        ErrorKind::DuplicateItemException,
        "Duplicate primary key exists in table",
    )
}

fn exists(meta: &TableMeta) -> Condition {
    Condition::AttributeExists(DocumentPath::attribute(
        meta.key_schema.partition_key.name.clone(),
    ))
}

/// Plans a write statement. `EXISTS` is planned as a check.
pub fn plan(tenant: &Tenant, prepared: &Prepared) -> Result<Planned, DynamoError> {
    let params = prepared.params();
    match &prepared.statement {
        Statement::Insert(insert) => {
            let meta = tenant.table_or_not_found(&insert.table.table)?;
            let item = bind::item(&insert.value, params)?;
            check_item(&item)?;
            for name in meta.key_names() {
                if !item.contains_key(name) {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Missing the key {name} in the item"
                    )));
                }
            }
            let (pk, sk) = meta.item_key(&item)?;
            let key = keys::item_key(meta.id, pk, sk);
            check_item_size(&item, false)?;
            let item_key = key_part(&meta, &item);
            Ok(Planned {
                write: twi::Planned {
                    meta,
                    key,
                    item_key,
                    op: Op::Insert(item),
                    condition: None,
                    return_old: false,
                },
                returning: None,
                modified: Vec::new(),
            })
        }
        Statement::Update(update) => {
            let actions = update
                .actions
                .iter()
                .map(|a| bind::update_action(a, params))
                .collect::<Result<Vec<_>, _>>()?;
            let meta = write_table(tenant, &update.table)?;
            let (item_key, rest) = write_target(&meta, update.filter.as_ref(), params)?;
            let (pk, sk) = meta.key_from_key_param(&item_key)?;
            let key = keys::item_key(meta.id, pk, sk);
            let modified = actions.iter().map(|a| a.path().clone()).collect();
            let expression = UpdateExpression {
                clauses: actions
                    .into_iter()
                    .map(|a| match a {
                        openddb_core::expr::UpdateAction::Set(p, v) => {
                            UpdateClause::Set(vec![(p, v)])
                        }
                        openddb_core::expr::UpdateAction::Remove(p) => {
                            UpdateClause::Remove(vec![p])
                        }
                        openddb_core::expr::UpdateAction::Add(p, v) => {
                            UpdateClause::Add(vec![(p, v)])
                        }
                        openddb_core::expr::UpdateAction::Delete(p, v) => {
                            UpdateClause::Delete(vec![(p, v)])
                        }
                    })
                    .collect(),
            };
            let update_tree = Update::from_expression(expression);
            for name in meta.key_names() {
                if update_tree.touches_attribute(name) {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
                    )));
                }
            }
            let condition = Some(match rest {
                Some(r) => Condition::and(exists(&meta), r),
                None => exists(&meta),
            });
            Ok(Planned {
                write: twi::Planned {
                    meta,
                    key,
                    item_key,
                    op: Op::Update(update_tree),
                    condition,
                    return_old: false,
                },
                returning: update.returning,
                modified,
            })
        }
        Statement::Delete(delete) => {
            let meta = write_table(tenant, &delete.table)?;
            let (item_key, rest) = write_target(&meta, delete.filter.as_ref(), params)?;
            let (pk, sk) = meta.key_from_key_param(&item_key)?;
            let key = keys::item_key(meta.id, pk, sk);
            // A missing item is deleted successfully whatever the rest says.
            let condition = rest.map(|r| Condition::or(Condition::not(exists(&meta)), r));
            Ok(Planned {
                write: twi::Planned {
                    meta,
                    key,
                    item_key,
                    op: Op::Delete,
                    condition,
                    return_old: false,
                },
                returning: delete.returning,
                modified: Vec::new(),
            })
        }
        Statement::Exists(select) => {
            if select.from.index.is_some() {
                return Err(DynamoError::validation(
                    "Reads on indices are not supported within transactions.",
                ));
            }
            let meta = tenant.table_or_not_found(&select.from.table)?;
            let (item_key, rest) = write_target(&meta, select.filter.as_ref(), params)
                .map_err(|_| exists_needs_condition())?;
            let Some(rest) = rest else {
                return Err(exists_needs_condition());
            };
            let (pk, sk) = meta.key_from_key_param(&item_key)?;
            let key = keys::item_key(meta.id, pk, sk);
            Ok(Planned {
                write: twi::Planned {
                    meta: meta.clone(),
                    key,
                    item_key,
                    op: Op::Check,
                    condition: Some(Condition::and(exists(&meta), rest)),
                    return_old: false,
                },
                returning: None,
                modified: Vec::new(),
            })
        }
        Statement::Select(_) => Err(DynamoError::internal("a SELECT is not a write")),
    }
}

fn exists_needs_condition() -> DynamoError {
    DynamoError::validation("EXISTS() must contain a single item read with additional condition")
}

fn key_part(meta: &TableMeta, item: &Item) -> Item {
    meta.key_names()
        .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

/// What a single write returned.
pub struct Outcome {
    /// The RETURNING item, if any (an empty MODIFIED projection is none).
    pub item: Option<Item>,
    pub units: f64,
    pub indexes: Vec<IndexWrite>,
}

/// Runs one planned write on its own.
pub async fn run(tenant: &Arc<Tenant>, planned: Planned) -> Result<Outcome, DynamoError> {
    let Planned {
        write,
        returning,
        modified,
    } = planned;
    let write = Arc::new(write);
    let entry = write.clone();
    let written = write_item(tenant, &write.meta, write.key.clone(), move |old| {
        twi::decide(&entry, old).map(|change| (change, ()))
    })
    .await?;
    let units = match write.op {
        Op::Delete => write_units(written.old_size),
        _ => write_units(written.old_size.max(written.new_size)),
    };
    let item = match returning {
        None => None,
        Some(Returning::AllOld) => written.old,
        Some(Returning::AllNew) => written.new,
        Some(Returning::ModifiedOld) => written.old.map(|o| project(&modified, &o)),
        Some(Returning::ModifiedNew) => written.new.map(|n| project(&modified, &n)),
    }
    .filter(|i| !i.is_empty());
    Ok(Outcome {
        item,
        units,
        indexes: written.indexes,
    })
}

/// The capacity report of a single write.
pub fn report(
    capacity: ReturnCapacity,
    table: &str,
    outcome: &Outcome,
) -> Option<openddb_core::api::ConsumedCapacity> {
    capacity.report_write(table, outcome.units, &outcome.indexes)
}
