//! `cancel`, `retry`, `priority`, `pause`, `resume`: durable writes that the process owning the
//! queue notices within one heartbeat (at most 1 s).

use super::args::{GlobalArgs, IdCommand, PriorityCommand, RetryCommand};
use super::runtime::{find, open_store};
use super::CliError;
use crate::app::rerun_request;
use crate::scheduler::CancelOutcome;

pub async fn cancel(global: &GlobalArgs, c: IdCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let e = find(store.as_ref(), &c.id)?;
    let outcome = store.request_cancel(&e.id).await.map_err(CliError::failure)?.outcome;
    let (word, text) = match &outcome {
        CancelOutcome::Cancelled => ("cancelled", format!("{}: cancelled", e.id)),
        CancelOutcome::Requested => ("requested", format!("{}: running; cancel requested (takes effect within a second)", e.id)),
        CancelOutcome::AlreadyFinished(s) => ("already_finished", format!("{}: already {s}; nothing changed", e.id)),
    };
    if c.json {
        outln!("{}", serde_json::json!({ "id": e.id, "outcome": word }));
    } else {
        outln!("{text}");
    }
    Ok(0)
}

pub async fn retry(global: &GlobalArgs, c: RetryCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let past = find(store.as_ref(), &c.id)?;
    let steps = store.steps(&past.id).map_err(CliError::failure)?;
    let new = rerun_request(&past, &steps, c.from_task.as_deref()).map_err(CliError::usage)?;
    let reused = new.seed_steps.len();
    let e = store.insert(new).await.map_err(CliError::failure)?.execution;
    if c.json {
        outln!("{}", serde_json::json!({ "id": e.id, "retry_of": past.id, "reused_steps": reused }));
    } else {
        outln!("{}", e.id);
        if !global.quiet {
            eprintln!("queued {} as a rerun of {} (reusing {reused} finished task(s)); a worker or the app runs it", e.id, past.id);
        }
    }
    Ok(0)
}

pub async fn priority(global: &GlobalArgs, c: PriorityCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let e = find(store.as_ref(), &c.id)?;
    let updated = store.set_priority(&e.id, c.priority).await.map_err(CliError::usage)?.execution;
    if c.json {
        outln!("{}", serde_json::json!({ "id": updated.id, "priority": updated.priority }));
    } else {
        outln!("{}: priority {}", updated.id, updated.priority);
    }
    Ok(0)
}

pub async fn pause(global: &GlobalArgs, paused: bool, json: bool) -> Result<i32, CliError> {
    let store = open_store(global)?;
    store.set_paused(paused).await.map_err(CliError::failure)?;
    if json {
        outln!("{}", serde_json::json!({ "paused": paused }));
    } else {
        outln!("queue {}", if paused { "paused" } else { "resumed" });
    }
    Ok(0)
}
