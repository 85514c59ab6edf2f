//! `crew-runner worker`: runs the shared queue until interrupted or idle.

use super::args::{GlobalArgs, WorkerCommand};
use super::runtime::{runner_failure, start_runner};
use super::signals::Terminate;
use super::CliError;
use crate::app::RunnerError;
use crate::app::{ClaimScope, SchedulerError};

/// Runs queued executions (from any process) under the concurrency limit. Ctrl-C (or SIGTERM)
/// stops claiming, puts running executions back in the queue with their finished steps kept, and
/// exits 0; with `--until-idle` it exits 0 once nothing is queued, retrying or running. When the
/// store fails for good (full disk, I/O error, corruption) the worker stops and exits 1 with that
/// error; what it was running is picked up again by the next worker.
pub async fn worker(global: &GlobalArgs, c: WorkerCommand) -> Result<i32, CliError> {
    let mut terminate = Terminate::listen();
    let runner = start_runner(global, c.concurrency, ClaimScope::All).await?;
    tracing::info!(concurrency = ?c.concurrency, "worker started");
    super::run::warn_if_paused(global, &runner)?;
    let idle = async {
        if c.until_idle {
            runner.until_idle().await
        } else {
            // Runs until a signal, or until the scheduler halts on a store failure.
            runner.until_halted().await;
            Err(RunnerError::Scheduler(SchedulerError::Stopped))
        }
    };
    let code = tokio::select! {
        r = idle => {
            if let Err(e) = r {
                let failure = runner_failure(&runner, e);
                // The dispatcher is already stopping; let it finish what it still can.
                let _ = runner.shutdown().await;
                return Err(failure);
            }
            0
        }
        _ = tokio::signal::ctrl_c() => {
            if !global.quiet {
                eprintln!("interrupted: stopping the worker");
            }
            0
        }
        _ = terminate.recv() => 0,
    };
    runner.shutdown().await.map_err(CliError::runner)?;
    Ok(code)
}
