//! The dispatcher's decisions: its queue state and what to do about each [`Event`], with no I/O.
//!
//! [`State::handle`] takes what the shell saw (a handle's command, an attempt's end, a store's
//! answer, a timer) and returns the [`Action`]s to carry out, in order. It never waits, reads a
//! clock or touches the store: times come in with the events (`now`), randomness from the
//! state's own generator (seeded in tests).
//!
//! An action that asks the store something ([`Action::Claim`], [`Action::SettleNow`],
//! [`Action::RenewLeases`], [`Action::ReadQueueSettings`], [`Action::Recover`],
//! [`Action::CheckSubmitted`], [`Action::Flush`]) is answered by the shell with its event before
//! the next action is carried out, so a sequence such as the heartbeat (renew, read the
//! settings, recover, retry settlements, claim) is a chain of events each deciding the next step
//! from what the previous one found.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rand::rngs::StdRng;
use tokio::time::Instant;

use super::super::attempt::Ended;
use super::super::{Backoff, ClaimScope};
use super::events::{Action, Event, Request, SettleAnswer};
use super::settlement::{settle, Ran, Settlement, StopReason};
use crate::execution::{ExecutionId, Millis};
use crate::store::{AttemptLease, ClaimedRun, LeaseRenewal, QueueSettings, StoreError};

/// How far the dispatcher is in stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// Shutting down: nothing is claimed; waits for running attempts, the waiting claim and
    /// settlement writes to end.
    Stopping,
    /// Nothing is left in flight: writing what could not be settled, then flushing.
    Finishing,
}

/// An attempt this dispatcher runs.
#[derive(Debug)]
struct Running {
    ran: Ran,
    /// The claim's fencing token (see [`AttemptLease`]).
    lease_token: i64,
}

/// The queue state of one dispatcher.
pub(super) struct State {
    scope: ClaimScope,
    backoff: Backoff,
    settings: QueueSettings,
    rng: StdRng,
    running: HashMap<ExecutionId, Running>,
    /// Scope `Submitted`: the executions submitted through the handles and not known finished.
    submitted: HashSet<ExecutionId>,
    /// A waiting claim is with the store (scope `All`), until it answers.
    waiting_claim: bool,
    /// [`Action::Settle`] writes not answered yet (nothing waits on them: the dispatcher goes on).
    settling: usize,
    /// Settlements the store did not take (e.g. locked); retried at each heartbeat.
    unsettled: Vec<(ExecutionId, Settlement)>,
    /// When the next due retry may be claimed (looked up by the shell, see
    /// [`retry_found`](State::retry_found)).
    retry_at: Option<Instant>,
    /// The next due retry must be looked up again (something may have changed it).
    retry_stale: bool,
    phase: Phase,
    /// The store failed in a way retrying cannot fix (set once).
    halted: bool,
    /// The wall-clock time of the heartbeat in progress.
    beat: Millis,
    /// The actions decided so far for the event being handled.
    out: Vec<Action>,
}

impl State {
    pub(super) fn new(scope: ClaimScope, backoff: Backoff, settings: QueueSettings, rng: StdRng) -> State {
        State {
            scope,
            backoff,
            settings,
            rng,
            running: HashMap::new(),
            submitted: HashSet::new(),
            waiting_claim: false,
            settling: 0,
            unsettled: Vec::new(),
            retry_at: None,
            retry_stale: true,
            phase: Phase::Open,
            halted: false,
            beat: 0,
            out: Vec::new(),
        }
    }

    /// Decides what `event` calls for.
    pub(super) fn handle(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Commands(requests) => {
                let mut claim = false;
                for request in requests {
                    claim |= self.on_request(request);
                }
                if claim {
                    // A changed queue setting may let the waiting claim take more.
                    self.dispatch(true);
                }
            }
            Event::HandlesGone => self.begin_shutdown(),
            Event::AttemptsEnded { ended, now } => self.on_ended(ended, now),
            Event::Claimed { waiting, result } => {
                if waiting {
                    self.waiting_claim = false;
                }
                self.start_claimed(result);
                if waiting {
                    self.want_claim();
                }
            }
            Event::Settled(answer) => {
                self.settling = self.settling.saturating_sub(1);
                self.settled(*answer);
            }
            Event::SettledNow(answers) => {
                for answer in answers {
                    self.settled(answer);
                }
                if self.phase == Phase::Finishing {
                    self.out.push(Action::Flush);
                } else {
                    self.forget_finished();
                }
            }
            Event::RetryDue => {
                self.retry_at = None;
                self.retry_stale = true;
                self.dispatch(true);
            }
            Event::Heartbeat { now } => self.on_heartbeat(now),
            Event::LeasesRenewed(renewal) => self.on_renewal(renewal),
            Event::QueueSettingsRead(settings) => self.on_settings_read(settings),
            Event::Recovered(result) => {
                if let Err(e) = result {
                    self.store_failed("could not recover abandoned executions", &e);
                }
                self.retry_unsettled();
            }
            Event::SubmittedFinished(finished) => {
                for id in &finished {
                    self.submitted.remove(id);
                }
                self.dispatch(false);
            }
            Event::Flushed { ok } => self.out.push(Action::ReplyShutdown { ok }),
        }
        std::mem::take(&mut self.out)
    }

    /// Once shutting down with nothing left in flight (no running attempt, no waiting claim, no
    /// settlement write), the actions that end the dispatcher: close the commands, write what
    /// could not be settled, flush and reply. `None` otherwise. The shell asks after each turn
    /// and ends after carrying these out.
    pub(super) fn finish(&mut self) -> Option<Vec<Action>> {
        if self.phase != Phase::Stopping || !self.running.is_empty() || self.waiting_claim || self.settling > 0 {
            return None;
        }
        self.phase = Phase::Finishing;
        // Closed first, so handles see `Stopped` as soon as a shutdown call returns.
        self.out.push(Action::CloseCommands);
        if self.unsettled.is_empty() {
            self.out.push(Action::Flush);
        } else {
            self.out.push(Action::SettleNow(std::mem::take(&mut self.unsettled)));
        }
        Some(std::mem::take(&mut self.out))
    }

    /// Whether the next due retry must be looked up (and handed to
    /// [`retry_found`](State::retry_found)) before the next turn: only when something may have
    /// changed it (a retry settled here, the timer fired, the queue settings changed, a
    /// heartbeat), not on every event.
    pub(super) fn retry_lookup_due(&self) -> bool {
        self.retry_stale
    }

    /// The next retry falls `due` (wall clock; `None`: none is waiting), looked up at wall-clock
    /// `now`, which was monotonic `at`: the timer is set for 1 ms after it.
    pub(super) fn retry_found(&mut self, due: Option<Millis>, now: Millis, at: Instant) {
        self.retry_stale = false;
        self.retry_at = due.map(|due| {
            let wait = u64::try_from(due.saturating_sub(now)).unwrap_or(0);
            at + Duration::from_millis(wait.saturating_add(1))
        });
    }

    /// When the shell should raise [`Event::RetryDue`]: the next retry's time while a slot could
    /// take it, `None` otherwise.
    pub(super) fn retry_timer(&self) -> Option<Instant> {
        if self.can_claim() {
            self.retry_at
        } else {
            None
        }
    }

    /// Applies a handle's request; `true` when free slots should be filled afterwards.
    fn on_request(&mut self, request: Request) -> bool {
        match request {
            Request::Submitted(id) => {
                if self.scope == ClaimScope::Submitted {
                    self.submitted.insert(id);
                }
                // Scope `All`: the waiting claim was tried in the submission's transaction.
                self.scope != ClaimScope::All
            }
            Request::Cancel(id) => {
                self.stop(&id, StopReason::Cancel);
                false
            }
            Request::Queue(settings) => {
                self.settings = settings;
                self.retry_stale = true;
                true
            }
            Request::Shutdown => {
                self.begin_shutdown();
                false
            }
        }
    }

    /// A store operation (`what`) failed outside any caller's request. A transient failure (the
    /// lock) or a rejection is logged and retried at the next heartbeat; any other failure (full
    /// disk, I/O error, corruption, read-only) would fail the same way forever, so it halts the
    /// scheduler: the first such error is recorded ([`Action::Halt`]) and the dispatcher shuts
    /// down (running attempts are interrupted; what cannot be written stays `running` under this
    /// owner and is recovered by the next scheduler once this process is gone).
    fn store_failed(&mut self, what: &str, e: &StoreError) {
        if e.is_transient() || e.is_rejection() {
            tracing::warn!("{what} (will retry): {e}");
            return;
        }
        if self.halted {
            tracing::debug!("{what}: {e}");
        } else {
            self.halted = true;
            tracing::error!("{what}: {e}; stopping");
            self.out.push(Action::Halt(e.to_string()));
        }
        self.begin_shutdown();
    }

    /// Stops claiming and stops every attempt (each keeps the first reason it was given). The
    /// waiting claim is withdrawn; it answers at the store's next write, and what it claimed
    /// before is started stopped (requeued).
    fn begin_shutdown(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Stopping;
        }
        for run in self.running.values_mut() {
            run.ran.stop.get_or_insert(StopReason::Shutdown);
        }
        self.out.push(Action::StopAll);
        self.want_claim();
    }

    /// Stops a running attempt; the first reason given is kept. Nothing for an execution that is
    /// not running here (a queued one was cancelled by the store already; one whose attempt
    /// ended is being settled).
    fn stop(&mut self, id: &ExecutionId, reason: StopReason) {
        if let Some(run) = self.running.get_mut(id) {
            run.ran.stop.get_or_insert(reason);
            self.out.push(Action::Stop { id: id.clone(), lease_token: run.lease_token });
        }
    }

    fn can_claim(&self) -> bool {
        self.phase == Phase::Open
            && !self.settings.paused
            && self.scope != ClaimScope::None
            && self.running.len() < self.settings.concurrency as usize
    }

    /// How many more attempts may start now.
    fn free_slots(&self) -> u32 {
        let free = if self.can_claim() { (self.settings.concurrency as usize).saturating_sub(self.running.len()) } else { 0 };
        u32::try_from(free).unwrap_or(u32::MAX)
    }

    /// Fills the free slots: with scope `All` through the waiting claim (looked at again now when
    /// `nudge`), otherwise by a claim.
    fn dispatch(&mut self, nudge: bool) {
        self.want_claim();
        if nudge && self.waiting_claim {
            self.out.push(Action::Nudge);
        }
        self.issue_claim();
    }

    /// Scope `All`: keeps one waiting claim for the free slots. Sets its slot count to the free
    /// slots (0, withdrawn, when none may be claimed, written at once so that it answers), and
    /// leaves a new one when slots are free and none waits.
    fn want_claim(&mut self) {
        if self.scope != ClaimScope::All {
            return;
        }
        let free = self.free_slots();
        if self.waiting_claim {
            self.out.push(Action::SetClaimSlots(free));
            if free == 0 {
                self.out.push(Action::Nudge);
            }
        } else if free > 0 {
            self.waiting_claim = true;
            self.out.push(Action::WaitForClaim { slots: free });
        }
    }

    /// Scope `Submitted`: claims (among the executions submitted here) for the free slots, if
    /// one is free.
    fn issue_claim(&mut self) {
        if !self.can_claim() || self.scope != ClaimScope::Submitted || self.submitted.is_empty() {
            return;
        }
        self.out.push(Action::Claim { max: self.free_slots(), only: self.submitted.iter().cloned().collect() });
    }

    /// Starts what a claim took.
    fn start_claimed(&mut self, claim: Result<Vec<ClaimedRun>, StoreError>) {
        match claim {
            Ok(claimed) => {
                for run in claimed {
                    self.start(run);
                }
            }
            Err(e) => self.store_failed("could not claim work", &e),
        }
    }

    fn start(&mut self, run: ClaimedRun) {
        let execution = &run.transition.execution;
        let Some(lease) = AttemptLease::of(execution) else {
            tracing::error!("execution {} was claimed but is {}; not started", execution.id, execution.status());
            return;
        };
        let id = execution.id.clone();
        if self.running.contains_key(&id) {
            // An earlier attempt of ours lost its lease and we claimed the execution again
            // before noticing: that one is stopped and dropped.
            self.stop(&id, StopReason::LeaseLost);
        }
        // Claimed while shutting down (a waiting claim answered late): it starts stopped (its
        // token is a child of the fired dispatcher-wide one) and is requeued.
        let stop = (self.phase != Phase::Open).then_some(StopReason::Shutdown);
        let ran = Ran { attempt: execution.attempt, max_attempts: execution.max_attempts, stop };
        self.running.insert(id, Running { ran, lease_token: lease.token.unwrap_or_default() });
        self.out.push(Action::Start(Box::new(run), lease));
    }

    /// Settles ended attempts and refills their slots. The settlements and the claim for the
    /// freed slots go out together, so they share one group commit: with scope `All` the waiting
    /// claim's slot count is raised first (or a new one is left), and the store tries it in the
    /// settlements' transaction; otherwise the claim follows the settlements (writes from the
    /// shell are applied in the order given).
    fn on_ended(&mut self, ended: Vec<Ended>, now: Millis) {
        let settlements: Vec<(ExecutionId, Settlement)> = ended.into_iter().filter_map(|done| self.settlement(done, now)).collect();
        self.want_claim();
        for (id, settlement) in settlements {
            self.settling += 1;
            self.out.push(Action::Settle(id, settlement));
        }
        self.issue_claim();
    }

    /// How an ended attempt is settled (it leaves `running`); `None` when nothing is written:
    /// an attempt replaced by a later claim of the same execution, or one that lost its lease.
    fn settlement(&mut self, done: Ended, now: Millis) -> Option<(ExecutionId, Settlement)> {
        let id = done.id;
        if self.running.get(&id).is_some_and(|run| run.lease_token != done.lease_token) {
            tracing::warn!("execution {id}: an attempt that had lost its lease ended; dropped");
            return None;
        }
        let mut ran = self.running.remove(&id)?.ran;
        if done.lease_lost {
            ran.stop = Some(StopReason::LeaseLost);
        }
        let Some(settlement) = settle(ran, done.end, &self.backoff, &mut self.rng, now) else {
            tracing::warn!("execution {id} was taken over by another worker; dropped its attempt");
            return None;
        };
        Some((id, settlement))
    }

    /// Takes a settlement's answer: a committed one is done; one the store did not take is kept to
    /// write again at the next heartbeat (unless the scheduler halted).
    fn settled(&mut self, answer: SettleAnswer) {
        let SettleAnswer { id, settlement, result } = answer;
        if matches!(settlement, Settlement::Retry { .. }) {
            self.retry_stale = true;
        }
        match result {
            Ok(state) => {
                if state.is_terminal() {
                    self.submitted.remove(&id);
                }
            }
            Err(e) if e.is_rejection() => tracing::warn!("could not settle execution {id}: {e}"),
            Err(e) => {
                self.store_failed(&format!("could not settle execution {id}"), &e);
                if !self.halted {
                    self.unsettled.push((id, settlement));
                }
            }
        }
    }

    /// The heartbeat, step 1: renew the leases (learning of cancels requested by other processes)
    /// while this worker may own executions. Other processes may have scheduled retries: the
    /// next one is looked up again.
    fn on_heartbeat(&mut self, now: Millis) {
        self.beat = now;
        self.retry_stale = true;
        if self.scope != ClaimScope::None || !self.running.is_empty() {
            self.out.push(Action::RenewLeases { now });
        } else {
            self.out.push(Action::ReadQueueSettings);
        }
    }

    /// Step 2: stop what was cancelled elsewhere or is no longer ours; read the queue settings.
    fn on_renewal(&mut self, renewal: Result<LeaseRenewal, StoreError>) {
        match renewal {
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
        self.out.push(Action::ReadQueueSettings);
    }

    /// Step 3: take settings changed by other processes (announced); recover executions of dead
    /// or expired owners while claiming.
    fn on_settings_read(&mut self, settings: Result<QueueSettings, StoreError>) {
        match settings {
            Ok(settings) if settings != self.settings => {
                self.settings = settings;
                self.out.push(Action::AnnounceQueue(settings));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("could not read the queue settings: {e}"),
        }
        if self.scope != ClaimScope::None && self.phase == Phase::Open {
            self.out.push(Action::Recover { now: self.beat });
        } else {
            self.retry_unsettled();
        }
    }

    /// Step 4: write again the settlements the store did not take.
    fn retry_unsettled(&mut self) {
        if self.unsettled.is_empty() {
            self.forget_finished();
        } else {
            self.out.push(Action::SettleNow(std::mem::take(&mut self.unsettled)));
        }
    }

    /// Step 5 (scope `Submitted`): forget the submitted executions that finished (maybe in
    /// another process); then step 6: fill the free slots (also with work other processes
    /// submitted).
    fn forget_finished(&mut self) {
        if self.scope == ClaimScope::Submitted && !self.submitted.is_empty() {
            self.out.push(Action::CheckSubmitted(self.submitted.iter().cloned().collect()));
        } else {
            self.dispatch(false);
        }
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
