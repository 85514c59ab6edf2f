//! One recorded model call (a line of a `--record` file) and the request hash replay looks up.
//!
//! The hash is the SHA-256 (hex) of the canonical JSON of `{model, messages, tools, temperature}`
//! plus `response_format` when the request has one (so recordings made before it existed keep
//! their hashes): object keys sorted at every depth, no whitespace. `stream` and `label` are not part of it, so
//! a streamed run replays a recording made without streaming and vice versa. `model` is the
//! model string of the [`ChatModel`](super::ChatModel) that served the call (its `name()`, e.g.
//! `openai/gpt-4o-mini`), so a recording replays under the same model string.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ChatRequest, ChatResponse};

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// [`request_hash`] of `model` and `request`.
    pub hash: String,
    /// The task that asked (the request's label), for diagnostics.
    #[serde(default)]
    pub label: Option<String>,
    /// The model string that served it.
    pub model: String,
    pub request: ChatRequest,
    pub response: ChatResponse,
}

impl Exchange {
    pub fn new(model: &str, request: ChatRequest, response: ChatResponse) -> Exchange {
        Exchange { hash: request_hash(model, &request), label: request.label.clone(), model: model.to_string(), request, response }
    }
}

/// The replay key of `request` sent to `model` (see the module docs).
pub fn request_hash(model: &str, request: &ChatRequest) -> String {
    let mut key = serde_json::json!({
        "model": model,
        "messages": request.messages,
        "tools": request.tools,
        // Via f32's shortest text, so 0.7 hashes as `0.7`, not as its widened f64 digits.
        "temperature": request.temperature.and_then(|t| t.to_string().parse::<f64>().ok()),
    });
    if let Some(format) = &request.response_format {
        key["response_format"] = serde_json::json!(format);
    }
    let mut canonical = String::new();
    write_canonical(&key, &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// `value` as JSON with sorted keys and no whitespace, whatever order its maps keep.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatMessage, ToolDef};

    fn request() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![ChatMessage::system("You are a researcher."), ChatMessage::user("Research AI.")],
            tools: vec![ToolDef {
                name: "search".into(),
                description: "Search the web".into(),
                parameters: serde_json::json!({"type": "object", "properties": {"q": {"type": "string"}}}),
            }],
            temperature: Some(0.7),
            stream: false,
            response_format: None,
            label: Some("research_task".into()),
        }
    }

    #[test]
    fn hash_is_stable_across_versions() {
        // A fixed value (computed independently from the canonical JSON text): changing the
        // hashing breaks every recording users have.
        assert_eq!(request_hash("openai/gpt-4o-mini", &request()), "46b24fc66469d0e6335e5b4155f4857ff6bf3552fa6953e1bf656141a39835f0");
    }

    #[test]
    fn stream_and_label_are_not_hashed_but_content_is() {
        let base = request_hash("openai/gpt-4o-mini", &request());
        let mut r = request();
        r.stream = true;
        r.label = None;
        r.model = "other".into();
        assert_eq!(request_hash("openai/gpt-4o-mini", &r), base);
        let mut r = request();
        r.messages[1].content.push('!');
        assert_ne!(request_hash("openai/gpt-4o-mini", &r), base);
        let mut r = request();
        r.temperature = None;
        assert_ne!(request_hash("openai/gpt-4o-mini", &r), base);
        assert_ne!(request_hash("ollama/llama3.1", &request()), base);
        let mut r = request();
        r.response_format = Some(crate::llm::ResponseSchema { name: "Report".into(), schema: serde_json::json!({"type": "object"}) });
        assert_ne!(request_hash("openai/gpt-4o-mini", &r), base);
    }

    #[test]
    fn key_order_in_tool_schemas_does_not_matter() {
        let mut a = request();
        a.tools[0].parameters = serde_json::from_str(r#"{"type":"object","required":["q"]}"#).unwrap();
        let mut b = request();
        b.tools[0].parameters = serde_json::from_str(r#"{"required":["q"],"type":"object"}"#).unwrap();
        assert_eq!(request_hash("m", &a), request_hash("m", &b));
    }

    #[test]
    fn exchanges_round_trip_as_json_lines() {
        let e = Exchange::new("openai/gpt-4o-mini", request(), ChatResponse { content: "done".into(), ..Default::default() });
        let line = serde_json::to_string(&e).unwrap();
        assert!(!line.contains('\n'));
        let back: Exchange = serde_json::from_str(&line).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.label.as_deref(), Some("research_task"));
    }
}
