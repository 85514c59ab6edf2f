//! [`ApiError`]: every failed request's answer, `{"kind": "...", "message": "..."}` with the HTTP
//! status its kind maps to (the desktop app's `{kind, message}` contract, over HTTP).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

use crate::app::SchedulerError;
use crate::app::StoreError;
use crate::app::{RerunError, RunnerError, SubmitError, TraceError};

/// What went wrong, as a stable snake_case word a client can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ApiErrorKind")]
pub enum ErrorKind {
    /// No execution with that id, or no such route: 404.
    NotFound,
    /// A malformed argument (an id that is no ULID, a bad priority, duration or JSON body): 400.
    InvalidArgument,
    /// The crew cannot be loaded or no engine can run it; the message lists every problem: 400.
    InvalidCrew,
    /// Placeholders of the crew have no value: 400.
    MissingInputs,
    /// A model the crew uses cannot be resolved (unknown provider, missing key): 400.
    Model,
    /// The operation does not apply in the execution's current status: 409.
    InvalidState,
    /// The idempotency key was used before for a different submission: 409.
    IdempotencyConflict,
    /// No or a wrong `Authorization: Bearer` token: 401.
    Unauthorized,
    /// The `Host` header names another server (DNS rebinding): 403.
    ForbiddenHost,
    /// The request body is larger than the server accepts: 413.
    BodyTooLarge,
    /// The method is not allowed on this path: 405.
    MethodNotAllowed,
    /// The database failed: 500.
    Storage,
    /// A file could not be written (endpoint credentials): 500.
    Io,
    /// This process's scheduler has stopped (the server is shutting down or the store failed): 503.
    Stopped,
}

impl ErrorKind {
    /// The HTTP status a response of this kind has.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::InvalidArgument | ErrorKind::InvalidCrew | ErrorKind::MissingInputs | ErrorKind::Model => StatusCode::BAD_REQUEST,
            ErrorKind::InvalidState | ErrorKind::IdempotencyConflict => StatusCode::CONFLICT,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::ForbiddenHost => StatusCode::FORBIDDEN,
            ErrorKind::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Storage | ErrorKind::Io => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A failed request: serialised as `{kind, message}`, answered with the HTTP status of its kind
/// ([`ErrorKind::status`]). Nothing secret is ever in `message` (errors never include API keys or
/// the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error, JsonSchema)]
#[error("{kind:?}: {message}")]
#[schemars(rename = "Error")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into() }
    }

    /// An [`ErrorKind::InvalidArgument`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::InvalidArgument, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.kind.status(), axum::Json(self)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::NotFound(_) => ErrorKind::NotFound,
            StoreError::InvalidState { .. } | StoreError::NotOwner { .. } | StoreError::Fenced { .. } => ErrorKind::InvalidState,
            StoreError::IdempotencyConflict { .. } => ErrorKind::IdempotencyConflict,
            _ => ErrorKind::Storage,
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        let kind = match &e {
            SubmitError::Crew(_) | SubmitError::Engine(_) => ErrorKind::InvalidCrew,
            SubmitError::MissingInputs { .. } => ErrorKind::MissingInputs,
            SubmitError::Model { .. } | SubmitError::MissingToolKeys { .. } => ErrorKind::Model,
            SubmitError::NoAttempts
            | SubmitError::NoAbandons
            | SubmitError::BadIdempotencyKey(_)
            | SubmitError::BadTimeout(_)
            | SubmitError::NativeOnly { .. } => ErrorKind::InvalidArgument,
            SubmitError::Secrets(_) => ErrorKind::Io,
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<RerunError> for ApiError {
    fn from(e: RerunError) -> Self {
        let kind = match &e {
            RerunError::NotFinished { .. } => ErrorKind::InvalidState,
            RerunError::UnknownTask { .. } => ErrorKind::InvalidArgument,
            RerunError::Snapshot { .. } => ErrorKind::Storage,
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<RunnerError> for ApiError {
    fn from(e: RunnerError) -> Self {
        match e {
            RunnerError::BadId(_) => ApiError::invalid(e.to_string()),
            RunnerError::NotFound(_) => ApiError::new(ErrorKind::NotFound, e.to_string()),
            RunnerError::Submit(e) => e.into(),
            RunnerError::Rerun(e) => e.into(),
            RunnerError::Compare(_) => ApiError::invalid(e.to_string()),
            RunnerError::Trace(TraceError::Unreadable { .. }) => ApiError::new(ErrorKind::Storage, e.to_string()),
            RunnerError::Trace(_) => ApiError::new(ErrorKind::NotFound, e.to_string()),
            RunnerError::Store(e) => e.into(),
            RunnerError::Scheduler(SchedulerError::Store(e)) => e.into(),
            RunnerError::Scheduler(e @ SchedulerError::Stopped) => ApiError::new(ErrorKind::Stopped, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{ExecutionId, Status};

    #[test]
    fn serialises_as_kind_and_message_only() {
        let e = ApiError::new(ErrorKind::ForbiddenHost, "no");
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::json!({"kind": "forbidden_host", "message": "no"}));
    }

    #[test]
    fn kinds_map_to_statuses() {
        let id = ExecutionId::new();
        let cases: Vec<(ApiError, StatusCode)> = vec![
            (RunnerError::NotFound(id.to_string()).into(), StatusCode::NOT_FOUND),
            (RunnerError::BadId("x".parse::<ExecutionId>().unwrap_err()).into(), StatusCode::BAD_REQUEST),
            (SubmitError::NoAttempts.into(), StatusCode::BAD_REQUEST),
            (StoreError::InvalidState { id: id.clone(), status: Status::Running, operation: "reprioritise" }.into(), StatusCode::CONFLICT),
            (StoreError::IdempotencyConflict { key: "k".into() }.into(), StatusCode::CONFLICT),
            (RerunError::NotFinished { id: id.clone(), status: Status::Queued }.into(), StatusCode::CONFLICT),
            (StoreError::Closed.into(), StatusCode::INTERNAL_SERVER_ERROR),
            (RunnerError::Scheduler(SchedulerError::Stopped).into(), StatusCode::SERVICE_UNAVAILABLE),
            (ApiError::new(ErrorKind::Unauthorized, ""), StatusCode::UNAUTHORIZED),
            (ApiError::new(ErrorKind::BodyTooLarge, ""), StatusCode::PAYLOAD_TOO_LARGE),
        ];
        for (e, status) in cases {
            assert_eq!(e.kind.status(), status, "{e}");
        }
    }
}
