//! Resolves model strings to chat models for one run. (Stub: the LLM work replaces the body.)

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ChatModel, LlmError, LlmErrorKind, OfflineModel};
use crate::execution::LlmOptions;

/// The environment variables the resolver reads (`OPENAI_API_KEY`, `OPENAI_API_BASE`,
/// `OPENAI_BASE_URL`, `OLLAMA_HOST`, `MODEL`, `ANTHROPIC_API_KEY`, …), captured once so tests can
/// pass their own.
#[derive(Clone, Debug, Default)]
pub struct LlmEnv {
    pub vars: BTreeMap<String, String>,
}

impl LlmEnv {
    /// The process environment's LLM-related variables.
    pub fn from_process() -> Self {
        LlmEnv { vars: std::env::vars().collect() }
    }
}

/// The models one run uses, built from its [`LlmOptions`] (model/api-base overrides, record or
/// replay) and the environment. Cheap to clone; models are cached by model string.
#[derive(Clone)]
pub struct ModelRegistry {
    #[allow(dead_code)]
    options: LlmOptions,
    #[allow(dead_code)]
    env: LlmEnv,
}

impl ModelRegistry {
    pub fn new(options: LlmOptions, env: LlmEnv) -> Result<Self, LlmError> {
        Ok(ModelRegistry { options, env })
    }

    /// The model to use when neither the agent nor the crew names one: `--model`, else `MODEL`,
    /// else `openai/gpt-4o-mini`.
    pub fn default_model(&self) -> String {
        self.options.model.clone().or_else(|| self.env.vars.get("MODEL").cloned()).unwrap_or_else(|| "openai/gpt-4o-mini".into())
    }

    /// The model for a model string as CrewAI users write it.
    pub fn model(&self, model: &str) -> Result<Arc<dyn ChatModel>, LlmError> {
        if model == "offline" {
            return Ok(Arc::new(OfflineModel::new()));
        }
        Err(LlmError::new(LlmErrorKind::Config, format!("model `{model}`: providers are not implemented yet")))
    }
}
