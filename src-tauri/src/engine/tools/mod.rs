//! Tools agents can call: the workspace file tools, the workspace data searches, the network tools
//! ([`web`]), the hierarchical delegation tools, the crew's command tools ([`command`]), MCP server
//! tools ([`mcp`]), and on `--replay` stand-ins for MCP tools ([`replayed`]). Which tool a crew's
//! name means is [`crate::crew::tools`]'s catalogue. [`process_group`] runs the child processes
//! tools start.
//!
//! A tool failure the agent can recover from (a bad path, invalid arguments, an unknown coworker)
//! is returned to the model as the tool result text `Error: …`; only [`ToolError::Run`] (the
//! delegated coworker's run itself failed, e.g. its LLM call) stops the run.

#[cfg(unix)]
mod beneath;
pub mod command;
mod constructor;
mod data_search;
mod delegation;
mod file_tools;
pub mod mcp;
pub mod passages;
pub mod process_group;
pub mod replayed;
pub(crate) mod stderr_tail;
pub mod web;
mod workspace;

pub use constructor::ConstructorArgs;
pub use data_search::{DataFormat, DataSearchTool};
pub use delegation::{DelegationTool, DelegationToolKind, Delegator, ASK_QUESTION, DELEGATE_WORK};
pub use file_tools::{ListDirectoryTool, ReadFileTool, WriteFileTool};
pub use workspace::{Workspace, WorkspaceError, MAX_READ_BYTES};

use crate::execution::{BoxFuture, ExecutionError};
use crate::llm::ToolDef;

/// Why a tool call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not match the tool's schema (missing field, wrong type, not JSON).
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The workspace refused the path or the file operation failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The tool refused the request (unknown coworker, delegation limit reached, a missing API
    /// key, a file that does not parse).
    #[error("{0}")]
    Refused(String),
    /// A network tool's request was refused by the fetch policy or failed.
    #[error(transparent)]
    Fetch(#[from] web::FetchError),
    /// Work the tool started failed in a way that ends the run (a coworker's LLM call failed).
    #[error(transparent)]
    Run(ExecutionError),
}

/// A tool an agent can call.
pub trait Tool: Send + Sync {
    /// The name, description and JSON Schema offered to the model.
    fn definition(&self) -> ToolDef;

    /// Runs the tool with the model's arguments (a JSON object).
    ///
    /// Cancellation: dropping the future abandons the call; file tools finish synchronously on
    /// first poll, delegations stop at their next await.
    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>>;

    /// Whether `--record` keeps this tool's results and `--replay` serves them instead of calling
    /// the tool: true for tools that reach outside the run (network, servers), so a replay needs
    /// neither; false (the default) for tools whose effect is the run's own (workspace files,
    /// delegation, whose coworker's LLM calls are recorded themselves).
    fn kept_in_recordings(&self) -> bool {
        false
    }
}

/// Reads a required string field from a tool's arguments.
pub(crate) fn required_str<'a>(arguments: &'a serde_json::Value, field: &str) -> Result<&'a str, ToolError> {
    arguments.get(field).and_then(|v| v.as_str()).ok_or_else(|| ToolError::InvalidArguments(format!("`{field}` (a string) is required")))
}

/// Reads an optional string field from a tool's arguments.
pub(crate) fn optional_str<'a>(arguments: &'a serde_json::Value, field: &str) -> Result<Option<&'a str>, ToolError> {
    match arguments.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ToolError::InvalidArguments(format!("`{field}` must be a string"))),
    }
}

/// The value of a string argument the crew may fix at construction (`website_url`, `csv`, …):
/// the fixed value when there is one, else the model's `field`, else an invalid-arguments error.
pub(crate) fn fixed_or_given(fixed: Option<&str>, arguments: &serde_json::Value, field: &str) -> Result<String, ToolError> {
    match (fixed, optional_str(arguments, field)?) {
        (Some(fixed), _) => Ok(fixed.to_string()),
        (None, Some(given)) => Ok(given.to_string()),
        (None, None) => Err(ToolError::InvalidArguments(format!("`{field}` (a string) is required"))),
    }
}
