//! Engine tests of human review (`human_input`) through `CrewExecutor`, with a scripted model.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::test_support::*;
use super::CrewExecutor;
use crate::execution::{AttemptOutput, Executor, InputAnswer, InputRequest, InputReview, RunRequest};
use crate::llm::{ChatRequest, Role};

fn last_user(r: &ChatRequest) -> String {
    r.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default()
}

/// Runs a crew of `first` then `reviewed` (human_input) with `reviews`; the model answers
/// "answer N" to its Nth call.
async fn attempt(reviews: Vec<InputReview>) -> (AttemptOutput, Arc<ScriptedModel>, Arc<MemoryJournal>) {
    let dir = tempfile::tempdir().unwrap();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let model = ScriptedModel::new(move |_| Ok(text(&format!("answer {}", calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1))));
    let mut reviewed = task("reviewed", Some("a"));
    reviewed.human_input = true;
    let spec = crew(vec![agent("a", "Writer")], vec![task("first", Some("a")), reviewed], dir.path());
    let journal = Arc::new(MemoryJournal::default());
    let executor = CrewExecutor::with_models(Arc::new(OneModel(model.clone())));
    let request = RunRequest { execution: execution(&spec, 1), completed_steps: vec![], reviews };
    let out = executor.execute(request, journal.clone(), CancellationToken::new()).await.unwrap();
    (out, model, journal)
}

fn answered(request: InputRequest, answer: InputAnswer) -> InputReview {
    InputReview { request, answer, answered_at: 1 }
}

#[tokio::test]
async fn a_human_input_task_pauses_with_its_answer_and_saves_nothing() {
    let (out, model, journal) = attempt(vec![]).await;
    let AttemptOutput::AwaitingInput(request) = out else { panic!("{out:?}") };
    assert_eq!((request.task.as_str(), request.agent.as_str(), request.round), ("reviewed", "Writer", 1));
    assert_eq!(request.draft, "answer 2");
    assert_eq!(request.usage.llm_calls, 1, "the draft's call");
    assert_eq!(model.labels(), ["first", "reviewed"]);
    assert_eq!(journal.steps().iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), ["first"], "the reviewed task is not saved");
    let events = journal.events.lock().unwrap().clone();
    assert!(!events.iter().any(|l| l.message.contains("failed")), "a pause is not a failure: {events:?}");
}

#[tokio::test]
async fn feedback_revises_with_the_draft_and_asks_again_and_acceptance_completes() {
    let (first, _, _) = attempt(vec![]).await;
    let AttemptOutput::AwaitingInput(round1) = first else { panic!() };

    let reviews = vec![answered(round1.clone(), InputAnswer::Feedback { text: "make it shorter".into() })];
    let (second, model, _) = attempt(reviews.clone()).await;
    let AttemptOutput::AwaitingInput(round2) = second else { panic!("{second:?}") };
    assert_eq!(round2.round, 2);
    let revision = model.requests().into_iter().find(|r| r.label.as_deref() == Some("reviewed")).unwrap();
    let prompt = last_user(&revision);
    assert!(prompt.contains("answer 2") && prompt.contains("User feedback: make it shorter"), "{prompt}");
    assert_eq!(round2.usage.llm_calls, 2, "both rounds' calls");

    let mut reviews = reviews;
    reviews.push(answered(round2.clone(), InputAnswer::Accepted));
    let (done, model, journal) = attempt(reviews).await;
    let AttemptOutput::Finished(out) = done else { panic!("{done:?}") };
    assert_eq!(out.output, round2.draft, "the accepted draft is the output");
    assert_eq!(model.labels(), ["first"], "no call for the accepted task");
    let saved = journal.steps().into_iter().find(|s| s.step == "reviewed").unwrap();
    assert_eq!(saved.usage.llm_calls, 2);
}
