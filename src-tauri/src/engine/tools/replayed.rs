//! Stand-ins on `--replay` for tools whose servers a replay does not start (MCP tools): the
//! definitions the recording offered the model, with results served from the recording by the
//! agent loop's tool tape (they are [kept in recordings](super::Tool::kept_in_recordings)).

use super::{Tool, ToolError};
use crate::execution::BoxFuture;
use crate::llm::{ReplayBook, ToolDef};

/// The tools offered in the first recorded request of task `label` that offered any, in the order
/// offered; empty when there is none.
pub fn offered_tools(book: &ReplayBook, label: &str) -> Vec<ToolDef> {
    book.exchanges()
        .iter()
        .find(|e| e.request.label.as_deref() == Some(label) && !e.request.tools.is_empty())
        .map(|e| e.request.tools.clone())
        .unwrap_or_default()
}

/// A recorded tool: offered as recorded, answered from the recording.
pub struct ReplayedTool {
    pub definition: ToolDef,
}

impl Tool for ReplayedTool {
    fn definition(&self) -> ToolDef {
        self.definition.clone()
    }

    /// Not reached on a replay (the tape answers, or fails the run with a `ReplayMismatch` for a
    /// call it lacks); refuses if called otherwise.
    ///
    /// Cancellation: completes on first poll.
    fn call(&self, _arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move { Err(ToolError::Refused(format!("tool `{}` is only available from a recording", self.definition.name))) })
    }

    fn kept_in_recordings(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatMessage, ChatRequest, ChatResponse, Exchange};

    #[test]
    fn the_tools_of_the_tasks_first_request_that_offered_any() {
        let def = ToolDef { name: "echo".into(), description: "d".into(), parameters: serde_json::json!({"type": "object"}) };
        let request = |label: &str, tools: Vec<ToolDef>| ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage::user("go")],
            tools,
            temperature: None,
            stream: false,
            label: Some(label.into()),
            response_format: None,
        };
        let line = |r: ChatRequest| {
            serde_json::to_string(&Exchange {
                hash: String::new(),
                label: r.label.clone(),
                model: "m".into(),
                request: r,
                response: ChatResponse::default(),
            })
            .unwrap()
        };
        let text = [line(request("t", vec![])), line(request("t", vec![def.clone()])), line(request("u", vec![]))].join("\n");
        let book = ReplayBook::parse(std::path::Path::new("rec.jsonl"), &text).unwrap();
        assert_eq!(offered_tools(&book, "t"), vec![def]);
        assert!(offered_tools(&book, "u").is_empty());
    }
}
