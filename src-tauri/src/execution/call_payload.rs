//! What one LLM call sent and received ([`CallPayload`]), kept beside its `llm_call_completed`
//! log line so a past run can be inspected; stored zlib-compressed ([`CompressedPayload`]).
//!
//! Whether payloads are kept at all is the `trace_payloads` setting ([`TracePayloads`]): with
//! `metadata`, only the log lines (timing, tokens, cost) are kept.

use std::io::{Read, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The environment variable that sets [`TracePayloads`] (it wins over the configuration).
pub const TRACE_PAYLOADS_VAR: &str = "CREW_RUNNER_TRACE_PAYLOADS";

/// What the store keeps of each LLM call (the `trace_payloads` setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum TracePayloads {
    /// The messages sent and the answer received, with the metadata (the default).
    #[default]
    Full,
    /// Only the metadata in the log lines: timing, tokens, cost, status.
    Metadata,
}

/// A text that is not a [`TracePayloads`] name.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not full or metadata")]
pub struct ParseTracePayloadsError(pub String);

impl TracePayloads {
    /// The setting's name: `full` or `metadata`.
    pub fn as_str(self) -> &'static str {
        match self {
            TracePayloads::Full => "full",
            TracePayloads::Metadata => "metadata",
        }
    }

    /// The setting `vars` give through [`TRACE_PAYLOADS_VAR`]; the default when it is unset,
    /// blank or not a setting name.
    pub fn from_vars(vars: &std::collections::BTreeMap<String, String>) -> TracePayloads {
        vars.get(TRACE_PAYLOADS_VAR).and_then(|v| v.parse().ok()).unwrap_or_default()
    }
}

impl std::str::FromStr for TracePayloads {
    type Err = ParseTracePayloadsError;

    /// `full` or `metadata` (trimmed, any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(TracePayloads::Full),
            "metadata" => Ok(TracePayloads::Metadata),
            _ => Err(ParseTracePayloadsError(s.to_string())),
        }
    }
}

impl std::fmt::Display for TracePayloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tool call as the model asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct PayloadToolCall {
    pub name: String,
    /// The arguments as the model sent them (JSON text, possibly invalid).
    pub arguments: String,
}

/// One message sent to the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct PayloadMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    pub content: String,
    /// The tools an assistant message called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<PayloadToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tool_call_id: Option<String>,
    /// The speaker's name, when the message had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
}

/// What the model answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct PayloadResponse {
    pub content: String,
    #[serde(default)]
    pub tool_calls: Vec<PayloadToolCall>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// What one LLM call sent and received, secrets already replaced by `[redacted]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallPayload {
    /// The model string (`openai/gpt-4o-mini`).
    pub model: String,
    /// The endpoint's base URL, its credentials redacted; `None` for models without one.
    #[serde(default)]
    pub endpoint: Option<String>,
    pub messages: Vec<PayloadMessage>,
    /// The names of the tools offered.
    #[serde(default)]
    pub tools: Vec<String>,
    pub response: PayloadResponse,
    /// When the request was sent and the answer complete (epoch ms).
    pub started_at: i64,
    pub ended_at: i64,
}

/// What replaces a secret in a payload.
pub const REDACTED: &str = "[redacted]";

impl CallPayload {
    /// The payload with every occurrence of each of `secrets` (those of at least 4 bytes) in
    /// its texts replaced by [`REDACTED`].
    pub fn redacted(mut self, secrets: &[String]) -> CallPayload {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).filter(|s| s.len() >= 4).collect();
        if secrets.is_empty() {
            return self;
        }
        let scrub = |text: &mut String| {
            for s in &secrets {
                if text.contains(s) {
                    *text = text.replace(s, REDACTED);
                }
            }
        };
        let scrub_calls = |calls: &mut Vec<PayloadToolCall>| calls.iter_mut().for_each(|c| scrub(&mut c.arguments));
        if let Some(e) = self.endpoint.as_mut() {
            scrub(e);
        }
        for m in &mut self.messages {
            scrub(&mut m.content);
            scrub_calls(&mut m.tool_calls);
        }
        scrub(&mut self.response.content);
        scrub_calls(&mut self.response.tool_calls);
        self
    }

    /// The payload as stored: its JSON, zlib-compressed.
    pub fn compress(&self) -> CompressedPayload {
        let json = serde_json::to_vec(self).expect("a CallPayload serialises");
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&json).expect("writing to memory cannot fail");
        let body = encoder.finish().expect("writing to memory cannot fail");
        CompressedPayload { raw_bytes: json.len() as u64, body }
    }
}

/// A stored payload: the zlib-compressed JSON of a [`CallPayload`] and its size before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompressedPayload {
    /// The JSON's size in bytes.
    pub raw_bytes: u64,
    /// The zlib stream.
    pub body: Vec<u8>,
}

/// A stored payload that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The body is not a zlib stream.
    #[error("the stored payload is not zlib data: {0}")]
    Compression(#[from] std::io::Error),
    /// The body's JSON is not a payload.
    #[error("the stored payload is not a call payload: {0}")]
    Json(#[from] serde_json::Error),
}

impl CompressedPayload {
    /// The payload it holds.
    pub fn decompress(&self) -> Result<CallPayload, PayloadError> {
        let mut json = Vec::with_capacity(self.raw_bytes.min(64 << 20) as usize);
        flate2::read::ZlibDecoder::new(self.body.as_slice()).read_to_end(&mut json)?;
        Ok(serde_json::from_slice(&json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> CallPayload {
        CallPayload {
            model: "openai/gpt-4o-mini".into(),
            endpoint: Some("http://user:sk-SECRET@host/v1".into()),
            messages: vec![PayloadMessage {
                role: "user".into(),
                content: "my key is sk-SECRET, ".repeat(50),
                tool_calls: vec![PayloadToolCall { name: "t".into(), arguments: "{\"k\":\"sk-SECRET\"}".into() }],
                tool_call_id: None,
                name: None,
            }],
            tools: vec!["t".into()],
            response: PayloadResponse { content: "ok sk-SECRET".into(), tool_calls: vec![], finish_reason: Some("stop".into()) },
            started_at: 1,
            ended_at: 2,
        }
    }

    #[test]
    fn secrets_are_redacted_everywhere_and_short_ones_ignored() {
        let p = payload().redacted(&["sk-SECRET".into(), "ab".into()]);
        let text = serde_json::to_string(&p).unwrap();
        assert!(!text.contains("sk-SECRET"), "{text}");
        assert!(text.contains(REDACTED));
        assert_eq!(p.tools, vec!["t".to_string()]);
    }

    #[test]
    fn a_payload_comes_back_as_it_was_compressed() {
        let p = payload();
        let stored = p.compress();
        assert_eq!(stored.raw_bytes, serde_json::to_vec(&p).unwrap().len() as u64);
        assert!(stored.body.len() < stored.raw_bytes as usize);
        assert_eq!(stored.decompress().unwrap(), p);
        assert!(CompressedPayload { raw_bytes: 3, body: b"nope".to_vec() }.decompress().is_err());
    }

    #[test]
    fn the_setting_reads_its_names_and_defaults_to_full() {
        assert_eq!("metadata".parse::<TracePayloads>().unwrap(), TracePayloads::Metadata);
        assert_eq!(" FULL ".parse::<TracePayloads>().unwrap(), TracePayloads::Full);
        assert!("some".parse::<TracePayloads>().is_err());
        let vars = [(TRACE_PAYLOADS_VAR.to_string(), "metadata".to_string())].into_iter().collect();
        assert_eq!(TracePayloads::from_vars(&vars), TracePayloads::Metadata);
        assert_eq!(TracePayloads::from_vars(&Default::default()), TracePayloads::Full);
    }
}
