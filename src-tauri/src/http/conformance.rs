//! Tests that the OpenAPI document is honest: values of every body type, serialised as the handlers
//! serialise them (an execution in each state, pages, outcomes, errors, …), validate against the
//! schema the document gives their route and status; wrong shapes do not.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::error::{ApiError, ErrorKind};
use super::openapi::document;
use super::responses::{
    Cancelled, EndData, ExecutionPage, ExecutionRow, Health, HealthStatus, LogPage, OrphanedData, PriorityChange, ProgressData, Rerun,
    StatusData, Steps, StreamError, Submitted,
};
use crate::app::{build_trace, compare_runs, EngineDecision, QueueView, RunRecord, TraceCall, Validation};
use crate::app::{CancelOutcome, QueueSettings, StatusCounts};
use crate::crew::{Diagnostic, RequiredInput};
use crate::engine::crewai::{FoundPython, PythonCommand, PythonCrew, TargetKind};
use crate::engine::test_support::{agent, crew, execution, task};
use crate::execution::ErrorKind as FailureKind;
use crate::execution::{
    AttemptError, Engine, EventKind, Execution, ExecutionError, ExecutionId, ExecutionState, LogEntry, LogEvent, LogLevel, PayloadMessage,
    PayloadResponse, PayloadToolCall, Priority, Progress, Status, StepOutput, TracePayloads, Usage,
};

/// The validator of the body of `method path` answering `status` (`None`: its request body).
fn validator(doc: &Value, method: &str, path: &str, status: Option<u16>) -> jsonschema::Validator {
    let operation = &doc["paths"][path][method];
    let content = match status {
        Some(status) => &operation["responses"][status.to_string()]["content"],
        None => &operation["requestBody"]["content"],
    };
    let schema = &content["application/json"]["schema"];
    assert!(!schema.is_null(), "no JSON body for {method} {path} {status:?}");
    validator_of(doc, schema)
}

/// The validator of `schema` (in `doc`), every named object schema closed
/// (`unevaluatedProperties: false`) so that a field the schema does not name fails too.
fn validator_of(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut components = doc["components"].clone();
    for named in components["schemas"].as_object_mut().unwrap().values_mut().filter_map(Value::as_object_mut) {
        if named.contains_key("properties") && !named.contains_key("additionalProperties") {
            named.entry("unevaluatedProperties").or_insert(Value::Bool(false));
        }
    }
    let root = json!({ "allOf": [schema], "components": components });
    jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("the schema does not compile: {e}\n{schema:#}"))
}

/// Asserts `value`, serialised, is a valid body of `method path` answering `status`.
fn valid(doc: &Value, method: &str, path: &str, status: u16, value: &impl Serialize) {
    let body = serde_json::to_value(value).unwrap();
    let errors: Vec<String> =
        validator(doc, method, path, Some(status)).iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}\n{body:#}");
}

/// Asserts `body` is refused by the schema of `method path` answering `status`.
fn invalid(doc: &Value, method: &str, path: &str, status: u16, body: Value) {
    assert!(!validator(doc, method, path, Some(status)).is_valid(&body), "{method} {path} {status} accepted {body:#}");
}

fn failure(kind: FailureKind) -> ExecutionError {
    ExecutionError::new(kind, "the endpoint answered 503").with_details(json!({ "status": 503 })).with_retry_after_ms(2_000)
}

/// One execution in each state, with every optional part filled somewhere.
pub(crate) fn executions() -> Vec<Execution> {
    let spec = crew(vec![agent("writer", "Writer")], vec![task("draft", Some("writer"))], std::path::Path::new("/tmp/ws"));
    let states = [
        ExecutionState::Queued,
        ExecutionState::Running { owner: "host:1".into(), lease_expires_at: 9, started_at: 2, lease_token: 4, owner_gone: true },
        ExecutionState::Retrying { next_run_at: 9, last_error: failure(FailureKind::LlmServer) },
        ExecutionState::Succeeded { output: "done".into(), finished_at: 9 },
        ExecutionState::Failed { error: failure(FailureKind::Timeout), finished_at: 9 },
        ExecutionState::Cancelled { finished_at: 9, was_running: true },
        ExecutionState::AwaitingInput {
            request: crate::execution::InputRequest {
                task: "draft".into(),
                agent: "Writer".into(),
                round: 2,
                draft: "the answer".into(),
                json: json!({ "title": "t" }),
                usage: Usage::default(),
                asked_at: 5,
            },
        },
    ];
    states
        .into_iter()
        .enumerate()
        .map(|(i, state)| {
            let mut e = execution(&spec, 1);
            e.state = state;
            if i % 2 == 1 {
                e.engine = Engine::Crewai;
                e.priority = Priority::Urgent;
                e.inputs = BTreeMap::from([("topic".into(), json!({ "nested": [1, 2.5, null] }))]);
                e.timeout_ms = Some(90_000);
                e.llm.model = Some("offline".into());
                e.llm.api_base = Some("http://***@localhost".into());
                e.meta = BTreeMap::from([("team".into(), "r&d".into())]);
                e.progress = Progress {
                    completed_steps: 1,
                    total_steps: 2,
                    current_step: Some("draft".into()),
                    current_agent: Some("Writer".into()),
                };
                e.usage = Usage { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, llm_calls: 1, cost_usd: Some(0.25) };
                e.attempt_errors = vec![AttemptError { attempt: 1, at: 5, error: failure(FailureKind::LlmRateLimited) }];
                e.retry_of = Some(ExecutionId::new());
                e.started_at = Some(2);
                e.cancel_requested = true;
            }
            e
        })
        .collect()
}

#[test]
fn an_execution_in_every_state_and_its_list_row_match_their_schemas() {
    let doc = document();
    let all = executions();
    for e in &all {
        valid(&doc, "get", "/v1/executions/{id}", 200, e);
    }
    let page = ExecutionPage { executions: all.iter().cloned().map(ExecutionRow).collect(), next_before: Some(all[0].id.clone()) };
    valid(&doc, "get", "/v1/executions", 200, &page);
    valid(&doc, "get", "/v1/executions", 200, &ExecutionPage { executions: Vec::new(), next_before: None });

    let succeeded = serde_json::to_value(&all[3]).unwrap();
    let mut wrong = succeeded.clone();
    wrong.as_object_mut().unwrap().remove("output");
    invalid(&doc, "get", "/v1/executions/{id}", 200, wrong);
    let mut wrong = succeeded.clone();
    wrong["status"] = json!("done");
    invalid(&doc, "get", "/v1/executions/{id}", 200, wrong);
    let mut wrong = succeeded.clone();
    wrong["unlisted"] = json!(1);
    invalid(&doc, "get", "/v1/executions/{id}", 200, wrong);
    // A row keeps no crew snapshot.
    invalid(&doc, "get", "/v1/executions", 200, json!({ "executions": [succeeded], "next_before": null }));
}

#[test]
fn steps_logs_and_control_answers_match_their_schemas() {
    let doc = document();
    let id = ExecutionId::new();
    let step = StepOutput {
        step: "draft".into(),
        agent: "Writer".into(),
        output: "{\"a\": 1}".into(),
        json: json!({ "a": 1 }),
        usage: Usage::default(),
        attempt: 1,
        completed_at: 9,
    };
    valid(&doc, "get", "/v1/executions/{id}/steps", 200, &Steps { steps: vec![step.clone(), StepOutput { json: Value::Null, ..step }] });
    let entries = vec![
        LogEntry { execution_id: id.clone(), attempt: 1, seq: 1, at: 5, event: LogEvent::info(EventKind::Submitted, "queued") },
        LogEntry {
            execution_id: id.clone(),
            attempt: 1,
            seq: 2,
            at: 6,
            event: LogEvent::info(EventKind::ToolCall, "read_file")
                .with_level(LogLevel::Debug)
                .with_task("draft")
                .with_agent("Writer")
                .with_data(json!({ "path": "a.txt" })),
        },
    ];
    valid(&doc, "get", "/v1/executions/{id}/logs", 200, &LogPage { entries, next_after: 2 });
    invalid(&doc, "get", "/v1/executions/{id}/logs", 200, json!({ "entries": [{ "seq": 1 }], "next_after": 1 }));

    for outcome in [CancelOutcome::Cancelled, CancelOutcome::Requested, CancelOutcome::AlreadyFinished(Status::Failed)] {
        valid(&doc, "post", "/v1/executions/{id}/cancel", 200, &Cancelled { id: id.clone(), outcome });
    }
    invalid(&doc, "post", "/v1/executions/{id}/cancel", 200, json!({ "id": id, "outcome": "already_finished" }));
    invalid(&doc, "post", "/v1/executions/{id}/cancel", 200, json!({ "id": id, "outcome": "requested", "status": "running" }));
    valid(&doc, "post", "/v1/executions/{id}/retry", 201, &Rerun { id: ExecutionId::new(), retry_of: Some(id.clone()), reused_steps: 2 });
    valid(&doc, "put", "/v1/executions/{id}/priority", 200, &PriorityChange { id: id.clone(), priority: Priority::Low });
    invalid(&doc, "put", "/v1/executions/{id}/priority", 200, json!({ "id": id, "priority": "asap" }));
    invalid(&doc, "put", "/v1/executions/{id}/priority", 200, json!({ "id": "nope", "priority": "low" }));
    for status in [201, 200] {
        valid(
            &doc,
            "post",
            "/v1/executions",
            status,
            &Submitted { ids: vec![id.clone()], replayed: status == 200, warnings: vec!["w".into()] },
        );
    }
}

#[test]
fn a_comparison_of_two_runs_matches_its_schema() {
    let doc = document();
    let spec = crew(vec![agent("w", "Writer")], vec![task("draft", Some("w")), task("review", Some("w"))], std::path::Path::new("/tmp"));
    let step = |key: &str, output: &str| StepOutput {
        step: key.into(),
        agent: "Writer".into(),
        output: output.into(),
        json: Value::Null,
        usage: Usage { total_tokens: 5, llm_calls: 1, cost_usd: Some(0.1), ..Usage::default() },
        attempt: 1,
        completed_at: 9,
    };
    let a = RunRecord { execution: execution(&spec, 1), steps: vec![step("draft", "a b"), step("review", "ok")], starts: vec![] };
    let b = RunRecord { execution: execution(&spec, 1), steps: vec![step("draft", "a c")], starts: vec![] };
    let comparison = compare_runs(&a, &b);
    assert_eq!(comparison.first_difference.as_deref(), Some("draft"));
    valid(&doc, "get", "/v1/executions/{id}/diff/{other}", 200, &comparison);
    let mut bad = serde_json::to_value(&comparison).unwrap();
    bad["tasks"][0]["diff"]["segments"][0]["op"] = json!("replace");
    invalid(&doc, "get", "/v1/executions/{id}/diff/{other}", 200, bad);
    let params = &doc["paths"]["/v1/executions/{id}/diff/{other}"]["get"]["parameters"];
    assert_eq!(params.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["id", "other"]);
}

#[test]
fn a_trace_and_a_call_match_their_schemas() {
    let doc = document();
    let spec = crew(vec![agent("w", "Writer")], vec![task("draft", Some("w"))], std::path::Path::new("/tmp"));
    let mut e = execution(&spec, 1);
    e.state = ExecutionState::Succeeded { output: "ok".into(), finished_at: 90 };
    e.started_at = Some(1);
    let line = |seq: u64, at: i64, kind: EventKind, data: Value| LogEntry {
        execution_id: e.id.clone(),
        attempt: 1,
        seq,
        at,
        event: LogEvent::info(kind, "x").with_task("draft").with_agent("Writer").with_data(data),
    };
    let usage = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "llm_calls": 1, "cost_usd": 0.01});
    let logs = vec![
        line(1, 10, EventKind::TaskStarted, Value::Null),
        line(2, 11, EventKind::LlmCallStarted, json!({"model": "m"})),
        line(3, 20, EventKind::LlmCallCompleted, json!({"model": "m", "usage": usage, "started_at": 11, "elapsed_ms": 9, "payload": true})),
        line(4, 30, EventKind::ToolCall, json!({"tool": "t", "input": "{}", "output": "r", "elapsed_ms": 5})),
        line(5, 31, EventKind::Delegation, json!({"from": "Writer", "to": "Checker", "task": "check"})),
        line(6, 32, EventKind::LlmCallStarted, json!({"model": "m"})),
    ];
    let mut running = e.clone();
    running.state = ExecutionState::Running { owner: "o".into(), lease_expires_at: 0, started_at: 1, lease_token: 1, owner_gone: false };
    for (execution, payloads) in [(&e, TracePayloads::Full), (&running, TracePayloads::Metadata)] {
        let trace = build_trace(execution, &logs, payloads);
        assert_eq!(trace.spans.len(), 5);
        valid(&doc, "get", "/v1/executions/{id}/trace", 200, &trace);
    }
    let mut bad = serde_json::to_value(build_trace(&e, &logs, TracePayloads::Full)).unwrap();
    bad["spans"][0]["kind"] = json!("step");
    invalid(&doc, "get", "/v1/executions/{id}/trace", 200, bad);

    let call = TraceCall {
        execution_id: e.id.to_string(),
        call: 3,
        model: "openai/m".into(),
        endpoint: Some("http://127.0.0.1:1/v1".into()),
        messages: vec![PayloadMessage {
            role: "assistant".into(),
            content: String::new(),
            tool_calls: vec![PayloadToolCall { name: "t".into(), arguments: "{}".into() }],
            tool_call_id: None,
            name: None,
        }],
        tools: vec!["t".into()],
        response: PayloadResponse { content: "done".into(), tool_calls: vec![], finish_reason: Some("stop".into()) },
        usage: Some(Usage { total_tokens: 5, llm_calls: 1, ..Usage::default() }),
        started_at: 11,
        ended_at: 20,
    };
    valid(&doc, "get", "/v1/executions/{id}/trace/calls/{call}", 200, &call);
    valid(&doc, "get", "/v1/executions/{id}/trace/calls/{call}", 404, &ApiError::new(ErrorKind::NotFound, "not kept"));
    let params = &doc["paths"]["/v1/executions/{id}/trace/calls/{call}"]["get"]["parameters"];
    assert_eq!(params.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["id", "call"]);
}

#[test]
fn queue_health_validation_and_error_answers_match_their_schemas() {
    let doc = document();
    let settings = QueueSettings { paused: true, concurrency: 2 };
    for halted in [None, Some("the database failed".to_string())] {
        valid(
            &doc,
            "get",
            "/v1/queue",
            200,
            &QueueView { settings, counts: StatusCounts { queued: 1, ..StatusCounts::default() }, halted },
        );
    }
    valid(&doc, "post", "/v1/queue/pause", 200, &settings);
    valid(&doc, "post", "/v1/queue/resume", 200, &settings);
    valid(&doc, "get", "/v1/health", 200, &Health { status: HealthStatus::Ok, version: "0.1.0".into() });
    invalid(&doc, "get", "/v1/health", 200, json!({ "status": "degraded", "version": "0.1.0" }));
    valid(&doc, "get", "/v1/openapi.json", 200, &doc);

    let spec = crew(vec![agent("writer", "Writer")], vec![task("draft", Some("writer"))], std::path::Path::new("/tmp/ws"));
    let warnings = vec![Diagnostic::new("crew.yaml", "ignored").at_line(Some(3)).on_field("agents.writer.memory")];
    let graph = Some(crate::crew::CrewGraph::build(&spec, &warnings));
    let native = Validation {
        crew: Some(spec),
        engine: EngineDecision { engine: Engine::Native, reason: "it loads".into(), python: None, hint: Some("try crewai".into()) },
        python_crew: None,
        required_inputs: vec![
            RequiredInput { name: "topic".into(), default: None, default_from: None },
            RequiredInput { name: "n".into(), default: Some(json!(3)), default_from: None },
        ],
        warnings,
        fields: vec![crate::crew::FieldUses { entry: "agents.a".into(), applied: vec!["role".into()], ignored: vec!["memory".into()] }],
        graph,
    };
    valid(&doc, "post", "/v1/crews/validate", 200, &native);
    let python = FoundPython {
        command: PythonCommand { program: "/usr/bin/uv".into(), args: vec!["run".into()] },
        source: "uv run".into(),
        python_version: "3.12".into(),
        crewai_version: "0.1".into(),
    };
    let crewai = Validation {
        crew: None,
        engine: EngineDecision { engine: Engine::Crewai, reason: "a Python crew".into(), python: Some(python), hint: None },
        python_crew: Some(PythonCrew { kind: TargetKind::FlowProject, root: "/p".into(), entry: "/p/src/p".into() }),
        required_inputs: Vec::new(),
        warnings: Vec::new(),
        fields: Vec::new(),
        graph: None,
    };
    valid(&doc, "post", "/v1/crews/validate", 200, &crewai);

    for (kind, status) in
        [(ErrorKind::InvalidCrew, 400), (ErrorKind::NotFound, 404), (ErrorKind::IdempotencyConflict, 409), (ErrorKind::Unauthorized, 401)]
    {
        valid(&doc, "post", "/v1/executions/{id}/retry", status, &ApiError::new(kind, "no"));
    }
    invalid(&doc, "get", "/v1/queue", 500, json!({ "kind": "oops", "message": "no" }));
}

#[test]
fn request_bodies_the_server_reads_match_their_schemas() {
    let doc = document();
    let check = |path: &str, method: &str, body: Value, ok: bool| {
        assert_eq!(validator(&doc, method, path, None).is_valid(&body), ok, "{method} {path}: {body}");
    };
    check(
        "/v1/executions",
        "post",
        json!({ "crew": "/c.yaml", "inputs": { "a": 1 }, "rows": [{ "b": 2 }], "priority": "high", "timeout": "1m30s", "max_attempts": 2, "meta": { "team": "r" }, "model": "offline", "engine": "native", "idempotency_key": "k" }),
        true,
    );
    check("/v1/executions", "post", json!({ "crew": "/c.yaml", "timeout": 1.5 }), true);
    check("/v1/executions", "post", json!({ "crew": "/c.yaml", "timeout": 0 }), false);
    check("/v1/executions", "post", json!({ "crew": "/c.yaml", "python": "/bin/sh" }), false);
    check("/v1/executions", "post", json!({ "crew": "/c.yaml", "rows": [] }), false);
    check("/v1/executions", "post", json!({ "inputs": {} }), false);
    check("/v1/executions/{id}/retry", "post", json!({}), true);
    check("/v1/executions/{id}/retry", "post", json!({ "from_task": "draft" }), true);
    check("/v1/executions/{id}/priority", "put", json!({ "priority": "urgent" }), true);
    check("/v1/executions/{id}/priority", "put", json!({ "priority": "asap" }), false);
    check("/v1/crews/validate", "post", json!({ "crew": "/c.yaml", "engine": "crewai" }), true);
    check("/v1/crews/validate", "post", json!({ "engine": "auto" }), false);
}

#[test]
fn the_data_of_every_stream_event_matches_its_schema() {
    let doc = document();
    let events = &doc["paths"]["/v1/executions/{id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["x-events"];
    let check = |name: &str, data: Value, ok: bool| {
        assert!(!events[name].is_null(), "no event {name}: {events:#}");
        assert_eq!(validator_of(&doc, &events[name]).is_valid(&data), ok, "{name}: {data:#}");
    };
    for e in executions() {
        check(
            "status",
            serde_json::to_value(StatusData { id: &e.id, state: &e.state, attempt: e.attempt, priority: e.priority }).unwrap(),
            true,
        );
        check("progress", serde_json::to_value(ProgressData { id: &e.id, progress: &e.progress }).unwrap(), true);
    }
    let entry = LogEntry { execution_id: ExecutionId::new(), attempt: 1, seq: 1, at: 5, event: LogEvent::warning("careful") };
    check("log", serde_json::to_value(&entry).unwrap(), true);
    check("end", serde_json::to_value(EndData { status: Status::Succeeded }).unwrap(), true);
    check("orphaned", serde_json::to_value(OrphanedData { owner: "host:1".into() }).unwrap(), true);
    check("error", serde_json::to_value(StreamError { message: "the database failed".into() }).unwrap(), true);
    check("status", json!({ "id": ExecutionId::new(), "status": "succeeded", "attempt": 1, "priority": "normal" }), false);
    check("end", json!({ "status": "over" }), false);
}
