//! The one error type every command returns, serialised as `{"kind": "...", "message": "..."}`.

use serde::Serialize;

use crate::app::{PathsError, RerunError, RunnerError, SubmitError};
use crate::crew::CrewError;
use crate::scheduler::SchedulerError;
use crate::store::StoreError;

/// What went wrong, as a stable snake_case word the UI can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandErrorKind {
    /// No execution (or crew, or file) with that name.
    NotFound,
    /// An argument is malformed (an id that is no ULID, a concurrency of 0, …).
    InvalidArgument,
    /// The operation does not apply in the execution's current status.
    InvalidState,
    /// The crew file cannot be loaded; the message lists every problem, one per line.
    InvalidCrew,
    /// Placeholders of the crew have no value.
    MissingInputs,
    /// A model the crew uses cannot be resolved (unknown provider, missing key, bad recording).
    Model,
    /// The database failed.
    Storage,
    /// A file could not be read or written (settings, the crew library).
    Io,
    /// The scheduler has shut down (the app is closing).
    Stopped,
}

/// A command failed. Crosses the IPC boundary as `{kind, message}`; nothing secret is ever in
/// `message` (errors never include the API key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct CommandError {
    pub kind: CommandErrorKind,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: CommandErrorKind, message: impl Into<String>) -> Self {
        CommandError { kind, message: message.into() }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::NotFound(_) => CommandErrorKind::NotFound,
            StoreError::InvalidState { .. } | StoreError::NotOwner { .. } | StoreError::Fenced { .. } => CommandErrorKind::InvalidState,
            StoreError::IdempotencyConflict { .. } => CommandErrorKind::InvalidArgument,
            _ => CommandErrorKind::Storage,
        };
        CommandError::new(kind, e.to_string())
    }
}

impl From<SchedulerError> for CommandError {
    fn from(e: SchedulerError) -> Self {
        match e {
            SchedulerError::Store(s) => s.into(),
            SchedulerError::Stopped => CommandError::new(CommandErrorKind::Stopped, e.to_string()),
        }
    }
}

impl From<SubmitError> for CommandError {
    fn from(e: SubmitError) -> Self {
        let kind = match &e {
            SubmitError::Crew(_) => CommandErrorKind::InvalidCrew,
            SubmitError::MissingInputs { .. } => CommandErrorKind::MissingInputs,
            SubmitError::Model { .. } => CommandErrorKind::Model,
            SubmitError::NoAttempts | SubmitError::NoAbandons | SubmitError::BadIdempotencyKey(_) | SubmitError::BadTimeout(_) => {
                CommandErrorKind::InvalidArgument
            }
            SubmitError::Secrets(_) => CommandErrorKind::Io,
        };
        CommandError::new(kind, e.to_string())
    }
}

impl From<RunnerError> for CommandError {
    fn from(e: RunnerError) -> Self {
        match e {
            RunnerError::BadId(_) => CommandError::new(CommandErrorKind::InvalidArgument, e.to_string()),
            RunnerError::NotFound(_) => CommandError::new(CommandErrorKind::NotFound, e.to_string()),
            RunnerError::Submit(e) => e.into(),
            RunnerError::Rerun(e) => e.into(),
            RunnerError::Store(e) => e.into(),
            RunnerError::Scheduler(e) => e.into(),
        }
    }
}

impl From<RerunError> for CommandError {
    fn from(e: RerunError) -> Self {
        let kind = match &e {
            RerunError::NotFinished { .. } => CommandErrorKind::InvalidState,
            RerunError::UnknownTask { .. } => CommandErrorKind::InvalidArgument,
            RerunError::Snapshot { .. } => CommandErrorKind::Storage,
        };
        CommandError::new(kind, e.to_string())
    }
}

impl From<CrewError> for CommandError {
    fn from(e: CrewError) -> Self {
        CommandError::new(CommandErrorKind::InvalidCrew, e.to_string())
    }
}

impl From<PathsError> for CommandError {
    fn from(e: PathsError) -> Self {
        CommandError::new(CommandErrorKind::Io, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_message_only() {
        let e = CommandError::new(CommandErrorKind::InvalidState, "cannot cancel");
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::json!({"kind": "invalid_state", "message": "cannot cancel"}));
    }

    #[test]
    fn store_rejections_keep_their_kind() {
        let id = crate::execution::ExecutionId::new();
        let e: CommandError = StoreError::NotFound(id.clone()).into();
        assert_eq!(e.kind, CommandErrorKind::NotFound);
        assert!(e.message.contains(id.as_str()));
        let e: CommandError = SchedulerError::Stopped.into();
        assert_eq!(e.kind, CommandErrorKind::Stopped);
    }
}
