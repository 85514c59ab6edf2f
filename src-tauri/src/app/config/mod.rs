//! One configuration for every face (the desktop app's Settings view, `crew-runner config`, and
//! what `--run`, `worker`, `serve` and `validate` apply): `settings.json` in the config dir (see
//! [`AppPaths`](crate::app::AppPaths) for where that is), the API key in the OS credential store when
//! there is one, else in `credentials.json` (mode 0600) beside it; environment variables win over
//! both ([`keys`]).
//!
//! - What is configured, and a change of it from the app: [`settings`] ([`SettingsUpdate`]).
//! - Loading (after migrating an earlier `<data dir>/settings.json`, see [`migration`]) and saving:
//!   [`ConfigStore`].
//! - The keys by name, as `crew-runner config get|set|list` uses them: [`keys`].

mod credentials;
mod file;
pub mod keys;
pub mod migration;
pub mod settings;
mod store;

pub use credentials::{KeyLocation, KeyStore, CREDENTIALS_FILE, KEYRING_SERVICE, KEYRING_USER};
pub use file::FileError;
pub use settings::{HttpApiSettings, InvalidUpdate, LlmSettings, Settings, SettingsUpdate};
pub use store::{ConfigStore, SETTINGS_FILE};
