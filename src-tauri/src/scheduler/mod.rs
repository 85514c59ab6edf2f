//! The scheduler: runs queued executions with priorities, a concurrency limit, leases, retries,
//! timeouts and cancellation, and broadcasts what happens.
//!
//! A [`Scheduler`] is a cheap-clone handle to one dispatcher task (`scheduler/dispatcher/`) that owns
//! the queue state of this process. Several processes may run schedulers on one database: they
//! claim work atomically through the [`Store`], share the pause flag and the concurrency, and see
//! each other's cancels and submissions within one heartbeat (at most 1 s).
//!
//! # Running an attempt
//! Each claimed execution runs as a tokio task calling [`Executor::execute`] with the steps
//! earlier attempts completed. The executor's future is raced against the cancellation token and
//! the execution's timeout:
//! - a user cancel fires the token, the future is **dropped** (in-flight HTTP is aborted) and the
//!   execution ends `cancelled` — at once in-process, at the next heartbeat when the cancel was
//!   written by another process;
//! - the timeout drops the future and fails the execution with [`ErrorKind::Timeout`] (not
//!   retried);
//! - an error that is `retryable`, while attempts remain, moves it to `retrying` due after
//!   `max(full-jitter backoff, Retry-After)`; any other error fails it. Every attempt's error is
//!   kept.
//!
//! # Without a running scheduler
//! One-shot commands (cancel, priority, pause, resume, status, list, logs) can use the
//! [`Store`] directly (`request_cancel`, `set_priority`, `set_paused`, `queue_settings`,
//! `counts`, `list`, `logs`); the process that owns the affected executions notices at its next
//! heartbeat.

mod announce;
mod attempt;
mod backoff;
mod config;
mod dispatcher;
mod error;
mod halt;
mod journal;
mod streamed_text;

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};

pub use crate::store::CancelOutcome;
pub use backoff::Backoff;
pub use config::{ClaimScope, SchedulerConfig, MAX_HEARTBEAT};
pub use error::SchedulerError;
pub use streamed_text::StreamedAnswer;
use streamed_text::StreamedText;

#[cfg(doc)]
use crate::execution::ErrorKind;
use crate::execution::{Execution, ExecutionEvent, ExecutionId, ExecutionState, Executor, InputAnswer, NewExecution, Priority};
use crate::store::{CommitListener, Committed, OwnerId, QueueSettings, RecoverRequest, Store};
use announce::announce;
use dispatcher::{Command, Dispatcher};

/// How many events a subscriber may fall behind before it lags (and should re-read the store).
pub const EVENT_CAPACITY: usize = 4096;

/// A handle to a running scheduler. Clones share the same dispatcher.
///
/// When the last handle is dropped without [`shutdown`](Scheduler::shutdown), the dispatcher
/// shuts down the same way (running attempts are interrupted and requeued).
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    streamed: Arc<StreamedText>,
    events: broadcast::Sender<ExecutionEvent>,
    commands: mpsc::UnboundedSender<Command>,
    config: SchedulerConfig,
    owner: String,
    /// Why the dispatcher halted, once it did (see [`Scheduler::halted`]).
    halted: Arc<halt::Halt>,
    /// Registered with the store (which holds it weakly) while a handle or the dispatcher lives.
    _listener: Arc<CommitListener>,
}

impl Scheduler {
    /// Starts a scheduler (async: call it inside a tokio runtime).
    ///
    /// Takes this worker's owner lock (unless the scope is [`ClaimScope::None`]), writes
    /// `config.concurrency` to the database when set, recovers at once the executions of owners
    /// that are gone (or of unknown liveness with an expired lease, see [`Store::recover`]) unless
    /// the scope is [`ClaimScope::None`], then starts the dispatcher, which claims work right
    /// away.
    pub async fn start(store: Arc<dyn Store>, executor: Arc<dyn Executor>, config: SchedulerConfig) -> Result<Scheduler, SchedulerError> {
        let owner_id = OwnerId::current();
        let owner = owner_id.to_string();
        // Held from before the first claim until the dispatcher ends: others see this worker
        // alive through it (`store/liveness.rs`). A submit-only client owns nothing.
        let owner_lock = if config.scope == ClaimScope::None { None } else { Some(store.lock_owner(&owner_id)?) };
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        // Every change this store commits reaches the subscribers in commit order, whichever task
        // wrote it (a submission and the claim that took it may commit together, so may a
        // resume and the claim it lets through).
        let listener: Arc<CommitListener> = {
            let events = events.clone();
            Arc::new(move |change: Committed<'_>| announce(&events, change))
        };
        store.listen(&listener);
        let settings = match config.concurrency {
            Some(concurrency) => store.set_concurrency(concurrency).await?,
            None => store.queue_settings()?,
        };
        if config.scope != ClaimScope::None {
            let request = RecoverRequest { now: crate::execution::now_ms(), exclude_owner: Some(owner.clone()) };
            store.recover(request).await?;
        }
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (logs_tx, logs) = mpsc::unbounded_channel();
        tokio::spawn(journal::forward_logs(logs, events.clone()));
        let halted = Arc::new(halt::Halt::default());
        let streamed = Arc::new(StreamedText::default());
        let dispatcher = Dispatcher::new(
            store.clone(),
            executor,
            config.clone(),
            owner.clone(),
            settings,
            events.clone(),
            commands,
            logs_tx,
            halted.clone(),
            listener.clone(),
            owner_lock,
            streamed.clone(),
        );
        tokio::spawn(dispatcher.run());
        Ok(Scheduler {
            inner: Arc::new(Inner { store, events, commands: commands_tx, config, owner, halted, streamed, _listener: listener }),
        })
    }

    /// Submits an execution: committed as `queued` (with its seed steps) when this resolves.
    pub async fn submit(&self, new: NewExecution) -> Result<Execution, SchedulerError> {
        if self.inner.commands.is_closed() {
            return Err(SchedulerError::Stopped);
        }
        let transition = self.inner.store.insert(new).await?;
        if self.inner.config.scope != ClaimScope::All {
            // With scope `All` the dispatcher's waiting claim was tried in the insert's own
            // transaction: nothing to tell it.
            let _ = self.inner.commands.send(Command::Submitted(transition.execution.id.clone()));
        }
        Ok(transition.execution)
    }

    /// Submits several executions at once: all committed as `queued` in one transaction when
    /// this resolves, or none ([`Store::insert_batch`]); in row order.
    pub async fn submit_batch(&self, news: Vec<NewExecution>) -> Result<Vec<Execution>, SchedulerError> {
        if self.inner.commands.is_closed() {
            return Err(SchedulerError::Stopped);
        }
        let inserted = self.inner.store.insert_batch(news, None).await?;
        let executions: Vec<Execution> = inserted.transitions.into_iter().map(|t| t.execution).collect();
        if self.inner.config.scope != ClaimScope::All {
            // As `submit`: one command each, all taken by the dispatcher's next turn (one claim).
            for execution in &executions {
                let _ = self.inner.commands.send(Command::Submitted(execution.id.clone()));
            }
        }
        Ok(executions)
    }

    /// Cancels an execution. Queued or retrying: cancelled when this resolves. Running: the
    /// cancel is recorded and the attempt stops (within milliseconds when this process runs it,
    /// at the owner's next heartbeat otherwise); [`wait`](Scheduler::wait) for the final state.
    /// Finished: nothing changes.
    pub async fn cancel(&self, id: &ExecutionId) -> Result<CancelOutcome, SchedulerError> {
        let result = self.inner.store.request_cancel(id).await?;
        if result.outcome == CancelOutcome::Requested {
            let _ = self.inner.commands.send(Command::Cancel(id.clone()));
        }
        Ok(result.outcome)
    }

    /// Answers the human review an execution awaits ([`Store::answer_input`]): queued again when
    /// this resolves, and claimed like a submission (by this scheduler when it may take it).
    pub async fn answer(&self, id: &ExecutionId, answer: InputAnswer) -> Result<Execution, SchedulerError> {
        let transition = self.inner.store.answer_input(id, answer).await?;
        if self.inner.config.scope != ClaimScope::All {
            // Scope `All`: the waiting claim was tried in the answer's transaction.
            let _ = self.inner.commands.send(Command::Submitted(id.clone()));
        }
        Ok(transition.execution)
    }

    /// Changes the priority of a queued or retrying execution.
    pub async fn set_priority(&self, id: &ExecutionId, priority: Priority) -> Result<Execution, SchedulerError> {
        let transition = self.inner.store.set_priority(id, priority).await?;
        Ok(transition.execution)
    }

    /// Stops claiming new work, in every process on this database (running attempts go on).
    pub async fn pause(&self) -> Result<QueueSettings, SchedulerError> {
        self.change_queue(self.inner.store.set_paused(true)).await
    }

    /// Resumes claiming, in every process on this database.
    pub async fn resume(&self) -> Result<QueueSettings, SchedulerError> {
        self.change_queue(self.inner.store.set_paused(false)).await
    }

    /// Sets how many executions each worker runs at once (at least 1). Lowering it lets running
    /// attempts finish; no new ones start until below the limit.
    pub async fn set_concurrency(&self, concurrency: u32) -> Result<QueueSettings, SchedulerError> {
        self.change_queue(self.inner.store.set_concurrency(concurrency)).await
    }

    async fn change_queue(
        &self,
        write: crate::execution::BoxFuture<'static, Result<QueueSettings, crate::store::StoreError>>,
    ) -> Result<QueueSettings, SchedulerError> {
        // Its queue event was sent when it committed (the store's listener).
        let settings = write.await?;
        let _ = self.inner.commands.send(Command::Queue(settings));
        Ok(settings)
    }

    /// Events: state changes with their log lines and queue changes, sent as the store commits
    /// them (in commit order, before the write that made them is answered; see
    /// [`Store::listen`]), and progress, other log lines and tokens as executors report them.
    pub fn subscribe(&self) -> broadcast::Receiver<ExecutionEvent> {
        self.inner.events.subscribe()
    }

    /// The LLM answer streamed so far into `task` of `id`'s running attempt, when this process
    /// runs it and a call of that task is streaming or has streamed (its end, at most
    /// [`streamed_text::KEPT_BYTES`]); `None` otherwise. Never stored.
    pub fn streamed_text(&self, id: &ExecutionId, task: Option<&str>) -> Option<StreamedAnswer> {
        self.inner.streamed.of(id, task)
    }

    /// Why the scheduler stopped on its own, if it did: the store failed in a way retrying
    /// cannot fix (full disk, I/O error, corruption, read-only file; not a held lock, which is
    /// retried). The message names the database. The dispatcher has then shut down: nothing is
    /// claimed any more, and [`wait`](Scheduler::wait) and [`until_idle`](Scheduler::until_idle)
    /// end with [`SchedulerError::Stopped`].
    pub fn halted(&self) -> Option<String> {
        self.inner.halted.get()
    }

    /// Resolves with the reason once the scheduler [halted](Scheduler::halted) (at once if it
    /// already has); never resolves while it runs. Event-driven: no polling.
    ///
    /// Cancellation: dropping the future only stops waiting.
    pub async fn until_halted(&self) -> String {
        self.inner.halted.halted().await
    }

    /// Resolves with the execution once it is terminal. Event-driven; re-reads the store when
    /// the subscription lags and at every heartbeat (for changes made by other processes).
    /// Ends with [`SchedulerError::Stopped`] if the scheduler [halted](Scheduler::halted) first.
    pub async fn wait(&self, id: &ExecutionId) -> Result<Execution, SchedulerError> {
        self.wait_until(id, ExecutionState::is_terminal).await
    }

    /// Resolves with the execution once `reached` holds for its state (as [`wait`](Self::wait)
    /// does for a terminal one), e.g. terminal or awaiting input.
    pub async fn wait_until(&self, id: &ExecutionId, reached: impl Fn(&ExecutionState) -> bool) -> Result<Execution, SchedulerError> {
        let mut events = self.subscribe();
        loop {
            if self.inner.halted.is_set() {
                return Err(SchedulerError::Stopped);
            }
            let execution = self.inner.store.get(id)?.ok_or_else(|| crate::store::StoreError::NotFound(id.clone()))?;
            if reached(&execution.state) {
                return Ok(execution);
            }
            self.next_change(
                &mut events,
                |event| matches!(event, ExecutionEvent::State { id: changed, state, .. } if changed == id && reached(state)),
            )
            .await;
        }
    }

    /// Resolves when nothing is queued, retrying or running in the database (for
    /// `worker --until-idle`). Re-checks at state changes and at every heartbeat. Ends with
    /// [`SchedulerError::Stopped`] if the scheduler [halted](Scheduler::halted) first.
    pub async fn until_idle(&self) -> Result<(), SchedulerError> {
        let mut events = self.subscribe();
        loop {
            if self.inner.halted.is_set() {
                return Err(SchedulerError::Stopped);
            }
            if self.inner.store.counts()?.active() == 0 {
                return Ok(());
            }
            self.next_change(&mut events, |event| matches!(event, ExecutionEvent::State { .. })).await;
        }
    }

    /// Waits for an event `relevant` accepts, a lag, or one heartbeat, whichever comes first.
    async fn next_change(&self, events: &mut broadcast::Receiver<ExecutionEvent>, relevant: impl Fn(&ExecutionEvent) -> bool) {
        let heartbeat = self.inner.config.effective_heartbeat();
        let _ = tokio::time::timeout(heartbeat, async {
            loop {
                match events.recv().await {
                    Ok(event) if relevant(&event) => return,
                    Ok(_) => continue,
                    Err(_) => return,
                }
            }
        })
        .await;
    }

    /// Stops claiming, interrupts running attempts (their futures are dropped) and puts them back
    /// to `queued` with the attempt refunded and an `interrupted` log line, waits for them, and
    /// flushes the store. Afterwards nothing of this owner is `running`. Idempotent; every clone
    /// of the handle is stopped.
    pub async fn shutdown(&self) -> Result<(), SchedulerError> {
        let (reply, done) = oneshot::channel();
        if self.inner.commands.send(Command::Shutdown(reply)).is_err() {
            return Ok(());
        }
        match done.await {
            Ok(result) => result.map_err(SchedulerError::from),
            // The dispatcher had already ended (shut down by another call).
            Err(_) => Ok(()),
        }
    }

    /// The store this scheduler runs on.
    pub fn store(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// This scheduler's owner id (`host:pid:nonce`), as written into the executions it runs.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }
}
