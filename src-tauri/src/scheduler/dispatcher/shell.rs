//! The dispatcher's async shell: waits for what happens, hands it to the decisions as an
//! [`Event`] and carries out the [`Action`]s they return.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::super::attempt::Attempts;
use super::super::halt::Halt;
use super::super::journal::{PendingLog, StoreJournal};
use super::super::streamed_text::StreamedText;
use super::super::SchedulerConfig;
use super::decide::State;
use super::events::{Action, Event, Request, SettleAnswer};
use super::settlement::Settlement;
use crate::execution::{now_ms, BoxFuture, ExecutionEvent, ExecutionId, Executor, RunRequest};
use crate::store::{
    AttemptLease, ClaimFilter, ClaimRequest, ClaimSlots, ClaimedRun, CommitListener, OwnerLock, QueueSettings, RecoverRequest, Store,
    StoreError, Transition,
};

/// What a handle asks the dispatcher.
pub(in crate::scheduler) enum Command {
    /// An execution was submitted through the handle (already committed).
    Submitted(ExecutionId),
    /// A cancel was requested (and committed) for an execution that is running.
    Cancel(ExecutionId),
    /// The queue settings changed (already committed).
    Queue(QueueSettings),
    /// Stop claiming, interrupt running attempts (requeued), flush; then reply and end.
    Shutdown(oneshot::Sender<Result<(), StoreError>>),
}

/// The claim the dispatcher keeps waiting with the store (scope `All`).
struct WaitingClaim {
    slots: Arc<ClaimSlots>,
    answer: BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>,
}

pub(in crate::scheduler) struct Dispatcher {
    store: Arc<dyn Store>,
    executor: Arc<dyn Executor>,
    config: SchedulerConfig,
    owner: String,
    events: broadcast::Sender<ExecutionEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    logs: mpsc::UnboundedSender<PendingLog>,
    /// The decisions and the queue state they keep.
    state: State,
    attempts: Attempts,
    /// The waiting claim for the free slots (scope `All`), until it answers.
    waiting_claim: Option<WaitingClaim>,
    /// Settlement writes in flight (the store may hold them briefly to share a commit; nothing
    /// waits on them, so the dispatcher goes on meanwhile).
    settling: FuturesUnordered<BoxFuture<'static, SettleAnswer>>,
    /// The callers waiting for the shutdown to finish.
    shutdown_replies: Vec<oneshot::Sender<Result<(), StoreError>>>,
    /// Set (once) when the store failed in a way retrying cannot fix; the dispatcher then shuts
    /// down. Shared with the [`Scheduler`](super::super::Scheduler) handles.
    halted: Arc<Halt>,
    /// The store's listener for this scheduler (`scheduler/announce.rs`), kept registered while
    /// it runs.
    _listener: Arc<CommitListener>,
    /// This worker's owner lock (`store/liveness.rs`), held until the dispatcher ends, so that
    /// others see it alive while it may own executions.
    _owner_lock: Option<OwnerLock>,
    /// Streamed LLM text of the running attempts (written by their journals).
    streamed: Arc<StreamedText>,
}

impl Dispatcher {
    #[allow(clippy::too_many_arguments)]
    pub(in crate::scheduler) fn new(
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
        Dispatcher {
            state: State::new(config.scope, config.backoff, settings, StdRng::from_os_rng()),
            store,
            executor,
            config,
            owner,
            events,
            commands,
            logs,
            attempts: Attempts::default(),
            waiting_claim: None,
            settling: FuturesUnordered::new(),
            shutdown_replies: Vec::new(),
            halted,
            _listener: listener,
            _owner_lock: owner_lock,
            streamed,
        }
    }

    /// Runs until shut down (by a command, when every handle is dropped, or halted).
    pub(in crate::scheduler) async fn run(mut self) {
        let mut heartbeat = tokio::time::interval(self.config.effective_heartbeat());
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut commands_open = true;
        loop {
            if self.state.retry_lookup_due() {
                let now = now_ms();
                let due = self.store.next_retry_at(now).ok().flatten();
                self.state.retry_found(due, now, Instant::now());
            }
            let retry_at = self.state.retry_timer();
            let event = tokio::select! {
                // Settlements before claim answers: both may come from one commit, and a retry
                // settled with no backoff may be claimed again in that very transaction.
                biased;
                command = self.commands.recv(), if commands_open => match command {
                    Some(command) => {
                        // Every command already waiting is taken now (one claim for a burst).
                        let mut requests = vec![self.request(command)];
                        while let Ok(command) = self.commands.try_recv() {
                            requests.push(self.request(command));
                        }
                        Event::Commands(requests)
                    }
                    None => {
                        commands_open = false;
                        Event::HandlesGone
                    }
                },
                Some(first) = self.attempts.join_next(), if !self.attempts.is_empty() => {
                    let mut ended = vec![first];
                    while let Some(more) = self.attempts.try_join_next() {
                        ended.push(more);
                    }
                    Event::AttemptsEnded { ended, now: now_ms() }
                }
                Some(answer) = self.settling.next(), if !self.settling.is_empty() => Event::Settled(Box::new(answer)),
                result = claim_answer(&mut self.waiting_claim) => {
                    self.waiting_claim = None;
                    Event::Claimed { waiting: true, result }
                }
                _ = sleep_until_some(retry_at) => Event::RetryDue,
                _ = heartbeat.tick() => Event::Heartbeat { now: now_ms() },
            };
            let settled = matches!(event, Event::Settled(_));
            self.step(event).await;
            if settled {
                // The other settlements answered by now are taken in the same turn.
                let mut more = Vec::new();
                self.ready_settlements(&mut more);
                for event in more {
                    self.step(event).await;
                }
            }
            if let Some(actions) = self.state.finish() {
                self.perform(actions).await;
                return;
            }
        }
    }

    /// A command as the decisions see it; the reply of a shutdown is kept here.
    fn request(&mut self, command: Command) -> Request {
        match command {
            Command::Submitted(id) => Request::Submitted(id),
            Command::Cancel(id) => Request::Cancel(id),
            Command::Queue(settings) => Request::Queue(settings),
            Command::Shutdown(reply) => {
                self.shutdown_replies.push(reply);
                Request::Shutdown
            }
        }
    }

    /// Hands `event` to the decisions and carries out what they decide.
    async fn step(&mut self, event: Event) {
        let actions = self.state.handle(event);
        self.perform(actions).await;
    }

    /// Carries out `actions` in order. An action that asks the store something is answered
    /// before the next one: its answer is handed to the decisions and the actions they return
    /// come first.
    async fn perform(&mut self, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        let mut answers = Vec::new();
        while let Some(action) = queue.pop_front() {
            self.carry_out(action, &mut answers).await;
            if answers.is_empty() {
                continue;
            }
            let mut next = Vec::new();
            for answer in answers.drain(..) {
                next.extend(self.state.handle(answer));
            }
            for action in next.into_iter().rev() {
                queue.push_front(action);
            }
        }
    }

    /// Carries out one action; what the store answered goes to `answers`.
    async fn carry_out(&mut self, action: Action, answers: &mut Vec<Event>) {
        match action {
            Action::Stop { id, lease_token } => self.attempts.stop(&id, lease_token),
            Action::StopAll => self.attempts.stop_all(),
            Action::Start(run, lease) => self.start(run, lease),
            Action::Claim { max, only } => {
                // The completed steps come with the claim, read in its transaction: no separate
                // read before the attempt can start.
                let result = self.store.claim_runs(self.claim_request(max, ClaimFilter::Only(only))).await;
                // Settlements enqueued before the claim were answered before it (the store
                // answers in order): taken first.
                self.ready_settlements(answers);
                answers.push(Event::Claimed { waiting: false, result });
            }
            Action::WaitForClaim { slots } => {
                let request = self.claim_request(slots, ClaimFilter::All);
                let slots = Arc::new(ClaimSlots::new(slots));
                let answer = self.store.claim_when_ready(request, slots.clone());
                self.waiting_claim = Some(WaitingClaim { slots, answer });
            }
            Action::SetClaimSlots(slots) => {
                if let Some(waiting) = &self.waiting_claim {
                    waiting.slots.set(slots);
                }
            }
            Action::Nudge => drop(self.store.flush()),
            Action::Settle(id, settlement) => {
                let write = self.settlement_write(&id, &settlement);
                self.settling
                    .push(Box::pin(async move { SettleAnswer { id, settlement, result: write.await.map(|t| t.execution.state) } }));
            }
            Action::SettleNow(settlements) => {
                let mut settled = Vec::with_capacity(settlements.len());
                for (id, settlement) in settlements {
                    let result = self.settlement_write(&id, &settlement).await.map(|t| t.execution.state);
                    settled.push(SettleAnswer { id, settlement, result });
                }
                answers.push(Event::SettledNow(settled));
            }
            Action::RenewLeases { now } => {
                answers.push(Event::LeasesRenewed(self.store.renew_leases(&self.owner, now, self.config.lease_ms()).await));
            }
            Action::ReadQueueSettings => answers.push(Event::QueueSettingsRead(self.store.queue_settings())),
            Action::AnnounceQueue(settings) => {
                let _ = self.events.send(ExecutionEvent::Queue { paused: settings.paused, concurrency: settings.concurrency });
            }
            Action::Recover { now } => {
                let request = RecoverRequest { now, exclude_owner: Some(self.owner.clone()) };
                answers.push(Event::Recovered(self.store.recover(request).await.map(drop)));
            }
            Action::CheckSubmitted(ids) => {
                let store = &self.store;
                let finished = ids.into_iter().filter(|id| matches!(store.get(id), Ok(Some(e)) if e.state.is_terminal())).collect();
                answers.push(Event::SubmittedFinished(finished));
            }
            Action::Halt(reason) => {
                self.halted.set(reason);
            }
            Action::CloseCommands => self.commands.close(),
            Action::Flush => answers.push(Event::Flushed { ok: self.store.flush().await.is_ok() }),
            Action::ReplyShutdown { ok } => {
                for reply in self.shutdown_replies.drain(..) {
                    let _ = reply.send(if ok { Ok(()) } else { Err(StoreError::Closed) });
                }
            }
        }
    }

    /// The answers of settlement writes that have come in, as events (does not wait).
    fn ready_settlements(&mut self, events: &mut Vec<Event>) {
        while let Some(Some(answer)) = self.settling.next().now_or_never() {
            events.push(Event::Settled(Box::new(answer)));
        }
    }

    /// Spawns the attempt of a claimed execution (the store announced the claim).
    fn start(&mut self, run: Box<ClaimedRun>, lease: AttemptLease) {
        let ClaimedRun { transition, completed_steps, reviews } = *run;
        let execution = transition.execution;
        let id = execution.id.clone();
        let (store, events, logs, streamed) = (self.store.clone(), self.events.clone(), self.logs.clone(), self.streamed.clone());
        let request = RunRequest { execution, completed_steps, reviews };
        self.attempts.spawn(self.executor.clone(), request, lease.token.unwrap_or_default(), |loss| {
            Arc::new(StoreJournal { store, id, lease, loss, events, logs, streamed })
        });
    }

    fn claim_request(&self, max: u32, filter: ClaimFilter) -> ClaimRequest {
        ClaimRequest { owner: self.owner.clone(), now: now_ms(), lease_ms: self.config.lease_ms(), max, filter }
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
