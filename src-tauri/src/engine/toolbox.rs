//! The tools an agent gets for a task: the task's tools when it names any, else the agent's (built
//! in or the crew's command tools), the tools of the MCP servers it attaches (`mcps:`), plus the
//! delegation tools when the agent may delegate.

use std::sync::Arc;

use super::delegation::TaskDelegator;
use super::run::Run;
use super::tools::command::CommandTool;
use super::tools::{builtin_tool, BuiltinTool, DelegationTool, DelegationToolKind, ListDirectoryTool, ReadFileTool, Tool, WriteFileTool};
use crate::crew::{AgentSpec, ToolUse};
use crate::execution::{ExecutionError, LogEvent};

/// The tools named in `names` (built-in and command tools) and those of the agent's MCP servers,
/// connecting the servers not yet connected in this execution (each new connection is logged).
///
/// Cancellation: dropping the future stops connecting; a server being started is killed.
pub async fn agent_tools(run: &Run, agent: &AgentSpec, task_key: &str, names: &[ToolUse]) -> Result<Vec<Arc<dyn Tool>>, ExecutionError> {
    let mut tools = file_tools(run, agent, task_key, names)?;
    tools.extend(super::mcp_toolbox::mcp_tools(run, agent, task_key).await?);
    Ok(tools)
}

/// The built-in and command tools named in `names` (unknown names are skipped with a warning).
pub fn file_tools(run: &Run, agent: &AgentSpec, task_key: &str, names: &[ToolUse]) -> Result<Vec<Arc<dyn Tool>>, ExecutionError> {
    let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
    let mut seen = Vec::new();
    for tool in names {
        let name = &tool.name;
        if let Some(spec) = run.spec.command_tools.get(name) {
            if !tools.iter().any(|t| t.definition().name == *name) {
                let workspace = std::path::PathBuf::from(&run.spec.workspace);
                tools.push(Arc::new(CommandTool { name: name.clone(), spec: spec.clone(), workspace }));
            }
            continue;
        }
        let Some(kind) = builtin_tool(name) else {
            run.log(
                LogEvent::warning(format!("tool `{name}` is not available in Crew Runner; agent `{}` runs without it", agent.role))
                    .with_task(task_key)
                    .with_agent(agent.role.clone()),
            );
            continue;
        };
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        let workspace = run.workspace()?;
        tools.push(match kind {
            BuiltinTool::ReadFile => Arc::new(ReadFileTool { workspace }),
            BuiltinTool::WriteFile => Arc::new(WriteFileTool { workspace }),
            BuiltinTool::ListDirectory => Arc::new(ListDirectoryTool { workspace }),
        });
    }
    Ok(tools)
}

/// Both delegation tools over `coworkers`, backed by `delegator`.
pub fn delegation_tools(coworkers: Vec<String>, delegator: Arc<TaskDelegator>) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(DelegationTool { kind: DelegationToolKind::DelegateWork, coworkers: coworkers.clone(), delegator: delegator.clone() }),
        Arc::new(DelegationTool { kind: DelegationToolKind::AskQuestion, coworkers, delegator }),
    ]
}
