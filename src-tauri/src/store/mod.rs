//! The durable store of executions, their logs and steps, and the shared queue settings.
//!
//! [`Store`] is the object-safe contract the scheduler, the CLI and the GUI use; [`SqliteStore`]
//! implements it over one SQLite file in WAL mode (see [`sqlite`] for durability).
//!
//! # Writes and reads
//! Every write method *enqueues* its write when it is called (not when the returned future is
//! first polled) and returns a future that resolves once the write is committed. Dropping that
//! future does not cancel the write; it only discards the answer. Writes issued from one thread
//! are applied in call order. Reads are synchronous and see every write whose future resolved.
//!
//! # State transitions
//! Each state transition (submit, claim, finish, retry, requeue, cancel, priority change,
//! recovery) appends its ExecutionLog line in the same transaction and returns it in a
//! [`Transition`], so callers can broadcast exactly what was committed. [`Store::listen`] hears
//! every transition and queue change a store commits, in commit order (the scheduler's events
//! come from there). Other processes' commits are never announced: a [`CommitProbe`]
//! ([`Store::commit_probe`]) tells, without reading rows, whether another connection committed.

pub mod clock;
mod error;
mod listeners;
pub mod liveness;
mod owner;
mod probe;
pub mod sqlite;
mod types;

pub use error::StoreError;
pub use listeners::{CommitListener, Committed};
pub use liveness::{Liveness, OwnerLock};
pub use owner::OwnerId;
pub use probe::CommitProbe;
pub use sqlite::{wait_briefly_for_answers, DiskUsage, OpenOptions, PruneCounts, PruneFilter, PruneFilterError, SqliteStore};
pub use types::{
    AttemptLease, BatchInserted, CancelOutcome, CancelResult, ClaimFilter, ClaimRequest, ClaimSlots, ClaimedRun, Finish, IdempotencyKey,
    LeaseRenewal, QueueSettings, RecoverRequest, StatusCounts, Transition,
};

use std::sync::Arc;

use crate::execution::{
    BoxFuture, CompressedPayload, Execution, ExecutionError, ExecutionFilter, ExecutionId, InputAnswer, InputRequest, InputReview,
    LogEntry, LogEvent, Millis, NewExecution, Priority, Progress, StepOutput,
};

/// A durable store of executions. Object-safe and shareable (`Arc<dyn Store>`).
///
/// Write futures resolve after COMMIT (see the module docs for ordering and cancellation).
/// Transitions that need an owner (`finish`, `schedule_retry`, `requeue`) fail with
/// [`StoreError::NotOwner`] when the execution is no longer running under that owner (its lease
/// was lost and another process recovered it); nothing is changed then.
pub trait Store: Send + Sync {
    /// Inserts a submission as `Queued` (with its `seed_steps`, in one transaction).
    /// A `max_attempts` of 0 is stored as 1.
    fn insert(&self, new: NewExecution) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Inserts every submission of `news` as `Queued` (each with its `seed_steps`), in order, in
    /// one transaction: all of them commit or none does (a failing row fails the whole call).
    /// Each row's `submitted` transition is announced to the listeners ([`Store::listen`]), in
    /// row order, as [`insert`](Store::insert)'s is.
    ///
    /// With a `key`, the key and the ids are recorded in the same transaction. If the key was
    /// recorded before, nothing is inserted: the answer is the recorded ids with `replayed` set
    /// (and nothing is announced), or [`StoreError::IdempotencyConflict`] when its
    /// `request_hash` differs. A key none of whose executions is left any more (all pruned) is
    /// forgotten, and the call inserts anew. An empty `news` inserts and records nothing.
    fn insert_batch(&self, news: Vec<NewExecution>, key: Option<IdempotencyKey>) -> BoxFuture<'static, Result<BatchInserted, StoreError>>;

    /// Claims up to `request.max` runnable executions, each found by the claim-order index and
    /// guarded by its status in one write transaction: `queued`, or `retrying` with
    /// `next_run_at <= now`; highest priority first, FIFO within a level. Each becomes `Running`
    /// under `request.owner` with a lease until `now + lease_ms`, its attempt counter
    /// incremented. Never hands one execution to two owners, across processes. Nothing is
    /// claimed while the queue is paused.
    fn claim(&self, request: ClaimRequest) -> BoxFuture<'static, Result<Vec<Transition>, StoreError>>;

    /// [`claim`](Store::claim), also reading each claimed execution's completed steps in the same
    /// transaction (what a worker needs to start the attempt, without a second read).
    fn claim_runs(&self, request: ClaimRequest) -> BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>;

    /// [`claim_runs`](Store::claim_runs) that waits for work, like a blocking dequeue: when
    /// nothing is claimable, the claim stays with the store and is tried again within every
    /// later write transaction of this store (so a submission through this store is claimed in
    /// the transaction that inserts it) until it claims at least one execution. Each try takes
    /// up to `slots` executions at that moment (`request.max` is ignored) and uses the time of
    /// the try as "now". Work that appears without a write of this store (another process's
    /// submission, a retry falling due) is seen at the next write: the caller writes (e.g.
    /// [`flush`](Store::flush)) when it wants the claim looked at again.
    ///
    /// Withdraw it by setting `slots` to 0 and writing: it then resolves with nothing claimed.
    /// Dropping the future does not withdraw it; what it claims after that stays running under
    /// `request.owner` until recovered.
    fn claim_when_ready(&self, request: ClaimRequest, slots: Arc<ClaimSlots>) -> BoxFuture<'static, Result<Vec<ClaimedRun>, StoreError>>;

    /// Extends the lease of every execution running under `owner` to `now + lease_ms`.
    /// Returns the ids still running under `owner` and, of those, the ones with a cancel request.
    fn renew_leases(&self, owner: &str, now: Millis, lease_ms: u64) -> BoxFuture<'static, Result<LeaseRenewal, StoreError>>;

    /// Ends a running attempt: succeeded, failed (its error kept in the attempt history) or
    /// cancelled.
    fn finish(&self, id: &ExecutionId, owner: &str, finish: Finish) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Moves a running attempt to `Retrying` due at `next_run_at`, keeping its error.
    fn schedule_retry(
        &self,
        id: &ExecutionId,
        owner: &str,
        error: ExecutionError,
        next_run_at: Millis,
    ) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Puts a running attempt back to `Queued` with the attempt refunded (shutdown), logging
    /// `interrupted` with `reason`.
    fn requeue(&self, id: &ExecutionId, owner: &str, reason: &str) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Ends the owner's running attempt with a task's answer for human review: the execution
    /// becomes `AwaitingInput` with `request`, holds no lease, and its attempt is refunded. A
    /// cancel requested meanwhile is honoured instead (`Cancelled`).
    fn await_input(&self, id: &ExecutionId, owner: &str, request: InputRequest) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Answers the review an execution awaits: the answered request is kept (see
    /// [`reviews`](Store::reviews)) and the execution is `Queued` again, in its old place.
    /// Refused with [`StoreError::InvalidState`] unless it is `AwaitingInput`.
    fn answer_input(&self, id: &ExecutionId, answer: InputAnswer) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// The execution's answered reviews, in the order they were answered.
    fn reviews(&self, id: &ExecutionId) -> Result<Vec<InputReview>, StoreError>;

    /// Cancels: queued/retrying/awaiting input become `Cancelled` at once; running gets `cancel_requested`
    /// (its owner stops it); terminal executions are left unchanged.
    fn request_cancel(&self, id: &ExecutionId) -> BoxFuture<'static, Result<CancelResult, StoreError>>;

    /// Changes the priority of a queued or retrying execution
    /// ([`StoreError::InvalidState`] otherwise).
    fn set_priority(&self, id: &ExecutionId, priority: Priority) -> BoxFuture<'static, Result<Transition, StoreError>>;

    /// Recovers running executions of other owners that are gone (their owner lock is free), or
    /// whose liveness is unknown (no lock) and whose lease expired before `now`
    /// ([`liveness::takeover_reason`]); an owner whose lock is held keeps its executions. Each
    /// goes back to `Queued` with the abandoned attempt refunded and `abandons` counted, or to
    /// `Failed` (kind `abandoned`) when it reached its `max_abandons`; a pending cancel makes it
    /// `Cancelled`. Each gets a `recovered` log line. First, when the wall clock stepped since the
    /// last look (`store/clock.rs`), the due times of retries and the leases are moved with it.
    fn recover(&self, request: RecoverRequest) -> BoxFuture<'static, Result<Vec<Transition>, StoreError>>;

    /// Takes `owner`'s lock, held by a scheduler while it may own executions (see
    /// [`liveness`]). Without it, others see the owner's liveness as unknown.
    fn lock_owner(&self, owner: &OwnerId) -> Result<OwnerLock, StoreError>;

    /// Whether the owner of a running execution is alive, asked without writing anything.
    fn owner_liveness(&self, owner: &str) -> Liveness;

    /// Whether any worker holds its owner lock on this store (one that recovers a gone owner's
    /// executions within a heartbeat).
    fn any_worker_alive(&self) -> bool;

    /// Registers `listener`, called with every change this store commits, in commit order: each
    /// state transition (as returned by `insert`, `insert_batch`, a claim, `finish`, `schedule_retry`, `requeue`,
    /// `request_cancel`, `set_priority` or `recover`) and the queue settings each `set_paused`
    /// or `set_concurrency` leaves. It is called right after the transaction commits and before
    /// any write of it is answered, on the store's writer thread: a change is heard before the
    /// future that wrote it resolves, and two changes are heard in the order they committed,
    /// whichever tasks wrote them (a resume, then the claim it let through). Only this handle's
    /// writes are heard, not other processes'.
    ///
    /// Held weakly: dropping the last `Arc` of `listener` unregisters it. A listener must be
    /// quick (it delays every answer of its batch) and must not wait on the store; a listener
    /// that panics is ignored for that transition.
    fn listen(&self, listener: &Arc<CommitListener>);

    /// A probe that tells whether another connection (another process) committed since its
    /// previous look, without reading rows (see [`CommitProbe`]). Each probe has its own read
    /// connection and baseline (made now). Blocking (opens a connection).
    fn commit_probe(&self) -> Result<Box<dyn CommitProbe>, StoreError>;

    /// Stores the run's progress. Refused ([`StoreError::Fenced`]) when `lease` is no longer
    /// current.
    fn update_progress(&self, id: &ExecutionId, lease: AttemptLease, progress: Progress) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Appends ExecutionLog lines for `lease.attempt`, assigning gap-free per-execution `seq`s.
    /// Refused ([`StoreError::Fenced`], nothing written) when `lease` is no longer current.
    fn append_logs(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        events: Vec<LogEvent>,
    ) -> BoxFuture<'static, Result<Vec<LogEntry>, StoreError>>;

    /// Appends one ExecutionLog line (an `llm_call_completed` line) for `lease.attempt` and, when
    /// given, the call's `payload` keyed by the line's `seq`, in one transaction. Refused
    /// ([`StoreError::Fenced`], nothing written) when `lease` is no longer current.
    fn append_call_log(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        event: LogEvent,
        payload: Option<CompressedPayload>,
    ) -> BoxFuture<'static, Result<LogEntry, StoreError>>;

    /// The payload stored for the call whose `llm_call_completed` line has seq `call`; `Ok(None)`
    /// when none was kept.
    fn call_payload(&self, id: &ExecutionId, call: u64) -> Result<Option<CompressedPayload>, StoreError>;

    /// Saves a completed step. Saving a step that exists is a no-op: `Ok(false)`.
    fn save_step(&self, id: &ExecutionId, step: StepOutput) -> BoxFuture<'static, Result<bool, StoreError>>;

    /// Saves a completed step and appends `completion` to the ExecutionLog (for `lease.attempt`)
    /// in the same transaction. A step that exists already is left as it is and no line is
    /// written: `Ok(None)`; otherwise `Ok(Some(the committed line))`. Refused
    /// ([`StoreError::Fenced`], nothing written) when `lease` is no longer current.
    fn save_step_logged(
        &self,
        id: &ExecutionId,
        lease: AttemptLease,
        step: StepOutput,
        completion: LogEvent,
    ) -> BoxFuture<'static, Result<Option<LogEntry>, StoreError>>;

    /// Pauses (`true`) or resumes claiming, for every process on this store.
    fn set_paused(&self, paused: bool) -> BoxFuture<'static, Result<QueueSettings, StoreError>>;

    /// Sets how many executions each worker runs at once (at least 1).
    fn set_concurrency(&self, concurrency: u32) -> BoxFuture<'static, Result<QueueSettings, StoreError>>;

    /// Resolves once every write enqueued before it is committed.
    fn flush(&self) -> BoxFuture<'static, Result<(), StoreError>>;

    /// One execution; `Ok(None)` when there is no such id. A running one says whether its
    /// owner's process is gone (`owner_gone`, see [`liveness`]); so does [`list`](Store::list).
    fn get(&self, id: &ExecutionId) -> Result<Option<Execution>, StoreError>;

    /// Executions matching `filter`, newest first, at most `filter.limit` (50 when 0).
    fn list(&self, filter: &ExecutionFilter) -> Result<Vec<Execution>, StoreError>;

    /// Log lines with `seq > after_seq`, in order, at most `limit` (all when 0).
    fn logs(&self, id: &ExecutionId, after_seq: u64, limit: u32) -> Result<Vec<LogEntry>, StoreError>;

    /// Completed steps of an execution, in completion order.
    fn steps(&self, id: &ExecutionId) -> Result<Vec<StepOutput>, StoreError>;

    /// The shared pause flag and concurrency.
    fn queue_settings(&self) -> Result<QueueSettings, StoreError>;

    /// How many executions are in each status.
    fn counts(&self) -> Result<StatusCounts, StoreError>;

    /// The earliest `next_run_at` later than `after` of any retrying execution (the next time a
    /// retry becomes due).
    fn next_retry_at(&self, after: Millis) -> Result<Option<Millis>, StoreError>;

    /// Deletes up to `max` finished executions that `filter` selects (oldest first), with their
    /// logs, steps and attempt errors, in one write transaction; returns what was removed. Never
    /// deletes queued, running or retrying executions. Call it again until it removes fewer than
    /// `max` to prune everything selected (each call re-evaluates the filter).
    fn prune(&self, filter: &PruneFilter, max: u32) -> BoxFuture<'static, Result<PruneCounts, StoreError>>;

    /// What pruning with `filter` until done would remove now, without removing anything.
    fn prune_preview(&self, filter: &PruneFilter) -> Result<PruneCounts, StoreError>;

    /// Every `secret_ref` the stored executions' LLM options name (the endpoint secrets files
    /// still in use; see `llm::endpoint_secrets`). Reads every execution row.
    fn secret_refs(&self) -> Result<std::collections::BTreeSet<String>, StoreError>;

    /// The database's size: file, WAL and free pages.
    fn disk_usage(&self) -> Result<DiskUsage, StoreError>;

    /// Copies the write-ahead log into the database file and truncates it (a large prune grows
    /// the WAL by about what it deletes). Blocking; waits up to the busy timeout for current
    /// transactions; a reader in another process holding an old snapshot leaves the WAL as it is.
    fn checkpoint(&self) -> Result<(), StoreError>;

    /// Gives free pages back to the file system (`VACUUM`, then a truncating WAL checkpoint).
    /// Blocking; holds the write lock while it runs (other writers wait up to their busy timeout)
    /// and needs free disk of about twice the database's size.
    fn vacuum(&self) -> Result<(), StoreError>;
}
