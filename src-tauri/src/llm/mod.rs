//! Chat models behind one trait: OpenAI-compatible endpoints, the offline model, record and replay.
//!
//! - [`providers`]: model strings to endpoints; [`pricing`]: cost per call.
//! - [`openai`]: the OpenAI-compatible client ([`OpenAiCompatibleModel`]).
//! - [`RecordingModel`] / [`ReplayModel`]: `--record` / `--replay` (one [`Exchange`] per line).
//!
//! The engine asks a [`ModelRegistry`] for a [`ChatModel`] by the
//! model string CrewAI users write (`openai/gpt-4o-mini`, `ollama/llama3.1`, `offline`, …).

pub mod endpoint_secrets;
mod env_file;
mod exchange;
mod offline;
mod offline_tool_choice;
pub mod openai;
pub mod pricing;
pub mod providers;
mod record;
mod registry;
mod replay;
mod schema_example;
mod tool_tape;
mod types;

pub use env_file::EnvFileError;
pub use exchange::{request_hash, Exchange};
pub use openai::{ClientSettings, OpenAiCompatibleModel};
pub use record::{RecordFile, RecordingModel};
pub use replay::{ReplayBook, ReplayModel};
pub use tool_tape::{ToolResultRecord, ToolTape};

pub use offline::OfflineModel;
pub use registry::{LlmEnv, ModelRegistry};
pub use types::{
    ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, ResponseSchema, Role, TokenSink, ToolCall, ToolDef,
};
