use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Execution, ExecutionError, InputRequest, InputReview, LogEvent, Progress, StepOutput, Usage};

/// A boxed, sendable future: what the object-safe traits here return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the scheduler hands an executor for one attempt.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The execution as claimed (its `attempt` is this attempt's number, 1-based).
    pub execution: Execution,
    /// Steps already completed by earlier attempts (or copied in by a rerun), in completion order.
    /// The executor must not redo them.
    pub completed_steps: Vec<StepOutput>,
    /// The answered human reviews of tasks not completed yet, oldest first (see
    /// [`InputReview`]): the executor applies them instead of asking again.
    pub reviews: Vec<InputReview>,
}

/// What a successful attempt produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The crew's final output (the last task's output).
    pub output: String,
    /// Usage of the whole run, including steps reused from earlier attempts.
    pub usage: Usage,
}

/// How an attempt that did not fail ended.
#[derive(Clone, Debug, PartialEq)]
pub enum AttemptOutput {
    /// The crew finished.
    Finished(RunOutput),
    /// A task with `human_input` answered; the execution waits for a person's review of it.
    AwaitingInput(InputRequest),
}

impl AttemptOutput {
    /// The crew's output when it finished; `None` when it waits for input.
    pub fn finished(self) -> Option<RunOutput> {
        match self {
            AttemptOutput::Finished(output) => Some(output),
            AttemptOutput::AwaitingInput(_) => None,
        }
    }
}

impl From<RunOutput> for AttemptOutput {
    fn from(output: RunOutput) -> Self {
        AttemptOutput::Finished(output)
    }
}

/// Recording into the store failed; the attempt should stop (the scheduler retries it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not record the step: {0}")]
pub struct JournalError(pub String);

impl From<JournalError> for ExecutionError {
    fn from(e: JournalError) -> Self {
        ExecutionError::new(super::ErrorKind::Storage, e.to_string())
    }
}

/// How a running attempt records what it does. Implemented by the scheduler over the store.
///
/// `log` and `token` never block: log lines are committed with the next group commit and then
/// broadcast; tokens are only broadcast. `progress` and `save_step` resolve once committed.
pub trait Journal: Send + Sync {
    /// Appends a line to the ExecutionLog (durable with the next group commit).
    fn log(&self, event: LogEvent);
    /// Appends an `llm_call_completed` line and, when given, what the call sent and received
    /// (keyed by the line's `seq`), in the same transaction. Journals that keep no payloads log
    /// the line alone (the default).
    fn log_call(&self, event: LogEvent, payload: Option<super::CompressedPayload>) {
        let _ = payload;
        self.log(event);
    }
    /// Broadcasts streamed LLM text to subscribers; not stored.
    fn token(&self, task: Option<&str>, text: &str);
    /// Broadcasts that a new LLM call of `task` starts (its streamed text follows); not stored.
    fn call_started(&self, _task: Option<&str>) {}
    /// Commits the run's progress, then broadcasts it.
    fn progress(&self, progress: Progress) -> BoxFuture<'static, Result<(), JournalError>>;
    /// Commits a completed step's output (unique per execution and step) and its `completion` log
    /// line in one transaction, then broadcasts the line (in order with the lines logged before it).
    /// A crash can therefore never leave a stored step without its line, or a line without its step.
    fn save_step(&self, step: StepOutput, completion: LogEvent) -> BoxFuture<'static, Result<(), JournalError>>;
}

/// Runs one attempt of an execution. The crew engine implements it; tests use no-op executors.
///
/// Cancellation: when `cancel` fires (user cancel, timeout, shutdown) the scheduler stops polling
/// and drops the returned future, so in-flight work (an HTTP request) is aborted, not awaited.
/// Executors should still check `cancel` between steps when they do blocking work.
pub trait Executor: Send + Sync + 'static {
    fn execute(
        &self,
        request: RunRequest,
        journal: Arc<dyn Journal>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>>;
}
