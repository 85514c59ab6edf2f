//! MCP client for native crews, on the official Rust SDK (`rmcp`): the servers a crew declares
//! (`mcp_servers:`), connected when an agent that attaches them (`mcps:`) first needs them, and
//! their tools offered to the model like built-in ones.
//!
//! - [`McpSessions`]: one execution's connections, by server; closing or dropping it ends them.
//! - [`connection`]: connecting (stdio child in its own process group, or streamable HTTP),
//!   listing and calling tools.
//! - [`McpTool`]: one server tool as a [`Tool`](super::Tool).
//! - [`probe`]: `validate`'s check of each server (connect, list tools, end).

pub mod connection;
mod env_vars;
pub mod probe;
mod sessions;
mod tool;

pub use connection::{McpConnection, CONNECT_TIMEOUT};
pub use sessions::McpSessions;
pub use tool::McpTool;

use crate::execution::{ErrorKind, ExecutionError};

/// Why an MCP server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The server's declaration cannot be used (an unset `${VAR}`, a bad header). Not retryable.
    #[error("MCP server `{server}`: {reason}")]
    Config { server: String, reason: String },
    /// An agent names a server the crew does not declare. Not retryable.
    #[error("MCP server `{0}` is not declared in the crew's mcp_servers")]
    Unknown(String),
    /// The server could not be started or did not complete `initialize`/`tools/list` in time;
    /// `stderr` is the tail of a stdio server's stderr. Retryable.
    #[error("MCP server `{server}` failed to start: {reason}{}", stderr_note(stderr))]
    Start { server: String, reason: String, stderr: String },
    /// The connection broke or the server died during a call. Retryable.
    #[error("MCP server `{server}` stopped working: {reason}{}", stderr_note(stderr))]
    Broken { server: String, reason: String, stderr: String },
}

fn stderr_note(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("; its stderr ended with:\n{}", stderr.trim_end())
    }
}

impl From<McpError> for ExecutionError {
    /// `Tool` errors; a server that failed to start or broke is retryable (a later attempt starts
    /// it afresh), a bad declaration is not.
    fn from(e: McpError) -> Self {
        let (server, retryable) = match &e {
            McpError::Config { server, .. } => (server.clone(), false),
            McpError::Unknown(server) => (server.clone(), false),
            McpError::Start { server, .. } | McpError::Broken { server, .. } => (server.clone(), true),
        };
        let mut error = ExecutionError::new(ErrorKind::Tool, e.to_string()).with_details(serde_json::json!({"mcp_server": server}));
        error.retryable = retryable;
        error
    }
}
