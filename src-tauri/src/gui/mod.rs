//! The desktop app: a Tauri 2 shell over the same core and database as the CLI.
//!
//! - [`run`] opens the window (`crew-runner` with no command): it starts a scheduler that claims
//!   any runnable execution of the data dir's database ([`GuiState::start`]), so work submitted by
//!   `crew-runner submit` runs here and shows up live.
//! - [`commands`]: what the page invokes, each a delegation to the core.
//! - [`events`]: scheduler events and other processes' changes pushed to the page;
//!   [`log_follow`]: live ExecutionLog tailing through channels.
//! - Errors cross the boundary as [`CommandError`] (`{kind, message}`).
//! - [`http_server`]: the local HTTP API on the same [`crate::app::Runner`], when enabled in Settings.
//!
//! Closing the window shuts the scheduler down cleanly: running attempts are interrupted and put
//! back to `queued` with their finished tasks kept, so the next start (or any worker) continues
//! them where they stopped. SIGTERM, SIGINT and SIGHUP do the same ([`stop_signals`]). A killed app's executions are recovered the same way at the next start
//! (its owner lock is free: `store/liveness.rs`).
//!
//! Security: the page may only call these commands and listen to events (`capabilities/`); dialogs
//! and notifications are opened from Rust; the CSP allows no remote content and no inline script;
//! a second launch focuses the first window (single-instance plugin).

mod app;
pub mod bindings;
pub mod commands;
pub mod crew_library;
mod error;
pub mod events;
pub mod executor;
pub mod http_server;
pub mod log_follow;
pub mod settings;
mod state;
mod stop_signals;
pub mod token_batches;

pub use app::{build_app, run, start};
pub use error::{CommandError, CommandErrorKind};
pub use state::{GuiState, StartError};
