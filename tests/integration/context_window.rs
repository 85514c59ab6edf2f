//! `respect_context_window` through the real binary (`--run`) against the mock OpenAI-compatible
//! server: a `prices.json` gives the mock's model a tiny context window, so the task prompt does
//! not fit; with the flag the conversation is summarised (the mock gets summary requests), without
//! it the run fails naming the agent, model, window and prompt size. An endpoint that refuses a
//! prompt as too long (`context_length_exceeded`) gets the summarised prompt once more.

use crate::harness;
use crate::support;

use harness::{arg, Crew};
use serde_json::{json, Value};
use support::{MockLlm, RecordedRequest, Reply};

/// The summariser's system message (CrewAI's), which starts every summary request.
const SUMMARIZER: &str = "You are a precise assistant that creates structured summaries of agent conversations.";

/// The mock's model's window in the test's `prices.json`: 85% of it (850 tokens) is usable.
const MAX_INPUT_TOKENS: u64 = 1000;

/// A one-task crew on the mock's model whose task description alone is about 1500 tokens.
fn long_crew(crew: &Crew, respect: Option<bool>) -> String {
    let flag = respect.map(|r| format!("    respect_context_window: {r}\n")).unwrap_or_default();
    let description: Vec<String> = (0..600).map(|i| format!("fact{i:03}")).collect();
    let yaml = format!(
        "name: long_task\nllm: openai/mock-model\nagents:\n  worker:\n    role: Worker\n    goal: Sum up the facts\n    backstory: You read facts.\n{flag}\
         tasks:\n  only_step:\n    description: \"Read these facts: {}\"\n    expected_output: A short note.\n    agent: worker\n",
        description.join(" ")
    );
    arg(&crew.write("crew/long.yaml", &yaml))
}

/// An installation whose price table gives `openai/mock-model` a window of [`MAX_INPUT_TOKENS`].
fn tiny_window(mock: &MockLlm) -> Crew {
    let mut crew = Crew::new(Some(&mock.base_url()));
    let prices = json!({"mock-model": {
        "litellm_provider": "openai",
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
        "max_input_tokens": MAX_INPUT_TOKENS,
    }});
    let path = crew.write("config/prices.json", &prices.to_string());
    crew.env.push(("CREW_RUNNER_PRICES".into(), arg(&path)));
    crew
}

fn is_summary_request(request: &RecordedRequest) -> bool {
    request.body["messages"][0]["content"].as_str().is_some_and(|s| s.starts_with(SUMMARIZER))
}

/// The text of every message of a request, joined.
fn all_text(request: &RecordedRequest) -> String {
    let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
    messages.iter().filter_map(|m| m["content"].as_str().map(str::to_string)).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_prompt_over_the_window_is_summarised_by_default() {
    let mock = MockLlm::start();
    let crew = tiny_window(&mock);
    let out = crew.outcome(&["--run", &long_crew(&crew, None)]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("Mock answer"), "{}", out.stdout);

    let requests = mock.chat_requests();
    let (summaries, calls): (Vec<_>, Vec<_>) = requests.iter().partition(|r| is_summary_request(r));
    assert!(summaries.len() >= 2, "the long prompt is summarised in chunks: {} summary requests", summaries.len());
    assert_eq!(calls.len(), 1, "one agent call, with the summary");
    let summarised = all_text(calls[0]);
    assert!(summarised.contains("<summary>") && !summarised.contains("fact599"), "{summarised}");
    // Every fact went into exactly one summary request, and each request fits the window.
    let chunked: String = summaries.iter().map(|r| all_text(r)).collect();
    assert!(chunked.contains("fact000") && chunked.contains("fact599"));
    for r in &summaries {
        assert!(all_text(r).chars().count() as u64 / 4 <= MAX_INPUT_TOKENS * 85 / 100, "a summary request is over the window");
    }
    let e = &crew.executions()[0];
    let id = e["id"].as_str().unwrap();
    let logs = crew.logs(id);
    let warned =
        logs.iter().any(|l| l["level"] == "warn" && l["message"].as_str().is_some_and(|m| m.contains("summarising the conversation")));
    assert!(warned, "a warning says the prompt was summarised: {logs:#?}");
}

#[test]
fn without_respect_context_window_the_task_fails_naming_the_limits() {
    let mock = MockLlm::start();
    let crew = tiny_window(&mock);
    let out = crew.outcome(&["--run", &long_crew(&crew, Some(false))]);
    assert_eq!(out.code, Some(1), "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    for part in ["agent `Worker`", "openai/mock-model", "850 usable tokens", "respect_context_window is false"] {
        assert!(out.stderr.contains(part), "`{part}` missing in: {}", out.stderr);
    }
    assert_eq!(mock.chat_count(), 0, "nothing is sent that cannot fit");
    let e: &Value = &crew.executions()[0];
    assert_eq!(e["status"], "failed");
    assert_eq!(e["error"]["kind"], "llm_client");
    assert_eq!(e["error"]["details"]["context_window"], 850);
    assert!(e["error"]["details"]["estimated_prompt_tokens"].as_u64().unwrap() > 850);
}

/// The endpoint's own refusal, as OpenAI words it.
fn context_length_exceeded() -> Reply {
    let body = json!({"error": {
        "message": "This model's maximum context length is 16 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "code": "context_length_exceeded",
    }});
    Reply::Status { code: 400, body: body.to_string(), retry_after: None }
}

#[test]
fn an_endpoint_context_length_error_is_summarised_and_retried_once() {
    let mock = MockLlm::start();
    mock.push(context_length_exceeded());
    // No window in the table for this model: only the endpoint's refusal tells.
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.outcome(&["--run", &long_crew(&crew, None)]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let requests = mock.chat_requests();
    let kinds: Vec<bool> = requests.iter().map(is_summary_request).collect();
    assert_eq!(kinds, [false, true, false], "refused call, one summary, the call again");
    assert!(all_text(&requests[2]).contains("<summary>"));
}

#[test]
fn an_endpoint_context_length_error_fails_without_respect_context_window() {
    let mock = MockLlm::start();
    mock.push(context_length_exceeded());
    let crew = Crew::new(Some(&mock.base_url()));
    let out = crew.outcome(&["--run", &long_crew(&crew, Some(false))]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("agent `Worker`") && out.stderr.contains("context_length_exceeded"), "{}", out.stderr);
    assert_eq!(mock.chat_count(), 1);
}
