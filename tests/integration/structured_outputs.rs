//! Structured outputs and string guardrails through `crew-runner --run`, against the mock
//! OpenAI-compatible server: a schema mismatch sent back once with its validation error, a second
//! mismatch failing the task, a guardrail rejection revised with the judge's feedback, and
//! `guardrail_max_retries` running out.

use crate::harness;
use crate::support;

use harness::{arg, Crew};
use serde_json::{json, Value};
use support::{MockLlm, Reply};

/// What the revision prompt starts the feedback with (CrewAI's `validation_error`).
const REVISION: &str = "Previous attempt failed validation";
/// What the guardrail judge's question starts with (CrewAI's `LLMGuardrail`).
const JUDGE: &str = "Ensure the following task result complies with the given guardrail";

/// A one-task crew on the mock; `extra` is added to the task (indented YAML lines).
fn crew_file(crew: &Crew, extra: &str) -> String {
    let text = format!(
        "name: structured\nllm: openai/mock-model\nagents:\n  analyst:\n    role: Analyst\n    goal: Rate things\n    backstory: You rate things.\n\
         tasks:\n  rate:\n    description: Rate the Rust language\n    expected_output: A rating.\n    agent: analyst\n    output_file: rating.json\n{extra}"
    );
    arg(&crew.write("crew/crew.yaml", &text))
}

const SCHEMA: &str = "    output_schema:\n      title: Rating\n      type: object\n      properties:\n        name: {type: string}\n        score: {type: integer, minimum: 1, maximum: 5}\n      required: [name, score]\n";

/// The stored step `rate` of the only execution: its output text and its JSON.
fn stored_step(crew: &Crew) -> (String, Value) {
    let conn = rusqlite::Connection::open(crew.database()).unwrap();
    let (output, json): (String, String) =
        conn.query_row("SELECT output, json FROM step_outputs WHERE step = 'rate'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    (output, serde_json::from_str(&json).unwrap())
}

fn last_user(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_schema_mismatch_is_sent_back_once_and_the_valid_answer_is_stored_as_json() {
    let mock = MockLlm::start();
    mock.push_for(REVISION, Reply::text("{\"name\": \"Rust\", \"score\": 5}"));
    mock.push(Reply::text("Thought: done\nFinal Answer: {\"name\": \"Rust\", \"score\": \"excellent\"}"));
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, SCHEMA);
    let e = crew.json(&["--run", &file, "--json"]);
    assert_eq!(e["status"], "succeeded", "{e:#}");

    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 2);
    let format = &requests[0].body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "Rating");
    assert_eq!(format["json_schema"]["strict"], false);
    assert_eq!(format["json_schema"]["schema"]["required"], json!(["name", "score"]));
    assert!(last_user(&requests[0].body).contains("Format your final answer according to the following OpenAPI schema"));
    let second = last_user(&requests[1].body);
    assert!(second.contains(REVISION) && second.contains("/score") && second.contains("\"excellent\""), "{second}");
    assert_eq!(requests[1].body["response_format"], *format);

    let (output, value) = stored_step(&crew);
    assert_eq!(value, json!({"name": "Rust", "score": 5}));
    assert_eq!(serde_json::from_str::<Value>(&output).unwrap(), value);
    assert_eq!(serde_json::from_str::<Value>(e["output"].as_str().unwrap()).unwrap(), value);
    let id = e["id"].as_str().unwrap();
    let warned =
        crew.logs(id).iter().any(|l| l["level"] == "warn" && l["message"].as_str().unwrap_or("").contains("does not match the schema"));
    assert!(warned, "the mismatch is logged");
}

#[test]
fn a_second_mismatch_fails_the_task_with_the_schema_error() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Final Answer: {\"name\": \"Rust\"}"));
    mock.push(Reply::text("Final Answer: {\"name\": \"Rust\", \"score\": 9}"));
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, SCHEMA);
    let out = crew.outcome(&["--run", &file]);
    assert_ne!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("does not match the schema") && out.stderr.contains("/score"), "{}", out.stderr);
    assert_eq!(mock.chat_count(), 2);
    let all = crew.executions();
    assert_eq!(all[0]["status"], "failed");
    assert_eq!(all[0]["error"]["kind"], "output");
    assert_eq!(all[0]["attempt"], 1, "an output error is not retried");
}

#[test]
fn a_guardrail_rejection_is_revised_with_the_judges_feedback() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Final Answer: Rust is great."));
    mock.push_for(JUDGE, Reply::text("{\"valid\": false, \"feedback\": \"No sources are cited.\"}"));
    mock.push_for(REVISION, Reply::text("Final Answer: Rust is great [1]."));
    mock.push_for(JUDGE, Reply::text("{\"valid\": true, \"feedback\": null}"));
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, "    guardrail: must cite sources\n");
    let out = crew.ok(&["--run", &file]);
    assert_eq!(out.trim(), "Rust is great [1].");

    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 4, "answer, judge, revision, judge");
    let judge = last_user(&requests[1].body);
    assert!(judge.contains(JUDGE) && judge.contains("Rust is great.") && judge.contains("must cite sources"), "{judge}");
    assert_eq!(requests[1].body["response_format"]["json_schema"]["name"], "LLMGuardrailResult");
    assert!(requests[0].body.get("response_format").is_none());
    let revision = last_user(&requests[2].body);
    assert!(revision.contains(REVISION) && revision.contains("No sources are cited.") && revision.contains("Rust is great."), "{revision}");
    assert!(last_user(&requests[3].body).contains("Rust is great [1]."));
    assert_eq!(stored_step(&crew).0, "Rust is great [1].");
}

#[test]
fn exhausted_guardrail_retries_fail_the_task_naming_the_guardrail() {
    let mock = MockLlm::start();
    for _ in 0..2 {
        mock.push_for(JUDGE, Reply::text("{\"valid\": false, \"feedback\": \"It is in English.\"}"));
    }
    mock.push(Reply::text("Final Answer: Hello."));
    mock.push(Reply::text("Final Answer: Hello again."));
    let crew = Crew::new(Some(&mock.base_url()));
    let file = crew_file(&crew, "    guardrail: must be in French\n    guardrail_max_retries: 1\n");
    let out = crew.outcome(&["--run", &file]);
    assert_ne!(out.code, Some(0), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("must be in French") && out.stderr.contains("It is in English."), "{}", out.stderr);
    assert_eq!(mock.chat_count(), 4, "answer, judge, revision, judge");
    assert_eq!(crew.executions()[0]["error"]["kind"], "output");
}

#[test]
fn the_offline_model_runs_a_structured_task_with_a_guardrail() {
    let crew = Crew::new(None);
    let file = crew_file(&crew, &format!("{SCHEMA}    guardrail: must be short\n"));
    let out = crew.ok(&["--run", &file, "--model", "offline"]);
    let value: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(value["name"].is_string() && value["score"].is_i64(), "{value}");
    // The workspace is the crew's folder: `output_file` gets the JSON.
    let written = std::fs::read_to_string(crew.data_dir().join("../crew/rating.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), value);
}

#[test]
fn with_response_format_off_the_schema_is_only_in_the_prompt_and_still_checked() {
    let mock = MockLlm::start();
    mock.push(Reply::text("Final Answer: ```json\n{\"name\": \"Rust\", \"score\": 3}\n```"));
    let mut crew = Crew::new(Some(&mock.base_url()));
    crew.env.push(("CREW_RUNNER_RESPONSE_FORMAT".into(), "off".into()));
    let file = crew_file(&crew, SCHEMA);
    let out = crew.ok(&["--run", &file]);
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap(), json!({"name": "Rust", "score": 3}));
    let requests = mock.chat_requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].body.get("response_format").is_none(), "{:#}", requests[0].body);
    assert!(last_user(&requests[0].body).contains("\"required\": ["));
}

#[test]
fn a_schema_that_does_not_compile_is_a_load_error_naming_the_field() {
    let crew = Crew::new(None);
    let file = crew_file(&crew, "    output_schema:\n      type: nonsense\n");
    let out = crew.outcome(&["--run", &file, "--model", "offline"]);
    assert_eq!(out.code, Some(2), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("crew.yaml") && out.stderr.contains("tasks.rate.output_schema"), "{}", out.stderr);
    assert!(out.stderr.contains("not a valid JSON Schema"), "{}", out.stderr);
    crew.assert_nothing_recorded();
}
