//! `status`, `list`, `logs`: read the database (any process may be writing it).

use std::time::Duration;

use super::args::{GlobalArgs, ListCommand, LogsCommand, StatusCommand};
use super::options::parse_meta;
use super::escape::line;
use super::render;
use super::runtime::{find, open_store};
use super::CliError;
use crate::execution::{Execution, ExecutionFilter, ExecutionState};
use crate::store::Store;

pub fn status(global: &GlobalArgs, c: StatusCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let e = find(store.as_ref(), &c.id)?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&e).expect("an Execution serialises"));
    } else {
        out!("{}", render::execution(&e));
    }
    Ok(0)
}

pub fn list(global: &GlobalArgs, c: ListCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let filter = ExecutionFilter {
        statuses: c.status,
        crew_name: c.crew,
        meta: parse_meta(&c.meta)?,
        limit: c.limit,
        before: None,
    };
    let executions = store.list(&filter).map_err(CliError::failure)?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&executions).expect("executions serialise"));
    } else {
        out!("{}", render::table(&executions));
    }
    Ok(0)
}

/// How often `logs --follow` and `wait` re-read the database. Another process writes it, so there
/// is nothing to wake us; 200 ms keeps them live at negligible cost (one indexed read).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The owner of `e` when `e` is running under a worker process that is gone and no worker is
/// running to recover it: nothing changes it until a worker (or the desktop app) starts.
pub fn stranded<'a>(store: &dyn Store, e: &'a Execution) -> Option<&'a str> {
    match &e.state {
        ExecutionState::Running { owner, owner_gone: true, .. } if !store.any_worker_alive() => Some(owner),
        _ => None,
    }
}

/// What `logs --follow` and `wait` say on stderr about a [`stranded`] execution.
pub fn stranded_notice(e: &Execution, owner: &str) -> String {
    format!(
        "execution {} stopped: its worker process ({}) is gone and no worker is running; \
         start `crew-runner worker` (or the desktop app) to recover and run it again",
        e.id,
        line(owner)
    )
}

pub async fn logs(global: &GlobalArgs, c: LogsCommand) -> Result<i32, CliError> {
    let store = open_store(global)?;
    let e = find(store.as_ref(), &c.id)?;
    let mut after = c.after;
    loop {
        let lines = store.logs(&e.id, after, 1000).map_err(CliError::failure)?;
        for l in &lines {
            if c.json {
                outln!("{}", serde_json::to_string(l).expect("a LogEntry serialises"));
            } else {
                outln!("{}", render::log_line(l));
            }
            after = l.seq;
        }
        if lines.len() == 1000 {
            continue;
        }
        if !c.follow {
            return Ok(0);
        }
        let current = store.get(&e.id).map_err(CliError::failure)?;
        if let Some((orphan, owner)) = current.as_ref().and_then(|e| Some((e, stranded(store.as_ref(), e)?))) {
            // Nothing will write to it until a worker recovers it: say so instead of waiting
            // forever, unless lines were committed since the last read.
            if store.logs(&e.id, after, 1).map_err(CliError::failure)?.is_empty() {
                eprintln!("{}", stranded_notice(orphan, owner));
                return Ok(1);
            }
        }
        let now = current.map(|e| e.status().is_terminal()).unwrap_or(true);
        if now {
            // One last read: lines committed with the final transition.
            if store.logs(&e.id, after, 1).map_err(CliError::failure)?.is_empty() {
                return Ok(0);
            }
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(0),
        }
    }
}
