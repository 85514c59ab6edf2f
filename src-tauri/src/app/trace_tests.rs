//! [`build_trace`] over hand-written log lines: nesting, timing, usage, open and retried spans.

use serde_json::json;

use super::*;
use crate::engine::test_support::{crew, execution};
use crate::execution::{ExecutionError, ExecutionState, LogEvent};

/// Log lines, numbered in order.
struct Log {
    lines: Vec<LogEntry>,
    id: ExecutionId,
}

impl Log {
    fn new(id: &ExecutionId) -> Log {
        Log { lines: Vec::new(), id: id.clone() }
    }

    fn add(&mut self, attempt: u32, at: i64, kind: EventKind, task: Option<&str>, agent: Option<&str>, data: Value) -> &mut Log {
        let mut event = LogEvent::info(kind, format!("{kind:?}")).with_data(data);
        event.task = task.map(str::to_string);
        event.agent = agent.map(str::to_string);
        let seq = self.lines.len() as u64 + 1;
        self.lines.push(LogEntry { execution_id: self.id.clone(), attempt, seq, at, event });
        self
    }
}

fn usage(p: u64, c: u64, cost: Option<f64>) -> Value {
    json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c, "llm_calls": 1, "cost_usd": cost})
}

fn finished(attempt: u32, state: ExecutionState) -> Execution {
    let tmp = std::env::temp_dir();
    let mut e = execution(&crew(vec![], vec![], &tmp), attempt);
    e.state = state;
    e.started_at = Some(100);
    e
}

fn succeeded(attempt: u32) -> Execution {
    finished(attempt, ExecutionState::Succeeded { output: "done".into(), finished_at: 900 })
}

#[test]
fn tasks_hold_their_calls_tools_and_delegations_with_times_and_usage() {
    let e = succeeded(1);
    let mut log = Log::new(&e.id);
    let (t, w, c) = (Some("research"), Some("Writer"), Some("Checker"));
    log.add(1, 100, EventKind::TaskStarted, t, w, Value::Null)
        .add(1, 110, EventKind::LlmCallStarted, t, w, json!({"model": "openai/gpt-4o-mini"}))
        .add(
            1,
            150,
            EventKind::LlmCallCompleted,
            t,
            w,
            json!({"model": "openai/gpt-4o-mini", "usage": usage(10, 5, Some(0.5)), "started_at": 111, "elapsed_ms": 39, "payload": true}),
        )
        .add(1, 151, EventKind::AgentStep, t, w, Value::Null)
        .add(1, 152, EventKind::AgentStep, t, w, Value::Null)
        .add(1, 170, EventKind::ToolCall, t, w, json!({"tool": "search", "input": "{\"q\":1}", "output": "found it", "elapsed_ms": 15}))
        .add(
            1,
            200,
            EventKind::Delegation,
            t,
            w,
            json!({"from": "Writer", "to": "Checker", "kind": "work", "task": "check it", "context": ""}),
        )
        .add(1, 210, EventKind::LlmCallStarted, t, c, json!({"model": "openai/gpt-4o-mini"}))
        .add(
            1,
            250,
            EventKind::LlmCallCompleted,
            t,
            c,
            json!({"model": "openai/gpt-4o-mini", "usage": usage(20, 10, Some(1.0)), "started_at": 211, "elapsed_ms": 39}),
        )
        .add(
            1,
            260,
            EventKind::ToolCall,
            t,
            w,
            json!({"tool": "Delegate work to coworker", "input": "{}", "output": "checked", "elapsed_ms": 61}),
        )
        .add(1, 300, EventKind::TaskCompleted, t, w, Value::Null);
    let trace = build_trace(&e, &log.lines, TracePayloads::Full);

    let kinds: Vec<(SpanKind, &str, Option<u32>)> = trace.spans.iter().map(|s| (s.kind, s.name.as_str(), s.parent)).collect();
    assert_eq!(
        kinds,
        vec![
            (SpanKind::Task, "research", None),
            (SpanKind::LlmCall, "openai/gpt-4o-mini", Some(0)),
            (SpanKind::ToolCall, "search", Some(0)),
            (SpanKind::ToolCall, "Delegate work to coworker", Some(0)),
            (SpanKind::Delegation, "Writer → Checker", Some(0)),
            (SpanKind::LlmCall, "openai/gpt-4o-mini", Some(4)),
        ]
    );
    let s = &trace.spans;
    assert!(s.iter().enumerate().all(|(i, span)| span.id == i as u32));
    assert_eq!((s[0].start_ms, s[0].end_ms, s[0].status), (100, Some(300), SpanStatus::Ok));
    assert_eq!((s[1].start_ms, s[1].end_ms, s[1].call), (110, Some(150), Some(3)));
    assert_eq!(s[1].summary, "AgentStep");
    assert_eq!((s[2].start_ms, s[2].end_ms), (155, Some(170)));
    assert_eq!(s[2].detail, json!({"tool": "search", "input": "{\"q\":1}", "output": "found it"}));
    assert_eq!((s[4].start_ms, s[4].end_ms), (200, Some(260)), "the delegator's next line ends the delegation");
    assert_eq!(s[4].detail["request"], "check it");
    assert_eq!(s[5].call, None, "no payload kept");
    assert_eq!(s[0].usage.as_ref().map(|u| u.total_tokens), Some(45));
    assert_eq!(s[0].cost_usd, Some(1.5));
    assert_eq!(s[4].usage.as_ref().map(|u| u.total_tokens), Some(30));
    let totals = &trace.totals;
    assert_eq!((totals.llm_calls, totals.tool_calls, totals.delegations), (2, 2, 1));
    assert_eq!((totals.prompt_tokens, totals.completion_tokens, totals.total_tokens), (30, 15, 45));
    assert_eq!(totals.cost_usd, Some(1.5));
    assert_eq!((trace.started_at, trace.ended_at, trace.payloads), (Some(100), Some(900), TracePayloads::Full));
}

#[test]
fn an_unknown_price_makes_the_cost_unknown_and_tool_errors_fail() {
    let e = succeeded(1);
    let mut log = Log::new(&e.id);
    let t = Some("a");
    log.add(1, 100, EventKind::TaskStarted, t, None, Value::Null)
        .add(1, 120, EventKind::LlmCallCompleted, t, None, json!({"model": "x/unpriced", "usage": usage(1, 1, None)}))
        .add(1, 130, EventKind::ToolCall, t, None, json!({"tool": "read", "input": "", "output": "Error: no such file"}))
        .add(1, 140, EventKind::TaskSkipped, Some("b"), None, Value::Null);
    let trace = build_trace(&e, &log.lines, TracePayloads::Metadata);
    assert_eq!(trace.totals.cost_usd, None);
    assert_eq!(trace.spans[1].start_ms, 120, "no start known: a point at the line");
    assert_eq!(trace.spans[2].status, SpanStatus::Failed);
    assert_eq!(trace.spans[2].summary, "Error: no such file");
    let skipped = trace.spans.iter().find(|s| s.name == "b").unwrap();
    assert_eq!((skipped.status, skipped.start_ms, skipped.end_ms), (SpanStatus::Skipped, 140, Some(140)));
    assert_eq!(trace.spans[0].status, SpanStatus::Failed, "never completed: the execution's end closes it");
}

#[test]
fn a_live_call_runs_and_an_earlier_attempt_failed() {
    let mut e = finished(2, ExecutionState::Queued);
    e.state = ExecutionState::Running { owner: "o".into(), lease_expires_at: 0, started_at: 0, lease_token: 1, owner_gone: false };
    let mut log = Log::new(&e.id);
    let t = Some("a");
    log.add(1, 100, EventKind::TaskStarted, t, None, Value::Null)
        .add(1, 110, EventKind::LlmCallStarted, t, None, json!({"model": "m"}))
        .add(1, 120, EventKind::RetryScheduled, None, None, Value::Null)
        .add(2, 200, EventKind::TaskStarted, t, None, Value::Null)
        .add(2, 210, EventKind::LlmCallStarted, t, None, json!({"model": "m"}));
    let trace = build_trace(&e, &log.lines, TracePayloads::Full);
    let s = &trace.spans;
    assert_eq!(s.len(), 4);
    assert_eq!((s[0].attempt, s[0].status, s[0].end_ms), (1, SpanStatus::Failed, Some(120)));
    assert_eq!((s[1].attempt, s[1].status, s[1].end_ms), (1, SpanStatus::Failed, Some(120)));
    assert_eq!(s[1].summary, "RetryScheduled", "the call says why its attempt failed");
    assert_eq!((s[2].attempt, s[2].status, s[2].end_ms), (2, SpanStatus::Running, None));
    assert_eq!((s[3].attempt, s[3].status, s[3].end_ms, s[3].parent), (2, SpanStatus::Running, None, Some(2)));
}

#[test]
fn a_cancelled_execution_cancels_what_was_open() {
    let e = finished(1, ExecutionState::Cancelled { finished_at: 500, was_running: true });
    let mut log = Log::new(&e.id);
    log.add(1, 100, EventKind::TaskStarted, Some("a"), None, Value::Null).add(
        1,
        110,
        EventKind::LlmCallStarted,
        Some("a"),
        None,
        json!({"model": "m"}),
    );
    let trace = build_trace(&e, &log.lines, TracePayloads::Full);
    assert!(trace.spans.iter().all(|s| s.status == SpanStatus::Cancelled && s.end_ms == Some(500)));
    let failed =
        finished(1, ExecutionState::Failed { error: ExecutionError::new(crate::execution::ErrorKind::Internal, "x"), finished_at: 600 });
    let trace = build_trace(&failed, &log.lines, TracePayloads::Full);
    assert!(trace.spans.iter().all(|s| s.status == SpanStatus::Failed && s.end_ms == Some(600)));
}

#[test]
fn crewai_engine_tool_lines_pair_and_a_failed_call_says_why() {
    let e = succeeded(1);
    let mut log = Log::new(&e.id);
    let (t, a) = (Some("a"), Some("R"));
    log.add(1, 100, EventKind::TaskStarted, t, a, Value::Null)
        .add(1, 110, EventKind::ToolCall, t, a, json!({"tool": "word_counter", "args": {"text": "a b"}}))
        .add(1, 130, EventKind::ToolCall, t, a, json!({"tool": "word_counter", "output": "WORDCOUNT=2"}))
        .add(1, 140, EventKind::LlmCallStarted, t, a, json!({"model": "gpt-4o-mini"}))
        .add(1, 150, EventKind::LlmCallCompleted, t, a, json!({"model": "gpt-4o-mini", "error": "rate limited"}))
        .add(1, 160, EventKind::TaskCompleted, t, a, Value::Null);
    let trace = build_trace(&e, &log.lines, TracePayloads::Full);
    let s = &trace.spans;
    assert_eq!((s[1].kind, s[1].start_ms, s[1].end_ms, s[1].status), (SpanKind::ToolCall, 110, Some(130), SpanStatus::Ok));
    assert_eq!(s[1].detail, json!({"tool": "word_counter", "input": {"text": "a b"}, "output": "WORDCOUNT=2"}));
    assert_eq!((s[2].status, s[2].summary.as_str()), (SpanStatus::Failed, "rate limited"));
}

#[test]
fn two_thousand_calls_build_in_one_pass() {
    let e = succeeded(1);
    let mut log = Log::new(&e.id);
    log.add(1, 0, EventKind::TaskStarted, Some("a"), Some("A"), Value::Null);
    for i in 0..2000 {
        log.add(1, i * 10 + 1, EventKind::LlmCallStarted, Some("a"), Some("A"), json!({"model": "m"}));
        log.add(1, i * 10 + 5, EventKind::LlmCallCompleted, Some("a"), Some("A"), json!({"model": "m", "usage": usage(1, 1, Some(0.0))}));
        log.add(
            1,
            i * 10 + 9,
            EventKind::ToolCall,
            Some("a"),
            Some("A"),
            json!({"tool": "t", "input": "", "output": "ok", "elapsed_ms": 2}),
        );
    }
    let trace = build_trace(&e, &log.lines, TracePayloads::Full);
    assert_eq!(trace.spans.len(), 4001);
    assert_eq!((trace.totals.llm_calls, trace.totals.tool_calls, trace.totals.total_tokens), (2000, 2000, 4000));
    assert!(trace.spans.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));
    assert!(trace.spans[1..].iter().all(|s| s.parent == Some(0)));
}
