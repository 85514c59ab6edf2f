//! Running one attempt: the executor's future raced against cancellation and the timeout.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::execution::{AttemptOutput, ExecutionError, ExecutionId, Executor, Journal, RunRequest};

/// How an attempt's task ended.
#[derive(Debug)]
pub(super) enum AttemptEnd {
    /// The executor returned.
    Finished(Result<AttemptOutput, ExecutionError>),
    /// The timeout (in ms) elapsed first; the executor's future was dropped.
    TimedOut(u64),
    /// The cancellation token fired first; the executor's future was dropped.
    Stopped,
    /// The executor panicked.
    Panicked(String),
}

/// An attempt's end, reported to the dispatcher.
#[derive(Debug)]
pub(super) struct Completion {
    pub id: ExecutionId,
    /// The claim's fencing token: tells this attempt apart from a later claim of the same
    /// execution by the same worker.
    pub lease_token: i64,
    pub end: AttemptEnd,
}

/// Spawns the attempt as one task that reports its end (also a panic of the executor) on
/// `completions`.
///
/// Cancellation: when `cancel` fires, the executor's future is dropped (aborting in-flight
/// work) before the completion is sent, so whatever the dispatcher commits afterwards happens
/// after the executor stopped.
pub(super) fn spawn_attempt(
    executor: Arc<dyn Executor>,
    request: RunRequest,
    journal: Arc<dyn Journal>,
    cancel: CancellationToken,
    lease_token: i64,
    completions: mpsc::UnboundedSender<Completion>,
) {
    let id = request.execution.id.clone();
    let timeout = request.execution.timeout_ms;
    tokio::spawn(async move {
        // Creating the future runs executor code too: a panic there is caught like one in a poll.
        let attempt = AssertUnwindSafe(async move {
            let work = executor.execute(request, journal, cancel.clone());
            let limited = async move {
                match timeout {
                    Some(ms) => tokio::time::timeout(Duration::from_millis(ms), work).await.map_err(|_| ms),
                    None => Ok(work.await),
                }
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => AttemptEnd::Stopped,
                ended = limited => match ended {
                    Ok(result) => AttemptEnd::Finished(result),
                    Err(ms) => AttemptEnd::TimedOut(ms),
                },
            }
        });
        // The executor's future (or its panic payload) is dropped before the completion is sent.
        let end = match attempt.catch_unwind().await {
            Ok(end) => end,
            Err(payload) => AttemptEnd::Panicked(panic_message(payload)),
        };
        let _ = completions.send(Completion { id, lease_token, end });
    });
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the executor panicked".to_string())
}
