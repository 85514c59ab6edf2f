//! `crew-runner diff A B` through the binary: two runs of one crew against the mock LLM whose
//! second task answers differently, compared as text and as JSON; runs of different crews and
//! unknown ids are refused (exit 2).

use crate::harness;
use crate::support;

use harness::{arg, fixture, Crew};
use serde_json::Value;
use support::{MockLlm, Reply};

/// Runs the three-step crew with `item`, its tasks answering `answers` in order; returns its id.
fn run_three_steps(crew: &Crew, mock: &MockLlm, item: &str, answers: [&str; 3]) -> String {
    for answer in answers {
        mock.push(Reply::text(format!("Final Answer: {answer}")));
    }
    let e = crew.json(&["--run", &arg(&fixture("cli/three-step.yaml")), "--input", &format!("item={item}"), "--json"]);
    assert_eq!(e["status"], "succeeded", "{e:#}");
    e["id"].as_str().unwrap().to_string()
}

#[test]
fn diff_names_the_first_differing_task_and_shows_its_words() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let a = run_three_steps(&crew, &mock, "1", ["Step one done.", "The queue is durable and fast.", "Step three done."]);
    let b = run_three_steps(&crew, &mock, "2", ["Step one done.", "The queue is durable and slow.", "Step three done."]);

    let c = crew.json(&["diff", &a, &b, "--json"]);
    assert_eq!((c["a"]["id"].as_str(), c["b"]["id"].as_str()), (Some(a.as_str()), Some(b.as_str())));
    assert_eq!((c["a"]["inputs"]["item"].clone(), c["b"]["inputs"]["item"].clone()), (Value::from(1), Value::from(2)));
    assert_eq!(c["a"]["models"], serde_json::json!(["openai/mock-model"]));
    assert_eq!(c["a"]["status"], "succeeded");
    assert_eq!(c["a"]["total_tokens"], crew.status(&a)["usage"]["total_tokens"]);
    assert!(c["a"]["duration_ms"].is_u64(), "{c:#}");
    let tasks = c["tasks"].as_array().unwrap();
    let keys: Vec<&str> = tasks.iter().map(|t| t["task"].as_str().unwrap()).collect();
    assert_eq!(keys, ["step_one", "step_two", "step_three"]);
    let differs: Vec<bool> = tasks.iter().map(|t| t["differs"].as_bool().unwrap()).collect();
    assert_eq!(differs, [false, true, false]);
    assert_eq!(c["first_difference"], "step_two");
    let step_two = &tasks[1];
    assert_eq!(step_two["diff"]["granularity"], "word");
    assert_eq!(
        step_two["diff"]["segments"],
        serde_json::json!([
            {"op": "equal", "text": "The queue is durable and "},
            {"op": "delete", "text": "fast."},
            {"op": "insert", "text": "slow."},
        ])
    );
    for side in ["a", "b"] {
        let run = &step_two[side];
        assert_eq!(run["agent"], "Step Worker");
        assert!(run["total_tokens"].as_u64().unwrap() > 0 && run["duration_ms"].is_u64(), "{run:#}");
    }

    // Text: the tables, then the differing task's words marked as `git diff --word-diff=plain`
    // does; no colour when stdout is not a terminal. Exit 0 although they differ.
    let text = crew.ok(&["diff", &a, &b]);
    assert!(text.contains("First difference: task step_two"), "{text}");
    assert!(text.contains("=== step_two ===\nThe queue is durable and [-fast.-]{+slow.+}\n"), "{text}");
    assert!(!text.contains("=== step_one ==="), "{text}");
    assert!(text.lines().any(|l| l.starts_with("step_two") && l.ends_with("differs (first)")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("step_one") && l.ends_with("same")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("inputs") && l.contains(r#"{"item":1}"#) && l.contains(r#"{"item":2}"#)), "{text}");
    assert!(!text.contains('\x1b'), "{text}");

    // A run compared with itself: no difference.
    let same = crew.json(&["diff", &a, &a, "--json"]);
    assert_eq!(same["first_difference"], Value::Null);
    assert!(crew.ok(&["diff", &a, &a]).contains("Every task's output is the same."));
}

#[test]
fn runs_of_different_crews_and_unknown_ids_are_refused() {
    let mock = MockLlm::start();
    let crew = Crew::new(Some(&mock.base_url()));
    let three = run_three_steps(&crew, &mock, "1", ["one", "two", "three"]);
    mock.push(Reply::text("Final Answer: single"));
    let one = crew.json(&["--run", &arg(&fixture("cli/one-step.yaml")), "--input", "item=1", "--json"])["id"].as_str().unwrap().to_string();

    let err = crew.usage_error(&["diff", &three, &one]);
    assert!(err.contains("`three_step`") && err.contains("`one_step`") && err.contains("same crew"), "{err}");
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let err = crew.usage_error(&["diff", &three, unknown, "--json"]);
    assert!(err.contains(&format!("no execution with id `{unknown}`")), "{err}");
    let help = crew.ok(&["diff", "--help"]).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("Exit code: 0 whether or not they differ"), "{help}");
}
