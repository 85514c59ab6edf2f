//! Where a run gets its chat models: normally a [`ModelRegistry`]; tests inject their own.

use std::sync::Arc;

use crate::crew::LlmSettings;
use crate::llm::{ChatModel, LlmError, ModelRegistry, ToolTape};

/// Resolves model strings (`openai/gpt-4o-mini`, `offline`) to chat models for one run.
pub trait ModelSource: Send + Sync {
    /// The model used when neither the agent, `--model`, nor the crew names one.
    fn default_model(&self) -> String;
    /// The model for a model string.
    fn model(&self, name: &str) -> Result<Arc<dyn ChatModel>, LlmError>;
    /// The model for a model string with an agent's settings (endpoint, key, temperature,
    /// `max_tokens`); sources without endpoints ignore the settings.
    fn model_with(&self, name: &str, settings: &LlmSettings) -> Result<Arc<dyn ChatModel>, LlmError> {
        let _ = settings;
        self.model(name)
    }
    /// Where tool results are recorded or replayed from (see [`ToolTape`]); none by default.
    fn tool_tape(&self) -> Option<ToolTape> {
        None
    }
}

impl ModelSource for ModelRegistry {
    fn default_model(&self) -> String {
        ModelRegistry::default_model(self)
    }
    fn model(&self, name: &str) -> Result<Arc<dyn ChatModel>, LlmError> {
        ModelRegistry::model(self, name)
    }
    fn model_with(&self, name: &str, settings: &LlmSettings) -> Result<Arc<dyn ChatModel>, LlmError> {
        ModelRegistry::model_with(self, name, settings)
    }
    fn tool_tape(&self) -> Option<ToolTape> {
        ModelRegistry::tool_tape(self)
    }
}

/// The provider's model name for a model string: the part after the first `/`
/// (`openai/gpt-4o-mini` → `gpt-4o-mini`); the whole string when it has no `/` (`offline`).
pub fn provider_model_name(model: &str) -> &str {
    model.split_once('/').map(|(_, m)| m).unwrap_or(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_provider_prefix_once() {
        assert_eq!(provider_model_name("openai/gpt-4o-mini"), "gpt-4o-mini");
        assert_eq!(provider_model_name("openrouter/meta/llama"), "meta/llama");
        assert_eq!(provider_model_name("offline"), "offline");
    }
}
