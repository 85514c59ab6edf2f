//! [`ApiState`]: what every handler reads.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::app::{AppPaths, Runner};
use crate::crew::WorkspacePolicy;
use crate::llm::LlmEnv;

/// The runner, how crews are checked, and the server's shutdown signal.
#[derive(Clone)]
pub struct ApiState {
    pub runner: Runner,
    /// Where crews' workspaces may be (the data dir's policy plus the allowed folders).
    pub workspaces: WorkspacePolicy,
    /// The LLM environment submissions are checked in (the process's, with the data dir's
    /// `secrets/` and Python cache), as the CLI's.
    pub llm: LlmEnv,
    /// Cancelled when the server stops: event streams end then.
    pub shutdown: CancellationToken,
}

impl ApiState {
    pub fn new(runner: Runner, paths: &AppPaths, allowed: &[PathBuf], shutdown: CancellationToken) -> ApiState {
        ApiState {
            runner,
            workspaces: paths.workspace_policy(allowed),
            llm: LlmEnv::from_process().with_secrets(paths.secrets_dir()).with_python_cache(paths.python_cache()),
            shutdown,
        }
    }
}
