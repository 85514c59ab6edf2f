//! The provider table: how a CrewAI model string (`openai/gpt-4o-mini`, `ollama/llama3.1`, …)
//! maps to an OpenAI-compatible endpoint (base URL, API key) and the provider's model name.
//!
//! Resolution rules, in order:
//! - The prefix before the first `/` names the provider; a string without a known prefix and
//!   without `/` (`gpt-4o-mini`) is an OpenAI model. A `/` after an unknown prefix is a
//!   [`ProviderError::UnknownProvider`] (the message lists the known prefixes).
//! - The base URL is `--api-base` (for any provider), else the provider's environment variables
//!   in order, else the provider's public default.
//! - The key is the provider's `*_API_KEY` variable. It is required only when the base is the
//!   provider's public default and the provider needs one; a custom base (a local or proxy
//!   server) works without a key.

use super::LlmEnv;

/// One provider's row in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provider {
    /// The prefixes users write (`ollama`, `ollama_chat`); the first is the canonical one.
    pub prefixes: &'static [&'static str],
    /// Variables holding a custom base URL, first set wins.
    pub base_vars: &'static [&'static str],
    /// Appended to a base taken from `base_vars` (Ollama's `OLLAMA_HOST` is the bare host).
    pub base_var_suffix: &'static str,
    /// The base used when nothing overrides it.
    pub default_base: &'static str,
    /// The variable holding the API key, if the provider uses one.
    pub key_var: Option<&'static str>,
    /// Whether the public default base needs a key (false for local servers).
    pub key_required: bool,
    /// Runs on the user's machine: no price, cost 0.
    pub local: bool,
}

impl Provider {
    /// The canonical prefix (`ollama` for `ollama_chat/…` too).
    pub fn name(&self) -> &'static str {
        self.prefixes[0]
    }
}

/// Every known provider. Bare model names go to the first row (OpenAI).
pub const PROVIDERS: &[Provider] = &[
    Provider {
        prefixes: &["openai"],
        base_vars: &["OPENAI_API_BASE", "OPENAI_BASE_URL"],
        base_var_suffix: "",
        default_base: "https://api.openai.com/v1",
        key_var: Some("OPENAI_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["ollama", "ollama_chat"],
        base_vars: &["OLLAMA_HOST"],
        base_var_suffix: "/v1",
        default_base: "http://127.0.0.1:11434/v1",
        key_var: None,
        key_required: false,
        local: true,
    },
    Provider {
        prefixes: &["lm_studio"],
        base_vars: &["LM_STUDIO_API_BASE"],
        base_var_suffix: "",
        default_base: "http://127.0.0.1:1234/v1",
        key_var: Some("LM_STUDIO_API_KEY"),
        key_required: false,
        local: true,
    },
    Provider {
        prefixes: &["hosted_vllm", "vllm"],
        base_vars: &["HOSTED_VLLM_API_BASE", "VLLM_API_BASE"],
        base_var_suffix: "",
        default_base: "http://127.0.0.1:8000/v1",
        key_var: Some("HOSTED_VLLM_API_KEY"),
        key_required: false,
        local: true,
    },
    Provider {
        prefixes: &["llamacpp"],
        base_vars: &["LLAMACPP_API_BASE"],
        base_var_suffix: "",
        default_base: "http://127.0.0.1:8080/v1",
        key_var: Some("LLAMACPP_API_KEY"),
        key_required: false,
        local: true,
    },
    Provider {
        prefixes: &["anthropic"],
        base_vars: &["ANTHROPIC_API_BASE"],
        base_var_suffix: "",
        default_base: "https://api.anthropic.com/v1",
        key_var: Some("ANTHROPIC_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["gemini"],
        base_vars: &["GEMINI_API_BASE"],
        base_var_suffix: "",
        default_base: "https://generativelanguage.googleapis.com/v1beta/openai",
        key_var: Some("GEMINI_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["groq"],
        base_vars: &["GROQ_API_BASE"],
        base_var_suffix: "",
        default_base: "https://api.groq.com/openai/v1",
        key_var: Some("GROQ_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["openrouter"],
        base_vars: &["OPENROUTER_API_BASE"],
        base_var_suffix: "",
        default_base: "https://openrouter.ai/api/v1",
        key_var: Some("OPENROUTER_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["deepseek"],
        base_vars: &["DEEPSEEK_API_BASE"],
        base_var_suffix: "",
        default_base: "https://api.deepseek.com/v1",
        key_var: Some("DEEPSEEK_API_KEY"),
        key_required: true,
        local: false,
    },
    Provider {
        prefixes: &["mistral"],
        base_vars: &["MISTRAL_API_BASE"],
        base_var_suffix: "",
        default_base: "https://api.mistral.ai/v1",
        key_var: Some("MISTRAL_API_KEY"),
        key_required: true,
        local: false,
    },
];

/// Why a model string could not be resolved to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The model string is empty (or only a prefix, like `openai/`).
    #[error("model `{0}`: no model name")]
    EmptyModel(String),
    /// The prefix before `/` is not a known provider.
    #[error("model `{model}`: unknown provider `{prefix}` (known: {known})")]
    UnknownProvider { model: String, prefix: String, known: String },
    /// The provider's public endpoint needs a key and its variable is not set.
    #[error("model `{model}`: set {var} (or use --api-base for a server that needs no key)")]
    MissingKey { model: String, var: &'static str },
}

/// A model string split into its provider and the provider's model name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    pub provider: &'static Provider,
    /// The model name sent to the provider (`gpt-4o-mini`, `llama3.1:8b`, `anthropic/claude-3.5`).
    pub model: String,
}

impl ModelRef {
    /// Splits `model` as described in the module docs.
    pub fn parse(model: &str) -> Result<ModelRef, ProviderError> {
        let model = model.trim();
        let (provider, name) = match model.split_once('/') {
            Some((prefix, rest)) => match find_provider(prefix) {
                Some(p) => (p, rest),
                None => {
                    return Err(ProviderError::UnknownProvider {
                        model: model.to_string(),
                        prefix: prefix.to_string(),
                        known: known_prefixes(),
                    })
                }
            },
            None => (&PROVIDERS[0], model),
        };
        if name.trim().is_empty() {
            return Err(ProviderError::EmptyModel(model.to_string()));
        }
        Ok(ModelRef { provider, model: name.trim().to_string() })
    }

    /// The canonical model string (`openai/gpt-4o-mini` for `gpt-4o-mini`).
    pub fn canonical(&self) -> String {
        format!("{}/{}", self.provider.name(), self.model)
    }
}

/// Where and how to send requests for one model.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub model: ModelRef,
    /// The base URL without a trailing `/` (`https://api.openai.com/v1`).
    pub api_base: String,
    /// The key sent as `Authorization: Bearer …`; `None` sends no Authorization header.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("model", &self.model.canonical())
            .field("api_base", &self.shown_base())
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Endpoint {
    /// The base URL as it may be shown and logged: credentials in it read `***`.
    pub fn shown_base(&self) -> String {
        super::endpoint_secrets::redact_url(&self.api_base)
    }

    /// Every secret a message about this endpoint must not repeat: the key and the URL's
    /// credentials.
    pub fn secrets(&self) -> Vec<String> {
        let mut all = super::endpoint_secrets::url_secrets(&self.api_base);
        all.extend(self.api_key.clone());
        all
    }

    /// Resolves `model` with `api_base` (`--api-base`) and the environment, as described in the
    /// module docs.
    pub fn resolve(model: &str, api_base: Option<&str>, env: &LlmEnv) -> Result<Endpoint, ProviderError> {
        let model = ModelRef::parse(model)?;
        let provider = model.provider;
        let var = |name: &str| env.vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let custom_base = match api_base.map(str::trim).filter(|b| !b.is_empty()) {
            Some(base) => Some(base.to_string()),
            None => provider
                .base_vars
                .iter()
                .find_map(|name| var(name))
                .map(|base| format!("{}{}", with_scheme(base).trim_end_matches('/'), provider.base_var_suffix)),
        };
        let api_key = provider.key_var.and_then(var).map(str::to_string);
        if custom_base.is_none() && provider.key_required && api_key.is_none() {
            if let Some(var) = provider.key_var {
                return Err(ProviderError::MissingKey { model: model.canonical(), var });
            }
        }
        let api_base = custom_base.unwrap_or_else(|| provider.default_base.to_string());
        Ok(Endpoint { model, api_base: api_base.trim_end_matches('/').to_string(), api_key })
    }
}

/// The provider whose prefixes include `prefix`.
pub fn find_provider(prefix: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.prefixes.contains(&prefix))
}

/// Every known prefix, comma-separated, for error messages.
pub fn known_prefixes() -> String {
    PROVIDERS.iter().flat_map(|p| p.prefixes.iter().copied()).collect::<Vec<_>>().join(", ")
}

/// `host:port` as `http://host:port` (Ollama's `OLLAMA_HOST` is often written without a scheme).
fn with_scheme(base: &str) -> String {
    if base.contains("://") {
        base.to_string()
    } else {
        format!("http://{base}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> LlmEnv {
        LlmEnv { vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), secrets: None, python_cache: None }
    }

    #[test]
    fn bare_names_are_openai_models() {
        let m = ModelRef::parse("gpt-4o-mini").unwrap();
        assert_eq!(m.provider.name(), "openai");
        assert_eq!(m.model, "gpt-4o-mini");
        assert_eq!(m.canonical(), "openai/gpt-4o-mini");
    }

    #[test]
    fn only_the_first_slash_splits() {
        let m = ModelRef::parse("openrouter/anthropic/claude-3.5-sonnet").unwrap();
        assert_eq!(m.provider.name(), "openrouter");
        assert_eq!(m.model, "anthropic/claude-3.5-sonnet");
        assert_eq!(ModelRef::parse("ollama_chat/llama3.1:8b").unwrap().canonical(), "ollama/llama3.1:8b");
    }

    #[test]
    fn unknown_prefix_lists_the_known_ones() {
        let err = ModelRef::parse("acme/big-model").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown provider `acme`"), "{msg}");
        assert!(msg.contains("openai") && msg.contains("ollama") && msg.contains("mistral"), "{msg}");
        assert_eq!(ModelRef::parse("openai/").unwrap_err(), ProviderError::EmptyModel("openai/".into()));
    }

    #[test]
    fn openai_base_precedence() {
        let e = env(&[("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "http://b/v1"), ("OPENAI_API_BASE", "http://a/v1/")]);
        assert_eq!(Endpoint::resolve("gpt-4o", None, &e).unwrap().api_base, "http://a/v1");
        assert_eq!(Endpoint::resolve("gpt-4o", Some("http://cli/v1"), &e).unwrap().api_base, "http://cli/v1");
        let e = env(&[("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "http://b/v1")]);
        assert_eq!(Endpoint::resolve("gpt-4o", None, &e).unwrap().api_base, "http://b/v1");
        let e = env(&[("OPENAI_API_KEY", "k")]);
        let ep = Endpoint::resolve("openai/gpt-4o", None, &e).unwrap();
        assert_eq!(ep.api_base, "https://api.openai.com/v1");
        assert_eq!(ep.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn missing_key_names_the_variable_unless_the_base_is_custom() {
        let err = Endpoint::resolve("anthropic/claude-sonnet-4", None, &env(&[])).unwrap_err();
        assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
        let err = Endpoint::resolve("gpt-4o-mini", None, &env(&[])).unwrap_err();
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
        let ep = Endpoint::resolve("gpt-4o-mini", Some("http://127.0.0.1:9/v1"), &env(&[])).unwrap();
        assert_eq!(ep.api_key, None);
        let ep = Endpoint::resolve("groq/llama", None, &env(&[("GROQ_API_BASE", "http://proxy/v1")])).unwrap();
        assert_eq!(ep.api_base, "http://proxy/v1");
    }

    #[test]
    fn ollama_host_gets_scheme_and_v1() {
        let ep = Endpoint::resolve("ollama/llama3.1", None, &env(&[])).unwrap();
        assert_eq!(ep.api_base, "http://127.0.0.1:11434/v1");
        assert_eq!(ep.api_key, None);
        let ep = Endpoint::resolve("ollama/llama3.1", None, &env(&[("OLLAMA_HOST", "gpu-box:11434")])).unwrap();
        assert_eq!(ep.api_base, "http://gpu-box:11434/v1");
        let ep = Endpoint::resolve("ollama/llama3.1", None, &env(&[("OLLAMA_HOST", "http://h:1/")])).unwrap();
        assert_eq!(ep.api_base, "http://h:1/v1");
    }

    #[test]
    fn local_and_hosted_defaults() {
        let e = env(&[]);
        assert_eq!(Endpoint::resolve("lm_studio/qwen", None, &e).unwrap().api_base, "http://127.0.0.1:1234/v1");
        assert_eq!(Endpoint::resolve("llamacpp/x", None, &e).unwrap().api_base, "http://127.0.0.1:8080/v1");
        let e = env(&[("VLLM_API_BASE", "http://v:8000/v1")]);
        assert_eq!(Endpoint::resolve("vllm/m", None, &e).unwrap().api_base, "http://v:8000/v1");
        let e = env(&[("GEMINI_API_KEY", "g")]);
        assert_eq!(
            Endpoint::resolve("gemini/gemini-2.0-flash", None, &e).unwrap().api_base,
            "https://generativelanguage.googleapis.com/v1beta/openai"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let ep = Endpoint::resolve("gpt-4o", None, &env(&[("OPENAI_API_KEY", "sk-secret-123")])).unwrap();
        assert!(!format!("{ep:?}").contains("sk-secret-123"));
    }
}
