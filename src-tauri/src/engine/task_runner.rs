//! One crew task from start to saved step: log, progress, the agent (or manager) loop, the output
//! rules, human review (`human_input`, see [`human_review`](super::human_review)), `save_step`,
//! and the completion log.

use std::sync::Arc;

use serde_json::json;

use super::agent_loop::AgentJob;
use super::delegation::TaskDelegator;
use super::human_review::{feedback_context, next_step, ReviewStep};
use super::output::{truncate, write_output_file};
use super::prompts::expected_output_with_schema;
use super::revision::checked_answer;
use super::run::Run;
use super::structured::response_schema;
use super::toolbox::{agent_tools, delegation_tools};
use super::usage_ledger::UsageLedger;
use crate::crew::{AgentSpec, TaskSpec};
use crate::execution::{now_ms, EventKind, ExecutionError, InputRequest, LogEvent, LogLevel, StepOutput, Usage};

/// Who works on a task.
pub enum Performer {
    /// The task's own agent (sequential process). It gets the task's tools (else its own), and
    /// the delegation tools over the other agents when it has `allow_delegation`.
    Agent(AgentSpec),
    /// The hierarchical manager, with only the delegation tools over `coworkers` (roles).
    Manager { manager: AgentSpec, coworkers: Vec<String> },
}

impl Performer {
    fn agent(&self) -> &AgentSpec {
        match self {
            Performer::Agent(a) => a,
            Performer::Manager { manager, .. } => manager,
        }
    }
}

/// Runs `task` with `context` and records it: `TaskStarted`, progress, the loop with the output
/// checks and revisions ([`checked_answer`]: `output_json`/`output_schema`, guardrail),
/// `output_file`, `save_step` (committed), `TaskCompleted`, progress. Errors carry the task
/// key in their details when they had none.
pub async fn run_task(run: &Arc<Run>, task: &TaskSpec, context: String, performer: Performer) -> Result<StepOutput, ExecutionError> {
    let role = performer.agent().role.clone();
    run_task_inner(run, task, context, performer).await.map_err(|mut e| {
        if run.is_paused() {
            // Not a failure: the attempt ends for a person's review (logged by the store).
            return e;
        }
        if e.details.is_null() {
            e.details = json!({"task": task.key});
        }
        run.log(
            LogEvent::warning(format!("task `{}` failed: {}", task.key, e.message))
                .with_level(LogLevel::Error)
                .with_task(task.key.clone())
                .with_agent(role)
                .with_data(json!({"kind": e.kind.as_str(), "retryable": e.retryable})),
        );
        e
    })
}

async fn run_task_inner(run: &Arc<Run>, task: &TaskSpec, context: String, performer: Performer) -> Result<StepOutput, ExecutionError> {
    let agent = performer.agent().clone();
    let role = agent.role.clone();
    run.log(
        LogEvent::info(EventKind::TaskStarted, format!("task `{}` started ({})", task.key, role))
            .with_task(task.key.clone())
            .with_agent(role.clone())
            .with_data(json!({"description": task.description, "async_execution": task.async_execution})),
    );
    run.progress_started(&task.key, &role).await?;
    let ledger = Arc::new(UsageLedger::default());
    let tools = match &performer {
        Performer::Agent(agent) => {
            let names = if task.tools.is_empty() { &agent.tools } else { &task.tools };
            let mut tools = agent_tools(run, agent, &task.key, names).await?;
            let coworkers: Vec<String> = run.spec.agents.iter().filter(|a| a.key != agent.key).map(|a| a.role.clone()).collect();
            if agent.allow_delegation && !coworkers.is_empty() {
                let delegator = TaskDelegator::new(run.clone(), task.key.clone(), role.clone(), ledger.clone());
                tools.extend(delegation_tools(coworkers, Arc::new(delegator)));
            }
            tools
        }
        Performer::Manager { coworkers, .. } => {
            let delegator = TaskDelegator::new(run.clone(), task.key.clone(), role.clone(), ledger.clone());
            delegation_tools(coworkers.clone(), Arc::new(delegator))
        }
    };
    // A structured task states its schema after the expected output and asks for it (CrewAI).
    let expected_output = match &task.output_schema {
        Some(schema) => expected_output_with_schema(&task.expected_output, schema),
        None => task.expected_output.clone(),
    };
    let job_for = |context: String| AgentJob {
        agent: agent.clone(),
        task_key: task.key.clone(),
        description: task.description.clone(),
        expected_output: expected_output.clone(),
        context,
        tools: tools.clone(),
        response_format: response_schema(task),
    };
    let (output, json, usage) = if task.human_input {
        let step = next_step(&run.reviews, &task.key);
        match step {
            ReviewStep::Accepted(review) => {
                run.log(
                    LogEvent::info(
                        EventKind::AgentStep,
                        format!("task `{}`: the reviewed answer (round {}) is its output", task.key, review.request.round),
                    )
                    .with_task(task.key.clone())
                    .with_agent(role.clone())
                    .with_data(json!({"human_input": "accepted", "round": review.request.round})),
                );
                (review.request.draft.clone(), review.request.json.clone(), review.request.usage.clone())
            }
            ReviewStep::Ask | ReviewStep::Revise(_) => {
                let round = step.next_round();
                let (context, mut usage) = match &step {
                    ReviewStep::Revise(rounds) => {
                        (feedback_context(&context, rounds), rounds.last().map(|r| r.request.usage.clone()).unwrap_or_default())
                    }
                    _ => (context.clone(), Usage::default()),
                };
                let (draft, json) = checked_answer(run, task, &context, job_for, &ledger).await?;
                usage.add(&ledger.total());
                let request = InputRequest { task: task.key.clone(), agent: role.clone(), round, draft, json, usage, asked_at: now_ms() };
                return Err(run.pause_for_input(request));
            }
        }
    } else {
        let (output, json) = checked_answer(run, task, &context, job_for, &ledger).await?;
        (output, json, ledger.total())
    };
    let written = match &task.output_file {
        Some(path) => Some(write_output_file(&*run.workspace()?, &task.key, path, &output)?),
        None => None,
    };
    let step =
        StepOutput { step: task.key.clone(), agent: role.clone(), output, json, usage, attempt: run.attempt, completed_at: now_ms() };
    let completion = LogEvent::info(EventKind::TaskCompleted, format!("task `{}` completed", task.key))
        .with_task(task.key.clone())
        .with_agent(role)
        .with_data(json!({
            "usage": step.usage,
            "usage_by_agent": ledger.by_agent(),
            "output": truncate(&step.output, 4096),
            "output_file": written.map(|p| p.display().to_string()),
        }));
    // The step and its `task_completed` line commit together (a crash cannot split them).
    run.journal.save_step(step.clone(), completion).await?;
    run.progress_completed().await?;
    Ok(step)
}

/// Logs that `step` is reused from an earlier attempt instead of being run again.
pub fn log_reused(run: &Run, step: &StepOutput) {
    run.log(
        LogEvent::info(EventKind::TaskSkipped, format!("task `{}` reused from attempt {}", step.step, step.attempt))
            .with_task(step.step.clone())
            .with_agent(step.agent.clone())
            .with_data(json!({"attempt": step.attempt, "usage": step.usage})),
    );
}
