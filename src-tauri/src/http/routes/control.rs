//! `POST /v1/executions/{id}/cancel`, `…/retry`, `…/answer`, `PUT …/priority`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::execution::{Execution, InputAnswer, Priority};
use crate::http::body::JsonBody;
use crate::http::error::ApiError;
use crate::http::responses::{self, Cancelled, PriorityChange};
use crate::http::state::ApiState;

/// Cancels: `{id, outcome}`, outcome `cancelled` (it was queued or retrying), `requested` (it is
/// running; it stops within a second) or `already_finished` (with `status`; nothing changed).
pub async fn cancel(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Cancelled>, ApiError> {
    let (id, outcome) = state.runner.cancel(&id).await?;
    Ok(Json(Cancelled { id, outcome }))
}

/// `POST …/retry` (all fields optional; the body may be empty).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// Rerun from this task, reusing the stored outputs of the tasks before it.
    pub from_task: Option<String>,
}

/// Queues a finished execution again as a new one: 201 `{id, retry_of, reused_steps}`.
pub async fn retry(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RetryBody>,
) -> Result<(StatusCode, Json<responses::Rerun>), ApiError> {
    let rerun = state.runner.retry(&id, body.from_task.as_deref()).await?;
    let e = rerun.execution;
    Ok((StatusCode::CREATED, Json(responses::Rerun { id: e.id, retry_of: e.retry_of, reused_steps: rerun.reused_steps })))
}

/// `POST …/answer` (the body may be empty).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Feedback for the agent, which revises its answer (and is asked again); absent or empty,
    /// the answer under review is accepted.
    pub feedback: Option<String>,
}

/// Answers the human review an execution awaits: the execution, queued again (409 unless it was
/// `awaiting_input`).
pub async fn answer(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Result<Json<Execution>, ApiError> {
    Ok(Json(state.runner.answer(&id, InputAnswer::from_text(body.feedback.as_deref())).await?))
}

/// `PUT …/priority`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityBody {
    /// low, normal, high or urgent.
    pub priority: Priority,
}

/// Changes the priority of a queued or retrying execution: `{id, priority}` (409 otherwise).
pub async fn priority(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PriorityBody>,
) -> Result<Json<PriorityChange>, ApiError> {
    let e = state.runner.set_priority(&id, body.priority).await?;
    Ok(Json(PriorityChange { id: e.id, priority: e.priority }))
}
