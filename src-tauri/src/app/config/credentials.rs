//! Where the API key is kept: the OS credential store when there is one (the `keyring` crate: the
//! Secret Service over D-Bus on Linux, Keychain on macOS, Credential Manager on Windows), else
//! `credentials.json` (mode 0600) beside `settings.json`.
//!
//! Only the user's own configuration (the platform config dir) uses the OS store: an explicit config
//! or data dir keeps its key in its own `credentials.json`, so isolated data dirs (tests, scripts)
//! never touch the user's login keyring.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::file::{read_json, write_private_json, FileError};

/// The keyring service name: the app's identifier.
pub const KEYRING_SERVICE: &str = "dev.crew-runner.crew-runner";
/// The keyring user name of the LLM API key.
pub const KEYRING_USER: &str = "llm.api_key";
/// The file the key is kept in when there is no OS credential store.
pub const CREDENTIALS_FILE: &str = "credentials.json";
/// The field of [`CREDENTIALS_FILE`] holding the LLM API key.
const API_KEY_FIELD: &str = "llm.api_key";

/// Where a stored key was found or put (the Settings view's `api_key_storage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum KeyLocation {
    /// The OS credential store.
    Keyring,
    /// `credentials.json` beside the settings.
    File,
}

/// The API key's storage for one config dir.
#[derive(Clone)]
pub struct KeyStore {
    keyring: Option<Arc<CredentialStore>>,
    file: PathBuf,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore").field("keyring", &self.keyring.as_ref().map(|s| s.vendor())).field("file", &self.file).finish()
    }
}

impl KeyStore {
    /// The key store of `config_dir`: `keyring` (when given) first, `credentials.json` in
    /// `config_dir` otherwise or when the keyring fails.
    pub fn new(config_dir: &Path, keyring: Option<Arc<CredentialStore>>) -> KeyStore {
        KeyStore { keyring, file: config_dir.join(CREDENTIALS_FILE) }
    }

    /// The OS credential store, when this platform has one that answers (on Linux: a Secret Service
    /// on the session bus). Connecting is tried once per process.
    pub fn os_keyring() -> Option<Arc<CredentialStore>> {
        match keyring::Entry::store_status() {
            Ok(()) => keyring_core::get_default_store(),
            Err(e) => {
                tracing::debug!("no OS credential store ({e}); API keys go to credentials.json");
                None
            }
        }
    }

    /// The stored key and where it is: the keyring's when it has one, else the file's; `None` when
    /// neither has one. A failing keyring is logged and the file is read.
    pub fn get(&self) -> Result<Option<(String, KeyLocation)>, FileError> {
        if let Some(entry) = self.entry() {
            match entry.get_password() {
                Ok(key) if !key.is_empty() => return Ok(Some((key, KeyLocation::Keyring))),
                Ok(_) | Err(keyring_core::Error::NoEntry) => {}
                Err(e) => tracing::warn!("cannot read the API key from the OS credential store: {e}; reading {}", self.file.display()),
            }
        }
        Ok(self.read_file()?.remove(API_KEY_FIELD).filter(|k| !k.is_empty()).map(|k| (k, KeyLocation::File)))
    }

    /// Stores `key` (an empty key removes it): in the keyring when it takes it (then the file's
    /// copy is removed), else in the file. Returns where it went (`None`: removed).
    pub fn set(&self, key: &str) -> Result<Option<KeyLocation>, FileError> {
        if key.is_empty() {
            if let Some(entry) = self.entry() {
                match entry.delete_credential() {
                    Ok(()) | Err(keyring_core::Error::NoEntry) => {}
                    Err(e) => tracing::warn!("cannot remove the API key from the OS credential store: {e}"),
                }
            }
            self.write_file(None)?;
            return Ok(None);
        }
        if let Some(entry) = self.entry() {
            match entry.set_password(key) {
                Ok(()) => {
                    self.write_file(None)?;
                    return Ok(Some(KeyLocation::Keyring));
                }
                Err(e) => tracing::warn!("cannot store the API key in the OS credential store: {e}; using {}", self.file.display()),
            }
        }
        self.write_file(Some(key))?;
        Ok(Some(KeyLocation::File))
    }

    fn entry(&self) -> Option<Entry> {
        let store = self.keyring.as_ref()?;
        Entry::new_in_store(store, KEYRING_SERVICE, KEYRING_USER)
            .inspect_err(|e| tracing::warn!("cannot open the OS credential store's entry: {e}"))
            .ok()
    }

    fn read_file(&self) -> Result<BTreeMap<String, String>, FileError> {
        Ok(read_json(&self.file)?.unwrap_or_default())
    }

    /// Writes the file with `key` (the file removed when it would be empty).
    fn write_file(&self, key: Option<&str>) -> Result<(), FileError> {
        let mut fields = self.read_file()?;
        match key {
            Some(k) => fields.insert(API_KEY_FIELD.to_string(), k.to_string()),
            None => fields.remove(API_KEY_FIELD),
        };
        if fields.is_empty() {
            return match std::fs::remove_file(&self.file) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(FileError::Write { path: self.file.clone(), source }),
            };
        }
        write_private_json(&self.file, &fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    #[test]
    fn without_a_keyring_the_key_is_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path(), None);
        assert_eq!(store.get().unwrap(), None);
        assert_eq!(store.set("sk-1").unwrap(), Some(KeyLocation::File));
        assert_eq!(store.get().unwrap(), Some(("sk-1".into(), KeyLocation::File)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CREDENTIALS_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(store.set("").unwrap(), None);
        assert_eq!(store.get().unwrap(), None);
        assert!(!dir.path().join(CREDENTIALS_FILE).exists(), "an empty file is removed");
    }

    #[test]
    fn the_keyring_takes_the_key_and_the_file_copy_goes() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = mock();
        KeyStore::new(dir.path(), None).set("sk-file").unwrap();
        let store = KeyStore::new(dir.path(), Some(keyring.clone()));
        assert_eq!(store.get().unwrap(), Some(("sk-file".into(), KeyLocation::File)), "read from the file until moved");
        assert_eq!(store.set("sk-ring").unwrap(), Some(KeyLocation::Keyring));
        assert!(!dir.path().join(CREDENTIALS_FILE).exists());
        let again = KeyStore::new(dir.path(), Some(keyring.clone()));
        assert_eq!(again.get().unwrap(), Some(("sk-ring".into(), KeyLocation::Keyring)));
        let entry = Entry::new_in_store(&keyring, KEYRING_SERVICE, KEYRING_USER).unwrap();
        assert_eq!(entry.get_password().unwrap(), "sk-ring");
        assert_eq!(again.set("").unwrap(), None);
        assert!(matches!(entry.get_password(), Err(keyring_core::Error::NoEntry)));
    }

    #[test]
    fn a_failing_keyring_falls_back_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = mock();
        let entry = Entry::new_in_store(&keyring, KEYRING_SERVICE, KEYRING_USER).unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::NoStorageAccess("locked".into()));
        let store = KeyStore::new(dir.path(), Some(keyring));
        assert_eq!(store.set("sk-1").unwrap(), Some(KeyLocation::File), "a locked keyring does not lose the key");
        assert_eq!(store.get().unwrap(), Some(("sk-1".into(), KeyLocation::File)));
    }
}
