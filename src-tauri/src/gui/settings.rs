//! The Settings view's side of the configuration: what the page sees ([`SettingsView`]) and how the
//! configuration's errors reach it. The settings themselves, where they are kept and how they are
//! checked are the core's ([`crate::app::config`]), shared with `crew-runner config`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::http_server::HttpApiView;
pub use crate::app::config::{ConfigStore, FileError, HttpApiSettings, InvalidUpdate, KeyLocation, LlmSettings, Settings, SettingsUpdate};

/// The settings as the UI sees them: the key only as "set or not". The queue's shared settings
/// and where the data lives are added by the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub provider: String,
    pub base_url: String,
    pub model: String,
    pub api_key_set: bool,
    /// Where the stored key is: `keyring` (the OS credential store), `file` (`credentials.json`
    /// beside the settings), or `None` when none is stored.
    pub api_key_storage: Option<KeyLocation>,
    pub notify_on_finish: bool,
    /// Folders a crew's workspace may be in besides its own folder and the data dir's `workspaces/`.
    pub allowed_workspaces: Vec<String>,
    /// Executions run at once (shared by every process on the database).
    pub concurrency: u32,
    pub paused: bool,
    pub data_dir: String,
    pub database: String,
    /// The settings file (`<config dir>/settings.json`).
    pub config_file: String,
    /// The configuration keys the app's environment overrides (`llm.model`, `llm.api_key`,
    /// `llm.base_url`), each with the variable that does (`MODEL`, `OPENAI_API_KEY`, …).
    pub env_overrides: BTreeMap<String, String>,
    /// Known provider prefixes, for the provider picker.
    pub providers: Vec<String>,
    /// The local HTTP API: the setting and the server's state.
    pub http_api: HttpApiView,
}

impl From<InvalidUpdate> for super::CommandError {
    fn from(e: InvalidUpdate) -> Self {
        super::CommandError::new(super::CommandErrorKind::InvalidArgument, e.to_string())
    }
}

impl From<FileError> for super::CommandError {
    fn from(e: FileError) -> Self {
        super::CommandError::new(super::CommandErrorKind::Io, e.to_string())
    }
}
