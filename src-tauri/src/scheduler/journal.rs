//! [`StoreJournal`]: the [`Journal`] a running attempt records into.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::streamed_text::StreamedText;
use crate::execution::{
    BoxFuture, CompressedPayload, ExecutionEvent, ExecutionId, Journal, JournalError, LogEntry, LogEvent, Progress, StepOutput,
};
use crate::store::{AttemptLease, Store, StoreError};

/// A log write on its way to the store, awaited in order by the [`forward_logs`] task.
pub(super) type PendingLog = BoxFuture<'static, Result<Vec<LogEntry>, StoreError>>;

/// An attempt's lease, lost once the store refused one of its writes ([`StoreError::Fenced`]).
///
/// Shared by the attempt's journal and the dispatcher: the journal [trips](LeaseLoss::trip) it,
/// which fires the attempt's cancellation token at once (its future is dropped: no further LLM
/// calls, no further writes), and the dispatcher then drops the attempt without settling it.
#[derive(Debug)]
pub(super) struct LeaseLoss {
    lost: std::sync::atomic::AtomicBool,
    token: CancellationToken,
}

impl LeaseLoss {
    pub(super) fn new(token: CancellationToken) -> Arc<LeaseLoss> {
        Arc::new(LeaseLoss { lost: std::sync::atomic::AtomicBool::new(false), token })
    }

    /// Whether a write of the attempt was refused.
    pub(super) fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records that `error` refused a write of the attempt, if it is a fencing refusal, and stops
    /// the attempt (logged once, to the tracing log: the ExecutionLog no longer takes its lines).
    pub(super) fn trip(&self, error: &StoreError) {
        if let StoreError::Fenced { id, attempt } = error {
            if !self.lost.swap(true, std::sync::atomic::Ordering::SeqCst) {
                tracing::warn!(execution = %id, attempt, "{error}; stopping this attempt here");
            }
            self.token.cancel();
        }
    }
}

/// Records one attempt of one execution into the store and broadcasts what was committed.
///
/// `log` enqueues the line into the writer's next group commit at once (so lines keep their call
/// order) and hands the pending write to the forwarder, which broadcasts it after COMMIT.
/// `progress` and `save_step` resolve after COMMIT; `save_step` commits the step together with
/// its completion line. Every write carries the attempt's [`AttemptLease`]; when the store
/// refuses one (the attempt lost its lease), the attempt is stopped through its [`LeaseLoss`].
pub(super) struct StoreJournal {
    pub store: Arc<dyn Store>,
    pub id: ExecutionId,
    pub lease: AttemptLease,
    pub loss: Arc<LeaseLoss>,
    pub events: broadcast::Sender<ExecutionEvent>,
    pub logs: mpsc::UnboundedSender<PendingLog>,
    /// Where streamed text is kept while the attempt runs (forgotten when the journal drops).
    pub streamed: Arc<StreamedText>,
}

impl Drop for StoreJournal {
    fn drop(&mut self) {
        self.streamed.forget(&self.id, self.lease.token.unwrap_or_default());
    }
}

impl Journal for StoreJournal {
    fn log(&self, event: LogEvent) {
        let pending = self.store.append_logs(&self.id, self.lease, vec![event]);
        let loss = self.loss.clone();
        let _ = self.logs.send(Box::pin(async move {
            let written = pending.await;
            if let Err(e) = &written {
                loss.trip(e);
            }
            written
        }));
    }

    fn log_call(&self, event: LogEvent, payload: Option<CompressedPayload>) {
        let pending = self.store.append_call_log(&self.id, self.lease, event, payload);
        let loss = self.loss.clone();
        let _ = self.logs.send(Box::pin(async move {
            let written = pending.await;
            if let Err(e) = &written {
                loss.trip(e);
            }
            written.map(|entry| vec![entry])
        }));
    }

    fn token(&self, task: Option<&str>, text: &str) {
        let Some(offset) = self.streamed.push(&self.id, self.lease.token.unwrap_or_default(), task, text) else { return };
        let _ = self.events.send(ExecutionEvent::Token {
            id: self.id.clone(),
            task: task.map(str::to_string),
            text: text.to_string(),
            restart: false,
            offset,
        });
    }

    fn call_started(&self, task: Option<&str>) {
        self.streamed.restart(&self.id, self.lease.token.unwrap_or_default(), task);
        let _ = self.events.send(ExecutionEvent::Token {
            id: self.id.clone(),
            task: task.map(str::to_string),
            text: String::new(),
            restart: true,
            offset: 0,
        });
    }

    fn progress(&self, progress: Progress) -> BoxFuture<'static, Result<(), JournalError>> {
        let (store, events, id, lease, loss) = (self.store.clone(), self.events.clone(), self.id.clone(), self.lease, self.loss.clone());
        Box::pin(async move {
            let write = || store.update_progress(&id, lease, progress.clone());
            patiently(write).await.map_err(|e| {
                loss.trip(&e);
                JournalError(e.to_string())
            })?;
            let _ = events.send(ExecutionEvent::Progress { id: id.clone(), progress: progress.clone() });
            Ok(())
        })
    }

    fn save_step(&self, step: StepOutput, completion: LogEvent) -> BoxFuture<'static, Result<(), JournalError>> {
        let (store, id, lease, loss) = (self.store.clone(), self.id.clone(), self.lease, self.loss.clone());
        // The line's place among the broadcast lines is taken now, in call order; the forwarder
        // broadcasts it once the step's transaction committed (nothing if it failed or was dropped).
        let (committed, line) = tokio::sync::oneshot::channel::<Vec<LogEntry>>();
        let _ = self.logs.send(Box::pin(async move { Ok(line.await.unwrap_or_default()) }));
        Box::pin(async move {
            let write = || store.save_step_logged(&id, lease, step.clone(), completion.clone());
            let entry = patiently(write).await.map_err(|e| {
                loss.trip(&e);
                JournalError(e.to_string())
            })?;
            let _ = committed.send(entry.into_iter().collect());
            Ok(())
        })
    }
}

/// How long a step or progress write keeps trying while another process holds the database lock.
///
/// A finished step is work already paid for (LLM calls): failing the attempt because the file was
/// locked a little longer than the busy timeout would throw it away and pay again.
pub(super) const LOCKED_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `write` again while it fails with [`StoreError::Locked`] (nothing of it was kept), for up
/// to [`LOCKED_PATIENCE`]; other errors and the last `Locked` are returned. Dropping the future
/// (cancellation) stops the retries.
pub(super) async fn patiently<T>(write: impl Fn() -> BoxFuture<'static, Result<T, StoreError>>) -> Result<T, StoreError> {
    let deadline = tokio::time::Instant::now() + LOCKED_PATIENCE;
    let mut pause = std::time::Duration::from_millis(50);
    loop {
        match write().await {
            Err(StoreError::Locked { .. }) if tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!("database locked by another process; retrying the write in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// Broadcasts journal log lines once committed, in the order they were logged. Ends when every
/// journal (and the dispatcher) dropped its sender.
pub(super) async fn forward_logs(mut pending: mpsc::UnboundedReceiver<PendingLog>, events: broadcast::Sender<ExecutionEvent>) {
    while let Some(write) = pending.recv().await {
        match write.await {
            Ok(entries) => {
                for entry in entries {
                    let _ = events.send(ExecutionEvent::Log { entry });
                }
            }
            Err(e) => tracing::warn!("could not store a log line: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn locked() -> StoreError {
        StoreError::Locked { path: "db".into() }
    }

    #[tokio::test(start_paused = true)]
    async fn a_locked_write_is_tried_again_until_it_commits() {
        let tries = Arc::new(AtomicU32::new(0));
        let t = tries.clone();
        let result = patiently(move || {
            let n = t.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n < 2 {
                    Err(locked())
                } else {
                    Ok(n)
                }
            })
        })
        .await;
        assert_eq!(result.unwrap(), 2);
        assert_eq!(tries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_and_a_lock_past_the_patience_are_returned() {
        let r: Result<(), _> = patiently(|| Box::pin(async { Err(StoreError::Closed) })).await;
        assert!(matches!(r, Err(StoreError::Closed)));
        let r: Result<(), _> = patiently(|| Box::pin(async { Err(locked()) })).await;
        assert!(matches!(r, Err(StoreError::Locked { .. })));
    }
}
