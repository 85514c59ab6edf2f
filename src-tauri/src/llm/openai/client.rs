//! [`OpenAiCompatibleModel`]: a [`ChatModel`] talking to one OpenAI-compatible endpoint.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_openai::Client;
use futures_util::StreamExt;

use super::assemble::StreamAssembler;
use super::classify::{classify, redact_all};
use super::config::EndpointConfig;
use super::http_clients::{shared_client, ClientConfig};
use super::settings::ClientSettings;
use super::transport::DirectTransport;
use super::wire::{content_text, WireChunk, WireRequest, WireResponse, WireUsage};
use crate::execution::{BoxFuture, Usage};
use crate::llm::pricing::cost_usd;
use crate::llm::providers::Endpoint;
use crate::llm::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, TokenSink};

/// A chat model behind an OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama,
/// LM Studio, vLLM, llama.cpp, Anthropic's and Gemini's compatibility endpoints, …).
///
/// - Each call is one HTTP request: no retries here (the scheduler retries), errors classified
///   as described in [`classify`](super::classify).
/// - The model sent is the endpoint's model name; `ChatRequest::model` is not consulted (the
///   model object is bound to its model string).
/// - Streaming (`request.stream`): text deltas go to the sink as they arrive, tool calls are
///   assembled from their fragments, usage is asked for with `stream_options.include_usage`.
/// - Usage: the reply's token counts, `llm_calls: 1`, cost when the price is known (0 for
///   local providers).
///
/// Cancellation: dropping the future returned by [`chat`](ChatModel::chat) closes the
/// connection; no request continues in the background. The future must be polled inside a
/// Tokio runtime (reqwest's I/O and async-openai's SSE reader run on it).
#[derive(Clone)]
pub struct OpenAiCompatibleModel {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    /// The base URL for messages: its credentials read `***`.
    shown_base: String,
    /// What no message may repeat: the key and the URL's credentials.
    secrets: Vec<String>,
    /// Total request timeout: for non-streamed calls.
    plain: Client<EndpointConfig>,
    /// No reqwest timeout: for streamed calls, bounded by `idle_timeout`.
    streaming: Client<EndpointConfig>,
    /// The longest wait for a streamed reply's start or its next chunk.
    idle_timeout: Duration,
    /// Send a request's schema as `response_format` ([`ClientSettings::response_format`]).
    send_response_format: bool,
    /// Sent when a request sets no temperature (an agent's `LLM(temperature=…)`).
    temperature: Option<f32>,
    /// Sent as every request's `max_tokens` (an agent's `LLM(max_tokens=…)`).
    max_tokens: Option<u32>,
}

impl OpenAiCompatibleModel {
    /// A model for `endpoint` with `settings`' timeouts, on the process's shared HTTP clients
    /// ([`shared_client`]). Fails (`Config`) only when the HTTP client cannot be built (TLS
    /// initialisation).
    pub fn new(endpoint: Endpoint, settings: &ClientSettings) -> Result<Self, LlmError> {
        let config = EndpointConfig::new(&endpoint.api_base, endpoint.api_key.as_deref());
        let loopback = is_loopback(&endpoint.api_base);
        // One shared client (a server on this machine is never reached through HTTP(S)_PROXY);
        // non-streamed calls get a total timeout per request. Streamed calls get none: `streamed`
        // bounds each wait itself, so a stall is reported as a timeout (reqwest's read timeout
        // surfaces through async-openai's SSE stream only as text).
        let http = shared_client(ClientConfig { connect_timeout: settings.connect_timeout, no_proxy: loopback })
            .map_err(|e| LlmError::new(LlmErrorKind::Config, format!("cannot build the HTTP client: {e}")))?;
        let client = |timeout| Client::build(http.clone(), config.clone()).with_http_service(DirectTransport::new(http.clone(), timeout));
        Ok(OpenAiCompatibleModel {
            inner: Arc::new(Inner {
                plain: client(Some(settings.request_timeout)),
                streaming: client(None),
                idle_timeout: settings.request_timeout,
                send_response_format: settings.response_format,
                shown_base: endpoint.shown_base(),
                secrets: endpoint.secrets(),
                endpoint,
                temperature: None,
                max_tokens: None,
            }),
        })
    }

    /// The same model sending `temperature` when a request sets none, and `max_tokens` with
    /// every request (`None` sends nothing). Only on a model not yet cloned; a clone is left as
    /// it is.
    pub fn with_defaults(mut self, temperature: Option<f32>, max_tokens: Option<u32>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.temperature = temperature;
            inner.max_tokens = max_tokens;
        }
        self
    }

    /// The endpoint this model sends to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }
}

/// Whether `base`'s host is `localhost` or a loopback address.
fn is_loopback(base: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base) else { return false };
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl ChatModel for OpenAiCompatibleModel {
    fn chat(&self, request: ChatRequest, sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let result = if request.stream { inner.streamed(&request, sink).await } else { inner.plain(&request).await };
            result.map_err(|e| redact_all(e, &inner.secrets))
        })
    }

    fn name(&self) -> String {
        self.inner.endpoint.model.canonical()
    }

    fn shown_endpoint(&self) -> Option<String> {
        Some(self.inner.shown_base.clone())
    }

    fn secrets(&self) -> Vec<String> {
        self.inner.secrets.clone()
    }
}

impl Inner {
    /// The request body, with this model's default temperature and `max_tokens`.
    fn body(&self, request: &ChatRequest) -> WireRequest {
        let mut body = WireRequest::new(&self.endpoint.model.model, request, self.send_response_format);
        body.temperature = body.temperature.or(self.temperature);
        body.max_tokens = self.max_tokens;
        body
    }

    /// The base URL as messages show it (credentials redacted).
    fn api_base(&self) -> &str {
        &self.shown_base
    }

    fn classify(&self, e: async_openai::error::OpenAIError) -> LlmError {
        redact_all(classify(e, self.api_base(), self.endpoint.api_key.as_deref()), &self.secrets)
    }

    async fn plain(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let body = self.body(request);
        let reply: WireResponse = self.plain.chat().create_byot(body).await.map_err(|e| self.classify(e))?;
        let choices = reply.choices.ok_or_else(|| self.invalid("the reply has no `choices`"))?;
        let choice = choices.into_iter().next().ok_or_else(|| self.invalid("the reply's `choices` is empty"))?;
        let message = choice.message.ok_or_else(|| self.invalid("the reply's choice has no `message`"))?;
        let tool_calls = message.tool_calls.unwrap_or_default().into_iter().enumerate().map(|(n, c)| c.into_tool_call(n)).collect();
        Ok(ChatResponse {
            content: content_text(message.content.as_ref()),
            tool_calls,
            usage: self.usage(reply.usage),
            finish_reason: choice.finish_reason,
            model: reply.model.unwrap_or_else(|| self.endpoint.model.model.clone()),
        })
    }

    async fn streamed(&self, request: &ChatRequest, sink: Option<TokenSink>) -> Result<ChatResponse, LlmError> {
        let body = self.body(request);
        let chat = self.streaming.chat();
        let start = chat.create_stream_byot::<_, WireChunk>(body);
        let mut stream = self.within_idle_timeout(start, "the reply to start").await?.map_err(|e| self.classify(e))?;
        let mut assembler = StreamAssembler::default();
        while let Some(item) = self.within_idle_timeout(stream.next(), "the next part of the reply").await? {
            assembler.push(item.map_err(|e| self.classify(e))?, sink.as_ref());
        }
        let reply = assembler.finish(self.api_base())?;
        Ok(ChatResponse {
            content: reply.content,
            tool_calls: reply.tool_calls,
            usage: self.usage(reply.usage),
            finish_reason: reply.finish_reason,
            model: reply.model.unwrap_or_else(|| self.endpoint.model.model.clone()),
        })
    }

    /// `future`'s output, or a `Timeout` when it takes longer than the idle timeout (the
    /// future is dropped, which closes the connection).
    async fn within_idle_timeout<T>(&self, future: impl Future<Output = T>, what: &str) -> Result<T, LlmError> {
        tokio::time::timeout(self.idle_timeout, future).await.map_err(|_| {
            LlmError::new(LlmErrorKind::Timeout, format!("{}: timed out after {:?} waiting for {what}", self.api_base(), self.idle_timeout))
        })
    }

    fn invalid(&self, what: &str) -> LlmError {
        LlmError::new(LlmErrorKind::InvalidResponse, format!("{}: {what}", self.api_base()))
    }

    /// One call's usage; the cost is unknown when a priced provider reported no usage.
    fn usage(&self, usage: Option<WireUsage>) -> Usage {
        let local = self.endpoint.model.provider.local;
        let reported = usage.is_some();
        let usage = usage.unwrap_or_default();
        let prompt_tokens = usage.prompt_tokens.unwrap_or(0);
        let completion_tokens = usage.completion_tokens.unwrap_or(0);
        let cost = if reported || local {
            cost_usd(local, self.endpoint.model.provider.name(), &self.endpoint.model.model, prompt_tokens, completion_tokens)
        } else {
            None
        };
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: usage.total_tokens.unwrap_or(prompt_tokens + completion_tokens),
            llm_calls: 1,
            cost_usd: cost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bases_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:11434/v1"));
        assert!(is_loopback("http://localhost:1234/v1"));
        assert!(is_loopback("http://[::1]:8080/v1"));
        assert!(!is_loopback("https://api.openai.com/v1"));
        assert!(!is_loopback("not a url"));
    }
}
