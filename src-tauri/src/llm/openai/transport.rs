//! The HTTP transport under async-openai: one plain `reqwest` request per call, no retries, and
//! non-2xx answers turned into [`HttpStatusError`] so the status and `Retry-After` survive.
//!
//! async-openai's default executor wraps requests in a retry layer (it retries 429 and 5xx) and
//! keeps only the status and message of an error answer. The scheduler owns retries and needs the
//! `Retry-After` header, so the client installs [`DirectTransport`] through async-openai's
//! `middleware` hook (`Client::with_http_service`) instead.
//!
//! Cancellation: the returned future owns the request; dropping it drops the connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;

/// An answer whose status is not 2xx: what the server said, kept for classification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub struct HttpStatusError {
    pub status: u16,
    /// The `Retry-After` header as sent (seconds or an HTTP-date), if any.
    pub retry_after: Option<String>,
    /// The `retry-after-ms` header (sent by OpenAI), if any and valid.
    pub retry_after_ms: Option<u64>,
    /// The server's error message (`error.message` of a JSON body, else the body's start).
    pub message: String,
}

impl HttpStatusError {
    /// Reads the rest of `response` (its body) into an error. A body that cannot be read leaves
    /// the message empty; the status still classifies the error.
    pub async fn read(response: reqwest::Response) -> HttpStatusError {
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        let retry_after = header("retry-after");
        let retry_after_ms =
            header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64);
        let body = response.text().await.unwrap_or_default();
        HttpStatusError { status, retry_after, retry_after_ms, message: server_message(&body) }
    }
}

/// The human part of an error body: `{"error":{"message":…}}` (with ` (code)` appended when the
/// body has an `error.code` the message does not contain), `{"error":"…"}`, `{"message":…}`,
/// else the body's first 300 characters.
pub fn server_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let candidates = [&value["error"]["message"], &value["error"], &value["message"], &value["detail"]];
        if let Some(text) = candidates.iter().find_map(|v| v.as_str()) {
            // The machine-readable code (`context_length_exceeded`, …) when the text lacks it.
            return match value["error"]["code"].as_str() {
                Some(code) if !code.is_empty() && !text.contains(code) => format!("{text} ({code})"),
                _ => text.to_string(),
            };
        }
    }
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

/// A tower service sending each request once with a configured `reqwest::Client`.
#[derive(Clone, Debug)]
pub struct DirectTransport {
    client: reqwest::Client,
    /// The whole request's limit, from connecting to the reply's last byte (reqwest's per-request
    /// timeout); `None`: no limit.
    timeout: Option<std::time::Duration>,
}

impl DirectTransport {
    /// Sends with `client`; each request limited to `timeout` in total, when given.
    pub fn new(client: reqwest::Client, timeout: Option<std::time::Duration>) -> Self {
        DirectTransport { client, timeout }
    }
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static>>;

impl tower::Service<HttpRequestFactory> for DirectTransport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let client = self.client.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let mut request = request.build().await?;
            if timeout.is_some() {
                *request.timeout_mut() = timeout;
            }
            let response = client.execute(request).await.map_err(OpenAIError::Reqwest)?;
            if response.status().is_success() {
                Ok(response)
            } else {
                Err(OpenAIError::Boxed(Box::new(HttpStatusError::read(response).await)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_message_prefers_the_json_message() {
        assert_eq!(server_message(r#"{"error":{"message":"bad key","type":"auth"}}"#), "bad key");
        assert_eq!(
            server_message(r#"{"error":{"message":"too long","code":"context_length_exceeded"}}"#),
            "too long (context_length_exceeded)"
        );
        assert_eq!(server_message(r#"{"error":"model not found"}"#), "model not found");
        assert_eq!(server_message(r#"{"message":"slow down"}"#), "slow down");
        assert_eq!(server_message("  upstream broke \n"), "upstream broke");
        let long = "x".repeat(400);
        assert_eq!(server_message(&long).chars().count(), 301);
    }
}
