//! `crew-runner --run` against the mock OpenAI-compatible server: output, JSON, error kinds,
//! retries, timeouts, record/replay, batches, and that the API key stays out of every output.

use crate::harness;
use crate::support;

use harness::{arg, fixture, Crew};
use serde_json::Value;
use support::{MockLlm, Reply};

const KEY: &str = "sk-test-secret-key";

fn one_step() -> String {
    arg(&fixture("cli/one-step.yaml"))
}

fn three_step() -> String {
    arg(&fixture("cli/three-step.yaml"))
}

fn only_execution(crew: &Crew) -> Value {
    let all = crew.executions();
    assert_eq!(all.len(), 1, "one execution expected: {all:#?}");
    all[0].clone()
}

#[test]
fn run_prints_the_last_answer_and_sends_key_and_inputs() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Thought: done\nFinal Answer: The note about item 42."));
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.ok(&["--run", &one_step(), "--input", "item=42"]);
    assert_eq!(out.trim(), "The note about item 42.");

    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(requests[0].last_user_message().contains("Handle item 42"), "{}", requests[0].last_user_message());
    assert_eq!(requests[0].body["model"], "mock-model");

    let e = only_execution(&crew);
    assert_eq!(e["status"], "succeeded");
    assert_eq!(e["output"], "The note about item 42.");
    let id = e["id"].as_str().unwrap();
    assert_eq!(crew.status(id)["status"], "succeeded");
    let text = crew.ok(&["status", id]);
    assert!(text.contains("succeeded") && text.contains("The note about item 42."), "{text}");
}

#[test]
fn run_json_prints_the_execution() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let e = crew.json(&["--run", &one_step(), "--input", "item=5", "--json"]);
    assert_eq!(e["status"], "succeeded");
    assert!(e["usage"]["total_tokens"].as_u64().unwrap() > 0, "{e:#}");
    assert_eq!(e["usage"]["llm_calls"], 1);
    assert_eq!(e["progress"]["completed_steps"], 1);
    assert_eq!(e["progress"]["total_steps"], 1);
    assert_eq!(e["attempt"], 1);
    assert_eq!(e["inputs"]["item"], 5);
    let listed = crew.executions();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], e["id"]);
    assert_eq!(crew.status(e["id"].as_str().unwrap())["output"], e["output"]);
}

#[test]
fn client_error_fails_without_retry() {
    let mock = MockLlm::start();
    mock.push(Reply::status(401, "Incorrect API key provided"));
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.outcome(&["--run", &one_step(), "--input", "item=1"]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("llm_client"), "{}", out.stderr);
    let e = only_execution(&crew);
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"]["kind"], "llm_client");
    assert_eq!(e["attempt"], 1);
    assert_eq!(mock.chat_count(), 1);
}

#[test]
fn server_error_is_retried() {
    let mock = MockLlm::start();
    mock.push(Reply::status(500, "boom"));
    let crew = Crew::new(Some(&mock.base_url()));
    crew.ok(&["--run", &one_step(), "--input", "item=1"]);
    let e = only_execution(&crew);
    assert_eq!(e["status"], "succeeded");
    assert_eq!(e["attempt"], 2);
    let errors = e["attempt_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["attempt"], 1);
    assert_eq!(errors[0]["error"]["kind"], "llm_server");
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn rate_limit_is_retried_after_retry_after() {
    let mock = MockLlm::start();
    mock.push(Reply::rate_limited("1"));
    let crew = Crew::new(Some(&mock.base_url()));
    crew.ok(&["--run", &one_step(), "--input", "item=1"]);
    let e = only_execution(&crew);
    assert_eq!(e["status"], "succeeded");
    assert_eq!(e["attempt"], 2);
    let errors = e["attempt_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["error"]["kind"], "llm_rate_limited");
    assert_eq!(errors[0]["error"]["retry_after_ms"], 1000);
    let logs = crew.logs(e["id"].as_str().unwrap());
    let scheduled: Vec<&Value> = logs.iter().filter(|l| l["kind"] == "retry_scheduled").collect();
    assert_eq!(scheduled.len(), 1, "{logs:#?}");
    // The second attempt was not claimed before Retry-After said (recorded times, no wall clock).
    let next_run_at = scheduled[0]["data"]["next_run_at"].as_i64().unwrap();
    let started: Vec<i64> = logs.iter().filter(|l| l["kind"] == "started").map(|l| l["at"].as_i64().unwrap()).collect();
    assert_eq!(started.len(), 2, "{logs:#?}");
    assert!(next_run_at >= started[0] + 1000, "retry due {next_run_at}, first attempt started {}", started[0]);
    assert!(started[1] >= next_run_at, "second attempt started {} before it was due {next_run_at}", started[1]);
    assert_eq!(mock.chat_count(), 2);
}

#[test]
fn timeout_fails_without_retry() {
    let mock = MockLlm::start();
    mock.push(Reply::delay(5_000, Reply::text("Final Answer: too late")));
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.outcome(&["--run", &one_step(), "--input", "item=1", "--timeout", "0.3"]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let e = only_execution(&crew);
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"]["kind"], "timeout");
    assert_eq!(e["attempt"], 1);
    let errors = e["attempt_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["error"]["kind"], "timeout");
    assert_eq!(mock.chat_count(), 1);
}

#[test]
fn record_then_replay_without_the_server() {
    let mut mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let recording = arg(&crew.dir.path().join("run.jsonl"));
    let recorded = crew.ok(&["--run", &three_step(), "--input", "item=9", "--record", &recording]);
    assert_eq!(mock.chat_count(), 3);
    mock.stop();

    let replayed = crew.ok(&["--run", &three_step(), "--input", "item=9", "--replay", &recording]);
    assert_eq!(replayed, recorded);

    let out = crew.outcome(&["--run", &three_step(), "--input", "item=10", "--replay", &recording]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let e = &crew.executions()[0];
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"]["kind"], "replay_mismatch");
    assert!(e["error"]["message"].as_str().unwrap().contains("step_one"), "{:#}", e["error"]);
    assert_eq!(e["attempt"], 1);
}

#[test]
fn batch_from_jsonl_runs_every_row() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let rows = crew.write("rows.jsonl", "{\"item\": \"alpha\"}\n{\"item\": \"beta\"}\n\n{\"item\": \"gamma\"}\n");
    let out = crew.ok(&["--run", &one_step(), "--inputs-file", &arg(&rows)]);
    assert!(out.contains("3 executions: 3 succeeded, 0 failed, 0 cancelled"), "{out}");
    let all = crew.executions();
    assert_eq!(all.len(), 3);
    let mut items: Vec<&str> = all.iter().map(|e| e["inputs"]["item"].as_str().unwrap()).collect();
    items.sort();
    assert_eq!(items, ["alpha", "beta", "gamma"]);
    assert!(all.iter().all(|e| e["status"] == "succeeded"));
    let mut prompts: Vec<String> = mock.chat_requests().iter().map(|r| r.last_user_message()).collect();
    prompts.sort();
    assert_eq!(prompts.len(), 3);
    for (p, item) in prompts.iter().zip(["alpha", "beta", "gamma"]) {
        assert!(p.contains(&format!("Handle item {item}")), "{p}");
    }
}

#[test]
fn batch_with_a_failed_row_exits_1_and_counts_it() {
    let mock = MockLlm::start();
    mock.push_for("Handle item beta", Reply::status(401, "Incorrect API key provided"));
    let crew = Crew::new(Some(&mock.base_url()));
    let rows = crew.write("rows.jsonl", "{\"item\": \"alpha\"}\n{\"item\": \"beta\"}\n");
    let out = crew.outcome(&["run", &one_step(), "--inputs-file", &arg(&rows), "--concurrency", "1"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.contains("2 executions: 1 succeeded, 1 failed, 0 cancelled"), "{}", out.stdout);
    assert!(out.stdout.contains("llm_client"), "{}", out.stdout);
    let mut statuses: Vec<(String, String)> = crew
        .executions()
        .iter()
        .map(|e| (e["inputs"]["item"].as_str().unwrap().to_string(), e["status"].as_str().unwrap().to_string()))
        .collect();
    statuses.sort();
    assert_eq!(statuses, [("alpha".to_string(), "succeeded".to_string()), ("beta".to_string(), "failed".to_string())]);
}

#[test]
fn batch_from_csv_runs_every_row() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let rows = crew.write("rows.csv", "item\none\ntwo\n");
    let out = crew.ok(&["--run", &one_step(), "--inputs-file", &arg(&rows)]);
    assert!(out.contains("2 executions: 2 succeeded"), "{out}");
    let mut items: Vec<String> = crew.executions().iter().map(|e| e["inputs"]["item"].as_str().unwrap().to_string()).collect();
    items.sort();
    assert_eq!(items, ["one", "two"]);
}

#[test]
fn batch_row_missing_an_input_is_refused() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let rows = crew.write("rows.jsonl", "{\"item\": \"alpha\"}\n{\"other\": \"beta\"}\n{\"item\": \"gamma\"}\n");
    let err = crew.usage_error(&["--run", &one_step(), "--inputs-file", &arg(&rows)]);
    assert!(err.contains("row 2") && err.contains("item"), "{err}");
    crew.assert_nothing_recorded();
    assert_eq!(mock.chat_count(), 0);
}

#[test]
fn api_key_never_appears_in_outputs_or_log_files() {
    let mock = MockLlm::start();
    mock.push(Reply::status(401, "Incorrect API key provided"));
    let mut crew = Crew::new(Some(&mock.base_url()));
    // Everything every crate logs, into stderr and the log file.
    crew.env.push(("RUST_LOG".into(), "trace".into()));
    let failed = crew.outcome(&["-vv", "--run", &one_step(), "--input", "item=1", "--json"]);
    assert_eq!(failed.code, Some(1));
    let ok = crew.outcome(&["-vv", "--run", &one_step(), "--input", "item=2", "--json"]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    assert!(mock.chat_requests().iter().all(|r| r.header("authorization") == Some(&format!("Bearer {KEY}"))));

    let mut seen = vec![failed.stdout, failed.stderr, ok.stdout, ok.stderr];
    for e in crew.executions() {
        let id = e["id"].as_str().unwrap();
        seen.push(crew.ok(&["status", id, "--json"]));
        seen.push(crew.ok(&["status", id]));
        seen.push(crew.ok(&["logs", id, "--json"]));
    }
    let log_dir = crew.data_dir().join("logs");
    let files: Vec<_> = std::fs::read_dir(&log_dir).unwrap().map(|f| f.unwrap().path()).collect();
    assert!(!files.is_empty(), "no tracing log file in {}", log_dir.display());
    let mut logged = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        logged += text.len();
        seen.push(text);
    }
    assert!(logged > 0, "the tracing log files are empty");
    for text in &seen {
        assert!(!text.contains(KEY), "the API key leaked:\n{text}");
    }
}
