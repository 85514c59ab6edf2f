//! The OpenAI chat-completions wire format, as we send it and as leniently as we read it.
//!
//! Requests are built from our provider-neutral [`ChatRequest`]. Replies are read with our own
//! tolerant types (async-openai's "bring your own types" mode) rather than async-openai's strict
//! ones, because local servers (Ollama, llama.cpp, LM Studio, vLLM) omit or null fields that the
//! strict types require. Absent `choices` is kept apart from an empty list so both can be
//! reported as [`InvalidResponse`](crate::llm::LlmErrorKind::InvalidResponse).

use serde::{Deserialize, Serialize};

use crate::llm::{ChatMessage, ChatRequest, ResponseSchema, Role, ToolCall, ToolDef};

/// A `POST /chat/completions` body.
#[derive(Clone, Debug, Serialize)]
pub struct WireRequest {
    pub model: String,
    pub messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<WireResponseFormat>,
}

/// `{type: "json_schema", json_schema: {name, schema, strict: false}}`. Not strict: OpenAI's
/// strict mode accepts only a subset of JSON Schema (every property required, no
/// `additionalProperties`), which a Pydantic model's schema often is not; we validate ourselves.
#[derive(Clone, Debug, Serialize)]
pub struct WireResponseFormat {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub json_schema: WireJsonSchema,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireJsonSchema {
    pub name: String,
    pub schema: serde_json::Value,
    pub strict: bool,
}

impl From<&ResponseSchema> for WireResponseFormat {
    fn from(r: &ResponseSchema) -> Self {
        WireResponseFormat {
            kind: "json_schema",
            json_schema: WireJsonSchema { name: r.name.clone(), schema: r.schema.clone(), strict: false },
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireMessage {
    pub role: Role,
    /// `null` only for an assistant message that called tools and said nothing.
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<WireToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: WireFunctionCall,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireFunctionCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: WireFunction,
}

#[derive(Clone, Debug, Serialize)]
pub struct WireFunction {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

impl WireRequest {
    /// The body for `request` sent to `model`; streaming asks for usage in the last chunk. The
    /// request's schema goes in `response_format` only when `send_response_format` is set.
    pub fn new(model: &str, request: &ChatRequest, send_response_format: bool) -> WireRequest {
        WireRequest {
            model: model.to_string(),
            messages: request.messages.iter().map(WireMessage::from).collect(),
            tools: request.tools.iter().map(WireTool::from).collect(),
            temperature: request.temperature,
            max_tokens: None,
            stream: request.stream,
            stream_options: request.stream.then_some(StreamOptions { include_usage: true }),
            response_format: request.response_format.as_ref().filter(|_| send_response_format).map(WireResponseFormat::from),
        }
    }
}

impl From<&ChatMessage> for WireMessage {
    fn from(m: &ChatMessage) -> Self {
        let content = if m.content.is_empty() && !m.tool_calls.is_empty() { None } else { Some(m.content.clone()) };
        WireMessage {
            role: m.role,
            content,
            tool_calls: m
                .tool_calls
                .iter()
                .map(|c| WireToolCall {
                    id: c.id.clone(),
                    kind: "function",
                    function: WireFunctionCall { name: c.name.clone(), arguments: c.arguments.clone() },
                })
                .collect(),
            tool_call_id: m.tool_call_id.clone(),
        }
    }
}

impl From<&ToolDef> for WireTool {
    fn from(t: &ToolDef) -> Self {
        WireTool {
            kind: "function",
            function: WireFunction { name: t.name.clone(), description: t.description.clone(), parameters: t.parameters.clone() },
        }
    }
}

/// A non-streamed reply.
#[derive(Clone, Debug, Deserialize)]
pub struct WireResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Option<Vec<WireChoice>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireChoice {
    #[serde(default)]
    pub message: Option<WireReplyMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireReplyMessage {
    /// A string, or (some providers) a list of `{type: "text", text}` parts.
    #[serde(default)]
    pub content: Option<serde_json::Value>,
    #[serde(default)]
    pub tool_calls: Option<Vec<WireReplyToolCall>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireReplyToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireReplyFunction>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireReplyFunction {
    #[serde(default)]
    pub name: Option<String>,
    /// A JSON string normally; some servers send an object.
    #[serde(default)]
    pub arguments: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

/// One streamed chunk.
#[derive(Clone, Debug, Deserialize)]
pub struct WireChunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Option<Vec<WireChunkChoice>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireChunkChoice {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub delta: Option<WireDelta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireDelta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<WireToolCallDelta>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunctionDelta>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WireFunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// The text of a `content` value: a string, or the `text` of each part of a list.
pub fn content_text(content: Option<&serde_json::Value>) -> String {
    match content {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(parts)) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// Tool-call arguments as text (an object some servers send is re-serialised).
pub fn arguments_text(arguments: Option<&serde_json::Value>) -> String {
    match arguments {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

impl WireReplyToolCall {
    /// Our tool call; a missing id gets `call_<n>`.
    pub fn into_tool_call(self, n: usize) -> ToolCall {
        let function = self.function.unwrap_or(WireReplyFunction { name: None, arguments: None });
        ToolCall {
            id: self.id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{n}")),
            name: function.name.unwrap_or_default(),
            arguments: arguments_text(function.arguments.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_shape_matches_the_openai_api() {
        let request = ChatRequest {
            model: "ignored".into(),
            messages: vec![
                ChatMessage::system("s"),
                ChatMessage::assistant("", vec![ToolCall { id: "c1".into(), name: "search".into(), arguments: "{}".into() }]),
                ChatMessage::tool("c1", "result"),
            ],
            tools: vec![ToolDef { name: "search".into(), description: "d".into(), parameters: serde_json::json!({"type": "object"}) }],
            temperature: Some(0.5),
            stream: true,
            response_format: None,
            label: Some("task".into()),
        };
        let body = serde_json::to_value(WireRequest::new("gpt-4o-mini", &request, true)).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["temperature"], 0.5);
        assert_eq!(body["messages"][0], serde_json::json!({"role": "system", "content": "s"}));
        assert_eq!(body["messages"][1]["content"], serde_json::Value::Null);
        assert_eq!(body["messages"][1]["tool_calls"][0]["type"], "function");
        assert_eq!(body["messages"][1]["tool_calls"][0]["function"]["name"], "search");
        assert_eq!(body["messages"][2]["tool_call_id"], "c1");
        assert_eq!(body["tools"][0]["function"]["parameters"]["type"], "object");
        assert!(body.get("label").is_none());
        assert!(body.get("response_format").is_none());
    }

    #[test]
    fn a_schema_is_sent_as_a_non_strict_json_schema_response_format_unless_turned_off() {
        let schema = serde_json::json!({"type": "object", "properties": {"title": {"type": "string"}}});
        let request =
            ChatRequest { response_format: Some(ResponseSchema { name: "Report".into(), schema: schema.clone() }), ..plain_request() };
        let body = serde_json::to_value(WireRequest::new("m", &request, true)).unwrap();
        assert_eq!(
            body["response_format"],
            serde_json::json!({"type": "json_schema", "json_schema": {"name": "Report", "schema": schema, "strict": false}})
        );
        let body = serde_json::to_value(WireRequest::new("m", &request, false)).unwrap();
        assert!(body.get("response_format").is_none());
    }

    /// One user message, nothing else.
    fn plain_request() -> ChatRequest {
        ChatRequest {
            model: String::new(),
            messages: vec![ChatMessage::user("hi")],
            tools: vec![],
            temperature: None,
            stream: false,
            response_format: None,
            label: None,
        }
    }

    #[test]
    fn non_streaming_requests_have_no_stream_options() {
        let body = serde_json::to_value(WireRequest::new("m", &plain_request(), true)).unwrap();
        assert!(body.get("stream_options").is_none() && body.get("tools").is_none() && body.get("temperature").is_none());
    }

    #[test]
    fn lenient_reply_parsing() {
        let r: WireResponse = serde_json::from_str(
            r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
                "tool_calls":[{"function":{"name":"f","arguments":{"q":1}}}]},"finish_reason":null}]}"#,
        )
        .unwrap();
        let choice = r.choices.unwrap().remove(0);
        let message = choice.message.unwrap();
        assert_eq!(content_text(message.content.as_ref()), "ab");
        let call = message.tool_calls.unwrap().remove(0).into_tool_call(0);
        assert_eq!(call, ToolCall { id: "call_0".into(), name: "f".into(), arguments: r#"{"q":1}"#.into() });
    }
}
