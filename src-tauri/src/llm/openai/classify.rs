//! Turns what went wrong on the wire into an [`LlmError`] the scheduler can act on.
//!
//! | what happened | kind |
//! | --- | --- |
//! | connect refused/failed, reset, body or stream cut | `Connection` |
//! | request, connect or read timeout; HTTP 408 | `Timeout` |
//! | HTTP 429 | `RateLimited { retry_after_ms }` from `retry-after-ms` or `Retry-After` (seconds or HTTP-date) |
//! | HTTP 5xx | `Server { status }` |
//! | other HTTP 4xx | `Client { status }`, with the server's message |
//! | a body that is not a completion (invalid JSON, no choices) | `InvalidResponse` |
//!
//! Messages never contain the API key: every message passes through [`redact`].

use std::time::SystemTime;

use async_openai::error::OpenAIError;

use super::transport::HttpStatusError;
use crate::llm::{LlmError, LlmErrorKind};

/// Classifies an async-openai error for the endpoint at `api_base`.
pub fn classify(error: OpenAIError, api_base: &str, api_key: Option<&str>) -> LlmError {
    let error = match error {
        OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpStatusError>() {
            Ok(status) => classify_status(&status, api_base, SystemTime::now()),
            Err(other) => LlmError::new(LlmErrorKind::Connection, format!("{api_base}: {other}")),
        },
        OpenAIError::Reqwest(e) => classify_reqwest(&e, api_base),
        OpenAIError::ApiError(api) => {
            let status = HttpStatusError {
                status: api.status_code.as_u16(),
                retry_after: None,
                retry_after_ms: None,
                message: api.api_error.message.clone(),
            };
            classify_status(&status, api_base, SystemTime::now())
        }
        OpenAIError::JSONDeserialize(e, content) => LlmError::new(
            LlmErrorKind::InvalidResponse,
            format!("{api_base}: the reply is not a chat completion ({e}): {}", excerpt(&content, 200)),
        ),
        OpenAIError::StreamError(e) => {
            let text = e.to_string();
            let kind = if mentions_timeout(&text) { LlmErrorKind::Timeout } else { LlmErrorKind::Connection };
            LlmError::new(kind, format!("{api_base}: the reply stream broke: {text}"))
        }
        OpenAIError::InvalidArgument(m) => LlmError::new(LlmErrorKind::Config, format!("{api_base}: {m}")),
        #[allow(unreachable_patterns)]
        other => LlmError::new(LlmErrorKind::Connection, format!("{api_base}: {other}")),
    };
    redact(error, api_key)
}

/// Classifies a transport error from reqwest.
pub fn classify_reqwest(e: &reqwest::Error, api_base: &str) -> LlmError {
    let detail = error_chain(e);
    if e.is_timeout() || mentions_timeout(&detail) {
        LlmError::new(LlmErrorKind::Timeout, format!("{api_base}: timed out ({detail})"))
    } else if e.is_connect() {
        LlmError::new(LlmErrorKind::Connection, format!("{api_base}: cannot connect ({detail})"))
    } else {
        LlmError::new(LlmErrorKind::Connection, format!("{api_base}: connection failed ({detail})"))
    }
}

/// Classifies a non-2xx answer. `now` dates an HTTP-date `Retry-After`.
pub fn classify_status(e: &HttpStatusError, api_base: &str, now: SystemTime) -> LlmError {
    let message = format!("{api_base}: HTTP {}: {}", e.status, e.message);
    let kind = match e.status {
        429 => LlmErrorKind::RateLimited {
            retry_after_ms: e.retry_after_ms.or_else(|| e.retry_after.as_deref().and_then(|v| parse_retry_after(v, now))),
        },
        408 => LlmErrorKind::Timeout,
        500..=599 => LlmErrorKind::Server { status: e.status },
        400..=499 => LlmErrorKind::Client { status: e.status },
        _ => LlmErrorKind::InvalidResponse,
    };
    LlmError::new(kind, message)
}

/// `Retry-After` as milliseconds from `now`: delay-seconds (fractions accepted) or an HTTP-date
/// (a past date is 0). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map(|d| d.as_millis() as u64).unwrap_or(0))
}

/// Replaces each of `secrets` (those long enough to be one: 4 characters or more) in the message.
pub fn redact_all(error: LlmError, secrets: &[String]) -> LlmError {
    secrets.iter().fold(error, |error, secret| redact(error, Some(secret)))
}

/// Replaces the key (when it is long enough to be one) in the message.
pub fn redact(mut error: LlmError, api_key: Option<&str>) -> LlmError {
    if let Some(key) = api_key.filter(|k| k.len() >= 4) {
        if error.message.contains(key) {
            error.message = error.message.replace(key, "[redacted]");
        }
    }
    error
}

fn mentions_timeout(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    text.contains("timed out") || text.contains("timeout")
}

/// The error and its sources, `: `-joined (reqwest's Display alone hides the cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn status(code: u16, retry_after: Option<&str>) -> HttpStatusError {
        HttpStatusError { status: code, retry_after: retry_after.map(String::from), retry_after_ms: None, message: "m".into() }
    }

    #[test]
    fn statuses_map_to_kinds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let kind = |code| classify_status(&status(code, None), "b", now).kind;
        assert_eq!(kind(429), LlmErrorKind::RateLimited { retry_after_ms: None });
        assert_eq!(kind(500), LlmErrorKind::Server { status: 500 });
        assert_eq!(kind(503), LlmErrorKind::Server { status: 503 });
        assert_eq!(kind(400), LlmErrorKind::Client { status: 400 });
        assert_eq!(kind(401), LlmErrorKind::Client { status: 401 });
        assert_eq!(kind(404), LlmErrorKind::Client { status: 404 });
        assert_eq!(kind(408), LlmErrorKind::Timeout);
        assert_eq!(kind(302), LlmErrorKind::InvalidResponse);
        let e = classify_status(&status(401, None), "http://x/v1", now);
        assert_eq!(e.message, "http://x/v1: HTTP 401: m");
        assert!(!e.retryable());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("3", now), Some(3000));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(1500));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now), Some(7000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        let e = classify_status(&status(429, Some("2")), "b", now);
        assert_eq!(e.kind, LlmErrorKind::RateLimited { retry_after_ms: Some(2000) });
        let mut ms = status(429, Some("2"));
        ms.retry_after_ms = Some(250);
        assert_eq!(classify_status(&ms, "b", now).kind, LlmErrorKind::RateLimited { retry_after_ms: Some(250) });
    }

    #[test]
    fn keys_are_redacted() {
        let e = LlmError::new(LlmErrorKind::Client { status: 401 }, "Incorrect API key provided: sk-abc123");
        assert_eq!(redact(e, Some("sk-abc123")).message, "Incorrect API key provided: [redacted]");
    }

    #[test]
    fn boxed_status_errors_are_unwrapped() {
        let e = classify(OpenAIError::Boxed(Box::new(status(503, None))), "b", None);
        assert_eq!(e.kind, LlmErrorKind::Server { status: 503 });
        let bad = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = classify(OpenAIError::JSONDeserialize(bad, "{".into()), "b", None);
        assert_eq!(e.kind, LlmErrorKind::InvalidResponse);
    }
}
