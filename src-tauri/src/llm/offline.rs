//! The offline model: deterministic answers with no network. (Filled in by the engine work.)

use super::types::{ChatModel, ChatRequest, ChatResponse, LlmError, LlmErrorKind, TokenSink};
use crate::execution::BoxFuture;

/// A deterministic model that needs no network.
#[derive(Clone, Debug, Default)]
pub struct OfflineModel;

impl OfflineModel {
    pub fn new() -> Self {
        OfflineModel
    }
}

impl ChatModel for OfflineModel {
    fn chat(&self, _request: ChatRequest, _sink: Option<TokenSink>) -> BoxFuture<'static, Result<ChatResponse, LlmError>> {
        Box::pin(async { Err(LlmError::new(LlmErrorKind::Config, "offline model not implemented yet")) })
    }
    fn name(&self) -> String {
        "offline".into()
    }
}
