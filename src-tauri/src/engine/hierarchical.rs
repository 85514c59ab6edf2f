//! The hierarchical process: a manager works through the tasks in order, delegating each to
//! coworkers with `delegate_work_to_coworker` / `ask_question_to_coworker` and answering with the
//! reviewed result.
//!
//! The manager is the agent named by `manager_agent`, else CrewAI's built-in "Crew Manager" on
//! `manager_llm` (else the crew's model). For a task with an `agent`, that agent is the only
//! coworker (as in CrewAI); otherwise every agent but the manager is. `async_execution` is ignored
//! here: the manager handles tasks one at a time. Bounded by the manager's `max_iter` and
//! [`MAX_DELEGATIONS_PER_TASK`](super::delegation::MAX_DELEGATIONS_PER_TASK).

use std::collections::HashMap;
use std::sync::Arc;

use super::context::context_text;
use super::prompts::{MANAGER_BACKSTORY, MANAGER_GOAL, MANAGER_ROLE};
use super::run::Run;
use super::task_runner::{log_reused, run_task, Performer};
use crate::crew::{AgentSpec, CrewSpec};
use crate::execution::{ErrorKind, ExecutionError, StepOutput};

/// CrewAI's default `max_iter`, used for the built-in manager.
const DEFAULT_MAX_ITER: u32 = 25;

/// Runs the crew's tasks under the manager; returns every task's step (reused or new) by key.
pub async fn run_hierarchical(run: &Arc<Run>, reused: &HashMap<String, StepOutput>) -> Result<HashMap<String, StepOutput>, ExecutionError> {
    let manager = manager_for(&run.spec)?;
    let tasks = &run.spec.tasks;
    let mut finished: HashMap<String, StepOutput> = HashMap::new();
    for (index, task) in tasks.iter().enumerate() {
        if let Some(step) = reused.get(&task.key) {
            log_reused(run, step);
            finished.insert(task.key.clone(), step.clone());
            continue;
        }
        let coworkers: Vec<String> = match task.agent.as_deref().and_then(|k| run.spec.agent(k)) {
            Some(agent) if agent.key != manager.key => vec![agent.role.clone()],
            _ => run.spec.agents.iter().filter(|a| a.key != manager.key).map(|a| a.role.clone()).collect(),
        };
        if coworkers.is_empty() {
            return Err(ExecutionError::new(ErrorKind::InvalidCrew, "a hierarchical crew needs at least one agent besides the manager"));
        }
        let context = context_text(tasks, index, &finished);
        let step = run_task(run, task, context, Performer::Manager { manager: manager.clone(), coworkers }).await?;
        finished.insert(task.key.clone(), step);
    }
    Ok(finished)
}

/// The manager: the `manager_agent` (on `manager_llm` when it names no model of its own), else
/// the built-in Crew Manager.
pub fn manager_for(spec: &CrewSpec) -> Result<AgentSpec, ExecutionError> {
    match &spec.manager_agent {
        Some(key) => {
            let mut agent = spec.agent(key).cloned().ok_or_else(|| {
                ExecutionError::new(ErrorKind::InvalidCrew, format!("manager_agent `{key}` is not one of the crew's agents"))
            })?;
            if agent.llm.is_none() && spec.manager_llm.is_some() {
                agent.llm = spec.manager_llm.clone();
                agent.llm_settings = spec.manager_llm_settings.clone();
            }
            agent.tools.clear();
            agent.mcps.clear();
            agent.allow_delegation = true;
            Ok(agent)
        }
        None => Ok(AgentSpec {
            key: "__crew_manager".into(),
            role: MANAGER_ROLE.into(),
            goal: MANAGER_GOAL.into(),
            backstory: MANAGER_BACKSTORY.into(),
            llm: spec.manager_llm.clone(),
            llm_settings: spec.manager_llm_settings.clone(),
            tools: vec![],
            mcps: vec![],
            allow_delegation: true,
            respect_context_window: true,
            max_iter: DEFAULT_MAX_ITER,
            max_execution_time: None,
            max_rpm: None,
        }),
    }
}
