//! One agent working on one task: prompt, call the model, run tools, repeat until a final answer.
//!
//! - Native tool calls are executed in order and fed back as `Role::Tool` messages.
//! - A reply without tool calls is read in CrewAI's ReAct form: `Final Answer:` ends the loop with
//!   the text after it; `Action:`/`Action Input:` runs the tool and feeds back `Observation: …`;
//!   anything else is the answer as it is.
//! - After `max_iter` model calls without an answer, one last call (no tools offered) asks for the
//!   final answer, as CrewAI does.
//! - `max_execution_time` bounds the whole loop; exceeding it fails with `AgentLimit`.
//! - Each call waits for the agent's `max_rpm` limiter (else the crew's) first.
//! - Before each call the prompt is checked against the model's context window (see
//!   [`context_window`](super::context_window)): with `respect_context_window` (the default) a
//!   prompt too long is summarised first, with a warning; without it the task fails. When the
//!   endpoint itself refuses the prompt as too long, it is summarised and sent once more (or the
//!   task fails, without `respect_context_window`).
//!
//! Cancellation: dropping the future stops at the current await (model call, tool, rate wait).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::context_window::{self, Fit, Overflow};
use super::model_source::provider_model_name;
use super::output::truncate;
use super::prompts::{system_prompt, task_prompt, FORCE_FINAL_ANSWER, OBSERVATION};
use super::react::{parse_reply, strip_code_fence, ReactReply};
use super::run::Run;
use super::tools::{Tool, ToolError};
use super::usage_ledger::UsageLedger;
use crate::crew::AgentSpec;
use crate::execution::{
    now_ms, CallPayload, ErrorKind, EventKind, ExecutionError, LogEvent, LogLevel, PayloadMessage, PayloadResponse, PayloadToolCall,
    TracePayloads,
};
use crate::llm::{ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, ResponseSchema, Role, TokenSink, ToolCall, ToolDef};

/// Tool outputs longer than this are cut in the log.
const LOGGED_TOOL_OUTPUT: usize = 4096;

/// The most bytes of one tool result the model gets; a longer result is cut there (at a character
/// boundary), marked `… [truncated, N bytes in all]`, and the tool-call log line says so.
pub const MAX_TOOL_RESULT_BYTES: usize = 64 * 1024;

/// What an agent is asked to do.
pub struct AgentJob {
    pub agent: AgentSpec,
    /// The crew task this work belongs to (for logs, streaming and the request label).
    pub task_key: String,
    pub description: String,
    pub expected_output: String,
    /// Earlier outputs (or the delegator's context); empty for none.
    pub context: String,
    pub tools: Vec<Arc<dyn Tool>>,
    /// The JSON Schema the answer must match, sent with every request; `None` for free text.
    pub response_format: Option<ResponseSchema>,
}

/// Runs the agent loop to a final answer, within the agent's `max_execution_time`.
pub async fn run_agent(run: &Run, job: AgentJob, ledger: &UsageLedger) -> Result<String, ExecutionError> {
    match job.agent.max_execution_time {
        Some(secs) => {
            let limit = Duration::from_secs(secs);
            let role = job.agent.role.clone();
            let task = job.task_key.clone();
            match tokio::time::timeout(limit, agent_loop(run, job, ledger)).await {
                Ok(result) => result,
                Err(_) => Err(ExecutionError::new(
                    ErrorKind::AgentLimit,
                    format!("agent `{role}` exceeded its max_execution_time of {secs}s on task `{task}`"),
                )
                .with_details(json!({"task": task, "agent": role, "max_execution_time": secs}))),
            }
        }
        None => agent_loop(run, job, ledger).await,
    }
}

async fn agent_loop(run: &Run, job: AgentJob, ledger: &UsageLedger) -> Result<String, ExecutionError> {
    let model_name = run.model_name_for(job.agent.llm.as_deref());
    let model = run.agent_model(&model_name, &job.agent)?;
    let caller = Caller { run, job: &job, model, model_name: &model_name, ledger };
    let tool_defs: Vec<ToolDef> = job.tools.iter().map(|t| t.definition()).collect();
    let tool_names: Vec<String> = tool_defs.iter().map(|d| d.name.clone()).collect();
    let mut messages = vec![
        ChatMessage::system(system_prompt(&job.agent.role, &job.agent.goal, &job.agent.backstory, &tool_names)),
        ChatMessage::user(task_prompt(&job.description, &job.expected_output, &job.context)),
    ];
    let mut iterations = 0u32;
    loop {
        if iterations >= job.agent.max_iter {
            run.log(caller.event(LogEvent::warning(format!("max_iter ({}) reached; asking for the final answer", job.agent.max_iter))));
            messages.push(ChatMessage::user(FORCE_FINAL_ANSWER));
            let reply = caller.call(&mut messages, &[], iterations + 1).await?;
            return Ok(final_text(&reply.content));
        }
        iterations += 1;
        let reply = caller.call(&mut messages, &tool_defs, iterations).await?;
        if !reply.tool_calls.is_empty() {
            messages.push(ChatMessage::assistant(reply.content.clone(), reply.tool_calls.clone()));
            for call in &reply.tool_calls {
                let output = caller.use_tool(&call.name, &call.arguments).await?;
                messages.push(ChatMessage::tool(call.id.clone(), output));
            }
            continue;
        }
        match parse_reply(&reply.content) {
            ReactReply::FinalAnswer(answer) => return Ok(answer),
            ReactReply::Plain(answer) => return Ok(answer),
            ReactReply::Action { tool, input, thought } => {
                messages.push(ChatMessage::assistant(thought, vec![]));
                let output = caller.use_tool(&tool, &input).await?;
                messages.push(ChatMessage::user(format!("{OBSERVATION}{output}")));
            }
        }
    }
}

/// The answer in a forced final reply: after `Final Answer:` when present, else all of it.
fn final_text(content: &str) -> String {
    match parse_reply(content) {
        ReactReply::FinalAnswer(a) | ReactReply::Plain(a) => a,
        ReactReply::Action { .. } => content.trim().to_string(),
    }
}

/// Calls the model and runs tools for one job, logging each step.
struct Caller<'a> {
    run: &'a Run,
    job: &'a AgentJob,
    model: Arc<dyn ChatModel>,
    model_name: &'a str,
    ledger: &'a UsageLedger,
}

impl Caller<'_> {
    fn event(&self, e: LogEvent) -> LogEvent {
        e.with_task(self.job.task_key.clone()).with_agent(self.job.agent.role.clone())
    }

    /// One model call of the loop on `messages`, kept within the model's context window (see the
    /// module docs): `messages` is replaced by its summary when it had to be summarised.
    async fn call(&self, messages: &mut Vec<ChatMessage>, tools: &[ToolDef], iteration: u32) -> Result<ChatResponse, ExecutionError> {
        let window = context_window::usable_window(self.model_name);
        match context_window::decide(context_window::estimate_tokens(messages), window, self.job.agent.respect_context_window) {
            Fit::Fits => {}
            Fit::Fail(overflow) => return Err(self.too_long(overflow, "; respect_context_window is false, so it is not summarised")),
            Fit::Summarise(overflow) => {
                self.summarise(messages, overflow).await?;
                let after = context_window::estimate_tokens(messages);
                if after > overflow.window {
                    let overflow = Overflow { estimated: after, window: overflow.window };
                    return Err(self.too_long(overflow, " even after summarising the conversation"));
                }
            }
        }
        match self.send(messages, tools, iteration).await {
            Err(e) if context_window::is_context_length_error(&e) => {
                let overflow = Overflow {
                    estimated: context_window::estimate_tokens(messages),
                    window: window.unwrap_or(context_window::usable(context_window::DEFAULT_WINDOW)),
                };
                if !self.job.agent.respect_context_window {
                    return Err(self.too_long(overflow, &format!("; the endpoint refused it ({e}) and respect_context_window is false")));
                }
                self.summarise(messages, overflow).await?;
                self.send(messages, tools, iteration).await.map_err(ExecutionError::from)
            }
            other => other.map_err(ExecutionError::from),
        }
    }

    /// The failure of a prompt that does not fit (see [`context_window::too_long`]).
    fn too_long(&self, overflow: Overflow, why: &str) -> ExecutionError {
        context_window::too_long(&self.job.agent.role, self.model_name, overflow, why)
    }

    /// Replaces `messages` by the system messages and a summary of the rest, asking the model to
    /// summarise each chunk in turn (CrewAI's `summarize_messages`), after a warning.
    async fn summarise(&self, messages: &mut Vec<ChatMessage>, overflow: Overflow) -> Result<(), ExecutionError> {
        let plan = context_window::summary_plan(messages, overflow.window)
            .map_err(|e| self.too_long(overflow, &format!(", and it cannot be summarised: {e}")))?;
        self.run.log(self.event(
            LogEvent::warning(format!(
                "the prompt (about {} tokens) does not fit the context window of {} ({} usable tokens); summarising the conversation in {} request(s) (respect_context_window)",
                overflow.estimated,
                self.model_name,
                overflow.window,
                plan.requests.len()
            ))
            .with_data(json!({"model": self.model_name, "context_window": overflow.window, "estimated_prompt_tokens": overflow.estimated})),
        ));
        let mut summaries = Vec::with_capacity(plan.requests.len());
        for request in plan.requests {
            self.wait_for_rate_limit().await;
            let request = ChatRequest {
                model: provider_model_name(self.model_name).to_string(),
                messages: request,
                tools: vec![],
                temperature: None,
                stream: false,
                response_format: None,
                label: Some(self.job.task_key.clone()),
            };
            let reply = self.model.chat(request, None).await?;
            self.ledger.record(&self.job.agent.role, &reply.usage);
            summaries.push(context_window::summary_text(&reply.content));
        }
        *messages = context_window::summarised(plan.system, &summaries);
        Ok(())
    }

    /// Waits for the agent's `max_rpm` limiter (else the crew's), logging a wait.
    async fn wait_for_rate_limit(&self) {
        if let Some(limiter) = self.run.limiter_for(&self.job.agent) {
            limiter
                .acquire(|wait| {
                    self.run.log(
                        self.event(LogEvent::warning(format!(
                            "max_rpm reached; waiting {:.1}s before the next LLM call",
                            wait.as_secs_f64()
                        ))),
                    )
                })
                .await;
        }
    }

    /// Sends `messages` as they are (streaming the answer) and logs the call.
    async fn send(&self, messages: &[ChatMessage], tools: &[ToolDef], iteration: u32) -> Result<ChatResponse, LlmError> {
        self.wait_for_rate_limit().await;
        self.run.log(
            self.event(
                LogEvent::info(EventKind::LlmCallStarted, format!("calling {}", self.model_name))
                    .with_level(LogLevel::Debug)
                    .with_data(json!({"model": self.model_name, "iteration": iteration, "messages": messages.len(), "tools": tools.len()})),
            ),
        );
        let request = ChatRequest {
            model: provider_model_name(self.model_name).to_string(),
            messages: messages.to_vec(),
            tools: tools.to_vec(),
            temperature: None,
            stream: true,
            response_format: self.job.response_format.clone(),
            label: Some(self.job.task_key.clone()),
        };
        let journal = self.run.journal.clone();
        let task = self.job.task_key.clone();
        journal.call_started(Some(&task));
        let sink: TokenSink = Arc::new(move |text: &str| journal.token(Some(&task), text));
        let started_at = now_ms();
        let clock = Instant::now();
        let reply = self.model.chat(request, Some(sink)).await?;
        let elapsed_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.ledger.record(&self.job.agent.role, &reply.usage);
        let payload = (self.run.payloads == TracePayloads::Full).then(|| {
            CallPayload {
                model: self.model_name.to_string(),
                endpoint: self.model.shown_endpoint(),
                messages: messages.iter().map(payload_message).collect(),
                tools: tools.iter().map(|t| t.name.clone()).collect(),
                response: PayloadResponse {
                    content: reply.content.clone(),
                    tool_calls: reply.tool_calls.iter().map(payload_tool_call).collect(),
                    finish_reason: reply.finish_reason.clone(),
                },
                started_at,
                ended_at: started_at.saturating_add(i64::try_from(elapsed_ms).unwrap_or(i64::MAX)),
            }
            .redacted(&self.model.secrets())
            .compress()
        });
        let mut data = json!({
            "model": self.model_name,
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
            "tool_calls": reply.tool_calls.len(),
            "started_at": started_at,
            "elapsed_ms": elapsed_ms,
        });
        if payload.is_some() {
            // Written with the line: `crew-runner trace --call SEQ` finds it.
            data["payload"] = json!(true);
        }
        let line = self.event(LogEvent::info(EventKind::LlmCallCompleted, format!("{} answered", self.model_name)).with_data(data));
        self.run.journal.log_call(line, payload);
        let shown = if reply.content.trim().is_empty() && !reply.tool_calls.is_empty() {
            let names: Vec<&str> = reply.tool_calls.iter().map(|c| c.name.as_str()).collect();
            format!("calling tools: {}", names.join(", "))
        } else {
            truncate(reply.content.trim(), 500)
        };
        self.run.log(self.event(LogEvent::info(EventKind::AgentStep, shown).with_data(json!({"iteration": iteration}))));
        Ok(reply)
    }

    /// Runs a tool; recoverable failures become `Error: …` text for the model. A tool kept in
    /// recordings ([`Tool::kept_in_recordings`]) is served from the recording under `--replay`
    /// (a call it lacks fails the run, as an unrecorded LLM request does) and its result is
    /// appended to it under `--record`.
    async fn call_tool(&self, tool: &dyn Tool, name: &str, arguments: &str) -> Result<String, ExecutionError> {
        let tape = if tool.kept_in_recordings() { self.run.models.tool_tape() } else { None };
        let label = Some(self.job.task_key.as_str());
        if let Some(replayed) = tape.as_ref().and_then(|t| t.replayed(label, name, arguments)) {
            return replayed.map_err(ExecutionError::from);
        }
        let output = match parse_arguments(arguments) {
            Err(e) => format!("Error: {e}"),
            Ok(args) => match tool.call(args).await {
                Ok(out) => out,
                Err(ToolError::Run(e)) => return Err(e),
                Err(e) => format!("Error: {e}"),
            },
        };
        if let Some(tape) = &tape {
            tape.keep(label, name, arguments, &output)?;
        }
        Ok(output)
    }

    /// Runs a tool and logs the call; recoverable failures become `Error: …` text for the model.
    async fn use_tool(&self, name: &str, arguments: &str) -> Result<String, ExecutionError> {
        let clock = Instant::now();
        let output = match self.job.tools.iter().find(|t| t.definition().name.eq_ignore_ascii_case(name.trim())) {
            None => {
                let names: Vec<String> = self.job.tools.iter().map(|t| t.definition().name).collect();
                if names.is_empty() {
                    format!("Error: there is no tool named `{name}`; you have no tools, give your Final Answer.")
                } else {
                    format!("Error: there is no tool named `{name}`; use one of: {}", names.join(", "))
                }
            }
            Some(tool) => self.call_tool(tool.as_ref(), name, arguments).await?,
        };
        let elapsed_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
        let full = output.len();
        let output = truncate(&output, MAX_TOOL_RESULT_BYTES);
        let message = if full > MAX_TOOL_RESULT_BYTES {
            format!("used {name} (result of {full} bytes cut to {MAX_TOOL_RESULT_BYTES} for the model)")
        } else {
            format!("used {name}")
        };
        let mut data = json!({
            "tool": name,
            "input": truncate(arguments, LOGGED_TOOL_OUTPUT),
            "output": truncate(&output, LOGGED_TOOL_OUTPUT),
            "elapsed_ms": elapsed_ms,
        });
        if full > MAX_TOOL_RESULT_BYTES {
            data["result_bytes"] = json!(full);
            data["result_cap_bytes"] = json!(MAX_TOOL_RESULT_BYTES);
        }
        self.run.log(self.event(LogEvent::info(EventKind::ToolCall, message).with_data(data)));
        Ok(output)
    }
}

/// A message as a stored payload shows it.
fn payload_message(m: &ChatMessage) -> PayloadMessage {
    let role = match m.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    PayloadMessage {
        role: role.to_string(),
        content: m.content.clone(),
        tool_calls: m.tool_calls.iter().map(payload_tool_call).collect(),
        tool_call_id: m.tool_call_id.clone(),
        name: None,
    }
}

fn payload_tool_call(c: &ToolCall) -> PayloadToolCall {
    PayloadToolCall { name: c.name.clone(), arguments: c.arguments.clone() }
}

/// The model's tool arguments as a JSON object (empty text = no arguments).
fn parse_arguments(text: &str) -> Result<serde_json::Value, ToolError> {
    let body = strip_code_fence(text);
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(ToolError::InvalidArguments("the arguments must be a JSON object".into())),
        Err(e) => Err(ToolError::InvalidArguments(format!("the arguments are not valid JSON ({e})"))),
    }
}
