//! `wait ID…`: block until executions finish and exit with their outcome, for scripts
//! (`id=$(crew-runner submit crew.yaml) && crew-runner wait "$id"`).
//!
//! It only reads the database through the [`Runner`](crate::app::Runner), re-reading when its
//! [`Watch`](crate::app::Watch) (a `PRAGMA data_version` probe every [`POLL_INTERVAL`]) says another
//! process committed or a worker died, so whichever process runs the executions (a `worker`, the
//! desktop app, a `--run`) may be another one.

use std::time::Duration;

use super::args::{GlobalArgs, WaitCommand};
use super::escape::line;
use super::inspect::stranded_notice;
use super::runtime::client;
use super::CliError;
use crate::app::{RunnerError, POLL_WITHOUT_EVENTS as POLL_INTERVAL};
use crate::execution::{Execution, ExecutionId, ExecutionState, Status};

/// Exit code when the timeout ran out first (as `timeout(1)`).
pub const TIMED_OUT: i32 = 124;
/// Exit code when none failed but one or more were cancelled.
pub const CANCELLED: i32 = 3;

/// How an execution ended, as far as `wait` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
    /// Running under a worker that is gone, with no worker alive to recover it: counted as failed.
    Stranded,
    /// Not finished when the timeout ran out.
    Unfinished,
}

/// The exit code for `outcomes`: 124 when any is unfinished, else 1 when any failed (or is
/// stranded), else 3 when any was cancelled, else 0.
fn exit_code(outcomes: &[Outcome]) -> i32 {
    let any = |o: Outcome| outcomes.contains(&o);
    if any(Outcome::Unfinished) {
        TIMED_OUT
    } else if any(Outcome::Failed) || any(Outcome::Stranded) {
        1
    } else if any(Outcome::Cancelled) {
        CANCELLED
    } else {
        0
    }
}

/// The text line for an execution: `ID STATUS`, with `kind: message` for a failed one.
fn status_line(e: &Execution, outcome: Outcome) -> String {
    match (&e.state, outcome) {
        (ExecutionState::Failed { error, .. }, _) => format!("{} failed {}: {}", e.id, error.kind.as_str(), line(&error.message)),
        (_, Outcome::Stranded) => format!("{} orphaned", e.id),
        _ => format!("{} {}", e.id, e.status()),
    }
}

/// Waits for every id (see [`WaitCommand`] for the exact semantics and exit codes).
pub async fn wait(global: &GlobalArgs, c: WaitCommand) -> Result<i32, CliError> {
    let runner = client(global)?;
    // Every id is checked first: a typo is exit 2 at once, not after the others finish.
    let mut order: Vec<ExecutionId> = Vec::new();
    for id in &c.ids {
        let e = runner.get(id).map_err(CliError::runner)?;
        if !order.contains(&e.id) {
            order.push(e.id);
        }
    }
    let deadline = c.timeout.map(|t| tokio::time::Instant::now() + t);
    // Made before the first read: a commit after it is seen at the next tick.
    let mut watch = runner.watch(POLL_INTERVAL).map_err(CliError::runner)?;
    let mut done: Vec<(Execution, Outcome)> = Vec::new();
    let mut pending = order.clone();
    // Reviews said to be awaited (id, round): each is said once on stderr, and waited for.
    let mut told: std::collections::HashSet<(ExecutionId, u32)> = std::collections::HashSet::new();
    loop {
        let mut unfinished = Vec::new();
        for id in pending {
            let e = match runner.get(id.as_str()) {
                Ok(e) => e,
                Err(RunnerError::NotFound(_)) => {
                    return Err(CliError::Failure(format!("execution {id} was deleted (pruned) while waiting for it")))
                }
                Err(e) => return Err(CliError::runner(e)),
            };
            let outcome = match e.status() {
                Status::Succeeded => Outcome::Succeeded,
                Status::Failed => Outcome::Failed,
                Status::Cancelled => Outcome::Cancelled,
                Status::AwaitingInput => {
                    if let ExecutionState::AwaitingInput { request } = &e.state {
                        if told.insert((e.id.clone(), request.round)) && !global.quiet {
                            eprintln!(
                                "{id} awaits a person's review of task `{}` (round {}): `crew-runner answer {id} [--text FEEDBACK]`; waiting",
                                line(&request.task),
                                request.round,
                                id = e.id
                            );
                        }
                    }
                    unfinished.push(e);
                    continue;
                }
                _ => match runner.stranded(&e) {
                    Some(owner) => {
                        eprintln!("{}", stranded_notice(&e, owner));
                        Outcome::Stranded
                    }
                    None => {
                        unfinished.push(e);
                        continue;
                    }
                },
            };
            if !c.json {
                outln!("{}", status_line(&e, outcome));
            }
            done.push((e, outcome));
        }
        let now = tokio::time::Instant::now();
        let timed_out = deadline.is_some_and(|d| now >= d);
        if unfinished.is_empty() || timed_out {
            if !unfinished.is_empty() {
                eprintln!(
                    "timed out after {}: {} of {} execution(s) unfinished: {}",
                    duration_text(c.timeout.unwrap_or_default()),
                    unfinished.len(),
                    order.len(),
                    unfinished.iter().map(|e| e.id.to_string()).collect::<Vec<_>>().join(" ")
                );
            }
            for e in unfinished {
                if !c.json {
                    outln!("{}", status_line(&e, Outcome::Unfinished));
                }
                done.push((e, Outcome::Unfinished));
            }
            break;
        }
        pending = unfinished.into_iter().map(|e| e.id).collect();
        // Re-read only when another process committed (or a worker died), or at the deadline.
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = watch.next(&|| true) => {}
            _ = timeout => {}
            _ = tokio::signal::ctrl_c() => return Ok(super::signals::Interrupt::CtrlC.exit_code()),
        }
    }
    // In the order given.
    done.sort_by_key(|(e, _)| order.iter().position(|id| *id == e.id));
    if c.json {
        let executions: Vec<&Execution> = done.iter().map(|(e, _)| e).collect();
        outln!("{}", serde_json::to_string_pretty(&executions).expect("executions serialise"));
    }
    Ok(exit_code(&done.iter().map(|(_, o)| *o).collect::<Vec<_>>()))
}

/// `2s`, `1.5s`, `5m`: a timeout as given back to people.
fn duration_text(d: Duration) -> String {
    match d.as_secs() {
        s if d.subsec_nanos() == 0 && s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if d.subsec_nanos() == 0 && s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        _ => format!("{}s", d.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn exit_codes_follow_the_worst_outcome() {
        assert_eq!(exit_code(&[Succeeded, Succeeded]), 0);
        assert_eq!(exit_code(&[Succeeded, Cancelled]), 3);
        assert_eq!(exit_code(&[Cancelled, Failed, Succeeded]), 1, "failed wins over cancelled");
        assert_eq!(exit_code(&[Cancelled, Stranded]), 1);
        assert_eq!(exit_code(&[Failed, Unfinished]), 124, "a timeout wins: the wait did not complete");
    }

    #[test]
    fn timeouts_read_as_given() {
        assert_eq!(duration_text(Duration::from_secs(2)), "2s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration_text(Duration::from_secs(300)), "5m");
        assert_eq!(duration_text(Duration::from_secs(7200)), "2h");
        assert_eq!(duration_text(Duration::ZERO), "0s");
    }
}
