use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::execution::{ErrorKind, EventKind, ExecutionState, InputAnswer, InputRequest, Status, Usage, DEFAULT_MAX_ABANDONS};
use crate::store::{AttemptLease, CancelOutcome, ClaimFilter, CommitListener, Committed, OwnerId};

const OWNER: &str = "otherhost:1:test";

fn open_temp() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("crew.db")).unwrap();
    (dir, store)
}

fn submission(name: &str, priority: Priority) -> NewExecution {
    NewExecution {
        crew_name: name.into(),
        crew_source: format!("{name}.yaml"),
        crew_spec: serde_json::json!({ "name": name }).into(),
        priority,
        max_attempts: 3,
        ..NewExecution::default()
    }
}

fn claim_request(owner: &str, now: Millis, max: u32) -> ClaimRequest {
    ClaimRequest { owner: owner.into(), now, lease_ms: 10_000, max, filter: ClaimFilter::All }
}

fn step(name: &str, output: &str) -> StepOutput {
    StepOutput {
        step: name.into(),
        agent: "writer".into(),
        output: output.into(),
        json: serde_json::Value::Null,
        usage: Usage::default(),
        attempt: 1,
        completed_at: 1,
    }
}

async fn claim_one(store: &SqliteStore, owner: &str) -> Option<Execution> {
    store.claim(claim_request(owner, now_ms(), 1)).await.unwrap().pop().map(|t| t.execution)
}

#[tokio::test]
async fn migrations_apply_from_empty_and_reopen_is_a_no_op() {
    let (dir, store) = open_temp();
    let known: Vec<(i64, String)> = super::open::MIGRATIONS.iter().map(|m| (m.version, m.name.to_string())).collect();
    assert_eq!(store.applied_migrations().unwrap(), known);
    let version: i64 = store.read(|c, _| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap())).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(store.queue_settings().unwrap(), QueueSettings { paused: false, concurrency: 4 });
    drop(store);
    let again = SqliteStore::open(dir.path().join("crew.db")).unwrap();
    assert_eq!(again.applied_migrations().unwrap().len(), super::open::MIGRATIONS.len());
}

#[test]
fn a_newer_schema_is_refused_and_the_file_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = SqliteStore::open(&path).err().expect("a newer schema must be refused");
    assert!(matches!(err, StoreError::TooNew { found: 99, supported: SCHEMA_VERSION, .. }), "{err}");
    assert!(err.to_string().contains("future.db"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let mode: String = Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "the journal mode must not have been switched");
}

#[tokio::test]
async fn pragmas_take_on_the_writer_connection() {
    let (_dir, store) = open_temp();
    let values = store
        .write(|conn, _| {
            let q = |name: &str| -> String {
                conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
                    .map(|v| match v {
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        other => format!("{other:?}"),
                    })
                    .unwrap()
            };
            Ok(vec![q("journal_mode"), q("synchronous"), q("foreign_keys"), q("busy_timeout"), q("wal_autocheckpoint")])
        })
        .await
        .unwrap();
    assert_eq!(values, vec!["wal", "1", "1", "5000", "16384"]);
}

#[tokio::test]
async fn executions_read_together_with_the_same_crew_share_one_parsed_snapshot() {
    let (_dir, store) = open_temp();
    let shared: Arc<serde_json::Value> = Arc::new(serde_json::json!({ "name": "batch", "tasks": [{ "key": "t1" }] }));
    let mut news: Vec<NewExecution> =
        (0..3).map(|_| NewExecution { crew_spec: shared.clone(), ..submission("batch", Priority::Normal) }).collect();
    news.push(submission("other", Priority::Normal));
    store.insert_batch(news, None).await.unwrap();

    let texts: Vec<String> = store
        .read(|c, _| {
            Ok(c.prepare("SELECT crew_spec FROM executions ORDER BY queue_seq")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect())
        })
        .unwrap();
    assert_eq!(texts[..3], [serde_json::to_string(&*shared).unwrap(), texts[0].clone(), texts[0].clone()]);
    assert_eq!(texts[3], r#"{"name":"other"}"#);

    // The claim reads the rows one after another: the three of the batch share one value.
    let claimed: Vec<Execution> = store.claim(claim_request(OWNER, now_ms(), 4)).await.unwrap().into_iter().map(|t| t.execution).collect();
    assert_eq!(claimed.len(), 4);
    assert!(claimed[..3].iter().all(|e| *e.crew_spec == *shared && Arc::ptr_eq(&e.crew_spec, &claimed[0].crew_spec)));
    assert_eq!(*claimed[3].crew_spec, serde_json::json!({ "name": "other" }));
    assert!(!Arc::ptr_eq(&claimed[3].crew_spec, &claimed[0].crew_spec));

    // So do reads of them (another thread, another connection).
    let (a, b) = (store.get(&claimed[0].id).unwrap().unwrap(), store.get(&claimed[1].id).unwrap().unwrap());
    assert!(Arc::ptr_eq(&a.crew_spec, &b.crew_spec));
    assert_eq!(*a.crew_spec, *shared);
}

#[tokio::test]
async fn claims_take_the_highest_priority_first_and_fifo_within_a_level() {
    let (_dir, store) = open_temp();
    let mut ids = BTreeMap::new();
    for (name, priority) in [
        ("low", Priority::Low),
        ("normal-1", Priority::Normal),
        ("high", Priority::High),
        ("normal-2", Priority::Normal),
        ("urgent", Priority::Urgent),
        ("normal-3", Priority::Normal),
    ] {
        let t = store.insert(submission(name, priority)).await.unwrap();
        assert_eq!(t.execution.status(), Status::Queued);
        assert_eq!(t.log.event.kind, EventKind::Submitted);
        ids.insert(t.execution.id.clone(), name);
    }
    let mut order = Vec::new();
    while let Some(e) = claim_one(&store, OWNER).await {
        assert_eq!(e.attempt, 1);
        assert!(matches!(&e.state, ExecutionState::Running { owner, .. } if owner == OWNER));
        order.push(e.crew_name);
    }
    assert_eq!(order, ["urgent", "high", "normal-1", "normal-2", "normal-3", "low"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_store_handles_never_claim_the_same_execution() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = Arc::new(SqliteStore::open(&path).unwrap());
    let b = Arc::new(SqliteStore::open(&path).unwrap());
    const N: usize = 60;
    for i in 0..N {
        a.insert(submission(&format!("c{i}"), Priority::ALL[i % 4])).await.unwrap();
    }
    let mut tasks = Vec::new();
    for (k, store) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let owner = format!("host:{k}:n");
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim(claim_request(&owner, now_ms(), 2)).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|t| t.execution.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), N, "every execution claimed exactly once");
    assert_eq!(unique.len(), N);
    assert_eq!(b.counts().unwrap().running, N as u64);
}

#[tokio::test]
async fn cancel_covers_queued_running_and_finished_executions() {
    let (_dir, store) = open_temp();
    let queued = store.insert(submission("q", Priority::Normal)).await.unwrap().execution;
    let running = store.insert(submission("r", Priority::Normal)).await.unwrap().execution;

    let r = store.request_cancel(&queued.id).await.unwrap();
    assert_eq!(r.outcome, CancelOutcome::Cancelled);
    let t = r.transition.unwrap();
    assert!(matches!(t.execution.state, ExecutionState::Cancelled { was_running: false, .. }));
    assert_eq!(t.log.event.kind, EventKind::Cancelled);

    let claimed = claim_one(&store, OWNER).await.unwrap();
    assert_eq!(claimed.id, running.id);
    let r = store.request_cancel(&running.id).await.unwrap();
    assert_eq!(r.outcome, CancelOutcome::Requested);
    assert_eq!(r.transition.unwrap().log.event.kind, EventKind::CancelRequested);
    assert!(store.get(&running.id).unwrap().unwrap().cancel_requested);
    let again = store.request_cancel(&running.id).await.unwrap();
    assert_eq!((again.outcome, again.transition), (CancelOutcome::Requested, None));
    let renewal = store.renew_leases(OWNER, now_ms(), 10_000).await.unwrap();
    assert_eq!(renewal.cancel_requested, vec![running.id.clone()]);

    let done = store.finish(&running.id, OWNER, Finish::Cancelled).await.unwrap();
    assert!(matches!(done.execution.state, ExecutionState::Cancelled { was_running: true, .. }));
    let before = store.get(&queued.id).unwrap();
    let r = store.request_cancel(&queued.id).await.unwrap();
    assert_eq!((r.outcome, r.transition), (CancelOutcome::AlreadyFinished(Status::Cancelled), None));
    assert_eq!(store.get(&queued.id).unwrap(), before);
    assert!(matches!(store.request_cancel(&ExecutionId::new()).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn saving_a_step_twice_keeps_the_first_and_returns_ok() {
    let (_dir, store) = open_temp();
    let e = store.insert(submission("s", Priority::Normal)).await.unwrap().execution;
    assert!(store.save_step(&e.id, step("research", "first")).await.unwrap());
    assert!(!store.save_step(&e.id, step("research", "second")).await.unwrap());
    assert!(store.save_step(&e.id, step("write", "w")).await.unwrap());
    let steps = store.steps(&e.id).unwrap();
    assert_eq!(steps.iter().map(|s| (s.step.as_str(), s.output.as_str())).collect::<Vec<_>>(), [("research", "first"), ("write", "w")]);
}

#[tokio::test]
async fn seed_steps_are_inserted_with_the_execution() {
    let (_dir, store) = open_temp();
    let mut new = submission("seeded", Priority::Normal);
    new.seed_steps = vec![step("a", "1"), step("b", "2")];
    let e = store.insert(new).await.unwrap().execution;
    assert_eq!(store.steps(&e.id).unwrap().len(), 2);
}

#[tokio::test]
async fn a_claimed_run_comes_with_the_steps_completed_so_far() {
    let (_dir, store) = open_temp();
    let mut seeded = submission("seeded", Priority::High);
    seeded.seed_steps = vec![step("a", "1"), step("b", "2")];
    let seeded = store.insert(seeded).await.unwrap().execution;
    let plain = store.insert(submission("plain", Priority::Normal)).await.unwrap().execution;
    let runs = store.claim_runs(claim_request(OWNER, now_ms(), 5)).await.unwrap();
    let got: Vec<(ExecutionId, Vec<String>)> =
        runs.iter().map(|r| (r.transition.execution.id.clone(), r.completed_steps.iter().map(|s| s.output.clone()).collect())).collect();
    assert_eq!(got, vec![(seeded.id.clone(), vec!["1".to_string(), "2".to_string()]), (plain.id, vec![])]);
    assert!(runs.iter().all(|r| r.transition.execution.status() == Status::Running));
    assert_eq!(runs[0].transition.log.event.kind, EventKind::Started);
    assert_eq!(runs[0].completed_steps, store.steps(&seeded.id).unwrap());
}

#[tokio::test]
async fn expired_leases_of_unknown_owners_are_recovered_with_the_attempt_refunded() {
    // OWNER holds no lock file: its liveness is unknown, so its lease decides.
    let (_dir, store) = open_temp();
    let t0 = now_ms();
    let mut poison = submission("poison", Priority::Normal);
    poison.max_abandons = 1;
    let keep = store.insert(submission("again", Priority::High)).await.unwrap().execution;
    let once = store.insert(poison).await.unwrap().execution;
    let claimed = store.claim(ClaimRequest { lease_ms: 1_000, ..claim_request(OWNER, t0, 2) }).await.unwrap();
    assert_eq!(claimed.len(), 2);

    let early = store.recover(RecoverRequest { now: t0 + 500, exclude_owner: None }).await.unwrap();
    assert!(early.is_empty(), "leases still valid");
    let mine = store.recover(RecoverRequest { now: t0 + 5_000, exclude_owner: Some(OWNER.into()) }).await.unwrap();
    assert!(mine.is_empty(), "the caller's own executions are never recovered");

    let recovered = store.recover(RecoverRequest { now: t0 + 5_000, exclude_owner: None }).await.unwrap();
    assert_eq!(recovered.len(), 2);
    let again = store.get(&keep.id).unwrap().unwrap();
    assert_eq!(again.state, ExecutionState::Queued);
    // The abandoned attempt is refunded and counted as an abandon instead.
    assert_eq!((again.attempt, again.abandons, again.max_abandons), (0, 1, DEFAULT_MAX_ABANDONS));
    assert_eq!(again.attempt_errors[0].error.kind, ErrorKind::Abandoned);
    // At its max_abandons the execution fails: a poison pill.
    let failed = store.get(&once.id).unwrap().unwrap();
    assert!(
        matches!(&failed.state, ExecutionState::Failed { error, .. } if error.kind == ErrorKind::Abandoned && error.message.contains("abandoned 1 times (--max-abandons 1)")),
        "{:?}",
        failed.state
    );
    let logs = store.logs(&keep.id, 0, 0).unwrap();
    assert_eq!(logs.last().unwrap().event.kind, EventKind::Recovered);
    assert_eq!(logs.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 3]);
    // Claimed again, it runs as attempt 1 again.
    let rerun = store.claim(claim_request("other:1:beef", now_ms(), 1)).await.unwrap();
    assert_eq!((rerun[0].execution.id.clone(), rerun[0].execution.attempt), (keep.id.clone(), 1));
}

#[tokio::test]
async fn a_gone_owner_is_recovered_at_once_and_a_live_one_never() {
    let (_dir, store) = open_temp();
    let now = now_ms();
    // A crashed owner: its lock file is left, unlocked.
    let gone = OwnerId { host: "h".into(), pid: 1, nonce: "0123456789abcdef".into() };
    let dir = crate::store::liveness::owners_dir(store.path());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("0123456789abcdef.lock"), gone.to_string()).unwrap();
    let orphan = store.insert(submission("orphan", Priority::Normal)).await.unwrap().execution;
    store.claim(ClaimRequest { lease_ms: 3_600_000, ..claim_request(&gone.to_string(), now, 1) }).await.unwrap();
    // A live owner (its lock held) whose lease has long expired: stopped, suspended, or behind a
    // stepped clock. It keeps its execution.
    let alive = OwnerId::current();
    let _lock = store.lock_owner(&alive).unwrap();
    store.insert(submission("busy", Priority::Normal)).await.unwrap();
    store.claim(ClaimRequest { lease_ms: 1, ..claim_request(&alive.to_string(), now - 60_000, 1) }).await.unwrap();
    assert_eq!(store.owner_liveness(&alive.to_string()), crate::store::Liveness::Alive);
    assert_eq!(store.owner_liveness(&gone.to_string()), crate::store::Liveness::Gone);
    // Readers see it too, without writing.
    let listed = store.list(&ExecutionFilter { statuses: vec![Status::Running], ..Default::default() }).unwrap();
    let gone_flags: Vec<bool> = listed.iter().map(|e| matches!(e.state, ExecutionState::Running { owner_gone: true, .. })).collect();
    assert_eq!(gone_flags.iter().filter(|g| **g).count(), 1, "{listed:?}");

    let recovered = store.recover(RecoverRequest { now, exclude_owner: None }).await.unwrap();
    assert_eq!(recovered.iter().map(|t| t.execution.id.clone()).collect::<Vec<_>>(), vec![orphan.id.clone()]);
    assert_eq!(recovered[0].execution.state, ExecutionState::Queued);
    assert!(recovered[0].log.event.message.contains("its worker process is gone"), "{}", recovered[0].log.event.message);
    // Its file is swept once its executions are taken over; the live owner's stays.
    assert!(!dir.join("0123456789abcdef.lock").exists());
    assert_eq!(store.owner_liveness(&alive.to_string()), crate::store::Liveness::Alive);
}

#[tokio::test]
async fn an_attempt_s_writes_are_refused_once_its_lease_is_not_current() {
    let (_dir, store) = open_temp();
    let e = store.insert(submission("fenced", Priority::Normal)).await.unwrap().execution;
    let first = store.claim(ClaimRequest { lease_ms: 1, ..claim_request(OWNER, now_ms() - 10_000, 1) }).await.unwrap();
    let stale = AttemptLease::of(&first[0].execution).unwrap();
    assert!(stale.token.is_some_and(|t| t > 0));
    store.append_logs(&e.id, stale, vec![LogEvent::info(EventKind::AgentStep, "while current")]).await.unwrap();
    // The lease expired; another worker takes over and starts attempt 1 again.
    store.recover(RecoverRequest { now: now_ms(), exclude_owner: None }).await.unwrap();
    let second = store.claim(claim_request("other:2:cafe", now_ms(), 1)).await.unwrap();
    let current = AttemptLease::of(&second[0].execution).unwrap();
    assert_eq!(current.attempt, stale.attempt);
    assert_ne!(current.token, stale.token);

    fn refused<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::Fenced { .. }))
    }
    let step = StepOutput {
        step: "research".into(),
        agent: "a".into(),
        output: "stale".into(),
        json: serde_json::Value::Null,
        usage: Usage::default(),
        attempt: 1,
        completed_at: now_ms(),
    };
    let line = LogEvent::info(EventKind::TaskCompleted, "done");
    assert!(refused(store.append_logs(&e.id, stale, vec![LogEvent::info(EventKind::AgentStep, "late")]).await));
    assert!(refused(store.save_step_logged(&e.id, stale, step.clone(), line.clone()).await));
    let payload = crate::execution::CompressedPayload { raw_bytes: 1, body: vec![1] };
    let call = LogEvent::info(EventKind::LlmCallCompleted, "late");
    assert!(refused(store.append_call_log(&e.id, stale, call, Some(payload)).await));
    assert!(refused(store.update_progress(&e.id, stale, Progress { completed_steps: 9, ..Default::default() }).await));
    assert!(store.steps(&e.id).unwrap().is_empty(), "nothing of the stale attempt was kept");
    // The current attempt's own step lands.
    let fresh = StepOutput { output: "fresh".into(), ..step };
    assert!(store.save_step_logged(&e.id, current, fresh, line).await.unwrap().is_some());
    assert_eq!(store.steps(&e.id).unwrap()[0].output, "fresh");
    assert!(store.logs(&e.id, 0, 0).unwrap().iter().all(|l| l.event.message != "late"));
    assert_eq!(store.read(|c, _| Ok(c.query_row("SELECT COUNT(*) FROM call_payloads", [], |r| r.get::<_, i64>(0)).unwrap())).unwrap(), 0);
}

#[tokio::test]
async fn owner_only_transitions_and_retry_timing() {
    let (_dir, store) = open_temp();
    let e = store.insert(submission("r", Priority::Normal)).await.unwrap().execution;
    let t0 = now_ms();
    store.claim(claim_request(OWNER, t0, 1)).await.unwrap();
    let wrong = store.finish(&e.id, "someone:2:else", Finish::Cancelled).await;
    assert!(matches!(wrong, Err(StoreError::NotOwner { .. })));

    let err = ExecutionError::new(ErrorKind::LlmServer, "502");
    let t = store.schedule_retry(&e.id, OWNER, err.clone(), t0 + 60_000).await.unwrap();
    assert!(
        matches!(&t.execution.state, ExecutionState::Retrying { next_run_at, last_error } if *next_run_at == t0 + 60_000 && *last_error == err)
    );
    assert_eq!(store.next_retry_at(t0).unwrap(), Some(t0 + 60_000));
    assert_eq!(store.next_retry_at(t0 + 60_000).unwrap(), None);
    assert!(store.claim(claim_request(OWNER, t0 + 59_999, 1)).await.unwrap().is_empty(), "not due yet");
    let again = store.claim(claim_request(OWNER, t0 + 60_000, 1)).await.unwrap();
    assert_eq!(again[0].execution.attempt, 2);

    let requeued = store.requeue(&e.id, OWNER, "shutdown").await.unwrap();
    assert_eq!((requeued.execution.state.clone(), requeued.execution.attempt), (ExecutionState::Queued, 1));
    assert_eq!(requeued.log.event.kind, EventKind::Interrupted);
    store.claim(claim_request(OWNER, t0, 1)).await.unwrap();
    let fatal = ExecutionError::new(ErrorKind::LlmClient, "401");
    let done = store.finish(&e.id, OWNER, Finish::Failed { error: fatal.clone(), usage: None }).await.unwrap();
    assert!(matches!(&done.execution.state, ExecutionState::Failed { error, .. } if *error == fatal));
    let history: Vec<_> = done.execution.attempt_errors.iter().map(|a| (a.attempt, a.error.kind)).collect();
    assert_eq!(history, [(1, ErrorKind::LlmServer), (2, ErrorKind::LlmClient)]);
}

#[tokio::test]
async fn due_retries_and_queued_executions_are_claimed_in_one_order() {
    let (_dir, store) = open_temp();
    let t0 = now_ms();
    let err = ExecutionError::new(ErrorKind::LlmServer, "502");
    // Four executions become retrying (due at t0 + 10), in submission order: high, normal,
    // normal, low; then three are queued: urgent, normal, high.
    let mut retrying = Vec::new();
    for priority in [Priority::High, Priority::Normal, Priority::Normal, Priority::Low] {
        let e = store.insert(submission("r", priority)).await.unwrap().execution;
        store.claim(claim_request(OWNER, t0, 1)).await.unwrap();
        store.schedule_retry(&e.id, OWNER, err.clone(), t0 + 10).await.unwrap();
        retrying.push(e.id);
    }
    let mut queued = Vec::new();
    for priority in [Priority::Urgent, Priority::Normal, Priority::High] {
        queued.push(store.insert(submission("q", priority)).await.unwrap().execution.id);
    }
    // Before the retries are due only the queued ones are claimable.
    let early = store.claim(claim_request(OWNER, t0 + 9, 1)).await.unwrap();
    assert_eq!(early[0].execution.id, queued[0]);
    // Then one order over both: priority first, submission order within a priority.
    let order: Vec<_> = store.claim(claim_request(OWNER, t0 + 10, 10)).await.unwrap().into_iter().map(|t| t.execution.id).collect();
    let expected = [&retrying[0], &queued[2], &retrying[1], &retrying[2], &queued[1], &retrying[3]];
    assert_eq!(order.iter().collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn priority_changes_only_while_waiting() {
    let (_dir, store) = open_temp();
    let e = store.insert(submission("p", Priority::Low)).await.unwrap().execution;
    let t = store.set_priority(&e.id, Priority::Urgent).await.unwrap();
    assert_eq!(t.execution.priority, Priority::Urgent);
    assert_eq!(t.log.event.kind, EventKind::PriorityChanged);
    claim_one(&store, OWNER).await.unwrap();
    let err = store.set_priority(&e.id, Priority::Low).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidState { status: Status::Running, .. }), "{err}");
}

#[tokio::test]
async fn a_failing_command_fails_alone_within_a_batch() {
    let (_dir, store) = open_temp();
    let mut bad = submission("bad", Priority::Normal);
    bad.retry_of = Some(ExecutionId::new()); // violates the foreign key
                                             // Enqueued back to back so they share a batch (when the writer is idle they may not; the
                                             // outcome must be the same either way).
    let first = store.insert(submission("one", Priority::Normal));
    let failing = store.insert(bad);
    let last = store.insert(submission("two", Priority::Normal));
    assert!(first.await.is_ok());
    assert!(matches!(failing.await, Err(StoreError::Sqlite { .. })));
    assert!(last.await.is_ok());
    assert_eq!(store.counts().unwrap().queued, 2);
}

fn key(key: &str, request_hash: &str) -> IdempotencyKey {
    IdempotencyKey { key: key.into(), request_hash: request_hash.into() }
}

fn keys_recorded(store: &SqliteStore) -> Vec<(String, String)> {
    store
        .read(|c, _| {
            let mut stmt = c.prepare("SELECT key, ids FROM idempotency_keys ORDER BY key").unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            Ok(rows.map(Result::unwrap).collect())
        })
        .unwrap()
}

#[tokio::test]
async fn a_batch_commits_every_row_or_none_with_its_key() {
    let (_dir, store) = open_temp();
    let rows = |n: usize| (0..n).map(|i| submission(&format!("row-{i}"), Priority::Normal)).collect::<Vec<_>>();
    // The last of 300 rows fails (a foreign key): nothing of the batch is kept, not its key.
    let mut batch = rows(300);
    batch[299].retry_of = Some(ExecutionId::new());
    let failed = store.insert_batch(batch, Some(key("k", "h1"))).await;
    assert!(matches!(failed, Err(StoreError::Sqlite { .. })), "{failed:?}");
    assert_eq!(store.counts().unwrap(), StatusCounts::default());
    assert_eq!(keys_recorded(&store), vec![]);

    // A good batch: every row queued in row order (FIFO), each with its `submitted` line, and the
    // key recorded with the ids in the same transaction.
    let commits = store.commits();
    let inserted = store.insert_batch(rows(300), Some(key("k", "h1"))).await.unwrap();
    assert_eq!(store.commits(), commits + 1, "one transaction");
    assert!(!inserted.replayed);
    assert_eq!(inserted.ids, inserted.transitions.iter().map(|t| t.execution.id.clone()).collect::<Vec<_>>());
    assert_eq!(store.counts().unwrap().queued, 300);
    let first = &inserted.transitions[0];
    assert_eq!((first.log.seq, first.log.event.kind), (1, EventKind::Submitted));
    assert_eq!(store.get(&first.execution.id).unwrap().as_ref(), Some(&first.execution));
    let claimed = store.claim(claim_request(OWNER, now_ms(), 3)).await.unwrap();
    let claimed: Vec<_> = claimed.into_iter().map(|t| t.execution.crew_name).collect();
    assert_eq!(claimed, ["row-0", "row-1", "row-2"]);
    assert_eq!(keys_recorded(&store), vec![("k".to_string(), serde_json::to_string(&inserted.ids).unwrap())]);

    // The same key and request again: the same ids, nothing inserted. Another request under the
    // key: a conflict naming it, nothing inserted.
    let again = store.insert_batch(rows(300), Some(key("k", "h1"))).await.unwrap();
    assert!(again.replayed && again.transitions.is_empty());
    assert_eq!(again.ids, inserted.ids);
    let other = store.insert_batch(rows(2), Some(key("k", "h2"))).await;
    match other {
        Err(e @ StoreError::IdempotencyConflict { .. }) => assert!(e.to_string().contains("`k`"), "{e}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.list(&ExecutionFilter { limit: 1000, ..ExecutionFilter::default() }).unwrap().len(), 300);

    // A key for one execution; no key; no rows.
    let one = store.insert_batch(rows(1), Some(key("single", "h3"))).await.unwrap();
    assert_eq!(store.insert_batch(rows(1), Some(key("single", "h3"))).await.unwrap().ids, one.ids);
    assert_eq!(store.insert_batch(rows(2), None).await.unwrap().transitions.len(), 2);
    let empty = store.insert_batch(Vec::new(), Some(key("empty", "h4"))).await.unwrap();
    assert!(empty.ids.is_empty() && !empty.replayed);
    assert_eq!(keys_recorded(&store).len(), 2, "k and single");
    assert_eq!(store.counts().unwrap().active(), 303);
}

#[tokio::test]
async fn a_batch_is_announced_row_by_row_and_a_replay_not_at_all() {
    let (_dir, store) = open_temp();
    let (_listener, heard) = listen_as_text(&store);
    let rows = || ["a", "b", "c"].map(|n| submission(n, Priority::Normal)).to_vec();
    // A waiting claim takes the first row in the batch's transaction: heard after every row.
    let claim = store.claim_when_ready(claim_request(OWNER, 0, 0), Arc::new(ClaimSlots::new(1)));
    store.flush().await.unwrap();
    store.insert_batch(rows(), Some(key("k", "h"))).await.unwrap();
    let expected = ["a Submitted queued", "b Submitted queued", "c Submitted queued", "a Started running"];
    assert_eq!(*heard.lock().unwrap(), expected, "heard before the batch was answered");
    assert_eq!(claim.await.unwrap().len(), 1);
    assert!(store.insert_batch(rows(), Some(key("k", "h"))).await.unwrap().replayed);
    let mut failing = rows();
    failing[2].retry_of = Some(ExecutionId::new());
    assert!(store.insert_batch(failing, None).await.is_err());
    assert_eq!(*heard.lock().unwrap(), expected, "nothing for a replay or a batch that failed");
}

#[tokio::test]
async fn a_key_whose_executions_are_all_gone_is_forgotten() {
    let (_dir, store) = open_temp();
    let rows = || vec![submission("a", Priority::Normal), submission("b", Priority::Normal)];
    let first = store.insert_batch(rows(), Some(key("k", "h"))).await.unwrap();
    // Deleted behind the store's back (prune deletes the key itself, see prune.rs's tests).
    store
        .write(|c, p| c.execute_batch("DELETE FROM execution_logs; DELETE FROM executions;").map_err(|e| StoreError::from_sqlite(p, e)))
        .await
        .unwrap();
    // The key is stale: even another request under it is not refused; it inserts anew.
    let again = store.insert_batch(rows(), Some(key("k", "other"))).await.unwrap();
    assert!(!again.replayed);
    assert_ne!(again.ids, first.ids);
    assert_eq!(keys_recorded(&store).len(), 1);
}

#[tokio::test]
async fn log_seqs_are_gap_free_per_execution() {
    let (_dir, store) = open_temp();
    let a = store.insert(submission("a", Priority::Normal)).await.unwrap().execution;
    let b = store.insert(submission("b", Priority::Normal)).await.unwrap().execution;
    let mut pending = Vec::new();
    for i in 0..10 {
        let id = if i % 2 == 0 { &a.id } else { &b.id };
        pending.push(store.append_logs(id, AttemptLease::unfenced(1), vec![LogEvent::info(EventKind::AgentStep, format!("line {i}"))]));
    }
    pending.push(store.append_logs(&ExecutionId::new(), AttemptLease::unfenced(1), vec![LogEvent::warning("nobody")]));
    let results: Vec<_> = futures_join(pending).await;
    assert!(results.last().unwrap().is_err());
    let seqs: Vec<u64> = store.logs(&a.id, 0, 0).unwrap().iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    let page: Vec<u64> = store.logs(&b.id, 2, 2).unwrap().iter().map(|l| l.seq).collect();
    assert_eq!(page, [3, 4]);
}

async fn futures_join<T>(futures: Vec<BoxFuture<'static, T>>) -> Vec<T> {
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await);
    }
    out
}

#[tokio::test]
async fn list_filters_and_pages_newest_first() {
    let (_dir, store) = open_temp();
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut new = submission(if i % 2 == 0 { "even" } else { "odd" }, Priority::Normal);
        new.meta.insert("batch".into(), format!("b{}", i % 2));
        ids.push(store.insert(new).await.unwrap().execution.id);
    }
    ids.sort();
    ids.reverse();
    let all = store.list(&ExecutionFilter::default()).unwrap();
    assert_eq!(all.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids);
    let page = store.list(&ExecutionFilter { limit: 2, before: Some(ids[1].clone()), ..Default::default() }).unwrap();
    assert_eq!(page.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids[2..4].to_vec());
    let even = store.list(&ExecutionFilter { crew_name: Some("even".into()), ..Default::default() }).unwrap();
    assert_eq!(even.len(), 3);
    let meta = BTreeMap::from([("batch".to_string(), "b1".to_string())]);
    let odd = store.list(&ExecutionFilter { meta, ..Default::default() }).unwrap();
    assert!(odd.len() == 2 && odd.iter().all(|e| e.crew_name == "odd"));
    store.request_cancel(&ids[0]).await.unwrap();
    let cancelled = store.list(&ExecutionFilter { statuses: vec![Status::Cancelled], ..Default::default() }).unwrap();
    assert_eq!(cancelled.len(), 1);
}

#[tokio::test]
async fn claim_scope_only_takes_the_listed_executions() {
    let (_dir, store) = open_temp();
    let other = store.insert(submission("other", Priority::Urgent)).await.unwrap().execution;
    let mine = store.insert(submission("mine", Priority::Low)).await.unwrap().execution;
    let request = ClaimRequest { filter: ClaimFilter::Only(vec![mine.id.clone()]), ..claim_request(OWNER, now_ms(), 5) };
    let claimed = store.claim(request).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.execution.id.clone()).collect::<Vec<_>>(), vec![mine.id]);
    assert_eq!(store.get(&other.id).unwrap().unwrap().state, ExecutionState::Queued);
}

#[tokio::test]
async fn a_listed_claim_takes_its_rows_by_priority_then_submission_up_to_its_max() {
    let (_dir, store) = open_temp();
    let mut listed = Vec::new();
    for (name, priority) in
        [("low", Priority::Low), ("first", Priority::Normal), ("urgent", Priority::Urgent), ("second", Priority::Normal)]
    {
        listed.push(store.insert(submission(name, priority)).await.unwrap().execution);
    }
    let unlisted = store.insert(submission("unlisted", Priority::Urgent)).await.unwrap().execution;
    let ids: Vec<ExecutionId> = listed.iter().map(|e| e.id.clone()).collect();
    let claim = |max| ClaimRequest { filter: ClaimFilter::Only(ids.clone()), ..claim_request(OWNER, now_ms(), max) };
    let names = |claimed: Vec<Transition>| claimed.into_iter().map(|t| t.execution.crew_name).collect::<Vec<_>>();
    assert_eq!(names(store.claim(claim(3)).await.unwrap()), ["urgent", "first", "second"]);
    assert_eq!(names(store.claim(claim(3)).await.unwrap()), ["low"]);
    assert!(store.claim(claim(3)).await.unwrap().is_empty());
    assert_eq!(store.get(&unlisted.id).unwrap().unwrap().state, ExecutionState::Queued);
}

#[tokio::test]
async fn queue_settings_are_shared_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("q.db")).unwrap();
    let b = SqliteStore::open(dir.path().join("q.db")).unwrap();
    a.set_paused(true).await.unwrap();
    a.set_concurrency(0).await.unwrap();
    assert_eq!(b.queue_settings().unwrap(), QueueSettings { paused: true, concurrency: 1 });
}

#[tokio::test]
async fn nothing_is_claimed_once_a_pause_is_committed_by_another_handle() {
    let dir = tempfile::tempdir().unwrap();
    let worker = SqliteStore::open(dir.path().join("q.db")).unwrap();
    let other = SqliteStore::open(dir.path().join("q.db")).unwrap();
    let e = worker.insert(submission("paused", Priority::Urgent)).await.unwrap().execution;
    other.set_paused(true).await.unwrap();
    assert!(worker.claim(claim_request(OWNER, now_ms(), 5)).await.unwrap().is_empty());
    assert_eq!(worker.get(&e.id).unwrap().unwrap().state, ExecutionState::Queued);
    other.set_paused(false).await.unwrap();
    assert_eq!(worker.claim(claim_request(OWNER, now_ms(), 5)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn what_another_handle_commits_is_seen_past_the_writers_facts() {
    let dir = tempfile::tempdir().unwrap();
    let worker = SqliteStore::open(dir.path().join("q.db")).unwrap();
    let other = SqliteStore::open(dir.path().join("q.db")).unwrap();
    let first = worker.insert(submission("first", Priority::Normal)).await.unwrap().execution;
    // The worker's writer learns the log's end, that the queue runs and that nothing retries.
    assert_eq!(worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().len(), 1);

    // A line written by another handle: the worker's next line follows it.
    let line = |m: &str| LogEvent::info(EventKind::Output, m.to_string());
    assert_eq!(other.append_logs(&first.id, AttemptLease::unfenced(1), vec![line("from the other")]).await.unwrap()[0].seq, 3);
    assert_eq!(worker.append_logs(&first.id, AttemptLease::unfenced(1), vec![line("from the worker")]).await.unwrap()[0].seq, 4);

    // A pause committed by another handle stops the worker's claims.
    let second = worker.insert(submission("second", Priority::Normal)).await.unwrap().execution;
    other.set_paused(true).await.unwrap();
    assert!(worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().is_empty());
    other.set_paused(false).await.unwrap();
    let claimed = worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.execution.id.clone()).collect::<Vec<_>>(), vec![second.id]);

    // A retry scheduled by another handle is claimed by the worker when due.
    let third = other.insert(submission("third", Priority::Normal)).await.unwrap().execution;
    assert_eq!(other.claim(claim_request("other:2:x", now_ms(), 1)).await.unwrap().len(), 1);
    let error = ExecutionError::new(ErrorKind::LlmConnection, "refused");
    other.schedule_retry(&third.id, "other:2:x", error, 0).await.unwrap();
    let claimed = worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.execution.id.clone()).collect::<Vec<_>>(), vec![third.id]);

    // An execution the worker inserted (and keeps for its claim) whose priority and metadata
    // another handle changed: the claim answers the row as it is now.
    let fourth = worker.insert(submission("fourth", Priority::Low)).await.unwrap().execution;
    other.set_priority(&fourth.id, Priority::Urgent).await.unwrap();
    other.request_cancel(&fourth.id).await.unwrap();
    assert!(worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().is_empty(), "cancelled elsewhere");
    let fifth = worker.insert(submission("fifth", Priority::Low)).await.unwrap().execution;
    other.set_priority(&fifth.id, Priority::Urgent).await.unwrap();
    let claimed = worker.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().pop().unwrap().execution;
    assert_eq!((claimed.id.clone(), claimed.priority), (fifth.id.clone(), Priority::Urgent));
    assert_eq!(
        Some(claimed),
        worker.get(&fifth.id).unwrap().map(|mut e| {
            e.attempt_errors.clear();
            e
        })
    );
}

#[test]
fn an_unusable_location_is_a_clear_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let path = file.join("crew.db");
    let err = SqliteStore::open(&path).err().expect("cannot open below a file");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_read_only_folder_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root ignores file permissions");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let err = SqliteStore::open(ro.join("crew.db")).err().expect("read-only folder");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(matches!(err, StoreError::Open { .. } | StoreError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("crew.db"), "{err}");
}

#[tokio::test]
async fn a_database_locked_by_another_writer_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    drop(SqliteStore::open(&path).unwrap());
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let options = OpenOptions { busy_timeout: Duration::from_millis(50) };
    let store = SqliteStore::open_with(&path, options.clone()).unwrap();
    let err = store.insert(submission("x", Priority::Normal)).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("locked.db"), "{err}");

    // A fresh file that needs its migrations cannot be set up while locked either.
    let fresh = dir.path().join("fresh.db");
    let fresh_holder = Connection::open(&fresh).unwrap();
    fresh_holder.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").unwrap();
    let err = SqliteStore::open_with(&fresh, options).err().expect("locked during migration");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");

    holder.execute_batch("COMMIT").unwrap();
    assert!(store.insert(submission("x", Priority::Normal)).await.is_ok());
}

#[tokio::test]
async fn the_answers_of_insert_and_claim_are_what_was_committed() {
    let (_dir, store) = open_temp();
    let mut new = submission("full", Priority::High);
    new.inputs.insert("topic".into(), serde_json::json!("rust"));
    new.meta.insert("team".into(), "a".into());
    new.timeout_ms = Some(u64::MAX); // stored clamped to SQLite's integer range
    new.seed_steps = vec![step("research", "done")];
    let inserted = store.insert(new).await.unwrap();
    assert_eq!(Some(inserted.execution.clone()), store.get(&inserted.execution.id).unwrap());
    assert_eq!(store.logs(&inserted.execution.id, 0, 0).unwrap(), vec![inserted.log.clone()]);

    let claimed = store.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().pop().unwrap();
    assert_eq!(Some(claimed.execution.clone()), store.get(&claimed.execution.id).unwrap());
    assert_eq!(*claimed.execution.crew_spec, serde_json::json!({ "name": "full" }));
    assert_eq!(claimed.log.seq, 2);
}

#[tokio::test]
async fn the_answer_of_a_success_is_what_was_committed() {
    let (_dir, store) = open_temp();
    let answered_as_read = |t: &Transition| {
        assert_eq!(Some(t.execution.clone()), store.get(&t.execution.id).unwrap());
        assert!(matches!(t.execution.state, ExecutionState::Succeeded { .. }), "{:?}", t.execution.state);
    };
    let usage = Usage { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, llm_calls: 1, cost_usd: Some(0.1 + 0.2) };
    let succeeded = Finish::Succeeded { output: "done".into(), usage: usage.clone() };
    let claim = || async { store.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().pop().unwrap().execution };

    // Claimed and succeeded with nothing in between.
    let mut new = submission("plain", Priority::Normal);
    new.inputs.insert("n".into(), serde_json::json!(1.5e-7));
    store.insert(new).await.unwrap();
    let e = claim().await;
    answered_as_read(&store.finish(&e.id, OWNER, succeeded.clone()).await.unwrap());

    // Its progress and lease changed while it ran; its first attempt had failed.
    let e = store.insert(submission("busy", Priority::Normal)).await.unwrap().execution;
    claim().await;
    let error = ExecutionError::new(ErrorKind::LlmServer, "502");
    store.schedule_retry(&e.id, OWNER, error, 0).await.unwrap();
    let e = claim().await;
    assert_eq!(e.attempt_errors.len(), 1);
    let progress = Progress { completed_steps: 1, total_steps: 2, current_step: Some("write".into()), ..Progress::default() };
    store.update_progress(&e.id, AttemptLease::unfenced(1), progress.clone()).await.unwrap();
    store.renew_leases(OWNER, now_ms() + 5_000, 60_000).await.unwrap();
    store.update_progress(&e.id, AttemptLease::unfenced(1), Progress { completed_steps: 2, ..progress.clone() }).await.unwrap();
    let t = store.finish(&e.id, OWNER, succeeded.clone()).await.unwrap();
    answered_as_read(&t);
    assert_eq!((t.execution.attempt_errors.len(), t.execution.progress.completed_steps), (1, 2));

    // A cancel was requested while it ran (and then it succeeded all the same).
    store.insert(submission("asked to stop", Priority::Normal)).await.unwrap();
    let e = claim().await;
    store.update_progress(&e.id, AttemptLease::unfenced(1), progress).await.unwrap();
    assert_eq!(store.request_cancel(&e.id).await.unwrap().outcome, CancelOutcome::Requested);
    answered_as_read(&store.finish(&e.id, OWNER, succeeded.clone()).await.unwrap());

    // Claimed by another handle: this handle kept no row; a success by an owner that does not
    // hold it is refused, the holder's is answered from its own kept row.
    let other = SqliteStore::open(_dir.path().join("crew.db")).unwrap();
    let e = store.insert(submission("elsewhere", Priority::Normal)).await.unwrap().execution;
    other.claim(claim_request("other:2:x", now_ms(), 1)).await.unwrap();
    assert!(matches!(store.finish(&e.id, OWNER, succeeded.clone()).await, Err(StoreError::NotOwner { .. })));
    answered_as_read(&other.finish(&e.id, "other:2:x", succeeded).await.unwrap());
}

#[tokio::test]
async fn claims_and_retry_lookups_walk_only_the_waiting_rows() {
    let (_dir, store) = open_temp();
    let plan = |sql: &str| -> String {
        store
            .read(|c, _| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                // Parameters (the claim's "now") are bound to NULL: the plan does not depend on them.
                let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
                let rows = stmt.query_map(nulls, |r| r.get::<_, String>(3)).unwrap();
                Ok(rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; "))
            })
            .unwrap()
    };
    // The statements the store runs (see write::claim and read::next_retry_at).
    let queued = plan(write::BEST_QUEUED);
    assert!(queued.contains("executions_active") && !queued.contains("TEMP B-TREE"), "{queued}");
    let earliest = plan(write::EARLIEST_RETRY);
    assert!(earliest.contains("executions_retrying") && !earliest.contains("TEMP B-TREE"), "{earliest}");
    let best_due = plan(write::BEST_RETRY_DUE);
    assert!(best_due.contains("executions_retrying"), "{best_due}");
    let retrying =
        plan("SELECT MIN(next_run_at) FROM executions INDEXED BY executions_retrying WHERE status = 'retrying' AND next_run_at > 5");
    assert!(retrying.contains("executions_retrying"), "{retrying}");
    // Lease renewal and recovery (write::renew_leases, write::recover) walk the partial index of
    // the running rows, not the table.
    let renew = plan("SELECT id FROM executions WHERE status = 'running' AND owner = 'a'");
    assert!(renew.contains("USING INDEX executions_active (status=?)"), "{renew}");
    let recover = plan("SELECT id FROM executions WHERE status = 'running' AND ('a' IS NULL OR owner IS NOT 'a')");
    assert!(recover.contains("USING INDEX executions_active (status=?)"), "{recover}");
    // The newest running or queued executions (read::list with one status): their range of the
    // same index, sorted (a handful of rows; a backlog's list sorts its queued rows), never a walk
    // of the whole history newest first.
    for status in [Status::Running, Status::Queued] {
        let list = plan(&format!("SELECT id FROM executions WHERE {} ORDER BY id DESC LIMIT 50", read::status_is(status)));
        assert!(list.contains("USING INDEX executions_active (status=?)"), "{status}: {list}");
        // Also within a crew: not the crew's whole history walked for its live rows.
        let crew = plan(&format!(
            "SELECT id FROM executions WHERE {} AND {} ORDER BY id DESC LIMIT 50",
            read::crew_is(1, Some(status)),
            read::status_is(status)
        ));
        assert!(crew.contains("executions_active (status=?)") && !crew.contains("executions_crew_list"), "{status}: {crew}");
    }
    // Retrying: its own index, with or without a crew.
    for crew in [None, Some(1)] {
        let crew = crew.map(|arg| format!("{} AND ", read::crew_is(arg, Some(Status::Retrying)))).unwrap_or_default();
        let from = read::listed_from(Some(Status::Retrying));
        let list = plan(&format!("SELECT id FROM {from} WHERE {crew}{} ORDER BY id DESC LIMIT 50", read::status_is(Status::Retrying)));
        assert!(list.contains("executions_retrying") && !list.contains("executions_crew_list") && !list.contains("autoindex"), "{list}");
    }
    // Other statuses within a crew walk the crew's list.
    let failed = format!(
        "SELECT id FROM executions WHERE {} AND {} ORDER BY id DESC LIMIT 50",
        read::crew_is(1, Some(Status::Failed)),
        read::status_is(Status::Failed)
    );
    assert!(plan(&failed).contains("executions_crew_list"), "{}", plan(&failed));
    // Counting by status (read::counts) never reads the table: partial indexes, and the narrowest
    // index for the total.
    for status in ["queued", "running", "retrying", "failed", "cancelled"] {
        let count = plan(&format!("SELECT COUNT(*) FROM executions WHERE status = '{status}'"));
        assert!(count.contains("USING") && count.contains("INDEX"), "{status}: {count}");
    }
}

/// Whether a claim future has its answer yet, without waiting.
fn answered(claim: &mut BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>) -> Option<Result<Vec<ClaimedRun>, StoreError>> {
    use futures_util::FutureExt;
    claim.now_or_never()
}

#[tokio::test]
async fn a_waiting_claim_takes_a_submission_in_the_transaction_that_inserts_it() {
    let (_dir, store) = open_temp();
    let slots = Arc::new(ClaimSlots::new(2));
    let mut claim = store.claim_when_ready(claim_request(OWNER, 0, 0), slots.clone());
    // Tried on an empty queue (the flush commits after it): it waits.
    store.flush().await.unwrap();
    assert!(answered(&mut claim).is_none(), "an empty queue gives a waiting claim nothing to answer");
    let commits = store.commits();
    let e = store.insert(submission("next", Priority::Low)).await.unwrap().execution;
    let runs = claim.await.unwrap();
    assert_eq!(store.commits() - commits, 1, "the insert and the claim share one transaction");
    assert_eq!(runs.len(), 1);
    let claimed = &runs[0].transition.execution;
    assert_eq!((claimed.id.clone(), claimed.attempt, claimed.status()), (e.id.clone(), 1, Status::Running));
    assert!(matches!(&claimed.state, ExecutionState::Running { owner, .. } if owner == OWNER));
    assert_eq!(runs[0].transition.log.event.kind, EventKind::Started);
    assert_eq!(store.get(&e.id).unwrap().unwrap().status(), Status::Running);
}

/// A listener registered with `store` that writes down each change it hears as text
/// (`"CREW KIND STATUS"`, `"paused=… concurrency=…"`); dropping the listener unregisters it.
fn listen_as_text(store: &SqliteStore) -> (Arc<CommitListener>, Arc<std::sync::Mutex<Vec<String>>>) {
    let heard = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let listener: Arc<CommitListener> = {
        let heard = heard.clone();
        Arc::new(move |change: Committed<'_>| {
            heard.lock().unwrap().push(match change {
                Committed::Transition(t) => format!("{} {:?} {}", t.execution.crew_name, t.log.event.kind, t.execution.status()),
                Committed::Queue(q) => format!("paused={} concurrency={}", q.paused, q.concurrency),
            })
        })
    };
    store.listen(&listener);
    (listener, heard)
}

#[tokio::test]
async fn listeners_hear_every_change_in_commit_order_before_its_write_is_answered() {
    let (_dir, store) = open_temp();
    let (listener, heard) = listen_as_text(&store);
    let take = || std::mem::take(&mut *heard.lock().unwrap());

    // A submission that a waiting claim takes in the same commit: both heard, queued first, by
    // the time the submission is answered (the claim is answered after it).
    let claim = store.claim_when_ready(claim_request(OWNER, 0, 0), Arc::new(ClaimSlots::new(1)));
    store.flush().await.unwrap();
    let a = store.insert(submission("a", Priority::Normal)).await.unwrap().execution.id;
    assert_eq!(take(), ["a Submitted queued", "a Started running"]);
    assert_eq!(claim.await.unwrap().len(), 1);

    // Likewise a resume and the claim it lets through.
    store.set_paused(true).await.unwrap();
    let b = store.insert(submission("b", Priority::Normal)).await.unwrap().execution.id;
    let claim = store.claim_when_ready(claim_request(OWNER, 0, 0), Arc::new(ClaimSlots::new(1)));
    store.flush().await.unwrap();
    store.set_paused(false).await.unwrap();
    assert_eq!(take(), ["paused=true concurrency=4", "b Submitted queued", "paused=false concurrency=4", "b Started running"]);
    assert_eq!(claim.await.unwrap().len(), 1);

    // Every other kind of change is heard when it commits; a write that fails is not.
    store.finish(&b, OWNER, Finish::Succeeded { output: "done".into(), usage: Usage::default() }).await.unwrap();
    let c = store.insert(submission("c", Priority::Normal)).await.unwrap().execution.id;
    store.set_priority(&c, Priority::High).await.unwrap();
    assert!(store.set_priority(&a, Priority::High).await.is_err(), "a running execution keeps its priority");
    store.request_cancel(&a).await.unwrap();
    store.finish(&a, OWNER, Finish::Cancelled).await.unwrap();
    store.set_concurrency(2).await.unwrap();
    store.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap();
    store.schedule_retry(&c, OWNER, ExecutionError::new(ErrorKind::LlmConnection, "reset"), now_ms()).await.unwrap();
    store.claim_runs(claim_request(OWNER, now_ms() + 1, 1)).await.unwrap();
    store.requeue(&c, OWNER, "shutting down").await.unwrap();
    store.claim(claim_request("deadhost:1:gone", 0, 1)).await.unwrap();
    store.recover(RecoverRequest { now: now_ms() + 60_000, exclude_owner: None }).await.unwrap();
    let expected = [
        "b Succeeded succeeded",
        "c Submitted queued",
        "c PriorityChanged queued",
        "a CancelRequested running",
        "a Cancelled cancelled",
        "paused=false concurrency=2",
        "c Started running",
        "c RetryScheduled retrying",
        "c Started running",
        "c Interrupted queued",
        "c Started running",
        "c Recovered queued",
    ];
    assert_eq!(take(), expected);

    // Held weakly: once dropped, nothing more is heard.
    drop(listener);
    store.insert(submission("d", Priority::Normal)).await.unwrap();
    assert_eq!(take(), Vec::<String>::new());
}

#[test]
fn a_claim_in_the_inserting_transaction_answers_what_a_re_read_of_the_row_says() {
    // The claim takes the execution its transaction just inserted from memory (no re-read), but
    // only while no row has changed since; either way its answer must be the row as stored.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crew.db");
    let conn = open::open_writer(&path, &OpenOptions::default()).unwrap();
    let db = WriteConn::new(&conn);
    let reread = |id: &ExecutionId| rows::load_execution(&db, &path, id).unwrap().unwrap();
    let mut full = submission("full", Priority::Normal);
    full.inputs.insert("topic".into(), serde_json::json!({ "nested": [1, 2.5, "x"] }));
    full.meta.insert("team".into(), "a".into());
    full.timeout_ms = Some(30_000);

    // Claimed right after its insert.
    db.begin().unwrap();
    let inserted = write::insert(&db, &path, full.clone(), 1_000).unwrap().execution;
    let claimed = write::claim(&db, &path, &claim_request(OWNER, 2_000, 1)).unwrap().pop().unwrap().execution;
    assert_eq!(claimed.id, inserted.id);
    assert_eq!(claimed, reread(&claimed.id));
    db.run_cached("COMMIT").unwrap();

    // Its priority changed in between: the claim must not answer the inserted version.
    db.begin().unwrap();
    let inserted = write::insert(&db, &path, full.clone(), 3_000).unwrap().execution;
    write::set_priority(&db, &path, &inserted.id, Priority::Urgent, 3_001).unwrap();
    let claimed = write::claim(&db, &path, &claim_request(OWNER, 4_000, 1)).unwrap().pop().unwrap().execution;
    assert_eq!((claimed.id.clone(), claimed.priority), (inserted.id.clone(), Priority::Urgent));
    assert_eq!(claimed, reread(&claimed.id));
    db.run_cached("COMMIT").unwrap();

    // Inserted in an earlier transaction (kept across the commit): the same answer.
    db.begin().unwrap();
    let earlier = write::insert(&db, &path, full, 5_000).unwrap().execution;
    db.run_cached("COMMIT").unwrap();
    db.begin().unwrap();
    let claimed = write::claim(&db, &path, &claim_request(OWNER, 6_000, 1)).unwrap().pop().unwrap().execution;
    assert_eq!(claimed.id, earlier.id);
    assert_eq!(claimed, reread(&claimed.id));
    db.run_cached("COMMIT").unwrap();
}

#[tokio::test]
async fn a_waiting_claim_takes_its_slots_at_each_try_in_claim_order_and_never_while_paused() {
    let (_dir, store) = open_temp();
    store.set_paused(true).await.unwrap();
    let slots = Arc::new(ClaimSlots::new(1));
    let mut claim = store.claim_when_ready(claim_request(OWNER, 0, 0), slots.clone());
    let low = store.insert(submission("low", Priority::Low)).await.unwrap().execution;
    let high = store.insert(submission("high", Priority::High)).await.unwrap().execution;
    let normal = store.insert(submission("normal", Priority::Normal)).await.unwrap().execution;
    store.flush().await.unwrap();
    assert!(answered(&mut claim).is_none(), "nothing is claimed while the queue is paused");
    // Raised while it waits: the try after the resume takes two, best first.
    slots.set(2);
    store.set_paused(false).await.unwrap();
    let ids: Vec<_> = claim.await.unwrap().into_iter().map(|r| r.transition.execution.id).collect();
    assert_eq!(ids, vec![high.id, normal.id]);
    assert_eq!(store.get(&low.id).unwrap().unwrap().status(), Status::Queued);
}

#[tokio::test]
async fn a_withdrawn_waiting_claim_answers_empty_and_claims_nothing() {
    let (_dir, store) = open_temp();
    let slots = Arc::new(ClaimSlots::new(3));
    let mut claim = store.claim_when_ready(claim_request(OWNER, 0, 0), slots.clone());
    store.flush().await.unwrap();
    assert!(answered(&mut claim).is_none());
    slots.set(0);
    store.flush().await.unwrap();
    assert!(claim.await.unwrap().is_empty());
    let e = store.insert(submission("later", Priority::Urgent)).await.unwrap().execution;
    store.flush().await.unwrap();
    assert_eq!(store.get(&e.id).unwrap().unwrap().status(), Status::Queued);
}

#[tokio::test]
async fn a_version_3_file_with_history_is_upgraded_in_place() {
    let (dir, store) = open_temp();
    let path = dir.path().join("crew.db");
    // Two executions in every status, across two crews (claimed oldest first).
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(store.insert(submission(if i % 2 == 0 { "a" } else { "b" }, Priority::Normal)).await.unwrap().execution.id);
    }
    assert_eq!(store.claim(claim_request(OWNER, now_ms(), 10)).await.unwrap().len(), 10);
    let error = || ExecutionError::new(ErrorKind::Internal, "boom");
    for id in &ids[0..2] {
        store.finish(id, OWNER, Finish::Succeeded { output: "ok".into(), usage: Usage::default() }).await.unwrap();
    }
    for id in &ids[2..4] {
        store.finish(id, OWNER, Finish::Failed { error: error(), usage: None }).await.unwrap();
    }
    for id in &ids[4..6] {
        store.finish(id, OWNER, Finish::Cancelled).await.unwrap();
    }
    for id in &ids[6..8] {
        store.schedule_retry(id, OWNER, error(), now_ms() + 60_000).await.unwrap();
    }
    let lists = |store: &SqliteStore| -> Vec<Vec<ExecutionId>> {
        let mut out = Vec::new();
        for crew in [None, Some("a".to_string())] {
            for status in Status::ALL {
                let filter = ExecutionFilter { statuses: vec![status], crew_name: crew.clone(), ..Default::default() };
                out.push(store.list(&filter).unwrap().into_iter().map(|e| e.id).collect());
            }
        }
        out
    };
    let before = lists(&store);
    // Every status a version 3 file can hold (not `awaiting_input`, version 9's).
    let old = |s: &Status| *s != Status::AwaitingInput;
    assert!(before.iter().zip(Status::ALL).filter(|(_, s)| old(s)).all(|(ids, _)| ids.len() == 2), "{before:?}");
    let counts = store.counts().unwrap();
    assert!(Status::ALL.iter().filter(|s| old(s)).all(|s| counts.get(*s) == 2), "{counts:?}");
    drop(store);

    // The file as version 3 left it: its status-led indexes, none of versions 4's and 5's, no
    // idempotency keys (7), no engine column (8), no review (9), no call payloads (10).
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TABLE call_payloads; DROP INDEX executions_active; DROP INDEX executions_failed; DROP INDEX executions_cancelled;
             DROP INDEX executions_crew_list; DROP TABLE idempotency_keys;
             CREATE INDEX executions_queued ON executions (priority DESC, queue_seq) WHERE status = 'queued';
             CREATE INDEX executions_crew_list ON executions (crew_name, id DESC);
             CREATE INDEX executions_status_list ON executions (status, id DESC);
             CREATE INDEX executions_crew_status_list ON executions (crew_name, status, id DESC);
             ALTER TABLE executions DROP COLUMN lease_token; ALTER TABLE executions DROP COLUMN abandons;
             ALTER TABLE executions DROP COLUMN max_abandons; ALTER TABLE executions DROP COLUMN engine;
             ALTER TABLE queue_state DROP COLUMN clock_boot;
             ALTER TABLE queue_state DROP COLUMN clock_skew_ms;
             DROP INDEX executions_awaiting_input; DROP TABLE input_reviews;
             ALTER TABLE executions DROP COLUMN awaiting_input;
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = replace(sql, ', ''awaiting_input'')', ')') WHERE name = 'executions';
             PRAGMA writable_schema = OFF;
             DELETE FROM schema_migrations WHERE version >= 4; PRAGMA user_version = 3;",
        )
        .unwrap();

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.applied_migrations().unwrap().last().map(|m| m.0), Some(SCHEMA_VERSION));
    let indexes: Vec<String> = store
        .read(|c, _| {
            let mut stmt =
                c.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions' ORDER BY name").unwrap();
            Ok(stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect())
        })
        .unwrap();
    let has = |name: &str| indexes.iter().any(|i| i == name);
    assert!(has("executions_active") && has("executions_failed") && has("executions_crew_list"), "{indexes:?}");
    assert!(!has("executions_queued") && !has("executions_running") && !has("executions_status_list"), "{indexes:?}");
    // The crew list index is ascending now (walked backwards for newest first).
    let crew_index: String = store
        .read(|c, _| Ok(c.query_row("SELECT sql FROM sqlite_master WHERE name = 'executions_crew_list'", [], |r| r.get(0)).unwrap()))
        .unwrap();
    assert!(crew_index.ends_with("(crew_name, id)"), "{crew_index}");
    assert_eq!(lists(&store), before);
    assert_eq!(store.counts().unwrap(), counts);
    // Version 9 widened the status constraint in place: an execution can wait for input.
    let table: String =
        store.read(|c, _| Ok(c.query_row("SELECT sql FROM sqlite_master WHERE name = 'executions'", [], |r| r.get(0)).unwrap())).unwrap();
    assert!(table.contains("'cancelled', 'awaiting_input')"), "{table}");
    let waiting = store.insert(submission("a", Priority::Normal)).await.unwrap().execution.id;
    store.claim(claim_request(OWNER, now_ms(), 10)).await.unwrap();
    store.await_input(&waiting, OWNER, review_request("t")).await.unwrap();
    assert_eq!(store.counts().unwrap().awaiting_input, 1);
}

#[tokio::test]
async fn a_wall_clock_step_moves_retry_due_times_and_leases_once() {
    let Some(reading) = crate::store::clock::ClockReading::now() else { return };
    let (dir, store) = open_temp();
    let retry = store.insert(submission("retry", Priority::Normal)).await.unwrap().execution;
    let t0 = now_ms();
    store.claim(claim_request(OWNER, t0, 1)).await.unwrap();
    // Recovery records the clock reference (no step yet).
    store.recover(RecoverRequest { now: t0, exclude_owner: None }).await.unwrap();
    let err = ExecutionError::new(ErrorKind::LlmServer, "502");
    store.schedule_retry(&retry.id, OWNER, err, t0 + 5_000).await.unwrap();
    let running = store.insert(submission("running", Priority::Normal)).await.unwrap().execution;
    store.claim(claim_request(OWNER, t0, 1)).await.unwrap();
    let lease_before = match store.get(&running.id).unwrap().unwrap().state {
        ExecutionState::Running { lease_expires_at, .. } => lease_expires_at,
        other => panic!("{other:?}"),
    };
    // As if the reference had been taken while the wall clock was an hour ahead: the clock has
    // now stepped back by an hour.
    let db = Connection::open(dir.path().join("crew.db")).unwrap();
    let stored: i64 = db.query_row("SELECT clock_skew_ms FROM queue_state", [], |r| r.get(0)).unwrap();
    assert!((stored - reading.skew_ms).abs() < 2_000, "the reference is this machine's skew");
    db.execute("UPDATE queue_state SET clock_skew_ms = clock_skew_ms + 3600000", []).unwrap();
    drop(db);

    store.recover(RecoverRequest { now: now_ms(), exclude_owner: Some(OWNER.into()) }).await.unwrap();
    let due = match store.get(&retry.id).unwrap().unwrap().state {
        ExecutionState::Retrying { next_run_at, .. } => next_run_at,
        other => panic!("{other:?}"),
    };
    assert!((due - (t0 + 5_000 - 3_600_000)).abs() < 2_500, "moved back by the step: {due} vs {t0}");
    let lease_after = match store.get(&running.id).unwrap().unwrap().state {
        ExecutionState::Running { lease_expires_at, .. } => lease_expires_at,
        other => panic!("{other:?}"),
    };
    assert!((lease_after - (lease_before - 3_600_000)).abs() < 2_500, "{lease_before} -> {lease_after}");
    // Seen once: the next look finds the clock steady and moves nothing.
    store.renew_leases("nobody:1:x", now_ms(), 10_000).await.unwrap();
    let again = match store.get(&retry.id).unwrap().unwrap().state {
        ExecutionState::Retrying { next_run_at, .. } => next_run_at,
        other => panic!("{other:?}"),
    };
    assert_eq!(again, due);
}

fn review_request(task: &str) -> InputRequest {
    InputRequest {
        task: task.into(),
        agent: "Writer".into(),
        round: 1,
        draft: "the draft".into(),
        json: serde_json::Value::Null,
        usage: Usage { llm_calls: 1, total_tokens: 15, ..Usage::default() },
        asked_at: 7,
    }
}

#[tokio::test]
async fn awaiting_input_holds_no_slot_survives_reopening_and_an_answer_queues_it_again() {
    let (dir, store) = open_temp();
    let e = store.insert(submission("a", Priority::Normal)).await.unwrap().execution;
    store.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap();
    assert!(store.answer_input(&e.id, InputAnswer::Accepted).await.is_err(), "running: nothing to answer");
    let t = store.await_input(&e.id, OWNER, review_request("t")).await.unwrap();
    assert_eq!(t.execution.state, ExecutionState::AwaitingInput { request: review_request("t") });
    assert_eq!(t.execution.attempt, 0, "the pause refunds the attempt");
    assert_eq!(t.log.event.kind, EventKind::AwaitingInput);
    // Nothing to claim, nothing to renew: no slot is held.
    assert!(store.claim(claim_request(OWNER, now_ms(), 1)).await.unwrap().is_empty());
    assert!(store.renew_leases(OWNER, now_ms(), 1000).await.unwrap().running.is_empty());
    let filter = ExecutionFilter { statuses: vec![Status::AwaitingInput], ..Default::default() };
    assert_eq!(store.list(&filter).unwrap().len(), 1);
    assert_eq!(store.counts().unwrap().awaiting_input, 1);
    assert_eq!(store.counts().unwrap().active(), 0, "nothing a worker runs by itself");
    drop(store);

    let store = SqliteStore::open(dir.path().join("crew.db")).unwrap();
    assert_eq!(store.get(&e.id).unwrap().unwrap().status(), Status::AwaitingInput);
    let answered = store.answer_input(&e.id, InputAnswer::Feedback { text: "shorter".into() }).await.unwrap();
    assert_eq!(answered.execution.state, ExecutionState::Queued);
    assert_eq!(answered.log.event.kind, EventKind::InputAnswered);
    assert!(store.answer_input(&e.id, InputAnswer::Accepted).await.is_err(), "answered once");
    let runs = store.claim_runs(claim_request(OWNER, now_ms(), 1)).await.unwrap();
    assert_eq!(runs[0].transition.execution.attempt, 1, "the same attempt goes on");
    assert_eq!(runs[0].reviews.len(), 1);
    assert_eq!(runs[0].reviews[0].answer, InputAnswer::Feedback { text: "shorter".into() });
    assert_eq!(runs[0].reviews[0].request, review_request("t"));

    // A cancel while waiting ends it at once.
    let mut second = review_request("t");
    second.round = 2;
    store.await_input(&e.id, OWNER, second).await.unwrap();
    let cancelled = store.request_cancel(&e.id).await.unwrap();
    assert_eq!(cancelled.outcome, CancelOutcome::Cancelled);
    assert!(matches!(store.get(&e.id).unwrap().unwrap().state, ExecutionState::Cancelled { was_running: true, .. }));
    assert_eq!(store.reviews(&e.id).unwrap().len(), 1);
}
