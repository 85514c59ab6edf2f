//! The OpenAI-compatible chat client.
//!
//! Built on `async-openai` (request building, auth headers, SSE parsing) with our own pieces where
//! the scheduler needs more than its defaults give:
//! - [`transport`]: a plain `reqwest` transport installed through async-openai's middleware hook:
//!   no internal retries, HTTP status and `Retry-After` kept.
//! - [`wire`]: lenient reply types (async-openai's "bring your own types" mode), so local
//!   servers' replies parse.
//! - [`http_clients`]: one reqwest client per configuration for the whole process; [`tls`]: their
//!   TLS configuration (the system's root certificates loaded at the first handshake).
//! - [`assemble`]: streamed chunks into one reply; [`classify`]: errors into `LlmErrorKind`.

mod assemble;
mod classify;
mod client;
mod config;
mod http_clients;
mod settings;
mod tls;
mod transport;
mod wire;

pub use classify::parse_retry_after;
pub use client::OpenAiCompatibleModel;
pub use settings::{ClientSettings, CONNECT_TIMEOUT_VAR, RESPONSE_FORMAT_VAR, TIMEOUT_VAR};
