//! Engine tests of structured outputs and guardrails through `CrewExecutor`, with a scripted model.

use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::prompts::{GUARDRAIL_QUERY_START, REVISION_MARKER};
use super::test_support::*;
use super::CrewExecutor;
use crate::crew::TaskSpec;
use crate::execution::{ErrorKind, ExecutionError, Executor, LogLevel, RunOutput, RunRequest};
use crate::llm::{ChatModel, ChatRequest, OfflineModel, Role};

async fn run_one(model: Arc<dyn ChatModel>, t: TaskSpec) -> (Result<RunOutput, ExecutionError>, Arc<MemoryJournal>) {
    let dir = tempfile::tempdir().unwrap();
    let spec = crew(vec![agent("a", "Analyst")], vec![t], dir.path());
    let journal = Arc::new(MemoryJournal::default());
    let executor = CrewExecutor::with_models(Arc::new(OneModel(model)));
    let request = RunRequest { execution: execution(&spec, 1), completed_steps: vec![], reviews: vec![] };
    let out = executor.execute(request, journal.clone(), CancellationToken::new()).await;
    (out.map(|o| o.finished().expect("the crew finished")), journal)
}

fn last_user(r: &ChatRequest) -> String {
    r.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default()
}

fn is_judge(r: &ChatRequest) -> bool {
    last_user(r).contains(GUARDRAIL_QUERY_START)
}

fn structured_task() -> TaskSpec {
    let mut t = task("t1", Some("a"));
    t.output_schema = Some(json!({
        "title": "Report",
        "type": "object",
        "properties": {"title": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["title", "score"]
    }));
    t
}

fn warnings(journal: &MemoryJournal) -> Vec<String> {
    journal.events.lock().unwrap().iter().filter(|e| e.level == LogLevel::Warn).map(|e| e.message.clone()).collect()
}

#[tokio::test]
async fn a_schema_mismatch_is_sent_back_once_with_the_error_and_the_fix_is_stored() {
    let model = ScriptedModel::new(|r| {
        Ok(text(if last_user(r).contains(REVISION_MARKER) {
            "Final Answer: {\"title\": \"T\", \"score\": 4}"
        } else {
            "Final Answer: {\"title\": \"T\", \"score\": \"high\"}"
        }))
    });
    let (out, journal) = run_one(model.clone(), structured_task()).await;
    out.unwrap();
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].response_format.as_ref().unwrap().name, "Report");
    assert!(last_user(&requests[0]).contains("Format your final answer according to the following OpenAPI schema"));
    let second = last_user(&requests[1]);
    assert!(second.contains(REVISION_MARKER) && second.contains("/score"), "{second}");
    assert!(second.contains("\"score\": \"high\""), "the rejected answer is shown: {second}");
    let step = &journal.steps()[0];
    assert_eq!(step.json, json!({"title": "T", "score": 4}));
    assert_eq!(step.output, "{\"title\": \"T\", \"score\": 4}");
    assert_eq!(step.usage.llm_calls, 2);
    assert!(warnings(&journal).iter().any(|w| w.contains("does not match the schema") && w.contains("sent back")));
}

#[tokio::test]
async fn a_second_mismatch_fails_the_task_with_the_schema_error() {
    let model = ScriptedModel::new(|_| Ok(text("Final Answer: {\"title\": 1}")));
    let (out, journal) = run_one(model.clone(), structured_task()).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Output);
    assert!(!err.retryable);
    assert!(err.message.contains("does not match the schema") && err.message.contains("/title"), "{}", err.message);
    assert_eq!(model.requests().len(), 2);
    assert!(journal.steps().is_empty());
}

#[tokio::test]
async fn a_guardrail_rejection_is_revised_with_the_feedback() {
    let mut t = task("t1", Some("a"));
    t.guardrail = Some("must cite sources".into());
    let model = ScriptedModel::new(|r| {
        let user = last_user(r);
        Ok(text(if is_judge(r) {
            if user.contains("[1]") {
                "{\"valid\": true, \"feedback\": null}"
            } else {
                "{\"valid\": false, \"feedback\": \"No sources are cited.\"}"
            }
        } else if user.contains("No sources are cited.") {
            "Final Answer: Rust is safe [1]."
        } else {
            "Final Answer: Rust is safe."
        }))
    });
    let (out, journal) = run_one(model.clone(), t).await;
    assert_eq!(out.unwrap().output, "Rust is safe [1].");
    let requests = model.requests();
    assert_eq!(requests.len(), 4, "answer, judge, revision, judge");
    assert!(is_judge(&requests[1]) && is_judge(&requests[3]));
    assert_eq!(requests[1].response_format.as_ref().unwrap().name, "LLMGuardrailResult");
    assert!(requests[1].messages[0].content.starts_with("You are Guardrail Agent."));
    assert!(last_user(&requests[1]).contains("Task result:\nRust is safe.\n\nGuardrail:\nmust cite sources"));
    assert!(requests[0].response_format.is_none());
    assert!(last_user(&requests[2]).contains(REVISION_MARKER));
    assert!(warnings(&journal).iter().any(|w| w.contains("the guardrail rejected the output: No sources are cited.")));
}

#[tokio::test]
async fn exhausted_guardrail_retries_fail_the_task_naming_the_guardrail() {
    let mut t = task("t1", Some("a"));
    t.guardrail = Some("must be in French".into());
    t.guardrail_max_retries = 1;
    let model = ScriptedModel::new(|r| {
        Ok(text(if is_judge(r) { "{\"valid\": false, \"feedback\": \"It is in English.\"}" } else { "Final Answer: Hello." }))
    });
    let (out, journal) = run_one(model.clone(), t).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Output);
    assert!(err.message.contains("must be in French") && err.message.contains("after 1 retries"), "{}", err.message);
    assert!(err.message.contains("It is in English."), "{}", err.message);
    assert_eq!(model.requests().len(), 4);
    assert!(journal.steps().is_empty());
}

#[tokio::test]
async fn the_offline_model_runs_structured_tasks_with_guardrails() {
    let mut t = structured_task();
    t.guardrail = Some("must be short".into());
    let (out, journal) = run_one(Arc::new(OfflineModel::with_delay(None)), t).await;
    out.unwrap();
    let step = &journal.steps()[0];
    assert!(step.json["title"].is_string() && step.json["score"].is_i64(), "{}", step.json);
    assert!(warnings(&journal).is_empty(), "{:?}", warnings(&journal));
}
