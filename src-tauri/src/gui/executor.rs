//! The app's executor: the crew engine over the environment, the current settings filling what it
//! leaves unset.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::settings::{ConfigStore, LlmSettings};
use crate::app::config::keys::env_overrides;
use crate::engine::CrewExecutor;
use crate::execution::{AttemptOutput, BoxFuture, ExecutionError, Executor, Journal, RunRequest};
use crate::llm::LlmEnv;

/// Runs each attempt with a [`CrewExecutor`] built from the process environment and the LLM
/// settings as they are when the attempt starts (the environment wins, as for every face: see
/// [`LlmSettings::fill_env`]) (so a new key or model applies to the next attempt,
/// never to a running one). Cancellation is the engine's.
pub struct SettingsExecutor {
    base: LlmEnv,
    settings: Arc<ConfigStore>,
}

impl SettingsExecutor {
    /// The executor over `base` (the process environment) and `settings`.
    pub fn new(base: LlmEnv, settings: Arc<ConfigStore>) -> Self {
        SettingsExecutor { base, settings }
    }

    /// The environment an attempt starting now would use.
    pub fn env(&self) -> LlmEnv {
        self.settings.get().fill_env(&self.base)
    }

    /// The configured LLM without what the environment overrides (a base URL the environment sets
    /// is not stored with a submission): what the New run view's *configured model* means.
    pub fn configured_llm(&self) -> LlmSettings {
        let settings = self.settings.get();
        let overridden = env_overrides(&settings, &self.base.vars);
        let mut llm = settings.llm;
        if overridden.contains_key("llm.base_url") {
            llm.base_url.clear();
        }
        llm
    }

    /// The configuration keys the environment overrides, each with its variable.
    pub fn env_overrides(&self) -> std::collections::BTreeMap<String, String> {
        env_overrides(&self.settings.get(), &self.base.vars)
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
