//! `POST /v1/executions`, `GET /v1/executions`, `GET /v1/executions/{id}`, `…/steps`, `…/logs`,
//! `…/diff/{other}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::{default_batch_key, idempotency_key, prepare_batch, RunComparison, Trace, TraceCall};
use crate::execution::Execution;
use crate::http::body::JsonBody;
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::responses::{ExecutionPage, ExecutionRow, LogPage, Steps, Submitted};
use crate::http::state::ApiState;
use crate::http::submit::SubmitBody;

/// Records the crew's execution(s) as queued: 201 `{ids, warnings, replayed: false}`; a repeat of
/// an idempotency key with the same content records nothing: 200 `{ids (recorded the first
/// time), warnings, replayed: true}`. A batch (`rows`) without a key gets one made from its
/// content, as the CLI's `--inputs-file` does.
pub async fn submit(State(state): State<ApiState>, JsonBody(body): JsonBody<SubmitBody>) -> Result<Response, ApiError> {
    let (request, rows) = body.request(state.workspaces.clone())?;
    let llm = state.llm.env();
    let prepared = tokio::task::spawn_blocking(move || prepare_batch(&request, &rows, &llm))
        .await
        .map_err(|e| ApiError::new(crate::http::ErrorKind::Storage, format!("preparing the submission failed: {e}")))??;
    let mut warnings: Vec<String> = Vec::new();
    for w in prepared.iter().flat_map(|(_, w)| w) {
        let text = w.to_string();
        if !warnings.contains(&text) {
            warnings.push(text);
        }
    }
    let news: Vec<_> = prepared.into_iter().map(|(new, _)| new).collect();
    let key = match &body.idempotency_key {
        Some(key) => Some(idempotency_key(key, &news)?),
        None if body.rows.is_some() => Some(default_batch_key(&news)),
        None => None,
    };
    let submission = state.runner.submit(news, key).await?;
    let status = if submission.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(Submitted { ids: submission.ids, replayed: submission.replayed, warnings })).into_response())
}

/// A page of executions, newest first: `{executions, next_before}` (`next_before` is the cursor of
/// the next page, `null` on the last one).
pub async fn list(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Result<Json<ExecutionPage>, ApiError> {
    let filter = query::execution_filter(raw.as_deref())?;
    let executions = state.runner.list(&filter)?;
    let next_before = (executions.len() as u32 >= filter.limit).then(|| executions.last().map(|e| e.id.clone())).flatten();
    Ok(Json(ExecutionPage { executions: executions.into_iter().map(ExecutionRow).collect(), next_before }))
}

/// One execution, in full.
pub async fn get(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Execution>, ApiError> {
    Ok(Json(state.runner.get(&id)?))
}

/// The finished tasks of an execution, in completion order: `{steps}`.
pub async fn steps(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Steps>, ApiError> {
    Ok(Json(Steps { steps: state.runner.steps(&id)? }))
}

/// Log lines after `after`, at most `limit`: `{entries, next_after}` (`next_after`: the last seq
/// returned, or `after` when none).
pub async fn logs(State(state): State<ApiState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Json<LogPage>, ApiError> {
    let (after, limit) = query::log_page(raw.as_deref())?;
    let e = state.runner.get(&id)?;
    let entries = state.runner.logs(&e.id, after, limit)?;
    let next_after = entries.last().map_or(after, |l| l.seq);
    Ok(Json(LogPage { entries, next_after }))
}

/// The trace of execution `id` (see `Runner::trace`), with the current `trace_payloads` setting:
/// 404 for an unknown id, 400 for a malformed one.
pub async fn trace(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Json<Trace>, ApiError> {
    let runner = state.runner.clone();
    let payloads = state.llm.env().trace_payloads();
    let trace = tokio::task::spawn_blocking(move || runner.trace(&id, payloads))
        .await
        .map_err(|e| ApiError::new(crate::http::ErrorKind::Storage, format!("reading the trace failed: {e}")))??;
    Ok(Json(trace))
}

/// What LLM call `call` of execution `id` sent and received (see `Runner::trace_call`): 404 for an
/// unknown id or call, or a call whose messages were not kept; 400 for a malformed id or call.
pub async fn trace_call(State(state): State<ApiState>, Path((id, call)): Path<(String, String)>) -> Result<Json<TraceCall>, ApiError> {
    let call: u64 = call.parse().map_err(|_| ApiError::invalid(format!("{call:?} is not a call number (a `call` of the trace)")))?;
    let runner = state.runner.clone();
    let found = tokio::task::spawn_blocking(move || runner.trace_call(&id, call))
        .await
        .map_err(|e| ApiError::new(crate::http::ErrorKind::Storage, format!("reading the call failed: {e}")))??;
    Ok(Json(found))
}

/// Execution `id` compared with execution `other` (see `Runner::compare`): 404 for an unknown id,
/// 400 for a malformed one or executions of different crews.
pub async fn diff(State(state): State<ApiState>, Path((id, other)): Path<(String, String)>) -> Result<Json<RunComparison>, ApiError> {
    let runner = state.runner.clone();
    let comparison = tokio::task::spawn_blocking(move || runner.compare(&id, &other))
        .await
        .map_err(|e| ApiError::new(crate::http::ErrorKind::Storage, format!("comparing the executions failed: {e}")))??;
    Ok(Json(comparison))
}
