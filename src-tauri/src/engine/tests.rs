//! Engine tests: processes, resumption, tools, limits and errors, through `CrewExecutor`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::agent_loop::MAX_TOOL_RESULT_BYTES;
use super::prompts::FORCE_FINAL_ANSWER;
use super::test_support::*;
use super::CrewExecutor;
use crate::crew::{CrewSpec, Process};
use crate::execution::{ErrorKind, EventKind, Execution, ExecutionError, Executor, RunOutput, RunRequest, StepOutput, Usage};
use crate::llm::{ChatModel, ChatResponse, LlmError, LlmErrorKind, OfflineModel, Role};

async fn run(
    model: Arc<dyn ChatModel>,
    execution: Execution,
    completed_steps: Vec<StepOutput>,
) -> (Result<RunOutput, ExecutionError>, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::default());
    let executor = CrewExecutor::with_models(Arc::new(OneModel(model)));
    let out = executor.execute(RunRequest { execution, completed_steps, reviews: vec![] }, journal.clone(), CancellationToken::new()).await;
    (out.map(|o| o.finished().expect("the crew finished")), journal)
}

/// The task prompt (first user message) of a request.
fn user_prompt(r: &crate::llm::ChatRequest) -> String {
    r.messages.iter().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default()
}

fn echo_label() -> Arc<ScriptedModel> {
    ScriptedModel::new(|r| Ok(text(&format!("Final Answer: out-{}", r.label.clone().unwrap_or_default()))))
}

fn two_agents() -> Vec<crate::crew::AgentSpec> {
    vec![agent("researcher", "Researcher"), agent("writer", "Writer")]
}

#[tokio::test]
async fn sequential_runs_in_order_and_follows_context_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut t3 = task("t3", Some("writer"));
    t3.context = Some(vec!["t1".into()]);
    let mut t4 = task("t4", Some("writer"));
    t4.context = Some(vec![]);
    let spec = crew(two_agents(), vec![task("t1", Some("researcher")), task("t2", Some("writer")), t3, t4], dir.path());
    let model = echo_label();
    let (out, journal) = run(model.clone(), execution(&spec, 1), vec![]).await;
    let out = out.unwrap();

    assert_eq!(model.labels(), vec!["t1", "t2", "t3", "t4"]);
    let prompts: Vec<String> = model.requests().iter().map(user_prompt).collect();
    assert!(!prompts[0].contains("out-"));
    assert!(prompts[1].contains("out-t1"));
    assert!(prompts[2].contains("out-t1") && !prompts[2].contains("out-t2"));
    assert!(!prompts[3].contains("out-"));
    assert!(prompts[3].contains("Do the t4 work.") && prompts[3].contains("The t4 result."));
    assert!(model.requests()[0].messages[0].content.starts_with("You are Researcher."));

    assert_eq!(out.output, "out-t4");
    assert_eq!(out.usage.llm_calls, 4);
    assert_eq!(out.usage.total_tokens, 60);
    let steps = journal.steps();
    assert_eq!(steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), vec!["t1", "t2", "t3", "t4"]);
    assert_eq!(steps[0].agent, "Researcher");
    assert_eq!(steps[0].attempt, 1);
    let last = journal.progress.lock().unwrap().last().cloned().unwrap();
    assert_eq!((last.completed_steps, last.total_steps), (4, 4));
    assert_eq!(journal.events_of(EventKind::TaskStarted).len(), 4);
    assert_eq!(journal.events_of(EventKind::TaskCompleted).len(), 4);
    assert_eq!(journal.events_of(EventKind::LlmCallCompleted)[0].data["usage"]["total_tokens"], 15);
    assert_eq!(journal.events_of(EventKind::TaskCompleted)[0].data["usage_by_agent"]["Researcher"]["llm_calls"], 1);
    assert_eq!(journal.events_of(EventKind::Output).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn async_tasks_run_concurrently_and_a_sync_task_waits_for_them() {
    // a1 blocks until a2's call has started: only possible if both are in flight together.
    // (With the paused clock a deadlock makes the safety timeout fire at once: the test fails, never hangs.)
    let dir = tempfile::tempdir().unwrap();
    let mut a1 = task("a1", Some("researcher"));
    a1.async_execution = true;
    let mut a2 = task("a2", Some("writer"));
    a2.async_execution = true;
    let spec = crew(two_agents(), vec![a1, a2, task("s3", Some("writer"))], dir.path());
    let a2_started = Arc::new(tokio::sync::Notify::new());
    let notify = a2_started.clone();
    let model = ScriptedModel::new_async(move |r| {
        let label = r.label.clone().unwrap_or_default();
        let notify = notify.clone();
        Box::pin(async move {
            match label.as_str() {
                "a1" => notify.notified().await,
                "a2" => notify.notify_one(),
                _ => {}
            }
            Ok(text(&format!("Final Answer: out-{label}")))
        })
    });
    let (out, journal) = tokio::time::timeout(Duration::from_secs(3600), run(model.clone(), execution(&spec, 1), vec![]))
        .await
        .expect("async tasks did not run concurrently");
    assert_eq!(out.unwrap().output, "out-s3");
    assert_eq!(model.labels(), vec!["a1", "a2", "s3"]);
    let s3_prompt = user_prompt(&model.requests()[2]);
    assert!(s3_prompt.contains("out-a1") && s3_prompt.contains("out-a2"));
    // a2 (context None) started before a1 finished, so it does not see a1's output (CrewAI semantics).
    assert!(!user_prompt(&model.requests()[1]).contains("out-a1"));
    assert_eq!(journal.steps().len(), 3);
}

#[tokio::test]
async fn async_task_waits_for_a_pending_task_it_names_in_context() {
    let dir = tempfile::tempdir().unwrap();
    let mut a1 = task("a1", Some("researcher"));
    a1.async_execution = true;
    let mut a2 = task("a2", Some("writer"));
    a2.async_execution = true;
    a2.context = Some(vec!["a1".into()]);
    let spec = crew(two_agents(), vec![a1, a2], dir.path());
    let model = echo_label();
    let (out, _) = run(model.clone(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "out-a2");
    assert!(user_prompt(&model.requests()[1]).contains("out-a1"));
}

#[tokio::test]
async fn resume_reuses_completed_steps_without_calling_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let spec = crew(two_agents(), vec![task("t1", Some("researcher")), task("t2", Some("writer"))], dir.path());
    let earlier = StepOutput {
        step: "t1".into(),
        agent: "Researcher".into(),
        output: "reused-t1-output".into(),
        json: serde_json::Value::Null,
        usage: Usage { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, llm_calls: 3, cost_usd: None },
        attempt: 1,
        completed_at: 1,
    };
    let model = echo_label();
    let (out, journal) = run(model.clone(), execution(&spec, 2), vec![earlier]).await;
    let out = out.unwrap();
    assert_eq!(model.labels(), vec!["t2"]);
    assert!(user_prompt(&model.requests()[0]).contains("reused-t1-output"));
    let skipped = journal.events_of(EventKind::TaskSkipped);
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].message.contains("reused from attempt 1"));
    assert_eq!(journal.steps().iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), vec!["t2"]);
    assert_eq!(journal.steps()[0].attempt, 2);
    assert_eq!(out.usage.llm_calls, 4);
    assert_eq!(out.usage.total_tokens, 135);
    let first = journal.progress.lock().unwrap()[0].clone();
    assert_eq!(first.completed_steps, 1);
    assert_eq!(first.current_step.as_deref(), Some("t2"));
    assert_eq!(first.current_agent.as_deref(), Some("Writer"));
}

#[tokio::test]
async fn hierarchical_manager_delegates_with_the_offline_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut researcher = agent("researcher", "Research Analyst");
    researcher.goal = "Research markets".into();
    let writer = agent("writer", "Senior Writer");
    let mut t1 = task("research", None);
    t1.description = "Research the market for electric bikes".into();
    t1.expected_output = "A list of three findings".into();
    let mut t2 = task("article", None);
    t2.description = "Write an article for a senior audience".into();
    t2.expected_output = "Two paragraphs".into();
    let mut spec = crew(vec![researcher, writer], vec![t1, t2], dir.path());
    spec.process = Process::Hierarchical;
    let (out, journal) = run(Arc::new(OfflineModel::with_delay(None)), execution(&spec, 1), vec![]).await;
    let out = out.unwrap();

    let delegations = journal.events_of(EventKind::Delegation);
    assert_eq!(delegations.len(), 2);
    assert_eq!(delegations[0].data["from"], "Crew Manager");
    assert_eq!(delegations[0].data["to"], "Research Analyst");
    assert_eq!(delegations[1].data["to"], "Senior Writer");
    assert!(delegations[0].data["task"].as_str().unwrap().contains("electric bikes"));

    let tool_calls = journal.events_of(EventKind::ToolCall);
    let coworker_answer = tool_calls[0].data["output"].as_str().unwrap().to_string();
    assert_eq!(tool_calls[0].data["tool"], "delegate_work_to_coworker");
    let steps = journal.steps();
    assert_eq!(steps[0].agent, "Crew Manager");
    assert!(steps[0].output.starts_with(coworker_answer.trim()));
    assert_eq!(steps[0].output.lines().filter(|l| l.starts_with("- ")).count(), 3);
    assert!(steps[0].output.contains("electric"));
    assert_eq!(out.output, steps[1].output);
    // Manager and coworker calls both counted, per agent.
    let completed = journal.events_of(EventKind::TaskCompleted);
    let by_agent = &completed[0].data["usage_by_agent"];
    assert_eq!(by_agent["Crew Manager"]["llm_calls"], 2);
    assert_eq!(by_agent["Research Analyst"]["llm_calls"], 1);
    assert_eq!(out.usage.llm_calls, 6);
}

#[tokio::test]
async fn hierarchical_delegations_are_bounded_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = crew(vec![agent("researcher", "Researcher")], vec![task("t1", None)], dir.path());
    spec.process = Process::Hierarchical;
    let model = ScriptedModel::new(|r| {
        let from_manager = r.messages[0].content.starts_with("You are Crew Manager.");
        if !from_manager {
            return Ok(text("Final Answer: worker result"));
        }
        let refused = r.messages.iter().any(|m| m.role == Role::Tool && m.content.contains("limit of 10 delegations"));
        if refused {
            Ok(text("Final Answer: manager done"))
        } else {
            Ok(tool_call("c", "delegate_work_to_coworker", json!({"task": "x", "context": "", "coworker": "Researcher"})))
        }
    });
    let (out, journal) = run(model, execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "manager done");
    assert_eq!(journal.events_of(EventKind::Delegation).len(), 10);
}

#[tokio::test]
async fn native_tool_calls_are_executed_and_fed_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = agent("writer", "Writer");
    writer.tools = vec!["FileWriterTool".into()];
    let spec = crew(vec![writer], vec![task("t1", Some("writer"))], dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let model = ScriptedModel::new(move |r| {
        assert_eq!(r.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["write_file"]);
        match c.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(tool_call("c1", "write_file", json!({"path": "notes/a.md", "content": "hello"}))),
            1 => Ok(tool_call("c2", "write_file", json!({"path": "../escape.md", "content": "x"}))),
            _ => Ok(text("all written")),
        }
    });
    let (out, journal) = run(model.clone(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "all written");
    assert_eq!(std::fs::read_to_string(dir.path().join("notes/a.md")).unwrap(), "hello");
    assert!(!dir.path().parent().unwrap().join("escape.md").exists());
    let reqs = model.requests();
    let fed = &reqs[1].messages;
    assert_eq!(fed[fed.len() - 2].role, Role::Assistant);
    assert_eq!(fed[fed.len() - 2].tool_calls[0].id, "c1");
    assert_eq!(fed.last().unwrap().role, Role::Tool);
    assert_eq!(fed.last().unwrap().tool_call_id.as_deref(), Some("c1"));
    assert_eq!(fed.last().unwrap().content, "Wrote 5 bytes to notes/a.md");
    let refused = reqs[2].messages.last().unwrap();
    assert!(refused.content.starts_with("Error: ") && refused.content.contains("outside the workspace"));
    let logged = journal.events_of(EventKind::ToolCall);
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0].data["tool"], "write_file");
    assert_eq!(logged[0].data["output"], "Wrote 5 bytes to notes/a.md");
}

#[tokio::test]
async fn constructor_arguments_apply_and_long_tool_results_are_capped_for_the_model() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), "x".repeat(MAX_TOOL_RESULT_BYTES + 10)).unwrap();
    let mut reader = agent("reader", "Reader");
    let fixed = crate::crew::ToolUse { name: "read_file".into(), args: [("file_path".to_string(), json!("big.txt"))].into() };
    reader.tools = vec![fixed];
    let spec = crew(vec![reader], vec![task("t1", Some("reader"))], dir.path());
    let model = ScriptedModel::new(|r| {
        if r.messages.iter().any(|m| m.role == Role::Tool) {
            Ok(text("read"))
        } else {
            assert_eq!(r.tools[0].parameters["required"], json!([]), "the file is fixed: the path may be left out");
            Ok(tool_call("c1", "read_file", json!({})))
        }
    });
    let (out, journal) = run(model.clone(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "read");
    let fed = model.requests()[1].messages.last().unwrap().content.clone();
    assert!(
        fed.starts_with("xxx") && fed.ends_with(&format!("… [truncated, {} bytes in all]", MAX_TOOL_RESULT_BYTES + 10)),
        "{}",
        &fed[fed.len() - 60..]
    );
    let logged = journal.events_of(EventKind::ToolCall);
    assert_eq!(
        logged[0].message,
        format!("used read_file (result of {} bytes cut to {MAX_TOOL_RESULT_BYTES} for the model)", MAX_TOOL_RESULT_BYTES + 10)
    );
    assert_eq!(logged[0].data["result_cap_bytes"], MAX_TOOL_RESULT_BYTES);
}

#[tokio::test]
async fn react_action_runs_the_tool_and_final_answer_is_extracted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "the number is 42").unwrap();
    let mut reader = agent("reader", "Reader");
    reader.tools = vec!["read_file".into()];
    let spec = crew(vec![reader], vec![task("t1", Some("reader"))], dir.path());
    let model = ScriptedModel::new(|r| {
        let last = r.messages.last().unwrap();
        if last.content.starts_with("Observation: ") {
            assert_eq!(last.content, "Observation: the number is 42");
            Ok(text("Thought: I know it now\nFinal Answer:  The answer is 42.  "))
        } else {
            Ok(text("Thought: read it\nAction: read_file\nAction Input: {\"path\": \"in.txt\"}\nObservation: (made up)"))
        }
    });
    let (out, _) = run(model.clone(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "The answer is 42.");
    let second = model.requests()[1].messages.clone();
    assert!(!second[second.len() - 2].content.contains("(made up)"));
}

#[tokio::test]
async fn max_iter_forces_a_final_answer_without_tools() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent("a", "Looper");
    a.tools = vec!["list_directory".into()];
    a.max_iter = 2;
    let spec = crew(vec![a], vec![task("t1", Some("a"))], dir.path());
    let model = ScriptedModel::new(|r| {
        if r.tools.is_empty() {
            Ok(text("Thought: fine\nFinal Answer: forced answer"))
        } else {
            Ok(tool_call("c", "list_directory", json!({})))
        }
    });
    let (out, journal) = run(model.clone(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "forced answer");
    let reqs = model.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[2].tools.is_empty());
    assert_eq!(reqs[2].messages.last().unwrap().content, FORCE_FINAL_ANSWER);
    assert!(journal.events_of(EventKind::Warning).iter().any(|w| w.message.contains("max_iter")));
}

#[tokio::test(start_paused = true)]
async fn max_execution_time_fails_with_agent_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent("a", "Slow");
    a.max_execution_time = Some(1);
    let spec = crew(vec![a], vec![task("t1", Some("a"))], dir.path());
    let model = ScriptedModel::new_async(|_| Box::pin(std::future::pending::<Result<ChatResponse, LlmError>>()));
    let (out, _) = run(model, execution(&spec, 1), vec![]).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AgentLimit);
    assert!(!err.retryable);
    assert_eq!(err.details["task"], "t1");
}

#[tokio::test(start_paused = true)]
async fn crew_max_rpm_makes_calls_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = crew(two_agents(), vec![task("t1", Some("researcher")), task("t2", Some("writer"))], dir.path());
    spec.max_rpm = Some(1);
    let (out, journal) = run(echo_label(), execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "out-t2");
    let waits: Vec<_> = journal.events_of(EventKind::Warning).into_iter().filter(|w| w.message.contains("max_rpm")).collect();
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].task.as_deref(), Some("t2"));
}

#[tokio::test]
async fn missing_inputs_are_an_invalid_crew_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task("t1", Some("a"));
    t.description = "Research {topic} in {year}".into();
    let spec = crew(vec![agent("a", "A")], vec![t], dir.path());
    let model = echo_label();
    let (out, _) = run(model.clone(), execution(&spec, 1), vec![]).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidCrew);
    assert!(!err.retryable);
    assert_eq!(err.details["missing_inputs"], json!(["topic", "year"]));
    assert!(model.requests().is_empty());

    let mut exec = execution(&spec, 1);
    exec.inputs.insert("topic".into(), json!("Rust"));
    exec.inputs.insert("year".into(), json!(2026));
    let (out, _) = run(model.clone(), exec, vec![]).await;
    out.unwrap();
    assert!(user_prompt(&model.requests()[0]).contains("Research Rust in 2026"));
}

#[tokio::test]
async fn output_file_is_written_atomically_inside_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task("t1", Some("a"));
    t.output_file = Some("out/report.md".into());
    let spec = crew(vec![agent("a", "A")], vec![t], dir.path());
    let (out, journal) = run(echo_label(), execution(&spec, 1), vec![]).await;
    out.unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("out/report.md")).unwrap(), "out-t1");
    let names: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
    let completed = &journal.events_of(EventKind::TaskCompleted)[0];
    assert!(completed.data["output_file"].as_str().unwrap().ends_with("out/report.md"));

    let mut t = task("t1", Some("a"));
    t.output_file = Some("../escape.md".into());
    let spec = crew(vec![agent("a", "A")], vec![t], dir.path());
    let err = run(echo_label(), execution(&spec, 1), vec![]).await.0.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Output);
    assert!(!dir.path().parent().unwrap().join("escape.md").exists());
}

#[tokio::test]
async fn output_json_must_parse() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = task("t1", Some("a"));
    t.output_json = true;
    let spec = crew(vec![agent("a", "A")], vec![t], dir.path());
    let bad = ScriptedModel::new(|_| Ok(text("Final Answer: not json at all")));
    let (out, journal) = run(bad, execution(&spec, 1), vec![]).await;
    let err = out.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Output);
    assert!(!err.retryable);
    assert!(journal.steps().is_empty());

    let good = ScriptedModel::new(|_| Ok(text("Final Answer: ```json\n{\"title\": \"T\"}\n```")));
    let (out, journal) = run(good, execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "{\"title\": \"T\"}");
    assert_eq!(journal.steps()[0].json, json!({"title": "T"}));
}

#[tokio::test]
async fn llm_errors_keep_their_classification() {
    let dir = tempfile::tempdir().unwrap();
    let spec = crew(vec![agent("a", "A")], vec![task("t1", Some("a"))], dir.path());
    let model =
        ScriptedModel::new(|_| Err(LlmError::new(LlmErrorKind::RateLimited { retry_after_ms: Some(1500) }, "429 Too Many Requests")));
    let err = run(model, execution(&spec, 1), vec![]).await.0.unwrap_err();
    assert_eq!(err.kind, ErrorKind::LlmRateLimited);
    assert!(err.retryable);
    assert_eq!(err.retry_after_ms, Some(1500));

    let model = ScriptedModel::new(|_| Err(LlmError::new(LlmErrorKind::Client { status: 401 }, "bad key")));
    let err = run(model, execution(&spec, 1), vec![]).await.0.unwrap_err();
    assert_eq!(err.kind, ErrorKind::LlmClient);
    assert!(!err.retryable);
}

#[tokio::test]
async fn cancellation_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let spec = crew(vec![agent("a", "A")], vec![task("t1", Some("a"))], dir.path());
    let model = ScriptedModel::new_async(|_| Box::pin(std::future::pending::<Result<ChatResponse, LlmError>>()));
    let journal = Arc::new(MemoryJournal::default());
    let cancel = CancellationToken::new();
    let executor = CrewExecutor::with_models(Arc::new(OneModel(model.clone())));
    let fut =
        executor.execute(RunRequest { execution: execution(&spec, 1), completed_steps: vec![], reviews: vec![] }, journal, cancel.clone());
    cancel.cancel();
    let err = fut.await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
}

#[tokio::test]
async fn offline_sequential_crew_writes_a_file_and_streams_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = agent("writer", "Writer");
    writer.tools = vec!["write_file".into()];
    let mut t1 = task("research", Some("writer"));
    t1.description = "Research {topic} and list about five findings".into();
    t1.expected_output = "A list of about five findings".into();
    let mut t2 = task("note", Some("writer"));
    t2.description = "Write a short note about {topic} and save it to notes.md".into();
    t2.expected_output = "A short note".into();
    let mut spec: CrewSpec = crew(vec![writer], vec![t1, t2], dir.path());
    spec.llm = Some("offline".into());
    let mut exec = execution(&spec, 1);
    exec.inputs.insert("topic".into(), json!("solar power"));
    let journal = Arc::new(MemoryJournal::default());
    let executor = CrewExecutor::new(crate::llm::LlmEnv::default());
    let out = executor
        .execute(RunRequest { execution: exec, completed_steps: vec![], reviews: vec![] }, journal.clone(), CancellationToken::new())
        .await
        .unwrap()
        .finished()
        .unwrap();
    let steps = journal.steps();
    assert_eq!(steps[0].output.lines().filter(|l| l.starts_with("- ")).count(), 5);
    let note = std::fs::read_to_string(dir.path().join("notes.md")).unwrap();
    assert!(note.to_lowercase().contains("solar"));
    assert!(out.output.contains("notes.md"));
    assert!(out.usage.llm_calls >= 3);
    assert_eq!(out.usage.cost_usd, Some(0.0));
    let tokens = journal.tokens.lock().unwrap();
    assert!(tokens.iter().any(|(task, _)| task.as_deref() == Some("research")));
}

#[tokio::test]
async fn sequential_agent_with_allow_delegation_gets_coworker_tools() {
    let dir = tempfile::tempdir().unwrap();
    let mut lead = agent("lead", "Lead");
    lead.allow_delegation = true;
    let spec = crew(vec![lead, agent("helper", "Helper")], vec![task("t1", Some("lead"))], dir.path());
    let model = ScriptedModel::new(|r| {
        if r.messages[0].content.starts_with("You are Helper.") {
            assert!(r.tools.is_empty(), "coworkers do not get delegation tools");
            return Ok(text("Final Answer: helper says hi"));
        }
        let names: Vec<&str> = r.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["delegate_work_to_coworker", "ask_question_to_coworker"]);
        match r.messages.last().unwrap().role {
            Role::Tool => Ok(text(&format!("Final Answer: lead got: {}", r.messages.last().unwrap().content))),
            _ => Ok(tool_call("q1", "ask_question_to_coworker", json!({"question": "hi?", "context": "", "coworker": "helper"}))),
        }
    });
    let (out, journal) = run(model, execution(&spec, 1), vec![]).await;
    assert_eq!(out.unwrap().output, "lead got: helper says hi");
    let d = journal.events_of(EventKind::Delegation);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].data["from"].as_str(), d[0].data["to"].as_str(), d[0].data["kind"].as_str()),
        (Some("Lead"), Some("Helper"), Some("question"))
    );
}
