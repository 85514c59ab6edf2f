//! Submitting, reading and controlling executions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use super::crews::engine_request;
use super::{blocking, parse_id};
use crate::app::CancelOutcome;
use crate::app::{prepare_submission, timeout_from_secs, EngineChoice, RunComparison, SubmitRequest, Trace, TraceCall};
use crate::crew::{CrewGraph, CrewWarning};
use crate::execution::{Execution, ExecutionFilter, InputAnswer, LlmOptions, Priority, Status, StepOutput, DEFAULT_MAX_ATTEMPTS};
use crate::gui::settings::LlmSettings;
use crate::gui::{CommandError, CommandErrorKind, GuiState};

/// Which models a submitted run uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum LlmMode {
    /// The configured provider, base URL, model and key (Settings); agents that name a model
    /// keep it.
    #[default]
    Configured,
    /// The offline model for every agent: no network, deterministic.
    Offline,
    /// Serve every LLM exchange from a recording made with `--record`.
    Replay { file: String },
}

impl LlmMode {
    /// The options stored with the execution for this mode.
    pub fn options(&self, settings: &LlmSettings) -> LlmOptions {
        match self {
            LlmMode::Configured => LlmOptions { api_base: settings.api_base(), ..LlmOptions::default() },
            LlmMode::Offline => LlmOptions { model: Some("offline".into()), ..LlmOptions::default() },
            LlmMode::Replay { file } => LlmOptions { replay: Some(file.clone()), ..LlmOptions::default() },
        }
    }
}

/// What the New run view submits. In TypeScript every field but `crew` may be left out (serde's
/// defaults), and an `Option` may also be `null` (`optional = nullable` keeps a field's type as it is).
#[derive(Clone, Debug, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SubmitArgs {
    /// The crew file or folder.
    pub crew: String,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub inputs: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub priority: Priority,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub llm: LlmMode,
    /// Attempts in all (default 3).
    pub max_attempts: Option<u32>,
    /// Per-attempt time limit.
    pub timeout_secs: Option<f64>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub meta: BTreeMap<String, String>,
    /// Which engine runs it (`auto` by default).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub engine: EngineChoice,
    /// The Python the CrewAI engine uses (else the search; empty means absent).
    pub python: Option<String>,
}

/// A recorded submission and the warnings about its crew and inputs (see `prepare_submission`).
#[derive(Clone, Debug, Serialize, TS)]
pub struct Submitted {
    pub execution: Execution,
    pub warnings: Vec<CrewWarning>,
}

/// Validates the crew, inputs and models (nothing is recorded on error), then queues it.
#[tauri::command(rename_all = "snake_case")]
pub async fn submit_execution(state: State<'_, GuiState>, request: SubmitArgs) -> Result<Submitted, CommandError> {
    let submit = SubmitRequest {
        inputs: request.inputs,
        priority: request.priority,
        max_attempts: request.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
        timeout_ms: timeout_from_secs(request.timeout_secs)?,
        llm: request.llm.options(&state.executor.configured_llm()),
        meta: request.meta,
        ..engine_request(&state, request.crew, request.engine, request.python)
    };
    let env = state.executor.env();
    let (new, warnings) = blocking(move || prepare_submission(&submit, &env)).await?;
    let mut recorded = state.runner.submit(vec![new], None).await?;
    Ok(Submitted { execution: recorded.executions.pop().expect("one execution recorded"), warnings })
}

/// Cancels: queued/retrying at once; running within milliseconds here, or at its owner's next heartbeat.
#[tauri::command(rename_all = "snake_case")]
pub async fn cancel_execution(state: State<'_, GuiState>, id: String) -> Result<CancelOutcome, CommandError> {
    Ok(state.runner.cancel(&id).await?.1)
}

/// Answers the human review the execution awaits: no feedback (or blanks) accepts the task's
/// answer, feedback sends it back to the agent; queued again when this resolves.
#[tauri::command(rename_all = "snake_case")]
pub async fn answer_execution(state: State<'_, GuiState>, id: String, feedback: Option<String>) -> Result<Execution, CommandError> {
    Ok(state.runner.answer(&id, InputAnswer::from_text(feedback.as_deref())).await?)
}

/// One execution, in full (crew snapshot, inputs, state, usage, attempt errors).
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution(state: State<'_, GuiState>, id: String) -> Result<Execution, CommandError> {
    Ok(state.runner.get(&id)?)
}

/// The execution's completed tasks, in completion order.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution_steps(state: State<'_, GuiState>, id: String) -> Result<Vec<StepOutput>, CommandError> {
    Ok(state.runner.steps(&id)?)
}

/// The graph of the crew stored with the execution (Run detail colours its tasks by state);
/// `null` for a Python crew run by CrewAI.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution_graph(state: State<'_, GuiState>, id: String) -> Result<Option<CrewGraph>, CommandError> {
    Ok(state.runner.graph(&id)?)
}

/// Which executions to list, newest first. In TypeScript every field may be left out (an `Option`
/// may also be `null`), as for [`SubmitArgs`].
#[derive(Clone, Debug, Default, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ListQuery {
    /// Only these statuses (all when empty).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub statuses: Vec<Status>,
    /// Only this crew (by name).
    pub crew: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// The previous page's `next_before`.
    pub before: Option<String>,
}

/// One page of executions. `crew_spec` is left out (`null`) in lists: `get_execution` has it.
#[derive(Clone, Debug, Serialize, TS)]
pub struct ExecutionPage {
    pub executions: Vec<Execution>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<String>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn list_executions(state: State<'_, GuiState>, query: Option<ListQuery>) -> Result<ExecutionPage, CommandError> {
    let query = query.unwrap_or_default();
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let filter = ExecutionFilter {
        statuses: query.statuses,
        crew_name: query.crew.filter(|c| !c.is_empty()),
        limit,
        before: query.before.as_deref().map(parse_id).transpose()?,
        ..ExecutionFilter::default()
    };
    let mut executions = state.runner.list(&filter)?;
    for e in &mut executions {
        e.crew_spec = serde_json::Value::Null.into();
    }
    let next_before = (executions.len() as u32 == limit).then(|| executions.last().map(|e| e.id.to_string())).flatten();
    Ok(ExecutionPage { executions, next_before })
}

/// Queues a finished execution again as a new one: from `from_task` on (reusing the tasks before
/// it), or as `crew-runner retry` does without it.
#[tauri::command(rename_all = "snake_case")]
pub async fn retry_execution(state: State<'_, GuiState>, id: String, from_task: Option<String>) -> Result<Execution, CommandError> {
    Ok(state.runner.retry(&id, from_task.as_deref()).await?.execution)
}

/// Changes the priority of a queued or retrying execution.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_priority(state: State<'_, GuiState>, id: String, priority: String) -> Result<Execution, CommandError> {
    let priority: Priority = priority
        .parse()
        .map_err(|e: crate::execution::ParsePriorityError| CommandError::new(CommandErrorKind::InvalidArgument, e.to_string()))?;
    Ok(state.runner.set_priority(&id, priority).await?)
}

/// Two executions of one crew compared (see `Runner::compare`): `not_found` for an unknown id,
/// `invalid_argument` for a malformed one or executions of different crews.
#[tauri::command(rename_all = "snake_case")]
pub async fn compare_executions(state: State<'_, GuiState>, a: String, b: String) -> Result<RunComparison, CommandError> {
    let runner = state.runner.clone();
    blocking(move || runner.compare(&a, &b)).await
}

/// The trace of the execution (see `Runner::trace`), reporting the current `trace_payloads`
/// setting: `not_found` for an unknown id, `invalid_argument` for a malformed one.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution_trace(state: State<'_, GuiState>, id: String) -> Result<Trace, CommandError> {
    let (runner, payloads) = (state.runner.clone(), state.executor.env().trace_payloads());
    blocking(move || runner.trace(&id, payloads)).await
}

/// What LLM call `call` (a trace span's `call`) sent and received (see `Runner::trace_call`):
/// `not_found` for an unknown id or call, or a call whose messages were not kept.
#[tauri::command(rename_all = "snake_case")]
pub async fn get_trace_call(state: State<'_, GuiState>, id: String, call: u64) -> Result<TraceCall, CommandError> {
    let runner = state.runner.clone();
    blocking(move || runner.trace_call(&id, call)).await
}
