//! The sequential process: tasks in order, each by its own agent.
//!
//! Async tasks (`async_execution: true`) are collected and run together, concurrently on the
//! calling task (no spawn), until something needs them:
//! - before a sync task runs, every pending async task is awaited (the simple, correct rule; the
//!   sync task then sees all of them in its context);
//! - before an async task whose explicit `context` names a pending task, the pending ones are
//!   awaited first;
//! - at the end of the crew, the rest are awaited.
//!
//! As in CrewAI, an async task with `context: None` sees the outputs finished when it starts
//! (not those of async tasks still pending), so consecutive async tasks start together.
//! If one fails, the others still pending are dropped (cancelled) and the run fails.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::try_join_all;

use super::context::{context_keys, context_text};
use super::run::Run;
use super::task_runner::{log_reused, run_task, Performer};
use crate::execution::{BoxFuture, ErrorKind, ExecutionError, StepOutput};

/// Runs the crew's tasks; returns every task's step (reused or new) by key.
pub async fn run_sequential(run: &Arc<Run>, reused: &HashMap<String, StepOutput>) -> Result<HashMap<String, StepOutput>, ExecutionError> {
    let tasks = &run.spec.tasks;
    let mut finished: HashMap<String, StepOutput> = HashMap::new();
    let mut pending: Vec<(String, BoxFuture<'_, Result<StepOutput, ExecutionError>>)> = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        if let Some(step) = reused.get(&task.key) {
            log_reused(run, step);
            finished.insert(task.key.clone(), step.clone());
            continue;
        }
        let agent = task
            .agent
            .as_deref()
            .and_then(|k| run.spec.agent(k))
            .cloned()
            .ok_or_else(|| ExecutionError::new(ErrorKind::InvalidCrew, format!("task `{}` has no agent", task.key)))?;
        let needs_pending = !task.async_execution
            || (task.context.is_some() && context_keys(tasks, index).iter().any(|k| pending.iter().any(|(p, _)| p == k)));
        if needs_pending {
            await_pending(&mut pending, &mut finished).await?;
        }
        let context = context_text(tasks, index, &finished);
        if task.async_execution {
            pending.push((task.key.clone(), Box::pin(run_task(run, task, context, Performer::Agent(agent)))));
        } else {
            let step = run_task(run, task, context, Performer::Agent(agent)).await?;
            finished.insert(task.key.clone(), step);
        }
    }
    await_pending(&mut pending, &mut finished).await?;
    Ok(finished)
}

/// Runs all pending async tasks concurrently to completion.
async fn await_pending(
    pending: &mut Vec<(String, BoxFuture<'_, Result<StepOutput, ExecutionError>>)>,
    finished: &mut HashMap<String, StepOutput>,
) -> Result<(), ExecutionError> {
    if pending.is_empty() {
        return Ok(());
    }
    let futures: Vec<_> = pending.drain(..).map(|(_, f)| f).collect();
    for step in try_join_all(futures).await? {
        finished.insert(step.step.clone(), step);
    }
    Ok(())
}
