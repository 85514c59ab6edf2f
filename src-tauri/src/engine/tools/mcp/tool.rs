//! One tool of a connected MCP server, offered to the model as the server describes it.

use std::sync::Arc;

use super::McpConnection;
use crate::engine::tools::{Tool, ToolError};
use crate::execution::{BoxFuture, ExecutionError};
use crate::llm::ToolDef;

/// A server tool: its name, description and input schema as listed, called over `connection`.
pub struct McpTool {
    pub connection: Arc<McpConnection>,
    pub definition: ToolDef,
}

impl McpTool {
    /// The tool `info` of `connection`, as the model sees it.
    pub fn new(connection: Arc<McpConnection>, info: &rmcp::model::Tool) -> McpTool {
        let definition = ToolDef {
            name: info.name.to_string(),
            description: info.description.as_deref().unwrap_or_default().to_string(),
            parameters: serde_json::Value::Object((*info.input_schema).clone()),
        };
        McpTool { connection, definition }
    }
}

impl Tool for McpTool {
    fn definition(&self) -> ToolDef {
        self.definition.clone()
    }

    /// Calls the server. A server that broke or died ends the run with a retryable `Tool` error
    /// naming it (with its stderr tail); the server's own errors are `Error: …` text.
    ///
    /// Cancellation: dropping the future abandons the call.
    fn call(&self, arguments: serde_json::Value) -> BoxFuture<'_, Result<String, ToolError>> {
        Box::pin(async move {
            self.connection.call(&self.definition.name, arguments).await.map_err(|e| ToolError::Run(ExecutionError::from(e)))
        })
    }

    /// A server is outside the run: `--record` keeps its results, `--replay` serves them.
    fn kept_in_recordings(&self) -> bool {
        true
    }
}
