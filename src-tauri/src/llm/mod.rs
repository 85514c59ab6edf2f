//! Chat models behind one trait: OpenAI-compatible endpoints, the offline model, record and replay.
//!
//! The engine asks a [`ModelRegistry`] for a [`ChatModel`] by the
//! model string CrewAI users write (`openai/gpt-4o-mini`, `ollama/llama3.1`, `offline`, …).

mod offline;
pub mod openai;
pub mod pricing;
pub mod providers;
mod registry;
mod types;

pub use offline::OfflineModel;
pub use registry::{LlmEnv, ModelRegistry};
pub use types::{
    ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, Role, TokenSink,
    ToolCall, ToolDef,
};
