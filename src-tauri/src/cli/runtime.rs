//! Opening the store and starting the scheduler for a command.

use std::sync::Arc;

use super::args::GlobalArgs;
use super::CliError;
use crate::app::AppPaths;
use crate::engine::CrewExecutor;
use crate::execution::{Execution, ExecutionId};
use crate::llm::LlmEnv;
use crate::scheduler::{ClaimScope, Scheduler, SchedulerConfig};
use crate::store::{SqliteStore, Store};

/// Opens the database in the data dir (creating and migrating it if needed).
pub fn open_store(global: &GlobalArgs) -> Result<Arc<dyn Store>, CliError> {
    let paths = AppPaths::resolve(global.data_dir.as_deref()).map_err(CliError::usage)?;
    let store = SqliteStore::open(paths.database()).map_err(CliError::failure)?;
    Ok(Arc::new(store))
}

/// Starts a scheduler that runs crews with the real engine.
/// `concurrency: Some(n)` also stores `n` as the shared setting; `None` keeps the stored one.
pub async fn start_scheduler(global: &GlobalArgs, concurrency: Option<u32>, scope: ClaimScope) -> Result<Scheduler, CliError> {
    if concurrency == Some(0) {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    let store = open_store(global)?;
    let executor = Arc::new(CrewExecutor::new(LlmEnv::from_process()));
    let config = SchedulerConfig { concurrency, scope, ..SchedulerConfig::default() };
    Scheduler::start(store, executor, config).await.map_err(CliError::failure)
}

/// Parses an id and loads its execution; an unknown id is a usage error (exit 2).
pub fn find(store: &dyn Store, id: &str) -> Result<Execution, CliError> {
    let parsed: ExecutionId = id.parse().map_err(CliError::usage)?;
    store
        .get(&parsed)
        .map_err(CliError::failure)?
        .ok_or_else(|| CliError::Usage(format!("no execution with id {parsed}")))
}
