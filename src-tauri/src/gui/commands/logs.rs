//! The ExecutionLog: pages of stored lines, and live tailing through a Channel.

use tauri::ipc::Channel;
use tauri::State;

use super::parse_id;
use crate::execution::LogEntry;
use crate::gui::log_follow::LogStreamMessage;
use crate::gui::{CommandError, GuiState};

/// Lines with `seq > after_seq`, in order, at most `limit` (default 1000, at most 10000).
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution_logs(
    state: State<'_, GuiState>,
    id: String,
    after_seq: Option<u64>,
    limit: Option<u32>,
) -> Result<Vec<LogEntry>, CommandError> {
    let limit = limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(state.runner.logs(&parse_id(&id)?, after_seq.unwrap_or(0), limit)?)
}

/// Streams the log after `after_seq` into `channel` as [`LogStreamMessage`]s until the execution
/// ends (then `end`), [`unfollow_execution_logs`] is called, or the page reloads. Returns the
/// subscription number.
#[tauri::command(rename_all = "snake_case")]
pub async fn follow_execution_logs(
    state: State<'_, GuiState>,
    id: String,
    after_seq: Option<u64>,
    channel: Channel<LogStreamMessage>,
) -> Result<u64, CommandError> {
    let tail = state.runner.follow_logs(&parse_id(&id)?, after_seq.unwrap_or(0));
    Ok(state.followers.follow(tail, move |m| channel.send(m).is_ok()))
}

/// Stops a follower; false when it had already ended.
#[tauri::command(rename_all = "snake_case")]
pub async fn unfollow_execution_logs(state: State<'_, GuiState>, subscription: u64) -> Result<bool, CommandError> {
    Ok(state.followers.stop(subscription))
}
