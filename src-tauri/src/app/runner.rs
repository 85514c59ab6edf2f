//! [`Runner`]: the one application API every face calls to submit, control and read executions.
//!
//! The CLI's commands and the desktop app's Tauri commands are thin calls to a `Runner`; neither
//! reaches the store or the scheduler itself, so both behave the same (one set of defaults, one
//! rerun, one log tail, one mapping of "no such id").
//!
//! A runner works in one of two ways, fixed when it is made:
//! - [`Runner::with_scheduler`] (the desktop app, `--run`, `worker`): writes go through this
//!   process's [`Scheduler`], which starts submitted work at once and stops a cancelled attempt
//!   within milliseconds when it runs it here;
//! - [`Runner::client`] (one-shot commands: `submit`, `cancel`, `status`, …): writes go straight to
//!   the [`Store`]; the process that owns the queue notices them within its heartbeat (1 s).
//!
//! Reads are the store's in both cases (they see every committed write, also other processes').
//! Faces that show the store live follow one [`Watch`] ([`Runner::watch`]).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use ts_rs::TS;

use super::{rerun_request, ComparisonError, RerunError, SubmitError, Watch};
use crate::execution::Executor;
use crate::execution::{
    Execution, ExecutionEvent, ExecutionFilter, ExecutionId, ExecutionState, InputAnswer, InputReview, LogEntry, NewExecution,
    ParseIdError, Priority, Status, StepOutput,
};
use crate::scheduler::{CancelOutcome, Scheduler, SchedulerConfig, SchedulerError};
use crate::store::{DiskUsage, IdempotencyKey, PruneCounts, PruneFilter, QueueSettings, StatusCounts, Store, StoreError};

/// Why a runner call failed. Nothing was written when it is returned.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A call of a run's trace cannot be shown (no such call, payload not kept or unreadable).
    #[error(transparent)]
    Trace(#[from] super::TraceError),
    /// The text is not an execution id (quoted as given).
    #[error(transparent)]
    BadId(#[from] ParseIdError),
    /// No execution has this id (quoted as given).
    #[error("no execution with id `{0}`")]
    NotFound(String),
    /// The submission was refused (crew, inputs, models, options).
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// The rerun was refused (not finished, unknown task, unreadable snapshot).
    #[error(transparent)]
    Rerun(#[from] RerunError),
    /// The two executions cannot be compared (different crews).
    #[error(transparent)]
    Compare(#[from] ComparisonError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This process's scheduler stopped.
    #[error(transparent)]
    Scheduler(SchedulerError),
}

impl From<SchedulerError> for RunnerError {
    fn from(e: SchedulerError) -> Self {
        match e {
            SchedulerError::Store(s) => RunnerError::Store(s),
            other => RunnerError::Scheduler(other),
        }
    }
}

impl RunnerError {
    /// Whether the caller asked for something that cannot be done (a bad id or crew, an
    /// operation the execution's state does not allow): the CLI's exit 2. Otherwise the machine
    /// failed (storage, a stopped scheduler): exit 1.
    pub fn is_refusal(&self) -> bool {
        match self {
            RunnerError::BadId(_) | RunnerError::NotFound(_) => true,
            RunnerError::Submit(SubmitError::Secrets(_)) => false,
            RunnerError::Submit(_) => true,
            RunnerError::Rerun(RerunError::Snapshot { .. }) => false,
            RunnerError::Rerun(_) => true,
            RunnerError::Compare(_) => true,
            RunnerError::Trace(e) => !matches!(e, super::TraceError::Unreadable { .. }),
            RunnerError::Store(e) => e.is_rejection(),
            RunnerError::Scheduler(_) => false,
        }
    }
}

/// What a submission recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Submission {
    /// The executions' ids in row order: the new ones, or on an idempotent replay the ones the
    /// key recorded the first time.
    pub ids: Vec<ExecutionId>,
    /// The executions as recorded (empty on a replay).
    pub executions: Vec<Execution>,
    /// The key had been used for this request before: nothing was recorded.
    pub replayed: bool,
}

/// A rerun that was queued.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rerun {
    pub execution: Execution,
    /// How many finished tasks of the past execution it reuses.
    pub reused_steps: usize,
}

/// The queue as a face shows it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct QueueView {
    pub settings: QueueSettings,
    pub counts: StatusCounts,
    /// Why this process's scheduler stopped on its own (a storage failure), if it did.
    pub halted: Option<String>,
}

/// The application API over one store and, in a process that runs executions, its scheduler.
#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    scheduler: Option<Scheduler>,
}

impl Runner {
    /// A runner that writes to `store` directly (this process runs nothing).
    pub fn client(store: Arc<dyn Store>) -> Runner {
        Runner { store, scheduler: None }
    }

    /// A runner whose writes go through `scheduler` (this process runs executions).
    pub fn with_scheduler(scheduler: Scheduler) -> Runner {
        Runner { store: scheduler.store(), scheduler: Some(scheduler) }
    }

    /// Starts a scheduler on `store` running executions with `executor` (see
    /// [`Scheduler::start`]) and returns the runner over it.
    pub async fn start(store: Arc<dyn Store>, executor: Arc<dyn Executor>, config: SchedulerConfig) -> Result<Runner, RunnerError> {
        Ok(Runner::with_scheduler(Scheduler::start(store, executor, config).await?))
    }

    /// The store this runner reads (for the application layer's own reads).
    pub(super) fn store_ref(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// This process's scheduler, when it runs executions (for the application layer's own reads).
    pub(super) fn scheduler_ref(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// Why this process's scheduler stopped on its own (a storage failure), if it did.
    pub fn halted(&self) -> Option<String> {
        self.scheduler.as_ref().and_then(Scheduler::halted)
    }

    /// Resolves with the reason once this process's scheduler [halted](Runner::halted) (at once
    /// if it already has). Never resolves for a client runner or while the scheduler runs.
    ///
    /// Cancellation: dropping the future only stops waiting.
    pub async fn until_halted(&self) -> String {
        match &self.scheduler {
            Some(s) => s.until_halted().await,
            None => std::future::pending().await,
        }
    }

    /// Resolves with the execution once it is terminal: from this process's scheduler events
    /// when it has one, else by re-reading it when another process committed (a [`Watch`] probing
    /// every [`POLL_WITHOUT_EVENTS`](super::POLL_WITHOUT_EVENTS)).
    /// Ends with [`RunnerError::Scheduler`] if this process's scheduler halted first.
    pub async fn wait(&self, id: &ExecutionId) -> Result<Execution, RunnerError> {
        self.wait_until(id, ExecutionState::is_terminal).await
    }

    /// Resolves with the execution once it is terminal or awaits a person's input (human review):
    /// whatever next needs someone's attention.
    pub async fn wait_settled(&self, id: &ExecutionId) -> Result<Execution, RunnerError> {
        self.wait_until(id, |s| s.is_terminal() || s.status() == Status::AwaitingInput).await
    }

    /// Resolves with the execution once `reached` holds for its state; as [`wait`](Self::wait).
    pub async fn wait_until(&self, id: &ExecutionId, reached: impl Fn(&ExecutionState) -> bool) -> Result<Execution, RunnerError> {
        if let Some(s) = &self.scheduler {
            return Ok(s.wait_until(id, reached).await?);
        }
        // Made before the first read: a commit after it is seen at the next tick.
        let mut watch = self.watch(super::POLL_WITHOUT_EVENTS)?;
        loop {
            let e = self.store.get(id)?.ok_or_else(|| RunnerError::NotFound(id.to_string()))?;
            if reached(&e.state) {
                return Ok(e);
            }
            // A client's watch has no events and never ends: it answers when another process
            // committed (or a worker died).
            let _ = watch.next(&|| true).await;
        }
    }

    /// Resolves when nothing is queued, retrying or running (this process's scheduler must run:
    /// a client has nothing to wait for and resolves at once).
    pub async fn until_idle(&self) -> Result<(), RunnerError> {
        match &self.scheduler {
            Some(s) => Ok(s.until_idle().await?),
            None => Ok(()),
        }
    }

    /// Stops this process's scheduler (running attempts are put back in the queue with their
    /// finished tasks kept); nothing for a client. Idempotent.
    pub async fn shutdown(&self) -> Result<(), RunnerError> {
        match &self.scheduler {
            Some(s) => Ok(s.shutdown().await?),
            None => Ok(()),
        }
    }

    /// This process's scheduler, when it has one.
    pub fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.as_ref()
    }

    /// Events of this process's scheduler (none for a client): state changes, log lines,
    /// progress, tokens and queue changes, in commit order.
    pub fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<ExecutionEvent>> {
        self.scheduler.as_ref().map(Scheduler::subscribe)
    }

    /// The one subscription a face follows to show the store live (see [`Watch`]): this
    /// process's scheduler events, and a refresh when another process committed or a running
    /// execution's worker died, looked for `every` tick (1 s in the desktop app). Blocking: opens
    /// a read connection of its own.
    pub fn watch(&self, every: std::time::Duration) -> Result<Watch, RunnerError> {
        Ok(Watch::new(self.store.clone(), self.subscribe(), every)?)
    }

    /// Parses an id as given by a user.
    pub fn parse_id(text: &str) -> Result<ExecutionId, RunnerError> {
        Ok(text.parse()?)
    }

    /// One execution, by the id as given.
    pub fn get(&self, id: &str) -> Result<Execution, RunnerError> {
        let parsed = Runner::parse_id(id)?;
        self.store.get(&parsed)?.ok_or_else(|| RunnerError::NotFound(id.to_string()))
    }

    /// Executions matching `filter`, newest first.
    pub fn list(&self, filter: &ExecutionFilter) -> Result<Vec<Execution>, RunnerError> {
        Ok(self.store.list(filter)?)
    }

    /// The completed tasks of an execution, in completion order.
    pub fn steps(&self, id: &str) -> Result<Vec<StepOutput>, RunnerError> {
        let e = self.get(id)?;
        Ok(self.store.steps(&e.id)?)
    }

    /// Log lines after `after_seq`, in order, at most `limit` (all when 0).
    pub fn logs(&self, id: &ExecutionId, after_seq: u64, limit: u32) -> Result<Vec<LogEntry>, RunnerError> {
        Ok(self.store.logs(id, after_seq, limit)?)
    }

    /// The shared queue settings, the counts per status, and why this process's scheduler
    /// stopped, if it did.
    pub fn queue(&self) -> Result<QueueView, RunnerError> {
        Ok(QueueView {
            settings: self.store.queue_settings()?,
            counts: self.store.counts()?,
            halted: self.scheduler.as_ref().and_then(Scheduler::halted),
        })
    }

    /// The owner of `e` when its worker process is gone and no worker is alive to recover it
    /// (see [`stranded`](super::log_tail::stranded)).
    pub fn stranded<'a>(&self, e: &'a Execution) -> Option<&'a str> {
        super::log_tail::stranded(self.store.as_ref(), e)
    }

    /// Records prepared executions (see [`prepare_batch`](super::prepare_batch)) as `queued`:
    /// one in its own transaction, several (or any under an idempotency `key`) all in one or none.
    /// A repeat of `key` with the same content records nothing and answers the ids recorded the
    /// first time (`replayed`); with other content it is refused.
    pub async fn submit(&self, news: Vec<NewExecution>, key: Option<IdempotencyKey>) -> Result<Submission, RunnerError> {
        if news.len() == 1 && key.is_none() {
            let new = news.into_iter().next().expect("one row");
            let execution = match &self.scheduler {
                Some(s) => s.submit(new).await?,
                None => self.store.insert(new).await?.execution,
            };
            return Ok(Submission { ids: vec![execution.id.clone()], executions: vec![execution], replayed: false });
        }
        match &self.scheduler {
            Some(s) if key.is_none() => {
                let executions = s.submit_batch(news).await?;
                Ok(Submission { ids: executions.iter().map(|e| e.id.clone()).collect(), executions, replayed: false })
            }
            _ => {
                let inserted = self.store.insert_batch(news, key).await?;
                let executions = inserted.transitions.into_iter().map(|t| t.execution).collect();
                Ok(Submission { ids: inserted.ids, executions, replayed: inserted.replayed })
            }
        }
    }

    /// Cancels an execution (see [`Scheduler::cancel`]): queued or retrying ones at once, a
    /// running one at its owner's next look (within milliseconds when this process runs it).
    pub async fn cancel(&self, id: &str) -> Result<(ExecutionId, CancelOutcome), RunnerError> {
        let e = self.get(id)?;
        let outcome = match &self.scheduler {
            Some(s) => s.cancel(&e.id).await?,
            None => self.store.request_cancel(&e.id).await?.outcome,
        };
        Ok((e.id, outcome))
    }

    /// Answers the human review the execution awaits (`awaiting_input`): no text or blanks accept
    /// the task's answer, anything else is feedback the agent revises with (see
    /// [`InputAnswer::from_text`]). The execution is queued again when this resolves; refused
    /// ([`StoreError::InvalidState`](crate::store::StoreError)) unless it awaits input.
    pub async fn answer(&self, id: &str, answer: InputAnswer) -> Result<Execution, RunnerError> {
        let e = self.get(id)?;
        Ok(match &self.scheduler {
            Some(s) => s.answer(&e.id, answer).await?,
            None => self.store.answer_input(&e.id, answer).await?.execution,
        })
    }

    /// The execution's answered human reviews, in the order they were answered.
    pub fn reviews(&self, id: &str) -> Result<Vec<InputReview>, RunnerError> {
        let e = self.get(id)?;
        Ok(self.store.reviews(&e.id)?)
    }

    /// Queues a finished execution again as a new one, reusing its finished tasks (all of them,
    /// or those before `from_task`); see [`rerun_request`].
    pub async fn retry(&self, id: &str, from_task: Option<&str>) -> Result<Rerun, RunnerError> {
        let past = self.get(id)?;
        let steps = self.store.steps(&past.id)?;
        let new = rerun_request(&past, &steps, from_task.filter(|t| !t.is_empty()))?;
        let reused_steps = new.seed_steps.len();
        let mut recorded = self.submit(vec![new], None).await?;
        let execution = recorded.executions.pop().expect("one execution recorded");
        Ok(Rerun { execution, reused_steps })
    }

    /// Changes the priority of a queued or retrying execution.
    pub async fn set_priority(&self, id: &str, priority: Priority) -> Result<Execution, RunnerError> {
        let e = self.get(id)?;
        Ok(match &self.scheduler {
            Some(s) => s.set_priority(&e.id, priority).await?,
            None => self.store.set_priority(&e.id, priority).await?.execution,
        })
    }

    /// Stops (`true`) or resumes claiming, in every process on this store.
    pub async fn set_paused(&self, paused: bool) -> Result<QueueSettings, RunnerError> {
        Ok(match (&self.scheduler, paused) {
            (Some(s), true) => s.pause().await?,
            (Some(s), false) => s.resume().await?,
            (None, _) => self.store.set_paused(paused).await?,
        })
    }

    /// Deletes up to `max` finished executions `filter` selects (see [`Store::prune`]).
    pub async fn prune_batch(&self, filter: &PruneFilter, max: u32) -> Result<PruneCounts, RunnerError> {
        Ok(self.store.prune(filter, max).await?)
    }

    /// What pruning with `filter` would remove now, removing nothing.
    pub fn prune_preview(&self, filter: &PruneFilter) -> Result<PruneCounts, RunnerError> {
        Ok(self.store.prune_preview(filter)?)
    }

    /// The database's size (file, WAL, free pages).
    pub fn disk_usage(&self) -> Result<DiskUsage, RunnerError> {
        Ok(self.store.disk_usage()?)
    }

    /// The endpoint-credential files still referred to by some execution.
    pub fn secret_refs(&self) -> Result<std::collections::BTreeSet<String>, RunnerError> {
        Ok(self.store.secret_refs()?)
    }

    /// Copies the WAL into the database file (see [`Store::checkpoint`]). Blocking: run it off
    /// the async threads.
    pub fn checkpoint(&self) -> Result<(), RunnerError> {
        Ok(self.store.checkpoint()?)
    }

    /// Gives free pages back to the file system (see [`Store::vacuum`]). Blocking: run it off the
    /// async threads; holds the write lock while it runs.
    pub fn vacuum(&self) -> Result<(), RunnerError> {
        Ok(self.store.vacuum()?)
    }

    /// Sets how many executions each worker runs at once (at least 1), for every process on
    /// this store.
    pub async fn set_concurrency(&self, concurrency: u32) -> Result<QueueSettings, RunnerError> {
        Ok(match &self.scheduler {
            Some(s) => s.set_concurrency(concurrency).await?,
            None => self.store.set_concurrency(concurrency).await?,
        })
    }

    /// A live tail of an execution's log after `after_seq` (see [`LogTail`](super::LogTail)).
    pub fn follow_logs(&self, id: &ExecutionId, after_seq: u64) -> super::LogTail {
        super::LogTail::new(self.store.clone(), self.subscribe(), id.clone(), after_seq)
    }

    /// A tail of `id`'s log after `after_seq` that follows `watch` (from [`watch`](Self::watch),
    /// made before the caller read the execution) and also yields what it hears
    /// ([`LogTail::next_or_change`](super::LogTail::next_or_change)).
    pub fn follow_logs_watching(&self, id: &ExecutionId, after_seq: u64, watch: Watch) -> super::LogTail {
        super::LogTail::with_watch(self.store.clone(), watch, id.clone(), after_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    fn client() -> (tempfile::TempDir, Runner) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("crew.db")).unwrap());
        (dir, Runner::client(store))
    }

    fn job(name: &str) -> NewExecution {
        NewExecution { crew_name: name.into(), crew_source: format!("{name}.yaml"), max_attempts: 3, ..NewExecution::default() }
    }

    #[tokio::test]
    async fn ids_are_quoted_as_given_and_refusals_are_told_apart() {
        let (_dir, runner) = client();
        let bad = runner.get("8ZZZZZZZZZZZZZZZZZZZZZZZZZ").unwrap_err();
        assert!(bad.is_refusal() && bad.to_string().contains("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), "{bad}");
        let unknown = ExecutionId::new().to_string();
        let missing = runner.get(&unknown).unwrap_err();
        assert_eq!(missing.to_string(), format!("no execution with id `{unknown}`"));
        assert!(missing.is_refusal());
        assert!(!RunnerError::Store(StoreError::Closed).is_refusal());
    }

    #[tokio::test]
    async fn a_client_submits_cancels_reprioritises_and_pauses_through_the_store() {
        let (_dir, runner) = client();
        let one = runner.submit(vec![job("a")], None).await.unwrap();
        assert_eq!((one.ids.len(), one.replayed), (1, false));
        let id = one.ids[0].to_string();
        assert_eq!(runner.set_priority(&id, Priority::High).await.unwrap().priority, Priority::High);
        let unfinished = runner.retry(&id, None).await.unwrap_err();
        assert!(matches!(unfinished, RunnerError::Rerun(RerunError::NotFinished { .. })) && unfinished.is_refusal());
        assert_eq!(runner.cancel(&id).await.unwrap().1, CancelOutcome::Cancelled);
        assert!(runner.set_paused(true).await.unwrap().paused);
        let batch = runner.submit(vec![job("b"), job("c")], None).await.unwrap();
        assert_eq!(batch.ids.len(), 2);
        let queue = runner.queue().unwrap();
        assert_eq!((queue.counts.queued, queue.counts.cancelled, queue.halted), (2, 1, None));
        assert_eq!(runner.list(&ExecutionFilter::default()).unwrap().len(), 3);
    }

    #[tokio::test]
    async fn executions_of_different_crews_or_unknown_ids_are_refused() {
        let (_dir, runner) = client();
        let ids = runner.submit(vec![job("writers"), job("reviewers"), job("writers")], None).await.unwrap().ids;
        let (a, b, c) = (ids[0].to_string(), ids[1].to_string(), ids[2].to_string());
        let err = runner.compare(&a, &b).unwrap_err();
        assert!(matches!(err, RunnerError::Compare(crate::app::ComparisonError::DifferentCrews { .. })) && err.is_refusal());
        let text = err.to_string();
        assert!(text.contains("`writers`") && text.contains("`reviewers`") && text.contains(&a) && text.contains(&b), "{text}");
        let unknown = ExecutionId::new().to_string();
        assert!(matches!(runner.compare(&a, &unknown), Err(RunnerError::NotFound(id)) if id == unknown));
        assert!(matches!(runner.compare("nope", &a), Err(RunnerError::BadId(_))));
        let same_crew = runner.compare(&a, &c).unwrap();
        assert_eq!((same_crew.a.status, same_crew.tasks.len(), same_crew.first_difference), (crate::execution::Status::Queued, 0, None));
    }
}
