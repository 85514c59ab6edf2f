//! The dispatcher's decisions, event by event: no store, no runtime, no sleeps.

use std::path::{Path, PathBuf};

use rand::SeedableRng;

use super::super::super::attempt::AttemptEnd;
use super::super::events::*;
use super::*;
use crate::engine::test_support;
use crate::execution::{AttemptOutput, ErrorKind, EventKind, ExecutionError, ExecutionState, LogEntry, LogEvent, RunOutput, Usage};
use crate::store::{Finish, Transition};

const NOW: Millis = 1_000_000;

fn state(scope: ClaimScope, concurrency: u32) -> State {
    let backoff = Backoff { base: Duration::from_millis(100), factor: 2, cap: Duration::from_secs(1) };
    State::new(scope, backoff, QueueSettings { paused: false, concurrency }, StdRng::seed_from_u64(7))
}

fn id(s: &str) -> ExecutionId {
    ExecutionId::from(s)
}

/// What a claim of attempt `attempt` (of `max_attempts`) of `name` under `lease_token` returns.
fn claimed(name: &str, attempt: u32, max_attempts: u32, lease_token: i64) -> ClaimedRun {
    let spec = test_support::crew(vec![], vec![], Path::new("."));
    let mut execution = test_support::execution(&spec, attempt);
    execution.id = id(name);
    execution.max_attempts = max_attempts;
    execution.state =
        ExecutionState::Running { owner: "me".into(), lease_expires_at: NOW + 10_000, started_at: NOW, lease_token, owner_gone: false };
    let log =
        LogEntry { execution_id: execution.id.clone(), attempt, seq: 1, at: NOW, event: LogEvent::info(EventKind::Started, "started") };
    ClaimedRun { transition: Transition { execution, log }, completed_steps: vec![], reviews: vec![] }
}

fn ended(name: &str, lease_token: i64, end: AttemptEnd) -> Event {
    Event::AttemptsEnded { ended: vec![Ended { id: id(name), lease_token, end, lease_lost: false }], now: NOW }
}

fn succeeded() -> AttemptEnd {
    AttemptEnd::Finished(Ok(AttemptOutput::Finished(RunOutput { output: "done".into(), usage: Usage::default() })))
}

fn failed(error: ExecutionError) -> AttemptEnd {
    AttemptEnd::Finished(Err(error))
}

fn done() -> ExecutionState {
    ExecutionState::Succeeded { output: "done".into(), finished_at: NOW }
}

fn locked() -> StoreError {
    StoreError::Locked { path: PathBuf::from("db") }
}

fn disk_full() -> StoreError {
    StoreError::DiskFull { path: PathBuf::from("db"), detail: "no space".into() }
}

/// The settlements among `actions`.
fn settlements(actions: &[Action]) -> Vec<(ExecutionId, Settlement)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Settle(id, settlement) => Some((id.clone(), settlement.clone())),
            _ => None,
        })
        .collect()
}

/// The one settlement among `actions`.
fn settlement(actions: &[Action]) -> Settlement {
    let all = settlements(actions);
    assert_eq!(all.len(), 1, "{actions:?}");
    all[0].1.clone()
}

fn started(actions: &[Action]) -> Vec<(ExecutionId, i64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Start(run, lease) => Some((run.transition.execution.id.clone(), lease.token.unwrap_or_default())),
            _ => None,
        })
        .collect()
}

/// Runs a heartbeat that finds nothing new, answering each store request; the actions after the
/// last answer (the claim for the free slots).
fn quiet_heartbeat(state: &mut State, renewal: LeaseRenewal) -> Vec<Action> {
    let settings = state.settings;
    assert_eq!(state.handle(Event::Heartbeat { now: NOW }), [Action::RenewLeases { now: NOW }]);
    assert_eq!(state.handle(Event::LeasesRenewed(Ok(renewal))).last(), Some(&Action::ReadQueueSettings));
    assert_eq!(state.handle(Event::QueueSettingsRead(Ok(settings))), [Action::Recover { now: NOW }]);
    state.handle(Event::Recovered(Ok(())))
}

/// A scope-`All` state whose waiting claim took `runs` (the first heartbeat left the claim).
fn running(concurrency: u32, runs: Vec<ClaimedRun>) -> State {
    let mut state = state(ClaimScope::All, concurrency);
    quiet_heartbeat(&mut state, LeaseRenewal::default());
    state.handle(Event::Claimed { waiting: true, result: Ok(runs) });
    state
}

#[test]
fn the_first_heartbeat_renews_reads_recovers_and_leaves_a_waiting_claim_for_every_slot() {
    let mut state = state(ClaimScope::All, 3);
    assert!(state.retry_lookup_due(), "the next retry is looked up before the first turn");
    assert_eq!(quiet_heartbeat(&mut state, LeaseRenewal::default()), [Action::WaitForClaim { slots: 3 }]);
    // A submission is claimed by the waiting claim in its own transaction: nothing to do.
    assert_eq!(state.handle(Event::Commands(vec![Request::Submitted(id("a"))])), []);
}

#[test]
fn a_submit_only_client_renews_nothing_recovers_nothing_and_claims_nothing() {
    let mut state = state(ClaimScope::None, 2);
    assert_eq!(state.handle(Event::Heartbeat { now: NOW }), [Action::ReadQueueSettings]);
    assert_eq!(state.handle(Event::QueueSettingsRead(Ok(QueueSettings { paused: false, concurrency: 2 }))), []);
    assert_eq!(state.handle(Event::Commands(vec![Request::Submitted(id("a"))])), []);
}

#[test]
fn a_claim_starts_its_runs_and_leaves_a_new_waiting_claim_for_the_slots_left() {
    let mut state = state(ClaimScope::All, 3);
    quiet_heartbeat(&mut state, LeaseRenewal::default());
    let actions = state.handle(Event::Claimed { waiting: true, result: Ok(vec![claimed("a", 1, 3, 11)]) });
    assert_eq!(started(&actions), [(id("a"), 11)]);
    assert_eq!(actions.last(), Some(&Action::WaitForClaim { slots: 2 }));
    // Full: no new waiting claim until a slot frees up.
    let actions = state.handle(Event::Claimed { waiting: true, result: Ok(vec![claimed("b", 1, 3, 12), claimed("c", 1, 3, 13)]) });
    assert_eq!(started(&actions).len(), 2);
    assert!(!actions.iter().any(|a| matches!(a, Action::WaitForClaim { .. })), "{actions:?}");
}

#[test]
fn a_finished_attempt_gives_its_slot_to_the_waiting_claim_before_its_settlement_is_written() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11), claimed("b", 1, 3, 12)]);
    let actions = state.handle(ended("a", 11, succeeded()));
    // The claim is tried in the settlement's transaction: its slot count goes first.
    assert_eq!(
        actions,
        [
            Action::WaitForClaim { slots: 1 },
            Action::Settle(id("a"), Settlement::Finish(Finish::Succeeded { output: "done".into(), usage: Usage::default() })),
        ]
    );
    let actions = state.handle(ended("b", 12, succeeded()));
    assert_eq!(actions[0], Action::SetClaimSlots(2));
}

#[test]
fn a_retryable_error_with_attempts_left_is_retried_after_the_backoff_or_the_retry_after() {
    let mut state = running(2, vec![claimed("a", 2, 3, 11), claimed("b", 1, 3, 12)]);
    let error = ExecutionError::new(ErrorKind::LlmServer, "502");
    let Settlement::Retry { next_run_at, .. } = settlement(&state.handle(ended("a", 11, failed(error)))) else { panic!("not retried") };
    // Attempt 2: full jitter up to base × 2.
    assert!((NOW..=NOW + 200).contains(&next_run_at), "{next_run_at}");
    let slow = ExecutionError::new(ErrorKind::LlmRateLimited, "429").with_retry_after_ms(5_000);
    let Settlement::Retry { next_run_at, error } = settlement(&state.handle(ended("b", 12, failed(slow.clone())))) else {
        panic!("not retried")
    };
    assert_eq!(next_run_at, NOW + 5_000, "Retry-After is longer than any backoff here");
    assert_eq!(error, slow, "the error is kept");
}

#[test]
fn the_last_attempt_and_an_error_that_is_not_retryable_fail() {
    let mut state = running(2, vec![claimed("a", 3, 3, 11), claimed("b", 1, 3, 12)]);
    let last = ExecutionError::new(ErrorKind::LlmServer, "502");
    assert_eq!(
        settlement(&state.handle(ended("a", 11, failed(last.clone())))),
        Settlement::Finish(Finish::Failed { error: last, usage: None })
    );
    let permanent = ExecutionError::new(ErrorKind::Internal, "bug");
    assert!(!permanent.retryable);
    let actions = state.handle(ended("b", 12, failed(permanent.clone())));
    assert_eq!(settlement(&actions), Settlement::Finish(Finish::Failed { error: permanent, usage: None }));
}

#[test]
fn a_timeout_and_a_panic_fail_without_a_retry() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11), claimed("b", 1, 3, 12)]);
    let Settlement::Finish(Finish::Failed { error, .. }) = settlement(&state.handle(ended("a", 11, AttemptEnd::TimedOut(50)))) else {
        panic!("not failed")
    };
    assert_eq!((error.kind, error.retryable), (ErrorKind::Timeout, false));
    assert_eq!(error.details, serde_json::json!({ "timeout_ms": 50 }));
    let actions = state.handle(ended("b", 12, AttemptEnd::Panicked("boom".into())));
    let Settlement::Finish(Finish::Failed { error, .. }) = settlement(&actions) else { panic!("not failed") };
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Internal, "the executor panicked: boom"));
}

#[test]
fn a_cancel_stops_a_running_attempt_which_then_ends_cancelled() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    assert_eq!(state.handle(Event::Commands(vec![Request::Cancel(id("a"))])), [Action::Stop { id: id("a"), lease_token: 11 }]);
    let actions = state.handle(ended("a", 11, AttemptEnd::Stopped));
    assert_eq!(settlement(&actions), Settlement::Finish(Finish::Cancelled));
}

#[test]
fn a_cancel_of_an_execution_not_running_here_or_already_settling_does_nothing() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    // Queued or retrying: the store cancelled it already; running elsewhere: its owner stops it.
    assert_eq!(state.handle(Event::Commands(vec![Request::Cancel(id("queued"))])), []);
    // Ended, its settlement in flight: the write decides (the store honours the request).
    state.handle(ended("a", 11, succeeded()));
    assert_eq!(state.handle(Event::Commands(vec![Request::Cancel(id("a"))])), []);
}

#[test]
fn an_answer_returned_before_the_cancel_took_effect_is_kept() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    state.handle(Event::Commands(vec![Request::Cancel(id("a"))]));
    assert!(matches!(settlement(&state.handle(ended("a", 11, succeeded()))), Settlement::Finish(Finish::Succeeded { .. })));
}

#[test]
fn the_first_reason_to_stop_wins() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    state.handle(Event::Commands(vec![Request::Cancel(id("a"))]));
    state.handle(Event::Commands(vec![Request::Shutdown]));
    assert_eq!(settlement(&state.handle(ended("a", 11, AttemptEnd::Stopped))), Settlement::Finish(Finish::Cancelled));
}

#[test]
fn shutdown_stops_all_withdraws_the_claim_requeues_and_finishes_once_nothing_is_in_flight() {
    let mut state = running(3, vec![claimed("a", 1, 3, 11)]);
    assert_eq!(
        state.handle(Event::Commands(vec![Request::Shutdown])),
        [Action::StopAll, Action::SetClaimSlots(0), Action::Nudge],
        "every attempt stops; the waiting claim is withdrawn and looked at now"
    );
    assert!(state.finish().is_none(), "a runs and the claim has not answered");
    assert_eq!(settlement(&state.handle(ended("a", 11, AttemptEnd::Stopped))), Settlement::Requeue);
    // The withdrawn claim had taken b before it saw 0 slots: b starts stopped and is requeued.
    let actions = state.handle(Event::Claimed { waiting: true, result: Ok(vec![claimed("b", 1, 3, 12)]) });
    assert_eq!(started(&actions), [(id("b"), 12)]);
    assert_eq!(actions.len(), 1, "no new claim: {actions:?}");
    assert!(state.finish().is_none(), "b runs");
    assert_eq!(settlement(&state.handle(ended("b", 12, AttemptEnd::Stopped))), Settlement::Requeue);
    assert!(state.finish().is_none(), "two settlements are in flight");
    for name in ["a", "b"] {
        let answer = SettleAnswer { id: id(name), settlement: Settlement::Requeue, result: Ok(ExecutionState::Queued) };
        assert_eq!(state.handle(Event::Settled(Box::new(answer))), []);
    }
    assert_eq!(state.finish(), Some(vec![Action::CloseCommands, Action::Flush]));
    assert_eq!(state.finish(), None, "once");
    assert_eq!(state.handle(Event::Flushed { ok: false }), [Action::ReplyShutdown { ok: false }]);
}

#[test]
fn shutdown_with_nothing_running_finishes_at_once_and_claims_nothing_more() {
    let mut state = state(ClaimScope::All, 2);
    assert_eq!(state.handle(Event::HandlesGone), [Action::StopAll]);
    assert_eq!(state.retry_timer(), None);
    assert_eq!(state.handle(Event::RetryDue), []);
    assert_eq!(state.finish(), Some(vec![Action::CloseCommands, Action::Flush]));
}

#[test]
fn an_attempt_replaced_by_a_later_claim_is_stopped_and_its_end_ignored() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    // a lost its lease, was recovered elsewhere and claimed by us again before we noticed.
    let actions = state.handle(Event::Claimed { waiting: true, result: Ok(vec![claimed("a", 1, 3, 21)]) });
    assert_eq!(actions[0], Action::Stop { id: id("a"), lease_token: 11 });
    assert_eq!(started(&actions), [(id("a"), 21)]);
    let actions = state.handle(ended("a", 11, AttemptEnd::Stopped));
    assert!(settlements(&actions).is_empty(), "the stale attempt writes nothing: {actions:?}");
    assert!(matches!(settlement(&state.handle(ended("a", 21, succeeded()))), Settlement::Finish(Finish::Succeeded { .. })));
}

#[test]
fn an_attempt_whose_lease_was_lost_is_dropped_without_a_write_and_frees_its_slot() {
    let mut state = running(1, vec![claimed("a", 1, 3, 11)]);
    let lost = Ended { id: id("a"), lease_token: 11, end: succeeded(), lease_lost: true };
    assert_eq!(state.handle(Event::AttemptsEnded { ended: vec![lost], now: NOW }), [Action::WaitForClaim { slots: 1 }]);
}

#[test]
fn the_heartbeat_stops_what_was_cancelled_elsewhere_or_taken_over() {
    let mut state = running(3, vec![claimed("a", 1, 3, 11), claimed("b", 1, 3, 12)]);
    state.handle(Event::Heartbeat { now: NOW });
    let renewal = LeaseRenewal { running: vec![id("a")], cancel_requested: vec![id("a")] };
    assert_eq!(
        state.handle(Event::LeasesRenewed(Ok(renewal))),
        [Action::Stop { id: id("a"), lease_token: 11 }, Action::Stop { id: id("b"), lease_token: 12 }, Action::ReadQueueSettings]
    );
    assert_eq!(settlement(&state.handle(ended("a", 11, AttemptEnd::Stopped))), Settlement::Finish(Finish::Cancelled));
    assert!(settlements(&state.handle(ended("b", 12, AttemptEnd::Stopped))).is_empty(), "b is another worker's now");
}

#[test]
fn settings_changed_by_another_process_are_taken_and_announced() {
    let mut state = running(2, vec![]);
    state.handle(Event::Heartbeat { now: NOW });
    state.handle(Event::LeasesRenewed(Ok(LeaseRenewal::default())));
    let paused = QueueSettings { paused: true, concurrency: 2 };
    assert_eq!(state.handle(Event::QueueSettingsRead(Ok(paused))), [Action::AnnounceQueue(paused), Action::Recover { now: NOW }]);
    // Paused: the waiting claim is withdrawn.
    assert_eq!(state.handle(Event::Recovered(Ok(()))), [Action::SetClaimSlots(0), Action::Nudge]);
}

#[test]
fn pause_resume_and_concurrency_set_the_waiting_claims_slots_and_nudge_it() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    let paused = QueueSettings { paused: true, concurrency: 2 };
    // Withdrawn (written at once so that it answers), then looked at: two empty writes.
    assert_eq!(state.handle(Event::Commands(vec![Request::Queue(paused)])), [Action::SetClaimSlots(0), Action::Nudge, Action::Nudge]);
    let wider = QueueSettings { paused: false, concurrency: 4 };
    assert_eq!(state.handle(Event::Commands(vec![Request::Queue(wider)])), [Action::SetClaimSlots(3), Action::Nudge]);
    // Lowering the concurrency lets a run on: no slot is free, nothing is stopped.
    let narrow = QueueSettings { paused: false, concurrency: 1 };
    assert_eq!(state.handle(Event::Commands(vec![Request::Queue(narrow)])), [Action::SetClaimSlots(0), Action::Nudge, Action::Nudge]);
}

#[test]
fn scope_submitted_claims_only_its_submissions_with_one_claim_a_burst_and_forgets_finished_ones() {
    let mut state = state(ClaimScope::Submitted, 2);
    let actions =
        state.handle(Event::Commands(vec![Request::Submitted(id("a")), Request::Submitted(id("b")), Request::Submitted(id("c"))]));
    let [Action::Claim { max: 2, only }] = actions.as_slice() else { panic!("{actions:?}") };
    let mut only = only.clone();
    only.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    assert_eq!(only, [id("a"), id("b"), id("c")]);
    let actions = state.handle(Event::Claimed { waiting: false, result: Ok(vec![claimed("a", 1, 1, 11)]) });
    assert_eq!(started(&actions), [(id("a"), 11)]);
    // a finished; the heartbeat asks which of the rest finished elsewhere (c was cancelled).
    let actions = state.handle(ended("a", 11, succeeded()));
    let answer = SettleAnswer { id: id("a"), settlement: settlements(&actions)[0].1.clone(), result: Ok(done()) };
    state.handle(Event::Settled(Box::new(answer)));
    let actions = quiet_heartbeat(&mut state, LeaseRenewal::default());
    let [Action::CheckSubmitted(asked)] = actions.as_slice() else { panic!("{actions:?}") };
    assert_eq!(asked.len(), 2, "a is forgotten once it settled: {asked:?}");
    assert_eq!(state.handle(Event::SubmittedFinished(vec![id("c")])), [Action::Claim { max: 2, only: vec![id("b")] }]);
}

#[test]
fn a_settlement_the_store_did_not_take_is_written_again_at_the_next_heartbeat() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    let actions = state.handle(ended("a", 11, succeeded()));
    let settlement = settlement(&actions);
    let answer = SettleAnswer { id: id("a"), settlement: settlement.clone(), result: Err(locked()) };
    assert_eq!(state.handle(Event::Settled(Box::new(answer))), [], "a held lock does not halt");
    assert_eq!(quiet_heartbeat(&mut state, LeaseRenewal::default()), [Action::SettleNow(vec![(id("a"), settlement.clone())])]);
    let answer = SettleAnswer { id: id("a"), settlement, result: Ok(done()) };
    assert_eq!(state.handle(Event::SettledNow(vec![answer])), [Action::SetClaimSlots(2)]);
}

#[test]
fn a_store_failure_that_retrying_cannot_fix_halts_once_and_is_not_written_again() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11), claimed("b", 1, 3, 12)]);
    let actions = state.handle(Event::AttemptsEnded {
        ended: vec![Ended { id: id("a"), lease_token: 11, end: succeeded(), lease_lost: false }],
        now: NOW,
    });
    let answer = SettleAnswer { id: id("a"), settlement: settlement(&actions), result: Err(disk_full()) };
    let actions = state.handle(Event::Settled(Box::new(answer)));
    assert_eq!(actions[0], Action::Halt(disk_full().to_string()));
    assert_eq!(actions[1], Action::StopAll);
    let again = state.handle(Event::Claimed { waiting: true, result: Err(disk_full()) });
    assert!(!again.iter().any(|a| matches!(a, Action::Halt(_))), "halted once: {again:?}");
    state.handle(ended("b", 12, AttemptEnd::Stopped));
    let answer = SettleAnswer { id: id("b"), settlement: Settlement::Requeue, result: Ok(ExecutionState::Queued) };
    state.handle(Event::Settled(Box::new(answer)));
    assert_eq!(state.finish(), Some(vec![Action::CloseCommands, Action::Flush]), "a's settlement is not tried again");
}

#[test]
fn a_rejected_settlement_is_dropped() {
    let mut state = running(2, vec![claimed("a", 1, 3, 11)]);
    let actions = state.handle(ended("a", 11, succeeded()));
    let rejected = StoreError::NotOwner { id: id("a"), owner: "me".into() };
    assert_eq!(
        state.handle(Event::Settled(Box::new(SettleAnswer { id: id("a"), settlement: settlement(&actions), result: Err(rejected) }))),
        []
    );
    assert_eq!(quiet_heartbeat(&mut state, LeaseRenewal::default()), [Action::SetClaimSlots(2)]);
}

#[test]
fn the_retry_timer_is_set_just_after_the_next_due_retry_while_a_slot_could_take_it() {
    let mut state = running(1, vec![]);
    let at = Instant::from_std(std::time::Instant::now());
    state.retry_found(Some(NOW + 500), NOW, at);
    assert!(!state.retry_lookup_due());
    assert_eq!(state.retry_timer(), Some(at + Duration::from_millis(501)));
    state.retry_found(Some(NOW - 5), NOW, at);
    assert_eq!(state.retry_timer(), Some(at + Duration::from_millis(1)), "overdue: at once");
    // Full: the timer does not matter.
    state.handle(Event::Claimed { waiting: true, result: Ok(vec![claimed("a", 1, 3, 11)]) });
    assert_eq!(state.retry_timer(), None);
    // A retry settled here changes the next one: looked up again.
    let actions = state.handle(ended("a", 11, failed(ExecutionError::new(ErrorKind::LlmServer, "502"))));
    let answer = SettleAnswer { id: id("a"), settlement: settlement(&actions), result: Ok(ExecutionState::Queued) };
    state.handle(Event::Settled(Box::new(answer)));
    assert!(state.retry_lookup_due());
    // When it fires, the waiting claim is looked at again.
    assert_eq!(state.handle(Event::RetryDue), [Action::SetClaimSlots(1), Action::Nudge]);
}
