//! The commands the page invokes. Each delegates to the core in a line or two; arguments and
//! results are JSON with snake_case keys; every error is a [`CommandError`](super::CommandError).

pub mod crews;
pub mod executions;
pub mod logs;
pub mod queue;
pub mod settings;

use super::{CommandError, CommandErrorKind};
use crate::execution::ExecutionId;

/// Registers every command on `builder` (the app and the command tests use this; keep the list
/// in sync with `build.rs`).
pub fn register<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        executions::submit_execution,
        executions::cancel_execution,
        executions::get_execution,
        executions::get_execution_steps,
        executions::list_executions,
        executions::retry_execution,
        executions::set_priority,
        logs::get_execution_logs,
        logs::follow_execution_logs,
        logs::unfollow_execution_logs,
        queue::pause_queue,
        queue::resume_queue,
        queue::get_queue,
        crews::validate_crew,
        crews::preview_crew,
        crews::list_crews,
        crews::import_crew,
        crews::pick_crew,
        crews::pick_file,
        settings::get_settings,
        settings::set_settings,
    ])
}

/// Runs `work` on tokio's blocking pool: for core calls that may take seconds (loading a crew and
/// probing its Python runs `python`), so they never stall the async runtime the commands share.
pub(crate) async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, CommandError>
where
    T: Send + 'static,
    E: Into<CommandError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(CommandError::new(CommandErrorKind::Stopped, format!("the app is closing: {e}"))),
    }
}

/// Parses an execution id from the page.
pub(crate) fn parse_id(id: &str) -> Result<ExecutionId, CommandError> {
    id.parse().map_err(|e: <ExecutionId as std::str::FromStr>::Err| CommandError::new(CommandErrorKind::InvalidArgument, e.to_string()))
}
