//! The tenant lifecycle: a bounded cache that holds exactly one live
//! `Tenant` per account and closes idle ones (`cache`), the one scheduler
//! that runs every tenant's background work, open or not (`scheduler`),
//! and the persisted index of when each tenant next has work (`due`).
//! See docs/adr/0014-tenant-cache-and-scheduler.md.

pub mod cache;
pub mod due;
pub mod scheduler;
#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::Weak;

use openddb_core::DynamoError;
use tokio::time::Instant;

pub use cache::{Lease, TenantCache, TenantStats};
pub use scheduler::Scheduler;

use crate::run::storage_error;
use crate::tenant::Tenant;

/// How a tenant tells the scheduler that one of its jobs became due.
pub struct Waker {
    pub(crate) scheduler: Weak<Scheduler>,
    pub(crate) account: String,
}

impl Waker {
    pub fn wake(&self, due: Instant) {
        if let Some(scheduler) = self.scheduler.upgrade() {
            scheduler.schedule(&self.account, due);
        }
    }
}

/// Held while a change that creates background work (a table deleted, an
/// index added or removed, Time to Live enabled, a stream enabled) is being
/// made: the scheduler does not remove the tenant's entry meanwhile.
pub struct Announced<'a> {
    tenant: &'a Tenant,
}

impl Drop for Announced<'_> {
    fn drop(&mut self) {
        self.tenant.announced.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Makes sure the persisted index will bring the scheduler to this tenant
/// before a change that creates background work commits, so that the work
/// is found even if the process stops before it runs and the tenant is
/// never opened again. Costs one small durable write to the index, and
/// none when the tenant's entry is already as early.
pub async fn work_ahead(tenant: &Tenant) -> Result<Announced<'_>, DynamoError> {
    let _due = tenant.due_lock.lock().await;
    tenant.announced.fetch_add(1, Ordering::SeqCst);
    let announced = Announced { tenant };
    let Some(scheduler) = tenant
        .background
        .waker
        .get()
        .and_then(|w| w.scheduler.upgrade())
    else {
        return Ok(announced);
    };
    // Due at once: while the tenant is open the scheduler leaves its entry
    // to the in-memory queue, and after a crash it is visited first thing.
    let due = scheduler::now_ms();
    let mirror = *tenant.persisted_due.lock();
    if mirror.is_none_or(|m| m > due) {
        let now = scheduler
            .index()
            .change(&tenant.account_id, due::Change::Lower(due))
            .await
            .map_err(storage_error)?;
        *tenant.persisted_due.lock() = now;
    }
    Ok(announced)
}
