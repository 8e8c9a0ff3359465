//! SELECT: planned as DynamoDB plans it. A WHERE whose every OR branch pins
//! the partition key of what is read (with `=` or `IN`) reads only those
//! partitions, narrowed by the sort-key conditions every item must meet;
//! anything else scans the table or index. The whole WHERE is then the
//! filter, so the plan only decides what is walked (and charged), never
//! what matches.
//!
//! `Limit` counts the items read, before the filter; a page that stops
//! early carries a `NextToken` naming the partition and key to resume
//! after, tied to the statement, its parameters and the index read.

use std::sync::Arc;

use openddb_core::api::{Capacity, ConsumedCapacity};
use openddb_core::expr::eval::get_path;
use openddb_core::expr::keycond::SortRange;
use openddb_core::expr::{values_equal, Condition};
use openddb_core::keyenc::{encode_key_value, KeyValue};
use openddb_core::partiql::bind::{self, Params};
use openddb_core::partiql::{BinaryOp, Expr, Projection, Select};
use openddb_core::size::item_size;
use openddb_core::{AttributeValue, DynamoError, Item};

use super::{conjuncts, equality, key_type_error, mirror, Prepared};
use crate::actions::execute_statement::MAX_NEXT_TOKEN;
use crate::actions::multi_read::{execute, shape, whole, ReadPlan, Reader, Shape, Target};
use crate::capacity::ReturnCapacity;
use crate::catalog::{IndexStatus, KeyAttribute};
use crate::pages::{
    key_condition_range, range_holds, resume_after, resume_key, start_key, target_prefix,
    PAGE_BYTES,
};
use crate::sealed::{Fields, Purpose, Sealed};
use crate::tenant::Tenant;

/// Most partitions (or partition × sort-key combinations) one SELECT may
/// read.
const MAX_DECOMPOSED_READS: usize = 50;

/// How a SELECT is asked to run.
pub struct Options<'a> {
    pub limit: Option<i64>,
    pub next_token: Option<&'a str>,
    pub capacity: ReturnCapacity,
}

/// One page of a SELECT.
#[derive(Debug, Default)]
pub struct Output {
    pub items: Vec<Item>,
    pub next_token: Option<String>,
    pub consumed: Option<ConsumedCapacity>,
}

/// A SELECT bound and resolved against its table, before it runs.
pub struct Plan {
    target: Target,
    /// The partition key of what is read.
    partition_key: KeyAttribute,
    /// The partitions read, in order; `None` scans.
    partitions: Option<Vec<AttributeValue>>,
    sort_equal: Option<AttributeValue>,
    sort_range: Option<SortRange>,
    reverse: bool,
    filter: Option<Condition>,
    columns: Option<Vec<(String, openddb_core::expr::DocumentPath)>>,
    consistent: bool,
    /// What each entry returns (whole entries: `columns` projects them).
    shape: Shape,
    /// The item's key when the WHERE names one item of the table by its
    /// full key and nothing else: read as GetItem reads it.
    point: Option<Item>,
}

impl Plan {
    /// Whether the statement names exactly one item by its full primary key
    /// and asks nothing else of it (what BatchExecuteStatement and
    /// ExecuteTransaction allow).
    pub fn single_item_key(&self, select: &Select, params: Params<'_>) -> Option<Item> {
        if self.target.index.is_some() {
            return None;
        }
        let filter = select.filter.as_ref()?;
        let mut key = Item::new();
        for c in conjuncts(filter) {
            let (name, v) = match equality(c) {
                Some(x) => x,
                None => single_in(c)?,
            };
            if !self.target.meta.key_names().any(|n| n == name) {
                return None;
            }
            let v = bind::value(v, params).ok()?;
            match key.get(name) {
                Some(old) if !values_equal(old, &v) => return None,
                Some(_) => {}
                None => {
                    key.insert(name.to_string(), v);
                }
            }
        }
        let complete = self.target.meta.key_names().all(|n| key.contains_key(n));
        complete.then_some(key)
    }

    /// The projection of `item` as SELECT's columns.
    pub fn columns_of(&self, item: &Item) -> Item {
        columns(self.columns.as_deref(), item)
    }

    pub fn table_name(&self) -> &str {
        self.target.meta.name()
    }

    pub fn meta(&self) -> &Arc<crate::catalog::TableMeta> {
        &self.target.meta
    }

    /// The `dynamodb:PartiQLSelect` this read needs: on the index or table
    /// read, with the partitions its WHERE pins (every partition, and
    /// `dynamodb:FullTableScan`, when it scans) and every attribute the
    /// statement names.
    pub fn access(&self, enclosing: Option<&'static str>) -> crate::authz::Access {
        let mut names = std::collections::HashSet::new();
        if let Some(f) = &self.filter {
            crate::actions::multi_read::condition_names(f, &mut names);
        }
        for (_, path) in self.columns.iter().flatten() {
            names.extend(path.top_name().map(str::to_string));
        }
        crate::authz::facts::partiql_select(
            self.target.meta.name(),
            self.target.index.as_ref().map(|i| i.name.as_str()),
            self.partitions.as_deref(),
            names.into_iter().collect(),
            self.columns.is_some(),
            enclosing,
        )
    }
}

/// `k IN [v]` with one value, which keyed-only surfaces accept as `k = v`.
fn single_in(e: &Expr) -> Option<(&str, &Expr)> {
    match e {
        Expr::In(x, list, _) if list.len() == 1 => match x.as_ref() {
            Expr::Path(p) if p.steps.is_empty() => Some((p.root.as_str(), &list[0])),
            _ => None,
        },
        _ => None,
    }
}

fn columns(columns: Option<&[(String, openddb_core::expr::DocumentPath)]>, item: &Item) -> Item {
    match columns {
        None => item.clone(),
        Some(cols) => cols
            .iter()
            .filter_map(|(name, path)| get_path(item, path).map(|v| (name.clone(), v.clone())))
            .collect(),
    }
}

/// The partition values a WHERE pins, if every way of satisfying it does.
fn pinned(
    e: &Expr,
    key: &KeyAttribute,
    params: Params<'_>,
) -> Result<Option<Vec<AttributeValue>>, DynamoError> {
    Ok(match e {
        Expr::Binary(BinaryOp::And, a, b, _) => {
            match (pinned(a, key, params)?, pinned(b, key, params)?) {
                (Some(x), Some(y)) => Some(
                    x.into_iter()
                        .filter(|v| y.iter().any(|w| values_equal(v, w)))
                        .collect(),
                ),
                (x, y) => x.or(y),
            }
        }
        Expr::Binary(BinaryOp::Or, a, b, _) => {
            match (pinned(a, key, params)?, pinned(b, key, params)?) {
                (Some(mut x), Some(y)) => {
                    x.extend(y);
                    Some(x)
                }
                _ => None,
            }
        }
        Expr::In(x, list, _) => match x.as_ref() {
            Expr::Path(p) if p.steps.is_empty() && p.root == key.name => {
                let mut values = Vec::with_capacity(list.len());
                for v in list {
                    if !bind::is_value(v) {
                        return Ok(None);
                    }
                    values.push(bind::value(v, params)?);
                }
                Some(values)
            }
            _ => None,
        },
        other => match equality(other) {
            Some((name, v)) if name == key.name => Some(vec![bind::value(v, params)?]),
            _ => None,
        },
    })
}

/// The sort-key condition every item must meet (a top-level conjunct), as
/// an equality or a range, when its value has the key's type.
fn sort_condition(
    filter: &Expr,
    key: &KeyAttribute,
    params: Params<'_>,
) -> Result<(Option<AttributeValue>, Option<SortRange>), DynamoError> {
    let typed = |v: AttributeValue| (v.type_name() == key.attr_type).then_some(v);
    let is_key = |e: &Expr| matches!(e, Expr::Path(p) if p.steps.is_empty() && p.root == key.name);
    for c in conjuncts(filter) {
        match c {
            Expr::Binary(op, a, b, _) => {
                let (op, v) = match (is_key(a), is_key(b)) {
                    (true, false) if bind::is_value(b) => (*op, b),
                    (false, true) if bind::is_value(a) => (mirror(*op), a),
                    _ => continue,
                };
                let Some(v) = typed(bind::value(v, params)?) else {
                    continue;
                };
                match op {
                    BinaryOp::Eq => return Ok((Some(v), None)),
                    BinaryOp::Lt => return Ok((None, Some(SortRange::Lt(v)))),
                    BinaryOp::Le => return Ok((None, Some(SortRange::Le(v)))),
                    BinaryOp::Gt => return Ok((None, Some(SortRange::Gt(v)))),
                    BinaryOp::Ge => return Ok((None, Some(SortRange::Ge(v)))),
                    _ => {}
                }
            }
            Expr::Between(x, low, high, _)
                if is_key(x) && bind::is_value(low) && bind::is_value(high) =>
            {
                let (low, high) = (bind::value(low, params)?, bind::value(high, params)?);
                if let (Some(low), Some(high)) = (typed(low), typed(high)) {
                    if openddb_core::expr::eval::compare_scalars(&low, &high)
                        .is_some_and(|o| o.is_le())
                    {
                        return Ok((None, Some(SortRange::Between(low, high))));
                    }
                }
            }
            Expr::Call { name, args, .. }
                if name == "begins_with"
                    && args.len() == 2
                    && is_key(&args[0])
                    && bind::is_value(&args[1])
                    && key.attr_type != "N" =>
            {
                if let Some(v) = typed(bind::value(&args[1], params)?) {
                    return Ok((None, Some(SortRange::BeginsWith(v))));
                }
            }
            _ => {}
        }
    }
    Ok((None, None))
}

/// Binds and resolves a SELECT against its table and index.
pub fn plan(
    tenant: &Tenant,
    prepared: &Prepared,
    select: &Select,
    consistent: bool,
) -> Result<Plan, DynamoError> {
    let params = prepared.params();
    // Values and operands are checked before the table is looked up.
    let filter = select
        .filter
        .as_ref()
        .map(|f| bind::condition(f, params))
        .transpose()?;
    let columns = match &select.projection {
        Projection::All => None,
        Projection::Paths(paths) => Some(
            paths
                .iter()
                .map(|p| Ok((bind::column_name(p), bind::path(p)?)))
                .collect::<Result<Vec<_>, DynamoError>>()?,
        ),
    };

    let meta = tenant.table_or_not_found(&select.from.table)?;
    let index = match &select.from.index {
        None => None,
        Some(name) => match meta.index(name) {
            Some(i) if i.status != IndexStatus::Deleting => Some(i.clone()),
            _ => {
                return Err(DynamoError::validation(
                    "The table does not have the specified index",
                ))
            }
        },
    };
    if let Some(i) = &index {
        if let Some(e) = super::multi_attribute_keys(i) {
            return Err(e);
        }
        if consistent && i.global {
            return Err(DynamoError::validation(
                "Strongly consistent read is not supported on Global Secondary Indexes",
            ));
        }
    }
    let (partition_key, sort_key) = match &index {
        Some(i) => (
            i.partition
                .first()
                .cloned()
                .ok_or_else(|| DynamoError::internal("index without a partition key"))?,
            i.sort.first().cloned(),
        ),
        None => (
            meta.key_schema.partition_key.clone(),
            meta.key_schema.sort_key.clone(),
        ),
    };
    let target = Target { meta, index };

    let mut partitions = match &select.filter {
        Some(f) => pinned(f, &partition_key, params)?,
        None => None,
    };
    if let Some(values) = &mut partitions {
        let mut keyed: Vec<(Vec<u8>, AttributeValue)> = Vec::with_capacity(values.len());
        for v in values.drain(..) {
            let mut k = Vec::new();
            match KeyValue::try_from(&v) {
                Ok(key) if key.type_name() == partition_key.attr_type => {
                    encode_key_value(key, &mut k)
                }
                _ => return Err(key_type_error(&partition_key.name)),
            }
            keyed.push((k, v));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        if keyed.len() > MAX_DECOMPOSED_READS {
            return Err(DynamoError::validation(
                "Too many decomposed read operations for a given query.",
            ));
        }
        values.extend(keyed.into_iter().map(|(_, v)| v));
    }
    if let (Some(_), Some(f)) = (&partitions, &select.filter) {
        super::overlap::check(f, &partition_key, sort_key.as_ref(), params)?;
    }
    let (sort_equal, sort_range) = match (&partitions, &sort_key, &select.filter) {
        (Some(_), Some(sk), Some(f)) => sort_condition(f, sk, params)?,
        _ => (None, None),
    };

    // ORDER BY: only key attributes, only on a keyed read.
    let mut reverse = false;
    let mut partitions_descending = false;
    if !select.order_by.is_empty() {
        if select.filter.is_none() {
            return Err(DynamoError::validation(
                "Must have WHERE clause in the statement when using ORDER BY clause.",
            ));
        }
        let mut names_pk = false;
        let mut sort_direction = None;
        for o in &select.order_by {
            if o.name == partition_key.name {
                names_pk = true;
                partitions_descending = o.descending;
            } else if sort_key.as_ref().is_some_and(|s| s.name == o.name) {
                sort_direction = Some(o.descending);
            } else {
                return Err(DynamoError::validation(format!(
                    "Attribute {} in ORDER BY clause must be part of the primary key",
                    o.name
                )));
            }
        }
        let Some(values) = &partitions else {
            return Err(DynamoError::validation(
                "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.",
            ));
        };
        if values.len() > 1 && !names_pk {
            return Err(DynamoError::validation(
                "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause.",
            ));
        }
        // Ordering by the partition key alone returns each partition's
        // items in descending sort-key order, as DynamoDB does.
        reverse = sort_direction.unwrap_or(names_pk);
    }
    if partitions_descending {
        if let Some(values) = &mut partitions {
            values.reverse();
        }
    }

    let keyed = partitions.is_some();
    // Unprojected attributes of an index are refused now (the filter's
    // only on a keyed read).
    let shape = Shape {
        projection: None,
        ..shape(
            &target,
            Reader::Scan,
            None,
            columns
                .as_ref()
                .map(|c| c.iter().map(|(_, p)| p.clone()).collect()),
            None,
        )?
    };
    if let (true, Some(index), Some(f)) = (keyed, &target.index, &select.filter) {
        check_filter_projected(index, &target.meta.key_schema, f)?;
    }
    let mut plan = Plan {
        target,
        partition_key,
        partitions,
        sort_equal,
        sort_range,
        reverse,
        filter,
        columns,
        consistent,
        shape,
        point: None,
    };
    plan.point = plan.single_item_key(select, params);
    Ok(plan)
}

/// A keyed index read may not filter on attributes the index does not
/// project (a filter inside an OR branch, or on a scan, just sees them
/// missing). The attributes are listed in the order written.
fn check_filter_projected(
    index: &crate::catalog::IndexMeta,
    table: &crate::catalog::KeySchema,
    filter: &Expr,
) -> Result<(), DynamoError> {
    fn names<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
        match e {
            Expr::Path(p) if !out.contains(&p.root.as_str()) => out.push(&p.root),
            Expr::Not(x) | Expr::Neg(x, _) => names(x, out),
            Expr::Binary(_, a, b, _) => {
                names(a, out);
                names(b, out);
            }
            Expr::Between(a, b, c, _) => {
                names(a, out);
                names(b, out);
                names(c, out);
            }
            Expr::In(x, list, _) => {
                names(x, out);
                list.iter().for_each(|v| names(v, out));
            }
            Expr::Is { expr, .. } => names(expr, out),
            Expr::Call { args, .. } => args.iter().for_each(|a| names(a, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    for c in conjuncts(filter) {
        if !matches!(c, Expr::Binary(BinaryOp::Or, ..)) {
            names(c, &mut all);
        }
    }
    let missing: Vec<&str> = all
        .into_iter()
        .filter(|n| !index.projects(n, table))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(DynamoError::validation(format!(
        "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{}]",
        index.name,
        missing.join(", ")
    )))
}

/// What a NextToken carries, sealed (see sealed.rs) so a client can only
/// hand back what it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resume {
    /// Fingerprint of the statement, its parameters and what is read.
    fingerprint: [u8; FINGERPRINT_BYTES],
    /// The partition being read (its place in the plan's list).
    partition: u32,
    /// The key to resume after, within that partition (or the scan): the
    /// encoded key values of the entry (index key, then table key), as
    /// they follow the table or index prefix in its storage key. Compact,
    /// so that the largest keys fit NextToken's 32768 characters.
    key: Option<Vec<u8>>,
}

const FINGERPRINT_BYTES: usize = 16;

impl Sealed for Resume {
    const PURPOSE: Purpose = Purpose::PartiqlNextToken;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.fingerprint);
        out.extend_from_slice(&self.partition.to_be_bytes());
        match &self.key {
            None => out.push(0),
            Some(k) => {
                out.push(1);
                out.extend_from_slice(k);
            }
        }
    }

    fn read(bytes: &[u8]) -> Option<Resume> {
        let mut r = Fields(bytes);
        let fingerprint = r.take(FINGERPRINT_BYTES)?.try_into().ok()?;
        let partition = r.u32()?;
        let key = match r.u8()? {
            0 if r.is_empty() => None,
            1 if !r.is_empty() => Some(r.rest().to_vec()),
            _ => return None,
        };
        Some(Resume {
            fingerprint,
            partition,
            key,
        })
    }
}

fn fingerprint(prepared: &Prepared, plan: &Plan) -> [u8; FINGERPRINT_BYTES] {
    let digest = crate::tokens::fingerprint(&(
        &prepared.text,
        &prepared.params,
        plan.target.index.as_ref().map(|i| i.name.as_str()),
    ));
    let mut out = [0u8; FINGERPRINT_BYTES];
    out.copy_from_slice(&digest[..FINGERPRINT_BYTES]);
    out
}

fn invalid_token() -> DynamoError {
    DynamoError::validation("Invalid NextToken")
}

/// The token that resumes after `resume`.
fn seal_token(tenant: &Tenant, resume: &Resume) -> String {
    tenant.sealer.seal_text(resume, &[])
}

/// Opens a NextToken: its tag first (anything not sealed for this tenant
/// as a NextToken is "Invalid NextToken"), then whether it belongs to this
/// statement, then whether its partition is one the plan reads.
fn open_token(
    tenant: &Tenant,
    token: &str,
    fingerprint: [u8; FINGERPRINT_BYTES],
    partitions: usize,
) -> Result<Resume, DynamoError> {
    let resume = tenant
        .sealer
        .open_text::<Resume>(token, &[], MAX_NEXT_TOKEN)
        .ok_or_else(invalid_token)?
        .into_inner();
    if resume.fingerprint != fingerprint {
        return Err(DynamoError::validation("NextToken does not match request"));
    }
    if resume.partition as usize >= partitions {
        return Err(invalid_token());
    }
    Ok(resume)
}

pub fn add_capacity(total: &mut Option<ConsumedCapacity>, part: Option<ConsumedCapacity>) {
    let Some(part) = part else {
        return;
    };
    let Some(t) = total else {
        *total = Some(part);
        return;
    };
    t.capacity_units += part.capacity_units;
    if let (Some(a), Some(b)) = (&mut t.table, &part.table) {
        a.capacity_units += b.capacity_units;
    }
    for (mine, theirs) in [
        (
            &mut t.global_secondary_indexes,
            part.global_secondary_indexes,
        ),
        (&mut t.local_secondary_indexes, part.local_secondary_indexes),
    ] {
        if let Some(theirs) = theirs {
            let mine = mine.get_or_insert_with(Default::default);
            for (name, c) in theirs {
                mine.entry(name)
                    .or_insert_with(Capacity::default)
                    .capacity_units += c.capacity_units;
            }
        }
    }
}

/// A partition's place in the plan (at most MAX_DECOMPOSED_READS).
fn index_u32(i: usize) -> Result<u32, DynamoError> {
    u32::try_from(i).map_err(|_| DynamoError::internal("too many partitions"))
}

/// A SELECT of one item by its full key, read as GetItem reads it.
async fn point_read(
    tenant: &Arc<Tenant>,
    plan: &Plan,
    key: &Item,
    capacity: ReturnCapacity,
) -> Result<Output, DynamoError> {
    let meta = &plan.target.meta;
    let (pk, sk) = meta.key_from_key_param(key)?;
    let item =
        crate::write::read_item(tenant, meta, crate::keys::item_key(meta.id, pk, sk)).await?;
    let size = item.as_ref().map_or(0, item_size);
    Ok(Output {
        items: item.iter().map(|i| plan.columns_of(i)).collect(),
        next_token: None,
        consumed: capacity.report(
            meta.name(),
            crate::capacity::read_units(size, plan.consistent),
        ),
    })
}

/// Runs one page of a planned SELECT.
pub async fn run(
    tenant: &Arc<Tenant>,
    prepared: &Prepared,
    plan: Plan,
    options: Options<'_>,
) -> Result<Output, DynamoError> {
    // The fingerprint is computed only to check or to mint a token.
    let hash = || fingerprint(prepared, &plan);
    let reads = plan.partitions.as_ref().map_or(1, Vec::len);
    let mut resume = match options.next_token {
        Some(token) => Some(open_token(tenant, token, hash(), reads)?),
        None => None,
    };
    if let (Some(key), None) = (&plan.point, &resume) {
        return point_read(tenant, &plan, key, options.capacity).await;
    }
    let target = &plan.target;
    let prefix = target_prefix(&target.meta, target.index.as_ref());
    let reads: Vec<Option<&AttributeValue>> = match &plan.partitions {
        Some(values) => values.iter().map(Some).collect(),
        None => vec![None],
    };
    let first = resume.as_ref().map_or(0, |r| r.partition as usize);
    let mut out = Output::default();
    let mut remaining = options.limit;
    let mut bytes = 0usize;
    for (i, partition) in reads.iter().enumerate().skip(first) {
        let mut range = match partition {
            Some(v) => key_condition_range(
                &prefix,
                std::slice::from_ref(*v),
                plan.sort_equal.as_slice(),
                plan.sort_range.as_ref(),
            )
            // plan() kept only values of the key's type.
            .map_err(|_| key_type_error(&plan.partition_key.name))?,
            None => whole(target),
        };
        if let Some(values) = resume.take().and_then(|r| r.key) {
            // Sealed by this server, but checked as if it were not: the
            // table may have been re-created with other key types since.
            let key = resume_key(&target.meta, target.index.as_ref(), &prefix, &values)
                .filter(|k| range_holds(&range, k))
                .ok_or_else(invalid_token)?;
            range = resume_after(range, key, plan.reverse);
        }
        let page = execute(
            tenant,
            target,
            ReadPlan {
                reader: if partition.is_some() {
                    Reader::Query
                } else {
                    Reader::Scan
                },
                range,
                reverse: plan.reverse,
                limit: remaining,
                segment: None,
                filter: plan.filter.clone(),
                shape: plan.shape.clone(),
                consistent: plan.consistent,
                capacity: options.capacity,
            },
        )
        .await?;
        add_capacity(&mut out.consumed, page.consumed_capacity);
        for item in page.items.unwrap_or_default() {
            bytes += item_size(&item);
            out.items.push(plan.columns_of(&item));
        }
        if let Some(r) = &mut remaining {
            *r -= page.scanned_count;
        }
        let more_partitions = i + 1 < reads.len();
        if let Some(lek) = page.last_evaluated_key {
            let key = start_key(&target.meta, target.index.as_ref(), &lek)
                .and_then(|k| k.get(prefix.len()..).map(<[u8]>::to_vec))
                .ok_or_else(|| DynamoError::internal("unencodable LastEvaluatedKey"))?;
            out.next_token = Some(seal_token(
                tenant,
                &Resume {
                    fingerprint: hash(),
                    partition: index_u32(i)?,
                    key: Some(key),
                },
            ));
            break;
        }
        let full = remaining.is_some_and(|r| r <= 0) || bytes >= PAGE_BYTES;
        if full && more_partitions {
            out.next_token = Some(seal_token(
                tenant,
                &Resume {
                    fingerprint: hash(),
                    partition: index_u32(i + 1)?,
                    key: None,
                },
            ));
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod token_tests;
