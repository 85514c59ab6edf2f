//! Opening the store the same way for every face (the desktop app, the CLI, the HTTP API): the
//! database in the data dir, with the busy timeout [`BUSY_TIMEOUT_VAR`] asks for, and a
//! [`Runner`] over it ([`Runner::open_client`], [`Runner::open`]): a face gets its runner here and
//! never holds the store or the scheduler itself.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Runner, RunnerError};
use crate::execution::Executor;
use crate::scheduler::SchedulerConfig;
use crate::store::{OpenOptions, SqliteStore, Store, StoreError};

/// The variable that overrides how long a write waits for another process's write lock, in
/// milliseconds (default: [`OpenOptions::default`], 5 s). Mainly for tests and scripts that
/// prefer to fail fast.
pub const BUSY_TIMEOUT_VAR: &str = "CREW_RUNNER_BUSY_TIMEOUT_MS";

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    /// [`BUSY_TIMEOUT_VAR`] is not a whole number of milliseconds (a usage error).
    #[error("{BUSY_TIMEOUT_VAR} must be a number of milliseconds, not `{0}`")]
    BadBusyTimeout(String),
    /// The database cannot be opened, created or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a [`Runner`] could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenRunnerError {
    /// The database cannot be opened, created or migrated, or the busy-timeout variable is invalid.
    #[error(transparent)]
    Store(#[from] OpenStoreError),
    /// The scheduler could not start (its owner lock or its first recovery failed).
    #[error(transparent)]
    Start(#[from] RunnerError),
}

impl OpenRunnerError {
    /// Whether the caller's input is at fault (an invalid [`BUSY_TIMEOUT_VAR`]): the CLI's exit 2.
    pub fn is_usage(&self) -> bool {
        matches!(self, OpenRunnerError::Store(OpenStoreError::BadBusyTimeout(_)))
    }
}

impl Runner {
    /// Opens (creating and migrating it if needed) the database at `database` and returns a
    /// runner writing to it directly: this process runs nothing (see [`Runner::client`]).
    pub fn open_client(database: &Path) -> Result<Runner, OpenStoreError> {
        Ok(Runner::client(open_store(database)?))
    }

    /// Opens the database at `database` and starts this process's scheduler on it, running
    /// executions with `executor` (see [`Runner::start`]). Call inside a tokio runtime.
    pub async fn open(database: &Path, executor: Arc<dyn Executor>, config: SchedulerConfig) -> Result<Runner, OpenRunnerError> {
        let store = open_store(database)?;
        Ok(Runner::start(store, executor, config).await?)
    }
}

/// Opens (creating and migrating it if needed) the database at `database` with the options the
/// environment asks for.
pub(crate) fn open_store(database: &Path) -> Result<Arc<dyn Store>, OpenStoreError> {
    let options = open_options(std::env::var(BUSY_TIMEOUT_VAR).ok().as_deref())?;
    Ok(Arc::new(SqliteStore::open_with(database, options)?))
}

/// The open options for a value of [`BUSY_TIMEOUT_VAR`] (`None`: unset).
fn open_options(busy_timeout_ms: Option<&str>) -> Result<OpenOptions, OpenStoreError> {
    let mut options = OpenOptions::default();
    if let Some(text) = busy_timeout_ms {
        let ms: u64 = text.trim().parse().map_err(|_| OpenStoreError::BadBusyTimeout(text.to_string()))?;
        options.busy_timeout = Duration::from_millis(ms);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_timeout_comes_from_the_variable() {
        assert_eq!(open_options(None).unwrap(), OpenOptions::default());
        assert_eq!(open_options(Some("250")).unwrap().busy_timeout, Duration::from_millis(250));
        assert!(matches!(open_options(Some("soon")), Err(OpenStoreError::BadBusyTimeout(_))));
        assert!(matches!(open_options(Some("-1")), Err(OpenStoreError::BadBusyTimeout(_))));
    }
}
