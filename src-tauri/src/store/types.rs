//! The requests and answers of [`Store`](super::Store) operations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::execution::{Execution, ExecutionError, ExecutionId, LogEntry, Millis, Status, StepOutput, Usage};

/// A committed state change and the ExecutionLog line written with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The execution as it is after the change.
    pub execution: Execution,
    /// The line appended in the same transaction.
    pub log: LogEntry,
}

/// A claimed execution and what its attempt starts from, as
/// [`Store::claim_runs`](super::Store::claim_runs) committed and read them.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedRun {
    /// The claim: the execution, now running, and its `started` log line.
    pub transition: Transition,
    /// The steps earlier attempts (or the submission's seed) completed, in completion order.
    pub completed_steps: Vec<StepOutput>,
    /// The execution's answered human reviews (see [`Store::reviews`](super::Store::reviews)).
    pub reviews: Vec<crate::execution::InputReview>,
}

/// Which attempt a write belongs to, and the fencing token that proves it still holds its lease.
///
/// A running attempt's writes (log lines, steps, progress) carry its lease: the store refuses them
/// with [`StoreError::Fenced`](super::StoreError::Fenced) once the execution is no longer running
/// under that claim's token (another worker took it over after the lease expired), so a worker
/// that was stopped and resumes cannot write into the attempt that replaced its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptLease {
    /// The attempt number the written lines and steps are filed under.
    pub attempt: u32,
    /// The claim's token (`ExecutionState::Running::lease_token`); `None` only for writes made
    /// outside any attempt (tests, imports), which are not checked.
    pub token: Option<i64>,
}

impl AttemptLease {
    /// The lease of the attempt `execution` is running now (`None` when it is not running).
    pub fn of(execution: &Execution) -> Option<AttemptLease> {
        match &execution.state {
            crate::execution::ExecutionState::Running { lease_token, .. } => {
                Some(AttemptLease { attempt: execution.attempt, token: Some(*lease_token) })
            }
            _ => None,
        }
    }

    /// A write filed under `attempt` that no lease guards (not an attempt's own write).
    pub fn unfenced(attempt: u32) -> AttemptLease {
        AttemptLease { attempt, token: None }
    }
}

/// An idempotency key for [`Store::insert_batch`](super::Store::insert_batch): a repeat of a
/// submission under the same key records nothing and gets the ids the first one recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key, as the caller names it (any non-empty text).
    pub key: String,
    /// A digest of what the submission records (e.g. SHA-256 hex of its executions): a repeat of
    /// the key with another digest is a conflict ([`StoreError::IdempotencyConflict`]).
    ///
    /// [`StoreError::IdempotencyConflict`]: super::StoreError::IdempotencyConflict
    pub request_hash: String,
}

/// What [`Store::insert_batch`](super::Store::insert_batch) did.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchInserted {
    /// The executions' ids in row order: the new ones, or on a replay the ones the key recorded
    /// (some may have been pruned since).
    pub ids: Vec<ExecutionId>,
    /// The committed transitions, one `submitted` per row, in row order; empty on a replay.
    pub transitions: Vec<Transition>,
    /// The key had been used for this request before: nothing was recorded.
    pub replayed: bool,
}

/// Which executions a claim may take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClaimFilter {
    /// Any runnable execution.
    #[default]
    All,
    /// Only these executions (e.g. the ones a `--run` process submitted itself).
    Only(Vec<ExecutionId>),
}

/// What [`Store::claim`](super::Store::claim) takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRequest {
    /// The claiming worker's [`OwnerId`](super::OwnerId) text.
    pub owner: String,
    /// "Now" for due retries and the lease.
    pub now: Millis,
    /// Lease length from `now`.
    pub lease_ms: u64,
    /// At most this many executions are claimed (0 claims nothing).
    pub max: u32,
    pub filter: ClaimFilter,
}

/// How many executions a waiting claim ([`Store::claim_when_ready`](super::Store::claim_when_ready))
/// may take, shared between the claimer and the store: the claimer raises it as its slots free
/// up while the claim waits, and sets it to 0 to withdraw the claim (which then resolves empty
/// at the store's next write).
#[derive(Debug, Default)]
pub struct ClaimSlots(std::sync::atomic::AtomicU32);

impl ClaimSlots {
    pub fn new(slots: u32) -> ClaimSlots {
        ClaimSlots(std::sync::atomic::AtomicU32::new(slots))
    }

    /// How many executions the claim may take now (0: withdrawn).
    pub fn get(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn set(&self, slots: u32) {
        self.0.store(slots, std::sync::atomic::Ordering::SeqCst)
    }
}

/// How a running attempt ended, for [`Store::finish`](super::Store::finish).
#[derive(Clone, Debug, PartialEq)]
pub enum Finish {
    Succeeded {
        output: String,
        usage: crate::execution::Usage,
    },
    /// Not retried; the error is also kept in the attempt history.
    Failed {
        error: ExecutionError,
        usage: Option<Usage>,
    },
    /// Stopped on a user's request.
    Cancelled,
}

/// What [`Store::recover`](super::Store::recover) takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoverRequest {
    /// Leases that expired before this are recovered.
    pub now: Millis,
    /// Executions of this owner are never recovered (the caller is alive and renews them).
    pub exclude_owner: Option<String>,
}

/// What a cancel request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "outcome", content = "status", rename_all = "snake_case")]
pub enum CancelOutcome {
    /// It was queued or retrying and is now cancelled.
    Cancelled,
    /// It is running; its owner will stop it (at once in-process, at its next heartbeat otherwise).
    Requested,
    /// It had already finished with this status; nothing changed.
    AlreadyFinished(Status),
}

/// The outcome of [`Store::request_cancel`](super::Store::request_cancel) and the change it made.
#[derive(Clone, Debug, PartialEq)]
pub struct CancelResult {
    pub outcome: CancelOutcome,
    /// The committed change (`None` when already finished, or when a cancel was already requested).
    pub transition: Option<Transition>,
}

/// The answer of a heartbeat's lease renewal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseRenewal {
    /// Executions still running under the owner (their leases were extended).
    pub running: Vec<ExecutionId>,
    /// Of those, the ones someone asked to cancel.
    pub cancel_requested: Vec<ExecutionId>,
}

/// Queue settings shared by every process on one database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct QueueSettings {
    pub paused: bool,
    pub concurrency: u32,
}

/// Number of executions in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct StatusCounts {
    pub queued: u64,
    pub running: u64,
    pub retrying: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Paused for a person's review (not finished, holding no slot).
    #[serde(default)]
    pub awaiting_input: u64,
}

impl StatusCounts {
    /// The count for `status`.
    pub fn get(&self, status: Status) -> u64 {
        match status {
            Status::Queued => self.queued,
            Status::Running => self.running,
            Status::Retrying => self.retrying,
            Status::Succeeded => self.succeeded,
            Status::Failed => self.failed,
            Status::Cancelled => self.cancelled,
            Status::AwaitingInput => self.awaiting_input,
        }
    }

    /// Queued + retrying + running: executions a worker will run without anyone's help (one
    /// awaiting input waits for a person, see [`awaiting_input`](Self::awaiting_input)).
    pub fn active(&self) -> u64 {
        self.queued + self.running + self.retrying
    }

    pub(crate) fn add(&mut self, status: Status, n: u64) {
        match status {
            Status::Queued => self.queued += n,
            Status::Running => self.running += n,
            Status::Retrying => self.retrying += n,
            Status::Succeeded => self.succeeded += n,
            Status::Failed => self.failed += n,
            Status::Cancelled => self.cancelled += n,
            Status::AwaitingInput => self.awaiting_input += n,
        }
    }
}
