use serde::{Deserialize, Serialize};

use crate::execution::{BoxFuture, ErrorKind, ExecutionError, Usage};

/// Who said a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// A tool call the model asked for (OpenAI tools API).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model sent them: a JSON object in text (may be invalid JSON).
    pub arguments: String,
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// For `Assistant` messages that called tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Tool` messages: the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage { role: Role::System, content: content.into(), tool_calls: vec![], tool_call_id: None }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage { role: Role::User, content: content.into(), tool_calls: vec![], tool_call_id: None }
    }
    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        ChatMessage { role: Role::Assistant, content: content.into(), tool_calls, tool_call_id: None }
    }
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage { role: Role::Tool, content: content.into(), tool_calls: vec![], tool_call_id: Some(call_id.into()) }
    }
}

/// A tool offered to the model: name, description and a JSON Schema for its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// A JSON Schema the reply must match (a task's structured output, a guardrail's verdict).
///
/// Sent as OpenAI's `response_format: {type: "json_schema", …}` where the endpoint takes it (see
/// [`ClientSettings::response_format`](crate::llm::openai::ClientSettings::response_format)); the
/// engine also states the schema in the prompt and validates the answer, so an endpoint that
/// ignores it still works.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseSchema {
    /// The schema's name as the endpoint sees it (letters, digits, `_` and `-`; at most 64).
    pub name: String,
    pub schema: serde_json::Value,
}

/// One chat-completion request, provider-neutral.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The provider's model name (without our `provider/` prefix).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// Offered tools; empty means none (and the ReAct text form is used instead).
    #[serde(default)]
    pub tools: Vec<ToolDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Stream the reply; text deltas go to the [`TokenSink`].
    #[serde(default)]
    pub stream: bool,
    /// The JSON Schema the reply must match; `None` for free text. Part of the replay hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseSchema>,
    /// Who asks (the task key), for logs and replay diagnostics; never sent, never hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The model's reply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The text content (may be empty when the model only called tools).
    pub content: String,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// Usage of this call (`llm_calls` = 1; cost when the price is known).
    pub usage: Usage,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// The model that answered, as the provider named it.
    #[serde(default)]
    pub model: String,
}

/// Receives streamed text deltas. Called from the model's task; must not block.
pub type TokenSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// What went wrong talking to a model, classified for the scheduler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LlmErrorKind {
    /// Could not connect, or the connection broke (reset, stream cut). Retryable.
    Connection,
    /// The request timed out. Retryable.
    Timeout,
    /// HTTP 429. Retryable after `retry_after_ms` when the server sent Retry-After.
    RateLimited { retry_after_ms: Option<u64> },
    /// HTTP 5xx. Retryable.
    Server { status: u16 },
    /// HTTP 4xx other than 429 (bad request, auth, unknown model). Not retryable.
    Client { status: u16 },
    /// The reply is not a valid completion (invalid JSON, no choices). Not retryable.
    InvalidResponse,
    /// The model string or its settings are wrong (unknown provider, missing key). Not retryable.
    Config,
    /// Replay found no recorded exchange for this request. Not retryable.
    ReplayMismatch,
}

/// A failed model call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LlmError {
    pub kind: LlmErrorKind,
    pub message: String,
}

impl LlmError {
    pub fn new(kind: LlmErrorKind, message: impl Into<String>) -> Self {
        LlmError { kind, message: message.into() }
    }

    /// Whether the scheduler should try the execution again.
    pub fn retryable(&self) -> bool {
        matches!(
            self.kind,
            LlmErrorKind::Connection | LlmErrorKind::Timeout | LlmErrorKind::RateLimited { .. } | LlmErrorKind::Server { .. }
        )
    }
}

impl From<LlmError> for ExecutionError {
    fn from(e: LlmError) -> Self {
        let (kind, details, retry_after) = match &e.kind {
            LlmErrorKind::Connection => (ErrorKind::LlmConnection, serde_json::Value::Null, None),
            LlmErrorKind::Timeout => (ErrorKind::LlmTimeout, serde_json::Value::Null, None),
            LlmErrorKind::RateLimited { retry_after_ms } => {
                (ErrorKind::LlmRateLimited, serde_json::json!({"status": 429}), *retry_after_ms)
            }
            LlmErrorKind::Server { status } => (ErrorKind::LlmServer, serde_json::json!({"status": status}), None),
            LlmErrorKind::Client { status } => (ErrorKind::LlmClient, serde_json::json!({"status": status}), None),
            LlmErrorKind::InvalidResponse => (ErrorKind::LlmInvalidResponse, serde_json::Value::Null, None),
            LlmErrorKind::Config => (ErrorKind::InvalidCrew, serde_json::Value::Null, None),
            LlmErrorKind::ReplayMismatch => (ErrorKind::ReplayMismatch, serde_json::Value::Null, None),
        };
        let mut out = ExecutionError::new(kind, e.message.clone()).with_details(details);
        out.retryable = e.retryable();
        out.retry_after_ms = retry_after;
        out
    }
}

/// A chat model. Implementations: the OpenAI-compatible client, the offline model, replay.
///
/// Cancellation: dropping the returned future aborts the request (no await of in-flight I/O).
pub trait ChatModel: Send + Sync {
    /// Sends one request. When `request.stream` is set and `sink` is given, text deltas are passed
    /// to `sink` as they arrive; the full reply is returned either way.
    fn chat(&self, request: ChatRequest, sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>>;

    /// The name shown in logs (`openai/gpt-4o-mini`, `offline`).
    fn name(&self) -> String;

    /// The endpoint's base URL as it may be shown and stored (credentials redacted); `None` for
    /// models without one (offline, replay).
    fn shown_endpoint(&self) -> Option<String> {
        None
    }

    /// The secret values (API key, URL credentials) that nothing stored or shown may repeat.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(kind: LlmErrorKind) -> ExecutionError {
        LlmError::new(kind, "boom").into()
    }

    #[test]
    fn every_kind_maps_to_its_execution_error() {
        let cases = [
            (LlmErrorKind::Connection, ErrorKind::LlmConnection, true),
            (LlmErrorKind::Timeout, ErrorKind::LlmTimeout, true),
            (LlmErrorKind::RateLimited { retry_after_ms: None }, ErrorKind::LlmRateLimited, true),
            (LlmErrorKind::Server { status: 502 }, ErrorKind::LlmServer, true),
            (LlmErrorKind::Client { status: 400 }, ErrorKind::LlmClient, false),
            (LlmErrorKind::InvalidResponse, ErrorKind::LlmInvalidResponse, false),
            (LlmErrorKind::Config, ErrorKind::InvalidCrew, false),
            (LlmErrorKind::ReplayMismatch, ErrorKind::ReplayMismatch, false),
        ];
        for (kind, expected, retryable) in cases {
            let e = convert(kind.clone());
            assert_eq!(e.kind, expected, "{kind:?}");
            assert_eq!(e.retryable, retryable, "{kind:?}");
            assert_eq!(LlmError::new(kind.clone(), "x").retryable(), retryable, "{kind:?}");
            assert_eq!(e.message, "boom");
        }
    }

    #[test]
    fn status_and_retry_after_are_carried() {
        let e = convert(LlmErrorKind::RateLimited { retry_after_ms: Some(1500) });
        assert_eq!(e.retry_after_ms, Some(1500));
        assert_eq!(e.details, serde_json::json!({"status": 429}));
        let e = convert(LlmErrorKind::Server { status: 503 });
        assert_eq!(e.details, serde_json::json!({"status": 503}));
        assert_eq!(e.retry_after_ms, None);
        let e = convert(LlmErrorKind::Client { status: 401 });
        assert_eq!(e.details, serde_json::json!({"status": 401}));
        assert_eq!(convert(LlmErrorKind::Timeout).details, serde_json::Value::Null);
    }

    #[test]
    fn kinds_serialise_tagged() {
        let json = serde_json::to_value(LlmErrorKind::RateLimited { retry_after_ms: Some(10) }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "rate_limited", "retry_after_ms": 10}));
    }
}
