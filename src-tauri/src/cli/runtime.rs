//! Opening the store and starting the scheduler for a command.

use std::sync::Arc;

use super::args::GlobalArgs;
use super::CliError;
use crate::app::{AppPaths, ClaimScope, ConfigStore, OpenRunnerError, Runner, RunnerError, SchedulerConfig};
use crate::crew::WorkspacePolicy;
use crate::engine::CrewExecutor;
use crate::llm::LlmEnv;

/// The database of this command's data dir (`--data-dir`).
fn database(global: &GlobalArgs) -> Result<std::path::PathBuf, CliError> {
    Ok(AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?.database())
}

/// The failure to report when the runner cannot be opened: an invalid busy-timeout variable is a
/// usage error (exit 2), anything else a failure.
fn open_failure(e: OpenRunnerError) -> CliError {
    if e.is_usage() {
        CliError::usage(e)
    } else {
        CliError::failure(e)
    }
}

/// Where a crew's workspace may be: its folder, the data dir's `workspaces/` and the folders of
/// `--allow-workspace` (`allowed`).
pub fn workspace_policy(global: &GlobalArgs, allowed: &[std::path::PathBuf]) -> Result<WorkspacePolicy, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    Ok(paths.workspace_policy(allowed))
}

/// This command's data dir and config dir (`--data-dir`, `--config-dir`; see [`AppPaths`]).
pub fn paths(global: &GlobalArgs) -> Result<AppPaths, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    Ok(paths.with_config_dir(global.config_dir.as_deref()))
}

/// The process's LLM environment, with the configuration's LLM (the one the desktop app's Settings
/// edit) filling what the environment leaves unset ([`ConfiguredLlm::fill_env`](crate::app::ConfiguredLlm::fill_env):
/// a GUI-queued execution runs with the app's key and model on a CLI worker), keeping endpoint
/// credentials in the data dir's `secrets/`. An unreadable configuration is an error naming its file.
pub fn llm_env(global: &GlobalArgs) -> Result<LlmEnv, CliError> {
    let paths = paths(global)?;
    let configured = ConfigStore::open(&paths).map_err(CliError::usage)?.get();
    Ok(configured.fill_env(&LlmEnv::from_process()).with_secrets(paths.secrets_dir()).with_python_cache(paths.python_cache()))
}

/// Starts this process's scheduler running crews with the real engine, and returns the
/// [`Runner`] over it. `concurrency: Some(n)` also stores `n` as the shared setting; `None` keeps
/// the stored one.
pub async fn start_runner(global: &GlobalArgs, concurrency: Option<u32>, scope: ClaimScope) -> Result<Runner, CliError> {
    if concurrency == Some(0) {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    let database = database(global)?;
    // CrewAI processes a dead worker left behind (normally none: see engine::crewai::orphans).
    crate::engine::crewai::orphans::reap_orphans_at_start();
    let executor = Arc::new(CrewExecutor::new(llm_env(global)?));
    let config = SchedulerConfig { concurrency, scope, ..SchedulerConfig::default() };
    Runner::open(&database, executor, config).await.map_err(open_failure)
}

/// The failure to report for `error` from `runner`: when its scheduler halted because the store
/// failed for good (full disk, I/O error, corruption), that reason (it names the database) and
/// what happens to unfinished work; otherwise the error itself.
pub fn runner_failure(runner: &Runner, error: RunnerError) -> CliError {
    match runner.halted() {
        Some(reason) => CliError::Failure(format!(
            "{reason} (stopped; unfinished executions are picked up again by the next `crew-runner worker` once this is fixed)"
        )),
        None => CliError::runner(error),
    }
}

/// The application API for a one-shot command: a [`Runner`] writing to the database directly
/// (this process runs nothing; the process owning the queue notices within its heartbeat). Opens
/// the database in the data dir (creating and migrating it if needed), as the desktop app does.
pub fn client(global: &GlobalArgs) -> Result<Runner, CliError> {
    Runner::open_client(&database(global)?).map_err(|e| open_failure(e.into()))
}
