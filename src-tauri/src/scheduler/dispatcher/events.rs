//! The vocabulary between the dispatcher's shell and its decisions: what the shell saw
//! ([`Event`]) and what it is to do ([`Action`]).

use super::super::attempt::Ended;
#[cfg(doc)]
use super::decide::State;
use super::settlement::Settlement;
use crate::execution::{ExecutionId, ExecutionState, Millis};
use crate::store::{AttemptLease, ClaimedRun, LeaseRenewal, QueueSettings, StoreError};

/// A handle's command, as the decisions see it (the shell keeps the reply of a shutdown).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Request {
    /// An execution was submitted (or answered) through the handle (already committed).
    Submitted(ExecutionId),
    /// A cancel was requested (and committed) for an execution that is running.
    Cancel(ExecutionId),
    /// The queue settings changed (already committed).
    Queue(QueueSettings),
    /// Stop claiming, interrupt running attempts (requeued), flush; then end.
    Shutdown,
}

/// A settlement write's answer: the execution's state after it, or why it was not taken.
#[derive(Debug)]
pub(super) struct SettleAnswer {
    pub id: ExecutionId,
    pub settlement: Settlement,
    pub result: Result<ExecutionState, StoreError>,
}

/// Something the shell saw.
#[derive(Debug)]
pub(super) enum Event {
    /// Commands taken in one turn: every one already waiting, so a burst of submissions is served
    /// by one claim (one group commit) instead of one claim each.
    Commands(Vec<Request>),
    /// Every handle was dropped: shut down.
    HandlesGone,
    /// Attempts that ended, taken together in one turn, at wall-clock `now`.
    AttemptsEnded {
        ended: Vec<Ended>,
        now: Millis,
    },
    /// A claim answered: the waiting claim (`waiting`) or an [`Action::Claim`].
    Claimed {
        waiting: bool,
        result: Result<Vec<ClaimedRun>, StoreError>,
    },
    /// An [`Action::Settle`] write answered.
    Settled(Box<SettleAnswer>),
    /// The writes of an [`Action::SettleNow`] answered, in order.
    SettledNow(Vec<SettleAnswer>),
    /// The retry timer ([`State::retry_timer`]) fired.
    RetryDue,
    /// The heartbeat ticked at wall-clock `now`.
    Heartbeat {
        now: Millis,
    },
    LeasesRenewed(Result<LeaseRenewal, StoreError>),
    QueueSettingsRead(Result<QueueSettings, StoreError>),
    Recovered(Result<(), StoreError>),
    /// Of the executions asked about ([`Action::CheckSubmitted`]), the ones that are terminal.
    SubmittedFinished(Vec<ExecutionId>),
    /// The final flush answered: `ok` unless it failed.
    Flushed {
        ok: bool,
    },
}

/// What the shell does, in the order given.
#[derive(Debug, PartialEq)]
pub(super) enum Action {
    /// Fire the token of attempt `lease_token` of `id` (its future is dropped).
    Stop { id: ExecutionId, lease_token: i64 },
    /// Fire the dispatcher-wide token: every attempt stops, and one started later starts stopped.
    StopAll,
    /// Start an attempt of a claimed execution.
    Start(Box<ClaimedRun>, AttemptLease),
    /// Claim up to `max` of `only` now (scope `Submitted`); answered with [`Event::Claimed`].
    Claim { max: u32, only: Vec<ExecutionId> },
    /// Leave a waiting claim for `slots` with the store (scope `All`); it answers some later turn
    /// with [`Event::Claimed`] (`waiting`).
    WaitForClaim { slots: u32 },
    /// Set the waiting claim's slot count (0 withdraws it: it answers at the store's next write).
    SetClaimSlots(u32),
    /// An empty write, unanswered: the store tries the waiting claim in its transaction.
    Nudge,
    /// Enqueue a settlement's write; it answers some later turn with [`Event::Settled`].
    Settle(ExecutionId, Settlement),
    /// Write these settlements one after the other, each answered before the next is enqueued;
    /// answered with [`Event::SettledNow`].
    SettleNow(Vec<(ExecutionId, Settlement)>),
    /// Renew this owner's leases; answered with [`Event::LeasesRenewed`].
    RenewLeases { now: Millis },
    /// Read the shared queue settings; answered with [`Event::QueueSettingsRead`].
    ReadQueueSettings,
    /// Broadcast queue settings changed by another process.
    AnnounceQueue(QueueSettings),
    /// Recover executions of dead or expired owners; answered with [`Event::Recovered`].
    Recover { now: Millis },
    /// Ask which of these are terminal; answered with [`Event::SubmittedFinished`].
    CheckSubmitted(Vec<ExecutionId>),
    /// Record why the scheduler halted (see [`Scheduler::halted`](super::super::Scheduler::halted)).
    Halt(String),
    /// Close the commands channel: handles see `Stopped` from now on.
    CloseCommands,
    /// Flush the store; answered with [`Event::Flushed`].
    Flush,
    /// Answer every shutdown call: done, or the flush failed.
    ReplyShutdown { ok: bool },
}
