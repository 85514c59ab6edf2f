//! A task's output rules: `output_json` (must parse) and `output_file` (written atomically inside
//! the workspace).

use super::react::strip_code_fence;
use super::tools::Workspace;
use crate::execution::{ErrorKind, ExecutionError};

/// The output as stored and its parsed JSON (`null` unless `output_json`).
///
/// With `output_json`, a surrounding ```` ```json ```` fence is removed and the rest must parse as
/// JSON, else the task fails with [`ErrorKind::Output`] (not retryable); the stored text is the
/// unfenced JSON.
pub fn checked_output(task: &str, answer: &str, output_json: bool) -> Result<(String, serde_json::Value), ExecutionError> {
    if !output_json {
        return Ok((answer.to_string(), serde_json::Value::Null));
    }
    let body = strip_code_fence(answer);
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => Ok((body.to_string(), json)),
        Err(e) => Err(ExecutionError::new(
            ErrorKind::Output,
            format!("task `{task}` must answer with JSON (output_json), but its answer does not parse: {e}"),
        )
        .with_details(serde_json::json!({"task": task, "output": truncate(answer, 2000)}))),
    }
}

/// Writes a task's output to `path` inside the workspace, atomically.
pub fn write_output_file(workspace: &Workspace, task: &str, path: &str, output: &str) -> Result<std::path::PathBuf, ExecutionError> {
    workspace.write_atomic(path, output).map_err(|e| {
        ExecutionError::new(ErrorKind::Output, format!("task `{task}`: cannot write output_file: {e}"))
            .with_details(serde_json::json!({"task": task, "output_file": path}))
    })
}

/// At most `max` bytes of `text` (cut on a char boundary), with a note when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes in all]", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_is_unfenced_and_parsed() {
        let (text, json) = checked_output("t", "```json\n{\"a\": 1}\n```", true).unwrap();
        assert_eq!(text, "{\"a\": 1}");
        assert_eq!(json, serde_json::json!({"a": 1}));
        let err = checked_output("t", "not json", true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Output);
        assert!(!err.retryable);
        assert_eq!(checked_output("t", "not json", false).unwrap().1, serde_json::Value::Null);
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("abc", 5), "abc");
        assert!(truncate("ééé", 3).starts_with("é…"));
    }
}
