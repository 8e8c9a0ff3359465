//! TransactGetItems: up to 100 Gets, over one or more tables, read from one
//! consistent snapshot and charged as transactional reads (two units per
//! started 4 KB of each item).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use openddb_core::api::validate::{Violations, RETURN_CONSUMED_CAPACITY};
use openddb_core::api::{
    Capacity, ConsumedCapacity, ItemResponse, TransactGetItemsInput, TransactGetItemsOutput,
};
use openddb_core::expr::DocumentPath;
use openddb_core::size::item_size;
use openddb_core::value::decode_item;
use openddb_core::{CancellationReason, DynamoError};

use super::common::show_item_java;
use super::describe_table::not_found_item;
use crate::capacity::{read_units, ReturnCapacity};
use crate::expressions::{project, RequestExpressions};
use crate::keys;
use crate::run::{self, storage_error};
use crate::tenant::Tenant;
use crate::RequestContext;

/// Most Gets in one request.
pub const MAX_ITEMS: usize = 100;

struct PlannedGet {
    table: String,
    key: Vec<u8>,
    projection: Option<Vec<DocumentPath>>,
}

/// DynamoDB echoes the list in its Java form in the length message.
fn show_items(items: &[openddb_core::api::TransactGetItem]) -> String {
    let shown: Vec<String> = items
        .iter()
        .map(|e| match &e.get {
            Some(g) => format!(
                "TransactGetItem(Get=Get(Key={}, ProjectionExpression={}, TableName={}))",
                show_item_java(g.key.as_ref()),
                g.projection_expression.as_deref().unwrap_or("null"),
                g.table_name.as_deref().unwrap_or("null")
            ),
            None => "TransactGetItem(Get=null)".to_string(),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: TransactGetItemsInput,
) -> Result<TransactGetItemsOutput, DynamoError> {
    let mut v = Violations::new();
    super::common::check_transact_items(&mut v, &input.transact_items, MAX_ITEMS, show_items);
    v.one_of(
        input.return_consumed_capacity.as_deref(),
        "returnConsumedCapacity",
        RETURN_CONSUMED_CAPACITY,
    );
    for (i, entry) in input.transact_items.iter().flatten().enumerate() {
        let member = format!("transactItems.{}.member.get", i + 1);
        v.require(&entry.get, &member);
        if let Some(get) = &entry.get {
            v.require(&get.table_name, &format!("{member}.tableName"));
            v.require(&get.key, &format!("{member}.key"));
        }
    }
    v.into_result()?;

    let gets: Vec<&openddb_core::api::Get> = input
        .transact_items
        .iter()
        .flatten()
        .filter_map(|e| e.get.as_ref())
        .collect();
    // Each Get is a GetItem inside TransactGetItems.
    crate::authz::authorize(ctx, tenant, || {
        gets.iter()
            .map(|get| {
                let prepared = RequestExpressions {
                    projection_expression: get.projection_expression.as_deref(),
                    names: get.expression_attribute_names.as_ref(),
                    ..Default::default()
                }
                .prepare()
                .ok();
                let table = get.table_name.as_deref().unwrap_or_default();
                crate::authz::facts::transact_get(
                    table,
                    tenant.table(table).as_deref(),
                    get.key.as_ref(),
                    prepared.as_ref(),
                    input.return_consumed_capacity.as_deref(),
                )
            })
            .collect()
    })?;
    let mut planned = Vec::new();
    let mut seen = HashSet::new();
    for (i, get) in gets.iter().enumerate() {
        let prepared = RequestExpressions {
            projection_expression: get.projection_expression.as_deref(),
            names: get.expression_attribute_names.as_ref(),
            ..Default::default()
        }
        .prepare()?;
        let table = get.table_name.clone().unwrap_or_default();
        let meta = tenant.table(&table).ok_or_else(not_found_item)?;
        let key_item = get.key.clone().unwrap_or_default();
        // A Get whose key does not fit the table cancels the transaction,
        // with the reason at its place.
        let (pk, sk) = meta.key_from_key_param(&key_item).map_err(|e| {
            let reasons: Vec<CancellationReason> = (0..gets.len())
                .map(|j| {
                    if j == i {
                        CancellationReason::new("ValidationError", e.message.clone())
                    } else {
                        CancellationReason::none()
                    }
                })
                .collect();
            DynamoError::transaction_canceled(&reasons)
        })?;
        let key = keys::item_key(meta.id, pk, sk);
        if !seen.insert(key.clone()) {
            return Err(DynamoError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        planned.push(PlannedGet {
            table,
            key,
            projection: prepared.projection,
        });
    }

    // An item a write holds now cancels the read, as does the
    // fault-injection setting.
    let keys: Vec<Vec<u8>> = planned.iter().map(|p| p.key.clone()).collect();
    let mut busy = tenant.inflight.busy(&keys);
    if tenant.faults.strike() {
        if let Some(first) = busy.first_mut() {
            *first = true;
        }
    }
    if busy.iter().any(|b| *b) {
        return Err(run::conflict_cancellation(&busy));
    }

    let planned = Arc::new(planned);
    let reads = planned.clone();
    let found = run::read(tenant, move |txn| {
        let refs: Vec<&[u8]> = reads.iter().map(|p| p.key.as_slice()).collect();
        let raw = txn.get_many(&refs).map_err(storage_error)?;
        raw.into_iter()
            .map(|r| {
                r.map(|b| {
                    decode_item(&b)
                        .map_err(|e| storage_error(openddb_kv::KvError::Fatal(e.to_string())))
                })
                .transpose()
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;

    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    let mut responses = Vec::with_capacity(found.len());
    for (p, item) in planned.iter().zip(found) {
        let size = item.as_ref().map_or(0, item_size);
        *units.entry(p.table.clone()).or_default() += 2.0 * read_units(size, true);
        responses.push(ItemResponse {
            item: match (item, &p.projection) {
                (Some(item), Some(paths)) => Some(project(paths, &item)),
                (item, _) => item,
            },
        });
    }
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let consumed = (capacity != ReturnCapacity::None).then(|| {
        units
            .into_iter()
            .map(|(table, u)| ConsumedCapacity {
                table_name: table,
                capacity_units: u,
                read_capacity_units: Some(u),
                table: (capacity == ReturnCapacity::Indexes).then_some(Capacity {
                    capacity_units: u,
                    read_capacity_units: Some(u),
                    write_capacity_units: None,
                }),
                ..Default::default()
            })
            .collect()
    });
    Ok(TransactGetItemsOutput {
        responses: Some(responses),
        consumed_capacity: consumed,
    })
}
