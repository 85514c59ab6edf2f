//! Crew Runner's core: a durable priority scheduler over SQLite and a CrewAI-compatible crew engine.
//!
//! The layering, from the bottom:
//! - [`execution`]: the domain types every layer shares (`Execution`, `Priority`, `ExecutionState`,
//!   `LogEvent`, …) and the two contracts between layers: [`execution::Executor`] (what the scheduler
//!   runs) and [`execution::Journal`] (how a running execution records its steps).
//! - [`store`]: the SQLite store (one writer thread, group commit, migrations from `migrations/`).
//! - [`scheduler`]: the dispatcher that owns the queue (priorities, concurrency, leases, retries,
//!   timeouts, cancellation) and broadcasts events.
//! - [`crew`]: loading CrewAI YAML projects, single-file crews and graph JSON into one `CrewSpec`.
//! - [`llm`]: chat models behind one trait (OpenAI-compatible endpoints, record/replay).
//! - [`engine`]: runs a `CrewSpec` (agents, tasks, tools, sequential and hierarchical processes) and
//!   the offline model.
//! - [`app`]: what both faces call: data paths, preparing submissions, reruns.
//! - [`cli`]: the headless face (`crew-runner --run`, subcommands).
//! - [`http`]: the local HTTP API over the same [`app::Runner`] (`crew-runner serve`).
//!
//! Nothing here depends on Tauri; the desktop shell lives behind the `gui` feature.

pub mod app;
pub mod cli;
pub mod crew;
pub mod engine;
pub mod execution;
#[cfg(feature = "gui")]
pub mod gui;
pub mod http;
pub mod llm;
pub mod scheduler;
pub mod store;
