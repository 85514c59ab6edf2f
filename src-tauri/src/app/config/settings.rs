//! The settings every face shares (LLM provider, base URL, model, API key, notifications, allowed
//! workspaces, the local HTTP API) and a change of them ([`SettingsUpdate`]), checked before anything
//! is saved. Where they are kept is [`ConfigStore`](super::ConfigStore)'s business.
//!
//! The API key never leaves in clear: `Debug` redacts it, and it reaches the LLM client only through
//! [`ConfiguredLlm::fill_env`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::execution::{TracePayloads, TRACE_PAYLOADS_VAR};
use crate::llm::LlmEnv;

pub use crate::app::ConfiguredLlm as LlmSettings;

/// The local HTTP API inside the app (`gui/http_server.rs`): off unless enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpApiSettings {
    /// Serve the HTTP API while the app runs.
    #[serde(default)]
    pub enabled: bool,
    /// The loopback port to listen on (0 in the file: one the system picks; the UI refuses 0).
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    crate::http::ServeOptions::default().port
}

impl Default for HttpApiSettings {
    fn default() -> Self {
        HttpApiSettings { enabled: false, port: default_port() }
    }
}

/// Everything in the configuration (`settings.json` in the config dir, the API key beside it: see
/// [`ConfigStore`](super::ConfigStore)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub llm: LlmSettings,
    /// Show a desktop notification when an execution ends while the window is not focused.
    #[serde(default = "yes")]
    pub notify_on_finish: bool,
    /// Folders a crew's `workspace` may be in besides its own folder and the data dir's
    /// `workspaces/` (as `--allow-workspace` for the CLI).
    #[serde(default)]
    pub allowed_workspaces: Vec<String>,
    /// The local HTTP API.
    #[serde(default)]
    pub http_api: HttpApiSettings,
    /// What is kept of each LLM call for the trace of a run: `full` (the messages and answer
    /// too) or `metadata` (timing, tokens, cost). [`TRACE_PAYLOADS_VAR`] wins over it.
    #[serde(default)]
    pub trace_payloads: TracePayloads,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            llm: LlmSettings::default(),
            notify_on_finish: true,
            allowed_workspaces: Vec::new(),
            http_api: HttpApiSettings::default(),
            trace_payloads: TracePayloads::Full,
        }
    }
}

/// A change of settings (from the app's Settings view). Absent fields are left as they are.
///
/// `api_key`: absent or `null` keeps the stored key, `""` removes it, any other text replaces it.
/// (In TypeScript each field is optional and nullable: `field?: T | null`.)
#[derive(Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettingsUpdate {
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub notify_on_finish: Option<bool>,
    pub concurrency: Option<u32>,
    /// Replaces the list (blank entries dropped).
    pub allowed_workspaces: Option<Vec<String>>,
    /// Turns the local HTTP API on or off.
    pub http_api_enabled: Option<bool>,
    /// The HTTP API's port, 1 to 65535 (wider here so a wrong number gets [`InvalidUpdate`]).
    pub http_api_port: Option<u32>,
}

/// A [`SettingsUpdate`] asks for something impossible (refused before anything is saved).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUpdate {
    /// A concurrency of 0.
    #[error("concurrency must be at least 1")]
    Concurrency,
    /// A port outside 1..=65535.
    #[error("the HTTP API port must be a number from 1 to 65535, not {0}")]
    Port(u32),
    /// A provider the provider table does not know ([`check_provider`]).
    #[error("{0}")]
    Provider(String),
    /// A base URL that is not an http(s) URL ([`check_base_url`]).
    #[error("{0}")]
    BaseUrl(String),
}

/// `provider` (trimmed) is empty (the environment decides) or a prefix of the provider table;
/// otherwise why not, naming the known ones.
pub fn check_provider(provider: &str) -> Result<(), String> {
    let provider = provider.trim();
    if provider.is_empty() || crate::llm::providers::find_provider(provider).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = crate::llm::providers::PROVIDERS.iter().map(|p| p.name()).collect();
    Err(format!("unknown provider {provider:?} (known: {})", known.join(", ")))
}

/// `url` (trimmed) is empty (the provider's default) or an absolute `http://` or `https://` URL;
/// otherwise why not.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(());
    }
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(()),
        Ok(u) => Err(format!("{url:?} is not an http(s) URL (scheme {})", u.scheme())),
        Err(e) => Err(format!("{url:?} is not a URL: {e}")),
    }
}

impl std::fmt::Debug for SettingsUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsUpdate")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("notify_on_finish", &self.notify_on_finish)
            .field("concurrency", &self.concurrency)
            .field("allowed_workspaces", &self.allowed_workspaces)
            .field("http_api_enabled", &self.http_api_enabled)
            .field("http_api_port", &self.http_api_port)
            .finish()
    }
}

impl SettingsUpdate {
    /// Refuses a concurrency of 0, a port outside 1..=65535, an unknown provider and a base URL
    /// that is not an http(s) URL.
    pub fn check(&self) -> Result<(), InvalidUpdate> {
        if self.concurrency == Some(0) {
            return Err(InvalidUpdate::Concurrency);
        }
        if let Some(p) = &self.provider {
            check_provider(p).map_err(InvalidUpdate::Provider)?;
        }
        if let Some(b) = &self.base_url {
            check_base_url(b).map_err(InvalidUpdate::BaseUrl)?;
        }
        match self.http_api_port {
            Some(port) if !(1..=u32::from(u16::MAX)).contains(&port) => Err(InvalidUpdate::Port(port)),
            _ => Ok(()),
        }
    }
}

impl Settings {
    /// `base` with the configured LLM filling what it leaves unset
    /// ([`ConfiguredLlm::fill_env`](crate::app::ConfiguredLlm::fill_env)) and
    /// [`TRACE_PAYLOADS_VAR`] set to `trace_payloads` unless `base` sets it (the environment wins).
    pub fn fill_env(&self, base: &LlmEnv) -> LlmEnv {
        let mut env = self.llm.fill_env(base);
        if env.vars.get(TRACE_PAYLOADS_VAR).is_none_or(|v| v.trim().is_empty()) {
            env.vars.insert(TRACE_PAYLOADS_VAR.to_string(), self.trace_payloads.as_str().to_string());
        }
        env
    }

    /// `self` with `update` applied (the concurrency is not part of these settings). A port that
    /// [`SettingsUpdate::check`] refuses is ignored.
    pub fn updated(&self, update: &SettingsUpdate) -> Settings {
        let mut next = self.clone();
        if let Some(p) = &update.provider {
            next.llm.provider = p.trim().to_string();
        }
        if let Some(b) = &update.base_url {
            next.llm.base_url = b.trim().to_string();
        }
        if let Some(m) = &update.model {
            next.llm.model = m.trim().to_string();
        }
        if let Some(k) = &update.api_key {
            next.llm.api_key = k.trim().to_string();
        }
        if let Some(n) = update.notify_on_finish {
            next.notify_on_finish = n;
        }
        if let Some(dirs) = &update.allowed_workspaces {
            next.allowed_workspaces = dirs.iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
        }
        if let Some(enabled) = update.http_api_enabled {
            next.http_api.enabled = enabled;
        }
        if let Some(port) = update.http_api_port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0) {
            next.http_api.port = port;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llm(provider: &str, model: &str, key: &str) -> LlmSettings {
        LlmSettings { provider: provider.into(), base_url: String::new(), model: model.into(), api_key: key.into() }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = llm("openai", "m", "sk-secret");
        assert!(!format!("{s:?}").contains("sk-secret"));
        let u = SettingsUpdate { api_key: Some("sk-secret".into()), ..Default::default() };
        assert!(!format!("{u:?}").contains("sk-secret"));
    }

    #[test]
    fn update_keeps_clears_or_replaces_the_key() {
        let s = Settings { llm: llm("openai", "m", "old"), ..Settings::default() };
        assert_eq!(s.updated(&SettingsUpdate::default()).llm.api_key, "old");
        assert_eq!(s.updated(&SettingsUpdate { api_key: Some(String::new()), ..Default::default() }).llm.api_key, "");
        assert_eq!(s.updated(&SettingsUpdate { api_key: Some("new".into()), ..Default::default() }).llm.api_key, "new");
    }

    #[test]
    fn the_http_api_is_off_on_port_8765_unless_set() {
        let old: Settings = serde_json::from_str(r#"{"llm": {}, "notify_on_finish": true}"#).unwrap();
        assert_eq!(old.http_api, HttpApiSettings { enabled: false, port: 8765 });
        let on: Settings = serde_json::from_str(r#"{"http_api": {"enabled": true}}"#).unwrap();
        assert_eq!(on.http_api, HttpApiSettings { enabled: true, port: 8765 });
    }

    #[test]
    fn update_switches_the_http_api_and_checks_its_port() {
        let update = SettingsUpdate { http_api_enabled: Some(true), http_api_port: Some(9001), ..Default::default() };
        assert_eq!(update.check(), Ok(()));
        assert_eq!(Settings::default().updated(&update).http_api, HttpApiSettings { enabled: true, port: 9001 });
        for bad in [0, 65536, 100_000] {
            let update = SettingsUpdate { http_api_port: Some(bad), ..Default::default() };
            assert_eq!(update.check(), Err(InvalidUpdate::Port(bad)));
            assert_eq!(Settings::default().updated(&update).http_api.port, 8765, "{bad} is ignored");
        }
        assert_eq!(SettingsUpdate { http_api_port: Some(65535), ..Default::default() }.check(), Ok(()));
        assert_eq!(SettingsUpdate { concurrency: Some(0), ..Default::default() }.check(), Err(InvalidUpdate::Concurrency));
    }

    #[test]
    fn provider_and_base_url_are_checked() {
        assert_eq!(check_provider(" openai "), Ok(()));
        assert_eq!(check_provider(""), Ok(()));
        assert!(check_provider("nope").unwrap_err().contains("openai"), "names the known ones");
        assert_eq!(check_base_url("http://127.0.0.1:9/v1"), Ok(()));
        assert_eq!(check_base_url(""), Ok(()));
        assert!(check_base_url("ftp://x/").is_err());
        assert!(check_base_url("not a url").is_err());
        let bad = SettingsUpdate { provider: Some("nope".into()), ..Default::default() };
        assert!(matches!(bad.check(), Err(InvalidUpdate::Provider(_))));
    }
}
