//! Builds one reply out of streamed chunks: text deltas (also passed to the sink), tool calls
//! assembled from their fragments by index, the finish reason, usage and model.

use std::collections::BTreeMap;

use super::wire::{WireChunk, WireUsage};
use crate::llm::{LlmError, LlmErrorKind, TokenSink, ToolCall};

/// The reply so far.
#[derive(Default)]
pub struct StreamAssembler {
    content: String,
    /// Tool calls by their `index`, fragments appended in arrival order.
    tool_calls: BTreeMap<u32, ToolCall>,
    finish_reason: Option<String>,
    usage: Option<WireUsage>,
    model: Option<String>,
    saw_choice: bool,
}

/// What a complete stream said.
#[derive(Debug, PartialEq)]
pub struct AssembledReply {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Option<WireUsage>,
    pub model: Option<String>,
}

impl StreamAssembler {
    /// Adds one chunk; text deltas of the first choice go to `sink` at once.
    pub fn push(&mut self, chunk: WireChunk, sink: Option<&TokenSink>) {
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = Some(model);
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            self.saw_choice = true;
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    if let Some(sink) = sink {
                        sink(&text);
                    }
                    self.content.push_str(&text);
                }
                for fragment in delta.tool_calls.unwrap_or_default() {
                    let index = fragment.index.unwrap_or(0);
                    let call = self.tool_calls.entry(index).or_insert_with(|| ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                    if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
                        call.id = id;
                    }
                    if let Some(function) = fragment.function {
                        if let Some(name) = function.name {
                            call.name.push_str(&name);
                        }
                        if let Some(arguments) = function.arguments {
                            call.arguments.push_str(&arguments);
                        }
                    }
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish_reason = Some(reason);
            }
        }
    }

    /// The reply, once the stream ended. A stream without any choice is an
    /// `InvalidResponse`; one that ended before a finish reason was cut (`Connection`).
    pub fn finish(self, api_base: &str) -> Result<AssembledReply, LlmError> {
        if !self.saw_choice {
            return Err(LlmError::new(LlmErrorKind::InvalidResponse, format!("{api_base}: the reply stream had no choices")));
        }
        if self.finish_reason.is_none() {
            return Err(LlmError::new(
                LlmErrorKind::Connection,
                format!("{api_base}: the reply stream ended before the reply was complete"),
            ));
        }
        let tool_calls = self
            .tool_calls
            .into_iter()
            .map(|(index, mut call)| {
                if call.id.is_empty() {
                    call.id = format!("call_{index}");
                }
                call
            })
            .collect();
        Ok(AssembledReply { content: self.content, tool_calls, finish_reason: self.finish_reason, usage: self.usage, model: self.model })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn chunk(json: &str) -> WireChunk {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn text_deltas_reach_the_sink_and_the_reply() {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen2 = seen.clone();
        let sink: TokenSink = Arc::new(move |t: &str| seen2.lock().unwrap().push(t.to_string()));
        let mut a = StreamAssembler::default();
        a.push(chunk(r#"{"model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#), Some(&sink));
        a.push(chunk(r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#), Some(&sink));
        a.push(chunk(r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#), Some(&sink));
        a.push(chunk(r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#), Some(&sink));
        let reply = a.finish("b").unwrap();
        assert_eq!(reply.content, "Hello");
        assert_eq!(*seen.lock().unwrap(), vec!["Hel", "lo"]);
        assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
        assert_eq!(reply.usage.unwrap().total_tokens, Some(5));
        assert_eq!(reply.model.as_deref(), Some("m1"));
    }

    #[test]
    fn tool_call_fragments_are_joined_by_index() {
        let mut a = StreamAssembler::default();
        a.push(
            chunk(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c0","function":{"name":"sea","arguments":""}}]}}]}"#),
            None,
        );
        a.push(chunk(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c1","function":{"name":"calc","arguments":"{\"x\""}}]}}]}"#), None);
        a.push(
            chunk(
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"rch","arguments":"{\"q\":\"a\"}"}}]}}]}"#,
            ),
            None,
        );
        a.push(chunk(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}"#), None);
        let reply = a.finish("b").unwrap();
        assert_eq!(
            reply.tool_calls,
            vec![
                ToolCall { id: "c0".into(), name: "search".into(), arguments: r#"{"q":"a"}"#.into() },
                ToolCall { id: "c1".into(), name: "calc".into(), arguments: r#"{"x":1}"#.into() },
            ]
        );
    }

    #[test]
    fn incomplete_streams_are_errors() {
        let mut a = StreamAssembler::default();
        a.push(chunk(r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#), None);
        assert_eq!(a.finish("b").unwrap_err().kind, LlmErrorKind::Connection);
        let mut a = StreamAssembler::default();
        a.push(chunk(r#"{"choices":[]}"#), None);
        assert_eq!(a.finish("b").unwrap_err().kind, LlmErrorKind::InvalidResponse);
    }
}
