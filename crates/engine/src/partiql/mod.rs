//! PartiQL statements on top of the engine's read and write paths: a
//! statement is parsed and bound in core, then planned here against the
//! table it names — a SELECT becomes reads of the partitions its WHERE
//! pins (or a scan), a write becomes one item's conditional write through
//! the same per-item path as PutItem, UpdateItem and DeleteItem.

mod overlap;
pub mod select;
pub mod write;

use std::sync::Arc;

use openddb_core::expr::{values_equal, Condition};
use openddb_core::partiql::bind::{self, Params};
use openddb_core::partiql::{self, BinaryOp, Expr, Parsed, Source, Statement};
use openddb_core::{AttributeValue, DynamoError, Item};

use crate::arn::{table_ref, TableRef};
use crate::catalog::{IndexMeta, IndexStatus, TableMeta};
use crate::tenant::Tenant;
use crate::RequestContext;

/// The longest statement DynamoDB accepts.
pub const MAX_STATEMENT_LENGTH: usize = 8192;

/// A statement parsed and its parameters counted.
pub struct Prepared {
    pub text: String,
    pub statement: Statement,
    pub params: Vec<AttributeValue>,
}

impl Prepared {
    /// Parses `text` and checks its parameters. A table named by its ARN
    /// is read as the caller's table of that name (see [`own_table`]).
    pub fn new(
        tenant: &Tenant,
        ctx: &RequestContext,
        text: String,
        params: Vec<AttributeValue>,
    ) -> Result<Prepared, DynamoError> {
        let Parsed {
            mut statement,
            params: expected,
        } = partiql::parse_detailed(&text).map_err(|r| {
            r.after_index
                .and_then(|source| multi_attribute_refusal(tenant, &source))
                .unwrap_or(r.error)
        })?;
        Params::new(&params, expected)?;
        own_table(&mut statement, ctx)?;
        Ok(Prepared {
            text,
            statement,
            params,
        })
    }

    pub fn params(&self) -> Params<'_> {
        Params::new(&self.params, self.params.len()).expect("counted when prepared")
    }

    /// Whether the statement reads (SELECT) rather than writes.
    pub fn is_read(&self) -> bool {
        matches!(self.statement, Statement::Select(_))
    }

    /// The table the statement names.
    pub fn table_name(&self) -> &str {
        match &self.statement {
            Statement::Select(s) | Statement::Exists(s) => &s.from.table,
            Statement::Insert(i) => &i.table.table,
            Statement::Update(u) => &u.table.table,
            Statement::Delete(d) => &d.table.table,
        }
    }
}

/// Reads the table a statement names, which may be a table ARN: the
/// caller's own becomes its name; another account's is refused for the
/// statement's PartiQL action, as IAM names them; one of the caller's
/// account in another region stays as written, which no table is named
/// (names have no `:`), so each statement answers as for a missing table.
fn own_table(statement: &mut Statement, ctx: &RequestContext) -> Result<(), DynamoError> {
    let (table, action) = match statement {
        Statement::Select(s) | Statement::Exists(s) => (&mut s.from.table, "PartiQLSelect"),
        Statement::Insert(i) => (&mut i.table.table, "PartiQLInsert"),
        Statement::Update(u) => (&mut u.table.table, "PartiQLUpdate"),
        Statement::Delete(d) => (&mut d.table.table, "PartiQLDelete"),
    };
    if let TableRef::Name(name) = table_ref(ctx, action, table)? {
        *table = name;
    }
    Ok(())
}

impl Prepared {
    /// The IAM action the statement needs. An `EXISTS` (a transaction's
    /// condition check) reads.
    pub fn iam_action(&self) -> &'static str {
        match &self.statement {
            Statement::Select(_) | Statement::Exists(_) => "dynamodb:PartiQLSelect",
            Statement::Insert(_) => "dynamodb:PartiQLInsert",
            Statement::Update(_) => "dynamodb:PartiQLUpdate",
            Statement::Delete(_) => "dynamodb:PartiQLDelete",
        }
    }

    /// The authorization the statement needs, worked out from its plan
    /// against its table (planning reads nothing); when it cannot be
    /// planned, its action on what it names, with every partition.
    pub fn access(
        &self,
        tenant: &Tenant,
        consistent: bool,
        enclosing: Option<&'static str>,
    ) -> crate::authz::Access {
        let planned = match &self.statement {
            Statement::Select(s) => select::plan(tenant, self, s, consistent)
                .ok()
                .map(|plan| plan.access(enclosing)),
            _ => write::plan(tenant, self).ok().map(|w| {
                crate::authz::facts::partiql_write(self.iam_action(), &w.write, enclosing)
            }),
        };
        planned.unwrap_or_else(|| {
            let index = match &self.statement {
                Statement::Select(s) | Statement::Exists(s) => s.from.index.clone(),
                _ => None,
            };
            let mut a =
                crate::authz::facts::unplanned(self.iam_action(), self.table_name(), enclosing);
            a.resource = crate::authz::Resource::Table {
                name: self.table_name().to_string(),
                index,
            };
            a
        })
    }
}

/// DynamoDB's refusal of a statement reading an index whose keys have
/// several attributes, when `source` names one of an existing table. It
/// comes before the statement's projection is checked and, in a batch,
/// before the rule that a batch's SELECT names one item.
pub fn multi_attribute_refusal(tenant: &Tenant, source: &Source) -> Option<DynamoError> {
    let meta = tenant.table(&source.table)?;
    let index = meta.index(source.index.as_deref()?)?;
    if index.status == IndexStatus::Deleting {
        return None;
    }
    multi_attribute_keys(index)
}

/// [`multi_attribute_refusal`] for an index already looked up.
pub fn multi_attribute_keys(index: &IndexMeta) -> Option<DynamoError> {
    (index.partition.len() > 1 || index.sort.len() > 1).then(|| {
        DynamoError::validation(
            "PartiQL statements cannot be executed on tables with multi-attribute HASH keys or multi-attribute RANGE keys.",
        )
    })
}

/// The table of a data-manipulation statement, which may not name an index.
pub fn write_table(tenant: &Tenant, source: &Source) -> Result<Arc<TableMeta>, DynamoError> {
    let meta = tenant.table_or_not_found(&source.table)?;
    if source.index.is_some() {
        return Err(DynamoError::validation(
            "This operation is not supported on an index",
        ));
    }
    Ok(meta)
}

/// The top-level conjuncts of a WHERE clause (`a AND (b AND c)` → a, b, c),
/// in the order written. Walked with a heap stack, so it costs no thread
/// stack however the ANDs nest.
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut pending = vec![e];
    while let Some(e) = pending.pop() {
        match e {
            Expr::Binary(BinaryOp::And, a, b, _) => {
                pending.push(b);
                pending.push(a);
            }
            other => out.push(other),
        }
    }
    out
}

/// `name = value` (either way round) on a top-level attribute: the name
/// and the expression of the value.
pub fn equality(e: &Expr) -> Option<(&str, &Expr)> {
    let Expr::Binary(BinaryOp::Eq, a, b, _) = e else {
        return None;
    };
    match (a.as_ref(), b.as_ref()) {
        (Expr::Path(p), v) | (v, Expr::Path(p)) if p.steps.is_empty() && bind::is_value(v) => {
            Some((p.root.as_str(), v))
        }
        _ => None,
    }
}

/// `a op b` read as `b op' a`.
pub fn mirror(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

/// A key compared with a value of another type in a keyed read.
pub fn key_type_error(name: &str) -> DynamoError {
    DynamoError::validation(format!(
        "Key attribute's data type should match its data type in table's schema: Key {name}"
    ))
}

/// The item a write's WHERE names, and what else it requires of the item.
/// Every key attribute needs an equality; repeating the same one is fine,
/// two different values are not.
pub fn write_target(
    meta: &TableMeta,
    filter: Option<&Expr>,
    params: Params<'_>,
) -> Result<(Item, Option<Condition>), DynamoError> {
    let missing_key = || {
        DynamoError::validation(
            "Where clause does not contain a mandatory equality on all key attributes",
        )
    };
    let Some(filter) = filter else {
        return Err(missing_key());
    };
    let key_names: Vec<&str> = meta.key_names().collect();
    let mut key = Item::new();
    let mut rest = Vec::new();
    for c in conjuncts(filter) {
        if let Some((name, v)) = equality(c) {
            if key_names.contains(&name) {
                let v = bind::value(v, params)?;
                match key.get(name) {
                    Some(old) if !values_equal(old, &v) => {
                        return Err(DynamoError::validation(format!(
                            "Multiple conditions on same key {name}. Only single item Update/Insert/Delete are supported"
                        )))
                    }
                    Some(_) => {}
                    None => {
                        key.insert(name.to_string(), v);
                    }
                }
                continue;
            }
        }
        rest.push(bind::condition(c, params)?);
    }
    if key_names.iter().any(|n| !key.contains_key(*n)) {
        return Err(missing_key());
    }
    // Balanced: a WHERE may hold thousands of conjuncts.
    Ok((key, bind::conjunction(rest)))
}
