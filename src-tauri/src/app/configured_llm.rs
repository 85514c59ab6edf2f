//! The LLM the user configured (provider, base URL, model, API key: the `llm` part of the
//! [configuration](super::config)), and how every face applies it: under the environment
//! ([`ConfiguredLlm::fill_env`]: a variable set in the environment wins), so the app, `--run`,
//! `worker` and `serve` on the same configuration run alike, and an execution queued in the app runs
//! with the app's key and model when a CLI worker takes it. The API key never leaves in clear:
//! `Debug` redacts it, and it is never serialised.

use serde::{Deserialize, Serialize};

use crate::llm::providers::find_provider;
use crate::llm::LlmEnv;

/// The LLM part of the settings: what "configured model" means in the New run view.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfiguredLlm {
    /// A provider prefix of the provider table (`openai`, `ollama`, …); empty: the environment decides.
    #[serde(default)]
    pub provider: String,
    /// The endpoint's base URL; empty: the provider's default (or its environment variable).
    #[serde(default)]
    pub base_url: String,
    /// The model name without the provider prefix (`gpt-4o-mini`); empty: the crew's or `MODEL`.
    #[serde(default)]
    pub model: String,
    /// The provider's API key; empty: the environment's. Kept in the key store, never serialised.
    #[serde(default, skip_serializing)]
    pub api_key: String,
}

impl std::fmt::Debug for ConfiguredLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredLlm")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &if self.api_key.is_empty() { "" } else { "<redacted>" })
            .finish()
    }
}

impl ConfiguredLlm {
    /// The model string the engine resolves (`openai/gpt-4o-mini`), when a model is set.
    pub fn model_string(&self) -> Option<String> {
        let model = self.model.trim();
        if model.is_empty() {
            return None;
        }
        let provider = self.provider.trim();
        Some(if provider.is_empty() || model.contains('/') { model.to_string() } else { format!("{provider}/{model}") })
    }

    /// The base URL override, when set.
    pub fn api_base(&self) -> Option<String> {
        Some(self.base_url.trim().to_string()).filter(|b| !b.is_empty())
    }

    /// `base` with these settings filling what it leaves unset: `MODEL`, the provider's key variable
    /// and its base-URL variable (e.g. `OPENAI_API_BASE`) are set only when `base` has none of them.
    pub fn fill_env(&self, base: &LlmEnv) -> LlmEnv {
        let mut env = base.clone();
        let provider = find_provider(if self.provider.trim().is_empty() { "openai" } else { self.provider.trim() });
        let mut fill = |var: &str, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                if env.vars.get(var).is_none_or(|v| v.trim().is_empty()) {
                    env.vars.insert(var.to_string(), value);
                }
            }
        };
        fill("MODEL", self.model_string());
        if let Some(p) = provider {
            if let Some(var) = p.key_var {
                fill(var, Some(self.api_key.trim().to_string()));
            }
            if p.base_vars.iter().all(|v| base.vars.get(*v).is_none_or(|x| x.trim().is_empty())) {
                if let Some(var) = p.base_vars.first() {
                    fill(var, self.api_base());
                }
            }
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> LlmEnv {
        let mut e = LlmEnv::default();
        for (k, v) in vars {
            e.vars.insert(k.to_string(), v.to_string());
        }
        e
    }

    fn configured() -> ConfiguredLlm {
        ConfiguredLlm {
            provider: "openai".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "gpt-4o".into(),
            api_key: "sk-settings".into(),
        }
    }

    #[test]
    fn the_environment_wins_and_the_settings_fill_the_rest() {
        let filled = configured().fill_env(&env(&[]));
        assert_eq!(filled.vars["MODEL"], "openai/gpt-4o");
        assert_eq!(filled.vars["OPENAI_API_KEY"], "sk-settings");
        assert_eq!(filled.vars["OPENAI_API_BASE"], "http://127.0.0.1:9/v1");
        let kept = configured().fill_env(&env(&[("OPENAI_API_KEY", "sk-env"), ("OPENAI_BASE_URL", "http://env/v1"), ("MODEL", "m")]));
        assert_eq!(kept.vars["OPENAI_API_KEY"], "sk-env");
        assert_eq!(kept.vars["MODEL"], "m");
        assert!(!kept.vars.contains_key("OPENAI_API_BASE"), "the environment names the base already (OPENAI_BASE_URL)");
        assert_eq!(ConfiguredLlm::default().fill_env(&env(&[])).vars.len(), 0);
    }
}
