//! The desktop app's own settings (LLM provider, base URL, model, API key, notifications, the local
//! HTTP API), kept in `<data dir>/settings.json` with owner-only permissions.
//!
//! The API key never leaves this module in clear: [`SettingsView`] only says whether one is set,
//! `Debug` redacts it, and it reaches the LLM client only through [`LlmSettings::llm_env`].

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use super::http_server::HttpApiView;
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

/// Everything stored in `settings.json`.
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
        }
    }
}

/// The settings as the UI sees them: the key only as "set or not". The queue's shared settings
/// and where the data lives are added by the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub provider: String,
    pub base_url: String,
    pub model: String,
    pub api_key_set: bool,
    pub notify_on_finish: bool,
    /// Folders a crew's workspace may be in besides its own folder and the data dir's `workspaces/`.
    pub allowed_workspaces: Vec<String>,
    /// Executions run at once (shared by every process on the database).
    pub concurrency: u32,
    pub paused: bool,
    pub data_dir: String,
    pub database: String,
    /// Known provider prefixes, for the provider picker.
    pub providers: Vec<String>,
    /// The local HTTP API: the setting and the server's state.
    pub http_api: HttpApiView,
}

/// A change of settings from the UI. Absent fields are left as they are.
///
/// `api_key`: absent or `null` keeps the stored key, `""` removes it, any other text replaces it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
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
    #[error("concurrency must be at least 1")]
    Concurrency,
    #[error("the HTTP API port must be a number from 1 to 65535, not {0}")]
    Port(u32),
}

impl From<InvalidUpdate> for super::CommandError {
    fn from(e: InvalidUpdate) -> Self {
        super::CommandError::new(super::CommandErrorKind::InvalidArgument, e.to_string())
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
    /// Refuses a concurrency of 0 and a port outside 1..=65535.
    pub fn check(&self) -> Result<(), InvalidUpdate> {
        if self.concurrency == Some(0) {
            return Err(InvalidUpdate::Concurrency);
        }
        match self.http_api_port {
            Some(port) if !(1..=u32::from(u16::MAX)).contains(&port) => Err(InvalidUpdate::Port(port)),
            _ => Ok(()),
        }
    }
}

impl Settings {
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

/// Reading or writing `settings.json` failed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but cannot be read or parsed.
    #[error("cannot read settings {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    /// The file cannot be written.
    #[error("cannot write settings {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

impl From<SettingsError> for super::CommandError {
    fn from(e: SettingsError) -> Self {
        super::CommandError::new(super::CommandErrorKind::Io, e.to_string())
    }
}

/// The settings file and its current contents, shared by the commands and the executor.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    current: RwLock<Settings>,
}

impl SettingsFile {
    /// The settings file in `data_dir`; defaults when it does not exist yet.
    pub fn load(data_dir: &Path) -> Result<SettingsFile, SettingsError> {
        let path = data_dir.join("settings.json");
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| SettingsError::Read { path: path.clone(), reason: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => return Err(SettingsError::Read { path, reason: e.to_string() }),
        };
        Ok(SettingsFile { path, current: RwLock::new(current) })
    }

    /// A copy of the current settings.
    pub fn get(&self) -> Settings {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes `settings` (atomically: a temp file renamed over the old one, mode 0600), then makes
    /// them current. On error nothing changes.
    pub fn save(&self, settings: Settings) -> Result<(), SettingsError> {
        let write_err = |source| SettingsError::Write { path: self.path.clone(), source };
        let text = serde_json::to_string_pretty(&settings).expect("settings serialise");
        let tmp = self.path.with_extension("json.tmp");
        write_private(&tmp, text.as_bytes()).map_err(write_err)?;
        std::fs::rename(&tmp, &self.path).map_err(write_err)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::LlmEnv;

    fn llm(provider: &str, model: &str, key: &str) -> LlmSettings {
        LlmSettings { provider: provider.into(), base_url: String::new(), model: model.into(), api_key: key.into() }
    }

    #[test]
    fn env_gets_model_and_the_providers_key_variable() {
        let env = llm("openai", "gpt-4o-mini", "sk-1").llm_env(&LlmEnv::default());
        assert_eq!(env.vars.get("MODEL").map(String::as_str), Some("openai/gpt-4o-mini"));
        assert_eq!(env.vars.get("OPENAI_API_KEY").map(String::as_str), Some("sk-1"));
        let env = llm("ollama", "llama3.1", "").llm_env(&LlmEnv::default());
        assert_eq!(env.vars.get("MODEL").map(String::as_str), Some("ollama/llama3.1"));
        assert_eq!(env.vars.len(), 1);
    }

    #[test]
    fn empty_settings_leave_the_environment_alone() {
        let mut base = LlmEnv::default();
        base.vars.insert("MODEL".into(), "offline".into());
        assert_eq!(LlmSettings::default().llm_env(&base).vars, base.vars);
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
    fn saved_settings_load_back_private() {
        let tmp = tempfile::tempdir().unwrap();
        let file = SettingsFile::load(tmp.path()).unwrap();
        assert_eq!(file.get(), Settings::default());
        let s = Settings {
            llm: llm("openai", "m", "k"),
            notify_on_finish: false,
            allowed_workspaces: vec!["/srv/ws".into()],
            http_api: HttpApiSettings { enabled: true, port: 9000 },
        };
        file.save(s.clone()).unwrap();
        assert_eq!(SettingsFile::load(tmp.path()).unwrap().get(), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join("settings.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
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
    fn unreadable_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("settings.json"), "{not json").unwrap();
        assert!(matches!(SettingsFile::load(tmp.path()), Err(SettingsError::Read { .. })));
    }
}
