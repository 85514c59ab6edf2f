//! [`StoreJournal`]: the [`Journal`] a running attempt records into.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};

use crate::execution::{
    BoxFuture, ExecutionEvent, ExecutionId, Journal, JournalError, LogEntry, LogEvent, Progress, StepOutput,
};
use crate::store::{Store, StoreError};

/// A log write on its way to the store, awaited in order by the [`forward_logs`] task.
pub(super) type PendingLog = BoxFuture<'static, Result<Vec<LogEntry>, StoreError>>;

/// Records one attempt of one execution into the store and broadcasts what was committed.
///
/// `log` enqueues the line into the writer's next group commit at once (so lines keep their call
/// order) and hands the pending write to the forwarder, which broadcasts it after COMMIT.
/// `progress` and `save_step` resolve after COMMIT; logging the completed step is the
/// executor's job.
pub(super) struct StoreJournal {
    pub store: Arc<dyn Store>,
    pub id: ExecutionId,
    pub attempt: u32,
    pub events: broadcast::Sender<ExecutionEvent>,
    pub logs: mpsc::UnboundedSender<PendingLog>,
}

impl Journal for StoreJournal {
    fn log(&self, event: LogEvent) {
        let pending = self.store.append_logs(&self.id, self.attempt, vec![event]);
        let _ = self.logs.send(pending);
    }

    fn token(&self, task: Option<&str>, text: &str) {
        let _ = self.events.send(ExecutionEvent::Token {
            id: self.id.clone(),
            task: task.map(str::to_string),
            text: text.to_string(),
        });
    }

    fn progress(&self, progress: Progress) -> BoxFuture<'static, Result<(), JournalError>> {
        let write = self.store.update_progress(&self.id, progress.clone());
        let (events, id) = (self.events.clone(), self.id.clone());
        Box::pin(async move {
            write.await.map_err(|e| JournalError(e.to_string()))?;
            let _ = events.send(ExecutionEvent::Progress { id, progress });
            Ok(())
        })
    }

    fn save_step(&self, step: StepOutput) -> BoxFuture<'static, Result<(), JournalError>> {
        let write = self.store.save_step(&self.id, step);
        Box::pin(async move { write.await.map(|_| ()).map_err(|e| JournalError(e.to_string())) })
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
