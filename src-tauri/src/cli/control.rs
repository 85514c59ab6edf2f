//! `cancel`, `retry`, `priority`, `pause`, `resume`: durable writes through the [`Runner`] that the
//! process owning the queue notices within one heartbeat (at most 1 s).

use super::args::{GlobalArgs, IdCommand, PriorityCommand, RetryCommand};
use super::runtime::client;
use super::CliError;
use crate::app::CancelOutcome;

pub async fn cancel(global: &GlobalArgs, c: IdCommand) -> Result<i32, CliError> {
    let (id, outcome) = client(global)?.cancel(&c.id).await.map_err(CliError::runner)?;
    let (word, text) = match &outcome {
        CancelOutcome::Cancelled => ("cancelled", format!("{id}: cancelled")),
        CancelOutcome::Requested => ("requested", format!("{id}: running; cancel requested (takes effect within a second)")),
        CancelOutcome::AlreadyFinished(s) => ("already_finished", format!("{id}: already {s}; nothing changed")),
    };
    if c.json {
        outln!("{}", serde_json::json!({ "id": id, "outcome": word }));
    } else {
        outln!("{text}");
    }
    Ok(0)
}

pub async fn retry(global: &GlobalArgs, c: RetryCommand) -> Result<i32, CliError> {
    let rerun = client(global)?.retry(&c.id, c.from_task.as_deref()).await.map_err(CliError::runner)?;
    let (e, reused) = (&rerun.execution, rerun.reused_steps);
    let past = e.retry_of.as_ref().map(|r| r.to_string()).unwrap_or_default();
    if c.json {
        outln!("{}", serde_json::json!({ "id": e.id, "retry_of": past, "reused_steps": reused }));
    } else {
        outln!("{}", e.id);
        if !global.quiet {
            eprintln!("queued {} as a rerun of {past} (reusing {reused} finished task(s)); a worker or the app runs it", e.id);
        }
    }
    Ok(0)
}

pub async fn priority(global: &GlobalArgs, c: PriorityCommand) -> Result<i32, CliError> {
    let updated = client(global)?.set_priority(&c.id, c.priority).await.map_err(CliError::runner)?;
    if c.json {
        outln!("{}", serde_json::json!({ "id": updated.id, "priority": updated.priority }));
    } else {
        outln!("{}: priority {}", updated.id, updated.priority);
    }
    Ok(0)
}

pub async fn pause(global: &GlobalArgs, paused: bool, json: bool) -> Result<i32, CliError> {
    client(global)?.set_paused(paused).await.map_err(CliError::runner)?;
    if json {
        outln!("{}", serde_json::json!({ "paused": paused }));
    } else {
        outln!("queue {}", if paused { "paused" } else { "resumed" });
    }
    Ok(0)
}
