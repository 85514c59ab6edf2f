//! Resolves model strings to chat models for one run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::openai::{ClientSettings, OpenAiCompatibleModel};
use super::providers::{Endpoint, ModelRef, ProviderError};
use super::record::{RecordFile, RecordingModel};
use super::replay::{ReplayBook, ReplayModel};
use super::tool_tape::ToolTape;
use super::{ChatModel, LlmError, LlmErrorKind, OfflineModel};
use crate::crew::LlmSettings;
use crate::execution::LlmOptions;

/// The environment variables the resolver reads (`OPENAI_API_KEY`, `OPENAI_API_BASE`,
/// `OPENAI_BASE_URL`, `OLLAMA_HOST`, `MODEL`, `ANTHROPIC_API_KEY`, …), captured once so tests can
/// pass their own.
#[derive(Clone, Debug, Default)]
pub struct LlmEnv {
    pub vars: BTreeMap<String, String>,
    /// Where endpoint credentials are kept (`<data dir>/secrets/`, see
    /// [`endpoint_secrets`](super::endpoint_secrets)); `None`: an `--api-base` with credentials
    /// cannot be submitted or run.
    pub secrets: Option<PathBuf>,
    /// Where the CrewAI engine remembers which Pythons import CrewAI (`AppPaths::python_cache`,
    /// see `engine::crewai::python`); `None`: probed at every use.
    pub python_cache: Option<PathBuf>,
}

impl LlmEnv {
    /// The process environment's LLM-related variables.
    pub fn from_process() -> Self {
        LlmEnv { vars: std::env::vars().collect(), secrets: None, python_cache: None }
    }

    /// What the store keeps of each LLM call: [`TRACE_PAYLOADS_VAR`](crate::execution::TRACE_PAYLOADS_VAR)
    /// (which the configuration's `trace_payloads` fills when the environment leaves it unset),
    /// [`TracePayloads::Full`](crate::execution::TracePayloads::Full) by default.
    pub fn trace_payloads(&self) -> crate::execution::TracePayloads {
        crate::execution::TracePayloads::from_vars(&self.vars)
    }

    /// The same environment, keeping endpoint credentials in `dir`.
    pub fn with_secrets(mut self, dir: PathBuf) -> Self {
        self.secrets = Some(dir);
        self
    }

    /// The same environment, remembering probed Pythons in `file`.
    pub fn with_python_cache(mut self, file: PathBuf) -> Self {
        self.python_cache = Some(file);
        self
    }
}

/// The models one run uses, built from its [`LlmOptions`] (model/api-base overrides, record or
/// replay) and the environment. Cheap to clone; models are cached by model string (clones share
/// the cache).
///
/// - `offline` is the [`OfflineModel`].
/// - Any other string is resolved by the [provider table](super::providers) to an
///   [`OpenAiCompatibleModel`] (timeouts from `CREW_RUNNER_LLM_TIMEOUT_SECS` /
///   `CREW_RUNNER_LLM_CONNECT_TIMEOUT_SECS`, `response_format` unless `CREW_RUNNER_RESPONSE_FORMAT=off`;
///   see [`ClientSettings`]).
/// - With `replay`, every model (offline included) is a [`ReplayModel`] over the recording: no
///   endpoint is resolved, no key is needed, nothing touches the network. The provider prefix
///   must still be known.
/// - With `record`, every model is wrapped in a [`RecordingModel`] appending to the file.
#[derive(Clone)]
pub struct ModelRegistry {
    /// As stored: `api_base` redacted when it carries credentials.
    options: LlmOptions,
    /// The real endpoint URL (`options.api_base` with its credentials, from the secrets file).
    api_base: Option<String>,
    env: LlmEnv,
    settings: ClientSettings,
    recording: Option<Arc<RecordFile>>,
    replay: Option<Arc<ReplayBook>>,
    cache: Arc<Mutex<HashMap<String, Arc<dyn ChatModel>>>>,
}

impl std::fmt::Debug for ModelRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRegistry")
            .field("options", &self.options)
            .field("settings", &self.settings)
            .field("recording", &self.recording.as_ref().map(|r| r.path().to_path_buf()))
            .field("replay", &self.replay.as_ref().map(|r| r.path().to_path_buf()))
            .finish_non_exhaustive()
    }
}

impl ModelRegistry {
    /// Reads the timeouts from `env`, reads the endpoint's credentials back (when
    /// `options.secret_ref` names a secrets file), opens the recording (append) and loads the
    /// replay file. Fails with `Config` when a timeout variable is not a positive number, or a
    /// file cannot be opened or parsed.
    pub fn new(options: LlmOptions, env: LlmEnv) -> Result<Self, LlmError> {
        let settings = ClientSettings::from_env(&env)?;
        let api_base = super::endpoint_secrets::unseal(env.secrets.as_deref(), &options)
            .map_err(|e| LlmError::new(LlmErrorKind::Config, e.to_string()))?;
        let recording = match options.record.as_deref().filter(|p| !p.is_empty()) {
            Some(path) => Some(Arc::new(RecordFile::open(Path::new(path))?)),
            None => None,
        };
        let replay = match options.replay.as_deref().filter(|p| !p.is_empty()) {
            Some(path) => Some(Arc::new(ReplayBook::load(Path::new(path))?)),
            None => None,
        };
        Ok(ModelRegistry { options, api_base, env, settings, recording, replay, cache: Arc::new(Mutex::new(HashMap::new())) })
    }

    /// The model to use when neither the agent nor the crew names one: `--model`, else `MODEL`,
    /// else `openai/gpt-4o-mini`.
    pub fn default_model(&self) -> String {
        self.options
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| self.env.vars.get("MODEL").filter(|m| !m.trim().is_empty()).cloned())
            .unwrap_or_else(|| "openai/gpt-4o-mini".into())
    }

    /// The model for a model string as CrewAI users write it. Errors (`Config`): an empty
    /// string, an unknown provider prefix (the message lists the known ones), a missing key for
    /// a provider's public endpoint (the message names the variable).
    pub fn model(&self, model: &str) -> Result<Arc<dyn ChatModel>, LlmError> {
        self.model_with(model, &LlmSettings::default())
    }

    /// [`model`](Self::model) with an agent's [`LlmSettings`]: its `base_url` is the endpoint
    /// (unless `--api-base` overrides every endpoint; a provider's base suffix such as Ollama's
    /// `/v1` is added when missing), its `api_key_env` names the key's variable (an error when
    /// unset), and its `temperature`/`max_tokens` go into every request that sets none.
    pub fn model_with(&self, model: &str, settings: &LlmSettings) -> Result<Arc<dyn ChatModel>, LlmError> {
        let model = model.trim();
        if model.is_empty() {
            return Err(LlmError::new(LlmErrorKind::Config, "empty model string"));
        }
        let cache_key = if settings.is_empty() { model.to_string() } else { format!("{model}\u{0}{settings:?}") };
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = cache.get(&cache_key) {
            return Ok(found.clone());
        }
        let mut built = self.build(model, settings)?;
        if let Some(file) = &self.recording {
            built = Arc::new(RecordingModel::new(built, file.clone()));
        }
        cache.insert(cache_key, built.clone());
        Ok(built)
    }

    /// Where this run's tool results are kept (`--record`) or served from (`--replay`); `None`
    /// without either.
    pub fn tool_tape(&self) -> Option<ToolTape> {
        match (&self.replay, &self.recording) {
            (Some(book), _) => Some(ToolTape::Replay(book.clone())),
            (None, Some(file)) => Some(ToolTape::Record(file.clone())),
            (None, None) => None,
        }
    }

    fn build(&self, model: &str, settings: &LlmSettings) -> Result<Arc<dyn ChatModel>, LlmError> {
        let config = |e: ProviderError| LlmError::new(LlmErrorKind::Config, e.to_string());
        if let Some(book) = &self.replay {
            let name = if model == "offline" { "offline".to_string() } else { ModelRef::parse(model).map_err(config)?.canonical() };
            return Ok(Arc::new(ReplayModel::new(name, book.clone())));
        }
        if model == "offline" {
            return Ok(Arc::new(OfflineModel::new()));
        }
        let agent_base = settings.base_url.as_deref().map(|b| agent_base_url(model, b));
        let base = self.api_base.as_deref().or(agent_base.as_deref());
        let endpoint = match &settings.api_key_env {
            None => Endpoint::resolve(model, base, &self.env).map_err(config)?,
            Some(var) => {
                let key = self.env.vars.get(var).map(|k| k.trim()).filter(|k| !k.is_empty());
                let key = key.ok_or_else(|| LlmError::new(LlmErrorKind::Config, format!("model `{model}`: set {var} (its `api_key`)")))?;
                // The named variable stands for the provider's key variable.
                let mut env = self.env.clone();
                if let Some(key_var) = ModelRef::parse(model).map_err(config)?.provider.key_var {
                    env.vars.insert(key_var.to_string(), key.to_string());
                }
                let mut endpoint = Endpoint::resolve(model, base, &env).map_err(config)?;
                endpoint.api_key = Some(key.to_string());
                endpoint
            }
        };
        let built = OpenAiCompatibleModel::new(endpoint, &self.settings)?.with_defaults(settings.temperature, settings.max_tokens);
        Ok(Arc::new(built))
    }
}

/// An agent's `base_url` for `model`: with the provider's base suffix (Ollama's `/v1`) when the URL
/// is the bare host, as CrewAI users write it.
fn agent_base_url(model: &str, base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    let suffix = ModelRef::parse(model).map(|m| m.provider.base_var_suffix).unwrap_or("");
    if suffix.is_empty() || base.ends_with(suffix) {
        base.to_string()
    } else {
        format!("{base}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ChatMessage, ChatRequest};

    fn env(pairs: &[(&str, &str)]) -> LlmEnv {
        LlmEnv { vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), secrets: None, python_cache: None }
    }

    #[test]
    fn default_model_precedence() {
        let r = ModelRegistry::new(LlmOptions::default(), env(&[])).unwrap();
        assert_eq!(r.default_model(), "openai/gpt-4o-mini");
        let r = ModelRegistry::new(LlmOptions::default(), env(&[("MODEL", "ollama/llama3.1")])).unwrap();
        assert_eq!(r.default_model(), "ollama/llama3.1");
        let options = LlmOptions { model: Some("gpt-4o".into()), ..Default::default() };
        let r = ModelRegistry::new(options, env(&[("MODEL", "ollama/llama3.1")])).unwrap();
        assert_eq!(r.default_model(), "gpt-4o");
    }

    #[test]
    fn models_resolve_and_are_cached() {
        let r = ModelRegistry::new(LlmOptions::default(), env(&[("OPENAI_API_KEY", "sk-x")])).unwrap();
        let a = r.model("gpt-4o-mini").unwrap();
        assert_eq!(a.name(), "openai/gpt-4o-mini");
        let b = r.clone().model("gpt-4o-mini").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(r.model("offline").unwrap().name(), "offline");
        assert_eq!(r.model("ollama_chat/qwen2.5").unwrap().name(), "ollama/qwen2.5");
    }

    #[test]
    fn agent_settings_choose_the_endpoint_and_key() {
        let r = ModelRegistry::new(LlmOptions::default(), env(&[("MY_KEY", "k")])).unwrap();
        let with_base = LlmSettings { base_url: Some("http://127.0.0.1:9".into()), ..Default::default() };
        assert!(r.model_with("openai/gpt-4o", &with_base).is_ok());
        let missing = LlmSettings { api_key_env: Some("NOPE".into()), ..Default::default() };
        assert!(r.model_with("openai/gpt-4o", &missing).err().unwrap().message.contains("NOPE"));
        let keyed = LlmSettings { api_key_env: Some("MY_KEY".into()), ..Default::default() };
        assert!(r.model_with("openai/gpt-4o", &keyed).is_ok());
        assert_eq!(agent_base_url("ollama/llama3.1", "http://h:11434/"), "http://h:11434/v1");
        assert_eq!(agent_base_url("ollama/llama3.1", "http://h:11434/v1"), "http://h:11434/v1");
        assert_eq!(agent_base_url("gpt-4o", "http://h/api"), "http://h/api");
    }

    #[test]
    fn config_errors() {
        let r = ModelRegistry::new(LlmOptions::default(), env(&[])).unwrap();
        let err = r.model("acme/x").err().unwrap();
        assert_eq!(err.kind, LlmErrorKind::Config);
        assert!(err.message.contains("ollama"), "{}", err.message);
        let err = r.model("openai/gpt-4o").err().unwrap();
        assert!(err.message.contains("OPENAI_API_KEY"), "{}", err.message);
        let with_base = LlmOptions { api_base: Some("http://127.0.0.1:9/v1".into()), ..Default::default() };
        assert!(ModelRegistry::new(with_base, env(&[])).unwrap().model("openai/gpt-4o").is_ok());
        let err = ModelRegistry::new(LlmOptions::default(), env(&[("CREW_RUNNER_LLM_TIMEOUT_SECS", "x")])).err().unwrap();
        assert_eq!(err.kind, LlmErrorKind::Config);
        let missing = LlmOptions { replay: Some("/nonexistent/rec.jsonl".into()), ..Default::default() };
        assert_eq!(ModelRegistry::new(missing, env(&[])).err().unwrap().kind, LlmErrorKind::Config);
    }

    #[tokio::test]
    async fn replay_needs_no_key_and_serves_recorded_offline_or_remote_models() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.jsonl");
        let request = ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![ChatMessage::user("hello")],
            tools: vec![],
            temperature: None,
            stream: false,
            response_format: None,
            label: Some("t".into()),
        };
        let exchange = crate::llm::exchange::Exchange::new(
            "openai/gpt-4o-mini",
            request.clone(),
            crate::llm::ChatResponse { content: "recorded".into(), ..Default::default() },
        );
        std::fs::write(&path, serde_json::to_string(&exchange).unwrap() + "\n").unwrap();
        let options = LlmOptions { replay: Some(path.display().to_string()), ..Default::default() };
        let r = ModelRegistry::new(options, env(&[])).unwrap();
        let reply = r.model("gpt-4o-mini").unwrap().chat(request.clone(), None).await.unwrap();
        assert_eq!(reply.content, "recorded");
        let err = r.model("offline").unwrap().chat(request, None).await.unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::ReplayMismatch);
        assert_eq!(r.model("acme/x").err().unwrap().kind, LlmErrorKind::Config);
    }
}
