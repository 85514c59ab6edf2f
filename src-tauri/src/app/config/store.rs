//! [`ConfigStore`]: the configuration of one config dir, loaded once and shared (the app's commands
//! and executor, a CLI command), saved atomically.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use keyring_core::CredentialStore;
use serde_json::Value;

use super::credentials::{KeyLocation, KeyStore};
use super::file::{read_json, write_private_json, FileError};
use super::migration::migrate;
use super::settings::Settings;
use crate::app::{AppPaths, ConfigOrigin};

/// The settings file's name, in the config dir (and, in earlier versions, in the data dir).
pub const SETTINGS_FILE: &str = "settings.json";

/// The configuration of one config dir: `settings.json` (everything but the API key) and the key
/// in its [`KeyStore`].
#[derive(Debug)]
pub struct ConfigStore {
    path: PathBuf,
    keys: KeyStore,
    current: RwLock<Current>,
}

#[derive(Clone, Debug)]
struct Current {
    settings: Settings,
    /// The file as read or written (`Null` when there is none): which keys it sets.
    file: Value,
    key: Option<KeyLocation>,
}

impl ConfigStore {
    /// The configuration of `paths.config_dir`, after migrating `<data dir>/settings.json` into it
    /// ([`migrate`]). The API key is kept in the OS credential store only for the platform config
    /// dir ([`ConfigOrigin::Platform`]); an explicit config or data dir keeps it in its own
    /// `credentials.json`. Defaults when nothing is stored yet.
    pub fn open(paths: &AppPaths) -> Result<ConfigStore, FileError> {
        let keyring = if paths.config_origin == ConfigOrigin::Platform { KeyStore::os_keyring() } else { None };
        ConfigStore::open_with(paths, keyring)
    }

    /// As [`open`](Self::open) with `keyring` as the credential store (`None`: the file).
    pub fn open_with(paths: &AppPaths, keyring: Option<Arc<CredentialStore>>) -> Result<ConfigStore, FileError> {
        let keys = KeyStore::new(&paths.config_dir, keyring);
        let path = paths.config_dir.join(SETTINGS_FILE);
        migrate(&paths.data_dir.join(SETTINGS_FILE), &path, &keys)?;
        let current = load(&path, &keys)?;
        Ok(ConfigStore { path, keys, current: RwLock::new(current) })
    }

    /// Reads the settings file and the key store again (after a change by another process, such
    /// as `crew-runner config set`). On error the current settings stay.
    pub fn reload(&self) -> Result<(), FileError> {
        let fresh = load(&self.path, &self.keys)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// A copy of the current settings, the API key included.
    pub fn get(&self) -> Settings {
        self.read().settings.clone()
    }

    /// The settings file (`<config dir>/settings.json`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the API key is stored, `None` when there is none.
    pub fn key_location(&self) -> Option<KeyLocation> {
        self.read().key
    }

    /// Whether the settings file sets the field at `pointer` (a JSON pointer, `/llm/model`).
    pub fn file_sets(&self, pointer: &str) -> bool {
        self.read().file.pointer(pointer).is_some()
    }

    /// Stores `settings`: the key (when it changed) in the key store, the fields that changed in the
    /// settings file (mode 0600, atomically; the fields it did not set stay unset, so they keep
    /// following the defaults); then makes them current. On error the current settings stay.
    pub fn save(&self, settings: Settings) -> Result<(), FileError> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let mut key = current.key;
        if settings.llm.api_key != current.settings.llm.api_key {
            key = self.keys.set(settings.llm.api_key.trim())?;
        }
        let file = with_changes(current.file.clone(), &as_json(&current.settings), &as_json(&settings));
        write_private_json(&self.path, &file)?;
        *current = Current { settings, file, key };
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|p| p.into_inner())
    }
}

fn as_json(settings: &Settings) -> Value {
    serde_json::to_value(settings).expect("settings serialise (the key is never serialised)")
}

/// `file` with the fields where `new` differs from `old` set to `new`'s (objects field by field).
fn with_changes(file: Value, old: &Value, new: &Value) -> Value {
    match (file, old, new) {
        (file, Value::Object(old), Value::Object(new)) => {
            let mut file = match file {
                Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            for (k, v) in new {
                let before = old.get(k).unwrap_or(&Value::Null);
                if before != v {
                    let inner = file.remove(k).unwrap_or(Value::Null);
                    file.insert(k.clone(), with_changes(inner, before, v));
                }
            }
            Value::Object(file)
        }
        (_, _, new) => new.clone(),
    }
}

fn load(path: &Path, keys: &KeyStore) -> Result<Current, FileError> {
    let file = read_json::<Value>(path)?.unwrap_or(Value::Null);
    let mut settings: Settings = if file.is_null() {
        Settings::default()
    } else {
        serde_json::from_value(file.clone()).map_err(|e| FileError::Read { path: path.to_path_buf(), reason: e.to_string() })?
    };
    let key = keys.get()?;
    settings.llm.api_key = key.as_ref().map(|(k, _)| k.clone()).unwrap_or_default();
    Ok(Current { settings, file, key: key.map(|(_, at)| at) })
}

#[cfg(test)]
mod tests {
    use super::super::credentials::CREDENTIALS_FILE;
    use super::super::settings::{HttpApiSettings, LlmSettings};
    use super::*;

    fn paths(dir: &Path) -> AppPaths {
        AppPaths::resolve(Some(dir)).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            llm: LlmSettings { provider: "openai".into(), base_url: String::new(), model: "m".into(), api_key: "sk-k".into() },
            notify_on_finish: false,
            allowed_workspaces: vec!["/srv/ws".into()],
            http_api: HttpApiSettings { enabled: true, port: 9000 },
            trace_payloads: crate::execution::TracePayloads::Metadata,
        }
    }

    #[test]
    fn saved_settings_load_back_private_with_the_key_beside_them() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ConfigStore::open_with(&paths(tmp.path()), None).unwrap();
        assert_eq!(store.get(), Settings::default());
        assert!(!store.file_sets("/llm/model"));
        store.save(settings()).unwrap();
        let again = ConfigStore::open_with(&paths(tmp.path()), None).unwrap();
        assert_eq!(again.get(), settings());
        assert_eq!(again.key_location(), Some(KeyLocation::File));
        assert!(again.file_sets("/llm/model"));
        let text = std::fs::read_to_string(tmp.path().join(SETTINGS_FILE)).unwrap();
        assert!(!text.contains("sk-k"), "the key is not in settings.json: {text}");
        #[cfg(unix)]
        for file in [SETTINGS_FILE, CREDENTIALS_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }

    #[test]
    fn only_what_changed_is_written_so_the_rest_follows_the_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ConfigStore::open_with(&paths(tmp.path()), None).unwrap();
        store.save(Settings { llm: LlmSettings { model: "only".into(), ..LlmSettings::default() }, ..Settings::default() }).unwrap();
        assert!(store.file_sets("/llm/model"));
        assert!(!store.file_sets("/http_api/port") && !store.file_sets("/llm/provider") && !store.file_sets("/notify_on_finish"));
        let mut next = store.get();
        next.http_api.port = 9001;
        store.save(next).unwrap();
        let again = ConfigStore::open_with(&paths(tmp.path()), None).unwrap();
        assert_eq!((again.get().llm.model.as_str(), again.get().http_api.port), ("only", 9001));
        assert!(again.file_sets("/http_api/port") && !again.file_sets("/http_api/enabled"));
    }

    #[test]
    fn with_a_keyring_the_key_is_there_and_nowhere_else() {
        let tmp = tempfile::tempdir().unwrap();
        let keyring: Arc<CredentialStore> = keyring_core::mock::Store::new().unwrap();
        let store = ConfigStore::open_with(&paths(tmp.path()), Some(keyring.clone())).unwrap();
        store.save(settings()).unwrap();
        assert_eq!(store.key_location(), Some(KeyLocation::Keyring));
        assert!(!tmp.path().join(CREDENTIALS_FILE).exists());
        assert_eq!(ConfigStore::open_with(&paths(tmp.path()), Some(keyring)).unwrap().get().llm.api_key, "sk-k");
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(SETTINGS_FILE), "{not json").unwrap();
        let err = ConfigStore::open_with(&paths(tmp.path()), None).unwrap_err();
        assert!(err.to_string().contains(SETTINGS_FILE), "{err}");
    }

    #[test]
    fn an_old_settings_file_in_the_data_dir_moves_to_the_config_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let config = tmp.path().join("config");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join(SETTINGS_FILE), r#"{"llm": {"model": "old-model", "api_key": "sk-old"}}"#).unwrap();
        let paths = paths(&data).with_config_dir(Some(&config));
        let store = ConfigStore::open_with(&paths, None).unwrap();
        assert_eq!((store.get().llm.model.as_str(), store.get().llm.api_key.as_str()), ("old-model", "sk-old"));
        assert!(!data.join(SETTINGS_FILE).exists());
        assert!(config.join(SETTINGS_FILE).exists());
    }
}
