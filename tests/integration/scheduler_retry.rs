//! Scheduler: retries, backoff, Retry-After, timeouts, resumable steps.

use crate::scheduler_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crew_runner::execution::{ErrorKind, EventKind, ExecutionEvent, ExecutionState, Priority, Status};
use crew_runner::scheduler::Scheduler;
use crew_runner::store::Store;
use scheduler_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_errors_are_retried_until_success() {
    let (_dir, store) = temp_store();
    let exec = Arc::new(FailsNTimes { n: 2, retry_after_ms: None });
    let scheduler = Scheduler::start(store.clone(), exec, fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("flaky", Priority::Normal)).await.unwrap().id;
    let done = wait(&scheduler, &id).await;
    assert!(matches!(&done.state, ExecutionState::Succeeded { output, .. } if output == "finally"));
    assert_eq!(done.attempt, 3);
    let kinds: Vec<_> = done.attempt_errors.iter().map(|a| (a.attempt, a.error.kind)).collect();
    assert_eq!(kinds, [(1, ErrorKind::LlmServer), (2, ErrorKind::LlmServer)]);
    let logs = store.logs(&id, 0, 0).unwrap();
    let retries = logs.iter().filter(|l| l.event.kind == EventKind::RetryScheduled).count();
    assert_eq!(retries, 2);
    assert_eq!(logs.last().unwrap().event.kind, EventKind::Succeeded);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_errors_fail_once_attempts_run_out() {
    let (_dir, store) = temp_store();
    let scheduler = Scheduler::start(store.clone(), Arc::new(FailsNTimes { n: 10, retry_after_ms: None }), fast_config(1)).await.unwrap();
    let mut new = job("hopeless", Priority::Normal);
    new.max_attempts = 2;
    let id = scheduler.submit(new).await.unwrap().id;
    let done = wait(&scheduler, &id).await;
    assert!(matches!(&done.state, ExecutionState::Failed { error, .. } if error.kind == ErrorKind::LlmServer));
    assert_eq!((done.attempt, done.attempt_errors.len()), (2, 2));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_that_are_not_retryable_fail_at_once() {
    let (_dir, store) = temp_store();
    let scheduler = Scheduler::start(store.clone(), Arc::new(FailsPermanently), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("bad-key", Priority::Normal)).await.unwrap().id;
    let done = wait(&scheduler, &id).await;
    assert!(matches!(&done.state, ExecutionState::Failed { error, .. } if error.kind == ErrorKind::LlmClient && !error.retryable));
    assert_eq!((done.attempt, done.attempt_errors.len()), (1, 1));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_sets_the_earliest_next_run() {
    let (_dir, store) = temp_store();
    let exec = Arc::new(FailsNTimes { n: 1, retry_after_ms: Some(60_000) });
    let scheduler = Scheduler::start(store.clone(), exec, fast_config(1)).await.unwrap();
    let mut events = scheduler.subscribe();
    let id = scheduler.submit(job("rate-limited", Priority::Normal)).await.unwrap().id;
    let attempt_started = next_event(&mut events, |e| match e {
        ExecutionEvent::State { id: i, state: ExecutionState::Running { started_at, .. }, .. } if *i == id => Some(*started_at),
        _ => None,
    })
    .await;
    let next_run_at = next_event(&mut events, |e| match e {
        ExecutionEvent::State { id: i, state: ExecutionState::Retrying { next_run_at, .. }, .. } if *i == id => Some(*next_run_at),
        _ => None,
    })
    .await;
    let logs = store.logs(&id, 0, 0).unwrap();
    let scheduled = logs.iter().find(|l| l.event.kind == EventKind::RetryScheduled).unwrap();
    assert!(next_run_at >= attempt_started + 60_000, "Retry-After honoured");
    assert!(next_run_at <= scheduled.at + 60_000, "no more than Retry-After (the backoff is shorter)");
    assert_eq!(store.get(&id).unwrap().unwrap().status(), Status::Retrying);
    scheduler.cancel(&id).await.unwrap();
    assert!(matches!(wait(&scheduler, &id).await.state, ExecutionState::Cancelled { was_running: false, .. }));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_fails_without_retry_and_drops_the_attempt() {
    let (_dir, store) = temp_store();
    let (exec, _started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let mut new = job("slow", Priority::Normal);
    new.timeout_ms = Some(30);
    let id = scheduler.submit(new).await.unwrap().id;
    let done = wait(&scheduler, &id).await;
    assert!(matches!(&done.state, ExecutionState::Failed { error, .. } if error.kind == ErrorKind::Timeout && !error.retryable));
    assert_eq!(done.attempt, 1, "timeouts are not retried");
    assert!(exec.dropped.load(Ordering::SeqCst));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_steps_are_passed_to_the_next_attempt() {
    let (_dir, store) = temp_store();
    let exec = Arc::new(SavesStepsThenFails::default());
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let mut events = scheduler.subscribe();
    let id = scheduler.submit(job("resumable", Priority::Normal)).await.unwrap().id;
    let done = wait(&scheduler, &id).await;
    assert_eq!(done.status(), Status::Succeeded);
    assert_eq!(*exec.given.lock().unwrap(), vec![vec![], vec!["research".to_string()]]);
    assert_eq!(done.progress.completed_steps, 1);

    // Journal lines are stored with gap-free seqs and broadcast after commit.
    let logs = store.logs(&id, 0, 0).unwrap();
    assert_eq!(logs.iter().map(|l| l.seq).collect::<Vec<_>>(), (1..=logs.len() as u64).collect::<Vec<_>>());
    let completed = logs.iter().find(|l| l.event.kind == EventKind::TaskCompleted).unwrap();
    assert_eq!(completed.attempt, 1);
    let progress = next_event(&mut events, |e| match e {
        ExecutionEvent::Progress { id: i, progress } if *i == id => Some(progress.clone()),
        _ => None,
    })
    .await;
    assert_eq!((progress.completed_steps, progress.total_steps), (1, 2));
    let broadcast = next_event(&mut events, |e| match e {
        ExecutionEvent::Log { entry } if entry.event.kind == EventKind::TaskCompleted => Some(entry.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&broadcast, completed);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_claimed_again_in_its_own_transaction_is_published_in_order() {
    let (_dir, store) = temp_store();
    // No backoff: the retrying row is due at once, and the waiting claim (a slot was already free
    // with concurrency 2) takes it again in the very transaction that schedules the retry.
    let mut config = fast_config(2);
    config.backoff = crew_runner::scheduler::Backoff { base: std::time::Duration::ZERO, factor: 2, cap: std::time::Duration::ZERO };
    let scheduler = Scheduler::start(store.clone(), Arc::new(FailsNTimes { n: 1, retry_after_ms: None }), config).await.unwrap();
    let mut events = scheduler.subscribe();
    let id = scheduler.submit(job("flaky", Priority::Normal)).await.unwrap().id;
    let mut seen = Vec::new();
    loop {
        let (status, attempt) = next_event(&mut events, |e| match e {
            ExecutionEvent::State { id: i, state, attempt, .. } if *i == id => Some((state.status(), *attempt)),
            _ => None,
        })
        .await;
        seen.push((status, attempt));
        if status.is_terminal() {
            break;
        }
    }
    assert_eq!(seen, [(Status::Queued, 0), (Status::Running, 1), (Status::Retrying, 1), (Status::Running, 2), (Status::Succeeded, 2)]);
    scheduler.shutdown().await.unwrap();
}
