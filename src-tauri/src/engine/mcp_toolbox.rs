//! The MCP tools an agent gets for a task: those of the servers its `mcps:` attach, connected on
//! first need, or on `--replay` stubs answering with the recorded results (no server started).

use std::sync::Arc;

use serde_json::json;

use super::run::Run;
use super::tools::replayed::{offered_tools, ReplayedTool};
use super::tools::{Tool, ASK_QUESTION, DELEGATE_WORK};
use crate::crew::tools::entry_for;
use crate::crew::AgentSpec;
use crate::execution::{EventKind, ExecutionError, LogEvent};
use crate::llm::ToolTape;

/// The tools of `agent`'s MCP servers for `task_key`; each server connected now is logged with
/// its process group and tools. A server that fails to start fails with a retryable `Tool` error
/// naming it and its stderr tail.
///
/// On `--replay`: no server is started; the tools the recording offered for this task that are not
/// built-in, command or delegation tools stand in, answered from the recording's tool results.
///
/// Cancellation: dropping the future stops connecting; a server being started is killed.
pub async fn mcp_tools(run: &Run, agent: &AgentSpec, task_key: &str) -> Result<Vec<Arc<dyn Tool>>, ExecutionError> {
    if agent.mcps.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(ToolTape::Replay(book)) = run.models.tool_tape() {
        let stubs = offered_tools(&book, task_key)
            .into_iter()
            .filter(|d| entry_for(&d.name).is_none() && !run.spec.command_tools.contains_key(&d.name))
            .filter(|d| d.name != DELEGATE_WORK && d.name != ASK_QUESTION)
            .map(|definition| Arc::new(ReplayedTool { definition }) as Arc<dyn Tool>)
            .collect();
        return Ok(stubs);
    }
    let tools = run
        .mcp
        .tools_for(&agent.mcps, |c| {
            let pid = c.pgid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            run.log(
                LogEvent::info(EventKind::AgentStep, format!("MCP server `{}` connected{pid}: {} tools", c.server, c.tools.len()))
                    .with_task(task_key)
                    .with_agent(agent.role.clone())
                    .with_data(json!({"mcp_server": c.server, "pgid": c.pgid, "tools": c.tools})),
            )
        })
        .await?;
    Ok(tools)
}
