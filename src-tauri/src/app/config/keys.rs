//! The configuration's keys as `crew-runner config` names them (`llm.model`, `http_api.port`, …):
//! reading one as text, setting one from text (checked), and where each effective value comes from
//! (an environment variable, the settings file, the OS credential store, or the default).
//!
//! The environment wins over the file for the LLM keys, for every face: `MODEL` over `llm.model`,
//! the provider's key variable (`OPENAI_API_KEY`, …) over `llm.api_key`, its base-URL variable
//! (`OPENAI_API_BASE` or `OPENAI_BASE_URL`, …) over `llm.base_url`, `CREW_RUNNER_TRACE_PAYLOADS` over
//! `trace_payloads`. The other keys have no variable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::credentials::KeyLocation;
use super::settings::{check_base_url, check_provider, Settings};
use super::store::ConfigStore;
use crate::execution::{TracePayloads, TRACE_PAYLOADS_VAR};
use crate::llm::providers::{find_provider, Provider};

/// Every key, in the order `config list` shows them.
pub const KEYS: &[&str] = &[
    "llm.provider",
    "llm.base_url",
    "llm.model",
    "llm.api_key",
    "notify_on_finish",
    "allowed_workspaces",
    "http_api.enabled",
    "http_api.port",
    "trace_payloads",
];

/// The key whose value is a secret: shown redacted.
pub const SECRET_KEY: &str = "llm.api_key";

/// What a secret is shown as.
pub const REDACTED: &str = "<redacted>";

/// A key or value `config get`/`config set` refuses (nothing is written).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigKeyError {
    /// No such key.
    #[error("unknown configuration key {key:?} (known: {})", KEYS.join(", "))]
    Unknown { key: String },
    /// The value is not valid for the key.
    #[error("invalid value for {key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Where an effective value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "variable")]
pub enum Source {
    /// The environment variable named.
    Env(String),
    /// The settings file.
    File,
    /// The OS credential store.
    Keyring,
    /// Nothing sets it: the default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(var) => write!(f, "env {var}"),
            Source::File => f.write_str("file"),
            Source::Keyring => f.write_str("keyring"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One key's effective value (a secret redacted) and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigEntry {
    /// The key, one of [`KEYS`].
    pub key: &'static str,
    /// The effective value as text ([`REDACTED`] for a set secret unless revealed; empty: unset).
    pub value: String,
    /// Where it comes from: `"source": "env" | "file" | "keyring" | "default"`, with
    /// `"variable"` naming the environment variable for `env`.
    #[serde(flatten)]
    pub source: Source,
}

fn known(key: &str) -> Result<&'static str, ConfigKeyError> {
    KEYS.iter().copied().find(|k| *k == key).ok_or_else(|| ConfigKeyError::Unknown { key: key.to_string() })
}

/// `key`'s value in `settings` as text (the API key in clear; lists joined with the platform's
/// path-list separator).
pub fn value(settings: &Settings, key: &str) -> Result<String, ConfigKeyError> {
    Ok(match known(key)? {
        "llm.provider" => settings.llm.provider.clone(),
        "llm.base_url" => settings.llm.base_url.clone(),
        "llm.model" => settings.llm.model.clone(),
        "llm.api_key" => settings.llm.api_key.clone(),
        "notify_on_finish" => settings.notify_on_finish.to_string(),
        "allowed_workspaces" => std::env::join_paths(&settings.allowed_workspaces)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| settings.allowed_workspaces.join(",")),
        "http_api.enabled" => settings.http_api.enabled.to_string(),
        "http_api.port" => settings.http_api.port.to_string(),
        "trace_payloads" => settings.trace_payloads.to_string(),
        other => unreachable!("{other} is in KEYS"),
    })
}

/// `settings` with `key` set from `text` (trimmed; an empty text clears a text key), or why not.
pub fn with_value(settings: &Settings, key: &str, text: &str) -> Result<Settings, ConfigKeyError> {
    let key = known(key)?;
    let invalid = |reason: String| ConfigKeyError::Invalid { key: key.to_string(), reason };
    let text = text.trim();
    let mut next = settings.clone();
    match key {
        "llm.provider" => {
            check_provider(text).map_err(invalid)?;
            next.llm.provider = text.to_string();
        }
        "llm.base_url" => {
            check_base_url(text).map_err(invalid)?;
            next.llm.base_url = text.to_string();
        }
        "llm.model" => next.llm.model = text.to_string(),
        "llm.api_key" => next.llm.api_key = text.to_string(),
        "notify_on_finish" => next.notify_on_finish = boolean(text).map_err(invalid)?,
        "http_api.enabled" => next.http_api.enabled = boolean(text).map_err(invalid)?,
        "http_api.port" => {
            next.http_api.port =
                text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| invalid(format!("{text:?} is not a port from 1 to 65535")))?
        }
        "trace_payloads" => next.trace_payloads = text.parse::<TracePayloads>().map_err(|e| invalid(e.to_string()))?,
        "allowed_workspaces" => {
            let dirs: Vec<PathBuf> =
                if text.is_empty() { Vec::new() } else { std::env::split_paths(text).filter(|p| !p.as_os_str().is_empty()).collect() };
            if let Some(relative) = dirs.iter().find(|d| !d.is_absolute()) {
                return Err(invalid(format!("{} is not an absolute path", relative.display())));
            }
            next.allowed_workspaces = dirs.iter().map(|d| d.to_string_lossy().into_owned()).collect();
        }
        other => unreachable!("{other} is in KEYS"),
    }
    Ok(next)
}

fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// The environment variable (set and not blank in `env`) that overrides `key` for `settings`'s
/// provider, with its value.
pub fn env_override<'a>(settings: &Settings, key: &str, env: &'a BTreeMap<String, String>) -> Option<(String, &'a str)> {
    let set = |var: &str| env.get(var).map(String::as_str).filter(|v| !v.trim().is_empty()).map(|v| (var.to_string(), v));
    let provider = || -> Option<&'static Provider> {
        find_provider(if settings.llm.provider.trim().is_empty() { "openai" } else { settings.llm.provider.trim() })
    };
    match key {
        "llm.model" => set("MODEL"),
        "llm.api_key" => provider()?.key_var.and_then(set),
        "llm.base_url" => provider()?.base_vars.iter().find_map(|v| set(v)),
        "trace_payloads" => set(TRACE_PAYLOADS_VAR),
        _ => None,
    }
}

/// Every key that the environment overrides, with the variable's name (what the app's Settings
/// view shows).
pub fn env_overrides(settings: &Settings, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    KEYS.iter().filter_map(|k| env_override(settings, k, env).map(|(var, _)| (k.to_string(), var))).collect()
}

/// The effective value of `key` (the environment's, else the stored one) and where it comes from;
/// the secret redacted unless `reveal`.
pub fn entry(store: &ConfigStore, key: &str, env: &BTreeMap<String, String>, reveal: bool) -> Result<ConfigEntry, ConfigKeyError> {
    let key = known(key)?;
    let settings = store.get();
    let (value, source) = match env_override(&settings, key, env) {
        Some((var, value)) => (value.to_string(), Source::Env(var)),
        None if key == SECRET_KEY => match store.key_location() {
            Some(KeyLocation::Keyring) => (value(&settings, key)?, Source::Keyring),
            Some(KeyLocation::File) => (value(&settings, key)?, Source::File),
            None => (String::new(), Source::Default),
        },
        None => {
            let pointer = format!("/{}", key.replace('.', "/"));
            (value(&settings, key)?, if store.file_sets(&pointer) { Source::File } else { Source::Default })
        }
    };
    let value = if key == SECRET_KEY && !reveal && !value.is_empty() { REDACTED.to_string() } else { value };
    Ok(ConfigEntry { key, value, source })
}

/// [`entry`] for every key, secrets redacted.
pub fn entries(store: &ConfigStore, env: &BTreeMap<String, String>) -> Vec<ConfigEntry> {
    KEYS.iter().map(|k| entry(store, k, env, false).expect("every key in KEYS is known")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppPaths;

    fn env(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_key_reads_back_what_was_set() {
        let mut s = Settings::default();
        for (key, text) in [
            ("llm.provider", "openai"),
            ("llm.base_url", "http://127.0.0.1:9/v1"),
            ("llm.model", "gpt-4o"),
            ("llm.api_key", "sk-1"),
            ("notify_on_finish", "false"),
            ("allowed_workspaces", "/srv/a"),
            ("http_api.enabled", "true"),
            ("http_api.port", "9001"),
            ("trace_payloads", "metadata"),
        ] {
            s = with_value(&s, key, text).unwrap();
            assert_eq!(value(&s, key).unwrap(), text, "{key}");
        }
        assert_eq!(KEYS.len(), 9, "every key is tried above");
    }

    #[test]
    fn bad_keys_and_values_are_refused_naming_the_key() {
        let s = Settings::default();
        assert!(matches!(with_value(&s, "llm.nope", "x"), Err(ConfigKeyError::Unknown { .. })));
        for (key, text) in [
            ("http_api.port", "0"),
            ("http_api.port", "70000"),
            ("http_api.port", "x"),
            ("notify_on_finish", "maybe"),
            ("llm.provider", "nope"),
            ("llm.base_url", "ftp://x"),
            ("allowed_workspaces", "relative/dir"),
            ("trace_payloads", "everything"),
        ] {
            let err = with_value(&s, key, text).unwrap_err();
            assert!(matches!(&err, ConfigKeyError::Invalid { key: k, .. } if k == key), "{key}={text}: {err}");
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn the_environment_wins_and_says_which_variable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ConfigStore::open_with(&AppPaths::resolve(Some(tmp.path())).unwrap(), None).unwrap();
        let mut s = with_value(&Settings::default(), "llm.model", "from-file").unwrap();
        s.llm.api_key = "sk-file".into();
        store.save(s).unwrap();
        let none = env(&[]);
        assert_eq!(entry(&store, "llm.model", &none, false).unwrap().source, Source::File);
        assert_eq!(entry(&store, "http_api.port", &none, false).unwrap().value, "8765");
        let key = entry(&store, "llm.api_key", &none, false).unwrap();
        assert_eq!((key.value.as_str(), key.source), (REDACTED, Source::File), "redacted");
        assert_eq!(entry(&store, "llm.api_key", &none, true).unwrap().value, "sk-file");

        let vars = env(&[("MODEL", "openai/env-model"), ("OPENAI_API_KEY", "sk-env"), ("OPENAI_BASE_URL", "http://env/v1")]);
        let model = entry(&store, "llm.model", &vars, false).unwrap();
        assert_eq!((model.value.as_str(), model.source), ("openai/env-model", Source::Env("MODEL".into())));
        assert_eq!(entry(&store, "llm.api_key", &vars, false).unwrap().source, Source::Env("OPENAI_API_KEY".into()));
        assert_eq!(entry(&store, "llm.api_key", &vars, false).unwrap().value, REDACTED);
        assert_eq!(entry(&store, "llm.base_url", &vars, false).unwrap().source, Source::Env("OPENAI_BASE_URL".into()));
        assert_eq!(env_overrides(&store.get(), &vars).get("llm.api_key").map(String::as_str), Some("OPENAI_API_KEY"));
        assert!(env_overrides(&store.get(), &env(&[("MODEL", " ")])).is_empty(), "a blank variable sets nothing");
        assert_eq!(entries(&store, &vars).len(), KEYS.len());

        // trace_payloads: the file's value, the variable winning; both fill the LLM environment.
        let mut s = store.get();
        s.trace_payloads = TracePayloads::Metadata;
        store.save(s).unwrap();
        let payloads = entry(&store, "trace_payloads", &none, false).unwrap();
        assert_eq!((payloads.value.as_str(), payloads.source), ("metadata", Source::File));
        let full = env(&[(TRACE_PAYLOADS_VAR, "full")]);
        assert_eq!(entry(&store, "trace_payloads", &full, false).unwrap().source, Source::Env(TRACE_PAYLOADS_VAR.into()));
        let base = crate::llm::LlmEnv::default();
        assert_eq!(store.get().fill_env(&base).trace_payloads(), TracePayloads::Metadata);
        let overridden = crate::llm::LlmEnv { vars: full, ..crate::llm::LlmEnv::default() };
        assert_eq!(store.get().fill_env(&overridden).trace_payloads(), TracePayloads::Full);
    }
}
