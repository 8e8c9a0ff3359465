//! A panic in a request handler is contained to its request: the handler's
//! future is polled inside `catch_unwind`, and a panic becomes a value the
//! server answers with `InternalServerError` instead of a dropped
//! connection.
//!
//! Containing it is sound because nothing the handler shares outlives it in
//! a broken state: the workspace's locks are parking_lot's, which do not
//! poison, and every slot and reservation a request holds is given back by
//! `Drop` as the unwinding future is dropped.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

/// What a panic carried.
pub(crate) type Panic = Box<dyn Any + Send>;

/// Runs `future` to completion, or to the first panic in one of its polls.
pub(crate) async fn catch<F: Future>(future: F) -> Result<F::Output, Panic> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// The panic's message, when it carried one (`panic!` with a literal or a
/// format string does).
pub(crate) fn message(panic: &Panic) -> &str {
    if let Some(message) = panic.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_become_values_and_output_passes_through() {
        assert_eq!(catch(async { 7 }).await.ok(), Some(7));
        let caught = catch(async {
            tokio::task::yield_now().await;
            panic!("boom {}", 42);
        })
        .await
        .expect_err("a panic");
        assert_eq!(message(&caught), "boom 42");
        let caught = catch(async { panic!("static") })
            .await
            .expect_err("a panic");
        assert_eq!(message(&caught), "static");
        let caught = catch(async { std::panic::panic_any(5u8) })
            .await
            .expect_err("a panic");
        assert_eq!(message(&caught), "(no message)");
    }
}
