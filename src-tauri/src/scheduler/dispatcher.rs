//! The dispatcher: the one task that owns the queue state of a scheduler.
//!
//! It waits (`tokio::select!`) on handle commands, attempt completions, the answer of its waiting
//! claim, one timer for the next due retry and the heartbeat; nothing else polls. At each
//! heartbeat it renews this owner's leases (learning of cancels requested by other processes),
//! re-reads the shared pause flag and concurrency, recovers executions of dead or expired owners
//! and claims new work (also work submitted by other processes).
//!
//! With [`ClaimScope::All`] the dispatcher keeps one *waiting claim* with the store while it has
//! free slots ([`Store::claim_when_ready`]): the store tries it inside every write transaction,
//! so a submission is claimed in the very transaction that inserts it, and a finished attempt's
//! settlement and the claim for its slot share one. Its slot count follows the free slots; 0
//! withdraws it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::attempt::{spawn_attempt, AttemptEnd, Completion};
use super::halt::Halt;
use super::journal::{LeaseLoss, PendingLog, StoreJournal};
use super::streamed_text::StreamedText;
use super::{ClaimScope, SchedulerConfig};
use crate::execution::{
    now_ms, AttemptOutput, BoxFuture, ErrorKind, Execution, ExecutionError, ExecutionEvent, ExecutionId, Executor, InputRequest,
    InputReview, Millis, RunRequest, StepOutput,
};
use crate::store::{
    AttemptLease, ClaimFilter, ClaimRequest, ClaimSlots, ClaimedRun, CommitListener, Committed, Finish, OwnerLock, QueueSettings,
    RecoverRequest, Store, StoreError, Transition,
};

/// What a handle asks the dispatcher.
pub(super) enum Command {
    /// An execution was submitted through the handle (already committed).
    Submitted(ExecutionId),
    /// A cancel was requested (and committed) for an execution that is running.
    Cancel(ExecutionId),
    /// The queue settings changed (already committed).
    Queue(QueueSettings),
    /// Stop claiming, interrupt running attempts (requeued), flush; then reply and end.
    Shutdown(oneshot::Sender<Result<(), StoreError>>),
}

/// Why the dispatcher fired an attempt's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    Cancel,
    Shutdown,
    /// The lease was lost (another process recovered the execution): drop it, write nothing.
    LeaseLost,
}

struct Running {
    token: CancellationToken,
    stop: Option<StopReason>,
    attempt: u32,
    max_attempts: u32,
    /// The claim's fencing token (see [`AttemptLease`]).
    lease_token: i64,
    /// Tripped when the store refused one of the attempt's writes (it lost its lease).
    loss: Arc<LeaseLoss>,
}

/// The write that ends an attempt.
#[derive(Clone, Debug)]
enum Settlement {
    Finish(Finish),
    Retry {
        error: ExecutionError,
        next_run_at: Millis,
    },
    Requeue,
    /// A task's answer waits for human review (the slot is freed).
    AwaitInput(InputRequest),
}

/// A settlement's write in flight, answering with what it was for.
type Settling = BoxFuture<'static, (ExecutionId, Settlement, Result<Transition, StoreError>)>;

/// The claim the dispatcher keeps waiting with the store (scope `All`).
struct WaitingClaim {
    slots: Arc<ClaimSlots>,
    answer: BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>,
}

pub(super) struct Dispatcher {
    pub store: Arc<dyn Store>,
    pub executor: Arc<dyn Executor>,
    pub config: SchedulerConfig,
    pub owner: String,
    pub settings: QueueSettings,
    pub events: broadcast::Sender<ExecutionEvent>,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub logs: mpsc::UnboundedSender<PendingLog>,
    completions_tx: mpsc::UnboundedSender<Completion>,
    completions: mpsc::UnboundedReceiver<Completion>,
    running: HashMap<ExecutionId, Running>,
    submitted: HashSet<ExecutionId>,
    /// The waiting claim for the free slots (scope `All`), until it answers.
    waiting_claim: Option<WaitingClaim>,
    /// Settlement writes in flight (the store may hold them briefly to share a commit; nothing
    /// waits on them, so the dispatcher goes on meanwhile).
    settling: FuturesUnordered<Settling>,
    /// Settlements the store did not take (e.g. locked); retried at each heartbeat.
    unsettled: Vec<(ExecutionId, Settlement)>,
    retry_at: Option<Instant>,
    /// The next due retry must be looked up again (something may have changed it).
    retry_stale: bool,
    shutdown: Option<Vec<oneshot::Sender<Result<(), StoreError>>>>,
    /// Set (once) when the store failed in a way retrying cannot fix; the dispatcher then shuts
    /// down. Shared with the [`Scheduler`](super::Scheduler) handles.
    halted: Arc<Halt>,
    /// The store's listener for this scheduler ([`announce`]), kept registered while it runs.
    _listener: Arc<CommitListener>,
    /// This worker's owner lock (`store/liveness.rs`), held until the dispatcher ends, so that
    /// others see it alive while it may own executions.
    _owner_lock: Option<OwnerLock>,
    rng: StdRng,
    /// Streamed LLM text of the running attempts (written by their journals).
    streamed: Arc<StreamedText>,
}

impl Dispatcher {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        store: Arc<dyn Store>,
        executor: Arc<dyn Executor>,
        config: SchedulerConfig,
        owner: String,
        settings: QueueSettings,
        events: broadcast::Sender<ExecutionEvent>,
        commands: mpsc::UnboundedReceiver<Command>,
        logs: mpsc::UnboundedSender<PendingLog>,
        halted: Arc<Halt>,
        listener: Arc<CommitListener>,
        owner_lock: Option<OwnerLock>,
        streamed: Arc<StreamedText>,
    ) -> Dispatcher {
        let (completions_tx, completions) = mpsc::unbounded_channel();
        Dispatcher {
            store,
            executor,
            config,
            owner,
            settings,
            events,
            commands,
            logs,
            completions_tx,
            completions,
            running: HashMap::new(),
            submitted: HashSet::new(),
            waiting_claim: None,
            settling: FuturesUnordered::new(),
            unsettled: Vec::new(),
            retry_at: None,
            retry_stale: true,
            shutdown: None,
            halted,
            _listener: listener,
            _owner_lock: owner_lock,
            rng: StdRng::from_os_rng(),
            streamed,
        }
    }

    /// Runs until shut down (by a command, or when every handle is dropped).
    pub(super) async fn run(mut self) {
        let mut heartbeat = tokio::time::interval(self.config.effective_heartbeat());
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut commands_open = true;
        loop {
            if self.retry_stale {
                self.arm_retry_timer();
            }
            // The retry timer only matters while a slot could take the retry.
            let retry_at = if self.can_claim() { self.retry_at } else { None };
            tokio::select! {
                // Settlements before claim answers: both may come from one commit, and a retry
                // settled with no backoff may be claimed again in that very transaction.
                biased;
                command = self.commands.recv(), if commands_open => match command {
                    Some(command) => {
                        // Every command already waiting is taken now, so a burst of submissions
                        // is served by one claim (one group commit) instead of one claim each.
                        let mut claim = self.on_command(command);
                        while let Ok(command) = self.commands.try_recv() {
                            claim |= self.on_command(command);
                        }
                        if claim {
                            // A changed queue setting may let the waiting claim take more.
                            self.dispatch(true).await;
                        }
                    }
                    None => {
                        commands_open = false;
                        self.begin_shutdown(None);
                    }
                },
                Some(done) = self.completions.recv() => {
                    let mut ended = vec![done];
                    while let Ok(more) = self.completions.try_recv() {
                        ended.push(more);
                    }
                    self.on_completions(ended).await;
                }
                Some((id, settlement, result)) = self.settling.next(), if !self.settling.is_empty() => {
                    self.settled(id, settlement, result);
                    self.drain_settled();
                }
                claimed = claim_answer(&mut self.waiting_claim) => {
                    self.waiting_claim = None;
                    self.start_claimed(claimed);
                    self.want_claim();
                }
                _ = sleep_until_some(retry_at) => {
                    self.retry_at = None;
                    self.retry_stale = true;
                    self.dispatch(true).await;
                }
                _ = heartbeat.tick() => self.on_heartbeat().await,
            }
            if self.shutdown.is_some() && self.running.is_empty() && self.waiting_claim.is_none() && self.settling.is_empty() {
                self.finish_shutdown().await;
                return;
            }
        }
    }

    /// Applies a handle command; `true` when free slots should be filled afterwards.
    fn on_command(&mut self, command: Command) -> bool {
        match command {
            Command::Submitted(id) => {
                if self.config.scope == ClaimScope::Submitted {
                    self.submitted.insert(id);
                }
                // Scope `All`: the waiting claim was tried in the submission's transaction.
                self.config.scope != ClaimScope::All
            }
            Command::Cancel(id) => {
                self.stop(&id, StopReason::Cancel);
                false
            }
            Command::Queue(settings) => {
                self.settings = settings;
                self.retry_stale = true;
                true
            }
            Command::Shutdown(reply) => {
                self.begin_shutdown(Some(reply));
                false
            }
        }
    }

    /// A store operation (`what`) failed outside any caller's request. A transient failure (the
    /// lock) is logged and retried at the next heartbeat; any other failure (full disk, I/O
    /// error, corruption, read-only) would fail the same way forever, so it halts the scheduler:
    /// the first such error is kept for [`Scheduler::halted`](super::Scheduler::halted) and the
    /// dispatcher shuts down (running attempts are interrupted; what cannot be written stays
    /// `running` under this owner and is recovered by the next scheduler once this process is
    /// gone).
    fn store_failed(&mut self, what: &str, e: &StoreError) {
        if e.is_transient() || e.is_rejection() {
            tracing::warn!("{what} (will retry): {e}");
            return;
        }
        if self.halted.set(e.to_string()) {
            tracing::error!("{what}: {e}; stopping");
        } else {
            tracing::debug!("{what}: {e}");
        }
        self.begin_shutdown(None);
    }

    fn begin_shutdown(&mut self, reply: Option<oneshot::Sender<Result<(), StoreError>>>) {
        self.shutdown.get_or_insert_with(Vec::new).extend(reply);
        let ids: Vec<ExecutionId> = self.running.keys().cloned().collect();
        for id in ids {
            self.stop(&id, StopReason::Shutdown);
        }
        // Withdraw the waiting claim; it answers at the store's next write (this one). What it
        // claimed before is started and stopped at once (requeued).
        self.want_claim();
    }

    async fn finish_shutdown(&mut self) {
        // Closed first, so handles see `Stopped` as soon as a shutdown call returns.
        self.commands.close();
        let pending = std::mem::take(&mut self.unsettled);
        for (id, settlement) in pending {
            self.settle(id, settlement).await;
        }
        let flushed = self.store.flush().await;
        let waiters = self.shutdown.take().unwrap_or_default();
        for waiter in waiters {
            let _ = waiter.send(match &flushed {
                Ok(()) => Ok(()),
                Err(_) => Err(StoreError::Closed),
            });
        }
    }

    /// Fires the token of a running attempt; the first reason given is kept.
    fn stop(&mut self, id: &ExecutionId, reason: StopReason) {
        if let Some(run) = self.running.get_mut(id) {
            run.stop.get_or_insert(reason);
            run.token.cancel();
        }
    }

    fn can_claim(&self) -> bool {
        self.shutdown.is_none()
            && !self.settings.paused
            && self.config.scope != ClaimScope::None
            && self.running.len() < self.settings.concurrency as usize
    }

    /// Claims as many executions as there are free slots and starts them: with scope `All`
    /// through the waiting claim (looked at again now: `nudge`), otherwise at once.
    async fn dispatch(&mut self, nudge: bool) {
        self.want_claim();
        if nudge && self.waiting_claim.is_some() {
            // An empty write: the store tries the waiting claim in its transaction.
            drop(self.store.flush());
        }
        if let Some(claim) = self.issue_claim() {
            self.start_claimed(claim.await);
        }
    }

    /// Scope `All`: keeps one waiting claim for the free slots. Raises its slot count as slots
    /// free up, sets it to 0 (withdrawn: it answers empty at the store's next write) when none
    /// may be claimed, and enqueues a new one when slots are free and none waits (tried in the
    /// writer's next transaction).
    fn want_claim(&mut self) {
        if self.config.scope != ClaimScope::All {
            return;
        }
        let free = if self.can_claim() { (self.settings.concurrency as usize).saturating_sub(self.running.len()) } else { 0 };
        let free = u32::try_from(free).unwrap_or(u32::MAX);
        match &self.waiting_claim {
            Some(waiting) => {
                waiting.slots.set(free);
                if free == 0 {
                    drop(self.store.flush());
                }
            }
            None if free > 0 => {
                let slots = Arc::new(ClaimSlots::new(free));
                let answer = self.store.claim_when_ready(self.claim_request(free, ClaimFilter::All), slots.clone());
                self.waiting_claim = Some(WaitingClaim { slots, answer });
            }
            None => {}
        }
    }

    /// Scope `Submitted`: enqueues a claim for the free slots (into the writer's next group
    /// commit), if a slot is free; the answer goes to [`start_claimed`](Self::start_claimed).
    /// (Scope `All` claims through the waiting claim, [`want_claim`](Self::want_claim).)
    fn issue_claim(&mut self) -> Option<BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>> {
        if !self.can_claim() || self.config.scope != ClaimScope::Submitted || self.submitted.is_empty() {
            return None;
        }
        let free = (self.settings.concurrency as usize).saturating_sub(self.running.len());
        let filter = ClaimFilter::Only(self.submitted.iter().cloned().collect());
        // The completed steps come with the claim, read in its transaction: no separate read
        // (on the read connection, after every commit) before the attempt can start.
        Some(self.store.claim_runs(self.claim_request(u32::try_from(free).unwrap_or(u32::MAX), filter)))
    }

    fn claim_request(&self, max: u32, filter: ClaimFilter) -> ClaimRequest {
        ClaimRequest { owner: self.owner.clone(), now: now_ms(), lease_ms: self.config.lease_ms(), max, filter }
    }

    /// Starts what a claim took (the store announced the claims: [`announce`]).
    fn start_claimed(&mut self, claim: Result<Vec<ClaimedRun>, StoreError>) {
        match claim {
            Ok(claimed) => {
                for run in claimed {
                    self.start(run.transition.execution, run.completed_steps, run.reviews);
                }
            }
            Err(e) => self.store_failed("could not claim work", &e),
        }
    }

    fn start(&mut self, execution: Execution, completed_steps: Vec<StepOutput>, reviews: Vec<InputReview>) {
        let id = execution.id.clone();
        let Some(lease) = AttemptLease::of(&execution) else {
            tracing::error!("execution {id} was claimed but is {}; not started", execution.status());
            return;
        };
        let lease_token = lease.token.unwrap_or_default();
        if self.running.contains_key(&id) {
            // An earlier attempt of ours lost its lease and we claimed the execution again
            // before noticing: that one is stopped and dropped.
            self.stop(&id, StopReason::LeaseLost);
        }
        let token = CancellationToken::new();
        let loss = LeaseLoss::new(token.clone());
        self.running.insert(
            id.clone(),
            Running {
                token: token.clone(),
                stop: None,
                attempt: execution.attempt,
                max_attempts: execution.max_attempts,
                lease_token,
                loss: loss.clone(),
            },
        );
        let journal = Arc::new(StoreJournal {
            store: self.store.clone(),
            id: id.clone(),
            lease,
            loss,
            events: self.events.clone(),
            logs: self.logs.clone(),
            streamed: self.streamed.clone(),
        });
        let request = RunRequest { execution, completed_steps, reviews };
        spawn_attempt(self.executor.clone(), request, journal, token, lease_token, self.completions_tx.clone());
        if self.shutdown.is_some() {
            // Claimed while shutting down (a waiting claim answered late): requeued right away.
            self.stop(&id, StopReason::Shutdown);
        }
    }

    /// Settles ended attempts and refills their slots. The settlements and the claim for the
    /// freed slots are all enqueued together, so they share one group commit: with
    /// scope `All` the waiting claim's slot count is raised first (or a new one is enqueued), and
    /// the store tries it in the settlements' transaction; otherwise a claim is enqueued after
    /// the settlements (writes from this task are applied in call order).
    async fn on_completions(&mut self, ended: Vec<Completion>) {
        let mut settlements = Vec::with_capacity(ended.len());
        for done in ended {
            if let Some(settlement) = self.settlement(&done.id, done.lease_token, done.end) {
                settlements.push((done.id, settlement));
            }
        }
        // Scope `All`: the waiting claim takes the freed slots, tried in the settlements'
        // transaction (its slot count is raised before they are enqueued).
        self.want_claim();
        let writes: Vec<_> = settlements
            .into_iter()
            .map(|(id, settlement)| {
                let write = self.settlement_write(&id, &settlement);
                (id, settlement, write)
            })
            .collect();
        let claim = self.issue_claim();
        for (id, settlement, write) in writes {
            self.settling.push(Box::pin(async move { (id, settlement, write.await) }));
        }
        if let Some(claim) = claim {
            let claimed = claim.await;
            // The settlements were answered before the claim (the store answers in order):
            // settled first.
            self.drain_settled();
            self.start_claimed(claimed);
        }
    }

    /// Takes the answers of settlements that have come in.
    fn drain_settled(&mut self) {
        while let Some(Some((id, settlement, result))) = self.settling.next().now_or_never() {
            self.settled(id, settlement, result);
        }
    }

    /// How an ended attempt is settled (it leaves `running`); `None` when nothing is written.
    fn settlement(&mut self, id: &ExecutionId, lease_token: i64, end: AttemptEnd) -> Option<Settlement> {
        if self.running.get(id).is_some_and(|run| run.lease_token != lease_token) {
            // An attempt replaced by a later claim of the same execution: nothing to write.
            tracing::warn!("execution {id}: an attempt that had lost its lease ended; dropped");
            return None;
        }
        let run = self.running.remove(id)?;
        let stop = if run.loss.is_lost() { Some(StopReason::LeaseLost) } else { run.stop };
        let settlement = match (stop, end) {
            (Some(StopReason::LeaseLost), _) => {
                tracing::warn!("execution {id} was taken over by another worker; dropped its attempt");
                return None;
            }
            (_, AttemptEnd::Finished(Ok(AttemptOutput::Finished(out)))) => {
                Settlement::Finish(Finish::Succeeded { output: out.output, usage: out.usage })
            }
            (_, AttemptEnd::Finished(Ok(AttemptOutput::AwaitingInput(request)))) => Settlement::AwaitInput(request),
            (Some(StopReason::Cancel), _) => Settlement::Finish(Finish::Cancelled),
            (Some(StopReason::Shutdown), AttemptEnd::Stopped) | (None, AttemptEnd::Stopped) => Settlement::Requeue,
            (_, AttemptEnd::Finished(Err(error))) => self.after_failure(&run, error),
            (_, AttemptEnd::TimedOut(ms)) => Settlement::Finish(Finish::Failed {
                error: ExecutionError::new(ErrorKind::Timeout, format!("the attempt exceeded its timeout of {ms} ms"))
                    .with_details(serde_json::json!({ "timeout_ms": ms })),
                usage: None,
            }),
            (_, AttemptEnd::Panicked(message)) => Settlement::Finish(Finish::Failed {
                error: ExecutionError::new(ErrorKind::Internal, format!("the executor panicked: {message}")),
                usage: None,
            }),
        };
        Some(settlement)
    }

    /// Retry a retryable error while attempts remain; otherwise fail.
    fn after_failure(&mut self, run: &Running, error: ExecutionError) -> Settlement {
        if error.retryable && run.attempt < run.max_attempts {
            let retry_after = error.retry_after_ms.map(Duration::from_millis);
            let delay = self.config.backoff.delay(run.attempt, retry_after, &mut self.rng);
            let delay_ms = Millis::try_from(delay.as_millis()).unwrap_or(Millis::MAX);
            Settlement::Retry { error, next_run_at: now_ms().saturating_add(delay_ms) }
        } else {
            Settlement::Finish(Finish::Failed { error, usage: None })
        }
    }

    async fn settle(&mut self, id: ExecutionId, settlement: Settlement) {
        let write = self.settlement_write(&id, &settlement);
        let result = write.await;
        self.settled(id, settlement, result);
    }

    /// Enqueues the write of a settlement.
    fn settlement_write(&self, id: &ExecutionId, settlement: &Settlement) -> BoxFuture<'static, Result<Transition, StoreError>> {
        match settlement {
            Settlement::Finish(finish) => self.store.finish(id, &self.owner, finish.clone()),
            Settlement::Retry { error, next_run_at } => self.store.schedule_retry(id, &self.owner, error.clone(), *next_run_at),
            Settlement::Requeue => self.store.requeue(id, &self.owner, "the worker is shutting down"),
            Settlement::AwaitInput(request) => self.store.await_input(id, &self.owner, request.clone()),
        }
    }

    /// Takes a committed settlement (the store announced it: [`announce`]), or keeps it to retry
    /// when the store did not take it.
    fn settled(&mut self, id: ExecutionId, settlement: Settlement, result: Result<Transition, StoreError>) {
        if matches!(settlement, Settlement::Retry { .. }) {
            self.retry_stale = true;
        }
        match result {
            Ok(transition) => {
                if transition.execution.state.is_terminal() {
                    self.submitted.remove(&id);
                }
            }
            Err(e) if e.is_rejection() => tracing::warn!("could not settle execution {id}: {e}"),
            Err(e) => {
                self.store_failed(&format!("could not settle execution {id}"), &e);
                if !self.halted.is_set() {
                    self.unsettled.push((id, settlement));
                }
            }
        }
    }

    async fn on_heartbeat(&mut self) {
        let now = now_ms();
        // Other processes may have scheduled retries: look the next one up again.
        self.retry_stale = true;
        if self.config.scope != ClaimScope::None || !self.running.is_empty() {
            match self.store.renew_leases(&self.owner, now, self.config.lease_ms()).await {
                Ok(renewal) => {
                    for id in &renewal.cancel_requested {
                        self.stop(id, StopReason::Cancel);
                    }
                    let still: HashSet<&ExecutionId> = renewal.running.iter().collect();
                    let lost: Vec<ExecutionId> = self.running.keys().filter(|id| !still.contains(id)).cloned().collect();
                    for id in lost {
                        self.stop(&id, StopReason::LeaseLost);
                    }
                }
                Err(e) => self.store_failed("could not renew leases", &e),
            }
        }
        match self.store.queue_settings() {
            Ok(settings) if settings != self.settings => {
                self.settings = settings;
                let _ = self.events.send(ExecutionEvent::Queue { paused: settings.paused, concurrency: settings.concurrency });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("could not read the queue settings: {e}"),
        }
        if self.config.scope != ClaimScope::None && self.shutdown.is_none() {
            let request = RecoverRequest { now, exclude_owner: Some(self.owner.clone()) };
            match self.store.recover(request).await {
                Ok(_) => {}
                Err(e) => self.store_failed("could not recover abandoned executions", &e),
            }
        }
        let pending = std::mem::take(&mut self.unsettled);
        for (id, settlement) in pending {
            self.settle(id, settlement).await;
        }
        if self.config.scope == ClaimScope::Submitted {
            let store = self.store.clone();
            self.submitted.retain(|id| !matches!(store.get(id), Ok(Some(e)) if e.state.is_terminal()));
        }
        self.dispatch(false).await;
    }

    /// Looks up the next retry that becomes due and arms the timer for it (used while a slot
    /// could take it). Only done when something may have changed it (a retry settled here, the
    /// timer fired, the queue settings changed, a heartbeat), not on every event.
    fn arm_retry_timer(&mut self) {
        self.retry_stale = false;
        self.retry_at = None;
        let now = now_ms();
        if let Ok(Some(due)) = self.store.next_retry_at(now) {
            let wait = u64::try_from(due.saturating_sub(now)).unwrap_or(0);
            self.retry_at = Some(Instant::now() + Duration::from_millis(wait.saturating_add(1)));
        }
    }
}

/// Broadcasts a committed change: a transition as its state then its log line (and traced), new
/// queue settings as a queue event. The scheduler's store listener ([`Store::listen`]): called
/// on the store's writer thread, in commit order, before the write that committed it is
/// answered.
pub(super) fn announce(events: &broadcast::Sender<ExecutionEvent>, change: Committed<'_>) {
    let transition = match change {
        Committed::Transition(transition) => transition,
        Committed::Queue(settings) => {
            let _ = events.send(ExecutionEvent::Queue { paused: settings.paused, concurrency: settings.concurrency });
            return;
        }
    };
    let e = &transition.execution;
    tracing::info!(execution = %e.id, crew = %e.crew_name, status = %e.status(), attempt = e.attempt, "{}", transition.log.event.message);
    let _ = events.send(ExecutionEvent::State { id: e.id.clone(), state: e.state.clone(), attempt: e.attempt, priority: e.priority });
    let _ = events.send(ExecutionEvent::Log { entry: transition.log.clone() });
}

/// The answer of the waiting claim; pending forever when there is none.
async fn claim_answer(waiting: &mut Option<WaitingClaim>) -> Result<Vec<ClaimedRun>, StoreError> {
    match waiting {
        Some(waiting) => (&mut waiting.answer).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
