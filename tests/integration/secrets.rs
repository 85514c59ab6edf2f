//! The API key never appears anywhere Crew Runner writes or prints: the database (every table,
//! WAL included), the tracing log file in the data dir, the binary's stdout and stderr (at
//! `-vv` and `RUST_LOG=trace`), `status --json`, `list --json` and `logs` (text and JSON).
//!
//! Crews run against the mock LLM with a distinctive key, in the three ways a key could leak: a
//! success, a 401 whose error body echoes the key (as OpenAI's does), and retried 500s/429s that
//! echo it before a success. The search looks for the key's distinctive middle part, so a
//! "masked" form that keeps most of the key counts as a leak too.
//! The same holds for credentials inside an `--api-base` URL (a password and an `api-key` query
//! parameter): they reach the server, but what is stored and shown is the redacted URL, and the
//! real one lives only in the owner-only file `<data dir>/secrets/<ref>.json`.
//! (The desktop app's settings, as its commands return them, are covered by
//! `tests/gui_commands.rs` (`settings_never_send_the_key_back`): the view has only `api_key_set`.)

use crate::harness;
use crate::support;

use std::path::Path;

use harness::{arg, Crew, Outcome};
use support::{MockLlm, Reply};

const KEY: &str = "sk-proj-CANARY7d1e5b3a9fQX2-secretkeyend";
/// What must never appear: the part of the key that identifies it.
const NEEDLE: &str = "CANARY7d1e5b3a9fQX2";
/// A password and a query parameter inside `--api-base`, and what must never appear of them.
const URL_PASSWORD: &str = "pw-URLCANARY4c2a9e81-end";
const URL_TOKEN: &str = "qk-QUERYCANARY77b3f05d-end";
const NEEDLES: [&str; 3] = [NEEDLE, "URLCANARY4c2a9e81", "QUERYCANARY77b3f05d"];

const CREW: &str = "name: secretive\nllm: openai/mock-model\nagents:\n  worker:\n    role: Worker\n    goal: Work\n    \
                    backstory: Works.\ntasks:\n  only:\n    description: Do the work.\n    expected_output: A note.\n    agent: worker\n";

fn crew_with_key(mock: &MockLlm) -> Crew {
    let mut crew = Crew::new(Some(&mock.base_url()));
    for (k, v) in crew.env.iter_mut() {
        if k == "OPENAI_API_KEY" {
            *v = KEY.to_string();
        }
    }
    crew.env.push(("RUST_LOG".into(), "trace".into()));
    crew
}

fn assert_clean(what: &str, text: &str) {
    for needle in NEEDLES {
        assert!(!text.contains(needle), "a secret appears in {what}:\n{}", excerpt(text, needle));
    }
}

/// The lines around the first occurrence of `needle`.
fn excerpt(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let start = text[..at].char_indices().rev().nth(300).map_or(0, |(i, _)| i);
    let end = text[at..].char_indices().nth(300).map_or(text.len(), |(i, _)| at + i);
    text[start..end].to_string()
}

/// Every file under `dir` (the database, its WAL and shared memory, the logs), as bytes; the
/// endpoint secrets files (`secrets/`) are where credentials belong, and must be owner-only.
fn assert_files_clean(dir: &Path) {
    let mut seen = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path == dir.join("secrets") {
                for file in std::fs::read_dir(&path).unwrap() {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = file.unwrap().metadata().unwrap().permissions().mode();
                    assert_eq!(mode & 0o077, 0, "a secrets file is readable by others");
                }
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert_clean(&path.display().to_string(), &text);
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected the database and the log file in {}", dir.display());
}

fn assert_outcome_clean(what: &str, out: &Outcome) {
    assert_clean(&format!("stdout of {what}"), &out.stdout);
    assert_clean(&format!("stderr of {what}"), &out.stderr);
}

/// Everything the CLI shows about every execution.
fn assert_views_clean(crew: &Crew) {
    let list = crew.outcome(&["list", "--json", "--limit", "1000"]);
    assert_outcome_clean("list --json", &list);
    let executions: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).unwrap();
    assert!(!executions.is_empty());
    for e in executions {
        let id = e["id"].as_str().unwrap();
        for args in [vec!["status", id, "--json"], vec!["status", id], vec!["logs", id, "--json"], vec!["logs", id]] {
            let out = crew.outcome(&args);
            assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
            assert_outcome_clean(&args.join(" "), &out);
        }
    }
    let log_dir = crew.data_dir().join("logs");
    let logs: Vec<_> = std::fs::read_dir(&log_dir).unwrap().collect();
    assert!(!logs.is_empty(), "no tracing log file in {}", log_dir.display());
    assert_files_clean(&crew.data_dir());
}

#[test]
fn a_successful_run_leaks_no_key() {
    let mock = MockLlm::start();
    let crew = crew_with_key(&mock);
    let file = crew.write("crew.yaml", CREW);
    mock.push(Reply::text("Done."));
    let out = crew.outcome(&["-vv", "run", &arg(&file)]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The key did go to the server: the test would see a leak if the request was logged.
    let sent = mock.chat_requests();
    assert_eq!(sent[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(out.stderr.contains("TRACE") || out.stderr.contains("DEBUG"), "verbose logging is on: {}", out.stderr);
    assert_outcome_clean("run", &out);
    assert_views_clean(&crew);
}

#[test]
fn a_401_that_echoes_the_key_leaks_no_key() {
    let mock = MockLlm::start();
    let crew = crew_with_key(&mock);
    let file = crew.write("crew.yaml", CREW);
    mock.push(Reply::status(401, &format!("Incorrect API key provided: {KEY}. You can find your API key at …")));
    let out = crew.outcome(&["-vv", "run", &arg(&file)]);
    assert_ne!(out.code, Some(0), "a 401 fails the run");
    assert!(out.stderr.contains("401") || out.stderr.to_lowercase().contains("auth"), "{}", out.stderr);
    assert_outcome_clean("run (401)", &out);
    // The echoed message was kept, with the key taken out.
    let e = &crew.executions()[0];
    let status = crew.status(e["id"].as_str().unwrap()).to_string();
    assert!(status.contains("Incorrect API key provided: [redacted]"), "{status}");
    assert_views_clean(&crew);
}

#[test]
fn retried_errors_that_echo_the_key_leak_no_key() {
    let mock = MockLlm::start();
    let crew = crew_with_key(&mock);
    let file = crew.write("crew.yaml", CREW);
    mock.push(Reply::status(500, &format!("internal error for key {KEY}")));
    mock.push(Reply::Status {
        code: 429,
        body: serde_json::json!({"error": {"message": format!("Rate limit for {KEY}"), "type": "rate_limit_error"}}).to_string(),
        retry_after: Some("0".into()),
    });
    mock.push(Reply::text("Done after retries."));
    // Queued and run by a worker, so the retries go through the scheduler and the database.
    let submitted = crew.outcome(&["-vv", "submit", &arg(&file), "--max-attempts", "5", "--json"]);
    assert_eq!(submitted.code, Some(0), "{}", submitted.stderr);
    assert_outcome_clean("submit", &submitted);
    let worker = crew.outcome(&["-vv", "worker", "--until-idle"]);
    assert_eq!(worker.code, Some(0), "{}", worker.stderr);
    assert_outcome_clean("worker", &worker);
    assert_eq!(mock.chat_count(), 3, "two failures, then the answer");
    let e = &crew.executions()[0];
    assert_eq!(e["status"], "succeeded", "{e}");
    assert_views_clean(&crew);
}

/// `--api-base` on the mock with a user, a password and an `api-key` query parameter, and what
/// it shows as: the same with `***` for the secrets.
fn api_base_with_credentials(mock: &MockLlm) -> (String, String) {
    let base = mock.base_url();
    let (scheme, rest) = base.split_once("://").unwrap();
    let real = format!("{scheme}://crew:{URL_PASSWORD}@{rest}?api-key={URL_TOKEN}&tier=free");
    let shown = format!("{scheme}://crew:***@{rest}?api-key=***&tier=free");
    (real, shown)
}

/// An installation with no API key (so the URL's user and password go as basic auth).
fn crew_without_key(mock: &MockLlm) -> Crew {
    let mut crew = crew_with_key(mock);
    crew.env.retain(|(k, _)| k != "OPENAI_API_KEY");
    crew
}

/// The mock saw the URL's credentials: the query parameter on the path, basic auth in the header.
fn assert_credentials_sent(mock: &MockLlm) {
    use base64::Engine;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("crew:{URL_PASSWORD}")));
    let sent = mock.chat_requests();
    assert!(!sent.is_empty());
    for r in &sent {
        assert!(r.path.contains(&format!("api-key={URL_TOKEN}")) && r.path.contains("tier=free"), "{}", r.path);
        assert_eq!(r.header("authorization"), Some(basic.as_str()));
    }
}

#[test]
fn credentials_in_the_api_base_are_used_but_shown_redacted_by_run() {
    let mock = MockLlm::start();
    let crew = crew_without_key(&mock);
    let file = crew.write("crew.yaml", CREW);
    let (real, shown) = api_base_with_credentials(&mock);
    // A failure that echoes both secrets, retried, then the answer.
    mock.push(Reply::status(500, &format!("bad password {URL_PASSWORD} for token {URL_TOKEN}")));
    mock.push(Reply::text("Done."));
    let out = crew.outcome(&["-vv", "run", &arg(&file), "--api-base", &real, "--max-attempts", "2", "--json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_outcome_clean("run", &out);
    assert_credentials_sent(&mock);
    assert_eq!(mock.chat_count(), 2);
    let e = &crew.executions()[0];
    assert_eq!(e["llm"]["api_base"], shown.as_str(), "{e}");
    let errors = e["attempt_errors"].to_string();
    assert!(errors.contains("***") || errors.contains("[redacted]"), "{errors}");
    assert_views_clean(&crew);
}

#[test]
fn credentials_in_the_api_base_reach_the_worker_through_the_secrets_file() {
    let mock = MockLlm::start();
    let crew = crew_without_key(&mock);
    let file = crew.write("crew.yaml", CREW);
    let (real, shown) = api_base_with_credentials(&mock);
    let submitted = crew.outcome(&["-vv", "submit", &arg(&file), "--api-base", &real, "--json"]);
    assert_eq!(submitted.code, Some(0), "{}", submitted.stderr);
    assert_outcome_clean("submit", &submitted);
    let id = harness::submitted_ids(&serde_json::from_str(&submitted.stdout).unwrap())[0].clone();
    assert_eq!(crew.status(&id)["llm"]["api_base"], shown.as_str());
    // A 401 that echoes them, then a rerun that succeeds: both run in a worker.
    mock.push(Reply::status(401, &format!("Incorrect credentials crew:{URL_PASSWORD} / {URL_TOKEN}")));
    let worker = crew.outcome(&["-vv", "worker", "--until-idle"]);
    assert_eq!(worker.code, Some(0), "{}", worker.stderr);
    assert_outcome_clean("worker", &worker);
    assert_eq!(crew.status(&id)["status"], "failed");
    let retried = crew.outcome(&["-vv", "retry", &id, "--json"]);
    assert_eq!(retried.code, Some(0), "{}", retried.stderr);
    mock.push(Reply::text("Done."));
    let worker = crew.outcome(&["-vv", "worker", "--until-idle"]);
    assert_eq!(worker.code, Some(0), "{}", worker.stderr);
    assert_outcome_clean("worker (rerun)", &worker);
    assert_credentials_sent(&mock);
    assert_eq!(mock.chat_count(), 2);
    assert!(crew.executions().iter().any(|e| e["status"] == "succeeded"));
    let secrets: Vec<_> = std::fs::read_dir(crew.data_dir().join("secrets")).unwrap().collect();
    assert_eq!(secrets.len(), 1, "one secrets file, shared by the rerun");
    assert_views_clean(&crew);
}
