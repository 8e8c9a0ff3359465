//! BatchGetItem: up to 100 items from one or more tables, read from one
//! snapshot; what does not fit in the 16 MB answer comes back as
//! UnprocessedKeys.

use std::collections::HashSet;
use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};
use openddb_core::api::{BatchGetItemInput, BatchGetItemOutput, KeysAndAttributes};
use openddb_core::expr::DocumentPath;
use openddb_core::size::item_size;
use openddb_core::value::decode_item;
use openddb_core::{DynamoError, Item};

use super::describe_table::not_found_item;
use crate::capacity::{read_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::expressions::{project, RequestExpressions};
use crate::keys;
use crate::run::{self, storage_error};
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most keys one BatchGetItem may ask for, over all tables.
pub const MAX_KEYS: usize = 100;
/// Most bytes of items one answer carries.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// One table's part of the request, checked.
struct TableRead {
    meta: Arc<TableMeta>,
    request: KeysAndAttributes,
    keys: Vec<Vec<u8>>,
    projection: Option<Vec<DocumentPath>>,
    consistent: bool,
}

fn check_members(input: &BatchGetItemInput) -> Result<(), DynamoError> {
    let items = match &input.request_items {
        Some(items) if !items.is_empty() => items,
        _ => {
            return Err(DynamoError::validation(
                "The requestItems parameter is required for BatchGetItem",
            ))
        }
    };
    let mut v = Violations::new();
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    for (table, request) in items {
        let keys = request.keys.as_deref().unwrap_or_default();
        let member = format!("RequestItems.{table}.member.Keys");
        if keys.len() > MAX_KEYS {
            v.push_unnamed_value(
                &member,
                &format!("Member must have length less than or equal to {MAX_KEYS}"),
            );
        } else if keys.is_empty() {
            v.push_unnamed_value(
                &member,
                "Member must have length greater than or equal to 1",
            );
        }
    }
    v.into_result()?;
    let total: usize = items
        .values()
        .map(|r| r.keys.as_ref().map_or(0, Vec::len))
        .sum();
    if total > MAX_KEYS {
        return Err(DynamoError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    Ok(())
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: BatchGetItemInput,
) -> Result<BatchGetItemOutput, DynamoError> {
    check_members(&input)?;
    // Each table once, under BatchGetItem, with all its keys.
    crate::authz::authorize(ctx, tenant, || {
        input
            .request_items
            .iter()
            .flatten()
            .map(|(table, request)| {
                let prepared = RequestExpressions {
                    projection_expression: request.projection_expression.as_deref(),
                    names: request.expression_attribute_names.as_ref(),
                    attributes_to_get: request.attributes_to_get.as_deref(),
                    ..Default::default()
                }
                .prepare()
                .ok();
                crate::authz::facts::batch_get_table(
                    table,
                    tenant.table(table).as_deref(),
                    request.keys.as_deref().unwrap_or_default(),
                    prepared.as_ref(),
                    input.return_consumed_capacity.as_deref(),
                )
            })
            .collect()
    })?;
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let mut reads = Vec::new();
    for (table, request) in input.request_items.unwrap_or_default() {
        let prepared = RequestExpressions {
            projection_expression: request.projection_expression.as_deref(),
            names: request.expression_attribute_names.as_ref(),
            attributes_to_get: request.attributes_to_get.as_deref(),
            ..Default::default()
        }
        .prepare()?;
        let meta = tenant.table(&table).ok_or_else(not_found_item)?;
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for key in request.keys.iter().flatten() {
            let (pk, sk) = meta.key_from_key_param(key)?;
            let storage_key = keys::item_key(meta.id, pk, sk);
            if !seen.insert(storage_key.clone()) {
                return Err(DynamoError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
            keys.push(storage_key);
        }
        reads.push(TableRead {
            meta,
            consistent: request.consistent_read.unwrap_or(false),
            projection: prepared.projection,
            request,
            keys,
        });
    }

    // One snapshot for every table: the items are read as of one moment.
    let reads = run::read(tenant, move |txn| {
        let mut out = Vec::with_capacity(reads.len());
        let mut total = 0usize;
        for read in reads {
            let refs: Vec<&[u8]> = read.keys.iter().map(Vec::as_slice).collect();
            let found = txn.get_many(&refs).map_err(storage_error)?;
            let mut items = Vec::new();
            let mut unprocessed = Vec::new();
            let mut units = 0.0;
            for (i, raw) in found.into_iter().enumerate() {
                let Some(raw) = raw else {
                    // A key with no item costs the minimum read, as GetItem does.
                    units += read_units(0, read.consistent);
                    continue;
                };
                let item = decode_item(&raw)
                    .map_err(|e| storage_error(openddb_kv::KvError::Fatal(e.to_string())))?;
                let size = item_size(&item);
                if total + size > MAX_RESPONSE_BYTES {
                    unprocessed.push(i);
                    continue;
                }
                total += size;
                units += read_units(size, read.consistent);
                items.push(item);
            }
            out.push((read, items, unprocessed, units));
        }
        Ok(out)
    })
    .await?;

    let mut output = BatchGetItemOutput::default();
    let mut consumed = Vec::new();
    for (read, items, unprocessed, units) in reads {
        let name = read.meta.name().to_string();
        let items: Vec<Item> = match &read.projection {
            Some(paths) => items.iter().map(|i| project(paths, i)).collect(),
            None => items,
        };
        if !unprocessed.is_empty() {
            let keys = read.request.keys.clone().unwrap_or_default();
            output.unprocessed_keys.insert(
                name.clone(),
                KeysAndAttributes {
                    keys: Some(unprocessed.iter().map(|&i| keys[i].clone()).collect()),
                    ..read.request.clone()
                },
            );
        }
        output.responses.insert(name.clone(), items);
        if let Some(c) = capacity.report(&name, units) {
            consumed.push(c);
        }
    }
    if capacity != ReturnCapacity::None {
        output.consumed_capacity = Some(consumed);
    }
    Ok(output)
}
