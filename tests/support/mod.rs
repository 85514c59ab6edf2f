//! Shared test support: the mock OpenAI-compatible server.
//!
//! Use from an integration test with `mod support;` (the test file sits beside this folder) and
//! `use support::{MockLlm, Reply};`.
#![allow(dead_code, unused_imports)]

pub mod mock_llm;

pub use mock_llm::{default_answer, MockLlm, MockToolCall, RecordedRequest, Reply};
