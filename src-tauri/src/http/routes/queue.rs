//! `GET /v1/queue`, `POST /v1/queue/pause`, `POST /v1/queue/resume`.

use axum::extract::State;
use axum::Json;

use crate::app::QueueSettings;
use crate::app::QueueView;
use crate::http::error::ApiError;
use crate::http::state::ApiState;

/// `{settings: {paused, concurrency}, counts: {queued, running, …}, halted}`.
pub async fn get(State(state): State<ApiState>) -> Result<Json<QueueView>, ApiError> {
    Ok(Json(state.runner.queue()?))
}

/// Stops starting executions in every process on the data dir: `{paused, concurrency}`.
pub async fn pause(State(state): State<ApiState>) -> Result<Json<QueueSettings>, ApiError> {
    Ok(Json(state.runner.set_paused(true).await?))
}

/// Starts executions again: `{paused, concurrency}`.
pub async fn resume(State(state): State<ApiState>) -> Result<Json<QueueSettings>, ApiError> {
    Ok(Json(state.runner.set_paused(false).await?))
}
