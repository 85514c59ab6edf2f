//! Tools on `--replay`: tools whose results come from the recording instead of being run, so a
//! replayed execution starts no MCP server.
//!
//! A recording holds every request sent to the model; a request after a native tool call carries
//! the call (name and arguments, in the assistant message) and its result (the `tool` message
//! answering it). [`ToolReplay`] finds them there, so recording needs nothing extra. It is
//! generic over tools: any tool built as a [`ReplayedTool`] is served this way.

use std::sync::Arc;

use super::{Tool, ToolError};
use crate::execution::{BoxFuture, ErrorKind, ExecutionError};
use crate::llm::{ReplayBook, Role, ToolDef};

/// A recording, read for the tools it offered and the results they gave.
pub struct ToolReplay {
    book: Arc<ReplayBook>,
}

impl ToolReplay {
    pub fn new(book: Arc<ReplayBook>) -> ToolReplay {
        ToolReplay { book }
    }

    /// The tools offered in the first recorded request of task `label` that offered any, in the
    /// order offered; empty when there is none.
    pub fn offered(&self, label: &str) -> Vec<ToolDef> {
        self.book
            .exchanges()
            .iter()
            .find(|e| e.request.label.as_deref() == Some(label) && !e.request.tools.is_empty())
            .map(|e| e.request.tools.clone())
            .unwrap_or_default()
    }

    /// The recorded result of calling `tool` with `arguments` (compared as JSON), if recorded.
    pub fn result(&self, tool: &str, arguments: &serde_json::Value) -> Option<String> {
        for exchange in self.book.exchanges() {
            let messages = &exchange.request.messages;
            for message in messages.iter().filter(|m| m.role == Role::Assistant) {
                for call in message.tool_calls.iter().filter(|c| c.name == tool) {
                    let recorded: serde_json::Value = serde_json::from_str(&call.arguments).unwrap_or(serde_json::Value::Null);
                    if &recorded != arguments {
                        continue;
                    }
                    let answer = messages.iter().find(|m| m.role == Role::Tool && m.tool_call_id.as_deref() == Some(call.id.as_str()));
                    if let Some(answer) = answer {
                        return Some(answer.content.clone());
                    }
                }
            }
        }
        None
    }
}

/// A tool that answers with recorded results.
pub struct ReplayedTool {
    pub definition: ToolDef,
    pub replay: Arc<ToolReplay>,
}

impl Tool for ReplayedTool {
    fn definition(&self) -> ToolDef {
        self.definition.clone()
    }

    /// The recorded result; a call the recording does not hold fails the run (`ReplayMismatch`).
    ///
    /// Cancellation: completes on first poll.
    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            self.replay.result(&self.definition.name, &arguments).ok_or_else(|| {
                ToolError::Run(ExecutionError::new(
                    ErrorKind::ReplayMismatch,
                    format!("replay: the recording has no result of tool `{}` called with {arguments}", self.definition.name),
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatMessage, ChatRequest, ChatResponse, Exchange, ToolCall};

    #[tokio::test]
    async fn results_come_from_the_request_after_the_call() {
        let def = ToolDef { name: "echo".into(), description: "d".into(), parameters: serde_json::json!({"type": "object"}) };
        let call = ToolCall { id: "c1".into(), name: "echo".into(), arguments: "{\"message\": \"hi\"}".into() };
        let mut answer = ChatMessage::user("x");
        answer.role = Role::Tool;
        answer.content = "Echo: hi".into();
        answer.tool_call_id = Some("c1".into());
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage::user("go"), ChatMessage::assistant(String::new(), vec![call]), answer],
            tools: vec![def.clone()],
            temperature: None,
            stream: false,
            label: Some("t".into()),
        };
        let exchange =
            Exchange { hash: String::new(), label: Some("t".into()), model: "m".into(), request, response: ChatResponse::default() };
        let text = serde_json::to_string(&exchange).unwrap();
        let book = ReplayBook::parse(std::path::Path::new("rec.jsonl"), &text).unwrap();
        let replay = Arc::new(ToolReplay::new(Arc::new(book)));
        assert_eq!(replay.offered("t"), vec![def.clone()]);
        let tool = ReplayedTool { definition: def, replay };
        assert_eq!(tool.call(serde_json::json!({"message": "hi"})).await.unwrap(), "Echo: hi");
        assert!(
            matches!(tool.call(serde_json::json!({"message": "other"})).await, Err(ToolError::Run(e)) if e.kind == ErrorKind::ReplayMismatch)
        );
    }
}
