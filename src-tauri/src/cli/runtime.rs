//! Opening the store and starting the scheduler for a command.

use std::sync::Arc;
use std::time::Duration;

use super::args::GlobalArgs;
use super::CliError;
use crate::app::{AppPaths, Runner, RunnerError};
use crate::crew::WorkspacePolicy;
use crate::engine::CrewExecutor;
use crate::llm::LlmEnv;
use crate::scheduler::{ClaimScope, SchedulerConfig};
use crate::store::{OpenOptions, SqliteStore, Store};

/// The variable that overrides how long a write waits for another process's write lock, in
/// milliseconds (default: [`OpenOptions::default`], 5 s). Mainly for tests and scripts that
/// prefer to fail fast.
pub const BUSY_TIMEOUT_VAR: &str = "CREW_RUNNER_BUSY_TIMEOUT_MS";

/// Opens the database in the data dir (creating and migrating it if needed).
pub fn open_store(global: &GlobalArgs) -> Result<Arc<dyn Store>, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    let options = open_options(std::env::var(BUSY_TIMEOUT_VAR).ok().as_deref())?;
    let store = SqliteStore::open_with(paths.database(), options).map_err(CliError::failure)?;
    Ok(Arc::new(store))
}

/// The open options for a value of [`BUSY_TIMEOUT_VAR`] (`None`: unset). A value that is not a
/// whole number of milliseconds is a usage error.
fn open_options(busy_timeout_ms: Option<&str>) -> Result<OpenOptions, CliError> {
    let mut options = OpenOptions::default();
    if let Some(text) = busy_timeout_ms {
        let ms: u64 = text
            .trim()
            .parse()
            .map_err(|_| CliError::Usage(format!("{BUSY_TIMEOUT_VAR} must be a number of milliseconds, not `{text}`")))?;
        options.busy_timeout = Duration::from_millis(ms);
    }
    Ok(options)
}

/// Where a crew's workspace may be: its folder, the data dir's `workspaces/` and the folders of
/// `--allow-workspace` (`allowed`).
pub fn workspace_policy(global: &GlobalArgs, allowed: &[std::path::PathBuf]) -> Result<WorkspacePolicy, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    Ok(paths.workspace_policy(allowed))
}

/// The process's LLM environment, keeping endpoint credentials in the data dir's `secrets/`.
pub fn llm_env(global: &GlobalArgs) -> Result<LlmEnv, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    Ok(LlmEnv::from_process().with_secrets(paths.secrets_dir()))
}

/// Starts this process's scheduler running crews with the real engine, and returns the
/// [`Runner`] over it. `concurrency: Some(n)` also stores `n` as the shared setting; `None` keeps
/// the stored one.
pub async fn start_runner(global: &GlobalArgs, concurrency: Option<u32>, scope: ClaimScope) -> Result<Runner, CliError> {
    if concurrency == Some(0) {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    let store = open_store(global)?;
    let executor = Arc::new(CrewExecutor::new(llm_env(global)?));
    let config = SchedulerConfig { concurrency, scope, ..SchedulerConfig::default() };
    Runner::start(store, executor, config).await.map_err(CliError::failure)
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

/// The application API for a one-shot command: a [`Runner`] writing to the store directly (this
/// process runs nothing; the process owning the queue notices within its heartbeat).
pub fn client(global: &GlobalArgs) -> Result<Runner, CliError> {
    Ok(Runner::client(open_store(global)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_timeout_comes_from_the_variable() {
        assert_eq!(open_options(None).unwrap(), OpenOptions::default());
        assert_eq!(open_options(Some("250")).unwrap().busy_timeout, Duration::from_millis(250));
        assert!(matches!(open_options(Some("soon")), Err(CliError::Usage(_))));
        assert!(matches!(open_options(Some("-1")), Err(CliError::Usage(_))));
    }
}
