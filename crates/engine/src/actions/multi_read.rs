//! What Query and Scan share: the index read, Select and its rules, which
//! attributes come back, ExclusiveStartKey, running a page and reporting
//! its capacity.

use std::collections::HashSet;
use std::sync::Arc;

use openddb_core::api::{Capacity, ConsumedCapacity, QueryOutput};
use openddb_core::expr::print::value_brief;
use openddb_core::expr::{values_equal, Condition, DocumentPath, Operand};
use openddb_core::keyenc::KeyValue;
use openddb_core::{AttributeValue, DynamoError, Item};
use openddb_kv::KeyRange;

use crate::capacity::ReturnCapacity;
use crate::catalog::{IndexMeta, IndexProjection, IndexStatus, TableMeta};
use crate::pages::{continue_page, read_page, segment_of, start_key, Page, PageRequest, PageWalk};
use crate::run;
use crate::tenant::Tenant;

/// `Select`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    AllAttributes,
    AllProjectedAttributes,
    SpecificAttributes,
    Count,
}

/// Which action reads, for the wording of its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Query,
    Scan,
}

/// The table or index a request reads, resolved and checked.
pub struct Target {
    pub meta: Arc<TableMeta>,
    pub index: Option<IndexMeta>,
}

impl Target {
    /// Looks up the table and index a read names; refuses ConsistentRead
    /// on a global index (after the index lookup, as DynamoDB does).
    pub fn open(
        tenant: &Tenant,
        table_name: Option<&str>,
        index_name: Option<&str>,
        consistent: bool,
    ) -> Result<Target, DynamoError> {
        let meta = tenant.table_or_not_found(table_name.unwrap_or_default())?;
        let target = Target::resolve(meta, index_name)?;
        if consistent && target.index.as_ref().is_some_and(|i| i.global) {
            return Err(DynamoError::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        Ok(target)
    }

    pub fn resolve(meta: Arc<TableMeta>, index_name: Option<&str>) -> Result<Target, DynamoError> {
        let index = match index_name {
            None => None,
            Some(name) => match meta.index(name) {
                Some(i) if i.status != IndexStatus::Deleting => Some(i.clone()),
                _ => {
                    return Err(DynamoError::validation(format!(
                        "The table does not have the specified index: {name}"
                    )))
                }
            },
        };
        Ok(Target { meta, index })
    }

    /// The key attributes of the table and the index read (what a
    /// LastEvaluatedKey holds).
    pub fn key_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.meta.key_schema.names().collect();
        if let Some(i) = &self.index {
            for a in i.key_attributes() {
                if !names.contains(&a.name.as_str()) {
                    names.push(&a.name);
                }
            }
        }
        names
    }
}

/// The checks on `Select` that need to know the table and index, and
/// whether entries of a local index must be completed from the table.
#[derive(Clone)]
pub struct Shape {
    pub select: Select,
    pub projection: Option<Vec<DocumentPath>>,
    /// Read each entry's item from the table: a local index asked for
    /// attributes it does not project (ALL_ATTRIBUTES, or a projection).
    /// A filter alone never fetches: it sees what the index holds.
    pub fetch_from_table: bool,
}

pub fn parse_select(select: Option<&str>) -> Option<Select> {
    Some(match select? {
        "ALL_ATTRIBUTES" => Select::AllAttributes,
        "ALL_PROJECTED_ATTRIBUTES" => Select::AllProjectedAttributes,
        "SPECIFIC_ATTRIBUTES" => Select::SpecificAttributes,
        "COUNT" => Select::Count,
        _ => return None,
    })
}

/// Select's rules against the projection parameters and IndexName, which
/// DynamoDB checks before it looks at the table. When both a projection
/// rule and the index rule break, the projection rule is reported.
pub fn check_select(
    reader: Reader,
    select: Option<Select>,
    has_index: bool,
    projection_expression: bool,
    attributes_to_get: bool,
) -> Result<(), DynamoError> {
    let projects = projection_expression || attributes_to_get;
    let what = if projection_expression {
        "ProjectionExpression"
    } else {
        "AttributesToGet"
    };
    match select {
        Some(Select::SpecificAttributes) if !projects => {
            let msg = "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES";
            Err(DynamoError::validation(match reader {
                Reader::Query => format!("1 validation error detected: {msg}"),
                Reader::Scan => msg.to_string(),
            }))
        }
        Some(Select::Count) if projects => Err(DynamoError::validation(format!(
            "Cannot specify the {what} when choosing to get only the Count"
        ))),
        Some(Select::AllAttributes) if projects => Err(DynamoError::validation(format!(
            "Cannot specify the {what} when choosing to get ALL_ATTRIBUTES"
        ))),
        Some(Select::AllProjectedAttributes) if projects => Err(DynamoError::validation(format!(
            "Cannot specify the {what} when choosing to get ALL_PROJECTED_ATTRIBUTES"
        ))),
        Some(Select::AllProjectedAttributes) if !has_index => Err(DynamoError::validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        _ => Ok(()),
    }
}

/// Decides what each entry returns, with DynamoDB's errors for a Select an
/// index cannot serve.
///
/// A filter on attributes a secondary index does not project: Query
/// refuses it, for global and local indexes alike, before it looks at the
/// projection; Scan accepts it and evaluates it against the index entry,
/// where those attributes are missing. (DynamoDB Local refuses in Query
/// only, in its QueryFunction; real DynamoDB's PartiQL refuses a keyed
/// index read and serves an unkeyed one, matching nothing. See
/// docs/real-suites.md.)
pub fn shape(
    target: &Target,
    reader: Reader,
    select: Option<Select>,
    projection: Option<Vec<DocumentPath>>,
    filter: Option<&Condition>,
) -> Result<Shape, DynamoError> {
    let select = select.unwrap_or(match (&projection, &target.index) {
        (Some(_), _) => Select::SpecificAttributes,
        (None, Some(_)) => Select::AllProjectedAttributes,
        (None, None) => Select::AllAttributes,
    });
    let Some(index) = &target.index else {
        return Ok(Shape {
            select,
            projection,
            fetch_from_table: false,
        });
    };
    let table_keys = &target.meta.key_schema;
    let all_projected = index.projection == IndexProjection::All;
    let unprojected = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| !index.projects(n, table_keys))
            .collect()
    };
    let mut projected_names: Vec<String> = Vec::new();
    for p in projection.iter().flatten() {
        if let Some(n) = p.top_name() {
            if !projected_names.iter().any(|x| x == n) {
                projected_names.push(n.to_string());
            }
        }
    }
    let missing_projected = unprojected(projected_names);
    if reader == Reader::Query {
        let mut filter_names = HashSet::new();
        if let Some(f) = filter {
            condition_names(f, &mut filter_names);
        }
        let mut filter_names: Vec<String> = filter_names.into_iter().collect();
        filter_names.sort();
        let missing_filter = unprojected(filter_names);
        if !missing_filter.is_empty() {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{}]",
                index.name,
                missing_filter.join(", ")
            )));
        }
    }
    if index.global && !missing_projected.is_empty() {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Global secondary index {} does not project [{}]",
            index.name,
            missing_projected.join(", ")
        )));
    }
    let fetch_from_table = match select {
        Select::AllAttributes if !all_projected => {
            if index.global {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                    index.name
                )));
            }
            true
        }
        _ => !index.global && !missing_projected.is_empty(),
    };
    Ok(Shape {
        select,
        projection,
        fetch_from_table,
    })
}

/// The top-level attribute names a condition reads.
pub fn condition_names(c: &Condition, out: &mut HashSet<String>) {
    let mut operand = |o: &Operand| collect_operand(o, out);
    match c {
        Condition::Compare(a, _, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
            operand(a);
            operand(b);
        }
        Condition::Between(a, b, d) => {
            operand(a);
            operand(b);
            operand(d);
        }
        Condition::In(a, list) => {
            operand(a);
            list.iter().for_each(operand);
        }
        Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => {
            out.extend(p.top_name().map(str::to_string));
        }
        Condition::AttributeType(p, o) => {
            out.extend(p.top_name().map(str::to_string));
            collect_operand(o, out);
        }
        Condition::Not(x) => condition_names(x, out),
        Condition::And(a, b) | Condition::Or(a, b) => {
            condition_names(a, out);
            condition_names(b, out);
        }
    }
}

fn collect_operand(o: &Operand, out: &mut HashSet<String>) {
    match o {
        Operand::Path(p) => out.extend(p.top_name().map(str::to_string)),
        Operand::Size(inner) => collect_operand(inner, out),
        Operand::Value(_) => {}
    }
}

/// What an ExclusiveStartKey must agree with besides the key schema.
pub enum StartCheck<'a> {
    /// A Query: the partition it reads (values of the queried schema's
    /// partition attributes, in order).
    Query {
        partition_names: Vec<&'a str>,
        partition: &'a [AttributeValue],
    },
    /// A Scan, and the segment it reads.
    Scan { segment: Option<(u32, u32)> },
}

/// Checks an ExclusiveStartKey against the table's and index's key
/// attributes, and against what the request reads, and returns the storage
/// key it names.
pub fn exclusive_start(
    target: &Target,
    key: &Item,
    check: StartCheck<'_>,
) -> Result<Vec<u8>, DynamoError> {
    let scan = matches!(check, StartCheck::Scan { .. });
    let invalid = || {
        DynamoError::validation(if scan && target.index.is_none() {
            "The provided starting key is invalid: The provided key element does not match the schema"
        } else {
            "The provided starting key is invalid"
        })
    };
    let names = target.key_names();
    if key.len() != names.len() || !names.iter().all(|n| key.contains_key(*n)) {
        return Err(invalid());
    }
    target
        .meta
        .key_from_key_param(&table_part(&target.meta, key))
        .map_err(|e| if scan { invalid() } else { e })?;
    if let Some(index) = &target.index {
        for a in index.key_attributes() {
            if key.get(&a.name).map(|v| v.type_name()) != Some(a.attr_type.as_str()) {
                return Err(invalid());
            }
        }
    }
    match check {
        StartCheck::Query {
            partition_names,
            partition,
        } => {
            if target.index.is_none() && target.meta.key_schema.sort_key.is_none() {
                // A partition of a hash-only table holds one item: there
                // is nothing to resume after.
                let shown: Vec<String> = key
                    .iter()
                    .map(|(n, v)| format!("{n}=AttributeValue: {}", value_brief(v)))
                    .collect();
                return Err(DynamoError::validation(format!(
                    "The provided exclusive start key is invalid: ExclusiveStartKey: {{{}}}",
                    shown.join(", ")
                )));
            }
            let same_partition = partition_names
                .iter()
                .zip(partition)
                .all(|(n, v)| key.get(*n).is_some_and(|k| values_equal(k, v)));
            if !same_partition {
                return Err(DynamoError::validation(
                    "The provided starting key is outside query boundaries based on provided conditions",
                ));
            }
        }
        StartCheck::Scan {
            segment: Some((segment, total)),
        } => {
            let pk = key
                .get(&target.meta.key_schema.partition_key.name)
                .and_then(|v| KeyValue::try_from(v).ok());
            if pk.is_some_and(|pk| segment_of(pk, total) != segment) {
                return Err(DynamoError::validation(format!(
                    "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
                )));
            }
        }
        StartCheck::Scan { segment: None } => {}
    }
    start_key(&target.meta, target.index.as_ref(), key).ok_or_else(invalid)
}

fn table_part(meta: &TableMeta, key: &Item) -> Item {
    meta.key_schema
        .names()
        .filter_map(|n| key.get(n).map(|v| (n.to_string(), v.clone())))
        .collect()
}

/// Runs a page read on a snapshot: inline when the backend's reads are
/// cheap, otherwise on a blocking thread so a long page never stalls the
/// worker.
///
/// On a backend whose reads are not cheap, the first chunk is still read on
/// the worker when a snapshot can be had without waiting (`Kv::try_read`)
/// and the tenant has no other read running:
/// most pages (a Query of a few hundred items) end within it, and a
/// hand-off to the blocking pool and back costs more than the read. A
/// longer page continues on a blocking thread, in a new snapshot, and a
/// page that would wait for its snapshot is read there from the start.
async fn run_page(tenant: &Arc<Tenant>, req: PageRequest) -> Result<Page, DynamoError> {
    if tenant.kv.reads_are_cheap() {
        return run::read(tenant, move |txn| read_page(txn, &req)).await;
    }
    // The tenant's read slot is held for the whole page, in place or not.
    let _slot = run::read_slot(tenant).await?;
    let kv = tenant.kv.clone();
    let mut walk = PageWalk::new(&req);
    // A tenant with other reads running (a flood of Scans, say) reads its
    // pages on blocking threads only: a chunk read in place holds a worker
    // every tenant's requests need.
    let alone = tenant.reads.available_permits() + 1 >= tenant.read_slots;
    if let Some(snapshot) = alone.then(|| kv.try_read()).flatten() {
        let snapshot = snapshot.map_err(run::storage_error)?;
        continue_page(&*snapshot, &req, &mut walk, 1)?;
        drop(snapshot);
        if walk.finished() {
            return Ok(walk.page);
        }
    }
    run::blocking(move || {
        let snapshot = kv.read().map_err(run::storage_error)?;
        continue_page(&*snapshot, &req, &mut walk, usize::MAX)?;
        Ok(walk.page)
    })
    .await
}

/// One page read, decided: what to walk and how to shape the result.
pub struct ReadPlan {
    pub reader: Reader,
    pub range: KeyRange,
    pub reverse: bool,
    pub limit: Option<i64>,
    pub segment: Option<(u32, u32)>,
    pub filter: Option<Condition>,
    pub shape: Shape,
    pub consistent: bool,
    pub capacity: ReturnCapacity,
}

/// Reads the page and builds the response.
pub async fn execute(
    tenant: &Arc<Tenant>,
    target: &Target,
    plan: ReadPlan,
) -> Result<QueryOutput, DynamoError> {
    let mut page = run_page(
        tenant,
        PageRequest {
            meta: target.meta.clone(),
            index: target.index.clone(),
            range: plan.range,
            reverse: plan.reverse,
            limit: plan.limit.map(|l| l as usize),
            segment: plan.segment,
            filter: plan.filter,
            projection: plan.shape.projection,
            count_only: plan.shape.select == Select::Count,
            fetch_from_table: plan.shape.fetch_from_table,
        },
    )
    .await?;
    if plan.reader == Reader::Query
        && target.index.is_none()
        && target.meta.key_schema.sort_key.is_none()
    {
        // A partition of a hash-only table is one item: once read, nothing
        // is left to resume (and DynamoDB refuses a start key there).
        page.last_evaluated_key = None;
    }
    Ok(respond(
        target,
        page,
        plan.shape.select,
        plan.consistent,
        plan.capacity,
    ))
}

/// Assembles the response, with capacity sized on what was read before
/// filtering: one rounding to 4 KB per request, half for eventual reads,
/// split between the index and the table for INDEXES.
fn respond(
    target: &Target,
    page: Page,
    select: Select,
    consistent: bool,
    capacity: ReturnCapacity,
) -> QueryOutput {
    let units = |bytes: usize| {
        let u = bytes.div_ceil(4096).max(1) as f64;
        if consistent {
            u
        } else {
            u / 2.0
        }
    };
    let fetched = page.fetched_blocks as f64 * if consistent { 1.0 } else { 0.5 };
    let consumed = match (capacity, &target.index) {
        (ReturnCapacity::None, _) => None,
        (_, None) => capacity.report(target.meta.name(), units(page.read_bytes)),
        (ReturnCapacity::Total, Some(_)) => {
            let total = units(page.read_bytes) + fetched;
            capacity.report(target.meta.name(), total)
        }
        (ReturnCapacity::Indexes, Some(index)) => {
            let index_units = units(page.read_bytes);
            let table_units = fetched;
            let mut c = ConsumedCapacity {
                table_name: target.meta.name().to_string(),
                capacity_units: index_units + table_units,
                table: Some(Capacity {
                    capacity_units: table_units,
                    ..Default::default()
                }),
                ..Default::default()
            };
            let per_index = Some(
                [(
                    index.name.clone(),
                    Capacity {
                        capacity_units: index_units,
                        ..Default::default()
                    },
                )]
                .into_iter()
                .collect(),
            );
            if index.global {
                c.global_secondary_indexes = per_index;
            } else {
                c.local_secondary_indexes = per_index;
            }
            Some(c)
        }
    };
    QueryOutput {
        items: (select != Select::Count).then_some(page.items),
        count: page.count as i64,
        scanned_count: page.scanned_count as i64,
        last_evaluated_key: page.last_evaluated_key,
        consumed_capacity: consumed,
    }
}

/// The whole range of the table or index read.
pub fn whole(target: &Target) -> KeyRange {
    KeyRange::prefix(&crate::pages::target_prefix(
        &target.meta,
        target.index.as_ref(),
    ))
}
