use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ExecutionError, InputRequest, Millis};

/// Where an execution is in its life, with what is true in that state (like pueue's `TaskStatus`).
///
/// Transitions: `Queued → Running → (Succeeded | Failed | Cancelled | Retrying | Queued |
/// AwaitingInput)`, `AwaitingInput → Queued` when answered (or `→ Cancelled`),
/// `Retrying → Queued` when the backoff is due (or straight to `Running` when claimed),
/// `Queued | Retrying → Cancelled`. A running execution whose owner dies goes back to `Queued`
/// (recovered) or to `Failed` with kind `abandoned` when no attempts remain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ExecutionState {
    /// Waiting for a free slot.
    Queued,
    /// Claimed by `owner`, which must renew its lease before `lease_expires_at`. `lease_token`
    /// is the claim's fencing token: the attempt's writes are refused once it is not current.
    /// `owner_gone` is not stored: reads set it when the owner's process is gone (its lock is
    /// free), so an execution whose worker died shows as such before any worker recovers it.
    /// `started_at` is this attempt's start; in JSON it is `attempt_started_at`, since an
    /// execution's JSON (the state's fields beside the execution's own) has its own `started_at`,
    /// its first attempt's. (It was `started_at` before: reading accepts that name too.)
    Running {
        owner: String,
        lease_expires_at: Millis,
        #[serde(rename = "attempt_started_at", alias = "started_at")]
        started_at: Millis,
        #[serde(default)]
        lease_token: i64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        owner_gone: bool,
    },
    /// The last attempt failed with a retryable error; due again at `next_run_at`.
    Retrying { next_run_at: Millis, last_error: ExecutionError },
    /// Finished; `output` is the crew's final output.
    Succeeded { output: String, finished_at: Millis },
    /// Finished with an error that is not retried (or no attempts remained).
    Failed { error: ExecutionError, finished_at: Millis },
    /// Cancelled by a user; `was_running` says whether it had started.
    Cancelled { finished_at: Millis, was_running: bool },
    /// A task with `human_input` answered and waits for a person's review of `request` (see
    /// [`InputRequest`]); it holds no concurrency slot. Answered, it is queued again.
    AwaitingInput { request: InputRequest },
}

impl ExecutionState {
    /// The status without its data, for filters and the database column.
    pub fn status(&self) -> Status {
        match self {
            ExecutionState::Queued => Status::Queued,
            ExecutionState::Running { .. } => Status::Running,
            ExecutionState::Retrying { .. } => Status::Retrying,
            ExecutionState::Succeeded { .. } => Status::Succeeded,
            ExecutionState::Failed { .. } => Status::Failed,
            ExecutionState::Cancelled { .. } => Status::Cancelled,
            ExecutionState::AwaitingInput { .. } => Status::AwaitingInput,
        }
    }

    /// True for `Succeeded`, `Failed` and `Cancelled`: nothing will change it any more.
    pub fn is_terminal(&self) -> bool {
        self.status().is_terminal()
    }

    /// When it finished, for terminal states.
    pub fn finished_at(&self) -> Option<Millis> {
        match self {
            ExecutionState::Succeeded { finished_at, .. }
            | ExecutionState::Failed { finished_at, .. }
            | ExecutionState::Cancelled { finished_at, .. } => Some(*finished_at),
            _ => None,
        }
    }
}

/// An execution's status without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    Cancelled,
    AwaitingInput,
}

impl Status {
    pub const ALL: [Status; 7] =
        [Status::Queued, Status::Running, Status::Retrying, Status::Succeeded, Status::Failed, Status::Cancelled, Status::AwaitingInput];

    /// The name stored in the `status` column and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Retrying => "retrying",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::AwaitingInput => "awaiting_input",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text names no status.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a status (expected queued, running, retrying, succeeded, failed, cancelled or awaiting_input)")]
pub struct ParseStatusError(pub String);

impl FromStr for Status {
    type Err = ParseStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| ParseStatusError(s.to_string()))
    }
}
