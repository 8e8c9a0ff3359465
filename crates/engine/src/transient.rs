//! Transient statuses (`--delay-transient-statuses`, DynamoDB Local's
//! `-delayTransientStatuses`): a table stays CREATING, UPDATING or DELETING,
//! and its new or removed global secondary indexes CREATING or DELETING,
//! for a set delay after the change, as DynamoDB's do for seconds to
//! minutes, instead of changing at once. Clients' waiters and status
//! polling loops are then exercised as they are against DynamoDB.
//!
//! The windows are kept in memory by the tenant: the catalog change itself
//! is durable and complete at once, and what the window changes is only
//! what requests see. While a table is CREATING, item operations answer
//! ResourceNotFoundException (DynamoDB's "Requested resource not found")
//! and changes to it ResourceInUseException; while it is DELETING,
//! DescribeTable shows it and its name cannot be taken again. A tenant
//! closed and reopened in the window forgets it (the table is then ACTIVE,
//! or gone).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use openddb_core::api::{GlobalSecondaryIndexDescription, TableDescription};
use openddb_core::{DynamoError, ErrorKind};
use parking_lot::Mutex;

/// One tenant's windows.
pub struct Transient {
    delay: Duration,
    tables: Mutex<HashMap<String, Window>>,
}

struct Window {
    until: Instant,
    phase: Phase,
}

enum Phase {
    /// The table of this id is being created.
    Creating { id: u64 },
    /// The table of this id is being updated: these indexes are being
    /// created, these (described as they were) deleted.
    Updating {
        id: u64,
        creating: Vec<String>,
        deleting: Vec<GlobalSecondaryIndexDescription>,
    },
    /// The table is being deleted; this is its last description.
    Deleting(Box<TableDescription>),
}

/// What a table name is going through, as requests see it.
pub enum Status {
    Creating,
    Updating,
    Deleting,
}

impl Transient {
    pub fn new(delay: Duration) -> Transient {
        Transient {
            delay,
            tables: Mutex::default(),
        }
    }

    /// The live window of `name`, if any (expired ones are dropped).
    fn with<R>(&self, name: &str, f: impl FnOnce(Option<&Window>) -> R) -> R {
        let mut tables = self.tables.lock();
        if tables.get(name).is_some_and(|w| w.until <= Instant::now()) {
            tables.remove(name);
        }
        f(tables.get(name))
    }

    fn open(&self, name: &str, phase: Phase) {
        let until = Instant::now() + self.delay;
        let mut tables = self.tables.lock();
        tables.retain(|_, w| w.until > Instant::now());
        tables.insert(name.to_owned(), Window { until, phase });
    }

    pub fn created(&self, name: &str, id: u64) {
        self.open(name, Phase::Creating { id });
    }

    pub fn updated(
        &self,
        name: &str,
        id: u64,
        creating: Vec<String>,
        deleting: Vec<GlobalSecondaryIndexDescription>,
    ) {
        self.open(
            name,
            Phase::Updating {
                id,
                creating,
                deleting,
            },
        );
    }

    pub fn deleted(&self, name: &str, description: TableDescription) {
        self.open(name, Phase::Deleting(Box::new(description)));
    }

    /// Whether the table `name` of this id is still being created.
    pub fn is_creating(&self, name: &str, id: u64) -> bool {
        self.with(
            name,
            |w| matches!(w, Some(Window { phase: Phase::Creating { id: c }, .. }) if *c == id),
        )
    }

    /// What the table `name` (of this id, or gone: `None`) is going through.
    pub fn status(&self, name: &str, id: Option<u64>) -> Option<Status> {
        self.with(name, |w| match (&w?.phase, id) {
            (Phase::Creating { id: c }, Some(id)) if *c == id => Some(Status::Creating),
            (Phase::Updating { id: u, .. }, Some(id)) if *u == id => Some(Status::Updating),
            (Phase::Deleting(_), None) => Some(Status::Deleting),
            _ => None,
        })
    }

    /// Whether an index of the table is in a transient window.
    pub fn indexes_changing(&self, name: &str, id: u64) -> bool {
        self.with(name, |w| match w.map(|w| &w.phase) {
            Some(Phase::Creating { id: c }) => *c == id,
            Some(Phase::Updating {
                id: u,
                creating,
                deleting,
            }) => *u == id && (!creating.is_empty() || !deleting.is_empty()),
            _ => false,
        })
    }

    /// The description of a table being deleted.
    pub fn deleting(&self, name: &str) -> Option<TableDescription> {
        self.with(name, |w| match w.map(|w| &w.phase) {
            Some(Phase::Deleting(d)) => Some((**d).clone()),
            _ => None,
        })
    }

    /// `description` (of the table of this id) as it looks in its window.
    pub fn overlay(&self, id: u64, description: &mut TableDescription) {
        let name = description.table_name.clone().unwrap_or_default();
        self.with(&name, |w| match w.map(|w| &w.phase) {
            Some(Phase::Creating { id: c }) if *c == id => {
                description.table_status = Some("CREATING".into());
                for gsi in description.global_secondary_indexes.iter_mut().flatten() {
                    gsi.index_status = Some("CREATING".into());
                }
            }
            Some(Phase::Updating {
                id: u,
                creating,
                deleting,
            }) if *u == id => {
                description.table_status = Some("UPDATING".into());
                for gsi in description.global_secondary_indexes.iter_mut().flatten() {
                    let new = gsi
                        .index_name
                        .as_ref()
                        .is_some_and(|n| creating.contains(n));
                    if new && gsi.index_status.as_deref() == Some("ACTIVE") {
                        gsi.index_status = Some("CREATING".into());
                        gsi.backfilling = Some(false);
                    }
                }
                for gone in deleting {
                    let listed = description
                        .global_secondary_indexes
                        .iter()
                        .flatten()
                        .any(|g| g.index_name == gone.index_name);
                    if !listed {
                        let mut gone = gone.clone();
                        gone.index_status = Some("DELETING".into());
                        description
                            .global_secondary_indexes
                            .get_or_insert_with(Vec::new)
                            .push(gone);
                    }
                }
            }
            _ => {}
        });
    }
}

/// DynamoDB's refusal to change a table in a transient status.
pub fn in_use(name: &str, status: &Status) -> DynamoError {
    let message = match status {
        Status::Creating => format!(
            "Attempt to change a resource which is still in use: Table is being created: {name}"
        ),
        Status::Updating => format!(
            "Attempt to change a resource which is still in use: Table: {name} is in the process of being updated."
        ),
        Status::Deleting => format!(
            "Attempt to change a resource which is still in use: Table is being deleted: {name}"
        ),
    };
    DynamoError::new(ErrorKind::ResourceInUseException, message)
}
