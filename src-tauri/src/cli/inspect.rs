//! `status`, `list`, `logs`: read the database through the [`Runner`](crate::app::Runner) (any
//! process may be writing it).

use super::args::{GlobalArgs, ListCommand, LogsCommand, StatusCommand};
use super::escape::line;
use super::options::parse_meta;
use super::render;
use super::runtime::client;
use super::CliError;
use crate::app::LogStreamMessage;
use crate::execution::{Execution, ExecutionFilter};

pub fn status(global: &GlobalArgs, c: StatusCommand) -> Result<i32, CliError> {
    let e = client(global)?.get(&c.id).map_err(CliError::runner)?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&e).expect("an Execution serialises"));
    } else {
        out!("{}", render::execution(&e));
    }
    Ok(0)
}

pub fn list(global: &GlobalArgs, c: ListCommand) -> Result<i32, CliError> {
    let filter = ExecutionFilter { statuses: c.status, crew_name: c.crew, meta: parse_meta(&c.meta)?, limit: c.limit, before: None };
    let executions = client(global)?.list(&filter).map_err(CliError::runner)?;
    if c.json {
        outln!("{}", serde_json::to_string_pretty(&executions).expect("executions serialise"));
    } else {
        out!("{}", render::table(&executions));
    }
    Ok(0)
}

/// What `logs --follow` and `wait` say on stderr about a stranded execution
/// ([`Runner::stranded`](crate::app::Runner::stranded)).
pub fn stranded_notice(e: &Execution, owner: &str) -> String {
    format!(
        "execution {} stopped: its worker process ({}) is gone and no worker is running; \
         start `crew-runner worker` (or the desktop app) to recover and run it again",
        e.id,
        line(owner)
    )
}

/// Prints the log; with `--follow`, tails it ([`LogTail`](crate::app::LogTail)) until the
/// execution ends (exit 0), or until its worker is gone with no worker alive to recover it (a line
/// saying so, exit 1). Ctrl-C ends it (exit 0).
pub async fn logs(global: &GlobalArgs, c: LogsCommand) -> Result<i32, CliError> {
    let runner = client(global)?;
    let e = runner.get(&c.id).map_err(CliError::runner)?;
    let print = |entries: &[crate::execution::LogEntry]| {
        for l in entries {
            if c.json {
                outln!("{}", serde_json::to_string(l).expect("a LogEntry serialises"));
            } else {
                outln!("{}", render::log_line(l));
            }
        }
    };
    if !c.follow {
        let mut after = c.after;
        loop {
            let lines = runner.logs(&e.id, after, 1000).map_err(CliError::runner)?;
            print(&lines);
            match lines.last() {
                Some(last) if lines.len() == 1000 => after = last.seq,
                _ => return Ok(0),
            }
        }
    }
    let mut tail = runner.follow_logs(&e.id, c.after);
    loop {
        let message = tokio::select! {
            message = tail.next() => message,
            _ = tokio::signal::ctrl_c() => return Ok(0),
        };
        match message {
            Some(LogStreamMessage::Lines { entries }) => print(&entries),
            Some(LogStreamMessage::End { .. }) | None => return Ok(0),
            Some(LogStreamMessage::Orphaned { owner }) => {
                eprintln!("{}", stranded_notice(&e, &owner));
                return Ok(1);
            }
            Some(LogStreamMessage::Error { message }) => return Err(CliError::Failure(message)),
        }
    }
}
