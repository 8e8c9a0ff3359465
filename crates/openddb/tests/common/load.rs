//! The write load of the crash tests: concurrent writers against a server
//! that is SIGKILLed in the middle of it, and how a writer tells a refused
//! request from one the kill cut off.
#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::SdkError;

use super::ServerProcess;

/// Runs `writers` tasks, writer `w` made by `spawn(w, stop, acked)`: each
/// counts its acknowledged writes in `acked` and ends once `stop` is set or
/// the server is gone. After 300 ms of load and once `min_acked` writes
/// are acknowledged (waiting `within` at most), `server` is SIGKILLed and
/// the writers stopped. Returns the writes acknowledged before the kill
/// and what each writer returned.
pub async fn kill_under_load<T, Fut>(
    server: ServerProcess,
    cycle: usize,
    writers: usize,
    min_acked: usize,
    within: Duration,
    mut spawn: impl FnMut(usize, Arc<AtomicBool>, Arc<AtomicUsize>) -> Fut,
) -> (usize, Vec<T>)
where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..writers)
        .map(|w| tokio::spawn(spawn(w, Arc::clone(&stop), Arc::clone(&acked))))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deadline = Instant::now() + within;
    while acked.load(Ordering::SeqCst) < min_acked && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let acked_before_kill = acked.load(Ordering::SeqCst);
    assert!(
        acked_before_kill >= min_acked,
        "cycle {cycle}: only {acked_before_kill} writes acknowledged"
    );
    server.kill();
    stop.store(true, Ordering::SeqCst);
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.expect("writer task"));
    }
    (acked_before_kill, outcomes)
}

/// `Some(description)` when the server answered with an error, `None` when
/// the request got no answer (connection refused or reset by the kill).
pub fn refused<E: std::fmt::Debug, R: std::fmt::Debug>(err: SdkError<E, R>) -> Option<String> {
    match err {
        SdkError::ServiceError(_) => Some(format!("{err:?}")),
        _ => None,
    }
}
