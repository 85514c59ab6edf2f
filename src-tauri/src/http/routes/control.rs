//! `POST /v1/executions/{id}/cancel`, `…/retry`, `PUT …/priority`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::execution::Priority;
use crate::http::body::JsonBody;
use crate::http::error::ApiError;
use crate::http::state::ApiState;
use crate::scheduler::CancelOutcome;

/// Cancels: `{id, outcome}`, outcome `cancelled` (it was queued or retrying), `requested` (it is
/// running; it stops within a second) or `already_finished` (with `status`; nothing changed).
pub async fn cancel(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let (id, outcome) = state.runner.cancel(&id).await?;
    Ok(Json(match outcome {
        CancelOutcome::Cancelled => json!({ "id": id, "outcome": "cancelled" }),
        CancelOutcome::Requested => json!({ "id": id, "outcome": "requested" }),
        CancelOutcome::AlreadyFinished(status) => json!({ "id": id, "outcome": "already_finished", "status": status }),
    }))
}

/// `POST …/retry` (all fields optional; the body may be empty).
#[derive(Debug, Deserialize)]
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
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rerun = state.runner.retry(&id, body.from_task.as_deref()).await?;
    let e = rerun.execution;
    Ok((StatusCode::CREATED, Json(json!({ "id": e.id, "retry_of": e.retry_of, "reused_steps": rerun.reused_steps }))))
}

/// `PUT …/priority`.
#[derive(Debug, Deserialize)]
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
) -> Result<Json<Value>, ApiError> {
    let e = state.runner.set_priority(&id, body.priority).await?;
    Ok(Json(json!({ "id": e.id, "priority": e.priority })))
}
