//! The queue's shared settings: pause, resume, counts.

use serde::Serialize;
use tauri::State;

use crate::gui::{CommandError, GuiState};
use crate::store::{QueueSettings, StatusCounts};

/// Stops starting executions, in every process on the database (running ones go on).
#[tauri::command(rename_all = "snake_case")]
pub async fn pause_queue(state: State<'_, GuiState>) -> Result<QueueSettings, CommandError> {
    Ok(state.scheduler.pause().await?)
}

/// Starts executions again.
#[tauri::command(rename_all = "snake_case")]
pub async fn resume_queue(state: State<'_, GuiState>) -> Result<QueueSettings, CommandError> {
    Ok(state.scheduler.resume().await?)
}

/// The queue settings, how many executions are in each status, and why this app's scheduler
/// stopped when it did (a storage failure such as a full disk; `null` while it runs).
#[derive(Clone, Debug, Serialize)]
pub struct QueueView {
    pub settings: QueueSettings,
    pub counts: StatusCounts,
    pub halted: Option<String>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn get_queue(state: State<'_, GuiState>) -> Result<QueueView, CommandError> {
    let store = state.scheduler.store();
    Ok(QueueView { settings: store.queue_settings()?, counts: store.counts()?, halted: state.scheduler.halted() })
}
