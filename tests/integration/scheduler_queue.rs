//! Scheduler: claim order, concurrency, pause/resume, claim scopes.

use crate::scheduler_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crew_runner::execution::{ExecutionEvent, ExecutionState, Priority, Status};
use crew_runner::scheduler::{ClaimScope, Scheduler};
use crew_runner::store::Store;
use scheduler_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_by_priority_then_fifo() {
    let (_dir, store) = temp_store();
    store.set_paused(true).await.unwrap();
    let noop = Arc::new(Noop::default());
    let scheduler = Scheduler::start(store.clone(), noop.clone(), fast_config(1)).await.unwrap();
    let mut ids = Vec::new();
    for (name, p) in [
        ("low", Priority::Low),
        ("normal-1", Priority::Normal),
        ("high", Priority::High),
        ("normal-2", Priority::Normal),
        ("urgent", Priority::Urgent),
        ("normal-3", Priority::Normal),
    ] {
        ids.push(scheduler.submit(job(name, p)).await.unwrap().id);
    }
    scheduler.resume().await.unwrap();
    for id in &ids {
        assert_eq!(wait(&scheduler, id).await.status(), Status::Succeeded);
    }
    assert_eq!(*noop.started.lock().unwrap(), ["urgent", "high", "normal-1", "normal-2", "normal-3", "low"]);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_runs_more_than_the_concurrency_limit() {
    let (_dir, store) = temp_store();
    store.set_paused(true).await.unwrap();
    let (gated, mut started) = Gated::new();
    let scheduler = Scheduler::start(store.clone(), gated.clone(), fast_config(2)).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(scheduler.submit(job(&format!("job-{i}"), Priority::Normal)).await.unwrap().id);
    }
    scheduler.resume().await.unwrap();
    // Two start before any may finish (in either order: each attempt's task calls the executor,
    // and on two runtime threads the second may report first); after that each finish lets
    // exactly one more start.
    let mut first_two = [recv(&mut started).await, recv(&mut started).await];
    first_two.sort();
    assert_eq!(first_two, [1, 2]);
    for _ in 2..7 {
        gated.permits.add_permits(1);
        let running_now = recv(&mut started).await;
        assert!(running_now <= 2, "{running_now} running at once");
    }
    gated.permits.add_permits(2);
    for id in &ids {
        assert_eq!(wait(&scheduler, id).await.status(), Status::Succeeded);
    }
    assert_eq!(gated.max_running.load(Ordering::SeqCst), 2, "the limit is used, never exceeded");
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowering_concurrency_at_run_time_takes_effect() {
    let (_dir, store) = temp_store();
    let (gated, mut started) = Gated::new();
    let scheduler = Scheduler::start(store.clone(), gated.clone(), fast_config(3)).await.unwrap();
    scheduler.set_concurrency(1).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(scheduler.submit(job(&format!("job-{i}"), Priority::Normal)).await.unwrap().id);
    }
    for _ in 0..4 {
        let running_now = tokio::time::timeout(PATIENCE, started.recv()).await.unwrap().unwrap();
        assert_eq!(running_now, 1);
        gated.permits.add_permits(1);
    }
    for id in &ids {
        wait(&scheduler, id).await;
    }
    assert_eq!(store.queue_settings().unwrap().concurrency, 1);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_new_work_until_resume() {
    let (_dir, store) = temp_store();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(2)).await.unwrap();
    let mut events = scheduler.subscribe();
    scheduler.pause().await.unwrap();
    let id = scheduler.submit(job("held", Priority::Normal)).await.unwrap().id;
    scheduler.resume().await.unwrap();
    // The start must come after the resume was announced.
    let mut seen_resume = false;
    next_event(&mut events, |e| match e {
        ExecutionEvent::Queue { paused: false, .. } => {
            seen_resume = true;
            None
        }
        ExecutionEvent::State { id: i, state: ExecutionState::Running { .. }, .. } if *i == id => Some(()),
        _ => None,
    })
    .await;
    assert!(seen_resume, "started while paused");
    assert_eq!(wait(&scheduler, &id).await.status(), Status::Succeeded);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_written_by_another_process_is_noticed_at_the_heartbeat() {
    let (dir, store) = temp_store();
    let other = crew_runner::store::SqliteStore::open(dir.path().join("crew.db")).unwrap();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(2)).await.unwrap();
    let mut events = scheduler.subscribe();
    other.set_paused(true).await.unwrap();
    next_event(&mut events, |e| matches!(e, ExecutionEvent::Queue { paused: true, .. }).then_some(())).await;
    let id = scheduler.submit(job("held", Priority::Normal)).await.unwrap().id;
    other.set_paused(false).await.unwrap();
    let mut seen_resume = false;
    next_event(&mut events, |e| match e {
        ExecutionEvent::Queue { paused: false, .. } => {
            seen_resume = true;
            None
        }
        ExecutionEvent::State { id: i, state: ExecutionState::Running { .. }, .. } if *i == id => Some(()),
        _ => None,
    })
    .await;
    assert!(seen_resume, "started while paused");
    wait(&scheduler, &id).await;
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_submitted_by_another_process_is_picked_up() {
    let (dir, store) = temp_store();
    let other = crew_runner::store::SqliteStore::open(dir.path().join("crew.db")).unwrap();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(2)).await.unwrap();
    let id = other.insert(job("from-cli", Priority::Normal)).await.unwrap().execution.id;
    assert_eq!(wait(&scheduler, &id).await.status(), Status::Succeeded);
    tokio::time::timeout(PATIENCE, scheduler.until_idle()).await.unwrap().unwrap();
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_scope_runs_only_its_own_submissions() {
    let (_dir, store) = temp_store();
    let foreign = store.insert(job("someone-else", Priority::Urgent)).await.unwrap().execution.id;
    let mut config = fast_config(1);
    config.scope = ClaimScope::Submitted;
    let noop = Arc::new(Noop::default());
    let scheduler = Scheduler::start(store.clone(), noop.clone(), config).await.unwrap();
    let mine = scheduler.submit(job("mine", Priority::Low)).await.unwrap().id;
    assert_eq!(wait(&scheduler, &mine).await.status(), Status::Succeeded);
    assert_eq!(store.get(&foreign).unwrap().unwrap().status(), Status::Queued);
    assert_eq!(*noop.started.lock().unwrap(), ["mine"]);
    scheduler.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_only_client_runs_nothing() {
    let (_dir, store) = temp_store();
    let mut config = fast_config(1);
    config.scope = ClaimScope::None;
    let noop = Arc::new(Noop::default());
    let client = Scheduler::start(store.clone(), noop.clone(), config).await.unwrap();
    let id = client.submit(job("queued", Priority::Normal)).await.unwrap().id;
    // A worker on the same database runs it; the client only waits.
    let worker = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(1)).await.unwrap();
    assert_eq!(wait(&client, &id).await.status(), Status::Succeeded);
    assert!(noop.started.lock().unwrap().is_empty());
    worker.shutdown().await.unwrap();
    client.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_execution_s_events_come_in_the_order_its_changes_committed() {
    // A submission and the claim that takes it commit together (the dispatcher's claim waits in
    // the store): the subscriber must still hear `queued` before `running`, for every one.
    let (_dir, store) = temp_store();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(2)).await.unwrap();
    let mut events = scheduler.subscribe();
    let mut heard: std::collections::HashMap<_, Vec<Status>> = std::collections::HashMap::new();
    for i in 0..50 {
        let id = scheduler.submit(job(&format!("job-{i}"), Priority::Normal)).await.unwrap().id;
        // Sent when it committed: already there when the submission is answered (after the
        // previous execution's last log line).
        loop {
            match events.try_recv() {
                Ok(ExecutionEvent::State { id: first, state, .. }) => {
                    assert_eq!((first, state.status()), (id.clone(), Status::Queued));
                    break;
                }
                Ok(ExecutionEvent::Log { .. } | ExecutionEvent::Progress { .. }) => {}
                other => panic!("expected the submission's own state first, got {other:?}"),
            }
        }
        heard.insert(id.clone(), vec![Status::Queued]);
        // Let the rest of this one's events come before the next submission.
        next_event(&mut events, |e| match e {
            ExecutionEvent::State { id: i, state, .. } => {
                heard.get_mut(i).unwrap().push(state.status());
                (*i == id && state.is_terminal()).then_some(())
            }
            _ => None,
        })
        .await;
    }
    for (id, statuses) in &heard {
        assert_eq!(statuses, &[Status::Queued, Status::Running, Status::Succeeded], "{id}");
    }
    scheduler.shutdown().await.unwrap();
}
