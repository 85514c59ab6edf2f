use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ExecutionId, ExecutionState, Millis, Priority, Progress};

/// Severity of an ExecutionLog line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// What an ExecutionLog line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    // Scheduler events.
    Submitted,
    Started,
    RetryScheduled,
    Recovered,
    Succeeded,
    Failed,
    Cancelled,
    CancelRequested,
    PriorityChanged,
    Interrupted,
    /// A task with `human_input` answered; the execution waits for a person's review.
    AwaitingInput,
    /// A person answered the review (accepted, or feedback); the execution is queued again.
    InputAnswered,
    // Engine events.
    TaskStarted,
    TaskCompleted,
    TaskSkipped,
    AgentStep,
    LlmCallStarted,
    LlmCallCompleted,
    ToolCall,
    Delegation,
    Warning,
    Output,
}

/// A line an executor (or the scheduler) asks to record; the store adds id, attempt, seq and time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct LogEvent {
    pub level: LogLevel,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub agent: Option<String>,
    pub message: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl LogEvent {
    /// An `info` line of `kind` with no task, agent or data.
    pub fn info(kind: EventKind, message: impl Into<String>) -> Self {
        LogEvent { level: LogLevel::Info, kind, task: None, agent: None, message: message.into(), data: serde_json::Value::Null }
    }

    /// A `warn` line of kind `warning`.
    pub fn warning(message: impl Into<String>) -> Self {
        LogEvent { level: LogLevel::Warn, ..LogEvent::info(EventKind::Warning, message) }
    }

    pub fn with_level(mut self, level: LogLevel) -> Self {
        self.level = level;
        self
    }

    pub fn with_task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }
}

/// One stored ExecutionLog line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct LogEntry {
    pub execution_id: ExecutionId,
    pub attempt: u32,
    /// Per-execution sequence number, 1-based, gap-free, in commit order.
    pub seq: u64,
    pub at: Millis,
    #[serde(flatten)]
    pub event: LogEvent,
}

/// What subscribers (the CLI's progress display, the GUI) receive through the broadcast.
///
/// Lagging subscribers lose events (tokio broadcast semantics) and should re-read the store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecutionEvent {
    /// The execution's state changed (committed before this is sent).
    State { id: ExecutionId, state: ExecutionState, attempt: u32, priority: Priority },
    /// Progress changed (committed before this is sent).
    Progress { id: ExecutionId, progress: Progress },
    /// A log line (committed before this is sent).
    Log { entry: LogEntry },
    /// Streamed LLM text; never stored. `restart` marks the start of a new LLM call of `task`
    /// (sent with empty `text` before the call): what streams after it is a new answer. `offset`
    /// is where `text` starts in that answer, in UTF-16 code units (JavaScript string length).
    Token { id: ExecutionId, task: Option<String>, text: String, restart: bool, offset: u64 },
    /// The queue was paused or resumed, or its concurrency changed.
    Queue { paused: bool, concurrency: u32 },
}
