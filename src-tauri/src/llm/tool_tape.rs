//! Tool results in a recording: with `--record`, each result of a tool that reaches outside the
//! run (a network tool, an MCP server: see `Tool::kept_in_recordings`) is appended to the
//! recording as a `{"tool_result": …}` line; with `--replay`, those results are served back
//! instead of calling the tool, so a replay needs no server and no network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::record::RecordFile;
use super::replay::ReplayBook;
use super::{LlmError, LlmErrorKind};

/// One tool result kept in a recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResultRecord {
    /// The task that called the tool.
    pub label: Option<String>,
    pub tool: String,
    /// The model's arguments as it wrote them.
    pub arguments: String,
    /// The text the model got.
    pub output: String,
}

/// A recording line holding a tool result (`{"tool_result": {…}}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResultLine {
    pub tool_result: ToolResultRecord,
}

/// A tool call as replay looks it up: the task's label, the tool's name, the arguments' text.
type CallKey = (Option<String>, String, String);

/// The recorded tool results of a replay, served per (task, tool, arguments) in recorded order,
/// the last one repeating once they are used up.
#[derive(Debug, Default)]
pub struct ToolResults {
    by_call: HashMap<CallKey, Vec<String>>,
    served: Mutex<HashMap<CallKey, usize>>,
}

impl ToolResults {
    /// Adds a recorded result.
    pub fn push(&mut self, r: ToolResultRecord) {
        self.by_call.entry((r.label, r.tool, r.arguments)).or_default().push(r.output);
    }

    /// The next recorded output for this call, if any was recorded.
    pub fn next(&self, label: Option<&str>, tool: &str, arguments: &str) -> Option<String> {
        let key = (label.map(str::to_string), tool.to_string(), arguments.to_string());
        let outputs = self.by_call.get(&key)?;
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        let count = served.entry(key).or_insert(0);
        let output = outputs[(*count).min(outputs.len() - 1)].clone();
        *count += 1;
        Some(output)
    }
}

/// Where a run's tool results go or come from.
#[derive(Clone, Debug)]
pub enum ToolTape {
    /// `--record`: results are appended to the recording.
    Record(Arc<RecordFile>),
    /// `--replay`: results are served from the recording.
    Replay(Arc<ReplayBook>),
}

impl ToolTape {
    /// With `--replay`: the recorded output of this call, or a `ReplayMismatch` error naming
    /// the call when the recording has none. With `--record`: `None` (the tool runs).
    pub fn replayed(&self, label: Option<&str>, tool: &str, arguments: &str) -> Option<Result<String, LlmError>> {
        let ToolTape::Replay(book) = self else { return None };
        Some(book.tool_result(label, tool, arguments).ok_or_else(|| {
            let task = label.map(|l| format!("task `{l}`")).unwrap_or_else(|| "a call without a task".into());
            LlmError::new(
                LlmErrorKind::ReplayMismatch,
                format!("replay: {} has no result for tool `{tool}` with arguments {arguments} in {task}", book.path().display()),
            )
        }))
    }

    /// With `--record`: appends the call's output to the recording. With `--replay`: nothing.
    pub fn keep(&self, label: Option<&str>, tool: &str, arguments: &str, output: &str) -> Result<(), LlmError> {
        let ToolTape::Record(file) = self else { return Ok(()) };
        let line = ToolResultLine {
            tool_result: ToolResultRecord {
                label: label.map(str::to_string),
                tool: tool.to_string(),
                arguments: arguments.to_string(),
                output: output.to_string(),
            },
        };
        file.append_line(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_results_are_served_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let tape = ToolTape::Record(Arc::new(RecordFile::open(&path).unwrap()));
        assert!(tape.replayed(Some("t"), "serper_search", "{}").is_none());
        tape.keep(Some("t"), "serper_search", r#"{"search_query":"a"}"#, "first").unwrap();
        tape.keep(Some("t"), "serper_search", r#"{"search_query":"a"}"#, "second").unwrap();
        let replay = ToolTape::Replay(Arc::new(ReplayBook::load(&path).unwrap()));
        let served = |args: &str| replay.replayed(Some("t"), "serper_search", args).unwrap();
        assert_eq!(served(r#"{"search_query":"a"}"#).unwrap(), "first");
        assert_eq!(served(r#"{"search_query":"a"}"#).unwrap(), "second");
        assert_eq!(served(r#"{"search_query":"a"}"#).unwrap(), "second");
        let miss = served(r#"{"search_query":"b"}"#).unwrap_err();
        assert_eq!(miss.kind, LlmErrorKind::ReplayMismatch);
        assert!(miss.message.contains("no result for tool `serper_search`"), "{}", miss.message);
        replay.keep(Some("t"), "x", "{}", "ignored").unwrap();
    }
}
