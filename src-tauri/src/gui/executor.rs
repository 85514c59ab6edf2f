//! The app's executor: the crew engine over the environment with the current settings applied.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::settings::SettingsFile;
use crate::engine::CrewExecutor;
use crate::execution::{AttemptOutput, BoxFuture, ExecutionError, Executor, Journal, RunRequest};
use crate::llm::LlmEnv;

/// Runs each attempt with a [`CrewExecutor`] built from the process environment plus the LLM
/// settings as they are when the attempt starts (so a new key or model applies to the next attempt,
/// never to a running one). Cancellation is the engine's.
pub struct SettingsExecutor {
    base: LlmEnv,
    settings: Arc<SettingsFile>,
}

impl SettingsExecutor {
    pub fn new(base: LlmEnv, settings: Arc<SettingsFile>) -> Self {
        SettingsExecutor { base, settings }
    }

    /// The environment an attempt starting now would use.
    pub fn env(&self) -> LlmEnv {
        self.settings.get().llm.llm_env(&self.base)
    }
}

impl Executor for SettingsExecutor {
    fn execute(
        &self,
        request: RunRequest,
        journal: Arc<dyn Journal>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AttemptOutput, ExecutionError>> {
        CrewExecutor::new(self.env()).execute(request, journal, cancel)
    }
}
