//! [`ApiState`]: what every handler reads.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::app::{AppPaths, Runner};
use crate::crew::WorkspacePolicy;
use crate::llm::LlmEnv;

/// Where submissions' LLM environment comes from: asked at every request, so a source that follows
/// settings (the desktop app's) gives their current value.
#[derive(Clone)]
pub struct LlmEnvSource(Arc<dyn Fn() -> LlmEnv + Send + Sync>);

impl LlmEnvSource {
    pub fn new(source: impl Fn() -> LlmEnv + Send + Sync + 'static) -> LlmEnvSource {
        LlmEnvSource(Arc::new(source))
    }

    /// The environment now.
    pub fn env(&self) -> LlmEnv {
        (self.0)()
    }
}

impl std::fmt::Debug for LlmEnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LlmEnvSource(…)")
    }
}

/// The runner, how crews are checked, and the server's shutdown signal.
#[derive(Clone)]
pub struct ApiState {
    pub runner: Runner,
    /// Where crews' workspaces may be (the data dir's policy plus the allowed folders).
    pub workspaces: WorkspacePolicy,
    /// The LLM environment submissions are checked in: [`ServeOptions::llm_env`](super::ServeOptions::llm_env),
    /// else the process's with the data dir's `secrets/` and Python cache, as the CLI's.
    pub llm: LlmEnvSource,
    /// Cancelled when the server stops: event streams end then.
    pub shutdown: CancellationToken,
}

impl ApiState {
    pub fn new(runner: Runner, paths: &AppPaths, allowed: &[PathBuf], llm: Option<LlmEnvSource>, shutdown: CancellationToken) -> ApiState {
        let llm = llm.unwrap_or_else(|| {
            let env = LlmEnv::from_process().with_secrets(paths.secrets_dir()).with_python_cache(paths.python_cache());
            LlmEnvSource::new(move || env.clone())
        });
        ApiState { runner, workspaces: paths.workspace_policy(allowed), llm, shutdown }
    }
}
