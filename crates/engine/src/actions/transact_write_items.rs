//! TransactWriteItems: up to 100 Puts, Updates, Deletes and ConditionChecks
//! on distinct items over one or more tables, all or nothing, in one kv
//! transaction through the same per-item path as the single-item writes.
//!
//! Before anything runs, every item is claimed in the tenant's in-flight
//! registry: another transaction holding one of them cancels this one with
//! `TransactionConflict` (as does the fault-injection setting), and plain
//! writes to them are refused until this one is answered. A transaction
//! that fails a condition or a check is cancelled with a reason per item,
//! in request order. A ClientRequestToken makes a retry within ten minutes
//! answer without writing again (see `tokens`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use openddb_core::api::validate::{
    Violations, RETURN_CONSUMED_CAPACITY, RETURN_ITEM_COLLECTION_METRICS,
};
use openddb_core::api::{
    ConsumedCapacity, ItemCollectionMetrics, TransactWriteItem, TransactWriteItemsInput,
    TransactWriteItemsOutput,
};
use openddb_core::expr::Condition;
use openddb_core::size::item_size;
use openddb_core::value::{check_item, decode_item};
use openddb_core::{CancellationReason, DynamoError, ErrorKind, Item};
use openddb_kv::{KvError, Txn};

use super::common::{check_item_size, condition_failed, item_collection_metrics, read_stats};
use super::describe_table::not_found_item;
use crate::capacity::{read_units, write_units, ReturnCapacity};
use crate::catalog::TableMeta;
use crate::expressions::{apply_update, condition_holds, RequestExpressions, Update};
use crate::keys;
use crate::run::{self, WriteResult};
use crate::tenant::Tenant;
use crate::tokens::{self, TokenRecord};
use crate::write::{write_in, Change, IndexWrite};
use crate::RequestContext;

/// Most actions in one request.
pub const MAX_ACTIONS: usize = 100;

/// Most bytes of items one transaction may write.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// Longest ClientRequestToken.
pub const MAX_TOKEN_LENGTH: usize = 36;

/// What one entry does to its item.
pub(crate) enum Op {
    Put(Item),
    /// A PartiQL INSERT: a Put that fails with `DuplicateItem` when the
    /// item exists.
    Insert(Item),
    Update(Update),
    Delete,
    Check,
    /// A key that does not fit the table: the entry's cancellation reason.
    Refused(DynamoError),
}

/// One checked entry.
pub(crate) struct Planned {
    pub meta: Arc<TableMeta>,
    pub key: Vec<u8>,
    /// The key attributes as given (the start of an item an Update creates,
    /// and the key of ItemCollectionMetrics).
    pub item_key: Item,
    pub op: Op,
    pub condition: Option<Condition>,
    pub return_old: bool,
}

/// What one entry did, for capacity and metrics.
pub(crate) struct Done {
    units: f64,
    indexes: Vec<IndexWrite>,
    collection_size: Option<i64>,
    /// A ConditionCheck (no item collection changed).
    check: bool,
}

/// The members every entry kind shares, borrowed.
struct Entry<'a> {
    kind: &'static str,
    table_name: &'a Option<String>,
    key: Option<&'a Item>,
    item: Option<&'a Item>,
    condition_expression: Option<&'a str>,
    update_expression: Option<&'a str>,
    names: Option<&'a openddb_core::api::AttributeNames>,
    values: Option<&'a openddb_core::api::AttributeValues>,
    return_values_on_ccf: Option<&'a str>,
}

/// The one action an entry carries, or `None` when it has none or several.
fn entry(e: &TransactWriteItem) -> Option<Entry<'_>> {
    let set = [
        e.condition_check.is_some(),
        e.put.is_some(),
        e.delete.is_some(),
        e.update.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return None;
    }
    if let Some(c) = &e.condition_check {
        return Some(Entry {
            kind: "conditionCheck",
            table_name: &c.table_name,
            key: c.key.as_ref(),
            item: None,
            condition_expression: c.condition_expression.as_deref(),
            update_expression: None,
            names: c.expression_attribute_names.as_ref(),
            values: c.expression_attribute_values.as_ref(),
            return_values_on_ccf: c.return_values_on_condition_check_failure.as_deref(),
        });
    }
    if let Some(p) = &e.put {
        return Some(Entry {
            kind: "put",
            table_name: &p.table_name,
            key: None,
            item: p.item.as_ref(),
            condition_expression: p.condition_expression.as_deref(),
            update_expression: None,
            names: p.expression_attribute_names.as_ref(),
            values: p.expression_attribute_values.as_ref(),
            return_values_on_ccf: p.return_values_on_condition_check_failure.as_deref(),
        });
    }
    if let Some(d) = &e.delete {
        return Some(Entry {
            kind: "delete",
            table_name: &d.table_name,
            key: d.key.as_ref(),
            item: None,
            condition_expression: d.condition_expression.as_deref(),
            update_expression: None,
            names: d.expression_attribute_names.as_ref(),
            values: d.expression_attribute_values.as_ref(),
            return_values_on_ccf: d.return_values_on_condition_check_failure.as_deref(),
        });
    }
    let u = e.update.as_ref()?;
    Some(Entry {
        kind: "update",
        table_name: &u.table_name,
        key: u.key.as_ref(),
        item: None,
        condition_expression: u.condition_expression.as_deref(),
        update_expression: u.update_expression.as_deref(),
        names: u.expression_attribute_names.as_ref(),
        values: u.expression_attribute_values.as_ref(),
        return_values_on_ccf: u.return_values_on_condition_check_failure.as_deref(),
    })
}

/// The authorization each entry needs: its item action on its table, with
/// `dynamodb:EnclosingOperation` `TransactWriteItems`.
fn accesses(tenant: &Tenant, input: &TransactWriteItemsInput) -> Vec<crate::authz::Access> {
    let rcc = input.return_consumed_capacity.as_deref();
    input
        .transact_items
        .iter()
        .flatten()
        .filter_map(entry)
        .map(|e| {
            let table = e.table_name.as_deref().unwrap_or_default();
            // An entry whose expressions do not parse fails the request
            // before anything is written.
            let prepared = RequestExpressions {
                condition_expression: e.condition_expression,
                update_expression: e.update_expression,
                names: e.names,
                values: e.values,
                ..Default::default()
            }
            .prepare()
            .ok();
            crate::authz::facts::transact_write(
                e.kind,
                table,
                tenant.table(table).as_deref(),
                e.item.or(e.key),
                prepared.as_ref(),
                rcc,
            )
        })
        .collect()
}

/// The Coral-style member checks, all reported together.
fn check_members(input: &TransactWriteItemsInput) -> Result<(), DynamoError> {
    use openddb_core::api::validate::RETURN_VALUES_ON_CCF;
    let mut v = Violations::new();
    super::common::check_transact_items(
        &mut v,
        &input.transact_items,
        MAX_ACTIONS,
        super::common::show_transact_write_items,
    );
    for (i, e) in input.transact_items.iter().flatten().enumerate() {
        let Some(entry) = entry(e) else {
            continue;
        };
        let member = format!("transactItems.{}.member.{}", i + 1, entry.kind);
        v.table_name(
            entry.table_name.as_deref(),
            &format!("{member}.tableName"),
            1,
        );
        match entry.kind {
            "put" => v.require(&entry.item, &format!("{member}.item")),
            _ => v.require(&entry.key, &format!("{member}.key")),
        }
        if entry.kind == "conditionCheck" {
            v.require(
                &entry.condition_expression,
                &format!("{member}.conditionExpression"),
            );
        }
        if entry.kind == "update" {
            v.require(
                &entry.update_expression,
                &format!("{member}.updateExpression"),
            );
        }
        v.one_of(
            entry.return_values_on_ccf,
            &format!("{member}.returnValuesOnConditionCheckFailure"),
            RETURN_VALUES_ON_CCF,
        );
    }
    if let Some(token) = &input.client_request_token {
        if token.is_empty() {
            v.push(
                "''",
                "clientRequestToken",
                "Member must have length greater than or equal to 1",
            );
        } else if token.chars().count() > MAX_TOKEN_LENGTH {
            v.push(
                &format!("'{token}'"),
                "clientRequestToken",
                &format!("Member must have length less than or equal to {MAX_TOKEN_LENGTH}"),
            );
        }
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
    for e in input.transact_items.iter().flatten() {
        let kinds = [
            e.condition_check.is_some(),
            e.put.is_some(),
            e.delete.is_some(),
            e.update.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => {
                return Err(DynamoError::validation(
                    "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
                ))
            }
            1 => {}
            _ => {
                return Err(DynamoError::validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                ))
            }
        }
    }
    Ok(())
}

/// DynamoDB's empty key values (of the table or an index) are refused
/// outright, where other key faults cancel the transaction.
fn refused_outright(e: &DynamoError) -> bool {
    e.message
        .starts_with("One or more parameter values are not valid.")
}

/// Checks every entry, in DynamoDB's phases: each entry's expressions and
/// item in request order, the request's size, then the tables, keys and
/// duplicates. Nothing runs unless all pass; a key that does not fit its
/// table becomes that entry's cancellation reason.
fn plan(tenant: &Tenant, input: &TransactWriteItemsInput) -> Result<Vec<Planned>, DynamoError> {
    let entries: Vec<Entry<'_>> = input
        .transact_items
        .iter()
        .flatten()
        .filter_map(entry)
        .collect();
    let mut prepared = Vec::with_capacity(entries.len());
    let mut bytes = 0usize;
    let mut referenced = 0usize;
    for e in &entries {
        let p = RequestExpressions {
            condition_expression: e.condition_expression,
            update_expression: e.update_expression,
            names: e.names,
            values: e.values,
            referenced_before: referenced,
            ..Default::default()
        }
        .prepare()?;
        referenced = p.referenced;
        if let Some(item) = e.item {
            check_item(item)?;
            check_item_size(item, false)?;
            bytes += item_size(item);
        }
        bytes += e.key.map_or(0, item_size);
        // The values an Update writes (or a condition compares) travel in
        // the request too.
        bytes += e.values.map_or(0, |values| {
            values
                .iter()
                .map(|(name, v)| name.len() + openddb_core::size::value_size(v))
                .sum()
        });
        prepared.push(p);
    }
    if bytes > MAX_TRANSACTION_BYTES {
        return Err(DynamoError::validation(format!(
            "Transaction payload size cannot exceed 4MB. Payload Size: {bytes}"
        )));
    }

    let mut planned = Vec::with_capacity(entries.len());
    let no_key = Item::new();
    for (e, prepared) in entries.iter().zip(prepared) {
        let meta = tenant
            .table(e.table_name.as_deref().unwrap_or_default())
            .ok_or_else(not_found_item)?;
        let keyed = match (e.item, e.key) {
            (Some(item), _) => meta.item_key(item),
            (None, key) => meta.key_from_key_param(key.unwrap_or(&no_key)),
        };
        let (key, item_key, fault) = match keyed {
            Ok((pk, sk)) => {
                let item_key: Item = match e.item {
                    Some(item) => meta
                        .key_names()
                        .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
                        .collect(),
                    None => e.key.cloned().unwrap_or_default(),
                };
                (keys::item_key(meta.id, pk, sk), item_key, None)
            }
            Err(err) if refused_outright(&err) => return Err(err),
            Err(err) => (Vec::new(), Item::new(), Some(err)),
        };
        let fault = fault.or_else(|| {
            let update = prepared.update.as_ref()?;
            let name = meta.key_names().find(|n| update.touches_attribute(n))?;
            Some(DynamoError::validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
            )))
        });
        let op = match (fault, e.kind) {
            (Some(err), _) => Op::Refused(err),
            (None, "put") => Op::Put(e.item.cloned().unwrap_or_default()),
            (None, "update") => match prepared.update {
                Some(u) => Op::Update(u),
                None => Op::Check,
            },
            (None, "delete") => Op::Delete,
            (None, _) => Op::Check,
        };
        planned.push(Planned {
            meta,
            key,
            item_key,
            op,
            condition: prepared.condition,
            return_old: e.return_values_on_ccf == Some("ALL_OLD"),
        });
    }
    Ok(planned)
}

/// The cancellation reason an entry's own failure becomes.
fn reason_of(err: DynamoError) -> CancellationReason {
    let code = match err.kind {
        ErrorKind::ConditionalCheckFailedException => "ConditionalCheckFailed",
        ErrorKind::DuplicateItemException => "DuplicateItem",
        ErrorKind::ResourceNotFoundException => "ResourceNotFound",
        ErrorKind::ItemCollectionSizeLimitExceededException => "ItemCollectionSizeLimitExceeded",
        ErrorKind::TransactionConflictException => "TransactionConflict",
        ErrorKind::ProvisionedThroughputExceededException => "ProvisionedThroughputExceeded",
        ErrorKind::ThrottlingException => "ThrottlingError",
        _ => "ValidationError",
    };
    CancellationReason {
        code: code.into(),
        message: Some(err.message),
        item: err.item,
    }
}

fn decode(bytes: &[u8]) -> Result<Item, KvError> {
    decode_item(bytes).map_err(|e| KvError::Fatal(format!("corrupt item: {e}")))
}

/// A ConditionCheck: the table must exist and the condition hold.
fn check_in(txn: &mut dyn Txn, p: &Planned) -> WriteResult<Done> {
    if read_stats(txn, p.meta.id)?.is_none() {
        return Ok(Err(not_found_item()));
    }
    let old = txn.get(&p.key)?.map(|b| decode(&b)).transpose()?;
    if let Some(c) = &p.condition {
        match condition_holds(c, old.as_ref()) {
            Ok(true) => {}
            Ok(false) => return Ok(Err(condition_failed(old.as_ref(), p.return_old))),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(Done {
        units: write_units(old.as_ref().map_or(0, item_size)),
        indexes: Vec::new(),
        collection_size: None,
        check: true,
    }))
}

/// What an entry does to the item it finds (`old`): its condition, then
/// the new item (or none). Shared with PartiQL's single-statement writes.
pub(crate) fn decide(p: &Planned, old: Option<&Item>) -> Result<Change, DynamoError> {
    if let Some(c) = &p.condition {
        if !condition_holds(c, old)? {
            return Err(condition_failed(old, p.return_old));
        }
    }
    Ok(match &p.op {
        Op::Put(item) => Change::Put(item.clone()),
        Op::Insert(item) => {
            if old.is_some() {
                return Err(crate::partiql::write::duplicate_item());
            }
            Change::Put(item.clone())
        }
        Op::Update(u) => {
            let mut item = old.cloned().unwrap_or_else(|| p.item_key.clone());
            apply_update(u, &mut item)?;
            check_item_size(&item, true)?;
            Change::Put(item)
        }
        Op::Delete | Op::Check | Op::Refused(_) => Change::Delete,
    })
}

/// A Put, Update or Delete through the shared per-item path.
fn write_one(txn: &mut dyn Txn, p: &Planned) -> WriteResult<Done> {
    let mut decide = |old: Option<&Item>| decide(p, old).map(|change| (change, ()));
    Ok(write_in(txn, &p.meta, &p.key, &mut decide)?.map(|w| Done {
        units: write_units(w.old_size.max(w.new_size)),
        indexes: w.indexes,
        collection_size: w.collection_size,
        check: false,
    }))
}

/// The whole transaction inside one kv transaction: every entry runs (so
/// that every failing one is reported), and any failure aborts them all.
fn execute(
    txn: &mut dyn Txn,
    planned: &[Planned],
    token: Option<(&str, [u8; 32])>,
) -> WriteResult<Vec<Done>> {
    let mut done = Vec::with_capacity(planned.len());
    let mut reasons = Vec::new();
    let mut failed = false;
    for p in planned {
        let result = match &p.op {
            Op::Check => check_in(txn, p)?,
            Op::Refused(e) => Err(e.clone()),
            _ => write_one(txn, p)?,
        };
        match result {
            Ok(d) => {
                done.push(d);
                reasons.push(CancellationReason::none());
            }
            // A table deleted since the request was checked, or an empty
            // index key value.
            Err(e) if e.kind == ErrorKind::ResourceNotFoundException || refused_outright(&e) => {
                return Ok(Err(e))
            }
            Err(e) => {
                failed = true;
                reasons.push(reason_of(e));
            }
        }
    }
    if failed {
        return Ok(Err(DynamoError::transaction_canceled(&reasons)));
    }
    if let Some((token, fingerprint)) = token {
        tokens::record(
            txn,
            token,
            &TokenRecord {
                fingerprint,
                completed_ms: tokens::now_ms(),
            },
        )?;
    }
    Ok(Ok(done))
}

pub async fn run(
    tenant: &Arc<Tenant>,
    ctx: &RequestContext,
    input: TransactWriteItemsInput,
) -> Result<TransactWriteItemsOutput, DynamoError> {
    check_members(&input)?;
    crate::authz::authorize(ctx, tenant, || accesses(tenant, &input))?;
    let planned = plan(tenant, &input)?;
    let capacity = ReturnCapacity::parse(input.return_consumed_capacity.as_deref());
    let fingerprint = tokens::fingerprint(&input.transact_items);
    let (mut output, committed) = commit(
        tenant,
        planned,
        input.client_request_token.clone(),
        fingerprint,
        capacity,
    )
    .await?;
    let asked = input.return_item_collection_metrics.as_deref();
    if let (Some("SIZE"), Some((planned, done))) = (asked, committed) {
        let mut metrics: BTreeMap<String, Vec<ItemCollectionMetrics>> = BTreeMap::new();
        for (p, d) in planned.iter().zip(&done) {
            if d.check {
                continue;
            }
            if let Some(m) = item_collection_metrics(&p.meta, &p.item_key, asked, d.collection_size)
            {
                metrics
                    .entry(p.meta.name().to_string())
                    .or_default()
                    .push(m);
            }
        }
        output.item_collection_metrics = Some(metrics);
    }
    Ok(output)
}

/// What a committed transaction did, entry by entry (`None` for a replay).
pub(crate) type Committed = Option<(Arc<Vec<Planned>>, Vec<Done>)>;

/// Runs planned entries as one transaction: the token's replay or
/// refusal, the in-flight claims (and injected conflicts), then every entry
/// in one kv transaction. The output carries the consumed capacity.
pub(crate) async fn commit(
    tenant: &Arc<Tenant>,
    planned: Vec<Planned>,
    token: Option<String>,
    fingerprint: [u8; 32],
    capacity: ReturnCapacity,
) -> Result<(TransactWriteItemsOutput, Committed), DynamoError> {
    let mut seen = HashSet::with_capacity(planned.len());
    for p in &planned {
        if !matches!(p.op, Op::Refused(_)) && !seen.insert(p.key.as_slice()) {
            return Err(DynamoError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
    }
    // A token already running is refused; one that completed within the
    // window answers from its record.
    let _running = match &token {
        Some(t) => Some(tenant.inflight.token(t).ok_or_else(|| {
            DynamoError::new(
                ErrorKind::TransactionInProgressException,
                "Transaction from previous request is still in progress",
            )
        })?),
        None => None,
    };
    if let Some(t) = &token {
        let t = t.clone();
        let keys: Vec<Vec<u8>> = planned.iter().map(|p| p.key.clone()).collect();
        let found = run::read(tenant, move |txn| {
            let Some(record) =
                tokens::lookup(txn, &t, tokens::now_ms()).map_err(run::storage_error)?
            else {
                return Ok(None);
            };
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let sizes = txn
                .get_many(&refs)
                .map_err(run::storage_error)?
                .iter()
                .map(|b| {
                    b.as_ref()
                        .map_or(Ok(0), |b| decode(b).map(|i| item_size(&i)))
                })
                .collect::<Result<Vec<usize>, KvError>>()
                .map_err(run::storage_error)?;
            Ok(Some((record, sizes)))
        })
        .await?;
        if let Some((record, sizes)) = found {
            if record.fingerprint != fingerprint {
                return Err(DynamoError::new(
                    ErrorKind::IdempotentParameterMismatchException,
                    "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.",
                ));
            }
            return Ok((replayed(&planned, &sizes, capacity), None));
        }
    }

    // Entries whose key does not fit their table hold nothing (they will
    // cancel the transaction with their own reason).
    let held: Vec<usize> = (0..planned.len())
        .filter(|i| !matches!(planned[*i].op, Op::Refused(_)))
        .collect();
    let keys: Vec<Vec<u8>> = held.iter().map(|i| planned[*i].key.clone()).collect();
    let _held = match tenant.inflight.transaction(&keys) {
        Ok(claim) => claim,
        Err(taken) => {
            let mut at = vec![false; planned.len()];
            for (i, t) in held.iter().zip(taken) {
                at[*i] = t;
            }
            return Err(run::conflict_cancellation(&at));
        }
    };
    if tenant.faults.strike() {
        let mut at = vec![false; planned.len()];
        if let Some(first) = at.first_mut() {
            *first = true;
        }
        return Err(run::conflict_cancellation(&at));
    }

    let planned = Arc::new(planned);
    let work = planned.clone();
    let done = run::write(&tenant.kv, move |txn: &mut dyn Txn| {
        execute(txn, &work, token.as_deref().map(|t| (t, fingerprint)))
    })
    .await
    .map_err(|e| {
        // A conflict the store itself detected (servers sharing one
        // database) cancels the whole transaction.
        if e.kind == ErrorKind::TransactionConflictException {
            run::conflict_cancellation(&vec![true; planned.len()])
        } else {
            e
        }
    })?;

    let mut output = TransactWriteItemsOutput::default();
    if capacity != ReturnCapacity::None {
        output.consumed_capacity = Some(consumed(&planned, &done, capacity));
    }
    Ok((output, Some((planned, done))))
}

/// Per table, in the order the tables first appear in the request.
fn by_table<T: Default>(planned: &[Planned]) -> Vec<(&str, T)> {
    let mut tables: Vec<(&str, T)> = Vec::new();
    for p in planned {
        if !tables.iter().any(|(t, _)| *t == p.meta.name()) {
            tables.push((p.meta.name(), T::default()));
        }
    }
    tables
}

/// Transactional capacity: each entry costs twice the write units of its
/// item (the larger of before and after; a ConditionCheck the item it
/// read), reported as WriteCapacityUnits per table; index writes cost what
/// they cost outside a transaction.
fn consumed(planned: &[Planned], done: &[Done], capacity: ReturnCapacity) -> Vec<ConsumedCapacity> {
    let mut per_table: Vec<(&str, (f64, Vec<IndexWrite>))> = by_table(planned);
    for (p, d) in planned.iter().zip(done) {
        let Some((_, (units, indexes))) = per_table.iter_mut().find(|(t, _)| *t == p.meta.name())
        else {
            continue;
        };
        *units += 2.0 * d.units;
        for i in &d.indexes {
            match indexes.iter_mut().find(|e| e.name == i.name) {
                Some(e) => e.units += i.units,
                None => indexes.push(i.clone()),
            }
        }
    }
    per_table
        .into_iter()
        .filter_map(|(table, (units, indexes))| {
            let mut report = capacity.report_write(table, units, &indexes)?;
            report.write_capacity_units = Some(report.capacity_units);
            if let Some(t) = report.table.as_mut() {
                t.write_capacity_units = Some(t.capacity_units);
            }
            for map in [
                report.global_secondary_indexes.as_mut(),
                report.local_secondary_indexes.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                for c in map.values_mut() {
                    c.write_capacity_units = Some(c.capacity_units);
                }
            }
            Some(report)
        })
        .collect()
}

/// The answer to a retry of a completed transaction: nothing is written
/// again, and DynamoDB reports the retry as transactional reads of the
/// items as they are now (`sizes`, by entry).
fn replayed(
    planned: &[Planned],
    sizes: &[usize],
    capacity: ReturnCapacity,
) -> TransactWriteItemsOutput {
    let mut output = TransactWriteItemsOutput::default();
    if capacity == ReturnCapacity::None {
        return output;
    }
    let mut per_table: Vec<(&str, f64)> = by_table(planned);
    for (p, size) in planned.iter().zip(sizes) {
        if let Some((_, units)) = per_table.iter_mut().find(|(t, _)| *t == p.meta.name()) {
            *units += 2.0 * read_units(*size, true);
        }
    }
    output.consumed_capacity = Some(
        per_table
            .into_iter()
            .filter_map(|(table, units)| {
                let mut report = capacity.report(table, units)?;
                report.read_capacity_units = Some(units);
                if let Some(c) = report.table.as_mut() {
                    c.read_capacity_units = Some(units);
                }
                Some(report)
            })
            .collect(),
    );
    output
}
