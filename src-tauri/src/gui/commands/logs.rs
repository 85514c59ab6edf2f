//! The ExecutionLog: pages of stored lines, and live tailing through a Channel.

use std::time::Duration;

use tauri::ipc::Channel;
use tauri::State;

use super::parse_id;
use crate::execution::LogEntry;
use crate::gui::log_follow::LogStreamMessage;
use crate::gui::{CommandError, GuiState};
use crate::scheduler::MAX_HEARTBEAT;

/// Lines with `seq > after_seq`, in order, at most `limit` (default 1000, at most 10000).
#[tauri::command(rename_all = "snake_case")]
pub async fn get_execution_logs(
    state: State<'_, GuiState>,
    id: String,
    after_seq: Option<u64>,
    limit: Option<u32>,
) -> Result<Vec<LogEntry>, CommandError> {
    let limit = limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(state.scheduler.store().logs(&parse_id(&id)?, after_seq.unwrap_or(0), limit)?)
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
    let id = parse_id(&id)?;
    let events = state.scheduler.subscribe();
    Ok(state.followers.follow(state.scheduler.store(), events, id, after_seq.unwrap_or(0), recheck(), move |m| {
        channel.send(m).is_ok()
    }))
}

/// Stops a follower; false when it had already ended.
#[tauri::command(rename_all = "snake_case")]
pub async fn unfollow_execution_logs(state: State<'_, GuiState>, subscription: u64) -> Result<bool, CommandError> {
    Ok(state.followers.stop(subscription))
}

/// How often a follower re-reads the store for other processes' lines.
fn recheck() -> Duration {
    MAX_HEARTBEAT
}
