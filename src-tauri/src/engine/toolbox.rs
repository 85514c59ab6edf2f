//! The tools an agent gets for a task: the task's tools when it names any, else the agent's, plus
//! the delegation tools when the agent may delegate.

use std::sync::Arc;

use super::delegation::TaskDelegator;
use super::run::Run;
use super::tools::web::{network_tool, FetchPolicy};
use super::tools::{
    ConstructorArgs, DataFormat, DataSearchTool, DelegationTool, DelegationToolKind, ListDirectoryTool, ReadFileTool, Tool, WriteFileTool,
};
use crate::crew::tools::{entry_for, BuiltinTool};
use crate::crew::{AgentSpec, ToolUse};
use crate::execution::{ExecutionError, LogEvent};

/// The built-in tools named in `names`, each built with its constructor arguments (a name met
/// twice gives one tool, the first). Skipped with a warning: names outside the catalogue, and
/// network tools when the crew's `allow_network_tools` is off (a snapshot taken before the loader
/// dropped them). Network tools follow the crew's `allow_private_network`.
pub fn builtin_tools(run: &Run, agent: &AgentSpec, task_key: &str, names: &[ToolUse]) -> Result<Vec<Arc<dyn Tool>>, ExecutionError> {
    let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
    let mut seen = Vec::new();
    let warn = |message: String| run.log(LogEvent::warning(message).with_task(task_key).with_agent(agent.role.clone()));
    for tool in names {
        let name = &tool.name;
        let Some(entry) = entry_for(name) else {
            warn(format!("tool `{name}` is not available in Crew Runner; agent `{}` runs without it", agent.role));
            continue;
        };
        if seen.contains(&entry.tool) {
            continue;
        }
        seen.push(entry.tool);
        let args = ConstructorArgs(&tool.args);
        if entry.network && !run.spec.allow_network_tools {
            warn(format!("tool `{}` needs the network; not available (network tools are off), dropped", entry.crewai[0]));
            continue;
        }
        let policy = FetchPolicy::new(run.spec.allow_private_network);
        let built: Option<Arc<dyn Tool>> = match entry.tool {
            BuiltinTool::ReadFile => Some(Arc::new(ReadFileTool { workspace: run.workspace()?, file_path: args.text("file_path") })),
            BuiltinTool::WriteFile => Some(Arc::new(WriteFileTool { workspace: run.workspace()? })),
            BuiltinTool::ListDirectory => {
                Some(Arc::new(ListDirectoryTool { workspace: run.workspace()?, directory: args.text("directory") }))
            }
            BuiltinTool::CsvSearch => Some(Arc::new(DataSearchTool::new(run.workspace()?, DataFormat::Csv, args))),
            BuiltinTool::JsonSearch => Some(Arc::new(DataSearchTool::new(run.workspace()?, DataFormat::Json, args))),
            BuiltinTool::SerperSearch
            | BuiltinTool::BraveSearch
            | BuiltinTool::TavilySearch
            | BuiltinTool::ScrapeWebsite
            | BuiltinTool::WebsiteSearch => network_tool(entry, args, policy),
        };
        tools.extend(built);
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
