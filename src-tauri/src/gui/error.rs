//! The one error type every command returns, serialised as `{"kind": "...", "message": "..."}`.

use serde::Serialize;
use ts_rs::TS;

use crate::app::SchedulerError;
use crate::app::StoreError;
use crate::app::{EngineChoiceError, PathsError, RerunError, RunnerError, SubmitError, TraceError};
use crate::crew::CrewError;

/// What went wrong, as a stable snake_case word the UI can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
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
    /// The engine asked for cannot run the crew as asked: no Python with CrewAI for `crewai`,
    /// `native` for a crew only CrewAI runs, or an option the CrewAI engine does not support
    /// (replaying a recording).
    Engine,
}

/// A command failed. Crosses the IPC boundary as `{kind, message}`; nothing secret is ever in
/// `message` (errors never include the API key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error, TS)]
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
            SubmitError::Model { .. } | SubmitError::MissingToolKeys { .. } => CommandErrorKind::Model,
            SubmitError::NoAttempts | SubmitError::NoAbandons | SubmitError::BadIdempotencyKey(_) | SubmitError::BadTimeout(_) => {
                CommandErrorKind::InvalidArgument
            }
            SubmitError::Secrets(_) => CommandErrorKind::Io,
            // Neither engine can load it: the loader's errors (and the Pythons tried) are listed.
            SubmitError::Engine(EngineChoiceError::Unrunnable { .. }) => CommandErrorKind::InvalidCrew,
            SubmitError::Engine(EngineChoiceError::NoPython { .. } | EngineChoiceError::NativeCannot { .. })
            | SubmitError::NativeOnly { .. } => CommandErrorKind::Engine,
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
            RunnerError::Compare(_) => CommandError::new(CommandErrorKind::InvalidArgument, e.to_string()),
            RunnerError::Trace(TraceError::Unreadable { .. }) => CommandError::new(CommandErrorKind::Storage, e.to_string()),
            RunnerError::Trace(_) => CommandError::new(CommandErrorKind::NotFound, e.to_string()),
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

    #[test]
    fn engine_refusals_cross_as_engine_or_invalid_crew() {
        use crate::crew::Diagnostic;
        use crate::engine::crewai::{NoPython, Tried};
        let not_native = || CrewError::single(Diagnostic::new("s.py", "not a YAML or JSON crew"));
        let no_python =
            || NoPython { tried: vec![Tried { command: "python3".into(), source: "python3 on PATH".into(), reason: "no crewai".into() }] };
        let json = |e: SubmitError| serde_json::to_value(CommandError::from(e)).unwrap();

        let native_cannot = EngineChoiceError::NativeCannot { crew: "s.py".into(), what: "a Python script", native: not_native() };
        assert_eq!(
            json(native_cannot.into()),
            serde_json::json!({
                "kind": "engine",
                "message": "s.py: a Python script runs on the CrewAI engine only (--engine crewai or auto): s.py: not a YAML or JSON crew"
            })
        );
        let starts = |e: SubmitError, kind: &str, start: &str| {
            let e = json(e);
            assert_eq!(e["kind"], kind);
            assert!(e["message"].as_str().unwrap().starts_with(start), "{e}");
        };
        let no_python_asked = EngineChoiceError::NoPython { crew: "c.yaml".into(), no_python: no_python() };
        starts(
            no_python_asked.into(),
            "engine",
            "c.yaml: --engine crewai: no Python with CrewAI found; tried: python3 (python3 on PATH): no crewai.",
        );
        let native_only = SubmitError::NativeOnly { crew: "c.yaml".into(), option: "--replay", reason: "--engine crewai".into() };
        assert_eq!(
            json(native_only),
            serde_json::json!({
                "kind": "engine",
                "message": "c.yaml: --replay works with the native engine only (this crew runs on CrewAI: --engine crewai)"
            })
        );
        let unrunnable = EngineChoiceError::Unrunnable { native: not_native(), python_crew: None, no_python: Some(no_python()) };
        starts(
            unrunnable.into(),
            "invalid_crew",
            "s.py: not a YAML or JSON crew\n(the CrewAI engine was tried too: no Python with CrewAI found",
        );
    }
}
