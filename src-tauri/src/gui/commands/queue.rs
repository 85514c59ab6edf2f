//! The queue's shared settings: pause, resume, counts.

use tauri::State;

use crate::app::QueueSettings;
use crate::app::QueueView;
use crate::gui::{CommandError, GuiState};

/// Stops starting executions, in every process on the database (running ones go on).
#[tauri::command(rename_all = "snake_case")]
pub async fn pause_queue(state: State<'_, GuiState>) -> Result<QueueSettings, CommandError> {
    Ok(state.runner.set_paused(true).await?)
}

/// Starts executions again.
#[tauri::command(rename_all = "snake_case")]
pub async fn resume_queue(state: State<'_, GuiState>) -> Result<QueueSettings, CommandError> {
    Ok(state.runner.set_paused(false).await?)
}

/// The queue settings, how many executions are in each status, and why this app's scheduler
/// stopped when it did (a storage failure such as a full disk; `null` while it runs).
#[tauri::command(rename_all = "snake_case")]
pub async fn get_queue(state: State<'_, GuiState>) -> Result<QueueView, CommandError> {
    Ok(state.runner.queue()?)
}
