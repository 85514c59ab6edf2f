//! LLM faults end to end: the real binary (`run`, or `submit` + `worker --until-idle`) against
//! the mock server, one case per fault.
//!
//! Each case checks the exit code, the execution's final status, the error kind and message in
//! `status --json`, how many requests reached the mock (retryable faults are retried up to
//! `--max-attempts`, final ones are not), and that the process ended: every run is waited for
//! with a bound, and a hang fails the test. Where a server hints Retry-After, the next request
//! must not arrive before the hint (a lower bound from the mock's receive times; no upper
//! timing bound is asserted anywhere).

use crate::harness;
use crate::support;

use std::time::Duration;

use harness::{arg, fixture, Crew, Outcome, PROC_WAIT};
use serde_json::Value;
use support::{MockLlm, RecordedRequest, Reply};

fn one_task() -> String {
    arg(&fixture("proc/one-task.yaml"))
}

fn three_tasks() -> String {
    arg(&fixture("proc/three-tasks.yaml"))
}

const DONE: &str = "Thought: done\nFinal Answer: noted.";

/// Runs the binary and waits for it, at most [`PROC_WAIT`] (a hang fails the test).
fn bounded(crew: &Crew, label: &str, args: &[&str]) -> Outcome {
    let mut child = crew.spawn_logged(label, args);
    let status = child.wait_exit(PROC_WAIT);
    let outcome = Outcome { code: status.code(), stdout: child.stdout(), stderr: child.stderr() };
    assert!(!outcome.stderr.contains("panicked"), "crew-runner {args:?} panicked:\n{}", outcome.stderr);
    outcome
}

/// How a case drives the binary.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// `crew-runner run CREW …` in one process.
    Run,
    /// `crew-runner submit CREW …`, then `crew-runner worker --until-idle`.
    Worker,
}

/// Runs `crew` with `item=x` and extra options `via` the given path; returns the exit code of
/// the process that ran it and that execution's `status --json`.
fn run_case(crew: &Crew, via: Via, crew_file: &str, extra: &[&str]) -> (Outcome, Value) {
    let mut args = vec![crew_file, "--input", "item=x"];
    args.extend_from_slice(extra);
    let outcome = match via {
        Via::Run => {
            let mut run = vec!["run"];
            run.extend_from_slice(&args);
            bounded(crew, "run", &run)
        }
        Via::Worker => {
            let mut submit = vec!["submit"];
            submit.extend_from_slice(&args);
            let submitted = bounded(crew, "submit", &submit);
            assert_eq!(submitted.code, Some(0), "submit failed: {}", submitted.stderr);
            bounded(crew, "worker", &["worker", "--until-idle"])
        }
    };
    let all = crew.executions();
    assert_eq!(all.len(), 1, "one execution expected: {all:#?}");
    let id = all[0]["id"].as_str().expect("an id").to_string();
    (outcome, crew.status_json(&id))
}

/// The exit code `via` gives for an execution that failed: `run` reports it (1), a worker only
/// runs it (0).
fn failed_exit(via: Via) -> Option<i32> {
    match via {
        Via::Run => Some(1),
        Via::Worker => Some(0),
    }
}

fn error_kinds(e: &Value) -> Vec<String> {
    e["attempt_errors"].as_array().expect("attempt_errors").iter().map(|f| f["error"]["kind"].as_str().unwrap_or("").to_string()).collect()
}

/// Asserts a failed execution: kind, a message containing `needle`, `attempts` attempts made.
fn assert_failed(e: &Value, kind: &str, needle: &str, attempts: u64) {
    assert_eq!(e["status"], "failed", "{e:#}");
    assert_eq!(e["error"]["kind"], kind, "{e:#}");
    let message = e["error"]["message"].as_str().expect("an error message");
    assert!(message.contains(needle), "the message should mention {needle:?}: {message}");
    assert_eq!(e["attempt"], attempts, "{e:#}");
}

/// Asserts that each request came at least `min` after the one before it. The scheduler keeps
/// times in whole milliseconds, so up to 1 ms of rounding is allowed.
fn assert_spaced(requests: &[RecordedRequest], min: Duration) {
    for pair in requests.windows(2) {
        let gap = pair[1].received_at.duration_since(pair[0].received_at);
        assert!(gap + Duration::from_millis(1) >= min, "a retry came {gap:?} after the last request, before the hinted {min:?}");
    }
}

// ---- 429 with Retry-After ----

#[test]
fn rate_limit_is_retried_not_before_retry_after_then_succeeds() {
    let mock = MockLlm::start();
    mock.push(Reply::rate_limited("2"));
    mock.push(Reply::text(DONE));
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["attempt"], 2);
    assert_eq!(error_kinds(&e), ["llm_rate_limited"]);
    let failure = &e["attempt_errors"][0]["error"];
    assert_eq!(failure["retry_after_ms"], 2000, "{failure}");
    assert!(failure["message"].as_str().unwrap().contains("HTTP 429"), "{failure}");
    assert_eq!(mock.chat_count(), 2);
    assert_spaced(&mock.chat_requests(), Duration::from_secs(2));
}

#[test]
fn rate_limit_on_every_attempt_fails_after_max_attempts() {
    let mock = MockLlm::start();
    for _ in 0..3 {
        mock.push(Reply::rate_limited("1"));
    }
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Worker, &one_task(), &["--max-attempts", "3"]);
    assert_eq!(out.code, failed_exit(Via::Worker), "{}", out.stderr);
    assert_failed(&e, "llm_rate_limited", "HTTP 429", 3);
    assert_eq!(e["error"]["retry_after_ms"], 1000, "{e:#}");
    assert_eq!(error_kinds(&e), ["llm_rate_limited", "llm_rate_limited", "llm_rate_limited"]);
    assert_eq!(mock.chat_count(), 3, "no attempt beyond --max-attempts");
    assert_spaced(&mock.chat_requests(), Duration::from_secs(1));
}

// ---- 500 ----

#[test]
fn server_error_is_retried_up_to_max_attempts_then_fails() {
    for via in [Via::Run, Via::Worker] {
        let mock = MockLlm::start();
        for _ in 0..3 {
            mock.push(Reply::status(500, "the upstream broke"));
        }
        let crew = Crew::new(Some(&mock.base_url()));
        let (out, e) = run_case(&crew, via, &one_task(), &["--max-attempts", "3"]);
        assert_eq!(out.code, failed_exit(via), "{via:?}: {}", out.stderr);
        assert_failed(&e, "llm_server", "HTTP 500: the upstream broke", 3);
        assert_eq!(error_kinds(&e), ["llm_server", "llm_server", "llm_server"], "{via:?}");
        assert_eq!(mock.chat_count(), 3, "{via:?}: no attempt beyond --max-attempts");
        if let Via::Run = via {
            assert!(out.stderr.contains("llm_server"), "run says why: {}", out.stderr);
        }
    }
}

// ---- Connection reset ----

#[test]
fn connection_reset_is_retried_then_succeeds() {
    let mock = MockLlm::start();
    mock.push(Reply::Reset);
    mock.push(Reply::text(DONE));
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["output"], "noted.");
    assert_eq!(error_kinds(&e), ["llm_connection"]);
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn connection_reset_on_every_attempt_fails_after_max_attempts() {
    let mock = MockLlm::start();
    for _ in 0..2 {
        mock.push(Reply::Reset);
    }
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Worker, &one_task(), &["--max-attempts", "2"]);
    assert_eq!(out.code, failed_exit(Via::Worker), "{}", out.stderr);
    assert_failed(&e, "llm_connection", &mock.base_url(), 2);
    assert_eq!(mock.chat_count(), 2);
}

// ---- A reply slower than the timeout ----

#[test]
fn reply_slower_than_the_llm_timeout_is_retried_then_fails() {
    let mock = MockLlm::start();
    for _ in 0..2 {
        mock.push(Reply::held(Reply::text(DONE))); // never released: slower than any timeout
    }
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_LLM_TIMEOUT_SECS".into(), "0.3".into()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &["--max-attempts", "2"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_failed(&e, "llm_timeout", "timed out", 2);
    assert_eq!(error_kinds(&e), ["llm_timeout", "llm_timeout"]);
    assert_eq!(mock.chat_count(), 2);
    assert!(mock.wait_for_aborts(2, PROC_WAIT), "each timed-out request closed its connection");
}

#[test]
fn reply_slower_than_the_llm_timeout_then_a_fast_one_succeeds() {
    let mock = MockLlm::start();
    mock.push(Reply::held(Reply::text(DONE)));
    mock.push(Reply::text(DONE));
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_LLM_TIMEOUT_SECS".into(), "0.3".into()));
    let (out, e) = run_case(&crew, Via::Worker, &one_task(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(error_kinds(&e), ["llm_timeout"]);
    assert_eq!(mock.chat_count(), 2);
}

// ---- A stream cut in the middle, or stalled ----

#[test]
fn stream_cut_in_the_middle_is_a_connection_error_and_retried() {
    let mock = MockLlm::start();
    mock.push(Reply::StreamCut);
    mock.push(Reply::text(DONE));
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["output"], "noted.", "the cut reply left nothing in the output");
    assert_eq!(error_kinds(&e), ["llm_connection"]);
    let message = e["attempt_errors"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("stream"), "{message}");
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn stream_cut_on_every_attempt_fails_after_max_attempts() {
    let mock = MockLlm::start();
    for _ in 0..2 {
        mock.push(Reply::StreamCut);
    }
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &["--max-attempts", "2"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_failed(&e, "llm_connection", "stream", 2);
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn stream_stalled_in_the_middle_times_out_and_is_retried() {
    let mock = MockLlm::start();
    mock.push(Reply::StreamStall("this reply stops after a few words".into()));
    mock.push(Reply::text(DONE));
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_LLM_TIMEOUT_SECS".into(), "0.3".into()));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    assert_eq!(e["output"], "noted.");
    assert_eq!(error_kinds(&e), ["llm_timeout"]);
    assert!(mock.wait_for_aborts(1, PROC_WAIT), "the stalled stream's connection was closed");
}

// ---- Invalid JSON, empty choices: final at once ----

#[test]
fn invalid_json_fails_at_once() {
    for via in [Via::Run, Via::Worker] {
        let mock = MockLlm::start();
        mock.push(Reply::InvalidJson);
        let crew = Crew::new(Some(&mock.base_url()));
        let (out, e) = run_case(&crew, via, &one_task(), &["--max-attempts", "3"]);
        assert_eq!(out.code, failed_exit(via), "{via:?}: {}", out.stderr);
        assert_failed(&e, "llm_invalid_response", &mock.base_url(), 1);
        assert_eq!(e["error"]["retryable"], false);
        assert_eq!(mock.chat_count(), 1, "{via:?}: not retried");
        if let Via::Run = via {
            assert!(out.stderr.contains("llm_invalid_response"), "{}", out.stderr);
        }
    }
}

#[test]
fn empty_choice_list_fails_at_once() {
    for via in [Via::Run, Via::Worker] {
        let mock = MockLlm::start();
        mock.push(Reply::EmptyChoices);
        let crew = Crew::new(Some(&mock.base_url()));
        let (out, e) = run_case(&crew, via, &one_task(), &["--max-attempts", "3"]);
        assert_eq!(out.code, failed_exit(via), "{via:?}: {}", out.stderr);
        assert_failed(&e, "llm_invalid_response", "no choices", 1);
        assert_eq!(e["error"]["retryable"], false);
        assert_eq!(mock.chat_count(), 1, "{via:?}: not retried");
    }
}

// ---- A fault in the middle of a multi-task crew ----

/// Chat requests made for `task`: the prompt starts with its `Current Task:` line (earlier
/// answers quoted as context do not count).
fn requests_for(mock: &MockLlm, task: &str) -> usize {
    let line = format!("Current Task: {task} ");
    mock.chat_requests().iter().filter(|r| r.last_user_message().starts_with(&line)).count()
}

#[test]
fn a_retryable_fault_mid_crew_keeps_the_finished_steps() {
    for (via, fault) in [(Via::Run, Reply::status(503, "overloaded")), (Via::Worker, Reply::Reset), (Via::Run, Reply::StreamCut)] {
        let mock = MockLlm::start();
        mock.push_for("Current Task: TASK-step_two ", fault.clone());
        let crew = Crew::new(Some(&mock.base_url()));
        let (out, e) = run_case(&crew, via, &three_tasks(), &[]);
        assert_eq!(out.code, Some(0), "{via:?} {fault:?}: {}", out.stderr);
        assert_eq!(e["status"], "succeeded", "{e:#}");
        assert_eq!(e["attempt"], 2);
        assert_eq!(e["progress"]["completed_steps"], 3);
        assert_eq!(requests_for(&mock, "TASK-step_one"), 1, "{via:?} {fault:?}: the retry did not redo step one");
        assert_eq!(requests_for(&mock, "TASK-step_two"), 2, "{via:?} {fault:?}");
        assert_eq!(requests_for(&mock, "TASK-step_three"), 1, "{via:?} {fault:?}");
        let lines = crew.logs_json(e["id"].as_str().unwrap());
        assert_eq!(
            lines.iter().filter(|l| l["kind"] == "task_completed").count(),
            3,
            "{via:?} {fault:?}: {:?}",
            harness::log_kinds(&lines)
        );
    }
}

#[test]
fn a_final_fault_mid_crew_keeps_the_finished_step_for_a_retry() {
    let mock = MockLlm::start();
    mock.push_for("Current Task: TASK-step_two ", Reply::InvalidJson);
    let crew = Crew::new(Some(&mock.base_url()));
    let (out, e) = run_case(&crew, Via::Run, &three_tasks(), &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_failed(&e, "llm_invalid_response", &mock.base_url(), 1);
    assert_eq!(e["progress"]["completed_steps"], 1, "step one stays done: {e:#}");
    assert_eq!(mock.chat_count(), 2);

    // `retry` reruns it as a new execution that reuses step one.
    let id = e["id"].as_str().unwrap();
    let retried = bounded(&crew, "retry", &["retry", id, "--json"]);
    assert_eq!(retried.code, Some(0), "{}", retried.stderr);
    let worker = bounded(&crew, "worker", &["worker", "--until-idle"]);
    assert_eq!(worker.code, Some(0), "{}", worker.stderr);
    let all = crew.executions();
    assert_eq!(all.len(), 2, "{all:#?}");
    let rerun = all.iter().find(|x| x["id"] != id).unwrap();
    assert_eq!(rerun["status"], "succeeded", "{rerun:#}");
    assert_eq!(rerun["retry_of"], id);
    assert_eq!(requests_for(&mock, "TASK-step_one"), 1, "the rerun reused step one");
    assert_eq!(requests_for(&mock, "TASK-step_two"), 2);
    assert_eq!(requests_for(&mock, "TASK-step_three"), 1);
    assert_eq!(crew.status_json(id)["status"], "failed", "the failed one stays as it was");
}

// ---- Nothing listening ----

#[test]
fn endpoint_not_listening_is_a_connection_error_retried_then_failed() {
    // A port that was just free: bind it, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let crew = Crew::new(Some(&base));
    let (out, e) = run_case(&crew, Via::Run, &one_task(), &["--max-attempts", "2"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_failed(&e, "llm_connection", &base, 2);
    assert_eq!(error_kinds(&e), ["llm_connection", "llm_connection"]);
    assert!(out.stderr.contains("llm_connection"), "{}", out.stderr);
}
