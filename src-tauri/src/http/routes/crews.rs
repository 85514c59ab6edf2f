//! `POST /v1/crews/validate`.

use std::path::PathBuf;

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::app::{preview_crew, EngineChoice, SubmitRequest, Validation};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ErrorKind};
use crate::http::state::ApiState;

/// `POST /v1/crews/validate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    /// The crew: an absolute path on the server's machine.
    pub crew: PathBuf,
    #[serde(default)]
    pub engine: EngineChoice,
}

/// What `crew-runner validate --json` prints (a [`Validation`]);
/// 400 `invalid_crew` with every problem when the crew is invalid. Nothing is recorded.
pub async fn validate_crew(State(state): State<ApiState>, JsonBody(body): JsonBody<ValidateBody>) -> Result<Json<Validation>, ApiError> {
    if !body.crew.is_absolute() {
        return Err(ApiError::invalid(format!("crew `{}`: expected an absolute path on the server's machine", body.crew.display())));
    }
    let mut request = SubmitRequest::new(&body.crew);
    request.workspaces = state.workspaces.clone();
    request.engine = body.engine;
    let llm = state.llm.env();
    let validation = tokio::task::spawn_blocking(move || preview_crew(&request, &llm))
        .await
        .map_err(|e| ApiError::new(ErrorKind::Storage, format!("validating failed: {e}")))??;
    Ok(Json(validation.validation()))
}
