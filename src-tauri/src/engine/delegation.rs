//! Running a coworker for an agent that delegates (the hierarchical manager, or a sequential agent
//! with `allow_delegation`).
//!
//! The coworker runs its own agent loop on the delegated task (or question) with the shared
//! context and its own file tools, but without delegation tools (no delegation chains). Its usage
//! is counted in the delegating task's ledger. At most [`MAX_DELEGATIONS_PER_TASK`] delegations
//! per task; beyond that the tool answers with an error asking for the final answer.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::agent_loop::{run_agent, AgentJob};
use super::prompts::DELEGATED_EXPECTED_OUTPUT;
use super::run::Run;
use super::toolbox::builtin_tools;
use super::tools::{DelegationToolKind, Delegator, ToolError};
use super::usage_ledger::UsageLedger;
use crate::execution::{BoxFuture, EventKind, LogEvent};

/// Most delegations (work or questions) one task may make.
pub const MAX_DELEGATIONS_PER_TASK: u32 = 10;

/// Delegates for one task.
pub struct TaskDelegator {
    pub run: Arc<Run>,
    pub task_key: String,
    /// The delegating agent's role.
    pub from_role: String,
    pub ledger: Arc<UsageLedger>,
    count: AtomicU32,
}

impl TaskDelegator {
    pub fn new(run: Arc<Run>, task_key: String, from_role: String, ledger: Arc<UsageLedger>) -> Self {
        TaskDelegator { run, task_key, from_role, ledger, count: AtomicU32::new(0) }
    }

    /// Delegations made so far.
    pub fn count(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }

    async fn run_coworker(&self, kind: DelegationToolKind, coworker: &str, request: &str, context: &str) -> Result<String, ToolError> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if n > MAX_DELEGATIONS_PER_TASK {
            return Err(ToolError::Refused(format!(
                "the limit of {MAX_DELEGATIONS_PER_TASK} delegations for this task is reached; give your Final Answer now"
            )));
        }
        let agent = self
            .run
            .spec
            .agents
            .iter()
            .find(|a| a.role == coworker)
            .cloned()
            .ok_or_else(|| ToolError::Refused(format!("there is no coworker named `{coworker}`")))?;
        let what = match kind {
            DelegationToolKind::DelegateWork => "work",
            DelegationToolKind::AskQuestion => "question",
        };
        self.run.log(
            LogEvent::info(EventKind::Delegation, format!("{} → {}: {}", self.from_role, agent.role, first_line(request)))
                .with_task(self.task_key.clone())
                .with_agent(self.from_role.clone())
                .with_data(json!({
                    "from": self.from_role,
                    "to": agent.role,
                    "kind": what,
                    "task": request,
                    "context": context,
                })),
        );
        let tools = builtin_tools(&self.run, &agent, &self.task_key, &agent.tools).map_err(ToolError::Run)?;
        let job = AgentJob {
            agent,
            task_key: self.task_key.clone(),
            description: request.to_string(),
            expected_output: DELEGATED_EXPECTED_OUTPUT.to_string(),
            context: context.to_string(),
            tools,
            response_format: None,
        };
        run_agent(&self.run, job, &self.ledger).await.map_err(ToolError::Run)
    }
}

impl Delegator for TaskDelegator {
    fn delegate<'a>(
        &'a self,
        kind: DelegationToolKind,
        coworker: &'a str,
        request: &'a str,
        context: &'a str,
    ) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(self.run_coworker(kind, coworker, request, context))
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    super::output::truncate(line, 200)
}
