//! The body of `POST /v1/executions`, turned into the same [`SubmitRequest`] the CLI's `submit`
//! builds (crew path, inputs, options), checked the same way by [`prepare_batch`](crate::app::prepare_batch).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use super::error::ApiError;
use crate::app::{duration, timeout_ms, EngineChoice, SubmitRequest};
use crate::crew::WorkspacePolicy;
use crate::execution::{LlmOptions, Priority, DEFAULT_MAX_ABANDONS, DEFAULT_MAX_ATTEMPTS};

/// A time limit: seconds as a number (`90`, `1.5`) or text in the CLI's duration syntax
/// (`"90s"`, `"5m"`, `"1h30m"`: [`duration::parse`]).
#[derive(Clone, Debug, Deserialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Timeout {
    #[schemars(extend("exclusiveMinimum" = 0))]
    Seconds(f64),
    Text(String),
}

/// `POST /v1/executions` (unknown fields are refused).
#[derive(Clone, Debug, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The crew: an absolute path on the server's machine (a CrewAI project folder, a
    /// .yaml/.json/.jsonc crew file, a graph JSON, CrewAI Python code).
    pub crew: PathBuf,
    /// Kickoff inputs (override the crew's defaults).
    #[serde(default)]
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// A batch: one execution per row, each row merged over `inputs` (at least one row).
    #[schemars(length(min = 1))]
    pub rows: Option<Vec<BTreeMap<String, serde_json::Value>>>,
    #[serde(default)]
    pub priority: Priority,
    pub timeout: Option<Timeout>,
    /// Attempts in all for retryable errors (as `--max-attempts`).
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Attempts whose worker may die before the execution fails (as `--max-abandons`).
    #[schemars(range(min = 1))]
    pub max_abandons: Option<u32>,
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// Run every agent on this model (as `--model`).
    pub model: Option<String>,
    #[serde(default)]
    pub engine: EngineChoice,
    /// Submit at most once under this key (as `submit --idempotency-key`).
    #[schemars(length(max = crate::app::MAX_KEY_LEN))]
    pub idempotency_key: Option<String>,
}

impl SubmitBody {
    /// The request and its rows (one empty row without `rows`). Refused: a relative crew path (the
    /// server's working directory is not the client's), an empty `rows`, a bad timeout or meta key.
    pub fn request(&self, workspaces: WorkspacePolicy) -> Result<(SubmitRequest, Vec<BTreeMap<String, serde_json::Value>>), ApiError> {
        if !self.crew.is_absolute() {
            return Err(ApiError::invalid(format!("crew `{}`: expected an absolute path on the server's machine", self.crew.display())));
        }
        if self.meta.keys().any(|k| k.trim().is_empty()) {
            return Err(ApiError::invalid("meta: keys must not be empty"));
        }
        let rows = match &self.rows {
            Some(rows) if rows.is_empty() => return Err(ApiError::invalid("rows: expected at least one row")),
            Some(rows) => rows.clone(),
            None => vec![BTreeMap::new()],
        };
        let timeout = match &self.timeout {
            None => None,
            Some(Timeout::Seconds(s)) => Some(
                std::time::Duration::try_from_secs_f64(*s)
                    .map_err(|_| ApiError::invalid(format!("timeout {s}: expected positive seconds")))?,
            ),
            Some(Timeout::Text(t)) => Some(duration::parse(t).map_err(|e| ApiError::invalid(format!("timeout `{t}`: {e}")))?),
        };
        let mut request = SubmitRequest::new(&self.crew);
        request.inputs = self.inputs.clone();
        request.priority = self.priority;
        request.max_attempts = self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        request.max_abandons = self.max_abandons.unwrap_or(DEFAULT_MAX_ABANDONS);
        request.timeout_ms = timeout_ms(timeout)?;
        request.meta = self.meta.iter().map(|(k, v)| (k.trim().to_string(), v.clone())).collect();
        request.llm = LlmOptions { model: self.model.clone(), ..LlmOptions::default() };
        request.workspaces = workspaces;
        request.engine = self.engine;
        Ok((request, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> SubmitBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_body_becomes_the_cli_request() {
        let b = body(serde_json::json!({
            "crew": "/crews/one.yaml", "inputs": {"item": 4}, "priority": "high", "timeout": "1m30s",
            "max_attempts": 2, "meta": {"team": "r"}, "model": "offline", "engine": "native"
        }));
        let (r, rows) = b.request(WorkspacePolicy::default()).unwrap();
        assert_eq!((r.priority, r.max_attempts, r.timeout_ms, r.engine), (Priority::High, 2, Some(90_000), EngineChoice::Native));
        assert_eq!(
            (r.inputs["item"].clone(), r.meta["team"].as_str(), r.llm.model.as_deref()),
            (serde_json::json!(4), "r", Some("offline"))
        );
        assert_eq!(rows, vec![BTreeMap::new()]);
        let seconds = body(serde_json::json!({"crew": "/c.yaml", "timeout": 1.5, "rows": [{"a": 1}, {"a": 2}]}));
        let (r, rows) = seconds.request(WorkspacePolicy::default()).unwrap();
        assert_eq!((r.timeout_ms, rows.len(), r.max_attempts), (Some(1500), 2, DEFAULT_MAX_ATTEMPTS));
    }

    #[test]
    fn refusals() {
        for bad in [
            serde_json::json!({"crew": "relative.yaml"}),
            serde_json::json!({"crew": "/c.yaml", "rows": []}),
            serde_json::json!({"crew": "/c.yaml", "timeout": 0}),
            serde_json::json!({"crew": "/c.yaml", "timeout": -1}),
            serde_json::json!({"crew": "/c.yaml", "timeout": "soon"}),
            serde_json::json!({"crew": "/c.yaml", "meta": {" ": "x"}}),
        ] {
            assert!(body(bad.clone()).request(WorkspacePolicy::default()).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<SubmitBody>(serde_json::json!({"crew": "/c.yaml", "python": "/bin/sh"})).is_err());
    }
}
