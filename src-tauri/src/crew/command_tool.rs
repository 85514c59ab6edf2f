//! Command tools a crew declares (`command_tools:`): any program becomes a tool.
//!
//! ```yaml
//! command_tools:
//!   word_count:
//!     description: Counts the words of a text
//!     command: ["python3", "scripts/wc.py"]
//!     input_schema: {type: object, properties: {text: {type: string}}, required: [text]}
//!     timeout_secs: 30          # default 60
//!     max_output_bytes: 65536   # default 64 KiB
//! ```
//!
//! An agent (or a task) names it in its `tools:` like a built-in tool.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::diagnostic::Findings;
use super::document::Node;
use super::fields::Fields;

/// Seconds a command tool may run when its declaration gives no `timeout_secs`.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 60;
/// Bytes of output kept when a declaration gives no `max_output_bytes`.
pub const DEFAULT_COMMAND_OUTPUT_BYTES: usize = 64 * 1024;

/// One command tool: run `command` in the workspace with the model's arguments as JSON on stdin;
/// its stdout is the result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct CommandToolSpec {
    /// Shown to the model.
    pub description: String,
    /// The program and its arguments (no shell); a relative program path with a `/` is taken
    /// from the workspace.
    pub command: Vec<String>,
    /// The JSON Schema of the tool's input (an object); `{}` = any object.
    #[serde(default = "any_object")]
    pub input_schema: serde_json::Value,
    /// Seconds before the command (its whole process group) is killed.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Bytes of stdout (and of the stderr tail on failure) kept; the rest is cut with a note.
    #[serde(default)]
    pub max_output_bytes: Option<usize>,
}

fn any_object() -> serde_json::Value {
    serde_json::json!({"type": "object"})
}

/// Reads `command_tools:` (a mapping of tool names to declarations); bad entries are errors and
/// left out.
pub(crate) fn read_command_tools(fields: &Fields, findings: &mut Findings) -> BTreeMap<String, CommandToolSpec> {
    let parse = |node: &Node| -> Result<CommandToolSpec, String> {
        let spec: CommandToolSpec = serde_json::from_value(node.to_json()).map_err(|e| e.to_string())?;
        if spec.command.first().is_none_or(|p| p.trim().is_empty()) {
            return Err("`command` must name a program".into());
        }
        if !spec.input_schema.is_object() {
            return Err("`input_schema` must be a JSON Schema object".into());
        }
        Ok(spec)
    };
    fields.named_map("command_tools", "tool names to commands", parse, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declaration_gets_an_object_schema_by_default_and_refuses_unknown_fields() {
        let spec: CommandToolSpec = serde_json::from_value(serde_json::json!({"description": "d", "command": ["true"]})).unwrap();
        assert_eq!(spec.input_schema, serde_json::json!({"type": "object"}));
        assert!(
            serde_json::from_value::<CommandToolSpec>(serde_json::json!({"description": "d", "command": ["x"], "shell": true})).is_err()
        );
    }
}
