//! `crew-runner serve`: this process's scheduler (as `worker`) plus the HTTP API ([`crate::http`]).

use tokio_util::sync::CancellationToken;

use super::args::{GlobalArgs, ServeCommand};
use super::runtime::{runner_failure, start_runner};
use super::signals::Terminate;
use super::CliError;
use crate::app::{AppPaths, RunnerError};
use crate::app::{ClaimScope, SchedulerError};
use crate::http::{ServeError, ServeOptions};

/// Refused options exit 2 before anything starts; a port that cannot be bound exits 1.
fn serve_error(e: ServeError) -> CliError {
    if e.is_refusal() {
        CliError::usage(e)
    } else {
        CliError::failure(e)
    }
}

/// Runs queued executions and serves the API until Ctrl-C or SIGTERM: then it stops accepting
/// requests, ends open event streams, waits for requests in flight, puts running executions back
/// in the queue with their finished steps kept (as `worker`), and exits 0. When the store fails for
/// good the server stops and exits 1 with that error.
pub async fn serve(global: &GlobalArgs, c: ServeCommand) -> Result<i32, CliError> {
    let options = ServeOptions {
        host: c.host,
        port: c.port,
        allow_remote: c.allow_remote,
        cors_origin: c.cors_origin,
        allowed_workspaces: c.allow_workspace,
        // Submissions are checked in the environment the workers run with (the app's Settings
        // filling what the environment leaves unset).
        llm_env: Some({
            let env = super::runtime::llm_env(global)?;
            crate::http::LlmEnvSource::new(move || env.clone())
        }),
    };
    crate::http::check_options(&options).map_err(serve_error)?;
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    let mut terminate = Terminate::listen();
    let runner = start_runner(global, c.concurrency, ClaimScope::All).await?;
    let shutdown = CancellationToken::new();
    let server = match crate::http::serve(runner.clone(), paths, options, shutdown.clone()).await {
        Ok(server) => server,
        Err(e) => {
            let _ = runner.shutdown().await;
            return Err(serve_error(e));
        }
    };
    outln!("listening on http://{}", server.addr());
    if !global.quiet {
        eprintln!("API token: {} (send it as `Authorization: Bearer TOKEN`)", server.token_path().display());
    }
    super::run::warn_if_paused(global, &runner)?;
    let halted = async {
        runner.until_halted().await;
        RunnerError::Scheduler(SchedulerError::Stopped)
    };
    let failure = tokio::select! {
        e = halted => Some(runner_failure(&runner, e)),
        _ = tokio::signal::ctrl_c() => {
            if !global.quiet {
                eprintln!("interrupted: stopping the server");
            }
            None
        }
        _ = terminate.recv() => None,
    };
    shutdown.cancel();
    let served = server.finished().await;
    runner.shutdown().await.map_err(CliError::runner)?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    served.map_err(serve_error)?;
    Ok(0)
}
