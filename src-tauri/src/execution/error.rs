use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why an attempt failed, classified so the scheduler knows whether to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The execution ran longer than its timeout. Not retried.
    Timeout,
    /// The LLM endpoint could not be reached or the connection broke. Retryable.
    LlmConnection,
    /// The LLM request timed out. Retryable.
    LlmTimeout,
    /// HTTP 429; `retry_after_ms` carries Retry-After when sent. Retryable.
    LlmRateLimited,
    /// HTTP 5xx. Retryable.
    LlmServer,
    /// HTTP 400/401/403/404 and other client errors. Not retryable.
    LlmClient,
    /// The endpoint answered with something that is not a valid completion. Not retryable.
    LlmInvalidResponse,
    /// A replayed recording does not match the request. Not retryable.
    ReplayMismatch,
    /// The crew (or its inputs) is invalid. Not retryable.
    InvalidCrew,
    /// A tool failed in a way the agent could not recover from. Not retryable.
    Tool,
    /// The task's output is unusable (e.g. `output_json` does not parse). Not retryable.
    Output,
    /// An agent hit `max_iter` or `max_execution_time`. Not retryable.
    AgentLimit,
    /// The process that ran it died (lease expired) too often. Not retryable.
    Abandoned,
    /// The store failed while recording the run. Retryable.
    Storage,
    /// The crew's own Python code (CrewAI engine) raised an exception, or its process ended without
    /// a result. Not retryable.
    Python,
    /// A bug or an unexpected condition. Not retryable.
    Internal,
}

impl ErrorKind {
    /// The snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::LlmConnection => "llm_connection",
            ErrorKind::LlmTimeout => "llm_timeout",
            ErrorKind::LlmRateLimited => "llm_rate_limited",
            ErrorKind::LlmServer => "llm_server",
            ErrorKind::LlmClient => "llm_client",
            ErrorKind::LlmInvalidResponse => "llm_invalid_response",
            ErrorKind::ReplayMismatch => "replay_mismatch",
            ErrorKind::InvalidCrew => "invalid_crew",
            ErrorKind::Tool => "tool",
            ErrorKind::Output => "output",
            ErrorKind::AgentLimit => "agent_limit",
            ErrorKind::Abandoned => "abandoned",
            ErrorKind::Storage => "storage",
            ErrorKind::Python => "python",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An attempt's failure: `{kind, message, retryable, details}` as stored and shown.
///
/// `retryable` is decided by whoever classifies the failure (the LLM client, the engine); the
/// scheduler retries only retryable errors, and only while attempts remain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error, JsonSchema, TS)]
#[error("{kind:?}: {message}")]
pub struct ExecutionError {
    pub kind: ErrorKind,
    pub message: String,
    pub retryable: bool,
    /// Extra facts (HTTP status, task key, …); `null` when there are none.
    #[serde(default)]
    pub details: serde_json::Value,
    /// The server's Retry-After, when it sent one; the backoff waits at least this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_ms: Option<u64>,
}

impl ExecutionError {
    /// An error of `kind` whose retryability is the kind's default.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::LlmConnection | ErrorKind::LlmTimeout | ErrorKind::LlmRateLimited | ErrorKind::LlmServer | ErrorKind::Storage
        );
        ExecutionError { kind, message: message.into(), retryable, details: serde_json::Value::Null, retry_after_ms: None }
    }

    /// The same error with `details` attached.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// The same error with a server-requested minimum delay before the next attempt.
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}
