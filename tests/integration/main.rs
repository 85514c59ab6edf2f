//! Crew Runner's integration tests, in one binary (one link of the crate instead of one per file).
//! Each module is one area, tested through the public API or the real `crew-runner` binary against
//! real SQLite and a mock OpenAI-compatible server on 127.0.0.1 (`support::mock_llm`). Run one area
//! with `cargo test --no-default-features --test integration -- cli_run::` (a module path filter).
//! The desktop app's tests are separate binaries (`gui_commands`, `gui_window`): they need features.

#[path = "../harness/mod.rs"]
mod harness;
#[path = "../http_client/mod.rs"]
mod http_client;
#[path = "../load/mod.rs"]
mod load;
#[path = "../scheduler_support/mod.rs"]
mod scheduler_support;
#[path = "../support/mod.rs"]
mod support;

mod batches;
mod broken_crews;
mod cli_commands;
mod cli_config;
mod cli_crews;
mod cli_diff;
mod cli_habits;
mod cli_run;
mod cli_trace;
mod context_window;
mod crash_harness;
mod crash_recovery;
mod crew_formats;
mod crew_fuzz;
mod crewai_engine;
mod crewai_export;
mod crewai_projects;
mod file_tools;
mod history_load;
mod http_api;
mod human_review;
mod llm_client;
mod llm_faults;
mod mcp_tools;
mod never_twice;
mod prune;
mod scheduler_cancel;
mod scheduler_queue;
mod scheduler_retry;
mod scheduler_throughput;
mod secrets;
mod signals;
mod storage_errors;
mod storage_faults;
mod store_concurrency;
mod structured_outputs;
mod web_tools;
mod workers;
