//! BatchWriteItem: up to 25 puts and deletes over one or more tables.
//! Every request is checked before anything is written, and all of them
//! are written in one transaction (DynamoDB promises less: each item
//! atomically). A request whose item a transaction holds is not written
//! but returned in UnprocessedItems, for the caller to retry, as DynamoDB
//! returns the writes it could not do.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use openddb_core::api::validate::{
    Violations, RETURN_CONSUMED_CAPACITY, RETURN_ITEM_COLLECTION_METRICS,
};
use openddb_core::api::{
    BatchWriteItemInput, BatchWriteItemOutput, ItemCollectionMetrics, WriteRequest,
};
use openddb_core::value::check_item;
use openddb_core::{DynamoError, Item};
use openddb_kv::Txn;

use super::common::{check_item_size, item_collection_metrics, show_item_java};
use super::describe_table::not_found_item;
use crate::capacity::{write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::keys;
use crate::run;
use crate::tenant::Tenant;
use crate::write::{write_in, Change, IndexWrite};
use crate::RequestContext;

/// Most requests one BatchWriteItem may carry, over all tables.
pub const MAX_REQUESTS: usize = 25;

/// One checked write.
struct Planned {
    meta: Arc<TableMeta>,
    key: Vec<u8>,
    /// The item to put, or `None` to delete.
    put: Option<Item>,
    /// The key attributes, for ItemCollectionMetrics.
    item_key: Item,
    /// The request as sent, to return it unprocessed.
    request: WriteRequest,
}

/// What one write did, for capacity and metrics.
struct Done {
    table: String,
    units: f64,
    indexes: Vec<IndexWrite>,
    collection_size: Option<i64>,
}

/// DynamoDB echoes the request map in its Java form in the length message.
fn show_requests(items: &BTreeMap<String, Vec<WriteRequest>>) -> String {
    let tables: Vec<String> = items
        .iter()
        .map(|(table, requests)| {
            let shown: Vec<String> = requests
                .iter()
                .map(|r| {
                    let put = r.put_request.as_ref().map_or("null".to_string(), |p| {
                        format!("PutRequest(Item={})", show_item_java(p.item.as_ref()))
                    });
                    let delete = r.delete_request.as_ref().map_or("null".to_string(), |d| {
                        format!("DeleteRequest(Key={})", show_item_java(d.key.as_ref()))
                    });
                    format!("WriteRequest(PutRequest={put}, DeleteRequest={delete})")
                })
                .collect();
            format!("{table}=[{}]", shown.join(", "))
        })
        .collect();
    format!("{{{}}}", tables.join(", "))
}

fn check_members(input: &BatchWriteItemInput) -> Result<(), DynamoError> {
    let items = match &input.request_items {
        Some(items) if !items.is_empty() => items,
        _ => {
            return Err(DynamoError::validation(
                "The requestItems parameter is required for BatchWriteItem",
            ))
        }
    };
    let mut v = Violations::new();
    if items
        .values()
        .any(|r| r.is_empty() || r.len() > MAX_REQUESTS)
    {
        v.push(
            &format!("'{}'", show_requests(items)),
            "requestItems",
            &format!("Map value must satisfy constraint: [Member must have length less than or equal to {MAX_REQUESTS}, Member must have length greater than or equal to 1]"),
        );
    }
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    v.one_of(
        input.return_item_collection_metrics.as_deref(),
        "returnItemCollectionMetrics",
        RETURN_ITEM_COLLECTION_METRICS,
    );
    v.into_result()?;
    if items.values().map(Vec::len).sum::<usize>() > MAX_REQUESTS {
        return Err(DynamoError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    Ok(())
}

/// Checks every request of every table; nothing is written unless all pass.
fn plan(tenant: &Tenant, input: &BatchWriteItemInput) -> Result<Vec<Planned>, DynamoError> {
    let mut planned = Vec::new();
    for (table, requests) in input.request_items.iter().flatten() {
        let meta = tenant.table(table).ok_or_else(not_found_item)?;
        let mut seen = HashSet::new();
        for request in requests {
            let (key, put, item_key) = match (&request.put_request, &request.delete_request) {
                (Some(p), None) => {
                    let item = p.item.clone().unwrap_or_default();
                    check_item(&item)?;
                    let (pk, sk) = meta.item_key(&item)?;
                    check_item_size(&item, false)?;
                    let key = keys::item_key(meta.id, pk, sk);
                    let item_key = key_attributes(&meta, &item);
                    (key, Some(item), item_key)
                }
                (None, Some(d)) => {
                    let key_item = d.key.clone().unwrap_or_default();
                    let (pk, sk) = meta.key_from_key_param(&key_item)?;
                    (keys::item_key(meta.id, pk, sk), None, key_item)
                }
                _ => {
                    return Err(DynamoError::validation(
                        "One or more parameter values were invalid: a WriteRequest must contain exactly one of PutRequest and DeleteRequest",
                    ))
                }
            };
            if !seen.insert(key.clone()) {
                return Err(DynamoError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
            planned.push(Planned {
                meta: meta.clone(),
                key,
                put,
                item_key,
                request: request.clone(),
            });
        }
    }
    Ok(planned)
}

fn key_attributes(meta: &TableMeta, item: &Item) -> Item {
    meta.key_names()
        .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: BatchWriteItemInput,
) -> Result<BatchWriteItemOutput, DynamoError> {
    check_members(&input)?;
    // Each table once, under BatchWriteItem, with every item put and key
    // deleted in it.
    crate::authz::authorize(ctx, tenant, || {
        input
            .request_items
            .iter()
            .flatten()
            .map(|(table, requests)| {
                let items =
                    requests
                        .iter()
                        .filter_map(|r| match (&r.put_request, &r.delete_request) {
                            (Some(p), _) => p.item.as_ref(),
                            (None, Some(d)) => d.key.as_ref(),
                            (None, None) => None,
                        });
                crate::authz::facts::batch_write_table(
                    table,
                    tenant.table(table).as_deref(),
                    items,
                    input.return_consumed_capacity.as_deref(),
                )
            })
            .collect()
    })?;
    let mut planned = plan(tenant, &input)?;
    let keys: Vec<Vec<u8>> = planned.iter().map(|p| p.key.clone()).collect();
    let (_held, refused) = tenant.inflight.writes(&keys);
    let mut unprocessed: BTreeMap<String, Vec<WriteRequest>> = BTreeMap::new();
    if refused.iter().any(|r| *r) {
        let mut refused = refused.into_iter();
        planned.retain(|p| {
            if refused.next() != Some(true) {
                return true;
            }
            unprocessed
                .entry(p.meta.name().to_string())
                .or_default()
                .push(p.request.clone());
            false
        });
    }
    let planned = Arc::new(planned);
    let writes = planned.clone();
    let done = run::write(&tenant.kv, move |txn: &mut dyn Txn| {
        let mut done = Vec::with_capacity(writes.len());
        for w in writes.iter() {
            let put = w.put.clone();
            let mut decide = move |_: Option<&Item>| {
                Ok((
                    match put.clone() {
                        Some(item) => Change::Put(item),
                        None => Change::Delete,
                    },
                    (),
                ))
            };
            let written = match write_in(txn, &w.meta, &w.key, &mut decide)? {
                Ok(written) => written,
                Err(e) => return Ok(Err(e)),
            };
            done.push(Done {
                table: w.meta.name().to_string(),
                units: write_units(written.old_size.max(written.new_size)),
                indexes: written.indexes,
                collection_size: written.collection_size,
            });
        }
        Ok(Ok(done))
    })
    .await?;

    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let mut output = BatchWriteItemOutput {
        unprocessed_items: unprocessed,
        ..Default::default()
    };
    if capacity != ReturnCapacity::None {
        let mut per_table: BTreeMap<String, (f64, Vec<IndexWrite>)> = BTreeMap::new();
        for d in &done {
            let entry = per_table.entry(d.table.clone()).or_default();
            entry.0 += d.units;
            for i in &d.indexes {
                match entry.1.iter_mut().find(|e| e.name == i.name) {
                    Some(e) => e.units += i.units,
                    None => entry.1.push(i.clone()),
                }
            }
        }
        output.consumed_capacity = Some(
            per_table
                .iter()
                .filter_map(|(t, (units, indexes))| capacity.report_write(t, *units, indexes))
                .collect(),
        );
    }
    let asked = input.return_item_collection_metrics.as_deref();
    let mut metrics: BTreeMap<String, Vec<ItemCollectionMetrics>> = BTreeMap::new();
    for (w, d) in planned.iter().zip(&done) {
        if let Some(m) = item_collection_metrics(&w.meta, &w.item_key, asked, d.collection_size) {
            metrics.entry(d.table.clone()).or_default().push(m);
        }
    }
    if asked == Some("SIZE") {
        output.item_collection_metrics = Some(metrics);
    }
    Ok(output)
}
