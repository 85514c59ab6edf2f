//! Shared test support: the mock OpenAI-compatible servers (scripted: [`MockLlm`]; fixed latency,
//! async, for concurrency measurements: [`LatencyLlm`]).
//!
//! Use from an integration test with `mod support;` (the test file sits beside this folder) and
//! `use support::{MockLlm, Reply};`.
#![allow(dead_code, unused_imports)]

pub mod latency_llm;
pub mod mock_llm;

pub use latency_llm::{LatencyLlm, LatencyStats};
pub use mock_llm::{default_answer, MockLlm, MockToolCall, RecordedRequest, Reply};
