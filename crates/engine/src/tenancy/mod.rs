//! The tenant lifecycle: a bounded cache that holds exactly one live
//! `Tenant` per account and closes idle ones (`cache`), the one scheduler
//! that runs every tenant's background work, open or not (`scheduler`),
//! the persisted index of when each tenant next has work (`due`), and the
//! watch on a tenant's storage that brings its Time to Live sweep and
//! stream trim forward when a write makes earlier work (`watch`).
//! See docs/adr/0014-tenant-cache-and-scheduler.md.

pub mod cache;
pub mod due;
pub mod scheduler;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timed_tests;
pub mod watch;

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
    let wakeups = &tenant.background.wakeups;
    let Some(scheduler) = wakeups.waker.get().and_then(|w| w.scheduler.upgrade()) else {
        return Ok(announced);
    };
    // Due at once: while the tenant is open the scheduler leaves its entry
    // to the in-memory queue, and after a crash it is visited first thing.
    let due = scheduler::now_ms();
    if recorded(tenant).is_none_or(|m| m > due) {
        let now = scheduler
            .index()
            .change(&tenant.account_id, due::Change::Lower(due))
            .await
            .map_err(storage_error)?;
        *tenant.persisted_due.lock() = now;
    }
    // The change may give the tenant a table with Time to Live or a
    // stream: its writes may make timed work from now on, and the entry
    // just made is early enough for them (`watch::Arming`).
    wakeups.arming.armed_by_change();
    Ok(announced)
}

/// The tenant's entry in the persisted due index as last known: what was
/// last read or written through the tenant, or earlier if its storage
/// wrapper has lowered it since (`watch::Arming`).
pub(crate) fn recorded(tenant: &Tenant) -> Option<u64> {
    let mirror = *tenant.persisted_due.lock();
    let lowered = tenant.background.wakeups.arming.lowered();
    match (mirror, lowered) {
        (Some(m), Some(l)) => Some(m.min(l)),
        (m, l) => m.or(l),
    }
}
