//! Control from other processes and from signals: `cancel`, `pause`/`resume`, Ctrl-C on `--run`,
//! SIGTERM/SIGINT on `worker`.

use crate::harness;
use crate::support;

use harness::{fixture, log_kinds, signal, submitted_ids, Crew, PROC_WAIT};
use support::{MockLlm, Reply};

/// A reply that would take 30 s: every test here stops it long before.
fn stalled() -> Reply {
    Reply::delay(30_000, Reply::text("Thought: too late\nFinal Answer: this should never arrive"))
}

fn one_task() -> String {
    fixture("proc/one-task.yaml").display().to_string()
}

/// Submits one execution of the one-task crew for `item`; returns its id.
fn submit(crew: &Crew, item: &str) -> String {
    let input = format!("item={item}");
    let ids = submitted_ids(&crew.json(&["submit", &one_task(), "--input", &input, "--json"]));
    assert_eq!(ids.len(), 1);
    ids.into_iter().next().unwrap()
}

fn running_ids(crew: &Crew) -> Vec<String> {
    let v = crew.json(&["list", "--json", "--status", "running"]);
    v.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

/// Cancels `id` from this (other) process; the outcome word of `cancel --json`.
fn cancel(crew: &Crew, id: &str) -> String {
    let v = crew.json(&["cancel", id, "--json"]);
    assert_eq!(v["id"], id);
    v["outcome"].as_str().unwrap().to_string()
}

#[test]
fn cancel_from_another_process_aborts_the_running_request() {
    let mock = MockLlm::start();
    mock.push_for("row0001", stalled());
    let crew = Crew::new(Some(&mock.base_url()));
    let id = submit(&crew, "row0001");
    let mut worker = crew.spawn_logged("worker", &["worker"]);
    assert!(mock.wait_for_chat_count(1, PROC_WAIT), "the worker sent no request: {}", worker.stderr());

    // The text form says "requested" too.
    let text = crew.ok(&["cancel", &id]);
    assert!(text.contains("requested"), "{text}");
    let e = crew.wait_status(&id, &["cancelled"], PROC_WAIT);
    assert_eq!(e["status"], "cancelled");
    assert!(mock.wait_for_aborts(1, PROC_WAIT), "the in-flight HTTP request was not aborted");
    // Cancelling again is harmless.
    assert_eq!(cancel(&crew, &id), "already_finished");

    signal(&worker.child, "TERM");
    assert_eq!(worker.wait_exit(PROC_WAIT).code(), Some(0), "{}", worker.stderr());
    assert_eq!(mock.chat_count(), 1, "a cancelled execution is not run again");
    let kinds = log_kinds(&crew.logs_json(&id));
    assert!(kinds.contains(&"cancel_requested".to_string()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("cancelled"), "{kinds:?}");
}

#[test]
fn pause_from_another_process_stops_a_running_worker_claiming() {
    let mock = MockLlm::start();
    mock.push_for("row0001", stalled());
    mock.push_for("row0002", stalled());
    let crew = Crew::new(Some(&mock.base_url()));
    let first = submit(&crew, "row0001");
    let second = submit(&crew, "row0002");
    let mut worker = crew.spawn_logged("worker", &["worker", "--concurrency", "4"]);
    assert!(mock.wait_for_chat_count(2, PROC_WAIT), "the worker did not start both: {}", worker.stderr());

    assert_eq!(crew.ok(&["pause"]).trim(), "queue paused");
    // The worker sees the pause at its next heartbeat, the same one that sees this cancel (the
    // heartbeat reads the cancel requests, then the queue settings). So once `first` is
    // cancelled the worker knows the queue is paused.
    assert_eq!(cancel(&crew, &first), "requested");
    crew.wait_status(&first, &["cancelled"], PROC_WAIT);

    let late = submit(&crew, "row0003");
    // Proof that the worker had its chance at `late`: it handled a later cancel (a heartbeat,
    // which ends by trying to claim, and a completion) after `late` was queued.
    assert_eq!(cancel(&crew, &second), "requested");
    crew.wait_status(&second, &["cancelled"], PROC_WAIT);
    assert_eq!(crew.status_json(&late)["status"], "queued", "a paused queue must not start new work");
    assert!(worker.child.try_wait().unwrap().is_none(), "the worker is still alive");
    assert_eq!(mock.chat_count(), 2, "nothing new was sent while paused");

    assert_eq!(crew.ok(&["resume"]).trim(), "queue resumed");
    let e = crew.wait_status(&late, &["succeeded", "failed", "cancelled"], PROC_WAIT);
    assert_eq!(e["status"], "succeeded", "{e}");

    signal(&worker.child, "TERM");
    assert_eq!(worker.wait_exit(PROC_WAIT).code(), Some(0), "{}", worker.stderr());
}

#[test]
fn ctrl_c_on_run_cancels_and_exits_130() {
    let mock = MockLlm::start();
    mock.push_for("row0001", stalled());
    let crew = Crew::new(Some(&mock.base_url()));
    let mut run = crew.spawn_logged("run", &["--run", &one_task(), "--input", "item=row0001"]);
    assert!(mock.wait_for_chat_count(1, PROC_WAIT), "--run sent no request: {}", run.stderr());

    signal(&run.child, "INT");
    let status = run.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(130), "stderr: {}", run.stderr());
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    assert!(mock.wait_for_aborts(1, PROC_WAIT), "the in-flight HTTP request was not aborted");

    let all = crew.executions();
    assert_eq!(all.len(), 1);
    let id = all[0]["id"].as_str().unwrap();
    assert_eq!(crew.status_json(id)["status"], "cancelled");
    assert_eq!(mock.chat_count(), 1);
}

/// A worker stopped by `sig` exits 0, puts its running execution back in the queue with an
/// `interrupted` line, and a restarted worker finishes it.
fn worker_stops_cleanly_on(sig: &str) {
    let mock = MockLlm::start();
    mock.push_for("row0001", stalled());
    let crew = Crew::new(Some(&mock.base_url()));
    let id = submit(&crew, "row0001");
    let mut worker = crew.spawn_logged("worker", &["worker"]);
    assert!(mock.wait_for_chat_count(1, PROC_WAIT), "the worker sent no request: {}", worker.stderr());
    assert_eq!(running_ids(&crew), vec![id.clone()]);

    signal(&worker.child, sig);
    let status = worker.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(0), "SIG{sig}: {}", worker.stderr());
    assert!(!worker.stderr().contains("panicked"), "{}", worker.stderr());
    assert!(mock.wait_for_aborts(1, PROC_WAIT), "the in-flight HTTP request was not aborted");

    assert!(running_ids(&crew).is_empty(), "nothing is left running");
    let e = crew.status_json(&id);
    assert_eq!(e["status"], "queued", "{e}");
    let kinds = log_kinds(&crew.logs_json(&id));
    assert!(kinds.contains(&"interrupted".to_string()), "{kinds:?}");

    // The next reply for the item is the mock's default answer (no delay).
    let mut again = crew.spawn_logged("worker-again", &["worker", "--until-idle"]);
    assert_eq!(again.wait_exit(PROC_WAIT).code(), Some(0), "{}", again.stderr());
    let e = crew.status_json(&id);
    assert_eq!(e["status"], "succeeded", "{e}");
    assert_eq!(mock.chat_count(), 2, "the interrupted request was sent again, once");
}

#[test]
fn worker_sigterm_requeues_and_exits_0() {
    worker_stops_cleanly_on("TERM");
}

#[test]
fn worker_sigint_requeues_and_exits_0() {
    worker_stops_cleanly_on("INT");
}

#[test]
fn sigterm_on_run_cancels_like_ctrl_c() {
    let mock = MockLlm::start();
    mock.push_for("row0001", stalled());
    let crew = Crew::new(Some(&mock.base_url()));
    let mut run = crew.spawn_logged("run", &["--run", &one_task(), "--input", "item=row0001"]);
    assert!(mock.wait_for_chat_count(1, PROC_WAIT), "--run sent no request: {}", run.stderr());

    signal(&run.child, "TERM");
    let status = run.wait_exit(PROC_WAIT);
    assert_eq!(status.code(), Some(143), "stderr: {}", run.stderr());
    assert!(mock.wait_for_aborts(1, PROC_WAIT), "the in-flight HTTP request was not aborted");
    let all = crew.executions();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "cancelled", "{}", all[0]);

    // Nothing is left for a worker to pick up.
    let mut worker = crew.spawn_logged("worker", &["worker", "--until-idle"]);
    assert_eq!(worker.wait_exit(PROC_WAIT).code(), Some(0), "{}", worker.stderr());
    assert_eq!(mock.chat_count(), 1);
}
