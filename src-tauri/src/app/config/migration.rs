//! Moving the settings of earlier versions into the configuration: `<data dir>/settings.json` held
//! everything, the API key in clear under `llm.api_key`.
//!
//! - In the config dir's own `settings.json` (the config dir is the data dir): the key moves to the
//!   key store and the file is rewritten without it.
//! - In another data dir: its settings are merged into the config dir's (what the config dir already
//!   sets wins), its key moves to the key store when the key store has none, and the old file is
//!   removed. When the key store already has a different key, the old file is kept, renamed
//!   `settings.json.migrated`, so that key is not lost either.
//!
//! The key is always stored before any file that held it is rewritten or removed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::credentials::KeyStore;
use super::file::{read_json, write_private_json, FileError};

/// What [`migrate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Migrated {
    /// Nothing to migrate.
    Nothing,
    /// The key was taken out of the config dir's `settings.json` into the key store.
    KeyMoved,
    /// The old `settings.json` (this path) was merged in and removed.
    Merged { from: PathBuf },
    /// As `Merged`, but the key store had another key: the old file was kept at `kept`.
    MergedKeptOld { from: PathBuf, kept: PathBuf },
}

/// Migrates `legacy` (`<data dir>/settings.json`) into `settings` (`<config dir>/settings.json`)
/// and `keys` (see the module docs).
pub fn migrate(legacy: &Path, settings: &Path, keys: &KeyStore) -> Result<Migrated, FileError> {
    let moved = take_key_out(settings, keys)?;
    if same_file(legacy, settings) {
        return Ok(if moved { Migrated::KeyMoved } else { Migrated::Nothing });
    }
    let Some(mut old) = read_json::<Value>(legacy)? else {
        return Ok(if moved { Migrated::KeyMoved } else { Migrated::Nothing });
    };
    let old_key = take_key(&mut old);
    let mut keep_old = false;
    if let Some(old_key) = old_key {
        match keys.get()? {
            None => {
                keys.set(&old_key)?;
            }
            Some((current, _)) if current == old_key => {}
            Some(_) => keep_old = true,
        }
    }
    let merged = match read_json::<Value>(settings)? {
        Some(current) => merged(old, current),
        None => old,
    };
    write_private_json(settings, &merged)?;
    let from = legacy.to_path_buf();
    if keep_old {
        let kept = legacy.with_extension("json.migrated");
        std::fs::rename(legacy, &kept).map_err(|source| FileError::Write { path: legacy.to_path_buf(), source })?;
        tracing::warn!(
            "{} had another API key than the configuration's; the configuration's is kept, the old file is at {}",
            legacy.display(),
            kept.display()
        );
        return Ok(Migrated::MergedKeptOld { from, kept });
    }
    std::fs::remove_file(legacy).map_err(|source| FileError::Write { path: legacy.to_path_buf(), source })?;
    tracing::info!("moved the settings of {} to {}", legacy.display(), settings.display());
    Ok(Migrated::Merged { from })
}

/// Moves a key left in `settings` (the earlier format) to `keys`; whether there was one.
fn take_key_out(settings: &Path, keys: &KeyStore) -> Result<bool, FileError> {
    let Some(mut value) = read_json::<Value>(settings)? else { return Ok(false) };
    let had_field = value.pointer("/llm/api_key").is_some();
    let key = take_key(&mut value);
    if let Some(key) = &key {
        keys.set(key)?;
    }
    if had_field {
        write_private_json(settings, &value)?;
    }
    Ok(key.is_some())
}

/// Removes `llm.api_key` from `value`; the key when it was a non-blank string.
fn take_key(value: &mut Value) -> Option<String> {
    let removed = value.get_mut("llm")?.as_object_mut()?.remove("api_key")?;
    removed.as_str().map(str::trim).filter(|k| !k.is_empty()).map(str::to_string)
}

/// `base` with `over` on top: objects merge field by field, anything else in `over` wins.
fn merged(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut base), Value::Object(over)) => {
            for (k, v) in over {
                let next = match base.remove(&k) {
                    Some(b) => merged(b, v),
                    None => v,
                };
                base.insert(k, next);
            }
            Value::Object(base)
        }
        (_, over) => over,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| p.parent().and_then(|d| d.canonicalize().ok()).map(|d| d.join(p.file_name().unwrap_or_default()));
    a == b || matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::super::credentials::KeyLocation;
    use super::*;

    const OLD: &str = r#"{"llm": {"provider": "openai", "model": "gpt-4o", "api_key": "sk-old"}, "notify_on_finish": false}"#;

    fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let config = tmp.path().join("config");
        std::fs::create_dir_all(&data).unwrap();
        (tmp, data.join("settings.json"), config.join("settings.json"))
    }

    fn json(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_old_file_moves_and_its_key_goes_to_the_keyring() {
        let (_tmp, legacy, settings) = dirs();
        std::fs::write(&legacy, OLD).unwrap();
        let keyring = keyring_core::mock::Store::new().unwrap();
        let keys = KeyStore::new(settings.parent().unwrap(), Some(keyring));
        assert_eq!(migrate(&legacy, &settings, &keys).unwrap(), Migrated::Merged { from: legacy.clone() });
        assert!(!legacy.exists());
        let moved = json(&settings);
        assert_eq!(moved["llm"]["model"], "gpt-4o");
        assert_eq!(moved["notify_on_finish"], false);
        assert!(moved["llm"].get("api_key").is_none(), "no key in clear: {moved}");
        assert_eq!(keys.get().unwrap(), Some(("sk-old".into(), KeyLocation::Keyring)));
        assert_eq!(migrate(&legacy, &settings, &keys).unwrap(), Migrated::Nothing, "once");
    }

    #[test]
    fn without_a_keyring_the_key_goes_to_the_private_file() {
        let (_tmp, legacy, settings) = dirs();
        std::fs::write(&legacy, OLD).unwrap();
        let keys = KeyStore::new(settings.parent().unwrap(), None);
        migrate(&legacy, &settings, &keys).unwrap();
        assert_eq!(keys.get().unwrap(), Some(("sk-old".into(), KeyLocation::File)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&settings).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_config_dirs_settings_win_the_merge() {
        let (_tmp, legacy, settings) = dirs();
        std::fs::write(&legacy, OLD).unwrap();
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        std::fs::write(&settings, r#"{"llm": {"model": "newer"}, "http_api": {"enabled": true}}"#).unwrap();
        let keys = KeyStore::new(settings.parent().unwrap(), None);
        migrate(&legacy, &settings, &keys).unwrap();
        let merged = json(&settings);
        assert_eq!(merged["llm"]["model"], "newer");
        assert_eq!(merged["llm"]["provider"], "openai", "filled from the old file");
        assert_eq!(merged["http_api"]["enabled"], true);
        assert_eq!(merged["notify_on_finish"], false);
    }

    #[test]
    fn another_key_already_stored_keeps_the_old_file() {
        let (_tmp, legacy, settings) = dirs();
        std::fs::write(&legacy, OLD).unwrap();
        let keys = KeyStore::new(settings.parent().unwrap(), None);
        keys.set("sk-new").unwrap();
        let kept = legacy.with_extension("json.migrated");
        assert_eq!(migrate(&legacy, &settings, &keys).unwrap(), Migrated::MergedKeptOld { from: legacy.clone(), kept: kept.clone() });
        assert_eq!(keys.get().unwrap().unwrap().0, "sk-new");
        assert_eq!(json(&kept)["llm"]["api_key"], "sk-old", "never lost");
    }

    #[test]
    fn in_place_the_key_leaves_the_settings_file() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = tmp.path().join("settings.json");
        std::fs::write(&settings, OLD).unwrap();
        let keys = KeyStore::new(tmp.path(), None);
        assert_eq!(migrate(&settings, &settings, &keys).unwrap(), Migrated::KeyMoved);
        assert!(json(&settings)["llm"].get("api_key").is_none());
        assert_eq!(json(&settings)["llm"]["model"], "gpt-4o");
        assert_eq!(keys.get().unwrap(), Some(("sk-old".into(), KeyLocation::File)));
    }

    #[test]
    fn a_broken_old_file_is_an_error_and_left_alone() {
        let (_tmp, legacy, settings) = dirs();
        std::fs::write(&legacy, "{not json").unwrap();
        let keys = KeyStore::new(settings.parent().unwrap(), None);
        assert!(matches!(migrate(&legacy, &settings, &keys), Err(FileError::Read { .. })));
        assert_eq!(std::fs::read_to_string(&legacy).unwrap(), "{not json");
    }
}
