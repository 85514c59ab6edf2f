//! Scheduler: cancellation (in-process and from another process), shutdown, recovery.

use crate::scheduler_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crew_runner::execution::{now_ms, ErrorKind, EventKind, ExecutionState, Priority, Status};
use crew_runner::scheduler::{CancelOutcome, Scheduler};
use crew_runner::store::{ClaimFilter, ClaimRequest, SqliteStore, Store};
use scheduler_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_queued_execution_is_immediate() {
    let (_dir, store) = temp_store();
    store.set_paused(true).await.unwrap();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("never", Priority::Normal)).await.unwrap().id;
    assert_eq!(scheduler.cancel(&id).await.unwrap(), CancelOutcome::Cancelled);
    let e = store.get(&id).unwrap().unwrap();
    assert!(matches!(e.state, ExecutionState::Cancelled { was_running: false, .. }));
    assert_eq!(e.attempt, 0);
    assert_eq!(scheduler.cancel(&id).await.unwrap(), CancelOutcome::AlreadyFinished(Status::Cancelled));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_execution_drops_its_future() {
    let (_dir, store) = temp_store();
    let (exec, mut started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("long", Priority::Normal)).await.unwrap().id;
    assert_eq!(tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap(), id);
    assert!(!exec.dropped.load(Ordering::SeqCst));
    assert_eq!(scheduler.cancel(&id).await.unwrap(), CancelOutcome::Requested);
    let done = wait(&scheduler, &id).await;
    assert!(matches!(done.state, ExecutionState::Cancelled { was_running: true, .. }));
    assert!(exec.dropped.load(Ordering::SeqCst), "the executor's future was dropped");
    let kinds: Vec<_> = store.logs(&id, 0, 0).unwrap().into_iter().map(|l| l.event.kind).collect();
    assert_eq!(kinds, [EventKind::Submitted, EventKind::Started, EventKind::CancelRequested, EventKind::Cancelled]);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_another_process_is_picked_up_at_the_heartbeat() {
    let (dir, store) = temp_store();
    let other = SqliteStore::open(dir.path().join("crew.db")).unwrap();
    let (exec, mut started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("long", Priority::Normal)).await.unwrap().id;
    tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap();
    let result = other.request_cancel(&id).await.unwrap();
    assert_eq!(result.outcome, CancelOutcome::Requested);
    let done = wait(&scheduler, &id).await;
    assert!(matches!(done.state, ExecutionState::Cancelled { was_running: true, .. }));
    assert!(exec.dropped.load(Ordering::SeqCst));
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_requeues_running_work_with_the_attempt_refunded() {
    let (_dir, store) = temp_store();
    let (exec, mut started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(2)).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(scheduler.submit(job(&format!("job-{i}"), Priority::Normal)).await.unwrap().id);
    }
    for _ in 0..2 {
        tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap();
    }
    scheduler.shutdown().await.unwrap();
    assert_eq!(exec.drops.load(Ordering::SeqCst), 2, "both running futures were dropped");
    let counts = store.counts().unwrap();
    assert_eq!((counts.running, counts.queued), (0, 3));
    let interrupted: Vec<_> =
        ids.iter().filter(|id| store.logs(id, 0, 0).unwrap().iter().any(|l| l.event.kind == EventKind::Interrupted)).collect();
    assert_eq!(interrupted.len(), 2);
    for id in &ids {
        assert_eq!(store.get(id).unwrap().unwrap().attempt, 0, "attempts refunded");
    }
    assert!(matches!(scheduler.submit(job("late", Priority::Normal)).await, Err(crew_runner::scheduler::SchedulerError::Stopped)));
    scheduler.shutdown().await.unwrap();

    // Another worker picks the requeued work up.
    let next = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(3)).await.unwrap();
    for id in &ids {
        let done = wait(&next, id).await;
        assert_eq!((done.status(), done.attempt), (Status::Succeeded, 1));
    }
    next.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_of_another_worker_is_recovered_and_run() {
    let (_dir, store) = temp_store();
    let id = store.insert(job("orphan", Priority::Normal)).await.unwrap().execution.id;
    let long_ago = now_ms() - 3_600_000;
    let claim = ClaimRequest { owner: "gone-host:4242:abc".into(), now: long_ago, lease_ms: 10_000, max: 1, filter: ClaimFilter::All };
    assert_eq!(store.claim(claim).await.unwrap().len(), 1);

    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(1)).await.unwrap();
    let done = wait(&scheduler, &id).await;
    // The abandoned attempt is refunded: the one that ran is attempt 1 again.
    assert_eq!((done.status(), done.attempt, done.abandons), (Status::Succeeded, 1, 1));
    assert_eq!(done.attempt_errors[0].error.kind, ErrorKind::Abandoned);
    let kinds: Vec<_> = store.logs(&id, 0, 0).unwrap().into_iter().map(|l| l.event.kind).collect();
    assert_eq!(kinds, [EventKind::Submitted, EventKind::Started, EventKind::Recovered, EventKind::Started, EventKind::Succeeded]);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_also_requeues() {
    let (_dir, store) = temp_store();
    let (exec, mut started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("orphaned", Priority::Normal)).await.unwrap().id;
    tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap();
    let mut events = scheduler.subscribe();
    drop(scheduler);
    next_event(&mut events, |e| match e {
        crew_runner::execution::ExecutionEvent::State { id: i, state: ExecutionState::Queued, .. } if *i == id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(store.get(&id).unwrap().unwrap().status(), Status::Queued);
    assert!(exec.dropped.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_worker_keeps_its_execution_and_a_lost_lease_drops_the_attempt_without_writing() {
    let (dir, store) = temp_store();
    let other = SqliteStore::open(dir.path().join("crew.db")).unwrap();
    let (exec, mut started) = WaitsForCancel::new();
    let scheduler = Scheduler::start(store.clone(), exec.clone(), fast_config(1)).await.unwrap();
    let id = scheduler.submit(job("contested", Priority::Normal)).await.unwrap().id;
    tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap();
    // Another process believes our lease expired (its clock is far ahead): our owner lock says
    // we are alive, so it takes nothing.
    let request = crew_runner::store::RecoverRequest { now: now_ms() + 3_600_000, exclude_owner: None };
    assert_eq!(other.recover(request).await.unwrap().len(), 0);
    // Taken over all the same (as by a worker that found our lease expired with no lock to ask):
    // our heartbeat notices and drops the attempt, writing nothing for it.
    let db = rusqlite::Connection::open(dir.path().join("crew.db")).unwrap();
    db.execute("UPDATE executions SET owner = 'other:9:feedfeedfeedfeed', lease_token = 7 WHERE id = ?1", [id.as_str()]).unwrap();
    drop(db);
    tokio::time::timeout(PATIENCE, async {
        while exec.drops.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the first attempt's future was dropped");
    let kinds: Vec<_> = store.logs(&id, 0, 0).unwrap().into_iter().map(|l| l.event.kind).collect();
    assert_eq!(kinds, [EventKind::Submitted, EventKind::Started]);
    scheduler.shutdown().await.unwrap();
    let e = store.get(&id).unwrap().unwrap();
    assert!(matches!(&e.state, ExecutionState::Running { owner, .. } if owner == "other:9:feedfeedfeedfeed"), "{:?}", e.state);
}

#[tokio::test]
async fn a_cancel_that_races_a_failing_attempt_wins_over_the_retry() {
    let (_dir, store) = temp_store();
    let id = store.insert(job("racing", Priority::Normal)).await.unwrap().execution.id;
    let owner = "host:1:n";
    let claim = ClaimRequest { owner: owner.into(), now: now_ms(), lease_ms: 10_000, max: 1, filter: ClaimFilter::All };
    store.claim(claim).await.unwrap();
    store.request_cancel(&id).await.unwrap();
    let error = crew_runner::execution::ExecutionError::new(ErrorKind::LlmServer, "502");
    let t = store.schedule_retry(&id, owner, error, now_ms() + 1_000).await.unwrap();
    assert!(matches!(t.execution.state, ExecutionState::Cancelled { was_running: true, .. }));
    assert_eq!(t.execution.attempt_errors.len(), 1, "the attempt's error is still kept");
}

/// Fencing (issue 14): an attempt whose execution was taken over writes nothing more and stops
/// at once — its refused step write fires its token, its future is dropped (no further model
/// call), and nothing is settled for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_execution_was_taken_over_is_refused_and_stopped() {
    let (dir, store) = temp_store();
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let (dropped_tx, mut dropped) = tokio::sync::mpsc::unbounded_channel();
    let go = Arc::new(tokio::sync::Notify::new());
    let later_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let executor = Arc::new(WritesAfterGo { go: go.clone(), later_calls: later_calls.clone(), started: started_tx, dropped: dropped_tx });
    // The default 1 s heartbeat: the refused write, not the next lease renewal, is what stops it.
    let config = crew_runner::scheduler::SchedulerConfig { heartbeat: crew_runner::scheduler::MAX_HEARTBEAT, ..fast_config(1) };
    let scheduler = Scheduler::start(store_dyn(&store), executor, config).await.unwrap();
    let id = scheduler.submit(job("fenced", Priority::Normal)).await.unwrap().id;
    assert_eq!(recv(&mut started).await, id);

    // Another worker took the execution over (as after an expired lease): a new owner and token.
    let db = rusqlite::Connection::open(dir.path().join("crew.db")).unwrap();
    db.execute("UPDATE executions SET owner = 'other:9:feedfeedfeedfeed', lease_token = 12345 WHERE id = ?1", [id.as_str()]).unwrap();
    drop(db);
    go.notify_one();

    assert_eq!(recv(&mut dropped).await, id, "the stale attempt was stopped");
    assert_eq!(later_calls.load(Ordering::SeqCst), 0, "no model call after the refused write");
    assert!(store.steps(&id).unwrap().is_empty(), "the stale step was not stored");
    let e = store.get(&id).unwrap().unwrap();
    assert!(matches!(&e.state, ExecutionState::Running { owner, .. } if owner == "other:9:feedfeedfeedfeed"), "{:?}", e.state);
    let kinds: Vec<EventKind> = store.logs(&id, 0, 0).unwrap().iter().map(|l| l.event.kind).collect();
    assert!(!kinds.contains(&EventKind::TaskCompleted), "{kinds:?}");
    scheduler.shutdown().await.unwrap();
    // Shutting down requeued nothing of the other owner's.
    assert!(matches!(store.get(&id).unwrap().unwrap().state, ExecutionState::Running { .. }));
}
