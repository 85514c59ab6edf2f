//! The shim's events ([`ShimEvent`], one JSON line each) and their translation into what the
//! [`Journal`](crate::execution::Journal) records ([`Translator`], a plain state machine).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::engine::output::truncate;
use crate::execution::{
    CallPayload, ErrorKind, EventKind, ExecutionError, LogEvent, LogLevel, Millis, PayloadMessage, PayloadResponse, Progress, RunOutput,
    StepOutput, Usage,
};
use crate::llm::pricing;

/// A task of a crew that started (`crew_started.tasks`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PlannedTask {
    pub key: String,
    #[serde(default)]
    pub agent: Option<String>,
}

/// Token counts of one LLM call, as CrewAI reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct TokenCounts {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// One line from the shim (see docs/CREWAI_ENGINE.md for when each is sent). Unknown types are
/// read as [`ShimEvent::Other`] and logged at debug level, so a newer shim never breaks a run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShimEvent {
    Hello {
        pid: i32,
        pgid: i32,
        #[serde(default)]
        python: String,
        #[serde(default)]
        crewai_version: String,
    },
    Resume {
        #[serde(default)]
        skipped: Vec<String>,
        #[serde(default)]
        unsupported: Option<String>,
    },
    CrewStarted {
        #[serde(default)]
        crew: String,
        #[serde(default)]
        tasks: Vec<PlannedTask>,
    },
    CrewCompleted {
        #[serde(default)]
        crew: String,
    },
    CrewFailed {
        #[serde(default)]
        crew: String,
        #[serde(default)]
        error: String,
    },
    TaskStarted {
        task: String,
        #[serde(default)]
        agent: Option<String>,
    },
    TaskCompleted {
        task: String,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        output: String,
        #[serde(default)]
        json: Value,
    },
    TaskFailed {
        task: String,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        error: String,
    },
    AgentStarted {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
    },
    AgentCompleted {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
    },
    ToolStarted {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
        tool: String,
        #[serde(default)]
        args: Value,
    },
    ToolFinished {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
        tool: String,
        #[serde(default)]
        output: Value,
    },
    ToolError {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
        tool: String,
        #[serde(default)]
        error: String,
    },
    LlmStarted {
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
    },
    LlmCompleted {
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
        #[serde(default)]
        usage: Option<TokenCounts>,
        /// What the call sent, when the shim could read it (CrewAI's event `messages`).
        #[serde(default)]
        messages: Option<Vec<ShimMessage>>,
        /// What the model answered, as text.
        #[serde(default)]
        response: Option<String>,
    },
    LlmFailed {
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        task: Option<String>,
        #[serde(default)]
        error: String,
    },
    FlowStarted {
        #[serde(default)]
        flow: String,
    },
    FlowFinished {
        #[serde(default)]
        flow: String,
    },
    MethodStarted {
        #[serde(default)]
        flow: String,
        method: String,
    },
    MethodFinished {
        #[serde(default)]
        flow: String,
        method: String,
        #[serde(default)]
        output: Value,
    },
    MethodFailed {
        #[serde(default)]
        flow: String,
        method: String,
        #[serde(default)]
        error: String,
    },
    Mcp {
        #[serde(default)]
        event: String,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    },
    Output {
        #[serde(default)]
        stream: String,
        #[serde(default)]
        text: String,
    },
    Finished {
        #[serde(default)]
        output: String,
        #[serde(default)]
        json: Value,
    },
    Error {
        #[serde(default)]
        exception: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        traceback: String,
        #[serde(default)]
        category: String,
        #[serde(default)]
        retry_after: Option<f64>,
        #[serde(default)]
        status: Option<u16>,
    },
    #[serde(other)]
    Other,
}

/// What to record for one event, in order.
/// One message of an LLM call as the shim reports it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ShimMessage {
    #[serde(default)]
    pub role: String,
    /// Text, or CrewAI's content parts (kept as their JSON text).
    #[serde(default)]
    pub content: serde_json::Value,
}

impl ShimMessage {
    fn into_payload(self) -> PayloadMessage {
        let content = match self.content {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        PayloadMessage { role: self.role, content, tool_calls: Vec::new(), tool_call_id: None, name: None }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Log(LogEvent),
    /// An `llm_call_completed` line and, when kept, what the call sent and received.
    Call(LogEvent, Option<CallPayload>),
    Progress(Progress),
    /// A finished task: its step and its `task_completed` line, in one transaction.
    Step(StepOutput, LogEvent),
}

/// How the run ended, once the shim said so.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded(RunOutput),
    Failed(ExecutionError),
}

/// Turns the shim's events into records, keeping what the run needs across events: the planned
/// tasks, the task and agent running now, usage per task and in total, the steps saved.
#[derive(Debug, Default)]
pub struct Translator {
    attempt: u32,
    /// Task keys of every crew started so far, in order (the progress total).
    planned: Vec<String>,
    /// Steps saved (or reused) so far: their keys.
    done: BTreeSet<String>,
    /// Usage per task key, from the LLM calls made while it ran.
    task_usage: BTreeMap<String, Usage>,
    /// Usage of every call, including those outside tasks (flow methods).
    total: Usage,
    /// The same, per model.
    by_model: BTreeMap<String, Usage>,
    current_task: Option<String>,
    current_agent: Option<String>,
    /// Flow methods started and finished (the progress of a Flow without crews).
    methods: (u32, u32),
    outcome: Option<Outcome>,
    /// The project's last output lines on stderr (shown when the process ends without a result).
    last_stderr: Vec<String>,
    /// CrewAI's task name → the crew's task key (translated crews), else names are keys.
    task_keys: BTreeMap<String, String>,
    /// When LLM calls' payloads are kept: the secret values to redact in them.
    payload_secrets: Option<Vec<String>>,
    /// When the open LLM call of each (task, agent) started.
    llm_started: BTreeMap<(Option<String>, Option<String>), Millis>,
}

impl Translator {
    /// A translator for attempt `attempt` that already has `reused` steps (from earlier attempts).
    pub fn new(attempt: u32, reused: &[StepOutput]) -> Self {
        let mut t = Translator { attempt, ..Translator::default() };
        for step in reused {
            t.done.insert(step.step.clone());
            t.total.add(&step.usage);
        }
        t
    }

    /// The same translator, reporting tasks named `name` by CrewAI under `task_keys[name]`.
    pub fn with_task_keys(mut self, task_keys: BTreeMap<String, String>) -> Self {
        self.task_keys = task_keys;
        self
    }

    /// The same translator, keeping each LLM call's messages and answer (when the shim reports
    /// them) with every occurrence of `secrets` redacted.
    pub fn keeping_payloads(mut self, secrets: Vec<String>) -> Self {
        self.payload_secrets = Some(secrets);
        self
    }

    fn key(&self, name: String) -> String {
        self.task_keys.get(&name).cloned().unwrap_or(name)
    }

    fn key_of(&self, name: Option<String>) -> Option<String> {
        name.map(|n| self.key(n))
    }

    /// The run's end, once a `finished` or `error` event came.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The end to report when the connection closed without `finished` or `error`.
    pub fn ended_without_result(&self) -> ExecutionError {
        let tail = self.last_stderr.join("\n");
        ExecutionError::new(ErrorKind::Python, "the CrewAI process ended without a result (killed, or it exited the interpreter)")
            .with_details(json!({ "stderr_tail": tail }))
    }

    fn progress(&self) -> Progress {
        let (total, completed) = if self.planned.is_empty() && self.methods.0 > 0 {
            (self.methods.0, self.methods.1)
        } else {
            let planned: BTreeSet<&String> = self.planned.iter().collect();
            (planned.len().max(self.done.len()) as u32, self.done.len() as u32)
        };
        Progress {
            completed_steps: completed,
            total_steps: total,
            current_step: self.current_task.clone(),
            current_agent: self.current_agent.clone(),
        }
    }

    /// What to record for `event` (at time `now`).
    pub fn on_event(&mut self, event: ShimEvent, now: Millis) -> Vec<Record> {
        let event = self.rename(event);
        let line = |kind: EventKind, message: String| LogEvent::info(kind, message);
        let on = |e: LogEvent, task: &Option<String>, agent: &Option<String>| {
            let e = match task {
                Some(t) => e.with_task(t.clone()),
                None => e,
            };
            match agent {
                Some(a) => e.with_agent(a.clone()),
                None => e,
            }
        };
        match event {
            ShimEvent::Hello { pid, python, crewai_version, .. } => vec![Record::Log(
                line(EventKind::AgentStep, format!("CrewAI {crewai_version} (Python {python}) started, process {pid}"))
                    .with_level(LogLevel::Debug)
                    .with_data(json!({"pid": pid, "python": python, "crewai_version": crewai_version})),
            )],
            ShimEvent::Resume { skipped, unsupported } => match unsupported {
                Some(reason) => vec![Record::Log(LogEvent::warning(format!(
                    "this crew cannot resume from its first unfinished task ({reason}); the retry runs the whole crew again"
                )))],
                None => {
                    vec![Record::Log(
                        line(EventKind::TaskSkipped, format!("resumed: reusing {}", skipped.join(", ")))
                            .with_data(json!({"skipped": skipped})),
                    )]
                }
            },
            ShimEvent::CrewStarted { crew, tasks } => {
                for t in &tasks {
                    if !self.planned.contains(&t.key) {
                        self.planned.push(t.key.clone());
                    }
                }
                let keys: Vec<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
                vec![
                    Record::Log(
                        line(EventKind::AgentStep, format!("crew `{crew}` kicked off ({} tasks)", tasks.len()))
                            .with_data(json!({"crew": crew, "tasks": keys})),
                    ),
                    Record::Progress(self.progress()),
                ]
            }
            ShimEvent::CrewCompleted { crew } => vec![Record::Log(line(EventKind::AgentStep, format!("crew `{crew}` completed")))],
            ShimEvent::CrewFailed { crew, error } => {
                vec![Record::Log(line(EventKind::AgentStep, format!("crew `{crew}` failed: {error}")).with_level(LogLevel::Error))]
            }
            ShimEvent::TaskStarted { task, agent } => {
                self.current_task = Some(task.clone());
                self.current_agent = agent.clone();
                if !self.planned.contains(&task) {
                    self.planned.push(task.clone());
                }
                let who = agent.as_deref().map(|a| format!(" ({a})")).unwrap_or_default();
                vec![
                    Record::Log(on(line(EventKind::TaskStarted, format!("task `{task}` started{who}")), &Some(task.clone()), &agent)),
                    Record::Progress(self.progress()),
                ]
            }
            ShimEvent::TaskCompleted { task, agent, output, json } => {
                let mut key = task.clone();
                let mut n = 2;
                while self.done.contains(&key) {
                    key = format!("{task}#{n}");
                    n += 1;
                }
                self.done.insert(key.clone());
                let usage = self.task_usage.remove(&task).unwrap_or_default();
                if self.current_task.as_deref() == Some(task.as_str()) {
                    self.current_task = None;
                    self.current_agent = None;
                }
                let step = StepOutput {
                    step: key.clone(),
                    agent: agent.clone().unwrap_or_default(),
                    output: output.clone(),
                    json: json.clone(),
                    usage: usage.clone(),
                    attempt: self.attempt,
                    completed_at: now,
                };
                let completion = on(
                    line(EventKind::TaskCompleted, format!("task `{key}` completed"))
                        .with_data(json!({"output": truncate(&output, 16 * 1024), "json": json, "usage": usage})),
                    &Some(key),
                    &agent,
                );
                vec![Record::Step(step, completion), Record::Progress(self.progress())]
            }
            ShimEvent::TaskFailed { task, agent, error } => {
                vec![Record::Log(on(
                    line(EventKind::TaskCompleted, format!("task `{task}` failed: {error}")).with_level(LogLevel::Error),
                    &Some(task),
                    &agent,
                ))]
            }
            ShimEvent::AgentStarted { agent, task } => {
                if agent.is_some() {
                    self.current_agent = agent.clone();
                }
                let who = agent.clone().unwrap_or_else(|| "agent".into());
                vec![Record::Log(on(line(EventKind::AgentStep, format!("{who} is working")).with_level(LogLevel::Debug), &task, &agent))]
            }
            ShimEvent::AgentCompleted { agent, task } => {
                let who = agent.clone().unwrap_or_else(|| "agent".into());
                vec![Record::Log(on(line(EventKind::AgentStep, format!("{who} finished")).with_level(LogLevel::Debug), &task, &agent))]
            }
            ShimEvent::ToolStarted { agent, task, tool, args } => {
                let task = task.or_else(|| self.current_task.clone());
                vec![Record::Log(on(
                    line(EventKind::ToolCall, format!("calling {tool}")).with_data(json!({"tool": tool, "args": args})),
                    &task,
                    &agent,
                ))]
            }
            ShimEvent::ToolFinished { agent, task, tool, output } => {
                let task = task.or_else(|| self.current_task.clone());
                let text = match &output {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                vec![Record::Log(on(
                    line(EventKind::ToolCall, format!("{tool} returned {}", truncate(&text, 200)))
                        .with_data(json!({"tool": tool, "output": truncate(&text, 16 * 1024)})),
                    &task,
                    &agent,
                ))]
            }
            ShimEvent::ToolError { agent, task, tool, error } => {
                let task = task.or_else(|| self.current_task.clone());
                vec![Record::Log(on(
                    line(EventKind::ToolCall, format!("{tool} failed: {error}"))
                        .with_level(LogLevel::Warn)
                        .with_data(json!({"tool": tool, "error": error})),
                    &task,
                    &agent,
                ))]
            }
            ShimEvent::LlmStarted { model, agent, task } => {
                let task = task.or_else(|| self.current_task.clone());
                self.llm_started.insert((task.clone(), agent.clone()), now);
                let m = model.clone().unwrap_or_else(|| "the model".into());
                vec![Record::Log(on(
                    line(EventKind::LlmCallStarted, format!("asking {m}")).with_level(LogLevel::Debug).with_data(json!({"model": model})),
                    &task,
                    &agent,
                ))]
            }
            ShimEvent::LlmCompleted { model, agent, task, usage, messages, response } => {
                let task = task.filter(|t| !t.is_empty()).or_else(|| self.current_task.clone());
                let started_at = self.llm_started.remove(&(task.clone(), agent.clone())).unwrap_or(now);
                let call = call_usage(model.as_deref(), usage);
                self.total.add(&call);
                self.by_model.entry(model.clone().unwrap_or_else(|| "unknown".into())).or_default().add(&call);
                if let Some(t) = &task {
                    self.task_usage.entry(t.clone()).or_default().add(&call);
                }
                let m = model.clone().unwrap_or_else(|| "the model".into());
                let payload = match (&self.payload_secrets, messages) {
                    (Some(secrets), Some(messages)) => Some(
                        CallPayload {
                            model: m.clone(),
                            endpoint: None,
                            messages: messages.into_iter().map(ShimMessage::into_payload).collect(),
                            tools: Vec::new(),
                            response: PayloadResponse {
                                content: response.unwrap_or_default(),
                                tool_calls: Vec::new(),
                                finish_reason: None,
                            },
                            started_at,
                            ended_at: now.max(started_at),
                        }
                        .redacted(secrets),
                    ),
                    _ => None,
                };
                let mut data = json!({"model": model, "usage": call, "started_at": started_at, "elapsed_ms": (now - started_at).max(0)});
                if payload.is_some() {
                    data["payload"] = json!(true);
                }
                let completed = on(line(EventKind::LlmCallCompleted, format!("{m} answered")).with_data(data), &task, &agent);
                vec![Record::Call(completed, payload)]
            }
            ShimEvent::LlmFailed { model, agent, task, error } => {
                let task = task.or_else(|| self.current_task.clone());
                let m = model.clone().unwrap_or_else(|| "the model".into());
                vec![Record::Log(on(
                    line(EventKind::LlmCallCompleted, format!("{m} failed: {error}"))
                        .with_level(LogLevel::Warn)
                        .with_data(json!({"model": model, "error": error})),
                    &task,
                    &agent,
                ))]
            }
            ShimEvent::FlowStarted { flow } => vec![Record::Log(line(EventKind::AgentStep, format!("flow `{flow}` started")))],
            ShimEvent::FlowFinished { flow } => vec![Record::Log(line(EventKind::AgentStep, format!("flow `{flow}` finished")))],
            ShimEvent::MethodStarted { flow, method } => {
                self.methods.0 += 1;
                let mut out = vec![Record::Log(
                    line(EventKind::TaskStarted, format!("flow method `{method}` started"))
                        .with_task(method.clone())
                        .with_data(json!({"flow": flow})),
                )];
                if self.planned.is_empty() {
                    self.current_task = Some(method);
                    out.push(Record::Progress(self.progress()));
                }
                out
            }
            ShimEvent::MethodFinished { flow, method, output } => {
                self.methods.1 += 1;
                let text = match &output {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                let mut out = vec![Record::Log(
                    line(EventKind::AgentStep, format!("flow method `{method}` finished"))
                        .with_task(method.clone())
                        .with_data(json!({"flow": flow, "output": truncate(&text, 16 * 1024)})),
                )];
                if self.planned.is_empty() {
                    if self.current_task.as_deref() == Some(method.as_str()) {
                        self.current_task = None;
                    }
                    out.push(Record::Progress(self.progress()));
                }
                out
            }
            ShimEvent::MethodFailed { flow, method, error } => vec![Record::Log(
                line(EventKind::AgentStep, format!("flow method `{method}` failed: {error}"))
                    .with_level(LogLevel::Error)
                    .with_task(method)
                    .with_data(json!({"flow": flow})),
            )],
            ShimEvent::Mcp { event, rest } => vec![Record::Log(line(EventKind::ToolCall, format!("MCP: {event}")).with_data(json!(rest)))],
            ShimEvent::Output { stream, text } => {
                if stream == "stderr" {
                    self.last_stderr.push(truncate(&text, 1000));
                    if self.last_stderr.len() > 20 {
                        self.last_stderr.remove(0);
                    }
                }
                let level = if stream == "stderr" { LogLevel::Warn } else { LogLevel::Info };
                vec![Record::Log(line(EventKind::Output, truncate(&text, 4000)).with_level(level).with_data(json!({"stream": stream})))]
            }
            ShimEvent::Finished { output, json } => {
                let record = Record::Log(
                    line(EventKind::Output, "crew finished".into())
                        .with_data(json!({"output": truncate(&output, 16 * 1024), "json": json, "usage": self.total})),
                );
                self.outcome = Some(Outcome::Succeeded(RunOutput { output, usage: self.total.clone() }));
                vec![record]
            }
            ShimEvent::Error { exception, message, traceback, category, retry_after, status } => {
                let error = classify(&exception, &message, &traceback, &category, retry_after, status);
                let record = Record::Log(
                    line(EventKind::Output, format!("{exception}: {}", truncate(&message, 2000)))
                        .with_level(LogLevel::Error)
                        .with_data(json!({"exception": exception, "category": category, "traceback": truncate(&traceback, 32 * 1024)})),
                );
                self.outcome = Some(Outcome::Failed(error));
                vec![record]
            }
            ShimEvent::Other => Vec::new(),
        }
    }
}

impl Translator {
    /// `event` with CrewAI's task names replaced by the crew's task keys.
    fn rename(&self, event: ShimEvent) -> ShimEvent {
        if self.task_keys.is_empty() {
            return event;
        }
        match event {
            ShimEvent::CrewStarted { crew, tasks } => ShimEvent::CrewStarted {
                crew,
                tasks: tasks.into_iter().map(|t| PlannedTask { key: self.key(t.key), agent: t.agent }).collect(),
            },
            ShimEvent::TaskStarted { task, agent } => ShimEvent::TaskStarted { task: self.key(task), agent },
            ShimEvent::TaskCompleted { task, agent, output, json } => {
                ShimEvent::TaskCompleted { task: self.key(task), agent, output, json }
            }
            ShimEvent::TaskFailed { task, agent, error } => ShimEvent::TaskFailed { task: self.key(task), agent, error },
            ShimEvent::AgentStarted { agent, task } => ShimEvent::AgentStarted { agent, task: self.key_of(task) },
            ShimEvent::AgentCompleted { agent, task } => ShimEvent::AgentCompleted { agent, task: self.key_of(task) },
            ShimEvent::ToolStarted { agent, task, tool, args } => ShimEvent::ToolStarted { agent, task: self.key_of(task), tool, args },
            ShimEvent::ToolFinished { agent, task, tool, output } => {
                ShimEvent::ToolFinished { agent, task: self.key_of(task), tool, output }
            }
            ShimEvent::ToolError { agent, task, tool, error } => ShimEvent::ToolError { agent, task: self.key_of(task), tool, error },
            ShimEvent::LlmStarted { model, agent, task } => ShimEvent::LlmStarted { model, agent, task: self.key_of(task) },
            ShimEvent::LlmCompleted { model, agent, task, usage, messages, response } => {
                ShimEvent::LlmCompleted { model, agent, task: self.key_of(task), usage, messages, response }
            }
            ShimEvent::LlmFailed { model, agent, task, error } => ShimEvent::LlmFailed { model, agent, task: self.key_of(task), error },
            other => other,
        }
    }
}

/// One call's [`Usage`]: its tokens and, when the model's price is known, its cost.
fn call_usage(model: Option<&str>, tokens: Option<TokenCounts>) -> Usage {
    let t = tokens.unwrap_or_default();
    let total = if t.total_tokens == 0 { t.prompt_tokens + t.completion_tokens } else { t.total_tokens };
    let cost = model.and_then(|m| {
        let (provider, name) = m.split_once('/').unwrap_or(("openai", m));
        let local = matches!(provider, "ollama" | "ollama_chat" | "lm_studio" | "hosted_vllm" | "llamacpp");
        pricing::cost_usd(local, provider, name, t.prompt_tokens, t.completion_tokens)
    });
    Usage { prompt_tokens: t.prompt_tokens, completion_tokens: t.completion_tokens, total_tokens: total, llm_calls: 1, cost_usd: cost }
}

/// The error an `error` event stands for: retryable for rate limits, server and connection errors
/// and timeouts, like the native engine's; the traceback goes into `details`.
pub fn classify(
    exception: &str,
    message: &str,
    traceback: &str,
    category: &str,
    retry_after: Option<f64>,
    status: Option<u16>,
) -> ExecutionError {
    let (kind, retryable) = match category {
        "rate_limit" => (ErrorKind::LlmRateLimited, true),
        "server" => (ErrorKind::LlmServer, true),
        "connection" => (ErrorKind::LlmConnection, true),
        "timeout" => (ErrorKind::LlmTimeout, true),
        "auth" | "client" => (ErrorKind::LlmClient, false),
        "import" => (ErrorKind::InvalidCrew, false),
        _ => (ErrorKind::Python, false),
    };
    let mut error = ExecutionError::new(kind, format!("{exception}: {message}"))
        .with_details(json!({"exception": exception, "category": category, "status": status, "traceback": truncate(traceback, 32 * 1024)}));
    error.retryable = retryable;
    error.retry_after_ms = retry_after.filter(|s| s.is_finite() && *s >= 0.0).map(|s| (s * 1000.0).ceil() as u64);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(v: Value) -> ShimEvent {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_crew_run_becomes_lines_steps_progress_and_usage() {
        let mut t = Translator::new(1, &[]);
        let mut records = Vec::new();
        for e in [
            json!({"type": "hello", "pid": 7, "pgid": 7, "python": "3.11.7", "crewai_version": "1.15.30", "ts": 1.0}),
            json!({"type": "crew_started", "crew": "research", "tasks": [{"key": "research_task", "agent": "R"}, {"key": "reporting_task", "agent": "A"}]}),
            json!({"type": "task_started", "task": "research_task", "agent": "R"}),
            json!({"type": "llm_completed", "model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
            json!({"type": "tool_started", "tool": "word_counter", "args": {"text": "a b"}}),
            json!({"type": "tool_finished", "tool": "word_counter", "output": "WORDCOUNT=2"}),
            json!({"type": "task_completed", "task": "research_task", "agent": "R", "output": "found", "json": null}),
            json!({"type": "task_started", "task": "reporting_task", "agent": "A"}),
            json!({"type": "llm_completed", "model": "gpt-4o-mini", "task": "reporting_task", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}),
            json!({"type": "task_completed", "task": "reporting_task", "agent": "A", "output": "{\"title\":\"x\"}", "json": {"title": "x"}}),
            json!({"type": "some_future_event"}),
            json!({"type": "finished", "output": "{\"title\":\"x\"}", "json": {"title": "x"}}),
        ] {
            records.extend(t.on_event(ev(e), 5));
        }
        let steps: Vec<&StepOutput> = records.iter().filter_map(|r| if let Record::Step(s, _) = r { Some(s) } else { None }).collect();
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].step.as_str(), steps[0].usage.total_tokens, steps[0].usage.llm_calls), ("research_task", 15, 1));
        assert_eq!((steps[1].step.as_str(), steps[1].usage.total_tokens), ("reporting_task", 2));
        assert_eq!(steps[1].json, json!({"title": "x"}));
        let last_progress = records.iter().rev().find_map(|r| if let Record::Progress(p) = r { Some(p.clone()) } else { None }).unwrap();
        assert_eq!((last_progress.completed_steps, last_progress.total_steps), (2, 2));
        let tool_lines: Vec<&LogEvent> = records
            .iter()
            .filter_map(|r| if let Record::Log(l) = r { Some(l) } else { None })
            .filter(|l| l.kind == EventKind::ToolCall)
            .collect();
        assert_eq!(tool_lines[1].task.as_deref(), Some("research_task"), "a tool call belongs to the running task");
        match t.outcome() {
            Some(Outcome::Succeeded(out)) => {
                assert_eq!(t.by_model["gpt-4o-mini"].llm_calls, 2);
                assert_eq!(out.usage.total_tokens, 17);
                assert_eq!(out.usage.llm_calls, 2);
                assert!(out.usage.cost_usd.is_some(), "gpt-4o-mini has a price");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_call_s_messages_become_its_payload_with_secrets_redacted_when_kept() {
        let started = json!({"type": "llm_started", "model": "gpt-4o-mini", "task": "t", "agent": "R"});
        let completed = json!({"type": "llm_completed", "model": "gpt-4o-mini", "task": "t", "agent": "R",
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            "messages": [{"role": "system", "content": "You are R. key sk-hidden-1"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "response": "Final Answer: ok"});
        let mut kept = Translator::new(1, &[]).keeping_payloads(vec!["sk-hidden-1".into()]);
        kept.on_event(ev(started.clone()), 100);
        let records = kept.on_event(ev(completed.clone()), 160);
        let Some(Record::Call(line, Some(payload))) = records.first() else { panic!("{records:?}") };
        assert_eq!(
            (line.data["started_at"].clone(), line.data["elapsed_ms"].clone(), line.data["payload"].clone()),
            (json!(100), json!(60), json!(true))
        );
        assert_eq!((payload.started_at, payload.ended_at, payload.model.as_str()), (100, 160, "gpt-4o-mini"));
        assert_eq!(payload.messages[0].content, "You are R. key [redacted]");
        assert_eq!(payload.messages[1].role, "user");
        assert!(payload.messages[1].content.contains("\"text\":\"hi\""), "{:?}", payload.messages[1]);
        assert_eq!(payload.response.content, "Final Answer: ok");

        // Not kept (the `metadata` setting): the line alone, without the payload flag.
        let mut lean = Translator::new(1, &[]);
        lean.on_event(ev(started), 100);
        let records = lean.on_event(ev(completed), 160);
        let Some(Record::Call(line, None)) = records.first() else { panic!("{records:?}") };
        assert!(line.data.get("payload").is_none());
    }

    #[test]
    fn errors_are_classified_with_their_traceback() {
        let e = classify("openai.RateLimitError", "slow down", "Traceback ...", "rate_limit", Some(2.5), Some(429));
        assert_eq!((e.kind, e.retryable, e.retry_after_ms), (ErrorKind::LlmRateLimited, true, Some(2500)));
        let e = classify("ValueError", "bad value", "Traceback (most recent call last):\n  File \"crew.py\"", "crew", None, None);
        assert_eq!((e.kind, e.retryable), (ErrorKind::Python, false));
        assert!(e.details["traceback"].as_str().unwrap().contains("crew.py"));
        assert_eq!(classify("X", "", "", "server", None, Some(503)).kind, ErrorKind::LlmServer);
        assert!(!classify("X", "", "", "auth", None, Some(401)).retryable);
        assert_eq!(classify("ModuleNotFoundError", "", "", "import", None, None).kind, ErrorKind::InvalidCrew);
    }

    #[test]
    fn a_repeated_task_key_gets_a_new_step_and_reused_steps_count() {
        let reused = StepOutput {
            step: "a".into(),
            agent: "R".into(),
            output: "x".into(),
            json: Value::Null,
            usage: Usage { total_tokens: 3, llm_calls: 1, ..Usage::default() },
            attempt: 1,
            completed_at: 0,
        };
        let mut t = Translator::new(2, &[reused]);
        let records = t.on_event(ev(json!({"type": "task_completed", "task": "a", "output": "again"})), 1);
        match &records[0] {
            Record::Step(s, _) => assert_eq!(s.step, "a#2"),
            other => panic!("{other:?}"),
        }
        t.on_event(ev(json!({"type": "finished", "output": "again"})), 2);
        match t.outcome() {
            Some(Outcome::Succeeded(out)) => assert_eq!(out.usage.total_tokens, 3),
            other => panic!("{other:?}"),
        }
    }
}
