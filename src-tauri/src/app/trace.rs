//! The trace of a run ([`Trace`]): one span per task, with a nested span for each LLM call, tool
//! call and delegation, on one time axis, built from the execution's log lines alone
//! ([`build_trace`]); and what one LLM call sent and received ([`TraceCall`]), from its stored
//! payload ([`Runner::trace_call`]).
//!
//! # How the log lines become spans
//! - `task_started` opens a task span (per attempt); `task_completed` closes it `ok`,
//!   `task_skipped` is a span of no length, `skipped`.
//! - `llm_call_started` opens an LLM call span; `llm_call_completed` of the same attempt, task
//!   and agent closes it (`failed` when its data has an `error`), or makes the whole span from its
//!   `started_at`/`elapsed_ms` when no start line is open. Its `usage` gives the tokens and cost;
//!   a line whose data says `payload: true` has a stored payload, keyed by the line's seq (`call`).
//!   The next `agent_step` line of that agent is the call's summary.
//! - `tool_call`: a native line is logged after the tool ran and spans `at - elapsed_ms .. at`; a
//!   CrewAI engine line with `args` and no result opens the span and its `output`/`error` line of
//!   the same tool closes it. A result starting `Error:` (or an `error`) is `failed`.
//! - `delegation` opens a span `From → To` under its task; the coworker's lines (its agent is the
//!   delegation's `to`, same task and attempt) nest under it; the delegator's next line closes it.
//! - Spans still open when their attempt ended (a later attempt's line, or the execution's end)
//!   are closed there: `cancelled` when the execution was cancelled, else `failed` (a failed LLM
//!   or tool call's summary is then its attempt's error line). Spans of the current attempt of a
//!   live execution stay `running` with no end.
//!
//! A parent's span always starts no later than its children's (a child's start is raised to its
//! parent's), and spans are ordered by start; `id` is the index in that order.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::{Runner, RunnerError};
use crate::execution::{
    EventKind, Execution, ExecutionId, LogEntry, Millis, PayloadError, PayloadMessage, PayloadResponse, Status, TracePayloads, Usage,
};

/// The longest summary of a span, in characters.
const SUMMARY_CHARS: usize = 160;

/// What a span stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Task,
    LlmCall,
    ToolCall,
    Delegation,
}

/// How a span ended (or that it has not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum SpanStatus {
    Running,
    Ok,
    Failed,
    Skipped,
    Cancelled,
}

/// One row of the waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct TraceSpan {
    /// The span's index in [`Trace::spans`].
    pub id: u32,
    /// The enclosing span's id (a task, or a delegation for its coworker's calls).
    pub parent: Option<u32>,
    pub kind: SpanKind,
    /// The task key, the model, the tool's name, or `From role → To role`.
    pub name: String,
    pub task: Option<String>,
    pub agent: Option<String>,
    /// The attempt it belongs to (1-based).
    pub attempt: u32,
    /// Epoch milliseconds.
    pub start_ms: i64,
    /// `None` while it is still running.
    pub end_ms: Option<i64>,
    pub status: SpanStatus,
    /// Tokens (and cost) of an LLM call, or of every LLM call under a task or delegation.
    pub usage: Option<Usage>,
    /// US dollars when the price of every call it covers is known.
    pub cost_usd: Option<f64>,
    /// The model of an LLM call.
    pub model: Option<String>,
    /// For an LLM call whose payload was stored: its key for [`Runner::trace_call`] (the seq of
    /// its `llm_call_completed` line).
    pub call: Option<u64>,
    /// One line: the answer's start, the tool's result, or the error.
    pub summary: String,
    /// A tool call's `{tool, input, output}`; a delegation's `{request, context, kind, from, to}`;
    /// `null` otherwise.
    pub detail: Value,
    /// A running LLM call's answer streamed so far (its end), when this process runs the
    /// execution ([`Scheduler::streamed_text`](crate::scheduler::Scheduler::streamed_text));
    /// left out otherwise. Never stored: a finished call's answer is in [`Runner::trace_call`].
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub streamed: Option<crate::scheduler::StreamedAnswer>,
}

impl TraceSpan {
    /// A running span of `kind` named `name` from `start_ms`, at the top level of attempt 1,
    /// with nothing else known yet (id 0).
    pub fn running(kind: SpanKind, name: &str, start_ms: Millis) -> TraceSpan {
        TraceSpan {
            id: 0,
            parent: None,
            kind,
            name: name.to_string(),
            task: None,
            agent: None,
            attempt: 1,
            start_ms,
            end_ms: None,
            status: SpanStatus::Running,
            usage: None,
            cost_usd: None,
            model: None,
            call: None,
            summary: String::new(),
            detail: Value::Null,
            streamed: None,
        }
    }
}

/// Counts and sums over every LLM call, tool call and delegation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema, TS)]
pub struct TraceTotals {
    pub llm_calls: u32,
    pub tool_calls: u32,
    pub delegations: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// `None` when any call's cost is unknown.
    pub cost_usd: Option<f64>,
}

/// The trace of one execution.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct Trace {
    pub execution_id: String,
    pub status: Status,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Ordered by start; parents before their children.
    pub spans: Vec<TraceSpan>,
    pub totals: TraceTotals,
    /// What is kept of LLM calls now (the `trace_payloads` setting).
    pub payloads: TracePayloads,
}

/// What one LLM call sent and received.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema, TS)]
pub struct TraceCall {
    pub execution_id: String,
    /// The seq of the call's `llm_call_completed` line.
    pub call: u64,
    pub model: String,
    /// The base URL, credentials redacted.
    pub endpoint: Option<String>,
    /// What was sent, secrets redacted.
    pub messages: Vec<PayloadMessage>,
    /// The names of the tools offered.
    pub tools: Vec<String>,
    pub response: PayloadResponse,
    pub usage: Option<Usage>,
    pub started_at: i64,
    pub ended_at: i64,
}

/// Why a call's payload cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The execution has no LLM call with this number (the seq of an `llm_call_completed` line).
    #[error("execution `{id}` has no LLM call {call} (see the `call` numbers in `crew-runner trace {id}`)")]
    NoSuchCall { id: ExecutionId, call: u64 },
    /// The call ran while `trace_payloads` was `metadata` (or on an engine that gives no
    /// payloads): only its timing, tokens and cost were kept.
    #[error("the messages of LLM call {call} of execution `{id}` were not kept (trace_payloads was `metadata`, or its engine does not report them); only its timing, tokens and cost are in the trace")]
    NotKept { id: ExecutionId, call: u64 },
    /// The stored payload cannot be read back.
    #[error("the stored payload of LLM call {call} of execution `{id}` is unreadable: {source}")]
    Unreadable {
        id: ExecutionId,
        call: u64,
        #[source]
        source: PayloadError,
    },
}

impl Runner {
    /// The trace of execution `id` ([`build_trace`] over its whole log, one read), with
    /// `payloads` (the current setting) reported as is. Fails with [`RunnerError::NotFound`] /
    /// [`RunnerError::BadId`] for an unknown or malformed id. Blocking.
    pub fn trace(&self, id: &str, payloads: TracePayloads) -> Result<Trace, RunnerError> {
        let execution = self.get(id)?;
        let logs = self.logs(&execution.id, 0, 0)?;
        let mut trace = build_trace(&execution, &logs, payloads);
        if let Some(scheduler) = self.scheduler_ref() {
            for span in trace.spans.iter_mut().filter(|s| s.kind == SpanKind::LlmCall && s.status == SpanStatus::Running) {
                span.streamed = scheduler.streamed_text(&execution.id, span.task.as_deref());
            }
        }
        Ok(trace)
    }

    /// What LLM call `call` (its `call` number in the trace) of execution `id` sent and
    /// received, from its stored payload; [`TraceError`] when there is no such call or its
    /// payload was not kept. Blocking.
    pub fn trace_call(&self, id: &str, call: u64) -> Result<TraceCall, RunnerError> {
        let execution = self.get(id)?;
        let line = self.logs(&execution.id, call.saturating_sub(1), 1)?.into_iter().next().filter(|l| l.seq == call);
        let Some(line) = line.filter(|l| l.event.kind == EventKind::LlmCallCompleted) else {
            return Err(TraceError::NoSuchCall { id: execution.id, call }.into());
        };
        let Some(stored) = self.store_ref().call_payload(&execution.id, call)? else {
            return Err(TraceError::NotKept { id: execution.id, call }.into());
        };
        let payload = stored.decompress().map_err(|source| TraceError::Unreadable { id: execution.id.clone(), call, source })?;
        Ok(TraceCall {
            execution_id: execution.id.to_string(),
            call,
            model: payload.model,
            endpoint: payload.endpoint,
            messages: payload.messages,
            tools: payload.tools,
            response: payload.response,
            usage: line.event.data.get("usage").and_then(usage_of),
            started_at: payload.started_at,
            ended_at: payload.ended_at,
        })
    }
}

/// A span while it is built.
struct Open {
    span: TraceSpan,
    /// For a delegation: the coworker's role and the delegator's.
    to: Option<String>,
    from: Option<String>,
}

/// Who a line is about: its attempt, task and agent.
type Who = (u32, Option<String>, Option<String>);

/// Builds the trace of `execution` from its log lines `logs` (in seq order), as the module docs
/// describe. Pure: no I/O, one pass over the lines.
pub fn build_trace(execution: &Execution, logs: &[LogEntry], payloads: TracePayloads) -> Trace {
    let mut b = Builder::default();
    for line in logs {
        b.line(line);
    }
    let status = execution.status();
    let ended_at = execution.state.finished_at();
    let live = matches!(status, Status::Running | Status::AwaitingInput);
    // Spans of earlier attempts (and every span once the execution ended) are closed.
    let end_status = if status == Status::Cancelled { SpanStatus::Cancelled } else { SpanStatus::Failed };
    let last_at = logs.last().map(|l| l.at);
    for i in 0..b.spans.len() {
        if b.spans[i].span.end_ms.is_some() {
            continue;
        }
        let attempt = b.spans[i].span.attempt;
        if live && attempt >= execution.attempt {
            continue;
        }
        let at = if live { b.attempt_end.get(&attempt).copied() } else { ended_at.or(last_at) };
        let at = at.or_else(|| b.attempt_end.get(&attempt).copied()).unwrap_or(b.spans[i].span.start_ms);
        b.close(i, at, end_status);
    }
    b.finish(execution, ended_at, payloads)
}

#[derive(Default)]
struct Builder {
    spans: Vec<Open>,
    /// Open task spans by (attempt, task).
    tasks: HashMap<(u32, String), usize>,
    /// Open LLM calls (started, not completed) by who.
    llm: HashMap<Who, Vec<usize>>,
    /// The last completed LLM call of each agent, waiting for its summary (`agent_step`).
    awaiting_summary: HashMap<Who, usize>,
    /// Open CrewAI tool calls by who and tool.
    tools: HashMap<(Who, String), usize>,
    /// Open delegations by (attempt, task), innermost last.
    delegations: HashMap<(u32, Option<String>), Vec<usize>>,
    /// The time of each attempt's last line.
    attempt_end: HashMap<u32, Millis>,
    /// Why each attempt that failed failed (its `retry_scheduled`/`failed`/`interrupted` line).
    attempt_error: HashMap<u32, String>,
    /// The attempt of the previous line.
    current_attempt: u32,
}

impl Builder {
    fn line(&mut self, line: &LogEntry) {
        let e = &line.event;
        let attempt = line.attempt;
        if attempt > self.current_attempt {
            self.close_attempts_before(attempt);
            self.current_attempt = attempt;
        }
        self.attempt_end.insert(attempt, line.at);
        let who: Who = (attempt, e.task.clone(), e.agent.clone());
        self.close_delegations_of(&who, line.at);
        match e.kind {
            EventKind::TaskStarted => {
                let Some(task) = e.task.clone() else { return };
                if let Some(old) = self.tasks.remove(&(attempt, task.clone())) {
                    self.close(old, line.at, SpanStatus::Failed);
                }
                let i = self.push(SpanKind::Task, &task, &who, None, line.at);
                self.tasks.insert((attempt, task), i);
            }
            EventKind::TaskCompleted | EventKind::TaskSkipped => {
                let Some(task) = e.task.clone() else { return };
                let skipped = e.kind == EventKind::TaskSkipped;
                let i = match self.tasks.remove(&(attempt, task.clone())) {
                    Some(i) => i,
                    None => self.push(SpanKind::Task, &task, &who, None, line.at),
                };
                self.close_inside(i, line.at);
                self.close(i, line.at, if skipped { SpanStatus::Skipped } else { SpanStatus::Ok });
                self.spans[i].span.summary = one_line(&e.message);
            }
            EventKind::LlmCallStarted => {
                let parent = self.parent_of(&who);
                let name = text(&e.data, "model").unwrap_or_else(|| "LLM".into());
                let i = self.push(SpanKind::LlmCall, &name, &who, parent, line.at);
                self.spans[i].span.model = text(&e.data, "model");
                self.llm.entry(who).or_default().push(i);
            }
            EventKind::LlmCallCompleted => self.llm_completed(line, who),
            EventKind::AgentStep => {
                if let Some(i) = self.awaiting_summary.remove(&who) {
                    if self.spans[i].span.summary.is_empty() {
                        // The answer itself rather than the thought before it.
                        let answer = e.message.split_once("Final Answer:").map_or(e.message.as_str(), |(_, a)| a);
                        self.spans[i].span.summary = one_line(answer);
                    }
                }
            }
            EventKind::ToolCall => self.tool_call(line, who),
            EventKind::Delegation => {
                let parent = self.parent_of(&who);
                let from = text(&e.data, "from").or_else(|| e.agent.clone());
                let to = text(&e.data, "to");
                let name = match (&from, &to) {
                    (Some(f), Some(t)) => format!("{f} → {t}"),
                    _ => one_line(&e.message),
                };
                let i = self.push(SpanKind::Delegation, &name, &who, parent, line.at);
                let open = &mut self.spans[i];
                open.span.summary = one_line(&e.message);
                open.span.detail = serde_json::json!({
                    "request": e.data.get("task").cloned().unwrap_or(Value::Null),
                    "context": e.data.get("context").cloned().unwrap_or(Value::Null),
                    "kind": e.data.get("kind").cloned().unwrap_or(Value::Null),
                    "from": from,
                    "to": to,
                });
                open.from = from;
                open.to = to;
                self.delegations.entry((attempt, e.task.clone())).or_default().push(i);
            }
            EventKind::RetryScheduled | EventKind::Failed | EventKind::Interrupted | EventKind::Recovered => {
                self.attempt_error.insert(attempt, one_line(&e.message));
            }
            _ => {}
        }
    }

    fn llm_completed(&mut self, line: &LogEntry, who: Who) {
        let e = &line.event;
        let data = &e.data;
        let elapsed = data.get("elapsed_ms").and_then(Value::as_i64);
        let started = data.get("started_at").and_then(Value::as_i64).or_else(|| elapsed.map(|ms| line.at - ms));
        let i = match self.llm.get_mut(&who).and_then(|open| if open.is_empty() { None } else { Some(open.remove(0)) }) {
            Some(i) => i,
            None => {
                let parent = self.parent_of(&who);
                let name = text(data, "model").unwrap_or_else(|| "LLM".into());
                self.push(SpanKind::LlmCall, &name, &who, parent, started.unwrap_or(line.at))
            }
        };
        let end = match (started, elapsed) {
            (Some(s), Some(ms)) => (s + ms).max(self.spans[i].span.start_ms),
            _ => line.at,
        };
        let error = data.get("error").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        self.close(i, end, if error.is_some() { SpanStatus::Failed } else { SpanStatus::Ok });
        let span = &mut self.spans[i].span;
        if span.model.is_none() {
            span.model = text(data, "model");
        }
        span.usage = data.get("usage").and_then(usage_of);
        span.cost_usd = span.usage.as_ref().and_then(|u| u.cost_usd);
        if data.get("payload").and_then(Value::as_bool) == Some(true) {
            span.call = Some(line.seq);
        }
        match error {
            Some(error) => span.summary = one_line(&error),
            None => {
                self.awaiting_summary.insert(who, i);
            }
        }
    }

    fn tool_call(&mut self, line: &LogEntry, who: Who) {
        let e = &line.event;
        let data = &e.data;
        let tool = text(data, "tool").unwrap_or_else(|| one_line(&e.message));
        let output = data.get("output").cloned();
        let error = data.get("error").cloned();
        let input = data.get("input").or_else(|| data.get("args")).cloned().unwrap_or(Value::Null);
        let key = (who.clone(), tool.clone());
        // A CrewAI engine start line: the result comes in a later line.
        if output.is_none() && error.is_none() && data.get("args").is_some() {
            let parent = self.parent_of(&who);
            let i = self.push(SpanKind::ToolCall, &tool, &who, parent, line.at);
            self.spans[i].span.detail = serde_json::json!({"tool": tool, "input": input, "output": Value::Null});
            self.tools.insert(key, i);
            return;
        }
        let i = match self.tools.remove(&key) {
            Some(i) => i,
            None => {
                let parent = self.parent_of(&who);
                let start = line.at - data.get("elapsed_ms").and_then(Value::as_i64).unwrap_or(0);
                let i = self.push(SpanKind::ToolCall, &tool, &who, parent, start);
                self.spans[i].span.detail = serde_json::json!({"tool": tool, "input": input, "output": Value::Null});
                i
            }
        };
        let result = output.clone().or_else(|| error.clone()).unwrap_or(Value::Null);
        let result_text =
            result.as_str().map(str::to_string).unwrap_or_else(|| if result.is_null() { String::new() } else { result.to_string() });
        let failed = error.is_some() || result_text.trim_start().starts_with("Error:");
        self.close(i, line.at, if failed { SpanStatus::Failed } else { SpanStatus::Ok });
        let span = &mut self.spans[i].span;
        span.detail["output"] = result;
        if span.detail.get("input").is_none_or(Value::is_null) {
            span.detail["input"] = input;
        }
        span.summary = one_line(if result_text.is_empty() { &e.message } else { &result_text });
    }

    /// The span a line of `who` belongs under: the innermost open delegation of its task whose
    /// coworker is its agent, else its task's open span.
    fn parent_of(&self, who: &Who) -> Option<usize> {
        let (attempt, task, agent) = who;
        if let (Some(agent), Some(open)) = (agent, self.delegations.get(&(*attempt, task.clone()))) {
            if let Some(&d) = open.iter().rev().find(|&&d| self.spans[d].to.as_deref() == Some(agent.as_str())) {
                return Some(d);
            }
        }
        task.as_ref().and_then(|t| self.tasks.get(&(*attempt, t.clone())).copied())
    }

    /// Closes the open delegations of `who`'s task that `who`'s agent made (the delegator is
    /// back), and those nested in them.
    fn close_delegations_of(&mut self, who: &Who, at: Millis) {
        let (attempt, task, Some(agent)) = who else { return };
        let Some(open) = self.delegations.get_mut(&(*attempt, task.clone())) else { return };
        let Some(pos) = open.iter().position(|&d| self.spans[d].from.as_deref() == Some(agent.as_str())) else { return };
        let closing: Vec<usize> = open.split_off(pos);
        for d in closing.into_iter().rev() {
            self.close(d, at, SpanStatus::Ok);
        }
    }

    /// Closes whatever is still open under task span `task` (its delegations end with it).
    fn close_inside(&mut self, task: usize, at: Millis) {
        let key = (self.spans[task].span.attempt, self.spans[task].span.task.clone());
        if let Some(open) = self.delegations.remove(&key) {
            for d in open.into_iter().rev() {
                self.close(d, at, SpanStatus::Ok);
            }
        }
    }

    /// Closes every open span of attempts before `attempt` at their attempt's last line.
    fn close_attempts_before(&mut self, attempt: u32) {
        for i in 0..self.spans.len() {
            let a = self.spans[i].span.attempt;
            if a < attempt && self.spans[i].span.end_ms.is_none() {
                let at = self.attempt_end.get(&a).copied().unwrap_or(self.spans[i].span.start_ms);
                self.close(i, at, SpanStatus::Failed);
            }
        }
        self.tasks.retain(|(a, _), _| *a >= attempt);
        self.llm.retain(|(a, _, _), _| *a >= attempt);
        self.tools.retain(|((a, _, _), _), _| *a >= attempt);
        self.delegations.retain(|(a, _), _| *a >= attempt);
    }

    fn push(&mut self, kind: SpanKind, name: &str, who: &Who, parent: Option<usize>, start: Millis) -> usize {
        let start = parent.map_or(start, |p| start.max(self.spans[p].span.start_ms));
        self.spans.push(Open {
            span: TraceSpan {
                parent: parent.map(|p| p as u32),
                task: who.1.clone(),
                agent: who.2.clone(),
                attempt: who.0,
                ..TraceSpan::running(kind, name, start)
            },
            to: None,
            from: None,
        });
        self.spans.len() - 1
    }

    /// Ends span `i` at `at` (never before its start) with `status`, unless it ended already. An
    /// LLM or tool call that failed this way says why its attempt failed, when a line said so.
    fn close(&mut self, i: usize, at: Millis, status: SpanStatus) {
        let why = self.attempt_error.get(&self.spans[i].span.attempt).cloned();
        let span = &mut self.spans[i].span;
        if span.end_ms.is_none() {
            span.end_ms = Some(at.max(span.start_ms));
            span.status = status;
            if status == SpanStatus::Failed && span.summary.is_empty() && matches!(span.kind, SpanKind::LlmCall | SpanKind::ToolCall) {
                span.summary = why.unwrap_or_default();
            }
        }
    }

    /// Sums usage into tasks and delegations, orders the spans by start and numbers them.
    fn finish(self, execution: &Execution, ended_at: Option<Millis>, payloads: TracePayloads) -> Trace {
        let mut spans: Vec<TraceSpan> = self.spans.into_iter().map(|o| o.span).collect();
        let mut totals = TraceTotals { cost_usd: Some(0.0), ..TraceTotals::default() };
        // Every LLM call's usage into each of its ancestors.
        let mut sums: Vec<Option<Usage>> = vec![None; spans.len()];
        for i in 0..spans.len() {
            match spans[i].kind {
                SpanKind::LlmCall => totals.llm_calls += 1,
                SpanKind::ToolCall => totals.tool_calls += 1,
                SpanKind::Delegation => totals.delegations += 1,
                SpanKind::Task => {}
            }
            let Some(usage) = spans[i].usage.clone() else { continue };
            totals.prompt_tokens += usage.prompt_tokens;
            totals.completion_tokens += usage.completion_tokens;
            totals.total_tokens += usage.total_tokens;
            totals.cost_usd = totals.cost_usd.zip(usage.cost_usd).map(|(a, b)| a + b);
            let mut parent = spans[i].parent;
            while let Some(p) = parent.map(|p| p as usize) {
                sums[p].get_or_insert_with(Usage::default).add(&usage);
                parent = spans[p].parent;
            }
        }
        for (span, sum) in spans.iter_mut().zip(sums) {
            if span.kind != SpanKind::LlmCall {
                span.cost_usd = sum.as_ref().and_then(|u| u.cost_usd);
                span.usage = sum;
            }
        }
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|&i| spans[i].start_ms);
        let mut new_id = vec![0u32; spans.len()];
        for (new, &old) in order.iter().enumerate() {
            new_id[old] = new as u32;
        }
        let mut slots: Vec<Option<TraceSpan>> = spans.into_iter().map(Some).collect();
        let spans: Vec<TraceSpan> = order
            .iter()
            .map(|&old| {
                let mut span = slots[old].take().expect("each span is taken once");
                span.id = new_id[old];
                span.parent = span.parent.map(|p| new_id[p as usize]);
                span
            })
            .collect();
        Trace {
            execution_id: execution.id.to_string(),
            status: execution.status(),
            started_at: execution.started_at,
            ended_at,
            spans,
            totals,
            payloads,
        }
    }
}

/// A string field of `data`.
fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A call's usage from a log line's `usage` (missing counts are 0; `total_tokens` defaults to
/// their sum, `llm_calls` to 1).
fn usage_of(v: &Value) -> Option<Usage> {
    let obj = v.as_object()?;
    let n = |k: &str| obj.get(k).and_then(Value::as_u64);
    let prompt_tokens = n("prompt_tokens").unwrap_or(0);
    let completion_tokens = n("completion_tokens").unwrap_or(0);
    Some(Usage {
        prompt_tokens,
        completion_tokens,
        total_tokens: n("total_tokens").unwrap_or(prompt_tokens + completion_tokens),
        llm_calls: n("llm_calls").unwrap_or(1),
        cost_usd: obj.get("cost_usd").and_then(Value::as_f64),
    })
}

/// The first line of `text`, trimmed and cut to [`SUMMARY_CHARS`] characters (`…` marks a cut).
fn one_line(text: &str) -> String {
    let first = text.trim().lines().next().unwrap_or("").trim();
    if first.chars().count() <= SUMMARY_CHARS && !text.trim().contains('\n') {
        return first.to_string();
    }
    let cut: String = first.chars().take(SUMMARY_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
