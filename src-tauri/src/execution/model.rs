use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Engine, ExecutionError, ExecutionId, ExecutionState, Millis, Priority, Status};

/// How the execution talks to LLMs; stored with it so any worker runs it the same way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct LlmOptions {
    /// `--model`: overrides the crew's default model (per-agent `llm` still wins over the crew's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub model: Option<String>,
    /// `--api-base`: overrides the endpoint taken from the environment. As stored, its
    /// credentials (password, secret query parameters) read `***`; the real URL is then in the
    /// secrets file named by `secret_ref` (see `llm::endpoint_secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub api_base: Option<String>,
    /// The file in `<data dir>/secrets/` holding the real `api_base`, when it carries credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub secret_ref: Option<String>,
    /// `--record FILE`: keep every LLM exchange of the run in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub record: Option<String>,
    /// `--replay FILE`: serve LLM exchanges from this recording, no network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub replay: Option<String>,
}

/// Token usage (and cost when the model's price is known), summed over LLM calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    /// Number of LLM calls.
    pub llm_calls: u64,
    /// US dollars, when every call's model price was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cost_usd: Option<f64>,
}

impl Usage {
    /// Adds `other` into `self` (cost stays known only while both are known).
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
        self.llm_calls += other.llm_calls;
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            (None, Some(b)) if self.llm_calls == other.llm_calls => Some(b),
            (a, None) if other.llm_calls == 0 => a,
            _ => None,
        };
    }
}

/// How far a run is: completed steps (crew tasks) of the total, and what runs now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Progress {
    pub completed_steps: u32,
    pub total_steps: u32,
    /// The task running now (its key), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub current_step: Option<String>,
    /// The agent (role) working on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub current_agent: Option<String>,
}

/// Attempts in all for retryable errors, unless the submission says otherwise (`--max-attempts`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// How many attempts may be abandoned by a dying worker before an execution is failed, unless the
/// submission says otherwise (`--max-abandons`).
pub const DEFAULT_MAX_ABANDONS: u32 = 5;

fn default_max_abandons() -> u32 {
    DEFAULT_MAX_ABANDONS
}

/// What a caller submits; the store turns it into an [`Execution`] in state `Queued`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewExecution {
    /// The crew's name (for lists and filters).
    pub crew_name: String,
    /// Where the crew was loaded from (file or folder), for display and reruns.
    pub crew_source: String,
    /// The engine that runs it.
    #[serde(default)]
    pub engine: Engine,
    /// The resolved crew, as the engine will read it (a serialised `CrewSpec` for the native
    /// engine, a `CrewaiTarget` for the CrewAI engine). Shared: the rows of a batch hold one.
    pub crew_spec: Arc<serde_json::Value>,
    /// Kickoff inputs, already merged with the crew's defaults.
    pub inputs: BTreeMap<String, serde_json::Value>,
    pub priority: Priority,
    /// Attempts allowed in all (>= 1).
    pub max_attempts: u32,
    /// Attempts whose worker may die before the execution is failed as a poison pill
    /// (0: [`DEFAULT_MAX_ABANDONS`]). Abandoned attempts are not counted in `max_attempts`.
    #[serde(default)]
    pub max_abandons: u32,
    /// Wall-clock limit per attempt, in milliseconds.
    pub timeout_ms: Option<u64>,
    pub llm: LlmOptions,
    /// Free-form `--meta KEY=VALUE` pairs.
    pub meta: BTreeMap<String, String>,
    /// The execution this one reruns, if any.
    pub retry_of: Option<ExecutionId>,
    /// Step outputs copied into the new execution before it runs (reruns reuse finished tasks).
    pub seed_steps: Vec<StepOutput>,
}

/// One run of one crew: what was asked, where it is, and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Execution {
    pub id: ExecutionId,
    pub crew_name: String,
    pub crew_source: String,
    /// The engine that runs it (`crew_spec` is that engine's form of the crew).
    #[serde(default)]
    pub engine: Engine,
    /// A `CrewSpec` (native engine) or a `CrewaiTarget` (CrewAI engine); `null` in the desktop
    /// app's lists. Shared: executions read together with the same crew hold one parsed copy.
    #[ts(type = "CrewSnapshot | null")]
    pub crew_spec: Arc<serde_json::Value>,
    pub inputs: BTreeMap<String, serde_json::Value>,
    pub priority: Priority,
    #[serde(flatten)]
    pub state: ExecutionState,
    /// The current (or last) attempt's number: attempts that ended with an error or a result.
    /// An attempt abandoned because its worker died is refunded (the next one has its number)
    /// and counted in `abandons` instead.
    pub attempt: u32,
    pub max_attempts: u32,
    /// Attempts abandoned because their worker process died (see [`NewExecution::max_abandons`]).
    #[serde(default)]
    pub abandons: u32,
    /// At this many abandoned attempts the execution fails (kind `abandoned`): it kills its
    /// worker every time.
    #[serde(default = "default_max_abandons")]
    pub max_abandons: u32,
    pub timeout_ms: Option<u64>,
    pub llm: LlmOptions,
    pub meta: BTreeMap<String, String>,
    /// A cancel was requested while it was running and has not taken effect yet.
    pub cancel_requested: bool,
    pub progress: Progress,
    pub usage: Usage,
    /// Every failed attempt's error, oldest first.
    pub attempt_errors: Vec<AttemptError>,
    pub retry_of: Option<ExecutionId>,
    pub created_at: Millis,
    /// When the first attempt started.
    pub started_at: Option<Millis>,
}

impl Execution {
    pub fn status(&self) -> Status {
        self.state.status()
    }
}

/// One failed attempt's error, kept for history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct AttemptError {
    pub attempt: u32,
    pub at: Millis,
    pub error: ExecutionError,
}

/// A completed step (crew task): stored once per (execution, step) so reruns skip it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct StepOutput {
    /// The task's key (its name in `tasks.yaml`, its id in a graph).
    pub step: String,
    /// The agent (role) that produced it.
    pub agent: String,
    /// The raw output text.
    pub output: String,
    /// Parsed JSON when the task asked for `output_json`; `null` otherwise.
    #[serde(default)]
    pub json: serde_json::Value,
    pub usage: Usage,
    pub attempt: u32,
    pub completed_at: Millis,
}

/// Which executions `list` returns; newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutionFilter {
    /// Only these statuses (any when empty).
    #[serde(default)]
    pub statuses: Vec<Status>,
    pub crew_name: Option<String>,
    /// Only executions whose meta has all these pairs.
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// Page size (default 50 when 0).
    pub limit: u32,
    /// Only executions with an id below this one (the previous page's last id).
    pub before: Option<ExecutionId>,
}
