//! What the commands share: the [`Runner`], the data paths, the settings, the log followers and the
//! in-app HTTP server.

use std::sync::Arc;

use super::crew_library::CrewLibrary;
use super::executor::SettingsExecutor;
use super::http_server::HttpServer;
use super::log_follow::LogFollowers;
use super::settings::{ConfigStore, FileError};
use crate::app::{AppPaths, PathsError};
use crate::app::{ClaimScope, SchedulerConfig};
use crate::app::{OpenRunnerError, Runner, RunnerError};
use crate::crew::WorkspacePolicy;
use crate::llm::LlmEnv;

/// The app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data dir cannot be resolved or created.
    #[error(transparent)]
    Paths(#[from] PathsError),
    /// The database cannot be opened or migrated (or the busy-timeout variable is invalid), or
    /// the scheduler could not start (its owner lock or its first recovery failed).
    #[error(transparent)]
    Runner(#[from] OpenRunnerError),
    /// The configuration (`settings.json`, `credentials.json`) is unreadable, or migrating an
    /// earlier `settings.json` failed.
    #[error(transparent)]
    Settings(#[from] FileError),
}

/// The state managed by the Tauri app (`State<'_, GuiState>` in commands).
pub struct GuiState {
    pub paths: AppPaths,
    /// The application API over this app's scheduler (every command goes through it).
    pub runner: Runner,
    /// The configuration, shared with `crew-runner config` (see [`crate::app::config`]).
    pub settings: Arc<ConfigStore>,
    pub executor: Arc<SettingsExecutor>,
    pub library: CrewLibrary,
    pub followers: LogFollowers,
    /// The local HTTP API on [`runner`](Self::runner), when the `http_api` setting is on.
    pub http: HttpServer,
}

impl GuiState {
    /// Opens the database in `paths`, loads the settings and starts a scheduler that claims any
    /// runnable execution ([`ClaimScope::All`]: the app is a worker of the shared database) with
    /// `base` as the LLM environment under the settings, and the HTTP API when the setting is on (a
    /// server that cannot start is shown in Settings, not an error here). Call inside a tokio
    /// runtime.
    pub async fn start(paths: AppPaths, base: LlmEnv) -> Result<GuiState, StartError> {
        let settings = Arc::new(ConfigStore::open(&paths)?);
        let executor = Arc::new(SettingsExecutor::new(
            base.with_secrets(paths.secrets_dir()).with_python_cache(paths.python_cache()),
            settings.clone(),
        ));
        let config = SchedulerConfig { scope: ClaimScope::All, ..SchedulerConfig::default() };
        // CrewAI processes a dead worker left behind (normally none: see engine::crewai::orphans).
        crate::engine::crewai::orphans::reap_orphans_at_start();
        let runner = Runner::open(&paths.database(), executor.clone(), config).await?;
        let http = HttpServer::new(crate::http::LlmEnvSource::new({
            let executor = executor.clone();
            move || executor.env()
        }));
        http.apply(&runner, &paths, &settings.get()).await;
        Ok(GuiState {
            library: CrewLibrary::new(&paths.data_dir),
            paths,
            runner,
            settings,
            executor,
            followers: LogFollowers::default(),
            http,
        })
    }

    /// Where a crew's workspace may be: its own folder, the data dir's `workspaces/` and the
    /// folders of the `allowed_workspaces` setting.
    pub fn workspace_policy(&self) -> WorkspacePolicy {
        let allowed: Vec<std::path::PathBuf> = self.settings.get().allowed_workspaces.iter().map(std::path::PathBuf::from).collect();
        self.paths.workspace_policy(&allowed)
    }

    /// Makes the HTTP server match the current settings ([`HttpServer::apply`]).
    pub async fn apply_http_api(&self) {
        self.http.apply(&self.runner, &self.paths, &self.settings.get()).await;
    }

    /// Stops the HTTP server and following logs, and shuts the scheduler down: running attempts are interrupted and
    /// put back to `queued` (their finished tasks are kept and reused when they run again, in this
    /// app's next start or in a worker). Idempotent.
    pub async fn shutdown(&self) -> Result<(), RunnerError> {
        self.http.stop().await;
        self.followers.stop_all();
        self.runner.shutdown().await
    }
}
