//! Prices and context windows of models, for the cost in [`Usage`](crate::execution::Usage) and
//! `crew-runner models`.
//!
//! The table is LiteLLM's (`model_prices_and_context_window.json`, the one CrewAI users already
//! rely on), embedded at build time from `src-tauri/data/model_prices.json` with its source and
//! date (refreshed by `src-tauri/data/update_model_prices.py`), plus the user's overrides
//! ([`price_table`]).
//!
//! A model is found by exact name only ([`PriceTable::find`]): `provider/model` as LiteLLM writes
//! it (`groq/llama-3.3-70b-versatile`), then the bare model (`gpt-4o-mini`), then both again
//! without a trailing date or `-latest` (`claude-3-5-haiku-20241022` → `claude-3-5-haiku`). No
//! prefix rule: `claude-opus-4-5` is never priced as `claude-opus-4`. A model that is not in the
//! table has an unknown cost (`None`), never $0; models of local providers cost 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The embedded table (see the module docs).
const EMBEDDED: &str = include_str!("../../data/model_prices.json");

/// Environment variable: the user's price overrides file (default: `prices.json` in the platform
/// config dir, on Linux `~/.config/crew-runner/prices.json`).
pub const PRICES_FILE_ENV: &str = "CREW_RUNNER_PRICES";

/// What the table knows of one model (LiteLLM's field names; prices are US dollars per token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// LiteLLM's provider name (`openai`, `anthropic`, `groq`, …).
    #[serde(default, rename = "litellm_provider", skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub input_cost_per_token: f64,
    pub output_cost_per_token: f64,
    /// The context window: most tokens a prompt may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    /// Most tokens one answer may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
}

impl ModelInfo {
    /// What `prompt` input and `completion` output tokens cost, in US dollars.
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        prompt as f64 * self.input_cost_per_token + completion as f64 * self.output_cost_per_token
    }
}

/// The price table: LiteLLM's, with the user's overrides applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    /// Where the embedded table comes from (LiteLLM's release).
    pub source: String,
    /// The date of that release (`YYYY-MM-DD`).
    pub date: String,
    /// By LiteLLM's model name.
    pub models: BTreeMap<String, ModelInfo>,
    /// The overrides file applied, if one was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<PathBuf>,
}

/// The user's overrides file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceTableError {
    /// The file exists but could not be read.
    #[error("cannot read the price overrides {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is not a JSON object of `model: {input_cost_per_token, output_cost_per_token, …}`.
    #[error("{path}: {message} (expected {{\"model\": {{\"input_cost_per_token\": 0.000001, \"output_cost_per_token\": 0.000002}}}})")]
    Invalid { path: PathBuf, message: String },
}

impl PriceTable {
    /// The embedded table alone.
    pub fn embedded() -> PriceTable {
        serde_json::from_str(EMBEDDED).expect("the embedded price table is valid JSON (checked by a test)")
    }

    /// The embedded table with the overrides in `path` applied (a missing file is no error).
    pub fn with_overrides_from(path: &Path) -> Result<PriceTable, PriceTableError> {
        let mut table = PriceTable::embedded();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(table),
            Err(source) => return Err(PriceTableError::Read { path: path.to_path_buf(), source }),
        };
        let overrides: BTreeMap<String, ModelInfo> =
            serde_json::from_str(&text).map_err(|e| PriceTableError::Invalid { path: path.to_path_buf(), message: e.to_string() })?;
        table.models.extend(overrides);
        table.overrides = Some(path.to_path_buf());
        Ok(table)
    }

    /// The table's entry for `model` of `provider` (our provider name, `openai` for a bare model),
    /// by exact name (see the module docs), with the name it was found under.
    pub fn find(&self, provider: &str, model: &str) -> Option<(&str, &ModelInfo)> {
        let undated = without_version_suffix(model);
        let candidates = [format!("{provider}/{model}"), model.to_string(), format!("{provider}/{undated}"), undated.to_string()];
        candidates.iter().find_map(|name| self.models.get_key_value(name.as_str()).map(|(k, v)| (k.as_str(), v)))
    }
}

/// The table every cost is computed with, loaded once per process: the embedded table plus the
/// overrides file (`CREW_RUNNER_PRICES`, else `prices.json` in the config dir). An unusable
/// overrides file is logged (warning) and ignored here; `crew-runner models` reports it as an error.
pub fn price_table() -> &'static PriceTable {
    static TABLE: OnceLock<PriceTable> = OnceLock::new();
    TABLE.get_or_init(|| match overrides_path() {
        Some(path) => PriceTable::with_overrides_from(&path).unwrap_or_else(|e| {
            tracing::warn!("{e}; using the built-in prices");
            PriceTable::embedded()
        }),
        None => PriceTable::embedded(),
    })
}

/// Where the user's overrides are read from: `CREW_RUNNER_PRICES`, else `prices.json` in the
/// platform config dir (`None` without a home directory).
pub fn overrides_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(PRICES_FILE_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    directories::ProjectDirs::from("dev", "crew-runner", "crew-runner").map(|d| d.config_dir().join("prices.json"))
}

/// The cost of one call: 0 on local providers, from the table otherwise, `None` when the model
/// is not in it.
pub fn cost_usd(local: bool, provider: &str, model: &str, prompt: u64, completion: u64) -> Option<f64> {
    if local {
        return Some(0.0);
    }
    price_table().find(provider, model).map(|(_, info)| info.cost(prompt, completion))
}

/// `model` without a trailing date (`-2024-07-18`, `-20241022`) or `-latest`; unchanged otherwise.
fn without_version_suffix(model: &str) -> &str {
    if let Some(base) = model.strip_suffix("-latest") {
        return base;
    }
    let bytes = model.as_bytes();
    let digits_from = |start: usize| bytes[start..].iter().all(u8::is_ascii_digit);
    // -YYYYMMDD
    if model.len() > 9 && bytes[model.len() - 9] == b'-' && digits_from(model.len() - 8) {
        return &model[..model.len() - 9];
    }
    // -YYYY-MM-DD
    let n = model.len();
    if n > 11 && bytes[n - 11] == b'-' && bytes[n - 6] == b'-' && bytes[n - 3] == b'-' {
        let parts = [&model[n - 10..n - 6], &model[n - 5..n - 3], &model[n - 2..]];
        if parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            return &model[..n - 11];
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PriceTable {
        PriceTable::embedded()
    }

    #[test]
    fn the_embedded_table_has_a_source_a_date_and_known_models() {
        let t = table();
        assert!(t.source.starts_with("LiteLLM "), "{}", t.source);
        assert_eq!(t.date.len(), 10, "{}", t.date);
        assert!(t.models.len() > 1000);
        let (name, mini) = t.find("openai", "gpt-4o-mini").unwrap();
        assert_eq!(name, "gpt-4o-mini");
        assert!((mini.cost(1_000_000, 1_000_000) - 0.75).abs() < 1e-9);
        assert_eq!(mini.max_input_tokens, Some(128_000));
    }

    #[test]
    fn exact_names_only_so_a_newer_model_is_not_priced_as_its_prefix() {
        let t = table();
        let (_, opus45) = t.find("anthropic", "claude-opus-4-5").unwrap();
        assert!((opus45.cost(1_000_000, 1_000_000) - 30.0).abs() < 1e-9, "$5 + $25 per M: {opus45:?}");
        assert!(t.find("anthropic", "claude-opus-4-99").is_none(), "not priced as claude-opus-4-9 or any prefix");
        assert!(t.find("openai", "gpt-4o-audio-preview-but-not-really").is_none());
        assert!(t.find("openai", "gpt-5").is_some(), "gpt-5 is known");
    }

    #[test]
    fn provider_prefixed_names_and_dated_names_are_found() {
        let t = table();
        let (name, _) = t.find("groq", "openai/gpt-oss-20b").unwrap();
        assert_eq!(name, "groq/openai/gpt-oss-20b");
        let (name, _) = t.find("openai", "gpt-4o-mini-2024-07-18").unwrap();
        assert_eq!(name, "gpt-4o-mini-2024-07-18");
        assert_eq!(without_version_suffix("claude-3-5-haiku-20241022"), "claude-3-5-haiku");
        assert_eq!(without_version_suffix("gpt-4o-2099-01-02"), "gpt-4o");
        assert_eq!(without_version_suffix("claude-3-5-haiku-latest"), "claude-3-5-haiku");
        assert_eq!(without_version_suffix("o3"), "o3");
        assert_eq!(without_version_suffix("llama3.1"), "llama3.1");
    }

    #[test]
    fn unknown_is_none_and_local_is_zero() {
        assert_eq!(cost_usd(false, "openai", "surely-not-a-model", 10, 10), None);
        assert_eq!(cost_usd(true, "ollama", "llama3.1", 10, 10), Some(0.0));
    }

    #[test]
    fn overrides_add_and_replace_models_and_bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        assert_eq!(PriceTable::with_overrides_from(&path).unwrap().overrides, None, "a missing file is no error");
        std::fs::write(
            &path,
            r#"{"my-model": {"input_cost_per_token": 0.001, "output_cost_per_token": 0.002, "max_input_tokens": 4096},
            "gpt-4o-mini": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}}"#,
        )
        .unwrap();
        let t = PriceTable::with_overrides_from(&path).unwrap();
        assert_eq!(t.overrides.as_deref(), Some(path.as_path()));
        assert!((t.find("openai", "my-model").unwrap().1.cost(1, 1) - 0.003).abs() < 1e-12);
        assert_eq!(t.find("openai", "gpt-4o-mini").unwrap().1.cost(100, 100), 0.0);
        std::fs::write(&path, r#"{"m": {"input_cost_per_token": "cheap"}}"#).unwrap();
        let e = PriceTable::with_overrides_from(&path).unwrap_err().to_string();
        assert!(e.contains("prices.json") && e.contains("expected"), "{e}");
    }
}
