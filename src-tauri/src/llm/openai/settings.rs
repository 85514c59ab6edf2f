//! Timeouts of the HTTP client, and whether it sends `response_format`.

use std::time::Duration;

use crate::llm::{LlmEnv, LlmError, LlmErrorKind};

/// The variable holding the request timeout in seconds (fractions allowed).
pub const TIMEOUT_VAR: &str = "CREW_RUNNER_LLM_TIMEOUT_SECS";
/// The variable holding the connect timeout in seconds (fractions allowed).
pub const CONNECT_TIMEOUT_VAR: &str = "CREW_RUNNER_LLM_CONNECT_TIMEOUT_SECS";
/// The variable that turns `response_format` off (`off`) or on (`on`, the default).
pub const RESPONSE_FORMAT_VAR: &str = "CREW_RUNNER_RESPONSE_FORMAT";

/// How long a model call may take, and what the request body may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// A non-streamed request, from connecting to the last byte of the reply. For a streamed
    /// request, the longest wait for the reply to start and for each next chunk (the whole
    /// reply may stream for longer).
    pub request_timeout: Duration,
    /// Establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Send a request's JSON Schema as `response_format: {type: "json_schema", …}`. On by
    /// default: OpenAI and the common OpenAI-compatible servers (Ollama, vLLM, LM Studio,
    /// llama.cpp) take it. `CREW_RUNNER_RESPONSE_FORMAT=off` is for an endpoint that rejects it;
    /// the schema is then only stated in the prompt (the answer is validated either way).
    pub response_format: bool,
}

impl Default for ClientSettings {
    /// 120 s per request, 10 s to connect, `response_format` sent.
    fn default() -> Self {
        ClientSettings { request_timeout: Duration::from_secs(120), connect_timeout: Duration::from_secs(10), response_format: true }
    }
}

impl ClientSettings {
    /// The defaults, overridden by [`TIMEOUT_VAR`], [`CONNECT_TIMEOUT_VAR`] and
    /// [`RESPONSE_FORMAT_VAR`]. A timeout that is not a positive number of seconds, or a
    /// `response_format` setting other than `on`/`off`, is a `Config` error naming the variable.
    pub fn from_env(env: &LlmEnv) -> Result<ClientSettings, LlmError> {
        let mut settings = ClientSettings::default();
        if let Some(t) = seconds(env, TIMEOUT_VAR)? {
            settings.request_timeout = t;
        }
        if let Some(t) = seconds(env, CONNECT_TIMEOUT_VAR)? {
            settings.connect_timeout = t;
        }
        if let Some(on) = switch(env, RESPONSE_FORMAT_VAR)? {
            settings.response_format = on;
        }
        Ok(settings)
    }
}

/// `on`/`off` (also `true`/`false`, `1`/`0`, any case) in `var`; `None` when unset or empty.
fn switch(env: &LlmEnv, var: &str) -> Result<Option<bool>, LlmError> {
    let Some(raw) = env.vars.get(var).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match raw.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(Some(true)),
        "off" | "false" | "0" => Ok(Some(false)),
        _ => Err(LlmError::new(LlmErrorKind::Config, format!("{var}={raw}: expected `on` or `off`"))),
    }
}

fn seconds(env: &LlmEnv, var: &str) -> Result<Option<Duration>, LlmError> {
    let Some(raw) = env.vars.get(var).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match raw.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Some(Duration::from_secs_f64(s))),
        _ => Err(LlmError::new(LlmErrorKind::Config, format!("{var}={raw}: expected a positive number of seconds"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fractional_seconds_and_rejects_nonsense() {
        let env =
            |v: &str| LlmEnv { vars: [(TIMEOUT_VAR.to_string(), v.to_string())].into_iter().collect(), secrets: None, python_cache: None };
        assert_eq!(ClientSettings::from_env(&env("0.2")).unwrap().request_timeout, Duration::from_millis(200));
        assert_eq!(ClientSettings::from_env(&LlmEnv::default()).unwrap(), ClientSettings::default());
        for bad in ["0", "-1", "soon"] {
            let err = ClientSettings::from_env(&env(bad)).unwrap_err();
            assert_eq!(err.kind, LlmErrorKind::Config);
            assert!(err.message.contains(TIMEOUT_VAR));
        }
    }

    #[test]
    fn response_format_is_on_unless_turned_off() {
        let env = |v: &str| LlmEnv {
            vars: [(RESPONSE_FORMAT_VAR.to_string(), v.to_string())].into_iter().collect(),
            secrets: None,
            python_cache: None,
        };
        assert!(ClientSettings::default().response_format);
        assert!(!ClientSettings::from_env(&env("off")).unwrap().response_format);
        assert!(ClientSettings::from_env(&env("ON")).unwrap().response_format);
        let err = ClientSettings::from_env(&env("maybe")).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Config);
        assert!(err.message.contains(RESPONSE_FORMAT_VAR));
    }
}
