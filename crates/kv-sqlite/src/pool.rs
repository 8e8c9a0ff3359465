//! The writer pool: a fixed set of threads serving the write queues of
//! every open tenant file, so a million tenants do not cost a million
//! threads.
//!
//! A tenant with queued writes is in the run queue at most once. A thread
//! takes the tenant at the front, commits one batch of its writes (at most
//! `max_batch`, one transaction, one fsync: group commit) and, if more are
//! waiting, puts it at the back. Tenants with work are served round-robin,
//! one bounded batch per turn, so a tenant with a deep queue delays another
//! tenant's write by at most one batch per tenant ahead of it in the run
//! queue, divided among the threads. Only one thread works on a tenant at a
//! time, which is what keeps one writer per file.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::file::TenantFile;

pub(crate) struct RunQueue {
    state: Mutex<RunState>,
    ready: Condvar,
}

struct RunState {
    tenants: VecDeque<Arc<TenantFile>>,
    shutdown: bool,
}

impl RunQueue {
    /// A queue no thread serves (unit tests of the open-file set).
    #[cfg(test)]
    pub(crate) fn idle() -> Arc<RunQueue> {
        Arc::new(RunQueue {
            state: Mutex::new(RunState {
                tenants: VecDeque::new(),
                shutdown: false,
            }),
            ready: Condvar::new(),
        })
    }

    /// Queues a tenant for a turn; false once the pool is shutting down.
    pub(crate) fn schedule(&self, file: Arc<TenantFile>) -> bool {
        let mut state = self.state.lock();
        if state.shutdown {
            return false;
        }
        state.tenants.push_back(file);
        drop(state);
        self.ready.notify_one();
        true
    }

    fn next(&self) -> Option<Arc<TenantFile>> {
        let mut state = self.state.lock();
        loop {
            if let Some(file) = state.tenants.pop_front() {
                return Some(file);
            }
            if state.shutdown {
                return None;
            }
            self.ready.wait(&mut state);
        }
    }

    /// Puts a tenant that still has work at the back, even while shutting
    /// down: writes accepted before the shutdown are still committed.
    fn requeue(&self, file: Arc<TenantFile>) {
        self.state.lock().tenants.push_back(file);
        self.ready.notify_one();
    }
}

/// The threads; dropping the pool lets them finish every queued write,
/// then joins them.
pub(crate) struct WriterPool {
    queue: Arc<RunQueue>,
    threads: Vec<JoinHandle<()>>,
}

impl WriterPool {
    pub(crate) fn start(threads: usize, name: &str) -> Result<WriterPool, std::io::Error> {
        let queue = Arc::new(RunQueue {
            state: Mutex::new(RunState {
                tenants: VecDeque::new(),
                shutdown: false,
            }),
            ready: Condvar::new(),
        });
        let mut pool = WriterPool {
            queue: queue.clone(),
            threads: Vec::new(),
        };
        for _ in 0..threads.max(1) {
            let queue = queue.clone();
            let thread = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    while let Some(file) = queue.next() {
                        // A bug here must not cost the pool a thread, nor
                        // leave the tenant's later writes waiting forever:
                        // its turn is over, the batch it held answered
                        // (its callers see the store fail), and the rest of
                        // its queue goes on.
                        let turn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            file.run_turn()
                        }));
                        let more = turn.unwrap_or_else(|_| file.after_panic());
                        if more {
                            queue.requeue(file);
                        }
                    }
                })?;
            pool.threads.push(thread);
        }
        Ok(pool)
    }

    pub(crate) fn queue(&self) -> Arc<RunQueue> {
        self.queue.clone()
    }
}

impl Drop for WriterPool {
    fn drop(&mut self) {
        self.queue.state.lock().shutdown = true;
        self.queue.ready.notify_all();
        let me = std::thread::current().id();
        for thread in self.threads.drain(..) {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}
