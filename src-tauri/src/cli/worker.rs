//! `crew-runner worker`: runs the shared queue until interrupted or idle.

use super::args::{GlobalArgs, WorkerCommand};
use super::runtime::start_scheduler;
use super::signals::Terminate;
use super::CliError;
use crate::scheduler::ClaimScope;

/// Runs queued executions (from any process) under the concurrency limit. Ctrl-C (or SIGTERM)
/// stops claiming, puts running executions back in the queue with their finished steps kept, and
/// exits 0; with `--until-idle` it exits 0 once nothing is queued, retrying or running.
pub async fn worker(global: &GlobalArgs, c: WorkerCommand) -> Result<i32, CliError> {
    let mut terminate = Terminate::listen();
    let scheduler = start_scheduler(global, c.concurrency, ClaimScope::All).await?;
    tracing::info!(concurrency = ?c.concurrency, "worker started");
    super::run::warn_if_paused(&scheduler)?;
    let idle = async {
        if c.until_idle {
            scheduler.until_idle().await
        } else {
            std::future::pending().await
        }
    };
    let code = tokio::select! {
        r = idle => { r.map_err(CliError::failure)?; 0 }
        _ = tokio::signal::ctrl_c() => { eprintln!("interrupted: stopping the worker"); 0 }
        _ = terminate.recv() => 0,
    };
    scheduler.shutdown().await.map_err(CliError::failure)?;
    Ok(code)
}
